// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/fast_path_prefill.hpp"

#include <algorithm>

namespace sara {
namespace {

// Puts `key` with its session's node when the table forwards it; true when it is in the map.
// `trust_flag`: a flow flagged offloaded is in the map (false right after the map was emptied
// under flags that stayed set).
bool put_if_forwardable(const FlowKey& key, SessionTable& table, const ServiceMap& services, FastPathFlows& fast_path,
                        bool trust_flag, PrefillCounters& counters) {
    FlowEntry* flow = table.find_flow(key);
    if (!flow || !forwardable_flow(key, *flow, table, services)) return false;
    if (flow->offloaded && trust_flag) return true;
    if (!fast_path.put(key, table.session(flow->session).node)) {
        ++counters.fast_path_prefill_put_failed_total;
        return false;
    }
    flow->offloaded = 1;
    ++counters.fast_path_prefill_puts_total;
    return true;
}

}  // namespace

bool forwardable_flow(const FlowKey& key, const FlowEntry& flow, const SessionTable& table, const ServiceMap& services) {
    if (key.proto != IpProto::udp || key.src_port == 0 || key.dst_port == 0) return false;
    if (flow.identity == FlowIdentity::announced || services.is_signalling(key.proto, key.dst_port)) return false;
    return table.session(flow.session).node != kNoNode;
}

void FastPathPrefill::step(SessionTable& table, const ServiceMap& services, FastPathFlows& fast_path, size_t budget) {
    while (budget > 0 && !recheck_.empty()) {
        const FlowKey key = recheck_.back();
        recheck_.pop_back();
        --budget;
        if (put_if_forwardable(key, table, services, fast_path, trust_flags_, counters_)) continue;
        // The old replica put it; the new one does not forward it (or not there): its entry goes.
        if (FlowEntry* flow = table.find_flow(key); flow && flow->offloaded) continue;
        fast_path.erase(key);
        ++counters_.fast_path_prefill_erased_total;
    }
    if (budget == 0) return;
    std::vector<FlowKey> visited;
    const bool pass_done = table.visit_flows(cursor_, budget, [&](const FlowKey& k, const FlowEntry& f) {
        if ((!f.offloaded || !trust_flags_) && forwardable_flow(k, f, table, services)) visited.push_back(k);
    });
    for (const FlowKey& k : visited) put_if_forwardable(k, table, services, fast_path, trust_flags_, counters_);
    if (!pass_done) return;
    ++counters_.fast_path_prefill_passes_total;
    filled_ = true;
    trust_flags_ = true;
}

void FastPathPrefill::recheck(std::vector<FlowKey> keys) {
    if (recheck_.empty()) recheck_ = std::move(keys);
    else recheck_.insert(recheck_.end(), keys.begin(), keys.end());
}

void FastPathPrefill::restart() {
    filled_ = false;
    trust_flags_ = false;
    cursor_ = FlowIndex::ShardCursor{};
    recheck_.clear();
}

std::vector<FlowKey> offloaded_keys(const SessionTable& retired) {
    std::vector<FlowKey> keys;
    retired.for_each_flow([&](const FlowKey& k, const FlowEntry& f) {
        if (f.offloaded) keys.push_back(k);
    });
    return keys;
}

}  // namespace sara
