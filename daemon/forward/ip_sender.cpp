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
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
    if (fd < 0) {
        if (error) *error = std::string("raw IPv4 socket for 503/RST replies: ") + std::strerror(errno);
        return nullptr;
    }
    return std::unique_ptr<IpSender>(new IpSender(fd));
}

IpSender::~IpSender() { ::close(fd_); }

bool IpSender::send(std::span<const uint8_t> packet) {
    if (packet.size() < 20 || (packet[0] >> 4) != 4) {
        errno = EINVAL;
        return false;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, packet.data() + 16, 4);
    const ssize_t n = ::sendto(fd_, packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                               sizeof to);
    return n == static_cast<ssize_t>(packet.size());
}

}  // namespace sara
