// SPDX-License-Identifier: GPL-2.0-or-later
// sara-sim's parameters: each field's default, range and meaning in one place (sim/README.md
// explains the model they drive). parse_sim_options() reports every bad flag, not the first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config/dispatcher_config.hpp"

namespace sara::sim {

enum class HoldingDistribution { exponential, pareto };
enum class AdmissionMode { sa2c, none, oblivious };
enum class OutputFormat { text, json, csv };

const char* to_string(HoldingDistribution d);
const char* to_string(AdmissionMode m);

struct SimOptions {
    // Cluster: one capacity per node, in concurrent-work units (one session = one unit).
    std::vector<double> capacities{100, 100, 100};   // --nodes N --capacity C, or --capacities a,b,c
    // Workload.
    double offered = 1.0;             // --offered: arrival rate / cluster capacity in sessions/s, >= 0
    double mean_holding_s = 20;       // --mean-holding: mean session holding time, > 0
    HoldingDistribution holding = HoldingDistribution::exponential;  // --holding exp|pareto
    double pareto_shape = 2.0;        // --pareto-shape: > 1 (finite mean)
    // Node agents.
    double report_interval_s = 0.2;   // --report-interval: δ, load report period, > 0
    // Overload harm.
    double fail_above = 1.0;          // --fail-above: load above which sessions fail, > 0
    double fail_hazard = 1.0;         // --fail-hazard: per-session failure rate per second per
                                      //   unit of load above fail_above, >= 0
    double fail_linger_s = 30;        // --fail-linger: a failed session holds its unit this long
                                      //   (or to its natural end if sooner), >= 0
    // Dispatcher head.
    double decision_cost_s = 0.005;   // --decision-cost: head time per new-session decision, >= 0
    // Admission and scheduling (the shared daemon code's own config structs).
    AdmissionMode admission = AdmissionMode::sa2c;  // --admission sa2c|none|oblivious
    AdmissionConfig admission_config;               // --admission-interval --alpha --t1 --t2 --t3 --drop-mode
    SchedulerConfig scheduler_config;               // --scheduler NAME --window T
    // Run.
    uint64_t seed = 1;                // --seed
    double warmup_s = 60;             // --warmup: simulated time before measuring, >= 0
    double duration_s = 300;          // --duration: measured simulated time, > 0
    double sample_interval_s = 0.1;   // --sample-interval: imbalance/load sampling period, > 0
    OutputFormat output = OutputFormat::text;  // --json | --csv (--csv-header prints the header only)
    bool csv_header_only = false;

    double total_capacity() const;
    // Σ capacity_j / mean holding time: the session completion rate that saturates the cluster.
    double capacity_per_s() const { return total_capacity() / mean_holding_s; }
};

struct SimOptionsParse {
    SimOptions options;
    std::vector<std::string> errors;  // empty on success
    bool help = false;
};

SimOptionsParse parse_sim_options(const std::vector<std::string>& args);
extern const char* const kSimUsage;

}  // namespace sara::sim
