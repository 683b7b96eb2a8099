// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's announcement datagram (DESIGN §7, §8): one Announcement (common/announce) from
// sara-gatewayd to each dispatcher, in the control channel's envelope — 'S' 'A' | version 1 |
// type 3 (MessageType::announce) | body | HMAC-SHA256 trailer — and checked like every control
// message (known host, timestamp skew, replay window per host and type) by ControlReceiver.
//
// Body (network byte order), variable length, at most kMaxAnnounceBody bytes:
//   host_id u16 | seq u32 | timestamp u32 (Unix seconds when sent)
//   protocol u8 (ServiceProtocol) | flags u8 (bit0 has_control, bit1 is_request, bit2 has_media)
//   method u8 (SipMethod) | cseq_method u8 (SipMethod) | status_code u16 | cseq u32
//   key_len u8 (1..255) | key bytes
//   [has_control] control flow: family u8 (4|6) | src addr (4|16) | dst addr (4|16) |
//                 src_port u16 | dst_port u16 | ip proto u8
//   [has_media]   media_count u8 (1..kMaxMediaHints), then per hint:
//                 family u8 (0 = unset, 4, 6) | client addr (0|4|16) | client_rtp u16 |
//                 client_rtcp u16 | server_rtp u16 | server_rtcp u16
// Anything else — a length that does not match the fields, an unknown protocol/method value,
// key_len 0, a media count of 0 or above kMaxMediaHints, a family other than those listed — is
// Reject::malformed. So is a flags bit above bit2 and an ip proto other than 6 (TCP) or 17 (UDP):
// decoding exactly what encode() writes makes decode → encode give back the same bytes.
//
// Finding the body's end (wire::decode). The body is self-delimiting — key_len, the flags and
// media_count fix its length — but with a key, no field is read before the MAC is checked:
//   - More than header + kMaxAnnounceBody + trailer bytes, or fewer than header + a minimal
//     body (22 bytes: no control flow, no media, a 1-byte key): Reject::malformed, unread.
//   - With `key`: the last 32 bytes are the trailer and the body is everything between the
//     header and it. The MAC is checked first — no room for a trailer or a wrong one is
//     Reject::auth — then the body must parse to exactly that length (Reject::malformed). So an
//     unsigned announcement sent to a keyed receiver is Reject::auth whatever its length, as
//     for heartbeats, and so is a signed one cut short or padded.
//   - With `key` null (`auth: none`): the body is parsed from the end of the header and
//     measures itself; what follows it must be nothing or exactly 32 bytes (a trailer, accepted
//     and ignored as for heartbeats); anything else is Reject::malformed. No datagram has two
//     readings: the parser reads the same bytes whatever follows them, so a body has one length
//     and at most one of "no trailer" and "32-byte trailer" fits.
#pragma once

#include <cstdint>
#include <vector>

#include "common/announce/announcement.hpp"
#include "common/wire/control_message.hpp"

namespace sara::wire {

// The largest body the layout allows is 515 bytes (a 255-byte key, an IPv6 control flow and
// kMaxMediaHints IPv6 hints); the bound leaves room to grow the format without a version bump.
inline constexpr size_t kMaxAnnounceBody = 1024;

// AnnounceMessage (host_id, seq, timestamp, announcement) is defined in control_message.hpp,
// because Decoded holds one.

// A complete datagram; with `key` null, no trailer (`auth: none`). An announcement that cannot
// be encoded — one whose datagram decode() would refuse: an empty key or a key longer than 255
// bytes; has_media with a media_count of 0 or more than kMaxMediaHints; a control flow whose
// src and dst are not both IPv4 or both IPv6 or whose proto is not TCP or UDP; a hint address
// family other than unset/IPv4/IPv6; a protocol or method outside its enum; a status_code
// outside 0..65535 — gives an empty vector. Fields the flags leave out (control without
// has_control, media without has_media, hints past media_count) are not sent.
std::vector<uint8_t> encode(const AnnounceMessage& message, const ClusterKey* key);

}  // namespace sara::wire
