// SPDX-License-Identifier: GPL-2.0-or-later
// Vocabulary of the session identifier (DESIGN §4): what a session and a flow are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/net/node_id.hpp"  // NodeId, kNoNode
#include "common/proto/service.hpp"

namespace sara {

enum class FlowStatus : uint8_t {
    fresh,        // the paper's "new": only its first packet seen
    established,  // more than one packet seen
    inactive,     // no packet for its timeout; purged after twice the timeout
};
const char* to_string(FlowStatus s);

enum class FlowIdentity : uint8_t {
    signalling,  // carries the session's signalling (SIP/TCP connection, RTSP control, plain)
    announced,   // predicted from signalling, not seen yet (maybe partial: server port unknown)
    secondary,   // an announced flow that has been confirmed by a packet
};
const char* to_string(FlowIdentity i);

enum class SessionState : uint8_t {
    active,
    completed,  // ended by signalling: SIP BYE/CANCEL/final error, RTSP TEARDOWN
    aborted,    // timed out without its signalling ending it
};
const char* to_string(SessionState s);

using SessionId = uint32_t;
inline constexpr SessionId kNoSession = 0xffffffffu;

}  // namespace sara
