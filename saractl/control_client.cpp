// SPDX-License-Identifier: GPL-2.0-or-later
#include "saractl/control_client.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace sara::ctl {
namespace {

// Closes the socket on every path out of send_request().
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

}  // namespace

std::string connect_error(const std::string& path, int err) {
    switch (err) {
    case ENOENT:
    case ENOTDIR: return "sarad is not running (no socket at " + path + ")";
    case ECONNREFUSED: return "sarad is not running (no socket at " + path + "; a stale file, connection refused)";
    case EACCES:
    case EPERM: return "permission denied on " + path + ": run as root or a member of the socket's group";
    default: return "cannot connect to " + path + ": " + std::strerror(err);
    }
}

ControlReply send_request(const std::string& path, std::string_view line, std::chrono::milliseconds timeout) {
    ControlReply r;
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) {
        r.error = "socket path too long: " + path;
        return r;
    }
    Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) {
        r.error = std::string("socket: ") + std::strerror(errno);
        return r;
    }
    timeval tv{timeout.count() / 1000, (timeout.count() % 1000) * 1000};
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        r.error = connect_error(path, errno);
        return r;
    }
    std::string request(line);
    request += '\n';
    for (std::string_view rest = request; !rest.empty();) {
        const ssize_t n = send(s.fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            r.error = "sending to " + path + ": " + std::strerror(errno);
            return r;
        }
        rest.remove_prefix(size_t(n));
    }
    char buf[65536];
    for (;;) {
        const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = (errno == EAGAIN || errno == EWOULDBLOCK) ? "sarad did not answer on " + path + " in time"
                                                                : "reading from " + path + ": " + std::strerror(errno);
            return r;
        }
        r.body.append(buf, size_t(n));
    }
    if (r.body.empty()) r.error = "sarad closed " + path + " without an answer";
    return r;
}

}  // namespace sara::ctl
