// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "daemon/monitor/health_monitor.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace sara {
inline std::ostream& operator<<(std::ostream& o, NodeState s) { return o << to_string(s); }
}  // namespace sara

namespace {

// d = 100 ms, n = 3 (down after 300 ms of silence), δ = 500 ms (load unknown after 1.5 s),
// 3 heartbeats in a row to come back.
HealthConfig config() {
    HealthConfig c;
    c.heartbeat_interval = 100ms;
    c.miss_limit = 3;
    c.load_interval = 500ms;
    c.recovery_heartbeats = 3;
    c.load_weights = LoadWeights{.cpu = 0.5, .memory = 0.1, .net = 0.1, .io = 0.1, .backlog = 0.2};
    return c;
}

struct MonitorFixture {
    ManualClock clock{std::chrono::seconds(100)};
    HealthMonitor monitor{config(), {1, 2}, clock};
    uint32_t seq = 0;

    void heartbeat(NodeId node, wire::HeartbeatFlag flag = wire::HeartbeatFlag::available) {
        monitor.on_heartbeat(wire::Heartbeat{node, ++seq, flag, 0});
    }
    void load(NodeId node, double cpu) { monitor.on_load(wire::LoadVector{node, 1, 0, cpu, 0, 0, 0, 0}); }
    // Heartbeats every d for `count` intervals, a load vector with them, ticking each time.
    void healthy(NodeId node, int count) {
        for (int i = 0; i < count; ++i) {
            heartbeat(node);
            load(node, 0.2);
            monitor.tick();
            clock.advance(100ms);
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(health_monitor)

BOOST_FIXTURE_TEST_CASE(nodes_start_down_and_come_up_after_the_hysteresis, MonitorFixture) {
    BOOST_TEST(monitor.state(1) == NodeState::down);
    heartbeat(1);
    load(1, 0.2);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::down);  // 1 of 3
    heartbeat(1);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::down);  // 2 of 3
    heartbeat(1);
    const auto changes = monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::up);
    BOOST_REQUIRE(changes.size() == 1u);
    BOOST_TEST(changes[0].node == 1);
    BOOST_TEST(changes[0].from == NodeState::down);
    BOOST_TEST(changes[0].to == NodeState::up);
    BOOST_TEST(monitor.tick().empty());  // no change, nothing to log
}

BOOST_FIXTURE_TEST_CASE(silence_for_n_times_d_is_down, MonitorFixture) {
    healthy(1, 3);
    BOOST_TEST(monitor.state(1) == NodeState::up);
    // Last heartbeat at t0 (= now - 100 ms). Down strictly after 300 ms of silence.
    clock.advance(200ms);  // 300 ms since the last heartbeat
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::up);
    clock.advance(1ms);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::down);
    // Back: needs three heartbeats in a row again.
    healthy(1, 2);
    BOOST_TEST(monitor.state(1) == NodeState::down);
    healthy(1, 1);
    BOOST_TEST(monitor.state(1) == NodeState::up);
}

BOOST_FIXTURE_TEST_CASE(sequence_gaps_count_lost_heartbeats_and_restart_the_hysteresis, MonitorFixture) {
    monitor.on_heartbeat(wire::Heartbeat{1, 10, wire::HeartbeatFlag::available, 0});
    monitor.on_heartbeat(wire::Heartbeat{1, 11, wire::HeartbeatFlag::available, 0});
    monitor.on_heartbeat(wire::Heartbeat{1, 15, wire::HeartbeatFlag::available, 0});  // 12, 13, 14 lost
    BOOST_TEST(monitor.heartbeats_lost(1) == 3u);
    load(1, 0.1);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::down);  // the gap reset the count to 1
    monitor.on_heartbeat(wire::Heartbeat{1, 16, wire::HeartbeatFlag::available, 0});
    monitor.on_heartbeat(wire::Heartbeat{1, 17, wire::HeartbeatFlag::available, 0});
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::up);
    // An agent restart (sequence back to 1) is not counted as lost.
    monitor.on_heartbeat(wire::Heartbeat{1, 1, wire::HeartbeatFlag::available, 0});
    BOOST_TEST(monitor.heartbeats_lost(1) == 3u);
}

BOOST_FIXTURE_TEST_CASE(flags_app_down_and_drain, MonitorFixture) {
    healthy(1, 3);
    struct Step {
        const char* description;
        wire::HeartbeatFlag flag;
        NodeState expected;
    };
    const Step steps[] = {
        {"application down", wire::HeartbeatFlag::app_down, NodeState::app_down},
        {"application back", wire::HeartbeatFlag::available, NodeState::up},
        {"planned failure announced", wire::HeartbeatFlag::drain, NodeState::draining},
        {"still draining", wire::HeartbeatFlag::drain, NodeState::draining},
        {"undrain", wire::HeartbeatFlag::undrain, NodeState::up},
    };
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT(s.description) {
            heartbeat(1, s.flag);
            load(1, 0.2);
            monitor.tick();
            BOOST_TEST(monitor.state(1) == s.expected);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(no_load_vector_for_three_intervals_is_load_unknown, MonitorFixture) {
    healthy(1, 3);  // last load at now - 100 ms
    for (int i = 0; i < 14; ++i) {  // heartbeats continue, load vectors stop
        heartbeat(1);
        monitor.tick();
        clock.advance(100ms);
    }
    // 1.5 s since the last vector: exactly 3δ, still known.
    heartbeat(1);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::up);
    clock.advance(1ms);
    heartbeat(1);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::load_unknown);
    load(1, 0.3);
    monitor.tick();
    BOOST_TEST(monitor.state(1) == NodeState::up);
}

BOOST_AUTO_TEST_CASE(load_is_the_normalised_weighted_sum) {
    ManualClock clock;
    HealthConfig c = config();
    c.load_weights = LoadWeights{.cpu = 0.5, .memory = 0.1, .net = 0.1, .io = 0.1, .backlog = 0.2};
    HealthMonitor monitor(c, {1}, clock);
    // 0.5*0.8 + 0.1*0.5 + 0.1*0.2 + 0.1*0.0 + 0.2*1.0 = 0.4 + 0.05 + 0.02 + 0 + 0.2 = 0.67; weights sum to 1.0
    monitor.on_load(wire::LoadVector{1, 1, 0, 0.8, 0.5, 0.2, 0.0, 1.0});
    BOOST_TEST(monitor.load(1) == 0.67, boost::test_tools::tolerance(1e-9));
    // Weights that do not sum to 1 are normalised: cpu 1, backlog 1 → (0.8 + 1.0) / 2 = 0.9
    c.load_weights = LoadWeights{.cpu = 1, .memory = 0, .net = 0, .io = 0, .backlog = 1};
    HealthMonitor other(c, {1}, clock);
    other.on_load(wire::LoadVector{1, 1, 0, 0.8, 0.5, 0.2, 0.0, 1.0});
    BOOST_TEST(other.load(1) == 0.9, boost::test_tools::tolerance(1e-9));
}

BOOST_FIXTURE_TEST_CASE(messages_from_unconfigured_hosts_change_nothing, MonitorFixture) {
    monitor.on_heartbeat(wire::Heartbeat{99, 1, wire::HeartbeatFlag::available, 0});
    monitor.on_load(wire::LoadVector{99, 1, 0, 1, 1, 1, 1, 1});
    BOOST_TEST(monitor.tick().empty());
    BOOST_TEST(!monitor.known(99));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(health_monitor_reload)

BOOST_FIXTURE_TEST_CASE(a_reload_keeps_kept_nodes_and_starts_new_ones_down, MonitorFixture) {
    healthy(1, 4);
    BOOST_TEST_REQUIRE(monitor.state(1) == NodeState::up);
    monitor.set_nodes({1, 3});
    BOOST_TEST(monitor.state(1) == NodeState::up);  // no new hysteresis for a kept node
    BOOST_TEST(monitor.known(3));
    BOOST_TEST(monitor.state(3) == NodeState::down);  // waits for its agent like at start
    BOOST_TEST(!monitor.known(2));
    healthy(3, 4);
    BOOST_TEST(monitor.state(3) == NodeState::up);
}

BOOST_AUTO_TEST_SUITE_END()
