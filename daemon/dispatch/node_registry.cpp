// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/node_registry.hpp"

#include <algorithm>

namespace sara {

NodeRegistry::NodeRegistry(const std::vector<NodeConfig>& configured) : configured_(configured) {
    for (const NodeConfig& n : configured_)
        if (n.drain) drained_.insert(n.id);
}

std::vector<NodeConfig> NodeRegistry::all() const {
    std::vector<NodeConfig> all = configured_;
    all.insert(all.end(), retiring_.begin(), retiring_.end());
    return all;
}

std::vector<NodeId> NodeRegistry::ids() const {
    std::vector<NodeId> ids;
    for (const NodeConfig& n : configured_) ids.push_back(n.id);
    for (const NodeConfig& n : retiring_) ids.push_back(n.id);
    return ids;
}

bool NodeRegistry::is_retiring(NodeId id) const {
    return std::any_of(retiring_.begin(), retiring_.end(), [&](const NodeConfig& n) { return n.id == id; });
}

bool NodeRegistry::available(NodeId id) const {
    return !is_retiring(id) && !drained_.contains(id) && (!health_up_ || health_up_(id));
}

std::vector<NodeEntry> NodeRegistry::entries() const {
    std::vector<NodeEntry> nodes;
    for (const NodeConfig& n : all())
        nodes.push_back(NodeEntry{n.id, n.name, n.address, n.mac.bytes, n.weight, available(n.id)});
    return nodes;
}

MediaPortMap NodeRegistry::media_ports() const {
    std::vector<MediaPortMap::Range> ranges;
    for (const NodeConfig& n : all())
        for (const PortRange& r : n.media_ports) ranges.push_back({r, n.id});
    return MediaPortMap(std::move(ranges));
}

std::vector<NodeConfig> NodeRegistry::retiring_after(const ReloadPlan& plan) const {
    std::vector<NodeConfig> retiring = retiring_;
    for (const NodeConfig& n : plan.added)
        std::erase_if(retiring, [&](const NodeConfig& r) { return r.id == n.id; });
    retiring.insert(retiring.end(), plan.removed.begin(), plan.removed.end());
    return retiring;
}

void NodeRegistry::apply_reload(const ReloadPlan& plan) {
    for (const NodeConfig& n : plan.changed) {
        auto old = std::find_if(configured_.begin(), configured_.end(), [&](const NodeConfig& o) { return o.id == n.id; });
        if (old != configured_.end() && old->drain != n.drain) {
            if (n.drain) drained_.insert(n.id);
            else drained_.erase(n.id);
        }
    }
    retiring_ = retiring_after(plan);
    for (const NodeConfig& n : plan.added)
        if (n.drain) drained_.insert(n.id);
    configured_ = plan.config.nodes;
    if (plan.nodes_changed()) notify_set_changed();
}

std::vector<NodeConfig> NodeRegistry::retire_idle(const std::function<uint64_t(NodeId)>& sessions) {
    std::vector<NodeConfig> retired;
    std::erase_if(retiring_, [&](const NodeConfig& n) {
        if (sessions(n.id) != 0) return false;
        drained_.erase(n.id);
        retired.push_back(n);
        return true;
    });
    if (!retired.empty()) notify_set_changed();
    return retired;
}

bool NodeRegistry::set_drained(NodeId id, bool drain) {
    const bool changed = drain ? drained_.insert(id).second : drained_.erase(id) > 0;
    notify_availability(id);
    return changed;
}

void NodeRegistry::health_changed(NodeId id) { notify_availability(id); }

void NodeRegistry::notify_set_changed() {
    for (const SetChanged& fn : set_changed_) fn(*this);
}

void NodeRegistry::notify_availability(NodeId id) {
    const bool now = available(id);
    for (const AvailabilityChanged& fn : availability_changed_) fn(id, now);
}

}  // namespace sara
