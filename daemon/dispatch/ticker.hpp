// SPDX-License-Identifier: GPL-2.0-or-later
// When the main loop's periodic work is due (issue 15). The loop wakes every expiry step
// (dispatcher_daemon.cpp: kExpiryStep); expiry and the kernel forgets run at every wake, the
// tasks here each at its own period, counted from the wake that ran it: a late wake (a busy
// host) delays the next run instead of bunching runs. Time comes from the Clock passed in, so
// the schedule is tested with a ManualClock. Main thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/util/clock.hpp"

namespace sara {

enum class PeriodicTask : uint8_t {
    health,     // the failure detector's tick (every heartbeat interval, at most 1 s)
    admission,  // SA2C's update (admission.interval; a reload may change it)
    retire,     // retiring nodes checked (every second)
    save,       // a periodic save of the state file started (control.save_interval)
};
inline constexpr size_t kPeriodicTasks = size_t(PeriodicTask::save) + 1;

class Ticker {
public:
    // Every task is due at the first take() until schedule() says otherwise.
    explicit Ticker(const Clock& clock);
    // `task` is first due `delay` from now.
    void schedule(PeriodicTask task, std::chrono::nanoseconds delay);
    // True when `task` is due; it is then next due `period` from now.
    bool take(PeriodicTask task, std::chrono::nanoseconds period);

private:
    const Clock& clock_;
    std::array<MonoTime, kPeriodicTasks> next_{};
};

}  // namespace sara
