// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/dispatcher_daemon.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <csignal>
#include <cstdio>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/util/thread_name.hpp"
#include "common/wire/configured_key.hpp"
#include "common/util/daemon_lifecycle.hpp"
#include "common/util/time_sequence.hpp"
#include "daemon/control/control_socket.hpp"
#include "daemon/control/metrics_server.hpp"
#include "daemon/dispatch/runtime.hpp"
#include "daemon/dispatch/ticker.hpp"
#include "daemon/forward/vip_route_announcer.hpp"
#include "daemon/ha/sync_threads.hpp"
#include "daemon/identify/state_file.hpp"

namespace sara {
namespace {

// Expiry (and a periodic save) take a slice of kExpirySlice table entries every kExpiryStep,
// in pieces of kPiece entries, each under its own hold of the lock the queues share, with a
// waiting queue thread let in between two pieces (Mutex::let_waiters_in). Measured on this
// 2-core machine (while busy): an entry costs 85 ns with 100k sessions and 320 ns with 1M
// (cache misses: a flow's session is a random access), but up to ~3.5 µs while a million
// sessions expire at once or are copied for a save (`make bench-table`: 3.4-4.0 ms of the
// main thread's CPU in one 1024-entry hold, so the queue waited up to 8.7 ms). A round over
// the table takes entries / (kExpirySlice per kExpiryStep): about a second at 200k sessions
// and flows, 15 s at 3M (1M calls), so an entry expires at most that late (flows are purged
// after twice their timeout: 60 s for SIP by default).
constexpr std::chrono::milliseconds kExpiryStep{5};
constexpr size_t kExpirySlice = 1024;
constexpr size_t kPiece = 64;
// How long the main thread waits, between two pieces, for a queue thread it let in.
constexpr std::chrono::microseconds kLetInPatience{200};
// Runs `step(kPiece)` under rt.lock, one hold per piece, until it returns true (done) or a
// slice's worth of pieces ran; each hold is counted for `task`, and a waiting queue thread
// goes first between two pieces. Returns what the last step returned.
template <typename Step>
bool run_in_pieces(DispatcherRuntime& rt, LockTask task, Step&& step) {
    bool done = false;
    for (size_t piece = 0; !done && piece < kExpirySlice; piece += kPiece) {
        {
            MutexLock guard(rt.lock);
            const HoldMark taken = HoldMark::now();
            done = step(kPiece);
            rt.note_main_hold(rt.lock_holds.note(task, taken).wall - taken.wall);
        }
        rt.lock.let_waiters_in(kLetInPatience);
    }
    return done;
}

// An HA backup in BPF mode fills its map from its replica (ha/fast_path_prefill.hpp): up to
// this many flows per tick, each a map update (a system call) when not in the map yet.
constexpr size_t kPrefillSlice = 1024;

// Applies the health monitor's state changes: logs each, takes unavailable nodes out of
// scheduling, and counts a crashed node's active sessions as lost. Caller holds rt.lock.
void apply_health(DispatcherRuntime& rt, Logger& log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt.lock) {
    for (const NodeTransition& t : rt.health->tick()) {
        ++rt.health_counters.node_state_changes_total;
        // A drained or retiring node stays out of scheduling whatever its health says.
        rt.nodes.health_changed(t.node);
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
double admission_tick(DispatcherRuntime& rt, const HeadLoadReading& head, Logger& log)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt.lock) {
    std::vector<double> loads;
    for (const NodeEntry& n : rt.pipeline.nodes())
        if (n.available) loads.push_back(rt.health ? rt.health->load(n.id) : 0.0);
    const bool was_refusing = rt.sa2c->state().p_new > 0;
    rt.sa2c->update(loads, rt.head.sample(head));
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

// Raw mode: our copy goes to the node, counted by outcome. A truncated copy (the kernel's
// copy range ends at 65,531 bytes) cannot be sent.
void send_raw(DispatcherRuntime& rt, NodeId node_id, std::span<const uint8_t> payload, size_t packet_length)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt.lock) {
    const NodeEntry* node = rt.pipeline.node(node_id);
    const RawSender::Sent sent = !node ? RawSender::Sent::error
                                 : packet_length > payload.size() ? RawSender::Sent::unsendable
                                                                  : rt.raw->send(payload, node->mac);
    switch (sent) {
        case RawSender::Sent::fragmented: ++rt.raw_counters.raw_fragmented_total; [[fallthrough]];
        case RawSender::Sent::whole: ++rt.raw_counters.raw_frames_sent_total; break;
        case RawSender::Sent::unsendable: ++rt.raw_counters.raw_unsendable_dropped_total; break;
        case RawSender::Sent::error: ++rt.raw_counters.raw_send_errors_total; break;
    }
}

// HA: a new binding's verdict (its lease handed over as `packet_id`) waits until the backup
// has the binding (held_verdicts.hpp). Caller holds rt.lock and saw sync->peer_acking().
void hold_for_backup(DispatcherRuntime& rt, NfQueue& queue, uint32_t packet_id, const Verdict& verdict)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt.lock) {
    const bool first = !rt.held->flush_due();
    rt.held->hold(queue, packet_id, verdict, rt.sync->next_update(), rt.clock.now());
    if (first) rt.sync_wake.notify_one();
}

// A forwarded packet whose decision claimed a client port (an offer's or SETUP's media
// endpoint) reaches its node only once the janitor deleted that port's stale conntrack
// entries (an earlier call's, marked for another node): a fast answer (an IVR, a media
// server) lets the client's first media packets follow the old mark otherwise. This runs on
// the janitor's thread then: the verdict, or the HA hold, as the queue thread would have.
std::function<void()> verdict_after_claims(DispatcherRuntime& rt, NfQueue& queue, uint32_t packet_id,
                                           const PacketAction& action) {
    return [r = &rt, q = &queue, packet_id, verdict = action.verdict, new_binding = action.new_binding] {
        MutexLock guard(r->lock);
        if (new_binding && r->held) {
            if (r->sync->peer_acking()) {
                hold_for_backup(*r, *q, packet_id, verdict);
                return;
            }
            r->held->count_unheld();
        }
        q->send_verdict_now(packet_id, verdict);
    };
}

// Carries out what the pipeline decided for one packet (packet_action.hpp), under rt.lock.
// `tid`: where the thread says who it is (the head load counts the queue threads' CPU).
void queue_thread(DispatcherRuntime& rt, NfQueue& queue, Logger& log, std::atomic<pid_t>* tid) {
    tid->store(gettid());
    name_this_thread("sara-queue" + std::to_string(queue.queue_num()));
    const NfQueue::Handler handler = [&](PacketLease& lease, std::span<const uint8_t> payload, size_t packet_length) {
        const auto asked = std::chrono::steady_clock::now();
        MutexLock guard(rt.lock);
        rt.note_queue_wait(std::chrono::steady_clock::now() - asked);
        const PacketAction action = rt.pipeline.decide(payload, packet_length);
        if (action.raw_copy_to != kNoNode) {
            send_raw(rt, action.raw_copy_to, payload, packet_length);
            lease.decide(action.verdict);  // a drop: the node got our copy; the kernel must not route it
            return;
        }
        if (action.refusal && rt.refusals) rt.refusals->refuse(*action.refusal);
        // The bound on holding must not hang on the sync thread alone (descheduled on a busy
        // host, it held one verdict 320 ms): every packet also releases what waited too long.
        if (rt.held) {
            const MonoTime now = rt.clock.now();
            if (auto due = rt.held->next_timeout(); due && now >= *due) rt.held->expire(now);
        }
        // Built only for a claim: a std::function of this size is a heap allocation per packet.
        if (action.verdict.kind == Verdict::Kind::accept && rt.identifier.claims_pending()) {
            // The janitor's callback takes rt.lock: it runs once this handler has returned,
            // the lease handed over (counted in conntrack_waiters_released_total).
            if (rt.flush_kernel_forgets(verdict_after_claims(rt, queue, lease.id(), action))) {
                (void)lease.hand_over();
                return;
            }
        } else {
            rt.flush_kernel_forgets();
        }
        if (action.new_binding && rt.held) {
            // No replication window: the backup gets the binding before the node gets the
            // packet — unless no backup is acknowledging (absent, starting): then at once.
            if (rt.sync->peer_acking()) {
                hold_for_backup(rt, queue, lease.hand_over(), action.verdict);
                return;
            }
            rt.held->count_unheld();
        }
        if (action.fast_path_on_verdict) rt.pipeline.offer_fast_path(*action.fast_path_on_verdict, action.node);
        lease.decide(action.verdict);
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
// config stays (DaemonLifecycle::reload); a good one is applied as a diff (config_reload.hpp).
// The kernel gets the new nodes' routes before the pipeline may send them a session; a removed
// node keeps its route until it retires.
ReloadOutcome apply_new_config(DispatcherRuntime& rt, const KernelSetup& kernel, const DispatcherConfig& next,
                               const DaemonLifecycle& life, const Logger& log) {
    // rt.config changes only on this thread: read here without the lock.
    const ReloadPlan plan = plan_reload(rt.config, next);
    bool installed = true;
    if (plan.nodes_changed()) {
        std::vector<NodeConfig> retiring;
        {
            MutexLock guard(rt.lock);  // the control thread's drain writes the registry
            retiring = rt.nodes.retiring_after(plan);
        }
        KernelSetupSpec wanted = kernel_spec(plan.config, retiring);
        wanted.degrade_probability = rt.kernel_spec.raw_mode ? 0 : rt.degrade_installed;
        std::string error;
        installed = !kernel.install(wanted, &error);
        if (!installed) log.error("reload: kernel setup: " + error + " (retried at the next tick)");
    }
    {
        MutexLock guard(rt.lock);
        rt.apply_reload(plan, log);
        if (installed) rt.kernel_dirty = false;
    }
    log.notice("reload: applied " + life.config_path() + ": " + describe(plan));
    return std::nullopt;  // a kernel setup that failed is retried, not a reason to refuse
}

// load_dispatcher_config's checks stay `start` (its default), as at start and in --check-config.
void reload(DispatcherRuntime& rt, const KernelSetup& kernel, DaemonLifecycle& life, const Logger& log) {
    const auto load = [](const std::string& path) { return load_dispatcher_config(path); };
    life.reload(load, [&](const DispatcherConfig& next) { return apply_new_config(rt, kernel, next, life, log); });
}

// The BPF fast path (forwarding.fast_path: bpf): a program of ours that a previous run left on
// any interface goes first (a crash, or a config that moved away from bpf or to another
// interface: a stale program must never steer to old nodes), then the program is loaded,
// given the nodes and ranges, and attached. If the kernel refuses it, on_failure decides:
// refuse to start (false, *error says why) or go on with the netfilter fast path, warned.
bool start_fast_path(DispatcherRuntime& rt, const Logger& log, std::string* error) {
    std::string leftover_error;
    if (const size_t stale = BpfFastPath::remove_leftovers(&leftover_error))
        log.notice("bpf: removed " + std::to_string(stale) + " fast-path program(s) a previous run left");
    if (!leftover_error.empty()) log.warning("bpf: looking for a previous run's programs: " + leftover_error);
    const DispatcherConfig& config = rt.config;
    if (config.forwarding.fast_path != FastPath::bpf || config.forwarding.mode != ForwardingMode::route) return true;
    const BpfFastPathSpec spec = bpf_fast_path_spec(config);
    std::string why;
    std::unique_ptr<BpfFastPath> bpf = BpfFastPath::load(spec, &why);
    // The control thread already answers (`stats` reads the program's counters).
    MutexLock guard(rt.lock);
    if (bpf) {
        rt.use_bpf(std::move(bpf));
        if (!rt.bpf->attach(&why)) {
            log.notice(std::string("bpf: fast path on ") + spec.client_interface + " (" + to_string(config.forwarding.bpf.hook) +
                       ", " + spec.object_path + ", flow map of " + std::to_string(spec.max_flows) + " entries, " +
                       std::to_string(rt.bpf->map_memory_bytes() >> 20) + " MiB)");
            return true;
        }
        rt.drop_bpf();
        rt.bpf.reset();
    }
    why = "bpf: the fast path could not start on " + spec.client_interface + ": " + why;
    if (config.forwarding.bpf.on_failure == BpfFailure::refuse) {
        *error = why + " (forwarding.bpf.on_failure: refuse)";
        return false;
    }
    log.warning(why + "; running on the netfilter fast path (forwarding.bpf.on_failure: netfilter)");
    return true;
}

// Route mode without the BPF program: conntrack's marked entries are the table's fast path
// (runtime.hpp's conntrack_flows), seeded by one dump on the janitor's thread.
bool start_conntrack_index(DispatcherRuntime& rt, std::string* error) {
    if (rt.config.forwarding.mode != ForwardingMode::route) return true;
    MutexLock guard(rt.lock);
    if (rt.bpf || !rt.janitor) return true;
    std::unique_ptr<ConntrackFlows> flows = ConntrackFlows::open(error);
    if (!flows) return false;
    rt.use_conntrack_index(std::move(flows));
    return true;
}

// Stop: the program leaves the interface before the rules go, so no packet is steered by a
// program whose sarad is gone; the table forgets the map first.
void stop_fast_path(DispatcherRuntime& rt, const Logger& log) {
    MutexLock guard(rt.lock);  // a failed start's control thread still answers
    rt.drop_conntrack_index();
    rt.drop_bpf();
    if (!rt.bpf) return;
    std::string error;
    if (rt.bpf->detach(&error)) log.error("bpf: detaching the fast path: " + error);
    rt.bpf.reset();
}

// What the HA threads use of the runtime (daemon/ha/sync_threads.hpp); built once its key is
// loaded, before the sync channel starts. It binds references to guarded fields (no analysis:
// the HA threads take rt.lock before they use them); its callbacks run under rt.lock.
std::unique_ptr<SyncRuntime> sync_runtime(DispatcherRuntime& rt) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    DispatcherRuntime* r = &rt;
    return std::make_unique<SyncRuntime>(SyncRuntime{
        *rt.config.sync, rt.config.forwarding.mode != ForwardingMode::raw, rt.key ? &*rt.key : nullptr, rt.clock,
        rt.lock, rt.sync_wake, rt.stop, rt.table, rt.lock_holds, rt.sync, rt.held, rt.sync_sender, rt.sync_seq,
        rt.sync_listener, rt.floating, rt.retired_tables,
        [r] {
            r->lock.assert_held();
            r->identifier.forget_sessions();
        },
        [r](bool accept) {
            r->lock.assert_held();
            r->pipeline.set_accept_new_sessions(accept);
        },
        [r](wire::SyncMessage m, const Logger& log) { r->send_sync(std::move(m), log); },
        [r] {
            r->lock.assert_held();
            r->clear_conntrack_index();
            if (!r->bpf) return size_t{0};
            if (r->prefill) r->prefill->restart();  // refilled from the replica
            const size_t cleared = r->bpf->clear_flows();
            r->bpf_flows->clear_index();
            return cleared;
        },
        [r](const RecordsApplied& applied) {
            r->lock.assert_held();
            for (NodeId node : applied.assigned) r->scheduler->on_peer_assigned(node);
            for (const FlowKey& key : applied.claimed) r->identifier.claimed_by_peer(key);
        },
        [r](std::function<void()> then) {
            r->lock.assert_held();
            return r->identifier.claims_pending() && r->flush_kernel_forgets(std::move(then));
        }});
}

// What the identifier tells the runtime (before the queues start; the control thread already
// answers, hence the lock).
void hook_identifier(DispatcherRuntime& rt, const Logger& log) {
    MutexLock guard(rt.lock);
    if (rt.janitor) rt.identifier.set_kernel_forgets(true);
    // A node's media server answering outside the node's ranges: its media is steered by the
    // range's owner (or the session table), not by the node. Logged once per node.
    rt.identifier.set_on_media_port_outside_range([&log](NodeId node, uint16_t port) {
        log.warning("node " + std::to_string(node) + ": its media server answered port " + std::to_string(port) +
                    ", outside the node's media_ports (counted in media_port_outside_range_total)");
    });
    if (rt.janitor && rt.janitor->preinstalls()) {
        DispatcherRuntime* r = &rt;
        // Runs under rt.lock (inside apply()/classify()); the session's node is known by then
        // for announced flows (the node answered), else nothing is installed. The janitor
        // creates the entry after any forgetting the same decisions asked for.
        rt.identifier.set_on_flow_completed([r](const FlowKey& flow, SessionId id) {
            r->lock.assert_held();
            const NodeId node = r->table.session(id).node;
            if (node == kNoNode) return;
            r->preinstalls.push_back({ConntrackRequest::Kind::install, flow, node});
            // Its entry will carry the node's mark: indexed like a flow whose verdict saved it.
            if (r->conntrack_flows) r->pipeline.offer_fast_path(flow, node);
        });
    }
}

// With admission control, refused sessions get a 503 or a RST (admission.hpp's settings).
void start_refusals(DispatcherRuntime& rt, const Logger& log) {
    if (!rt.sa2c) {
        log.notice("admission: disabled (admission.enabled: false): every new session is admitted");
        return;
    }
    std::string error;
    auto sender = IpSender::open(&error);
    if (!sender) log.warning(error + "; refused sessions are dropped without a 503 or RST");
    auto refusals = std::make_unique<RefusalSender>(rt.config.admission, std::move(sender));
    MutexLock guard(rt.lock);
    rt.refusals = std::move(refusals);
}

// health.listen (heartbeats, load vectors) and announce.listen (the gateways' announcements).
// Each listener's thread takes rt.lock per message; started outside it, stored under it.
bool start_listeners(DispatcherRuntime& rt, std::string* error) {
    const DispatcherConfig& config = rt.config;
    DispatcherRuntime* r = &rt;
    std::unique_ptr<ControlListener> health;
    if (config.health) {
        std::vector<uint16_t> hosts;
        {
            MutexLock guard(rt.lock);
            for (NodeId id : rt.nodes.ids()) hosts.push_back(id);
        }
        health = ControlListener::start(
            config.health->listen, rt.key ? &*rt.key : nullptr, hosts,
            [r](const wire::Decoded& d) {
                MutexLock guard(r->lock);
                if (d.type == wire::MessageType::heartbeat) {
                    r->health->on_heartbeat(d.heartbeat);
                } else if (d.type == wire::MessageType::load) {
                    r->health->on_load(d.load);
                    const NodeId id = d.load.host_id;
                    r->scheduler->on_load_report(id, r->health->load(id), r->pipeline.node_sessions(id));
                }
            },
            error);
        if (!health) return false;
    }
    std::unique_ptr<ControlListener> announce;
    if (config.announce) {
        announce = ControlListener::start(
            config.announce->listen, rt.key ? &*rt.key : nullptr, config.announce->senders,
            [r](const wire::Decoded& d) {
                if (d.type != wire::MessageType::announce) return;  // a gateway sends nothing else
                MutexLock guard(r->lock);
                r->identifier.apply(d.announce.announcement);
                r->flush_kernel_forgets();
            },
            error);
        if (!announce) return false;
    }
    MutexLock guard(rt.lock);
    rt.listener = std::move(health);
    rt.announce_listener = std::move(announce);
    return true;
}

// Stop: the listeners leave the runtime under the lock (the control thread reads their
// counters) and are joined outside it (their threads take it per message).
void stop_listeners(DispatcherRuntime& rt) {
    std::unique_ptr<ControlListener> health, announce, sync;
    {
        MutexLock guard(rt.lock);
        health = std::move(rt.listener);
        announce = std::move(rt.announce_listener);
        sync = std::move(rt.sync_listener);
    }
}

}  // namespace

namespace {

// route_announce: the VIP's route follows `want` (ready and not withdrawn by the operator).
// Main thread, without the lock (a netlink round trip); a failure is logged and retried at
// the next wake.
void follow_announcement(DispatcherRuntime& rt, VipRouteAnnouncer& announcer, bool want, const Logger& log) {
    if (want == announcer.announced()) return;
    std::string error;
    if (announcer.set(want, &error)) {
        log.error("route_announce: " + error);
        return;
    }
    log.notice(std::string("route_announce: VIP route ") + (want ? "announced" : "withdrawn") + " (table " +
               std::to_string(announcer.table()) + ")");
    MutexLock guard(rt.lock);
    rt.route_announced = want;
}

}  // namespace

int withdraw_routes(const std::string& config_path, Logger& log) {
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config(config_path);
    if (!load.ok()) return check_config_verdict(config_path, load.errors);
    if (!load.config.route_announce) return 0;  // nothing sarad announces
    std::string error;
    VipRouteAnnouncer announcer(load.config.route_announce->table, load.config.vip);
    if (announcer.withdraw_all(&error)) {
        log.error("route_announce: " + error);
        return 1;
    }
    log.notice("route_announce: routes in table " + std::to_string(load.config.route_announce->table) + " withdrawn");
    return 0;
}

int check_config(const std::string& config_path) {
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config(config_path);
    if (!load.ok()) return check_config_verdict(config_path, load.errors);
    // The key file and the BPF program's object too: start refuses without them, so
    // check-config does (whether the kernel takes the program only a start can tell).
    std::vector<ConfigError> errors;
    if (auto key_error = wire::check_configured_key(config_path, load.config.auth)) errors.push_back(*key_error);
    if (load.config.forwarding.fast_path == FastPath::bpf) {
        const BpfConfig& bpf = load.config.forwarding.bpf;
        const std::string object = bpf_object_path(bpf);
        if (access(object.c_str(), R_OK) != 0)
            errors.push_back(ConfigError{config_path, bpf.line, bpf.column,
                                         "forwarding.fast_path: bpf: the program's object " + object +
                                             " is not readable: " + std::strerror(errno)});
    }
    return check_config_verdict(config_path, errors);
}

int run_dispatcher(const std::string& config_path, Logger& log) {
    DaemonLifecycle life("sarad", config_path, log);
    const ConfigLoad<DispatcherConfig> load = load_dispatcher_config(config_path);
    if (!life.config_ok_for_start(load.errors)) return 1;
    const DispatcherConfig& config = load.config;

    // Signals are taken synchronously by the main loop; every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto rt = std::make_unique<DispatcherRuntime>(config);
    {
        MutexLock guard(rt->lock);  // no other thread yet: for the analysis, and to stay true
        (void)load_state(rt->table, config.control.state_file, config.control.save_interval.count() == 0, log);
        if (config.health) {
            rt->health = std::make_unique<HealthMonitor>(*config.health, rt->nodes.ids(), rt->clock);
            const HealthMonitor* health = rt->health.get();
            rt->nodes.set_health([health](NodeId id) { return health->state(id) == NodeState::up; });
            // Every node waits for its agent's heartbeats (hysteresis) and load before sessions.
            rt->pipeline.set_nodes(rt->nodes.entries());
        }
    }
    if (!wire::load_configured_key(config.auth.enabled, config.auth.key_file, rt->key, log)) return 1;
    if (!config.auth.enabled && (config.health || config.announce || config.sync)) {
        log.warning("auth: none: heartbeats, load vectors, announcements and sync are NOT authenticated (lab use only)");
    }
    std::string error;
    // The control socket first: a second sarad started by mistake finds the running one's
    // socket live and stops here, before it could replace (and at exit remove) its rules.
    auto control = LineControlThread::start(
        config.control.socket, sarad_control_options(), [&](std::string_view r) { return rt->control_request(r, log); },
        &error);
    if (!control) {
        log.error(error);
        return 1;
    }
    KernelSetup kernel;
    const KernelSetupSpec& spec = rt->kernel_spec;  // main thread only; a reload may change it
    if (kernel.install(spec, &error)) {
        log.error("kernel setup: " + error);
        (void)kernel.remove(spec, &error);
        return 1;
    }
    // route_announce: a crashed predecessor's route goes at once; ours comes once ready.
    std::optional<VipRouteAnnouncer> announcer;
    if (config.route_announce) {
        announcer.emplace(config.route_announce->table, config.vip);
        if (announcer->withdraw_all(&error)) {
            log.error("route_announce: " + error);
            (void)kernel.remove(spec, &error);
            return 1;
        }
    }
    auto fail = [&](const std::string& message) {
        log.error(message);
        {
            MutexLock guard(rt->lock);
            rt->queues.clear();
        }
        stop_fast_path(*rt, log);
        std::string ignored;
        (void)kernel.remove(spec, &ignored);
        return 1;
    };
    if (config.forwarding.mode == ForwardingMode::raw) {
        rt->raw = RawSender::open(config.lan_interface, &error);
        if (!rt->raw) return fail(error);
    }
    if (config.forwarding.mode == ForwardingMode::route) {
        auto janitor = ConntrackJanitor::start(config.forwarding.preinstall, &error);
        if (!janitor) return fail(error);
        MutexLock guard(rt->lock);
        rt->janitor = std::move(janitor);
    }
    hook_identifier(*rt, log);
    if (!start_fast_path(*rt, log, &error)) return fail(error);
    if (!start_conntrack_index(*rt, &error)) return fail(error);
    start_refusals(*rt, log);
    for (uint16_t i = 0; i < config.queue.count; ++i) {
        NfQueueOptions options;
        options.queue_num = uint16_t(config.queue.first + i);
        options.max_len = config.queue.max_len;
        options.fail_open = config.queue.fail_open;
        auto q = NfQueue::open(options, &error);
        if (!q) return fail("queue " + std::to_string(options.queue_num) + ": " + error);
        MutexLock guard(rt->lock);
        rt->queues.push_back(std::move(q));
    }
    if (!start_listeners(*rt, &error)) return fail(error);
    if (config.sync) {
        rt->sync_runtime = sync_runtime(*rt);
        if (!start_sync(*rt->sync_runtime, log, &error)) return fail(error);
    }
    auto metrics = MetricsServer::start(config.metrics.listen, [&] { return rt->metrics_text(); }, &error);
    if (!metrics) {
        log.warning(error + "; running without the Prometheus endpoint");
        error.clear();
    }

    std::vector<std::thread> threads;
    std::vector<NfQueue*> queues;
    {
        MutexLock guard(rt->lock);
        for (auto& q : rt->queues) queues.push_back(q.get());
    }
    std::vector<std::atomic<pid_t>> queue_tids(queues.size());
    for (size_t i = 0; i < queues.size(); ++i)
        threads.emplace_back(queue_thread, std::ref(*rt), std::ref(*queues[i]), std::ref(log), &queue_tids[i]);
    if (rt->sync_runtime) threads.emplace_back(sync_thread, std::ref(*rt->sync_runtime), std::ref(log));
    if (rt->floating) threads.emplace_back(floating_thread, std::ref(*rt->sync_runtime), std::ref(log));
    log.notice("sarad: VIP " + config.vip.to_string() + ", " + std::to_string(config.nodes.size()) + " nodes, " +
               std::to_string(config.queue.count) + " queue(s) from " + std::to_string(config.queue.first) +
               ", forwarding " + to_string(config.forwarding.mode) + "; ready");
    // Type=notify: systemd starts dependent units (and `systemctl start` returns) only now.
    life.ready("VIP " + config.vip.to_string() + ", " + std::to_string(config.nodes.size()) + " nodes");

    // The failure detector is evaluated every heartbeat interval (detection within n*d plus
    // one interval); SA2C runs every admission.interval (a reload may change it); retiring
    // nodes are checked every second. Expiry runs a slice every kExpiryStep (see
    // kExpirySlice), so the lock the queues share is never held for a scan of the table.
    const std::chrono::milliseconds health_tick =
        config.health ? std::min<std::chrono::milliseconds>(config.health->heartbeat_interval, std::chrono::seconds(1))
                      : std::chrono::milliseconds(1000);
    Ticker ticker(rt->clock);  // health: due at the first wake
    ticker.schedule(PeriodicTask::retire, std::chrono::seconds(1));
    ticker.schedule(PeriodicTask::save, config.control.save_interval);
    ticker.schedule(PeriodicTask::admission, config.admission.interval);
    std::unique_ptr<PeriodicSave> save;
    ConntrackFlows* activity = nullptr;  // the runtime's conntrack_map, set under the lock below
    bool prefilling = false;             // the runtime has a FastPathPrefill (BPF + HA)
    for (;;) {
        timespec tick{0, std::chrono::nanoseconds(kExpiryStep).count()};
        const int sig = sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (sig == SIGHUP) {
            reload(*rt, kernel, life, log);
            continue;
        }
        double degrade = rt->degrade_installed;
        bool save_done = false;
        bool announce = false;  // the VIP's route wanted now (route_announce)
        std::vector<std::unique_ptr<SessionTable>> retired;  // freed at the end of this round, unlocked
        // SA2C's head load reads two /proc files: before the lock, not under it.
        std::optional<HeadLoadReading> head_reading;
        if (rt->sa2c && ticker.take(PeriodicTask::admission, rt->config.admission.interval)) {
            if (!rt->head.has_queue_threads() &&
                std::all_of(queue_tids.begin(), queue_tids.end(), [](const auto& t) { return t.load() != 0; })) {
                std::vector<pid_t> tids;
                for (const auto& t : queue_tids) tids.push_back(t.load());
                rt->head.set_queue_threads(std::move(tids));
            }
            head_reading = rt->head.read();
        }
        {
            MutexLock guard(rt->lock);
            const auto now = std::chrono::steady_clock::now();
            HoldMark task_start = HoldMark::now();
            if (rt->health && ticker.take(PeriodicTask::health, health_tick)) {
                apply_health(*rt, log);
                task_start = rt->lock_holds.note(LockTask::health, task_start);
            }
            if (head_reading) {
                degrade = admission_tick(*rt, *head_reading, log);
                task_start = rt->lock_holds.note(LockTask::admission, task_start);
            }
            rt->note_main_hold(std::chrono::steady_clock::now() - now);
        }
        // Expiry goes on round after round: a slice of pieces every tick, whatever a round's end.
        (void)run_in_pieces(*rt, LockTask::expiry, [&](size_t budget) {
            rt->lock.assert_held();  // run_in_pieces holds it
            rt->identifier.expire_step(budget);
            return false;
        });
        {
            MutexLock guard(rt->lock);
            const auto now = std::chrono::steady_clock::now();
            HoldMark task_start = HoldMark::now();
            if (rt->prefill_step(kPrefillSlice)) task_start = rt->lock_holds.note(LockTask::prefill, task_start);
            rt->flush_kernel_forgets();
            task_start = rt->lock_holds.note(LockTask::kernel_forgets, task_start);
            if (ticker.take(PeriodicTask::retire, std::chrono::seconds(1))) {
                rt->retire_idle_nodes(log);
                rt->lock_holds.note(LockTask::retire, task_start);
            }
            rt->note_main_hold(std::chrono::steady_clock::now() - now);
            announce = rt->ha_ready() && !rt->announce_withdrawn;
            retired.swap(rt->retired_tables);
            activity = rt->conntrack_map.get();
            prefilling = rt->prefill != nullptr;
        }
        if (announcer) follow_announcement(*rt, *announcer, announce, log);
        // A replaced replica's map entries are rechecked against the new one (fast_path_prefill.hpp):
        // its keys collected here, without the lock, before it is freed.
        if (prefilling && !retired.empty()) {
            std::vector<FlowKey> keys;
            for (const auto& t : retired) {
                std::vector<FlowKey> k = offloaded_keys(*t);
                keys.insert(keys.end(), k.begin(), k.end());
            }
            if (!keys.empty()) {
                MutexLock guard(rt->lock);
                if (rt->prefill) rt->prefill->recheck(std::move(keys));
            }
        }
        // The expiry's questions to conntrack (is this idle-looking media flow still going?),
        // answered without the lock; the flows' next visit reads the answers. The object lives
        // until stop_fast_path, after this loop.
        if (activity) activity->answer_queries();
        // A periodic save: the file opened without the lock (truncating the last one can wait
        // for its write-back: 57 ms measured for 150 MB), its slice under a hold of its own.
        if (config.control.save_interval.count() > 0 && !save &&
            ticker.take(PeriodicTask::save, config.control.save_interval)) {
            save = std::make_unique<PeriodicSave>(config.control.state_file);
            // Counted from when the file is open, as opening can wait for the last write-back.
            ticker.schedule(PeriodicTask::save, config.control.save_interval);
        }
        if (save)
            save_done = run_in_pieces(*rt, LockTask::save, [&](size_t budget) {
                rt->lock.assert_held();  // run_in_pieces holds it
                return save->writer.step(rt->table, budget);
            });
        if (save) {
            save->writer.flush();
            if (save_done) {
                (void)commit_state(config.control.state_file, save->out, log);
                save.reset();
            }
        }
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
            if (degrade_changed) {
                MutexLock guard(rt->lock);
                if (rt->bpf) rt->bpf->set_degrade_probability(degrade);
            }
            // Also on failure: retried only at the next change.
            rt->degrade_installed = degrade;
            rt->kernel_dirty = false;
        }
    }

    log.notice("sarad: stopping");
    life.stopped();
    // The router moves the clients away first; what still arrives meanwhile is served.
    if (announcer) follow_announcement(*rt, *announcer, false, log);
    {
        MutexLock guard(rt->lock);
        rt->stop = true;
        rt->sync_wake.notify_all();
    }
    for (auto& t : threads) t.join();
    // Verdicts waiting for the janitor's forgets are given before the queues close (its
    // callbacks take rt.lock and may hand a verdict to the HA hold released below).
    ConntrackJanitor* janitor = nullptr;
    {
        MutexLock guard(rt->lock);
        janitor = rt->janitor.get();
    }
    if (janitor) janitor->wait_idle();
    {
        MutexLock guard(rt->lock);
        if (rt->held) rt->held->release_all(rt->clock.now());  // before the queues close
    }
    stop_listeners(*rt);
    control.reset();
    metrics.reset();
    {
        MutexLock guard(rt->lock);  // no other thread left: for the analysis
        rt->queues.clear();
    }
    stop_fast_path(*rt, log);
    save.reset();  // a periodic save cut short: its temporary file is replaced below
    {
        MutexLock guard(rt->lock);  // no other thread left: for the analysis
        (void)save_state(rt->table, rt->config.control.state_file, log);
    }
    if (kernel.remove(spec, &error)) {
        log.error("kernel cleanup: " + error);
        return 1;
    }
    log.notice("sarad: stopped, kernel setup removed");
    return 0;
}

}  // namespace sara
