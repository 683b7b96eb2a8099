// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's control-socket requests (saractl; DESIGN §10): one request line in, one JSON
// document out. ControlServer carries the lines; this file knows what they mean. The caller
// holds the dispatcher's lock for the whole request (dispatcher_view.hpp).
#pragma once

#include <string>
#include <string_view>

#include "common/util/log.hpp"
#include "daemon/control/dispatcher_view.hpp"

namespace sara {

// "stats", "nodes", "sessions [LIMIT]", "lookup ...", "drain NODE", "undrain NODE",
// "role [ready|master|backup|fault]" → the answer, one JSON line ({"error": ...} for anything
// else). Drains and role changes are logged on `log`.
std::string answer_control_request(std::string_view request, const DispatcherView& view, DispatcherCommands& commands,
                                   const Logger& log);

}  // namespace sara
