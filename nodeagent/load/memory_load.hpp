// SPDX-License-Identifier: GPL-2.0-or-later
// Memory load from /proc/meminfo: 1 - MemAvailable/MemTotal, the share of memory the kernel
// could not hand to a new workload without swapping (MemAvailable already counts reclaimable
// page cache and slab as available; MemFree alone would report a busy cache as full memory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara::nodeagent {

// In [0, 1]. nullopt if MemTotal or MemAvailable (Linux >= 3.14) is missing or not a number,
// or MemTotal is 0.
std::optional<double> parse_meminfo_used_fraction(std::string_view text);

// The value of one `Name:` line (e.g. "MemTotal:"), in kB; nullopt if absent or not a number.
std::optional<uint64_t> parse_meminfo_kb(std::string_view text, std::string_view name);

struct MemoryUse {
    double used_fraction = 0;  // parse_meminfo_used_fraction
    uint64_t total_kb = 0;     // MemTotal
};

// The thin reader over the file at `path` (normally /proc/meminfo); nullopt with `error` set
// if it cannot be read or lacks MemTotal or MemAvailable.
std::optional<MemoryUse> read_memory_use(const std::string& path, std::string* error);

}  // namespace sara::nodeagent
