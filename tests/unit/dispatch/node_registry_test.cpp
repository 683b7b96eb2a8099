// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <set>

#include "daemon/dispatch/node_registry.hpp"

using namespace sara;

namespace {

DispatcherConfig load(const std::string& nodes) {
    const ConfigLoad<DispatcherConfig> l =
        load_dispatcher_config_from_string("vip: 198.18.100.10\nauth: none\nnodes:\n" + nodes, "registry.yaml");
    BOOST_TEST_REQUIRE(l.ok(), format_config_errors(l.errors));
    return l.config;
}

const std::string kNode1 = "  - {id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n";
const std::string kNode2 = "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:12'}\n";
const std::string kNode2Drained =
    "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:12', drain: true}\n";
const std::string kNode3Ranged =
    "  - {id: 3, name: node3, address: 198.18.2.13, mac: '02:00:00:00:02:13', media_ports: '20000-20999'}\n";

// What the subscribers heard.
struct Heard {
    int set_changes = 0;
    std::vector<std::pair<NodeId, bool>> availability;
    void listen(NodeRegistry& r) {
        r.on_set_changed([this](const NodeRegistry&) { ++set_changes; });
        r.on_availability_changed([this](NodeId id, bool available) { availability.emplace_back(id, available); });
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(node_registry)

BOOST_AUTO_TEST_CASE(a_configured_drain_starts_drained_and_unavailable) {
    const NodeRegistry r(load(kNode1 + kNode2Drained).nodes);
    BOOST_TEST(r.available(1));
    BOOST_TEST(r.is_drained(2));
    BOOST_TEST(!r.available(2));
    const std::vector<NodeEntry> entries = r.entries();
    BOOST_TEST_REQUIRE(entries.size() == 2u);
    BOOST_TEST(entries[0].available);
    BOOST_TEST(!entries[1].available);
    BOOST_TEST(entries[1].name == "node2");
}

BOOST_AUTO_TEST_CASE(health_decides_among_the_undrained) {
    NodeRegistry r(load(kNode1 + kNode2).nodes);
    std::set<NodeId> up = {1};
    r.set_health([&](NodeId id) { return up.contains(id); });
    Heard heard;
    heard.listen(r);
    BOOST_TEST(r.available(1));
    BOOST_TEST(!r.available(2));
    up.insert(2);
    r.health_changed(2);
    BOOST_TEST_REQUIRE(heard.availability.size() == 1u);
    BOOST_TEST((heard.availability[0] == std::pair<NodeId, bool>{2, true}));
    BOOST_TEST(heard.set_changes == 0);
}

BOOST_AUTO_TEST_CASE(an_operator_drain_overrides_health_and_says_whether_it_changed) {
    NodeRegistry r(load(kNode1 + kNode2).nodes);
    Heard heard;
    heard.listen(r);
    BOOST_TEST(r.set_drained(1, true));
    BOOST_TEST(!r.set_drained(1, true));  // already drained
    BOOST_TEST(!r.available(1));
    BOOST_TEST(r.set_drained(1, false));
    BOOST_TEST(r.available(1));
    BOOST_TEST_REQUIRE(heard.availability.size() == 3u);
    BOOST_TEST((heard.availability[0] == std::pair<NodeId, bool>{1, false}));
    BOOST_TEST((heard.availability[2] == std::pair<NodeId, bool>{1, true}));
}

BOOST_AUTO_TEST_CASE(a_removed_node_retires_once_idle) {
    NodeRegistry r(load(kNode1 + kNode2).nodes);
    Heard heard;
    heard.listen(r);
    const ReloadPlan plan = plan_reload(load(kNode1 + kNode2), load(kNode1));
    const std::vector<NodeConfig> after = r.retiring_after(plan);
    BOOST_TEST_REQUIRE(after.size() == 1u);
    BOOST_TEST(after[0].id == 2);
    BOOST_TEST(r.retiring().empty());  // retiring_after only tells
    r.apply_reload(plan);
    BOOST_TEST(heard.set_changes == 1);
    BOOST_TEST(r.is_retiring(2));
    BOOST_TEST(!r.available(2));
    BOOST_TEST(r.configured().size() == 1u);
    BOOST_TEST((r.ids() == std::vector<NodeId>{1, 2}));  // still routed: configured, then retiring

    uint64_t sessions_on_2 = 3;
    auto sessions = [&](NodeId id) { return id == 2 ? sessions_on_2 : uint64_t{0}; };
    BOOST_TEST(r.retire_idle(sessions).empty());
    BOOST_TEST(heard.set_changes == 1);
    sessions_on_2 = 0;
    const std::vector<NodeConfig> retired = r.retire_idle(sessions);
    BOOST_TEST_REQUIRE(retired.size() == 1u);
    BOOST_TEST(retired[0].id == 2);
    BOOST_TEST(heard.set_changes == 2);
    BOOST_TEST((r.ids() == std::vector<NodeId>{1}));
}

BOOST_AUTO_TEST_CASE(a_node_back_before_it_retired_stops_retiring) {
    NodeRegistry r(load(kNode1 + kNode2).nodes);
    r.apply_reload(plan_reload(load(kNode1 + kNode2), load(kNode1)));
    BOOST_TEST(r.is_retiring(2));
    const ReloadPlan back = plan_reload(load(kNode1), load(kNode1 + kNode2));
    BOOST_TEST(r.retiring_after(back).empty());
    r.apply_reload(back);
    BOOST_TEST(!r.is_retiring(2));
    BOOST_TEST(r.available(2));
    BOOST_TEST((r.ids() == std::vector<NodeId>{1, 2}));
}

BOOST_AUTO_TEST_CASE(a_reload_flips_drain_and_an_added_drained_node_arrives_drained) {
    NodeRegistry r(load(kNode1 + kNode2).nodes);
    r.apply_reload(plan_reload(load(kNode1 + kNode2), load(kNode1 + kNode2Drained)));
    BOOST_TEST(r.is_drained(2));
    r.apply_reload(plan_reload(load(kNode1 + kNode2Drained), load(kNode1 + kNode2)));
    BOOST_TEST(!r.is_drained(2));

    NodeRegistry only1(load(kNode1).nodes);
    only1.apply_reload(plan_reload(load(kNode1), load(kNode1 + kNode2Drained)));
    BOOST_TEST(only1.is_drained(2));
    BOOST_TEST(!only1.available(2));
}

BOOST_AUTO_TEST_CASE(a_reload_without_node_changes_notifies_nobody) {
    NodeRegistry r(load(kNode1).nodes);
    Heard heard;
    heard.listen(r);
    r.apply_reload(plan_reload(load(kNode1), load(kNode1)));
    BOOST_TEST(heard.set_changes == 0);
}

BOOST_AUTO_TEST_CASE(media_ranges_follow_the_node_set) {
    NodeRegistry r(load(kNode1 + kNode3Ranged).nodes);
    BOOST_TEST(r.media_ports().node_for(20500) == NodeId{3});
    BOOST_TEST(r.media_ports().node_for(21000) == kNoNode);
    // Removed, node 3 keeps its range while it retires; gone once retired.
    r.apply_reload(plan_reload(load(kNode1 + kNode3Ranged), load(kNode1)));
    BOOST_TEST(r.media_ports().node_for(20500) == NodeId{3});
    (void)r.retire_idle([](NodeId) { return uint64_t{0}; });
    BOOST_TEST(r.media_ports().node_for(20500) == kNoNode);
}

BOOST_AUTO_TEST_SUITE_END()
