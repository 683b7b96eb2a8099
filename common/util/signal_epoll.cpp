// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/util/signal_epoll.hpp"

#include <signal.h>
#include <sys/epoll.h>

#include <cerrno>

#include "common/util/errno_text.hpp"

namespace sara {

std::optional<SignalEpoll> open_signal_epoll(const std::vector<int>& signals, std::string* error) {
    sigset_t mask;
    sigemptyset(&mask);
    for (const int s : signals) sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    SignalEpoll loop;
    loop.signals.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!loop.signals) {
        if (error) *error = errno_text("event loop", errno);
        return std::nullopt;
    }
    loop.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!loop.epoll) {
        if (error) *error = errno_text("event loop", errno);
        return std::nullopt;
    }
    if (const std::error_code ec = epoll_watch(loop.epoll.get(), loop.signals.get(), EPOLLIN)) {
        if (error) *error = errno_text("event loop: epoll", ec.value());
        return std::nullopt;
    }
    return loop;
}

std::error_code epoll_watch(int epoll_fd, int fd, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) return errno_code(errno);
    return {};
}

}  // namespace sara
