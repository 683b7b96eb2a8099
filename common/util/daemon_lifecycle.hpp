// SPDX-License-Identifier: GPL-2.0-or-later
// What the three daemons (sarad, sara-nodeagent, sara-gatewayd) share of their life, so that
// each says the same thing the same way: `--check-config`'s verdict, a start refused for a bad
// config, and SIGHUP's reload frame with systemd's READY=1 / RELOADING=1 / STOPPING=1
// (sd_notify.hpp). For the two daemons with one epoll loop (node agent, gateway) also the
// loop's signals: SIGTERM and SIGINT stop, SIGHUP reloads (signal_epoll.hpp). sarad waits for
// its signals with sigtimedwait on its main thread's tick and uses only the rest.
//
// The config errors are common/config's ConfigError (config_errors.hpp, no yaml-cpp).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_errors.hpp"
#include "common/util/log.hpp"
#include "common/util/signal_epoll.hpp"

namespace sara {

// `--check-config`'s verdict on a file: with errors, each as file:line:col and then
// "PATH: N error(s)" on `err`, and 1 (the exit code); without, "PATH: ok" followed by
// `ok_detail` on `out`, and 0.
int check_config_verdict(const std::string& path, const std::vector<ConfigError>& errors,
                         std::string_view ok_detail = {}, std::ostream& out = std::cout,
                         std::ostream& err = std::cerr);

// Where the daemon's state goes: notify_systemd unless a test listens.
using StateNotifier = std::function<void(std::string_view state)>;

// What a daemon's reload step says: nullopt when the new config is applied (the step logged
// what changed), else why the running config stays ("" when the step already logged it).
using ReloadOutcome = std::optional<std::string>;

class DaemonLifecycle {
public:
    // `name` starts the stop line ("sara-gatewayd: Terminated: stopping"); config errors are
    // printed on `err` (stderr: under systemd, the journal).
    DaemonLifecycle(std::string name, std::string config_path, const Logger& log, StateNotifier notify = {},
                    std::ostream& err = std::cerr);

    const std::string& config_path() const { return config_path_; }

    // A start's config step: true if `errors` is empty; else prints them, logs
    // "PATH: N error(s); not starting" and returns false.
    bool config_ok_for_start(const std::vector<ConfigError>& errors) const;

    // Blocks SIGTERM, SIGINT, SIGHUP and `extra` and opens the loop's epoll set with their
    // signalfd (open_signal_epoll: before any thread starts). False with *error if it cannot.
    bool open_loop(std::initializer_list<int> extra, std::string* error);
    int epoll_fd() const { return loop_ ? loop_->epoll.get() : -1; }
    int signal_fd() const { return loop_ ? loop_->signals.get() : -1; }

    // Waits up to `timeout_ms` (-1: no limit) for the loop's events: how many were stored in
    // `events`, 0 when a signal interrupted the wait. On an error it logs "event loop: ..." and
    // sets stopping(): the loop ends as after SIGTERM.
    int wait(std::span<epoll_event> events, int timeout_ms);

    // Reads the signals pending on signal_fd() and handles each as on_signal does.
    void read_pending_signals(const std::function<void()>& reload,
                              const std::function<void(uint32_t)>& other = {});

    // SIGHUP calls `reload`; SIGTERM and SIGINT log "NAME: SIGNAL: stopping" and set
    // stopping(); any other signal goes to `other`.
    void on_signal(uint32_t signo, const std::function<void()>& reload,
                   const std::function<void(uint32_t)>& other = {});
    bool stopping() const { return stopping_; }

    // READY=1 (with a STATUS= line if `status` is not empty): started, or a reload is over.
    void ready(std::string_view status = {}) const;
    // STOPPING=1: the loop has ended.
    void stopped() const;

    // SIGHUP's frame: RELOADING=1; the file loaded with `load` (ConfigLoad<Config>,
    // config_loader.hpp, or any type with ok(), errors and config); a file with errors is
    // printed and logged "reload: PATH has N error(s); keeping the running config"; otherwise
    // `apply` gets the new config, and a reason it returns is logged "reload: WHY; keeping the
    // running config". READY=1 in every case: the daemon runs on, with one config or the other.
    template <class Load, class Apply>
    void reload(Load&& load, Apply&& apply) {
        notify("RELOADING=1");
        const auto next = load(config_path_);
        ReloadOutcome outcome;
        if (!next.ok()) {
            outcome = file_errors(next.errors);
        } else {
            outcome = apply(next.config);
        }
        finish_reload(outcome);
    }

    // A reload step's success line: "reload: PATH applied (changed: A, B)", or "(no change)",
    // then "; " and what carried over unchanged (the daemon's state a reload keeps).
    void log_applied(const std::vector<std::string>& changed, std::string_view carried_over) const;

private:
    void notify(std::string_view state) const;
    // Prints the errors; the reason a reload logs for them.
    std::string file_errors(const std::vector<ConfigError>& errors) const;
    void finish_reload(const ReloadOutcome& outcome) const;

    std::string name_;
    std::string config_path_;
    const Logger& log_;
    StateNotifier notify_;
    std::ostream& err_;
    std::optional<SignalEpoll> loop_;
    bool stopping_ = false;
};

// A daemon's whole life: start() (false once it has logged why it cannot run), then run()
// until a signal stops it. The process's exit code.
template <class Daemon>
int start_and_run(Daemon& daemon) {
    if (!daemon.start()) return 1;
    daemon.run();
    return 0;
}

}  // namespace sara
