// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/control/dispatcher_metrics.hpp"
#include "daemon/control/dispatcher_requests.hpp"
#include "tests/unit/support/captured_log.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A dispatcher with fixed values: what the requests read and the commands they gave.
struct FakeDispatcher final : DispatcherView, DispatcherCommands {
    ManualClock clock;
    SessionTable sessions{SessionTableLimits{}, {30s, 30s}, clock};
    std::vector<CounterSample> counter_values{{"packets_total", "Packets", 7}, {"announce_messages_total", "Msgs", 2}};
    DispatcherGauges gauge_values;
    bool health = false;
    std::vector<NodeStatus> node_list;
    std::optional<AdmissionStatus> admission_status;
    std::optional<HaStatus> ha_status;
    std::optional<bool> floating_held;
    std::map<NodeId, bool> drained;
    std::vector<std::string> role_changes;  // "master: why" / "follow: held"

    std::vector<CounterSample> counters() const override { return counter_values; }
    DispatcherGauges gauges() const override { return gauge_values; }
    bool health_configured() const override { return health; }
    std::vector<NodeStatus> nodes() const override { return node_list; }
    std::optional<AdmissionStatus> admission() const override { return admission_status; }
    std::optional<HaStatus> ha() const override { return ha_status; }
    const SessionTable& table() const override { return sessions; }
    json lookup(std::string_view args) const override { return {{"lookup", std::string(args)}}; }

    std::optional<DrainChange> set_drain(NodeId id, bool drain) override {
        for (NodeStatus& n : node_list) {
            if (n.id != id) continue;
            const bool changed = n.drained != drain;
            n.drained = drain;
            n.available = !drain && n.state == "up";
            return DrainChange{n.name, changed, n.state == "up", n.available};
        }
        return std::nullopt;
    }
    std::optional<bool> floating_address_held(std::string* error) override {
        if (!floating_held) *error = "cannot ask";
        return floating_held;
    }
    void change_role(HaRole role, const std::string& why) override {
        ha_status->role = role;
        role_changes.push_back(std::string(to_string(role)) + ": " + why);
    }
    std::optional<AnnounceStatus> announce_status;  // route_announce configured
    std::optional<AnnounceStatus> set_announce(std::optional<bool> on) override {
        if (announce_status && on) announce_status->withdrawn_by_operator = !*on;
        return announce_status;
    }
    void follow_floating_address(bool held) override {
        ha_status->role = held ? HaRole::master : HaRole::backup;
        role_changes.push_back(std::string("follow: ") + (held ? "held" : "not held"));
    }
};

NodeStatus node(NodeId id, const std::string& name, const std::string& state = "up") {
    NodeStatus n;
    n.id = id;
    n.name = name;
    n.state = state;
    n.available = state == "up";
    n.address = test::ip("198.18.2." + std::to_string(id));
    return n;
}

json ask(FakeDispatcher& d, std::string_view request, const Logger& log) {
    const std::string answer = answer_control_request(request, d, d, log);
    BOOST_TEST(answer.back() == '\n');  // one line per answer
    return json::parse(answer);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dispatcher_requests)

BOOST_AUTO_TEST_CASE(stats_lists_counters_gauges_and_admission_only_when_enabled) {
    FakeDispatcher d;
    d.gauge_values.sessions = 3;
    d.gauge_values.flows = 5;
    d.gauge_values.lock_hold_max_us = {{"health", 4}, {"expiry", 350}};
    d.gauge_values.lock_holds = {{"expiry", 350, 120, 3, 1, 0, 2}};
    d.gauge_values.stream_buffer_bytes = 4096;
    test::CapturedLog captured;
    json out = ask(d, "stats", captured.log);
    BOOST_TEST(out["packets_total"] == 7);
    BOOST_TEST(out["announce_messages_total"] == 2);
    BOOST_TEST(out["sessions"] == 3);
    BOOST_TEST(out["flows"] == 5);
    BOOST_TEST(out["lock_hold_max_us"]["expiry"] == 350);
    BOOST_TEST(out["lock_hold_longest"]["expiry"]["cpu_us"] == 120);
    BOOST_TEST(out["lock_hold_longest"]["expiry"]["minor_faults"] == 3);
    BOOST_TEST(out["lock_hold_longest"]["expiry"]["preemptions"] == 1);
    BOOST_TEST(out["lock_holds_over_1ms"]["expiry"] == 2);
    BOOST_TEST(out["stream_buffer_bytes"] == 4096);
    BOOST_TEST(!out.contains("admission_p_new"));

    d.admission_status = AdmissionStatus{};
    d.admission_status->state.p_new = 0.25;
    d.admission_status->updates = 9;
    out = ask(d, "stats", captured.log);
    BOOST_TEST(out["admission_p_new"] == 0.25);
    BOOST_TEST(out["admission_updates_total"] == 9);
}

BOOST_AUTO_TEST_CASE(nodes_show_null_load_and_estimate_when_unknown) {
    FakeDispatcher d;
    d.node_list = {node(1, "a"), node(2, "b", "down")};
    d.node_list[1].load = 0.5;
    d.node_list[1].estimate = 2.0;
    d.node_list[1].sessions = 4;
    test::CapturedLog captured;
    const json out = ask(d, "nodes", captured.log);
    BOOST_REQUIRE(out["nodes"].size() == 2u);
    BOOST_TEST(out["nodes"][0]["load"].is_null());
    BOOST_TEST(out["nodes"][0]["estimate"].is_null());
    BOOST_TEST(out["nodes"][0]["address"] == "198.18.2.1");
    BOOST_TEST(out["nodes"][1]["state"] == "down");
    BOOST_TEST(out["nodes"][1]["available"] == false);
    BOOST_TEST(out["nodes"][1]["load"] == 0.5);
    BOOST_TEST(out["nodes"][1]["estimate"] == 2.0);
    BOOST_TEST(out["nodes"][1]["sessions"] == 4);
}

BOOST_AUTO_TEST_CASE(sessions_stop_at_the_limit) {
    FakeDispatcher d;
    for (int i = 0; i < 5; ++i) d.sessions.create_session(ServiceProtocol::sip, "call-" + std::to_string(i), 1);
    test::CapturedLog captured;
    BOOST_TEST(ask(d, "sessions", captured.log)["sessions"].size() == 5u);
    const json two = ask(d, "sessions 2", captured.log);
    BOOST_REQUIRE(two["sessions"].size() == 2u);
    BOOST_TEST(two["sessions"][0]["protocol"] == "sip");
    BOOST_TEST(two["sessions"][0]["key"] == "call-0");
}

BOOST_AUTO_TEST_CASE(lookup_passes_its_arguments_on) {
    FakeDispatcher d;
    test::CapturedLog captured;
    BOOST_TEST(ask(d, "lookup key abc", captured.log)["lookup"] == "key abc");
    BOOST_TEST(ask(d, "lookup", captured.log)["lookup"] == "");
}

BOOST_AUTO_TEST_CASE(drain_names_a_known_node_or_answers_an_error) {
    struct Case {
        const char* description;
        const char* request;
    };
    const Case bad[] = {
        {"no node", "drain "},
        {"not a number", "drain one"},
        {"a sign", "drain +1"},
        {"trailing text", "drain 1x"},
        {"over a node id's range", "drain 65537"},
        {"no such node", "undrain 9"},
    };
    FakeDispatcher d;
    d.node_list = {node(1, "a"), node(2, "b", "down")};
    test::CapturedLog captured;
    for (const Case& c : bad) {
        BOOST_TEST_CONTEXT(c.description) {
            const json out = ask(d, c.request, captured.log);
            BOOST_TEST(out.contains("error"));
            BOOST_TEST(out["error"].get<std::string>().starts_with("unknown node '"));
        }
    }
    BOOST_TEST(captured.str() == "");

    json out = ask(d, "drain 1", captured.log);
    BOOST_TEST(out == json({{"node", 1}, {"name", "a"}, {"drained", true}, {"changed", true}, {"available", false}}));
    BOOST_TEST(captured.str().find("node 1: drained by the operator") != std::string::npos);
    out = ask(d, "drain 1", captured.log);
    BOOST_TEST(out["changed"] == false);

    ask(d, "drain 2", captured.log);
    out = ask(d, "undrain 2", captured.log);
    BOOST_TEST(out["changed"] == true);
    BOOST_TEST(out["available"] == false);
    BOOST_TEST(captured.str().find("node 2: undrained by the operator (stays unavailable until its health is up)") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(role_without_sync_is_single) {
    FakeDispatcher d;
    test::CapturedLog captured;
    BOOST_TEST(ask(d, "role", captured.log)["role"] == "single");
    BOOST_TEST(ask(d, "role master", captured.log).contains("error"));
}

BOOST_AUTO_TEST_CASE(role_follows_the_hook_unless_the_floating_address_says_otherwise) {
    FakeDispatcher d;
    d.ha_status = HaStatus{HaRole::backup, true, true, false};
    test::CapturedLog captured;
    BOOST_TEST(ask(d, "role ready", captured.log) == json({{"role", "backup"}, {"ready", true}, {"synced", true}}));
    json out = ask(d, "role master", captured.log);
    BOOST_TEST(out["role"] == "master");
    BOOST_TEST(!out.contains("floating_address_held"));
    BOOST_TEST(ask(d, "role leader", captured.log).contains("error"));

    d.ha_status->floating_address = true;
    d.floating_held = true;
    out = ask(d, "role backup", captured.log);
    BOOST_TEST(out["floating_address_held"] == true);
    BOOST_TEST(out.contains("ignored"));
    BOOST_TEST(out["role"] == "master");
    BOOST_TEST(d.role_changes == (std::vector<std::string>{"master: keepalived's notify hook", "follow: held"}));

    d.floating_held.reset();  // the kernel cannot be asked: the hook decides
    out = ask(d, "role fault", captured.log);
    BOOST_TEST(out["floating_address_held"].is_null());
    BOOST_TEST(out["role"] == "fault");
    BOOST_TEST(captured.str().find("ha: cannot ask") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unknown_request_is_answered_with_the_list) {
    FakeDispatcher d;
    test::CapturedLog captured;
    for (const char* request : {"", "stat", "stats now", "nodes 1", "ROLE"}) {
        BOOST_TEST_CONTEXT(request) {
            const json out = ask(d, request, captured.log);
            BOOST_TEST(out["error"].get<std::string>().starts_with("unknown request; try stats"));
        }
    }
}

BOOST_AUTO_TEST_CASE(metrics_list_counters_nodes_and_optional_families) {
    FakeDispatcher d;
    d.node_list = {node(1, "a\"b")};
    d.gauge_values.lock_hold_max_us = {{"expiry", 500000}};
    d.gauge_values.lock_holds = {{"expiry", 500000, 0, 0, 0, 0, 7}};
    std::string text = dispatcher_metrics_text(d, 11);
    BOOST_TEST(text.find("# TYPE sara_packets_total counter\nsara_packets_total 7\n") != std::string::npos);
    BOOST_TEST(text.find("sara_queue_kernel_dropped_total 11\n") != std::string::npos);
    BOOST_TEST(text.find("sara_lock_hold_max_seconds{task=\"expiry\"} 0.5\n") != std::string::npos);
    BOOST_TEST(text.find("sara_lock_holds_over_1ms_total{task=\"expiry\"} 7\n") != std::string::npos);
    BOOST_TEST(text.find("sara_node_up{node=\"1\",name=\"a\\\"b\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("sara_node_state{node=\"1\",name=\"a\\\"b\",state=\"up\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("sara_node_load_ratio") == std::string::npos);  // no `health:`
    BOOST_TEST(text.find("sara_ha_role") == std::string::npos);
    BOOST_TEST(text.find("sara_admission_") == std::string::npos);

    d.health = true;
    d.node_list[0].load = 0.5;
    d.ha_status = HaStatus{HaRole::master, true, false, false};
    d.admission_status = AdmissionStatus{};
    d.admission_status->t1 = 0.75;
    text = dispatcher_metrics_text(d, 0);
    BOOST_TEST(text.find("sara_node_load_ratio{node=\"1\",name=\"a\\\"b\"} 0.5\n") != std::string::npos);
    BOOST_TEST(text.find("sara_ha_role{role=\"master\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("sara_ha_synced 0\n") != std::string::npos);
    BOOST_TEST(text.find("sara_admission_t1_ratio 0.75\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(announce_shows_and_withdraws_the_vips_route) {
    FakeDispatcher d;
    test::CapturedLog captured;
    BOOST_TEST(ask(d, "announce", captured.log) == json({{"configured", false}}));
    d.announce_status = DispatcherCommands::AnnounceStatus{190, false, true, true};
    BOOST_TEST(ask(d, "announce", captured.log)["announced"] == true);
    const json off = ask(d, "announce off", captured.log);
    BOOST_TEST(off["withdrawn_by_operator"] == true);
    BOOST_TEST(off["table"] == 190);
    BOOST_TEST(captured.str().find("withdrawn by the operator") != std::string::npos);
    BOOST_TEST(ask(d, "announce on", captured.log)["withdrawn_by_operator"] == false);
    BOOST_TEST(ask(d, "announce maybe", captured.log).contains("error"));
}

BOOST_AUTO_TEST_SUITE_END()
