// SPDX-License-Identifier: GPL-2.0-or-later
// SA2C (DESIGN §5): every equation pinned with hand-computed values; the arithmetic is in the
// comments. Eq. 1, 2 and 4 are tested alone (sa2c_equations.hpp), then through Sa2cAdmission
// with the forecaster, a ManualClock and a scripted Random.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <vector>

#include "daemon/admit/sa2c.hpp"
#include "daemon/admit/sa2c_equations.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Absolute tolerance: the expected values are written with up to 12 significant digits.
#define CHECK_NEAR(got, want)                                                              \
    BOOST_TEST(std::fabs((got) - (want)) <= 1e-9,                                          \
               #got " = " << std::setprecision(17) << (got) << ", expected " << (want))

// Uniforms handed out in order; a draw past the script or a call to below() fails the test,
// so a test also pins how many draws SA2C takes.
class ScriptedRandom final : public Random {
public:
    explicit ScriptedRandom(std::vector<double> uniforms = {}) : uniforms_(std::move(uniforms)) {}
    double uniform() override {
        BOOST_REQUIRE_MESSAGE(next_ < uniforms_.size(), "uniform() drawn more often than scripted");
        return uniforms_[next_++];
    }
    uint64_t below(uint64_t) override {
        BOOST_FAIL("SA2C does not draw integers");
        return 0;
    }
    size_t drawn() const { return next_; }

private:
    std::vector<double> uniforms_;
    size_t next_ = 0;
};

// Thresholds exact in binary, so p and the paced intervals come out exact:
// t1 0.5, t2 0.75, t3 0.875, capacity 1; T_0 = 200 ms.
// The values these cases were worked out with (they were the defaults once): alpha 0.9,
// t1 0.70, t2 0.85, t3 0.95, capacity 1. Spelled out so a change of defaults leaves them valid.
AdmissionConfig worked_config() {
    AdmissionConfig config;
    config.alpha = 0.9;
    config.t1 = 0.70;
    config.t2 = 0.85;
    config.t3 = 0.95;
    config.capacity = 1.0;
    return config;
}

AdmissionConfig dyadic_config(DropMode mode = DropMode::random) {
    AdmissionConfig config;
    config.t1 = 0.5;
    config.t2 = 0.75;
    config.t3 = 0.875;
    config.capacity = 1.0;
    config.interval = 200ms;
    config.drop_mode = mode;
    return config;
}

// One node at load 0: l_c = α·0 + (1 − α)·0 = 0 for any α, so m follows the head load alone.
const std::vector<double> kIdleNode{0.0};

const AdmissionThresholds kDefaultThresholds{0.70, 0.85, 0.95, 1.0};  // AdmissionConfig defaults

}  // namespace

BOOST_AUTO_TEST_SUITE(sa2c)

BOOST_AUTO_TEST_CASE(eq1_cluster_load) {
    struct Case {
        const char* description;
        std::vector<double> loads;
        double alpha;
        double expected;
    };
    const Case cases[] = {
        // mean 0.7, var ((−0.1)² + 0.1²)/2 = 0.01; 0.9·0.7 + 0.1·0.01 = 0.63 + 0.001
        {"two nodes, default alpha", {0.6, 0.8}, 0.9, 0.631},
        // mean 0.5, var 0; 0.9·0.5
        {"one node", {0.5}, 0.9, 0.45},
        // mean 0.5, deviations −0.3, −0.1, 0.4: var (0.09 + 0.01 + 0.16)/3 = 0.26/3;
        // 0.5·0.5 + 0.5·0.26/3 = 0.25 + 0.0433333…
        {"three nodes, alpha 0.5", {0.2, 0.4, 0.9}, 0.5, 0.25 + 0.13 / 3},
        // mean 0.5, var 0.25; α = 0: the variance alone
        {"alpha 0 is the variance", {0.0, 1.0}, 0.0, 0.25},
        // α = 1: the mean alone
        {"alpha 1 is the mean", {0.0, 1.0}, 1.0, 0.5},
        {"equal loads have no variance", {0.3, 0.3, 0.3, 0.3}, 0.0, 0.0},
        // every node full: mean 1, var 0; 0.9·1 — with the default α the cluster load alone
        // never exceeds 0.9, below the default t3 = 0.95
        {"all nodes full, default alpha", {1.0, 1.0, 1.0}, 0.9, 0.9},
        {"no node available reads full", {}, 0.9, 1.0},
        {"no node available, alpha 0", {}, 0.0, 1.0},
        // clamped to {1, 0}: mean 0.5, var 0.25; 0.45 + 0.025
        {"loads outside [0, 1] are clamped", {1.5, -0.2}, 0.9, 0.475},
        // NaN reads 0: {0, 0.8}: mean 0.4, var 0.16; 0.36 + 0.016
        {"NaN load reads 0", {kNaN, 0.8}, 0.9, 0.376},
        // +inf is 1: {1, 0.4}: mean 0.7, var 0.09; 0.63 + 0.009
        {"infinite load reads 1", {kInf, 0.4}, 0.9, 0.639},
        // α clamped to 1: mean of {0.6, 0.8}
        {"alpha above 1 is 1", {0.6, 0.8}, 1.5, 0.7},
        // α clamped to 0: var of {0.6, 0.8}
        {"alpha below 0 is 0", {0.6, 0.8}, -1.0, 0.01},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) { CHECK_NEAR(cluster_load(c.loads, c.alpha), c.expected); }
    }
}

BOOST_AUTO_TEST_CASE(eq2_rows_and_boundaries) {
    struct Case {
        const char* description;
        double m;
        double p_new;
        double p_established;
    };
    // Thresholds 0.70 / 0.85 / 0.95, capacity 1.
    const Case cases[] = {
        {"idle", 0.0, 0, 0},
        {"negative m reads as idle", -0.5, 0, 0},
        {"NaN m reads as 0", kNaN, 0, 0},
        {"just below t1", 0.69, 0, 0},
        {"exactly t1 admits all", 0.70, 0, 0},
        {"ramp: (0.73 − 0.7)/(0.85 − 0.7) = 0.03/0.15", 0.73, 0.2, 0},
        {"ramp: 0.075/0.15", 0.775, 0.5, 0},
        {"exactly t2: (0.85 − 0.7)/(0.85 − 0.7)", 0.85, 1, 0},
        {"between t2 and t3", 0.9, 1, 0},
        {"exactly t3 keeps established flows", 0.95, 1, 0},
        {"degrade: (0.975 − 0.95)/(1 − 0.95) = 0.025/0.05", 0.975, 1, 0.5},
        {"degrade: 0.04/0.05", 0.99, 1, 0.8},
        {"exactly capacity drops all", 1.0, 1, 1},
        {"forecast above capacity drops all", 1.3, 1, 1},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const DropProbabilities p = drop_probabilities(c.m, kDefaultThresholds);
            CHECK_NEAR(p.new_session, c.p_new);
            CHECK_NEAR(p.established, c.p_established);
        }
    }
}

BOOST_AUTO_TEST_CASE(eq2_degenerate_thresholds_never_divide_by_zero) {
    struct Case {
        const char* description;
        AdmissionThresholds thresholds;
        double m;
        double p_new;
        double p_established;
    };
    const Case cases[] = {
        {"t1 == t2: 0 at t1", {0.8, 0.8, 0.9, 1.0}, 0.8, 0, 0},
        {"t1 == t2: 1 just above (no ramp)", {0.8, 0.8, 0.9, 1.0}, 0.8000001, 1, 0},
        {"t2 == t3: at t3 new only", {0.7, 0.9, 0.9, 1.0}, 0.9, 1, 0},
        {"t2 == t3: degrade (0.95 − 0.9)/(1 − 0.9)", {0.7, 0.9, 0.9, 1.0}, 0.95, 1, 0.5},
        {"t3 == capacity: below it no degradation", {0.7, 0.85, 1.0, 1.0}, 0.99, 1, 0},
        {"t3 == capacity: at it everything (capacity row first)", {0.7, 0.85, 1.0, 1.0}, 1.0, 1, 1},
        {"all equal: below", {0.5, 0.5, 0.5, 0.5}, 0.4, 0, 0},
        {"all equal: at capacity drops all", {0.5, 0.5, 0.5, 0.5}, 0.5, 1, 1},
        {"capacity 0 (rejected by config) drops all", {0.0, 0.0, 0.0, 0.0}, 0.0, 1, 1},
        // t2 < t1 (rejected by config): the ramp row is empty, so a step from 0 to 1 at t1
        {"t2 below t1 (rejected by config)", {0.8, 0.6, 0.9, 1.0}, 0.85, 1, 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const DropProbabilities p = drop_probabilities(c.m, c.thresholds);
            CHECK_NEAR(p.new_session, c.p_new);
            CHECK_NEAR(p.established, c.p_established);
        }
    }
}

BOOST_AUTO_TEST_CASE(eq4_one_interval) {
    struct Case {
        const char* description;
        double t2, t3;  // current (moved) thresholds
        double m;
        double expected_t2, expected_t3;
    };
    // Configured 0.70 / 0.85 / 0.95, capacity 1.
    const Case cases[] = {
        {"m between t1 and t2 moves nothing", 0.85, 0.95, 0.8, 0.85, 0.95},
        // t2 = 0.85 − (0.9 − 0.85) = 0.8; m < t3
        {"m above t2 lowers t2 linearly", 0.85, 0.95, 0.9, 0.8, 0.95},
        // t2 = 0.85 − (0.95 − 0.85) = 0.75; m − t3 = 0
        {"m exactly t3 moves t2 only", 0.85, 0.95, 0.95, 0.75, 0.95},
        // t2 = 0.85 − 0.12 = 0.73; t3 = 0.95·(1 − 0.02) = 0.931
        {"m above t3 lowers t3 multiplicatively", 0.85, 0.95, 0.97, 0.73, 0.931},
        // t2 = max(0.7, 0.85 − 0.35) = 0.7; t3 = max(0.85, 0.95·(1 − 0.25) = 0.7125) = 0.85
        {"t2 floored at t1, t3 at the configured t2", 0.85, 0.95, 1.2, 0.7, 0.85},
        // t3 = max(0.85, 0.95·(1 − 1.55) < 0) = 0.85
        {"t3 never below the configured t2", 0.85, 0.95, 2.5, 0.7, 0.85},
        // t3 = max(0.85, 0.9·(1 − 0.08)) = max(0.85, 0.828) = 0.85 (a moved t2 of 0.7 does not lower it)
        {"t3 floored at the configured t2, not the moved one", 0.7, 0.9, 0.98, 0.7, 0.85},
        {"moved thresholds do not climb back above t1", 0.75, 0.9, 0.72, 0.75, 0.9},
        {"m exactly t1 resets", 0.73, 0.931, 0.7, 0.85, 0.95},
        {"m below t1 resets", 0.7, 0.7, 0.5, 0.85, 0.95},
        {"NaN m reads 0 and resets", 0.73, 0.931, kNaN, 0.85, 0.95},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const AdmissionThresholds current{0.70, c.t2, c.t3, 1.0};
            const AdmissionThresholds next = move_thresholds(current, kDefaultThresholds, c.m);
            CHECK_NEAR(next.t2, c.expected_t2);
            CHECK_NEAR(next.t3, c.expected_t3);
            CHECK_NEAR(next.t1, 0.70);
            CHECK_NEAR(next.capacity, 1.0);
        }
    }
}

BOOST_AUTO_TEST_CASE(eq4_over_several_intervals) {
    struct Step {
        double m;
        double t2, t3;
    };
    const Step steps[] = {
        {0.9, 0.8, 0.95},          // t2 = 0.85 − 0.05; m < t3
        {0.9, 0.7, 0.95},          // t2 = 0.8 − 0.1
        {0.96, 0.7, 0.9405},       // t2 = max(0.7, 0.7 − 0.26); t3 = 0.95·(1 − 0.01)
        {0.96, 0.7, 0.92216025},   // t3 = 0.9405·(1 − 0.0195) = 0.9405·0.9805
        {0.8, 0.7, 0.92216025},    // t1 < m < t3: nothing moves, nothing resets
        {0.7, 0.85, 0.95},         // m = t1: reset
    };
    AdmissionThresholds thresholds = kDefaultThresholds;
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT("m = " << s.m << ", after t2 = " << thresholds.t2) {
            thresholds = move_thresholds(thresholds, kDefaultThresholds, s.m);
            CHECK_NEAR(thresholds.t2, s.t2);
            CHECK_NEAR(thresholds.t3, s.t3);
        }
    }
}

BOOST_AUTO_TEST_CASE(larger_of_head_and_cluster_load_decides) {
    struct Case {
        const char* description;
        std::vector<double> node_loads;
        double head_load;
        double cluster, measured, p_new, p_established;
    };
    // Default config: α 0.9, thresholds 0.70 / 0.85 / 0.95 / 1. A fresh object's first sample is
    // its own forecast (forecaster error 1), so m = measured.
    const Case cases[] = {
        // l_c = 0.9·0.5 = 0.45 < head 0.8; p = (0.8 − 0.7)/0.15
        {"head load dominates", {0.5, 0.5}, 0.8, 0.45, 0.8, 0.1 / 0.15, 0},
        // l_c = 0.9·0.9 = 0.81 > head 0.3; p = 0.11/0.15
        {"cluster load dominates", {0.9, 0.9}, 0.3, 0.81, 0.81, 0.11 / 0.15, 0},
        // l_c = 0.631 (eq. 1 example) ≤ t1
        {"both below t1", {0.6, 0.8}, 0.2, 0.631, 0.631, 0, 0},
        {"no node available", {}, 0.1, 1.0, 1.0, 1, 1},
        {"head load above 1 is 1", {0.5}, 1.7, 0.45, 1.0, 1, 1},
        {"infinite head load is 1", {0.5}, kInf, 0.45, 1.0, 1, 1},
        // head NaN reads 0; loads {0, 1, 0}: mean 1/3, var (1/9 + 4/9 + 1/9)/3 = 2/9;
        // l_c = 0.9/3 + 0.1·2/9 = 0.3 + 0.0222…
        {"NaN inputs read 0", {kNaN, 2.0, -1.0}, kNaN, 0.3 + 0.2 / 9, 0.3 + 0.2 / 9, 0, 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ManualClock clock;
            ScriptedRandom random;
            Sa2cAdmission admission(worked_config(), 4, clock, random);
            admission.update(c.node_loads, c.head_load);
            const AdmissionState& s = admission.state();
            CHECK_NEAR(s.cluster_load, c.cluster);
            CHECK_NEAR(s.measured, c.measured);
            CHECK_NEAR(s.m, c.measured);
            CHECK_NEAR(s.p_new, c.p_new);
            CHECK_NEAR(s.p_established, c.p_established);
            CHECK_NEAR(admission.established_drop_probability(), c.p_established);
            BOOST_TEST(admission.updates() == 1u);
        }
    }
}

// Eq. 4 runs before eq. 2 in the same update, so p_established uses the moved t3.
BOOST_AUTO_TEST_CASE(moved_thresholds_apply_in_the_same_interval) {
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(dyadic_config(), 2, clock, random);
    admission.update(kIdleNode, 0.9375);
    const AdmissionState& s = admission.state();
    // t2 = max(0.5, 0.75 − (0.9375 − 0.75)) = 0.5625
    CHECK_NEAR(s.t2, 0.5625);
    // t3 = max(0.5625, 0.875·(1 − (0.9375 − 0.875))) = 0.875·0.9375 = 0.8203125
    CHECK_NEAR(s.t3, 0.8203125);
    CHECK_NEAR(s.p_new, 1.0);
    // (0.9375 − 0.8203125)/(1 − 0.8203125) = 0.1171875/0.1796875 = 15/23
    // (with the configured t3 it would be 0.0625/0.125 = 0.5)
    CHECK_NEAR(s.p_established, 15.0 / 23.0);
    CHECK_NEAR(admission.established_drop_probability(), 15.0 / 23.0);
}

// Window 2: the forecast is the line through the last two samples a, b at the next point,
// 2b − a; eq. 7 err = |previous forecast − b| / b; m = (1 − err)·forecast + err·b.
BOOST_AUTO_TEST_CASE(rising_load_is_forecast_above_the_last_sample) {
    struct Step {
        double head;
        double m, t2, t3, p_new, p_established;
    };
    const Step steps[] = {
        // one sample: m = 0.8; p = 0.1/0.15
        {0.8, 0.8, 0.85, 0.95, 0.1 / 0.15, 0},
        // forecast 2·0.9 − 0.8 = 1.0; err = |0.8 − 0.9|/0.9 = 1/9; m = 8/9·1.0 + 0.9/9 = 8.9/9
        // t2 = 0.85 − (8.9/9 − 0.85) = 6.4/9; t3 = 0.95·(1 − (8.9/9 − 0.95)) = 8.2175/9
        // p_est at min(m, measured 0.9) = 0.9 <= t3 = 8.2175/9 = 0.91305…: 0 (the forecast
        // alone, 8.9/9, would have degraded established flows with 0.6825/0.7825)
        {0.9, 8.9 / 9, 6.4 / 9, 8.2175 / 9, 1, 0},
        // previous forecast 1.0 = sample: err 0; m = 2·1.0 − 0.9 = 1.1 > capacity, and the
        // measured 1.0 is at capacity too: p_est 1
        // t2 = max(0.7, 6.4/9 − (1.1 − 6.4/9)) = 0.7;
        // t3 = max(0.85, 8.2175/9·(1 − (1.1 − 8.2175/9)) = 0.7424) = 0.85 (the configured t2)
        {1.0, 1.1, 0.7, 0.85, 1, 1},
    };
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(worked_config(), 2, clock, random);
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT("head load " << s.head) {
            admission.update(kIdleNode, s.head);
            const AdmissionState& st = admission.state();
            CHECK_NEAR(st.measured, s.head);
            CHECK_NEAR(st.m, s.m);
            CHECK_NEAR(st.t2, s.t2);
            CHECK_NEAR(st.t3, s.t3);
            CHECK_NEAR(st.p_new, s.p_new);
            CHECK_NEAR(st.p_established, s.p_established);
        }
    }
    BOOST_TEST(admission.state().m > admission.state().measured);
    BOOST_TEST(admission.updates() == 3u);
}

// Up through every row and back down, window 2, thresholds 0.5 / 0.75 / 0.875 / 1.
// Per step: F' = previous forecast, err = |F' − s|/s, F = 2s − s_prev,
// m = (1 − err)·F + err·s.
BOOST_AUTO_TEST_CASE(threshold_crossings_up_and_down) {
    struct Step {
        const char* description;
        double head;
        double m, t2, t3, p_new, p_established;
    };
    const double t3_a = 0.875 * (1 - (12.4375 / 13 - 0.875));  // 0.80348557…
    const double t3_b = t3_a * (1 - (0.8125 - t3_a));            // 0.79624261…
    const Step steps[] = {
        {"idle", 0.25, 0.25, 0.75, 0.875, 0, 0},
        {"idle, F = 0.25, err 0", 0.25, 0.25, 0.75, 0.875, 0, 0},
        // F' 0.25, err 0.375/0.625 = 0.6, F = 1.25 − 0.25 = 1.0; m = 0.4 + 0.375 = 0.775
        // t2 = 0.75 − 0.025 = 0.725; m > t2 → 1: the step's overshoot rejects all new sessions
        {"step up overshoots past t2", 0.625, 0.775, 0.725, 0.875, 1, 0},
        // F' 1.0, err 0.6, F = 0.625 = s → m 0.625; t2 stays 0.725 (m < t2)
        // p = (0.625 − 0.5)/(0.725 − 0.5) = 0.125/0.225 (configured t2 would give 0.5)
        {"plateau on the ramp with moved t2", 0.625, 0.625, 0.725, 0.875, 0.125 / 0.225, 0},
        // F' 0.625, err 0.1875/0.8125 = 3/13, F = 1.625 − 0.625 = 1.0; m = 10/13 + 3/13·0.8125
        // = 12.4375/13 = 0.95673…; t2 = max(0.5, 0.725 − 0.2317…) = 0.5;
        // t3 = 0.875·(1 − (m − 0.875)) = t3_a; p_est at min(m, measured) = 0.8125, not at m:
        // (0.8125 − t3_a)/(1 − t3_a) = 0.04587… (at m it would be 0.77981…)
        {"above t3 degrades established flows at the measured load", 0.8125, 12.4375 / 13, 0.5, t3_a, 1,
         (0.8125 - t3_a) / (1 - t3_a)},
        // F' 1.0, err 3/13, F = 0.8125 = s → m 0.8125 < configured t3 but > moved t3_a:
        // t3_b = t3_a·(1 − (0.8125 − t3_a)); p_est = (0.8125 − t3_b)/(1 − t3_b) = 0.07978…
        {"moved t3 keeps degrading below the configured t3", 0.8125, 0.8125, 0.5, t3_b, 1,
         (0.8125 - t3_b) / (1 - t3_b)},
        // F' 0.8125, err 0.0625/0.75 = 1/12, F = 1.5 − 0.8125 = 0.6875;
        // m = 11/12·0.6875 + 0.75/12 = 8.3125/12 = 0.69270…; below t3_b: p_est 0; t2 = t1 → 1
        {"falling below t3 stops degradation", 0.75, 8.3125 / 12, 0.5, t3_b, 1, 0},
        // F' 0.6875, err 1/12, F = 0.75 = s → m 0.75
        {"plateau", 0.75, 0.75, 0.5, t3_b, 1, 0},
        // F' 0.75, err 0.125/0.625 = 0.2, F = 1.25 − 0.75 = 0.5; m = 0.4 + 0.125 = 0.525 > t1:
        // t2 sits at t1, so any m > t1 rejects every new session (configured t2: 0.1)
        {"just above t1 with t2 collapsed to t1", 0.625, 0.525, 0.5, t3_b, 1, 0},
        {"plateau, still no reset", 0.625, 0.625, 0.5, t3_b, 1, 0},
        // F' 0.625, err 0.25/0.375 = 2/3, F = 0.75 − 0.625 = 0.125; m = 0.125/3 + 0.25 = 0.29166…
        {"below t1 resets the thresholds", 0.375, 0.125 / 3 + 0.25, 0.75, 0.875, 0, 0},
        // F' 0.125, err 0.5/0.625 = 0.8, F = 1.25 − 0.375 = 0.875; m = 0.175 + 0.5 = 0.675
        // p = (0.675 − 0.5)/(0.75 − 0.5) = 0.7 with the configured t2 again
        {"back on the ramp with reset thresholds", 0.625, 0.675, 0.75, 0.875, 0.7, 0},
    };
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(dyadic_config(), 2, clock, random);
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT(s.description) {
            admission.update(kIdleNode, s.head);
            const AdmissionState& st = admission.state();
            CHECK_NEAR(st.m, s.m);
            CHECK_NEAR(st.t2, s.t2);
            CHECK_NEAR(st.t3, s.t3);
            CHECK_NEAR(st.p_new, s.p_new);
            CHECK_NEAR(st.p_established, s.p_established);
        }
    }
}

BOOST_AUTO_TEST_CASE(random_mode_follows_the_scripted_draws) {
    // head 0.5625: p = (0.5625 − 0.5)/(0.75 − 0.5) = 0.25; reject iff u < 0.25
    ManualClock clock;
    ScriptedRandom random({0.24, 0.25, 0.1, 0.99, 0.0});
    Sa2cAdmission admission(dyadic_config(DropMode::random), 2, clock, random);
    admission.update(kIdleNode, 0.5625);
    BOOST_TEST(admission.state().p_new == 0.25);
    const std::vector<bool> expected{false, true, false, true, false};
    std::vector<bool> got;
    for (size_t i = 0; i < expected.size(); ++i) got.push_back(admission.admit_new_session());
    BOOST_TEST(got == expected, boost::test_tools::per_element());
    BOOST_TEST(random.drawn() == 5u);
}

BOOST_AUTO_TEST_CASE(random_mode_draws_nothing_at_p_0_or_1) {
    ManualClock clock;
    ScriptedRandom random;  // any draw fails the test
    Sa2cAdmission idle(dyadic_config(), 2, clock, random);
    BOOST_TEST(idle.admit_new_session());  // before any update p is 0
    idle.update(kIdleNode, 0.25);
    BOOST_TEST(idle.admit_new_session());
    Sa2cAdmission full(dyadic_config(), 2, clock, random);
    full.update(kIdleNode, 0.8);  // m > t2: p 1
    BOOST_TEST(!full.admit_new_session());
    BOOST_TEST(random.drawn() == 0u);
}

BOOST_AUTO_TEST_CASE(random_mode_rejects_the_fraction_p) {
    struct Case {
        double head;
        double p;
        size_t rejected_of_100;  // of the uniforms k/100, k = 0..99, those below p
    };
    const Case cases[] = {
        {0.5625, 0.25, 25},  // (0.5625 − 0.5)/0.25
        {0.6875, 0.75, 75},  // (0.6875 − 0.5)/0.25
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("p = " << c.p) {
            std::vector<double> grid;
            for (int k = 0; k < 100; ++k) grid.push_back(k / 100.0);
            ManualClock clock;
            ScriptedRandom random(grid);
            Sa2cAdmission admission(dyadic_config(), 2, clock, random);
            admission.update(kIdleNode, c.head);
            BOOST_TEST(admission.state().p_new == c.p);
            size_t rejected = 0;
            for (int k = 0; k < 100; ++k) rejected += admission.admit_new_session() ? 0 : 1;
            BOOST_TEST(rejected == c.rejected_of_100);
        }
    }
    // The same with the seeded generator: 100000 sessions at p 0.25 (deterministic seed).
    ManualClock clock;
    SeededRandom random(42);
    Sa2cAdmission admission(dyadic_config(), 2, clock, random);
    admission.update(kIdleNode, 0.5625);
    size_t rejected = 0;
    for (int i = 0; i < 100000; ++i) rejected += admission.admit_new_session() ? 0 : 1;
    BOOST_TEST(std::fabs(rejected / 100000.0 - 0.25) < 0.01);
}

// Paced (eq. 3): head 0.625 gives p = 0.125/0.25 = 0.5, so T_i = 200, 100, 50, 25, 12.5 … ms.
BOOST_AUTO_TEST_CASE(paced_mode_rejection_times_and_shrinking_interval) {
    struct Arrival {
        std::chrono::nanoseconds at;
        bool admitted;
        double interval_s;  // state().pacing_interval_s after the decision
    };
    const Arrival arrivals[] = {
        {0ms, true, 0.2},               // pacing starts at the update (t = 0): due at 200 ms
        {100ms, true, 0.2},
        {199999999ns, true, 0.2},
        {200ms, false, 0.1},            // due: reject; T_1 = 0.5·200; due 200 + 100 = 300 ms
        {250ms, true, 0.1},
        {300ms, false, 0.05},           // T_2 = 50; due 350
        {360ms, false, 0.025},          // late arrival: due counts from it, 360 + 25 = 385
        {384ms, true, 0.025},
        {385ms, false, 0.0125},         // due 385 + 12.5 = 397.5 ms
        {397499999ns, true, 0.0125},
        {397500000ns, false, 0.00625},
    };
    ManualClock clock;
    ScriptedRandom random;  // paced mode draws nothing
    Sa2cAdmission admission(dyadic_config(DropMode::paced), 2, clock, random);
    CHECK_NEAR(admission.state().pacing_interval_s, 0.2);
    admission.update(kIdleNode, 0.625);
    BOOST_TEST(admission.state().p_new == 0.5);
    for (const Arrival& a : arrivals) {
        BOOST_TEST_CONTEXT("at " << a.at.count() << " ns") {
            clock.set(a.at);
            // an update in between with the same load keeps p and the schedule
            // (F = 0.625 = sample, err 0, m 0.625)
            if (a.at == 250ms) admission.update(kIdleNode, 0.625);
            BOOST_TEST(admission.admit_new_session() == a.admitted);
            CHECK_NEAR(admission.state().pacing_interval_s, a.interval_s);
        }
    }
    BOOST_TEST(random.drawn() == 0u);
}

BOOST_AUTO_TEST_CASE(paced_mode_resets_when_overload_ends) {
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(dyadic_config(DropMode::paced), 2, clock, random);
    admission.update(kIdleNode, 0.625);  // p 0.5, due 200 ms
    clock.set(200ms);
    BOOST_TEST(!admission.admit_new_session());
    clock.set(300ms);
    BOOST_TEST(!admission.admit_new_session());
    CHECK_NEAR(admission.state().pacing_interval_s, 0.05);

    // F' = 0.625, err = clamp(0.325/0.3) = 1: m = 0.3 ≤ t1, p 0, T back to T_0
    clock.set(400ms);
    admission.update(kIdleNode, 0.3);
    BOOST_TEST(admission.state().p_new == 0.0);
    CHECK_NEAR(admission.state().pacing_interval_s, 0.2);
    for (int i = 0; i < 10; ++i) BOOST_TEST(admission.admit_new_session());

    // F' = max(0, 2·0.3 − 0.625) = 0, err 1: m = 0.625, p 0.5 again; pacing restarts from
    // this update with T_0: due 600 + 200 = 800 ms
    clock.set(600ms);
    admission.update(kIdleNode, 0.625);
    BOOST_TEST(admission.state().p_new == 0.5);
    clock.set(799ms);
    BOOST_TEST(admission.admit_new_session());
    clock.set(800ms);
    BOOST_TEST(!admission.admit_new_session());
    CHECK_NEAR(admission.state().pacing_interval_s, 0.1);
}

BOOST_AUTO_TEST_CASE(paced_mode_p_1_rejects_every_session) {
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(dyadic_config(DropMode::paced), 2, clock, random);
    admission.update(kIdleNode, 0.875);  // m 0.875 > t2 (0.625 after eq. 4): p 1
    BOOST_TEST(admission.state().p_new == 1.0);
    for (int ms = 0; ms < 5; ++ms) {
        clock.set(std::chrono::milliseconds(ms));
        BOOST_TEST(!admission.admit_new_session());
    }
    CHECK_NEAR(admission.state().pacing_interval_s, 0.2);  // the schedule is not consumed
}

// Pins the limit of "one rejection per interval T_i" (see the header): at 1000 sessions/s
// and p 0.5 it rejects none of the first 200 sessions, then, as T_i halves, every session.
BOOST_AUTO_TEST_CASE(paced_mode_sheds_little_at_onset_then_everything) {
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(dyadic_config(DropMode::paced), 2, clock, random);
    std::vector<int> rejected_at_ms;
    for (int ms = 0; ms < 1000; ++ms) {
        clock.set(std::chrono::milliseconds(ms));
        if (ms % 200 == 0) admission.update(kIdleNode, 0.625);  // p stays 0.5
        if (!admission.admit_new_session()) rejected_at_ms.push_back(ms);
    }
    // Due times: 200, 300, 350, 375, 387.5 → 388, +6.25 = 394.25 → 395, +3.125 → 399,
    // +1.5625 → 401, +0.78125 → 402, +0.39 → 403; from then T_i < 1 ms: every arrival.
    std::vector<int> expected{200, 300, 350, 375, 388, 395, 399, 401, 402};
    for (int ms = 403; ms < 1000; ++ms) expected.push_back(ms);
    BOOST_TEST(rejected_at_ms == expected, boost::test_tools::per_element());
    BOOST_TEST(rejected_at_ms.size() == 606u);  // random mode would reject about 500, 100 by 200 ms
}

BOOST_AUTO_TEST_CASE(degenerate_config_does_not_crash) {
    AdmissionConfig config = dyadic_config(DropMode::paced);
    config.t1 = config.t2 = config.t3 = config.capacity = 0.5;
    ManualClock clock;
    ScriptedRandom random;
    Sa2cAdmission admission(config, 2, clock, random);
    admission.update(kIdleNode, 0.25);
    BOOST_TEST(admission.admit_new_session());
    admission.update(kIdleNode, 0.5);  // F 0.75, err 0.5 → m = 0.375 + 0.25 = 0.625 ≥ capacity
    BOOST_TEST(admission.state().p_new == 1.0);
    BOOST_TEST(admission.established_drop_probability() == 1.0);
    BOOST_TEST(!admission.admit_new_session());
}

BOOST_AUTO_TEST_SUITE_END()
