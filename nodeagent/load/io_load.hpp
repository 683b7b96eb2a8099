// SPDX-License-Identifier: GPL-2.0-or-later
// I/O load from /proc/diskstats: block I/Os in flight (issued to the device driver and not
// yet completed) summed over the node's disks, over a configured saturation
// (load.io_saturation): a queue that deep counts as a fully loaded disk.
//
// A line is `major minor name` and then counters (Documentation/admin-guide/iostats.rst);
// the 12th field of the line, the 9th counter, is "I/Os currently in progress". It is an
// instantaneous value, not a counter, so one sample is enough.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sara::nodeagent {

struct DiskInFlight {
    std::string name;
    uint64_t in_flight = 0;
    friend bool operator==(const DiskInFlight&, const DiskInFlight&) = default;
};

struct DiskStats {
    std::vector<DiskInFlight> disks;
    size_t malformed_lines = 0;  // lines with fewer than 12 fields or a non-number in field 12
};

DiskStats parse_diskstats(std::string_view text);

// The in-flight I/Os of the disks named in `names` (absent names count 0).
uint64_t sum_in_flight(std::span<const DiskInFlight> disks, std::span<const std::string> names);

// in_flight / saturation, in [0, 1]. `saturation` is at least 1 (the config's range).
double io_queue_fraction(uint64_t in_flight, uint32_t saturation);

// The thin reader: the in-flight I/Os of `names` in the file at `path` (normally
// /proc/diskstats); nullopt with `error` set if it cannot be read.
std::optional<uint64_t> read_in_flight(const std::string& path, std::span<const std::string> names, std::string* error);

// The whole physical disks of the node: entries of `sys_block` (normally /sys/block) with a
// `device` link, which loop, ram, zram and device-mapper devices do not have. Names are as in
// /proc/diskstats (sysfs writes '/' in a name as '!'). Sorted.
std::vector<std::string> list_physical_disks(const std::string& sys_block = "/sys/block");

}  // namespace sara::nodeagent
