// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "daemon/identify/session_table.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace std::chrono_literals;
using sara::test::tcp_key;
using sara::test::udp_key;

namespace {

struct TableFixture {
    ManualClock clock{std::chrono::seconds(1000)};
    SessionTableLimits limits{};
    // Service 0 ("other") times out after 10 s, service 1 after 30 s.
    SessionTable table{limits, {10s, 30s}, clock};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(session_table)

BOOST_FIXTURE_TEST_CASE(sessions_are_found_by_protocol_and_key, TableFixture) {
    const SessionId a = table.create_session(ServiceProtocol::sip, "call-a", 1);
    const SessionId b = table.create_session(ServiceProtocol::rtsp, "call-a", 1);
    BOOST_TEST(a != kNoSession);
    BOOST_TEST(b != kNoSession);
    BOOST_TEST(a != b);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "call-a") == a);
    BOOST_TEST(table.find_session(ServiceProtocol::rtsp, "call-a") == b);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "call-b") == kNoSession);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "") == kNoSession);
    BOOST_TEST(table.session_count() == 2u);
    BOOST_TEST(table.counters().sessions_created_total == 2u);
}

BOOST_FIXTURE_TEST_CASE(keyless_session_takes_a_key_once, TableFixture) {
    const SessionId conn = table.create_session(ServiceProtocol::rtsp, "", 1);
    const SessionId other = table.create_session(ServiceProtocol::rtsp, "taken", 1);
    BOOST_TEST(!table.assign_key(conn, "taken"));  // belongs to another session
    BOOST_TEST(table.assign_key(conn, "mine"));
    BOOST_TEST(table.find_session(ServiceProtocol::rtsp, "mine") == conn);
    BOOST_TEST(table.assign_key(conn, "mine"));     // same key again: fine
    BOOST_TEST(!table.assign_key(conn, "another")); // a key never changes
    BOOST_TEST(table.find_session(ServiceProtocol::rtsp, "taken") == other);
}

BOOST_FIXTURE_TEST_CASE(flow_status_and_identity_follow_packets, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    const FlowKey media = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    FlowEntry* f = table.add_flow(media, s, FlowIdentity::announced);
    BOOST_REQUIRE(f);
    BOOST_TEST(f->identity == FlowIdentity::announced);
    BOOST_TEST(table.session(s).announced_count == 1);
    table.touch_flow(media, *f);  // first packet confirms it
    BOOST_TEST(f->identity == FlowIdentity::secondary);
    BOOST_TEST(f->status == FlowStatus::fresh);
    BOOST_TEST(table.session(s).announced_count == 0);
    table.touch_flow(media, *f);  // second packet
    BOOST_TEST(f->status == FlowStatus::established);
    BOOST_TEST(table.counters().flows_confirmed_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(flows_go_inactive_after_timeout_and_are_purged_after_twice, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);  // 30 s service
    const FlowKey media = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    BOOST_REQUIRE(table.add_flow(media, s, FlowIdentity::signalling));
    clock.advance(29s);
    table.purge();
    BOOST_TEST(table.find_flow(media)->status == FlowStatus::fresh);
    clock.advance(1s);  // 30 s idle: inactive, still held
    table.purge();
    BOOST_TEST(table.find_flow(media)->status == FlowStatus::inactive);
    clock.advance(29s);  // 59 s idle: still held
    table.purge();
    BOOST_REQUIRE(table.find_flow(media));
    clock.advance(1s);  // 60 s = twice the timeout: purged
    table.purge();
    BOOST_TEST(!table.find_flow(media));
    BOOST_TEST(table.counters().flows_purged_total == 1u);
    // The session had been idle as long as its flow: aborted, not completed.
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(table.counters().sessions_aborted_total == 1u);
    BOOST_TEST(table.counters().sessions_completed_total == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_packet_restarts_the_timeout, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    const FlowKey media = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    BOOST_REQUIRE(table.add_flow(media, s, FlowIdentity::signalling));
    clock.advance(50s);
    table.touch_flow(media, *table.find_flow(media));
    clock.advance(50s);  // 100 s since creation, 50 s since the last packet
    table.purge();
    BOOST_TEST(table.find_flow(media));
    BOOST_TEST(table.session_count() == 1u);
}

BOOST_FIXTURE_TEST_CASE(ended_session_is_completed_and_freed_when_its_flows_go, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    const FlowKey media = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    BOOST_REQUIRE(table.add_flow(media, s, FlowIdentity::secondary));
    table.end_session(s);
    table.end_session(s);  // a retransmitted BYE counts once
    BOOST_TEST(table.counters().sessions_completed_total == 1u);
    BOOST_TEST(table.session(s).state == SessionState::completed);
    // Trailing media still finds its session for the media linger (default 2 s)...
    clock.advance(1900ms);
    table.purge();
    BOOST_TEST(table.find_flow(media)->session == s);
    BOOST_TEST(table.take_released_media().empty());
    // ... then the flow is released (its conntrack entry is the owner's to delete), so the
    // next call from the same client port is decided afresh (issue 14).
    clock.advance(100ms);
    table.purge();
    BOOST_TEST(!table.find_flow(media));
    BOOST_TEST((table.take_released_media() == std::vector<FlowKey>{media}));
    BOOST_TEST(table.counters().media_flows_released_total == 1u);
    BOOST_TEST(table.counters().flows_purged_total == 0u);
    // The session stays findable (a retransmitted BYE) until idle twice its timeout.
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "c") == s);
    clock.advance(58s);
    table.purge();
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(table.counters().sessions_aborted_total == 0u);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "c") == kNoSession);
}

BOOST_FIXTURE_TEST_CASE(an_ended_session_keeps_its_signalling_flows_and_the_linger_is_configurable, TableFixture) {
    table.set_media_linger(0ms);
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    const FlowKey connection = tcp_key("198.18.1.2", 40000, "198.18.100.10", 5060);
    const FlowKey partial = udp_key("198.18.1.2", 20000, "198.18.100.10", 0);
    BOOST_REQUIRE(table.add_flow(connection, s, FlowIdentity::signalling));
    BOOST_REQUIRE(table.add_flow(partial, s, FlowIdentity::announced));
    table.end_session(s);
    table.purge();
    // The SIP/TCP connection carries the client's next calls: it stays until idle.
    BOOST_TEST(table.find_flow(connection));
    BOOST_TEST(!table.find_flow(partial));
    // A partial flow has no conntrack entry: nothing for the kernel.
    BOOST_TEST(table.take_released_media().empty());
    BOOST_TEST(table.counters().media_flows_released_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_session_restored_as_ended_lingers_from_its_restore, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    const FlowKey media = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    BOOST_REQUIRE(table.add_flow(media, s, FlowIdentity::secondary));
    clock.advance(10s);
    table.restore_ended(s);
    BOOST_TEST(table.session(s).state == SessionState::completed);
    table.purge();
    BOOST_TEST(table.find_flow(media));
    clock.advance(2s);
    table.purge();
    BOOST_TEST(!table.find_flow(media));
}

BOOST_FIXTURE_TEST_CASE(session_without_flows_times_out_on_its_own_activity, TableFixture) {
    // A SIP/UDP call whose signalling shares a 5-tuple has no flow of its own.
    const SessionId s = table.create_session(ServiceProtocol::sip, "c", 1);
    clock.advance(40s);
    table.touch_session(s);
    clock.advance(59s);
    table.purge();
    BOOST_TEST(table.session_count() == 1u);
    clock.advance(1s);
    table.purge();
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(table.counters().sessions_aborted_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(freed_ids_are_reused_without_stale_keys, TableFixture) {
    const SessionId s = table.create_session(ServiceProtocol::sip, "old", 1);
    clock.advance(61s);
    table.purge();
    const SessionId t = table.create_session(ServiceProtocol::sip, "new", 1);
    BOOST_TEST(t == s);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "old") == kNoSession);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "new") == t);
    BOOST_TEST(table.session(t).state == SessionState::active);
}

BOOST_FIXTURE_TEST_CASE(move_flow_merges_a_keyless_connection_session, TableFixture) {
    const SessionId keyed = table.create_session(ServiceProtocol::rtsp, "12345678", 1);
    const SessionId conn = table.create_session(ServiceProtocol::rtsp, "", 1);
    const FlowKey control{test::ip("198.18.1.2"), test::ip("198.18.100.10"), 40000, 554, IpProto::tcp};
    BOOST_REQUIRE(table.add_flow(control, conn, FlowIdentity::signalling));
    table.move_flow(control, keyed);
    BOOST_TEST(table.find_flow(control)->session == keyed);
    BOOST_TEST(table.session(keyed).flow_count == 1);
    BOOST_TEST(table.session_count() == 1u);
    BOOST_TEST(table.counters().sessions_merged_total == 1u);
}

struct BoundCase {
    const char* description;
    SessionTableLimits limits;
    int sessions;             // sessions to create
    int flows_per_session;    // signalling flows to add to each
    int announced;            // announced flows to add to the first session
    uint64_t SessionTableCounters::*counter;
    uint64_t expected;
};

BOOST_AUTO_TEST_CASE(bounds_are_enforced_and_counted) {
    const BoundCase cases[] = {
        {.description = "session table full",
         .limits = {.max_sessions = 3},
         .sessions = 5, .flows_per_session = 0, .announced = 0,
         .counter = &SessionTableCounters::sessions_table_full_total, .expected = 2},
        {.description = "flow table full",
         .limits = {.max_flows = 4},
         .sessions = 3, .flows_per_session = 2, .announced = 0,
         .counter = &SessionTableCounters::flows_table_full_total, .expected = 2},
        {.description = "flows per session",
         .limits = {.max_flows_per_session = 3},
         .sessions = 1, .flows_per_session = 5, .announced = 0,
         .counter = &SessionTableCounters::session_flow_limit_total, .expected = 2},
        {.description = "announced per session",
         .limits = {.max_announced_per_session = 2},
         .sessions = 1, .flows_per_session = 0, .announced = 4,
         .counter = &SessionTableCounters::announced_limit_total, .expected = 2},
    };
    for (const BoundCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ManualClock clock;
            SessionTable table(c.limits, {30s}, clock);
            std::vector<SessionId> ids;
            for (int i = 0; i < c.sessions; ++i) {
                const SessionId id = table.create_session(ServiceProtocol::sip, "k" + std::to_string(i), 0);
                if (id != kNoSession) ids.push_back(id);
            }
            uint16_t port = 1000;
            for (SessionId id : ids)
                for (int f = 0; f < c.flows_per_session; ++f)
                    table.add_flow(udp_key("198.18.1.2", port++, "198.18.100.10", 7000), id, FlowIdentity::signalling);
            for (int a = 0; a < c.announced; ++a)
                table.add_flow(udp_key("198.18.1.2", port++, "198.18.100.10", 0), ids.at(0), FlowIdentity::announced);
            BOOST_TEST((table.counters().*c.counter) == c.expected);
            BOOST_TEST(table.session_count() <= c.limits.max_sessions);
            BOOST_TEST(table.flow_count() <= c.limits.max_flows);
        }
    }
}

BOOST_AUTO_TEST_CASE(key_longer_than_limit_is_refused) {
    ManualClock clock;
    SessionTable table(SessionTableLimits{.max_key_bytes = 16}, {30s}, clock);
    TableError error = TableError::none;
    BOOST_TEST(table.create_session(ServiceProtocol::sip, std::string(17, 'x'), 0, &error) == kNoSession);
    BOOST_TEST(static_cast<int>(error) == static_cast<int>(TableError::key_too_long));
    BOOST_TEST(table.counters().key_too_long_total == 1u);
}

BOOST_AUTO_TEST_CASE(ipv6_flows_live_beside_ipv4) {
    ManualClock clock;
    SessionTable table(SessionTableLimits{}, {30s}, clock);
    const SessionId s = table.create_session(ServiceProtocol::sip, "v6", 0);
    const FlowKey v6{test::ip("2001:db8::2"), test::ip("2001:db8::10"), 20000, 6000, IpProto::udp};
    const FlowKey v4 = udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
    BOOST_REQUIRE(table.add_flow(v6, s, FlowIdentity::secondary));
    BOOST_REQUIRE(table.add_flow(v4, s, FlowIdentity::secondary));
    BOOST_TEST(table.flow_count() == 2u);
    BOOST_TEST(table.find_flow(v6)->session == s);
    table.remove_flow(v6);
    BOOST_TEST(!table.find_flow(v6));
    BOOST_TEST(table.find_flow(v4));
}

// The HA backup builds a replica aside and swaps it in (daemon/ha/state_sync.cpp): after the
// swap each table finds its keys, adds sessions (the key index hashes through storage that
// moved with it) and keeps its per-node counts and flows.
BOOST_FIXTURE_TEST_CASE(swap_contents_exchanges_sessions_flows_and_the_key_index, TableFixture) {
    const SessionId old_call = table.create_session(ServiceProtocol::sip, "old-call", 1);
    table.set_node(old_call, 2);
    table.add_flow(udp_key("198.18.1.2", 5070, "198.18.100.10", 5060), old_call, FlowIdentity::signalling);
    SessionTable other(limits, {10s, 30s}, clock);
    for (int i = 0; i < 3000; ++i) {
        const SessionId id = other.create_session(ServiceProtocol::sip, "new-" + std::to_string(i), 1);
        other.set_node(id, 3);
        other.add_flow(udp_key("198.18.2.2", uint16_t(10000 + i), "198.18.100.10", 6000), id, FlowIdentity::secondary);
    }
    const uint64_t created_here = table.counters().sessions_created_total;
    table.swap_contents(other);
    BOOST_TEST(table.session_count() == 3000u);
    BOOST_TEST(table.flow_count() == 3000u);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "old-call") == kNoSession);
    const SessionId found = table.find_session(ServiceProtocol::sip, "new-2999");
    BOOST_REQUIRE(found != kNoSession);
    BOOST_TEST(table.find_flow(udp_key("198.18.2.2", 12999, "198.18.100.10", 6000))->session == found);
    BOOST_TEST(table.active_sessions(3) == 3000u);
    BOOST_TEST(table.counters().sessions_created_total == created_here);  // counters stay
    BOOST_TEST(other.session_count() == 1u);
    BOOST_TEST(other.find_session(ServiceProtocol::sip, "old-call") == old_call);
    BOOST_TEST(other.active_sessions(2) == 1u);
    // Both keep working: enough new keys to rehash the key index's shards.
    for (int i = 0; i < 3000; ++i) BOOST_REQUIRE(table.create_session(ServiceProtocol::sip, "more-" + std::to_string(i), 1) != kNoSession);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "new-0") != kNoSession);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "more-2999") != kNoSession);
    for (int i = 0; i < 3000; ++i) BOOST_REQUIRE(other.create_session(ServiceProtocol::sip, "also-" + std::to_string(i), 1) != kNoSession);
    BOOST_TEST(other.find_session(ServiceProtocol::sip, "old-call") == old_call);
    BOOST_TEST(other.find_session(ServiceProtocol::sip, "also-2999") != kNoSession);
}

BOOST_AUTO_TEST_SUITE_END()
