// SPDX-License-Identifier: GPL-2.0-or-later
// The containers that let the session table grow without an O(table) step (issue 16):
// ShardedHashTable (no insert rehashes more than one shard) and ChunkedVector (no element
// moves when it grows). The table's own behaviour is covered by session_table_test.cpp and
// incremental_expiry_test.cpp, which run on these containers.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/util/chunked_vector.hpp"
#include "daemon/identify/sharded_hash_table.hpp"

using namespace sara;

namespace {

using Map = ShardedHashTable<absl::flat_hash_map<int, int>>;

// Like the session table's key index: ids hashed and compared by the string they name.
struct Hash {
    using is_transparent = void;
    const std::vector<std::string>* names;
    size_t operator()(size_t id) const { return (*this)((*names)[id]); }
    size_t operator()(const std::string& s) const { return absl::HashOf(s); }
};
struct Eq {
    using is_transparent = void;
    const std::vector<std::string>* names;
    const std::string& str(size_t id) const { return (*names)[id]; }
    const std::string& str(const std::string& s) const { return s; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return str(a) == str(b); }
};
using Set = absl::flat_hash_set<size_t, Hash, Eq>;

}  // namespace

BOOST_AUTO_TEST_SUITE(sharded_hash_table)

BOOST_AUTO_TEST_CASE(finds_inserts_and_erases_across_shards_keeping_the_size) {
    Map map(4);  // 16 shards: every one used
    for (int i = 0; i < 1000; ++i) BOOST_TEST(map.try_emplace(i, i * 2).second);
    BOOST_TEST(!map.try_emplace(7, 0).second);  // present: left as it is
    BOOST_TEST(map.size() == 1000u);
    BOOST_REQUIRE(map.find(7) != nullptr);
    BOOST_TEST(map.find(7)->second == 14);
    BOOST_TEST(map.find(1000) == nullptr);
    BOOST_TEST(map.erase(7));
    BOOST_TEST(!map.erase(7));
    BOOST_TEST(map.size() == 999u);
    BOOST_TEST(map.erase_if([](const auto& kv) { return kv.first % 2 == 0; }) == 500u);
    BOOST_TEST(map.size() == 499u);
    size_t seen = 0;
    map.for_each([&](const auto& kv) {
        BOOST_TEST(kv.first % 2 == 1);
        ++seen;
    });
    BOOST_TEST(seen == 499u);
    map.clear();
    BOOST_TEST(map.size() == 0u);
    BOOST_TEST(map.find(1) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_bounded_walk_visits_every_entry_once_per_round_and_erases_what_it_is_told) {
    Map map(4);  // 16 shards: every one used
    for (int i = 0; i < 1000; ++i) map.try_emplace(i, i);
    Map::Cursor cursor;
    std::multiset<int> visited;
    int slices = 0;
    bool done = false;
    while (!done) {
        size_t budget = 37;
        done = map.step(cursor, budget, [&](int k, int&) {
            visited.insert(k);
            return k % 3 == 0;  // erase a third as the walk goes
        });
        ++slices;
        BOOST_REQUIRE(slices < 100);
        if (!done) BOOST_TEST(budget == 0u);  // a slice stops only at its budget or the end
    }
    BOOST_TEST(visited.size() == 1000u);
    BOOST_TEST(std::set<int>(visited.begin(), visited.end()).size() == 1000u);
    BOOST_TEST(map.size() == 666u);
    BOOST_TEST(cursor.restarts() == 0u);
    // The next round starts over and sees what is left.
    size_t budget = SIZE_MAX;
    size_t second = 0;
    BOOST_TEST(map.step(cursor, budget, [&](int, int&) { return ++second, false; }));
    BOOST_TEST(second == 666u);
}

// A snapshot's walk (issue 16): inserts between slices rehash shards, and a walk resumed
// inside a rehashed shard could skip entries; whole shards never do.
BOOST_AUTO_TEST_CASE(a_walk_in_whole_shards_sees_every_entry_present_throughout_while_others_are_inserted) {
    Map map(2);  // 4 shards of ~250 to start, growing (rehashing) several times during the walk
    for (int i = 0; i < 1000; ++i) map.try_emplace(i, i);
    ShardCursor cursor;
    std::multiset<int> visited;
    int next_new = 1000, slices = 0;
    bool done = false;
    while (!done) {
        size_t budget = 1;  // one shard a slice
        done = map.visit_shards(cursor, budget, [&](const auto& kv) { visited.insert(kv.first); });
        for (int i = 0; i < 3000; ++i) map.try_emplace(next_new++, 0);
        BOOST_REQUIRE(++slices <= 4);
    }
    BOOST_TEST(slices == 4);
    for (int i = 0; i < 1000; ++i) BOOST_TEST(visited.count(i) == 1u, "entry " << i);
    BOOST_TEST(cursor.next_shard == 0u);  // the next walk starts over
}

BOOST_AUTO_TEST_CASE(a_set_with_a_stateful_hasher_finds_by_another_key_type) {
    std::vector<std::string> names{"alpha", "beta", "gamma"};
    ShardedHashTable<Set> set(3, Set(0, Hash{&names}, Eq{&names}));
    for (size_t id = 0; id < names.size(); ++id) BOOST_TEST(set.insert(id).second);
    BOOST_REQUIRE(set.find(std::string("gamma")) != nullptr);
    BOOST_TEST(*set.find(std::string("gamma")) == 2u);
    BOOST_TEST(set.find(std::string("delta")) == nullptr);
    BOOST_TEST(set.erase(size_t(1)));
    BOOST_TEST(set.find(std::string("beta")) == nullptr);
    BOOST_TEST(set.size() == 2u);
}

BOOST_AUTO_TEST_CASE(shards_are_sized_for_the_bound_and_one_shard_works) {
    BOOST_TEST(Map::shard_bits_for(0) == 0u);
    BOOST_TEST(Map::shard_bits_for(1024) == 0u);
    BOOST_TEST(Map::shard_bits_for(1025) == 1u);
    BOOST_TEST(Map::shard_bits_for(1'000'000) == 10u);
    BOOST_TEST(Map::shard_bits_for(100'000'000) == Map::kMaxShardBits);
    Map one(0);
    for (int i = 0; i < 100; ++i) one.try_emplace(i, i);
    BOOST_TEST(one.size() == 100u);
    BOOST_REQUIRE(one.find(42) != nullptr);
    Map::Cursor cursor;
    size_t budget = SIZE_MAX, seen = 0;
    BOOST_TEST(one.step(cursor, budget, [&](int, int&) { return ++seen, false; }));
    BOOST_TEST(seen == 100u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chunked_vector)

BOOST_AUTO_TEST_CASE(elements_keep_their_address_as_it_grows) {
    ChunkedVector<std::string, 2> v;  // chunks of 4
    std::vector<const std::string*> where;
    for (int i = 0; i < 50; ++i) {
        v.emplace_back() = "s" + std::to_string(i);
        where.push_back(&v[size_t(i)]);
    }
    BOOST_TEST(v.size() == 50u);
    for (size_t i = 0; i < 50; ++i) {
        BOOST_TEST(&v[i] == where[i]);
        BOOST_TEST(v[i] == "s" + std::to_string(i));
    }
    v.clear();
    BOOST_TEST(v.empty());
    BOOST_TEST(v.emplace_back().empty());  // a fresh chunk: default-constructed
}

BOOST_AUTO_TEST_SUITE_END()
