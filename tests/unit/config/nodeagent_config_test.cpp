// SPDX-License-Identifier: GPL-2.0-or-later
// Node agent config loading: the sample file, defaults, valid variants, and every kind of
// error with its exact file:line:col. Cases are literal YAML with a one-line description each.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/config/nodeagent_config.hpp"
#include "tests/unit/support/config_cases.hpp"

namespace sara {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* file_name = "agent.yaml";

// Lines 1-3 of most cases: the smallest valid config.
const std::string minimal =
    "node_id: 1\n"
    "dispatchers: [\"198.18.2.1:7400\"]\n"
    "application: {listen: tcp/5060}\n";

using Expected = test::ExpectedError;
using ErrorCase = test::ConfigErrorCase;

void check_case(const ErrorCase& c) {
    BOOST_TEST_CONTEXT(c.description) {
        const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config_from_string(c.yaml, file_name);
        test::check_config_errors(load.errors, c, file_name);
    }
}

std::string sample_path() { return test::find_sample("etc/nodeagent.yaml", __FILE__); }

}  // namespace

BOOST_AUTO_TEST_SUITE(nodeagent_config)

BOOST_AUTO_TEST_CASE(sample_file_loads_without_errors) {
    const std::string path = sample_path();
    const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config(path);
    BOOST_TEST_INFO("sample: " << path << "\n" << format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const NodeAgentConfig& c = load.config;
    BOOST_TEST(c.node_id == 1);
    BOOST_TEST_REQUIRE(c.dispatchers.size() == 2u);
    BOOST_TEST(c.dispatchers[0].to_string() == "198.18.2.1:7400");
    BOOST_TEST(c.dispatchers[1].to_string() == "198.18.2.2:7400");
    BOOST_TEST((c.heartbeat_interval == milliseconds(200)));
    BOOST_TEST((c.load_interval == milliseconds(500)));
    BOOST_TEST((c.application.kind == AppCheckKind::listen));
    BOOST_TEST(c.application.port.to_string() == "udp/5060");
    BOOST_TEST_REQUIRE(c.application.backlog.has_value());
    BOOST_TEST(c.application.backlog->to_string() == "udp/5060");
    BOOST_TEST(c.application.fall == 1u);
    BOOST_TEST((c.load == AgentLoadConfig{}));
    BOOST_TEST_REQUIRE(c.node_setup.has_value());
    BOOST_TEST(c.node_setup->vip.to_string() == "198.18.100.10");
    BOOST_TEST(c.node_setup->interface == "eth0");
    BOOST_TEST(c.node_setup->gateway.to_string() == "198.18.2.254");
    BOOST_TEST((c.auth == AuthConfig{}));
    BOOST_TEST((c.control == AgentControlConfig{}));
}

BOOST_AUTO_TEST_CASE(minimal_config_gets_defaults) {
    const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config_from_string(minimal, file_name);
    BOOST_TEST_INFO(format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const NodeAgentConfig& c = load.config;
    BOOST_TEST((c.heartbeat_interval == milliseconds(200)));
    BOOST_TEST((c.load_interval == milliseconds(500)));
    BOOST_TEST(c.application.port.to_string() == "tcp/5060");
    BOOST_TEST(c.load.io_saturation == 32u);
    BOOST_TEST(c.load.disks.empty());
    BOOST_TEST(!c.node_setup.has_value());
    BOOST_TEST(c.auth.enabled);
    BOOST_TEST(c.auth.key_file == "/etc/sara/cluster.key");
    BOOST_TEST(c.control.socket == "/run/sara/nodeagent.sock");
}

BOOST_AUTO_TEST_CASE(valid_variants_load) {
    struct ValidCase {
        const char* description;
        std::string yaml;
    };
    const std::string head = "node_id: 250\ndispatchers: [\"198.18.2.1:7400\", \"[2001:db8::1]:7400\"]\n";
    const std::vector<ValidCase> cases = {
        {"auth: none", minimal + "auth: none\n"},
        {"unit with a backlog socket and a fall count",
         head + "application: {unit: asterisk.service, backlog: udp/5060, fall: 3}\n"},
        {"command", head + "application: {command: \"test -e /run/app.ok\"}\n"},
        {"node setup without a gateway", minimal + "node_setup: {vip: 198.18.100.10, interface: eth0}\n"},
        {"intervals at their bounds", minimal + "heartbeat_interval: 10ms\nload_interval: 60s\n"},
        {"dual-stack node setup",
         minimal + "node_setup: {vip: [198.18.100.10, '2001:db8:100::10'], interface: eth0, "
                   "gateway: [198.18.2.254, '2001:db8:2::fe']}\n"},
        {"load section", minimal + "load: {io_saturation: 1, disks: [vda, nvme0n1]}\n"},
        {"block style",
         "node_id: 2\n"
         "dispatchers:\n"
         "  - 198.18.2.1:7400\n"
         "application:\n"
         "  listen: udp/5060\n"
         "control:\n"
         "  socket: /tmp/agent.sock\n"},
    };
    for (const ValidCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config_from_string(c.yaml, file_name);
            BOOST_TEST(load.ok(), format_config_errors(load.errors));
        }
    }
    const NodeAgentConfig unit = load_nodeagent_config_from_string(cases[1].yaml, file_name).config;
    BOOST_TEST((unit.application.kind == AppCheckKind::unit));
    BOOST_TEST(unit.application.unit == "asterisk.service");
    BOOST_TEST(unit.application.backlog->to_string() == "udp/5060");
    BOOST_TEST(unit.application.fall == 3u);
    BOOST_TEST(unit.dispatchers[1].to_string() == "[2001:db8::1]:7400");
    const NodeAgentConfig command = load_nodeagent_config_from_string(cases[2].yaml, file_name).config;
    BOOST_TEST((command.application.kind == AppCheckKind::command));
    BOOST_TEST(command.application.command == "test -e /run/app.ok");
    BOOST_TEST(!command.application.backlog.has_value());
    BOOST_TEST(!load_nodeagent_config_from_string(cases[0].yaml, file_name).config.auth.enabled);
    BOOST_TEST(load_nodeagent_config_from_string(cases[3].yaml, file_name).config.node_setup->gateway.empty());
    const NodeSetupConfig dual = *load_nodeagent_config_from_string(cases[5].yaml, file_name).config.node_setup;
    BOOST_TEST(dual.vip.to_string() == "198.18.100.10 and 2001:db8:100::10");
    BOOST_TEST(dual.gateway.to_string() == "198.18.2.254 and 2001:db8:2::fe");
    const NodeAgentConfig load_section = load_nodeagent_config_from_string(cases[6].yaml, file_name).config;
    BOOST_TEST((load_section.load.disks == std::vector<std::string>{"vda", "nvme0n1"}));
}

BOOST_AUTO_TEST_CASE(top_level_errors) {
    check_case({"node_id above 250", "node_id: 251\ndispatchers: [\"198.18.2.1:7400\"]\napplication: {listen: tcp/5060}\n",
                {{1, 10, "node_id: 251 is out of range 1..250"}}});
    check_case({"every required key missing", "heartbeat_interval: 200ms\n",
                {{1, 1, "missing required key 'node_id'"},
                 {1, 1, "missing required key 'dispatchers'"},
                 {1, 1, "missing required key 'application'"}}});
    check_case({"unknown key", minimal + "colour: red\n", {{4, 1, "unknown key 'colour'"}}});
    check_case({"load weights belong to the dispatcher", minimal + "load_weights: {cpu: 1}\n",
                {{4, 1, "weights are the dispatcher's"}}});
    check_case({"duplicate key", minimal + "node_id: 2\n", {{4, 1, "duplicate key 'node_id' (first given at line 1)"}}});
    check_case({"not a mapping", "- 1\n", {{1, 1, "expected a mapping"}}});
    check_case({"heartbeat interval below 10ms", minimal + "heartbeat_interval: 5ms\n",
                {{4, 21, "5ms is out of range 10ms..10s"}}});
    check_case({"load interval without a unit", minimal + "load_interval: 500\n", {{4, 16, "has no unit"}}});
}

BOOST_AUTO_TEST_CASE(dispatcher_errors) {
    const std::string tail = "application: {listen: tcp/5060}\n";
    check_case({"empty list", "node_id: 1\ndispatchers: []\n" + tail, {{2, 14, "needs at least one"}}});
    check_case({"not a list", "node_id: 1\ndispatchers: 198.18.2.1:7400\n" + tail, {{2, 14, "expected a list"}}});
    check_case({"no port", "node_id: 1\ndispatchers: [\"198.18.2.1\"]\n" + tail, {{2, 15, "expected ADDRESS:PORT"}}});
    check_case({"listed twice", "node_id: 1\ndispatchers: [\"198.18.2.1:7400\", \"198.18.2.1:7400\"]\n" + tail,
                {{2, 34, "listed twice (first at line 2)"}}});
    check_case({"unspecified address", "node_id: 1\ndispatchers: [\"0.0.0.0:7400\"]\n" + tail,
                {{2, 15, "0.0.0.0 is unspecified"}}});
    check_case({"two bad entries, both reported",
                "node_id: 1\ndispatchers:\n  - 198.18.2.1\n  - 198.18.2.2:0\n" + tail,
                {{3, 5, "expected ADDRESS:PORT"}, {4, 5, "expected ADDRESS:PORT"}}});
}

BOOST_AUTO_TEST_CASE(application_errors) {
    const std::string head = "node_id: 1\ndispatchers: [\"198.18.2.1:7400\"]\n";
    check_case({"no check", head + "application: {}\n", {{3, 14, "needs one of listen"}}});
    check_case({"two checks: the second is reported", head + "application: {listen: tcp/5060, unit: a.service}\n",
                {{3, 33, "give only one of listen, unit, command (listen is given already)"}}});
    check_case({"three checks: both extra ones reported",
                head + "application:\n  command: 'true'\n  unit: a.service\n  listen: tcp/1\n",
                {{5, 3, "(command is given already)"}, {6, 3, "(command is given already)"}}});
    check_case({"unknown transport", head + "application: {listen: sctp/5060}\n", {{3, 23, "expected tcp/PORT or udp/PORT"}}});
    check_case({"port 0", head + "application: {listen: tcp/0}\n", {{3, 23, "expected tcp/PORT or udp/PORT"}}});
    check_case({"unit without .service", head + "application: {unit: asterisk}\n",
                {{3, 21, "expected a systemd service unit"}}});
    check_case({"unit starting with a dash", head + "application: {unit: -x.service}\n",
                {{3, 21, "expected a systemd service unit"}}});
    check_case({"blank command", head + "application: {command: '  '}\n", {{3, 24, "is blank"}}});
    check_case({"backlog with listen", head + "application: {listen: tcp/5060, backlog: tcp/5061}\n",
                {{3, 33, "only with unit or command"}}});
    check_case({"bad backlog", head + "application: {unit: a.service, backlog: 5060}\n",
                {{3, 41, "expected tcp/PORT or udp/PORT"}}});
    check_case({"fall 0", head + "application: {listen: tcp/5060, fall: 0}\n", {{3, 39, "0 is out of range 1..100"}}});
    check_case({"unknown key", head + "application: {listen: tcp/5060, timeout: 1s}\n",
                {{3, 33, "unknown key 'timeout'; allowed: listen, unit, command, backlog, fall"}}});
}

BOOST_AUTO_TEST_CASE(section_errors) {
    check_case({"io saturation 0", minimal + "load: {io_saturation: 0}\n", {{4, 23, "0 is out of range 1..65535"}}});
    check_case({"empty disk list", minimal + "load: {disks: []}\n", {{4, 15, "name at least one"}}});
    check_case({"disk listed twice", minimal + "load: {disks: [sda, sda]}\n", {{4, 21, "'sda' is listed twice"}}});
    check_case({"bad disk name", minimal + "load: {disks: ['s d']}\n", {{4, 16, "is not a block device name"}}});
    check_case({"node setup without interface", minimal + "node_setup: {vip: 198.18.100.10}\n",
                {{4, 13, "missing required key 'interface'"}}});
    check_case({"a gateway of a family without a VIP",
                minimal + "node_setup: {vip: '2001:db8::10', interface: eth0, gateway: 198.18.2.254}\n",
                {{4, 61, "has no VIP of its family"}}});
    check_case({"two IPv6 VIPs", minimal + "node_setup: {vip: ['2001:db8::10', '2001:db8::11'], interface: eth0}\n",
                {{4, 36, "node_setup.vip: 2001:db8::11 is of the same family as 2001:db8::10"}}});
    check_case({"lo as the interface", minimal + "node_setup: {vip: 198.18.100.10, interface: lo}\n",
                {{4, 45, "not lo"}}});
    check_case({"interface name too long", minimal + "node_setup: {vip: 198.18.100.10, interface: abcdefghijklmnop}\n",
                {{4, 45, "is not a network interface name"}}});
    check_case({"gateway is the VIP",
                minimal + "node_setup: {vip: 198.18.100.10, interface: eth0, gateway: 198.18.100.10}\n",
                {{4, 60, "node_setup.gateway: 198.18.100.10 is the VIP"}}});
    check_case({"auth word other than none", minimal + "auth: off\n", {{4, 7, "expected 'none' or {key_file: PATH}"}}});
    check_case({"auth without key_file", minimal + "auth: {}\n", {{4, 7, "missing required key 'key_file'"}}});
    check_case({"relative key file", minimal + "auth: {key_file: cluster.key}\n", {{4, 18, "expected an absolute path"}}});
    check_case({"control socket path too long", minimal + "control: {socket: /" + std::string(110, 'a') + "}\n",
                {{4, 19, "path longer than 107 bytes"}}});
}

BOOST_AUTO_TEST_CASE(every_error_is_reported_in_file_order) {
    check_case({"five mistakes in one file",
                "node_id: 0\n"
                "dispatchers: [\"198.18.2.1\"]\n"
                "heartbeat_interval: fast\n"
                "application: {listen: tcp/99999}\n"
                "control: {socket: run/agent.sock}\n",
                {{1, 10, "node_id: 0 is out of range"},
                 {2, 15, "expected ADDRESS:PORT"},
                 {3, 21, "expected a duration"},
                 {4, 23, "expected tcp/PORT or udp/PORT"},
                 {5, 19, "expected an absolute path"}}});
    check_case({"syntax error", "node_id: [1\n", {{2, 1, "YAML syntax"}}});
}

BOOST_AUTO_TEST_CASE(app_port_text) {
    BOOST_TEST(AppPort::parse("tcp/5060")->to_string() == "tcp/5060");
    BOOST_TEST(AppPort::parse("udp/65535")->port == 65535);
    for (const char* bad : {"", "tcp", "tcp/", "tcp/0", "tcp/65536", "TCP/5060", "tcp/50a", "tcp/+1", "tcp/ 1"})
        BOOST_TEST(!AppPort::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
