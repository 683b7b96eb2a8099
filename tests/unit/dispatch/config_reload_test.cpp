// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "daemon/dispatch/config_reload.hpp"

using namespace sara;

namespace {

const std::string kBase =
    "vip: 198.18.100.10\n"
    "auth: none\n"
    "nodes:\n"
    "  - {id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n"
    "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:12'}\n";

DispatcherConfig load(const std::string& yaml) {
    const ConfigLoad<DispatcherConfig> l = load_dispatcher_config_from_string(yaml, "reload.yaml");
    BOOST_TEST_REQUIRE(l.ok(), format_config_errors(l.errors));
    return l.config;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_reload)

BOOST_AUTO_TEST_CASE(the_same_file_changes_nothing) {
    const ReloadPlan plan = plan_reload(load(kBase), load(kBase));
    BOOST_TEST(!plan.applies_anything());
    BOOST_TEST(plan.restart_only.empty());
    BOOST_TEST(describe(plan) == "no change applied");
}

BOOST_AUTO_TEST_CASE(nodes_added_removed_changed_and_drained) {
    const std::string next =
        "vip: 198.18.100.10\n"
        "auth: none\n"
        "nodes:\n"
        "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:12', drain: true}\n"
        "  - {id: 3, name: node3, address: 198.18.2.13, mac: '02:00:00:00:02:13'}\n";
    const ReloadPlan plan = plan_reload(load(kBase), load(next));
    BOOST_TEST_REQUIRE(plan.added.size() == 1u);
    BOOST_TEST(plan.added[0].id == 3);
    BOOST_TEST_REQUIRE(plan.removed.size() == 1u);
    BOOST_TEST(plan.removed[0].id == 1);
    BOOST_TEST_REQUIRE(plan.changed.size() == 1u);
    BOOST_TEST(plan.changed[0].drain);
    BOOST_TEST(plan.config.nodes.size() == 2u);
    BOOST_TEST(describe(plan) ==
               "1 node added (node3), 1 node removed (node1; retired once their sessions end), 1 node changed (node2)");
}

BOOST_AUTO_TEST_CASE(thresholds_and_scheduler_apply_in_place) {
    const ReloadPlan plan = plan_reload(
        load(kBase), load(kBase + "admission: {t1: 0.6, t2: 0.7}\nscheduler: {algorithm: round-robin}\n"));
    BOOST_TEST(plan.admission_changed);
    BOOST_TEST(plan.scheduler_changed);
    BOOST_TEST(plan.config.admission.t1 == 0.6);
    BOOST_TEST((plan.config.scheduler.algorithm == SchedulerAlgorithm::round_robin));
    BOOST_TEST(plan.restart_only.empty());
}

BOOST_AUTO_TEST_CASE(the_forecast_window_is_also_admission_s) {
    const ReloadPlan plan = plan_reload(load(kBase), load(kBase + "scheduler: {window: 6}\n"));
    BOOST_TEST(plan.scheduler_changed);
    BOOST_TEST(plan.admission_changed);
}

BOOST_AUTO_TEST_CASE(restart_only_sections_keep_their_running_value) {
    const std::string next =
        "vip: 198.18.100.11\n"
        "auth: none\n"
        "queue: {first: 3}\n"
        "admission: {enabled: false}\n"
        "metrics: {listen: '127.0.0.1:9999'}\n"
        "nodes:\n"
        "  - {id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}\n"
        "  - {id: 2, name: node2, address: 198.18.2.12, mac: '02:00:00:00:02:12'}\n";
    const DispatcherConfig running = load(kBase);
    const ReloadPlan plan = plan_reload(running, load(next));
    BOOST_TEST(!plan.applies_anything());
    const std::vector<std::string> expected{"admission.enabled", "vip", "queue", "metrics"};
    BOOST_TEST(plan.restart_only == expected, boost::test_tools::per_element());
    BOOST_TEST((plan.config.vip == running.vip));
    BOOST_TEST(plan.config.queue.first == running.queue.first);
    BOOST_TEST(plan.config.admission.enabled);
    BOOST_TEST(describe(plan) ==
               "no change applied; changed but applied only at the next restart (running value kept): "
               "admission.enabled, vip, queue, metrics");
}

BOOST_AUTO_TEST_SUITE_END()
