// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/ticker.hpp"

namespace sara {

Ticker::Ticker(const Clock& clock) : clock_(clock) {
    next_.fill(clock_.now());
}

void Ticker::schedule(PeriodicTask task, std::chrono::nanoseconds delay) {
    next_[size_t(task)] = clock_.now() + delay;
}

bool Ticker::take(PeriodicTask task, std::chrono::nanoseconds period) {
    const MonoTime now = clock_.now();
    MonoTime& next = next_[size_t(task)];
    if (now < next) return false;
    next = now + period;
    return true;
}

}  // namespace sara
