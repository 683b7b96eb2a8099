// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's control socket (DESIGN §10) on the common line server (line_control_server.hpp):
// one request line ("stats", "nodes", "sessions [LIMIT]", "lookup key KEY", ...; the requests
// are DispatcherRuntime::control_request's) → one JSON document. saractl and the tests talk
// to it.
#pragma once

#include <string>

#include "common/net/line_control_server.hpp"

namespace sara {

// Longest request line: `lookup key KEY` with a key at the session table's 256-byte bound
// fits with room to spare (saractl keeps its --key/--client values to 960 bytes). A longer line
// is refused whole, never cut and answered as if it were a shorter request (a cut key would
// look up another session, or none).
inline constexpr size_t kMaxSaradRequestBytes = 1024;

inline LineControlServer::Options sarad_control_options() {
    LineControlServer::Options options;
    options.owner = "sarad";
    options.max_request_bytes = kMaxSaradRequestBytes;
    options.too_long_reply = [] {
        return "{\"error\":\"request line longer than " + std::to_string(kMaxSaradRequestBytes) + " bytes\"}\n";
    };
    return options;
}

}  // namespace sara
