// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/node_choice.hpp"
#include "daemon/schedule/scheduler.hpp"

namespace sara {

NodeId LeastSessionsScheduler::pick(std::span<const NodeView> nodes) {
    // sessions/weight compared as sessions_a * weight_b < sessions_b * weight_a (no division,
    // so equal shares compare exactly equal and take turns).
    const size_t i = pick_rotating(nodes, next_tie_start_, [](const NodeView& a, const NodeView& b) {
        return a.sessions * b.weight < b.sessions * a.weight;
    });
    return i == nodes.size() ? kNoNode : nodes[i].id;
}

}  // namespace sara
