// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/gateway.hpp"

#include <signal.h>
#include <sys/epoll.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/wire/configured_key.hpp"
#include "common/config/gateway_config.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/net/line_control_server.hpp"
#include "common/util/clock.hpp"
#include "common/util/errno_text.hpp"
#include "common/util/sd_notify.hpp"
#include "common/util/signal_epoll.hpp"
#include "common/util/unique_fd.hpp"
#include "common/wire/control_message.hpp"
#include "gateway/announcer.hpp"
#include "gateway/capture_supervisor.hpp"
#include "gateway/frame_pipeline.hpp"
#include "gateway/gateway_settings.hpp"

namespace sara::gateway {
namespace {

std::chrono::milliseconds wall_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

std::string join_endpoints(const std::vector<Endpoint>& endpoints) {
    std::string out;
    for (const Endpoint& e : endpoints) out += (out.empty() ? "" : ", ") + e.to_string();
    return out;
}

// The daemon's DatagramSender as the announcer's sink.
class SenderSink final : public DatagramSink {
public:
    explicit SenderSink(DatagramSender& sender) : sender_(sender) {}
    size_t send_to_all(std::span<const uint8_t> datagram) override { return sender_.send_to_all(datagram); }

private:
    DatagramSender& sender_;
};

// " name=value" for each counter of a group.
template <class Counters>
std::string format_counters(const Counters& counters) {
    std::string out;
    counters.for_each([&](const char* name, const char*, uint64_t value) {
        out += std::string(" ") + name + "=" + std::to_string(value);
    });
    return out;
}

// Each counter of a group as a member of `out`.
template <class Counters>
void add_counters(nlohmann::json& out, const Counters& counters) {
    counters.for_each([&](const char* name, const char*, uint64_t value) { out[name] = value; });
}

// The control socket's requests (`sara-gatewayd status`): one line, at most this long.
constexpr size_t kMaxControlRequestBytes = 256;

nlohmann::json control_error(const std::string& error) { return {{"ok", false}, {"error", error}}; }

class Gateway {
public:
    Gateway(std::string config_path, const Logger& log) : config_path_(std::move(config_path)), log_(log) {}

    // Builds everything from the config file; false (after logging why) if it cannot run.
    bool start();
    // Runs until SIGTERM or SIGINT.
    void run();

private:
    void on_frame(int link_type, std::span<const uint8_t> frame, uint32_t wire_length);
    void note_send_result(bool failed);
    void on_signal(uint32_t signo);
    void reload();
    void log_counters() const;
    std::unique_ptr<LineControlServer> open_control(const GatewayControlConfig& control, std::string* error);
    std::string on_control(std::string_view request) const;
    nlohmann::json status() const;

    std::string config_path_;
    const Logger& log_;
    GatewayConfig config_;
    UniqueFd epoll_, signals_;
    std::optional<wire::ClusterKey> key_;
    std::unique_ptr<DatagramSender> sender_;
    std::unique_ptr<FramePipeline> pipeline_;
    std::optional<Announcer> announcer_;
    std::unique_ptr<CaptureSupervisor> capture_;
    SteadyClock clock_;
    std::unique_ptr<LineControlServer> control_;
    MonoTime next_control_check_{};
    std::vector<Announcement> pending_;  // one frame's announcements, reused
    bool sending_fails_ = false;         // for a log line on change only
    bool stop_ = false;
};

bool Gateway::start() {
    const GatewayConfigLoad load = load_gateway_config(config_path_);
    if (!load.ok()) {
        std::cerr << format_config_errors(load.errors);
        log_.error(config_path_ + ": " + std::to_string(load.errors.size()) + " error(s); not starting");
        return false;
    }
    config_ = load.config;
    if (const std::string problem = capture_problem(config_); !problem.empty()) {
        log_.error(config_path_ + ": " + problem + "; not starting");
        return false;
    }
    if (!wire::load_configured_key(config_.auth.enabled, config_.auth.key_file, key_, log_)) return false;
    if (!config_.auth.enabled) log_.warning("auth: none: announcements go out unauthenticated (lab use only)");

    // Signals are blocked before anything else starts (no thread yet).
    std::string error;
    std::optional<SignalEpoll> loop = open_signal_epoll({SIGTERM, SIGINT, SIGHUP, SIGUSR1}, &error);
    if (!loop) {
        log_.error(error);
        return false;
    }
    epoll_ = std::move(loop->epoll);
    signals_ = std::move(loop->signals);

    sender_ = DatagramSender::open(config_.dispatchers, &error);
    if (!sender_) {
        log_.error(error);
        return false;
    }
    pipeline_ = std::make_unique<FramePipeline>(config_.services, config_.vip, inspector_limits(config_.limits));
    announcer_.emplace(config_.gateway_id, wall_now());
    // Before the capture: a second gateway started by mistake finds this one's socket live and
    // stops here.
    control_ = open_control(config_.control, &error);
    if (!control_) {
        log_.error(error);
        return false;
    }
    capture_ = std::make_unique<CaptureSupervisor>(epoll_.get(), log_);
    if (!capture_->start(capture_settings(config_), &error)) {
        log_.error(error + "; not starting");
        return false;
    }
    log_.notice("sara-gatewayd: gateway " + std::to_string(config_.gateway_id) + ", VIP " + config_.vip.to_string() +
                " on " + config_.interface + " -> " + join_endpoints(config_.dispatchers) + "; ready");
    notify_systemd("READY=1");
    return true;
}

void Gateway::run() {
    epoll_event events[16];
    const CaptureSupervisor::FrameFn on_frame = [this](int link_type, std::span<const uint8_t> frame,
                                                       uint32_t wire_length) {
        this->on_frame(link_type, frame, wire_length);
    };
    while (!stop_) {
        const int n = ::epoll_wait(epoll_.get(), events, 16, 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            log_.error(errno_text("event loop", errno));
            break;
        }
        for (int i = 0; i < n && !stop_; ++i) {
            const int fd = events[i].data.fd;
            if (fd == signals_.get()) {
                read_signals(fd, [this](uint32_t signo) { on_signal(signo); });
            } else if (fd == control_->event_fd()) {
                control_->serve();
            } else {
                capture_->handle(fd, events[i].events, on_frame);
            }
        }
        // A client that never sends its line raises no event: its deadline is checked here,
        // once a second however busy the capture keeps the loop.
        if (const MonoTime now = clock_.now(); now >= next_control_check_) {
            control_->serve();
            next_control_check_ = now + std::chrono::seconds(1);
        }
    }
    notify_systemd("STOPPING=1");
    log_counters();
}

void Gateway::on_signal(uint32_t signo) {
    if (signo == SIGHUP) {
        reload();
    } else if (signo == SIGUSR1) {
        log_counters();
    } else {
        log_.notice(std::string("sara-gatewayd: ") + strsignal(static_cast<int>(signo)) + ": stopping");
        stop_ = true;
    }
}

void Gateway::on_frame(int link_type, std::span<const uint8_t> frame, uint32_t wire_length) {
    pending_.clear();
    pipeline_->handle(link_type, frame, wire_length, pending_);
    if (pending_.empty()) return;
    const std::chrono::milliseconds now = wall_now();
    SenderSink sink(*sender_);
    const wire::ClusterKey* key = key_ ? &*key_ : nullptr;
    for (const Announcement& a : pending_) {
        const Announcer::Result result = announcer_->announce(a, now, key, sink);
        if (result != Announcer::Result::unencodable) note_send_result(result == Announcer::Result::send_failed);
    }
}

void Gateway::note_send_result(bool failed) {
    if (failed && !sending_fails_) log_.warning("sending: " + sender_->last_error() + " (counted; not retried)");
    if (!failed && sending_fails_) log_.notice("sending: announcements reach every dispatcher again");
    sending_fails_ = failed;
}

void Gateway::reload() {
    notify_systemd("RELOADING=1");
    const auto keep_running = [this](const std::string& why) {
        log_.error("reload: " + why + "; keeping the running config");
        notify_systemd("READY=1");
    };
    const GatewayConfigLoad load = load_gateway_config(config_path_);
    if (!load.ok()) {
        std::cerr << format_config_errors(load.errors);
        return keep_running(config_path_ + " has " + std::to_string(load.errors.size()) + " error(s)");
    }
    const GatewayConfig& next = load.config;
    // Everything that can fail is built before anything is swapped in.
    if (const std::string problem = capture_problem(next); !problem.empty()) return keep_running(problem);
    std::optional<wire::ClusterKey> key;
    if (!wire::load_configured_key(next.auth.enabled, next.auth.key_file, key, log_)) return keep_running("the key file");
    std::string error;
    std::unique_ptr<DatagramSender> sender;
    if (next.dispatchers != config_.dispatchers) {
        sender = DatagramSender::open(next.dispatchers, &error);
        if (!sender) return keep_running(error);
    }
    std::unique_ptr<LineControlServer> control;
    if (next.control != config_.control) {
        control = open_control(next.control, &error);
        if (!control) return keep_running(error);
    }

    std::vector<std::string> changed;
    key_ = std::move(key);  // re-read even if the path is unchanged: the key may have been rotated
    if (next.auth != config_.auth) changed.push_back("auth");
    if (sender) {
        sender_ = std::move(sender);
        sending_fails_ = false;
        changed.push_back("dispatchers");
    }
    if (control) {
        control_ = std::move(control);
        changed.push_back("control");
    }
    if (next.gateway_id != config_.gateway_id) {
        announcer_->set_host_id(next.gateway_id);
        changed.push_back("gateway_id");
    }
    if (inspection_changed(config_, next)) {
        pipeline_ = std::make_unique<FramePipeline>(next.services, next.vip, inspector_limits(next.limits));
        changed.push_back("inspection (TCP streams resynchronise)");
    }
    const CaptureSettings settings = capture_settings(next);
    if (!(settings == capture_->settings())) {
        if (!capture_->start(settings, &error)) log_.error("reload: " + error + "; not capturing");
        changed.push_back("capture");
    }
    config_ = next;
    std::string list;
    for (const std::string& c : changed) list += (list.empty() ? "" : ", ") + c;
    log_.notice("reload: " + config_path_ + " applied" + (list.empty() ? " (no change)" : " (changed: " + list + ")") +
                "; sequence numbers carried over");
    notify_systemd("READY=1");
}

void Gateway::log_counters() const {
    log_.notice("counters: capture " + std::string(capture_->capturing() ? "up" : "down: " + capture_->last_error()) +
                ";" + format_counters(capture_->counters()));
    log_.notice("counters:" + format_counters(pipeline_->counters()) +
                format_counters(pipeline_->inspector_counters()));
    log_.notice("counters:" + format_counters(announcer_->counters()) + format_counters(sender_->counters()) +
                " next_seq=" + std::to_string(announcer_->next_seq()));
}

// Served from the event loop: the server's event fd is in the loop's epoll set.
std::unique_ptr<LineControlServer> Gateway::open_control(const GatewayControlConfig& control, std::string* error) {
    LineControlServer::Options options;
    options.owner = "sara-gatewayd";
    options.max_request_bytes = kMaxControlRequestBytes;
    options.too_long_reply = [] {
        return control_error("request longer than " + std::to_string(kMaxControlRequestBytes) + " bytes").dump() +
               "\n";
    };
    std::unique_ptr<LineControlServer> server = LineControlServer::open(
        control.socket, std::move(options), [this](std::string_view request) { return on_control(request); },
        clock_, error);
    if (!server) return nullptr;
    if (const std::error_code ec = epoll_watch(epoll_.get(), server->event_fd(), EPOLLIN)) {
        if (error) *error = errno_text("control socket " + control.socket + ": epoll", ec.value());
        return nullptr;
    }
    return server;
}

std::string Gateway::on_control(std::string_view request) const {
    if (request == "status") return status().dump() + "\n";
    return control_error("unknown request; expected 'status'").dump() + "\n";
}

// What `sara-gatewayd status` prints: the gateway's identity, its capture's state and every
// counter SIGUSR1 logs.
nlohmann::json Gateway::status() const {
    nlohmann::json dispatchers = nlohmann::json::array();
    for (const Endpoint& e : config_.dispatchers) dispatchers.push_back(e.to_string());
    nlohmann::json counters = nlohmann::json::object();
    add_counters(counters, capture_->counters());
    add_counters(counters, pipeline_->counters());
    add_counters(counters, pipeline_->inspector_counters());
    add_counters(counters, announcer_->counters());
    add_counters(counters, sender_->counters());
    nlohmann::json capture = {{"up", capture_->capturing()}, {"filter", capture_->settings().filter}};
    if (!capture_->capturing()) capture["error"] = capture_->last_error();
    return {{"ok", true},
            {"gateway_id", config_.gateway_id},
            {"vip", config_.vip.to_string()},
            {"interface", config_.interface},
            {"dispatchers", dispatchers},
            {"capture", capture},
            {"next_seq", announcer_->next_seq()},
            {"counters", counters}};
}

}  // namespace

int check_config(const std::string& config_path) {
    const GatewayConfigLoad load = load_gateway_config(config_path);
    if (!load.ok()) {
        std::cerr << format_config_errors(load.errors) << config_path << ": " << load.errors.size() << " error(s)\n";
        return 1;
    }
    if (const std::string problem = capture_problem(load.config); !problem.empty()) {
        std::cerr << config_path << ": error: " << problem << "\n";
        return 1;
    }
    // The key file too: start refuses without a readable key, so check-config does.
    if (const auto key_error = wire::check_configured_key(config_path, load.config.auth)) {
        std::cerr << format_config_errors({*key_error}) << config_path << ": 1 error(s)\n";
        return 1;
    }
    std::cout << config_path << ": ok (capture filter: " << capture_settings(load.config).filter << ")\n";
    return 0;
}

int run_gateway(const std::string& config_path, const Logger& log) {
    Gateway gateway(config_path, log);
    if (!gateway.start()) return 1;
    gateway.run();
    return 0;
}

}  // namespace sara::gateway
