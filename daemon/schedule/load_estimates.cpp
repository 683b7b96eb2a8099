// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/load_estimates.hpp"

#include <cmath>

namespace sara {

LoadEstimates::NodeLoad& LoadEstimates::entry(NodeId node) {
    if (node >= by_id_.size()) by_id_.resize(size_t(node) + 1, NodeLoad(window_));
    return by_id_[node];
}

void LoadEstimates::on_load_report(NodeId node, double load, uint64_t sessions) {
    NodeLoad& n = entry(node);
    n.forecaster.add(load);
    n.forecast_estimate = n.forecaster.estimate();
    if (sessions > 0 && std::isfinite(load) && load >= 0) n.session_cost = load / double(sessions);
    n.assigned_since_report = 0;
}

void LoadEstimates::on_assigned(NodeId node) { ++entry(node).assigned_since_report; }

double LoadEstimates::estimate(NodeId node) const {
    if (node >= by_id_.size()) return 0.0;
    const NodeLoad& n = by_id_[node];
    return n.forecast_estimate + double(n.assigned_since_report) * n.session_cost;
}

}  // namespace sara
