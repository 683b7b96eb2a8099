// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/cpu_load.hpp"

#include <algorithm>
#include <vector>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
    std::optional<CpuTimes> result;
    for_each_line(text, [&](std::string_view line) {
        const std::vector<std::string_view> fields = split_fields(line);
        if (fields.empty() || fields[0] != "cpu") return true;
        // fields[1..] = user nice system idle [iowait irq softirq steal [guest [guest_nice]]]
        constexpr size_t kIdle = 4, kIowait = 5, kLastCounted = 8;  // steal
        if (fields.size() <= kIdle) return false;
        CpuTimes times;
        for (size_t i = 1; i < fields.size() && i <= kLastCounted; ++i) {
            const std::optional<uint64_t> ticks = parse_u64(fields[i]);
            if (!ticks) return false;
            times.total += *ticks;
            if (i != kIdle && i != kIowait) times.busy += *ticks;
        }
        result = times;
        return false;
    });
    return result;
}

std::optional<CpuTimes> read_cpu_times(const std::string& path, std::string* error) {
    std::string text;
    if (!read_text_file(path, text, error)) return std::nullopt;
    std::optional<CpuTimes> times = parse_proc_stat(text);
    if (!times && error) *error = path + ": no aggregate cpu line";
    return times;
}

double cpu_busy_fraction(const CpuTimes& earlier, const CpuTimes& later) {
    if (later.total <= earlier.total || later.busy < earlier.busy) return 0.0;
    const double total = static_cast<double>(later.total - earlier.total);
    const double busy = static_cast<double>(later.busy - earlier.busy);
    return std::clamp(busy / total, 0.0, 1.0);
}

}  // namespace sara::nodeagent
