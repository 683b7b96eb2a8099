// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/raw_sender.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net/ip_fragment.hpp"

namespace sara {

std::unique_ptr<RawSender> RawSender::open(const std::string& interface, std::string* error) {
    const int ifindex = int(if_nametoindex(interface.c_str()));
    if (ifindex == 0) {
        *error = "raw forwarding: no interface " + interface + ": " + std::strerror(errno);
        return nullptr;
    }
    // Protocol 0: a send-only socket that receives nothing.
    const int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = std::string("raw forwarding: AF_PACKET socket: ") + std::strerror(errno);
        return nullptr;
    }
    ifreq request{};
    std::snprintf(request.ifr_name, sizeof request.ifr_name, "%s", interface.c_str());
    if (ioctl(fd, SIOCGIFMTU, &request) < 0) {
        *error = "raw forwarding: MTU of " + interface + ": " + std::strerror(errno);
        close(fd);
        return nullptr;
    }
    return std::unique_ptr<RawSender>(new RawSender(fd, ifindex, size_t(request.ifr_mtu)));
}

RawSender::~RawSender() { close(fd_); }

RawSender::Sent RawSender::send(std::span<const uint8_t> ip_packet, const std::array<uint8_t, 6>& node_mac) {
    if (ip_packet.size() <= mtu_) return send_frame(ip_packet, node_mac) ? Sent::whole : Sent::error;
    const FragmentResult r = fragment_ipv4(
        ip_packet, mtu_, [&](std::span<const uint8_t> fragment) { return send_frame(fragment, node_mac); });
    if (r == FragmentResult::fragmented) return Sent::fragmented;
    return r == FragmentResult::emit_failed ? Sent::error : Sent::unsendable;
}

bool RawSender::send_frame(std::span<const uint8_t> ip_packet, const std::array<uint8_t, 6>& node_mac) {
    if (ip_packet.empty()) return false;
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex_;
    to.sll_protocol = htons((ip_packet[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, node_mac.data(), 6);
    return sendto(fd_, ip_packet.data(), ip_packet.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to),
                  sizeof(to)) == ssize_t(ip_packet.size());
}

}  // namespace sara
