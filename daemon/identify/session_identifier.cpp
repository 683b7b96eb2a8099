// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/session_identifier.hpp"

#include <algorithm>

namespace sara {
namespace {

std::string_view as_text(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

size_t skip_line_ends(std::string_view data) {
    size_t i = 0;
    while (i < data.size() && (data[i] == '\r' || data[i] == '\n')) ++i;
    return i;
}

// Requests that start a dialog or stand alone; anything else for an unknown Call-ID is a
// stray (a late ACK, BYE or response) but still gets a session so it is routed consistently.
bool ends_sip_session(const SipMessage& m) {
    return m.is_request && (m.method == "BYE" || m.method == "CANCEL");
}

}  // namespace

const char* to_string(PacketOutcome o) {
    switch (o) {
        case PacketOutcome::classified: return "classified";
        case PacketOutcome::no_ports: return "no_ports";
        case PacketOutcome::malformed: return "malformed";
        case PacketOutcome::refused: return "refused";
    }
    return "unknown";
}

SessionIdentifier::SessionIdentifier(SessionTable& table, const ServiceMap& services, const VipSet& vip,
                                     const IdentifierLimits& limits)
    : table_(table), services_(services), vip_(vip), limits_(limits), stream_budget_(limits.stream_buffer_bytes) {}

SessionId SessionIdentifier::new_session(ServiceProtocol protocol, std::string_view key, uint8_t service) {
    const SessionId id = table_.create_session(protocol, key, service);
    // A reused id must not inherit a previous session's half-done negotiation.
    if (id != kNoSession) negotiations_.erase(id);
    return id;
}

Classification SessionIdentifier::classify(const DecodedPacket& p) {
    ++counters_.packets_total;
    if (!p.has_ports) {
        ++counters_.packets_without_ports_total;
        return Classification{.outcome = PacketOutcome::no_ports};
    }
    const IpProto proto = p.is_tcp() ? IpProto::tcp : IpProto::udp;
    const uint8_t service = services_.match(proto, p.dst_port);
    if (!services_.is_signalling(proto, p.dst_port)) return classify_data(p, service);
    if (p.truncated) {
        // Half a message cannot be parsed, and in a TCP stream it would desynchronise the buffer.
        ++counters_.signalling_truncated_total;
        return Classification{.outcome = PacketOutcome::malformed};
    }
    return proto == IpProto::udp ? classify_sip_datagram(p, service) : classify_tcp_signalling(p, service);
}

// SIP over UDP: one 5-tuple may carry many calls (a proxy, one client socket), so every
// datagram is routed by its Call-ID and the 5-tuple itself is never a flow of one session.
Classification SessionIdentifier::classify_sip_datagram(const DecodedPacket& p, uint8_t service) {
    Classification c;
    const SipParseResult r = parse_sip_message(as_text(p.payload), SipFraming::datagram, limits_.sip);
    if (r.status != ParseStatus::complete) {
        ++counters_.sip_malformed_total;
        c.outcome = PacketOutcome::malformed;
        return c;
    }
    ++counters_.sip_messages_total;
    if (r.message.call_id.empty()) {
        ++counters_.sip_without_call_id_total;
        c.outcome = PacketOutcome::malformed;
        return c;
    }
    (void)service;
    bool created = false;
    const SessionId id = on_client_sip(p, r.message, kNoSession, &created);
    if (id == kNoSession) {
        ++counters_.packets_refused_total;
        c.outcome = PacketOutcome::refused;
        return c;
    }
    c.session = id;
    c.new_session = created;
    c.add_carried(id);
    c.sip = r.message;
    return c;
}

SessionId SessionIdentifier::on_client_sip(const DecodedPacket& p, const SipMessage& m, SessionId connection,
                                           bool* created) {
    *created = false;
    SessionId id = table_.find_session(ServiceProtocol::sip, m.call_id);
    if (id == kNoSession && connection != kNoSession) {
        // On a TCP connection: the connection's own session takes the first Call-ID; later
        // calls on the same connection become sessions pinned to the connection's node.
        if (table_.assign_key(connection, m.call_id)) {
            id = connection;
        } else {
            const uint8_t service = table_.session(connection).service;
            id = new_session(ServiceProtocol::sip, m.call_id, service);
            if (id != kNoSession) table_.set_node(id, table_.session(connection).node);
        }
    } else if (id == kNoSession) {
        const uint8_t service = services_.match(IpProto::udp, p.dst_port);
        id = new_session(ServiceProtocol::sip, m.call_id, service);
        *created = id != kNoSession;
    }
    if (id == kNoSession) return id;
    table_.touch_session(id);
    if (m.has_sdp()) on_client_sdp(p, id, m.body);
    if (ends_sip_session(m)) {
        table_.end_session(id);
        negotiations_.erase(id);
    }
    return id;
}

void SessionIdentifier::on_client_sdp(const DecodedPacket& p, SessionId id, std::string_view body) {
    SdpSummary sdp;
    if (parse_sdp(body, sdp).status != ParseStatus::complete) {
        ++counters_.sdp_malformed_total;
        return;
    }
    Negotiation& n = negotiations_[id];
    n.client.clear();
    n.signalling_source = p.src;
    for (size_t i = 0; i < sdp.media_count; ++i) {
        const SdpMedia& media = sdp.media[i];
        Endpoint e;
        // No usable c= (absent, 0.0.0.0 hold, a family the cluster has no VIP of): the
        // media comes from the address the signalling came from. With a VIP of each family,
        // IPv6 signalling may offer IPv4 media and the reverse (dual-stack phones, ICE-less
        // gateways): the offered address stands.
        const bool usable = !media.address.is_unspecified() &&
                            (media.address.family == p.src.family || vip_.for_peer(media.address).family != 0);
        e.address = usable ? media.address : p.src;
        e.rtp = media.rtp_port;
        e.rtcp = media.rtcp_port;
        n.client.push_back(e);
        if (e.rtp == 0) continue;
        announce_partial(id, e.address, e.rtp);
        if (e.rtcp != 0) announce_partial(id, e.address, e.rtcp);
    }
    pair_negotiation(id);
}

void SessionIdentifier::announce_partial(SessionId id, const IpAddress& client, uint16_t port) {
    // Server port 0: the node's port is not known until its answer is seen.
    const FlowKey key = media_key(client, port, 0);
    // A client port is in one session at a time: the newest offer (or SETUP) claims it. It
    // takes a partial flow over from an older session (one whose media never consumed it),
    // and any exact flow of that client port is handed over at its next packet or at the
    // answer (classify_data, complete_flow). The kernel may hold such an exact flow with the
    // old session's mark and never ask again: the owner deletes its conntrack entries.
    if (const FlowEntry* f = table_.find_flow(key); f && f->session != id) {
        table_.remove_flow(key);
        ++counters_.partial_flows_superseded_total;
    }
    if (table_.find_flow(key) == nullptr) forget_endpoint(key);
    table_.add_flow(key, id, FlowIdentity::announced);
}

// True (and counted) when `server_port` is in a node's media range: the kernel steers that
// media, so no flow is kept. A session's node whose own ranges do not hold the port it
// answered is misconfigured (its media server allocates outside its range): counted, and
// reported once per node.
bool SessionIdentifier::ranged_port(SessionId id, uint16_t server_port) {
    if (media_ports_.empty()) return false;
    const NodeId owner = media_ports_.node_for(server_port);
    const NodeId node = table_.session(id).node;
    if (node != kNoNode && owner != node && media_ports_.has_ranges(node)) {
        ++counters_.media_port_outside_range_total;
        if (std::find(outside_range_reported_.begin(), outside_range_reported_.end(), node) ==
            outside_range_reported_.end()) {
            outside_range_reported_.push_back(node);
            if (on_outside_range_) on_outside_range_(node, server_port);
        }
    }
    return owner != kNoNode;
}

void SessionIdentifier::complete_flow(SessionId id, const IpAddress& client, uint16_t client_port,
                                      uint16_t server_port) {
    if (client_port == 0 || server_port == 0) return;
    const FlowKey partial = media_key(client, client_port, 0);
    const FlowKey exact = media_key(client, client_port, server_port);
    if (ranged_port(id, server_port)) {
        ++counters_.ranged_media_flows_skipped_total;
        if (const FlowEntry* f = table_.find_flow(partial); f && f->session == id) table_.remove_flow(partial);
        return;
    }
    if (const FlowEntry* f = table_.find_flow(exact)) {
        if (f->session == id) return;
        // An older session's flow on the same 5-tuple (the client reused its port, the node
        // answers the same media port): the newest negotiation owns it now, and its
        // conntrack entry — the old node's mark — must go.
        table_.move_flow(exact, id);
        if (const FlowEntry* moved = table_.find_flow(exact); moved && moved->session == id) {
            ++counters_.flows_taken_over_total;
            forget_flow(exact);
        }
        if (const FlowEntry* p = table_.find_flow(partial); p && p->session == id) table_.remove_flow(partial);
        return;
    }
    // Replace the partial flow by the exact one (the partial may already be gone when the
    // first media packet completed it).
    if (const FlowEntry* f = table_.find_flow(partial); f && f->session == id) table_.remove_flow(partial);
    if (table_.add_flow(exact, id, FlowIdentity::announced)) {
        ++counters_.flows_completed_total;
        if (on_flow_completed_) on_flow_completed_(exact, id);
    }
}

void SessionIdentifier::add_latch(SessionId id, const IpAddress& signalling_source, uint16_t server_port) {
    if (server_port == 0 || ranged_port(id, server_port)) return;
    // Client port 0 marks a latch (no packet has source port 0: classify_data never looks such
    // a key up as an exact flow).
    const FlowKey latch = media_key(signalling_source, 0, server_port);
    // The media may have come first (the answer reached us after the client's first RTP
    // packet): that packet made a session of its own, whose flow this call takes over — and
    // its conntrack entry, which carries that session's node, is deleted.
    if (const auto it = recent_flows_.find(latch); it != recent_flows_.end()) {
        const FlowKey flow = it->second.flow;
        recent_flows_.erase(it);
        const FlowEntry* f = table_.find_flow(flow);
        if (f && f->session != id && table_.session(f->session).protocol == ServiceProtocol::plain) {
            table_.move_flow(flow, id);
            if (const FlowEntry* moved = table_.find_flow(flow); moved && moved->session == id) {
                ++counters_.flows_latched_total;
                forget_flow(flow);
                return;
            }
        }
    }
    if (const FlowEntry* f = table_.find_flow(latch); f && f->session != id) table_.remove_flow(latch);
    table_.add_flow(latch, id, FlowIdentity::announced);
}

void SessionIdentifier::pair_negotiation(SessionId id) {
    auto it = negotiations_.find(id);
    if (it == negotiations_.end()) return;
    Negotiation& n = it->second;
    if (n.client.empty() || n.server.empty()) return;
    const size_t count = std::min(n.client.size(), n.server.size());
    for (size_t i = 0; i < count; ++i) {
        const Endpoint& c = n.client[i];
        complete_flow(id, c.address, c.rtp, n.server[i].first);
        complete_flow(id, c.address, c.rtcp, n.server[i].second);
        // The client offered an address it does not send from (a private address behind a
        // NAT): its media will come from the NAT's address and some port. Latch onto the
        // signalling's address for this node port, as SBCs do.
        if (c.rtp != 0 && n.signalling_source.family && c.address != n.signalling_source) {
            add_latch(id, n.signalling_source, n.server[i].first);
            add_latch(id, n.signalling_source, n.server[i].second);
        }
    }
    // Each offer gets an answer: the next SDP from either side starts a new pairing.
    negotiations_.erase(it);
}

// TCP signalling (SIP over TCP, RTSP): the connection is pinned to one node. Its first
// packet (the SYN, or a mid-stream packet after a restart) creates the connection's session;
// the session key arrives with the first message (SIP Call-ID) or the RTSP Session id.
Classification SessionIdentifier::classify_tcp_signalling(const DecodedPacket& p, uint8_t service) {
    Classification c;
    const FlowKey key = p.flow_key();
    SessionId connection;
    FlowEntry* flow = table_.find_flow(key);
    // A SYN on the 5-tuple of a connection whose session has ended: the client's port was
    // reused for a new connection (its old flow lives on in the table until purged). Joining
    // the ended session would put the new connection's media into a session whose flows the
    // next expiry slice releases (its media linger is long over): the media's first packet
    // then makes a session of its own on any node — an RTSP stream split that way in
    // test_ha_failover, its ffmpeg client's port reused 40 s later. It gets a session of its own.
    if (flow && (p.tcp_flags & tcp_flag::syn) && !(p.tcp_flags & tcp_flag::ack) &&
        table_.session(flow->session).state != SessionState::active) {
        erase_stream(streams_.find(key));
        table_.remove_flow(key);
        flow = nullptr;
        ++counters_.tcp_connections_reused_total;
    }
    if (flow) {
        table_.touch_flow(key, *flow);
        connection = flow->session;
    } else {
        const ServiceProtocol protocol = services_.service(service).protocol;
        connection = new_session(protocol, {}, service);
        if (connection == kNoSession || !table_.add_flow(key, connection, FlowIdentity::signalling)) {
            ++counters_.packets_refused_total;
            c.outcome = PacketOutcome::refused;
            return c;
        }
        c.new_session = true;
        if (protocol == ServiceProtocol::rtsp) {
            c.affinity_node = rtsp_affinity(p.src);
            if (c.affinity_node != kNoNode) ++counters_.rtsp_affinity_total;
        }
    }
    c.session = connection;

    auto it = streams_.find(key);
    if (it == streams_.end()) {
        if (streams_.size() >= limits_.max_streams) {
            ++counters_.streams_untracked_total;
            return c;
        }
        const size_t bound = limits_.sip.max_header_bytes + limits_.sip.max_body_bytes;
        it = streams_.emplace(key, Stream(bound)).first;
    }
    Stream& stream = it->second;
    if (p.tcp_flags & tcp_flag::syn) stream.buffer.start(p.tcp_seq);
    if (!p.payload.empty() && !stream.broken) inspect_stream(p, key, connection, stream, c);
    account_stream(key, stream);
    if (p.tcp_flags & (tcp_flag::fin | tcp_flag::rst)) {
        erase_stream(streams_.find(key));
        // A session that set media up (a key, or UDP media flows besides this connection)
        // and was not torn down: its client may come back for it on a new connection.
        const Session& s = table_.session(c.session);
        if (s.protocol == ServiceProtocol::rtsp && s.state == SessionState::active &&
            (!s.key.empty() || s.flow_count > 1))
            note_rtsp_orphan(p.src, c.session);
    }
    if (c.carried_count == 0) c.add_carried(connection);
    return c;
}

void SessionIdentifier::account_stream(const FlowKey& key, Stream& stream) {
    stream_budget_.update(key, stream.account, stream.buffer.memory());
    while (const FlowKey* oldest = stream_budget_.over_budget()) {
        const FlowKey victim_key = *oldest;  // the list entry goes with the update below
        Stream& victim = streams_.find(victim_key)->second;  // every account belongs to a stream
        // Its partial message is lost: what follows would parse from mid-message, so the
        // connection is no longer inspected (its packets still go to its node).
        victim.buffer.clear();
        victim.broken = true;
        ++counters_.stream_evictions_total;
        stream_budget_.update(victim_key, victim.account, 0);
    }
}

void SessionIdentifier::erase_stream(Streams::iterator it) {
    if (it == streams_.end()) return;
    stream_budget_.update(it->first, it->second.account, 0);
    streams_.erase(it);
}

void SessionIdentifier::inspect_stream(const DecodedPacket& p, const FlowKey& key, SessionId connection,
                                       Stream& stream, Classification& c) {
    // Data on a SYN (TCP Fast Open) starts one past the SYN's sequence number.
    const uint32_t seq = (p.tcp_flags & tcp_flag::syn) ? p.tcp_seq + 1 : p.tcp_seq;
    switch (stream.buffer.feed(seq, p.payload)) {
        case StreamBuffer::Feed::gap_resync: ++counters_.stream_gaps_total; break;
        case StreamBuffer::Feed::overflow: ++counters_.stream_overflow_total; return;
        default: break;
    }
    const ServiceProtocol protocol = table_.session(connection).protocol;
    // Bounded: each round consumes at least one byte or stops.
    for (;;) {
        const std::string_view data = stream.buffer.pending();
        if (const size_t skip = skip_line_ends(data)) {
            stream.buffer.consume(skip);
            continue;
        }
        if (data.empty()) return;
        if (protocol == ServiceProtocol::rtsp) {
            const size_t frame = interleaved_frame_length(data);
            if (frame == std::string_view::npos) return;
            if (frame > 0) {
                stream.buffer.consume(frame);
                continue;
            }
            const RtspParseResult r = parse_rtsp_message(data, limits_.rtsp);
            if (r.status == ParseStatus::incomplete) return;
            if (r.status == ParseStatus::error) {
                ++counters_.rtsp_malformed_total;
                stream.broken = true;
                stream.buffer.clear();
                return;
            }
            ++counters_.rtsp_messages_total;
            on_client_rtsp(p, key, r.message, connection, stream, c);
            stream.buffer.consume(r.message.length);
            // The connection may have joined another session (a reconnect).
            if (const FlowEntry* f = table_.find_flow(key)) {
                connection = f->session;
                c.session = connection;
            }
        } else {
            const SipParseResult r = parse_sip_message(data, SipFraming::stream, limits_.sip);
            if (r.status == ParseStatus::incomplete) return;
            if (r.status == ParseStatus::error) {
                ++counters_.sip_malformed_total;
                stream.broken = true;
                stream.buffer.clear();
                return;
            }
            ++counters_.sip_messages_total;
            if (r.message.call_id.empty()) {
                ++counters_.sip_without_call_id_total;
            } else {
                bool created = false;
                const SessionId id = on_client_sip(p, r.message, connection, &created);
                if (id != kNoSession) c.add_carried(id);
            }
            stream.buffer.consume(r.message.length);
        }
    }
}

void SessionIdentifier::on_client_rtsp(const DecodedPacket& p, const FlowKey& key, const RtspMessage& m,
                                       SessionId connection, Stream& stream, Classification& c) {
    if (!m.is_request) return;
    SessionId id = connection;
    if (!m.session_id.empty()) {
        const SessionId known = table_.find_session(ServiceProtocol::rtsp, m.session_id);
        if (known != kNoSession && known != connection) {
            // A client reconnecting with its Session id: the connection joins that session.
            table_.move_flow(key, known);
            id = known;
        } else if (known == kNoSession) {
            table_.assign_key(connection, m.session_id);
        }
    }
    table_.touch_session(id);
    c.add_carried(id);
    if (m.method == "TEARDOWN") {
        table_.end_session(id);
        return;
    }
    if (m.method != "SETUP" || m.transport.empty()) return;
    RtspTransport transport;
    if (parse_rtsp_transport(m.transport, transport) == ParseStatus::error) ++counters_.transport_malformed_total;
    PendingSetup& pending = stream.setups[stream.next_setup];
    stream.next_setup = uint8_t((stream.next_setup + 1) % stream.setups.size());
    pending = PendingSetup{.cseq = m.cseq, .used = m.has_cseq, .client = {}};
    for (size_t i = 0; i < transport.count; ++i) {
        const RtspTransportSpec& spec = transport.specs[i];
        if (spec.interleaved || spec.multicast || spec.tcp || spec.client_rtp == 0) continue;
        const IpAddress client = spec.destination.family == p.src.family ? spec.destination : p.src;
        announce_partial(id, client, spec.client_rtp);
        if (spec.client_rtcp) announce_partial(id, client, spec.client_rtcp);
        if (pending.client.rtp == 0) pending.client = Endpoint{client, spec.client_rtp, spec.client_rtcp};
    }
}

void SessionIdentifier::apply(const Announcement& a) {
    if (a.protocol == ServiceProtocol::sip) apply_sip(a);
    else if (a.protocol == ServiceProtocol::rtsp) apply_rtsp(a);
}

void SessionIdentifier::apply_sip(const Announcement& a) {
    const SessionId id = table_.find_session(ServiceProtocol::sip, a.key);
    if (id == kNoSession) {
        ++counters_.announcements_unknown_session_total;
        return;
    }
    ++counters_.announcements_applied_total;
    Session& s = table_.session(id);
    if (!a.is_request && a.cseq_method == SipMethod::invite && a.status_code >= 200 && a.status_code < 300)
        s.confirmed = true;
    if (a.has_media) {
        Negotiation& n = negotiations_[id];
        n.server.clear();
        for (size_t i = 0; i < a.media_count; ++i) n.server.emplace_back(a.media[i].server_rtp, a.media[i].server_rtcp);
        pair_negotiation(id);
    }
    const bool node_hangs_up = a.is_request && (a.method == SipMethod::bye || a.method == SipMethod::cancel);
    const bool call_refused = !a.is_request && a.status_code >= 300 && a.cseq_method == SipMethod::invite &&
                              !table_.session(id).confirmed;
    if (node_hangs_up || call_refused) {
        table_.end_session(id);
        negotiations_.erase(id);
    }
}

void SessionIdentifier::apply_rtsp(const Announcement& a) {
    SessionId id = table_.find_session(ServiceProtocol::rtsp, a.key);
    SessionId connection = kNoSession;
    if (a.has_control)
        if (const FlowEntry* f = table_.find_flow(a.control)) connection = f->session;
    if (id == kNoSession && connection != kNoSession && table_.assign_key(connection, a.key)) id = connection;
    if (id == kNoSession) {
        ++counters_.announcements_unknown_session_total;
        return;
    }
    if (connection != kNoSession && connection != id) table_.move_flow(a.control, id);
    ++counters_.announcements_applied_total;

    // Match the reply to its SETUP by CSeq: a reply may omit client_port, the request has it.
    const PendingSetup* setup = nullptr;
    if (a.has_control) {
        auto it = streams_.find(a.control);
        if (it != streams_.end())
            for (const PendingSetup& s : it->second.setups)
                if (s.used && s.cseq == a.cseq) setup = &s;
    }
    for (size_t i = 0; i < a.media_count; ++i) {
        const MediaHint& h = a.media[i];
        Endpoint client{h.client_address, h.client_rtp, h.client_rtcp};
        if ((client.rtp == 0 || !client.address.family) && setup) client = setup->client;
        if (!client.address.family) continue;
        complete_flow(id, client.address, client.rtp, h.server_rtp);
        complete_flow(id, client.address, client.rtcp, h.server_rtcp);
    }
}

// Data flows: media of a known session (exact, or a partial flow waiting for the node's
// port), or a new flow of no known session, which starts a session of its own.
Classification SessionIdentifier::classify_data(const DecodedPacket& p, uint8_t service) {
    Classification c;
    c.offload = true;
    const FlowKey key = p.flow_key();
    // Port 0 on either side is never a real media flow: such keys name partial flows and
    // latches, which a packet must not hit as if it were their exact flow.
    const bool real = key.src_port != 0 && key.dst_port != 0;
    if (FlowEntry* flow = real ? table_.find_flow(key) : nullptr) {
        if (key.proto == IpProto::udp) {
            // A newer negotiation claimed this client port (its partial flow is still
            // waiting): the exact flow of the older session is handed over.
            const FlowKey partial = media_key(key.src, key.src_port, 0);
            if (const FlowEntry* claim = table_.find_flow(partial); claim && claim->session != flow->session) {
                const SessionId id = claim->session;
                table_.remove_flow(partial);
                table_.move_flow(key, id);
                flow = table_.find_flow(key);
                if (flow->session == id) ++counters_.flows_taken_over_total;
            }
        }
        table_.touch_flow(key, *flow);
        c.session = flow->session;
        c.identity = flow->identity;
        return c;
    }
    if (key.proto == IpProto::udp && real) {
        const FlowKey partial = media_key(key.src, key.src_port, 0);
        if (const FlowEntry* f = table_.find_flow(partial)) {
            // A predicted flow matched on what is known (client address and port): it is
            // now this exact flow, confirmed by its first packet.
            const SessionId id = f->session;
            table_.remove_flow(partial);
            if (FlowEntry* exact = table_.add_flow(key, id, FlowIdentity::announced)) {
                table_.touch_flow(key, *exact);
                c.session = id;
                c.identity = FlowIdentity::secondary;
                return c;
            }
        }
        const FlowKey latch = media_key(key.src, 0, key.dst_port);
        if (const FlowEntry* f = table_.find_flow(latch)) {
            // Media from a NAT'd session's signalling address to its node's port, from a
            // port nobody offered: the session's (latching). The latch is used up.
            const SessionId id = f->session;
            table_.remove_flow(latch);
            if (FlowEntry* exact = table_.add_flow(key, id, FlowIdentity::announced)) {
                table_.touch_flow(key, *exact);
                ++counters_.flows_latched_total;
                c.session = id;
                c.identity = FlowIdentity::secondary;
                return c;
            }
        }
    }
    const SessionId id = new_session(ServiceProtocol::plain, {}, service);
    if (id == kNoSession || !table_.add_flow(key, id, FlowIdentity::signalling)) {
        ++counters_.packets_refused_total;
        c.outcome = PacketOutcome::refused;
        return c;
    }
    if (key.proto == IpProto::udp && real && recent_flows_.size() < kMaxRecentFlows)
        recent_flows_[media_key(key.src, 0, key.dst_port)] = RecentFlow{key, table_.now_ms()};
    c.session = id;
    c.new_session = true;
    return c;
}

bool SessionIdentifier::expire_step(size_t budget) {
    const bool round = table_.expire_step(budget);
    for (const FlowKey& k : table_.take_released_media()) forget_flow(k);
    const uint32_t now = table_.now_ms();
    size_t left = budget;
    streams_cursor_.step(streams_, left, [&](const FlowKey& k, Stream& stream) {
        if (table_.find_flow(k)) return false;
        stream_budget_.update(k, stream.account, 0);  // what erase_stream does; the cursor erases
        return true;
    });
    left = budget;
    negotiations_cursor_.step(negotiations_, left,
                              [&](SessionId id, const Negotiation&) { return !table_.session(id).in_use; });
    left = budget;
    recent_cursor_.step(recent_flows_, left,
                        [&](const FlowKey&, const RecentFlow& r) { return uint64_t(now - r.created_ms) > kRecentFlowMs; });
    left = budget;
    orphans_cursor_.step(rtsp_orphans_, left, [&](const IpAddress&, const RtspOrphan& o) {
        return uint64_t(now - o.since_ms) > rtsp_affinity_ms_;
    });
    return round;
}

KernelForgets SessionIdentifier::take_kernel_forgets() {
    if (forgets_.empty()) return {};
    return std::exchange(forgets_, {});
}

// RTSP affinity: an RTSP session whose control connection closed (FIN or RST) without a
// TEARDOWN waits for its client to reconnect; the client address's next new RTSP connection
// within the window goes to that session's node. Only such orphans count: many clients
// behind one address with their connections open are scheduled as usual. One orphan per
// client address (the newest), used up by the reconnect. Bounded by the stream table.
void SessionIdentifier::note_rtsp_orphan(const IpAddress& client, SessionId session) {
    if (rtsp_affinity_ms_ == 0) return;
    if (rtsp_orphans_.size() >= limits_.max_streams && !rtsp_orphans_.contains(client)) return;
    rtsp_orphans_[client] = RtspOrphan{session, table_.now_ms()};
}

NodeId SessionIdentifier::rtsp_affinity(const IpAddress& client) {
    const auto it = rtsp_orphans_.find(client);
    if (it == rtsp_orphans_.end()) return kNoNode;
    const RtspOrphan orphan = it->second;
    rtsp_orphans_.erase(it);
    if (uint64_t(table_.now_ms() - orphan.since_ms) > rtsp_affinity_ms_) return kNoNode;
    const Session& s = table_.session(orphan.session);
    if (!s.in_use || s.protocol != ServiceProtocol::rtsp || s.state != SessionState::active) return kNoNode;
    return s.node;
}

}  // namespace sara
