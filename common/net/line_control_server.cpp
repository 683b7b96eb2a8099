// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/line_control_server.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/net/unix_listener.hpp"
#include "common/util/errno_text.hpp"
#include "common/util/thread_name.hpp"

namespace sara {
namespace {

// The rest of an over-long line read and dropped before answering: past this the client is
// answered anyway (and may see its connection reset; it sent 64 KiB of nonsense).
constexpr size_t kMaxDiscard = 64 * 1024;
// A reply larger than the socket buffer (sarad's `sessions`) waits for the client to read;
// a client that reads nothing for this long loses the rest.
constexpr int kSendStallMs = 5000;

void send_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (n > 0) {
            text.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, kSendStallMs) > 0) continue;
        }
        return;
    }
}

}  // namespace

std::unique_ptr<LineControlServer> LineControlServer::open(const std::string& path, Options options,
                                                           Handler handler, const Clock& clock,
                                                           std::string* error) {
    UniqueFd listener = listen_unix(path, options.owner, 16, SOCK_NONBLOCK, error);
    if (!listener) return nullptr;
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener.get();
    if (!epoll || ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener.get(), &event) != 0) {
        if (error) *error = errno_text("control socket " + path + ": epoll", errno);
        ::unlink(path.c_str());
        return nullptr;
    }
    return std::unique_ptr<LineControlServer>(new LineControlServer(
        std::move(listener), std::move(epoll), path, std::move(options), std::move(handler), clock));
}

LineControlServer::LineControlServer(UniqueFd listener, UniqueFd epoll, std::string path, Options options,
                                     Handler handler, const Clock& clock)
    : listener_(std::move(listener)),
      epoll_(std::move(epoll)),
      path_(std::move(path)),
      options_(std::move(options)),
      handler_(std::move(handler)),
      clock_(clock) {}

LineControlServer::~LineControlServer() {
    while (!clients_.empty()) close_client(clients_.begin()->first);
    ::unlink(path_.c_str());
}

void LineControlServer::serve() {
    epoll_event events[16];
    for (;;) {
        const int n = ::epoll_wait(epoll_.get(), events, 16, 0);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener_.get()) {
                accept_clients();
            } else if (const auto it = clients_.find(fd); it != clients_.end()) {
                read_client(fd, it->second);
            }
        }
        if (n < 16) break;
    }
    expire();
}

void LineControlServer::accept_clients() {
    while (clients_.size() < options_.max_clients) {
        const int client = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) return;  // EAGAIN: all taken; other errors: the next event retries
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = client;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, client, &event) != 0) {
            ::close(client);
            continue;
        }
        clients_[client] = Client{{}, clock_.now()};
    }
    set_accepting(false);  // full: the rest wait in the backlog until a connection closes
}

void LineControlServer::set_accepting(bool on) {
    if (accepting_ == on) return;
    epoll_event event{};
    event.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
    event.data.fd = listener_.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_.get(), &event) == 0) accepting_ = on;
}

void LineControlServer::read_client(int fd, Client& client) {
    const size_t max = options_.max_request_bytes;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // the rest comes later
        const bool end = n <= 0;  // the client shut its side (or the connection broke)
        const std::string_view chunk(buffer, end ? 0 : static_cast<size_t>(n));
        if (client.discarding) {
            client.dropped += chunk.size();
            if (end || chunk.find('\n') != std::string_view::npos || client.dropped >= kMaxDiscard)
                return answer(fd, options_.too_long_reply());
            continue;
        }
        client.request.append(chunk);
        const size_t newline = client.request.find('\n');
        if (newline == std::string::npos && !end) {
            if (client.request.size() > max + 1) {  // + 1: room for a "\r" before the "\n"
                client.discarding = true;
                client.dropped = client.request.size();
                client.request.clear();
            }
            continue;
        }
        std::string_view line = std::string_view(client.request).substr(0, newline);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.size() > max) return answer(fd, options_.too_long_reply());
        if (newline == std::string::npos && line.empty()) return close_client(fd);  // asked nothing
        return answer(fd, handler_(line));
    }
}

void LineControlServer::answer(int fd, const std::string& reply) {
    if (!reply.empty()) send_all(fd, reply);
    close_client(fd);
}

void LineControlServer::close_client(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
    if (clients_.size() < options_.max_clients) set_accepting(true);
}

void LineControlServer::expire() {
    const MonoTime now = clock_.now();
    for (auto it = clients_.begin(); it != clients_.end();) {
        const int fd = it->first;
        const bool late = now - it->second.opened > options_.client_deadline;
        ++it;
        if (late) close_client(fd);
    }
}

std::unique_ptr<LineControlThread> LineControlThread::start(const std::string& path,
                                                            LineControlServer::Options options,
                                                            LineControlServer::Handler handler, std::string* error) {
    std::unique_ptr<LineControlThread> served(new LineControlThread());
    served->server_ = LineControlServer::open(path, std::move(options), std::move(handler), served->clock_, error);
    if (!served->server_) return nullptr;
    served->thread_ = std::thread([raw = served.get()] {
        name_this_thread("sara-control");
        raw->run();
    });
    return served;
}

LineControlThread::~LineControlThread() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void LineControlThread::run() {
    while (!stop_) {
        // The 200 ms wake-up bounds the stop and lets serve() expire silent clients.
        pollfd p{server_->event_fd(), POLLIN, 0};
        (void)::poll(&p, 1, 200);
        server_->serve();
    }
}

}  // namespace sara
