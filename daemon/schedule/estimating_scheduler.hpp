// SPDX-License-Identifier: GPL-2.0-or-later
// The base of the schedulers that choose by the shell estimate (shell, two-choices): load
// reports feed their LoadEstimates and estimate() reads it, so both keep the same books.
#pragma once

#include <cstddef>
#include <cstdint>

#include "daemon/schedule/load_estimates.hpp"
#include "daemon/schedule/scheduler.hpp"

namespace sara {

class EstimatingScheduler : public Scheduler {
public:
    void on_load_report(NodeId node, double load, uint64_t sessions) final {
        loads_.on_load_report(node, load, sessions);
    }
    double estimate(NodeId node) const final { return loads_.estimate(node); }
    void on_peer_assigned(NodeId node) final { loads_.on_assigned(node); }

protected:
    explicit EstimatingScheduler(size_t window) : loads_(window) {}

    LoadEstimates loads_;  // the subclass's pick() calls on_assigned() for the node it chose
};

}  // namespace sara
