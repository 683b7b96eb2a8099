// SPDX-License-Identifier: GPL-2.0-or-later
// The flow half of the session table: FlowKey → FlowEntry, in two open-addressing maps
// (absl::flat_hash_map, each split into shards), one for IPv4 keys packed into 16 bytes (the
// paper's 13-byte tuple) and one for IPv6. Splitting by family halves the memory of the
// common IPv4 case (measured in tests/bench/bench_session_table.cpp).
//
// Pointers returned by find()/emplace() stay valid only until the next emplace (a rehash
// moves entries). Not thread-safe: one owner thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/net/flow_key.hpp"
#include "daemon/identify/session_types.hpp"
#include "daemon/identify/sharded_hash_table.hpp"

namespace sara {

struct FlowEntry {
    SessionId session = kNoSession;
    uint32_t last_seen_ms = 0;  // table time in ms; wraps, compared by difference
    uint8_t service = 0;        // index of the service whose timeout applies
    FlowStatus status = FlowStatus::fresh;
    FlowIdentity identity = FlowIdentity::signalling;
    uint8_t journaled : 1 = 0;  // in the table's replication journal (HA sync)
    uint8_t offloaded : 1 = 0;  // put into the kernel's per-flow fast path (FastPathFlows)
};
static_assert(sizeof(FlowEntry) == 12, "FlowEntry is in every table slot: keep it small");

class FlowIndex {
public:
    // Sized for at most `max_flows` flows of each family (ShardedHashTable::shard_bits_for).
    explicit FlowIndex(size_t max_flows)
        : v4_(V4Map::shard_bits_for(max_flows)), v6_(V6Map::shard_bits_for(max_flows)) {}

    FlowEntry* find(const FlowKey& key);
    // Inserts `entry` under `key` unless present; returns the entry and whether it was inserted.
    std::pair<FlowEntry*, bool> emplace(const FlowKey& key, const FlowEntry& entry);
    bool erase(const FlowKey& key);
    size_t size() const { return v4_.size() + v6_.size(); }

    // Calls fn(key, entry) for every flow; erases the flows for which it returns true.
    template <typename Fn>
    size_t erase_if(Fn&& fn) {
        return v4_.erase_if([&](auto& kv) { return fn(unpack(kv.first), kv.second); }) +
               v6_.erase_if([&](auto& kv) { return fn(unpack(kv.first), kv.second); });
    }

    // A place in a bounded walk over the index (step()).
    class Cursor;
    // Visits up to `budget` flows from `cursor` (decremented per flow) and erases those for
    // which fn(key, entry) returns true. Returns true when the walk went through the whole
    // index (the cursor then starts from the beginning).
    template <typename Fn>
    bool step(Cursor& cursor, size_t& budget, Fn&& fn);

    template <typename Fn>
    void for_each(Fn&& fn) const {
        v4_.for_each([&](const auto& kv) { fn(unpack(kv.first), kv.second); });
        v6_.for_each([&](const auto& kv) { fn(unpack(kv.first), kv.second); });
    }

    // A walk in whole shards (ShardedHashTable::visit_shards): what a snapshot taken a slice at
    // a time uses, since it must not skip a flow that was there all along.
    struct ShardCursor {
        bool in_v6 = false;
        sara::ShardCursor v4;
        sara::ShardCursor v6;
    };
    // Calls fn(key, entry) for the flows of whole shards until `budget` is spent; true when
    // the walk went through the whole index (the cursor then starts from the beginning).
    template <typename Fn>
    bool visit_shards(ShardCursor& cursor, size_t& budget, Fn&& fn) const {
        if (!cursor.in_v6) {
            if (!v4_.visit_shards(cursor.v4, budget, [&](const auto& kv) { fn(unpack(kv.first), kv.second); }))
                return false;
            cursor.in_v6 = true;
        }
        if (!v6_.visit_shards(cursor.v6, budget, [&](const auto& kv) { fn(unpack(kv.first), kv.second); }))
            return false;
        cursor.in_v6 = false;
        return true;
    }

private:
    struct V4Key {
        uint32_t src, dst;  // network order
        uint16_t src_port, dst_port;
        uint8_t proto;
        friend bool operator==(const V4Key& a, const V4Key& b) {
            return a.src == b.src && a.dst == b.dst && a.src_port == b.src_port &&
                   a.dst_port == b.dst_port && a.proto == b.proto;
        }
        template <typename H>
        friend H AbslHashValue(H h, const V4Key& k) {
            // Two 64-bit words mix faster than five fields.
            const uint64_t addrs = (uint64_t(k.src) << 32) | k.dst;
            const uint64_t rest = (uint64_t(k.src_port) << 24) | (uint64_t(k.dst_port) << 8) | k.proto;
            return H::combine(std::move(h), addrs, rest);
        }
    };
    static_assert(sizeof(V4Key) == 16);

    static V4Key pack_v4(const FlowKey& k) {
        return V4Key{k.src.v4_network_order(), k.dst.v4_network_order(), k.src_port, k.dst_port,
                     static_cast<uint8_t>(k.proto)};
    }
    static FlowKey unpack(const V4Key& k) {
        FlowKey f;
        f.src = IpAddress::v4(reinterpret_cast<const uint8_t*>(&k.src));
        f.dst = IpAddress::v4(reinterpret_cast<const uint8_t*>(&k.dst));
        f.src_port = k.src_port;
        f.dst_port = k.dst_port;
        f.proto = static_cast<IpProto>(k.proto);
        return f;
    }
    static const FlowKey& unpack(const FlowKey& k) { return k; }

    // Sharded so that no insert rehashes more than a sliver of the index (sharded_hash_table.hpp).
    using V4Map = ShardedHashTable<absl::flat_hash_map<V4Key, FlowEntry>>;
    using V6Map = ShardedHashTable<absl::flat_hash_map<FlowKey, FlowEntry>>;
    V4Map v4_;
    V6Map v6_;

public:
    class Cursor {
    public:
        size_t restarts() const { return v4_.restarts() + v6_.restarts(); }

    private:
        friend class FlowIndex;
        V4Map::Cursor v4_;
        V6Map::Cursor v6_;
        bool in_v6_ = false;
    };
};

template <typename Fn>
bool FlowIndex::step(Cursor& cursor, size_t& budget, Fn&& fn) {
    if (!cursor.in_v6_) {
        if (!v4_.step(cursor.v4_, budget, [&](const V4Key& k, FlowEntry& e) { return fn(unpack(k), e); }))
            return false;
        cursor.in_v6_ = true;
    }
    if (!v6_.step(cursor.v6_, budget, [&](const FlowKey& k, FlowEntry& e) { return fn(k, e); })) return false;
    cursor.in_v6_ = false;
    return true;
}

inline FlowEntry* FlowIndex::find(const FlowKey& key) {
    if (key.is_v4()) {
        auto* kv = v4_.find(pack_v4(key));
        return kv ? &kv->second : nullptr;
    }
    auto* kv = v6_.find(key);
    return kv ? &kv->second : nullptr;
}

inline std::pair<FlowEntry*, bool> FlowIndex::emplace(const FlowKey& key, const FlowEntry& entry) {
    if (key.is_v4()) {
        auto [kv, inserted] = v4_.try_emplace(pack_v4(key), entry);
        return {&kv->second, inserted};
    }
    auto [kv, inserted] = v6_.try_emplace(key, entry);
    return {&kv->second, inserted};
}

inline bool FlowIndex::erase(const FlowKey& key) {
    return key.is_v4() ? v4_.erase(pack_v4(key)) > 0 : v6_.erase(key) > 0;
}

}  // namespace sara
