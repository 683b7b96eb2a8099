#include "daemon/schedule/scheduler.hpp"

namespace sara {

NodeId LeastSessionsScheduler::pick(std::span<const NodeView> nodes) {
    const size_t n = nodes.size();
    NodeId best = kNoNode;
    size_t best_index = 0;
    // Compare sessions/weight as sessions_a * weight_b < sessions_b * weight_a (no division).
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_tie_start_ + k) % n;
        const NodeView& v = nodes[i];
        if (!v.available || v.weight == 0) continue;
        if (best == kNoNode ||
            v.sessions * nodes[best_index].weight < nodes[best_index].sessions * v.weight) {
            best = v.id;
            best_index = i;
        }
    }
    if (best != kNoNode) next_tie_start_ = (best_index + 1) % n;
    return best;
}

}  // namespace sara
