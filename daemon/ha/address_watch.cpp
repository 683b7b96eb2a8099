// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/address_watch.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "daemon/forward/rtnetlink.hpp"

namespace sara {

std::optional<bool> address_state_in(std::span<const uint8_t> datagram, const IpAddress& address) {
    std::optional<bool> held;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
    int left = static_cast<int>(datagram.size());
    // mnl_nlmsg_ok checks the header and the length it claims against what is left.
    while (mnl_nlmsg_ok(nlh, left)) {
        if (auto a = parse_address_message(*nlh); a && a->address == address) held = !a->removed;
        nlh = mnl_nlmsg_next(nlh, &left);
    }
    return held;
}

std::optional<bool> holds_address(const IpAddress& address, std::string* error) {
    RtNetlink netlink(address.is_v6() ? AF_INET6 : AF_INET);
    std::vector<AddressEntry> addresses;
    if (netlink.open(error) || netlink.dump_addresses(addresses, error)) return std::nullopt;
    for (const AddressEntry& a : addresses)
        if (a.address == address) return true;
    return false;
}

std::unique_ptr<AddressWatch> AddressWatch::open(const IpAddress& address, std::string* error) {
    mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!socket) {
        *error = std::string("address watch: socket(NETLINK_ROUTE): ") + std::strerror(errno);
        return nullptr;
    }
    const unsigned group = address.is_v6() ? RTMGRP_IPV6_IFADDR : RTMGRP_IPV4_IFADDR;
    if (mnl_socket_bind(socket, group, MNL_SOCKET_AUTOPID) < 0) {
        *error = std::string("address watch: bind to ") + (address.is_v6() ? "RTMGRP_IPV6_IFADDR" : "RTMGRP_IPV4_IFADDR") +
                 ": " + std::strerror(errno);
        mnl_socket_close(socket);
        return nullptr;
    }
    return std::unique_ptr<AddressWatch>(new AddressWatch(socket, address));
}

AddressWatch::AddressWatch(mnl_socket* socket, const IpAddress& address) : socket_(socket), address_(address) {}

AddressWatch::~AddressWatch() { mnl_socket_close(socket_); }

std::optional<bool> AddressWatch::wait_change(std::chrono::milliseconds timeout, std::string* error) {
    pollfd p{mnl_socket_get_fd(socket_), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    // Notifications are small; a whole page takes any batch the kernel queues in one datagram.
    alignas(nlmsghdr) uint8_t buffer[MNL_SOCKET_BUFFER_SIZE];
    std::optional<bool> held;
    bool overrun = false;
    for (;;) {
        const ssize_t n = recv(mnl_socket_get_fd(socket_), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0 && errno == ENOBUFS) {
            overrun = true;  // notifications were dropped; what is still queued is older
            continue;
        }
        if (n <= 0) break;
        if (auto h = address_state_in({buffer, size_t(n)}, address_)) held = h;
    }
    if (!overrun) return held;
    // Only a dump, taken after everything queued was read, tells the truth now.
    ++overruns_;
    return holds_address(address_, error);
}

}  // namespace sara
