// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <optional>
#include <set>

#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/dispatch/sip_reject.hpp"
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

    PacketAction invite(const std::string& call_id, uint16_t media_port) {
        const std::string m = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE",
                                          sdp_body(kClient, media_port));
        return pipeline.decide(udp_packet(kClient, 5070, kVip, 5060, m));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_pipeline)

BOOST_FIXTURE_TEST_CASE(signalling_is_marked_no_save_and_media_is_offloaded_to_the_same_node, PipelineFixture) {
    const PacketAction sig = invite("call-1", 20000);
    BOOST_REQUIRE(sig.node != kNoNode);
    BOOST_TEST((sig.verdict.kind == Verdict::Kind::accept));
    BOOST_TEST(sig.verdict.set_mark);
    BOOST_TEST(sig.verdict.mark == (uint32_t(sig.node) | kMarkNoSave));
    const PacketAction rtp = pipeline.decide(udp_packet(kClient, 20000, kVip, 6000, "rtp"));
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
    const PacketAction first = pipeline.decide(syn);
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
            const PacketAction d = pipeline.decide(c.packet);
            BOOST_TEST((d.verdict.kind == Verdict::Kind::drop));
            BOOST_TEST((pipeline.counters().*c.counter) == before + 1);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(packets_not_for_the_vip_pass_unmarked, PipelineFixture) {
    const PacketAction d = pipeline.decide(udp_packet(kClient, 1000, "198.18.1.1", 53, "x"));
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
    const PacketAction refused = pipeline.decide(packet);
    BOOST_TEST((refused.verdict.kind == Verdict::Kind::drop));
    BOOST_TEST(refused.refusal.has_value());  // the queue thread answers it (503 / RST)
    BOOST_TEST((pipeline.decide(packet).verdict.kind == Verdict::Kind::drop));  // retransmission: decided again
    BOOST_TEST(pipeline.counters().pipeline_admission_rejected_total == 2u);

    AdmitAll admit;
    PacketPipeline no_nodes(identifier, admit, scheduler, {node(1, false)}, ip(kVip));
    const PacketAction no_node = no_nodes.decide(packet);
    BOOST_TEST((no_node.verdict.kind == Verdict::Kind::drop));
    BOOST_TEST(!no_node.refusal);  // no node is not a refusal: nothing is sent back
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
    const PacketAction first = degrading.decide(invite);
    BOOST_TEST(first.node == 1);  // the new session is admitted
    const PacketAction again = degrading.decide(invite);
    BOOST_TEST((again.verdict.kind == Verdict::Kind::drop));  // now established: degraded
    BOOST_TEST(!again.refusal);
    BOOST_TEST(degrading.counters().pipeline_degraded_dropped_total == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(packet_pipeline_health)

BOOST_FIXTURE_TEST_CASE(an_unavailable_node_gets_no_new_sessions_but_keeps_its_own, PipelineFixture) {
    const PacketAction first = invite("kept", 20000);
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
    const PacketAction first = invite("kept", 20000);
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
    const PacketAction d = pipeline.decide(udp_packet("198.19.0.9", 3333, kVip, 20500, "rtp"));
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
        const PacketAction syn = pipeline.decide(tcp_packet(kClient, port, kVip, 554, tcp_flag::syn, 100));
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
    const PacketAction moved = pipeline.decide(tcp_packet(kClient, 42000, kVip, 554, tcp_flag::syn, 100));
    BOOST_TEST(moved.node != first);
    BOOST_TEST(moved.node != kNoNode);
}

BOOST_AUTO_TEST_SUITE_END()

// The whole action the queue thread carries out (packet_action.hpp), one case per kind of
// packet: each case runs on a fresh table, after the packets in `before`.
BOOST_AUTO_TEST_SUITE(packet_action)

namespace {

enum class Expect : uint8_t {
    drop,
    signalling,  // accepted with the node's mark | kMarkNoSave (never saved to conntrack)
    data,        // accepted with the node's mark alone (conntrack saves it: offload)
};

struct ActionCase {
    const char* description = "";
    bool admit = true;       // false: admission control refuses every new session
    bool raw_mode = false;
    std::vector<std::vector<uint8_t>> before{};  // decided first (an established session)
    std::vector<uint8_t> packet{};
    Expect verdict = Expect::drop;
    bool to_node = false;    // PacketAction::node set
    bool new_binding = false;
    std::optional<RefusalAnswer> refusal{};  // set: the action refuses with this answer
    uint64_t PipelineCounters::*counter = nullptr;  // one more after the packet
};

// The fixture's table and identifier, with a pipeline set up as the case says.
struct ActionRig : PipelineFixture {
    explicit ActionRig(const ActionCase& c)
        : under_test(identifier, c.admit ? static_cast<AdmissionControl&>(admit_all) : reject_all, scheduler,
                     {node(1), node(2)}, ip(kVip)) {
        under_test.set_raw_mode(c.raw_mode);
    }
    RejectAll reject_all;
    PacketPipeline under_test;
};

std::vector<uint8_t> invite_packet(const std::string& call_id) {
    return udp_packet(kClient, 5070, kVip, 5060,
                      sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE", sdp_body(kClient, 20000)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_kind_of_packet_gets_its_whole_action) {
    const auto rtp = udp_packet(kClient, 20000, kVip, 6000, "rtp");
    const auto syn = tcp_packet(kClient, 40000, kVip, 554, tcp_flag::syn, 100);
    const ActionCase cases[] = {
        {.description = "admitted new SIP session: its node, never saved, a new binding",
         .packet = invite_packet("a"), .verdict = Expect::signalling, .to_node = true, .new_binding = true,
         .counter = &PipelineCounters::pipeline_sessions_assigned_total},
        {.description = "established media flow: offloaded to the session's node",
         .before = {invite_packet("a")}, .packet = rtp, .verdict = Expect::data, .to_node = true,
         .counter = &PipelineCounters::pipeline_data_verdicts_total},
        {.description = "signalling of an established session: its node, not a new binding",
         .before = {invite_packet("a")}, .packet = invite_packet("a"), .verdict = Expect::signalling,
         .to_node = true, .counter = &PipelineCounters::pipeline_signalling_verdicts_total},
        {.description = "admission refusal of SIP over UDP: dropped, answered with a 503",
         .admit = false, .packet = invite_packet("r"), .refusal = RefusalAnswer::sip_503,
         .counter = &PipelineCounters::pipeline_admission_rejected_total},
        {.description = "admission refusal of a TCP connection: dropped, answered with a RST",
         .admit = false, .packet = syn, .refusal = RefusalAnswer::tcp_rst,
         .counter = &PipelineCounters::pipeline_admission_rejected_total},
        {.description = "admission refusal of a datagram that is not SIP: dropped unanswered",
         .admit = false, .packet = udp_packet(kClient, 3333, kVip, 7000, "INVITE sip:x SIP/2.0\r\n\r\n"),
         .refusal = RefusalAnswer::none, .counter = &PipelineCounters::pipeline_admission_rejected_total},
        {.description = "raw mode: a copy to the node, the original dropped",
         .raw_mode = true, .packet = invite_packet("a"), .verdict = Expect::drop, .to_node = true,
         .new_binding = true, .counter = &PipelineCounters::pipeline_sessions_assigned_total},
        {.description = "malformed SIP datagram: dropped, counted, never answered",
         .admit = false, .packet = udp_packet(kClient, 5070, kVip, 5060, "\x7f garbage"),
         .counter = &PipelineCounters::pipeline_malformed_dropped_total},
        {.description = "undecodable packet: dropped and counted",
         .raw_mode = true, .packet = {0x45, 0x00, 0x00}, .counter = &PipelineCounters::pipeline_decode_errors_total},
    };
    for (const ActionCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ActionRig rig(c);
            for (const auto& p : c.before) rig.under_test.decide(p);
            const uint64_t before = rig.under_test.counters().*c.counter;
            const PacketAction a = rig.under_test.decide(c.packet);
            BOOST_TEST((rig.under_test.counters().*c.counter) == before + 1);
            BOOST_TEST((a.node != kNoNode) == c.to_node);
            BOOST_TEST(a.new_binding == c.new_binding);
            switch (c.verdict) {
                case Expect::drop: BOOST_TEST((a.verdict.kind == Verdict::Kind::drop)); break;
                case Expect::signalling:
                    BOOST_TEST((a.verdict.kind == Verdict::Kind::accept));
                    BOOST_TEST(a.verdict.mark == (uint32_t(a.node) | kMarkNoSave));
                    break;
                case Expect::data:
                    BOOST_TEST((a.verdict.kind == Verdict::Kind::accept));
                    BOOST_TEST(a.verdict.mark == uint32_t(a.node));
                    break;
            }
            BOOST_TEST(a.raw_copy_to == (c.raw_mode ? a.node : kNoNode));
            BOOST_REQUIRE(a.refusal.has_value() == c.refusal.has_value());
            if (!a.refusal) continue;
            BOOST_TEST((a.refusal->answer == *c.refusal));
            // The refusal carries the packet as decoded here: its answer needs no second decode.
            BOOST_TEST((a.refusal->packet.src == ip(kClient)));
            BOOST_TEST((a.refusal->packet.dst == ip(kVip)));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_refused_sip_datagram_carries_its_parsed_message_for_the_503) {
    const ActionCase c{.admit = false};
    ActionRig rig(c);
    const auto packet = invite_packet("refused-1");
    const PacketAction a = rig.under_test.decide(packet);
    BOOST_REQUIRE(a.refusal.has_value());
    BOOST_TEST(a.refusal->sip.call_id == "refused-1");
    BOOST_TEST(a.refusal->packet.src_port == 5070);
    // The 503 built from the message the identifier parsed is the one built from the text.
    const std::string text(reinterpret_cast<const char*>(a.refusal->packet.payload.data()),
                           a.refusal->packet.payload.size());
    const auto from_action = sip_503_response(a.refusal->sip, std::chrono::seconds(5));
    const auto from_text = sip_503_response(parse_sip_message(text, SipFraming::datagram).message, std::chrono::seconds(5));
    BOOST_REQUIRE(from_action.has_value());
    BOOST_TEST(*from_action == *from_text);
    BOOST_TEST(from_action->find("Call-ID: refused-1\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
