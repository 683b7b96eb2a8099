// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/reply_packets.hpp"

#include <cstring>

#include "common/util/byte_order.hpp"

namespace sara {
namespace {

constexpr size_t kIpv4HeaderSize = 20;
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kUdpHeaderSize = 8;
constexpr size_t kTcpHeaderSize = 20;

uint32_t sum16(std::span<const uint8_t> bytes, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) sum += uint32_t(bytes[i]) << 8 | bytes[i + 1];
    if (bytes.size() % 2) sum += uint32_t(bytes.back()) << 8;
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

// IPv4 header for `payload_size` bytes of `proto`, checksum filled in.
void write_ipv4_header(uint8_t* h, const IpAddress& src, const IpAddress& dst, uint8_t proto, size_t payload_size) {
    h[0] = 0x45;
    h[1] = 0;
    write_be16(h + 2, uint16_t(kIpv4HeaderSize + payload_size));
    write_be16(h + 4, 0);
    write_be16(h + 6, 0x4000);  // DF
    h[8] = 64;
    h[9] = proto;
    write_be16(h + 10, 0);
    std::memcpy(h + 12, src.bytes.data(), 4);
    std::memcpy(h + 16, dst.bytes.data(), 4);
    write_be16(h + 10, fold(sum16({h, kIpv4HeaderSize})));
}

// IPv6 header for `payload_size` bytes of `next_header` (no extension header).
void write_ipv6_header(uint8_t* h, const IpAddress& src, const IpAddress& dst, uint8_t next_header,
                       size_t payload_size) {
    write_be32(h, 0x60000000u);  // version 6, traffic class 0, flow label 0
    write_be16(h + 4, uint16_t(payload_size));
    h[6] = next_header;
    h[7] = 64;
    std::memcpy(h + 8, src.bytes.data(), 16);
    std::memcpy(h + 24, dst.bytes.data(), 16);
}

// The header of the addresses' family; its size, or 0 when they are not of one family.
size_t ip_header_size(const IpAddress& src, const IpAddress& dst) {
    if (src.is_v4() && dst.is_v4()) return kIpv4HeaderSize;
    if (src.is_v6() && dst.is_v6()) return kIpv6HeaderSize;
    return 0;
}

void write_ip_header(uint8_t* h, const IpAddress& src, const IpAddress& dst, uint8_t proto, size_t payload_size) {
    if (src.is_v4()) write_ipv4_header(h, src, dst, proto, payload_size);
    else write_ipv6_header(h, src, dst, proto, payload_size);
}

}  // namespace

uint16_t transport_checksum(const IpAddress& src, const IpAddress& dst, uint8_t proto,
                            std::span<const uint8_t> segment) {
    if (src.is_v6()) {
        uint8_t pseudo[40] = {};
        std::memcpy(pseudo, src.bytes.data(), 16);
        std::memcpy(pseudo + 16, dst.bytes.data(), 16);
        write_be32(pseudo + 32, uint32_t(segment.size()));
        pseudo[39] = proto;
        return fold(sum16(segment, sum16(pseudo)));
    }
    uint8_t pseudo[12];
    std::memcpy(pseudo, src.bytes.data(), 4);
    std::memcpy(pseudo + 4, dst.bytes.data(), 4);
    pseudo[8] = 0;
    pseudo[9] = proto;
    write_be16(pseudo + 10, uint16_t(segment.size()));
    return fold(sum16(segment, sum16(pseudo)));
}

std::optional<std::vector<uint8_t>> udp_packet(const IpAddress& src, uint16_t src_port, const IpAddress& dst,
                                               uint16_t dst_port, std::span<const uint8_t> payload) {
    const size_t header = ip_header_size(src, dst);
    // IPv4's total length and IPv6's payload length are both 16 bits.
    if (header == 0 || payload.size() > 65535 - (src.is_v4() ? kIpv4HeaderSize : 0) - kUdpHeaderSize)
        return std::nullopt;
    std::vector<uint8_t> out(header + kUdpHeaderSize + payload.size());
    write_ip_header(out.data(), src, dst, 17, kUdpHeaderSize + payload.size());
    uint8_t* u = out.data() + header;
    write_be16(u, src_port);
    write_be16(u + 2, dst_port);
    write_be16(u + 4, uint16_t(kUdpHeaderSize + payload.size()));
    write_be16(u + 6, 0);
    if (!payload.empty()) std::memcpy(u + kUdpHeaderSize, payload.data(), payload.size());
    uint16_t sum = transport_checksum(src, dst, 17, {u, kUdpHeaderSize + payload.size()});
    write_be16(u + 6, sum == 0 ? 0xffff : sum);  // 0 means "no checksum" in UDP
    return out;
}

std::optional<std::vector<uint8_t>> tcp_rst_for(const DecodedPacket& in) {
    const size_t header = ip_header_size(in.dst, in.src);
    if (!in.is_tcp() || !in.has_ports || header == 0 || (in.tcp_flags & tcp_flag::rst)) return std::nullopt;
    std::vector<uint8_t> out(header + kTcpHeaderSize);
    write_ip_header(out.data(), in.dst, in.src, 6, kTcpHeaderSize);
    uint8_t* t = out.data() + header;
    write_be16(t, in.dst_port);
    write_be16(t + 2, in.src_port);
    if (in.tcp_flags & tcp_flag::ack) {
        write_be32(t + 4, in.tcp_ack);
        write_be32(t + 8, 0);
        t[13] = tcp_flag::rst;
    } else {
        const uint32_t len = uint32_t(in.payload.size()) + ((in.tcp_flags & tcp_flag::syn) ? 1 : 0) +
                             ((in.tcp_flags & tcp_flag::fin) ? 1 : 0);
        write_be32(t + 4, 0);
        write_be32(t + 8, in.tcp_seq + len);
        t[13] = tcp_flag::rst | tcp_flag::ack;
    }
    t[12] = uint8_t((kTcpHeaderSize / 4) << 4);
    write_be16(t + 14, 0);  // window
    write_be16(t + 16, 0);
    write_be16(t + 18, 0);
    write_be16(t + 16, transport_checksum(in.dst, in.src, 6, {t, kTcpHeaderSize}));
    return out;
}

}  // namespace sara
