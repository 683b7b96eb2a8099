// SPDX-License-Identifier: GPL-2.0-or-later
// "weighted-round-robin": smooth weighted round robin as nginx does it. Each pick, every
// available node's `current` grows by its weight; the largest `current` wins (the first in list
// order on a tie) and gives back the total weight. Over any run of Σw picks with the same
// available set, each node is chosen w times, interleaved rather than in bursts (weights 5,1,1:
// a a b a c a a). Deterministic; load is ignored.
#pragma once

#include <cstdint>
#include <vector>

#include "daemon/schedule/scheduler.hpp"

namespace sara {

class WeightedRoundRobinScheduler final : public Scheduler {
public:
    NodeId pick(std::span<const NodeView> nodes) override;

private:
    // By position in `nodes` (the list is the same on every call); a node that is unavailable
    // keeps its value and resumes from it.
    std::vector<int64_t> current_;
};

}  // namespace sara
