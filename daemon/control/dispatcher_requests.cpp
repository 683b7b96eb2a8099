// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control/dispatcher_requests.hpp"

#include <cctype>
#include <cstdlib>
#include <limits>

namespace sara {
namespace {

nlohmann::json stats(const DispatcherView& view) {
    nlohmann::json out;
    for (const CounterSample& c : view.counters()) out[c.name] = c.value;
    if (const std::optional<AdmissionStatus> admission = view.admission()) {
        const AdmissionState& a = admission->state;
        out["admission_m"] = a.m;
        out["admission_measured"] = a.measured;
        out["admission_cluster_load"] = a.cluster_load;
        out["admission_head_load"] = a.head_load;
        out["admission_p_new"] = a.p_new;
        out["admission_p_established"] = a.p_established;
        out["admission_t2"] = a.t2;
        out["admission_t3"] = a.t3;
        out["admission_updates_total"] = admission->updates;
    }
    const DispatcherGauges g = view.gauges();
    out["sessions"] = g.sessions;
    out["flows"] = g.flows;
    out["queue_lock_wait_max_us"] = g.queue_lock_wait_max_us;
    out["main_lock_hold_max_us"] = g.main_lock_hold_max_us;
    nlohmann::json& holds = out["lock_hold_max_us"];
    for (const auto& [task, us] : g.lock_hold_max_us) holds[task] = us;
    nlohmann::json& longest = out["lock_hold_longest"];
    nlohmann::json& over_1ms = out["lock_holds_over_1ms"];
    for (const DispatcherGauges::LockHold& h : g.lock_holds) {
        longest[h.task] = {{"us", h.us}, {"cpu_us", h.cpu_us}, {"minor_faults", h.minor_faults},
                           {"preemptions", h.preemptions}, {"waits", h.waits}};
        over_1ms[h.task] = h.over_1ms;
    }
    out["stream_buffer_bytes"] = g.stream_buffer_bytes;
    return out;
}

nlohmann::json nodes(const DispatcherView& view) {
    nlohmann::json out;
    out["nodes"] = nlohmann::json::array();
    for (const NodeStatus& n : view.nodes())
        out["nodes"].push_back(
            {{"id", n.id}, {"name", n.name},
             // Without `health:` every node is up; an operator drain shows in `drained`.
             {"state", n.state},
             {"drained", n.drained}, {"available", n.available},
             {"address", n.address.to_string()}, {"sessions", n.sessions},
             {"load", n.load ? nlohmann::json(*n.load) : nlohmann::json(nullptr)},
             {"heartbeats_lost", n.heartbeats_lost},
             {"estimate", n.estimate < 0 ? nlohmann::json(nullptr) : nlohmann::json(n.estimate)}});
    return out;
}

// `args`: the text after "sessions" (its space included), an optional limit.
nlohmann::json sessions(const DispatcherView& view, std::string_view request) {
    size_t limit = 1000;
    if (request.size() > 9) limit = size_t(std::strtoull(std::string(request.substr(9)).c_str(), nullptr, 10));
    nlohmann::json out;
    out["sessions"] = nlohmann::json::array();
    const SessionTable& table = view.table();
    // Stops at `limit`: a walk over a million slots would hold the queues' lock.
    for (SessionId id = 0; id < table.session_slots() && out["sessions"].size() < limit; ++id) {
        const Session& s = table.session(id);
        if (!s.in_use) continue;
        out["sessions"].push_back({{"protocol", to_string(s.protocol)}, {"key", s.key},
                                   {"state", to_string(s.state)}, {"node", s.node}, {"flows", s.flow_count}});
    }
    return out;
}

// `drain N` / `undrain N`. Drain takes the node out of scheduling; undrain gives it back only
// if its health allows (always without `health:`), so it never brings back a node the failure
// detector holds down. Logs one line per actual change.
nlohmann::json set_operator_drain(std::string_view node_arg, bool drain, DispatcherCommands& commands,
                                  const Logger& log) {
    const std::string arg(node_arg);
    char* end = nullptr;
    const unsigned long long id = arg.empty() ? 0 : std::strtoull(arg.c_str(), &end, 10);
    const bool valid = !arg.empty() && *end == '\0' && std::isdigit(uint8_t(arg[0])) &&
                       id <= std::numeric_limits<NodeId>::max();
    const std::optional<DispatcherCommands::DrainChange> change =
        valid ? commands.set_drain(NodeId(id), drain) : std::nullopt;
    if (!change) return {{"error", "unknown node '" + arg + "'"}};
    if (change->changed)
        log.notice("node " + std::to_string(id) + ": " +
                   (drain ? std::string("drained by the operator (no new sessions; established ones continue)")
                          : std::string("undrained by the operator (") +
                                (change->healthy ? "available again)" : "stays unavailable until its health is up)")));
    return {{"node", NodeId(id)}, {"name", change->name}, {"drained", drain}, {"changed", change->changed},
            {"available", change->available}};
}

// `role` (show), `role ready`, `role master|backup|fault` (keepalived's notify hook through
// saractl). With sync.floating_address the hook is the second path: the address, asked now,
// has the last word (a hook that ran late may describe a state keepalived already left).
nlohmann::json role_request(std::string_view arg, const DispatcherView& view, DispatcherCommands& commands,
                                   const Logger& log) {
    const std::optional<HaStatus> ha = view.ha();
    if (!ha) {
        if (arg.empty()) return {{"role", "single"}, {"ready", true}, {"detail", "no sync configured"}};
        return {{"error", "no sync configured: this dispatcher runs alone (role single)"}};
    }
    if (arg == "ready") return {{"role", to_string(ha->role)}, {"ready", ha->ready}, {"synced", ha->synced}};
    if (ha->role == HaRole::active && !arg.empty())
        return {{"error", "this dispatcher is active in a mesh (sync.peers): no keepalived role to take"}};
    nlohmann::json out;
    std::optional<bool> held;
    if (ha->floating_address) {
        std::string error;
        held = commands.floating_address_held(&error);
        if (!held) log.warning("ha: " + error);
        out["floating_address_held"] = held ? nlohmann::json(*held) : nlohmann::json(nullptr);
    }
    if (!arg.empty()) {
        HaRole role;
        if (arg == "master") role = HaRole::master;
        else if (arg == "backup") role = HaRole::backup;
        else if (arg == "fault") role = HaRole::fault;
        else return {{"error", "unknown role '" + std::string(arg) + "'; try master, backup or fault"}};
        if (held && *held != (role == HaRole::master)) {
            out["ignored"] = std::string("keepalived's hook says ") + to_string(role) + " but this host " +
                             (*held ? "holds" : "does not hold") + " the floating address";
            commands.follow_floating_address(*held);
        } else {
            commands.change_role(role, "keepalived's notify hook");
        }
    }
    const std::optional<HaStatus> now = view.ha();  // after the change
    out["role"] = to_string(now->role);
    out["ready"] = now->ready;
    out["synced"] = now->synced;
    if (!now->peers.empty()) {
        // The mesh as this dispatcher sees it: who it hears, who is ready, how far behind
        // each one's acknowledgements are (its sync lag, in updates of sync.interval).
        nlohmann::json peers = nlohmann::json::array();
        for (const StateSync::PeerView& p : now->peers)
            peers.push_back({{"id", p.id}, {"heard", p.heard}, {"last_heard_s", p.last_heard_s}, {"ready", p.ready},
                             {"acking", p.acking}, {"unacked_updates", p.unacked}});
        out["peers"] = peers;
    }
    out["sessions"] = view.table().session_count();
    return out;
}

}  // namespace

std::string answer_control_request(std::string_view request, const DispatcherView& view, DispatcherCommands& commands,
                                   const Logger& log) {
    nlohmann::json out;
    if (request == "stats") {
        out = stats(view);
    } else if (request == "nodes") {
        out = nodes(view);
    } else if (request.starts_with("sessions")) {
        out = sessions(view, request);
    } else if (request == "announce" || request == "announce on" || request == "announce off") {
        std::optional<bool> on;
        if (request != "announce") on = request == "announce on";
        const auto status = commands.set_announce(on);
        if (!status) {
            out = {{"configured", false}};
        } else {
            if (on) log.notice(std::string("announce: ") + (*on ? "allowed again by the operator" : "withdrawn by the operator"));
            out = {{"configured", true}, {"table", status->table}, {"withdrawn_by_operator", status->withdrawn_by_operator},
                   {"ready", status->ready}, {"announced", status->announced}};
        }
    } else if (request.starts_with("drain ")) {
        out = set_operator_drain(request.substr(6), true, commands, log);
    } else if (request.starts_with("undrain ")) {
        out = set_operator_drain(request.substr(8), false, commands, log);
    } else if (request == "lookup" || request.starts_with("lookup ")) {
        out = view.lookup(request.size() > 7 ? request.substr(7) : std::string_view());
    } else if (request == "role" || request.starts_with("role ")) {
        out = role_request(request.size() > 5 ? request.substr(5) : std::string_view(), view, commands, log);
    } else {
        out["error"] = "unknown request; try stats, nodes, sessions [LIMIT], lookup key KEY, "
                       "lookup client ADDR[:PORT] [LIMIT], drain NODE, undrain NODE, role [ready|master|backup|fault]";
    }
    return out.dump() + "\n";
}

}  // namespace sara
