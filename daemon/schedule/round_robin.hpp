// SPDX-License-Identifier: GPL-2.0-or-later
// "round-robin": the available nodes in turn, in list order, ignoring weights and load.
#pragma once

#include <cstddef>

#include "daemon/schedule/scheduler.hpp"

namespace sara {

class RoundRobinScheduler final : public Scheduler {
public:
    NodeId pick(std::span<const NodeView> nodes) override;

private:
    size_t next_ = 0;  // position in `nodes` to try first: the one after the previous pick
};

}  // namespace sara
