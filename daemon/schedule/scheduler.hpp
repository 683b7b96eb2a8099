// Scheduler interface (DESIGN §6): picks the node for a new session among the available
// nodes. The admission and scheduler issues add SA2C and "shell"; until then the dispatcher
// uses least-sessions. Implementations see a snapshot of the nodes and hold no kernel state.
#pragma once

#include <cstdint>
#include <span>

#include "daemon/identify/session_types.hpp"

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
    // kNoNode when no node is available.
    virtual NodeId pick(std::span<const NodeView> nodes) = 0;
};

// The node with the fewest active sessions relative to its weight; ties go to the node after
// the previous pick, so equal nodes take turns instead of the lowest id taking every tie.
class LeastSessionsScheduler final : public Scheduler {
public:
    NodeId pick(std::span<const NodeView> nodes) override;

private:
    size_t next_tie_start_ = 0;
};

}  // namespace sara
