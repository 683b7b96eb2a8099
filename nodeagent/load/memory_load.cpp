// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/memory_load.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {

std::optional<double> parse_meminfo_used_fraction(std::string_view text) {
    // Lines are `Name:   VALUE kB`; both values are in kB.
    std::optional<uint64_t> total, available;
    for_each_line(text, [&](std::string_view line) {
        const std::vector<std::string_view> fields = split_fields(line);
        if (fields.size() < 2) return true;
        if (fields[0] == "MemTotal:") total = parse_u64(fields[1]);
        if (fields[0] == "MemAvailable:") available = parse_u64(fields[1]);
        return !(total && available);
    });
    if (!total || !available || *total == 0) return std::nullopt;
    const double used = 1.0 - static_cast<double>(*available) / static_cast<double>(*total);
    return std::clamp(used, 0.0, 1.0);
}

std::optional<MemoryUse> read_memory_use(const std::string& path, std::string* error) {
    std::string text;
    if (!read_text_file(path, text, error)) return std::nullopt;
    const std::optional<double> used = parse_meminfo_used_fraction(text);
    if (!used) {
        if (error) *error = path + ": no MemTotal or MemAvailable";
        return std::nullopt;
    }
    return MemoryUse{*used, parse_meminfo_kb(text, "MemTotal:").value_or(0)};
}

std::optional<uint64_t> parse_meminfo_kb(std::string_view text, std::string_view name) {
    std::optional<uint64_t> value;
    for_each_line(text, [&](std::string_view line) {
        const std::vector<std::string_view> fields = split_fields(line);
        if (fields.size() < 2 || fields[0] != name) return true;
        value = parse_u64(fields[1]);
        return false;
    });
    return value;
}

}  // namespace sara::nodeagent
