// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/rtnetlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cstdio>

#include "common/util/errno_text.hpp"

namespace sara {
namespace {

constexpr size_t kRequestBufferSize = 1024;
constexpr int kDumpAttempts = 3;

}  // namespace

std::optional<AddressEntry> parse_address_message(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type != RTM_NEWADDR && nlh.nlmsg_type != RTM_DELADDR) return std::nullopt;
    if (nlh.nlmsg_len < mnl_nlmsg_size(sizeof(ifaddrmsg))) return std::nullopt;
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&nlh));
    if (ifa->ifa_family != AF_INET) return std::nullopt;
    std::array<const nlattr*, IFA_MAX + 1> tb;
    parse_attributes(nlh, sizeof(ifaddrmsg), tb);
    AddressEntry a;
    a.ifindex = static_cast<int>(ifa->ifa_index);
    // On a point-to-point link IFA_ADDRESS is the peer's; IFA_LOCAL is always ours.
    a.address = ipv4_attribute(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS]);
    a.removed = nlh.nlmsg_type == RTM_DELADDR;
    if (!a.address.is_v4()) return std::nullopt;
    return a;
}

std::error_code RtNetlink::dump(uint16_t type, uint8_t family, std::string_view what,
                                const RtnetlinkSocket::MessageHandler& on_message, std::string* error_text) {
    // A dump runs over several messages; if the kernel's tables changed meanwhile it flags the
    // dump as interrupted and we read it again (a consistent view makes exact deletions).
    for (int attempt = 1;; ++attempt) {
        alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_DUMP;
        // rtgenmsg, ndmsg, rtmsg and fib_rule_hdr all start with the family byte.
        auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        header->rtm_family = family;
        bool interrupted = false;
        if (auto ec = socket_.transact(nlh, what, on_message, &interrupted, error_text)) return ec;
        if (!interrupted || attempt == kDumpAttempts) return {};
    }
}

std::error_code RtNetlink::dump_rules(std::vector<RuleEntry>& rules, std::string* error_text) {
    std::vector<RuleEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWRULE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(fib_rule_hdr))) return;
        const auto* hdr = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(&nlh));
        if (hdr->family != AF_INET) return;
        std::array<const nlattr*, FRA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(fib_rule_hdr), tb);
        RuleEntry r;
        r.priority = u32_attribute(tb[FRA_PRIORITY]).value_or(0);
        r.fwmark = u32_attribute(tb[FRA_FWMARK]);
        r.fwmask = u32_attribute(tb[FRA_FWMASK]).value_or(0xffffffff);
        r.table = u32_attribute(tb[FRA_TABLE]).value_or(hdr->table);
        r.action = hdr->action;
        bool other_selector = hdr->src_len || hdr->dst_len || hdr->tos || hdr->flags;
        for (const int type : {FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_GOTO, FRA_FLOW, FRA_TUN_ID,
                               FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN, FRA_L3MDEV, FRA_UID_RANGE,
                               FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE})
            other_selector = other_selector || tb[type] != nullptr;
        r.fwmark_lookup_only = r.fwmark.has_value() && !other_selector && r.action == FR_ACT_TO_TBL;
        r.message = copy_message(nlh);
        found.push_back(std::move(r));
    };
    if (auto ec = dump(RTM_GETRULE, AF_INET, "rtnetlink: dump IPv4 rules", on_message, error_text)) return ec;
    rules = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_routes(std::vector<RouteEntry>& routes, std::string* error_text) {
    std::vector<RouteEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWROUTE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) return;
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
        if (rtm->rtm_family != AF_INET) return;
        std::array<const nlattr*, RTA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(rtmsg), tb);
        RouteEntry r;
        r.table = u32_attribute(tb[RTA_TABLE]).value_or(rtm->rtm_table);
        r.dst_len = rtm->rtm_dst_len;
        r.tos = rtm->rtm_tos;
        r.type = rtm->rtm_type;
        r.priority = u32_attribute(tb[RTA_PRIORITY]).value_or(0);
        r.gateway = ipv4_attribute(tb[RTA_GATEWAY]);
        r.oif = static_cast<int>(u32_attribute(tb[RTA_OIF]).value_or(0));
        r.flags = rtm->rtm_flags;
        r.message = copy_message(nlh);
        found.push_back(std::move(r));
    };
    if (auto ec = dump(RTM_GETROUTE, AF_INET, "rtnetlink: dump IPv4 routes", on_message, error_text)) return ec;
    routes = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_neighbours(std::vector<NeighbourEntry>& neighbours, std::string* error_text) {
    std::vector<NeighbourEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWNEIGH || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(ndmsg))) return;
        const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(&nlh));
        if (ndm->ndm_family != AF_INET) return;
        std::array<const nlattr*, NDA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(ndmsg), tb);
        NeighbourEntry n;
        n.ifindex = ndm->ndm_ifindex;
        n.address = ipv4_attribute(tb[NDA_DST]);
        n.state = ndm->ndm_state;
        n.message = copy_message(nlh);
        found.push_back(std::move(n));
    };
    if (auto ec = dump(RTM_GETNEIGH, AF_INET, "rtnetlink: dump IPv4 neighbours", on_message, error_text)) return ec;
    neighbours = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_addresses(std::vector<AddressEntry>& addresses, std::string* error_text) {
    std::vector<AddressEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (auto a = parse_address_message(nlh)) found.push_back(*a);
    };
    if (auto ec = dump(RTM_GETADDR, AF_INET, "rtnetlink: dump IPv4 addresses", on_message, error_text)) return ec;
    addresses = std::move(found);
    return {};
}

std::error_code RtNetlink::delete_dumped(const std::vector<uint8_t>& message, uint16_t delete_type,
                                         std::string_view what, std::string* error_text) {
    if (message.size() < sizeof(nlmsghdr)) {
        append_error_text(error_text, std::string(what) + ": no dumped message to delete");
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = delete_type;
    nlh->nlmsg_flags = 0;
    std::string ignored;
    const auto ec = socket_.transact(nlh, what, {}, nullptr, &ignored);
    if (!ec || ec == std::errc::no_such_file_or_directory || ec == std::errc::no_such_process) return {};
    append_error_text(error_text, ignored);
    return ec;
}

std::error_code RtNetlink::replace_permanent_neighbour(int ifindex, const IpAddress& address,
                                                       const std::array<uint8_t, 6>& mac, std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWNEIGH;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, 4, address.bytes.data());
    mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
    const std::string what = "rtnetlink: neighbour " + address.to_string() + " dev " + interface_name(ifindex) +
                             " nud permanent";
    return socket_.transact(nlh, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::replace_default_route(uint32_t table, const IpAddress& gateway, int ifindex,
                                                 std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    // Tables above 255 exist only as RTA_TABLE; the header field then says RT_TABLE_UNSPEC.
    rtm->rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    // onlink: the node is reached on the LAN whatever the LAN's own addressing says.
    rtm->rtm_flags = RTNH_F_ONLINK;
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    mnl_attr_put(nlh, RTA_GATEWAY, 4, gateway.bytes.data());
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
    const std::string what = "rtnetlink: route default via " + gateway.to_string() + " dev " +
                             interface_name(ifindex) + " onlink table " + std::to_string(table);
    return socket_.transact(nlh, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::add_fwmark_rule(uint32_t priority, uint32_t fwmark, uint32_t fwmask, uint32_t table,
                                           std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWRULE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* hdr = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
    hdr->family = AF_INET;
    hdr->action = FR_ACT_TO_TBL;
    hdr->table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
    mnl_attr_put_u32(nlh, FRA_FWMARK, fwmark);
    mnl_attr_put_u32(nlh, FRA_FWMASK, fwmask);
    mnl_attr_put_u32(nlh, FRA_TABLE, table);
    char mark[32];
    std::snprintf(mark, sizeof mark, "0x%x/0x%x", fwmark, fwmask);
    const std::string what = "rtnetlink: rule pref " + std::to_string(priority) + " fwmark " + mark + " lookup " +
                             std::to_string(table);
    return socket_.transact(nlh, what, {}, nullptr, error_text);
}

}  // namespace sara
