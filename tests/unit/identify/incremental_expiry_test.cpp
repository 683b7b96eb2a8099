// SPDX-License-Identifier: GPL-2.0-or-later
// Expiry a slice at a time (SessionTable::expire_step, SweepCursor) and the per-node counts of
// active sessions kept without a recount (issue 16: no O(table) step beside the packet path).
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "daemon/identify/session_table.hpp"
#include "daemon/identify/sweep_cursor.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace std::chrono_literals;
using sara::test::udp_key;

namespace {

// Room for 4096 flows: four shards per family, so that slices count (almost only) entries: a
// walk also pays once per shard it leaves (an_empty_table_of_many_shards_is_walked_in_bounded_slices).
SessionTableLimits few_shards() {
    SessionTableLimits limits;
    limits.max_flows = 4096;
    return limits;
}

struct TableFixture {
    ManualClock clock{std::chrono::seconds(1000)};
    SessionTable table{few_shards(), {10s, 30s}, clock};

    FlowKey media(int i) const { return udp_key("198.18.1.2", uint16_t(10000 + i), "198.18.100.10", 6000); }
    // `n` sessions of one flow each (service 1: 30 s).
    void fill(int n) {
        for (int i = 0; i < n; ++i) {
            const SessionId s = table.create_session(ServiceProtocol::sip, "call-" + std::to_string(i), 1);
            BOOST_REQUIRE(table.add_flow(media(i), s, FlowIdentity::signalling));
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(incremental_expiry)

BOOST_FIXTURE_TEST_CASE(a_round_in_small_slices_expires_what_a_full_purge_would, TableFixture) {
    fill(1000);
    clock.advance(60s);  // twice the timeout: every flow and session goes
    int steps = 0;
    while (!table.expire_step(64)) ++steps;
    // 1000 flows, 8 shards left and 1000 session slots, 64 per slice: 32 slices, the last one
    // ends the round.
    BOOST_TEST(steps == 31);
    BOOST_TEST(table.flow_count() == 0u);
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(table.counters().flows_purged_total == 1000u);
    BOOST_TEST(table.counters().sessions_aborted_total == 1000u);
    BOOST_TEST(table.expiry_rounds() == 1u);
}

// Regression (make bench-table): a table emptied by a mass expiry keeps its 4096 shards'
// capacity, and a walk that charged entries only crossed them all in one slice, 3.2-3.4 ms
// under the queues' lock. Each shard left now costs one unit of the budget.
BOOST_AUTO_TEST_CASE(an_empty_table_of_many_shards_is_walked_in_bounded_slices) {
    ManualClock clock{std::chrono::seconds(1000)};
    SessionTable table{SessionTableLimits{}, {10s, 30s}, clock};  // 4M flows: 4096 shards a family
    int slices = 1;
    while (!table.expire_step(64)) {
        ++slices;
        BOOST_REQUIRE(slices < 1000);
    }
    // 4096 IPv4 and 4096 IPv6 shards at 64 a slice, then the session slots (none) end the round.
    BOOST_TEST(slices == 2 * 4096 / 64);
    BOOST_TEST(table.expiry_rounds() == 1u);
}

// The free list runs through the freed slots themselves (no vector of ids to grow while a
// million sessions expire): every freed slot is taken again before the table grows, each
// comes back clean, and one list survives a swap with another table.
BOOST_FIXTURE_TEST_CASE(freed_slots_are_taken_again_before_the_table_grows, TableFixture) {
    fill(100);
    clock.advance(60s);
    table.purge();
    BOOST_REQUIRE(table.session_count() == 0u);
    const size_t slots = table.session_slots();
    std::set<SessionId> ids;
    for (int i = 0; i < 100; ++i) {
        const SessionId s = table.create_session(ServiceProtocol::sip, "again-" + std::to_string(i), 1);
        BOOST_REQUIRE(s != kNoSession);
        ids.insert(s);
        BOOST_TEST(table.session(s).last_seen_ms == table.now_ms());
        BOOST_TEST(table.session(s).flow_count == 0u);
    }
    BOOST_TEST(ids.size() == 100u);
    BOOST_TEST(table.session_slots() == slots);
    BOOST_TEST(table.create_session(ServiceProtocol::sip, "one-more", 1) == SessionId(slots));  // now it grows
    // A table swapped in brings its own free list.
    SessionTable other{few_shards(), {10s, 30s}, clock};
    const SessionId gone = other.create_session(ServiceProtocol::sip, "gone", 1);
    clock.advance(60s);
    other.purge();
    table.swap_contents(other);
    BOOST_TEST(table.create_session(ServiceProtocol::sip, "in-the-swapped-table", 1) == gone);
    BOOST_TEST(other.session_count() == 101u);
}

BOOST_FIXTURE_TEST_CASE(a_slice_visits_no_more_than_its_budget, TableFixture) {
    fill(500);
    clock.advance(60s);
    BOOST_TEST(!table.expire_step(100));
    BOOST_TEST(table.flow_count() == 400u);  // exactly one slice of flows went
    BOOST_TEST(table.session_count() == 500u);  // sessions wait for the flows' walk to end
}

BOOST_FIXTURE_TEST_CASE(flows_added_between_slices_do_not_break_the_walk, TableFixture) {
    fill(300);
    clock.advance(60s);
    BOOST_TEST(!table.expire_step(100));
    // New sessions (a rehash may move the walk's place) arrive mid-round; they are fresh.
    for (int i = 300; i < 2300; ++i) {
        const SessionId s = table.create_session(ServiceProtocol::sip, "new-" + std::to_string(i), 1);
        BOOST_REQUIRE(table.add_flow(media(i), s, FlowIdentity::signalling));
    }
    for (int rounds = 0; rounds < 2;)  // at most a round late: two rounds take every old one
        rounds += table.expire_step(100);
    BOOST_TEST(table.flow_count() == 2000u);
    BOOST_TEST(table.session_count() == 2000u);
    BOOST_TEST(table.counters().flows_purged_total == 300u);
}

BOOST_FIXTURE_TEST_CASE(per_node_counts_follow_every_change_without_a_recount, TableFixture) {
    const SessionId a = table.create_session(ServiceProtocol::sip, "a", 1);
    const SessionId b = table.create_session(ServiceProtocol::sip, "b", 1);
    const SessionId c = table.create_session(ServiceProtocol::sip, "c", 1);
    BOOST_TEST(table.active_sessions(1) == 0u);  // no node yet
    table.set_node(a, 1);
    table.set_node(b, 1);
    table.set_node(c, 2);
    BOOST_TEST(table.active_sessions(1) == 2u);
    BOOST_TEST(table.active_sessions(2) == 1u);
    table.set_node(c, 1);  // moved (a replica record)
    BOOST_TEST(table.active_sessions(1) == 3u);
    BOOST_TEST(table.active_sessions(2) == 0u);
    table.end_session(a);  // completed: no longer active
    table.end_session(a);  // twice: counted once
    BOOST_TEST(table.active_sessions(1) == 2u);
    table.set_state(b, SessionState::aborted);
    BOOST_TEST(table.active_sessions(1) == 1u);
    table.set_state(b, SessionState::active);
    BOOST_TEST(table.active_sessions(1) == 2u);
    table.restore_ended(b);
    BOOST_TEST(table.active_sessions(1) == 1u);
    // c idles out without flows: aborted and freed, and uncounted.
    clock.advance(60s);
    table.purge();
    BOOST_TEST(table.active_sessions(1) == 0u);
    BOOST_TEST(table.active_sessions(250) == 0u);  // a node never seen
}

BOOST_FIXTURE_TEST_CASE(clearing_the_table_clears_the_counts, TableFixture) {
    fill(10);
    for (SessionId id = 0; id < 10; ++id) table.set_node(id, 3);
    BOOST_TEST(table.active_sessions(3) == 10u);
    table.clear();
    BOOST_TEST(table.active_sessions(3) == 0u);
    fill(2);
    table.purge();  // the walk's place was reset with the table: no stale key
    BOOST_TEST(table.flow_count() == 2u);
}

BOOST_AUTO_TEST_CASE(a_cursor_whose_key_was_erased_starts_over_and_counts_it) {
    absl::flat_hash_map<int, int> map;
    for (int i = 0; i < 100; ++i) map[i] = i;
    SweepCursor<absl::flat_hash_map<int, int>> cursor;
    size_t visited = 0;
    size_t budget = 10;
    BOOST_TEST(!cursor.step(map, budget, [&](int, int) { return ++visited, false; }));
    BOOST_TEST(budget == 0u);
    BOOST_TEST(visited == 10u);
    // Erase everything not visited yet: the kept key is among them.
    std::vector<int> seen;
    budget = 10;
    visited = 0;
    // Find the next key the cursor would visit, by walking a copy of its state.
    SweepCursor<absl::flat_hash_map<int, int>> probe = cursor;
    (void)probe.step(map, budget, [&](int k, int) { return seen.push_back(k), false; });
    map.erase(seen.front());
    budget = 1000;
    BOOST_TEST(cursor.step(map, budget, [&](int, int) { return ++visited, false; }));
    BOOST_TEST(cursor.restarts() == 1u);
    BOOST_TEST(visited == 99u);  // started over: the whole map
}

BOOST_AUTO_TEST_CASE(a_cursor_erases_what_its_function_says) {
    absl::flat_hash_map<int, int> map;
    for (int i = 0; i < 1000; ++i) map[i] = i;
    SweepCursor<absl::flat_hash_map<int, int>> cursor;
    size_t budget = 0;
    bool done = false;
    while (!done) {
        budget = 7;
        done = cursor.step(map, budget, [](int k, int) { return k % 2 == 0; });
    }
    BOOST_TEST(map.size() == 500u);
    BOOST_TEST(cursor.erased() == 500u);
    for (const auto& [k, v] : map) BOOST_TEST(k % 2 == 1);
}

BOOST_AUTO_TEST_SUITE_END()
