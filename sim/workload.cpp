// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/workload.hpp"

#include <cmath>
#include <limits>

namespace sara::sim {

double exponential_sample(Random& random, double rate) {
    // 1 − U lies in (0, 1], so the log is finite.
    return -std::log(1.0 - random.uniform()) / rate;
}

Workload::Workload(const SimOptions& options, Random& random)
    : random_(random),
      rate_(options.offered * options.capacity_per_s()),
      mean_(options.mean_holding_s),
      distribution_(options.holding),
      pareto_shape_(options.pareto_shape) {}

double Workload::next_interarrival_s() {
    if (rate_ <= 0) return std::numeric_limits<double>::infinity();
    return exponential_sample(random_, rate_);
}

double Workload::next_holding_s() {
    if (distribution_ == HoldingDistribution::exponential) return exponential_sample(random_, 1.0 / mean_);
    const double a = pareto_shape_;
    const double x_min = mean_ * (a - 1) / a;
    return x_min / std::pow(1.0 - random_.uniform(), 1.0 / a);
}

}  // namespace sara::sim
