// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "common/announce/outgoing_inspector.hpp"
#include "daemon/identify/session_identifier.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace std::chrono_literals;
using namespace sara::test;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

struct IdentifierFixture {
    ManualClock clock{std::chrono::seconds(1000)};
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    SessionIdentifier identifier{table, services, ip(kVip)};
    OutgoingInspector inspector{services, ip(kVip)};
    IdentifierFixture() { identifier.set_kernel_forgets(true); }

    Classification client_udp(uint16_t sport, uint16_t dport, std::string_view payload) {
        return identifier.classify(udp(kClient, sport, kVip, dport, payload));
    }
    // A node's message leaves the VIP towards the client; its announcements are applied.
    void node_udp(uint16_t sport, uint16_t dport, std::string_view payload) {
        std::vector<Announcement> out;
        inspector.inspect(udp(kVip, sport, kClient, dport, payload), out);
        for (const auto& a : out) identifier.apply(a);
    }
    const Session& session(std::string_view key, ServiceProtocol p = ServiceProtocol::sip) {
        const SessionId id = table.find_session(p, key);
        BOOST_REQUIRE(id != kNoSession);
        return table.session(id);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(session_identifier)

BOOST_FIXTURE_TEST_CASE(calls_sharing_one_udp_socket_are_separate_sessions, IdentifierFixture) {
    const std::string a = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "call-a", "1 INVITE");
    const std::string b = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "call-b", "1 INVITE");
    const Classification ca = client_udp(5070, 5060, a);
    const Classification cb = client_udp(5070, 5060, b);
    BOOST_TEST(ca.new_session);
    BOOST_TEST(cb.new_session);
    BOOST_TEST(ca.session != cb.session);
    BOOST_TEST(!ca.offload);  // signalling is never offloaded
    // A retransmission or the ACK finds its session, not a new one.
    const Classification again = client_udp(5070, 5060, sip_message("ACK sip:svc@198.18.100.10 SIP/2.0", "call-b", "1 ACK"));
    BOOST_TEST(!again.new_session);
    BOOST_TEST(again.session == cb.session);
    // The shared 5-tuple is not a flow of either session.
    BOOST_TEST(!table.find_flow(udp_key(kClient, 5070, kVip, 5060)));
}

BOOST_FIXTURE_TEST_CASE(offer_and_answer_predict_then_complete_media_flows, IdentifierFixture) {
    const std::string invite =
        sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "call-1", "1 INVITE", sdp_body(kClient, 20000));
    const SessionId id = client_udp(5070, 5060, invite).session;
    // Predicted: client address and port known, node's port not yet (partial).
    const FlowEntry* rtp_partial = table.find_flow(udp_key(kClient, 20000, kVip, 0));
    const FlowEntry* rtcp_partial = table.find_flow(udp_key(kClient, 20001, kVip, 0));
    BOOST_REQUIRE(rtp_partial);
    BOOST_REQUIRE(rtcp_partial);
    BOOST_TEST(rtp_partial->identity == FlowIdentity::announced);
    // The node answers with port 6000: the flows are completed, partials removed.
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "call-1", "1 INVITE", sdp_body(kVip, 6000)));
    BOOST_TEST(!table.find_flow(udp_key(kClient, 20000, kVip, 0)));
    BOOST_REQUIRE(table.find_flow(udp_key(kClient, 20000, kVip, 6000)));
    BOOST_REQUIRE(table.find_flow(udp_key(kClient, 20001, kVip, 6001)));
    // First RTP packet: secondary flow of the same session, offloadable.
    const Classification rtp = client_udp(20000, 6000, "rtp");
    BOOST_TEST(rtp.session == id);
    BOOST_TEST(!rtp.new_session);
    BOOST_TEST(rtp.offload);
    BOOST_TEST(rtp.identity == FlowIdentity::secondary);
    BOOST_TEST(identifier.counters().flows_completed_total == 2u);
}

// Dual stack (issue 18): a media flow's VIP is the one of its client's family, so IPv6
// signalling that offers IPv4 media (and the reverse) binds that media to the call.
BOOST_AUTO_TEST_CASE(offers_across_families_bind_media_to_the_vip_of_its_family) {
    constexpr const char* kVip6 = "2001:db8:100::10";
    constexpr const char* kClient6 = "2001:db8:1::2";
    ManualClock clock{std::chrono::seconds(1000)};
    const ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    VipSet vips(ip(kVip));
    vips.add(ip(kVip6));
    SessionIdentifier identifier{table, services, vips};

    // IPv6 signalling, IPv4 media.
    const std::string invite6 =
        sip_message("INVITE sip:svc@[2001:db8:100::10] SIP/2.0", "v6-call", "1 INVITE", sdp_body(kClient, 20000));
    const Classification c6 = identifier.classify(udp(kClient6, 5070, kVip6, 5060, invite6));
    BOOST_TEST(c6.new_session);
    BOOST_TEST(table.find_flow(udp_key(kClient, 20000, kVip, 0)));
    const Classification rtp4 = identifier.classify(udp(kClient, 20000, kVip, 6000, "rtp"));
    BOOST_TEST(rtp4.session == c6.session);
    BOOST_TEST(!rtp4.new_session);

    // IPv4 signalling, IPv6 media.
    const std::string invite4 =
        sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "v4-call", "1 INVITE", sdp_body(kClient6, 30000));
    const Classification c4 = identifier.classify(udp(kClient, 5070, kVip, 5060, invite4));
    BOOST_TEST(c4.new_session);
    BOOST_TEST(table.find_flow(udp_key(kClient6, 30000, kVip6, 0)));
    const Classification rtp6 = identifier.classify(udp(kClient6, 30000, kVip6, 6002, "rtp"));
    BOOST_TEST(rtp6.session == c4.session);
    BOOST_TEST(rtp6.identity == FlowIdentity::secondary);
}

BOOST_FIXTURE_TEST_CASE(partial_flow_matches_on_client_side_without_the_answer, IdentifierFixture) {
    // The gateway is silent: the first media packet completes the partial flow itself.
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "c", "1 INVITE",
                                                           sdp_body(kClient, 30000)))
                             .session;
    const Classification rtp = client_udp(30000, 6123, "rtp");
    BOOST_TEST(rtp.session == id);
    BOOST_TEST(!rtp.new_session);
    BOOST_TEST(rtp.identity == FlowIdentity::secondary);
    BOOST_TEST(table.find_flow(udp_key(kClient, 30000, kVip, 6123)));
    BOOST_TEST(!table.find_flow(udp_key(kClient, 30000, kVip, 0)));
}

BOOST_FIXTURE_TEST_CASE(a_newer_offer_from_the_same_client_port_takes_the_flows_over, IdentifierFixture) {
    // Regression (found by `make demo`, then issue 14): calls A, B and C offer the same client
    // RTP port 30000, as an IP phone does call after call. A's RTP completes A's partial. B's
    // RTP goes to the same node port as A's: the flow is the same 5-tuple, and B — the newest
    // negotiation of the port — takes it over (it used to stay A's, and B's media went to A's
    // node). C's offer then replaces B's stale RTCP partial, and C's media (to another node's
    // port) is C's.
    const SessionId a = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "a", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(client_udp(30000, 6300, "rtp").session == a);
    const SessionId b = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "b", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(client_udp(30000, 6300, "rtp").session == b);
    BOOST_TEST(identifier.counters().flows_taken_over_total == 1u);
    BOOST_TEST(!table.find_flow(udp_key(kClient, 30000, kVip, 0)));  // B's claim was used up
    BOOST_TEST(client_udp(30000, 6300, "rtp").session == b);         // and stays B's
    const SessionId c = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "c", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(b != c);
    const FlowEntry* partial = table.find_flow(udp_key(kClient, 30000, kVip, 0));
    BOOST_REQUIRE(partial);
    BOOST_TEST(partial->session == c);
    BOOST_TEST(client_udp(30000, 6150, "rtp").session == c);
    // B took A's RTCP partial (30001, never used); C took B's: 1 + 1.
    BOOST_TEST(identifier.counters().partial_flows_superseded_total == 2u);
}

BOOST_FIXTURE_TEST_CASE(completed_flows_are_reported_for_preinstallation, IdentifierFixture) {
    std::vector<std::pair<FlowKey, SessionId>> completed;
    identifier.set_on_flow_completed([&](const FlowKey& k, SessionId id) { completed.emplace_back(k, id); });
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "p", "1 INVITE",
                                                           sdp_body(kClient, 20000)))
                             .session;
    BOOST_TEST(completed.empty());  // the offer alone completes nothing
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "p", "1 INVITE", sdp_body(kVip, 6000)));
    // RTP 20000 -> 6000 and RTCP 20001 -> 6001, both of this session.
    BOOST_REQUIRE(completed.size() == 2u);
    BOOST_TEST((completed[0].first == udp_key(kClient, 20000, kVip, 6000)));
    BOOST_TEST((completed[1].first == udp_key(kClient, 20001, kVip, 6001)));
    BOOST_TEST(completed[0].second == id);
    // The first media packet of a flow the answer did not complete is not reported: it is
    // already in the queue.
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "q", "1 INVITE", sdp_body(kClient, 30000)));
    client_udp(30000, 6123, "rtp");
    BOOST_TEST(completed.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(reinvite_moving_media_adds_a_flow_to_the_same_session, IdentifierFixture) {
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "c", "1 INVITE",
                                                           sdp_body(kClient, 20000)))
                             .session;
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "c", "1 INVITE", sdp_body(kVip, 6000)));
    BOOST_TEST(client_udp(20000, 6000, "rtp").session == id);
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "c", "2 INVITE", sdp_body(kClient, 20002)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "c", "2 INVITE", sdp_body(kVip, 6000)));
    const Classification moved = client_udp(20002, 6000, "rtp");
    BOOST_TEST(moved.session == id);
    BOOST_TEST(!moved.new_session);
    BOOST_TEST(table.session(id).state == SessionState::active);  // 200 to a re-INVITE ends nothing
}

BOOST_FIXTURE_TEST_CASE(bye_and_final_error_complete_sessions, IdentifierFixture) {
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "hangup", "1 INVITE"));
    client_udp(5070, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", "hangup", "2 BYE"));
    BOOST_TEST(session("hangup").state == SessionState::completed);

    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "busy", "1 INVITE"));
    node_udp(5060, 5070, sip_message("SIP/2.0 486 Busy Here", "busy", "1 INVITE"));
    BOOST_TEST(session("busy").state == SessionState::completed);

    // A final error to a re-INVITE (491) leaves a confirmed call up.
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "glare", "1 INVITE", sdp_body(kClient, 20010)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "glare", "1 INVITE", sdp_body(kVip, 6010)));
    node_udp(5060, 5070, sip_message("SIP/2.0 491 Request Pending", "glare", "2 INVITE"));
    BOOST_TEST(session("glare").state == SessionState::active);

    node_udp(5060, 5070, sip_message("BYE sip:alice@198.18.1.2 SIP/2.0", "glare", "1 BYE"));
    BOOST_TEST(session("glare").state == SessionState::completed);
    BOOST_TEST(table.counters().sessions_completed_total == 3u);
}

BOOST_FIXTURE_TEST_CASE(bad_sip_datagrams_are_counted_not_sessions, IdentifierFixture) {
    struct Case {
        const char* description;
        std::string payload;
    };
    const Case cases[] = {
        {"garbage", "\x01\x02 not sip at all"},
        {"no Call-ID", "OPTIONS sip:svc@198.18.100.10 SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"},
        {"10 KiB Call-ID", sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", std::string(10240, 'x'), "1 INVITE")},
        {"truncated body", "INVITE sip:svc@198.18.100.10 SIP/2.0\r\nCall-ID: t\r\nContent-Length: 500\r\n\r\nv=0\r\n"},
        {"empty datagram", ""},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const Classification r = client_udp(5070, 5060, c.payload);
            BOOST_TEST(r.outcome == PacketOutcome::malformed);
            BOOST_TEST(r.session == kNoSession);
        }
    }
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(identifier.counters().sip_malformed_total == 4u);
    BOOST_TEST(identifier.counters().sip_without_call_id_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(sip_over_tcp_pins_the_connection_and_reassembles_messages, IdentifierFixture) {
    const DecodedPacket syn = tcp(kClient, 40000, kVip, 5060, tcp_flag::syn, 999);
    const Classification c0 = identifier.classify(syn);
    BOOST_TEST(c0.new_session);
    BOOST_TEST(!c0.offload);
    // The SYN's retransmission and the first ACK get the same session.
    BOOST_TEST(identifier.classify(syn).session == c0.session);
    BOOST_TEST(!identifier.classify(syn).new_session);
    BOOST_TEST(identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::ack, 1000)).session == c0.session);

    // Two calls: the first INVITE split over two segments, the second in the same segment
    // as the end of the first.
    const std::string first = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "tcp-1", "1 INVITE", sdp_body(kClient, 21000));
    const std::string second = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "tcp-2", "1 INVITE");
    const std::string part1 = first.substr(0, 100);
    const std::string part2 = first.substr(100) + second;
    const Classification c1 = identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::ack | tcp_flag::psh, 1000, part1));
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "tcp-1") == kNoSession);  // incomplete
    const Classification c2 = identifier.classify(
        tcp(kClient, 40000, kVip, 5060, tcp_flag::ack | tcp_flag::psh, 1000 + uint32_t(part1.size()), part2));
    BOOST_TEST(c1.session == c0.session);
    BOOST_TEST(c2.session == c0.session);
    BOOST_TEST(c2.carried_count == 2);
    const SessionId s1 = table.find_session(ServiceProtocol::sip, "tcp-1");
    const SessionId s2 = table.find_session(ServiceProtocol::sip, "tcp-2");
    BOOST_TEST(s1 == c0.session);  // the connection's session took the first Call-ID
    BOOST_REQUIRE(s2 != kNoSession);
    BOOST_TEST(s2 != s1);
    BOOST_TEST(table.find_flow(udp_key(kClient, 21000, kVip, 0)));  // media predicted
    // A retransmitted segment is not parsed twice.
    identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::ack | tcp_flag::psh, 1000, part1));
    BOOST_TEST(identifier.counters().sip_messages_total == 2u);
}

BOOST_FIXTURE_TEST_CASE(rtsp_setup_reply_and_teardown, IdentifierFixture) {
    const std::string setup =
        "SETUP rtsp://198.18.100.10:554/test/stream=0 RTSP/1.0\r\nCSeq: 3\r\n"
        "Transport: RTP/AVP/UDP;unicast;client_port=25000-25001\r\n\r\n";
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::syn, 0));
    const Classification c = identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::ack, 1, setup));
    BOOST_TEST(table.find_flow(udp_key(kClient, 25000, kVip, 0)));
    BOOST_TEST(table.find_flow(udp_key(kClient, 25001, kVip, 0)));
    // The reply (seen outgoing) sets the Session and the server ports; it omits client_port
    // here, so the SETUP matched by CSeq supplies it.
    const std::string reply =
        "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 8A7B6C5D;timeout=60\r\n"
        "Transport: RTP/AVP/UDP;unicast;server_port=7000-7001\r\n\r\n";
    std::vector<Announcement> out;
    inspector.inspect(tcp(kVip, 554, kClient, 41000, tcp_flag::syn | tcp_flag::ack, 50), out);
    inspector.inspect(tcp(kVip, 554, kClient, 41000, tcp_flag::ack, 51, reply), out);
    BOOST_REQUIRE(out.size() == 1u);
    identifier.apply(out[0]);
    const SessionId id = table.find_session(ServiceProtocol::rtsp, "8A7B6C5D");
    BOOST_TEST(id == c.session);
    BOOST_TEST(table.find_flow(udp_key(kClient, 25000, kVip, 7000)));
    BOOST_TEST(table.find_flow(udp_key(kClient, 25001, kVip, 7001)));
    // RTCP receiver reports to server_port + 1 land in the session.
    BOOST_TEST(client_udp(25001, 7001, "rtcp").session == id);

    // The client reconnects on a new connection with its Session id: same session.
    identifier.classify(tcp(kClient, 41001, kVip, 554, tcp_flag::syn, 0));
    const std::string teardown = "TEARDOWN rtsp://198.18.100.10:554/test RTSP/1.0\r\nCSeq: 9\r\nSession: 8A7B6C5D\r\n\r\n";
    const Classification t = identifier.classify(tcp(kClient, 41001, kVip, 554, tcp_flag::ack, 1, teardown));
    BOOST_TEST(t.session == id);
    BOOST_TEST(table.session(id).state == SessionState::completed);
    BOOST_TEST(table.counters().sessions_merged_total == 1u);
}

// test_ha_failover[bpf] (1 in 15 runs): an ffmpeg client's TCP port came back 40 s after its
// first connection, whose session had been torn down; the new connection joined that ended
// session, the expiry released its new partial flows at once, and the RTCP punch that came
// after a slice made a plain session on another node.
BOOST_FIXTURE_TEST_CASE(a_reused_client_port_gets_a_session_of_its_own, IdentifierFixture) {
    const auto setup = [](uint16_t rtp, int cseq) {
        return "SETUP rtsp://198.18.100.10:554/test/stream=0 RTSP/1.0\r\nCSeq: " + std::to_string(cseq) +
               "\r\nTransport: RTP/AVP/UDP;unicast;client_port=" + std::to_string(rtp) + "-" +
               std::to_string(rtp + 1) + "\r\n\r\n";
    };
    const Classification first = identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::syn, 0));
    identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::ack, 1, setup(21000, 1)));
    const std::string teardown = "TEARDOWN rtsp://198.18.100.10:554/test RTSP/1.0\r\nCSeq: 2\r\nSession: OLD\r\n\r\n";
    const std::string old_setup = setup(21000, 1);
    identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::ack, 1 + uint32_t(old_setup.size()), teardown));
    identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::fin | tcp_flag::ack, 1 + uint32_t(old_setup.size() + teardown.size())));
    BOOST_REQUIRE(table.session(first.session).state == SessionState::completed);

    clock.advance(std::chrono::seconds(40));  // the ended session's flows are still in the table
    const Classification again = identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::syn, 7000));
    BOOST_TEST(again.session != first.session);
    BOOST_TEST(again.new_session);
    BOOST_TEST(identifier.counters().tcp_connections_reused_total == 1u);
    identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::ack, 7001, setup(21044, 1)));
    const FlowEntry* rtcp = table.find_flow(udp_key(kClient, 21045, kVip, 0));
    BOOST_REQUIRE(rtcp);
    BOOST_TEST(rtcp->session == again.session);
    // An expiry round later the new session's partial flows are still there for the punches.
    table.purge();
    BOOST_TEST(table.find_flow(udp_key(kClient, 21045, kVip, 0)) != nullptr);
    BOOST_TEST(client_udp(21045, 32001, "rtcp").session == again.session);
    // A SYN retransmitted on the live connection keeps its session.
    BOOST_TEST(identifier.classify(tcp(kClient, 53354, kVip, 554, tcp_flag::syn, 7000)).session == again.session);
}

BOOST_FIXTURE_TEST_CASE(interleaved_rtsp_adds_no_udp_flow, IdentifierFixture) {
    const std::string setup =
        "SETUP rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n";
    identifier.classify(tcp(kClient, 42000, kVip, 554, tcp_flag::syn, 0));
    identifier.classify(tcp(kClient, 42000, kVip, 554, tcp_flag::ack, 1, setup));
    // An interleaved RTCP frame from the client, then a request: both parsed past.
    const std::string frame = std::string("$\x01\x00\x04", 4) + "abcd" +
                              "GET_PARAMETER rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 4\r\n\r\n";
    identifier.classify(tcp(kClient, 42000, kVip, 554, tcp_flag::ack, 1 + uint32_t(setup.size()), frame));
    BOOST_TEST(table.flow_count() == 1u);  // the control connection only
    BOOST_TEST(identifier.counters().rtsp_messages_total == 2u);
    BOOST_TEST(identifier.counters().rtsp_malformed_total == 0u);
}

BOOST_FIXTURE_TEST_CASE(unknown_flows_start_plain_sessions_and_are_offloaded, IdentifierFixture) {
    const Classification first = client_udp(33333, 9999, "x");
    BOOST_TEST(first.new_session);
    BOOST_TEST(first.offload);
    const Classification second = client_udp(33333, 9999, "y");
    BOOST_TEST(!second.new_session);
    BOOST_TEST(second.session == first.session);
    BOOST_TEST(table.session(first.session).protocol == ServiceProtocol::plain);
}

BOOST_FIXTURE_TEST_CASE(packets_without_ports_get_no_session, IdentifierFixture) {
    DecodedPacket icmp;
    icmp.src = ip(kClient);
    icmp.dst = ip(kVip);
    icmp.ip_proto = 1;
    const Classification c = identifier.classify(icmp);
    BOOST_TEST(c.outcome == PacketOutcome::no_ports);
    BOOST_TEST(table.session_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_table_refuses_new_sessions_but_keeps_old_ones) {
    ManualClock clock;
    const ServiceMap services = ServiceMap::defaults();
    SessionTable table(SessionTableLimits{.max_sessions = 2}, services.timeouts(), clock);
    SessionIdentifier identifier(table, services, ip(kVip));
    auto invite = [&](const char* id) {
        const std::string m = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", id, "1 INVITE");
        return identifier.classify(udp(kClient, 5070, kVip, 5060, m));
    };
    const Classification a = invite("a");
    invite("b");
    BOOST_TEST(invite("c").outcome == PacketOutcome::refused);
    BOOST_TEST(invite("a").session == a.session);  // established calls unaffected
    BOOST_TEST(identifier.counters().packets_refused_total == 1u);
    BOOST_TEST(table.counters().sessions_table_full_total == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(session_identifier_regressions)

// Regression: data carried on a SYN (TCP Fast Open) starts at the SYN's sequence number + 1;
// it used to be fed at the SYN's own number, and the next segment looked like a retransmission.
BOOST_AUTO_TEST_CASE(data_on_a_syn_is_reassembled_in_order) {
    ManualClock clock;
    const ServiceMap services = ServiceMap::defaults();
    SessionTable table(SessionTableLimits{}, services.timeouts(), clock);
    SessionIdentifier identifier(table, services, ip(kVip));
    const std::string invite = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "tfo", "1 INVITE");
    const std::string head = invite.substr(0, 40), tail = invite.substr(40);
    identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::syn, 1000, head));
    identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::ack, 1001 + uint32_t(head.size()), tail));
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "tfo") != kNoSession);
    BOOST_TEST(identifier.counters().stream_gaps_total == 0u);
}

// --- issue 14: flow ownership follows the newest negotiation ------------------------------

BOOST_FIXTURE_TEST_CASE(an_answer_hands_an_older_sessions_exact_flow_to_the_newest_call, IdentifierFixture) {
    // Call 1 from client port 20000 to node port 6000, ended; call 2 offers the same client
    // port and the next node answers the same media port: the 5-tuple is call 2's now, and
    // the kernel's conntrack entry (call 1's node mark) must be deleted.
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "one", "1 INVITE", sdp_body(kClient, 20000)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "one", "1 INVITE", sdp_body(kVip, 6000)));
    const FlowKey rtp = udp_key(kClient, 20000, kVip, 6000);
    BOOST_TEST(client_udp(20000, 6000, "rtp").session == table.find_session(ServiceProtocol::sip, "one"));
    (void)identifier.take_kernel_forgets();
    const SessionId two =
        client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "two", "1 INVITE", sdp_body(kClient, 20000)))
            .session;
    // The offer claims the client port: every conntrack entry from it is to be dropped.
    KernelForgets f = identifier.take_kernel_forgets();
    BOOST_TEST((f.endpoints == std::vector<FlowKey>{udp_key(kClient, 20000, kVip, 0), udp_key(kClient, 20001, kVip, 0)}));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "two", "1 INVITE", sdp_body(kVip, 6000)));
    BOOST_TEST(table.find_flow(rtp)->session == two);
    const FlowKey rtcp = udp_key(kClient, 20001, kVip, 6001);
    BOOST_TEST(table.find_flow(rtcp)->session == two);
    BOOST_TEST(identifier.counters().flows_taken_over_total == 2u);  // RTP and RTCP
    f = identifier.take_kernel_forgets();
    BOOST_TEST((f.flows == std::vector<FlowKey>{rtp, rtcp}));
    BOOST_TEST(client_udp(20000, 6000, "rtp").session == two);
    // A re-offer within the same call claims nothing from anyone.
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "two", "2 INVITE", sdp_body(kClient, 20000)));
    BOOST_TEST(table.find_flow(rtp)->session == two);
}

BOOST_FIXTURE_TEST_CASE(ended_calls_release_their_media_for_the_kernel_to_forget, IdentifierFixture) {
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "one", "1 INVITE", sdp_body(kClient, 20000)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "one", "1 INVITE", sdp_body(kVip, 6000)));
    client_udp(20000, 6000, "rtp");
    client_udp(5070, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", "one", "2 BYE"));
    (void)identifier.take_kernel_forgets();
    clock.advance(2s);
    identifier.purge();
    // RTP (it carried a packet) and RTCP (completed by the answer); the table walks in hash order.
    std::vector<FlowKey> flows = identifier.take_kernel_forgets().flows;
    std::sort(flows.begin(), flows.end(), [](const FlowKey& a, const FlowKey& b) { return a.src_port < b.src_port; });
    BOOST_TEST((flows == std::vector<FlowKey>{udp_key(kClient, 20000, kVip, 6000), udp_key(kClient, 20001, kVip, 6001)}));
    // The next call from the port is a new decision: no flow of the old call is left.
    BOOST_TEST(!table.find_flow(udp_key(kClient, 20000, kVip, 6000)));
}

BOOST_FIXTURE_TEST_CASE(nothing_is_kept_for_the_kernel_unless_asked, IdentifierFixture) {
    // Offline replay and raw mode have no conntrack: an offer must not pile up requests.
    identifier.set_kernel_forgets(false);
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "off", "1 INVITE", sdp_body(kClient, 20000)));
    BOOST_TEST(identifier.take_kernel_forgets().empty());
}

BOOST_FIXTURE_TEST_CASE(nat_media_from_the_signalling_address_latches_onto_its_call, IdentifierFixture) {
    // The client offers its private address; its NAT sends the media from the signalling's
    // (public) address and another port. Once the answer names the node's port, media from
    // that address, any port, to that port joins the call.
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "nat", "1 INVITE",
                                                           sdp_body("198.19.7.7", 30000)))
                             .session;
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "nat", "1 INVITE", sdp_body(kVip, 6200)));
    const Classification rtp = client_udp(61000, 6200, "rtp");
    BOOST_TEST(rtp.session == id);
    BOOST_TEST(!rtp.new_session);
    BOOST_TEST(identifier.counters().flows_latched_total == 1u);
    BOOST_TEST(client_udp(61000, 6200, "rtp").session == id);  // now its exact flow
    BOOST_TEST(client_udp(61001, 6201, "rtcp").session == id);
    // Another port of the node, or the same port from elsewhere, is not this call's.
    BOOST_TEST(client_udp(61002, 6300, "x").new_session);
    BOOST_TEST(identifier.classify(udp("198.18.1.3", 61000, kVip, 6200, "x")).new_session);
}

BOOST_FIXTURE_TEST_CASE(a_nat_calls_media_that_beat_its_answer_is_taken_over_by_the_latch, IdentifierFixture) {
    // Regression (test_session_integrity, 1 of 9 calls split): the client's first RTP packet
    // reached sarad before the gateway's announcement of the answer; it started a session of
    // its own (another node) and its conntrack mark kept the call's media there.
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "nat", "1 INVITE",
                                                           sdp_body("198.19.7.7", 30000)))
                             .session;
    const Classification early = client_udp(61000, 6200, "rtp");
    BOOST_TEST(early.new_session);
    (void)identifier.take_kernel_forgets();
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "nat", "1 INVITE", sdp_body(kVip, 6200)));
    const FlowKey rtp = udp_key(kClient, 61000, kVip, 6200);
    BOOST_TEST(table.find_flow(rtp)->session == id);
    BOOST_TEST(identifier.counters().flows_latched_total == 1u);
    BOOST_TEST((identifier.take_kernel_forgets().flows == std::vector<FlowKey>{rtp}));
    BOOST_TEST(!table.session(early.session).in_use);  // the stray session is gone
    // A call that answers much later (beyond the window) does not take strangers' flows.
    client_udp(61100, 6300, "x");
    clock.advance(6s);
    identifier.purge();
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "late", "1 INVITE", sdp_body("198.19.7.7", 30002)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "late", "1 INVITE", sdp_body(kVip, 6300)));
    BOOST_TEST(table.find_flow(udp_key(kClient, 61100, kVip, 6300))->session != table.find_session(ServiceProtocol::sip, "late"));
}

BOOST_FIXTURE_TEST_CASE(a_symmetric_client_gets_no_latch, IdentifierFixture) {
    client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "sym", "1 INVITE", sdp_body(kClient, 30000)));
    node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", "sym", "1 INVITE", sdp_body(kVip, 6200)));
    BOOST_TEST(client_udp(61000, 6200, "rtp").new_session);
    BOOST_TEST(identifier.counters().flows_latched_total == 0u);
}

BOOST_FIXTURE_TEST_CASE(ports_zero_never_hit_partial_flows_or_latches, IdentifierFixture) {
    const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "z", "1 INVITE",
                                                           sdp_body(kClient, 30000)))
                             .session;
    // A hostile packet to VIP port 0 from the offered port is not the call's media.
    BOOST_TEST(client_udp(30000, 0, "x").session != id);
    BOOST_TEST(table.find_flow(udp_key(kClient, 30000, kVip, 0))->session == id);
}

BOOST_FIXTURE_TEST_CASE(media_in_a_node_range_keeps_no_flow_and_a_stray_answer_is_reported, IdentifierFixture) {
    identifier.set_media_ports(MediaPortMap({{{20000, 20999}, 1}, {{21000, 21999}, 2}}));
    std::vector<std::pair<NodeId, uint16_t>> reported;
    identifier.set_on_media_port_outside_range([&](NodeId n, uint16_t p) { reported.emplace_back(n, p); });
    for (const char* call : {"r1", "r2"}) {
        const SessionId id = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call, "1 INVITE",
                                                               sdp_body(kClient, 30000)))
                                 .session;
        table.session(id).node = 1;
        // Node 1 answers from node 2's range: a misconfigured media server.
        node_udp(5060, 5070, sip_message("SIP/2.0 200 OK", call, "1 INVITE", sdp_body(kVip, 21500)));
    }
    BOOST_TEST(table.flow_count() == 0u);  // no exact and no partial flow for ranged media
    BOOST_TEST(identifier.counters().ranged_media_flows_skipped_total == 4u);
    BOOST_TEST(identifier.counters().media_port_outside_range_total == 4u);
    BOOST_TEST((reported == std::vector<std::pair<NodeId, uint16_t>>{{1, 21500}}));  // once per node
}

BOOST_FIXTURE_TEST_CASE(an_rtsp_reconnect_follows_its_sessions_node, IdentifierFixture) {
    // The client SETUPs on one connection and closes it without a TEARDOWN; its next
    // connection (a SYN: no Session header yet) gets the session's node.
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::syn, 0));
    const std::string setup = "SETUP rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 3\r\nSession: S1\r\n"
                              "Transport: RTP/AVP;unicast;client_port=25000-25001\r\n\r\n";
    const Classification c = identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::ack, 1, setup));
    table.session(c.session).node = 3;
    // Other clients' connections from the same address, open or new, are not reconnects.
    BOOST_TEST(identifier.classify(tcp(kClient, 41001, kVip, 554, tcp_flag::syn, 0)).affinity_node == kNoNode);
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::fin | tcp_flag::ack, 1 + uint32_t(setup.size())));
    clock.advance(10s);
    const Classification again = identifier.classify(tcp(kClient, 41002, kVip, 554, tcp_flag::syn, 0));
    BOOST_TEST(again.new_session);
    BOOST_TEST(again.affinity_node == 3);
    BOOST_TEST(identifier.counters().rtsp_affinity_total == 1u);
    // Used up: the next new connection is scheduled afresh; another address never matched.
    BOOST_TEST(identifier.classify(tcp(kClient, 41003, kVip, 554, tcp_flag::syn, 0)).affinity_node == kNoNode);
    BOOST_TEST(identifier.classify(tcp("198.18.1.3", 41004, kVip, 554, tcp_flag::syn, 0)).affinity_node == kNoNode);
}

BOOST_FIXTURE_TEST_CASE(an_rtsp_orphan_waits_only_for_the_affinity_window, IdentifierFixture) {
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::syn, 0));
    const std::string setup = "SETUP rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 3\r\nSession: S1\r\n\r\n";
    const Classification c = identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::ack, 1, setup));
    table.session(c.session).node = 3;
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::rst, 1 + uint32_t(setup.size())));
    clock.advance(31s);
    identifier.purge();
    BOOST_TEST(identifier.classify(tcp(kClient, 41001, kVip, 554, tcp_flag::syn, 0)).affinity_node == kNoNode);
}

BOOST_FIXTURE_TEST_CASE(a_torn_down_rtsp_session_gives_no_affinity, IdentifierFixture) {
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::syn, 0));
    const std::string setup = "SETUP rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 3\r\nSession: S1\r\n\r\n";
    const std::string teardown = "TEARDOWN rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 4\r\nSession: S1\r\n\r\n";
    const Classification c = identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::ack, 1, setup));
    table.session(c.session).node = 3;
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::ack, 1 + uint32_t(setup.size()), teardown));
    identifier.classify(tcp(kClient, 41000, kVip, 554, tcp_flag::fin | tcp_flag::ack,
                            1 + uint32_t(setup.size() + teardown.size())));
    BOOST_TEST(identifier.classify(tcp(kClient, 41001, kVip, 554, tcp_flag::syn, 0)).affinity_node == kNoNode);
}

BOOST_AUTO_TEST_SUITE_END()
