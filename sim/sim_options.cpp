// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/sim_options.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <string_view>

namespace sara::sim {

const char* to_string(HoldingDistribution d) { return d == HoldingDistribution::pareto ? "pareto" : "exp"; }

const char* to_string(AdmissionMode m) {
    switch (m) {
    case AdmissionMode::sa2c: return "sa2c";
    case AdmissionMode::none: return "none";
    case AdmissionMode::oblivious: return "oblivious";
    }
    return "?";
}

double SimOptions::total_capacity() const { return std::accumulate(capacities.begin(), capacities.end(), 0.0); }

const char* const kSimUsage =
    "usage: sara-sim [--json | --csv | --csv-header] [FLAG VALUE ...]   (sim/README.md has the model)\n"
    "  cluster    --nodes N (3) --capacity UNITS (100) | --capacities A,B,C\n"
    "  workload   --offered X (1.0) --mean-holding S (20) --holding exp|pareto (exp) --pareto-shape A (2.0)\n"
    "  agents     --report-interval D (200ms)\n"
    "  harm       --fail-above L (1.0) --fail-hazard K (1.0 /s per unit of excess load) --fail-linger D (30s)\n"
    "  head       --decision-cost D (5ms)\n"
    "  admission  --admission sa2c|none|oblivious (sa2c) --admission-interval D (200ms) --alpha A (0.9)\n"
    "             --t1 (0.80) --t2 (0.90) --t3 (0.95) --drop-mode random|paced (random)\n"
    "  scheduler  --scheduler shell|round-robin|weighted-round-robin|least-sessions|least-loaded|two-choices\n"
    "             (shell) --window T (4)\n"
    "  run        --seed N (1) --warmup D (60s) --duration D (300s) --sample-interval D (100ms)\n"
    "Durations take a unit (ms, s) or are seconds.\n";

namespace {

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

// "200ms", "0.2s" or "0.2" (seconds).
std::optional<double> parse_seconds(std::string_view text) {
    double scale = 1;
    if (text.ends_with("ms")) { scale = 1e-3; text.remove_suffix(2); }
    else if (text.ends_with("s")) text.remove_suffix(1);
    const auto v = parse_number(text);
    return v ? std::optional<double>(*v * scale) : std::nullopt;
}

std::optional<SchedulerAlgorithm> parse_algorithm(std::string_view text) {
    for (auto a : {SchedulerAlgorithm::shell, SchedulerAlgorithm::round_robin, SchedulerAlgorithm::weighted_round_robin,
                   SchedulerAlgorithm::least_sessions, SchedulerAlgorithm::least_loaded, SchedulerAlgorithm::two_choices})
        if (text == to_string(a)) return a;
    return std::nullopt;
}

std::string format_number(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
}

// Each flag: a setter that returns an error message, or "" when the value is good.
using Setter = std::function<std::string(SimOptions&, std::string_view)>;

Setter number(double SimOptions::*field, double min, bool min_inclusive) {
    return [=](SimOptions& o, std::string_view v) -> std::string {
        const auto x = parse_number(v);
        if (!x) return "not a number";
        if (*x < min || (!min_inclusive && *x == min))
            return std::string("must be ") + (min_inclusive ? ">= " : "> ") + format_number(min);
        o.*field = *x;
        return "";
    };
}

Setter seconds(double SimOptions::*field, bool allow_zero) {
    return [=](SimOptions& o, std::string_view v) -> std::string {
        const auto x = parse_seconds(v);
        if (!x) return "not a duration (e.g. 200ms, 0.2s)";
        if (*x < 0 || (!allow_zero && *x == 0)) return allow_zero ? "must be >= 0" : "must be > 0";
        o.*field = *x;
        return "";
    };
}

Setter threshold(double AdmissionConfig::*field) {
    return [=](SimOptions& o, std::string_view v) -> std::string {
        const auto x = parse_number(v);
        if (!x || *x < 0 || *x > 1) return "must be a number in [0, 1]";
        o.admission_config.*field = *x;
        return "";
    };
}

const std::map<std::string, Setter, std::less<>>& setters() {
    static const std::map<std::string, Setter, std::less<>> table = {
        {"--nodes", [](SimOptions& o, std::string_view v) -> std::string {
             const auto x = parse_number(v);
             if (!x || *x < 1 || *x > 1000 || *x != std::floor(*x)) return "must be an integer in [1, 1000]";
             o.capacities.assign(size_t(*x), o.capacities.empty() ? 100.0 : o.capacities.front());
             return "";
         }},
        {"--capacity", [](SimOptions& o, std::string_view v) -> std::string {
             const auto x = parse_number(v);
             if (!x || *x <= 0) return "must be > 0";
             o.capacities.assign(o.capacities.size(), *x);
             return "";
         }},
        {"--capacities", [](SimOptions& o, std::string_view v) -> std::string {
             std::vector<double> caps;
             for (size_t start = 0; start <= v.size();) {
                 const size_t comma = std::min(v.find(',', start), v.size());
                 const auto x = parse_number(v.substr(start, comma - start));
                 if (!x || *x <= 0) return "must be a comma-separated list of numbers > 0";
                 caps.push_back(*x);
                 start = comma + 1;
             }
             o.capacities = std::move(caps);
             return "";
         }},
        {"--offered", number(&SimOptions::offered, 0, true)},
        {"--mean-holding", seconds(&SimOptions::mean_holding_s, false)},
        {"--holding", [](SimOptions& o, std::string_view v) -> std::string {
             if (v == "exp") o.holding = HoldingDistribution::exponential;
             else if (v == "pareto") o.holding = HoldingDistribution::pareto;
             else return "must be exp or pareto";
             return "";
         }},
        {"--pareto-shape", number(&SimOptions::pareto_shape, 1, false)},
        {"--report-interval", seconds(&SimOptions::report_interval_s, false)},
        {"--fail-above", number(&SimOptions::fail_above, 0, false)},
        {"--fail-hazard", number(&SimOptions::fail_hazard, 0, true)},
        {"--fail-linger", seconds(&SimOptions::fail_linger_s, true)},
        {"--decision-cost", seconds(&SimOptions::decision_cost_s, true)},
        {"--admission", [](SimOptions& o, std::string_view v) -> std::string {
             if (v == "sa2c") o.admission = AdmissionMode::sa2c;
             else if (v == "none") o.admission = AdmissionMode::none;
             else if (v == "oblivious") o.admission = AdmissionMode::oblivious;
             else return "must be sa2c, none or oblivious";
             return "";
         }},
        {"--admission-interval", [](SimOptions& o, std::string_view v) -> std::string {
             const auto x = parse_seconds(v);
             if (!x || *x < 0.001) return "must be a duration >= 1ms";
             o.admission_config.interval = std::chrono::milliseconds(std::llround(*x * 1000));
             return "";
         }},
        {"--alpha", threshold(&AdmissionConfig::alpha)},
        {"--t1", threshold(&AdmissionConfig::t1)},
        {"--t2", threshold(&AdmissionConfig::t2)},
        {"--t3", threshold(&AdmissionConfig::t3)},
        {"--drop-mode", [](SimOptions& o, std::string_view v) -> std::string {
             if (v == "random") o.admission_config.drop_mode = DropMode::random;
             else if (v == "paced") o.admission_config.drop_mode = DropMode::paced;
             else return "must be random or paced";
             return "";
         }},
        {"--scheduler", [](SimOptions& o, std::string_view v) -> std::string {
             const auto a = parse_algorithm(v);
             if (!a) return "unknown scheduler";
             o.scheduler_config.algorithm = *a;
             return "";
         }},
        {"--window", [](SimOptions& o, std::string_view v) -> std::string {
             const auto x = parse_number(v);
             if (!x || *x < 2 || *x > 1024 || *x != std::floor(*x)) return "must be an integer in [2, 1024]";
             o.scheduler_config.window = uint32_t(*x);
             return "";
         }},
        {"--seed", [](SimOptions& o, std::string_view v) -> std::string {
             uint64_t x = 0;
             const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
             if (ec != std::errc{} || end != v.data() + v.size()) return "must be an unsigned integer";
             o.seed = x;
             return "";
         }},
        {"--warmup", seconds(&SimOptions::warmup_s, true)},
        {"--duration", seconds(&SimOptions::duration_s, false)},
        {"--sample-interval", seconds(&SimOptions::sample_interval_s, false)},
    };
    return table;
}

}  // namespace

SimOptionsParse parse_sim_options(const std::vector<std::string>& args) {
    SimOptionsParse out;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") { out.help = true; continue; }
        if (arg == "--json") { out.options.output = OutputFormat::json; continue; }
        if (arg == "--csv") { out.options.output = OutputFormat::csv; continue; }
        if (arg == "--csv-header") { out.options.csv_header_only = true; continue; }
        std::string_view value;
        bool has_value = false;
        if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const auto it = setters().find(arg);
        if (it == setters().end()) {
            out.errors.push_back("unknown flag " + std::string(arg));
            // Skip its value too, so one typo gives one error.
            if (!has_value && i + 1 < args.size() && !args[i + 1].starts_with("--")) ++i;
            continue;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) { out.errors.push_back(std::string(arg) + ": needs a value"); continue; }
            value = args[++i];
        }
        if (auto error = it->second(out.options, value); !error.empty())
            out.errors.push_back(std::string(arg) + " " + std::string(value) + ": " + error);
    }
    const AdmissionConfig& a = out.options.admission_config;
    if (!(a.t1 <= a.t2 && a.t2 <= a.t3 && a.t3 <= a.capacity))
        out.errors.push_back("thresholds must satisfy t1 <= t2 <= t3 <= 1");
    return out;
}

}  // namespace sara::sim
