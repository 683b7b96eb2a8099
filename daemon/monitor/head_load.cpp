// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/monitor/head_load.hpp"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>

#include "common/proto/text.hpp"
#include "common/util/proc_file.hpp"

namespace sara {

std::optional<uint64_t> parse_proc_stat_cpu_ticks(std::string_view stat) {
    // utime and stime: fields 14 and 15 of proc(5).
    const auto utime = text::parse_decimal(proc_stat_field(stat, 11), UINT64_MAX / 2);
    const auto stime = text::parse_decimal(proc_stat_field(stat, 12), UINT64_MAX / 2);
    if (!utime || !stime) return std::nullopt;
    return *utime + *stime;
}

namespace {

// Calls fn(line) for each line of /proc/net/netfilter/nfnetlink_queue whose queue number (its
// first field) is in [first, first + count); other and malformed lines are skipped.
template <typename Fn>
void for_each_queue_line(std::string_view text, uint16_t first, uint16_t count, Fn&& fn) {
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        const auto queue = text::parse_decimal(whitespace_field(line, 0), 65535);
        if (queue && *queue >= first && *queue < uint64_t(first) + count) fn(line);
    }
}

}  // namespace

uint64_t parse_nfqueue_max_backlog(std::string_view text, uint16_t first, uint16_t count) {
    uint64_t worst = 0;
    for_each_queue_line(text, first, count, [&](std::string_view line) {
        if (const auto total = text::parse_decimal(whitespace_field(line, 2), UINT32_MAX))
            worst = std::max(worst, *total);
    });
    return worst;
}

uint64_t parse_nfqueue_dropped(std::string_view text, uint16_t first, uint16_t count) {
    uint64_t dropped = 0;
    for_each_queue_line(text, first, count, [&](std::string_view line) {
        const auto queue_dropped = text::parse_decimal(whitespace_field(line, 5), UINT32_MAX);
        const auto user_dropped = text::parse_decimal(whitespace_field(line, 6), UINT32_MAX);
        if (queue_dropped && user_dropped) dropped += *queue_dropped + *user_dropped;
    });
    return dropped;
}

HeadLoadMeter::HeadLoadMeter(const Clock& clock, uint16_t queue_first, uint16_t queue_count, uint32_t queue_max_len)
    : clock_(clock), queue_first_(queue_first), queue_count_(queue_count), queue_max_len_(std::max<uint32_t>(queue_max_len, 1)) {
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    cores_ = double(std::min<unsigned>(std::max<uint16_t>(queue_count, 1), cpus));
    ticks_per_second_ = std::max(1L, ::sysconf(_SC_CLK_TCK));
}

HeadLoadReading HeadLoadMeter::read() const {
    HeadLoadReading r;
    r.time = clock_.now();
    if (queue_threads_.empty()) {
        r.cpu_ticks = parse_proc_stat_cpu_ticks(read_small_file("/proc/self/stat"));
    } else {
        // A thread's file unreadable (it is gone): no CPU part in this reading.
        uint64_t sum = 0;
        bool all = true;
        for (pid_t tid : queue_threads_) {
            const auto ticks =
                parse_proc_stat_cpu_ticks(read_small_file("/proc/self/task/" + std::to_string(tid) + "/stat"));
            all = all && ticks.has_value();
            sum += ticks.value_or(0);
        }
        if (all) r.cpu_ticks = sum;
    }
    r.queue_backlog = parse_nfqueue_max_backlog(read_small_file("/proc/net/netfilter/nfnetlink_queue"), queue_first_,
                                                queue_count_);
    return r;
}

double HeadLoadMeter::sample(const HeadLoadReading& reading) {
    const std::optional<uint64_t>& ticks = reading.cpu_ticks;
    if (ticks && last_ticks_ && reading.time > last_time_) {
        const double busy = double(*ticks - std::min(*ticks, *last_ticks_)) / double(ticks_per_second_);
        const double wall = std::chrono::duration<double>(reading.time - last_time_).count();
        cpu_ = std::clamp(busy / (wall * cores_), 0.0, 1.0);
    }
    if (ticks) {
        last_ticks_ = ticks;
        last_time_ = reading.time;
    }
    queue_ = std::clamp(double(reading.queue_backlog) / double(queue_max_len_), 0.0, 1.0);
    return std::max(cpu_, queue_);
}

uint64_t HeadLoadMeter::kernel_dropped() const {
    return parse_nfqueue_dropped(read_small_file("/proc/net/netfilter/nfnetlink_queue"), queue_first_, queue_count_);
}

}  // namespace sara
