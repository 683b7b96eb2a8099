// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink operations node setup needs, IPv4 and IPv6: an address on an interface, and the
// main table's default routes (dump, add, delete, re-add a dumped one). Requests are built
// and dumps read with common/net/rtnetlink_messages and go through common/net/rtnetlink_socket
// (ACK awaited, 5 s at most; errors name the operation and carry errno's text and the kernel's
// extended-ACK message); this file keeps what those messages hold. Unlike the dispatcher's, each failure
// replaces *error rather than adding a line: the agent reuses one string across calls and logs
// each failure on its own. One thread at a time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <system_error>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/rtnetlink_socket.hpp"

namespace sara::nodeagent {

struct DefaultRoute {
    uint32_t priority = 0;  // metric
    uint8_t tos = 0;
    IpAddress gateway;      // unset if none
    int oif = 0;
    IpAddress prefsrc;      // unset if none
    std::vector<uint8_t> message;  // the dumped netlink message, to put it back exactly
};

class RouteNetlink {
public:
    [[nodiscard]] std::error_code open(std::string* error);

    // ADDRESS/prefix_len on IFINDEX, scope global (IPv6: without duplicate address detection);
    // fails with EEXIST if it is there already.
    [[nodiscard]] std::error_code add_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                              std::string* error);
    // Removes it; "not there" (EADDRNOTAVAIL, ENOENT) counts as success.
    [[nodiscard]] std::error_code delete_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                                 std::string* error);

    // The default routes (unicast, prefix length 0) of the main table in the family of `like`.
    [[nodiscard]] std::error_code dump_default_routes(std::vector<DefaultRoute>& routes, const IpAddress& like,
                                                      std::string* error);
    // default via GATEWAY dev IFINDEX src PREFSRC, main table, proto static, the family's
    // default metric (IPv4 0, IPv6 1024); fails with EEXIST if a default route of that metric
    // is there already.
    [[nodiscard]] std::error_code add_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                    std::string* error);
    // Deletes that very route; "not there" (ESRCH, ENOENT) counts as success.
    [[nodiscard]] std::error_code delete_default_route(const IpAddress& gateway, int ifindex,
                                                       const IpAddress& prefsrc, std::string* error);
    // A dumped route message sent back as RTM_DELROUTE / RTM_NEWROUTE (create, exclusive).
    // Deleting what is gone and re-adding what exists (EEXIST) count as success.
    [[nodiscard]] std::error_code delete_dumped_route(const std::vector<uint8_t>& message, std::string* error);
    [[nodiscard]] std::error_code restore_dumped_route(const std::vector<uint8_t>& message, std::string* error);

private:
    // socket_.change(), with a failure's text put in *error.
    std::error_code change(RtnetlinkRequest& request, const std::string& what, std::initializer_list<int> done,
                           std::string* error);

    RtnetlinkSocket socket_;
};

}  // namespace sara::nodeagent
