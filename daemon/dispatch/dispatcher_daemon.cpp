#include "daemon/dispatch/dispatcher_daemon.hpp"

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/dispatcher_config.hpp"
#include "common/util/clock.hpp"
#include "daemon/admit/admission.hpp"
#include "daemon/dispatch/config_reload.hpp"
#include "daemon/ha/state_sync.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/util/time_sequence.hpp"
#include "common/wire/sync_message.hpp"
#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/dispatch/refusal_sender.hpp"
#include "daemon/forward/conntrack_preinstall.hpp"
#include "daemon/forward/kernel_setup.hpp"
#include "daemon/forward/nfqueue.hpp"
#include "daemon/forward/raw_sender.hpp"
#include "daemon/identify/table_snapshot.hpp"
#include "daemon/monitor/control_listener.hpp"
#include "daemon/monitor/head_load.hpp"
#include "daemon/monitor/health_monitor.hpp"
#include "daemon/control/control_server.hpp"
#include "daemon/control/metrics_server.hpp"
#include "daemon/control/prometheus_text.hpp"
#include "daemon/schedule/scheduler.hpp"
#include "common/util/sd_notify.hpp"

namespace sara {
namespace {

#define SARA_RAW_COUNTERS(X)                                        \
    X(raw_frames_sent_total, "Packets sent to a node as raw Ethernet frames") \
    X(raw_send_errors_total, "Raw frames the kernel refused (packet dropped)")
SARA_DECLARE_COUNTERS(RawCounters, SARA_RAW_COUNTERS)

#define SARA_HEALTH_COUNTERS(X)                                                                   \
    X(node_state_changes_total, "Node state changes (up, down, app-down, draining, load-unknown)") \
    X(sessions_lost_total, "Active sessions on a node when it went down (crash, not drain)")
SARA_DECLARE_COUNTERS(HealthCounters, SARA_HEALTH_COUNTERS)

#define SARA_PREINSTALL_COUNTERS(X)                                                              \
    X(preinstall_created_total, "Completed media flows pre-installed in conntrack with their node's mark") \
    X(preinstall_exists_total, "Completed media flows already in conntrack (their media came first)") \
    X(preinstall_failed_total, "Conntrack pre-installations the kernel refused")
SARA_DECLARE_COUNTERS(PreinstallCounters, SARA_PREINSTALL_COUNTERS)

void print_errors(const std::vector<ConfigError>& errors, std::ostream& out) {
    out << format_config_errors(errors);
}

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
    return i;
}

// `retiring`: nodes a reload removed that still have sessions; their routes stay until then.
KernelSetupSpec kernel_spec(const DispatcherConfig& c, const std::vector<NodeConfig>& retiring = {}) {
    KernelSetupSpec spec;
    spec.vip = c.vip;
    spec.lan_interface = c.lan_interface;
    for (const NodeConfig& n : c.nodes) spec.nodes.push_back(NodeRoute{n.id, n.address, n.mac.bytes});
    for (const NodeConfig& n : retiring) spec.nodes.push_back(NodeRoute{n.id, n.address, n.mac.bytes});
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


// Everything the running daemon owns; built by run_dispatcher, torn down in reverse order.
struct Runtime {
    explicit Runtime(const DispatcherConfig& c)
        : config(c),
          services(c.services),
          table(table_limits(c.limits), services.timeouts(), clock),
          identifier(table, services, c.vip, identifier_limits(c.limits)),
          random(make_os_seeded_random()),
          scheduler(make_scheduler(c.scheduler, random)),
          sa2c(c.admission.enabled ? std::make_unique<Sa2cAdmission>(c.admission, c.scheduler.window, clock, random)
                                   : nullptr),
          pipeline(identifier, sa2c ? static_cast<AdmissionControl&>(*sa2c) : admit_all, *scheduler, {}, c.vip),
          head(clock, c.queue.first, c.queue.count, c.queue.max_len),
          kernel_spec(sara::kernel_spec(c)) {
        for (const NodeConfig& n : c.nodes)
            if (n.drain) drained.insert(n.id);
        pipeline.set_nodes(node_entries());
    }

    // A node takes new sessions only if its health is up (always without `health:`), it is not
    // drained (by the operator or its `drain:`) and not retiring. Caller holds `lock`.
    bool node_available(NodeId id) const {
        const bool retiring_node = std::any_of(retiring.begin(), retiring.end(), [&](const NodeConfig& n) { return n.id == id; });
        return !retiring_node && !drained.contains(id) && (!health || health->state(id) == NodeState::up);
    }
    // The configured nodes and the retiring ones; for the pipeline, health and the listener.
    std::vector<NodeConfig> all_nodes() const {
        std::vector<NodeConfig> all = config.nodes;
        all.insert(all.end(), retiring.begin(), retiring.end());
        return all;
    }
    std::vector<NodeEntry> node_entries() const {
        std::vector<NodeEntry> nodes;
        for (const NodeConfig& n : all_nodes())
            nodes.push_back(NodeEntry{n.id, n.name, n.address, n.mac.bytes, n.weight, node_available(n.id)});
        return nodes;
    }
    // After the node set changed: pipeline, health, listener and kernel follow. Caller holds `lock`.
    void nodes_changed() {
        std::vector<NodeId> ids;
        std::vector<uint16_t> hosts;
        for (const NodeConfig& n : all_nodes()) {
            ids.push_back(n.id);
            hosts.push_back(n.id);
        }
        if (health) health->set_nodes(ids);
        if (listener) listener->set_hosts(hosts);
        pipeline.set_nodes(node_entries());
        kernel_spec = sara::kernel_spec(config, retiring);
        kernel_dirty = true;
    }
    void apply_reload(const ReloadPlan& plan, const Logger& log);
    void retire_idle_nodes(const Logger& log);

    std::string control_request(std::string_view request, const Logger& log);
    nlohmann::json set_operator_drain(std::string_view node_arg, bool drain, const Logger& log);
    std::string metrics_text();
    // Every counter sarad keeps, once: fn(name, help, value), the announce channel's prefixed
    // "announce_". `stats` and `/metrics` both list exactly these. Caller holds `lock`.
    template <typename Fn>
    void for_each_counter(Fn&& fn) const {
        auto all = [&](const auto& counters, const char* prefix) {
            counters.for_each([&](const char* name, const char* help, uint64_t v) {
                fn(std::string(prefix) + name, help, v);
            });
        };
        all(pipeline.counters(), "");
        all(identifier.counters(), "");
        all(table.counters(), "");
        all(raw_counters, "");
        all(health_counters, "");
        if (refusals) all(refusals->counters(), "");
        if (preinstall) all(preinstall_counters, "");
        if (listener) all(listener->counters(), "");
        if (announce_listener) all(announce_listener->counters(), "announce_");
        if (sync) all(sync->counters(), "");
        if (sync_listener) all(sync_listener->counters(), "sync_");
        all(queue_totals(), "");
    }
    // The queues' counters summed. They are written by their own threads: a snapshot.
    QueueCounters queue_totals() const {
        QueueCounters sum;
        for (const auto& q : queues) {
            const QueueCounters& c = q->counters();
#define SARA_SUM(name, help) sum.name += c.name;
            SARA_QUEUE_COUNTERS(SARA_SUM)
#undef SARA_SUM
        }
        return sum;
    }

    DispatcherConfig config;
    SteadyClock clock;
    ServiceMap services;
    SessionTable table;
    SessionIdentifier identifier;
    SeededRandom random;
    std::unique_ptr<Scheduler> scheduler;
    AdmitAll admit_all;
    std::unique_ptr<Sa2cAdmission> sa2c;  // null with admission.enabled: false
    PacketPipeline pipeline;
    HeadLoadMeter head;
    std::unique_ptr<RefusalSender> refusals;  // answers refused sessions (503 / RST)
    std::unique_ptr<ConntrackPreinstall> preinstall;  // forwarding.preinstall
    PreinstallCounters preinstall_counters;           // guarded by `lock`
    double degrade_installed = 0;             // the kernel rule's probability; main thread only
    std::mutex lock;  // guards table, identifier, pipeline (queue threads, control, purge)
    std::vector<std::unique_ptr<NfQueue>> queues;
    std::unique_ptr<RawSender> raw;
    RawCounters raw_counters;  // guarded by `lock`
    std::optional<wire::ClusterKey> key;
    std::unique_ptr<HealthMonitor> health;  // null without `health:` (every node up); guarded by `lock`
    std::unique_ptr<ControlListener> listener;           // health.listen: heartbeats, load vectors
    std::unique_ptr<ControlListener> announce_listener;  // announce.listen: the gateways' announcements
    HealthCounters health_counters;  // guarded by `lock`
    // Nodes an operator drained (`drain N` on the control socket): no new sessions whatever
    // their health says, established ones continue. Guarded by `lock`.
    std::set<NodeId> drained;
    // Nodes a reload removed while they had sessions: unavailable, routed until idle. `lock`.
    std::vector<NodeConfig> retiring;
    // What sarad has in the kernel (main thread only); kernel_dirty: install it again.
    KernelSetupSpec kernel_spec;
    bool kernel_dirty = false;
    // HA (`sync:`): null on a single dispatcher. `sync` is guarded by `lock`.
    std::unique_ptr<StateSync> sync;
    std::unique_ptr<ControlListener> sync_listener;
    std::unique_ptr<DatagramSender> sync_sender;
    std::mutex sync_send_lock;  // the sync thread and the listener's resync replies
    uint32_t sync_seq = 0;      // guarded by sync_send_lock
    void send_sync(wire::SyncMessage m, const Logger& log);
    nlohmann::json role_request(std::string_view arg, const Logger& log);
    std::atomic<bool> stop{false};
};

// Stamps and sends one sync message to the peer (any thread).
void Runtime::send_sync(wire::SyncMessage m, const Logger& log) {
    std::lock_guard guard(sync_send_lock);
    m.seq = sync_seq++;
    m.timestamp = uint32_t(std::time(nullptr));
    const std::vector<uint8_t> datagram = wire::encode(m, key ? &*key : nullptr);
    if (datagram.empty()) return;  // cannot happen: StateSync builds valid messages
    if (sync_sender->send_to_all(datagram) == 0 && sync_sender->counters().send_errors_total == 1)
        log.warning("sync: cannot send to the peer: " + sync_sender->last_error() + " (counted from now on)");
}

// `role` (show), `role ready`, `role master|backup|fault` (keepalived's notify hook through
// saractl). Caller holds `lock`.
nlohmann::json Runtime::role_request(std::string_view arg, const Logger& log) {
    if (!sync) {
        if (arg.empty()) return {{"role", "single"}, {"ready", true}, {"detail", "no sync configured"}};
        return {{"error", "no sync configured: this dispatcher runs alone (role single)"}};
    }
    if (arg == "ready") return {{"role", to_string(sync->role())}, {"ready", sync->ready()}, {"synced", sync->synced()}};
    if (!arg.empty()) {
        HaRole role;
        if (arg == "master") role = HaRole::master;
        else if (arg == "backup") role = HaRole::backup;
        else if (arg == "fault") role = HaRole::fault;
        else return {{"error", "unknown role '" + std::string(arg) + "'; try master, backup or fault"}};
        const HaRole before = sync->role();
        sync->set_role(role, table);
        pipeline.set_accept_new_sessions(role == HaRole::master);
        if (before != role) {
            log.notice(std::string("ha: role ") + to_string(before) + " -> " + to_string(role) + " (" +
                       std::to_string(table.session_count()) + " sessions in the table)");
            if (role != HaRole::master) send_sync(sync->resync_request(), log);
        }
    }
    return {{"role", to_string(sync->role())}, {"ready", sync->ready()}, {"synced", sync->synced()},
            {"sessions", table.session_count()}};
}

// SIGHUP with a valid file (caller holds `lock`). Sessions keep their nodes throughout: a
// removed node retires only once its last session ended (retire_idle_nodes).
void Runtime::apply_reload(const ReloadPlan& plan, const Logger& log) {
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
void Runtime::retire_idle_nodes(const Logger& log) {
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
nlohmann::json Runtime::set_operator_drain(std::string_view node_arg, bool drain, const Logger& log) {
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

std::string Runtime::control_request(std::string_view request, const Logger& log) {
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
        table.for_each_session([&](SessionId, const Session& s) {
            if (out["sessions"].size() >= limit) return;
            out["sessions"].push_back({{"protocol", to_string(s.protocol)}, {"key", s.key},
                                       {"state", to_string(s.state)}, {"node", s.node}, {"flows", s.flow_count}});
        });
    } else if (request.starts_with("drain ")) {
        out = set_operator_drain(request.substr(6), true, log);
    } else if (request.starts_with("undrain ")) {
        out = set_operator_drain(request.substr(8), false, log);
    } else if (request == "role" || request.starts_with("role ")) {
        out = role_request(request.size() > 5 ? request.substr(5) : std::string_view(), log);
    } else {
        out["error"] = "unknown request; try stats, nodes, sessions [LIMIT], drain NODE, undrain NODE, "
                       "role [ready|master|backup|fault]";
    }
    return out.dump() + "\n";
}

// Prometheus exposition of everything `stats` and `nodes` show: every counter as
// sara_<name> (the X-macro names already end in _total), the table, each node's state, load
// and sessions, and SA2C's state.
std::string Runtime::metrics_text() {
    std::lock_guard guard(lock);
    PrometheusText t;
    for_each_counter([&](const std::string& name, const char* help, uint64_t v) { t.counter("sara_" + name, help, v); });
    t.gauge("sara_sessions", "Sessions in the table", double(table.session_count()));
    t.gauge("sara_flows", "Flows in the table", double(table.flow_count()));
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
        t.gauge("sara_admission_t2_ratio", "The moving threshold T2 (eq. 4)", a.t2);
        t.gauge("sara_admission_t3_ratio", "The moving threshold T3 (eq. 4)", a.t3);
    }
    return t.text();
}

// Loads the snapshot a clean stop (or the last periodic save before a crash) left. Without
// periodic saves it is removed, so a later crash never reloads state older than the crash;
// with them the next save replaces it within save_interval.
void load_state(Runtime& rt, Logger& log) {
    const std::string& path = rt.config.control.state_file;
    std::ifstream in(path);
    if (!in) return;
    const SnapshotLoad load = read_snapshot(in, rt.table);
    log.notice("state: reloaded " + std::to_string(load.sessions) + " sessions, " + std::to_string(load.flows) +
               " flows from " + path);
    if (!load.error.empty()) log.warning("state: " + path + ": " + load.error + "; the rest was ignored");
    if (rt.config.control.save_interval.count() == 0) std::remove(path.c_str());
}

// The table as snapshot text (caller holds rt.lock, or the queues are stopped).
std::string state_text(const Runtime& rt) {
    std::ostringstream out;
    write_snapshot(rt.table, out);
    return out.str();
}

// Writes `text` to the state file atomically (a crash mid-write leaves the previous one).
bool write_state(const std::string& path, const std::string& text, const Logger& log) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out.flush()) {
            log.error("state: cannot write " + tmp + "; sessions will not survive a restart");
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        log.error("state: cannot rename " + tmp + " to " + path);
        return false;
    }
    return true;
}

void save_state(Runtime& rt, Logger& log) {
    if (write_state(rt.config.control.state_file, state_text(rt), log))
        log.notice("state: saved " + std::to_string(rt.table.session_count()) + " sessions to " +
                   rt.config.control.state_file);
}

// Applies the health monitor's state changes: logs each, takes unavailable nodes out of
// scheduling, and counts a crashed node's active sessions as lost. Caller holds rt.lock.
void apply_health(Runtime& rt, Logger& log) {
    for (const NodeTransition& t : rt.health->tick()) {
        ++rt.health_counters.node_state_changes_total;
        // A drained or retiring node stays out of scheduling whatever its health says.
        rt.pipeline.set_available(t.node, rt.node_available(t.node));
        std::string line = "node " + std::to_string(t.node) + ": " + to_string(t.from) + " -> " + to_string(t.to);
        if (t.to == NodeState::down && t.from != NodeState::draining) {
            const uint64_t lost = rt.pipeline.node_sessions(t.node);
            rt.health_counters.sessions_lost_total += lost;
            if (lost) line += " (" + std::to_string(lost) + " active sessions lost)";
        }
        log.notice(line);
    }
}

// Every admission.interval (caller holds rt.lock): SA2C gets the loads of the nodes that may
// take sessions (0 each without `health:`, so only the head load counts) and the head load.
// Logs only when SA2C starts or stops refusing. Returns the probability the kernel's degrade
// rule should have, in 5 % steps so that small changes do not rewrite the rules every interval.
double admission_tick(Runtime& rt, Logger& log) {
    std::vector<double> loads;
    for (const NodeEntry& n : rt.pipeline.nodes())
        if (n.available) loads.push_back(rt.health ? rt.health->load(n.id) : 0.0);
    const bool was_refusing = rt.sa2c->state().p_new > 0;
    rt.sa2c->update(loads, rt.head.sample());
    const AdmissionState& a = rt.sa2c->state();
    if (was_refusing != (a.p_new > 0)) {
        char line[200];
        std::snprintf(line, sizeof line, "admission: %s (m %.3f, cluster %.3f, head %.3f, p_new %.3f)",
                      a.p_new > 0 ? "refusing new sessions" : "admitting every new session again", a.m,
                      a.cluster_load, a.head_load, a.p_new);
        log.notice(line);
    }
    return std::round(a.p_established * 20) / 20;
}

void queue_thread(Runtime& rt, NfQueue& queue, Logger& log) {
    const bool raw_mode = rt.raw != nullptr;
    const NfQueue::Handler handler = [&](PacketLease& lease, std::span<const uint8_t> payload) {
        std::lock_guard guard(rt.lock);
        const PipelineDecision d = rt.pipeline.decide(payload);
        if (raw_mode && d.node != kNoNode && d.verdict.kind == Verdict::Kind::accept) {
            const NodeEntry* node = rt.pipeline.node(d.node);
            if (node && rt.raw->send(payload, node->mac)) ++rt.raw_counters.raw_frames_sent_total;
            else ++rt.raw_counters.raw_send_errors_total;
            lease.decide(Verdict::drop());  // the node got our copy; the kernel must not route it
            return;
        }
        if (d.refused && rt.refusals) rt.refusals->refuse(payload);
        lease.decide(d.verdict);
    };
    std::string error;
    while (!rt.stop) {
        if (!queue.receive_round(handler, &error)) {
            log.error("queue " + std::to_string(queue.queue_num()) + ": " + error);
            error.clear();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

// SIGHUP (main thread): a bad file is reported (every error with file:line:col) and the running
// config stays; a good one is applied as a diff (config_reload.hpp). The kernel gets the new
// nodes' routes before the pipeline may send them a session; a removed node keeps its route
// until it retires.
void reload(Runtime& rt, const KernelSetup& kernel, const std::string& config_path, const Logger& log) {
    (void)notify_systemd("RELOADING=1");
    const DispatcherConfigLoad next = load_dispatcher_config(config_path);
    if (!next.ok()) {
        print_errors(next.errors, std::cerr);
        log.error("reload: " + config_path + " has " + std::to_string(next.errors.size()) +
                  " error(s); keeping the running config");
        (void)notify_systemd("READY=1");
        return;
    }
    // rt.config and rt.retiring change only on this thread: read here without the lock.
    const ReloadPlan plan = plan_reload(rt.config, next.config);
    bool installed = true;
    if (plan.nodes_changed()) {
        std::vector<NodeConfig> retiring = rt.retiring;
        retiring.insert(retiring.end(), plan.removed.begin(), plan.removed.end());
        KernelSetupSpec wanted = kernel_spec(plan.config, retiring);
        wanted.degrade_probability = rt.kernel_spec.raw_mode ? 0 : rt.degrade_installed;
        std::string error;
        installed = !kernel.install(wanted, &error);
        if (!installed) log.error("reload: kernel setup: " + error + " (retried at the next tick)");
    }
    {
        std::lock_guard guard(rt.lock);
        rt.apply_reload(plan, log);
        if (installed) rt.kernel_dirty = false;
    }
    log.notice("reload: applied " + config_path + ": " + describe(plan));
    (void)notify_systemd("READY=1");
}

// HA (`sync:`): starts as backup — no new sessions, a resync request to the peer — until
// keepalived's notify hook says otherwise (`saractl role master`).
bool start_sync(Runtime& rt, const Logger& log, std::string* error) {
    const SyncConfig& c = *rt.config.sync;
    rt.sync = std::make_unique<StateSync>(
        SyncSettings{c.id, c.peer_id, c.interval, c.snapshot_interval, c.ready_wait}, rt.clock);
    Runtime* r = &rt;
    rt.sync->set_on_table_replaced([r] { r->identifier.forget_sessions(); });
    rt.pipeline.set_accept_new_sessions(false);
    rt.sync_sender = DatagramSender::open({c.peer}, error);
    if (!rt.sync_sender) return false;
    // Time-based, so that a restarted sarad is not refused as a replay by its peer.
    rt.sync_seq = time_based_first_seq(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()),
        c.interval);
    rt.sync_listener = ControlListener::start(
        c.listen, rt.key ? &*rt.key : nullptr, {c.peer_id},
        [r, &log](const wire::Decoded& d) {
            if (d.type != wire::MessageType::sync) return;
            std::optional<wire::SyncMessage> reply;
            {
                std::lock_guard guard(r->lock);
                reply = r->sync->on_message(d.sync, r->table);
            }
            if (reply) r->send_sync(*reply, log);
        },
        error);
    if (!rt.sync_listener) return false;
    log.notice("ha: sync with " + c.peer.to_string() + " (id " + std::to_string(c.id) + ", peer " +
               std::to_string(c.peer_id) + ")");
    // keepalived tells each state once: a sarad (re)started while keepalived holds the address
    // takes the role its notify hook last wrote, or it would drop every new session as a
    // backup until the next transition.
    std::string last;
    if (std::ifstream in(c.role_file); in) std::getline(in, last);
    if (last == "master" || last == "fault") {
        std::lock_guard guard(rt.lock);
        (void)rt.role_request(last, log);
    } else {
        log.notice("ha: role backup until keepalived says otherwise" +
                   (last.empty() ? std::string() : " (" + c.role_file + " says '" + last + "')"));
        rt.send_sync(rt.sync->resync_request(), log);
    }
    return true;
}

// The master's stream: every sync.interval, the table's changes (or a snapshot) to the peer.
void sync_thread(Runtime& rt, const Logger& log) {
    const auto interval = rt.config.sync->interval;
    auto next = std::chrono::steady_clock::now();
    while (!rt.stop) {
        next += interval;
        std::this_thread::sleep_until(next);
        std::vector<wire::SyncMessage> out;
        {
            std::lock_guard guard(rt.lock);
            out = rt.sync->tick(rt.table);
        }
        for (wire::SyncMessage& m : out) rt.send_sync(std::move(m), log);
    }
}

}  // namespace

int check_config(const std::string& config_path) {
    const DispatcherConfigLoad load = load_dispatcher_config(config_path);
    if (!load.ok()) {
        print_errors(load.errors, std::cerr);
        std::cerr << config_path << ": " << load.errors.size() << " error(s)\n";
        return 1;
    }
    std::cout << config_path << ": ok\n";
    return 0;
}

int run_dispatcher(const std::string& config_path, Logger& log) {
    const DispatcherConfigLoad load = load_dispatcher_config(config_path);
    if (!load.ok()) {
        print_errors(load.errors, std::cerr);
        log.error(config_path + ": " + std::to_string(load.errors.size()) + " error(s); not starting");
        return 1;
    }
    const DispatcherConfig& config = load.config;

    // Signals are taken synchronously by the main loop; every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto rt = std::make_unique<Runtime>(config);
    load_state(*rt, log);
    if (config.auth.enabled) {
        std::string key_error;
        rt->key = wire::ClusterKey::load_file(config.auth.key_file, &key_error);
        if (!rt->key) {
            log.error("auth: " + key_error);
            return 1;
        }
    } else if (config.health || config.announce) {
        log.warning("auth: none: heartbeats, load vectors and announcements are NOT authenticated (lab use only)");
    }
    if (config.health) {
        std::vector<NodeId> ids;
        for (const NodeConfig& n : config.nodes) ids.push_back(n.id);
        rt->health = std::make_unique<HealthMonitor>(*config.health, ids, rt->clock);
        // Every node waits for its agent's heartbeats (hysteresis) and load before sessions.
        rt->pipeline.set_nodes(rt->node_entries());
    }
    KernelSetup kernel;
    const KernelSetupSpec& spec = rt->kernel_spec;  // main thread only; a reload may change it
    std::string error;
    if (kernel.install(spec, &error)) {
        log.error("kernel setup: " + error);
        (void)kernel.remove(spec, &error);
        return 1;
    }
    auto fail = [&](const std::string& message) {
        log.error(message);
        rt->queues.clear();
        std::string ignored;
        (void)kernel.remove(spec, &ignored);
        return 1;
    };
    if (config.forwarding.mode == ForwardingMode::raw) {
        rt->raw = RawSender::open(config.lan_interface, &error);
        if (!rt->raw) return fail(error);
    }
    if (config.forwarding.preinstall && config.forwarding.mode == ForwardingMode::route) {
        rt->preinstall = ConntrackPreinstall::open(&error);
        if (!rt->preinstall) return fail(error);
        Runtime* r = rt.get();
        // Runs under rt.lock (inside apply()/classify()); the session's node is known by then
        // for announced flows (the node answered), else nothing is installed.
        rt->identifier.set_on_flow_completed([r](const FlowKey& flow, SessionId id) {
            const NodeId node = r->table.session(id).node;
            if (node == kNoNode) return;
            switch (r->preinstall->create(flow, node, std::chrono::seconds(30))) {
                case ConntrackPreinstall::Result::created: ++r->preinstall_counters.preinstall_created_total; break;
                case ConntrackPreinstall::Result::exists: ++r->preinstall_counters.preinstall_exists_total; break;
                case ConntrackPreinstall::Result::unsupported:
                case ConntrackPreinstall::Result::failed: ++r->preinstall_counters.preinstall_failed_total; break;
            }
        });
    }
    if (rt->sa2c) {
        auto sender = IpSender::open(&error);
        if (!sender) log.warning(error + "; refused sessions are dropped without a 503 or RST");
        rt->refusals = std::make_unique<RefusalSender>(config.admission, std::move(sender));
    } else {
        log.notice("admission: disabled (admission.enabled: false): every new session is admitted");
    }
    for (uint16_t i = 0; i < config.queue.count; ++i) {
        NfQueueOptions options;
        options.queue_num = uint16_t(config.queue.first + i);
        options.max_len = config.queue.max_len;
        options.fail_open = config.queue.fail_open;
        auto q = NfQueue::open(options, &error);
        if (!q) return fail("queue " + std::to_string(options.queue_num) + ": " + error);
        rt->queues.push_back(std::move(q));
    }
    if (config.health) {
        std::vector<uint16_t> hosts;
        for (const NodeConfig& n : config.nodes) hosts.push_back(n.id);
        Runtime* r = rt.get();
        rt->listener = ControlListener::start(
            config.health->listen, rt->key ? &*rt->key : nullptr, hosts,
            [r](const wire::Decoded& d) {
                std::lock_guard guard(r->lock);
                if (d.type == wire::MessageType::heartbeat) {
                    r->health->on_heartbeat(d.heartbeat);
                } else if (d.type == wire::MessageType::load) {
                    r->health->on_load(d.load);
                    const NodeId id = d.load.host_id;
                    r->scheduler->on_load_report(id, r->health->load(id), r->pipeline.node_sessions(id));
                }
            },
            &error);
        if (!rt->listener) return fail(error);
    }
    if (config.announce) {
        Runtime* r = rt.get();
        rt->announce_listener = ControlListener::start(
            config.announce->listen, rt->key ? &*rt->key : nullptr, config.announce->senders,
            [r](const wire::Decoded& d) {
                if (d.type != wire::MessageType::announce) return;  // a gateway sends nothing else
                std::lock_guard guard(r->lock);
                r->identifier.apply(d.announce.announcement);
            },
            &error);
        if (!rt->announce_listener) return fail(error);
    }
    if (config.sync && !start_sync(*rt, log, &error)) return fail(error);
    auto metrics = MetricsServer::start(config.metrics.listen, [&] { return rt->metrics_text(); }, &error);
    if (!metrics) {
        log.warning(error + "; running without the Prometheus endpoint");
        error.clear();
    }
    auto control = ControlServer::start(
        config.control.socket, [&](std::string_view r) { return rt->control_request(r, log); }, &error);
    if (!control) return fail(error);

    std::vector<std::thread> threads;
    for (auto& q : rt->queues) threads.emplace_back(queue_thread, std::ref(*rt), std::ref(*q), std::ref(log));
    if (rt->sync) threads.emplace_back(sync_thread, std::ref(*rt), std::ref(log));
    log.notice("sarad: VIP " + config.vip.to_string() + ", " + std::to_string(config.nodes.size()) + " nodes, " +
               std::to_string(config.queue.count) + " queue(s) from " + std::to_string(config.queue.first) +
               ", forwarding " + to_string(config.forwarding.mode) + "; ready");
    // Type=notify: systemd starts dependent units (and `systemctl start` returns) only now.
    (void)notify_systemd("READY=1\nSTATUS=VIP " + config.vip.to_string() + ", " + std::to_string(config.nodes.size()) +
                         " nodes");

    // The failure detector is evaluated every heartbeat interval (detection within n*d plus
    // one interval); the table is purged every second.
    // SA2C runs every admission.interval (a reload may change it).
    const std::chrono::milliseconds health_tick =
        config.health ? std::min<std::chrono::milliseconds>(config.health->heartbeat_interval, std::chrono::seconds(1))
                      : std::chrono::milliseconds(1000);
    auto next_purge = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto next_save = std::chrono::steady_clock::now() + config.control.save_interval;
    auto next_admission = std::chrono::steady_clock::now() + config.admission.interval;
    for (;;) {
        const std::chrono::milliseconds tick_interval =
            rt->sa2c ? std::min(health_tick, rt->config.admission.interval) : health_tick;
        timespec tick{tick_interval.count() / 1000, (tick_interval.count() % 1000) * 1'000'000};
        const int sig = sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (sig == SIGHUP) {
            reload(*rt, kernel, config_path, log);
            continue;
        }
        double degrade = rt->degrade_installed;
        std::string state;  // a periodic save, written outside the lock
        {
            std::lock_guard guard(rt->lock);
            if (rt->health) apply_health(*rt, log);
            const auto now = std::chrono::steady_clock::now();
            if (rt->sa2c && now >= next_admission) {
                degrade = admission_tick(*rt, log);
                next_admission = now + rt->config.admission.interval;
            }
            if (now >= next_purge) {
                rt->pipeline.maintain();
                rt->retire_idle_nodes(log);
                next_purge += std::chrono::seconds(1);
            }
            if (config.control.save_interval.count() > 0 && now >= next_save) {
                state = state_text(*rt);
                next_save = now + config.control.save_interval;
            }
        }
        if (!state.empty()) (void)write_state(config.control.state_file, state, log);
        // The kernel: a reload's node routes, the degrade rule (outside the lock:
        // iptables-restore takes milliseconds). Raw mode has no fast path: every packet is
        // queued and degraded by the pipeline.
        const bool degrade_changed = degrade != rt->degrade_installed && !spec.raw_mode;
        if (degrade_changed || rt->kernel_dirty) {
            KernelSetupSpec wanted = spec;
            wanted.degrade_probability = spec.raw_mode ? 0 : degrade;
            if (kernel.install(wanted, &error)) {
                log.error("kernel setup: " + error);
                error.clear();
            } else if (degrade_changed) {
                log.notice("admission: established flows degraded with p " + std::to_string(degrade));
            }
            // Also on failure: retried only at the next change.
            rt->degrade_installed = degrade;
            rt->kernel_dirty = false;
        }
    }

    log.notice("sarad: stopping");
    (void)notify_systemd("STOPPING=1");
    rt->stop = true;
    for (auto& t : threads) t.join();
    rt->listener.reset();
    rt->announce_listener.reset();
    rt->sync_listener.reset();
    control.reset();
    metrics.reset();
    rt->queues.clear();
    save_state(*rt, log);
    if (kernel.remove(spec, &error)) {
        log.error("kernel cleanup: " + error);
        return 1;
    }
    log.notice("sarad: stopped, kernel setup removed");
    return 0;
}

}  // namespace sara
