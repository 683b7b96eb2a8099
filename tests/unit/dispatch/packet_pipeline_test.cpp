// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <set>

#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/schedule/round_robin.hpp"
#include "daemon/forward/marks.hpp"
#include "tests/unit/support/ip_builder.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace sara::test;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

NodeEntry node(NodeId id, bool available = true) {
    NodeEntry n;
    n.id = id;
    n.name = "node" + std::to_string(id);
    n.available = available;
    return n;
}

class RejectAll final : public AdmissionControl {
public:
    bool admit_new_session() override { return false; }
};

struct PipelineFixture {
    ManualClock clock;
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    SessionIdentifier identifier{table, services, ip(kVip)};
    AdmitAll admit_all;
    LeastSessionsScheduler scheduler;
    PacketPipeline pipeline{identifier, admit_all, scheduler,
                            {node(1), node(2), node(3)},
                            ip(kVip)};

    PipelineDecision invite(const std::string& call_id, uint16_t media_port) {
        const std::string m = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE",
                                          sdp_body(kClient, media_port));
        return pipeline.decide(udp_packet(kClient, 5070, kVip, 5060, m));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_pipeline)

BOOST_FIXTURE_TEST_CASE(signalling_is_marked_no_save_and_media_is_offloaded_to_the_same_node, PipelineFixture) {
    const PipelineDecision sig = invite("call-1", 20000);
    BOOST_REQUIRE(sig.node != kNoNode);
    BOOST_TEST((sig.verdict.kind == Verdict::Kind::accept));
    BOOST_TEST(sig.verdict.set_mark);
    BOOST_TEST(sig.verdict.mark == (uint32_t(sig.node) | kMarkNoSave));
    const PipelineDecision rtp = pipeline.decide(udp_packet(kClient, 20000, kVip, 6000, "rtp"));
    BOOST_TEST(rtp.node == sig.node);
    BOOST_TEST(rtp.verdict.mark == uint32_t(sig.node));  // no kMarkNoSave: conntrack saves it
    BOOST_TEST(pipeline.counters().pipeline_sessions_assigned_total == 1u);
    // HA: only the packet that gave the session its node is a new binding (its verdict is
    // held until the backup has it); the retransmission and the media are not.
    BOOST_TEST(sig.new_binding);
    BOOST_TEST(!rtp.new_binding);
    BOOST_TEST(!invite("call-1", 20000).new_binding);
}

BOOST_FIXTURE_TEST_CASE(calls_on_one_socket_spread_over_all_nodes, PipelineFixture) {
    std::set<NodeId> used;
    for (int i = 0; i < 6; ++i) used.insert(invite("c" + std::to_string(i), uint16_t(20000 + 2 * i)).node);
    BOOST_TEST(used.size() == 3u);
    for (NodeId id : {1, 2, 3}) BOOST_TEST(pipeline.node_sessions(NodeId(id)) == 2u);
}

BOOST_FIXTURE_TEST_CASE(tcp_syn_retransmission_and_first_ack_get_the_same_node, PipelineFixture) {
    const auto syn = tcp_packet(kClient, 40000, kVip, 554, tcp_flag::syn, 100);
    const PipelineDecision first = pipeline.decide(syn);
    BOOST_TEST(pipeline.decide(syn).node == first.node);
    BOOST_TEST(pipeline.decide(tcp_packet(kClient, 40000, kVip, 554, tcp_flag::ack, 101)).node == first.node);
    BOOST_TEST(first.verdict.mark == (uint32_t(first.node) | kMarkNoSave));
}

BOOST_FIXTURE_TEST_CASE(bad_packets_get_the_drop_policy_and_are_counted, PipelineFixture) {
    struct Case {
        const char* description;
        std::vector<uint8_t> packet;
        uint64_t PipelineCounters::*counter;
    };
    const Case cases[] = {
        {"truncated IP header", {0x45, 0x00, 0x00}, &PipelineCounters::pipeline_decode_errors_total},
        {"garbage SIP datagram", udp_packet(kClient, 5070, kVip, 5060, "\x7f garbage"),
         &PipelineCounters::pipeline_malformed_dropped_total},
        {"ICMP to the VIP", ipv4_packet(kClient, kVip, 1, {3, 3, 0, 0, 0, 0, 0, 0}),
         &PipelineCounters::pipeline_no_ports_dropped_total},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const uint64_t before = pipeline.counters().*c.counter;
            const PipelineDecision d = pipeline.decide(c.packet);
            BOOST_TEST((d.verdict.kind == Verdict::Kind::drop));
            BOOST_TEST((pipeline.counters().*c.counter) == before + 1);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(packets_not_for_the_vip_pass_unmarked, PipelineFixture) {
    const PipelineDecision d = pipeline.decide(udp_packet(kClient, 1000, "198.18.1.1", 53, "x"));
    BOOST_TEST((d.verdict.kind == Verdict::Kind::accept));
    BOOST_TEST(!d.verdict.set_mark);
}

BOOST_AUTO_TEST_CASE(rejected_and_unplaceable_sessions_are_dropped_and_retried) {
    ManualClock clock;
    ServiceMap services = ServiceMap::defaults();
    SessionTable table(SessionTableLimits{}, services.timeouts(), clock);
    SessionIdentifier identifier(table, services, ip(kVip));
    RejectAll reject;
    LeastSessionsScheduler scheduler;
    PacketPipeline pipeline(identifier, reject, scheduler, {node(1)}, ip(kVip));
    const auto packet = udp_packet(kClient, 5070, kVip, 5060, sip_message("INVITE sip:s@198.18.100.10 SIP/2.0", "x", "1 INVITE"));
    const PipelineDecision refused = pipeline.decide(packet);
    BOOST_TEST((refused.verdict.kind == Verdict::Kind::drop));
    BOOST_TEST(refused.refused);  // the caller answers it (503 / RST)
    BOOST_TEST((pipeline.decide(packet).verdict.kind == Verdict::Kind::drop));  // retransmission: decided again
    BOOST_TEST(pipeline.counters().pipeline_admission_rejected_total == 2u);

    AdmitAll admit;
    PacketPipeline no_nodes(identifier, admit, scheduler, {node(1, false)}, ip(kVip));
    const PipelineDecision no_node = no_nodes.decide(packet);
    BOOST_TEST((no_node.verdict.kind == Verdict::Kind::drop));
    BOOST_TEST(!no_node.refused);  // no node is not a refusal: nothing is sent back
    BOOST_TEST(no_nodes.counters().pipeline_no_node_total == 1u);
}

namespace {
// Admits every new session and drops every queued packet of an established one (SA2C above t3).
class DegradeAll final : public AdmissionControl {
public:
    bool admit_new_session() override { return true; }
    bool drop_established_packet() override { return true; }
};
}  // namespace

BOOST_FIXTURE_TEST_CASE(degradation_drops_queued_packets_of_established_sessions_only, PipelineFixture) {
    DegradeAll degrade;
    PacketPipeline degrading(identifier, degrade, scheduler, {node(1)}, ip(kVip));
    const auto invite = udp_packet(kClient, 5070, kVip, 5060, sip_message("INVITE sip:s@198.18.100.10 SIP/2.0", "d", "1 INVITE"));
    const PipelineDecision first = degrading.decide(invite);
    BOOST_TEST(first.node == 1);  // the new session is admitted
    const PipelineDecision again = degrading.decide(invite);
    BOOST_TEST((again.verdict.kind == Verdict::Kind::drop));  // now established: degraded
    BOOST_TEST(!again.refused);
    BOOST_TEST(degrading.counters().pipeline_degraded_dropped_total == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(packet_pipeline_health)

BOOST_FIXTURE_TEST_CASE(an_unavailable_node_gets_no_new_sessions_but_keeps_its_own, PipelineFixture) {
    const PipelineDecision first = invite("kept", 20000);
    BOOST_REQUIRE(first.node != kNoNode);
    pipeline.set_available(first.node, false);
    for (int i = 0; i < 6; ++i) BOOST_TEST(invite("new" + std::to_string(i), uint16_t(21000 + 2 * i)).node != first.node);
    // The established session still goes to its node (a drain lets calls finish).
    BOOST_TEST(pipeline.decide(udp_packet(kClient, 20000, kVip, 6000, "rtp")).node == first.node);
    pipeline.set_available(first.node, true);
    std::set<NodeId> used;
    for (int i = 0; i < 3; ++i) used.insert(invite("back" + std::to_string(i), uint16_t(22000 + 2 * i)).node);
    BOOST_TEST(used.count(first.node) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(packet_pipeline_reload)

BOOST_FIXTURE_TEST_CASE(new_node_lists_keep_established_sessions_on_their_node, PipelineFixture) {
    const PipelineDecision first = invite("kept", 20000);
    BOOST_REQUIRE(first.node != kNoNode);
    // The node leaves scheduling (a reload removed it; it retires once idle): its session stays.
    std::vector<NodeEntry> next{node(4)};
    NodeEntry leaving = node(first.node, false);
    next.push_back(leaving);
    pipeline.set_nodes(next);
    BOOST_TEST(pipeline.node_sessions(first.node) == 1u);  // recounted from the table
    BOOST_TEST(pipeline.decide(udp_packet(kClient, 20000, kVip, 6000, "rtp")).node == first.node);
    for (int i = 0; i < 3; ++i) BOOST_TEST(invite("new" + std::to_string(i), uint16_t(21000 + 2 * i)).node == 4);
    BOOST_TEST(pipeline.node(1 + (first.node % 3)) == nullptr);  // another old node is gone
}

BOOST_FIXTURE_TEST_CASE(a_new_scheduler_takes_over, PipelineFixture) {
    RoundRobinScheduler rr;
    pipeline.set_scheduler(rr);
    std::vector<NodeId> picks;
    for (int i = 0; i < 3; ++i) picks.push_back(invite("rr" + std::to_string(i), uint16_t(23000 + 2 * i)).node);
    BOOST_TEST((std::set<NodeId>(picks.begin(), picks.end()).size() == 3u));
}

BOOST_FIXTURE_TEST_CASE(media_to_a_node_range_goes_to_that_node_without_state, PipelineFixture) {
    // Raw mode queues every packet: a ranged port decides the node whatever the source.
    identifier.set_media_ports(MediaPortMap({{{20000, 20999}, 2}}));
    const PipelineDecision d = pipeline.decide(udp_packet("198.19.0.9", 3333, kVip, 20500, "rtp"));
    BOOST_TEST(d.node == 2);
    BOOST_TEST(d.verdict.mark == 2u);
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(table.flow_count() == 0u);
    BOOST_TEST(pipeline.counters().pipeline_ranged_media_total == 1u);
    // Out of the range, and TCP to a ranged port, go through the session table as before.
    BOOST_TEST(pipeline.decide(udp_packet(kClient, 3333, kVip, 21000, "x")).node != kNoNode);
    pipeline.decide(tcp_packet(kClient, 40000, kVip, 20500, tcp_flag::syn, 1));
    BOOST_TEST(table.session_count() == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_rtsp_reconnect_keeps_its_node_while_the_node_may_take_it, PipelineFixture) {
    const std::string setup = "SETUP rtsp://198.18.100.10/test RTSP/1.0\r\nCSeq: 3\r\nSession: S1\r\n\r\n";
    auto connect_and_drop = [&](uint16_t port) {
        const PipelineDecision syn = pipeline.decide(tcp_packet(kClient, port, kVip, 554, tcp_flag::syn, 100));
        pipeline.decide(tcp_packet(kClient, port, kVip, 554, tcp_flag::ack, 101, setup));
        pipeline.decide(tcp_packet(kClient, port, kVip, 554, tcp_flag::fin | tcp_flag::ack,
                                   101 + uint32_t(setup.size())));
        return syn.node;
    };
    const NodeId first = connect_and_drop(40000);
    BOOST_REQUIRE(first != kNoNode);
    // Least-sessions would pick another node for a new session; each reconnect follows its own.
    for (uint16_t port : {41000, 41001, 41002}) BOOST_TEST(connect_and_drop(port) == first);
    BOOST_TEST(pipeline.counters().pipeline_affinity_assigned_total == 3u);
    // A node that went down takes no reconnect: it is scheduled afresh.
    pipeline.set_available(first, false);
    const PipelineDecision moved = pipeline.decide(tcp_packet(kClient, 42000, kVip, 554, tcp_flag::syn, 100));
    BOOST_TEST(moved.node != first);
    BOOST_TEST(moved.node != kNoNode);
}

BOOST_AUTO_TEST_SUITE_END()
