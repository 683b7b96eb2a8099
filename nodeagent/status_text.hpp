// SPDX-License-Identifier: GPL-2.0-or-later
// `sara-nodeagent status`: the agent's status document (the control socket's reply to
// "status", built by the agent) printed for people. --json prints the document itself.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sara::nodeagent {

// A few lines: where the agent sends, the last heartbeat and load vector it sent, the
// application check, the drain state and the counters. Missing fields print as "-".
std::string format_status_text(const nlohmann::json& status);

// The name of a heartbeat flag value ("available", "app-down", "drain", "undrain").
const char* heartbeat_flag_name(unsigned flag);

}  // namespace sara::nodeagent
