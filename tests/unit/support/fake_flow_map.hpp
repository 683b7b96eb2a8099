// SPDX-License-Identifier: GPL-2.0-or-later
// A kernel per-flow fast path for unit tests (FastPathFlows): records what the table, the
// pipeline or the HA prefill put and erase, and answers how long a flow has been idle in it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "daemon/identify/fast_path_flows.hpp"

namespace sara::test {

class FakeFlowMap final : public FastPathFlows {
public:
    bool put(const FlowKey& key, NodeId node) override {
        ++puts;
        if (full) return false;
        entries[key.to_string()] = node;
        idle[key.to_string()] = 0;
        return true;
    }
    void erase(const FlowKey& key) override {
        ++erases;
        entries.erase(key.to_string());
        idle.erase(key.to_string());
    }
    std::optional<uint32_t> idle_ms(const FlowKey& key) const override {
        const auto it = idle.find(key.to_string());
        if (it == idle.end()) return std::nullopt;
        return it->second;
    }
    bool defer_idle(const FlowKey& key) override { return deferred.count(key.to_string()) != 0; }
    bool holds_plain_flows() const override { return plain; }
    bool plain = true;  // false: conntrack's index (calls' flows only)
    std::map<std::string, NodeId> entries;
    std::set<std::string> deferred;  // answers not at hand yet (conntrack: asked outside the lock)
    std::map<std::string, uint32_t> idle;  // what the program's last-seen time says
    int puts = 0;
    int erases = 0;
    bool full = false;
};

}  // namespace sara::test
