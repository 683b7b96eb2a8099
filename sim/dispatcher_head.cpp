// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/dispatcher_head.hpp"

#include <algorithm>

namespace sara::sim {

DispatcherHead::DispatcherHead(double decision_cost_s, double interval_s)
    : cost_s_(decision_cost_s), interval_s_(interval_s) {}

bool DispatcherHead::try_decide() {
    ++asked_;
    if (cost_s_ > 0 && work_s_ >= interval_s_) return false;
    work_s_ += cost_s_;
    return true;
}

double DispatcherHead::close_interval() {
    const double utilisation = std::min(1.0, work_s_ / interval_s_);
    last_demand_ = double(asked_) * cost_s_ / interval_s_;
    work_s_ = std::max(0.0, work_s_ - interval_s_);
    asked_ = 0;
    return utilisation;
}

}  // namespace sara::sim
