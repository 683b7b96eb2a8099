// SPDX-License-Identifier: GPL-2.0-or-later
// The netlink side of sock_diag.hpp: one NETLINK_SOCK_DIAG socket, kept open for the agent's
// lifetime, that dumps the sockets of one port in both address families. Used from the
// agent's single thread only.
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "nodeagent/load/sock_diag.hpp"

namespace sara::nodeagent {

class SockDiagSocket {
public:
    static std::unique_ptr<SockDiagSocket> open(std::string* error);
    ~SockDiagSocket();
    SockDiagSocket(const SockDiagSocket&) = delete;
    SockDiagSocket& operator=(const SockDiagSocket&) = delete;

    // Replaces `out` with the sockets of `port` (IPv4 and IPv6; TCP: listening only).
    [[nodiscard]] std::error_code sockets_on(const AppPort& port, std::vector<DiagSocket>& out, std::string* error);

private:
    explicit SockDiagSocket(int fd) : fd_(fd), buffer_(kReceiveBufferSize) {}
    void reopen();
    std::error_code dump(uint8_t family, const AppPort& port, std::vector<DiagSocket>& out, std::string* error);

    // The kernel sizes dump messages to at most 32 KiB; a smaller buffer would truncate them.
    static constexpr size_t kReceiveBufferSize = 64 * 1024;
    int fd_;  // -1 after a failed reopen(); the next dump tries again
    uint32_t next_seq_ = 1;
    std::vector<uint8_t> buffer_;
};

}  // namespace sara::nodeagent
