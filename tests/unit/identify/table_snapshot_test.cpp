// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "daemon/identify/table_snapshot.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(table_snapshot)

BOOST_AUTO_TEST_CASE(round_trip_keeps_sessions_nodes_and_flows) {
    ManualClock clock;
    SessionTable before(SessionTableLimits{}, {30s, 30s}, clock);
    const SessionId call = before.create_session(ServiceProtocol::sip, "1-42@198.18.1.2", 1);
    before.session(call).node = 2;
    before.session(call).confirmed = true;
    before.add_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000), call, FlowIdentity::secondary);
    before.add_flow(test::udp_key("198.18.1.2", 20001, "198.18.100.10", 0), call, FlowIdentity::announced);
    const SessionId rtsp = before.create_session(ServiceProtocol::rtsp, "", 1);
    before.session(rtsp).node = 3;
    const FlowKey control{test::ip("2001:db8::2"), test::ip("2001:db8::10"), 41000, 554, IpProto::tcp};
    before.add_flow(control, rtsp, FlowIdentity::signalling);
    before.end_session(rtsp);

    std::stringstream file;
    write_snapshot(before, file);
    SessionTable after(SessionTableLimits{}, {30s, 30s}, clock);
    const SnapshotLoad load = read_snapshot(file, after);
    BOOST_TEST(load.error == "");
    BOOST_TEST(load.sessions == 2u);
    BOOST_TEST(load.flows == 3u);
    const SessionId c = after.find_session(ServiceProtocol::sip, "1-42@198.18.1.2");
    BOOST_REQUIRE(c != kNoSession);
    BOOST_TEST(after.session(c).node == 2);
    BOOST_TEST(after.session(c).confirmed);
    BOOST_TEST(after.find_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000))->session == c);
    BOOST_TEST(after.find_flow(test::udp_key("198.18.1.2", 20001, "198.18.100.10", 0))->identity == FlowIdentity::announced);
    const FlowEntry* f = after.find_flow(control);
    BOOST_REQUIRE(f);
    BOOST_TEST(after.session(f->session).node == 3);
    BOOST_TEST(after.session(f->session).state == SessionState::completed);
}

BOOST_AUTO_TEST_CASE(malformed_snapshots_are_reported_not_trusted) {
    struct Case {
        const char* description;
        std::string text;
        size_t sessions;
    };
    const Case cases[] = {
        {"empty file", "", 0},
        {"wrong version", "sara-snapshot 9\n", 0},
        {"version 1 (before the shared record format)", "sara-snapshot 1\nS 0 0 1 0 0 key\n", 0},
        {"bad protocol", "sara-snapshot 2\nS 7 0 1 0 0 key\n", 0},
        {"a flow before any session", "sara-snapshot 2\nF 17 198.18.1.2 1 198.18.100.10 2 2 1\n", 0},
        {"port out of range: its block is dropped", "sara-snapshot 2\nS 0 0 1 0 0 key\nF 17 198.18.1.2 70000 198.18.100.10 2 2 1\n", 0},
        {"mixed families", "sara-snapshot 2\nS 0 0 1 0 0 key\nF 17 198.18.1.2 1 2001:db8::1 2 2 1\n", 0},
        {"trailing field", "sara-snapshot 2\nS 0 0 1 0 0 key extra\n", 0},
        {"a good block stays, the bad one after it does not", "sara-snapshot 2\nS 0 0 1 0 0 a\nS 0 0 1 0 0 b\n\x01\x02\n", 1},
        {"version 3: a line without a tag", "sara-snapshot 3\ns 0 0 1 0 0 key\n", 0},
        {"version 3: an unknown record", "sara-snapshot 3\nx 1:2 0 0 1 0 0 key\n", 0},
        {"version 3: an empty tag", "sara-snapshot 3\ns  0 0 1 0 0 key\n", 0},
        {"version 3: a tag used twice (the first stays)", "sara-snapshot 3\ns 1:5 0 0 1 0 0 a\ns 1:5 0 0 1 0 0 b\n", 1},
        {"version 3: a tag that is not slot:created", "sara-snapshot 3\ns 1-5 0 0 1 0 0 a\n", 0},
        {"version 3: a bad flow stops loading (its session, before it, stays)", "sara-snapshot 3\ns 1:5 0 0 1 0 0 a\nf 1:5 17 198.18.1.2 1 x 2 2 1\n", 1},
        {"version 3: an uppercase (version 2) record", "sara-snapshot 3\nS 0 0 1 0 0 key\n", 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ManualClock clock;
            SessionTable table(SessionTableLimits{}, {30s}, clock);
            std::istringstream in(c.text);
            const SnapshotLoad load = read_snapshot(in, table);
            BOOST_TEST(load.error != "");
            BOOST_TEST(load.sessions == c.sessions);
            BOOST_TEST(table.flow_count() == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(version_2_files_still_load) {
    ManualClock clock;
    SessionTable table(SessionTableLimits{}, {30s}, clock);
    std::istringstream in("sara-snapshot 2\nS 0 0 4 0 1 call-1\nF 17 198.18.1.2 20000 198.18.100.10 6000 2 1\n");
    const SnapshotLoad load = read_snapshot(in, table);
    BOOST_TEST(load.error == "");
    BOOST_TEST(load.sessions == 1u);
    BOOST_TEST(load.flows == 1u);
    BOOST_TEST(table.session(table.find_session(ServiceProtocol::sip, "call-1")).node == 4);
}

// A save walks the table in slices with the lock released between them: the table changes
// meanwhile. Sessions that stay are all in the file with their flows; a flow whose session
// slot was freed and reused by a new session after the sessions' walk never joins the old
// session's line (its tag has another creation time): it is skipped and counted.
BOOST_AUTO_TEST_CASE(a_save_in_slices_survives_changes_between_slices) {
    ManualClock clock{std::chrono::seconds(100)};
    SessionTable table(SessionTableLimits{}, {30s, 30s}, clock);
    for (int i = 0; i < 100; ++i) {
        const SessionId id = table.create_session(ServiceProtocol::sip, "call-" + std::to_string(i), 1);
        table.set_node(id, NodeId(1 + i % 3));
        table.add_flow(test::udp_key("198.18.1.2", uint16_t(20000 + i), "198.18.100.10", 6000), id, FlowIdentity::secondary);
    }
    std::stringstream file;
    SnapshotWriter writer(file);
    bool done = false;
    int slices = 0;
    while (!done) {
        done = writer.step(table, 16);
        writer.flush();
        if (++slices == 8) {  // sessions walked, flows half way: call-0's slot is reused
            const SessionId old = table.find_session(ServiceProtocol::sip, "call-0");
            table.remove_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000));
            table.end_session(old);
            clock.advance(61s);
            table.purge();  // everything idle: all sessions go...
            BOOST_TEST(table.session_count() == 0u);
            clock.advance(1s);
            const SessionId reused = table.create_session(ServiceProtocol::sip, "new-call", 1);
            table.set_node(reused, 9);
            table.add_flow(test::udp_key("198.18.1.3", 30000, "198.18.100.10", 6000), reused, FlowIdentity::secondary);
        }
    }
    BOOST_TEST(writer.sessions() == 100u);
    SessionTable after(SessionTableLimits{}, {30s, 30s}, clock);
    const SnapshotLoad load = read_snapshot(file, after);
    BOOST_TEST(load.error == "");
    BOOST_TEST(load.sessions == 100u);
    BOOST_TEST(after.find_session(ServiceProtocol::sip, "new-call") == kNoSession);
    // The new call's flow was walked (slot reused, new creation time): not given to call-N.
    if (const FlowEntry* f = after.find_flow(test::udp_key("198.18.1.3", 30000, "198.18.100.10", 6000)))
        BOOST_FAIL("the reused slot's flow joined " + after.session(f->session).key);
    BOOST_TEST(load.orphan_flows + load.flows <= 100u);
}

// The loader finds a flow's session by its tag in an array indexed by slot (12 bytes a
// session, for the peak RSS of a start with 1M sessions); what does not fit it — a slot past
// the table's bound, a second session in one slot — still loads, through a hash map.
BOOST_AUTO_TEST_CASE(tags_outside_the_slot_array_still_find_their_sessions) {
    ManualClock clock;
    SessionTableLimits limits;
    limits.max_sessions = 10;
    SessionTable table(limits, {30s}, clock);
    std::istringstream in("sara-snapshot 3\n"
                          "s 3:100 0 0 1 0 1 call-a\n"
                          "s 3:200 0 0 2 0 1 call-b\n"         // the same slot, another session
                          "s 4000000000:7 0 0 3 0 1 call-c\n"  // far past max_sessions
                          "f 3:200 17 198.18.1.2 20002 198.18.100.10 6000 2 1\n"
                          "f 3:100 17 198.18.1.2 20000 198.18.100.10 6000 2 1\n"
                          "f 4000000000:7 17 198.18.1.2 20004 198.18.100.10 6000 2 1\n"
                          "f 3:300 17 198.18.1.2 20006 198.18.100.10 6000 2 1\n");  // no such session
    const SnapshotLoad load = read_snapshot(in, table);
    BOOST_TEST(load.error == "");
    BOOST_TEST(load.sessions == 3u);
    BOOST_TEST(load.flows == 3u);
    BOOST_TEST(load.orphan_flows == 1u);
    auto node_of = [&](uint16_t port) {
        const FlowEntry* f = table.find_flow(test::udp_key("198.18.1.2", port, "198.18.100.10", 6000));
        return f ? table.session(f->session).node : kNoNode;
    };
    BOOST_TEST(node_of(20000) == 1);
    BOOST_TEST(node_of(20002) == 2);
    BOOST_TEST(node_of(20004) == 3);
    std::istringstream twice("sara-snapshot 3\ns 3:100 0 0 1 0 1 x\ns 3:100 0 0 1 0 1 y\n");
    SessionTable other(limits, {30s}, clock);
    BOOST_TEST(read_snapshot(twice, other).error == "line 3: a second session with the tag 3:100");
}

BOOST_AUTO_TEST_SUITE_END()
