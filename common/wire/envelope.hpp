// SPDX-License-Identifier: GPL-2.0-or-later
// Internal to common/wire: what control_message.cpp and announce_message.cpp share — the
// envelope (header, HMAC trailer) and the hook through which decode() hands an announce
// datagram to announce_message.cpp — so that there is one HMAC code path for every message
// type. Other components use encode() and decode(). The fields are written and read with
// common/util/byte_order.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/wire/control_message.hpp"

namespace sara::wire::detail {

// The header of a datagram of `type`, with room reserved for `body_size` bytes and the trailer.
std::vector<uint8_t> start_datagram(MessageType type, size_t body_size, const ClusterKey* key);
// Appends the HMAC trailer over everything in `datagram` when `key` is set. Aborts if libcrypto
// cannot compute it: sending an unsigned message as if it were signed would be worse.
std::vector<uint8_t> finish_datagram(std::vector<uint8_t> datagram, const ClusterKey* key);
// True if the last kMacSize bytes of `datagram` are the HMAC of the bytes before them, compared
// in constant time; false also if libcrypto fails. Requires datagram.size() >= kMacSize.
bool trailer_matches(const ClusterKey& key, std::span<const uint8_t> datagram) noexcept;

inline Decoded rejected(Reject r) {
    Decoded d;
    d.reject = r;
    return d;
}

// The shared half of decode() for a self-delimiting body (announce, sync): `datagram` must be
// header + [min_body, max_body] bytes + (with a key: the required trailer, checked before any
// field is read → Reject::auth). `parse(body_bytes, decoded)` returns the body's length (0:
// malformed); it must be all the bytes before the trailer, or (no key) be followed by nothing
// or an ignored 32-byte trailer.
template <typename Parse>
Decoded decode_self_delimiting(std::span<const uint8_t> datagram, const ClusterKey* key, MessageType type,
                               size_t min_body, size_t max_body, Parse&& parse) noexcept {
    if (datagram.size() > kHeaderSize + max_body + kMacSize || datagram.size() < kHeaderSize + min_body)
        return rejected(Reject::malformed);
    std::span<const uint8_t> rest = datagram.subspan(kHeaderSize);
    if (key) {
        if (rest.size() < kMacSize || !trailer_matches(*key, datagram)) return rejected(Reject::auth);
        rest = rest.first(rest.size() - kMacSize);
    }
    Decoded d;
    d.type = type;
    const size_t body = parse(rest, d);
    const size_t after = rest.size() - body;
    const bool fits = after == 0 || (!key && after == kMacSize);
    if (body == 0 || !fits) return rejected(Reject::malformed);
    return d;
}

// decode() for a datagram whose header decode() has checked and whose type is announce
// (announce_message.cpp; the rules are in announce_message.hpp).
Decoded decode_announce(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept;
// The same for a sync datagram (sync_message.cpp; the rules are in sync_message.hpp).
Decoded decode_sync(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept;

}  // namespace sara::wire::detail
