// SPDX-License-Identifier: GPL-2.0-or-later
// The stateless `503 Service Unavailable` sarad answers a refused new SIP-over-UDP session with
// (DESIGN §5): silently dropped INVITEs are retransmitted for 32 s (timer B) and make the
// overload worse; a 503 with Retry-After ends the transaction at once (RFC 3261 §21.5.4).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/proto/sip.hpp"

namespace sara {

// The response to `request` (one UDP datagram as parse_sip_message read it with
// SipFraming::datagram and found complete; the session identifier's parse, so the datagram is
// not parsed again), built as RFC 3261 §8.2.6 says: the status line, every Via in order (the
// client matches the response by the top one), From, To with a tag added when the request had
// none (a final response needs one), Call-ID, CSeq, `Retry-After: N` when retry_after > 0, and
// `Content-Length: 0`. Folded header lines are unfolded; compact names (v, f, t, i) are
// understood. nullopt for anything that must not or cannot be answered: a response, an ACK
// (never answered), or one without Via, From, To, Call-ID or CSeq.
std::optional<std::string> sip_503_response(const SipMessage& request, std::chrono::seconds retry_after);

}  // namespace sara
