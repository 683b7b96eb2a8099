// SPDX-License-Identifier: GPL-2.0-or-later
// `forwarding.mode: raw` (DESIGN §3): sarad itself puts a queued IP packet into an Ethernet
// frame addressed to the node's MAC on the LAN interface (AF_PACKET, SOCK_DGRAM: the kernel
// writes the Ethernet header from the interface's own MAC), and the queued original is then
// dropped. For dispatchers that must not route.
//
// AF_PACKET does not fragment: an IPv4 datagram larger than the LAN MTU (one the kernel
// reassembled from fragments before queueing it — raw mode enables IPv4 defrag, see
// iptables_rules) is cut into fragments here (common/net/ip_fragment).
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

    enum class Sent : uint8_t {
        whole,        // one frame
        fragmented,   // an IPv4 datagram over the MTU, sent as fragments
        unsendable,   // over the MTU and not fragmentable (DF set, IPv6, malformed): dropped
        error,        // the kernel refused a frame (errno kept)
    };
    // The caller counts the outcome.
    Sent send(std::span<const uint8_t> ip_packet, const std::array<uint8_t, 6>& node_mac);
    size_t mtu() const { return mtu_; }

private:
    RawSender(int fd, int ifindex, size_t mtu) : fd_(fd), ifindex_(ifindex), mtu_(mtu) {}
    bool send_frame(std::span<const uint8_t> ip_packet, const std::array<uint8_t, 6>& node_mac);
    int fd_;
    int ifindex_;
    size_t mtu_;
};

}  // namespace sara
