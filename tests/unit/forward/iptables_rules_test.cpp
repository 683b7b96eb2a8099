// SPDX-License-Identifier: GPL-2.0-or-later
// The iptables rules sarad installs (pure text, no kernel): media ranges are marked and left
// untracked in the raw table, before anything else can queue them (issue 14); ip6tables get
// the same rules for an IPv6 VIP (issue 18).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

#include "daemon/forward/iptables_rules.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace sara::test;

namespace {

KernelSetupSpec spec_with_ranges() {
    KernelSetupSpec spec;
    spec.vip = ip("198.18.100.10");
    spec.lan_interface = "eth1";
    spec.signalling_ports = {{IpProto::udp, 5060}, {IpProto::tcp, 5060}, {IpProto::tcp, 554}};
    spec.nodes.push_back(NodeRoute{1, ip("198.18.2.11"), {2, 0, 0, 0, 2, 0x11}, {{20000, 20999}}});
    spec.nodes.push_back(NodeRoute{2, ip("198.18.2.12"), {2, 0, 0, 0, 2, 0x12}, {{21000, 21999}, {40000, 40001}}});
    spec.nodes.push_back(NodeRoute{3, ip("198.18.2.13"), {2, 0, 0, 0, 2, 0x13}, {}});
    return spec;
}

const IptablesTableRules& table(const std::vector<IptablesTableRules>& all, const std::string& name) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const auto& t) { return t.table == name; });
    BOOST_REQUIRE(it != all.end());
    return *it;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(iptables_rules)

BOOST_AUTO_TEST_CASE(media_ranges_are_marked_and_untracked_in_the_raw_table) {
    const auto rules = sara_iptables_rules(spec_with_ranges());
    const std::vector<std::string> want = {
        "SARA-RAW -p tcp -m tcp --syn -j CT --notrack",
        "SARA-RAW -p udp -m udp --dport 5060 -j CT --notrack",
        "SARA-RAW -p udp -m udp --dport 20000:20999 -j MARK --set-xmark 0x1/0xffff",
        "SARA-RAW -p udp -m udp --dport 20000:20999 -j CT --notrack",
        "SARA-RAW -p udp -m udp --dport 21000:21999 -j MARK --set-xmark 0x2/0xffff",
        "SARA-RAW -p udp -m udp --dport 21000:21999 -j CT --notrack",
        "SARA-RAW -p udp -m udp --dport 40000:40001 -j MARK --set-xmark 0x2/0xffff",
        "SARA-RAW -p udp -m udp --dport 40000:40001 -j CT --notrack",
    };
    BOOST_TEST(table(rules, "raw").rules == want, boost::test_tools::per_element());
    // The marked packets take mangle's fast path: the degrade rule, then the mark ACCEPT,
    // both after the signalling queue rules (which a range never covers).
    const auto& pre = table(rules, "mangle").rules;
    BOOST_REQUIRE(pre.size() >= 3u);
    BOOST_TEST(pre[pre.size() - 2] == "SARA-PRE -j NFQUEUE --queue-num 0 --queue-bypass");
    BOOST_TEST(pre[pre.size() - 3] == "SARA-PRE -m mark ! --mark 0x0/0xffff -j ACCEPT");
}

BOOST_AUTO_TEST_CASE(without_ranges_the_raw_table_only_untracks_syns_and_udp_signalling) {
    KernelSetupSpec spec = spec_with_ranges();
    for (NodeRoute& n : spec.nodes) n.media_ports.clear();
    spec.signalling_ports.push_back({IpProto::udp, 5060});  // named twice: one rule
    spec.signalling_ports.push_back({IpProto::udp, 5080});
    const auto rules = sara_iptables_rules(spec);
    BOOST_TEST(table(rules, "raw").rules ==
                   std::vector<std::string>({"SARA-RAW -p tcp -m tcp --syn -j CT --notrack",
                                             "SARA-RAW -p udp -m udp --dport 5060 -j CT --notrack",
                                             "SARA-RAW -p udp -m udp --dport 5080 -j CT --notrack"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(raw_mode_queues_everything_even_ranged_media) {
    KernelSetupSpec spec = spec_with_ranges();
    spec.raw_mode = true;
    const auto rules = sara_iptables_rules(spec);
    BOOST_TEST(rules.size() == 1u);
    BOOST_TEST(table(rules, "mangle").rules ==
                   std::vector<std::string>({"SARA-PRE -j NFQUEUE --queue-num 0 --queue-bypass",
                                             "SARA-DEFRAG -m socket -j RETURN"}),
               boost::test_tools::per_element());
    // The defrag chain is never jumped to: its rule only turns the kernel's IPv4 defrag on.
    BOOST_TEST(table(rules, "mangle").jumps == std::vector<std::string>{"PREROUTING -d 198.18.100.10/32 -j SARA-PRE"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ip6tables_get_the_same_rules_for_the_ipv6_vip) {
    KernelSetupSpec spec = spec_with_ranges();
    const auto v4_only = sara_iptables_rules(spec, 6);
    BOOST_TEST(v4_only.empty());  // no IPv6 VIP: nothing for ip6tables (its leftovers go)
    spec.vip.add(ip("2001:db8::10"));
    const auto v4 = sara_iptables_rules(spec, 4);
    const auto v6 = sara_iptables_rules(spec, 6);
    BOOST_REQUIRE(v6.size() == v4.size() + 1);
    // IPv6 only: no ICMPv6 redirect ever leaves (there is no send_redirects to turn off).
    BOOST_TEST(table(v6, "filter").rules ==
                   std::vector<std::string>{"SARA-OUT -p ipv6-icmp -m icmp6 --icmpv6-type redirect -j DROP"},
               boost::test_tools::per_element());
    for (size_t i = 0; i < v4.size(); ++i) {
        BOOST_TEST(v6[i].table == v4[i].table);
        BOOST_TEST(v6[i].rules == v4[i].rules, boost::test_tools::per_element());
    }
    BOOST_TEST(table(v6, "mangle").jumps ==
                   std::vector<std::string>({"PREROUTING -d 2001:db8::10/128 -j SARA-PRE", "FORWARD -j SARA-FWD"}),
               boost::test_tools::per_element());
    BOOST_TEST(table(v4, "mangle").jumps ==
                   std::vector<std::string>({"PREROUTING -d 198.18.100.10/32 -j SARA-PRE", "FORWARD -j SARA-FWD"}),
               boost::test_tools::per_element());
    // IPv6 alone: nothing for iptables.
    spec.vip = VipSet(ip("2001:db8::10"));
    BOOST_TEST(sara_iptables_rules(spec, 4).empty());
}

BOOST_AUTO_TEST_CASE(raw_mode_queues_every_ipv6_packet_and_turns_ipv6_defrag_on) {
    KernelSetupSpec spec = spec_with_ranges();
    spec.raw_mode = true;
    spec.vip = VipSet(ip("2001:db8::10"));
    const auto rules = sara_iptables_rules(spec, 6);
    BOOST_TEST(rules.size() == 1u);  // no SARA-OUT: raw mode routes nothing
    BOOST_TEST(table(rules, "mangle").rules ==
                   std::vector<std::string>({"SARA-PRE -j NFQUEUE --queue-num 0 --queue-bypass",
                                             "SARA-DEFRAG -m socket -j RETURN"}),
               boost::test_tools::per_element());
    BOOST_TEST(table(rules, "mangle").jumps == std::vector<std::string>{"PREROUTING -d 2001:db8::10/128 -j SARA-PRE"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_ipv6_next_hop_is_the_link_local_address_of_the_nodes_mac) {
    // RFC 4291 appendix A: the universal/local bit inverted, ff:fe in the middle.
    BOOST_TEST(node_link_local({0x02, 0x00, 0x00, 0x00, 0x02, 0x11}).to_string() == "fe80::ff:fe00:211");
    BOOST_TEST(node_link_local({0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5d}).to_string() == "fe80::21b:21ff:fe3a:4c5d");
}

BOOST_AUTO_TEST_CASE(the_spec_takes_ipv6_in_both_modes) {
    KernelSetupSpec spec = spec_with_ranges();
    spec.vip.add(ip("2001:db8::10"));
    std::string errors;
    BOOST_TEST(!validate_kernel_setup_spec(spec, &errors), errors);
    spec.raw_mode = true;  // raw mode writes IPv6 frames too
    BOOST_TEST(!validate_kernel_setup_spec(spec, &errors), errors);
    // With an IPv4 VIP every node needs an IPv4 address (its route's next hop); without one,
    // any address will do (the IPv6 next hop comes from the MAC).
    spec.raw_mode = false;
    spec.nodes[0].address = ip("2001:db8::11");
    errors.clear();
    BOOST_TEST(bool(validate_kernel_setup_spec(spec, &errors)));
    BOOST_TEST(errors.find("must be IPv4 with an IPv4 VIP") != std::string::npos, errors);
    spec.vip = VipSet(ip("2001:db8::10"));
    errors.clear();
    BOOST_TEST(!validate_kernel_setup_spec(spec, &errors), errors);
}

BOOST_AUTO_TEST_SUITE_END()
