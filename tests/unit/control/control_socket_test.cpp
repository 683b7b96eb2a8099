// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's control socket as sarad starts it: the common line server on a thread of its own
// with sarad's request bound and refusal (the server itself: tests/unit/net).
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/net/line_control_client.hpp"
#include "daemon/control/control_socket.hpp"

using namespace sara;

namespace {

// sarad's control socket on a fresh path whose handler echoes what it was asked.
struct EchoServer {
    std::string path = (std::filesystem::temp_directory_path() / ("sara-ctl-test-" + std::to_string(getpid()))).string();
    std::string error;
    std::unique_ptr<LineControlThread> server = LineControlThread::start(
        path, sarad_control_options(), [](std::string_view request) { return "asked:" + std::string(request) + "\n"; },
        &error);
};

LineControlReply ask(const std::string& path, std::string_view request) {
    return call_line_control(path, request, "sarad", std::chrono::seconds(5));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(control_socket)

BOOST_FIXTURE_TEST_CASE(a_line_within_the_bound_reaches_the_handler_whole, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    const std::string key(256, 'k');  // the session table's longest key
    const LineControlReply r = ask(path, "lookup key " + key);
    BOOST_TEST(r.error == "");
    BOOST_TEST(r.body == "asked:lookup key " + key + "\n");
    const std::string longest = "lookup key " + std::string(kMaxSaradRequestBytes - 11, 'k');
    BOOST_TEST(ask(path, longest).body == "asked:" + longest + "\n");
}

// Regression (issue 21): a line longer than the bound was cut at 256 bytes and handled as the
// shorter request, so a long Call-ID was looked up under its first bytes.
BOOST_FIXTURE_TEST_CASE(a_line_over_the_bound_is_refused_not_cut, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    for (const size_t length : {kMaxSaradRequestBytes + 1, size_t{2000}, size_t{60000}}) {
        const LineControlReply r = ask(path, std::string(length, 'k'));
        BOOST_TEST(r.error == "", length);
        BOOST_TEST(r.body == "{\"error\":\"request line longer than 1024 bytes\"}\n", length);
    }
}

// Regression (issue 15): a second sarad unlinked the running one's socket and bound its own,
// so saractl silently talked to the newcomer. Now the second start is refused and the first
// keeps answering.
BOOST_FIXTURE_TEST_CASE(a_second_sarad_does_not_take_over_a_live_socket, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    std::string second_error;
    const auto second = LineControlThread::start(
        path, sarad_control_options(), [](std::string_view) { return std::string("second\n"); }, &second_error);
    BOOST_TEST(!second);
    BOOST_TEST(second_error.find("another sarad listens on it") != std::string::npos, second_error);
    BOOST_TEST(ask(path, "status").body == "asked:status\n");
    server.reset();
    BOOST_TEST(!std::filesystem::exists(path));  // the socket file goes with the server
    BOOST_TEST(ask(path, "stats").error == "sarad is not running (no socket at " + path + ")");
}

BOOST_AUTO_TEST_SUITE_END()
