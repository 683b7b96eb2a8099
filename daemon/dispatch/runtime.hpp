// SPDX-License-Identifier: GPL-2.0-or-later
// The running dispatcher's state (everything run_dispatcher builds, in dispatcher_daemon.cpp)
// and what a reload and the HA role change do with it; the control socket's requests and
// /metrics read it through daemon/control/dispatcher_view.hpp. Internal to daemon/dispatch.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/util/clock.hpp"
#include "common/util/log.hpp"
#include "common/util/mutex.hpp"
#include "common/util/random.hpp"
#include "common/wire/control_message.hpp"
#include "daemon/admit/admission.hpp"
#include "daemon/admit/sa2c.hpp"
#include "daemon/dispatch/bpf_fast_path_setup.hpp"
#include "daemon/dispatch/config_reload.hpp"
#include "daemon/dispatch/node_registry.hpp"
#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/dispatch/refusal_sender.hpp"
#include "daemon/forward/conntrack_flows.hpp"
#include "daemon/forward/conntrack_janitor.hpp"
#include "daemon/forward/kernel_setup.hpp"
#include "daemon/forward/marks.hpp"
#include "daemon/forward/nfqueue.hpp"
#include "daemon/forward/raw_sender.hpp"
#include "daemon/ha/address_watch.hpp"
#include "daemon/ha/fast_path_prefill.hpp"
#include "daemon/ha/held_verdicts.hpp"
#include "daemon/ha/role_change.hpp"
#include "daemon/ha/state_sync.hpp"
#include "daemon/ha/sync_threads.hpp"
#include "daemon/identify/session_identifier.hpp"
#include "daemon/identify/session_table.hpp"
#include "daemon/monitor/control_listener.hpp"
#include "daemon/monitor/head_load.hpp"
#include "daemon/monitor/lock_holds.hpp"
#include "daemon/monitor/health_monitor.hpp"
#include "daemon/schedule/scheduler.hpp"

namespace sara {

#define SARA_RAW_COUNTERS(X)                                        \
    X(raw_frames_sent_total, "Packets sent to a node as raw Ethernet frames") \
    X(raw_send_errors_total, "Raw frames the kernel refused (packet dropped)") \
    X(raw_fragmented_total, "Packets over the LAN MTU sent to a node as IPv4 fragments") \
    X(raw_unsendable_dropped_total, "Packets raw mode cannot send: a truncated queue copy (over 65,531 bytes), or over the MTU with DF set or IPv6 (dropped)")
SARA_DECLARE_COUNTERS(RawCounters, SARA_RAW_COUNTERS)

#define SARA_HEALTH_COUNTERS(X)                                                                   \
    X(node_state_changes_total, "Node state changes (up, down, app-down, draining, load-unknown)") \
    X(sessions_lost_total, "Active sessions on a node when it went down (crash, not drain)")
SARA_DECLARE_COUNTERS(HealthCounters, SARA_HEALTH_COUNTERS)

// How long the queues wait for `lock` (issue 16: a queue stalled behind an O(table) step
// stalls every session's signalling). Written under the lock, after taking it.
#define SARA_LOCK_COUNTERS(X)                                                                     \
    X(queue_lock_waits_over_100us_total, "Queued packets that waited over 100 us for the dispatcher's lock") \
    X(queue_lock_waits_over_1ms_total, "Queued packets that waited over 1 ms for the dispatcher's lock")
SARA_DECLARE_COUNTERS(LockCounters, SARA_LOCK_COUNTERS)

SessionTableLimits table_limits(const LimitsConfig& l);
IdentifierLimits identifier_limits(const LimitsConfig& l);
// `retiring`: nodes a reload removed that still have sessions; their routes stay until then.
KernelSetupSpec kernel_spec(const DispatcherConfig& c, const std::vector<NodeConfig>& retiring = {});

// Everything the running daemon owns; built by run_dispatcher, torn down in reverse order.
struct DispatcherRuntime {
    explicit DispatcherRuntime(const DispatcherConfig& c)
        : config(c),
          nodes(c.nodes),
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
        table.set_media_linger(c.forwarding.media_linger);
        identifier.set_rtsp_affinity(c.forwarding.rtsp_affinity);
        identifier.set_media_ports(nodes.media_ports());
        pipeline.set_nodes(nodes.entries());
        pipeline.set_raw_mode(c.forwarding.mode == ForwardingMode::raw);
        // The registry calls these inside its changes, made under `lock`.
        nodes.on_set_changed([this](const NodeRegistry&) {
            lock.assert_held();
            follow_node_set();
        });
        nodes.on_availability_changed([this](NodeId id, bool available) {
            lock.assert_held();
            pipeline.set_available(id, available);
        });
    }

    // Conntrack entries the identifier's last decisions made stale, then the completed flows
    // to pre-install, go to the janitor in that order (route mode; raw mode has no conntrack
    // fast path). True when the decisions claimed client ports and `after_claims` went with
    // them: the janitor runs it once their stale entries are gone (the caller's packet waits
    // for it). Caller holds `lock`.
    bool flush_kernel_forgets(std::function<void()> after_claims = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        KernelForgets f = identifier.take_kernel_forgets();
        // The BPF map's entries of a claimed client port go now, under the lock, before the
        // port's next packet: it must meet the queue, not the old call's node.
        if (bpf_flows) forget_claimed_endpoints(*bpf_flows, table, f.endpoints);
        if (!janitor || (f.empty() && preinstalls.empty())) return false;
        std::vector<ConntrackRequest> requests;
        for (const FlowKey& k : f.endpoints) {
            // The claiming session holds the endpoint's partial flow now; entries already
            // marked for its node are kept (the janitor runs after its first packets may have).
            const FlowEntry* claim = table.find_flow(k);
            const NodeId node = claim ? table.session(claim->session).node : kNoNode;
            if (conntrack_flows && forget_indexed_endpoint(k, node, requests)) continue;
            requests.push_back({ConntrackRequest::Kind::forget_endpoint, k, node});
        }
        for (const FlowKey& k : f.flows) requests.push_back({ConntrackRequest::Kind::forget_flow, k, 0});
        requests.insert(requests.end(), preinstalls.begin(), preinstalls.end());
        preinstalls.clear();
        if (requests.empty()) return false;  // claims of ports no entry names: nothing to wait for
        if (f.endpoints.empty() || !after_claims) {
            janitor->submit(requests);
            return false;
        }
        return janitor->submit(requests, std::move(after_claims));
    }
    // Netfilter route mode: a claimed client port's marked entries, from the index of them
    // (conntrack_flows), as exact deletes — all but those already marked for the claiming
    // session's node. False while the index is not seeded yet (the caller dumps); asks for
    // the seed then. Caller holds `lock`.
    bool forget_indexed_endpoint(const FlowKey& endpoint, NodeId claimer, std::vector<ConntrackRequest>& requests)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        const auto keep = [&](const FlowKey& k) {
            lock.assert_held();  // called inside forget_endpoint, under the caller's lock
            const FlowEntry* f = table.find_flow(k);
            return claimer != kNoNode && f && table.session(f->session).node == claimer;
        };
        const std::vector<FlowKey> stale = conntrack_flows->forget_endpoint(endpoint, keep);
        for (const FlowKey& k : stale) {
            if (FlowEntry* flow = table.find_flow(k)) flow->offloaded = 0;  // its next packet is queued
            requests.push_back({ConntrackRequest::Kind::forget_flow, k, 0});
        }
        conntrack_map->count_claimed(stale.size());
        if (conntrack_seed == IndexSeed::done) return true;
        if (conntrack_seed == IndexSeed::none) seed_conntrack_index();
        return false;
    }
    // One dump of the VIP's marked entries (the janitor's thread) seeds the index: entries a
    // previous run or an earlier mastership left. Caller holds `lock`.
    void seed_conntrack_index() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        if (!janitor || !conntrack_flows) return;
        conntrack_seed = IndexSeed::asked;
        janitor->submit_seed(config.vip, [this, generation = conntrack_generation](std::optional<std::vector<CtEntry>> entries) {
            MutexLock guard(lock);
            if (!conntrack_flows || generation != conntrack_generation) return;  // cleared meanwhile
            if (!entries) {
                conntrack_seed = IndexSeed::none;  // the dump failed: the next claim asks again
                return;
            }
            for (const CtEntry& e : *entries) {
                conntrack_flows->put(e.orig, NodeId(e.mark & kNodeMarkMask));
                if (FlowEntry* flow = table.find_flow(e.orig)) flow->offloaded = 1;
            }
            conntrack_seed = IndexSeed::done;
        });
    }
    // The index forgets everything (leaving master: the table is replaced); the next claim
    // seeds it again. Caller holds `lock`.
    void clear_conntrack_index() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        if (!conntrack_flows) return;
        conntrack_flows->clear_index();
        ++conntrack_generation;
        conntrack_seed = IndexSeed::none;
    }
    // Netfilter route mode: conntrack as the table's fast path (before the queues start).
    void use_conntrack_index(std::unique_ptr<ConntrackFlows> flows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        conntrack_map = std::move(flows);
        conntrack_flows = std::make_unique<FastPathEndpoints>(*conntrack_map);
        table.set_fast_path(conntrack_flows.get());
        seed_conntrack_index();
    }
    void drop_conntrack_index() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        if (!conntrack_flows) return;
        table.set_fast_path(nullptr);
        conntrack_flows.reset();
        conntrack_map.reset();
    }
    // The node set changed (node_registry.hpp): the pipeline, health, listener, media port
    // map, kernel spec and BPF maps follow. Caller holds `lock`.
    void follow_node_set() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        const std::vector<NodeId> ids = nodes.ids();
        if (health) health->set_nodes(ids);
        if (listener) listener->set_hosts(std::vector<uint16_t>(ids.begin(), ids.end()));
        pipeline.set_nodes(nodes.entries());
        identifier.set_media_ports(nodes.media_ports());
        kernel_spec = sara::kernel_spec(config, nodes.retiring());
        kernel_dirty = true;
        if (bpf) {
            bpf->set_nodes(bpf_node_targets(nodes.all()));
            bpf->set_media_ranges(bpf_media_ranges(nodes.media_ports()));
        }
    }
    // forwarding.fast_path: bpf, the program loaded: its maps get the nodes and ranges, the
    // table its flow map (main thread, before the queues start). Caller holds `lock`.
    void use_bpf(std::unique_ptr<BpfFastPath> loaded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        bpf = std::move(loaded);
        bpf->set_nodes(bpf_node_targets(nodes.all()));
        bpf->set_media_ranges(bpf_media_ranges(nodes.media_ports()));
        bpf_map = std::make_unique<BpfFlowMap>(*bpf);
        bpf_flows = std::make_unique<FastPathEndpoints>(*bpf_map);
        table.set_fast_path(bpf_flows.get());
        if (config.sync) prefill = std::make_unique<FastPathPrefill>();
    }
    // The table and the map let go of each other (stop, a failed attach). Main thread, `lock`.
    void drop_bpf() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        prefill.reset();
        table.set_fast_path(nullptr);
        bpf_flows.reset();
        bpf_map.reset();
    }
    void apply_reload(const ReloadPlan& plan, const Logger& log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock);
    void retire_idle_nodes(const Logger& log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock);

    // The control socket's request and /metrics' body (daemon/control/dispatcher_requests.hpp,
    // dispatcher_metrics.hpp), each answered under `lock` from a view of this runtime.
    std::string control_request(std::string_view request, const Logger& log) ABSL_LOCKS_EXCLUDED(lock);
    std::string metrics_text() ABSL_LOCKS_EXCLUDED(lock);
    // Every counter sarad keeps, once: fn(name, help, value), the announce channel's prefixed
    // "announce_". `stats` and `/metrics` both list exactly these. Caller holds `lock`.
    template <typename Fn>
    void for_each_counter(Fn&& fn) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
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
        all(lock_counters, "");
        if (refusals) all(refusals->counters(), "");
        if (janitor) all(janitor->counters(), "");
        if (conntrack_map) all(conntrack_map->counters(), "");
        if (prefill) all(prefill->counters(), "");
        if (listener) all(listener->counters(), "");
        if (announce_listener) all(announce_listener->counters(), "announce_");
        if (sync) all(sync->counters(), "");
        if (sync_listener) all(sync_listener->counters(), "sync_");
        if (held) all(held->counters(), "");
        if (bpf) {
            const BpfFastPathCounters b = bpf->counters();
            fn("bpf_flow_hits_total", "Packets the BPF fast path forwarded from its flow map", b.flow_hits);
            fn("bpf_range_hits_total", "Packets the BPF fast path forwarded by a node media range", b.range_hits);
            fn("bpf_passed_total", "Packets to the VIP the BPF fast path passed up the stack (no flow or range)", b.passed);
            fn("bpf_degraded_dropped_total", "Fast-path packets dropped by the degrade probability (SA2C above T3)",
               b.degraded_dropped);
            fn("bpf_bad_header_total", "Malformed or truncated headers the BPF program passed up (never forwarded)",
               b.bad_header);
            fn("bpf_fragments_passed_total", "IPv4 fragments and packets with IP options the BPF program passed up",
               b.fragments_passed);
            fn("bpf_ttl_expired_passed_total", "Packets with TTL <= 1 the BPF program passed up (ICMP from the stack)",
               b.ttl_expired_passed);
            fn("bpf_no_node_passed_total", "Fast-path hits whose node has no target (removed) passed up",
               b.no_node_passed);
        }
        all(queue_totals(), "");
        uint64_t late_errors = 0;
        for (const auto& q : queues) late_errors += q->late_verdict_errors();
        fn("queue_late_verdict_errors_total", "Held verdicts the kernel refused when released", late_errors);
    }
    // The queues' counters summed. They are written by their own threads: a snapshot.
    QueueCounters queue_totals() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
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
    // The configured, retiring and drained nodes and which take sessions (changed by the main
    // thread's reload and retire, the control thread's drain).
    NodeRegistry nodes ABSL_GUARDED_BY(lock);
    SteadyClock clock;
    ServiceMap services;
    SessionTable table ABSL_GUARDED_BY(lock);
    SessionIdentifier identifier ABSL_GUARDED_BY(lock);
    SeededRandom random;
    std::unique_ptr<Scheduler> scheduler ABSL_GUARDED_BY(lock);  // a reload may replace it
    AdmitAll admit_all;
    std::unique_ptr<Sa2cAdmission> sa2c ABSL_PT_GUARDED_BY(lock);  // null with admission.enabled: false
    PacketPipeline pipeline ABSL_GUARDED_BY(lock);
    HeadLoadMeter head;
    std::unique_ptr<RefusalSender> refusals ABSL_GUARDED_BY(lock);  // answers refused sessions (503 / RST)
    // Route mode: deletes stale conntrack entries and (forwarding.preinstall) creates those of
    // completed flows, in decision order.
    std::unique_ptr<ConntrackJanitor> janitor ABSL_GUARDED_BY(lock);
    std::vector<ConntrackRequest> preinstalls ABSL_GUARDED_BY(lock);  // completed flows not yet submitted
    double degrade_installed = 0;             // the kernel rule's probability; main thread only
    // The dispatcher's lock: the queue threads (per packet), the control thread, the main
    // thread's periodic work and the HA threads. What it guards says ABSL_GUARDED_BY(lock).
    Mutex lock;
    // Each queue thread holds its own NfQueue; the vector is read by `stats` and /metrics.
    std::vector<std::unique_ptr<NfQueue>> queues ABSL_GUARDED_BY(lock);
    // Raw mode: set before the queue threads start; they alone send (under `lock`).
    std::unique_ptr<RawSender> raw;
    // forwarding.fast_path: bpf: the program and its maps (null in netfilter mode or after a
    // fallback), and the table's view of its flow map. Declared after `table`, which points at
    // bpf_flows: the table is cleared of the pointer before they go (drop_bpf).
    std::unique_ptr<BpfFastPath> bpf ABSL_GUARDED_BY(lock);
    std::unique_ptr<BpfFlowMap> bpf_map ABSL_GUARDED_BY(lock);
    std::unique_ptr<FastPathEndpoints> bpf_flows ABSL_GUARDED_BY(lock);  // bpf_map by client endpoint: the table's view
    // An HA pair in BPF mode: the backup fills its map from its replica (ha/fast_path_prefill).
    std::unique_ptr<FastPathPrefill> prefill ABSL_GUARDED_BY(lock);
    // Not master, with a prefill: a slice of it (main thread, each tick); false when there
    // was nothing to do. Caller holds `lock`.
    bool prefill_step(size_t budget) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        if (!prefill || !bpf_flows || !sync || sync->role() == HaRole::master || sync->role() == HaRole::active) return false;
        prefill->step(table, services, *bpf_flows, budget);
        return true;
    }
    // Ready to take over (`role ready`): synced, and with BPF the map filled from the replica.
    bool ha_ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        if (!sync) return true;
        if (!sync->ready()) return false;
        return sync->role() == HaRole::master || sync->role() == HaRole::active || !prefill || prefill->filled();
    }
    // Route mode on the netfilter fast path: conntrack's entries as the table's fast path
    // (daemon/forward/conntrack_flows.hpp: their activity keeps long calls' flows), indexed by
    // client endpoint so that a claimed port's stale entries are deleted exactly. Seeded by one
    // dump of the VIP's marked entries; until then a claimed port is found by a dump.
    std::unique_ptr<ConntrackFlows> conntrack_map ABSL_GUARDED_BY(lock);
    std::unique_ptr<FastPathEndpoints> conntrack_flows ABSL_GUARDED_BY(lock);
    enum class IndexSeed : uint8_t { none, asked, done };
    IndexSeed conntrack_seed ABSL_GUARDED_BY(lock) = IndexSeed::none;
    uint64_t conntrack_generation ABSL_GUARDED_BY(lock) = 0;  // bumped by each clear
    RawCounters raw_counters ABSL_GUARDED_BY(lock);
    LockCounters lock_counters ABSL_GUARDED_BY(lock);
    // The longest wait of a queued packet for `lock` and the longest hold of it by the main
    // thread's periodic work since start, in µs (gauges). Guarded by `lock`.
    uint64_t queue_lock_wait_max_us ABSL_GUARDED_BY(lock) = 0;
    uint64_t main_lock_hold_max_us ABSL_GUARDED_BY(lock) = 0;
    LockHolds lock_holds ABSL_GUARDED_BY(lock);  // the same by task (lock_holds.hpp)
    // A queue thread took `lock` after waiting `waited`. Caller holds `lock`.
    void note_queue_wait(std::chrono::steady_clock::duration waited) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        const auto us = uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(waited).count());
        lock_counters.queue_lock_waits_over_100us_total += us > 100;
        lock_counters.queue_lock_waits_over_1ms_total += us > 1000;
        queue_lock_wait_max_us = std::max(queue_lock_wait_max_us, us);
    }
    // The main thread held `lock` for `held`. Caller holds `lock`.
    void note_main_hold(std::chrono::steady_clock::duration held) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        const auto us = uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(held).count());
        main_lock_hold_max_us = std::max(main_lock_hold_max_us, us);
    }
    std::optional<wire::ClusterKey> key;
    std::unique_ptr<HealthMonitor> health ABSL_GUARDED_BY(lock);  // null without `health:` (every node up)
    // Set at start (the control thread already answers: under `lock`), reset at stop.
    std::unique_ptr<ControlListener> listener ABSL_GUARDED_BY(lock);  // health.listen: heartbeats, load vectors
    std::unique_ptr<ControlListener> announce_listener ABSL_GUARDED_BY(lock);  // announce.listen: the gateways' announcements
    HealthCounters health_counters ABSL_GUARDED_BY(lock);
    // What sarad has in the kernel (main thread only); kernel_dirty: install it again.
    KernelSetupSpec kernel_spec;
    bool kernel_dirty = false;
    // HA (`sync:`): null on a single dispatcher. `sync` is guarded by `lock`. sync_runtime:
    // what the HA threads use of this (daemon/ha/sync_threads.hpp); declared before the sync
    // listener, whose callback uses it, so that it goes after the listener.
    std::unique_ptr<SyncRuntime> sync_runtime;
    std::unique_ptr<StateSync> sync ABSL_GUARDED_BY(lock);
    // Snapshots a role change dropped half-loaded: the main loop frees them without `lock`
    // (guarded by `lock` until then).
    std::vector<std::unique_ptr<SessionTable>> retired_tables ABSL_GUARDED_BY(lock);
    std::unique_ptr<ControlListener> sync_listener ABSL_GUARDED_BY(lock);
    std::unique_ptr<DatagramSender> sync_sender;  // set at start, before any thread sends
    Mutex sync_send_lock;  // the sync thread and the listener's resync replies
    uint32_t sync_seq ABSL_GUARDED_BY(sync_send_lock) = 0;
    // sync.floating_address: notifications of it, read by the address thread.
    std::unique_ptr<AddressWatch> floating;
    // sync.hold_timeout > 0 (route mode): new sessions' verdicts held until the backup has
    // their binding. Guarded by `lock`; the sync thread waits on sync_wake (with `lock`) for
    // the first one of a batch.
    std::unique_ptr<HeldVerdicts> held ABSL_GUARDED_BY(lock);
    CondVar sync_wake;
    void send_sync(wire::SyncMessage m, const Logger& log) ABSL_LOCKS_EXCLUDED(sync_send_lock);
    // The HA role (daemon/ha/role_change.hpp; only with `sync:`). Caller holds `lock`.
    void change_role(HaRole role, const std::string& why, const Logger& log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        sara::change_role(*sync_runtime, role, why, log);
    }
    void follow_floating_address(bool held, const Logger& log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
        sara::follow_floating_address(*sync_runtime, held, log);
    }
    // route_announce: the operator withdrew the VIP's route (`saractl announce off`), and
    // whether the main loop has it in the table now.
    bool announce_withdrawn ABSL_GUARDED_BY(lock) = false;
    bool route_announced ABSL_GUARDED_BY(lock) = false;
    std::atomic<bool> stop{false};
};

}  // namespace sara
