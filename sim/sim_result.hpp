// SPDX-License-Identifier: GPL-2.0-or-later
// What one simulated run measured (inside the measurement window only) and how it is printed.
// The field list is written once (sim_result.cpp), so --json, --csv and the text form agree.
#pragma once

#include <cstdint>
#include <ostream>

#include "sim/sim_options.hpp"

namespace sara::sim {

struct SimResult {
    // Counts inside the window.
    uint64_t arrivals = 0;
    uint64_t head_lost = 0;        // arrived while the head's decision budget was spent
    uint64_t rejected = 0;         // refused by admission (sa2c) or first packets dropped (oblivious)
    uint64_t no_node = 0;          // the scheduler had no node
    uint64_t admitted = 0;
    uint64_t completed = 0;        // reached their holding time without failing
    uint64_t failed_overload = 0;  // failed on an overloaded node (hazard)
    uint64_t failed_packet_loss = 0;  // lost a packet burst to the oblivious dropper
    // Time averages over the samples inside the window.
    double imbalance = 0;          // max/mean node load, over samples where the mean > 0
    double mean_load = 0;          // mean node load (active/capacity, unclamped)
    double overload_fraction = 0;  // share of samples with some node above fail_above
    double head_load = 0;          // the head utilisation fed to admission
    double head_demand = 0;        // what the head was asked for (> 1: decisions lost)
    double decision_load = 0;      // m the entry policy decided on (sa2c: forecast max(l, l_c))
    double p_new = 0;              // new-session drop probability
    double p_established = 0;      // SA2C's established-datagram drop probability (not applied)
    double oscillation = 0;        // mean |change| of a node's reported load between reports
};

void print_json(std::ostream& out, const SimOptions& options, const SimResult& result);
void print_csv_header(std::ostream& out);
void print_csv(std::ostream& out, const SimOptions& options, const SimResult& result);
void print_text(std::ostream& out, const SimOptions& options, const SimResult& result);

}  // namespace sara::sim
