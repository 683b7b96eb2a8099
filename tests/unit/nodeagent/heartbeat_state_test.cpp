// SPDX-License-Identifier: GPL-2.0-or-later
// The heartbeat flag state machine (drain / undrain), the application verdict with its fall
// count, and the size of what goes on the wire. Time is a plain argument: no clock needed.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/wire/control_message.hpp"
#include "nodeagent/heartbeat_state.hpp"

namespace sara::nodeagent {
namespace {

using Flag = wire::HeartbeatFlag;

// One step of a scenario: an operator action (if any), then the next heartbeat at `now`.
struct Step {
    const char* description;
    enum class Action { none, drain, undrain } action = Action::none;
    uint32_t drain_at = 0;
    bool app_up = true;
    uint32_t now = 0;
    Flag flag;
    uint32_t timestamp;
    bool undrain_accepted = true;  // for Action::undrain
};

void run_scenario(const char* name, const std::vector<Step>& steps) {
    HeartbeatState state(7, 100);
    uint32_t seq = 100;
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT(name << ": " << s.description) {
            if (s.action == Step::Action::drain) state.drain(s.drain_at);
            if (s.action == Step::Action::undrain) BOOST_TEST(state.undrain() == s.undrain_accepted);
            const wire::Heartbeat h = state.next(s.app_up, s.now);
            BOOST_TEST(h.host_id == 7);
            BOOST_TEST(h.seq == seq);
            BOOST_TEST(static_cast<int>(h.flag) == static_cast<int>(s.flag));
            BOOST_TEST(h.timestamp == s.timestamp);
            ++seq;
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nodeagent_heartbeat_state)

BOOST_AUTO_TEST_CASE(application_flags_carry_the_send_time) {
    run_scenario("no drain", {
        {"up", Step::Action::none, 0, true, 1000, Flag::available, 1000},
        {"application down", Step::Action::none, 0, false, 1001, Flag::app_down, 1001},
        {"up again", Step::Action::none, 0, true, 1002, Flag::available, 1002},
    });
}

BOOST_AUTO_TEST_CASE(drain_then_undrain) {
    using A = Step::Action;
    run_scenario("planned failure in the future", {
        {"before", A::none, 0, true, 1000, Flag::available, 1000},
        {"drain at 1300: flag 2 with the failure time", A::drain, 1300, true, 1001, Flag::drain, 1300},
        {"still draining, the time does not move", A::none, 0, true, 1002, Flag::drain, 1300},
        {"draining wins over an application that is down", A::none, 0, false, 1003, Flag::drain, 1300},
        {"undrain: flag 3 once, with the send time", A::undrain, 0, true, 1004, Flag::undrain, 1004},
        {"then back to the application's flag", A::none, 0, false, 1005, Flag::app_down, 1005},
        {"and up", A::none, 0, true, 1006, Flag::available, 1006},
    });
}

BOOST_AUTO_TEST_CASE(drain_changes_and_stray_undrains) {
    using A = Step::Action;
    run_scenario("operator corrections", {
        {"undrain without a drain is refused and changes nothing", A::undrain, 0, true, 10, Flag::available, 10, false},
        {"drain now", A::drain, 11, true, 11, Flag::drain, 11},
        {"drain again moves the time", A::drain, 50, true, 12, Flag::drain, 50},
        {"undrain", A::undrain, 0, true, 13, Flag::undrain, 13},
        {"a second undrain after flag 3 is refused", A::undrain, 0, true, 14, Flag::available, 14, false},
        {"drain once more", A::drain, 20, true, 15, Flag::drain, 20},
    });
    HeartbeatState state(1);
    state.drain(99);
    BOOST_TEST(state.undrain());
    BOOST_TEST(!state.undrain());  // flag 3 not sent yet: still only one undrain
    BOOST_TEST((state.drain_state() == DrainState::undrain_pending));
    state.drain(120);              // cancels the pending undrain
    BOOST_TEST((state.drain_state() == DrainState::draining));
    BOOST_TEST(static_cast<int>(state.next(true, 100).flag) == static_cast<int>(Flag::drain));
}

BOOST_AUTO_TEST_CASE(sequence_numbers_and_host_id) {
    HeartbeatState state(3);
    BOOST_TEST(state.next(true, 0).seq == 1u);  // the first heartbeat is seq 1
    BOOST_TEST(state.next(true, 0).seq == 2u);
    state.set_host_id(9);  // a reload that changes node_id keeps the sequence
    const wire::Heartbeat h = state.next(true, 0);
    BOOST_TEST(h.host_id == 9);
    BOOST_TEST(h.seq == 3u);
    HeartbeatState wrapping(3, 0xffffffffu);
    BOOST_TEST(wrapping.next(true, 0).seq == 0xffffffffu);
    BOOST_TEST(wrapping.next(true, 0).seq == 0u);
}

BOOST_AUTO_TEST_CASE(first_sequence_counts_intervals_since_the_epoch) {
    using std::chrono::milliseconds;
    // 2026-11-26 12:00:00 UTC = 1795694400 s; at d = 100 ms that is 17956944000 intervals,
    // 17956944000 mod 2^32 = 17956944000 - 4 * 4294967296 = 777074816.
    BOOST_TEST(time_based_first_seq(milliseconds(1795694400000), milliseconds(100)) == 777074816u);
    // An agent that lived 2.5 s (25 heartbeats from its first) and restarted 1 s later starts
    // 11 ahead of the last number it sent: the dispatcher counts the 10 between as lost.
    const uint32_t first = time_based_first_seq(milliseconds(1795694400000), milliseconds(100));
    const uint32_t last_sent = first + 24;
    const uint32_t restarted = time_based_first_seq(milliseconds(1795694403500), milliseconds(100));
    BOOST_TEST(restarted - last_sent == 11u);
    BOOST_TEST(time_based_first_seq(milliseconds(999), milliseconds(1000)) == 0u);
    BOOST_TEST(time_based_first_seq(milliseconds(5), milliseconds(0)) == 1u);  // no interval: 1
}

BOOST_AUTO_TEST_CASE(app_health_fall_count) {
    struct Case {
        const char* description;
        uint32_t fall;
        std::vector<bool> checks;
        std::vector<bool> up;       // verdict after each check
        std::vector<bool> changed;  // record()'s return
    };
    const std::vector<Case> cases = {
        {"fall 1 follows every check", 1, {true, false, true}, {true, false, true}, {true, true, true}},
        {"the first check decides at once, even with fall 3", 3, {false, true}, {false, true}, {true, true}},
        {"fall 3: two failures are tolerated, the third is not", 3,
         {true, false, false, true, false, false, false}, {true, true, true, true, true, true, false},
         {true, false, false, false, false, false, true}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            AppHealth health(c.fall);
            BOOST_TEST(!health.known());
            for (size_t i = 0; i < c.checks.size(); ++i) {
                BOOST_TEST_INFO("check " << i);
                BOOST_TEST(health.record(c.checks[i]) == c.changed[i]);
                BOOST_TEST(health.up() == c.up[i]);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_sizes) {
    // What the tcpdump check in the namespace test sees: 4 header + 11 body + 32 HMAC.
    const std::optional<wire::ClusterKey> key = wire::ClusterKey::from_hex(std::string(64, 'a'), nullptr);
    BOOST_TEST_REQUIRE(key.has_value());
    wire::Heartbeat h{1, 2, Flag::drain, 3};
    BOOST_TEST(wire::encode(h, &*key).size() == wire::kHeaderSize + wire::kHeartbeatBodySize + wire::kMacSize);
    BOOST_TEST(wire::encode(h, &*key).size() == 47u);
    BOOST_TEST(wire::encode(h, nullptr).size() == 15u);
    wire::LoadVector l{};
    BOOST_TEST(wire::encode(l, &*key).size() == 4u + 20u + 32u);
    const wire::Decoded d = wire::decode(wire::encode(h, &*key), &*key);
    BOOST_TEST((d.reject == wire::Reject::none));
    BOOST_TEST(static_cast<int>(d.heartbeat.flag) == 2);
    BOOST_TEST(d.heartbeat.timestamp == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
