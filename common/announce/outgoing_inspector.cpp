// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/announce/outgoing_inspector.hpp"

#include "common/proto/sdp.hpp"
#include "common/proto/text.hpp"

namespace sara {

SipMethod sip_method_from(std::string_view name) {
    if (name == "INVITE") return SipMethod::invite;
    if (name == "ACK") return SipMethod::ack;
    if (name == "BYE") return SipMethod::bye;
    if (name == "CANCEL") return SipMethod::cancel;
    if (name == "UPDATE") return SipMethod::update;
    if (name == "PRACK") return SipMethod::prack;
    return name.empty() ? SipMethod::none : SipMethod::other;
}

namespace {

FlowKey reverse(const DecodedPacket& p) {
    return FlowKey{p.dst, p.src, p.dst_port, p.src_port, p.is_tcp() ? IpProto::tcp : IpProto::udp};
}

// Leading CR/LF between messages (SIP keep-alives, stray line ends) carry nothing.
size_t skip_line_ends(std::string_view data) {
    size_t i = 0;
    while (i < data.size() && (data[i] == '\r' || data[i] == '\n')) ++i;
    return i;
}

}  // namespace

OutgoingInspector::OutgoingInspector(const ServiceMap& services, const VipSet& vip, const InspectorLimits& limits)
    : services_(services), vip_(vip), limits_(limits) {}

void OutgoingInspector::inspect(const DecodedPacket& p, std::vector<Announcement>& out) {
    if (!p.has_ports || !vip_.contains(p.src)) return;
    const IpProto proto = p.is_tcp() ? IpProto::tcp : IpProto::udp;
    const uint8_t index = services_.match(proto, p.src_port);
    if (index == ServiceMap::kOther) return;
    const ServiceProtocol protocol = services_.service(index).protocol;
    if (protocol == ServiceProtocol::plain) return;
    if (proto == IpProto::tcp) {
        inspect_stream(p, protocol, out);
        return;
    }
    const std::string_view data(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
    if (protocol == ServiceProtocol::sip) inspect_sip(p, data, SipFraming::datagram, out, nullptr);
}

void OutgoingInspector::inspect_stream(const DecodedPacket& p, ServiceProtocol protocol,
                                       std::vector<Announcement>& out) {
    const FlowKey key = p.flow_key();
    const size_t max_bytes = limits_.sip.max_header_bytes + limits_.sip.max_body_bytes;
    auto it = streams_.find(key);
    if (it == streams_.end()) {
        if (streams_.size() >= limits_.max_streams) return;
        it = streams_.emplace(key, StreamBuffer(max_bytes)).first;
    }
    StreamBuffer& stream = it->second;
    if (p.tcp_flags & tcp_flag::syn) stream.start(p.tcp_seq);
    if (!p.payload.empty()) {
        // Data on a SYN (TCP Fast Open) starts one past the SYN's sequence number.
        const uint32_t seq = (p.tcp_flags & tcp_flag::syn) ? p.tcp_seq + 1 : p.tcp_seq;
        const auto fed = stream.feed(seq, p.payload);
        if (fed == StreamBuffer::Feed::gap_resync || fed == StreamBuffer::Feed::overflow)
            ++counters_.outgoing_stream_gaps_total;
        // Bounded: each round consumes at least one byte or stops.
        for (;;) {
            std::string_view data = stream.pending();
            const size_t skip = skip_line_ends(data);
            if (skip) {
                stream.consume(skip);
                continue;
            }
            if (data.empty()) break;
            if (protocol == ServiceProtocol::rtsp) {
                const size_t frame = interleaved_frame_length(data);
                if (frame == std::string_view::npos) break;
                if (frame > 0) {
                    stream.consume(frame);
                    continue;
                }
            }
            size_t consumed = 0;
            if (protocol == ServiceProtocol::sip) inspect_sip(p, data, SipFraming::stream, out, &consumed);
            else inspect_rtsp(p, data, out, &consumed);
            if (consumed == 0) break;
            stream.consume(consumed);
        }
    }
    if (p.tcp_flags & (tcp_flag::fin | tcp_flag::rst)) streams_.erase(it);
}

void OutgoingInspector::inspect_sip(const DecodedPacket&, std::string_view data, SipFraming framing,
                                    std::vector<Announcement>& out, size_t* consumed) {
    const SipParseResult r = parse_sip_message(data, framing, limits_.sip);
    if (r.status == ParseStatus::incomplete) return;
    if (r.status == ParseStatus::error) {
        ++counters_.outgoing_malformed_total;
        if (consumed) *consumed = data.size();  // a stream cannot resync inside garbage
        return;
    }
    if (consumed) *consumed = r.message.length;
    ++counters_.outgoing_messages_total;
    const SipMessage& m = r.message;
    if (m.call_id.empty()) return;

    Announcement a;
    a.protocol = ServiceProtocol::sip;
    a.is_request = m.is_request;
    a.method = sip_method_from(m.method);
    a.status_code = m.status_code;
    a.cseq_method = sip_method_from(m.cseq_method);
    a.cseq = m.cseq;
    if (m.has_sdp()) {
        SdpSummary sdp;
        if (parse_sdp(m.body, sdp).status == ParseStatus::complete) {
            a.has_media = true;
            a.media_count = static_cast<uint8_t>(std::min(sdp.media_count, kMaxMediaHints));
            for (size_t i = 0; i < a.media_count; ++i) {
                a.media[i].server_rtp = sdp.media[i].rtp_port;
                a.media[i].server_rtcp = sdp.media[i].rtcp_port;
            }
        } else {
            ++counters_.outgoing_malformed_total;
        }
    }
    const bool ends = (a.is_request && (a.method == SipMethod::bye || a.method == SipMethod::cancel)) ||
                      (!a.is_request && a.status_code >= 300 && a.cseq_method == SipMethod::invite);
    if (!a.has_media && !ends) return;
    a.key.assign(m.call_id);
    out.push_back(std::move(a));
    ++counters_.outgoing_announcements_total;
}

void OutgoingInspector::inspect_rtsp(const DecodedPacket& p, std::string_view data, std::vector<Announcement>& out,
                                     size_t* consumed) {
    const RtspParseResult r = parse_rtsp_message(data, limits_.rtsp);
    if (r.status == ParseStatus::incomplete) return;
    if (r.status == ParseStatus::error) {
        ++counters_.outgoing_malformed_total;
        *consumed = data.size();
        return;
    }
    *consumed = r.message.length;
    ++counters_.outgoing_messages_total;
    const RtspMessage& m = r.message;
    if (m.is_request || m.session_id.empty()) return;

    Announcement a;
    a.protocol = ServiceProtocol::rtsp;
    a.key.assign(m.session_id);
    a.has_control = true;
    a.control = reverse(p);
    a.status_code = m.status_code;
    a.cseq = m.cseq;
    if (!m.transport.empty() && m.status_code >= 200 && m.status_code < 300) {
        RtspTransport transport;
        if (parse_rtsp_transport(m.transport, transport) == ParseStatus::error)
            ++counters_.outgoing_malformed_total;
        for (size_t i = 0; i < transport.count && a.media_count < kMaxMediaHints; ++i) {
            const RtspTransportSpec& spec = transport.specs[i];
            if (spec.interleaved || spec.multicast || (spec.client_rtp == 0 && spec.server_rtp == 0)) continue;
            MediaHint& h = a.media[a.media_count++];
            h.client_address = spec.destination.family ? spec.destination : p.dst;
            h.client_rtp = spec.client_rtp;
            h.client_rtcp = spec.client_rtcp;
            h.server_rtp = spec.server_rtp;
            h.server_rtcp = spec.server_rtcp;
        }
        a.has_media = a.media_count > 0;
    }
    out.push_back(std::move(a));
    ++counters_.outgoing_announcements_total;
}

}  // namespace sara
