// SPDX-License-Identifier: GPL-2.0-or-later
// Builds DecodedPackets for tests that exercise the layers above the decoder (the session
// identifier, the outgoing inspector) without assembling raw IP bytes. The payload views the
// caller's string, which must outlive the packet.
#pragma once

#include <string>
#include <string_view>

#include "common/net/packet.hpp"

namespace sara::test {

inline IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

inline DecodedPacket udp(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport,
                         std::string_view payload = {}) {
    DecodedPacket p;
    p.src = ip(src);
    p.dst = ip(dst);
    p.ip_proto = 17;
    p.has_ports = true;
    p.src_port = sport;
    p.dst_port = dport;
    p.payload = {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()};
    return p;
}

inline DecodedPacket tcp(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport,
                         uint8_t flags, uint32_t seq, std::string_view payload = {}) {
    DecodedPacket p = udp(src, sport, dst, dport, payload);
    p.ip_proto = 6;
    p.tcp_flags = flags;
    p.tcp_seq = seq;
    return p;
}

inline FlowKey udp_key(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport) {
    return FlowKey{ip(src), ip(dst), sport, dport, IpProto::udp};
}

inline FlowKey tcp_key(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport) {
    return FlowKey{ip(src), ip(dst), sport, dport, IpProto::tcp};
}

// A SIP message with CRLF line ends and a correct Content-Length.
inline std::string sip_message(std::string_view start_line, std::string_view call_id, std::string_view cseq,
                               std::string_view sdp = {}) {
    std::string m(start_line);
    m += "\r\nVia: SIP/2.0/UDP 198.18.1.2:5070;branch=z9hG4bK-1\r\n";
    m += "From: <sip:alice@198.18.1.2>;tag=1\r\nTo: <sip:svc@198.18.100.10>\r\n";
    m += "Call-ID: " + std::string(call_id) + "\r\nCSeq: " + std::string(cseq) + "\r\n";
    if (!sdp.empty()) m += "Content-Type: application/sdp\r\n";
    m += "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n";
    m += sdp;
    return m;
}

// `address` of either family (c=IN IP4 or c=IN IP6).
inline std::string sdp_body(std::string_view address, uint16_t audio_port) {
    const std::string family = address.find(':') != std::string_view::npos ? "IP6 " : "IP4 ";
    return "v=0\r\no=- 1 1 IN " + family + std::string(address) + "\r\ns=-\r\nc=IN " + family + std::string(address) +
           "\r\nt=0 0\r\nm=audio " + std::to_string(audio_port) + " RTP/AVP 0\r\n";
}

}  // namespace sara::test
