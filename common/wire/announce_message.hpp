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
// Reject::malformed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/announce/announcement.hpp"
#include "common/wire/control_message.hpp"

namespace sara::wire {

inline constexpr size_t kMaxAnnounceBody = 1024;

struct AnnounceMessage {
    uint16_t host_id = 0;  // the gateway's id (dispatcher.yaml announce.senders)
    uint32_t seq = 0;
    uint32_t timestamp = 0;
    Announcement announcement;
};

// A complete datagram; with `key` null, no trailer (`auth: none`). An announcement that cannot
// be encoded (empty key or a key longer than 255 bytes, more than kMaxMediaHints hints, an
// address family other than IPv4/IPv6 in the control flow) gives an empty vector.
std::vector<uint8_t> encode(const AnnounceMessage& message, const ClusterKey* key);

}  // namespace sara::wire
