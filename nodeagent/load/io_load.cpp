// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/io_load.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {

DiskStats parse_diskstats(std::string_view text) {
    constexpr size_t kInFlightField = 11;  // 0-based: major minor name, then counters 1..
    DiskStats stats;
    for_each_line(text, [&](std::string_view line) {
        const std::vector<std::string_view> fields = split_fields(line);
        if (fields.empty()) return true;
        const std::optional<uint64_t> in_flight =
            fields.size() > kInFlightField ? parse_u64(fields[kInFlightField]) : std::nullopt;
        if (!in_flight) {
            ++stats.malformed_lines;
            return true;
        }
        stats.disks.push_back(DiskInFlight{std::string(fields[2]), *in_flight});
        return true;
    });
    return stats;
}

uint64_t sum_in_flight(std::span<const DiskInFlight> disks, std::span<const std::string> names) {
    uint64_t sum = 0;
    for (const DiskInFlight& disk : disks)
        if (std::find(names.begin(), names.end(), disk.name) != names.end()) sum += disk.in_flight;
    return sum;
}

double io_queue_fraction(uint64_t in_flight, uint32_t saturation) {
    if (saturation == 0) return in_flight > 0 ? 1.0 : 0.0;
    return std::min(1.0, static_cast<double>(in_flight) / static_cast<double>(saturation));
}

std::optional<uint64_t> read_in_flight(const std::string& path, std::span<const std::string> names, std::string* error) {
    std::string text;
    if (!read_text_file(path, text, error)) return std::nullopt;
    return sum_in_flight(parse_diskstats(text).disks, names);
}

std::vector<std::string> list_physical_disks(const std::string& sys_block) {
    std::vector<std::string> names;
    std::error_code ec;
    // Explicit increment(ec): a range-for would throw on a read error.
    for (std::filesystem::directory_iterator it(sys_block, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code exists_ec;
        if (!std::filesystem::exists(it->path() / "device", exists_ec)) continue;
        std::string name = it->path().filename().string();
        std::replace(name.begin(), name.end(), '!', '/');
        names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace sara::nodeagent
