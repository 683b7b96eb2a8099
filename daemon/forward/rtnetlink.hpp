// SPDX-License-Identifier: GPL-2.0-or-later
// The few rtnetlink operations the dispatcher's kernel setup needs, for one address family
// (IPv4 or IPv6, chosen at construction): permanent
// neighbours, default routes in numbered tables, fwmark rules, and dumps of each so that a
// previous run's objects can be found and deleted exactly as the kernel shows them.
//
// Requests are built and dumps read with common/net/rtnetlink_messages and go through
// common/net/rtnetlink_socket (ACK awaited; errors carry the operation, the object, errno's
// text and the kernel's extended-ACK message; interrupted dumps read again); this file keeps
// what each object's messages hold. Deletions resend a dumped
// message with the delete type (what `ip ... flush` does), so they match exactly that object;
// "already gone" (ENOENT, ESRCH) counts as success.
//
// One RtNetlink is used by one thread at a time.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>  // AF_INET

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/rtnetlink_socket.hpp"

namespace sara {

struct RuleEntry {
    uint32_t priority = 0;
    std::optional<uint32_t> fwmark;
    uint32_t fwmask = 0;
    uint32_t table = 0;
    uint8_t action = 0;  // FR_ACT_*
    // True if the rule selects on fwmark alone (no addresses, tos, interfaces, ports, uid
    // range, invert flag...) and looks up a table: the shape add_fwmark_rule() creates.
    bool fwmark_lookup_only = false;
    std::vector<uint8_t> message;  // the dumped netlink message
};

struct RouteEntry {
    uint32_t table = 0;
    IpAddress destination;  // unset for a default route
    uint8_t dst_len = 0;
    uint8_t protocol = 0;   // RTPROT_* (who installed it)
    uint8_t tos = 0;
    uint8_t type = 0;       // RTN_*
    uint32_t priority = 0;  // metric
    IpAddress gateway;      // unset if the route has none
    int oif = 0;
    uint32_t flags = 0;     // RTNH_F_*
    std::vector<uint8_t> message;
};

struct NeighbourEntry {
    int ifindex = 0;
    IpAddress address;
    uint16_t state = 0;  // NUD_*
    std::vector<uint8_t> message;
};

// One address of an interface, from a dump or an RTM_NEWADDR/RTM_DELADDR notification.
struct AddressEntry {
    int ifindex = 0;
    IpAddress address;     // IFA_LOCAL (the interface's own address), else IFA_ADDRESS
    bool removed = false;  // RTM_DELADDR
};

// The address an RTM_NEWADDR/RTM_DELADDR message carries; nullopt for any other message, one
// of another family than IPv4 or IPv6, or one too short for its headers (a malformed message
// is ignored, not trusted).
std::optional<AddressEntry> parse_address_message(const nlmsghdr& nlh);

class RtNetlink {
public:
    // family: AF_INET or AF_INET6; dumps return that family's objects only and requests are
    // made in it.
    explicit RtNetlink(uint8_t family = AF_INET) : family_(family) {}
    uint8_t family() const { return family_; }

    [[nodiscard]] std::error_code open(std::string* error_text) { return socket_.open(error_text); }

    [[nodiscard]] std::error_code dump_rules(std::vector<RuleEntry>& rules, std::string* error_text);
    [[nodiscard]] std::error_code dump_routes(std::vector<RouteEntry>& routes, std::string* error_text);
    [[nodiscard]] std::error_code dump_neighbours(std::vector<NeighbourEntry>& neighbours, std::string* error_text);
    [[nodiscard]] std::error_code dump_addresses(std::vector<AddressEntry>& addresses, std::string* error_text);

    // RTM_DELRULE / RTM_DELROUTE / RTM_DELNEIGH of a dumped message; `what` names the object.
    [[nodiscard]] std::error_code delete_dumped(const std::vector<uint8_t>& message, uint16_t delete_type,
                                                std::string_view what, std::string* error_text);

    // ADDRESS lladdr MAC dev IFINDEX nud permanent (create or replace).
    [[nodiscard]] std::error_code replace_permanent_neighbour(int ifindex, const IpAddress& address,
                                                              const std::array<uint8_t, 6>& mac,
                                                              std::string* error_text);
    // default via GATEWAY dev IFINDEX [onlink] table TABLE proto static (create or replace);
    // onlink for IPv4 (the node is on the LAN whatever its addressing says); an IPv6 gateway
    // is link-local, on-link by definition.
    [[nodiscard]] std::error_code replace_default_route(uint32_t table, const IpAddress& gateway, int ifindex,
                                                        std::string* error_text);
    // blackhole ADDRESS/host table TABLE proto PROTOCOL (create or replace): the VIP's route a
    // routing daemon announces (daemon/forward/vip_route_announcer.hpp).
    [[nodiscard]] std::error_code replace_blackhole_route(uint32_t table, const IpAddress& address, uint8_t protocol,
                                                          std::string* error_text);
    // pref PRIORITY fwmark MARK/MASK lookup TABLE (fails with EEXIST if that very rule exists).
    [[nodiscard]] std::error_code add_fwmark_rule(uint32_t priority, uint32_t fwmark, uint32_t fwmask,
                                                  uint32_t table, std::string* error_text);

private:
    const char* family_name() const;

    uint8_t family_;
    RtnetlinkSocket socket_;
};

}  // namespace sara
