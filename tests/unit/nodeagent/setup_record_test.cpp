// SPDX-License-Identifier: GPL-2.0-or-later
// The node setup record: what a later stop (or, after a crash, the next start) undoes. Literal
// record texts, including the ones that must be refused.
#include <boost/test/unit_test.hpp>

#include <string>

#include "nodeagent/setup/node_setup.hpp"
#include "nodeagent/setup/setup_record.hpp"

namespace sara::nodeagent {

BOOST_AUTO_TEST_SUITE(nodeagent_setup_record)

BOOST_AUTO_TEST_CASE(round_trip) {
    SetupRecord record;
    record.sysctls = {{"net/ipv4/conf/all/arp_ignore", 0, 1}, {"net/ipv4/conf/eth0/arp_announce", 1, 2}};
    const IpAddress vip = *IpAddress::parse("198.18.100.10"), vip6 = *IpAddress::parse("2001:db8:100::10");
    record.addresses = {{"lo", vip}, {"lo", vip6}};
    record.routes = {{"eth0", *IpAddress::parse("198.18.2.254"), vip}, {"eth0", *IpAddress::parse("2001:db8:2::fe"), vip6}};
    record.saved_routes = {{0x3c, 0x00, 0x00, 0x00, 0x18, 0x00}, {0xff}};
    const std::string text = format_setup_record(record);
    BOOST_TEST(text ==
               "sara-nodeagent node-setup 1\n"
               "sysctl net/ipv4/conf/all/arp_ignore 0 1\n"
               "sysctl net/ipv4/conf/eth0/arp_announce 1 2\n"
               "address lo 198.18.100.10/32\n"
               "address lo 2001:db8:100::10/128\n"
               "route eth0 198.18.2.254 198.18.100.10\n"
               "route eth0 2001:db8:2::fe 2001:db8:100::10\n"
               "saved-route 3c0000001800\n"
               "saved-route ff\n");
    std::string error;
    const std::optional<SetupRecord> parsed = parse_setup_record(text, &error);
    BOOST_TEST_REQUIRE(parsed.has_value(), error);
    BOOST_TEST((*parsed == record));
    const std::optional<SetupRecord> nothing = parse_setup_record("sara-nodeagent node-setup 1\n", &error);
    BOOST_TEST_REQUIRE(nothing.has_value());
    BOOST_TEST(nothing->empty());
}

BOOST_AUTO_TEST_CASE(refused_records) {
    const std::string v = "sara-nodeagent node-setup 1\n";
    struct Case {
        const char* description;
        std::string text;
    };
    const std::vector<Case> cases = {
        {"empty file", ""},
        {"another version", "sara-nodeagent node-setup 2\n"},
        {"a sysctl outside net/ipv4/conf", v + "sysctl kernel/panic 0 1\n"},
        {"a sysctl path climbing out", v + "sysctl net/ipv4/conf/../../../kernel/panic 0 1\n"},
        {"a sysctl value that is not a number", v + "sysctl net/ipv4/conf/all/arp_ignore x 1\n"},
        {"an IPv6 VIP with an IPv4 host prefix", v + "address lo 2001:db8::1/32\n"},
        {"an IPv4 VIP with an IPv6 host prefix", v + "address lo 198.18.100.10/128\n"},
        {"a route whose gateway and source differ in family", v + "route eth0 2001:db8:2::fe 198.18.100.10\n"},
        {"an address without /32", v + "address lo 198.18.100.10\n"},
        {"an interface name with a slash", v + "address l/o 198.18.100.10/32\n"},
        {"odd hex", v + "saved-route abc\n"},
        {"not hex", v + "saved-route zz\n"},
        {"an unknown line", v + "firewall off\n"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::string error;
            BOOST_TEST(!parse_setup_record(c.text, &error).has_value());
            BOOST_TEST(!error.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(record_path_beside_the_control_socket) {
    BOOST_TEST(setup_record_path("/run/sara/nodeagent.sock") == "/run/sara/nodeagent.setup");
    BOOST_TEST(setup_record_path("/tmp/agent") == "/tmp/agent.setup");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
