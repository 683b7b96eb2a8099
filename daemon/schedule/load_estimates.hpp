// SPDX-License-Identifier: GPL-2.0-or-later
// The shell estimate of every node (DESIGN §6), shared by the shell and two-choices schedulers:
// the blended forecast of the node's reports (eq. 8) plus the expected cost of the sessions
// assigned to it since its last report.
//
// Why the correction: reports arrive every δ, and between two reports the forecast does not
// move, so without it every new session in between goes to the same node (herd effect). Each
// assignment therefore adds the node's per-session cost until the next report, which already
// counts those sessions and resets the count.
//
// Per-session cost of node j, learned at each report: load / sessions when sessions > 0 and the
// load is a finite number ≥ 0; otherwise the previous cost is kept. The node's base load (idle
// work with no session) is charged to its sessions too, so the cost errs high and spreads
// sessions a little more than needed, which is the safe side of a herd.
// Before a node's first usable report its cost is kDefaultSessionCost. A node with no report
// yet reads as load 0 plus the cost of what it was assigned.
//
// Not thread-safe: the owner serializes reports and picks (the dispatcher's lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/net/node_id.hpp"
#include "daemon/schedule/load_forecaster.hpp"

namespace sara {

class LoadEstimates {
public:
    // One session = 1% of a node until the node's reports say otherwise. Any positive value
    // makes nodes with no report yet take turns; its size only matters against reported loads,
    // and the first report with sessions replaces it.
    static constexpr double kDefaultSessionCost = 0.01;

    explicit LoadEstimates(size_t window) : window_(window) {}  // T of each node's forecaster

    void on_load_report(NodeId node, double load, uint64_t sessions);
    void on_assigned(NodeId node);  // a new session went to `node`
    double estimate(NodeId node) const;

private:
    struct NodeLoad {
        explicit NodeLoad(size_t window) : forecaster(window) {}
        LoadForecaster forecaster;
        double forecast_estimate = 0;  // forecaster.estimate(), kept since it only changes at a report
        double session_cost = kDefaultSessionCost;
        uint64_t assigned_since_report = 0;
    };

    NodeLoad& entry(NodeId node);

    size_t window_;
    std::vector<NodeLoad> by_id_;  // indexed by NodeId, grown to the largest id seen (ids ≤ kMaxNodeId)
};

}  // namespace sara
