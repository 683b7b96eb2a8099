// SPDX-License-Identifier: GPL-2.0-or-later
// "shell" (DESIGN §6, eq. 9): the available node with the smallest shell estimate — blended
// forecast plus the cost of the sessions assigned since the node's last report (LoadEstimates).
// Loads are fractions of each node's own capacity, so estimates compare directly; weight only
// excludes weight-0 nodes. Equal estimates go to the node after the previous pick.
#pragma once

#include <cstddef>

#include "daemon/schedule/estimating_scheduler.hpp"

namespace sara {

class ShellScheduler final : public EstimatingScheduler {
public:
    explicit ShellScheduler(size_t window) : EstimatingScheduler(window) {}

    NodeId pick(std::span<const NodeView> nodes) override;

private:
    size_t next_tie_start_ = 0;
};

}  // namespace sara
