// SPDX-License-Identifier: GPL-2.0-or-later
// The capture filter from the config: its exact text for the usual service lists, and that
// libpcap compiles what it builds (on the link types a capture gets) but not a broken filter.
#include <boost/test/unit_test.hpp>

#include <pcap/dlt.h>

#include <string>
#include <vector>

#include "common/config/gateway_config.hpp"
#include "gateway/capture_filter.hpp"
#include "gateway/gateway_settings.hpp"

namespace sara::gateway {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

Service service(ServiceProtocol protocol, bool udp, bool tcp, uint16_t port) {
    Service s;
    s.name = "s" + std::to_string(port);
    s.protocol = protocol;
    s.udp = udp;
    s.tcp = tcp;
    s.port = port;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_capture_filter)

BOOST_AUTO_TEST_CASE(filter_text) {
    struct Case {
        const char* description;
        const char* vip;
        std::vector<Service> services;
        std::string filter;
    };
    const std::vector<Case> cases = {
        {"the default services", "198.18.100.10", default_gateway_services(),
         "src host 198.18.100.10 and (udp src port 5060 or tcp src port 5060 or tcp src port 554)"},
        {"an IPv6 VIP", "2001:db8::10", {service(ServiceProtocol::rtsp, false, true, 8554)},
         "src host 2001:db8::10 and (tcp src port 8554)"},
        {"plain services are left out", "198.18.100.10",
         {service(ServiceProtocol::plain, false, true, 80), service(ServiceProtocol::sip, true, false, 5070)},
         "src host 198.18.100.10 and (udp src port 5070)"},
        {"only plain services: no filter", "198.18.100.10", {service(ServiceProtocol::plain, true, false, 53)}, ""},
    };
    // Dual stack (issue 18): the nodes' replies from either VIP.
    VipSet dual(ip("198.18.100.10"));
    dual.add(ip("2001:db8:100::10"));
    const std::string both = capture_filter(dual, default_gateway_services());
    BOOST_TEST(both ==
               "(src host 198.18.100.10 or src host 2001:db8:100::10) and (udp src port 5060 or tcp src port 5060 or "
               "tcp src port 554)");
    BOOST_TEST(filter_problem(both, DLT_EN10MB, 262144) == "");
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const std::string filter = capture_filter(ip(c.vip), c.services);
            BOOST_TEST(filter == c.filter);
            if (!filter.empty()) {
                BOOST_TEST(filter_problem(filter, DLT_EN10MB, 262144) == "");
                BOOST_TEST(filter_problem(filter, DLT_LINUX_SLL, 262144) == "");
                BOOST_TEST(filter_problem(filter, DLT_RAW, 262144) == "");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_broken_filter_is_reported) {
    BOOST_TEST(filter_problem("src host and (", DLT_EN10MB, 65535) != "");
}

BOOST_AUTO_TEST_CASE(settings_from_the_config) {
    const ConfigLoad<GatewayConfig> load = load_gateway_config_from_string(
        "vip: 198.18.100.10\ninterface: lan0\ndispatchers: [\"198.18.2.1:7402\"]\n"
        "services: [{name: rtsp, protocol: rtsp, port: 554}]\n"
        "limits: {snaplen: 2048, capture_buffer_bytes: 65536, max_streams: 7, max_header_bytes: 1000, "
        "max_body_bytes: 2000}\n");
    BOOST_TEST_REQUIRE(load.ok());
    const CaptureSettings s = capture_settings(load.config);
    BOOST_TEST(s.interface == "lan0");
    BOOST_TEST(s.filter == "src host 198.18.100.10 and (tcp src port 554)");
    BOOST_TEST(s.snaplen == 2048);
    BOOST_TEST(s.buffer_bytes == 65536);
    BOOST_TEST(capture_problem(load.config) == "");
    const InspectorLimits limits = inspector_limits(load.config.limits);
    BOOST_TEST(limits.max_streams == 7u);
    BOOST_TEST((limits.sip.max_header_bytes == 1000u && limits.rtsp.max_header_bytes == 1000u));
    BOOST_TEST((limits.sip.max_body_bytes == 2000u && limits.rtsp.max_body_bytes == 2000u));

    // What a reload rebuilds: the inspector for VIP, services and its limits, not for the rest.
    GatewayConfig next = load.config;
    next.dispatchers.clear();
    next.limits.snaplen = 4096;
    BOOST_TEST(!inspection_changed(load.config, next));
    next.limits.max_streams = 8;
    BOOST_TEST(inspection_changed(load.config, next));
    next = load.config;
    next.services[0].port = 8554;
    BOOST_TEST(inspection_changed(load.config, next));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::gateway
