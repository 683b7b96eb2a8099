// SPDX-License-Identifier: GPL-2.0-or-later
// The session identifier engine (the paper's Fig. 3, DESIGN §4): associates every incoming
// packet for the VIP with a session, creating sessions for new signalling, inspecting SIP
// and RTSP to announce the session's media flows, and applying what the outgoing direction
// (the gateway, or a capture's replies) announces to complete them.
//
// It decides nothing about admission or nodes: it reports whether a packet starts a new
// session; the caller admits it and records the node in the session.
// Not thread-safe: one owner thread, like its SessionTable.
#pragma once

#include <functional>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/announce/announcement.hpp"
#include "common/net/packet.hpp"
#include "common/net/vip_set.hpp"
#include "common/proto/rtsp.hpp"
#include "common/proto/sdp.hpp"
#include "common/proto/service.hpp"
#include "common/proto/sip.hpp"
#include "common/proto/stream_buffer.hpp"
#include "daemon/identify/sweep_cursor.hpp"
#include "daemon/identify/media_port_map.hpp"
#include "daemon/identify/session_table.hpp"
#include "daemon/identify/stream_budget.hpp"

namespace sara {

// Conntrack entries the kernel may hold for flows whose ownership changed: the kernel would
// keep following their old mark (the fast path never asks sarad). The owner deletes them.
struct KernelForgets {
    std::vector<FlowKey> flows;      // exact client → VIP flows (released or taken over)
    std::vector<FlowKey> endpoints;  // client address:port → VIP, any VIP port (dst_port 0): claimed anew
    bool empty() const { return flows.empty() && endpoints.empty(); }
};

#define SARA_IDENTIFIER_COUNTERS(X)                                                                   \
    X(packets_total, "Incoming packets classified")                                                  \
    X(packets_without_ports_total, "Incoming packets with no TCP/UDP ports (later fragments, ICMP, other protocols)") \
    X(packets_refused_total, "Incoming packets that needed a session or flow the table bounds refused") \
    X(sip_messages_total, "SIP messages parsed in the incoming direction")                           \
    X(sip_malformed_total, "SIP datagrams or stream data that failed to parse")                      \
    X(sip_without_call_id_total, "SIP messages without a Call-ID")                                   \
    X(signalling_truncated_total, "Signalling packets over 65,531 bytes: the queue's copy is cut short, nothing to parse (dropped)") \
    X(rtsp_messages_total, "RTSP messages parsed in the incoming direction")                         \
    X(rtsp_malformed_total, "RTSP stream data that failed to parse")                                 \
    X(sdp_malformed_total, "SDP bodies that failed to parse")                                        \
    X(transport_malformed_total, "RTSP Transport headers with a malformed spec")                     \
    X(stream_gaps_total, "TCP signalling streams resynchronised after a gap")                        \
    X(stream_overflow_total, "TCP signalling streams that buffered more than the header+body bound") \
    X(streams_untracked_total, "TCP signalling connections not inspected: stream table full") \
    X(tcp_connections_reused_total, "New TCP signalling connections (a SYN) on the 5-tuple of an ended session's connection: given a session of their own") \
    X(stream_evictions_total, "TCP signalling streams whose partial message was dropped (oldest first) to keep all stream buffers within limits.stream_buffer_bytes; no longer inspected") \
    X(announcements_applied_total, "Announcements from the outgoing direction applied")              \
    X(announcements_unknown_session_total, "Announcements for a session the table does not hold")    \
    X(flows_completed_total, "Partial flows completed with the node's port")                         \
    X(partial_flows_superseded_total, "Partial flows taken over by a newer offer from the same client port") \
    X(flows_taken_over_total, "Exact media flows taken over by the session that negotiated their client port last") \
    X(flows_latched_total, "Media flows from a NAT'd session's signalling address joined to it (latching)") \
    X(ranged_media_flows_skipped_total, "Completed media flows not kept: their VIP port is in a node's media range") \
    X(media_port_outside_range_total, "Node media ports answered outside the node's own media ranges") \
    X(rtsp_affinity_total, "New RTSP connections sent to the node of their client's live RTSP session")
SARA_DECLARE_COUNTERS(IdentifierCounters, SARA_IDENTIFIER_COUNTERS)

struct IdentifierLimits {
    SipLimits sip;
    RtspLimits rtsp;
    size_t max_streams = 65536;  // TCP signalling connections inspected at once
    size_t stream_buffer_bytes = size_t(32) << 20;  // all stream buffers together (StreamBudget)
};

enum class PacketOutcome : uint8_t {
    classified,  // `session` decides the packet's node
    no_ports,    // a later fragment, ICMP or another protocol: the caller's policy applies
    malformed,   // a SIP datagram that cannot be parsed or has no Call-ID: policy applies
    refused,     // a table bound refused the session or flow it needed: policy applies
};
const char* to_string(PacketOutcome o);

struct Classification {
    PacketOutcome outcome = PacketOutcome::classified;
    SessionId session = kNoSession;
    bool new_session = false;  // the session was created by this packet: admit it, pick a node
    // A new RTSP control connection from a client whose RTSP session lost its connection
    // within the affinity window: a reconnect, to be kept on that session's node.
    NodeId affinity_node = kNoNode;
    bool offload = false;      // a data flow: its conntrack mark may be saved (never signalling)
    FlowIdentity identity = FlowIdentity::signalling;
    // Sessions whose signalling this packet carried (a TCP segment may carry several calls).
    std::array<SessionId, 4> carried{};
    uint8_t carried_count = 0;
    // A SIP datagram as parsed here (views into the packet's payload), for whoever answers it
    // (a refused new session's 503) without parsing it again; empty for any other packet.
    std::optional<SipMessage> sip{};

    void add_carried(SessionId id) {
        for (uint8_t i = 0; i < carried_count; ++i)
            if (carried[i] == id) return;
        if (carried_count < carried.size()) carried[carried_count++] = id;
    }
};

class SessionIdentifier {
public:
    SessionIdentifier(SessionTable& table, const ServiceMap& services, const VipSet& vip,
                      const IdentifierLimits& limits = {});

    // `packet` is addressed to the VIP (the caller filters). Never throws.
    Classification classify(const DecodedPacket& packet);
    // Applies an announcement from the outgoing direction.
    void apply(const Announcement& announcement);

    // Called for every flow completed to its exact form (client → VIP, both ports known),
    // e.g. to pre-install it in conntrack. Runs inside classify()/apply().
    using FlowCompleted = std::function<void(const FlowKey& flow, SessionId session)>;
    void set_on_flow_completed(FlowCompleted callback) { on_flow_completed_ = std::move(callback); }
    // A slice of expiry: SessionTable::expire_step(budget), then up to `budget` entries of
    // each per-connection and per-session map whose connection or session is gone. True when
    // the table's round is complete.
    bool expire_step(size_t budget);
    // A whole round at once (tests, offline replay).
    void purge() {
        while (!expire_step(SIZE_MAX)) {
        }
    }

    // Nodes' media port ranges: media to a ranged VIP port needs no flow (the kernel steers it).
    void set_media_ports(MediaPortMap ports) { media_ports_ = std::move(ports); }
    const MediaPortMap& media_ports() const { return media_ports_; }
    // How long after its control connection closed an RTSP session waits for its client's
    // reconnect (the client address's next new RTSP connection goes to the session's node).
    void set_rtsp_affinity(std::chrono::milliseconds window) { rtsp_affinity_ms_ = uint32_t(window.count()); }
    // Called once per node the first time its announced media port lies outside its ranges.
    using MediaPortOutsideRange = std::function<void(NodeId node, uint16_t port)>;
    void set_on_media_port_outside_range(MediaPortOutsideRange callback) { on_outside_range_ = std::move(callback); }
    // Conntrack entries to delete since the last call (see KernelForgets); cheap when empty.
    // Recorded only once enabled (sarad in route mode, whose janitor drains them after every
    // decision): offline replay and raw mode have no conntrack entries to forget.
    void set_kernel_forgets(bool on) { forgets_on_ = on; }
    KernelForgets take_kernel_forgets();
    // A mesh peer's negotiation took `key` (a partial flow: its client port; else that flow)
    // from whatever session held it here: the kernel's entries for it carry the previous
    // owner's node and are forgotten, as this dispatcher's own claims are (announce_partial,
    // complete_flow), so the next packet is queued and finds the new owner.
    void claimed_by_peer(const FlowKey& key) {
        if (key.dst_port == 0) forget_endpoint(key);
        else forget_flow(key);
    }
    // The last decisions claimed client ports (KernelForgets::endpoints not empty yet).
    bool claims_pending() const { return !forgets_.endpoints.empty(); }

    const IdentifierCounters& counters() const { return counters_; }
    SessionTable& table() { return table_; }
    // Memory held by TCP signalling stream buffers, all streams together.
    const StreamBudget& stream_budget() const { return stream_budget_; }
    // The table was replaced (an HA backup applied a snapshot): per-session and per-stream
    // state refers to sessions that are gone.
    void forget_sessions() {
        streams_.clear();
        stream_budget_.clear();
        negotiations_.clear();
    }

private:
    struct Endpoint {
        IpAddress address;
        uint16_t rtp = 0, rtcp = 0;
    };
    // The latest SDP of each side of a SIP session, until both are known and paired.
    struct Negotiation {
        IpAddress signalling_source;   // where the client's SDP came from (NAT: not its c=)
        std::vector<Endpoint> client;  // by m= position, from the client's SDP
        std::vector<std::pair<uint16_t, uint16_t>> server;  // node's (rtp, rtcp) by m= position
    };
    // An RTSP SETUP awaiting its reply (matched by CSeq).
    struct PendingSetup {
        uint32_t cseq = 0;
        bool used = false;
        Endpoint client;
    };
    struct Stream {
        explicit Stream(size_t max_bytes) : buffer(max_bytes) {}
        StreamBuffer buffer;
        bool broken = false;  // unparsable data seen: stop inspecting, keep forwarding
        std::array<PendingSetup, 4> setups{};
        uint8_t next_setup = 0;
        StreamBudget::Account account;
    };
    using Streams = absl::flat_hash_map<FlowKey, Stream>;

    Classification classify_sip_datagram(const DecodedPacket& p, uint8_t service);
    Classification classify_tcp_signalling(const DecodedPacket& p, uint8_t service);
    Classification classify_data(const DecodedPacket& p, uint8_t service);
    void inspect_stream(const DecodedPacket& p, const FlowKey& key, SessionId connection, Stream& stream,
                        Classification& c);
    // Accounts a stream's buffer after it changed, then evicts the oldest partial streams
    // while all buffers together are over the budget.
    void account_stream(const FlowKey& key, Stream& stream);
    // Drops a stream and its account.
    void erase_stream(Streams::iterator it);
    // One SIP message from the client; returns its session (kNoSession if refused).
    SessionId on_client_sip(const DecodedPacket& p, const SipMessage& m, SessionId connection,
                            bool* created);
    void on_client_rtsp(const DecodedPacket& p, const FlowKey& key, const RtspMessage& m, SessionId connection,
                        Stream& stream, Classification& c);
    void on_client_sdp(const DecodedPacket& p, SessionId id, std::string_view body);
    void apply_sip(const Announcement& a);
    void apply_rtsp(const Announcement& a);
    void pair_negotiation(SessionId id);
    void announce_partial(SessionId id, const IpAddress& client, uint16_t port);
    void complete_flow(SessionId id, const IpAddress& client, uint16_t client_port, uint16_t server_port);
    // The node's media port of a session that suspects NAT: media from the signalling
    // address, any port, to VIP:server_port joins the session (latching).
    void add_latch(SessionId id, const IpAddress& signalling_source, uint16_t server_port);
    bool ranged_port(SessionId id, uint16_t server_port);
    void note_rtsp_orphan(const IpAddress& client, SessionId session);
    NodeId rtsp_affinity(const IpAddress& client);
    SessionId new_session(ServiceProtocol protocol, std::string_view key, uint8_t service);
    FlowKey media_key(const IpAddress& client, uint16_t client_port, uint16_t server_port) const {
        // The VIP of the client's family: IPv6 signalling may offer IPv4 media, and the reverse.
        return FlowKey{client, vip_.for_peer(client), client_port, server_port, IpProto::udp};
    }
    // An RTSP session whose control connection closed without a TEARDOWN, by client address.
    struct RtspOrphan {
        SessionId session = kNoSession;
        uint32_t since_ms = 0;
    };

    SessionTable& table_;
    const ServiceMap& services_;
    VipSet vip_;
    IdentifierLimits limits_;
    Streams streams_;
    StreamBudget stream_budget_;
    absl::flat_hash_map<SessionId, Negotiation> negotiations_;
    IdentifierCounters counters_;
    FlowCompleted on_flow_completed_;
    MediaPortMap media_ports_;
    std::vector<NodeId> outside_range_reported_;
    MediaPortOutsideRange on_outside_range_;
    uint32_t rtsp_affinity_ms_ = 30'000;
    absl::flat_hash_map<IpAddress, RtspOrphan> rtsp_orphans_;
    // New UDP flows of no known session, by (client address, VIP port) as a latch key, for a
    // few seconds: when a NAT'd call's answer comes after its first media packet, the latch
    // finds the flow the packet made and takes it over. Bounded (kMaxRecentFlows).
    struct RecentFlow {
        FlowKey flow;
        uint32_t created_ms = 0;
    };
    static constexpr size_t kMaxRecentFlows = 65536;
    static constexpr uint32_t kRecentFlowMs = 5000;
    absl::flat_hash_map<FlowKey, RecentFlow> recent_flows_;
    KernelForgets forgets_;
    bool forgets_on_ = false;
    // Expiry's places in the maps above.
    SweepCursor<decltype(streams_)> streams_cursor_;
    SweepCursor<decltype(negotiations_)> negotiations_cursor_;
    SweepCursor<decltype(rtsp_orphans_)> orphans_cursor_;
    SweepCursor<decltype(recent_flows_)> recent_cursor_;
    void forget_flow(const FlowKey& k) {
        if (forgets_on_) forgets_.flows.push_back(k);
    }
    void forget_endpoint(const FlowKey& k) {
        if (forgets_on_) forgets_.endpoints.push_back(k);
    }
};

}  // namespace sara
