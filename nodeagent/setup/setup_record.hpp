// SPDX-License-Identifier: GPL-2.0-or-later
// What node setup changed on this node, written to a small file as each change is made
// (`<control socket without .sock>.setup`, normally /run/sara/nodeagent.setup), so that exactly
// those changes are undone: on a clean stop, and, after a crash, by the next start before it
// sets the node up again. Pure text functions, tested with literal records.
//
// Format, one change per line after a version line:
//   sara-nodeagent node-setup 1
//   sysctl net/ipv4/conf/all/arp_ignore 0 1     (path under /proc/sys, old value, value set)
//   address lo 198.18.100.10/32                  (added by the agent)
//   route eth0 198.18.2.254 198.18.100.10        (default via GATEWAY dev IF src VIP, added)
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

struct SetupRecord {
    std::vector<SysctlChange> sysctls;  // in the order they were made
    std::optional<std::string> address_interface;  // set if the agent added the VIP
    IpAddress vip;
    std::optional<std::string> route_interface;    // set if the agent added its default route
    IpAddress gateway;
    std::vector<std::vector<uint8_t>> saved_routes;

    bool empty() const {
        return sysctls.empty() && !address_interface && !route_interface && saved_routes.empty();
    }
    friend bool operator==(const SetupRecord&, const SetupRecord&) = default;
};

std::string format_setup_record(const SetupRecord& record);

// nullopt with `error` set for a wrong version line, an unknown line, a sysctl path outside
// net/ipv4/conf/ or with "..", or a malformed value.
std::optional<SetupRecord> parse_setup_record(std::string_view text, std::string* error);

}  // namespace sara::nodeagent
