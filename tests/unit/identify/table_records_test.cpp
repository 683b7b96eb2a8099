// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "common/wire/sync_message.hpp"
#include "daemon/identify/table_records.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

struct Tables {
    ManualClock clock;
    SessionTable master{SessionTableLimits{}, {30s, 30s}, clock};
    SessionTable backup{SessionTableLimits{}, {30s, 30s}, clock};

    // The master's journal as the backup applies it (one HA sync tick).
    RecordsApplied sync() {
        std::string text;
        for (const std::string& b : journal_blocks(master, master.take_journal())) text += b;
        return apply_records(text, backup);
    }
};

const FlowKey kRtp = test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000);
const FlowKey kSip = test::udp_key("198.18.1.2", 5070, "198.18.100.10", 5060);

}  // namespace

BOOST_AUTO_TEST_SUITE(table_records)

BOOST_FIXTURE_TEST_CASE(the_journal_lists_each_change_once_and_only_while_enabled, Tables) {
    const SessionId before = master.create_session(ServiceProtocol::sip, "not-journaled", 1);
    (void)before;
    BOOST_TEST(master.take_journal().sessions.empty());
    master.enable_journal(true);
    const SessionId call = master.create_session(ServiceProtocol::sip, "call-1", 1);
    master.add_flow(kSip, call, FlowIdentity::signalling);
    master.touch_session(call);
    master.end_session(call);
    const TableJournal j = master.take_journal();
    BOOST_TEST(j.sessions.size() == 1u);
    BOOST_TEST(j.flows.size() == 1u);
    BOOST_TEST(master.take_journal().sessions.empty());  // taken: starts over
    master.touch_session(call);
    BOOST_TEST(master.take_journal().sessions.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(incremental_updates_build_the_same_session_on_the_backup, Tables) {
    master.enable_journal(true);
    const SessionId call = master.create_session(ServiceProtocol::sip, "call-1", 1);
    master.add_flow(kSip, call, FlowIdentity::signalling);
    BOOST_TEST(sync().sessions == 1u);
    master.session(call).node = 2;
    master.mark_changed(call);  // the pipeline does this when it assigns the node
    master.add_flow(kRtp, call, FlowIdentity::secondary);
    const RecordsApplied applied = sync();
    BOOST_TEST(applied.error == "");
    BOOST_TEST(backup.session_count() == 1u);  // upserted, not duplicated
    const FlowEntry* rtp = backup.find_flow(kRtp);
    BOOST_REQUIRE(rtp);
    BOOST_TEST(backup.session(rtp->session).node == 2);
    BOOST_TEST(backup.find_flow(kSip)->session == rtp->session);
    master.end_session(call);
    sync();
    BOOST_TEST((backup.session(rtp->session).state == SessionState::completed));
}

BOOST_FIXTURE_TEST_CASE(a_keyless_session_is_found_by_its_flow_and_learns_its_key, Tables) {
    master.enable_journal(true);
    const FlowKey control{test::ip("198.18.1.2"), test::ip("198.18.100.10"), 41000, 554, IpProto::tcp};
    const SessionId rtsp = master.create_session(ServiceProtocol::rtsp, "", 1);
    master.session(rtsp).node = 3;
    master.add_flow(control, rtsp, FlowIdentity::signalling);
    sync();
    // The packet that carries the Session header touches the control flow and keys the session.
    master.touch_flow(control, *master.find_flow(control));
    BOOST_TEST(master.assign_key(rtsp, "sess-9"));
    sync();
    BOOST_TEST(backup.session_count() == 1u);
    const SessionId b = backup.find_session(ServiceProtocol::rtsp, "sess-9");
    BOOST_REQUIRE(b != kNoSession);
    BOOST_TEST(backup.find_flow(control)->session == b);
    BOOST_TEST(backup.session(b).node == 3);
}

// Regression (issue 20): SIPp (and any proxy) sends every call from one socket, so a new
// call's block carries the signalling flow the previous call holds on the backup. It was found
// by that flow and overwrote the previous call (its node too); the new call was missing from
// the replica until the next snapshot, and a crash in between lost it.
BOOST_FIXTURE_TEST_CASE(calls_sharing_a_signalling_flow_stay_separate_sessions, Tables) {
    master.enable_journal(true);
    const SessionId a = master.create_session(ServiceProtocol::sip, "call-a", 1);
    master.add_flow(kSip, a, FlowIdentity::signalling);
    master.session(a).node = 1;
    sync();
    const SessionId b = master.create_session(ServiceProtocol::sip, "call-b", 1);
    master.move_flow(kSip, b);
    master.session(b).node = 2;
    master.mark_changed(b);
    sync();
    BOOST_TEST(backup.session_count() == 2u);
    const SessionId ba = backup.find_session(ServiceProtocol::sip, "call-a");
    const SessionId bb = backup.find_session(ServiceProtocol::sip, "call-b");
    BOOST_REQUIRE(ba != kNoSession);
    BOOST_REQUIRE(bb != kNoSession);
    BOOST_TEST(backup.session(ba).node == 1);
    BOOST_TEST(backup.session(bb).node == 2);
    BOOST_TEST(backup.find_flow(kSip)->session == bb);  // the flow went with the newest call
}

BOOST_FIXTURE_TEST_CASE(a_keyless_session_without_flows_is_not_created, Tables) {
    const RecordsApplied a = apply_records("S 1 0 3 1 0 -\n", backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(backup.session_count() == 0u);
}

BOOST_FIXTURE_TEST_CASE(snapshot_blocks_carry_every_flow, Tables) {
    const SessionId call = master.create_session(ServiceProtocol::sip, "call-1", 1);
    master.add_flow(kSip, call, FlowIdentity::signalling);
    master.add_flow(kRtp, call, FlowIdentity::secondary);
    master.create_session(ServiceProtocol::sip, "call-2", 1);
    const std::vector<std::string> blocks = session_blocks(master);
    BOOST_TEST(blocks.size() == 2u);
    std::string text;
    for (const std::string& b : blocks) text += b;
    const RecordsApplied a = apply_records(text, backup);
    BOOST_TEST(a.sessions == 2u);
    BOOST_TEST(a.flows == 2u);
    backup.clear();
    BOOST_TEST(backup.session_count() == 0u);
    BOOST_TEST(backup.flow_count() == 0u);
    BOOST_TEST(apply_records(text, backup).sessions == 2u);  // a cleared table takes it again
}

BOOST_FIXTURE_TEST_CASE(malformed_lines_name_their_number, Tables) {
    BOOST_TEST(apply_records("S 0 0 1 0 0 a\nF 17 x 1 198.18.100.10 2 2 1\n", backup).error == "line 2: malformed record");
    BOOST_TEST(apply_records("X\n", backup, 5).error == "line 5: malformed record");
    BOOST_TEST(apply_records("S 0 0 1 0 0\n", backup).error != "");   // missing key
    BOOST_TEST(apply_records("S 0 0 99999 0 0 k\n", backup).error != "");  // node out of range
    BOOST_TEST(backup.session_count() == 0u);
}

// ---------------------------------------------------------------------------------------------
// Hostile records: what a peer (or a damaged snapshot file) may send. Each is applied to a
// table with the default bounds unless a case says otherwise.

namespace {

const std::string kSipFlow = "F 17 198.18.1.2 5070 198.18.100.10 5060 0 1\n";

// An F line for the i-th RTP flow of the client.
std::string rtp_flow(unsigned i) {
    return "F 17 198.18.1.2 " + std::to_string(20000 + 2 * i) + " 198.18.100.10 " + std::to_string(6000 + 2 * i) +
           " 2 0\n";
}

std::string joined(const std::vector<std::string>& blocks) {
    std::string text;
    for (const std::string& b : blocks) text += b;
    return text;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_key_at_the_length_limit_is_taken_and_one_over_is_refused_quietly, Tables) {
    const std::string at_limit(SessionTableLimits{}.max_key_bytes, 'k');
    const std::string over = at_limit + "k";
    const RecordsApplied a = apply_records("S 0 0 1 0 0 " + at_limit + "\n" + kSipFlow, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.sessions == 1u);
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, at_limit) != kNoSession);

    // Not malformed (the table's bound, counted there): the block is skipped, its flow with it,
    // and the blocks after it are still applied.
    const RecordsApplied b = apply_records("S 0 0 1 0 0 " + over + "\n" + rtp_flow(0) + "S 0 0 1 0 0 after\n", backup);
    BOOST_TEST(b.error == "");
    BOOST_TEST(b.sessions == 1u);
    BOOST_TEST(b.flows == 0u);
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, over) == kNoSession);
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "after") != kNoSession);
    BOOST_TEST(!backup.find_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000)));
    BOOST_TEST(backup.counters().key_too_long_total == 1u);
    BOOST_TEST(backup.session_count() == 2u);
}

// A keyless replica that learns a key over the bound keeps its flows and stays keyless.
BOOST_FIXTURE_TEST_CASE(a_key_over_the_limit_is_not_assigned_to_a_session_found_by_its_flow, Tables) {
    BOOST_TEST(apply_records("S 0 0 1 0 0 -\n" + kSipFlow, backup).error == "");
    const std::string over(SessionTableLimits{}.max_key_bytes + 1, 'k');
    const RecordsApplied a = apply_records("S 0 0 4 0 1 " + over + "\n" + kSipFlow, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(backup.session_count() == 1u);
    const FlowEntry* f = backup.find_flow(kSip);
    BOOST_REQUIRE(f);
    BOOST_TEST(backup.session(f->session).key == "");
    BOOST_TEST(backup.session(f->session).node == 4);
    BOOST_TEST(backup.counters().key_too_long_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(the_17th_flow_of_a_session_is_refused_by_the_per_session_limit, Tables) {
    const uint16_t limit = SessionTableLimits{}.max_flows_per_session;
    BOOST_REQUIRE(limit == 16);
    std::string text = "S 0 0 1 0 0 call-17\n";
    for (unsigned i = 0; i <= limit; ++i) text += rtp_flow(i);
    const RecordsApplied a = apply_records(text, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.sessions == 1u);
    BOOST_TEST(a.flows == limit);
    BOOST_TEST(backup.flow_count() == limit);
    const SessionId id = backup.find_session(ServiceProtocol::sip, "call-17");
    BOOST_REQUIRE(id != kNoSession);
    BOOST_TEST(backup.session(id).flow_count == limit);
    BOOST_TEST(backup.counters().session_flow_limit_total == 1u);
    BOOST_TEST(!backup.find_flow(test::udp_key("198.18.1.2", 20000 + 2 * limit, "198.18.100.10", 6000 + 2 * limit)));
    // Sent again (the next update), the refused flow is refused again, the others upserted.
    BOOST_TEST(apply_records(text, backup).flows == limit);
    BOOST_TEST(backup.flow_count() == limit);
}

BOOST_FIXTURE_TEST_CASE(announced_flows_beyond_the_limit_are_refused, Tables) {
    const uint16_t limit = SessionTableLimits{}.max_announced_per_session;
    std::string text = "S 0 0 1 0 0 call-a\n";
    for (unsigned i = 0; i <= limit; ++i)
        text += "F 17 198.18.1.2 " + std::to_string(30000 + i) + " 198.18.100.10 " + std::to_string(7000 + i) + " 1 0\n";
    const RecordsApplied a = apply_records(text, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.flows == limit);
    BOOST_TEST(backup.counters().announced_limit_total == 1u);
}

// Node 0 is kNoNode: a session the master has not assigned yet. It replicates as such, and the
// node field takes the whole 16-bit range and nothing beyond it.
BOOST_FIXTURE_TEST_CASE(node_0_replicates_as_no_node, Tables) {
    BOOST_TEST(apply_records("S 0 0 0 0 0 unassigned\n" + kSipFlow + "S 0 0 65535 0 0 top\n", backup).error == "");
    const SessionId id = backup.find_session(ServiceProtocol::sip, "unassigned");
    BOOST_REQUIRE(id != kNoSession);
    BOOST_TEST(backup.session(id).node == kNoNode);
    BOOST_TEST(backup.session(backup.find_session(ServiceProtocol::sip, "top")).node == 65535);
    BOOST_TEST(apply_records("S 0 0 65536 0 0 over\n", backup).error == "line 1: malformed record");
    // The replica writes node 0 back out as it came in.
    const std::vector<std::string> blocks = session_blocks(backup);
    BOOST_TEST(joined(blocks).find("S 0 0 0 0 0 unassigned\n") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(ipv6_flows_are_applied_and_written_back_canonically, Tables) {
    const RecordsApplied a = apply_records(
        "S 0 0 2 0 1 call-6\n"
        "F 17 2001:db8::2 5070 2001:db8::a 5060 0 1\n"
        "F 17 2001:0db8:0000::0002 20000 2001:db8::a 6000 2 0\n",  // the long form of the same address
        backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.flows == 2u);
    const FlowEntry* sip = backup.find_flow(test::udp_key("2001:db8::2", 5070, "2001:db8::a", 5060));
    const FlowEntry* rtp = backup.find_flow(test::udp_key("2001:db8::2", 20000, "2001:db8::a", 6000));
    BOOST_REQUIRE(sip);
    BOOST_REQUIRE(rtp);
    BOOST_TEST(sip->session == rtp->session);
    BOOST_TEST((rtp->identity == FlowIdentity::secondary));
    const std::string text = joined(session_blocks(backup));
    BOOST_TEST(text.find("F 17 2001:db8::2 20000 2001:db8::a 6000 2 0\n") != std::string::npos);
    SessionTable again{SessionTableLimits{}, {30s, 30s}, clock};
    BOOST_TEST(apply_records(text, again).error == "");
    BOOST_TEST(again.flow_count() == 2u);
}

BOOST_FIXTURE_TEST_CASE(hostile_addresses_are_malformed, Tables) {
    const std::vector<std::string> lines = {
        "F 17 198.18.1.2 5070 2001:db8::a 5060 0 1",          // families differ
        "F 17 ::ffff:198.18.1.2 5070 198.18.100.10 5060 0 1",  // v4-mapped is IPv6
        "F 17 [2001:db8::2] 5070 [2001:db8::a] 5060 0 1",      // endpoint brackets
        "F 17 fe80::1%eth0 5070 fe80::2 5060 0 1",             // a scope id
        "F 17 198.18.1.256 5070 198.18.100.10 5060 0 1",
        "F 17 198.18.1 5070 198.18.100.10 5060 0 1",
        "F 17 198.18.1.2:5070 5070 198.18.100.10 5060 0 1",
        "F 17 unset 5070 198.18.100.10 5060 0 1",
        "F 1 198.18.1.2 5070 198.18.100.10 5060 0 1",  // ICMP
        "F 0 198.18.1.2 5070 198.18.100.10 5060 0 1",
        "F 17 198.18.1.2 65536 198.18.100.10 5060 0 1",
        "F 17 198.18.1.2 5070 198.18.100.10 -1 0 1",
        "F 17 198.18.1.2 5070 198.18.100.10 5060 3 1",
        "F 17 198.18.1.2 5070 198.18.100.10 5060 0 3",
        "F 17 198.18.1.2 5070 198.18.100.10 5060 0 1 extra",
        "F 17 198.18.1.2 5070 198.18.100.10 5060 0",
        "F\t17 198.18.1.2 5070 198.18.100.10 5060 0 1",
    };
    for (const std::string& line : lines) {
        BOOST_TEST_CONTEXT(line) {
            const RecordsApplied a = apply_records("S 0 0 1 0 0 call-x\n" + line + "\n", backup);
            BOOST_TEST(a.error == "line 2: malformed record");
            BOOST_TEST(a.sessions == 0u);  // the block with the bad line is not applied
        }
    }
    BOOST_TEST(backup.session_count() == 0u);
    BOOST_TEST(backup.flow_count() == 0u);
}

// inet_pton() reads up to a NUL; the field is the whole word, so a NUL inside it makes it
// something other than an address ("never trusts a field").
BOOST_FIXTURE_TEST_CASE(an_address_with_a_nul_inside_is_malformed, Tables) {
    const std::string line("F 17 198.18.1.2\0junk 5070 198.18.100.10 5060 0 1\n", 48);
    BOOST_REQUIRE(line.size() == 48u && line[15] == '\0');
    const RecordsApplied a = apply_records("S 0 0 1 0 0 call-nul\n" + line, backup);
    BOOST_TEST(a.error == "line 2: malformed record");
    BOOST_TEST(backup.flow_count() == 0u);
}

BOOST_FIXTURE_TEST_CASE(hostile_session_lines_are_malformed, Tables) {
    const std::vector<std::string> lines = {
        "S 3 0 1 0 0 k",        // protocol
        "S 0 3 1 0 0 k",        // state
        "S 0 0 1 256 0 k",      // service
        "S 0 0 1 0 2 k",        // confirmed
        "S +0 0 1 0 0 k",
        "S 0x0 0 1 0 0 k",
        "S 0 0 1 0 0 k extra",  // a space ends the key (one inside it is written %20)
        "S 0 0 1 0 0 k\tx",     // so is a tab: no field holds a control byte
        "S 0 0 1 0 0",
        "S",
        "S0 0 1 0 0 k",
        "s 0 0 1 0 0 k",
        "F 17 198.18.1.2 5070 198.18.100.10 5060 0 1",  // a flow before any session
        "# a comment",
    };
    for (const std::string& line : lines) {
        BOOST_TEST_CONTEXT(line) {
            BOOST_TEST(apply_records(line + "\n", backup).error == "line 1: malformed record");
        }
    }
    BOOST_TEST(backup.session_count() == 0u);
}

// Applying is an upsert: the record's session takes the flow from the session that held it.
BOOST_FIXTURE_TEST_CASE(a_record_moves_a_flow_to_its_session, Tables) {
    BOOST_TEST(apply_records("S 0 0 1 0 0 call-a\n" + kSipFlow + rtp_flow(0) + "S 0 0 2 0 0 call-b\n", backup).error ==
               "");
    const SessionId a = backup.find_session(ServiceProtocol::sip, "call-a");
    const SessionId b = backup.find_session(ServiceProtocol::sip, "call-b");
    BOOST_REQUIRE(a != kNoSession);
    BOOST_REQUIRE(b != kNoSession);
    const RecordsApplied moved = apply_records("S 0 0 2 0 0 call-b\n" + rtp_flow(0), backup);
    BOOST_TEST(moved.error == "");
    BOOST_TEST(moved.flows == 1u);
    const FlowEntry* rtp = backup.find_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000));
    BOOST_REQUIRE(rtp);
    BOOST_TEST(rtp->session == b);
    BOOST_TEST(backup.session(a).flow_count == 1u);
    BOOST_TEST(backup.session(b).flow_count == 1u);
    BOOST_TEST(backup.find_flow(kSip)->session == a);  // flows the record does not list stay put
    BOOST_TEST(backup.session_count() == 2u);
}

// An RTSP client reconnecting with its Session id: the keyless connection session it leaves
// is merged away, as move_flow() does on the master.
BOOST_FIXTURE_TEST_CASE(moving_the_last_flow_of_a_keyless_session_merges_it_away, Tables) {
    const std::string control = "F 6 198.18.1.2 41000 198.18.100.10 554 0 1\n";
    BOOST_TEST(apply_records("S 1 0 3 1 0 -\n" + control + "S 1 0 3 1 0 sess-9\n", backup).error == "");
    BOOST_TEST(backup.session_count() == 2u);
    BOOST_TEST(apply_records("S 1 0 3 1 0 sess-9\n" + control, backup).error == "");
    BOOST_TEST(backup.session_count() == 1u);
    BOOST_TEST(backup.counters().sessions_merged_total == 1u);
    const SessionId keyed = backup.find_session(ServiceProtocol::rtsp, "sess-9");
    BOOST_REQUIRE(keyed != kNoSession);
    BOOST_TEST(backup.find_flow(FlowKey{test::ip("198.18.1.2"), test::ip("198.18.100.10"), 41000, 554,
                                        IpProto::tcp})->session == keyed);
}

BOOST_FIXTURE_TEST_CASE(a_move_the_per_session_limit_refuses_leaves_the_flow_where_it_was, Tables) {
    const uint16_t limit = SessionTableLimits{}.max_flows_per_session;
    std::string full = "S 0 0 1 0 0 full\n";
    for (unsigned i = 0; i < limit; ++i) full += rtp_flow(i);
    BOOST_TEST(apply_records(full + "S 0 0 1 0 0 other\n" + kSipFlow, backup).error == "");
    BOOST_TEST(apply_records("S 0 0 1 0 0 full\n" + kSipFlow, backup).error == "");
    const SessionId other = backup.find_session(ServiceProtocol::sip, "other");
    BOOST_TEST(backup.find_flow(kSip)->session == other);
    BOOST_TEST(backup.session(backup.find_session(ServiceProtocol::sip, "full")).flow_count == limit);
    BOOST_TEST(backup.counters().session_flow_limit_total == 1u);
}

// The header: applying a block sets the session's fields and its flows'. An announced flow the
// master has seen a packet on is secondary there (touch_flow); the update that says so must
// make it secondary on the backup too, or the backup, once master, still counts it against the
// session's announced limit.
BOOST_FIXTURE_TEST_CASE(a_confirmed_announced_flow_is_secondary_on_the_backup_too, Tables) {
    master.enable_journal(true);
    const SessionId call = master.create_session(ServiceProtocol::sip, "call-1", 1);
    master.add_flow(kSip, call, FlowIdentity::signalling);
    master.add_flow(kRtp, call, FlowIdentity::announced);
    BOOST_TEST(sync().error == "");
    BOOST_REQUIRE(backup.find_flow(kRtp));
    BOOST_TEST((backup.find_flow(kRtp)->identity == FlowIdentity::announced));
    master.touch_flow(kRtp, *master.find_flow(kRtp));  // the first RTP packet
    BOOST_REQUIRE((master.find_flow(kRtp)->identity == FlowIdentity::secondary));
    BOOST_TEST(sync().error == "");
    BOOST_TEST((backup.find_flow(kRtp)->identity == FlowIdentity::secondary));
    BOOST_TEST(backup.session(backup.find_flow(kRtp)->session).announced_count == 0u);
}

// "A line may end in CRLF": a file that went through a text-mode transfer reads as written.
// Only the one "\r" before the "\n" is a line end; any other stays a control byte, which no
// field may hold, so it never reaches a key.
BOOST_FIXTURE_TEST_CASE(crlf_line_endings_read_as_lf, Tables) {
    const std::string lf = "S 0 0 2 0 1 call-1\n" + kSipFlow + "S 1 0 3 1 0 -\n" + rtp_flow(0);
    std::string crlf;
    for (const char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    const RecordsApplied a = apply_records(crlf, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.sessions == 2u);
    BOOST_TEST(a.flows == 2u);
    const SessionId call = backup.find_session(ServiceProtocol::sip, "call-1");
    BOOST_REQUIRE(call != kNoSession);
    BOOST_TEST(backup.find_flow(kSip)->session == call);
    BOOST_TEST(backup.session(backup.find_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000))->session).key ==
               "");  // "-\r" read as "-", not as a key

    BOOST_TEST(apply_records("S 0 0 2 0 1 call-2\r\r\n", backup).error == "line 1: malformed record");
    BOOST_TEST(apply_records("S 0 0 2 0 1 call\r2\n", backup).error == "line 1: malformed record");
    BOOST_TEST(apply_records("S 0 0 2 0 1 call-3\n" + kSipFlow.substr(0, kSipFlow.size() - 1) + "\r\r\n", backup).error ==
               "line 2: malformed record");
    BOOST_TEST(apply_records("S 0 0 2 0 1 call-4\r", backup).error == "");  // the last line, CR and no LF
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "call-4") != kNoSession);
    BOOST_TEST(backup.session_count() == 3u);
}

// Strict: an empty line is not a record. It is named, and the block it interrupts is not
// applied (the bad line belongs to it); blocks completed before it stay.
BOOST_FIXTURE_TEST_CASE(an_empty_line_is_malformed_and_named, Tables) {
    RecordsApplied a = apply_records("S 0 0 1 0 0 one\n" + kSipFlow + "\nS 0 0 1 0 0 two\n", backup);
    BOOST_TEST(a.error == "line 3: malformed record");
    BOOST_TEST(a.sessions == 0u);
    BOOST_TEST(backup.session_count() == 0u);

    a = apply_records("S 0 0 1 0 0 one\nS 0 0 1 0 0 two\n\n", backup);
    BOOST_TEST(a.error == "line 3: malformed record");
    BOOST_TEST(a.sessions == 1u);  // "one" was complete when "two" began
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "one") != kNoSession);
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "two") == kNoSession);

    BOOST_TEST(apply_records("\n", backup).error == "line 1: malformed record");
    BOOST_TEST(apply_records("", backup).error == "");  // no records at all is an empty update
}

BOOST_FIXTURE_TEST_CASE(a_last_line_without_newline_is_applied, Tables) {
    std::string text = "S 0 0 2 0 1 call-1\n" + kSipFlow;
    text.pop_back();
    const RecordsApplied a = apply_records(text, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.sessions == 1u);
    BOOST_TEST(a.flows == 1u);
    BOOST_TEST(backup.find_flow(kSip));
    BOOST_TEST(apply_records("S 0 0 2 0 1 call-2", backup).sessions == 1u);
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "call-2") != kNoSession);
    // Cut inside a field, the last line is malformed like any other.
    BOOST_TEST(apply_records("S 0 0 2 0 1 call-3\nF 17 198.18.1.2 50", backup).error == "line 2: malformed record");
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "call-3") == kNoSession);
}

BOOST_AUTO_TEST_CASE(the_table_bounds_hold_against_records) {
    ManualClock clock;
    SessionTable small{SessionTableLimits{.max_sessions = 2, .max_flows = 3}, {30s}, clock};
    std::string text;
    for (unsigned i = 0; i < 4; ++i)
        text += "S 0 0 1 0 0 call-" + std::to_string(i) + "\n" + rtp_flow(2 * i) + rtp_flow(2 * i + 1);
    const RecordsApplied a = apply_records(text, small);
    BOOST_TEST(a.error == "");
    BOOST_TEST(a.sessions == 2u);
    BOOST_TEST(small.session_count() == 2u);
    BOOST_TEST(small.flow_count() == 3u);
    BOOST_TEST(small.counters().sessions_table_full_total == 2u);
    BOOST_TEST(small.counters().flows_table_full_total == 1u);
}

// What the master's table holds must reach the backup: session_blocks() output is applied
// without an error and finds every session again under its own key. A key is whatever a
// parser accepted: parse_sip_message() trims a Call-ID but takes "a b", a folded "a\r\n b" and
// any byte; "-" is a valid Call-ID (an RFC 3261 word) and also the records' "no key".
BOOST_FIXTURE_TEST_CASE(every_key_the_table_takes_replicates_as_itself, Tables) {
    const std::vector<std::string> keys = {
        "-", "--", "%", "%41", "100%", "a b", "a\tb", "a\r\n b", std::string("nul\0in", 6), "\x7f", "\xc3\xa9t\xc3\xa9",
        "call-1@198.18.1.2", std::string(SessionTableLimits{}.max_key_bytes, ' '),  // 3 bytes each when written
    };
    for (const std::string& key : keys) master.create_session(ServiceProtocol::sip, key, 1);
    master.create_session(ServiceProtocol::rtsp, "-", 1);
    const std::string text = joined(session_blocks(master));
    const bool printable = std::all_of(text.begin(), text.end(), [](char c) { return c == '\n' || (c >= 0x20 && c < 0x7f); });
    BOOST_TEST(printable);  // lines of printable ASCII, whatever the keys hold
    const RecordsApplied a = apply_records(text, backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(backup.session_count() == keys.size() + 1);
    for (const std::string& key : keys) {
        BOOST_TEST_CONTEXT("key '" << key << "' (" << key.size() << " bytes)") {
            BOOST_TEST(backup.find_session(ServiceProtocol::sip, key) != kNoSession);
        }
    }
    BOOST_TEST(backup.find_session(ServiceProtocol::rtsp, "-") != kNoSession);
}

// One such session must not cost the backup every session written after it.
BOOST_FIXTURE_TEST_CASE(a_key_with_a_space_does_not_break_the_records_after_it, Tables) {
    master.create_session(ServiceProtocol::sip, "call-1", 1);
    master.create_session(ServiceProtocol::sip, "a b", 1);
    master.create_session(ServiceProtocol::sip, "call-3", 1);
    const RecordsApplied a = apply_records(joined(session_blocks(master)), backup);
    BOOST_TEST(a.error == "");
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, "call-3") != kNoSession);
    BOOST_TEST(backup.session_count() == 3u);
}

// The escape is read strictly: only what the writer writes (uppercase %XX, and only for the
// bytes it escapes) is a key; anything else is a malformed line, not a different key.
BOOST_FIXTURE_TEST_CASE(escaped_keys_are_read_strictly, Tables) {
    const std::vector<std::pair<std::string, std::string>> good = {
        {"%2D", "-"}, {"%25", "%"}, {"a%20b", "a b"}, {"%00", std::string(1, '\0')}, {"%C3%A9", "\xc3\xa9"}, {"-x", "-x"},
    };
    for (const auto& [field, key] : good) {
        BOOST_TEST_CONTEXT(field) {
            BOOST_TEST(apply_records("S 0 0 1 0 0 " + field + "\n", backup).error == "");
            BOOST_TEST(backup.find_session(ServiceProtocol::sip, key) != kNoSession);
        }
    }
    const std::vector<std::string> bad = {
        "%", "a%", "%2", "%zz", "%2d",  // cut, not hex, lowercase
        "%41",                          // 'A' is written as itself
        "%2D%2D",                       // "--" is written as itself: only a lone "-" is escaped
        "%2Dx",
        "a\x7f" "b",                    // a control byte in the field
        "\xc3\xa9",                     // non-ASCII unescaped
    };
    for (const std::string& field : bad) {
        BOOST_TEST_CONTEXT(field) {
            BOOST_TEST(apply_records("S 0 0 1 0 0 " + field + "\n", backup).error == "line 1: malformed record");
        }
    }
    BOOST_TEST(backup.session_count() == good.size());
}

// The limit is on the key, not on its escaped form: 256 spaces are 768 bytes of record.
BOOST_FIXTURE_TEST_CASE(the_key_limit_applies_to_the_key_not_its_escaped_form, Tables) {
    const size_t limit = SessionTableLimits{}.max_key_bytes;
    std::string at, over;
    for (size_t i = 0; i < limit; ++i) at += "%20";
    over = at + "%20";
    BOOST_TEST(apply_records("S 0 0 1 0 0 " + at + "\nS 0 0 1 0 0 " + over + "\n", backup).error == "");
    BOOST_TEST(backup.find_session(ServiceProtocol::sip, std::string(limit, ' ')) != kNoSession);
    BOOST_TEST(backup.session_count() == 1u);
    BOOST_TEST(backup.counters().key_too_long_total == 1u);
}

// state_sync sends each block in one datagram (at most kMaxSyncPayload bytes of records) and
// skips, counted, a block that does not fit: that session never reaches the backup. A session
// the table accepts must therefore fit: here an IPv6 call at the per-session flow limit with
// full-length addresses and a 40-byte Call-ID.
BOOST_FIXTURE_TEST_CASE(a_session_at_the_flow_limit_fits_one_sync_payload, Tables) {
    const IpAddress client = test::ip("2a02:1234:5678:9abc:def0:1234:5678:9abc");
    const IpAddress vip = test::ip("2a02:1234:5678:9abc:def0:1234:5678:abcd");
    const SessionId call = master.create_session(ServiceProtocol::sip, "a84b4c76e66710@pc33.atlanta.example.com", 1);
    for (uint16_t i = 0; i < SessionTableLimits{}.max_flows_per_session; ++i)
        BOOST_REQUIRE(master.add_flow(FlowKey{client, vip, uint16_t(50000 + i), uint16_t(60000 + i), IpProto::udp}, call,
                                      FlowIdentity::secondary));
    const std::vector<std::string> blocks = session_blocks(master);
    BOOST_REQUIRE(blocks.size() == 1u);
    BOOST_TEST(blocks[0].size() > wire::kMaxSyncPayload);  // 1668 bytes: split to travel
    const std::vector<std::string> parts = split_block(blocks[0], wire::kMaxSyncPayload);
    BOOST_TEST(parts.size() == 2u);
    for (const std::string& p : parts) {
        BOOST_TEST(p.size() <= wire::kMaxSyncPayload);
        BOOST_TEST(apply_records(p, backup).error == "");
    }
    BOOST_TEST(backup.session_count() == 1u);
    BOOST_TEST(backup.flow_count() == 16u);
}

BOOST_FIXTURE_TEST_CASE(a_split_keyless_session_stays_one_session, Tables) {
    const SessionId conn = master.create_session(ServiceProtocol::rtsp, "", 1);
    for (uint16_t i = 0; i < 16; ++i)
        master.add_flow(test::udp_key("198.18.1.2", uint16_t(50000 + i), "198.18.100.10", 554), conn,
                        FlowIdentity::secondary);
    const std::vector<std::string> parts = split_block(session_blocks(master)[0], 300);
    BOOST_TEST(parts.size() > 2u);
    for (const std::string& p : parts) BOOST_TEST(apply_records(p, backup).error == "");
    BOOST_TEST(backup.session_count() == 1u);
    BOOST_TEST(backup.flow_count() == 16u);
    BOOST_TEST(split_block("S 0 0 1 0 0 k\n", 300).size() == 1u);  // fits: as is
}

BOOST_AUTO_TEST_SUITE_END()
