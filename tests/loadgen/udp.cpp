// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/udp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sara::loadgen {

sockaddr_in to_sockaddr(const Endpoint& e) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(e.port);
    if (inet_pton(AF_INET, e.host.c_str(), &a.sin_addr) != 1)
        throw std::invalid_argument("not an IPv4 address: " + e.host);
    return a;
}

Endpoint from_sockaddr(const sockaddr_in& a) {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return Endpoint{buf, ntohs(a.sin_port)};
}

int open_udp(const Endpoint& local, int buffer_bytes, bool reuse_port) {
    const sockaddr_in a = to_sockaddr(local);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

Endpoint local_endpoint(int fd) {
    sockaddr_in a{};
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
        headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    const int n = recvmmsg(fd, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    return n > 0 ? size_t(n) : 0;
}

std::string_view RecvBatch::datagram(size_t i) const {
    return {storage_.data() + i * kMaxDatagram, headers_[i].msg_len};
}

void SendQueue::add(int fd, const sockaddr_in& to, std::string message) {
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
        headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
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
