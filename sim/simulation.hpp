// SPDX-License-Identifier: GPL-2.0-or-later
// The discrete-event simulation of one run (sim/README.md states the model). Deterministic for
// a given SimOptions (seed included): simulated time is a ManualClock, randomness three
// SeededRandom streams (workload, harm, control) derived from the seed.
#pragma once

#include "sim/sim_options.hpp"
#include "sim/sim_result.hpp"

namespace sara::sim {

SimResult run_simulation(const SimOptions& options);

}  // namespace sara::sim
