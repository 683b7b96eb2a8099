// SPDX-License-Identifier: GPL-2.0-or-later
// The control socket's request lines, `drain --at` times, and the status text printed for
// people; plus one exchange over a real Unix socket served by an epoll loop as the agent does.
#include <boost/test/unit_test.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "common/util/clock.hpp"
#include "nodeagent/control_protocol.hpp"
#include "nodeagent/control_server.hpp"
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

BOOST_AUTO_TEST_CASE(exchange_over_a_unix_socket) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("sara-agent-test-" + std::to_string(::getpid()) + "/agent.sock")).string();
    const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    BOOST_TEST_REQUIRE(epoll_fd >= 0);
    SteadyClock clock;
    std::string error;
    std::vector<std::string> seen;
    auto server = ControlServer::open(
        path, epoll_fd, [&](std::string_view line) {
            seen.emplace_back(line);
            return std::string("{\"ok\":true}\n");
        },
        clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    BOOST_TEST(((std::filesystem::status(path).permissions() & std::filesystem::perms::others_all) ==
                std::filesystem::perms::none));

    std::atomic<bool> done{false};
    std::optional<std::string> reply;
    std::string client_error;
    std::thread client([&] {
        reply = control_call(path, "status\n", &client_error);
        done = true;
    });
    for (int i = 0; i < 300 && !done; ++i) {
        epoll_event events[4];
        const int n = ::epoll_wait(epoll_fd, events, 4, 10);
        for (int k = 0; k < n; ++k) BOOST_TEST(server->handle(events[k].data.fd));
    }
    client.join();
    BOOST_TEST_REQUIRE(reply.has_value(), client_error);
    BOOST_TEST(*reply == "{\"ok\":true}\n");
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0] == "status");
    BOOST_TEST(!server->handle(12345));  // not one of its descriptors
    // A second agent on the same path is refused while the first one listens.
    BOOST_TEST(!ControlServer::open(path, epoll_fd, [](std::string_view) { return std::string(); }, clock, &error));
    BOOST_TEST(error.find("another sara-nodeagent listens on it") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(path));

    // The socket file goes with the server. A stale one (a bound socket nobody listens on, as
    // a killed agent leaves it) is replaced; a file that is not a socket is never removed.
    server.reset();
    BOOST_TEST(!std::filesystem::exists(path));
    {
        const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        BOOST_TEST_REQUIRE(::bind(stale, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
        ::close(stale);
    }
    auto again = ControlServer::open(path, epoll_fd, [](std::string_view) { return std::string(); }, clock, &error);
    BOOST_TEST(again != nullptr, error);
    again.reset();
    { std::ofstream(path) << "not a socket\n"; }
    BOOST_TEST(!ControlServer::open(path, epoll_fd, [](std::string_view) { return std::string(); }, clock, &error));
    BOOST_TEST(error.find("not a socket") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(path));
    ::close(epoll_fd);
    std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
