// SPDX-License-Identifier: GPL-2.0-or-later
// What node setup changed on this node, written to a small file as each change is made
// (`<control socket without .sock>.setup`, normally /run/sara/nodeagent.setup), so that exactly
// those changes are undone: on a clean stop, and, after a crash, by the next start before it
// sets the node up again. Pure text functions, tested with literal records.
//
// Format, one change per line after a version line:
//   sara-nodeagent node-setup 1
//   sysctl net/ipv4/conf/all/arp_ignore 0 1     (path under /proc/sys, old value, value set)
//   address lo 198.18.100.10/32                  (added by the agent; an IPv6 VIP as /128)
//   route eth0 198.18.2.254 198.18.100.10        (default via GATEWAY dev IF src VIP, added;
//                                                 one per family)
//   saved-route 3c000000180005...                (a default route the agent's replaced, as the
//                                                 kernel dumped it, hex)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/ip_address.hpp"

namespace sara::nodeagent {

struct SysctlChange {
    std::string path;  // under /proc/sys, e.g. net/ipv4/conf/eth0/arp_ignore
    int old_value = 0;
    int new_value = 0;
    friend bool operator==(const SysctlChange&, const SysctlChange&) = default;
};

// A VIP the agent put on an interface (/32 for IPv4, /128 for IPv6).
struct AddressChange {
    std::string interface;
    IpAddress address;
    friend bool operator==(const AddressChange&, const AddressChange&) = default;
};

// A default route the agent added: via `gateway` dev `interface` src `source` (the VIP of
// the gateway's family).
struct RouteChange {
    std::string interface;
    IpAddress gateway;
    IpAddress source;
    friend bool operator==(const RouteChange&, const RouteChange&) = default;
};

struct SetupRecord {
    std::vector<SysctlChange> sysctls;  // in the order they were made
    std::vector<AddressChange> addresses;
    std::vector<RouteChange> routes;
    std::vector<std::vector<uint8_t>> saved_routes;  // either family: the message says which

    bool empty() const { return sysctls.empty() && addresses.empty() && routes.empty() && saved_routes.empty(); }
    friend bool operator==(const SetupRecord&, const SetupRecord&) = default;
};

std::string format_setup_record(const SetupRecord& record);

// nullopt with `error` set for a wrong version line, an unknown line, a sysctl path outside
// net/ipv4/conf/ or with "..", an address whose prefix is not its family's host prefix, a
// route whose gateway and source differ in family, or a malformed value.
std::optional<SetupRecord> parse_setup_record(std::string_view text, std::string* error);

}  // namespace sara::nodeagent
