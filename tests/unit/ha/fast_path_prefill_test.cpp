// SPDX-License-Identifier: GPL-2.0-or-later
// The HA backup's BPF flow map filled from its replica (daemon/ha/fast_path_prefill.hpp), with
// a fake map: what a pass puts, its bounded slices, a replaced replica's leftovers, a restart.
#include <boost/test/unit_test.hpp>

#include <string>

#include "daemon/ha/fast_path_prefill.hpp"
#include "tests/unit/support/fake_flow_map.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace sara::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kVip = "198.18.100.10";

struct Backup {
    Backup() { table.set_fast_path(&map); }
    ManualClock clock{1000s};
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    FakeFlowMap map;
    FastPathPrefill prefill;

    // A call on `node` (kNoNode: not decided) with its RTP flow from 198.18.1.2:`port`.
    FlowKey call(SessionTable& t, const std::string& call_id, NodeId node, uint16_t port,
                 FlowIdentity identity = FlowIdentity::secondary) {
        const SessionId id = t.create_session(ServiceProtocol::sip, call_id, 0);
        t.set_node(id, node);
        const FlowKey key = udp_key("198.18.1.2", port, kVip, 6000);
        BOOST_REQUIRE(t.add_flow(key, id, identity));
        return key;
    }
    void run_pass() {
        for (int i = 0; i < 1000 && !prefill.filled(); ++i) prefill.step(table, services, map, 1024);
        BOOST_REQUIRE(prefill.filled());
    }
    NodeId in_map(const FlowKey& k) {
        const auto it = map.entries.find(k.to_string());
        return it == map.entries.end() ? kNoNode : it->second;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fast_path_prefill)

BOOST_FIXTURE_TEST_CASE(a_pass_puts_each_flow_the_master_forwards_with_its_node, Backup) {
    const FlowKey media = call(table, "a", 2, 20000);
    const FlowKey no_packet_yet = call(table, "b", 1, 20002, FlowIdentity::announced);
    const FlowKey no_node = call(table, "c", kNoNode, 20004);
    const SessionId sip = table.create_session(ServiceProtocol::sip, "d", 0);
    table.set_node(sip, 3);
    const FlowKey to_signalling_port = udp_key("198.18.1.2", 5070, kVip, 5060);
    BOOST_REQUIRE(table.add_flow(to_signalling_port, sip, FlowIdentity::secondary));
    BOOST_TEST(!prefill.filled());
    run_pass();
    BOOST_TEST(in_map(media) == 2);
    BOOST_TEST(in_map(no_packet_yet) == kNoNode);
    BOOST_TEST(in_map(no_node) == kNoNode);
    BOOST_TEST(in_map(to_signalling_port) == kNoNode);
    BOOST_TEST(map.entries.size() == 1u);
    BOOST_TEST(unsigned(table.find_flow(media)->offloaded) == 1u);
    // Another pass finds it in the map already: nothing put twice.
    prefill.step(table, services, map, 1 << 20);
    BOOST_TEST(map.puts == 1);
    BOOST_TEST(prefill.counters().fast_path_prefill_puts_total == 1u);
    // The replica drops the call (an update): the table erases its entry, as on a master.
    table.remove_flow(media);
    BOOST_TEST(map.entries.empty());
}

BOOST_FIXTURE_TEST_CASE(a_pass_is_made_of_bounded_slices, Backup) {
    for (uint16_t i = 0; i < 3000; ++i) call(table, "call-" + std::to_string(i), NodeId(1 + i % 3), uint16_t(20000 + 2 * i));
    prefill.step(table, services, map, 512);
    BOOST_TEST(!prefill.filled());
    BOOST_TEST(map.entries.size() < 3000u);
    run_pass();
    BOOST_TEST(map.entries.size() == 3000u);
}

BOOST_FIXTURE_TEST_CASE(a_replaced_replica_leaves_no_entry_the_new_one_does_not_forward, Backup) {
    const FlowKey kept = call(table, "kept", 1, 20000);
    const FlowKey ended = call(table, "ended", 2, 20002);
    const FlowKey moved = call(table, "moved", 2, 20004);
    run_pass();
    BOOST_REQUIRE(map.entries.size() == 3u);
    // The master's next snapshot, loaded into a table of its own: "ended" is gone, "moved"
    // is now on node 3, a new call came.
    SessionTable snapshot{SessionTableLimits{}, services.timeouts(), clock};
    call(snapshot, "kept", 1, 20000);
    call(snapshot, "moved", 3, 20004);
    const FlowKey added = call(snapshot, "added", 3, 20006);
    table.swap_contents(snapshot);  // `snapshot` now holds the old replica, flags and all
    prefill.recheck(offloaded_keys(snapshot));
    prefill.step(table, services, map, 1 << 20);
    BOOST_TEST(in_map(kept) == 1);
    BOOST_TEST(in_map(ended) == kNoNode);
    BOOST_TEST(in_map(moved) == 3);
    BOOST_TEST(in_map(added) == 3);
    BOOST_TEST(map.entries.size() == 3u);
    BOOST_TEST(prefill.counters().fast_path_prefill_erased_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(after_the_map_was_emptied_flagged_flows_are_put_again, Backup) {
    const FlowKey media = call(table, "a", 2, 20000);
    run_pass();
    // A demotion empties the map; the demoted master's flows keep their flags.
    map.entries.clear();
    prefill.restart();
    BOOST_TEST(!prefill.filled());
    run_pass();
    BOOST_TEST(in_map(media) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
