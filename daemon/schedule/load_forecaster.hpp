// SPDX-License-Identifier: GPL-2.0-or-later
// The short-term load forecast of DESIGN §6 (the paper's eq. 5-8), shared by the "shell"
// scheduler (one per node) and admission control (one for m, DESIGN §5 step 3).
//
//   eq. 5  keep the last T measured samples (the window)
//   eq. 6  forecast the next sample with a least-squares line over the window: samples at
//          x = 0..n-1, evaluated at x = n; with one sample the forecast is that sample
//   eq. 7  err = |(previous forecast − measured) / measured|, clamped to [0, 1]; a measured 0
//          gives err 0 if the forecast was 0 too, else 1; before any forecast was checked, 1
//   eq. 8  estimate = (1 − err)·forecast + err·measured (err = 1: the last measured sample)
//
// Forecasts are clamped below at 0 (a load cannot be negative); not above, so a forecast above
// capacity still reads as overload. Pure; no clock: one add() per report.
#pragma once

#include <cstddef>
#include <vector>

namespace sara {

class LoadForecaster {
public:
    explicit LoadForecaster(size_t window);  // T, at least 2 (smaller is taken as 2)

    // A measured sample: checks the previous forecast against it (eq. 7), then slides the window.
    void add(double measured);
    void clear();

    size_t size() const { return count_; }
    size_t window() const { return ring_.size(); }
    double last() const;        // the newest measured sample; 0 when empty
    double forecast() const;    // eq. 6; 0 when empty
    double error() const { return error_; }  // eq. 7
    double estimate() const;    // eq. 8; 0 when empty

private:
    double sample(size_t age) const;  // age 0 = newest

    std::vector<double> ring_;
    size_t next_ = 0;   // where the next sample goes
    size_t count_ = 0;
    double error_ = 1.0;
};

}  // namespace sara
