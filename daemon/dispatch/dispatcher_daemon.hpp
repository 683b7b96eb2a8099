// SPDX-License-Identifier: GPL-2.0-or-later
// `sarad --config FILE`: the dispatcher daemon's lifecycle. Loads the config (every error
// with file:line:col), installs the kernel setup (cleaning up after a crashed run first),
// runs one thread per NFQUEUE queue plus the control socket, expires the session table a
// slice at a time, reloads on SIGHUP, and on SIGTERM/SIGINT stops and removes everything it installed.
#pragma once

#include <string>

#include "common/util/log.hpp"

namespace sara {

// Returns the process exit code.
int run_dispatcher(const std::string& config_path, Logger& log);

// `sarad --check-config FILE`: prints every error, returns 0 when the file is valid.
int check_config(const std::string& config_path);
// `sarad --withdraw-routes FILE`: deletes the VIP routes route_announce puts in its table
// (systemd's ExecStopPost: after a crash the routing daemon must stop announcing this box).
int withdraw_routes(const std::string& config_path, Logger& log);

}  // namespace sara
