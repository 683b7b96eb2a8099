// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/runtime.hpp"

#include <algorithm>
#include <cassert>
#include <ctime>

#include "common/wire/sync_message.hpp"
#include "daemon/control/dispatcher_metrics.hpp"
#include "daemon/control/dispatcher_requests.hpp"
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
    MutexLock guard(sync_send_lock);
    m.seq = sync_seq++;
    m.timestamp = uint32_t(std::time(nullptr));
    const std::vector<uint8_t> datagram = wire::encode(m, key ? &*key : nullptr);
    // A "can't happen" crashes loudly: StateSync builds only messages that keep the wire rules.
    assert(!datagram.empty() && "sync message breaks the rules of common/wire/sync_message.hpp");
    if (sync_sender->send_to_all(datagram) == 0 && sync_sender->counters().send_errors_total == 1)
        log.warning("sync: cannot send to the peer: " + sync_sender->last_error() + " (counted from now on)");
}

// SIGHUP with a valid file (caller holds `lock`). Sessions keep their nodes throughout: a
// removed node retires only once its last session ended (retire_idle_nodes).
void DispatcherRuntime::apply_reload(const ReloadPlan& plan, const Logger& log) {
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
    nodes.apply_reload(plan);  // the node set's subscribers follow (follow_node_set)
    for (const NodeConfig& n : plan.removed)
        log.notice("node " + std::to_string(n.id) + ": removed by reload; no new sessions, its " +
                   std::to_string(pipeline.node_sessions(n.id)) + " sessions continue until they end");
}

// Every second after the table purge (caller holds `lock`): removed nodes with no session left
// leave the pipeline, the health monitor and the kernel.
void DispatcherRuntime::retire_idle_nodes(const Logger& log) {
    const auto sessions = [this](NodeId id) {
        lock.assert_held();  // called inside retire_idle
        return pipeline.node_sessions(id);
    };
    for (const NodeConfig& n : nodes.retire_idle(sessions))
        log.notice("node " + std::to_string(n.id) + ": retired (removed from the config, no sessions left)");
}

namespace {

// The runtime as the control socket and /metrics read it (daemon/control/dispatcher_view.hpp).
// Made per request by a thread holding rt.lock.
class RuntimeView final : public DispatcherView {
public:
    explicit RuntimeView(const DispatcherRuntime& rt) : rt_(rt) {}

    std::vector<CounterSample> counters() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        std::vector<CounterSample> all;
        rt_.for_each_counter([&](const std::string& name, const char* help, uint64_t v) { all.push_back({name, help, v}); });
        return all;
    }
    DispatcherGauges gauges() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        DispatcherGauges g;
        g.sessions = rt_.table.session_count();
        g.flows = rt_.table.flow_count();
        g.queue_lock_wait_max_us = rt_.queue_lock_wait_max_us;
        g.main_lock_hold_max_us = rt_.main_lock_hold_max_us;
        for (size_t t = 0; t < kLockTasks; ++t) {
            const LockTask task = LockTask(t);
            const HoldCost& c = rt_.lock_holds.longest(task);
            g.lock_hold_max_us.emplace_back(to_string(task), c.us);
            g.lock_holds.push_back({to_string(task), c.us, c.cpu_us, c.minor_faults, c.preemptions, c.waits,
                                    rt_.lock_holds.over_1ms(task)});
        }
        g.stream_buffer_bytes = rt_.identifier.stream_budget().bytes();
        g.head_queue = rt_.head.last_queue();
        g.head_cpu = rt_.head.last_cpu();
        return g;
    }
    bool health_configured() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) { return rt_.health != nullptr; }
    std::vector<NodeStatus> nodes() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        std::vector<NodeStatus> out;
        for (const NodeEntry& n : rt_.pipeline.nodes()) {
            NodeStatus s;
            s.id = n.id;
            s.name = n.name;
            if (rt_.health) s.state = to_string(rt_.health->state(n.id));
            s.drained = rt_.nodes.is_drained(n.id);
            s.available = n.available;
            s.address = n.address;
            s.sessions = rt_.pipeline.node_sessions(n.id);
            if (rt_.health) {
                s.load = rt_.health->load(n.id);
                s.heartbeats_lost = rt_.health->heartbeats_lost(n.id);
            }
            s.estimate = rt_.scheduler->estimate(n.id);
            out.push_back(std::move(s));
        }
        return out;
    }
    std::optional<AdmissionStatus> admission() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        if (!rt_.sa2c) return std::nullopt;
        return AdmissionStatus{rt_.sa2c->state(), rt_.sa2c->updates(), rt_.config.admission.t1};
    }
    std::optional<HaStatus> ha() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        if (!rt_.sync) return std::nullopt;
        return HaStatus{rt_.sync->role(), rt_.ha_ready(), rt_.sync->synced(),
                        rt_.config.sync->floating_address.has_value(), rt_.sync->peers()};
    }
    const SessionTable& table() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) { return rt_.table; }
    nlohmann::json lookup(std::string_view args) const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        const PacketPipeline& pipeline = rt_.pipeline;
        const LookupContext context{rt_.table, rt_.services, rt_.config.forwarding.mode != ForwardingMode::raw,
                                    [&](NodeId id) {
                                        rt_.lock.assert_held();  // called inside lookup_sessions
                                        return pipeline.node(id) ? pipeline.node(id)->name : "";
                                    },
                                    rt_.bpf != nullptr};
        return lookup_sessions(args, context);
    }

private:
    const DispatcherRuntime& rt_;
};

// What a control request may change: the runtime's narrow commands (caller holds rt.lock).
class RuntimeCommands final : public DispatcherCommands {
public:
    RuntimeCommands(DispatcherRuntime& rt, const Logger& log) : rt_(rt), log_(log) {}

    std::optional<DrainChange> set_drain(NodeId id, bool drain) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        const NodeEntry* node = rt_.pipeline.node(id);
        if (!node) return std::nullopt;
        DrainChange change;
        change.name = node->name;
        change.healthy = !rt_.health || rt_.health->state(id) == NodeState::up;
        change.changed = rt_.nodes.set_drained(id, drain);
        change.available = rt_.pipeline.available(id);
        return change;
    }
    std::optional<bool> floating_address_held(std::string* error) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        return holds_address(*rt_.config.sync->floating_address, error);
    }
    void change_role(HaRole role, const std::string& why) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) { rt_.change_role(role, why, log_); }
    void follow_floating_address(bool held) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) { rt_.follow_floating_address(held, log_); }
    std::optional<AnnounceStatus> set_announce(std::optional<bool> on) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt_.lock) {
        if (!rt_.config.route_announce) return std::nullopt;
        if (on) rt_.announce_withdrawn = !*on;
        return AnnounceStatus{rt_.config.route_announce->table, rt_.announce_withdrawn, rt_.ha_ready(), rt_.route_announced};
    }

private:
    DispatcherRuntime& rt_;
    const Logger& log_;
};

}  // namespace

std::string DispatcherRuntime::control_request(std::string_view request, const Logger& log) {
    MutexLock guard(lock);
    const RuntimeView view(*this);
    RuntimeCommands commands(*this, log);
    return answer_control_request(request, view, commands, log);
}

std::string DispatcherRuntime::metrics_text() {
    const uint64_t kernel_dropped = head.kernel_dropped();  // a /proc read: not under the lock
    MutexLock guard(lock);
    return dispatcher_metrics_text(RuntimeView(*this), kernel_dropped);
}

}  // namespace sara
