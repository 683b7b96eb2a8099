// SPDX-License-Identifier: GPL-2.0-or-later
// One hash table (an absl::flat_hash_map or _set) split into many by the top bits of each
// key's hash, so that no insert ever rehashes more than one small shard.
//
// Why: an open-addressing table grows by rehashing every entry at once, and rehashes in place
// when erasures have left it full of tombstones. At a million flows that one insert took
// 550-770 ms, under the lock the queues share (issue 16; `bench_session_table`'s growth lane).
// The owner sizes the shards for the table's bound (shard_bits_for): with about a thousand
// entries per shard at most, a rehash touches a few dozen kilobytes — no fresh pages from the
// kernel, whose faults cost ~10 µs each on these VMs — and the shards reach their thresholds
// at different inserts. Lookups pay one more hash of the key (the shard's own table hashes it
// again). Measured there: the longest insert on the way to 1M sessions × 2 flows went from
// 620 ms to under 0.7 ms.
//
// Not thread-safe: one owner thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "daemon/identify/sweep_cursor.hpp"

namespace sara {

// A walk that never stops inside a shard (ShardedHashTable::visit_shards).
struct ShardCursor {
    size_t next_shard = 0;
};

template <typename Table>
class ShardedHashTable {
public:
    using value_type = typename Table::value_type;
    static constexpr size_t kMaxShardBits = 12;

    // Shard bits for a table of at most `max_entries`: about 1024 entries per shard, between
    // 1 and 4096 shards (an empty shard costs a few dozen bytes and a copy at construction).
    static size_t shard_bits_for(size_t max_entries) {
        size_t bits = 0;
        while (bits < kMaxShardBits && (max_entries >> bits) > 1024) ++bits;
        return bits;
    }

    // 2^shard_bits shards; `prototype` gives each its hasher and comparator (they may hold state).
    explicit ShardedHashTable(size_t shard_bits, const Table& prototype = Table())
        : shift_(63 - std::min(shard_bits, kMaxShardBits)),
          shards_(size_t(1) << std::min(shard_bits, kMaxShardBits), prototype) {}

    // The stored element (the key/value pair of a map; const for a set), or nullptr.
    template <typename K>
    auto* find(const K& key) {
        Table& t = shard(key);
        auto it = t.find(key);
        return it == t.end() ? nullptr : &*it;
    }
    template <typename K>
    const value_type* find(const K& key) const {
        return const_cast<ShardedHashTable*>(this)->find(key);
    }
    // Maps: inserts key → Value(args...) unless the key is present.
    template <typename K, typename... Args>
    std::pair<value_type*, bool> try_emplace(const K& key, Args&&... args) {
        auto [it, inserted] = shard(key).try_emplace(key, std::forward<Args>(args)...);
        size_ += inserted;
        return {&*it, inserted};
    }
    // Sets: inserts `value` unless an equal one is present.
    std::pair<const value_type*, bool> insert(const value_type& value) {
        auto [it, inserted] = shard(value).insert(value);
        size_ += inserted;
        return {&*it, inserted};
    }
    template <typename K>
    bool erase(const K& key) {
        const bool erased = shard(key).erase(key) > 0;
        size_ -= erased;
        return erased;
    }
    size_t size() const { return size_; }
    void clear() {
        for (Table& t : shards_) t = Table(0, t.hash_function(), t.key_eq());
        size_ = 0;
    }

    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const Table& t : shards_)
            for (const value_type& v : t) fn(v);
    }
    // Calls fn(element) for every element; erases those for which it returns true.
    template <typename Fn>
    size_t erase_if(Fn&& fn) {
        size_t erased = 0;
        for (Table& t : shards_) {
            for (auto it = t.begin(); it != t.end();) {
                if (fn(*it)) {
                    t.erase(it++);
                    ++erased;
                } else {
                    ++it;
                }
            }
        }
        size_ -= erased;
        return erased;
    }

    // A place in a bounded walk over a map (step()): a shard and a place inside it.
    class Cursor {
    public:
        size_t restarts() const { return restarts_ + in_shard_.restarts(); }

    private:
        friend class ShardedHashTable;
        size_t shard_ = 0;
        size_t restarts_ = 0;
        SweepCursor<Table> in_shard_;
    };
    // Maps: visits up to `budget` entries from `cursor` (decremented per entry, and once per
    // shard left), erasing those for which fn(key, value) returns true. True when the walk
    // went through every shard. Entering a shard is charged because it is not free: an empty
    // shard keeps its capacity, and finding that it is empty reads its control bytes (about
    // 0.8 µs for 1024 slots). Uncharged, one step over a table emptied by a mass expiry walked
    // all 4096 shards in one hold: 3.2-3.4 ms (make bench-table).
    template <typename Fn>
    bool step(Cursor& cursor, size_t& budget, Fn&& fn) {
        while (budget > 0) {
            Table& t = shards_[cursor.shard_];
            const size_t before = t.size();
            const bool shard_done = cursor.in_shard_.step(t, budget, fn);
            size_ -= before - t.size();
            if (!shard_done) return false;
            if (budget > 0) --budget;
            if (++cursor.shard_ == shards_.size()) {
                cursor.shard_ = 0;
                return true;
            }
        }
        return false;
    }

    // Calls fn(element) for every element of whole shards from `cursor`, until `budget` is
    // spent (decremented per element and once per shard, saturating: see step()) or the last
    // shard is done (true; the cursor starts over). A shard is visited in one call, never
    // cut: an insert between two calls may rehash a shard, and a walk resumed inside it could
    // skip entries (sweep_cursor.hpp), which a snapshot must not. Inserted and erased elements of shards not yet visited are seen or not
    // as they are when visited; every element present for the whole walk is visited once.
    template <typename Fn>
    bool visit_shards(ShardCursor& cursor, size_t& budget, Fn&& fn) const {
        while (budget > 0 && cursor.next_shard < shards_.size()) {
            const Table& t = shards_[cursor.next_shard++];
            for (const value_type& v : t) fn(v);
            budget -= std::min(budget, t.size() + 1);
        }
        if (cursor.next_shard < shards_.size()) return false;
        cursor.next_shard = 0;
        return true;
    }

private:
    template <typename K>
    Table& shard(const K& key) {
        const uint64_t hash = shards_[0].hash_function()(key);
        return shards_[size_t((hash >> 1) >> shift_)];  // the top bits; none for one shard
    }

    unsigned shift_;
    std::vector<Table> shards_;
    size_t size_ = 0;
};

}  // namespace sara
