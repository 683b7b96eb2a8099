// SPDX-License-Identifier: GPL-2.0-or-later
// What stands at the cluster's entry in each --admission mode. The simulator calls update()
// every admission interval with the nodes' last reported loads (stale between reports) and the
// head's utilisation, then asks admit_new() per new session and, every report interval, applies
// established_loss_per_interval() to each established session.
//
//   sa2c       the daemon's Sa2cAdmission; rejects new sessions only (the offloaded-flow
//              degradation it asks for above T3 is reported, not applied; see sim/README.md)
//   none       the daemon's AdmitAll
//   oblivious  a session-oblivious packet dropper: one probability p for every session, new or
//              established, p = eq. 2's new-session column at m = max(head, l_c) (no forecast,
//              no moving thresholds)
#pragma once

#include <memory>
#include <span>

#include "common/util/clock.hpp"
#include "common/util/random.hpp"
#include "sim/sim_options.hpp"

namespace sara::sim {

class EntryPolicy {
public:
    virtual ~EntryPolicy() = default;
    virtual void update(std::span<const double> reported_loads, double head_load) = 0;
    virtual bool admit_new() = 0;
    // Probability that an established session loses a burst of packets, and so fails, during
    // one report interval.
    virtual double established_loss_per_interval() const { return 0; }
    // For the output: the current new-session drop probability, the established-datagram drop
    // probability SA2C asks for (0 elsewhere), and the load the decision used.
    virtual double new_drop_probability() const { return 0; }
    virtual double established_drop_probability() const { return 0; }
    virtual double decision_load() const { return 0; }
};

// clock and random must outlive the policy.
std::unique_ptr<EntryPolicy> make_entry_policy(const SimOptions& options, const Clock& clock, Random& random);

}  // namespace sara::sim
