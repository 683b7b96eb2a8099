// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/rtnetlink_messages.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace sara {
namespace {

// The family header a replayed message of `type` must hold (its fields identify the object);
// 0 for types whose header this file does not know. rtnetlink types come in fours from RTM_BASE
// (NEW, DEL, GET, SET of one object), so type & ~3 is the NEW of its object.
size_t family_header_size(uint16_t type) {
    switch (type & ~3u) {
        case RTM_NEWROUTE: return sizeof(rtmsg);
        case RTM_NEWRULE: return sizeof(fib_rule_hdr);
        case RTM_NEWNEIGH: return sizeof(ndmsg);
        case RTM_NEWADDR: return sizeof(ifaddrmsg);
        default: return 0;
    }
}

// How long an address attribute of a `family` message is; 0 for a family without addresses.
size_t address_length(uint8_t family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

}  // namespace

RtnetlinkRequest::RtnetlinkRequest(uint16_t type, uint16_t flags, size_t family_header_size)
    : family_header_size_(family_header_size) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    mnl_nlmsg_put_extra_header(nlh, family_header_size);
}

void RtnetlinkRequest::put_u32(uint16_t type, uint32_t value) {
    if (!mnl_attr_put_u32_check(message(), buffer_.size(), type, value)) complete_ = false;
}

void RtnetlinkRequest::put_bytes(uint16_t type, std::span<const uint8_t> bytes) {
    if (!mnl_attr_put_check(message(), buffer_.size(), type, bytes.size(), bytes.data())) complete_ = false;
}

void RtnetlinkRequest::put_address(uint16_t type, const IpAddress& address) {
    const size_t length = address.is_v4() ? 4 : address.is_v6() ? 16 : 0;
    if (length == 0) {
        complete_ = false;
        return;
    }
    put_bytes(type, std::span<const uint8_t>(address.bytes.data(), length));
}

RtnetlinkRequest route_request(uint16_t type, uint16_t flags, uint8_t family, uint32_t table, uint8_t dst_len,
                               uint8_t protocol, uint8_t route_type) {
    RtnetlinkRequest request(type, flags, sizeof(rtmsg));
    auto& rtm = request.family_header<rtmsg>();
    rtm.rtm_family = family;
    rtm.rtm_dst_len = dst_len;
    // Tables above 255 exist only as RTA_TABLE; the header field then says RT_TABLE_UNSPEC.
    rtm.rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    rtm.rtm_protocol = protocol;
    rtm.rtm_scope = RT_SCOPE_UNIVERSE;
    rtm.rtm_type = route_type;
    request.put_u32(RTA_TABLE, table);
    return request;
}

RtnetlinkRequest default_route_request(uint16_t type, uint16_t flags, uint8_t family, uint32_t table,
                                       const IpAddress& gateway, int ifindex) {
    RtnetlinkRequest request = route_request(type, flags, family, table, 0, RTPROT_STATIC, RTN_UNICAST);
    request.put_address(RTA_GATEWAY, gateway);
    request.put_u32(RTA_OIF, static_cast<uint32_t>(ifindex));
    return request;
}

RtnetlinkRequest dump_request(uint16_t type, uint8_t family) {
    RtnetlinkRequest request(type, NLM_F_DUMP, sizeof(rtmsg));
    request.family_header<rtmsg>().rtm_family = family;
    return request;
}

void parse_attributes(const nlmsghdr& nlh, size_t header_size, std::span<const nlattr*> table) {
    std::fill(table.begin(), table.end(), nullptr);
    // mnl_attr_for_each does not compile as C++: the same walk, spelt out.
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(&nlh, header_size));
    const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(&nlh));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        const uint16_t type = mnl_attr_get_type(attr);
        if (type < table.size()) table[type] = attr;
        attr = mnl_attr_next(attr);
    }
}

std::optional<uint32_t> u32_attribute(const nlattr* attr) {
    if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
    return mnl_attr_get_u32(attr);
}

IpAddress address_attribute(const nlattr* attr, uint8_t family) {
    const size_t length = address_length(family);
    if (!attr || length == 0 || mnl_attr_get_payload_len(attr) != length) return {};
    const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
    return family == AF_INET ? IpAddress::v4(bytes) : IpAddress::v6(bytes);
}

std::vector<uint8_t> copy_message(const nlmsghdr& nlh) {
    const auto* p = reinterpret_cast<const uint8_t*>(&nlh);
    return std::vector<uint8_t>(p, p + nlh.nlmsg_len);
}

std::vector<uint8_t> replayed_message(std::span<const uint8_t> dumped, uint16_t type, uint16_t flags) {
    if (dumped.size() < sizeof(nlmsghdr)) return {};
    nlmsghdr header;
    std::memcpy(&header, dumped.data(), sizeof header);
    if (header.nlmsg_len > dumped.size() || header.nlmsg_len < NLMSG_LENGTH(family_header_size(type))) return {};
    std::vector<uint8_t> message(dumped.begin(), dumped.begin() + header.nlmsg_len);
    auto* nlh = reinterpret_cast<nlmsghdr*>(message.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    if (type == RTM_NEWROUTE) {
        auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(nlh));
        rtm->rtm_flags &= ~static_cast<unsigned>(RTNH_F_DEAD | RTNH_F_LINKDOWN | RTNH_F_OFFLOAD | RTNH_F_TRAP);
    }
    return message;
}

}  // namespace sara
