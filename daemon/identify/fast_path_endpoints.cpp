// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/fast_path_endpoints.hpp"

#include <algorithm>

namespace sara {

bool FastPathEndpoints::put(const FlowKey& key, NodeId node) {
    if (!map_.put(key, node)) return false;
    auto& targets = by_endpoint_[endpoint_of(key)];
    const bool known = std::any_of(targets.begin(), targets.end(),
                                   [&](const Target& t) { return t.port == key.dst_port && t.vip == key.dst; });
    if (!known) targets.push_back(Target{key.dst, key.dst_port});
    return true;
}

void FastPathEndpoints::erase(const FlowKey& key) {
    map_.erase(key);
    const auto it = by_endpoint_.find(endpoint_of(key));
    if (it == by_endpoint_.end()) return;
    auto& targets = it->second;
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const Target& t) { return t.port == key.dst_port && t.vip == key.dst; }),
                  targets.end());
    if (targets.empty()) by_endpoint_.erase(it);
}

std::vector<FlowKey> FastPathEndpoints::forget_endpoint(const FlowKey& endpoint,
                                                        const std::function<bool(const FlowKey&)>& keep) {
    std::vector<FlowKey> forgotten;
    const auto it = by_endpoint_.find(endpoint_of(endpoint));
    if (it == by_endpoint_.end()) return forgotten;
    auto& targets = it->second;
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const Target& t) {
                                     const FlowKey key{endpoint.src, t.vip, endpoint.src_port, t.port, endpoint.proto};
                                     if (keep && keep(key)) return false;
                                     map_.erase(key);
                                     forgotten.push_back(key);
                                     return true;
                                 }),
                  targets.end());
    if (targets.empty()) by_endpoint_.erase(it);
    return forgotten;
}

void forget_claimed_endpoints(FastPathEndpoints& fast_path, SessionTable& table, const std::vector<FlowKey>& endpoints) {
    for (const FlowKey& endpoint : endpoints)
        for (const FlowKey& k : fast_path.forget_endpoint(endpoint))
            if (FlowEntry* flow = table.find_flow(k)) flow->offloaded = 0;
}

}  // namespace sara
