// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated nodes and their sessions. A session occupies one unit of its node's capacity
// from admission until it leaves: at its holding time if it never failed (completed), or at
// min(holding time, failure + linger) if it failed. Failed sessions are not "healthy": they can
// no longer fail, but still count in the node's load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sara::sim {

struct SimSession {
    double end_s = 0;            // when it leaves its node
    uint32_t node = 0;           // index into the node list
    uint32_t generation = 0;     // bumped whenever end_s changes or the slot is reused
    uint32_t healthy_pos = 0;    // position in its node's healthy list (while healthy)
    bool failed = false;
};

class ClusterState {
public:
    explicit ClusterState(std::vector<double> capacities);

    size_t node_count() const { return nodes_.size(); }
    double capacity(size_t node) const { return nodes_[node].capacity; }
    uint64_t active(size_t node) const { return nodes_[node].active; }
    size_t healthy_count(size_t node) const { return nodes_[node].healthy.size(); }
    // Active sessions (healthy or failed) over capacity; may exceed 1.
    double load(size_t node) const { return double(nodes_[node].active) / nodes_[node].capacity; }

    // A new healthy session on `node`; returns its slot.
    uint32_t add(uint32_t node, double end_s);
    // The i-th healthy session of `node` (i < healthy_count(node)).
    uint32_t healthy_session(size_t node, size_t i) const { return nodes_[node].healthy[i]; }
    // Marks a healthy session failed (it stays on its node until remove()).
    void mark_failed(uint32_t slot);
    void remove(uint32_t slot);
    SimSession& session(uint32_t slot) { return sessions_[slot]; }

private:
    struct Node {
        double capacity;
        uint64_t active = 0;
        std::vector<uint32_t> healthy;  // slots; order is arbitrary (swap-remove)
    };
    void remove_healthy(uint32_t slot);

    std::vector<Node> nodes_;
    std::vector<SimSession> sessions_;
    std::vector<uint32_t> free_slots_;
};

}  // namespace sara::sim
