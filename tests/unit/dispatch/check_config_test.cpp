// SPDX-License-Identifier: GPL-2.0-or-later
// `sarad --check-config` refuses what start refuses: the loader's start checks (IPv4 VIP and
// node addresses, lan_interface) with file:line:col, and the same verdict as the kernel
// setup's own validation of the spec start builds from the config.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "daemon/dispatch/runtime.hpp"
#include "daemon/forward/kernel_setup.hpp"
#include "tests/unit/support/config_cases.hpp"

namespace sara {
namespace {

constexpr const char* file_name = "test.yaml";

const std::string node_line = "nodes: [{id: 1, name: node1, address: 198.18.2.11, mac: '02:00:00:00:02:11'}]\n";
const std::string startable = "vip: 198.18.100.10\nlan_interface: eth1\n" + node_line;

ConfigLoad<DispatcherConfig> load_for_start(const std::string& yaml) {
    return load_dispatcher_config_from_string(yaml, file_name, DispatcherChecks::start);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(check_config)

BOOST_AUTO_TEST_CASE(start_checks_report_each_problem_at_its_position) {
    const std::vector<test::ConfigErrorCase> cases = {
        {"no lan_interface", "vip: 198.18.100.10\n" + node_line, {{1, 1, "missing required key 'lan_interface'"}}},
        {"no lan_interface in raw mode: one error, not two",
         "vip: 198.18.100.10\nforwarding: {mode: raw}\n" + node_line, {{1, 1, "missing required key 'lan_interface'"}}},
        {"an IPv6 node address",
         "vip: 198.18.100.10\nlan_interface: eth1\n"
         "nodes: [{id: 1, name: n, address: '2001:db8::11', mac: '02:00:00:00:02:11'}]\n",
         {{3, 35, "with an IPv4 VIP a node's address must be IPv4"}}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            test::check_config_errors(load_for_start(c.yaml).errors, c, file_name);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_format_alone_still_accepts_what_start_refuses) {
    // An IPv6 node address with an IPv4 VIP: the schema takes it, start has no IPv4 next hop.
    const std::string v6_node = "nodes: [{id: 1, name: n, address: '2001:db8::11', mac: '02:00:00:00:02:11'}]\n";
    for (const std::string& yaml : {"vip: 198.18.100.10\n" + v6_node, "vip: 198.18.100.10\n" + node_line}) {
        BOOST_TEST_CONTEXT(yaml) { BOOST_TEST(load_dispatcher_config_from_string(yaml, file_name).ok()); }
    }
    BOOST_TEST(load_for_start(startable).ok());
    // IPv6 alone, and dual stack, start (route mode, netfilter fast path).
    BOOST_TEST(load_for_start("vip: 2001:db8::10\nlan_interface: eth1\n" + node_line).ok());
    BOOST_TEST(load_for_start("vip: 2001:db8::10\nlan_interface: eth1\n" + v6_node).ok());
    BOOST_TEST(load_for_start("vip: [198.18.100.10, '2001:db8::10']\nlan_interface: eth1\n" + node_line).ok());
}

// Every config the format accepts: the start checks refuse it exactly when the kernel setup
// would refuse the spec start builds from it (the second validation start makes).
BOOST_AUTO_TEST_CASE(check_config_refuses_exactly_what_the_kernel_setup_refuses) {
    const std::vector<std::string> configs = {
        startable,
        "vip: 2001:db8::10\nlan_interface: eth1\n" + node_line,
        "vip: 198.18.100.10\n" + node_line,
        "vip: 198.18.100.10\nlan_interface: eth1\n"
        "nodes: [{id: 1, name: n, address: '2001:db8::11', mac: '02:00:00:00:02:11'}]\n",
        "vip: 198.18.100.10\nlan_interface: eth1\nqueue: {first: 65472, count: 64}\n" + node_line,
        "vip: 198.18.100.10\nlan_interface: eth1\n"
        "nodes: [{id: 250, name: a, address: 198.18.2.11, mac: '02:00:00:00:02:11'},\n"
        "        {id: 1, name: b, address: 198.18.2.12, mac: '02:00:00:00:02:12', media_ports: 6000-6999}]\n",
        "vip: 198.18.100.10\nlan_interface: eth1\nforwarding: {mode: raw}\n" + node_line,
        "vip: 2001:db8::10\nlan_interface: eth1\nforwarding: {mode: raw}\n" + node_line,
        "vip: [198.18.100.10, '2001:db8::10']\nlan_interface: eth1\n" + node_line,
        "vip: '2001:db8::10'\nlan_interface: eth1\n"
        "nodes: [{id: 1, name: n, address: '2001:db8::11', mac: '02:00:00:00:02:11'}]\n",
    };
    for (const std::string& yaml : configs) {
        BOOST_TEST_CONTEXT(yaml) {
            const ConfigLoad<DispatcherConfig> format = load_dispatcher_config_from_string(yaml, file_name);
            BOOST_TEST_REQUIRE(format.ok());
            std::string kernel_errors;
            const bool kernel_refuses = bool(validate_kernel_setup_spec(kernel_spec(format.config), &kernel_errors));
            BOOST_TEST_INFO("kernel setup: " << kernel_errors);
            BOOST_TEST(!load_for_start(yaml).ok() == kernel_refuses);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
