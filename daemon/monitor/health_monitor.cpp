// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/monitor/health_monitor.hpp"

#include <algorithm>

namespace sara {

const char* to_string(NodeState s) {
    switch (s) {
        case NodeState::up: return "up";
        case NodeState::down: return "down";
        case NodeState::app_down: return "app-down";
        case NodeState::draining: return "draining";
        case NodeState::load_unknown: return "load-unknown";
    }
    return "unknown";
}

HealthMonitor::HealthMonitor(const HealthConfig& config, const std::vector<NodeId>& nodes, const Clock& clock)
    : config_(config), clock_(clock) {
    for (NodeId id : nodes) {
        Node n;
        n.id = id;
        nodes_.push_back(n);
    }
}

void HealthMonitor::set_nodes(const std::vector<NodeId>& nodes) {
    std::vector<Node> kept;
    for (NodeId id : nodes) {
        const Node* old = find(id);
        Node n;
        n.id = id;
        kept.push_back(old ? *old : n);
    }
    nodes_ = std::move(kept);
}

HealthMonitor::Node* HealthMonitor::find(NodeId id) {
    for (Node& n : nodes_)
        if (n.id == id) return &n;
    return nullptr;
}

const HealthMonitor::Node* HealthMonitor::find(NodeId id) const {
    return const_cast<HealthMonitor*>(this)->find(id);
}

void HealthMonitor::on_heartbeat(const wire::Heartbeat& h) {
    Node* n = find(h.host_id);
    if (!n) return;
    const MonoTime now = clock_.now();
    if (n->heard) {
        // Signed distance: correct across the 32-bit wrap. A restarted agent (sequence back
        // to a small number) is not a gap.
        const int32_t ahead = static_cast<int32_t>(h.seq - n->last_seq);
        if (ahead > 1) {
            n->lost += uint64_t(ahead - 1);
            n->consecutive = 0;  // a gap restarts the hysteresis count
        }
    }
    n->heard = true;
    n->last_seq = h.seq;
    n->last_heartbeat = now;
    ++n->consecutive;
    n->flag = h.flag;
}

void HealthMonitor::on_load(const wire::LoadVector& l) {
    Node* n = find(l.host_id);
    if (!n) return;
    const LoadWeights& w = config_.load_weights;
    const double sum = w.cpu + w.memory + w.net + w.io + w.backlog;
    const double weighted = w.cpu * l.cpu + w.memory * l.memory + w.net * l.net + w.io * l.io + w.backlog * l.backlog;
    n->load = sum > 0 ? std::clamp(weighted / sum, 0.0, 1.0) : 0.0;
    n->have_load = true;
    n->last_load = clock_.now();
}

NodeState HealthMonitor::evaluate(const Node& n, MonoTime now) const {
    const auto d = std::chrono::duration_cast<MonoTime>(config_.heartbeat_interval);
    const auto delta = std::chrono::duration_cast<MonoTime>(config_.load_interval);
    if (!n.heard || now - n.last_heartbeat > d * config_.miss_limit) return NodeState::down;
    // Hysteresis: once down, stay down until enough heartbeats in a row have arrived.
    if (n.state == NodeState::down && n.consecutive < config_.recovery_heartbeats) return NodeState::down;
    if (n.flag == wire::HeartbeatFlag::app_down) return NodeState::app_down;
    if (n.flag == wire::HeartbeatFlag::drain) return NodeState::draining;
    if (!n.have_load || now - n.last_load > delta * 3) return NodeState::load_unknown;
    return NodeState::up;
}

std::vector<NodeTransition> HealthMonitor::tick() {
    std::vector<NodeTransition> changes;
    const MonoTime now = clock_.now();
    for (Node& n : nodes_) {
        const NodeState next = evaluate(n, now);
        if (next == n.state) continue;
        if (next == NodeState::down) n.consecutive = 0;
        changes.push_back({n.id, n.state, next});
        n.state = next;
    }
    return changes;
}

NodeState HealthMonitor::state(NodeId id) const {
    const Node* n = find(id);
    return n ? n->state : NodeState::down;
}

double HealthMonitor::load(NodeId id) const {
    const Node* n = find(id);
    return n ? n->load : 0.0;
}

uint64_t HealthMonitor::heartbeats_lost(NodeId id) const {
    const Node* n = find(id);
    return n ? n->lost : 0;
}

}  // namespace sara
