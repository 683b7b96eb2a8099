// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/sock_diag_socket.hpp"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/util/errno_text.hpp"

namespace sara::nodeagent {
namespace {

int open_socket() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    // A dump that stalls must not stall the heartbeats: give up on it after a second.
    const timeval timeout{1, 0};
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return fd;
}

}  // namespace

std::unique_ptr<SockDiagSocket> SockDiagSocket::open(std::string* error) {
    const int fd = open_socket();
    if (fd < 0) {
        if (error) *error = std::string("sock_diag: socket: ") + errno_text(errno);
        return nullptr;
    }
    return std::unique_ptr<SockDiagSocket>(new SockDiagSocket(fd));
}

SockDiagSocket::~SockDiagSocket() {
    if (fd_ >= 0) ::close(fd_);
}

void SockDiagSocket::reopen() {
    // An abandoned dump stays open in the kernel and makes the next request fail with EBUSY;
    // a fresh socket has none.
    if (fd_ >= 0) ::close(fd_);
    fd_ = open_socket();
}

std::error_code SockDiagSocket::sockets_on(const AppPort& port, std::vector<DiagSocket>& out, std::string* error) {
    out.clear();
    if (std::error_code ec = dump(AF_INET, port, out, error)) return ec;
    // A kernel without IPv6 has no AF_INET6 handler: that family simply has no sockets.
    std::string v6_error;
    const std::error_code ec = dump(AF_INET6, port, out, &v6_error);
    if (ec && ec.value() != ENOENT && ec.value() != EAFNOSUPPORT) {
        if (error) *error = v6_error;
        return ec;
    }
    return {};
}

std::error_code SockDiagSocket::dump(uint8_t family, const AppPort& port, std::vector<DiagSocket>& out,
                                     std::string* error) {
    if (fd_ < 0) reopen();
    if (fd_ < 0) {
        const int err = errno;
        if (error) *error = std::string("sock_diag: socket: ") + errno_text(err);
        return errno_code(err);
    }
    const std::string what = std::string("sock_diag dump of ") + (family == AF_INET ? "IPv4 " : "IPv6 ") +
                             port.to_string();
    const uint32_t seq = next_seq_++;
    const std::vector<uint8_t> request = build_diag_request(family, port, seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof(kernel)) < 0) {
        const int err = errno;
        if (error) *error = what + ": send: " + errno_text(err);
        reopen();
        return errno_code(err);
    }
    const size_t before = out.size();
    for (;;) {
        const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            if (error) *error = what + ": receive: " + errno_text(err);
            out.resize(before);
            reopen();
            return errno_code(err);
        }
        const DiagParseResult result =
            parse_diag_messages(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(n)), seq, out);
        if (result.status == ParseStatus::complete) return {};
        if (result.status == ParseStatus::error) {
            out.resize(before);
            const int err = result.error != 0 ? result.error : EBADMSG;
            if (error) *error = what + ": " + (result.error != 0 ? errno_text(err) : "malformed reply");
            if (result.error == 0) reopen();  // the rest of a malformed dump may still be queued
            return errno_code(err);
        }
    }
}

}  // namespace sara::nodeagent
