// SPDX-License-Identifier: GPL-2.0-or-later
// Gateway config loading: the sample file, defaults, valid variants, and every kind of error
// with its exact file:line:col. Cases are literal YAML with a one-line description each.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/config/gateway_config.hpp"
#include "tests/unit/support/config_cases.hpp"

namespace sara {
namespace {

constexpr const char* file_name = "gateway.yaml";

// Lines 1-3 of most cases: the smallest valid config.
const std::string minimal =
    "vip: 198.18.100.10\n"
    "interface: lan0\n"
    "dispatchers: [\"198.18.2.1:7402\"]\n";

using Expected = test::ExpectedError;
using ErrorCase = test::ConfigErrorCase;

void check_case(const ErrorCase& c) {
    BOOST_TEST_CONTEXT(c.description) {
        const ConfigLoad<GatewayConfig> load = load_gateway_config_from_string(c.yaml, file_name);
        test::check_config_errors(load.errors, c, file_name);
    }
}

std::string sample_path() { return test::find_sample("etc/gateway.yaml", __FILE__); }

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_config)

BOOST_AUTO_TEST_CASE(sample_file_loads_without_errors) {
    const std::string path = sample_path();
    const ConfigLoad<GatewayConfig> load = load_gateway_config(path);
    BOOST_TEST_INFO("sample: " << path << "\n" << format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const GatewayConfig& c = load.config;
    BOOST_TEST(c.gateway_id == 251);
    BOOST_TEST(c.vip.to_string() == "198.18.100.10");
    BOOST_TEST(c.interface == "lan0");
    BOOST_TEST_REQUIRE(c.dispatchers.size() == 2u);
    BOOST_TEST(c.dispatchers[1].to_string() == "198.18.2.2:7402");
    BOOST_TEST_REQUIRE(c.services.size() == 2u);
    BOOST_TEST(c.services[0].name == "sip");
    BOOST_TEST((c.services[0].udp && c.services[0].tcp && c.services[0].port == 5060));
    BOOST_TEST((c.services[1].protocol == ServiceProtocol::rtsp && c.services[1].port == 554));
    BOOST_TEST(c.auth.enabled);
    BOOST_TEST(c.auth.key_file == "/etc/sara/cluster.key");
    // The sample spells out every default.
    BOOST_TEST((c.limits == GatewayLimitsConfig{}));
    BOOST_TEST((c.control == GatewayControlConfig{}));
    BOOST_TEST(c.control.socket == "/run/sara/gateway.sock");
}

BOOST_AUTO_TEST_CASE(defaults_of_a_minimal_config) {
    const ConfigLoad<GatewayConfig> load = load_gateway_config_from_string(minimal, file_name);
    BOOST_TEST_INFO(format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.ok());
    const GatewayConfig& c = load.config;
    BOOST_TEST(c.gateway_id == kFirstGatewayId);
    BOOST_TEST_REQUIRE(c.services.size() == 2u);  // ServiceMap::defaults(): sip (udp+tcp), rtsp
    BOOST_TEST((c.services[0].protocol == ServiceProtocol::sip));
    BOOST_TEST((c.services[1].protocol == ServiceProtocol::rtsp));
    BOOST_TEST((c.auth == AuthConfig{}));
    BOOST_TEST(c.limits.max_streams == 4096u);
    BOOST_TEST(c.limits.snaplen == 262144u);
}

BOOST_AUTO_TEST_CASE(valid_variants) {
    struct Case {
        const char* description;
        std::string yaml;
    };
    const std::vector<Case> cases = {
        {"auth: none", minimal + "auth: none\n"},
        {"highest gateway id", minimal + "gateway_id: 65535\n"},
        {"IPv6 VIP and dispatcher", "vip: '2001:db8::10'\ninterface: eth1\ndispatchers: [\"[2001:db8::1]:7402\"]\n"},
        {"dual-stack VIP", "vip: [198.18.100.10, '2001:db8::10']\ninterface: eth1\ndispatchers: [\"198.18.2.1:7402\"]\n"},
        {"dispatcher.yaml's services pasted, plain and flow_timeout included",
         minimal +
             "services:\n"
             "  - {name: sip, protocol: sip, transport: [udp, tcp], port: 5060, flow_timeout: 30s}\n"
             "  - {name: web, protocol: tcp, port: 80}\n"},
        {"every limit at its bounds",
         minimal + "limits: {max_streams: 1, max_header_bytes: 512, max_body_bytes: 1024, snaplen: 1024, "
                   "capture_buffer_bytes: 65536}\n"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const ConfigLoad<GatewayConfig> load = load_gateway_config_from_string(c.yaml, file_name);
            BOOST_TEST_INFO(format_config_errors(load.errors));
            BOOST_TEST(load.ok());
        }
    }
    BOOST_TEST(!load_gateway_config_from_string(cases[0].yaml, file_name).config.auth.enabled);
    BOOST_TEST(load_gateway_config_from_string(cases[2].yaml, file_name).config.vip.has_v6());
}

BOOST_AUTO_TEST_CASE(required_keys_and_top_level_errors) {
    check_case({"empty mapping", "{}\n",
                {{1, 1, "missing required key 'vip'"},
                 {1, 1, "missing required key 'interface'"},
                 {1, 1, "missing required key 'dispatchers'"}}});
    check_case({"not a mapping", "- vip\n", {{1, 1, "top level: expected a mapping"}}});
    check_case({"unknown key", minimal + "metrics: {listen: \"127.0.0.1:9101\"}\n",
                {{4, 1, "unknown key 'metrics'"}}});
    check_case({"duplicate key", minimal + "vip: 198.18.100.11\n", {{4, 1, "duplicate key 'vip'"}}});
    check_case({"syntax error", "vip: [198.18.100.10\n", {{2, 1, "YAML syntax"}}});
}

BOOST_AUTO_TEST_CASE(field_errors) {
    const std::string tail = "interface: lan0\ndispatchers: [\"198.18.2.1:7402\"]\n";
    check_case({"gateway id in the node range", minimal + "gateway_id: 250\n", {{4, 13, "out of range 251..65535"}}});
    check_case({"unspecified VIP", "vip: 0.0.0.0\n" + tail, {{1, 6, "is unspecified"}}});
    check_case({"VIP not an address", "vip: cluster\n" + tail, {{1, 6, "expected an IPv4 or IPv6 address"}}});
    check_case({"interface name with a slash",
                "vip: 198.18.100.10\ninterface: a/b\ndispatchers: [\"198.18.2.1:7402\"]\n",
                {{2, 12, "is not a network interface name"}}});
    check_case({"no dispatchers", "vip: 198.18.100.10\ninterface: lan0\ndispatchers: []\n",
                {{3, 14, "needs at least one ADDRESS:PORT"}}});
    check_case({"dispatcher listed twice",
                "vip: 198.18.100.10\ninterface: lan0\ndispatchers: [\"198.18.2.1:7402\", \"198.18.2.1:7402\"]\n",
                {{3, 34, "is listed twice"}}});
    check_case({"dispatcher without a port", "vip: 198.18.100.10\ninterface: lan0\ndispatchers: [198.18.2.1]\n",
                {{3, 15, "expected ADDRESS:PORT"}}});
    check_case({"auth word other than none", minimal + "auth: off\n", {{4, 7, "expected 'none' or {key_file: PATH}"}}});
    check_case({"relative key file", minimal + "auth: {key_file: cluster.key}\n",
                {{4, 18, "expected an absolute path"}}});
    check_case({"relative control socket", minimal + "control: {socket: run/gateway.sock}\n",
                {{4, 19, "expected an absolute path"}}});
    check_case({"control socket path too long", minimal + "control: {socket: /" + std::string(110, 'a') + "}\n",
                {{4, 19, "path longer than 107 bytes"}}});
    check_case({"unknown control key", minimal + "control: {listen: /run/sara/gateway.sock}\n",
                {{4, 11, "unknown key 'listen'"}}});
}

BOOST_AUTO_TEST_CASE(service_errors) {
    check_case({"only plain services: nothing to announce",
                minimal + "services:\n  - {name: web, protocol: tcp, port: 80}\n",
                {{5, 3, "no sip or rtsp service"}}});
    check_case({"empty services", minimal + "services: []\n", {{4, 11, "needs at least one service"}}});
    check_case({"rtsp over udp",
                minimal + "services:\n  - {name: rtsp, protocol: rtsp, transport: udp, port: 554}\n",
                {{5, 45, "rtsp runs over tcp only"}}});
    check_case({"port used twice",
                minimal + "services:\n"
                          "  - {name: a, protocol: sip, port: 5060}\n"
                          "  - {name: b, protocol: sip, port: 5060}\n",
                {{6, 36, "udp/5060 already belongs to the service at line 5"},
                 {6, 36, "tcp/5060 already belongs to the service at line 5"}}});
    check_case({"unknown protocol", minimal + "services:\n  - {name: x, protocol: http, port: 80}\n",
                {{5, 25, "unknown value 'http'"}}});
}

BOOST_AUTO_TEST_CASE(limit_errors) {
    check_case({"every limit out of range, all reported",
                minimal + "limits:\n  max_streams: 0\n  max_header_bytes: 100\n  max_body_bytes: 10\n"
                          "  snaplen: 100\n  capture_buffer_bytes: 1\n",
                {{5, 16, "max_streams: 0 is out of range 1..1048576"},
                 {6, 21, "out of range 512..1048576"},
                 {7, 19, "out of range 1024..1048576"},
                 {8, 12, "out of range 1024..262144"},
                 {9, 25, "out of range 65536..1073741824"}}});
    check_case({"unknown limit", minimal + "limits: {max_sessions: 10}\n", {{4, 10, "unknown key 'max_sessions'"}}});
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_read) {
    const ConfigLoad<GatewayConfig> load = load_gateway_config("/nonexistent/gateway.yaml");
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(load.errors[0].line == 0);
    BOOST_TEST(format_config_error(load.errors[0]).find("/nonexistent/gateway.yaml: error: cannot open") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
