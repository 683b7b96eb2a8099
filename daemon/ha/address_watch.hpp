// SPDX-License-Identifier: GPL-2.0-or-later
// Whether this host holds keepalived's floating address, watched over rtnetlink (issue 20):
// keepalived adds the address when it enters MASTER and removes it when it leaves (BACKUP,
// FAULT, a clean stop), before it runs the notify hook, and a hook may run seconds late on
// a busy host. So sarad follows the address itself, at once.
//
// Subscribe first (open), then ask (holds_address): an address change between the two is
// seen as a notification, never lost. A receive-buffer overrun (ENOBUFS) loses
// notifications: the watch then dumps the addresses again (overrun_total counts it).
//
// One thread calls wait_change; holds_address opens its own socket (any thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/net/ip_address.hpp"

struct mnl_socket;

namespace sara {

// Folds the netlink messages in `datagram` (as one recv returned them) into whether
// `address` is held: the last RTM_NEWADDR (true) or RTM_DELADDR (false) naming it, on any
// interface; nullopt if none names it. Stops at the first malformed message header.
std::optional<bool> address_state_in(std::span<const uint8_t> datagram, const IpAddress& address);

// A dump of the addresses now: true if any interface holds `address`; nullopt on error.
std::optional<bool> holds_address(const IpAddress& address, std::string* error);

class AddressWatch {
public:
    // Subscribes to IPv4 address notifications in this network namespace.
    static std::unique_ptr<AddressWatch> open(const IpAddress& address, std::string* error);
    ~AddressWatch();
    AddressWatch(const AddressWatch&) = delete;
    AddressWatch& operator=(const AddressWatch&) = delete;

    // Waits up to `timeout` for notifications. Returns whether the address is held when one
    // named it (or after an overrun, from a fresh dump); nullopt when nothing changed.
    std::optional<bool> wait_change(std::chrono::milliseconds timeout, std::string* error);

    const IpAddress& address() const { return address_; }
    uint64_t overruns() const { return overruns_; }

private:
    AddressWatch(mnl_socket* socket, const IpAddress& address);
    mnl_socket* socket_;
    IpAddress address_;
    uint64_t overruns_ = 0;
};

}  // namespace sara
