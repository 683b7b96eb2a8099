// SPDX-License-Identifier: GPL-2.0-or-later
// `sara-nodeagent --config FILE`: the node agent's lifecycle (DESIGN §7, paper §III-E, §III-G).
//
// One thread and one epoll loop: a timerfd every d sends a heartbeat to every dispatcher, a
// timerfd every δ sends a load vector, a signalfd takes SIGTERM/SIGINT (stop: undo the node
// setup, remove the control socket) and SIGHUP (reload: build the new config, keep the old one
// if it has errors, carry the drain state and sequence numbers over, rebuild only what
// changed), and the control socket serves drain, undrain and status. Nothing in the loop
// blocks longer than a sock_diag dump (the application check's child processes are polled,
// never waited for).
#pragma once

#include <string>

#include "common/util/log.hpp"

namespace sara::nodeagent {

// Returns the process exit code: 0 after a clean stop, 1 if it could not start.
int run_agent(const std::string& config_path, const Logger& log);

// `--check-config FILE`: prints every error as file:line:col; 0 when the file is valid.
int check_config(const std::string& config_path);

}  // namespace sara::nodeagent
