// SPDX-License-Identifier: GPL-2.0-or-later
// UDP sockets and batched I/O for sip-loadgen: recvmmsg into a reused set of buffers, and a
// send queue flushed with sendmmsg (consecutive messages on the same socket go in one call).
// IPv4 or IPv6: a socket's family is its address's; addresses travel as sockaddr_storage.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/loadgen/messages.hpp"

namespace sara::loadgen {

// sockaddr_in or sockaddr_in6 by the host's family; throws std::invalid_argument on a bad address.
sockaddr_storage to_sockaddr(const Endpoint& e);
Endpoint from_sockaddr(const sockaddr_storage& a);
// What bind and sendto take as the address's length: that of its family's sockaddr.
socklen_t sockaddr_length(const sockaddr_storage& a);

// A non-blocking UDP socket bound to `local` (port 0: ephemeral), with `buffer_bytes` of
// send and receive buffer; `reuse_port` lets several sockets share one address. -1 and errno
// on failure.
int open_udp(const Endpoint& local, int buffer_bytes, bool reuse_port);
Endpoint local_endpoint(int fd);

class RecvBatch {
public:
    static constexpr size_t kBatch = 64;
    static constexpr size_t kMaxDatagram = 65536;
    RecvBatch();
    // Reads up to kBatch datagrams from `fd`; 0 when none is waiting.
    size_t receive(int fd);
    std::string_view datagram(size_t i) const;
    const sockaddr_storage& source(size_t i) const { return sources_[i]; }

private:
    std::vector<char> storage_;
    std::vector<sockaddr_storage> sources_;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> headers_;
};

class SendQueue {
public:
    void add(int fd, const sockaddr_storage& to, std::string message);
    // Sends everything queued; returns the messages the kernel refused (counted, dropped).
    size_t flush();
    size_t sent() const { return sent_; }
    size_t batches() const { return batches_; }

private:
    struct Item {
        int fd;
        sockaddr_storage to;
        std::string message;
    };
    std::vector<Item> items_;
    std::vector<mmsghdr> headers_;
    std::vector<iovec> iov_;
    size_t sent_ = 0, batches_ = 0;
};

}  // namespace sara::loadgen
