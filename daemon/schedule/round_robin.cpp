// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/round_robin.hpp"

#include "daemon/schedule/node_choice.hpp"

namespace sara {

NodeId RoundRobinScheduler::pick(std::span<const NodeView> nodes) {
    // Every node is as good as any other, so the rotation alone decides: the first available
    // node after the previous pick.
    const size_t i = pick_rotating(nodes, next_, [](const NodeView&, const NodeView&) { return false; });
    return i == nodes.size() ? kNoNode : nodes[i].id;
}

}  // namespace sara
