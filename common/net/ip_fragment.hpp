// SPDX-License-Identifier: GPL-2.0-or-later
// IPv4 fragmentation (RFC 791 §3.2) for senders that bypass the kernel's IP output, such as
// raw mode's AF_PACKET frames: the kernel fragments what it routes, never what we hand it as
// a link-layer frame. Used for a datagram the kernel reassembled on its way into the queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace sara {

enum class FragmentResult : uint8_t {
    fragmented,      // every fragment was emitted
    not_ipv4,        // IPv6 is fragmented only by its source
    dont_fragment,   // DF set: a router would answer ICMP "fragmentation needed"
    malformed,       // header, options or lengths do not hold together
    mtu_too_small,   // no room for 8 payload bytes after the headers
    emit_failed,     // the callback refused a fragment (the rest were not emitted)
};
const char* to_string(FragmentResult r);

// Splits `packet` (a whole IPv4 datagram, or a fragment of one) into fragments of at most
// `mtu` bytes: every fragment's payload a multiple of 8 bytes but the last's, offsets counted
// from the original's, MF set on all but the last (which keeps the original's MF), all options
// in the first fragment and only those with the copied flag in the others, header checksums
// recomputed. `emit` gets each fragment (valid during the call) and returns false to stop.
using FragmentSink = std::function<bool(std::span<const uint8_t> fragment)>;
FragmentResult fragment_ipv4(std::span<const uint8_t> packet, size_t mtu, const FragmentSink& emit);

}  // namespace sara
