// SPDX-License-Identifier: GPL-2.0-or-later
// The longest hold of the dispatcher's lock by each periodic task since start (issue 16: a
// queued packet waits for whichever task holds the lock; the overall maximum alone did not say
// which one to make smaller). Shown by `saractl stats` (lock_hold_max_us) and /metrics
// (sara_lock_hold_max_seconds{task}). Guarded by the lock it measures.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sara {

enum class LockTask : uint8_t {
    health,          // the failure detector's tick (main thread)
    admission,       // SA2C's update
    expiry,          // a slice of the table's and the identifier's expiry
    kernel_forgets,  // conntrack deletions and preinstalls queued for the janitor
    retire,          // retiring nodes checked
    save,            // a slice of the periodic state-file save
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
        case LockTask::sync_update: return "sync_update";
        case LockTask::sync_snapshot: return "sync_snapshot";
    }
    return "unknown";
}

class LockHolds {
public:
    using Clock = std::chrono::steady_clock;
    // `task` held the lock from `since` until now; returns now (the next task's start).
    Clock::time_point note(LockTask task, Clock::time_point since) {
        const Clock::time_point now = Clock::now();
        const auto us = uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(now - since).count());
        uint64_t& max = max_us_[size_t(task)];
        max = std::max(max, us);
        return now;
    }
    uint64_t max_us(LockTask task) const { return max_us_[size_t(task)]; }

private:
    std::array<uint64_t, kLockTasks> max_us_{};
};

}  // namespace sara
