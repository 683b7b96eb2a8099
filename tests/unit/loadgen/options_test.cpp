// SPDX-License-Identifier: GPL-2.0-or-later
// sip-loadgen over IPv6: the command line's IPv6 hosts (bare, bracketed, with a port), the
// one-family rule for --local and --target, and the socket addresses of both families,
// including a datagram sent and received over ::1 through SendQueue and RecvBatch.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tests/loadgen/options.hpp"
#include "tests/loadgen/udp.hpp"

namespace sara::loadgen {
namespace {

std::string uac(std::initializer_list<std::string> more, UacOptions& u) {
    std::vector<std::string> args{"--rate", "100", "--calls", "10"};
    args.insert(args.end(), more);
    return parse_uac_options(args, u);
}

BOOST_AUTO_TEST_SUITE(loadgen_options)

BOOST_AUTO_TEST_CASE(endpoints_take_ipv6_bare_bracketed_or_with_a_port) {
    Endpoint e{"", 5060};
    BOOST_TEST(parse_endpoint("2001:db8:100::10", e));
    BOOST_TEST(e.host == "2001:db8:100::10");
    BOOST_TEST(e.port == 5060);               // a bare address has no room for a port
    BOOST_TEST(parse_endpoint("[2001:db8:1::2]", e));
    BOOST_TEST(e.host == "2001:db8:1::2");
    BOOST_TEST(e.port == 5060);
    BOOST_TEST(parse_endpoint("[2001:db8:1::2]:5070", e));
    BOOST_TEST(e.host == "2001:db8:1::2");
    BOOST_TEST(e.port == 5070);
    BOOST_TEST(parse_endpoint("[2001:DB8:0:0::0:1]", e));
    BOOST_TEST(e.host == "2001:db8::1");      // RFC 5952 form, as the messages write it
    BOOST_TEST(parse_endpoint("198.18.0.10:5062", e));
    BOOST_TEST(e.host == "198.18.0.10");
    BOOST_TEST(e.port == 5062);
    for (const char* bad : {"[2001:db8::1]:0", "[2001:db8::1]:70000", "[2001:db8::1", "2001:db8::1]",
                            "[198.18.0.10]:5060", "[]", "[2001:db8::1]5060", "2001:db8::g", "198.18.0.10:"})
        BOOST_TEST(!parse_endpoint(bad, e), bad);
}

BOOST_AUTO_TEST_CASE(uac_options_read_ipv6_and_keep_one_family) {
    UacOptions u;
    BOOST_TEST(uac({"--target", "[2001:db8:100::10]:5060", "--local", "[2001:db8:1::2]:5070"}, u) == "");
    BOOST_TEST(u.target.host == "2001:db8:100::10");
    BOOST_TEST(u.local.host == "2001:db8:1::2");
    BOOST_TEST(u.local.port == 5070);
    UacOptions v;
    BOOST_TEST(uac({"--target", "2001:db8:100::10"}, v) == "");   // --local: the wildcard of the family
    BOOST_TEST(v.local.host.empty());
    UacOptions w;
    BOOST_TEST(uac({"--target", "[2001:db8:100::10]:5060", "--local", "198.18.1.2"}, w) != "");
    UacOptions x;
    BOOST_TEST(uac({"--target", "198.18.100.10", "--local", "2001:db8:1::2"}, x) != "");
    UasOptions s;
    BOOST_TEST(parse_uas_options({"--listen", "[2001:db8:100::10]:5060"}, s) == "");
    BOOST_TEST(s.listen.host == "2001:db8:100::10");
    BOOST_TEST(s.listen.port == 5060);
}

BOOST_AUTO_TEST_CASE(socket_addresses_of_both_families) {
    const sockaddr_storage a6 = to_sockaddr(Endpoint{"2001:db8:100::10", 5060});
    BOOST_TEST(a6.ss_family == AF_INET6);
    BOOST_TEST(sockaddr_length(a6) == sizeof(sockaddr_in6));
    BOOST_TEST(to_string(from_sockaddr(a6)) == "[2001:db8:100::10]:5060");
    const sockaddr_storage a4 = to_sockaddr(Endpoint{"198.18.100.10", 5060});
    BOOST_TEST(a4.ss_family == AF_INET);
    BOOST_TEST(sockaddr_length(a4) == sizeof(sockaddr_in));
    BOOST_TEST(to_string(from_sockaddr(a4)) == "198.18.100.10:5060");
    BOOST_CHECK_THROW(to_sockaddr(Endpoint{"not-an-address", 1}), std::invalid_argument);
}

// One datagram over IPv6 loopback (a host booted without IPv6 has no ::1: then skipped).
BOOST_AUTO_TEST_CASE(a_datagram_goes_over_ipv6_loopback) {
    const int rx = open_udp(Endpoint{"::1", 0}, 0, false);
    if (rx < 0) {
        BOOST_TEST_MESSAGE("no ::1 here (" << std::strerror(errno) << "): skipped");
        return;
    }
    const int tx = open_udp(Endpoint{"::1", 0}, 0, false);
    BOOST_TEST_REQUIRE(tx >= 0);
    const Endpoint to = local_endpoint(rx), from = local_endpoint(tx);
    BOOST_TEST(to.host == "::1");
    SendQueue q;
    q.add(tx, to_sockaddr(to), "OPTIONS sip:[::1] SIP/2.0\r\n\r\n");
    BOOST_TEST(q.flush() == 0u);
    RecvBatch batch;
    size_t n = 0;
    for (int i = 0; i < 100 && n == 0; ++i) {
        n = batch.receive(rx);
        if (n == 0) usleep(1000);
    }
    BOOST_TEST_REQUIRE(n == 1u);
    BOOST_TEST(batch.datagram(0) == "OPTIONS sip:[::1] SIP/2.0\r\n\r\n");
    BOOST_TEST(to_string(from_sockaddr(batch.source(0))) == to_string(from));
    close(tx);
    close(rx);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara::loadgen
