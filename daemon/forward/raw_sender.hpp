// SPDX-License-Identifier: GPL-2.0-or-later
// `forwarding.mode: raw` (DESIGN §3): sarad itself puts a queued IP packet into an Ethernet
// frame addressed to the node's MAC on the LAN interface (AF_PACKET, SOCK_DGRAM: the kernel
// writes the Ethernet header from the interface's own MAC), and the queued original is then
// dropped. For dispatchers that must not route.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sara {

class RawSender {
public:
    static std::unique_ptr<RawSender> open(const std::string& interface, std::string* error);
    ~RawSender();
    RawSender(const RawSender&) = delete;
    RawSender& operator=(const RawSender&) = delete;

    // False (errno kept) when the kernel refused the frame; the caller counts it.
    bool send(std::span<const uint8_t> ip_packet, const std::array<uint8_t, 6>& node_mac);

private:
    RawSender(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
    int fd_;
    int ifindex_;
};

}  // namespace sara
