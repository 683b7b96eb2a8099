// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/setup/route_netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cerrno>
#include <optional>

namespace sara::nodeagent {
namespace {

constexpr size_t kRequestBufferSize = 1024;

// An IPv4 main-table unicast default route, or nullopt for any other route message.
std::optional<DefaultRoute> default_route_of(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type != RTM_NEWROUTE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) return std::nullopt;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
    if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST) return std::nullopt;
    std::array<const nlattr*, RTA_MAX + 1> tb;
    parse_attributes(nlh, sizeof(rtmsg), tb);
    if (u32_attribute(tb[RTA_TABLE]).value_or(rtm->rtm_table) != RT_TABLE_MAIN) return std::nullopt;
    DefaultRoute route;
    route.priority = u32_attribute(tb[RTA_PRIORITY]).value_or(0);
    route.tos = rtm->rtm_tos;
    route.gateway = ipv4_attribute(tb[RTA_GATEWAY]);
    route.oif = static_cast<int>(u32_attribute(tb[RTA_OIF]).value_or(0));
    route.prefsrc = ipv4_attribute(tb[RTA_PREFSRC]);
    route.message = copy_message(nlh);
    return route;
}

nlmsghdr* route_request(uint8_t* buffer, uint16_t type, uint16_t flags, const IpAddress& gateway, int ifindex,
                        const IpAddress& prefsrc) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
    mnl_attr_put(nlh, RTA_GATEWAY, 4, gateway.bytes.data());
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
    mnl_attr_put(nlh, RTA_PREFSRC, 4, prefsrc.bytes.data());
    return nlh;
}

std::string route_text(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc) {
    return "default via " + gateway.to_string() + " dev " + interface_name(ifindex) + " src " + prefsrc.to_string();
}

}  // namespace

std::error_code RouteNetlink::open(std::string* error) {
    std::string text;
    const std::error_code ec = socket_.open(&text);
    if (ec && error) *error = text;
    return ec;
}

std::error_code RouteNetlink::transact(nlmsghdr* request, const std::string& what, std::vector<DefaultRoute>* dump_out,
                                       std::string* error) {
    RtnetlinkSocket::MessageHandler on_message;
    if (dump_out)
        on_message = [dump_out](const nlmsghdr& nlh) {
            if (std::optional<DefaultRoute> route = default_route_of(nlh)) dump_out->push_back(std::move(*route));
        };
    std::string text;
    const std::error_code ec = socket_.transact(request, what, on_message, nullptr, &text);
    if (ec && error) *error = text;
    return ec;
}

std::error_code RouteNetlink::add_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                          std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWADDR;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix_len;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    mnl_attr_put(nlh, IFA_LOCAL, 4, address.bytes.data());
    mnl_attr_put(nlh, IFA_ADDRESS, 4, address.bytes.data());
    return transact(nlh, "rtnetlink: add " + address.to_string() + "/" + std::to_string(prefix_len) + " dev " +
                             interface_name(ifindex), nullptr, error);
}

std::error_code RouteNetlink::delete_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                             std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_DELADDR;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix_len;
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    mnl_attr_put(nlh, IFA_LOCAL, 4, address.bytes.data());
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: delete " + address.to_string() + "/" +
                                                 std::to_string(prefix_len) + " dev " + interface_name(ifindex),
                                        nullptr, &text);
    if (!ec || ec.value() == EADDRNOTAVAIL || ec.value() == ENOENT || ec.value() == ENODEV) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::dump_default_routes(std::vector<DefaultRoute>& routes, std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_DUMP;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    std::vector<DefaultRoute> found;
    if (std::error_code ec = transact(nlh, "rtnetlink: dump IPv4 routes", &found, error)) return ec;
    routes = std::move(found);
    return {};
}

std::error_code RouteNetlink::add_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = route_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, gateway, ifindex, prefsrc);
    return transact(nlh, "rtnetlink: add route " + route_text(gateway, ifindex, prefsrc), nullptr, error);
}

std::error_code RouteNetlink::delete_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                   std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = route_request(buf, RTM_DELROUTE, 0, gateway, ifindex, prefsrc);
    std::string text;
    const std::error_code ec =
        transact(nlh, "rtnetlink: delete route " + route_text(gateway, ifindex, prefsrc), nullptr, &text);
    if (!ec || ec.value() == ESRCH || ec.value() == ENOENT) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::delete_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    if (message.size() < mnl_nlmsg_size(sizeof(rtmsg))) {
        if (error) *error = "rtnetlink: delete route: no saved message";
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = RTM_DELROUTE;
    nlh->nlmsg_flags = 0;
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: delete saved default route", nullptr, &text);
    if (!ec || ec.value() == ESRCH || ec.value() == ENOENT) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::restore_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    if (message.size() < mnl_nlmsg_size(sizeof(rtmsg))) {
        if (error) *error = "rtnetlink: restore route: no saved message";
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    // State the kernel reports but refuses to be told (a link that was down when dumped).
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(nlh));
    rtm->rtm_flags &= ~static_cast<unsigned>(RTNH_F_DEAD | RTNH_F_LINKDOWN | RTNH_F_OFFLOAD | RTNH_F_TRAP);
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: restore saved default route", nullptr, &text);
    if (!ec || ec.value() == EEXIST) return {};
    if (error) *error = text;
    return ec;
}

}  // namespace sara::nodeagent
