// SPDX-License-Identifier: GPL-2.0-or-later
// "least-loaded": the available node whose latest report is the lowest — no forecast and no
// assignment-cost correction, so between two reports every new session goes to the same node
// (the herd effect shell corrects). Kept as the baseline that shows it. A node with no report
// yet reads as load 0. Equal loads go to the node after the previous pick.
#pragma once

#include <cstddef>
#include <vector>

#include "daemon/schedule/scheduler.hpp"

namespace sara {

class LeastLoadedScheduler final : public Scheduler {
public:
    NodeId pick(std::span<const NodeView> nodes) override;
    // A non-finite load reads as 0, as in LoadForecaster.
    void on_load_report(NodeId node, double load, uint64_t sessions) override;
    double estimate(NodeId node) const override;

private:
    std::vector<double> last_load_by_id_;  // indexed by NodeId (ids ≤ kMaxNodeId)
    size_t next_tie_start_ = 0;
};

}  // namespace sara
