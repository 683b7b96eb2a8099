// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control/dispatcher_metrics.hpp"

#include "daemon/control/prometheus_text.hpp"

namespace sara {

std::string dispatcher_metrics_text(const DispatcherView& view, uint64_t kernel_dropped) {
    PrometheusText t;
    for (const CounterSample& c : view.counters()) t.counter("sara_" + c.name, c.help, c.value);
    t.counter("sara_queue_kernel_dropped_total",
              "Packets the kernel dropped at sarad's NFQUEUEs (queue full or netlink buffer full); restarts with sarad",
              kernel_dropped);
    const DispatcherGauges g = view.gauges();
    t.gauge("sara_sessions", "Sessions in the table", double(g.sessions));
    t.gauge("sara_flows", "Flows in the table", double(g.flows));
    t.gauge("sara_queue_lock_wait_max_seconds", "Longest wait of a queued packet for the dispatcher's lock since start",
            double(g.queue_lock_wait_max_us) / 1e6);
    t.gauge("sara_main_lock_hold_max_seconds", "Longest hold of the dispatcher's lock by its periodic work since start",
            double(g.main_lock_hold_max_us) / 1e6);
    t.family("sara_lock_hold_max_seconds", "gauge", "Longest hold of the dispatcher's lock by each periodic task since start");
    for (const auto& [task, us] : g.lock_hold_max_us) t.sample("sara_lock_hold_max_seconds", double(us) / 1e6, {{"task", task}});
    t.family("sara_lock_holds_over_1ms_total", "counter", "Holds of the dispatcher's lock over 1 ms by each periodic task");
    for (const DispatcherGauges::LockHold& h : g.lock_holds)
        t.sample("sara_lock_holds_over_1ms_total", double(h.over_1ms), {{"task", h.task}});
    t.gauge("sara_stream_buffer_bytes", "Memory held by TCP signalling stream buffers (limits.stream_buffer_bytes bounds it)",
            double(g.stream_buffer_bytes));
    const std::vector<NodeStatus> nodes = view.nodes();
    t.family("sara_node_up", "gauge", "1 when the node may take new sessions (state up)");
    for (const NodeStatus& n : nodes)
        t.sample("sara_node_up", n.available ? 1 : 0, {{"node", std::to_string(n.id)}, {"name", n.name}});
    t.family("sara_node_state", "gauge", "The node's state (1 for its current state)");
    for (const NodeStatus& n : nodes)
        t.sample("sara_node_state", 1,
                 {{"node", std::to_string(n.id)}, {"name", n.name},
                  // Without `health:` every node is up; a drained one has sara_node_up 0.
                  {"state", n.state}});
    t.family("sara_node_sessions", "gauge", "Active sessions assigned to the node");
    for (const NodeStatus& n : nodes)
        t.sample("sara_node_sessions", double(n.sessions), {{"node", std::to_string(n.id)}, {"name", n.name}});
    if (view.health_configured()) {
        t.family("sara_node_load_ratio", "gauge", "The node's load l_j from its agent's vector, 0..1");
        for (const NodeStatus& n : nodes)
            t.sample("sara_node_load_ratio", n.load.value_or(0), {{"node", std::to_string(n.id)}, {"name", n.name}});
    }
    if (const std::optional<HaStatus> ha = view.ha()) {
        t.family("sara_ha_role", "gauge", "The HA role (1 for the current one)");
        t.sample("sara_ha_role", 1, {{"role", to_string(ha->role)}});
        t.gauge("sara_ha_ready", "1 when this dispatcher may become master (saractl role --ready)", ha->ready ? 1 : 0);
        t.gauge("sara_ha_synced", "1 when it holds a complete replica of its peer's table", ha->synced ? 1 : 0);
        if (!ha->peers.empty()) {
            t.family("sara_mesh_peer_ready", "gauge", "1 while a mesh peer is heard and says it is ready");
            for (const StateSync::PeerView& p : ha->peers)
                t.sample("sara_mesh_peer_ready", p.ready ? 1 : 0, {{"peer", std::to_string(p.id)}});
            t.family("sara_mesh_peer_unacked_updates", "gauge", "Our updates a mesh peer has not acknowledged yet (sync lag)");
            for (const StateSync::PeerView& p : ha->peers)
                t.sample("sara_mesh_peer_unacked_updates", double(p.unacked), {{"peer", std::to_string(p.id)}});
        }
    }
    t.gauge("sara_head_queue_ratio", "Fullest NFQUEUE backlog over queue.max_len at the last admission update",
            g.head_queue);
    t.gauge("sara_head_cpu_ratio", "sarad's CPU over its queue cores at the last admission update", g.head_cpu);
    if (const std::optional<AdmissionStatus> admission = view.admission()) {
        const AdmissionState& a = admission->state;
        t.gauge("sara_admission_load_ratio", "m: the forecast of max(head load, cluster load) SA2C decides on", a.m);
        t.gauge("sara_admission_cluster_load_ratio", "l_c, eq. 1", a.cluster_load);
        t.gauge("sara_admission_new_session_drop_ratio", "Probability a new session is refused (eq. 2)", a.p_new);
        t.gauge("sara_admission_established_drop_ratio", "Probability an established session's packet is dropped",
                a.p_established);
        t.gauge("sara_admission_t1_ratio", "The threshold T1 (eq. 2; configured, never moves)", admission->t1);
        t.gauge("sara_admission_t2_ratio", "The moving threshold T2 (eq. 4)", a.t2);
        t.gauge("sara_admission_t3_ratio", "The moving threshold T3 (eq. 4)", a.t3);
    }
    return t.text();
}

}  // namespace sara
