// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/sim_result.hpp"

#include <iomanip>
#include <string>

#include <nlohmann/json.hpp>

namespace sara::sim {
namespace {

// The one list of output fields, in output order.
nlohmann::ordered_json fields(const SimOptions& o, const SimResult& r) {
    const double per_s = 1.0 / o.duration_s;
    const uint64_t failed = r.failed_overload + r.failed_packet_loss;
    const uint64_t ended = r.completed + failed;
    nlohmann::ordered_json j;
    j["admission"] = to_string(o.admission);
    j["scheduler"] = to_string(o.scheduler_config.algorithm);
    j["holding"] = to_string(o.holding);
    j["seed"] = o.seed;
    j["offered"] = o.offered;
    j["report_interval_s"] = o.report_interval_s;
    j["window"] = o.scheduler_config.window;
    j["capacity_per_s"] = o.capacity_per_s();
    j["completed_per_s"] = double(r.completed) * per_s;
    j["completed_ratio"] = double(r.completed) * per_s / o.capacity_per_s();  // of cluster capacity
    // Of the admitted sessions that ended inside the window, the share that completed.
    j["admitted_completed"] = ended ? nlohmann::ordered_json(double(r.completed) / double(ended)) : nullptr;
    j["arrivals"] = r.arrivals;
    j["admitted"] = r.admitted;
    j["rejected"] = r.rejected;
    j["head_lost"] = r.head_lost;
    j["no_node"] = r.no_node;
    j["completed"] = r.completed;
    j["failed"] = failed;
    j["failed_overload"] = r.failed_overload;
    j["failed_packet_loss"] = r.failed_packet_loss;
    j["imbalance"] = r.imbalance;
    j["oscillation"] = r.oscillation;
    j["mean_load"] = r.mean_load;
    j["overload_fraction"] = r.overload_fraction;
    j["head_load"] = r.head_load;
    j["head_demand"] = r.head_demand;
    j["decision_load"] = r.decision_load;
    j["p_new"] = r.p_new;
    j["p_established"] = r.p_established;
    j["warmup_s"] = o.warmup_s;
    j["duration_s"] = o.duration_s;
    return j;
}

std::string csv_value(const nlohmann::ordered_json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

}  // namespace

void print_json(std::ostream& out, const SimOptions& options, const SimResult& result) {
    out << fields(options, result).dump() << '\n';
}

void print_csv_header(std::ostream& out) {
    // Named, not a temporary in the range-for: items() refers to the object it iterates.
    const auto names = fields(SimOptions{}, SimResult{});
    const char* sep = "";
    for (const auto& [key, value] : names.items()) {
        out << sep << key;
        sep = ",";
    }
    out << '\n';
}

void print_csv(std::ostream& out, const SimOptions& options, const SimResult& result) {
    const auto values = fields(options, result);
    const char* sep = "";
    for (const auto& [key, value] : values.items()) {
        out << sep << csv_value(value);
        sep = ",";
    }
    out << '\n';
}

void print_text(std::ostream& out, const SimOptions& options, const SimResult& result) {
    const auto values = fields(options, result);
    for (const auto& [key, value] : values.items())
        out << std::left << std::setw(20) << key << ' ' << csv_value(value) << '\n';
}

}  // namespace sara::sim
