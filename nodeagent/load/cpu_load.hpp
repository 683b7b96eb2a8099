// SPDX-License-Identifier: GPL-2.0-or-later
// CPU load from /proc/stat: the share of CPU time spent busy between two samples.
//
// The aggregate line is `cpu  user nice system idle iowait irq softirq steal guest guest_nice`
// in USER_HZ ticks since boot (proc(5)). Idle time is idle + iowait (a CPU waiting for I/O
// could run other work); busy is everything else up to steal. Steal counts as busy: time the
// hypervisor gave to someone else is not available to the application either. guest and
// guest_nice are already included in user and nice, so they are not added again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara::nodeagent {

struct CpuTimes {
    uint64_t busy = 0;   // ticks
    uint64_t total = 0;  // ticks, busy + idle
    friend bool operator==(const CpuTimes&, const CpuTimes&) = default;
};

// The aggregate `cpu ` line of /proc/stat text. Kernels before 2.6 give only the first four
// values; later fields are optional. nullopt if the line is missing or a value is not a number.
std::optional<CpuTimes> parse_proc_stat(std::string_view text);

// busy/total between two samples, in [0, 1]. 0 if no time passed between them or the counters
// went backwards (a counter reset must not report a bogus load).
double cpu_busy_fraction(const CpuTimes& earlier, const CpuTimes& later);

// The thin reader: parse_proc_stat of the file at `path` (normally /proc/stat); nullopt with
// `error` set if it cannot be read or parsed.
std::optional<CpuTimes> read_cpu_times(const std::string& path, std::string* error);

}  // namespace sara::nodeagent
