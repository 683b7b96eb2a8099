// SPDX-License-Identifier: GPL-2.0-or-later
// Sends complete IPv4 or IPv6 packets that sarad builds itself (reply_packets.hpp) through
// the kernel's routing: raw IPPROTO_RAW sockets (IP_HDRINCL implied; for AF_INET6 since
// Linux 4.5), so the source address may be the VIP, which the dispatcher does not hold. Used
// for the 503s and RSTs of admission control; never on the forwarding path.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sara {

class IpSender {
public:
    // Both sockets; a kernel without IPv6 gives an IPv4-only sender (IPv6 sends then fail).
    static std::unique_ptr<IpSender> open(std::string* error);
    ~IpSender();
    IpSender(const IpSender&) = delete;
    IpSender& operator=(const IpSender&) = delete;

    // `packet` is a whole IPv4 or IPv6 packet; sent to its destination address. False (errno
    // kept) when the kernel refused it; the caller counts it.
    bool send(std::span<const uint8_t> packet);

private:
    IpSender(int fd4, int fd6) : fd4_(fd4), fd6_(fd6) {}
    int fd4_;
    int fd6_;  // -1 without IPv6
};

}  // namespace sara
