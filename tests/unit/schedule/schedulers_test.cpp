// SPDX-License-Identifier: GPL-2.0-or-later
// The schedulers of DESIGN §6 through make_scheduler: exact choice sequences, the nodes that
// must never be chosen, the herd effect of least-loaded and how shell's assignment-cost
// correction spreads the same picks. Loads in the herd tests are multiples of 1/64, so every
// sum is exact and ties really are ties.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <deque>
#include <set>
#include <typeinfo>
#include <utility>
#include <vector>

#include "daemon/schedule/least_loaded.hpp"
#include "daemon/schedule/load_estimates.hpp"
#include "daemon/schedule/round_robin.hpp"
#include "daemon/schedule/scheduler.hpp"
#include "daemon/schedule/shell.hpp"
#include "daemon/schedule/two_choices.hpp"
#include "daemon/schedule/weighted_round_robin.hpp"

using namespace sara;

namespace {

using Algorithm = SchedulerAlgorithm;
const Algorithm kAllAlgorithms[] = {Algorithm::shell,          Algorithm::round_robin,
                                    Algorithm::weighted_round_robin, Algorithm::least_sessions,
                                    Algorithm::least_loaded,   Algorithm::two_choices};

// Returns the below() values the test scripted, in order, and records each bound asked for.
// uniform() is not part of any scheduler's contract, so a call to it fails the test.
class ScriptedRandom final : public Random {
public:
    explicit ScriptedRandom(std::deque<uint64_t> draws) : draws_(std::move(draws)) {}
    double uniform() override {
        BOOST_ERROR("unexpected uniform() draw");
        return 0;
    }
    uint64_t below(uint64_t bound) override {
        bounds.push_back(bound);
        if (draws_.empty()) {
            BOOST_ERROR("unscripted below(" << bound << ") draw");
            return 0;
        }
        const uint64_t v = draws_.front();
        draws_.pop_front();
        BOOST_TEST(v < bound);
        return v;
    }
    bool exhausted() const { return draws_.empty(); }
    std::vector<uint64_t> bounds;

private:
    std::deque<uint64_t> draws_;
};

std::unique_ptr<Scheduler> make(Algorithm algorithm, Random& random, uint32_t window = 8) {
    return make_scheduler(SchedulerConfig{algorithm, window}, random);
}

// `count` picks; each adds a session to the chosen node, as the dispatcher's table would.
std::vector<NodeId> picks(Scheduler& scheduler, std::vector<NodeView>& nodes, size_t count) {
    std::vector<NodeId> got;
    for (size_t i = 0; i < count; ++i) {
        const NodeId id = scheduler.pick(nodes);
        got.push_back(id);
        for (NodeView& v : nodes)
            if (v.id == id) ++v.sessions;
    }
    return got;
}

void check_near(double got, double want, const char* what) {
    BOOST_TEST_INFO(what << ": got " << got << ", want " << want);
    BOOST_TEST(std::fabs(got - want) < 1e-12);
}

// One report each (err 1, so the estimate is the report itself), every node's cost 2/64:
// node 1 load 16/64 with 8 sessions, node 2 18/64 with 9, node 3 20/64 with 10.
void report_herd_loads(Scheduler& scheduler) {
    scheduler.on_load_report(1, 16.0 / 64, 8);
    scheduler.on_load_report(2, 18.0 / 64, 9);
    scheduler.on_load_report(3, 20.0 / 64, 10);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schedulers)

BOOST_AUTO_TEST_CASE(factory_makes_the_configured_algorithm) {
    struct Case {
        Algorithm algorithm;
        const std::type_info& type;
    };
    const Case cases[] = {
        {Algorithm::shell, typeid(ShellScheduler)},
        {Algorithm::round_robin, typeid(RoundRobinScheduler)},
        {Algorithm::weighted_round_robin, typeid(WeightedRoundRobinScheduler)},
        {Algorithm::least_sessions, typeid(LeastSessionsScheduler)},
        {Algorithm::least_loaded, typeid(LeastLoadedScheduler)},
        {Algorithm::two_choices, typeid(TwoChoicesScheduler)},
    };
    SeededRandom random(1);
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(to_string(c.algorithm)) {
            const auto scheduler = make(c.algorithm, random);
            const Scheduler& made = *scheduler;
            BOOST_TEST((typeid(made) == c.type));
        }
    }
}

BOOST_AUTO_TEST_CASE(factory_passes_the_window) {
    // Reports 0.1 0.5 0.5; the third was forecast at 0.9, so err = |0.9 − 0.5| / 0.5 = 0.8.
    // T = 2 keeps 0.5 0.5: forecast 0.5, estimate 0.2·0.5 + 0.8·0.5 = 0.5.
    // T = 8 keeps all three: ȳ = 11/30, slope 0.2, forecast 11/30 + 0.4 = 23/30;
    // estimate = 0.2·23/30 + 0.8·0.5 = 0.553333…
    for (Algorithm algorithm : {Algorithm::shell, Algorithm::two_choices}) {
        BOOST_TEST_CONTEXT(to_string(algorithm)) {
            SeededRandom random(1);
            const auto narrow = make(algorithm, random, 2);
            const auto wide = make(algorithm, random, 8);
            for (double load : {0.1, 0.5, 0.5}) {
                narrow->on_load_report(1, load, 0);
                wide->on_load_report(1, load, 0);
            }
            check_near(narrow->estimate(1), 0.5, "window 2");
            check_near(wide->estimate(1), 0.2 * 23 / 30 + 0.4, "window 8");
        }
    }
}

BOOST_AUTO_TEST_CASE(no_node_available_gives_no_node) {
    struct Case {
        const char* description;
        std::vector<NodeView> nodes;
    };
    const Case cases[] = {
        {"empty list", {}},
        {"all unavailable", {{1, 1, false, 0}, {2, 3, false, 0}}},
        {"all weight 0", {{1, 0, true, 0}, {2, 0, true, 0}}},
        {"unavailable or weight 0", {{4, 0, true, 0}, {9, 2, false, 0}}},
    };
    for (Algorithm algorithm : kAllAlgorithms) {
        for (const Case& c : cases) {
            BOOST_TEST_CONTEXT(to_string(algorithm) << ": " << c.description) {
                ScriptedRandom random({});  // no draw may happen with nothing to choose from
                const auto scheduler = make(algorithm, random);
                std::vector<NodeView> nodes = c.nodes;
                const std::vector<NodeId> want(3, kNoNode);
                BOOST_TEST(picks(*scheduler, nodes, 3) == want, boost::test_tools::per_element());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(only_available_weighted_nodes_are_chosen) {
    // Ids neither dense nor sorted; 3 and 5 are the only eligible ones. The ineligible ones
    // report load 0, the lowest, so a load-based scheduler would want them if it let them in.
    for (Algorithm algorithm : kAllAlgorithms) {
        BOOST_TEST_CONTEXT(to_string(algorithm)) {
            SeededRandom random(7);
            const auto scheduler = make(algorithm, random);
            std::vector<NodeView> nodes = {
                {10, 1, false, 0}, {3, 2, true, 0}, {7, 0, true, 0}, {5, 1, true, 0}, {200, 1, false, 0}};
            for (NodeId id : {10, 7, 200}) scheduler->on_load_report(id, 0.0, 0);
            scheduler->on_load_report(3, 0.5, 10);
            scheduler->on_load_report(5, 0.5, 10);
            const std::vector<NodeId> got = picks(*scheduler, nodes, 200);
            const std::set<NodeId> chosen(got.begin(), got.end());
            BOOST_TEST((chosen == std::set<NodeId>{3, 5}));
        }
    }
}

BOOST_AUTO_TEST_CASE(estimate_is_negative_when_load_is_not_tracked) {
    for (Algorithm algorithm : {Algorithm::round_robin, Algorithm::weighted_round_robin, Algorithm::least_sessions}) {
        BOOST_TEST_CONTEXT(to_string(algorithm)) {
            SeededRandom random(1);
            const auto scheduler = make(algorithm, random);
            scheduler->on_load_report(1, 0.5, 3);
            BOOST_TEST(scheduler->estimate(1) < 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(rotation_sequences) {
    struct Case {
        const char* description;
        Algorithm algorithm;
        std::vector<NodeView> nodes;
        std::vector<NodeId> expected;
    };
    const Case cases[] = {
        {"round-robin: list order, not id order", Algorithm::round_robin,
         {{5, 1, true, 0}, {2, 1, true, 0}, {9, 1, false, 0}, {7, 1, true, 0}}, {5, 2, 7, 5, 2, 7}},
        {"round-robin: weights ignored", Algorithm::round_robin, {{1, 3, true, 0}, {2, 1, true, 0}}, {1, 2, 1, 2}},
        {"round-robin: weight 0 skipped", Algorithm::round_robin,
         {{1, 1, true, 0}, {2, 0, true, 0}, {3, 1, true, 0}}, {1, 3, 1, 3}},
        // nginx's example. current after +w, pick, −7:  (5,1,1) a → (−2,1,1); (3,2,2) a → (−4,2,2);
        // (1,3,3) b → (1,−4,3); (6,−3,4) a → (−1,−3,4); (4,−2,5) c → (4,−2,−2);
        // (9,−1,−1) a → (2,−1,−1); (7,0,0) a → (0,0,0): the cycle repeats.
        {"weighted-round-robin: smooth 5:1:1", Algorithm::weighted_round_robin,
         {{1, 5, true, 0}, {2, 1, true, 0}, {3, 1, true, 0}}, {1, 1, 2, 1, 3, 1, 1, 1, 1, 2, 1, 3, 1, 1}},
        {"weighted-round-robin: equal weights alternate", Algorithm::weighted_round_robin,
         {{8, 2, true, 0}, {4, 2, true, 0}}, {8, 4, 8, 4}},
        // Only 1 (w 3) and 4 (w 1) count, total 4: (3,1) 1 → (−1,1); (2,2) tie, first → (−2,2);
        // (1,3) 4 → (1,−1); (4,0) 1 → (0,0).
        {"weighted-round-robin: unavailable and weight 0 skipped", Algorithm::weighted_round_robin,
         {{1, 3, true, 0}, {2, 0, true, 0}, {3, 1, false, 0}, {4, 1, true, 0}}, {1, 1, 4, 1, 1, 1, 4, 1}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            SeededRandom random(1);
            const auto scheduler = make(c.algorithm, random);
            std::vector<NodeView> nodes = c.nodes;
            BOOST_TEST(picks(*scheduler, nodes, c.expected.size()) == c.expected,
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(round_robin_skips_a_node_while_it_is_unavailable) {
    SeededRandom random(1);
    const auto scheduler = make(Algorithm::round_robin, random);
    std::vector<NodeView> nodes = {{1, 1, true, 0}, {2, 1, true, 0}, {3, 1, true, 0}};
    BOOST_TEST(scheduler->pick(nodes) == 1);
    nodes[1].available = false;
    BOOST_TEST(scheduler->pick(nodes) == 3);
    BOOST_TEST(scheduler->pick(nodes) == 1);
    nodes[1].available = true;
    BOOST_TEST(scheduler->pick(nodes) == 2);  // back in its turn
}

BOOST_AUTO_TEST_CASE(herd_least_loaded_sends_every_pick_to_one_node) {
    SeededRandom random(1);
    const auto scheduler = make(Algorithm::least_loaded, random);
    report_herd_loads(*scheduler);
    std::vector<NodeView> nodes = {{1, 1, true, 8}, {2, 1, true, 9}, {3, 1, true, 10}};
    // No report in between: node 1 stays at 16/64, the lowest, and takes all ten.
    const std::vector<NodeId> want(10, 1);
    BOOST_TEST(picks(*scheduler, nodes, 10) == want, boost::test_tools::per_element());
    check_near(scheduler->estimate(1), 16.0 / 64, "node 1 after ten sessions");
}

BOOST_AUTO_TEST_CASE(herd_shell_spreads_the_same_picks) {
    SeededRandom random(1);
    const auto scheduler = make(Algorithm::shell, random);
    report_herd_loads(*scheduler);
    std::vector<NodeView> nodes = {{1, 1, true, 8}, {2, 1, true, 9}, {3, 1, true, 10}};
    // Estimates in 64ths, each pick adds 2 to the chosen node; ties go to the node after the
    // previous pick:
    //   (16,18,20) 1 · (18,18,20) tie after 1 → 2 · (18,20,20) 1 · (20,20,20) after 1 → 2 ·
    //   (20,22,20) tie after 2 → 3 · (20,22,22) 1 · (22,22,22) after 1 → 2 ·
    //   (22,24,22) after 2 → 3 · (22,24,24) 1 · (24,24,24) after 1 → 2  ⇒  4, 4 and 2 sessions.
    const std::vector<NodeId> want = {1, 2, 1, 2, 3, 1, 2, 3, 1, 2};
    BOOST_TEST(picks(*scheduler, nodes, 10) == want, boost::test_tools::per_element());
    check_near(scheduler->estimate(1), 24.0 / 64, "node 1: 16 + 4·2");
    check_near(scheduler->estimate(2), 26.0 / 64, "node 2: 18 + 4·2");
    check_near(scheduler->estimate(3), 24.0 / 64, "node 3: 20 + 2·2");
}

BOOST_AUTO_TEST_CASE(shell_cost_correction_rules) {
    SeededRandom random(1);
    const auto scheduler = make(Algorithm::shell, random);
    std::vector<NodeView> nodes = {{6, 1, true, 0}, {4, 1, true, 0}};
    // No report yet: load 0 plus the default cost per assigned session; equal nodes take turns.
    BOOST_TEST(picks(*scheduler, nodes, 4) == (std::vector<NodeId>{6, 4, 6, 4}), boost::test_tools::per_element());
    check_near(scheduler->estimate(6), 2 * LoadEstimates::kDefaultSessionCost, "two default-cost sessions");
    check_near(scheduler->estimate(99), 0, "a node never seen");

    // A report with 0 sessions teaches no cost: the default stays; the pending count resets.
    scheduler->on_load_report(6, 0.1, 0);
    check_near(scheduler->estimate(6), 0.1, "report resets the pending sessions");
    nodes = {{6, 1, true, 0}};
    picks(*scheduler, nodes, 1);
    check_near(scheduler->estimate(6), 0.1 + LoadEstimates::kDefaultSessionCost, "default cost kept");

    // 0.2 with 4 sessions: cost 0.05. Reports 0.1 0.2: err = |0.1 − 0.2| / 0.2 = 0.5,
    // forecast 0.3, estimate 0.5·0.3 + 0.5·0.2 = 0.25; one session → 0.30.
    scheduler->on_load_report(6, 0.2, 4);
    picks(*scheduler, nodes, 1);
    check_near(scheduler->estimate(6), 0.25 + 0.05, "learned cost 0.2/4");

    // 0.3 with 0 sessions keeps the cost 0.05. Reports 0.1 0.2 0.3: 0.3 was forecast (err 0),
    // forecast 0.4 is the estimate; two sessions → 0.5.
    scheduler->on_load_report(6, 0.3, 0);
    picks(*scheduler, nodes, 2);
    check_near(scheduler->estimate(6), 0.4 + 2 * 0.05, "cost kept across a 0-session report");
}

BOOST_AUTO_TEST_CASE(shell_prefers_the_falling_trend) {
    // Same last sample 0.6. Rising 0.2 0.4 0.6: err 0, forecast = estimate 0.8.
    // Falling 1.0 0.8 0.6: err 0, forecast = estimate 0.4. Cost 0.6/10 = 0.06 each.
    // Falling node 2 wins while 0.4 + 0.06·k < 0.8, k = 0..6 (0.76); then 0.82 > 0.8 → node 1.
    // least-loaded sees the tie 0.6 = 0.6 and alternates.
    struct Case {
        Algorithm algorithm;
        std::vector<NodeId> expected;
    };
    const Case cases[] = {
        {Algorithm::shell, {2, 2, 2, 2, 2, 2, 2, 1}},
        {Algorithm::least_loaded, {1, 2, 1, 2, 1, 2, 1, 2}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(to_string(c.algorithm)) {
            SeededRandom random(1);
            const auto scheduler = make(c.algorithm, random);
            for (double load : {0.2, 0.4, 0.6}) scheduler->on_load_report(1, load, 10);
            for (double load : {1.0, 0.8, 0.6}) scheduler->on_load_report(2, load, 10);
            std::vector<NodeView> nodes = {{1, 1, true, 10}, {2, 1, true, 10}};
            BOOST_TEST(picks(*scheduler, nodes, c.expected.size()) == c.expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(two_choices_scripted_draws) {
    // Available in list order: 1 (0.5), 3 (0.2), 4 (0.4); 2 is down and 5 has weight 0.
    // Each cost: load/10 sessions. Draws: a = below(3) indexes them, b = below(2), +1 if ≥ a.
    struct Case {
        const char* description;
        std::deque<uint64_t> draws;
        std::vector<NodeId> expected;
    };
    const Case cases[] = {
        // (0,0): 1 vs 3 → 3 (0.2 → 0.22). (2,0): 4 vs 1 → 4 (0.4 → 0.44).
        // (1,1): 3 vs 4 → 3 (0.22 → 0.24). (2,1): 4 (0.44) vs 3 (0.24) → 3.
        {"lower estimate wins, costs included", {0, 0, 2, 0, 1, 1, 2, 1}, {3, 4, 3, 3}},
        // (0,1): 1 vs 4 → 4 (0.44). (0,1) again: 1 (0.5) vs 4 (0.44) → 4 (0.48).
        // (0,1): 1 (0.5) vs 4 (0.48) → 4 (0.52). (0,1): 1 (0.5) vs 4 (0.52) → 1.
        {"the cost correction turns a repeated pair", {0, 1, 0, 1, 0, 1, 0, 1}, {4, 4, 4, 1}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ScriptedRandom random(c.draws);
            const auto scheduler = make(Algorithm::two_choices, random);
            scheduler->on_load_report(1, 0.5, 10);
            scheduler->on_load_report(3, 0.2, 10);
            scheduler->on_load_report(4, 0.4, 10);
            std::vector<NodeView> nodes = {
                {1, 1, true, 10}, {2, 1, false, 0}, {3, 1, true, 10}, {4, 1, true, 10}, {5, 0, true, 0}};
            BOOST_TEST(picks(*scheduler, nodes, c.expected.size()) == c.expected, boost::test_tools::per_element());
            BOOST_TEST(random.exhausted());
            const std::vector<uint64_t> bounds = {3, 2, 3, 2, 3, 2, 3, 2};
            BOOST_TEST(random.bounds == bounds, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(two_choices_ties_and_single_node) {
    // Neither node reported: estimates 0 = 0, so the first drawn wins: (1,0) → 2 (now 0.01).
    // Then (0,0): 1 (0) vs 2 (0.01) → 1.
    ScriptedRandom random({1, 0, 0, 0});
    const auto scheduler = make(Algorithm::two_choices, random);
    std::vector<NodeView> nodes = {{1, 1, true, 0}, {2, 1, true, 0}};
    BOOST_TEST(picks(*scheduler, nodes, 2) == (std::vector<NodeId>{2, 1}), boost::test_tools::per_element());

    // One available node is taken without a draw (the script is empty now).
    nodes[0].available = false;
    BOOST_TEST(picks(*scheduler, nodes, 2) == (std::vector<NodeId>{2, 2}), boost::test_tools::per_element());
    BOOST_TEST(random.bounds.size() == 4u);
}

BOOST_AUTO_TEST_CASE(two_choices_estimates_like_shell) {
    SeededRandom random(3);
    const auto shell = make(Algorithm::shell, random);
    const auto two = make(Algorithm::two_choices, random);
    for (double load : {0.3, 0.5, 0.45, 0.6}) {
        shell->on_load_report(9, load, 12);
        two->on_load_report(9, load, 12);
    }
    std::vector<NodeView> nodes = {{9, 1, true, 12}};
    picks(*shell, nodes, 3);
    picks(*two, nodes, 3);
    BOOST_TEST(two->estimate(9) == shell->estimate(9));
    BOOST_TEST(shell->estimate(9) > 0.6);
}

BOOST_AUTO_TEST_SUITE_END()
