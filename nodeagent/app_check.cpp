// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/app_check.hpp"

#include <sys/wait.h>
#include <time.h>

#include <vector>

namespace sara::nodeagent {

AppChecker::AppChecker(const AppCheckConfig& config, SockDiagSocket* diag, const Logger& log)
    : config_(config), diag_(diag), log_(log), health_(config.fall) {}

std::string AppChecker::description() const {
    switch (config_.kind) {
    case AppCheckKind::listen: return "listen " + config_.port.to_string();
    case AppCheckKind::unit: return "unit " + config_.unit;
    case AppCheckKind::command: return "command '" + config_.command + "'";
    }
    return "?";
}

void AppChecker::start(std::chrono::milliseconds timeout) {
    if (config_.kind == AppCheckKind::listen) {
        record(check_listen());
        return;
    }
    spawn_check();
    if (!child_) return;  // spawn_check recorded the failure
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const std::optional<int> status = child_->exited()) {
            record(child_passed(*status));
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            child_->kill_and_reap();
            problem_ = "timed out after " + std::to_string(timeout.count()) + "ms";
            record(false);
            break;
        }
        const timespec pause{0, 2'000'000};
        ::nanosleep(&pause, nullptr);
    }
    child_.reset();
}

bool AppChecker::tick() {
    if (config_.kind == AppCheckKind::listen) {
        record(check_listen());
        return health_.up();
    }
    if (child_) {
        if (const std::optional<int> status = child_->exited()) {
            record(child_passed(*status));
        } else {
            child_->kill_and_reap();
            problem_ = "did not finish within heartbeat_interval (killed)";
            record(false);
        }
        child_.reset();
    }
    spawn_check();
    return health_.up();
}

bool AppChecker::check_listen() {
    if (diag_ == nullptr) {
        problem_ = "no sock_diag socket";
        return false;
    }
    std::string error;
    if (diag_->sockets_on(config_.port, sockets_, &error)) {
        problem_ = error;
        return false;
    }
    if (serves_port(sockets_, config_.port)) return true;
    problem_ = config_.port.transport == AppTransport::tcp ? "no socket listening on " + config_.port.to_string()
                                                           : "no socket bound to " + config_.port.to_string();
    return false;
}

void AppChecker::spawn_check() {
    const std::vector<std::string> argv =
        config_.kind == AppCheckKind::unit
            ? std::vector<std::string>{"systemctl", "is-active", "--quiet", "--", config_.unit}
            : std::vector<std::string>{"/bin/sh", "-c", config_.command};
    std::string error;
    child_ = ChildProcess::spawn(argv, &error);
    if (!child_) {
        problem_ = error;
        record(false);
    }
}

bool AppChecker::child_passed(int wait_status) {
    if (exited_zero(wait_status)) return true;
    if (wait_status >= 0 && WIFEXITED(wait_status))
        problem_ = "exited with status " + std::to_string(WEXITSTATUS(wait_status));
    else if (wait_status >= 0 && WIFSIGNALED(wait_status))
        problem_ = "killed by signal " + std::to_string(WTERMSIG(wait_status));
    else
        problem_ = "lost track of the check process";
    return false;
}

void AppChecker::record(bool passed) {
    if (!health_.record(passed)) return;
    if (health_.up())
        log_.notice("application (" + description() + "): up");
    else
        log_.warning("application (" + description() + "): down: " + problem_);
}

}  // namespace sara::nodeagent
