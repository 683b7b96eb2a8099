// SPDX-License-Identifier: GPL-2.0-or-later
// LoadForecaster (DESIGN §6, eq. 5-8) pinned with values worked by hand. Regression over the
// window: samples at x = 0..n-1, slope = Σ(x−x̄)(y−ȳ)/Σ(x−x̄)², forecast = ȳ + slope·(n − x̄).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "daemon/schedule/load_forecaster.hpp"

using namespace sara;

namespace {

// Absolute tolerance: several expected values are 0, where a relative tolerance cannot work.
void check_near(double got, double want, const char* what) {
    BOOST_TEST_INFO(what << ": got " << got << ", want " << want);
    BOOST_TEST(std::fabs(got - want) < 1e-12);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(load_forecaster)

BOOST_AUTO_TEST_CASE(equations_6_7_8) {
    struct Case {
        const char* description;
        size_t window;
        std::vector<double> samples;
        size_t size;
        double last, forecast, error, estimate;
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Case cases[] = {
        {"empty: all 0, err 1 until a forecast is checked", 8, {}, 0, 0, 0, 1, 0},
        // One sample forecasts itself; no forecast checked yet, so err 1 and the estimate is it.
        {"one sample", 8, {0.5}, 1, 0.5, 0.5, 1, 0.5},
        // err = |0.5 − 0.4| / 0.4 = 0.25; line through (0, 0.5), (1, 0.4) at x = 2: 0.3;
        // estimate = 0.75·0.3 + 0.25·0.4 = 0.325.
        {"two samples blend", 8, {0.5, 0.4}, 2, 0.4, 0.3, 0.25, 0.325},
        // After 0.2, 0.4 the forecast is 0.6 = the next sample: err 0. Now x̄ = 1, ȳ = 0.4,
        // slope 0.2, forecast = 0.4 + 0.2·2 = 0.8 = the estimate.
        {"rising line, perfect fit", 8, {0.2, 0.4, 0.6}, 3, 0.6, 0.8, 0, 0.8},
        // Forecast 0.8, measured 0.7: err = |0.8 − 0.7| / 0.7 = 1/7 = 0.142857…
        // Window 0.2 0.4 0.6 0.7: x̄ = 1.5, ȳ = 0.475, Σdx·dy = 0.4125 + 0.0375 + 0.0625 + 0.3375
        // = 0.85, Σdx² = 5, slope 0.17, forecast = 0.475 + 0.17·2.5 = 0.9;
        // estimate = (6/7)·0.9 + (1/7)·0.7 = 6.1/7 = 0.871428…
        {"forecast missed by 1/7", 8, {0.2, 0.4, 0.6, 0.7}, 4, 0.7, 0.9, 1.0 / 7, 6.1 / 7},
        // T = 3 keeps 0.1 0.2 0.3 (0.9 slid out): forecast 0.4. The forecast checked against
        // 0.3 came from 0.9 0.1 0.2: ȳ = 0.4, slope −0.35, 0.4 − 0.35·2 = −0.3 → clamped 0, so
        // err = |0 − 0.3| / 0.3 = 1 and the estimate is the last sample.
        {"window slides: oldest sample dropped", 3, {0.9, 0.1, 0.2, 0.3}, 3, 0.3, 0.4, 1, 0.3},
        // One more: 0.4 was forecast exactly (err 0); window 0.2 0.3 0.4 forecasts 0.5.
        {"window slides on", 3, {0.9, 0.1, 0.2, 0.3, 0.4}, 3, 0.4, 0.5, 0, 0.5},
        // T below 2 is 2: the window keeps 0.2 0.3 and forecasts 0.4; 0.3 was forecast from
        // 0.1 0.2 exactly (err 0).
        {"window 1 acts as 2", 1, {0.1, 0.2, 0.3}, 2, 0.3, 0.4, 0, 0.4},
        {"window 0 acts as 2", 0, {0.1, 0.2, 0.3}, 2, 0.3, 0.4, 0, 0.4},
        // Measured 0 with forecast 0 (line through 0.5, 0.25 at x = 2, exact in binary): err 0.
        // Forecast of 0.5 0.25 0: ȳ = 0.25, slope −0.25, 0.25 − 0.25·2 = −0.25 → 0.
        {"measured 0, forecast 0: err 0", 8, {0.5, 0.25, 0.0}, 3, 0, 0, 0, 0},
        // Measured 0 after forecast 0.5: err 1 (the relative error is undefined; trust the sample).
        {"measured 0, forecast not 0: err 1", 8, {0.5, 0.0}, 2, 0, 0, 1, 0},
        // err = |0.8 − 0.2| / 0.2 = 3 → clamped to 1; forecast 0.2 − 0.6 = −0.4 → clamped to 0.
        {"err clamps at 1, forecast at 0", 8, {0.8, 0.2}, 2, 0.2, 0, 1, 0.2},
        // Forecast before 0.2: line through 0.875 0.625 0.375 at x = 3: 0.125, so
        // err = |0.125 − 0.2| / 0.2 = 0.375. Window of four: ȳ = 0.51875, Σdx·dy = −1.1375,
        // Σdx² = 5, slope −0.2275, 0.51875 − 0.2275·2.5 = −0.05 → 0;
        // estimate = 0.625·0 + 0.375·0.2 = 0.075.
        {"clamped forecast still blends", 8, {0.875, 0.625, 0.375, 0.2}, 4, 0.2, 0, 0.375, 0.075},
        // Not clamped above: overload must still read as overload. 0.6 0.8 1.0 → 1.2.
        {"forecast above 1 kept", 8, {0.6, 0.8, 1.0}, 3, 1.0, 1.2, 0, 1.2},
        // A non-finite sample reads as 0; forecast 0.5 then measured 0: err 1.
        {"NaN sample reads as 0", 8, {0.5, nan}, 2, 0, 0, 1, 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            LoadForecaster f(c.window);
            for (double s : c.samples) f.add(s);
            BOOST_TEST(f.size() == c.size);
            check_near(f.last(), c.last, "last");
            check_near(f.forecast(), c.forecast, "forecast");
            check_near(f.error(), c.error, "error");
            check_near(f.estimate(), c.estimate, "estimate");
        }
    }
}

BOOST_AUTO_TEST_CASE(clear_forgets_samples_and_error) {
    LoadForecaster f(4);
    for (double s : {0.25, 0.5, 0.75}) f.add(s);  // exact in binary: 0.75 forecast exactly
    BOOST_TEST(f.error() == 0.0);
    f.clear();
    BOOST_TEST(f.size() == 0u);
    BOOST_TEST(f.error() == 1.0);
    BOOST_TEST(f.estimate() == 0.0);
    // The first sample after clear() is not checked against the old forecast (1.0).
    f.add(0.3);
    BOOST_TEST(f.error() == 1.0);
    BOOST_TEST(f.forecast() == 0.3);
}

BOOST_AUTO_TEST_SUITE_END()
