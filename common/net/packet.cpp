// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/packet.hpp"

#include <algorithm>

#include "common/util/byte_order.hpp"

namespace sara {
namespace {

constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;

// Decodes the transport header in `l4` (already cut to the IP payload, or to the end of a
// truncated copy) into `out`; `l4_length` is the IP payload's real length.
DecodeError decode_transport(std::span<const uint8_t> l4, size_t l4_length, DecodedPacket& out) {
    if (out.ip_proto == kProtoUdp) {
        if (l4.size() < 8) return DecodeError::truncated_transport;
        const uint16_t udp_len = read_be16(l4.data() + 4);
        // A fragmented datagram's UDP length covers all fragments; only check whole packets.
        if (!out.fragment && (udp_len < 8 || udp_len > l4_length)) return DecodeError::bad_transport_length;
        out.src_port = read_be16(l4.data());
        out.dst_port = read_be16(l4.data() + 2);
        out.payload = out.fragment ? l4.subspan(8) : l4.subspan(8, std::min<size_t>(udp_len, l4.size()) - 8);
        out.has_ports = true;
        return DecodeError::none;
    }
    if (out.ip_proto == kProtoTcp) {
        if (l4.size() < 20) return DecodeError::truncated_transport;
        const size_t data_offset = size_t(l4[12] >> 4) * 4;
        if (data_offset < 20) return DecodeError::bad_transport_length;
        if (data_offset > l4.size()) return DecodeError::truncated_transport;
        out.src_port = read_be16(l4.data());
        out.dst_port = read_be16(l4.data() + 2);
        out.tcp_seq = read_be32(l4.data() + 4);
        out.tcp_ack = read_be32(l4.data() + 8);
        out.tcp_flags = l4[13];
        out.payload = l4.subspan(data_offset);
        out.has_ports = true;
        return DecodeError::none;
    }
    return DecodeError::none;  // other protocols: addresses only
}

// A copy shorter than the IP length is a decodable truncated copy only when the kernel said
// the packet was exactly that long.
bool length_fits(size_t ip_length, size_t copied, size_t packet_length) {
    return ip_length <= copied || (packet_length > copied && ip_length == packet_length);
}

DecodeResult decode_v4(std::span<const uint8_t> b, size_t packet_length) {
    DecodeResult r;
    if (b.size() < 20) return {DecodeError::truncated_ip, {}};
    const size_t ihl = size_t(b[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > b.size()) return {DecodeError::bad_header_length, {}};
    const size_t total = read_be16(b.data() + 2);
    if (total < ihl || !length_fits(total, b.size(), packet_length)) return {DecodeError::bad_total_length, {}};
    DecodedPacket& p = r.packet;
    p.truncated = total > b.size();
    p.src = IpAddress::v4(b.data() + 12);
    p.dst = IpAddress::v4(b.data() + 16);
    p.ip_proto = b[9];
    const uint16_t frag = read_be16(b.data() + 6);
    const bool more_fragments = frag & 0x2000;
    const uint16_t offset = frag & 0x1fff;
    p.fragment = more_fragments || offset != 0;
    p.later_fragment = offset != 0;
    if (p.later_fragment) return r;
    r.error = decode_transport(b.subspan(ihl, std::min(total, b.size()) - ihl), total - ihl, p);
    return r;
}

bool is_v6_extension(uint8_t next) {
    return next == 0 || next == 43 || next == 44 || next == 60;  // hop-by-hop, routing, fragment, dst opts
}

DecodeResult decode_v6(std::span<const uint8_t> b, size_t packet_length) {
    DecodeResult r;
    if (b.size() < 40) return {DecodeError::truncated_ip, {}};
    const size_t payload_len = read_be16(b.data() + 4);
    if (!length_fits(40 + payload_len, b.size(), packet_length)) return {DecodeError::bad_total_length, {}};
    DecodedPacket& p = r.packet;
    p.truncated = 40 + payload_len > b.size();
    p.src = IpAddress::v6(b.data() + 8);
    p.dst = IpAddress::v6(b.data() + 24);
    std::span<const uint8_t> rest = b.subspan(40, std::min(payload_len, b.size() - 40));
    // The real length of what is left of the IP payload (more than `rest` holds when truncated).
    size_t rest_length = payload_len;
    uint8_t next = b[6];
    // Bounded walk: each step consumes at least 8 bytes of a buffer we already bounded.
    while (is_v6_extension(next)) {
        if (rest.size() < 8) return {DecodeError::bad_extension_header, {}};
        if (next == 44) {
            const uint16_t frag = read_be16(rest.data() + 2);
            p.fragment = true;
            p.later_fragment = (frag & 0xfff8) != 0;
            next = rest[0];
            rest = rest.subspan(8);
            rest_length -= 8;
            if (p.later_fragment) {
                p.ip_proto = next;
                return r;
            }
            continue;
        }
        const size_t len = (size_t(rest[1]) + 1) * 8;
        if (len > rest.size()) return {DecodeError::bad_extension_header, {}};
        next = rest[0];
        rest = rest.subspan(len);
        rest_length -= len;
    }
    p.ip_proto = next;
    r.error = decode_transport(rest, rest_length, p);
    return r;
}

}  // namespace

const char* to_string(DecodeError e) {
    switch (e) {
        case DecodeError::none: return "none";
        case DecodeError::truncated_ip: return "truncated_ip";
        case DecodeError::bad_version: return "bad_version";
        case DecodeError::bad_header_length: return "bad_header_length";
        case DecodeError::bad_total_length: return "bad_total_length";
        case DecodeError::truncated_transport: return "truncated_transport";
        case DecodeError::bad_transport_length: return "bad_transport_length";
        case DecodeError::bad_extension_header: return "bad_extension_header";
    }
    return "unknown";
}

DecodeResult decode_ip_packet(std::span<const uint8_t> bytes, size_t packet_length) {
    if (bytes.empty()) return {DecodeError::truncated_ip, {}};
    switch (bytes[0] >> 4) {
        case 4: return decode_v4(bytes, packet_length);
        case 6: return decode_v6(bytes, packet_length);
        default: return {DecodeError::bad_version, {}};
    }
}

}  // namespace sara
