// SPDX-License-Identifier: GPL-2.0-or-later
// The longest hold of the dispatcher's lock by each periodic task since start (issue 16: a
// queued packet waits for whichever task holds the lock; the overall maximum alone did not say
// which one to make smaller), how many holds passed 1 ms, and where the longest one's time
// went: on the CPU (the task's work and its page faults) or off it (the holder preempted, or
// waiting for something — a 256-record slice was once seen to "take" 21 ms). Shown by
// `saractl stats` (lock_hold_max_us, lock_hold_longest, lock_holds_over_1ms) and /metrics
// (sara_lock_hold_max_seconds{task}, sara_lock_holds_over_1ms_total{task}). Guarded by the lock
// it measures.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace sara {

enum class LockTask : uint8_t {
    health,          // the failure detector's tick (main thread)
    admission,       // SA2C's update
    expiry,          // a slice of the table's and the identifier's expiry
    kernel_forgets,  // conntrack deletions and preinstalls queued for the janitor
    retire,          // retiring nodes checked
    save,            // a slice of the periodic state-file save
    prefill,         // a slice of an HA backup's BPF map fill from its replica
    sync_update,     // the HA master's journal as an update (sync thread)
    sync_snapshot,   // a slice of an HA snapshot (sync thread)
};
inline constexpr size_t kLockTasks = size_t(LockTask::sync_snapshot) + 1;

inline const char* to_string(LockTask task) {
    switch (task) {
        case LockTask::health: return "health";
        case LockTask::admission: return "admission";
        case LockTask::expiry: return "expiry";
        case LockTask::kernel_forgets: return "kernel_forgets";
        case LockTask::retire: return "retire";
        case LockTask::save: return "save";
        case LockTask::prefill: return "prefill";
        case LockTask::sync_update: return "sync_update";
        case LockTask::sync_snapshot: return "sync_snapshot";
    }
    return "unknown";
}

// The calling thread's clocks at one instant: wall time, its CPU time, its minor page faults
// the times the scheduler took the CPU from it (involuntary context switches) and the times it
// gave the CPU up itself, waiting for something (voluntary ones: a futex, a fault's lock, I/O).
struct HoldMark {
    std::chrono::steady_clock::time_point wall;
    int64_t cpu_ns = 0;
    int64_t minor_faults = 0;
    int64_t preemptions = 0;
    int64_t waits = 0;

    // Two system calls (~1 µs): taken by periodic work every few milliseconds, not per packet.
    static HoldMark now() {
        HoldMark m;
        m.wall = std::chrono::steady_clock::now();
        timespec cpu{};
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) m.cpu_ns = int64_t(cpu.tv_sec) * 1000000000 + cpu.tv_nsec;
        rusage usage{};
        if (getrusage(RUSAGE_THREAD, &usage) == 0) {
            m.minor_faults = usage.ru_minflt;
            m.preemptions = usage.ru_nivcsw;
            m.waits = usage.ru_nvcsw;
        }
        return m;
    }
};

// One hold: its wall time and what the holding thread did meanwhile.
struct HoldCost {
    uint64_t us = 0;
    uint64_t cpu_us = 0;
    uint64_t minor_faults = 0;
    uint64_t preemptions = 0;
    uint64_t waits = 0;
};

class LockHolds {
public:
    // `task` held the lock from `since` until now; returns now (the next task's start).
    HoldMark note(LockTask task, const HoldMark& since) {
        const HoldMark now = HoldMark::now();
        const auto clamp = [](int64_t v) { return uint64_t(std::max<int64_t>(v, 0)); };
        const HoldCost cost{
            clamp(std::chrono::duration_cast<std::chrono::microseconds>(now.wall - since.wall).count()),
            clamp((now.cpu_ns - since.cpu_ns) / 1000), clamp(now.minor_faults - since.minor_faults),
            clamp(now.preemptions - since.preemptions), clamp(now.waits - since.waits)};
        const size_t t = size_t(task);
        if (cost.us > longest_[t].us) longest_[t] = cost;
        if (cost.us > 1000) ++over_1ms_[t];
        return now;
    }
    uint64_t max_us(LockTask task) const { return longest_[size_t(task)].us; }
    const HoldCost& longest(LockTask task) const { return longest_[size_t(task)]; }
    uint64_t over_1ms(LockTask task) const { return over_1ms_[size_t(task)]; }

private:
    std::array<HoldCost, kLockTasks> longest_{};
    std::array<uint64_t, kLockTasks> over_1ms_{};
};

}  // namespace sara
