// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/schedule/load_forecaster.hpp"

#include <algorithm>
#include <cmath>

namespace sara {

LoadForecaster::LoadForecaster(size_t window) : ring_(std::max<size_t>(window, 2), 0.0) {}

void LoadForecaster::clear() {
    next_ = 0;
    count_ = 0;
    error_ = 1.0;
}

double LoadForecaster::sample(size_t age) const {
    return ring_[(next_ + ring_.size() - 1 - age) % ring_.size()];
}

double LoadForecaster::last() const { return count_ ? sample(0) : 0.0; }

double LoadForecaster::forecast() const {
    if (count_ == 0) return 0.0;
    if (count_ == 1) return std::max(0.0, sample(0));
    // x = 0 (oldest) .. n-1 (newest); slope = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²; value at x = n.
    const double n = double(count_);
    const double mean_x = (n - 1) / 2;
    double mean_y = 0;
    for (size_t i = 0; i < count_; ++i) mean_y += sample(count_ - 1 - i);
    mean_y /= n;
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < count_; ++i) {
        const double dx = double(i) - mean_x;
        sxy += dx * (sample(count_ - 1 - i) - mean_y);
        sxx += dx * dx;
    }
    const double slope = sxy / sxx;
    return std::max(0.0, mean_y + slope * (n - mean_x));
}

void LoadForecaster::add(double measured) {
    if (!std::isfinite(measured)) measured = 0;
    if (count_ > 0) {
        const double f = forecast();
        if (measured == 0) error_ = f == 0 ? 0.0 : 1.0;
        else error_ = std::clamp(std::fabs((f - measured) / measured), 0.0, 1.0);
    }
    ring_[next_] = measured;
    next_ = (next_ + 1) % ring_.size();
    count_ = std::min(count_ + 1, ring_.size());
}

double LoadForecaster::estimate() const {
    if (count_ == 0) return 0.0;
    return (1 - error_) * forecast() + error_ * last();
}

}  // namespace sara
