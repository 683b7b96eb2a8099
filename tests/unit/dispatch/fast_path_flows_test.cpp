// SPDX-License-Identifier: GPL-2.0-or-later
// The BPF fast path's flow map as the table and the pipeline keep it (FastPathFlows): a fake
// map records what they put and erase and answers how long a flow has been idle in it.
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/identify/fast_path_endpoints.hpp"
#include "daemon/schedule/round_robin.hpp"
#include "tests/unit/support/fake_flow_map.hpp"
#include "tests/unit/support/ip_builder.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace sara::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

NodeEntry node(NodeId id) {
    NodeEntry n;
    n.id = id;
    n.name = "node" + std::to_string(id);
    return n;
}

struct FastPathFixture {
    FastPathFixture() { table.set_fast_path(&map); }
    ManualClock clock{std::chrono::seconds(1000)};
    ServiceMap services = ServiceMap::defaults();  // sip 30 s, rtsp 60 s; "other" 30 s
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    SessionIdentifier identifier{table, services, ip(kVip)};
    AdmitAll admit_all;
    RoundRobinScheduler scheduler;
    PacketPipeline pipeline{identifier, admit_all, scheduler, {node(1), node(2)}, ip(kVip)};
    FakeFlowMap map;

    PacketAction call(const std::string& call_id, uint16_t media_port) {
        return pipeline.decide(udp_packet(kClient, 5070, kVip, 5060,
                                          sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE",
                                                      sdp_body(kClient, media_port))));
    }
    PacketAction rtp(uint16_t client_port, uint16_t vip_port = 6000) {
        return pipeline.decide(udp_packet(kClient, client_port, kVip, vip_port, "rtp"));
    }
    FlowKey media_key(uint16_t client_port, uint16_t vip_port = 6000) const {
        return udp_key(kClient, client_port, kVip, vip_port);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fast_path_flows)

BOOST_FIXTURE_TEST_CASE(a_media_flow_is_put_once_with_its_sessions_node_and_signalling_never, FastPathFixture) {
    const PacketAction invite = call("c1", 20000);
    BOOST_REQUIRE(invite.node != kNoNode);
    BOOST_TEST(map.puts == 0);  // signalling is never offloaded
    rtp(20000);
    BOOST_REQUIRE(map.entries.count(media_key(20000).to_string()) == 1u);
    BOOST_TEST(map.entries[media_key(20000).to_string()] == invite.node);
    rtp(20000);  // a packet that still reached the queue (passed up): not put again
    BOOST_TEST(map.puts == 1);
    BOOST_TEST(pipeline.counters().fast_path_flows_put_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_full_map_leaves_the_flow_on_the_queue_path_counted, FastPathFixture) {
    map.full = true;
    call("c1", 20000);
    const PacketAction first = rtp(20000);
    BOOST_TEST(first.node != kNoNode);  // forwarded all the same (netfilter saves the mark)
    BOOST_TEST(pipeline.counters().fast_path_flows_put_failed_total == 1u);
    map.full = false;
    rtp(20000);  // tried again at the next queued packet
    BOOST_TEST(map.entries.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_backup_and_a_new_binding_put_nothing, FastPathFixture) {
    pipeline.set_accept_new_sessions(false);
    // Media first of a session the table does not know: a backup takes no new session.
    rtp(30000, 7000);
    BOOST_TEST(map.puts == 0);
    pipeline.set_accept_new_sessions(true);
    // A plain media flow's first packet gives its session a node (a new binding, held in HA
    // until the backup has it): the pipeline does not put it, the queue thread does when it
    // gives the verdict (PacketAction::fast_path_on_verdict) — or its next packet, if held.
    const PacketAction first = rtp(30002, 7002);
    BOOST_REQUIRE(first.node != kNoNode);
    BOOST_TEST(first.new_binding);
    BOOST_TEST(map.puts == 0);
    BOOST_REQUIRE(first.fast_path_on_verdict.has_value());
    BOOST_TEST(first.fast_path_on_verdict->to_string() == media_key(30002, 7002).to_string());
    pipeline.offer_fast_path(*first.fast_path_on_verdict, first.node);
    BOOST_TEST(map.puts == 1);
    rtp(30002, 7002);  // a packet that still reached the queue: not put again
    BOOST_TEST(map.puts == 1);
    // Signalling and a session that had its node carry nothing to put later.
    BOOST_TEST(!call("c9", 20000).fast_path_on_verdict.has_value());
    BOOST_TEST(!rtp(30002, 7002).fast_path_on_verdict.has_value());
}

BOOST_FIXTURE_TEST_CASE(tcp_data_flows_keep_the_netfilter_path, FastPathFixture) {
    pipeline.decide(tcp_packet(kClient, 40000, kVip, 8080, tcp_flag::ack, 1, "x"));
    pipeline.decide(tcp_packet(kClient, 40000, kVip, 8080, tcp_flag::ack, 2, "y"));
    BOOST_TEST(map.puts == 0);
}

BOOST_FIXTURE_TEST_CASE(an_ended_calls_media_leaves_the_map_after_the_linger, FastPathFixture) {
    call("c1", 20000);
    rtp(20000);
    BOOST_REQUIRE(map.entries.size() == 1u);
    pipeline.decide(udp_packet(kClient, 5070, kVip, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", "c1", "2 BYE", "")));
    clock.advance(3s);  // past the 2 s media linger
    table.purge();
    BOOST_TEST(map.entries.empty());
    BOOST_TEST(table.find_flow(media_key(20000)) == nullptr);
}

BOOST_FIXTURE_TEST_CASE(a_flow_the_fast_path_keeps_forwarding_is_not_purged, FastPathFixture) {
    call("c1", 20000);
    rtp(20000);
    const FlowKey key = media_key(20000);
    // 70 s without a queued packet (twice the 30 s timeout is 60 s), but the program forwarded
    // one 5 s ago: the flow stays, refreshed from the map.
    clock.advance(70s);
    map.idle[key.to_string()] = 5000;
    table.purge();
    BOOST_REQUIRE(table.find_flow(key) != nullptr);
    BOOST_TEST(table.counters().flows_kept_by_fast_path_total == 1u);
    BOOST_TEST(map.entries.size() == 1u);
    // Then the media stops: idle in the map too, the flow is purged and leaves the map.
    clock.advance(70s);
    map.idle[key.to_string()] = 75'000;
    table.purge();
    BOOST_TEST(table.find_flow(key) == nullptr);
    BOOST_TEST(map.entries.empty());
}

BOOST_FIXTURE_TEST_CASE(a_fast_path_for_calls_only_takes_no_plain_flow, FastPathFixture) {
    map.plain = false;
    const PacketAction unknown = rtp(33333, 9999);  // a flow of no call: a plain session
    BOOST_REQUIRE(unknown.node != kNoNode);
    BOOST_REQUIRE(unknown.fast_path_on_verdict.has_value());  // what the queue thread would offer
    pipeline.offer_fast_path(*unknown.fast_path_on_verdict, unknown.node);
    rtp(33333, 9999);
    BOOST_TEST(map.puts == 0);
    call("c1", 20000);
    rtp(20000);
    BOOST_TEST(map.puts == 1);  // a call's media is
}

BOOST_FIXTURE_TEST_CASE(a_flow_whose_answer_is_not_at_hand_is_neither_purged_nor_refreshed, FastPathFixture) {
    call("c1", 20000);
    rtp(20000);
    const FlowKey key = media_key(20000);
    clock.advance(70s);
    map.deferred.insert(key.to_string());
    map.idle.erase(key.to_string());  // had it asked, the answer would be "gone"
    table.purge();
    BOOST_REQUIRE(table.find_flow(key) != nullptr);
    BOOST_TEST(table.counters().flows_kept_by_fast_path_total == 0u);
    // The answer came (the media stopped long ago): the next visit purges it.
    map.deferred.clear();
    table.purge();
    BOOST_TEST(table.find_flow(key) == nullptr);
}

BOOST_FIXTURE_TEST_CASE(a_flow_moved_to_a_newer_call_leaves_the_map_until_its_next_packet, FastPathFixture) {
    const PacketAction first = call("c1", 20000);
    rtp(20000);
    BOOST_REQUIRE(map.entries.size() == 1u);
    const SessionId old_session = table.find_flow(media_key(20000))->session;
    const SessionId newer = table.create_session(ServiceProtocol::sip, "c2", 1);
    table.set_node(newer, first.node == 1 ? 2 : 1);
    table.move_flow(media_key(20000), newer);
    BOOST_TEST(table.find_flow(media_key(20000))->session != old_session);
    BOOST_TEST(map.entries.empty());  // the entry named the old call's node
    const PacketAction next = rtp(20000);
    BOOST_TEST(next.node == table.session(newer).node);
    BOOST_TEST(map.entries[media_key(20000).to_string()] == table.session(newer).node);
}

BOOST_FIXTURE_TEST_CASE(removing_a_flow_or_clearing_the_table_empties_the_map, FastPathFixture) {
    call("c1", 20000);
    rtp(20000);
    call("c2", 20010);
    rtp(20010, 6010);
    BOOST_REQUIRE(map.entries.size() == 2u);
    table.remove_flow(media_key(20000));
    BOOST_TEST(map.entries.size() == 1u);
    table.clear();
    BOOST_TEST(map.entries.empty());
}

BOOST_AUTO_TEST_CASE(endpoints_index_the_map_by_client_port) {
    FakeFlowMap map;
    FastPathEndpoints endpoints(map);
    const FlowKey a1 = udp_key(kClient, 30000, kVip, 6000);
    const FlowKey a2 = udp_key(kClient, 30000, kVip, 6100);
    const FlowKey b = udp_key(kClient, 30002, kVip, 6000);
    BOOST_TEST(endpoints.put(a1, 1));
    BOOST_TEST(endpoints.put(a2, 2));
    BOOST_TEST(endpoints.put(a1, 1));  // again: indexed once
    BOOST_TEST(endpoints.put(b, 3));
    BOOST_TEST(endpoints.endpoints() == 2u);
    endpoints.erase(a2);
    BOOST_TEST(map.entries.count(a2.to_string()) == 0u);
    BOOST_TEST(endpoints.put(a2, 2));
    // The claim of client port 30000 (its partial key: server port 0) takes both of its entries.
    const std::vector<FlowKey> gone = endpoints.forget_endpoint(udp_key(kClient, 30000, kVip, 0));
    BOOST_TEST(gone.size() == 2u);
    BOOST_TEST(map.entries.size() == 1u);
    BOOST_TEST(map.entries.count(b.to_string()) == 1u);
    BOOST_TEST(endpoints.forget_endpoint(udp_key(kClient, 30000, kVip, 0)).empty());
    map.full = true;
    BOOST_TEST(!endpoints.put(a1, 1));  // not in the map: not indexed
    BOOST_TEST(endpoints.forget_endpoint(a1).empty());
}

// The failure test_session_integrity found in bpf mode: calls one after another from one
// client RTP port, every node answering the same media port, no gateway (the answer's port is
// never announced): the exact flow of the first call stayed in the map, and the next calls'
// RTP went to the first call's node.
BOOST_FIXTURE_TEST_CASE(a_new_offer_for_a_client_port_takes_the_old_calls_entry_out_of_the_map, FastPathFixture) {
    FastPathEndpoints endpoints(map);
    table.set_fast_path(&endpoints);
    identifier.set_kernel_forgets(true);
    const PacketAction first = call("c1", 30000);
    rtp(30000);
    BOOST_REQUIRE(map.entries[media_key(30000).to_string()] == first.node);
    (void)identifier.take_kernel_forgets();
    const PacketAction second = call("c2", 30000);  // round robin: another node
    BOOST_REQUIRE(second.node != first.node);
    forget_claimed_endpoints(endpoints, table, identifier.take_kernel_forgets().endpoints);
    BOOST_TEST(map.entries.empty());  // its next packet is queued...
    const PacketAction next = rtp(30000);
    BOOST_TEST(next.node == second.node);  // ...handed over to the newer call...
    BOOST_TEST(map.entries[media_key(30000).to_string()] == second.node);  // ...and put with its node
}

BOOST_AUTO_TEST_CASE(forgetting_an_endpoint_spares_the_entries_it_is_told_to_keep) {
    FakeFlowMap map;
    FastPathEndpoints endpoints(map);
    const FlowKey old_call = udp_key(kClient, 30000, kVip, 6000);
    const FlowKey claimer = udp_key(kClient, 30000, kVip, 6100);  // already marked for the claimer's node
    endpoints.put(old_call, 1);
    endpoints.put(claimer, 2);
    const std::vector<FlowKey> gone = endpoints.forget_endpoint(
        udp_key(kClient, 30000, kVip, 0), [&](const FlowKey& k) { return k == claimer; });
    BOOST_REQUIRE(gone.size() == 1u);
    BOOST_TEST(gone[0].to_string() == old_call.to_string());
    BOOST_TEST(map.entries.count(claimer.to_string()) == 1u);
    BOOST_TEST(endpoints.endpoints() == 1u);  // the kept entry stays indexed
    BOOST_TEST(endpoints.forget_endpoint(udp_key(kClient, 30000, kVip, 0)).size() == 1u);
    BOOST_TEST(endpoints.endpoints() == 0u);
}

// Found 2026-12-07: route mode on the netfilter fast path gave the table no fast path, so a
// call's media flows (whose packets never reach sarad once the mark is saved) were purged
// after twice the flow timeout, then the session itself, and the call's BYE was a new session
// on whatever node the scheduler chose. With the kernel's activity (conntrack's timer, here a
// fake), the flows and the session stay, and the BYE follows the INVITE.
BOOST_FIXTURE_TEST_CASE(a_call_longer_than_twice_the_flow_timeout_keeps_its_session, FastPathFixture) {
    const PacketAction invite = call("long", 20000);
    rtp(20000);
    rtp(20001, 6001);
    const FlowKey rtp_key = media_key(20000), rtcp_key = media_key(20001, 6001);
    BOOST_REQUIRE(map.entries.size() == 2u);
    for (int second = 0; second < 180; ++second) {  // three minutes of media the kernel forwards
        clock.advance(1s);
        map.idle[rtp_key.to_string()] = 20;
        map.idle[rtcp_key.to_string()] = 1000;
        identifier.expire_step(1 << 20);
    }
    BOOST_TEST(table.counters().sessions_aborted_total == 0u);
    const PacketAction bye = pipeline.decide(udp_packet(
        kClient, 5070, kVip, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", "long", "2 BYE")));
    BOOST_TEST(!bye.new_binding);
    BOOST_TEST(bye.node == invite.node);
    // Without the fast path's word the same call loses its session (what netfilter mode did).
    table.set_fast_path(nullptr);
    const PacketAction second_call = call("short-lived", 20010);
    rtp(20010, 6010);
    for (int second = 0; second < 180; ++second) {
        clock.advance(1s);
        identifier.expire_step(1 << 20);
    }
    const PacketAction late_bye = pipeline.decide(udp_packet(
        kClient, 5070, kVip, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", "short-lived", "2 BYE")));
    BOOST_TEST(late_bye.new_binding);
    (void)second_call;
}

BOOST_AUTO_TEST_SUITE_END()
