// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/runtime.hpp"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <limits>

#include "common/wire/sync_message.hpp"
#include "daemon/control/prometheus_text.hpp"
#include "daemon/dispatch/session_lookup.hpp"

namespace sara {

SessionTableLimits table_limits(const LimitsConfig& l) {
    SessionTableLimits t;
    t.max_sessions = l.max_sessions;
    t.max_flows = l.max_flows;
    t.max_flows_per_session = uint16_t(l.max_flows_per_session);
    t.max_announced_per_session = uint16_t(l.max_announced_per_session);
    return t;
}

IdentifierLimits identifier_limits(const LimitsConfig& l) {
    IdentifierLimits i;
    i.sip.max_header_bytes = l.max_header_bytes;
    i.rtsp.max_header_bytes = l.max_header_bytes;
    i.stream_buffer_bytes = l.stream_buffer_bytes;
    return i;
}

KernelSetupSpec kernel_spec(const DispatcherConfig& c, const std::vector<NodeConfig>& retiring) {
    KernelSetupSpec spec;
    spec.vip = c.vip;
    spec.lan_interface = c.lan_interface;
    // Retiring nodes keep their media ranges for their last calls; listed after the current
    // nodes, whose ranges win where a reload handed a range over (first match).
    for (const NodeConfig& n : c.nodes) spec.nodes.push_back(NodeRoute{n.id, n.address, n.mac.bytes, n.media_ports});
    for (const NodeConfig& n : retiring) spec.nodes.push_back(NodeRoute{n.id, n.address, n.mac.bytes, n.media_ports});
    spec.queue_first = c.queue.first;
    spec.queue_count = c.queue.count;
    spec.queue_bypass = c.queue.fail_open;
    spec.raw_mode = c.forwarding.mode == ForwardingMode::raw;
    // Tables and rule priorities 1001..1250: clear of the kernel's tables 253-255 and below main (32766).
    spec.table_base = 1000;
    for (const Service& s : c.services) {
        if (s.protocol == ServiceProtocol::plain) continue;  // only signalling is always queued
        if (s.udp) spec.signalling_ports.emplace_back(IpProto::udp, s.port);
        if (s.tcp) spec.signalling_ports.emplace_back(IpProto::tcp, s.port);
    }
    return spec;
}

// Stamps and sends one sync message to the peer (any thread).
void DispatcherRuntime::send_sync(wire::SyncMessage m, const Logger& log) {
    std::lock_guard guard(sync_send_lock);
    m.seq = sync_seq++;
    m.timestamp = uint32_t(std::time(nullptr));
    const std::vector<uint8_t> datagram = wire::encode(m, key ? &*key : nullptr);
    // A "can't happen" crashes loudly: StateSync builds only messages that keep the wire rules.
    assert(!datagram.empty() && "sync message breaks the rules of common/wire/sync_message.hpp");
    if (sync_sender->send_to_all(datagram) == 0 && sync_sender->counters().send_errors_total == 1)
        log.warning("sync: cannot send to the peer: " + sync_sender->last_error() + " (counted from now on)");
}

void DispatcherRuntime::change_role(HaRole role, const std::string& why, const Logger& log) {
    const HaRole before = sync->role();
    // Only a master holds verdicts; its decisions stand, whoever replicates them now.
    if (held && role != HaRole::master) held->release_all(clock.now());
    if (std::unique_ptr<SessionTable> dropped = sync->set_role(role, table)) retired_tables.push_back(std::move(dropped));
    pipeline.set_accept_new_sessions(role == HaRole::master);
    if (before == role) return;
    log.notice(std::string("ha: role ") + to_string(before) + " -> " + to_string(role) + " (" + why + "; " +
               std::to_string(table.session_count()) + " sessions in the table)");
    if (role != HaRole::master) send_sync(sync->resync_request(), log);
}

void DispatcherRuntime::follow_floating_address(bool held, const Logger& log) {
    const std::string address = config.sync->floating_address->to_string();
    if (held && sync->role() != HaRole::master) change_role(HaRole::master, "floating address " + address + " added", log);
    if (!held && sync->role() == HaRole::master) change_role(HaRole::backup, "floating address " + address + " removed", log);
}

// `role` (show), `role ready`, `role master|backup|fault` (keepalived's notify hook through
// saractl). With sync.floating_address the hook is the second path: the address, asked now,
// has the last word (a hook that ran late may describe a state keepalived already left).
// Caller holds `lock`.
nlohmann::json DispatcherRuntime::role_request(std::string_view arg, const Logger& log) {
    if (!sync) {
        if (arg.empty()) return {{"role", "single"}, {"ready", true}, {"detail", "no sync configured"}};
        return {{"error", "no sync configured: this dispatcher runs alone (role single)"}};
    }
    if (arg == "ready") return {{"role", to_string(sync->role())}, {"ready", sync->ready()}, {"synced", sync->synced()}};
    nlohmann::json out;
    std::optional<bool> held;
    if (config.sync->floating_address) {
        std::string error;
        held = holds_address(*config.sync->floating_address, &error);
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
            follow_floating_address(*held, log);
        } else {
            change_role(role, "keepalived's notify hook", log);
        }
    }
    out["role"] = to_string(sync->role());
    out["ready"] = sync->ready();
    out["synced"] = sync->synced();
    out["sessions"] = table.session_count();
    return out;
}

// SIGHUP with a valid file (caller holds `lock`). Sessions keep their nodes throughout: a
// removed node retires only once its last session ended (retire_idle_nodes).
void DispatcherRuntime::apply_reload(const ReloadPlan& plan, const Logger& log) {
    for (const NodeConfig& n : plan.removed) retiring.push_back(n);
    for (const NodeConfig& n : plan.added) {
        std::erase_if(retiring, [&](const NodeConfig& r) { return r.id == n.id; });  // back before it retired
        if (n.drain) drained.insert(n.id);
    }
    for (const NodeConfig& n : plan.changed) {
        const NodeConfig* old = nullptr;
        for (const NodeConfig& o : config.nodes)
            if (o.id == n.id) old = &o;
        if (old && old->drain != n.drain) {
            if (n.drain) drained.insert(n.id);
            else drained.erase(n.id);
        }
    }
    config = plan.config;
    if (plan.scheduler_changed) {
        auto next = make_scheduler(config.scheduler, random);
        pipeline.set_scheduler(*next);
        scheduler = std::move(next);
    }
    if (plan.admission_changed && sa2c) {
        sa2c->reconfigure(config.admission, config.scheduler.window);
        if (refusals) refusals->reconfigure(config.admission);
    }
    if (plan.nodes_changed()) nodes_changed();
    for (const NodeConfig& n : plan.removed)
        log.notice("node " + std::to_string(n.id) + ": removed by reload; no new sessions, its " +
                   std::to_string(pipeline.node_sessions(n.id)) + " sessions continue until they end");
}

// Every second after the table purge (caller holds `lock`): removed nodes with no session left
// leave the pipeline, the health monitor and the kernel.
void DispatcherRuntime::retire_idle_nodes(const Logger& log) {
    const size_t before = retiring.size();
    std::erase_if(retiring, [&](const NodeConfig& n) {
        if (pipeline.node_sessions(n.id) != 0) return false;
        drained.erase(n.id);
        log.notice("node " + std::to_string(n.id) + ": retired (removed from the config, no sessions left)");
        return true;
    });
    if (retiring.size() != before) nodes_changed();
}

// `drain N` / `undrain N` (caller holds `lock`). Drain takes the node out of scheduling;
// undrain gives it back only if its health allows (always without `health:`), so it never
// brings back a node the failure detector holds down. Logs one line per actual change.
nlohmann::json DispatcherRuntime::set_operator_drain(std::string_view node_arg, bool drain, const Logger& log) {
    const std::string arg(node_arg);
    char* end = nullptr;
    const unsigned long long id = arg.empty() ? 0 : std::strtoull(arg.c_str(), &end, 10);
    const bool valid = !arg.empty() && *end == '\0' && std::isdigit(uint8_t(arg[0])) &&
                       id <= std::numeric_limits<NodeId>::max();
    const NodeEntry* node = valid ? pipeline.node(NodeId(id)) : nullptr;
    if (!node) return {{"error", "unknown node '" + arg + "'"}};
    const bool changed = drain ? drained.insert(node->id).second : drained.erase(node->id) > 0;
    const bool healthy = !health || health->state(node->id) == NodeState::up;
    pipeline.set_available(node->id, node_available(node->id));
    if (changed)
        log.notice("node " + std::to_string(node->id) + ": " +
                   (drain ? std::string("drained by the operator (no new sessions; established ones continue)")
                          : std::string("undrained by the operator (") +
                                (healthy ? "available again)" : "stays unavailable until its health is up)")));
    return {{"node", node->id}, {"name", node->name}, {"drained", drain}, {"changed", changed},
            {"available", pipeline.available(node->id)}};
}

std::string DispatcherRuntime::control_request(std::string_view request, const Logger& log) {
    std::lock_guard guard(lock);
    nlohmann::json out;
    if (request == "stats") {
        for_each_counter([&](const std::string& name, const char*, uint64_t v) { out[name] = v; });
        if (sa2c) {
            const AdmissionState& a = sa2c->state();
            out["admission_m"] = a.m;
            out["admission_measured"] = a.measured;
            out["admission_cluster_load"] = a.cluster_load;
            out["admission_head_load"] = a.head_load;
            out["admission_p_new"] = a.p_new;
            out["admission_p_established"] = a.p_established;
            out["admission_t2"] = a.t2;
            out["admission_t3"] = a.t3;
            out["admission_updates_total"] = sa2c->updates();
        }
        out["sessions"] = table.session_count();
        out["flows"] = table.flow_count();
        out["queue_lock_wait_max_us"] = queue_lock_wait_max_us;
        out["main_lock_hold_max_us"] = main_lock_hold_max_us;
        nlohmann::json& holds = out["lock_hold_max_us"];
        nlohmann::json& longest = out["lock_hold_longest"];
        nlohmann::json& over_1ms = out["lock_holds_over_1ms"];
        for (size_t t = 0; t < kLockTasks; ++t) {
            const char* name = to_string(LockTask(t));
            const HoldCost& cost = lock_holds.longest(LockTask(t));
            holds[name] = cost.us;
            longest[name] = {{"us", cost.us}, {"cpu_us", cost.cpu_us}, {"minor_faults", cost.minor_faults},
                             {"preemptions", cost.preemptions}, {"waits", cost.waits}};
            over_1ms[name] = lock_holds.over_1ms(LockTask(t));
        }
        out["stream_buffer_bytes"] = identifier.stream_budget().bytes();
    } else if (request == "nodes") {
        out["nodes"] = nlohmann::json::array();
        for (const NodeEntry& n : pipeline.nodes())
            out["nodes"].push_back(
                {{"id", n.id}, {"name", n.name},
                 // Without `health:` every node is up; an operator drain shows in `drained`.
                 {"state", health ? to_string(health->state(n.id)) : "up"},
                 {"drained", drained.contains(n.id)}, {"available", n.available},
                 {"address", n.address.to_string()}, {"sessions", pipeline.node_sessions(n.id)},
                 {"load", health ? nlohmann::json(health->load(n.id)) : nlohmann::json(nullptr)},
                 {"heartbeats_lost", health ? health->heartbeats_lost(n.id) : 0},
                 {"estimate", scheduler->estimate(n.id) < 0 ? nlohmann::json(nullptr)
                                                            : nlohmann::json(scheduler->estimate(n.id))}});
    } else if (request.starts_with("sessions")) {
        size_t limit = 1000;
        if (request.size() > 9) limit = size_t(std::strtoull(std::string(request.substr(9)).c_str(), nullptr, 10));
        out["sessions"] = nlohmann::json::array();
        // Stops at `limit`: a walk over a million slots would hold the queues' lock.
        for (SessionId id = 0; id < table.session_slots() && out["sessions"].size() < limit; ++id) {
            const Session& s = table.session(id);
            if (!s.in_use) continue;
            out["sessions"].push_back({{"protocol", to_string(s.protocol)}, {"key", s.key},
                                       {"state", to_string(s.state)}, {"node", s.node}, {"flows", s.flow_count}});
        }
    } else if (request.starts_with("drain ")) {
        out = set_operator_drain(request.substr(6), true, log);
    } else if (request.starts_with("undrain ")) {
        out = set_operator_drain(request.substr(8), false, log);
    } else if (request == "lookup" || request.starts_with("lookup ")) {
        const LookupContext context{table, services, config.forwarding.mode != ForwardingMode::raw,
                                    [&](NodeId id) { return pipeline.node(id) ? pipeline.node(id)->name : ""; }};
        out = lookup_sessions(request.size() > 7 ? request.substr(7) : std::string_view(), context);
    } else if (request == "role" || request.starts_with("role ")) {
        out = role_request(request.size() > 5 ? request.substr(5) : std::string_view(), log);
    } else {
        out["error"] = "unknown request; try stats, nodes, sessions [LIMIT], lookup key KEY, "
                       "lookup client ADDR[:PORT] [LIMIT], drain NODE, undrain NODE, role [ready|master|backup|fault]";
    }
    return out.dump() + "\n";
}

// Prometheus exposition of everything `stats` and `nodes` show: every counter as
// sara_<name> (the X-macro names already end in _total), the table, each node's state, load
// and sessions, and SA2C's state.
std::string DispatcherRuntime::metrics_text() {
    const uint64_t kernel_dropped = head.kernel_dropped();  // a /proc read: not under the lock
    std::lock_guard guard(lock);
    PrometheusText t;
    for_each_counter([&](const std::string& name, const char* help, uint64_t v) { t.counter("sara_" + name, help, v); });
    t.counter("sara_queue_kernel_dropped_total",
              "Packets the kernel dropped at sarad's NFQUEUEs (queue full or netlink buffer full); restarts with sarad",
              kernel_dropped);
    t.gauge("sara_sessions", "Sessions in the table", double(table.session_count()));
    t.gauge("sara_flows", "Flows in the table", double(table.flow_count()));
    t.gauge("sara_queue_lock_wait_max_seconds", "Longest wait of a queued packet for the dispatcher's lock since start",
            double(queue_lock_wait_max_us) / 1e6);
    t.gauge("sara_main_lock_hold_max_seconds", "Longest hold of the dispatcher's lock by its periodic work since start",
            double(main_lock_hold_max_us) / 1e6);
    t.family("sara_lock_hold_max_seconds", "gauge", "Longest hold of the dispatcher's lock by each periodic task since start");
    for (size_t task = 0; task < kLockTasks; ++task)
        t.sample("sara_lock_hold_max_seconds", double(lock_holds.max_us(LockTask(task))) / 1e6,
                 {{"task", to_string(LockTask(task))}});
    t.family("sara_lock_holds_over_1ms_total", "counter", "Holds of the dispatcher's lock over 1 ms by each periodic task");
    for (size_t task = 0; task < kLockTasks; ++task)
        t.sample("sara_lock_holds_over_1ms_total", double(lock_holds.over_1ms(LockTask(task))),
                 {{"task", to_string(LockTask(task))}});
    t.gauge("sara_stream_buffer_bytes", "Memory held by TCP signalling stream buffers (limits.stream_buffer_bytes bounds it)",
            double(identifier.stream_budget().bytes()));
    t.family("sara_node_up", "gauge", "1 when the node may take new sessions (state up)");
    for (const NodeEntry& n : pipeline.nodes())
        t.sample("sara_node_up", n.available ? 1 : 0, {{"node", std::to_string(n.id)}, {"name", n.name}});
    t.family("sara_node_state", "gauge", "The node's state (1 for its current state)");
    for (const NodeEntry& n : pipeline.nodes())
        t.sample("sara_node_state", 1,
                 {{"node", std::to_string(n.id)}, {"name", n.name},
                  // Without `health:` every node is up; a drained one has sara_node_up 0.
                  {"state", health ? to_string(health->state(n.id)) : "up"}});
    t.family("sara_node_sessions", "gauge", "Active sessions assigned to the node");
    for (const NodeEntry& n : pipeline.nodes())
        t.sample("sara_node_sessions", double(pipeline.node_sessions(n.id)), {{"node", std::to_string(n.id)}, {"name", n.name}});
    if (health) {
        t.family("sara_node_load_ratio", "gauge", "The node's load l_j from its agent's vector, 0..1");
        for (const NodeEntry& n : pipeline.nodes())
            t.sample("sara_node_load_ratio", health->load(n.id), {{"node", std::to_string(n.id)}, {"name", n.name}});
    }
    if (sync) {
        t.family("sara_ha_role", "gauge", "The HA role (1 for the current one)");
        t.sample("sara_ha_role", 1, {{"role", to_string(sync->role())}});
        t.gauge("sara_ha_ready", "1 when this dispatcher may become master (saractl role --ready)", sync->ready() ? 1 : 0);
        t.gauge("sara_ha_synced", "1 when it holds a complete replica of its peer's table", sync->synced() ? 1 : 0);
    }
    t.gauge("sara_head_queue_ratio", "Fullest NFQUEUE backlog over queue.max_len at the last admission update",
            head.last_queue());
    t.gauge("sara_head_cpu_ratio", "sarad's CPU over its queue cores at the last admission update", head.last_cpu());
    if (sa2c) {
        const AdmissionState& a = sa2c->state();
        t.gauge("sara_admission_load_ratio", "m: the forecast of max(head load, cluster load) SA2C decides on", a.m);
        t.gauge("sara_admission_cluster_load_ratio", "l_c, eq. 1", a.cluster_load);
        t.gauge("sara_admission_new_session_drop_ratio", "Probability a new session is refused (eq. 2)", a.p_new);
        t.gauge("sara_admission_established_drop_ratio", "Probability an established session's packet is dropped",
                a.p_established);
        t.gauge("sara_admission_t1_ratio", "The threshold T1 (eq. 2; configured, never moves)", config.admission.t1);
        t.gauge("sara_admission_t2_ratio", "The moving threshold T2 (eq. 4)", a.t2);
        t.gauge("sara_admission_t3_ratio", "The moving threshold T3 (eq. 4)", a.t3);
    }
    return t.text();
}

}  // namespace sara
