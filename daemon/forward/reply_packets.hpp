// SPDX-License-Identifier: GPL-2.0-or-later
// Packets sarad sends itself, from the VIP, to refuse a new session (DESIGN §5): the IPv4/UDP
// datagram that carries a stateless SIP 503, and the TCP RST for a refused connection. Pure
// builders (no sockets): complete IPv4 packets with both checksums, for IpSender.
// IPv4 only; the caller counts an IPv6 session it could not answer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/packet.hpp"

namespace sara {

// IPv4 header (20 bytes, TTL 64, DF, id 0) + UDP header + payload; nullopt if an address is
// not IPv4 or the payload does not fit one datagram.
std::optional<std::vector<uint8_t>> ipv4_udp_packet(const IpAddress& src, uint16_t src_port, const IpAddress& dst,
                                                    uint16_t dst_port, std::span<const uint8_t> payload);

// The RST answering `incoming` (a TCP segment to the VIP), as RFC 793 §3.4 builds it: if the
// segment has ACK, <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
// where SYN and FIN count one each. nullopt for a non-TCP, non-IPv4 or RST segment (a RST is
// never answered).
std::optional<std::vector<uint8_t>> ipv4_tcp_rst_for(const DecodedPacket& incoming);

// The Internet checksum (RFC 1071) of a pseudo header + segment, for tests as well.
uint16_t transport_checksum(const IpAddress& src, const IpAddress& dst, uint8_t proto,
                            std::span<const uint8_t> segment);

}  // namespace sara
