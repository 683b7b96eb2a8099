// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/udp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/net/ip_address.hpp"

namespace sara::loadgen {

sockaddr_storage to_sockaddr(const Endpoint& e) {
    const std::optional<IpAddress> ip = IpAddress::parse(e.host);
    if (!ip) throw std::invalid_argument("not an IP address: " + e.host);
    sockaddr_storage storage{};
    if (ip->is_v6()) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(e.port);
        std::memcpy(&a->sin6_addr, ip->bytes.data(), 16);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&storage);
        a->sin_family = AF_INET;
        a->sin_port = htons(e.port);
        std::memcpy(&a->sin_addr, ip->bytes.data(), 4);
    }
    return storage;
}

Endpoint from_sockaddr(const sockaddr_storage& storage) {
    if (storage.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
        return Endpoint{IpAddress::v6(a->sin6_addr.s6_addr).to_string(), ntohs(a->sin6_port)};
    }
    const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    return Endpoint{IpAddress::v4(reinterpret_cast<const uint8_t*>(&a->sin_addr)).to_string(), ntohs(a->sin_port)};
}

socklen_t sockaddr_length(const sockaddr_storage& a) {
    return a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

int open_udp(const Endpoint& local, int buffer_bytes, bool reuse_port) {
    const sockaddr_storage a = to_sockaddr(local);
    const int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (buffer_bytes > 0) {
        // SO_*BUFFORCE needs CAP_NET_ADMIN (we run as root in the test namespaces); else the
        // plain option, capped by net.core.*mem_max.
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
    }
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sockaddr_length(a)) != 0) {
        const int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

Endpoint local_endpoint(int fd) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return from_sockaddr(a);
}

RecvBatch::RecvBatch()
    : storage_(kBatch * kMaxDatagram), sources_(kBatch), iov_(kBatch), headers_(kBatch) {}

size_t RecvBatch::receive(int fd) {
    for (size_t i = 0; i < kBatch; ++i) {
        iov_[i] = {storage_.data() + i * kMaxDatagram, kMaxDatagram};
        headers_[i] = {};
        headers_[i].msg_hdr.msg_iov = &iov_[i];
        headers_[i].msg_hdr.msg_iovlen = 1;
        headers_[i].msg_hdr.msg_name = &sources_[i];
        headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = recvmmsg(fd, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    return n > 0 ? size_t(n) : 0;
}

std::string_view RecvBatch::datagram(size_t i) const {
    return {storage_.data() + i * kMaxDatagram, headers_[i].msg_len};
}

void SendQueue::add(int fd, const sockaddr_storage& to, std::string message) {
    items_.push_back(Item{fd, to, std::move(message)});
}

size_t SendQueue::flush() {
    size_t refused = 0;
    headers_.resize(items_.size());
    iov_.resize(items_.size());
    for (size_t i = 0; i < items_.size(); ++i) {
        iov_[i] = {items_[i].message.data(), items_[i].message.size()};
        headers_[i] = {};
        headers_[i].msg_hdr.msg_iov = &iov_[i];
        headers_[i].msg_hdr.msg_iovlen = 1;
        headers_[i].msg_hdr.msg_name = &items_[i].to;
        headers_[i].msg_hdr.msg_namelen = sockaddr_length(items_[i].to);
    }
    size_t i = 0;
    while (i < items_.size()) {
        size_t run = 1;  // consecutive messages on one socket: one sendmmsg
        while (i + run < items_.size() && items_[i + run].fd == items_[i].fd && run < 1024) ++run;
        const int n = sendmmsg(items_[i].fd, &headers_[i], unsigned(run), MSG_DONTWAIT);
        ++batches_;
        if (n <= 0) {
            // The first message of the run was refused (buffer full, socket error): drop
            // it and go on with the rest; UDP and the retransmission timers cover the loss.
            ++refused;
            ++i;
            continue;
        }
        sent_ += size_t(n);
        i += size_t(n);
    }
    items_.clear();
    return refused;
}

}  // namespace sara::loadgen
