// SPDX-License-Identifier: GPL-2.0-or-later
// The application check with real child processes (/bin/sh) and a real listening socket seen
// through sock_diag, on a loopback port the kernel picks. Timing is the heartbeat tick: a
// command still running at the next tick is killed and counts as failed.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "nodeagent/app_check.hpp"

namespace sara::nodeagent {
namespace {

AppCheckConfig command_check(const std::string& command, uint32_t fall = 1) {
    AppCheckConfig c;
    c.kind = AppCheckKind::command;
    c.command = command;
    c.fall = fall;
    return c;
}

// Waits until the child started by the last tick has surely finished (a few ms of shell).
void let_child_finish() { std::this_thread::sleep_for(std::chrono::milliseconds(150)); }

// A bound TCP socket on 127.0.0.1 with a kernel-chosen port; returns the fd and the port.
std::pair<int, uint16_t> bound_tcp_socket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return {-1, 0};
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return {fd, ntohs(address.sin_port)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nodeagent_app_check)

BOOST_AUTO_TEST_CASE(command_exit_status_decides) {
    const Logger quiet(LogLevel::error, stderr);
    AppChecker up(command_check("exit 0"), nullptr, quiet);
    up.start(std::chrono::milliseconds(2000));
    BOOST_TEST(up.up());
    AppChecker down(command_check("exit 3"), nullptr, quiet);
    down.start(std::chrono::milliseconds(2000));
    BOOST_TEST(!down.up());
    BOOST_TEST(down.last_problem() == "exited with status 3");
    BOOST_TEST(down.description() == "command 'exit 3'");
}

BOOST_AUTO_TEST_CASE(verdict_of_a_tick_is_the_previous_ticks_check) {
    const Logger quiet(LogLevel::error, stderr);
    const std::string flag = "/tmp/sara-app-check-" + std::to_string(::getpid());
    std::remove(flag.c_str());
    AppChecker checker(command_check("test -e " + flag), nullptr, quiet);
    checker.start(std::chrono::milliseconds(2000));
    BOOST_TEST(!checker.up());
    { std::FILE* f = std::fopen(flag.c_str(), "w"); std::fclose(f); }
    BOOST_TEST(!checker.tick());  // starts a check; nothing collected yet
    let_child_finish();
    BOOST_TEST(checker.tick());   // collects it: up
    std::remove(flag.c_str());
    let_child_finish();
    checker.tick();               // collects a check that raced with the removal
    let_child_finish();
    BOOST_TEST(!checker.tick());  // the check started after the removal saw no file
}

BOOST_AUTO_TEST_CASE(a_check_still_running_at_the_next_tick_is_killed) {
    const Logger quiet(LogLevel::error, stderr);
    AppChecker checker(command_check("exit 0"), nullptr, quiet);
    checker.start(std::chrono::milliseconds(2000));
    BOOST_TEST(checker.up());
    AppChecker slow(command_check("sleep 5"), nullptr, quiet);
    const auto before = std::chrono::steady_clock::now();
    slow.start(std::chrono::milliseconds(100));
    BOOST_TEST(!slow.up());
    BOOST_TEST(slow.last_problem() == "timed out after 100ms");
    slow.tick();  // starts another sleep
    BOOST_TEST(!slow.tick());  // still sleeping: killed
    BOOST_TEST(slow.last_problem().find("did not finish") != std::string::npos);
    BOOST_TEST((std::chrono::steady_clock::now() - before < std::chrono::seconds(2)));
}

BOOST_AUTO_TEST_CASE(fall_count_delays_down) {
    const Logger quiet(LogLevel::error, stderr);
    const std::string flag = "/tmp/sara-app-fall-" + std::to_string(::getpid());
    { std::FILE* f = std::fopen(flag.c_str(), "w"); std::fclose(f); }
    AppChecker checker(command_check("test -e " + flag, 2), nullptr, quiet);
    checker.start(std::chrono::milliseconds(2000));
    BOOST_TEST(checker.up());
    std::remove(flag.c_str());
    checker.tick();
    let_child_finish();
    BOOST_TEST(checker.tick());   // one failure: still up
    let_child_finish();
    BOOST_TEST(!checker.tick());  // two: down
}

BOOST_AUTO_TEST_CASE(listen_check_through_sock_diag) {
    const Logger quiet(LogLevel::error, stderr);
    std::string error;
    std::unique_ptr<SockDiagSocket> diag = SockDiagSocket::open(&error);
    BOOST_TEST_REQUIRE(diag != nullptr, error);
    const auto [fd, port] = bound_tcp_socket();
    BOOST_TEST_REQUIRE(fd >= 0);
    AppCheckConfig config;
    config.kind = AppCheckKind::listen;
    config.port = AppPort{AppTransport::tcp, port};
    AppChecker checker(config, diag.get(), quiet);
    checker.start(std::chrono::milliseconds(100));
    BOOST_TEST(!checker.up());  // bound, not listening
    BOOST_TEST_REQUIRE(::listen(fd, 7) == 0);
    BOOST_TEST(checker.tick());
    std::vector<DiagSocket> sockets;
    BOOST_TEST(!diag->sockets_on(config.port, sockets, &error));
    BOOST_TEST_REQUIRE(sockets.size() == 1u);
    BOOST_TEST(sockets[0].wqueue == 7u);  // the listen() backlog limit
    BOOST_TEST(backlog_fraction(sockets, config.port) == 0.0);
    ::close(fd);
    BOOST_TEST(!checker.tick());
    BOOST_TEST(checker.last_problem() == "no socket listening on tcp/" + std::to_string(port));
}

BOOST_AUTO_TEST_CASE(udp_backlog_through_sock_diag) {
    std::string error;
    std::unique_ptr<SockDiagSocket> diag = SockDiagSocket::open(&error);
    BOOST_TEST_REQUIRE(diag != nullptr, error);
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const AppPort port{AppTransport::udp, ntohs(address.sin_port)};
    std::vector<DiagSocket> sockets;
    BOOST_TEST(!diag->sockets_on(port, sockets, &error), error);
    BOOST_TEST_REQUIRE(sockets.size() == 1u);
    BOOST_TEST(sockets[0].rcvbuf.has_value());
    BOOST_TEST(backlog_fraction(sockets, port) == 0.0);
    // Queue datagrams nobody reads: the receive queue grows, so does the backlog.
    const int sender = ::socket(AF_INET, SOCK_DGRAM, 0);
    const std::string payload(1000, 'x');
    for (int i = 0; i < 20; ++i)
        ::sendto(sender, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    BOOST_TEST(!diag->sockets_on(port, sockets, &error), error);
    BOOST_TEST_REQUIRE(sockets.size() == 1u);
    BOOST_TEST(*sockets[0].rmem_alloc > 20'000u);
    BOOST_TEST(backlog_fraction(sockets, port) > 0.0);
    ::close(sender);
    ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
