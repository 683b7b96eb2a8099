// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's control socket protocol: `sara-nodeagent drain|undrain|status` connect to the
// Unix socket (control.socket), write one request line, read one JSON document back, and the
// agent closes the connection (common/net/line_control_server.hpp; a line over
// kMaxControlRequestBytes is answered {"ok":false,"error":"request longer than 256 bytes"}).
//
//   drain AT    planned failure at AT (Unix seconds): heartbeats carry flag 2 and AT until
//               undrain                      -> {"ok":true,"draining":true,"drain_at":AT}
//   undrain     withdraw it: one heartbeat with flag 3, then flags 0/1 again
//                                            -> {"ok":true,"draining":false,"was_draining":B}
//   status      what the agent sends         -> {"ok":true,"node_id":..,"heartbeat":{..},...}
// Anything else                              -> {"ok":false,"error":"..."}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara::nodeagent {

inline constexpr size_t kMaxControlRequestBytes = 256;

struct ControlRequest {
    enum class Kind { drain, undrain, status };
    Kind kind = Kind::status;
    uint32_t drain_at = 0;  // kind drain: Unix seconds
    friend bool operator==(const ControlRequest&, const ControlRequest&) = default;
};

// One request line, with or without its trailing "\n" (or "\r\n"). nullopt with `error` set
// for anything else.
std::optional<ControlRequest> parse_control_request(std::string_view line, std::string* error);

// The line a client sends, without its "\n" (call_line_control adds it).
std::string format_control_request(const ControlRequest& request);

// A `drain --at` value: Unix seconds (`1767225600`), or `+SECONDS` from `now` (`+30`). Must
// fit the heartbeat's 32-bit timestamp. nullopt with `error` set otherwise.
std::optional<uint32_t> parse_drain_time(std::string_view text, uint32_t now, std::string* error);

}  // namespace sara::nodeagent
