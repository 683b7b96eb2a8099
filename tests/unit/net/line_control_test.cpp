// SPDX-License-Identifier: GPL-2.0-or-later
// The common control socket (line_control_server, line_control_client) over real Unix sockets
// in a temporary folder. The server is driven as the node agent and the gateway drive it (their
// loop calls serve()), with a ManualClock where a deadline matters.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/net/line_control_client.hpp"
#include "common/net/line_control_server.hpp"
#include "common/net/unix_listener.hpp"
#include "common/util/clock.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

struct TempFolder {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("sara-line-control-" + std::to_string(::getpid()));
    std::string path = (dir / "test.sock").string();
    ~TempFolder() { std::filesystem::remove_all(dir); }
};

LineControlServer::Options test_options(size_t max_request_bytes = 64) {
    LineControlServer::Options options;
    options.owner = "test-daemon";
    options.max_request_bytes = max_request_bytes;
    options.too_long_reply = [] { return std::string("{\"error\":\"too long\"}\n"); };
    return options;
}

std::string echo(std::string_view request) { return "asked:" + std::string(request) + "\n"; }

// Runs `client` on a thread while this thread serves, as a daemon's loop would.
template <typename Client>
void serve_while(LineControlServer& server, Client client) {
    std::atomic<bool> done{false};
    std::thread thread([&] {
        client();
        done = true;
    });
    for (int i = 0; i < 500 && !done; ++i) {
        pollfd p{server.event_fd(), POLLIN, 0};
        (void)::poll(&p, 1, 10);
        server.serve();
    }
    thread.join();
}

LineControlReply call(LineControlServer& server, std::string_view request) {
    LineControlReply reply;
    serve_while(server, [&] { reply = call_line_control(server.path(), request, "test-daemon", 2s); });
    return reply;
}

// A connected client socket (the server's backlog holds it until serve() accepts it). Its
// reads give up after 2 s, so a server that does not answer fails the test instead of hanging it.
int connect_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;  // no assertion here: this also runs on a client thread
    }
    return fd;
}

// What the server sent before closing; "" when it closed without a word.
std::string read_to_end(int fd) {
    std::string text;
    char buffer[256];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) text.append(buffer, static_cast<size_t>(n));
    return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(line_control)

BOOST_FIXTURE_TEST_CASE(one_request_one_reply, TempFolder) {
    SteadyClock clock;
    std::string error;
    auto server = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    BOOST_TEST(((std::filesystem::status(path).permissions() & std::filesystem::perms::others_all) ==
                std::filesystem::perms::none));
    struct Case {
        const char* description;
        std::string request;
        std::string handler_sees;
    };
    const Case cases[] = {
        {"a plain line", "status", "status"},
        {"a CRLF line end is dropped", "drain 3\r", "drain 3"},
        {"a line of exactly the bound", std::string(64, 'x'), std::string(64, 'x')},
        {"an empty line still reaches the handler", "", ""},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const LineControlReply r = call(*server, c.request);
            BOOST_TEST(r.error == "");
            BOOST_TEST(r.body == "asked:" + c.handler_sees + "\n");
        }
    }
}

BOOST_FIXTURE_TEST_CASE(a_request_without_a_line_end_is_what_came_before_the_client_shut_its_side, TempFolder) {
    SteadyClock clock;
    std::string error;
    auto server = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    std::string reply = "not connected";
    serve_while(*server, [&] {
        const int fd = connect_to(path);
        if (fd < 0) return;
        (void)::send(fd, "nodes", 5, MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        reply = read_to_end(fd);
        ::close(fd);
    });
    BOOST_TEST(reply == "asked:nodes\n");
}

// Never cut: a cut line would be answered as the shorter request it starts with.
BOOST_FIXTURE_TEST_CASE(a_longer_line_is_answered_with_the_error_not_cut, TempFolder) {
    SteadyClock clock;
    std::string error;
    int handled = 0;
    auto server = LineControlServer::open(
        path, test_options(),
        [&](std::string_view request) {
            ++handled;
            return echo(request);
        },
        clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    for (const size_t length : {size_t{65}, size_t{66}, size_t{5000}, size_t{60000}}) {
        const LineControlReply r = call(*server, std::string(length, 'k'));
        BOOST_TEST(r.error == "", length);  // the rest was read: no reset lost the answer
        BOOST_TEST(r.body == "{\"error\":\"too long\"}\n", length);
    }
    BOOST_TEST(handled == 0);
    BOOST_TEST(call(*server, "status").body == "asked:status\n");  // and the server goes on
}

BOOST_FIXTURE_TEST_CASE(a_second_server_is_refused_on_a_live_socket, TempFolder) {
    SteadyClock clock;
    std::string error;
    auto server = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    auto second = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST(second == nullptr);
    BOOST_TEST(error == "control socket " + path + ": another test-daemon listens on it; not taking it over");
    BOOST_TEST(call(*server, "status").body == "asked:status\n");  // the first one keeps it
}

// A killed daemon leaves its socket file; nobody listens on it, so the next start takes it. A
// file that is not a socket is never removed.
BOOST_FIXTURE_TEST_CASE(a_stale_socket_is_replaced_anything_else_left_alone, TempFolder) {
    SteadyClock clock;
    std::string error;
    auto server = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    server.reset();
    BOOST_TEST(!std::filesystem::exists(path));  // the socket file goes with the server
    {
        const int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        BOOST_TEST_REQUIRE(::bind(stale, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
        ::close(stale);
    }
    BOOST_TEST(call_line_control(path, "status", "test-daemon", 1s).error ==
               "test-daemon is not running (no socket at " + path + "; a stale file, connection refused)");
    server = LineControlServer::open(path, test_options(), echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    BOOST_TEST(call(*server, "status").body == "asked:status\n");
    server.reset();
    { std::ofstream(path) << "not a socket\n"; }
    BOOST_TEST(LineControlServer::open(path, test_options(), echo, clock, &error) == nullptr);
    BOOST_TEST(error.find("not a socket") != std::string::npos, error);
    BOOST_TEST(std::filesystem::exists(path));
}

// A client that never finishes its line is closed unanswered once its deadline has passed,
// and while the connections are full the next one waits in the backlog rather than being
// dropped.
BOOST_FIXTURE_TEST_CASE(a_silent_client_is_closed_at_its_deadline, TempFolder) {
    ManualClock clock;
    std::string error;
    LineControlServer::Options options = test_options();
    options.max_clients = 1;
    auto server = LineControlServer::open(path, options, echo, clock, &error);
    BOOST_TEST_REQUIRE(server != nullptr, error);
    const int silent = connect_to(path);
    const int waiting = connect_to(path);
    BOOST_TEST_REQUIRE((silent >= 0 && waiting >= 0));
    (void)::send(silent, "sta", 3, MSG_NOSIGNAL);
    (void)::send(waiting, "nodes\n", 6, MSG_NOSIGNAL);
    server->serve();
    server->serve();
    clock.advance(options.client_deadline);  // not past it yet
    server->serve();
    pollfd p{silent, POLLIN, 0};
    BOOST_TEST(::poll(&p, 1, 0) == 0);  // still open, nothing sent
    clock.advance(1ms);
    server->serve();  // closes `silent`, which lets `waiting` in
    BOOST_TEST(read_to_end(silent) == "");
    for (int i = 0; i < 5; ++i) server->serve();
    BOOST_TEST(read_to_end(waiting) == "asked:nodes\n");
    ::close(silent);
    ::close(waiting);
}

// The client's wait is bounded: a daemon that accepts nothing (stuck, or another program's
// socket) costs the operator the timeout, not a hung command.
BOOST_FIXTURE_TEST_CASE(the_client_gives_up_after_its_timeout, TempFolder) {
    std::string error;
    const UniqueFd listener = listen_unix(path, "test-daemon", 4, 0, &error);
    BOOST_TEST_REQUIRE(bool(listener), error);
    const auto start = std::chrono::steady_clock::now();
    const LineControlReply r = call_line_control(path, "status", "test-daemon", 200ms);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(r.error == "test-daemon did not answer on " + path + " in time");
    BOOST_TEST(r.body == "");
    BOOST_TEST((took >= 200ms && took < 2s));
}

BOOST_AUTO_TEST_CASE(connect_errors_tell_the_operator_what_to_do) {
    BOOST_TEST(control_connect_error("/run/sara/sarad.sock", ENOENT, "sarad") ==
               "sarad is not running (no socket at /run/sara/sarad.sock)");
    BOOST_TEST(control_connect_error("/s", EACCES, "sarad") ==
               "permission denied on /s: run as root or a member of the socket's group");
    BOOST_TEST(control_connect_error("/s", ECONNREFUSED, "sara-gatewayd")
                   .starts_with("sara-gatewayd is not running (no socket at /s"));
    BOOST_TEST(control_connect_error("/s", EIO, "sarad") == "cannot connect to /s: Input/output error");
    BOOST_TEST(call_line_control("/nonexistent/sara-test.sock", "stats", "sarad", 1s).error ==
               "sarad is not running (no socket at /nonexistent/sara-test.sock)");
}

BOOST_AUTO_TEST_SUITE_END()
