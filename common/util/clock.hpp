// SPDX-License-Identifier: GPL-2.0-or-later
// Time sources passed into every component that needs "now" (no hidden globals),
// so the session table, admission control and scheduler run under a fake clock in tests.
#pragma once

#include <chrono>
#include <cstdint>

namespace sara {

// Monotonic time in nanoseconds since an arbitrary epoch.
using MonoTime = std::chrono::nanoseconds;

class Clock {
public:
    virtual ~Clock() = default;
    virtual MonoTime now() const = 0;
};

class SteadyClock final : public Clock {
public:
    MonoTime now() const override {
        return std::chrono::duration_cast<MonoTime>(
            std::chrono::steady_clock::now().time_since_epoch());
    }
};

// A clock the test (or the replay tool, from capture timestamps) moves by hand.
class ManualClock final : public Clock {
public:
    explicit ManualClock(MonoTime start = MonoTime{0}) : now_(start) {}
    MonoTime now() const override { return now_; }
    void set(MonoTime t) { now_ = t; }
    void advance(MonoTime d) { now_ += d; }

private:
    MonoTime now_;
};

}  // namespace sara
