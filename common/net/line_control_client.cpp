// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/line_control_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/util/errno_text.hpp"
#include "common/util/unique_fd.hpp"

namespace sara {

std::string control_connect_error(const std::string& path, int err, std::string_view daemon) {
    const std::string who(daemon);
    switch (err) {
    case ENOENT:
    case ENOTDIR: return who + " is not running (no socket at " + path + ")";
    case ECONNREFUSED: return who + " is not running (no socket at " + path + "; a stale file, connection refused)";
    case EACCES:
    case EPERM: return "permission denied on " + path + ": run as root or a member of the socket's group";
    default: return errno_text("cannot connect to " + path, err);
    }
}

LineControlReply call_line_control(const std::string& path, std::string_view request, std::string_view daemon,
                                   std::chrono::milliseconds timeout) {
    LineControlReply r;
    sockaddr_un address{};
    if (path.empty() || path.size() >= sizeof(address.sun_path)) {
        r.error = "socket path too long: " + path;
        return r;
    }
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        r.error = errno_text("socket", errno);
        return r;
    }
    const timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        r.error = control_connect_error(path, errno, daemon);
        return r;
    }
    std::string line(request);
    line += '\n';
    for (std::string_view rest = line; !rest.empty();) {
        const ssize_t n = ::send(fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            r.error = errno_text("sending to " + path, errno);
            return r;
        }
        rest.remove_prefix(static_cast<size_t>(n));
    }
    // The whole request is out: a server waiting for the end of a line without "\n" sees it.
    ::shutdown(fd.get(), SHUT_WR);
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = (errno == EAGAIN || errno == EWOULDBLOCK)
                          ? std::string(daemon) + " did not answer on " + path + " in time"
                          : errno_text("reading from " + path, errno);
            return r;
        }
        r.body.append(buffer, static_cast<size_t>(n));
    }
    if (r.body.empty()) r.error = std::string(daemon) + " closed " + path + " without an answer";
    return r;
}

}  // namespace sara
