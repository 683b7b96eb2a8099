// SPDX-License-Identifier: GPL-2.0-or-later
// The start of the gateway's and the node agent's event loops (opened through
// DaemonLifecycle, daemon_lifecycle.hpp): one epoll set that, besides the daemon's own
// descriptors, watches a signalfd for the signals the daemon handles. Reading signals from a
// descriptor in the loop means no handler races the loop and no blocking call can miss a
// signal.
#pragma once

#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>
#include <vector>
#include <optional>
#include <string>
#include <system_error>

#include "common/util/unique_fd.hpp"

namespace sara {

struct SignalEpoll {
    UniqueFd epoll;    // the loop's epoll set
    UniqueFd signals;  // signalfd (non-blocking), already in `epoll` for EPOLLIN, data.fd = its fd
};

// Blocks `signals` in the calling thread, which must come before any other thread starts so
// that every thread inherits the mask; ignores SIGPIPE (a write to a closed peer is then an
// error return, not the daemon's death); opens the signalfd and the epoll set watching it.
// nullopt with *error = "event loop: ..." (the reason) if a descriptor cannot be had.
std::optional<SignalEpoll> open_signal_epoll(const std::vector<int>& signals, std::string* error);

// Adds `fd` to the epoll set for `events`, with data.fd = fd.
[[nodiscard]] std::error_code epoll_watch(int epoll_fd, int fd, uint32_t events);

// Calls on_signal(signo) for every signal pending on the (non-blocking) signalfd.
template <typename OnSignal>
void read_signals(int signal_fd, OnSignal&& on_signal) {
    signalfd_siginfo info{};
    while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) on_signal(info.ssi_signo);
}

}  // namespace sara
