// SPDX-License-Identifier: GPL-2.0-or-later
// The daemons' shared life steps (daemon_lifecycle.hpp).
#include "common/util/daemon_lifecycle.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include "common/util/errno_text.hpp"
#include "common/util/sd_notify.hpp"

namespace sara {

int check_config_verdict(const std::string& path, const std::vector<ConfigError>& errors, std::string_view ok_detail,
                         std::ostream& out, std::ostream& err) {
    if (!errors.empty()) {
        err << format_config_errors(errors) << path << ": " << errors.size() << " error(s)\n";
        return 1;
    }
    out << path << ": ok" << ok_detail << "\n";
    return 0;
}

DaemonLifecycle::DaemonLifecycle(std::string name, std::string config_path, const Logger& log, StateNotifier notify,
                                 std::ostream& err)
    : name_(std::move(name)), config_path_(std::move(config_path)), log_(log), notify_(std::move(notify)), err_(err) {}

bool DaemonLifecycle::config_ok_for_start(const std::vector<ConfigError>& errors) const {
    if (errors.empty()) return true;
    err_ << format_config_errors(errors);
    log_.error(config_path_ + ": " + std::to_string(errors.size()) + " error(s); not starting");
    return false;
}

bool DaemonLifecycle::open_loop(std::initializer_list<int> extra, std::string* error) {
    std::vector<int> signals{SIGTERM, SIGINT, SIGHUP};
    signals.insert(signals.end(), extra.begin(), extra.end());
    loop_ = open_signal_epoll(signals, error);
    return loop_.has_value();
}

int DaemonLifecycle::wait(std::span<epoll_event> events, int timeout_ms) {
    const int n = ::epoll_wait(epoll_fd(), events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n >= 0) return n;
    if (errno != EINTR) {
        log_.error(errno_text("event loop", errno));
        stopping_ = true;
    }
    return 0;
}

void DaemonLifecycle::read_pending_signals(const std::function<void()>& reload,
                                           const std::function<void(uint32_t)>& other) {
    read_signals(signal_fd(), [&](uint32_t signo) { on_signal(signo, reload, other); });
}

void DaemonLifecycle::on_signal(uint32_t signo, const std::function<void()>& reload,
                                const std::function<void(uint32_t)>& other) {
    if (signo == SIGHUP) {
        reload();
    } else if (signo == SIGTERM || signo == SIGINT) {
        log_.notice(name_ + ": " + strsignal(static_cast<int>(signo)) + ": stopping");
        stopping_ = true;
    } else if (other) {
        other(signo);
    }
}

void DaemonLifecycle::ready(std::string_view status) const {
    if (status.empty()) return notify("READY=1");
    notify("READY=1\nSTATUS=" + std::string(status));
}

void DaemonLifecycle::stopped() const { notify("STOPPING=1"); }

void DaemonLifecycle::log_applied(const std::vector<std::string>& changed, std::string_view carried_over) const {
    std::string list;
    for (const std::string& c : changed) list += (list.empty() ? "" : ", ") + c;
    log_.notice("reload: " + config_path_ + " applied" + (list.empty() ? " (no change)" : " (changed: " + list + ")") +
                "; " + std::string(carried_over));
}

void DaemonLifecycle::notify(std::string_view state) const {
    if (notify_) return notify_(state);
    // Not under systemd, or its socket gone: the daemon runs the same either way.
    (void)notify_systemd(state);
}

std::string DaemonLifecycle::file_errors(const std::vector<ConfigError>& errors) const {
    err_ << format_config_errors(errors);
    return config_path_ + " has " + std::to_string(errors.size()) + " error(s)";
}

void DaemonLifecycle::finish_reload(const ReloadOutcome& outcome) const {
    if (outcome) log_.error("reload: " + (outcome->empty() ? "" : *outcome + "; ") + "keeping the running config");
    ready();
}

}  // namespace sara
