// SPDX-License-Identifier: GPL-2.0-or-later
// Bounds-checked decoding of an IPv4/IPv6 packet and its TCP/UDP header. Every read is
// checked against the buffer; a bad packet yields a DecodeError the caller counts, never a
// read past the end and never an exception.
#pragma once

#include <cstdint>
#include <span>

#include "common/net/flow_key.hpp"

namespace sara {

enum class DecodeError : uint8_t {
    none,
    truncated_ip,         // shorter than the fixed IP header
    bad_version,          // neither 4 nor 6
    bad_header_length,    // IHL < 5, or options run past the packet
    bad_total_length,     // IP length field disagrees with the buffer
    truncated_transport,  // TCP/UDP header cut short
    bad_transport_length, // TCP data offset < 5, or UDP length disagrees with the IP payload
    bad_extension_header, // IPv6 extension chain runs past the packet
};
const char* to_string(DecodeError e);

struct DecodedPacket {
    IpAddress src;
    IpAddress dst;
    uint8_t ip_proto = 0;        // after IPv6 extension headers
    bool fragment = false;       // part of a fragmented datagram (any fragment)
    bool later_fragment = false; // not the first fragment: no transport header present
    bool has_ports = false;      // TCP or UDP header decoded (first fragment or whole packet)
    // The copy ends before the packet does (NFQUEUE copies at most 65,531 bytes): the headers
    // are whole, `payload` is only the part of the transport payload that was copied.
    bool truncated = false;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint8_t tcp_flags = 0;       // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
    uint32_t tcp_seq = 0;
    uint32_t tcp_ack = 0;        // meaningful when tcp_flags has ACK
    std::span<const uint8_t> payload;  // transport payload (empty unless has_ports)

    bool is_tcp() const { return ip_proto == 6; }
    bool is_udp() const { return ip_proto == 17; }
    // Only meaningful when has_ports.
    FlowKey flow_key() const {
        return FlowKey{src, dst, src_port, dst_port, is_tcp() ? IpProto::tcp : IpProto::udp};
    }
};

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

struct DecodeResult {
    DecodeError error = DecodeError::none;
    DecodedPacket packet;
    bool ok() const { return error == DecodeError::none; }
};

// Decodes a packet starting at the IP header (what NFQUEUE and a DLT_RAW capture hand us).
// Trailing bytes beyond the IP total length (Ethernet padding) are ignored. ICMP and other
// protocols decode with has_ports = false: an ICMP error that quotes a UDP header is not a flow.
// `packet_length`: the packet's real length when `bytes` is a truncated copy of it (NFQUEUE's
// NFQA_CAP_LEN), else 0. A copy shorter than its IP length decodes (truncated = true) only
// when that length is exactly `packet_length`: the kernel vouches for it.
DecodeResult decode_ip_packet(std::span<const uint8_t> bytes, size_t packet_length = 0);

}  // namespace sara
