// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink message helpers both route-netlink clients build on: a request built and read
// back attribute by attribute, addresses sized by their family, and a dumped message turned into
// the request that deletes or restores it. No socket is opened (the refusals tested on
// RtnetlinkSocket come before any send).
#include <boost/test/unit_test.hpp>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/rtnetlink_messages.hpp"
#include "common/net/rtnetlink_socket.hpp"

namespace sara {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// A route as the kernel dumps it: RTM_NEWROUTE, NLM_F_MULTI, with the given route flags.
std::vector<uint8_t> dumped_route(uint32_t route_flags) {
    RtnetlinkRequest route = default_route_request(RTM_NEWROUTE, NLM_F_MULTI, AF_INET, RT_TABLE_MAIN,
                                                   ip("192.0.2.1"), 3);
    route.family_header<rtmsg>().rtm_flags = route_flags;
    route.message()->nlmsg_seq = 77;
    route.message()->nlmsg_pid = 4242;  // the dumping socket's port
    return copy_message(*route.message());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rtnetlink_messages)

BOOST_AUTO_TEST_CASE(a_built_request_reads_back) {
    RtnetlinkRequest request =
        default_route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, 1007, ip("198.18.0.7"), 5);
    request.family_header<rtmsg>().rtm_flags = RTNH_F_ONLINK;
    BOOST_TEST(request.complete());

    const nlmsghdr& nlh = *request.message();
    BOOST_TEST(nlh.nlmsg_type == RTM_NEWROUTE);
    BOOST_TEST(nlh.nlmsg_flags == (NLM_F_CREATE | NLM_F_REPLACE));
    // Header, family header, two u32 attributes and one 4-byte address: nothing else.
    BOOST_TEST(nlh.nlmsg_len == NLMSG_LENGTH(sizeof(rtmsg)) + 3 * NLA_ALIGN(NLA_HDRLEN + 4));
    std::array<const nlattr*, RTA_MAX + 1> tb;
    const rtmsg* read = parse_message<rtmsg>(nlh, RTM_NEWROUTE, tb);
    BOOST_REQUIRE(read != nullptr);
    BOOST_TEST(read->rtm_family == AF_INET);
    BOOST_TEST(read->rtm_dst_len == 0);
    BOOST_TEST(read->rtm_table == RT_TABLE_UNSPEC);  // 1007 is said by RTA_TABLE alone
    BOOST_TEST(read->rtm_protocol == RTPROT_STATIC);
    BOOST_TEST(read->rtm_scope == RT_SCOPE_UNIVERSE);
    BOOST_TEST(read->rtm_type == RTN_UNICAST);
    BOOST_TEST(read->rtm_flags == RTNH_F_ONLINK);

    BOOST_TEST(u32_attribute(tb[RTA_TABLE]).value_or(0) == 1007u);
    BOOST_TEST(u32_attribute(tb[RTA_OIF]).value_or(0) == 5u);
    BOOST_TEST(address_attribute(tb[RTA_GATEWAY], AF_INET).to_string() == "198.18.0.7");
    BOOST_TEST(tb[RTA_PREFSRC] == nullptr);
    BOOST_TEST(!u32_attribute(tb[RTA_PREFSRC]).has_value());
    // The same 4 bytes are no IPv6 address, and a family without addresses has no length.
    BOOST_TEST(address_attribute(tb[RTA_GATEWAY], AF_INET6).family == 0);
    BOOST_TEST(address_attribute(tb[RTA_GATEWAY], AF_UNSPEC).family == 0);

    // A table below 256 is in the header too.
    RtnetlinkRequest main = default_route_request(RTM_DELROUTE, 0, AF_INET, RT_TABLE_MAIN, ip("198.18.0.7"), 5);
    BOOST_TEST(main.family_header<rtmsg>().rtm_table == RT_TABLE_MAIN);
    // Nor does it read as a message of another type.
    BOOST_TEST(parse_message<rtmsg>(*main.message(), RTM_NEWROUTE, tb) == nullptr);
}

BOOST_AUTO_TEST_CASE(an_address_attribute_takes_its_length_from_the_address) {
    RtnetlinkRequest request(RTM_NEWNEIGH, 0, sizeof(rtmsg));
    request.put_address(RTA_DST, ip("2001:db8::5"));
    request.put_address(RTA_GATEWAY, ip("192.0.2.9"));
    BOOST_TEST(request.complete());
    std::array<const nlattr*, RTA_MAX + 1> tb;
    parse_attributes(*request.message(), sizeof(rtmsg), tb);
    BOOST_REQUIRE(tb[RTA_DST] != nullptr);
    BOOST_TEST(tb[RTA_DST]->nla_len == NLA_HDRLEN + 16);
    BOOST_TEST(tb[RTA_GATEWAY]->nla_len == NLA_HDRLEN + 4);
    BOOST_TEST(address_attribute(tb[RTA_DST], AF_INET6).to_string() == "2001:db8::5");
    BOOST_TEST(address_attribute(tb[RTA_DST], AF_INET).family == 0);  // 16 bytes are no IPv4 address
    BOOST_TEST(!u32_attribute(tb[RTA_DST]).has_value());
}

BOOST_AUTO_TEST_CASE(an_unset_address_or_an_overflow_spoils_the_request) {
    RtnetlinkRequest unset(RTM_NEWROUTE, 0, sizeof(rtmsg));
    unset.put_address(RTA_GATEWAY, IpAddress{});
    BOOST_TEST(!unset.complete());

    RtnetlinkRequest full(RTM_NEWROUTE, 0, sizeof(rtmsg));
    const std::vector<uint8_t> big(RtnetlinkRequest::kCapacity, 0xab);
    full.put_bytes(RTA_DST, big);
    BOOST_TEST(!full.complete());
    BOOST_TEST(full.message()->nlmsg_len <= RtnetlinkRequest::kCapacity);

    // The socket refuses to send either, before it even looks for its connection.
    RtnetlinkSocket socket;
    std::string text;
    BOOST_TEST((socket.transact(unset, "rtnetlink: test", {}, nullptr, &text) == std::errc::invalid_argument));
    BOOST_TEST(text.find("rtnetlink: test: request not built") != std::string::npos);
    text.clear();
    BOOST_TEST((socket.change(full, "rtnetlink: test", {EEXIST}, &text) == std::errc::invalid_argument));
    BOOST_TEST(!text.empty());
}

BOOST_AUTO_TEST_CASE(a_dump_request_carries_the_family) {
    const RtnetlinkRequest request = dump_request(RTM_GETRULE, AF_INET6);
    const nlmsghdr& nlh = *request.message();
    BOOST_TEST(nlh.nlmsg_type == RTM_GETRULE);
    BOOST_TEST(nlh.nlmsg_flags == NLM_F_DUMP);
    BOOST_TEST(nlh.nlmsg_len == NLMSG_LENGTH(sizeof(rtmsg)));
    const fib_rule_hdr* hdr = family_header_of<fib_rule_hdr>(nlh, RTM_GETRULE);
    BOOST_REQUIRE(hdr != nullptr);
    BOOST_TEST(hdr->family == AF_INET6);
}

BOOST_AUTO_TEST_CASE(family_header_of_checks_type_and_length) {
    RtnetlinkRequest request(RTM_NEWRULE, 0, sizeof(fib_rule_hdr));
    BOOST_TEST(family_header_of<fib_rule_hdr>(*request.message(), RTM_NEWRULE) != nullptr);
    BOOST_TEST(family_header_of<fib_rule_hdr>(*request.message(), RTM_NEWROUTE) == nullptr);
    // A header-only message is too short for any family header.
    nlmsghdr bare{NLMSG_LENGTH(0), RTM_NEWRULE, 0, 0, 0};
    BOOST_TEST(family_header_of<fib_rule_hdr>(bare, RTM_NEWRULE) == nullptr);
}

BOOST_AUTO_TEST_CASE(parse_attributes_ignores_types_beyond_the_table) {
    RtnetlinkRequest request(RTM_NEWROUTE, 0, sizeof(rtmsg));
    request.put_u32(RTA_TABLE, 9);
    request.put_u32(RTA_PRIORITY, 1);
    std::array<const nlattr*, RTA_PRIORITY + 1> tb;
    tb.fill(reinterpret_cast<const nlattr*>(&tb));  // stale entries are cleared
    parse_attributes(*request.message(), sizeof(rtmsg), tb);
    BOOST_TEST(tb[RTA_PRIORITY] != nullptr);
    BOOST_TEST(tb[RTA_GATEWAY] == nullptr);
    BOOST_TEST(u32_attribute(tb[RTA_PRIORITY]).value_or(0) == 1u);
}

BOOST_AUTO_TEST_CASE(a_dumped_route_replays_as_a_delete_unchanged_but_for_type_and_flags) {
    const std::vector<uint8_t> dumped = dumped_route(RTNH_F_ONLINK | RTNH_F_LINKDOWN | RTNH_F_DEAD);
    const std::vector<uint8_t> del = replayed_message(dumped, RTM_DELROUTE, 0);
    BOOST_REQUIRE(del.size() == dumped.size());
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(del.data());
    BOOST_TEST(nlh->nlmsg_type == RTM_DELROUTE);
    BOOST_TEST(nlh->nlmsg_flags == 0);
    // Everything after the type and flags, route flags included, is the dumped object's.
    BOOST_TEST(std::memcmp(del.data() + 8, dumped.data() + 8, del.size() - 8) == 0);
    BOOST_TEST(family_header_of<rtmsg>(*nlh, RTM_DELROUTE)->rtm_flags ==
               (RTNH_F_ONLINK | RTNH_F_LINKDOWN | RTNH_F_DEAD));
}

BOOST_AUTO_TEST_CASE(a_dumped_route_replays_as_a_new_one_without_the_flags_the_kernel_refuses) {
    const std::vector<uint8_t> dumped =
        dumped_route(RTNH_F_ONLINK | RTNH_F_DEAD | RTNH_F_LINKDOWN | RTNH_F_OFFLOAD | RTNH_F_TRAP);
    const std::vector<uint8_t> add = replayed_message(dumped, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    BOOST_REQUIRE(add.size() == dumped.size());
    const auto& nlh = *reinterpret_cast<const nlmsghdr*>(add.data());
    BOOST_TEST(nlh.nlmsg_type == RTM_NEWROUTE);
    BOOST_TEST(nlh.nlmsg_flags == (NLM_F_CREATE | NLM_F_EXCL));  // NLM_F_MULTI gone
    const rtmsg* rtm = family_header_of<rtmsg>(nlh, RTM_NEWROUTE);
    BOOST_TEST(rtm->rtm_flags == RTNH_F_ONLINK);
    std::array<const nlattr*, RTA_MAX + 1> tb;
    parse_attributes(nlh, sizeof(rtmsg), tb);
    BOOST_TEST(address_attribute(tb[RTA_GATEWAY], AF_INET).to_string() == "192.0.2.1");
    BOOST_TEST(u32_attribute(tb[RTA_OIF]).value_or(0) == 3u);
}

BOOST_AUTO_TEST_CASE(a_message_that_is_not_whole_does_not_replay) {
    const std::vector<uint8_t> dumped = dumped_route(0);
    BOOST_TEST(replayed_message({}, RTM_DELROUTE, 0).empty());
    BOOST_TEST(replayed_message(std::span(dumped).first(sizeof(nlmsghdr) - 1), RTM_DELROUTE, 0).empty());
    // Shorter than its length field says.
    BOOST_TEST(replayed_message(std::span(dumped).first(dumped.size() - 4), RTM_DELROUTE, 0).empty());
    // A bare header is no route, rule, neighbour or address to delete.
    nlmsghdr bare{NLMSG_LENGTH(0), RTM_NEWRULE, 0, 0, 0};
    const std::span<const uint8_t> bare_bytes(reinterpret_cast<const uint8_t*>(&bare), sizeof bare);
    for (const uint16_t type : {RTM_DELROUTE, RTM_DELRULE, RTM_DELNEIGH, RTM_DELADDR})
        BOOST_TEST(replayed_message(bare_bytes, type, 0).empty());

    RtnetlinkSocket socket;
    std::string text;
    BOOST_TEST((socket.send_dumped({}, RTM_DELRULE, 0, "rtnetlink: delete rule", {ENOENT}, &text) ==
                std::errc::invalid_argument));
    BOOST_TEST(text.find("rtnetlink: delete rule: ") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
