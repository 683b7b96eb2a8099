// SPDX-License-Identifier: GPL-2.0-or-later
// The application check behind heartbeat flags 0 and 1 (AppCheckConfig): a listening socket
// seen through sock_diag, `systemctl is-active --quiet -- UNIT`, or `/bin/sh -c COMMAND`.
//
// Timing: tick() runs on every heartbeat (every d) and never blocks the heartbeat. A listen
// check is answered at once. A unit or command check started on one tick is collected on the
// next: if it has not finished by then it is killed (its whole process group) and counts as
// failed, so its timeout is d. The verdict a heartbeat carries is therefore at most one d old.
// start() runs the first check to completion so the first heartbeat already has a verdict.
//
// A log line is written on each change of verdict only (with the reason), never per check.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/config/nodeagent_config.hpp"
#include "common/util/log.hpp"
#include "nodeagent/child_process.hpp"
#include "nodeagent/heartbeat_state.hpp"
#include "nodeagent/load/sock_diag_socket.hpp"

namespace sara::nodeagent {

class AppChecker {
public:
    // `diag` (needed for kind listen) and `log` must outlive the checker.
    AppChecker(const AppCheckConfig& config, SockDiagSocket* diag, const Logger& log);

    // Runs one check to completion, waiting at most `timeout` for a unit or command check.
    void start(std::chrono::milliseconds timeout);

    // Collects the previous check, starts the next; returns the verdict (true = up).
    bool tick();

    bool up() const { return health_.up(); }
    const std::string& last_problem() const { return problem_; }  // why the last check failed
    std::string description() const;                             // "listen tcp/5060", ...

private:
    bool check_listen();
    void spawn_check();
    // The outcome of the finished child (a wait status).
    bool child_passed(int wait_status);
    void record(bool passed);

    AppCheckConfig config_;
    SockDiagSocket* diag_;
    const Logger& log_;
    AppHealth health_;
    std::unique_ptr<ChildProcess> child_;
    std::string problem_;
    std::vector<DiagSocket> sockets_;
};

}  // namespace sara::nodeagent
