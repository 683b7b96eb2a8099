// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "daemon/ha/address_watch.hpp"

using namespace sara;

namespace {

// One RTM_NEWADDR/RTM_DELADDR message as the kernel sends it: nlmsghdr, ifaddrmsg, then
// IFA_ADDRESS and (unless `local` is null) IFA_LOCAL, each an attribute of `size` bytes (4 for
// IPv4, 16 for IPv6).
void append_address(std::vector<uint8_t>& out, uint16_t type, uint8_t family, const uint8_t* address,
                    const uint8_t* local, size_t size = 4) {
    const size_t attr = NLA_HDRLEN + size;
    const size_t len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifaddrmsg)) + attr + (local ? attr : 0);
    std::vector<uint8_t> m(NLMSG_ALIGN(len));
    nlmsghdr h{uint32_t(len), type, 0, 1, 0};
    std::memcpy(m.data(), &h, sizeof h);
    ifaddrmsg ifa{family, 32, 0, 0, 2};
    std::memcpy(m.data() + NLMSG_HDRLEN, &ifa, sizeof ifa);
    size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifaddrmsg));
    for (auto [t, a] : {std::pair{IFA_ADDRESS, address}, std::pair{IFA_LOCAL, local}}) {
        if (!a) continue;
        nlattr na{uint16_t(attr), uint16_t(t)};
        std::memcpy(m.data() + at, &na, sizeof na);
        std::memcpy(m.data() + at + NLA_HDRLEN, a, size);
        at += NLA_ALIGN(attr);
    }
    out.insert(out.end(), m.begin(), m.end());
}

const uint8_t floating[4] = {198, 18, 1, 5};
const uint8_t other[4] = {198, 18, 1, 1};

}  // namespace

BOOST_AUTO_TEST_SUITE(address_watch)

BOOST_AUTO_TEST_CASE(notifications_fold_into_held_or_not) {
    const IpAddress address = IpAddress::v4(floating);
    struct Case {
        const char* description;
        std::vector<uint8_t> datagram;
        std::optional<bool> expected;
    };
    std::vector<Case> cases;
    auto add = [&](const char* d, auto build, std::optional<bool> e) {
        Case c{d, {}, e};
        build(c.datagram);
        cases.push_back(std::move(c));
    };
    add("added", [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET, floating, floating); }, true);
    add("removed", [](auto& m) { append_address(m, RTM_DELADDR, AF_INET, floating, floating); }, false);
    add("only IFA_ADDRESS", [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET, floating, nullptr); }, true);
    add("IFA_LOCAL wins (point-to-point: IFA_ADDRESS is the peer)",
        [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET, floating, other); }, std::nullopt);
    add("another address", [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET, other, other); }, std::nullopt);
    add("added then removed in one datagram: the last wins", [](auto& m) {
        append_address(m, RTM_NEWADDR, AF_INET, floating, floating);
        append_address(m, RTM_DELADDR, AF_INET, floating, floating);
    }, false);
    add("an IPv6 family with a 4-byte address is malformed",
        [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET6, floating, floating); }, std::nullopt);
    add("a route message is not an address", [](auto& m) { append_address(m, RTM_NEWROUTE, AF_INET, floating, floating); },
        std::nullopt);
    add("truncated: the header claims more than arrived", [](auto& m) {
        append_address(m, RTM_NEWADDR, AF_INET, floating, floating);
        m.resize(m.size() - 8);
    }, std::nullopt);
    add("a header claiming less than ifaddrmsg", [](auto& m) {
        append_address(m, RTM_NEWADDR, AF_INET, floating, floating);
        reinterpret_cast<nlmsghdr*>(m.data())->nlmsg_len = NLMSG_HDRLEN + 4;
    }, std::nullopt);
    add("empty", [](auto&) {}, std::nullopt);
    for (const Case& c : cases) {
        BOOST_TEST_INFO(c.description);
        BOOST_TEST((address_state_in(c.datagram, address) == c.expected));
    }
}

// Issue 18: an IPv6 floating next hop (an IPv6-only HA pair) is followed the same way.
BOOST_AUTO_TEST_CASE(an_ipv6_floating_address_is_followed_too) {
    const IpAddress address = *IpAddress::parse("2001:db8:1::5");
    const IpAddress another = *IpAddress::parse("2001:db8:1::1");
    std::vector<uint8_t> added, removed, other_one;
    append_address(added, RTM_NEWADDR, AF_INET6, address.bytes.data(), nullptr, 16);
    append_address(removed, RTM_DELADDR, AF_INET6, address.bytes.data(), nullptr, 16);
    append_address(other_one, RTM_NEWADDR, AF_INET6, another.bytes.data(), nullptr, 16);
    BOOST_TEST((address_state_in(added, address) == std::optional<bool>(true)));
    BOOST_TEST((address_state_in(removed, address) == std::optional<bool>(false)));
    BOOST_TEST((address_state_in(other_one, address) == std::nullopt));
    std::string error;
    // ::1 is held exactly when the kernel lists it (a host booted without IPv6 has none).
    std::ifstream inet6("/proc/net/if_inet6");
    const std::string listed((std::istreambuf_iterator<char>(inet6)), std::istreambuf_iterator<char>());
    const bool has_loopback6 = listed.find("00000000000000000000000000000001") != std::string::npos;
    BOOST_TEST(holds_address(*IpAddress::parse("::1"), &error).value_or(!has_loopback6) == has_loopback6, error);
    BOOST_TEST(!holds_address(address, &error).value_or(true), error);
}

BOOST_AUTO_TEST_CASE(loopback_is_held_and_a_test_address_is_not) {
    // A dump of this namespace: 127.0.0.1 is on lo; 198.18.255.254 is on nothing here.
    std::string error;
    BOOST_TEST(holds_address(*IpAddress::parse("127.0.0.1"), &error).value_or(false));
    BOOST_TEST(!holds_address(*IpAddress::parse("198.18.255.254"), &error).value_or(true));
    BOOST_TEST(error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
