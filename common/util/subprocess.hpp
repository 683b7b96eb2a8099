// SPDX-License-Identifier: GPL-2.0-or-later
// Starting another program: the one posix_spawn set-up of the dispatcher's iptables-restore and
// iptables-save runs (daemon/forward/iptables_rules, which waits for them with pipes) and the
// node agent's application checks (nodeagent/child_process, which polls them). No shell unless
// argv asks for one. In the child every signal is unblocked and at its default action: the
// daemons block their signals to take them synchronously, and a child must not inherit that.
// Only the three standard descriptors reach the child; SARA opens every other one O_CLOEXEC.
#pragma once

#include <sys/types.h>

#include <string>
#include <system_error>
#include <vector>

namespace sara {

struct SpawnOptions {
    // The child's stdin, stdout and stderr: a descriptor of the caller's (dup2'ed), or -1 for
    // /dev/null.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    // A process group of its own, so that kill(-pid, ...) reaches everything it started.
    bool own_process_group = false;
    // When argv[0] has no '/' and PATH does not find it, try /usr/sbin and then /sbin: a
    // daemon's PATH may lack the directories iptables lives in.
    bool search_sbin = false;
};

// Starts argv (argv[0] is looked up in PATH when it has no '/') and sets `pid`. On failure the
// errno value (EINVAL for an empty argv); nothing was started and `pid` is unchanged. The
// caller reaps the child (waitpid).
[[nodiscard]] std::error_code spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options,
                                            pid_t& pid);

}  // namespace sara
