// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's nodes, one owner (issue 15): those the config lists, those a reload
// removed that still have sessions (retiring: routed until idle, no new sessions), those an
// operator or the config's `drain:` drained, and from these and the health monitor's verdict
// which ones take new sessions. Everything that follows the node set (the pipeline, the
// health monitor, the heartbeat listener, the media port map, the kernel spec, the BPF maps)
// subscribes to its changes instead of keeping a list of its own in step by hand.
//
// Pure (no kernel, no clock): tested in tests/unit/dispatch/node_registry_test.cpp. The
// runtime calls it under the dispatcher's lock; the subscribers run inside those calls.
#pragma once

#include <functional>
#include <set>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "common/net/node_id.hpp"
#include "daemon/dispatch/config_reload.hpp"
#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/identify/media_port_map.hpp"

namespace sara {

class NodeRegistry {
public:
    // Whether the health monitor says node `id` is up; unset (no `health:`): every node is.
    using HealthUp = std::function<bool(NodeId id)>;
    // The node set changed: a node added, removed, retired, or its address, MAC, weight or
    // ranges changed.
    using SetChanged = std::function<void(const NodeRegistry&)>;
    // Node `id` may take new sessions (`available`) or not, after a drain or a health change.
    using AvailabilityChanged = std::function<void(NodeId id, bool available)>;

    // The configured nodes; a node with `drain: true` starts drained.
    explicit NodeRegistry(const std::vector<NodeConfig>& configured);

    void set_health(HealthUp up) { health_up_ = std::move(up); }
    // Subscribers are called in the order they subscribed, after the change is made.
    void on_set_changed(SetChanged fn) { set_changed_.push_back(std::move(fn)); }
    void on_availability_changed(AvailabilityChanged fn) { availability_changed_.push_back(std::move(fn)); }

    const std::vector<NodeConfig>& configured() const { return configured_; }
    const std::vector<NodeConfig>& retiring() const { return retiring_; }
    // The configured nodes, then the retiring ones (whose media ranges lose to a current
    // node's where a reload handed a range over: first match).
    std::vector<NodeConfig> all() const;
    std::vector<NodeId> ids() const;
    bool is_drained(NodeId id) const { return drained_.contains(id); }
    bool is_retiring(NodeId id) const;
    // Takes new sessions: health up (always without `health:`), not drained, not retiring.
    bool available(NodeId id) const;
    // What the pipeline schedules over: every node of all(), with its availability.
    std::vector<NodeEntry> entries() const;
    MediaPortMap media_ports() const;
    // The retiring nodes once `plan` is applied (its removed nodes join them): the kernel gets
    // their routes before the reload is applied.
    std::vector<NodeConfig> retiring_after(const ReloadPlan& plan) const;

    // A SIGHUP reload: removed nodes retire, added ones arrive (a node back before it retired
    // stops retiring), a flipped `drain:` drains or undrains. Notifies when the set changed.
    void apply_reload(const ReloadPlan& plan);
    // Retiring nodes with no session left (`sessions(id)` == 0) leave; returned, and the set's
    // subscribers notified if any left.
    std::vector<NodeConfig> retire_idle(const std::function<uint64_t(NodeId)>& sessions);
    // An operator's `drain N` / `undrain N`. True when that changed the drain state; the
    // availability subscribers hear of the node either way.
    bool set_drained(NodeId id, bool drain);
    // The health monitor changed node `id`'s state: the availability subscribers hear of it.
    void health_changed(NodeId id);

private:
    void notify_set_changed();
    void notify_availability(NodeId id);

    std::vector<NodeConfig> configured_;
    std::vector<NodeConfig> retiring_;
    std::set<NodeId> drained_;
    HealthUp health_up_;
    std::vector<SetChanged> set_changed_;
    std::vector<AvailabilityChanged> availability_changed_;
};

}  // namespace sara
