// SPDX-License-Identifier: GPL-2.0-or-later
// Packets sarad sends itself, from the VIP, to refuse a new session (DESIGN §5): the UDP
// datagram that carries a stateless SIP 503, and the TCP RST for a refused connection. Pure
// builders (no sockets): complete IPv4 or IPv6 packets (the family of the addresses) with
// their checksums, for IpSender.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/packet.hpp"

namespace sara {

// IP header (IPv4: 20 bytes, TTL 64, DF, id 0; IPv6: 40 bytes, hop limit 64, no extension
// header) + UDP header + payload; nullopt if the addresses are not of one family or the
// payload does not fit one datagram.
std::optional<std::vector<uint8_t>> udp_packet(const IpAddress& src, uint16_t src_port, const IpAddress& dst,
                                               uint16_t dst_port, std::span<const uint8_t> payload);

// The RST answering `incoming` (a TCP segment to the VIP), as RFC 793 §3.4 builds it: if the
// segment has ACK, <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
// where SYN and FIN count one each. In the segment's family. nullopt for a non-TCP or RST
// segment (a RST is never answered).
std::optional<std::vector<uint8_t>> tcp_rst_for(const DecodedPacket& incoming);

// The Internet checksum (RFC 1071) of the family's pseudo header (RFC 768 / RFC 8200 §8.1)
// + segment, for tests as well.
uint16_t transport_checksum(const IpAddress& src, const IpAddress& dst, uint8_t proto,
                            std::span<const uint8_t> segment);

}  // namespace sara
