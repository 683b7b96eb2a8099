// SPDX-License-Identifier: GPL-2.0-or-later
// Availability monitoring and load accounting (the paper's §III-E/§III-G, DESIGN §7): the
// failure detector and the load manager for every configured node, fed with authenticated
// heartbeats and load vectors, driven by a Clock (tests use a fake one).
//
// Failure detector: a node is down after n·d without a heartbeat; lost heartbeats are counted
// from sequence gaps; a down node is up again only after `recovery_heartbeats` consecutive
// heartbeats (hysteresis). Load manager: the weighted sum of the latest load vector; no vector
// for 3δ means the load monitor failed (load-unknown). Only an `up` node gets new sessions.
// tick() reports state changes, so the daemon logs a line only when a state changes.
// Not thread-safe: the owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "common/util/clock.hpp"
#include "common/wire/control_message.hpp"
#include "common/net/node_id.hpp"

namespace sara {

enum class NodeState : uint8_t { up, down, app_down, draining, load_unknown };
const char* to_string(NodeState s);  // "up", "down", "app-down", "draining", "load-unknown"

struct NodeTransition {
    NodeId node;
    NodeState from, to;
};

class HealthMonitor {
public:
    HealthMonitor(const HealthConfig& config, const std::vector<NodeId>& nodes, const Clock& clock);

    // Authenticated messages only (the caller's ControlReceiver checked them).
    void on_heartbeat(const wire::Heartbeat& h);
    void on_load(const wire::LoadVector& l);
    // Re-evaluates every node at the clock's now; returns the nodes whose state changed.
    std::vector<NodeTransition> tick();
    // A reload's node list: nodes kept keep their state, new ones start down (they wait for
    // their agent's heartbeats like at start), removed ones are forgotten.
    void set_nodes(const std::vector<NodeId>& nodes);

    NodeState state(NodeId node) const;
    double load(NodeId node) const;           // weighted sum of the latest vector, [0, 1]
    uint64_t heartbeats_lost(NodeId node) const;
    bool known(NodeId node) const { return find(node) != nullptr; }

private:
    struct Node {
        NodeId id = kNoNode;
        NodeState state = NodeState::down;  // until heartbeats prove otherwise
        bool heard = false;
        MonoTime last_heartbeat{};
        uint32_t last_seq = 0;
        uint32_t consecutive = 0;  // heartbeats in a row without a gap since the last down
        wire::HeartbeatFlag flag = wire::HeartbeatFlag::available;
        bool have_load = false;
        MonoTime last_load{};
        double load = 0;
        uint64_t lost = 0;
    };
    Node* find(NodeId id);
    const Node* find(NodeId id) const;
    NodeState evaluate(const Node& n, MonoTime now) const;

    HealthConfig config_;
    const Clock& clock_;
    std::vector<Node> nodes_;
};

}  // namespace sara
