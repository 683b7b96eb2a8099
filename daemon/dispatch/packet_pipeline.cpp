// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/packet_pipeline.hpp"

#include "common/net/packet.hpp"
#include "daemon/forward/marks.hpp"

namespace sara {

PacketPipeline::PacketPipeline(SessionIdentifier& identifier, AdmissionControl& admission, Scheduler& scheduler,
                               std::vector<NodeEntry> nodes, const VipSet& vip)
    : identifier_(identifier), admission_(admission), scheduler_(&scheduler), nodes_(std::move(nodes)), vip_(vip) {
    for (const NodeEntry& n : nodes_) views_.push_back(NodeView{n.id, n.weight, n.available, 0});
}

const NodeEntry* PacketPipeline::node(NodeId id) const {
    for (const NodeEntry& n : nodes_)
        if (n.id == id) return &n;
    return nullptr;
}

void PacketPipeline::set_nodes(std::vector<NodeEntry> nodes) {
    nodes_ = std::move(nodes);
    views_.clear();
    for (const NodeEntry& n : nodes_) views_.push_back(NodeView{n.id, n.weight, n.available, 0});
}

void PacketPipeline::set_available(NodeId id, bool available) {
    for (NodeEntry& n : nodes_)
        if (n.id == id) n.available = available;
    for (NodeView& v : views_)
        if (v.id == id) v.available = available;
}

bool PacketPipeline::available(NodeId id) const {
    const NodeEntry* n = node(id);
    return n && n->available;
}

uint64_t PacketPipeline::node_sessions(NodeId id) const {
    return node(id) ? identifier_.table().active_sessions(id) : 0;
}

NodeId PacketPipeline::assign_node(SessionId session_id, bool* refused) {
    if (!accept_new_sessions_) {
        ++counters_.pipeline_standby_dropped_total;
        return kNoNode;
    }
    if (!admission_.admit_new_session()) {
        ++counters_.pipeline_admission_rejected_total;
        *refused = true;
        return kNoNode;
    }
    for (NodeView& v : views_) v.sessions = identifier_.table().active_sessions(v.id);
    const NodeId id = scheduler_->pick(views_);
    if (id == kNoNode) {
        ++counters_.pipeline_no_node_total;
        return kNoNode;
    }
    identifier_.table().set_node(session_id, id);
    identifier_.table().mark_changed(session_id);  // the HA backup learns the node
    ++counters_.pipeline_sessions_assigned_total;
    return id;
}

NodeId PacketPipeline::assign_affinity(SessionId session_id, NodeId node) {
    // The reconnect continues an admitted session: no admission decision, but only to a node
    // that may still take sessions (a down or drained node's client is scheduled afresh).
    if (!accept_new_sessions_ || !available(node)) return kNoNode;
    identifier_.table().set_node(session_id, node);
    identifier_.table().mark_changed(session_id);
    ++counters_.pipeline_affinity_assigned_total;
    return node;
}

namespace {

PacketAction dropped() { return PacketAction{}; }

// What a refused new session's packet may be answered with; the answer is built from what
// was decoded and parsed here, not from the bytes again.
Refusal refusal_for(const DecodedPacket& packet, const Classification& c) {
    Refusal r;
    r.packet = packet;
    // A truncated copy's payload is not the segment's length (a RST acknowledges SEG.LEN), and
    // truncated signalling never gets this far.
    if (packet.truncated) return r;
    if (packet.is_tcp()) {
        r.answer = RefusalAnswer::tcp_rst;
    } else if (c.sip) {
        r.answer = RefusalAnswer::sip_503;
        r.sip = *c.sip;
    }
    return r;
}

}  // namespace

PacketAction PacketPipeline::to_node(Verdict verdict, NodeId node, bool new_binding) const {
    PacketAction a;
    a.node = node;
    a.new_binding = new_binding;
    if (raw_mode_) a.raw_copy_to = node;  // the verdict stays a drop: the node gets our copy
    else a.verdict = verdict;
    return a;
}

void PacketPipeline::offer_fast_path(const DecodedPacket& packet, NodeId node) {
    // The program forwards UDP only (TCP data flows keep their conntrack mark).
    if (packet.is_udp()) offer_fast_path(packet.flow_key(), node);
}

void PacketPipeline::offer_fast_path(const FlowKey& key, NodeId node) {
    SessionTable& table = identifier_.table();
    FastPathFlows* fast_path = table.fast_path();
    // A backup keeps its map empty (runtime.cpp, change_role).
    if (!fast_path || raw_mode_ || !accept_new_sessions_) return;
    FlowEntry* flow = table.find_flow(key);
    if (!flow || flow->offloaded) return;
    if (!fast_path->holds_plain_flows() && table.session(flow->session).protocol == ServiceProtocol::plain) return;
    if (fast_path->put(key, node)) {
        flow->offloaded = 1;
        ++counters_.fast_path_flows_put_total;
    } else {
        ++counters_.fast_path_flows_put_failed_total;
    }
}

PacketAction PacketPipeline::decide(std::span<const uint8_t> ip_packet, size_t packet_length) {
    ++counters_.pipeline_packets_total;
    const DecodeResult decoded = decode_ip_packet(ip_packet, packet_length);
    if (!decoded.ok()) {
        ++counters_.pipeline_decode_errors_total;
        return dropped();
    }
    if (!vip_.contains(decoded.packet.dst)) {
        ++counters_.pipeline_not_for_vip_total;
        PacketAction a;
        a.verdict = Verdict::accept();
        return a;
    }
    // Media to a node's port range belongs to that node, whatever its source: no session
    // state (in route mode the kernel steers it and it never gets here; raw mode queues all).
    if (decoded.packet.has_ports && decoded.packet.is_udp()) {
        if (const NodeId owner = identifier_.media_ports().node_for(decoded.packet.dst_port); owner != kNoNode) {
            if (admission_.drop_established_packet()) {
                ++counters_.pipeline_degraded_dropped_total;
                return dropped();
            }
            ++counters_.pipeline_ranged_media_total;
            return to_node(Verdict::accept_with_mark(owner), owner, false);
        }
    }
    const Classification c = identifier_.classify(decoded.packet);
    switch (c.outcome) {
        case PacketOutcome::classified: break;
        case PacketOutcome::no_ports: ++counters_.pipeline_no_ports_dropped_total; return dropped();
        case PacketOutcome::malformed: ++counters_.pipeline_malformed_dropped_total; return dropped();
        case PacketOutcome::refused: ++counters_.pipeline_refused_dropped_total; return dropped();
    }
    // A session without a node is new, or was refused before (a retransmitted INVITE gets
    // another admission decision).
    Session& session = identifier_.table().session(c.session);
    if (session.node != kNoNode && admission_.drop_established_packet()) {
        ++counters_.pipeline_degraded_dropped_total;
        return dropped();
    }
    bool refused = false;
    // A new binding (a node given now, by affinity or the scheduler) may be held until the
    // HA backup has it (PacketAction::new_binding).
    const bool new_binding = session.node == kNoNode;
    NodeId node = session.node;
    if (new_binding && c.affinity_node != kNoNode) node = assign_affinity(c.session, c.affinity_node);
    if (node == kNoNode) node = assign_node(c.session, &refused);
    if (node == kNoNode) {
        PacketAction a = dropped();
        if (refused) a.refusal = refusal_for(decoded.packet, c);
        return a;
    }
    if (c.offload) {
        ++counters_.pipeline_data_verdicts_total;
        PacketAction a = to_node(Verdict::accept_with_mark(node), node, new_binding);
        // A new binding's flow waits for its verdict (it may be held for the HA backup).
        if (!new_binding) offer_fast_path(decoded.packet, node);
        else if (table_fast_path_on() && decoded.packet.is_udp()) a.fast_path_on_verdict = decoded.packet.flow_key();
        return a;
    }
    ++counters_.pipeline_signalling_verdicts_total;
    return to_node(Verdict::accept_with_mark(node | kMarkNoSave), node, new_binding);
}

}  // namespace sara
