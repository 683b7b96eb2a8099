// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/cluster_state.hpp"

namespace sara::sim {

ClusterState::ClusterState(std::vector<double> capacities) {
    for (double c : capacities) nodes_.push_back(Node{c, 0, {}});
}

uint32_t ClusterState::add(uint32_t node, double end_s) {
    uint32_t slot;
    if (free_slots_.empty()) {
        slot = uint32_t(sessions_.size());
        sessions_.emplace_back();
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
    }
    SimSession& s = sessions_[slot];
    s.end_s = end_s;
    s.node = node;
    ++s.generation;
    s.failed = false;
    Node& n = nodes_[node];
    s.healthy_pos = uint32_t(n.healthy.size());
    n.healthy.push_back(slot);
    ++n.active;
    return slot;
}

void ClusterState::remove_healthy(uint32_t slot) {
    SimSession& s = sessions_[slot];
    auto& healthy = nodes_[s.node].healthy;
    const uint32_t moved = healthy.back();
    healthy[s.healthy_pos] = moved;
    sessions_[moved].healthy_pos = s.healthy_pos;
    healthy.pop_back();
}

void ClusterState::mark_failed(uint32_t slot) {
    remove_healthy(slot);
    sessions_[slot].failed = true;
}

void ClusterState::remove(uint32_t slot) {
    SimSession& s = sessions_[slot];
    if (!s.failed) remove_healthy(slot);
    --nodes_[s.node].active;
    ++s.generation;
    free_slots_.push_back(slot);
}

}  // namespace sara::sim
