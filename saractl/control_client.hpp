// SPDX-License-Identifier: GPL-2.0-or-later
// One exchange with sarad's control socket: connect, send one request line, read the JSON
// document to EOF (control_server.hpp). Errors come back as a sentence for the operator.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sara::ctl {

struct ControlReply {
    std::string body;   // the document sarad sent (valid only when error is empty)
    std::string error;  // why there is no document
};

ControlReply send_request(const std::string& socket_path, std::string_view request_line,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The sentence for a failed connect() with errno `err` on `path` (pure, unit-tested).
std::string connect_error(const std::string& path, int err);

}  // namespace sara::ctl
