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

BOOST_AUTO_TEST_SUITE_END()
