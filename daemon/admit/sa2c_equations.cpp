// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/admit/sa2c_equations.hpp"

#include <algorithm>
#include <cmath>
#include <span>


namespace sara {

double sanitize_load(double load) {
    if (std::isnan(load)) return 0.0;
    return std::clamp(load, 0.0, 1.0);
}

double cluster_load(std::span<const double> loads, double alpha) {
    // No node available: nothing can take a session, so the cluster reads as full.
    if (loads.empty()) return 1.0;
    // The config loader keeps alpha in [0, 1]; NaN (unreachable from config) weighs the mean only.
    alpha = std::isnan(alpha) ? 1.0 : std::clamp(alpha, 0.0, 1.0);
    const double n = double(loads.size());
    double sum = 0;
    for (double load : loads) sum += sanitize_load(load);
    const double mean = sum / n;
    // Two passes: Σ(x − mean)² keeps the small variances of similar loads exact enough to pin.
    double squares = 0;
    for (double load : loads) {
        const double d = sanitize_load(load) - mean;
        squares += d * d;
    }
    const double variance = squares / n;  // population variance, as eq. 1's σ² over all N nodes
    return alpha * mean + (1 - alpha) * variance;
}

DropProbabilities drop_probabilities(double m, const AdmissionThresholds& t) {
    if (std::isnan(m)) m = 0;
    if (m >= t.capacity) return {1.0, 1.0};
    if (m <= t.t1) return {0.0, 0.0};
    if (m <= t.t2) return {(m - t.t1) / (t.t2 - t.t1), 0.0};  // t1 < m <= t2: t2 − t1 > 0
    if (m <= t.t3) return {1.0, 0.0};
    return {1.0, (m - t.t3) / (t.capacity - t.t3)};  // t3 < m < capacity: capacity − t3 > 0
}

AdmissionThresholds move_thresholds(const AdmissionThresholds& current,
                                    const AdmissionThresholds& configured, double m) {
    if (std::isnan(m)) m = 0;
    if (m <= configured.t1) return configured;
    AdmissionThresholds next = configured;
    next.t2 = std::max(configured.t1, current.t2 - std::max(0.0, m - current.t2));
    next.t3 = std::max(configured.t2, current.t3 * (1 - std::max(0.0, m - current.t3)));
    return next;
}

}  // namespace sara
