// SPDX-License-Identifier: GPL-2.0-or-later
// Scheduler interface (DESIGN §6): picks the node for a new session among the available
// nodes. Implementations see a snapshot of the nodes and hold no kernel state; time and
// randomness come in from the owner (Clock, Random), so tests replay exact choice sequences.
//
// Algorithms (scheduler.algorithm): shell (forecasted least loaded with the assignment-cost
// correction), round-robin, weighted-round-robin, least-sessions, least-loaded (latest report,
// no forecast), two-choices (two random available nodes, the lower shell estimate wins).
// Unavailable nodes (down, app-down, draining, load-unknown) and weight-0 nodes are never
// chosen.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/config/dispatcher_config.hpp"
#include "common/util/random.hpp"
#include "common/net/node_id.hpp"

namespace sara {

struct NodeView {
    NodeId id = kNoNode;
    uint32_t weight = 1;
    bool available = true;  // up, not draining, load known
    uint64_t sessions = 0;  // active sessions assigned to it
};

class Scheduler {
public:
    virtual ~Scheduler() = default;
    // kNoNode when no node is available. `nodes` is the same list (same order) on every call.
    virtual NodeId pick(std::span<const NodeView> nodes) = 0;
    // A load report for `node`: l_j in [0, 1] as the health monitor combined it, with the
    // node's active sessions at that moment. Schedulers that ignore load keep the default.
    virtual void on_load_report(NodeId /*node*/, double /*load*/, uint64_t /*sessions*/) {}
    // What the scheduler currently believes the node's load is (shell: the blended forecast
    // plus the cost of the sessions assigned since the last report; least-loaded: the last
    // report); negative when it does not track load. For `nodes` output and the simulator.
    virtual double estimate(NodeId /*node*/) const { return -1.0; }
    // A session another dispatcher of the mesh gave to `node` (learned from its replicated
    // binding, docs/architecture.md "Active dispatchers"): the shell estimate counts it as
    // one of its own, so N dispatchers between two load reports do not all herd to the
    // node that looked least loaded. Schedulers that ignore load ignore it.
    virtual void on_peer_assigned(NodeId /*node*/) {}
};

// The scheduler `config` names. `random` must outlive it (two-choices draws from it).
std::unique_ptr<Scheduler> make_scheduler(const SchedulerConfig& config, Random& random);

// The node with the fewest active sessions relative to its weight; ties go to the node after
// the previous pick, so equal nodes take turns instead of the lowest id taking every tie.
class LeastSessionsScheduler final : public Scheduler {
public:
    NodeId pick(std::span<const NodeView> nodes) override;

private:
    size_t next_tie_start_ = 0;
};

}  // namespace sara
