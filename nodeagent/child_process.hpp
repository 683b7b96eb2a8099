// SPDX-License-Identifier: GPL-2.0-or-later
// A child process started with common/util/subprocess (no shell unless the argv asks for one,
// every signal unblocked and at its default action), in a process group of its own so a timeout
// kills everything it started, with stdin, stdout and stderr on /dev/null.
//
// The agent's event loop never waits on a child: it polls exited() on its heartbeat tick and
// kills the group once the deadline has passed. The destructor kills and reaps a child still
// running, so no child outlives its owner and none is left a zombie.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sara::nodeagent {

class ChildProcess {
public:
    // argv[0] is looked up in PATH when it has no '/'. nullptr with `error` set if the spawn
    // fails (argv[0] not found is reported by the child as exit status 127 instead).
    static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv, std::string* error);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }

    // The wait status (waitpid) once the child has exited; nullopt while it runs. Reaps it.
    std::optional<int> exited();

    // SIGKILL to the child's process group, then reaps the child. Returns its wait status.
    int kill_and_reap();

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    pid_t pid_;
    std::optional<int> status_;
};

// True if the wait status is a normal exit with code 0.
bool exited_zero(int wait_status);

}  // namespace sara::nodeagent
