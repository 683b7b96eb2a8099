// SPDX-License-Identifier: GPL-2.0-or-later
// DaemonLifecycle (daemon_lifecycle.hpp): what the three daemons print and log for a bad
// config, SIGHUP's RELOADING=1 / READY=1 frame around every outcome of a reload, the signals
// that stop or reload, and check-config's verdict. systemd's messages go to a recorder, the
// errors to a string stream and the log to a CapturedLog.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/util/daemon_lifecycle.hpp"
#include "tests/unit/support/captured_log.hpp"

namespace sara {
namespace {

struct TinyConfig {
    int value = 0;
};

struct TinyLoad {
    TinyConfig config;
    std::vector<ConfigError> errors;
    bool ok() const { return errors.empty(); }
};

struct Fixture {
    test::CapturedLog log;
    std::vector<std::string> states;
    std::ostringstream err;
    DaemonLifecycle life{"sara-test", "/etc/sara/test.yaml", log.log,
                         [this](std::string_view state) { states.emplace_back(state); }, err};
};

const ConfigError kBadLine{"/etc/sara/test.yaml", 3, 5, "count: expected an integer"};

BOOST_AUTO_TEST_SUITE(daemon_lifecycle)

BOOST_AUTO_TEST_CASE(check_config_prints_every_error_and_the_count) {
    std::ostringstream out, err;
    const int status = check_config_verdict("/etc/sara/test.yaml", {kBadLine, kBadLine}, {}, out, err);
    BOOST_TEST(status == 1);
    BOOST_TEST(out.str().empty());
    BOOST_TEST(err.str() == "/etc/sara/test.yaml:3:5: error: count: expected an integer\n"
                            "/etc/sara/test.yaml:3:5: error: count: expected an integer\n"
                            "/etc/sara/test.yaml: 2 error(s)\n");
}

BOOST_AUTO_TEST_CASE(check_config_says_ok_with_the_daemons_detail) {
    std::ostringstream out, err;
    BOOST_TEST(check_config_verdict("/etc/sara/test.yaml", {}, " (capture filter: udp)", out, err) == 0);
    BOOST_TEST(out.str() == "/etc/sara/test.yaml: ok (capture filter: udp)\n");
    BOOST_TEST(err.str().empty());
}

BOOST_FIXTURE_TEST_CASE(a_start_with_config_errors_is_refused, Fixture) {
    BOOST_TEST(life.config_ok_for_start({}));
    BOOST_TEST(!life.config_ok_for_start({kBadLine}));
    BOOST_TEST(err.str() == "/etc/sara/test.yaml:3:5: error: count: expected an integer\n");
    BOOST_TEST(log.str().find("/etc/sara/test.yaml: 1 error(s); not starting") != std::string::npos);
    BOOST_TEST(states.empty());
}

BOOST_FIXTURE_TEST_CASE(a_reload_applies_a_good_file_between_reloading_and_ready, Fixture) {
    std::string loaded;
    std::optional<int> applied;
    life.reload(
        [&](const std::string& path) {
            loaded = path;
            states.emplace_back("(loaded)");
            return TinyLoad{{42}, {}};
        },
        [&](const TinyConfig& next) -> ReloadOutcome {
            applied = next.value;
            states.emplace_back("(applied)");
            return std::nullopt;
        });
    BOOST_TEST(loaded == "/etc/sara/test.yaml");
    BOOST_TEST(applied.value_or(0) == 42);
    BOOST_TEST(states == (std::vector<std::string>{"RELOADING=1", "(loaded)", "(applied)", "READY=1"}));
    BOOST_TEST(log.str().find("keeping the running config") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(the_applied_line_lists_what_changed, Fixture) {
    life.log_applied({"auth", "control"}, "sequence numbers carried over");
    life.log_applied({}, "drain state carried over");
    const std::string text = log.str();
    BOOST_TEST(text.find("reload: /etc/sara/test.yaml applied (changed: auth, control); sequence numbers carried over") !=
               std::string::npos);
    BOOST_TEST(text.find("reload: /etc/sara/test.yaml applied (no change); drain state carried over") !=
               std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_reload_of_a_bad_file_keeps_the_running_config, Fixture) {
    bool applied = false;
    life.reload([](const std::string&) { return TinyLoad{{}, {kBadLine}}; },
                [&](const TinyConfig&) -> ReloadOutcome {
                    applied = true;
                    return std::nullopt;
                });
    BOOST_TEST(!applied);
    BOOST_TEST(states == (std::vector<std::string>{"RELOADING=1", "READY=1"}));
    BOOST_TEST(err.str() == "/etc/sara/test.yaml:3:5: error: count: expected an integer\n");
    BOOST_TEST(log.str().find("reload: /etc/sara/test.yaml has 1 error(s); keeping the running config") !=
               std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_reload_the_daemon_refuses_is_logged_with_its_reason, Fixture) {
    const auto good = [](const std::string&) { return TinyLoad{}; };
    life.reload(good, [](const TinyConfig&) -> ReloadOutcome { return "the key file"; });
    life.reload(good, [](const TinyConfig&) -> ReloadOutcome { return ""; });  // the step logged why
    BOOST_TEST(states == (std::vector<std::string>{"RELOADING=1", "READY=1", "RELOADING=1", "READY=1"}));
    const std::string text = log.str();
    BOOST_TEST(text.find("reload: the key file; keeping the running config") != std::string::npos);
    BOOST_TEST(text.find("reload: keeping the running config") != std::string::npos);
    BOOST_TEST(err.str().empty());
}

BOOST_FIXTURE_TEST_CASE(sighup_reloads_sigterm_and_sigint_stop_others_go_to_the_daemon, Fixture) {
    int reloads = 0;
    std::vector<uint32_t> others;
    const auto reload = [&] { ++reloads; };
    const auto other = [&](uint32_t signo) { others.push_back(signo); };
    life.on_signal(SIGHUP, reload, other);
    life.on_signal(SIGUSR1, reload, other);
    BOOST_TEST(reloads == 1);
    BOOST_TEST(others == std::vector<uint32_t>{SIGUSR1});
    BOOST_TEST(!life.stopping());
    life.on_signal(SIGUSR2, reload);  // no handler for others: ignored
    BOOST_TEST(!life.stopping());
    life.on_signal(SIGTERM, reload, other);
    BOOST_TEST(life.stopping());
    BOOST_TEST(log.str().find(std::string("sara-test: ") + strsignal(SIGTERM) + ": stopping") != std::string::npos);
    BOOST_TEST(reloads == 1);
    BOOST_TEST(states.empty());  // STOPPING=1 comes when the loop has ended
}

BOOST_FIXTURE_TEST_CASE(ready_and_stopped_tell_systemd, Fixture) {
    life.ready();
    life.ready("VIP 198.18.100.10, 2 nodes");
    life.stopped();
    BOOST_TEST(states ==
               (std::vector<std::string>{"READY=1", "READY=1\nSTATUS=VIP 198.18.100.10, 2 nodes", "STOPPING=1"}));
}

// The real loop: a signal the daemon asked for is read from the signalfd, not delivered.
BOOST_FIXTURE_TEST_CASE(the_loop_reads_signals_from_its_signalfd, Fixture) {
    sigset_t before;
    BOOST_REQUIRE(sigprocmask(SIG_SETMASK, nullptr, &before) == 0);
    const auto sigpipe_before = signal(SIGPIPE, SIG_DFL);
    std::string error;
    BOOST_REQUIRE_MESSAGE(life.open_loop({SIGUSR2}, &error), error);
    BOOST_TEST(life.epoll_fd() >= 0);
    BOOST_TEST(life.signal_fd() >= 0);
    std::vector<uint32_t> others;
    epoll_event events[4];
    BOOST_TEST(life.wait(events, 0) == 0);  // nothing yet
    BOOST_REQUIRE(raise(SIGUSR2) == 0);     // blocked: pending until the signalfd is read
    BOOST_TEST_REQUIRE(life.wait(events, 1000) == 1);
    const int ready_fd = events[0].data.fd;  // a packed struct's field: copied, not bound
    BOOST_TEST(ready_fd == life.signal_fd());
    life.read_pending_signals([] {}, [&](uint32_t signo) { others.push_back(signo); });
    sigprocmask(SIG_SETMASK, &before, nullptr);
    signal(SIGPIPE, sigpipe_before);
    BOOST_TEST(others == std::vector<uint32_t>{SIGUSR2});
    BOOST_TEST(!life.stopping());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
