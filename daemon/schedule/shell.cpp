// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/shell.hpp"

#include "daemon/schedule/node_choice.hpp"

namespace sara {

NodeId ShellScheduler::pick(std::span<const NodeView> nodes) {
    const size_t i = pick_rotating(nodes, next_tie_start_, [this](const NodeView& a, const NodeView& b) {
        return loads_.estimate(a.id) < loads_.estimate(b.id);
    });
    if (i == nodes.size()) return kNoNode;
    loads_.on_assigned(nodes[i].id);
    return nodes[i].id;
}

}  // namespace sara
