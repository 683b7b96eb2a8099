// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/ip_sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sara {

std::unique_ptr<IpSender> IpSender::open(std::string* error) {
    const int fd4 = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
    if (fd4 < 0) {
        if (error) *error = std::string("raw IPv4 socket for 503/RST replies: ") + std::strerror(errno);
        return nullptr;
    }
    // EAFNOSUPPORT on a kernel without IPv6: nothing to answer there.
    const int fd6 = ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
    return std::unique_ptr<IpSender>(new IpSender(fd4, fd6));
}

IpSender::~IpSender() {
    ::close(fd4_);
    if (fd6_ >= 0) ::close(fd6_);
}

bool IpSender::send(std::span<const uint8_t> packet) {
    ssize_t n = -1;
    if (packet.size() >= 20 && (packet[0] >> 4) == 4) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        std::memcpy(&to.sin_addr, packet.data() + 16, 4);
        n = ::sendto(fd4_, packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                     sizeof to);
    } else if (packet.size() >= 40 && (packet[0] >> 4) == 6 && fd6_ >= 0) {
        sockaddr_in6 to{};
        to.sin6_family = AF_INET6;
        std::memcpy(&to.sin6_addr, packet.data() + 24, 16);
        n = ::sendto(fd6_, packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                     sizeof to);
    } else {
        errno = packet.size() >= 40 && (packet[0] >> 4) == 6 ? EAFNOSUPPORT : EINVAL;
        return false;
    }
    return n == static_cast<ssize_t>(packet.size());
}

}  // namespace sara
