// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "daemon/ha/address_watch.hpp"

using namespace sara;

namespace {

// One RTM_NEWADDR/RTM_DELADDR message as the kernel sends it: nlmsghdr, ifaddrmsg, then
// IFA_ADDRESS and (unless `local` is null) IFA_LOCAL, each a 4-byte IPv4 attribute.
void append_address(std::vector<uint8_t>& out, uint16_t type, uint8_t family, const uint8_t* address,
                    const uint8_t* local) {
    const size_t attr = NLA_HDRLEN + 4;
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
        std::memcpy(m.data() + at + NLA_HDRLEN, a, 4);
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
    add("an IPv6 family byte is not ours", [](auto& m) { append_address(m, RTM_NEWADDR, AF_INET6, floating, floating); },
        std::nullopt);
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

BOOST_AUTO_TEST_CASE(loopback_is_held_and_a_test_address_is_not) {
    // A dump of this namespace: 127.0.0.1 is on lo; 198.18.255.254 is on nothing here.
    std::string error;
    BOOST_TEST(holds_address(*IpAddress::parse("127.0.0.1"), &error).value_or(false));
    BOOST_TEST(!holds_address(*IpAddress::parse("198.18.255.254"), &error).value_or(true));
    BOOST_TEST(error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
