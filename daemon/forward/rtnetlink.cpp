// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/rtnetlink.hpp"

#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

namespace sara {
namespace {

// A dumped rule of `family`, or nullopt for any other message.
std::optional<RuleEntry> rule_of(const nlmsghdr& nlh, uint8_t family) {
    std::array<const nlattr*, FRA_MAX + 1> tb;
    const auto* hdr = parse_message<fib_rule_hdr>(nlh, RTM_NEWRULE, tb);
    if (!hdr || hdr->family != family) return std::nullopt;
    RuleEntry r;
    r.priority = u32_attribute(tb[FRA_PRIORITY]).value_or(0);
    r.fwmark = u32_attribute(tb[FRA_FWMARK]);
    r.fwmask = u32_attribute(tb[FRA_FWMASK]).value_or(0xffffffff);
    r.table = u32_attribute(tb[FRA_TABLE]).value_or(hdr->table);
    r.action = hdr->action;
    bool other_selector = hdr->src_len || hdr->dst_len || hdr->tos || hdr->flags;
    for (const int type : {FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_GOTO, FRA_FLOW, FRA_TUN_ID,
                           FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN, FRA_L3MDEV, FRA_UID_RANGE, FRA_IP_PROTO,
                           FRA_SPORT_RANGE, FRA_DPORT_RANGE})
        other_selector = other_selector || tb[type] != nullptr;
    r.fwmark_lookup_only = r.fwmark.has_value() && !other_selector && r.action == FR_ACT_TO_TBL;
    r.message = copy_message(nlh);
    return r;
}

// A dumped route of `family`, or nullopt for any other message.
std::optional<RouteEntry> route_of(const nlmsghdr& nlh, uint8_t family) {
    std::array<const nlattr*, RTA_MAX + 1> tb;
    const auto* rtm = parse_message<rtmsg>(nlh, RTM_NEWROUTE, tb);
    if (!rtm || rtm->rtm_family != family) return std::nullopt;
    RouteEntry r;
    r.table = u32_attribute(tb[RTA_TABLE]).value_or(rtm->rtm_table);
    r.destination = address_attribute(tb[RTA_DST], rtm->rtm_family);
    r.dst_len = rtm->rtm_dst_len;
    r.protocol = rtm->rtm_protocol;
    r.tos = rtm->rtm_tos;
    r.type = rtm->rtm_type;
    r.priority = u32_attribute(tb[RTA_PRIORITY]).value_or(0);
    r.gateway = address_attribute(tb[RTA_GATEWAY], rtm->rtm_family);
    r.oif = static_cast<int>(u32_attribute(tb[RTA_OIF]).value_or(0));
    r.flags = rtm->rtm_flags;
    r.message = copy_message(nlh);
    return r;
}

// A dumped neighbour of `family`, or nullopt for any other message.
std::optional<NeighbourEntry> neighbour_of(const nlmsghdr& nlh, uint8_t family) {
    std::array<const nlattr*, NDA_MAX + 1> tb;
    const auto* ndm = parse_message<ndmsg>(nlh, RTM_NEWNEIGH, tb);
    if (!ndm || ndm->ndm_family != family) return std::nullopt;
    NeighbourEntry n;
    n.ifindex = ndm->ndm_ifindex;
    n.address = address_attribute(tb[NDA_DST], ndm->ndm_family);
    n.state = ndm->ndm_state;
    n.message = copy_message(nlh);
    return n;
}

}  // namespace

std::optional<AddressEntry> parse_address_message(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type != RTM_NEWADDR && nlh.nlmsg_type != RTM_DELADDR) return std::nullopt;
    std::array<const nlattr*, IFA_MAX + 1> tb;
    const auto* ifa = parse_message<ifaddrmsg>(nlh, nlh.nlmsg_type, tb);
    if (!ifa || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)) return std::nullopt;
    AddressEntry a;
    a.ifindex = static_cast<int>(ifa->ifa_index);
    // On a point-to-point link IFA_ADDRESS is the peer's; IFA_LOCAL is always ours (IPv6
    // sends IFA_ADDRESS alone but for a peer address).
    a.address = address_attribute(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family);
    a.removed = nlh.nlmsg_type == RTM_DELADDR;
    if (!a.address.family) return std::nullopt;
    return a;
}

const char* RtNetlink::family_name() const { return family_ == AF_INET6 ? "IPv6" : "IPv4"; }

std::error_code RtNetlink::dump_rules(std::vector<RuleEntry>& rules, std::string* error_text) {
    RtnetlinkRequest request = dump_request(RTM_GETRULE, family_);
    return socket_.dump_entries(request, std::string("rtnetlink: dump ") + family_name() + " rules",
                                [this](const nlmsghdr& nlh) { return rule_of(nlh, family_); }, rules, error_text);
}

std::error_code RtNetlink::dump_routes(std::vector<RouteEntry>& routes, std::string* error_text) {
    RtnetlinkRequest request = dump_request(RTM_GETROUTE, family_);
    return socket_.dump_entries(request, std::string("rtnetlink: dump ") + family_name() + " routes",
                                [this](const nlmsghdr& nlh) { return route_of(nlh, family_); }, routes, error_text);
}

std::error_code RtNetlink::dump_neighbours(std::vector<NeighbourEntry>& neighbours, std::string* error_text) {
    RtnetlinkRequest request = dump_request(RTM_GETNEIGH, family_);
    return socket_.dump_entries(request, std::string("rtnetlink: dump ") + family_name() + " neighbours",
                                [this](const nlmsghdr& nlh) { return neighbour_of(nlh, family_); }, neighbours,
                                error_text);
}

std::error_code RtNetlink::dump_addresses(std::vector<AddressEntry>& addresses, std::string* error_text) {
    RtnetlinkRequest request = dump_request(RTM_GETADDR, family_);
    return socket_.dump_entries(request, std::string("rtnetlink: dump ") + family_name() + " addresses",
                                parse_address_message, addresses, error_text);
}

std::error_code RtNetlink::delete_dumped(const std::vector<uint8_t>& message, uint16_t delete_type,
                                         std::string_view what, std::string* error_text) {
    return socket_.send_dumped(message, delete_type, 0, what, {ENOENT, ESRCH}, error_text);
}

std::error_code RtNetlink::replace_permanent_neighbour(int ifindex, const IpAddress& address,
                                                       const std::array<uint8_t, 6>& mac, std::string* error_text) {
    RtnetlinkRequest request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof(ndmsg));
    auto& ndm = request.family_header<ndmsg>();
    ndm.ndm_family = family_;
    ndm.ndm_ifindex = ifindex;
    ndm.ndm_state = NUD_PERMANENT;
    request.put_address(NDA_DST, address);
    request.put_bytes(NDA_LLADDR, mac);
    const std::string what = "rtnetlink: neighbour " + address.to_string() + " dev " + interface_name(ifindex) +
                             " nud permanent";
    return socket_.transact(request, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::replace_default_route(uint32_t table, const IpAddress& gateway, int ifindex,
                                                 std::string* error_text) {
    RtnetlinkRequest request =
        default_route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, family_, table, gateway, ifindex);
    // onlink: the node is reached on the LAN whatever the LAN's own addressing says.
    if (family_ == AF_INET) request.family_header<rtmsg>().rtm_flags = RTNH_F_ONLINK;
    const std::string what = "rtnetlink: route default via " + gateway.to_string() + " dev " +
                             interface_name(ifindex) + (family_ == AF_INET ? " onlink" : "") + " table " +
                             std::to_string(table);
    return socket_.transact(request, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::replace_blackhole_route(uint32_t table, const IpAddress& address, uint8_t protocol,
                                                   std::string* error_text) {
    RtnetlinkRequest request = route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, family_, table,
                                             family_ == AF_INET ? 32 : 128, protocol, RTN_BLACKHOLE);
    request.put_address(RTA_DST, address);
    const std::string what = "rtnetlink: route blackhole " + address.to_string() + " table " + std::to_string(table) +
                             " proto " + std::to_string(protocol);
    return socket_.transact(request, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::add_fwmark_rule(uint32_t priority, uint32_t fwmark, uint32_t fwmask, uint32_t table,
                                           std::string* error_text) {
    RtnetlinkRequest request(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, sizeof(fib_rule_hdr));
    auto& hdr = request.family_header<fib_rule_hdr>();
    hdr.family = family_;
    hdr.action = FR_ACT_TO_TBL;
    // Tables above 255 exist only as FRA_TABLE; the header field then says RT_TABLE_UNSPEC.
    hdr.table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    request.put_u32(FRA_PRIORITY, priority);
    request.put_u32(FRA_FWMARK, fwmark);
    request.put_u32(FRA_FWMASK, fwmask);
    request.put_u32(FRA_TABLE, table);
    char mark[32];
    std::snprintf(mark, sizeof mark, "0x%x/0x%x", fwmark, fwmask);
    const std::string what = std::string("rtnetlink: ") + family_name() + " rule pref " + std::to_string(priority) + " fwmark " + mark + " lookup " +
                             std::to_string(table);
    return socket_.transact(request, what, {}, nullptr, error_text);
}

}  // namespace sara
