// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/weighted_round_robin.hpp"

#include "daemon/schedule/node_choice.hpp"

namespace sara {

NodeId WeightedRoundRobinScheduler::pick(std::span<const NodeView> nodes) {
    // Guards against a caller that breaks the same-list contract: start over, never index out.
    if (current_.size() != nodes.size()) current_.assign(nodes.size(), 0);
    int64_t total = 0;
    size_t best = nodes.size();
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (!can_take_sessions(nodes[i])) continue;
        current_[i] += nodes[i].weight;
        total += nodes[i].weight;
        if (best == nodes.size() || current_[i] > current_[best]) best = i;
    }
    if (best == nodes.size()) return kNoNode;
    current_[best] -= total;
    return nodes[best].id;
}

}  // namespace sara
