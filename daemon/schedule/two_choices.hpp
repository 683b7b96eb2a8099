// SPDX-License-Identifier: GPL-2.0-or-later
// "two-choices" (power of two random choices): two distinct available nodes drawn uniformly,
// the one with the lower shell estimate (LoadEstimates: forecast plus assignment cost) takes
// the session; equal estimates go to the first drawn, which is itself a uniform choice. With
// one available node it is taken without drawing.
//
// Draws, pinned by the tests: with k available nodes in list order, a = below(k) and
// b = below(k − 1), b moved up by one if b ≥ a, so every ordered pair is equally likely.
#pragma once

#include <cstddef>

#include "daemon/schedule/estimating_scheduler.hpp"

namespace sara {

class TwoChoicesScheduler final : public EstimatingScheduler {
public:
    // `random` must outlive the scheduler.
    TwoChoicesScheduler(size_t window, Random& random) : EstimatingScheduler(window), random_(random) {}

    NodeId pick(std::span<const NodeView> nodes) override;

private:
    Random& random_;
};

}  // namespace sara
