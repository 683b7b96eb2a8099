// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/least_loaded.hpp"

#include <cmath>

#include "daemon/schedule/node_choice.hpp"

namespace sara {

NodeId LeastLoadedScheduler::pick(std::span<const NodeView> nodes) {
    const size_t i = pick_rotating(nodes, next_tie_start_, [this](const NodeView& a, const NodeView& b) {
        return estimate(a.id) < estimate(b.id);
    });
    return i == nodes.size() ? kNoNode : nodes[i].id;
}

void LeastLoadedScheduler::on_load_report(NodeId node, double load, uint64_t /*sessions*/) {
    if (node >= last_load_by_id_.size()) last_load_by_id_.resize(size_t(node) + 1, 0.0);
    last_load_by_id_[node] = std::isfinite(load) ? load : 0.0;
}

double LeastLoadedScheduler::estimate(NodeId node) const {
    return node < last_load_by_id_.size() ? last_load_by_id_[node] : 0.0;
}

}  // namespace sara
