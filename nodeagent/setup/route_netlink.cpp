// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/setup/route_netlink.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <optional>

namespace sara::nodeagent {
namespace {

uint8_t family_of(const IpAddress& a) { return a.is_v6() ? AF_INET6 : AF_INET; }

// A main-table unicast default route of `family`, or nullopt for any other route message.
std::optional<DefaultRoute> default_route_of(const nlmsghdr& nlh, uint8_t family) {
    std::array<const nlattr*, RTA_MAX + 1> tb;
    const auto* rtm = parse_message<rtmsg>(nlh, RTM_NEWROUTE, tb);
    if (!rtm || rtm->rtm_family != family || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
        return std::nullopt;
    if (u32_attribute(tb[RTA_TABLE]).value_or(rtm->rtm_table) != RT_TABLE_MAIN) return std::nullopt;
    DefaultRoute route;
    route.priority = u32_attribute(tb[RTA_PRIORITY]).value_or(0);
    route.tos = rtm->rtm_tos;
    route.gateway = address_attribute(tb[RTA_GATEWAY], rtm->rtm_family);
    route.oif = static_cast<int>(u32_attribute(tb[RTA_OIF]).value_or(0));
    route.prefsrc = address_attribute(tb[RTA_PREFSRC], rtm->rtm_family);
    route.message = copy_message(nlh);
    return route;
}

RtnetlinkRequest route_request(uint16_t type, uint16_t flags, const IpAddress& gateway, int ifindex,
                               const IpAddress& prefsrc) {
    RtnetlinkRequest request = default_route_request(type, flags, family_of(gateway), RT_TABLE_MAIN, gateway, ifindex);
    request.put_address(RTA_PREFSRC, prefsrc);
    return request;
}

RtnetlinkRequest address_request(uint16_t type, uint16_t flags, int ifindex, const IpAddress& address,
                                 uint8_t prefix_len) {
    RtnetlinkRequest request(type, flags, sizeof(ifaddrmsg));
    auto& ifa = request.family_header<ifaddrmsg>();
    ifa.ifa_family = family_of(address);
    ifa.ifa_prefixlen = prefix_len;
    // A VIP is held by every node: duplicate address detection would find it "taken" (and
    // keep it tentative, unusable as a source) if a neighbour ever answered for it.
    if (address.is_v6()) ifa.ifa_flags = IFA_F_NODAD;
    ifa.ifa_index = static_cast<uint32_t>(ifindex);
    request.put_address(IFA_LOCAL, address);
    return request;
}

std::string route_text(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc) {
    return "default via " + gateway.to_string() + " dev " + interface_name(ifindex) + " src " + prefsrc.to_string();
}

std::string address_text(int ifindex, const IpAddress& address, uint8_t prefix_len) {
    return address.to_string() + "/" + std::to_string(prefix_len) + " dev " + interface_name(ifindex);
}

// The agent's convention: a failure's text replaces *error.
std::error_code replace_error(std::error_code ec, const std::string& text, std::string* error) {
    if (ec && error) *error = text;
    return ec;
}

}  // namespace

std::error_code RouteNetlink::open(std::string* error) {
    std::string text;
    const std::error_code ec = socket_.open(&text);
    return replace_error(ec, text, error);
}

std::error_code RouteNetlink::change(RtnetlinkRequest& request, const std::string& what,
                                     std::initializer_list<int> done, std::string* error) {
    std::string text;
    const std::error_code ec = socket_.change(request, what, done, &text);
    return replace_error(ec, text, error);
}

std::error_code RouteNetlink::add_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                          std::string* error) {
    RtnetlinkRequest request = address_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, address, prefix_len);
    request.family_header<ifaddrmsg>().ifa_scope = RT_SCOPE_UNIVERSE;
    request.put_address(IFA_ADDRESS, address);
    return change(request, "rtnetlink: add " + address_text(ifindex, address, prefix_len), {}, error);
}

std::error_code RouteNetlink::delete_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                             std::string* error) {
    RtnetlinkRequest request = address_request(RTM_DELADDR, 0, ifindex, address, prefix_len);
    return change(request, "rtnetlink: delete " + address_text(ifindex, address, prefix_len),
                  {EADDRNOTAVAIL, ENOENT, ENODEV}, error);
}

std::error_code RouteNetlink::dump_default_routes(std::vector<DefaultRoute>& routes, const IpAddress& like,
                                                  std::string* error) {
    const uint8_t family = family_of(like);
    RtnetlinkRequest request = dump_request(RTM_GETROUTE, family);
    std::string text;
    const std::error_code ec = socket_.dump_entries(
        request, std::string("rtnetlink: dump ") + (like.is_v6() ? "IPv6" : "IPv4") + " routes",
        [family](const nlmsghdr& nlh) { return default_route_of(nlh, family); }, routes, &text);
    return replace_error(ec, text, error);
}

std::error_code RouteNetlink::add_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                std::string* error) {
    RtnetlinkRequest request = route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, gateway, ifindex, prefsrc);
    return change(request, "rtnetlink: add route " + route_text(gateway, ifindex, prefsrc), {}, error);
}

std::error_code RouteNetlink::delete_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                   std::string* error) {
    RtnetlinkRequest request = route_request(RTM_DELROUTE, 0, gateway, ifindex, prefsrc);
    return change(request, "rtnetlink: delete route " + route_text(gateway, ifindex, prefsrc), {ESRCH, ENOENT},
                  error);
}

std::error_code RouteNetlink::delete_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    std::string text;
    const std::error_code ec =
        socket_.send_dumped(message, RTM_DELROUTE, 0, "rtnetlink: delete saved default route", {ESRCH, ENOENT}, &text);
    return replace_error(ec, text, error);
}

std::error_code RouteNetlink::restore_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    std::string text;
    const std::error_code ec = socket_.send_dumped(message, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
                                                   "rtnetlink: restore saved default route", {EEXIST}, &text);
    return replace_error(ec, text, error);
}

}  // namespace sara::nodeagent
