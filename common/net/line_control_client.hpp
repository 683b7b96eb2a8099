// SPDX-License-Identifier: GPL-2.0-or-later
// The client side of a daemon's control socket (line_control_server.hpp): connect, send one
// request line, read the reply document to the server's close. saractl, `sara-nodeagent
// drain|undrain|status` and `sara-gatewayd status` use it. Errors come back as a sentence for
// the operator, never thrown.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sara {

struct LineControlReply {
    std::string body;   // the document the daemon sent (meaningful only when error is empty)
    std::string error;  // why there is no document
};

// `request` without its "\n" (added here). `daemon` names the server in the sentences ("sarad
// is not running ..."). `timeout` bounds each wait: for the send, and for each part of the reply.
LineControlReply call_line_control(const std::string& path, std::string_view request, std::string_view daemon,
                                   std::chrono::milliseconds timeout);

// The sentence for a failed connect() with errno `err` on `path` (pure, unit-tested).
std::string control_connect_error(const std::string& path, int err, std::string_view daemon);

}  // namespace sara
