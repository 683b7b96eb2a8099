// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's own load (DESIGN §5 step 2: "head load"), the l that admission control
// compares with the cluster load: the larger of
//   - the CPU time of sarad's queue threads over the last interval, as a fraction of the
//     cores they can use (one per queue, at most the machine's cores) — utime + stime of
//     /proc/self/task/TID/stat for each, /proc/self/stat (the whole process) until they are
//     known. Only they carry packets: the conntrack janitor's filtered dumps (kernel time,
//     ~10 ms each with 262,144 conntrack buckets) or the HA threads' work would otherwise
//     count as the head being full while its queue threads idle, and SA2C would refuse new
//     sessions for it (issue 15; seen on a kernel 6.18 machine at 50 calls/s);
//   - the fullest of its NFQUEUEs: packets waiting in the kernel over queue.max_len —
//     /proc/net/netfilter/nfnetlink_queue, field queue_total (of this network namespace).
// The parsers are pure; HeadLoadMeter reads the files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/util/clock.hpp"

namespace sara {

// utime + stime (clock ticks) from the text of /proc/<pid>/stat; nullopt if malformed.
std::optional<uint64_t> parse_proc_stat_cpu_ticks(std::string_view stat);

// The largest queue_total among queues [first, first + count) in the text of
// /proc/net/netfilter/nfnetlink_queue (one line per bound queue: queue_num peer_portid
// queue_total ...); 0 when none of them is listed.
uint64_t parse_nfqueue_max_backlog(std::string_view text, uint16_t first, uint16_t count);
// The packets the kernel dropped at queues [first, first + count), from the same text: the sum
// of queue_dropped (the queue was full: queue.max_len) and user_dropped (netlink could not
// deliver to sarad: its receive buffer was full), fields 5 and 6. 0 when none is listed.
uint64_t parse_nfqueue_dropped(std::string_view text, uint16_t first, uint16_t count);

// What the kernel said at one instant: sarad's CPU ticks and the fullest queue's backlog.
struct HeadLoadReading {
    MonoTime time{};
    std::optional<uint64_t> cpu_ticks;
    uint64_t queue_backlog = 0;
};

class HeadLoadMeter {
public:
    HeadLoadMeter(const Clock& clock, uint16_t queue_first, uint16_t queue_count, uint32_t queue_max_len);

    // The queue threads' ids (gettid()), once they run; the CPU part counts only them. Main
    // thread, like read().
    void set_queue_threads(std::vector<pid_t> tids) { queue_threads_ = std::move(tids); }
    bool has_queue_threads() const { return !queue_threads_.empty(); }
    // Reads the /proc files. Const and touching only settings fixed at construction, so
    // the caller reads without the dispatcher's lock (issue 16: the reads under the lock made
    // SA2C's update the longest hold of a busy table, 6.7-9.5 ms of CPU).
    HeadLoadReading read() const;
    // The head load since the previous sample, in [0, 1]; the first gives the queue part only
    // (there is no CPU interval yet).
    double sample(const HeadLoadReading& reading);
    double last_cpu() const { return cpu_; }
    double last_queue() const { return queue_; }
    // The kernel's drops at sarad's queues now (parse_nfqueue_dropped of the /proc file). They
    // count from the queue's binding, so they restart with sarad, as a Prometheus counter may.
    uint64_t kernel_dropped() const;

private:
    const Clock& clock_;
    uint16_t queue_first_, queue_count_;
    uint32_t queue_max_len_;
    double cores_;
    long ticks_per_second_;
    std::optional<uint64_t> last_ticks_;
    MonoTime last_time_{};
    double cpu_ = 0, queue_ = 0;
    std::vector<pid_t> queue_threads_;
};

}  // namespace sara
