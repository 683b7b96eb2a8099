// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/gateway.hpp"

#include <signal.h>
#include <sys/epoll.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/wire/agent_channels.hpp"
#include "common/wire/configured_key.hpp"
#include "common/config/gateway_config.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/net/line_control_server.hpp"
#include "common/util/clock.hpp"
#include "common/util/errno_text.hpp"
#include "common/util/daemon_lifecycle.hpp"
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
    Gateway(std::string config_path, const Logger& log)
        : log_(log), life_("sara-gatewayd", std::move(config_path), log) {}

    // Builds everything from the config file; false (after logging why) if it cannot run.
    bool start();
    // Runs until SIGTERM or SIGINT.
    void run();

private:
    void on_frame(int link_type, std::span<const uint8_t> frame, uint32_t wire_length);
    void note_send_result(bool failed);
    void reload();
    ReloadOutcome apply(const GatewayConfig& next);
    void log_counters() const;
    std::unique_ptr<LineControlServer> open_control(const GatewayControlConfig& control, std::string* error);
    std::string on_control(std::string_view request) const;
    nlohmann::json status() const;

    const Logger& log_;
    DaemonLifecycle life_;
    GatewayConfig config_;
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
};

bool Gateway::start() {
    const ConfigLoad<GatewayConfig> load = load_gateway_config(life_.config_path());
    if (!life_.config_ok_for_start(load.errors)) return false;
    config_ = load.config;
    if (const std::string problem = capture_problem(config_); !problem.empty()) {
        log_.error(life_.config_path() + ": " + problem + "; not starting");
        return false;
    }
    if (!wire::load_configured_key(config_.auth.enabled, config_.auth.key_file, key_, log_)) return false;
    if (!config_.auth.enabled) log_.warning("auth: none: announcements go out unauthenticated (lab use only)");

    // Signals are blocked before anything else starts (no thread yet).
    std::string error;
    if (!life_.open_loop({SIGUSR1}, &error)) {
        log_.error(error);
        return false;
    }

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
    capture_ = std::make_unique<CaptureSupervisor>(life_.epoll_fd(), log_);
    if (!capture_->start(capture_settings(config_), &error)) {
        log_.error(error + "; not starting");
        return false;
    }
    log_.notice("sara-gatewayd: gateway " + std::to_string(config_.gateway_id) + ", VIP " + config_.vip.to_string() +
                " on " + config_.interface + " -> " + join_endpoints(config_.dispatchers) + "; ready");
    life_.ready();
    return true;
}

void Gateway::run() {
    epoll_event events[16];
    const CaptureSupervisor::FrameFn on_frame = [this](int link_type, std::span<const uint8_t> frame,
                                                       uint32_t wire_length) {
        this->on_frame(link_type, frame, wire_length);
    };
    while (!life_.stopping()) {
        const int n = life_.wait(events, 1000);
        for (int i = 0; i < n && !life_.stopping(); ++i) {
            const int fd = events[i].data.fd;
            if (fd == life_.signal_fd()) {
                life_.read_pending_signals([this] { reload(); }, [this](uint32_t signo) {
                    if (signo == SIGUSR1) log_counters();
                });
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
    life_.stopped();
    log_counters();
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
    life_.reload(load_gateway_config, [this](const GatewayConfig& next) { return apply(next); });
}

// A reload's new config: nullopt once applied, else why the running one stays.
ReloadOutcome Gateway::apply(const GatewayConfig& next) {
    // Everything that can fail is built before anything is swapped in.
    if (std::string problem = capture_problem(next); !problem.empty()) return problem;
    std::string error;
    std::optional<wire::AgentChannels> built = wire::build_agent_channels(
        next, config_, [this](const GatewayControlConfig& c, std::string* e) { return open_control(c, e); }, log_, &error);
    if (!built) return error;
    auto& [key, sender, control] = *built;

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
    life_.log_applied(changed, "sequence numbers carried over");
    return std::nullopt;
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
    if (const std::error_code ec = epoll_watch(life_.epoll_fd(), server->event_fd(), EPOLLIN)) {
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
    const ConfigLoad<GatewayConfig> load = load_gateway_config(config_path);
    if (!load.ok()) return check_config_verdict(config_path, load.errors);
    if (const std::string problem = capture_problem(load.config); !problem.empty()) {
        std::cerr << config_path << ": error: " << problem << "\n";
        return 1;
    }
    // The key file too: start refuses without a readable key, so check-config does.
    if (const auto key_error = wire::check_configured_key(config_path, load.config.auth))
        return check_config_verdict(config_path, {*key_error});
    return check_config_verdict(config_path, {}, " (capture filter: " + capture_settings(load.config).filter + ")");
}

int run_gateway(const std::string& config_path, const Logger& log) {
    Gateway gateway(config_path, log);
    return start_and_run(gateway);
}

}  // namespace sara::gateway
