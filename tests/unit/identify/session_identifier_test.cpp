// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

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

BOOST_FIXTURE_TEST_CASE(a_newer_offer_from_the_same_client_port_takes_the_partial_flow_over, IdentifierFixture) {
    // Regression (found by `make demo`): calls A and B offer the same client RTP port 30000.
    // A's RTP completes A's partial; B's RTP happens to hit A's exact flow (same node port),
    // so B's partial is never consumed. Call C then offers port 30000 again: its partial must
    // replace B's stale one, or C's media (to another node's port) is taken for B's session
    // and sent to B's node.
    const SessionId a = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "a", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(client_udp(30000, 6300, "rtp").session == a);
    const SessionId b = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "b", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(client_udp(30000, 6300, "rtp").session == a);  // A's exact flow still matches first
    const SessionId c = client_udp(5070, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "c", "1 INVITE",
                                                          sdp_body(kClient, 30000)))
                            .session;
    BOOST_TEST(b != c);
    const FlowEntry* partial = table.find_flow(udp_key(kClient, 30000, kVip, 0));
    BOOST_REQUIRE(partial);
    BOOST_TEST(partial->session == c);
    BOOST_TEST(client_udp(30000, 6150, "rtp").session == c);
    // B took A's RTCP partial (30001, never used); C took B's RTP and RTCP partials: 1 + 2.
    BOOST_TEST(identifier.counters().partial_flows_superseded_total == 3u);
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

BOOST_AUTO_TEST_SUITE_END()
