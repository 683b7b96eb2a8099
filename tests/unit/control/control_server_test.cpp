// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control/control_server.hpp"
#include "saractl/control_client.hpp"

using namespace sara;

namespace {

// A control server on a fresh socket path whose handler echoes what it was asked.
struct EchoServer {
    std::string path = (std::filesystem::temp_directory_path() / ("sara-ctl-test-" + std::to_string(getpid()))).string();
    std::string error;
    std::unique_ptr<ControlServer> server =
        ControlServer::start(path, [](std::string_view request) { return "asked:" + std::string(request) + "\n"; }, &error);
};

}  // namespace

BOOST_AUTO_TEST_SUITE(control_server)

BOOST_FIXTURE_TEST_CASE(a_line_within_the_bound_reaches_the_handler_whole, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    const std::string key(256, 'k');  // the session table's longest key
    const ctl::ControlReply r = ctl::send_request(path, "lookup key " + key);
    BOOST_TEST(r.error == "");
    BOOST_TEST(r.body == "asked:lookup key " + key + "\n");
}

// Regression (issue 21): a line longer than the bound was cut at 256 bytes and handled as the
// shorter request, so a long Call-ID was looked up under its first bytes.
BOOST_FIXTURE_TEST_CASE(a_line_over_the_bound_is_refused_not_cut, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    const ctl::ControlReply r = ctl::send_request(path, "lookup key " + std::string(2000, 'k'));
    BOOST_TEST(r.error == "");
    BOOST_TEST(r.body == "{\"error\":\"request line longer than 1024 bytes\"}\n");
}

// Regression (issue 15): a second sarad unlinked the running one's socket and bound its own,
// so saractl silently talked to the newcomer. Now the second start is refused and the first
// keeps answering; a stale socket file (nobody listening) is still replaced.
BOOST_FIXTURE_TEST_CASE(a_second_sarad_does_not_take_over_a_live_socket, EchoServer) {
    BOOST_REQUIRE_MESSAGE(server, error);
    std::string second_error;
    const auto second = ControlServer::start(path, [](std::string_view) { return std::string("second\n"); }, &second_error);
    BOOST_TEST(!second);
    BOOST_TEST(second_error.find("another sarad listens on it") != std::string::npos, second_error);
    const ctl::ControlReply r = ctl::send_request(path, "status");
    BOOST_TEST(r.error == "");
    BOOST_TEST(r.body == "asked:status\n");

    server.reset();  // removes its socket file
    {
        const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        BOOST_TEST_REQUIRE(::bind(stale, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
        ::close(stale);  // the file stays, as a killed sarad leaves it
    }
    server = ControlServer::start(path, [](std::string_view) { return std::string("fresh\n"); }, &error);
    BOOST_TEST_REQUIRE(bool(server), error);
    BOOST_TEST(ctl::send_request(path, "status").body == "fresh\n");
}

BOOST_AUTO_TEST_SUITE_END()
