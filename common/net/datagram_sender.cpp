// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/datagram_sender.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sara {

std::unique_ptr<DatagramSender> DatagramSender::open(const std::vector<Endpoint>& dispatchers, std::string* error) {
    const bool any_v6 = std::any_of(dispatchers.begin(), dispatchers.end(),
                                    [](const Endpoint& e) { return e.address.is_v6(); });
    const int family = any_v6 ? AF_INET6 : AF_INET;
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (error) *error = std::string("UDP socket: ") + std::strerror(errno);
        return nullptr;
    }
    if (any_v6) {
        const int off = 0;
        if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0) {
            if (error) *error = std::string("UDP socket: IPV6_V6ONLY off: ") + std::strerror(errno);
            ::close(fd);
            return nullptr;
        }
    }
    std::vector<sockaddr_storage> addresses;
    std::vector<socklen_t> lengths;
    std::vector<std::string> names;
    for (const Endpoint& e : dispatchers) {
        sockaddr_storage storage{};
        if (!any_v6) {
            auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
            sin->sin_family = AF_INET;
            sin->sin_port = htons(e.port);
            std::memcpy(&sin->sin_addr, e.address.bytes.data(), 4);
            lengths.push_back(sizeof(sockaddr_in));
        } else {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(e.port);
            if (e.address.is_v4()) {
                // ::ffff:a.b.c.d reaches an IPv4 dispatcher from a dual-stack socket.
                sin6->sin6_addr.s6_addr[10] = 0xff;
                sin6->sin6_addr.s6_addr[11] = 0xff;
                std::memcpy(&sin6->sin6_addr.s6_addr[12], e.address.bytes.data(), 4);
            } else {
                std::memcpy(&sin6->sin6_addr, e.address.bytes.data(), 16);
            }
            lengths.push_back(sizeof(sockaddr_in6));
        }
        addresses.push_back(storage);
        names.push_back(e.to_string());
    }
    return std::unique_ptr<DatagramSender>(
        new DatagramSender(fd, std::move(addresses), std::move(lengths), std::move(names)));
}

DatagramSender::~DatagramSender() { ::close(fd_); }

size_t DatagramSender::send_to_all(std::span<const uint8_t> datagram) {
    size_t failed = 0;
    for (size_t i = 0; i < addresses_.size(); ++i) {
        ssize_t n;
        do n = ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&addresses_[i]),
                        lengths_[i]);
        while (n < 0 && errno == EINTR);
        if (n == static_cast<ssize_t>(datagram.size())) {
            ++counters_.datagrams_sent_total;
        } else {
            ++counters_.send_errors_total;
            ++failed;
            last_error_ = "send to " + names_[i] + ": " + (n < 0 ? std::strerror(errno) : "short send");
        }
    }
    return failed;
}

}  // namespace sara
