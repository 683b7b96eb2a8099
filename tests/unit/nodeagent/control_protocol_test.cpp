// SPDX-License-Identifier: GPL-2.0-or-later
// The control socket's request lines, `drain --at` times, and the status text printed for
// people. The socket itself is common/net's (tests/unit/net/line_control_test.cpp).
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "nodeagent/control_protocol.hpp"
#include "nodeagent/status_text.hpp"

namespace sara::nodeagent {

BOOST_AUTO_TEST_SUITE(nodeagent_control)

BOOST_AUTO_TEST_CASE(request_lines) {
    using Kind = ControlRequest::Kind;
    struct Case {
        const char* description;
        std::string line;
        std::optional<ControlRequest> expected;
    };
    const std::vector<Case> cases = {
        {"status", "status\n", ControlRequest{Kind::status, 0}},
        {"undrain with CRLF", "undrain\r\n", ControlRequest{Kind::undrain, 0}},
        {"drain with a time", "drain 1767225600", ControlRequest{Kind::drain, 1767225600}},
        {"drain at the last 32-bit second", "drain 4294967295\n", ControlRequest{Kind::drain, 4294967295u}},
        {"drain past 2106", "drain 4294967296\n", std::nullopt},
        {"drain without a time", "drain\n", std::nullopt},
        {"drain with a relative time (the client resolves those)", "drain +30\n", std::nullopt},
        {"unknown word", "reboot\n", std::nullopt},
        {"extra words", "status now\n", std::nullopt},
        {"empty", "", std::nullopt},
        {"too long", "status" + std::string(300, ' '), std::nullopt},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::string error;
            const std::optional<ControlRequest> got = parse_control_request(c.line, &error);
            BOOST_TEST(got.has_value() == c.expected.has_value());
            if (got && c.expected) BOOST_TEST((*got == *c.expected));
            if (!got) BOOST_TEST(!error.empty());
        }
    }
    for (const ControlRequest& r : {ControlRequest{Kind::drain, 42}, ControlRequest{Kind::undrain, 0},
                                     ControlRequest{Kind::status, 0}})
        BOOST_TEST((*parse_control_request(format_control_request(r), nullptr) == r));
}

BOOST_AUTO_TEST_CASE(drain_times) {
    BOOST_TEST(*parse_drain_time("1767225600", 1000, nullptr) == 1767225600u);
    BOOST_TEST(*parse_drain_time("+30", 1000, nullptr) == 1030u);
    BOOST_TEST(*parse_drain_time("+0", 1000, nullptr) == 1000u);
    BOOST_TEST(*parse_drain_time("0", 1000, nullptr) == 0u);
    std::string error;
    BOOST_TEST(!parse_drain_time("+4294967295", 1000, &error));
    BOOST_TEST(error.find("2106") != std::string::npos);
    BOOST_TEST(!parse_drain_time("4294967296", 0, nullptr));
    BOOST_TEST(!parse_drain_time("-5", 1000, nullptr));
    BOOST_TEST(!parse_drain_time("+", 1000, nullptr));
    BOOST_TEST(!parse_drain_time("10s", 1000, nullptr));
    BOOST_TEST(!parse_drain_time("", 1000, nullptr));
}

BOOST_AUTO_TEST_CASE(status_text) {
    const nlohmann::json status = nlohmann::json::parse(R"({
        "ok": true, "node_id": 3, "dispatchers": ["198.18.2.1:7400", "198.18.2.2:7400"], "auth": "none",
        "heartbeat": {"interval_ms": 100, "seq": 41, "flag": 2, "timestamp": 1767225600, "bytes": 15},
        "load": {"interval_ms": 500, "seq": 8, "cpu": 0.25, "memory": 0.5, "net": 0.0, "io": 0.125,
                 "backlog": 1.0, "bytes": 24},
        "application": {"check": "listen tcp/5060", "up": false, "problem": "no socket listening on tcp/5060"},
        "drain": {"state": "draining", "at": 1767225600},
        "counters": {"heartbeats_sent_total": 41, "load_vectors_sent_total": 8, "send_errors_total": 0}})");
    const std::string text = format_status_text(status);
    BOOST_TEST_INFO(text);
    BOOST_TEST(text.find("node 3 -> 198.18.2.1:7400, 198.18.2.2:7400 (auth none)") != std::string::npos);
    BOOST_TEST(text.find("seq 41, flag 2 drain, timestamp 1767225600, 15 bytes") != std::string::npos);
    BOOST_TEST(text.find("cpu 0.250, memory 0.500, net 0.000, io 0.125, backlog 1.000") != std::string::npos);
    BOOST_TEST(text.find("listen tcp/5060: down (no socket listening on tcp/5060)") != std::string::npos);
    BOOST_TEST(text.find("draining, planned failure at 1767225600") != std::string::npos);
    BOOST_TEST(text.find("41 heartbeats, 8 load vectors, 0 send errors") != std::string::npos);
    // A status with nothing sent yet prints placeholders rather than failing.
    BOOST_TEST(format_status_text(nlohmann::json::object()).find("seq -") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
