// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's per-packet decision (DESIGN §3): decode → session identifier → admission
// (new sessions) → scheduler (new sessions) → the whole action for the queue thread
// (packet_action.hpp): the verdict with the node's mark, raw mode's copy, a refusal's answer.
// Signalling verdicts carry kMarkNoSave; data flows are offloaded by saving the mark to conntrack
// and, with the BPF fast path (the table's FastPathFlows), by putting the flow in its map.
//
// Not thread-safe: queue threads call decide() under the owner's lock (the kernel spreads
// a client's TCP control and UDP media over different queues, so the table is shared).
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "common/net/vip_set.hpp"
#include "common/util/counters.hpp"
#include "daemon/admit/admission.hpp"
#include "daemon/dispatch/packet_action.hpp"
#include "daemon/forward/verdict.hpp"
#include "daemon/identify/session_identifier.hpp"
#include "daemon/schedule/scheduler.hpp"

namespace sara {

#define SARA_PIPELINE_COUNTERS(X)                                                                \
    X(pipeline_packets_total, "Queued packets decided")                                          \
    X(pipeline_decode_errors_total, "Queued packets that failed IP/TCP/UDP decoding (dropped)")   \
    X(pipeline_not_for_vip_total, "Queued packets not addressed to the VIP (accepted unmarked)")  \
    X(pipeline_no_ports_dropped_total, "Fragments, ICMP and other protocols to the VIP (dropped)") \
    X(pipeline_malformed_dropped_total, "Unparsable SIP datagrams or ones without Call-ID (dropped)") \
    X(pipeline_refused_dropped_total, "Packets whose session the table bounds refused (dropped)") \
    X(pipeline_admission_rejected_total, "New sessions rejected by admission control")           \
    X(pipeline_degraded_dropped_total, "Queued packets of established sessions dropped (degradation above T3)") \
    X(pipeline_no_node_total, "New sessions dropped: no node available")                         \
    X(pipeline_standby_dropped_total, "New sessions dropped unanswered: this dispatcher is not the HA master") \
    X(pipeline_sessions_assigned_total, "Sessions given a node")                                 \
    X(pipeline_signalling_verdicts_total, "Signalling packets forwarded (never offloaded)")       \
    X(pipeline_data_verdicts_total, "Data-flow packets forwarded with a mark to save (offload)") \
    X(pipeline_ranged_media_total, "Queued UDP packets to a node's media range, sent to that node without session state") \
    X(pipeline_affinity_assigned_total, "New RTSP connections given their client's live RTSP session's node") \
    X(fast_path_flows_put_total, "Established UDP flows put into the table's kernel fast path: the BPF flow map, or (netfilter) the index of marked conntrack entries") \
    X(fast_path_flows_put_failed_total, "Flows the BPF flow map did not take (full): they stay on the netfilter path")
SARA_DECLARE_COUNTERS(PipelineCounters, SARA_PIPELINE_COUNTERS)

struct NodeEntry {
    NodeId id = kNoNode;
    std::string name;
    IpAddress address;
    std::array<uint8_t, 6> mac{};
    uint32_t weight = 1;
    bool available = true;
};

class PacketPipeline {
public:
    PacketPipeline(SessionIdentifier& identifier, AdmissionControl& admission, Scheduler& scheduler,
                   std::vector<NodeEntry> nodes, const VipSet& vip);

    // `packet_length`: the packet's real length when `ip_packet` is a truncated copy (see
    // decode_ip_packet), else 0. The action's views point into `ip_packet` (packet_action.hpp).
    PacketAction decide(std::span<const uint8_t> ip_packet, size_t packet_length = 0);

    // Raw mode (forwarding.mode: raw, fixed at start): a packet for a node is sent there by
    // sarad itself (PacketAction::raw_copy_to) and dropped in the kernel.
    void set_raw_mode(bool raw) { raw_mode_ = raw; }

    // Health changes: an unavailable node gets no new sessions; its established sessions
    // keep their node (drain) — the caller counts them lost when the node crashed.
    void set_available(NodeId id, bool available);
    bool available(NodeId id) const;
    // A reload: the new node list (sessions keep their node ids; a node missing here keeps
    // none of its counts) and scheduler. `scheduler` must outlive the pipeline or the next call.
    void set_nodes(std::vector<NodeEntry> nodes);
    void set_scheduler(Scheduler& scheduler) { scheduler_ = &scheduler; }
    // HA: a backup (or faulted) dispatcher forwards the packets of sessions it knows (its
    // replica; traffic reaches it only once VRRP moved the address) but takes no new session,
    // dropping it unanswered; the master takes them.
    void set_accept_new_sessions(bool accept) { accept_new_sessions_ = accept; }

    const std::vector<NodeEntry>& nodes() const { return nodes_; }
    const NodeEntry* node(NodeId id) const;
    uint64_t node_sessions(NodeId id) const;
    const PipelineCounters& counters() const { return counters_; }
    // The flow of a new binding whose verdict is given now (PacketAction::fast_path_on_verdict).
    void offer_fast_path(const FlowKey& key, NodeId node);
    SessionIdentifier& identifier() { return identifier_; }

private:
    // kNoNode when admission refused the session (*refused = true) or no node is available.
    NodeId assign_node(SessionId session, bool* refused);
    // A reconnect of a live RTSP session's client: the session's node if it may still take it.
    NodeId assign_affinity(SessionId session, NodeId node);
    bool table_fast_path_on() const { return identifier_.table().fast_path() != nullptr && !raw_mode_; }
    // The action for a packet that goes to `node` with `verdict`.
    PacketAction to_node(Verdict verdict, NodeId node, bool new_binding) const;
    // A data-flow verdict for a session that already had its node: the flow goes into the
    // table's fast path (the BPF map, or the index of conntrack's marked entries), once.
    void offer_fast_path(const DecodedPacket& packet, NodeId node);

    SessionIdentifier& identifier_;
    AdmissionControl& admission_;
    Scheduler* scheduler_;
    std::vector<NodeEntry> nodes_;
    std::vector<NodeView> views_;  // parallel to nodes_; sessions filled from the table at each pick
    VipSet vip_;
    PipelineCounters counters_;
    bool accept_new_sessions_ = true;
    bool raw_mode_ = false;
};

}  // namespace sara
