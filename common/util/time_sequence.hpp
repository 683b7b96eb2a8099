// SPDX-License-Identifier: GPL-2.0-or-later
// Sequence numbers that start from the clock, for the control channel's senders (the node
// agent's heartbeats and load vectors, the gateway's announcements).
#pragma once

#include <chrono>
#include <cstdint>

namespace sara {

// The first sequence number of a stream sent every `interval`: the number of intervals since
// the Unix epoch (mod 2^32). A sequence that advances by one per interval thus stays at or
// below "now / interval", so a sender restarted a moment later starts ahead of everything its
// previous life sent: the dispatchers' replay windows take it at once (a restart from 1 would
// repeat numbers they have seen, refused until it overtook them), and the gap they count as
// lost messages is the time the sender was away. A clock stepped back falls on the
// receiver's restart rule instead (common/wire/control_receiver.hpp). 1 for a non-positive
// interval or a time before the epoch.
inline uint32_t time_based_first_seq(std::chrono::milliseconds since_epoch, std::chrono::milliseconds interval) {
    if (interval.count() <= 0 || since_epoch.count() < 0) return 1;
    return static_cast<uint32_t>(static_cast<uint64_t>(since_epoch.count() / interval.count()));
}

}  // namespace sara
