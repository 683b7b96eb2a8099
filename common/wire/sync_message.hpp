// SPDX-License-Identifier: GPL-2.0-or-later
// The state-sync datagram between dispatchers: an HA pair or a mesh (DESIGN §9, 9b; daemon/ha): in the
// control channel's envelope — 'S' 'A' | version 1 | type 4 (MessageType::sync) | body |
// HMAC-SHA256 trailer — and checked like every control message (known host, timestamp skew,
// replay window per host and type) by ControlReceiver.
//
// Body (network byte order):
//   host_id u16 | seq u32 | timestamp u32 | kind u8 (SyncKind 1..4) | epoch u32 | index u16 |
//   last_chunk u16 | payload_len u16 (0..kMaxSyncPayload) | payload bytes
// Rules (anything else is Reject::malformed): kind snapshot has last_chunk 0 or 1 (1 on the
// snapshot's final chunk) and any index (its chunk number mod 65536: a snapshot is streamed
// in order, a slice of the table at a time, and may run past 65,536 chunks; a lost chunk shows
// as a gap in seq); update has last_chunk 0 and index 0, or 1 from a mesh dispatcher that is
// ready (epoch: 0, or the number an ack names);
// resync has epoch and last_chunk 0; ack has epoch != 0 and last_chunk 0; resync and ack have
// no payload, and their index names the dispatcher they are for (a mesh sends every datagram
// to all its peers; 0 in an HA pair: the one peer). The payload is text (update: table_records.hpp blocks;
// snapshot: table_snapshot.hpp version-3 lines) and is parsed by the receiver, not here.
//
// The body is self-delimiting (payload_len). With `key` the last 32 bytes are the trailer,
// checked before any field is read (no trailer or a wrong one: Reject::auth), and the body must
// fill exactly the bytes between header and trailer. With `key` null the body is read from the
// header on and may be followed by nothing or a 32-byte trailer (ignored), as for announcements.
#pragma once

#include <cstdint>
#include <vector>

#include "common/wire/control_message.hpp"

namespace sara::wire {

inline constexpr size_t kSyncFixedBody = 21;
// A datagram of at most 4 + 21 + 1400 + 32 = 1457 bytes fits a 1500-byte MTU with IPv4/UDP.
inline constexpr size_t kMaxSyncPayload = 1400;

// A complete datagram; empty when the message breaks a rule above (payload too long, a
// snapshot chunk with last_chunk 2, ...). With `key` null, no trailer.
std::vector<uint8_t> encode(const SyncMessage& message, const ClusterKey* key);

}  // namespace sara::wire
