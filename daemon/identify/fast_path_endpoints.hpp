// SPDX-License-Identifier: GPL-2.0-or-later
// A kernel fast path's entries by client endpoint (the BPF flow map, or conntrack's marked
// entries: ConntrackFlows). A new offer (or SETUP) that claims a client
// address:port takes it from any older session (SessionIdentifier::announce_partial); the
// older session's exact flows from that port are handed over at their next packet — which,
// for a flow in the kernel's fast path, never comes to sarad. A conntrack dump filtered by the
// endpoint walks every bucket (~10 ms with 262,144); the BPF map has no such dump, and a walk
// of it is O(map). So the entries sarad put are indexed here by client endpoint, and forgetting an endpoint deletes exactly its entries: the next packet of each
// goes up to the queue and is decided by the table again (test_session_integrity's calls from
// one reused client port, without a gateway, split without this).
//
// Wraps the map's own FastPathFlows; the table and the pipeline use this one. Not thread-safe:
// the runtime lock. Memory: a 56-byte slot (+1 control byte) per client endpoint in the map,
// 65-130 bytes each as the hash table's load varies (sizeof measured with g++ 12): 65-130 MB
// of sarad's memory for a million endpoints, on top of the kernel's 120 MiB map.
#pragma once

#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "daemon/identify/fast_path_flows.hpp"
#include "daemon/identify/session_table.hpp"

namespace sara {

class FastPathEndpoints final : public FastPathFlows {
public:
    explicit FastPathEndpoints(FastPathFlows& map) : map_(map) {}

    bool put(const FlowKey& key, NodeId node) override;
    void erase(const FlowKey& key) override;
    std::optional<uint32_t> idle_ms(const FlowKey& key) const override { return map_.idle_ms(key); }
    bool defer_idle(const FlowKey& key) override { return map_.defer_idle(key); }
    bool holds_plain_flows() const override { return map_.holds_plain_flows(); }

    // Deletes every entry from `endpoint`'s client address and port (its dst_port is ignored)
    // and returns their keys, so that the owner clears their FlowEntry::offloaded (the flows'
    // next packets put them again, with whatever node the table then gives them).
    std::vector<FlowKey> forget_endpoint(const FlowKey& endpoint) { return forget_endpoint(endpoint, nullptr); }
    // The same, sparing the entries `keep` names (they stay in the map and the index).
    std::vector<FlowKey> forget_endpoint(const FlowKey& endpoint, const std::function<bool(const FlowKey&)>& keep);
    // The map was emptied behind this object's back (FastPathFlows' owner cleared it).
    void clear_index() { by_endpoint_.clear(); }
    size_t endpoints() const { return by_endpoint_.size(); }

private:
    struct Endpoint {
        IpAddress address;
        uint16_t port = 0;
        IpProto proto = IpProto::udp;
        friend bool operator==(const Endpoint&, const Endpoint&) = default;
        template <typename H>
        friend H AbslHashValue(H h, const Endpoint& e) {
            return H::combine(std::move(h), e.address.family, e.address.bytes, e.port, static_cast<uint8_t>(e.proto));
        }
    };
    // The VIP side of an entry (the destination is the VIP: one address per family).
    struct Target {
        IpAddress vip;
        uint16_t port = 0;
    };
    static Endpoint endpoint_of(const FlowKey& key) { return Endpoint{key.src, key.src_port, key.proto}; }

    FastPathFlows& map_;
    absl::flat_hash_map<Endpoint, absl::InlinedVector<Target, 1>> by_endpoint_;
};

// The client ports a new offer claimed (KernelForgets::endpoints): their entries leave the map
// and their flows in `table` are no longer flagged offloaded, so that each flow's next packet,
// queued, is decided again and put with its node then. Call under the lock that guards both.
void forget_claimed_endpoints(FastPathEndpoints& fast_path, SessionTable& table, const std::vector<FlowKey>& endpoints);

}  // namespace sara
