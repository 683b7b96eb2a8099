// SPDX-License-Identifier: GPL-2.0-or-later
// `sara-gatewayd --config FILE`: the gateway's lifecycle (DESIGN §8, KERNEL-NOTES snag 3).
//
// One thread and one epoll loop. The capture (capture_supervisor.hpp) hands each frame from
// the VIP to the frame pipeline; each announcement it yields goes at once to every dispatcher
// (announcer.hpp) over one non-blocking UDP socket. A signalfd takes SIGTERM/SIGINT (stop),
// SIGHUP (reload: build the new config, keep the old one if it has errors; sequence numbers
// carry over, the inspector's TCP buffers and the capture only when what they depend on
// changed) and SIGUSR1 (log every counter). The control socket (control.socket, common/net's
// line server in the same loop) answers `status` with the counters as JSON. Nothing here is fatal once running: a send error
// (a dispatcher restarting) is counted, a broken capture is reopened every second.
#pragma once

#include <string>

#include "common/util/log.hpp"

namespace sara::gateway {

// Returns the process exit code: 0 after a clean stop, 1 if it could not start.
int run_gateway(const std::string& config_path, const Logger& log);

// `--check-config FILE`: prints every error as file:line:col; 0 when the file is valid.
int check_config(const std::string& config_path);

}  // namespace sara::gateway
