// SPDX-License-Identifier: GPL-2.0-or-later
// Session arrivals and holding times. Both draw from their own Random stream, so every admission
// mode and scheduler sees the same sessions for a given seed (common random numbers make the
// comparisons between modes less noisy).
#pragma once

#include "common/util/random.hpp"
#include "sim/sim_options.hpp"

namespace sara::sim {

class Workload {
public:
    // `random` must outlive the Workload.
    Workload(const SimOptions& options, Random& random);

    // Time to the next arrival: exponential with mean 1/rate (Poisson arrivals); +inf at rate 0.
    double next_interarrival_s();
    // Exponential with the configured mean, or Pareto with the same mean:
    // x_m = mean·(a − 1)/a, X = x_m / U^(1/a) with U uniform in (0, 1].
    double next_holding_s();

private:
    Random& random_;
    double rate_;
    double mean_;
    HoldingDistribution distribution_;
    double pareto_shape_;
};

// Exponential sample with the given rate (> 0), from `random`.
double exponential_sample(Random& random, double rate);

}  // namespace sara::sim
