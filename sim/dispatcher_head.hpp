// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher head's finite capacity: each new-session decision (admitted or rejected; a
// rejection still parses the packet and answers it) costs `decision_cost_s` of head time. Each
// admission interval grants the head `interval` seconds of work. A decision starts only while
// the interval's work is below that grant (the last one may overrun; the overrun is carried
// into the next interval, so the long-run rate is exactly 1/cost); new sessions arriving once
// the grant is used up are lost (their first packets overflow the queue). The head load fed to
// admission is the utilisation of the interval that just ended, work/interval, capped at 1.
// Established sessions cost the head nothing (kernel fast path).
#pragma once

#include <cstdint>

namespace sara::sim {

class DispatcherHead {
public:
    DispatcherHead(double decision_cost_s, double interval_s);

    // A new session reaches the head: true if the head has time to decide it in this interval.
    bool try_decide();
    // Closes the current interval: its utilisation in [0, 1]; starts the next.
    double close_interval();
    // Decisions asked for in the last closed interval, times cost, over the interval: above 1
    // when the head was overloaded (what it would have needed).
    double last_demand() const { return last_demand_; }

private:
    double cost_s_;
    double interval_s_;
    double work_s_ = 0;   // head time used in the current interval, carry-over included
    uint64_t asked_ = 0;
    double last_demand_ = 0;
};

}  // namespace sara::sim
