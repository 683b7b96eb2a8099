// SPDX-License-Identifier: GPL-2.0-or-later
// Sends complete IPv4 packets that sarad builds itself (reply_packets.hpp) through the
// kernel's routing: a raw IPPROTO_RAW socket (IP_HDRINCL implied), so the source address may
// be the VIP, which the dispatcher does not hold. Used for the 503s and RSTs of admission
// control; never on the forwarding path.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sara {

class IpSender {
public:
    static std::unique_ptr<IpSender> open(std::string* error);
    ~IpSender();
    IpSender(const IpSender&) = delete;
    IpSender& operator=(const IpSender&) = delete;

    // `packet` is a whole IPv4 packet; sent to its destination address. False (errno kept)
    // when the kernel refused it; the caller counts it.
    bool send(std::span<const uint8_t> packet);

private:
    explicit IpSender(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace sara
