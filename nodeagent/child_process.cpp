// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/child_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "common/util/errno_text.hpp"
#include "common/util/subprocess.hpp"

namespace sara::nodeagent {

std::unique_ptr<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, std::string* error) {
    if (argv.empty()) {
        if (error) *error = "spawn: empty command";
        return nullptr;
    }
    pid_t pid = -1;
    if (const std::error_code ec = spawn_process(argv, {.own_process_group = true}, pid)) {
        if (error) *error = "spawn " + argv[0] + ": " + errno_text(ec.value());
        return nullptr;
    }
    return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
    if (!status_) kill_and_reap();
}

std::optional<int> ChildProcess::exited() {
    if (status_) return status_;
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid_) status_ = status;
    else if (r < 0) status_ = -1;  // ECHILD: reaped elsewhere; treat as failed
    return status_;
}

int ChildProcess::kill_and_reap() {
    if (status_) return *status_;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);  // in case it left its group
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    status_ = r == pid_ ? status : -1;
    return *status_;
}

bool exited_zero(int wait_status) { return wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

}  // namespace sara::nodeagent
