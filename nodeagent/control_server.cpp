// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/control_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/net/unix_listener.hpp"
#include "nodeagent/control_protocol.hpp"

namespace sara::nodeagent {
namespace {

constexpr std::chrono::seconds kRequestDeadline{1};

std::optional<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(address.sun_path)) return std::nullopt;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    return address;
}

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a client that does not read loses the rest of its reply
        text.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::open(const std::string& path, int epoll_fd, Handler handler,
                                                   const Clock& clock, std::string* error) {
    UniqueFd listener = listen_unix(path, "sara-nodeagent", 8, SOCK_NONBLOCK, error);
    if (!listener) return nullptr;
    const int fd = listener.release();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        if (error) *error = std::string("control socket: epoll: ") + std::strerror(errno);
        ::close(fd);
        ::unlink(path.c_str());
        return nullptr;
    }
    return std::unique_ptr<ControlServer>(new ControlServer(fd, path, epoll_fd, std::move(handler), clock));
}

ControlServer::~ControlServer() {
    while (!clients_.empty()) close_client(clients_.begin()->first);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    ::close(fd_);
    ::unlink(path_.c_str());
}

bool ControlServer::handle(int fd) {
    if (fd == fd_) {
        accept_clients();
        return true;
    }
    const auto it = clients_.find(fd);
    if (it == clients_.end()) return false;
    read_client(fd, it->second);
    return true;
}

void ControlServer::accept_clients() {
    for (;;) {
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) return;  // EAGAIN: all taken; other errors: the next event retries
        if (clients_.size() >= kMaxClients) {
            ::close(client);
            continue;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = client;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client, &event) != 0) {
            ::close(client);
            continue;
        }
        clients_[client] = Client{{}, clock_.now()};
    }
}

void ControlServer::read_client(int fd, Client& client) {
    char buffer[512];
    bool finished = false;
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {  // end of stream (or an error): what arrived is the request
            finished = true;
            break;
        }
        client.request.append(buffer, static_cast<size_t>(n));
        if (client.request.find('\n') != std::string::npos || client.request.size() > kMaxControlRequestBytes) {
            finished = true;
            break;
        }
    }
    if (!finished) return;
    const std::string_view line = std::string_view(client.request).substr(0, client.request.find('\n'));
    if (!line.empty()) write_all(fd, handler_(line));
    close_client(fd);
}

void ControlServer::close_client(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
}

void ControlServer::expire() {
    const MonoTime now = clock_.now();
    for (auto it = clients_.begin(); it != clients_.end();) {
        const int fd = it->first;
        const bool late = now - it->second.opened > kRequestDeadline;
        ++it;
        if (late) close_client(fd);
    }
}

std::optional<std::string> control_call(const std::string& path, std::string_view request, std::string* error) {
    const std::optional<sockaddr_un> address = unix_address(path);
    if (!address) {
        if (error) *error = path + ": path too long";
        return std::nullopt;
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (error) *error = std::string("socket: ") + std::strerror(errno);
        return std::nullopt;
    }
    const timeval timeout{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
        if (error) *error = path + ": " + std::strerror(errno) + " (is sara-nodeagent running?)";
        ::close(fd);
        return std::nullopt;
    }
    write_all(fd, request);
    ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (error) *error = path + ": no reply: " + std::strerror(errno);
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        reply.append(buffer, static_cast<size_t>(n));
        if (reply.size() > (1 << 20)) break;
    }
    ::close(fd);
    if (reply.empty()) {
        if (error) *error = path + ": the agent closed the connection without a reply";
        return std::nullopt;
    }
    return reply;
}

}  // namespace sara::nodeagent
