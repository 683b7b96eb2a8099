// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/util/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <cerrno>

#include "common/util/errno_text.hpp"

extern char** environ;

namespace sara {
namespace {

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// dup2 clears FD_CLOEXEC on the target, so the descriptor reaches the child as `target`.
void set_standard_fd(posix_spawn_file_actions_t& actions, int fd, int target, int null_flags) {
    if (fd >= 0) posix_spawn_file_actions_adddup2(&actions, fd, target);
    else posix_spawn_file_actions_addopen(&actions, target, "/dev/null", null_flags, 0);
}

}  // namespace

std::error_code spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options, pid_t& pid) {
    if (argv.empty()) return std::make_error_code(std::errc::invalid_argument);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    SpawnSetup setup;
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    posix_spawnattr_setsigmask(&setup.attr, &none);
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (options.own_process_group) {
        posix_spawnattr_setpgroup(&setup.attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&setup.attr, flags);
    set_standard_fd(setup.actions, options.stdin_fd, 0, O_RDONLY);
    set_standard_fd(setup.actions, options.stdout_fd, 1, O_WRONLY);
    set_standard_fd(setup.actions, options.stderr_fd, 2, O_WRONLY);

    const std::string& program = argv[0];
    const bool in_path = program.find('/') == std::string::npos;
    pid_t child = -1;
    int rc = in_path ? posix_spawnp(&child, program.c_str(), &setup.actions, &setup.attr, args.data(), environ)
                     : posix_spawn(&child, program.c_str(), &setup.actions, &setup.attr, args.data(), environ);
    for (const char* dir : {"/usr/sbin/", "/sbin/"}) {
        if (rc != ENOENT || !in_path || !options.search_sbin) break;
        const std::string path = dir + program;
        rc = posix_spawn(&child, path.c_str(), &setup.actions, &setup.attr, args.data(), environ);
    }
    if (rc == 0) pid = child;
    return errno_code(rc);
}

}  // namespace sara
