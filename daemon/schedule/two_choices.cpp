// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/two_choices.hpp"

#include <algorithm>

#include "daemon/schedule/node_choice.hpp"

namespace sara {
namespace {

// The id of the `rank`-th available node in list order (0-based); rank < the available count.
NodeId nth_available(std::span<const NodeView> nodes, uint64_t rank) {
    for (const NodeView& v : nodes)
        if (can_take_sessions(v) && rank-- == 0) return v.id;
    return kNoNode;
}

}  // namespace

NodeId TwoChoicesScheduler::pick(std::span<const NodeView> nodes) {
    const uint64_t available = uint64_t(std::count_if(nodes.begin(), nodes.end(), can_take_sessions));
    if (available == 0) return kNoNode;
    NodeId chosen = nth_available(nodes, 0);
    if (available > 1) {
        const uint64_t a = random_.below(available);
        uint64_t b = random_.below(available - 1);
        if (b >= a) ++b;
        const NodeId first = nth_available(nodes, a);
        const NodeId second = nth_available(nodes, b);
        chosen = loads_.estimate(second) < loads_.estimate(first) ? second : first;
    }
    loads_.on_assigned(chosen);
    return chosen;
}

}  // namespace sara
