// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/agent.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/wire/agent_channels.hpp"
#include "common/wire/configured_key.hpp"
#include "common/config/nodeagent_config.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/net/line_control_server.hpp"
#include "common/util/clock.hpp"
#include "common/util/counters.hpp"
#include "common/util/errno_text.hpp"
#include "common/util/daemon_lifecycle.hpp"
#include "common/util/unique_fd.hpp"
#include "common/wire/control_message.hpp"
#include "nodeagent/app_check.hpp"
#include "nodeagent/control_protocol.hpp"
#include "nodeagent/heartbeat_state.hpp"
#include "nodeagent/load/load_sampler.hpp"
#include "nodeagent/load/sock_diag_socket.hpp"
#include "nodeagent/setup/node_setup.hpp"

namespace sara::nodeagent {
namespace {

#define SARA_AGENT_COUNTERS(X)                                                         \
    X(heartbeats_sent_total, "Heartbeats sent (each to every dispatcher)")            \
    X(load_vectors_sent_total, "Load vectors sent (each to every dispatcher)")        \
    X(timer_ticks_missed_total, "Heartbeat or load ticks skipped because the loop was late") \
    X(control_requests_total, "Control socket requests answered")                    \
    X(control_rejected_total, "Control socket requests that were not understood")
SARA_DECLARE_COUNTERS(AgentCounters, SARA_AGENT_COUNTERS)

uint32_t unix_now() { return static_cast<uint32_t>(std::time(nullptr)); }

std::string join_dispatchers(const std::vector<Endpoint>& dispatchers) {
    std::string out;
    for (const Endpoint& e : dispatchers) out += (out.empty() ? "" : ", ") + e.to_string();
    return out;
}

// A periodic timerfd: first expiry after `first`, then every `interval`.
std::error_code arm_timer(int fd, std::chrono::nanoseconds first, std::chrono::nanoseconds interval) {
    const auto to_timespec = [](std::chrono::nanoseconds d) {
        return timespec{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
    };
    itimerspec spec{};
    spec.it_value = to_timespec(first);
    spec.it_interval = to_timespec(interval);
    if (::timerfd_settime(fd, 0, &spec, nullptr) != 0) return errno_code(errno);
    return {};
}

// Expirations since the last read (0 if none).
uint64_t read_expirations(int fd) {
    uint64_t count = 0;
    if (::read(fd, &count, sizeof(count)) != sizeof(count)) return 0;
    return count;
}

class Agent {
public:
    Agent(std::string config_path, const Logger& log)
        : log_(log), life_("sara-nodeagent", std::move(config_path), log) {}
    ~Agent();

    // Builds everything from the config file; false (after logging why) if the agent cannot run.
    bool start();
    // Runs until SIGTERM or SIGINT.
    void run();

private:
    void build_app_and_load(const NodeAgentConfig& config);
    void send_heartbeat();
    void send_load();
    void reload();
    ReloadOutcome apply(const NodeAgentConfig& next);
    void note_send_result(size_t failed);
    std::unique_ptr<LineControlServer> open_control(const AgentControlConfig& control, std::string* error);
    std::string on_control(std::string_view line);
    nlohmann::json status() const;

    const Logger& log_;
    DaemonLifecycle life_;
    NodeAgentConfig config_;
    SteadyClock clock_;
    UniqueFd heartbeat_timer_, load_timer_;
    std::optional<wire::ClusterKey> key_;
    std::unique_ptr<DatagramSender> sender_;
    std::unique_ptr<SockDiagSocket> diag_;
    std::unique_ptr<AppChecker> checker_;
    std::unique_ptr<LoadSampler> sampler_;
    HeartbeatState heartbeat_{0};
    uint32_t next_load_seq_ = 1;
    std::unique_ptr<LineControlServer> control_;
    std::unique_ptr<NodeSetup> setup_;
    AgentCounters counters_;
    bool sending_fails_ = false;         // for a log line on change only
    std::vector<std::string> load_problems_;  // likewise
    bool tcp_mem_estimate_logged_ = false;
    std::optional<wire::Heartbeat> last_heartbeat_;
    size_t last_heartbeat_bytes_ = 0;
    std::optional<wire::LoadVector> last_load_;
    size_t last_load_bytes_ = 0;
};

Agent::~Agent() {
    control_.reset();
    if (setup_) setup_->undo();
}

void Agent::build_app_and_load(const NodeAgentConfig& config) {
    checker_ = std::make_unique<AppChecker>(config.application, diag_.get(), log_);
    checker_->start(config.heartbeat_interval);
    sampler_ = std::make_unique<LoadSampler>(config.load, config.application.backlog, diag_.get());
    sampler_->start();
    std::string disks;
    for (const std::string& d : sampler_->disks()) disks += (disks.empty() ? "" : ", ") + d;
    log_.info("load: io over " + (disks.empty() ? std::string("no disks") : disks) + ", backlog of " +
              (config.application.backlog ? config.application.backlog->to_string() : std::string("nothing (0)")));
}

bool Agent::start() {
    const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config(life_.config_path());
    if (!life_.config_ok_for_start(load.errors)) return false;
    config_ = load.config;
    if (!wire::load_configured_key(config_.auth.enabled, config_.auth.key_file, key_, log_)) return false;
    if (!config_.auth.enabled)
        log_.warning("auth: none: heartbeats and load vectors go out unauthenticated (lab use only)");

    // Signals are blocked before anything else starts (no thread yet).
    std::string error;
    if (!life_.open_loop({}, &error)) {
        log_.error(error);
        return false;
    }
    heartbeat_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    load_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!heartbeat_timer_ || !load_timer_) {
        log_.error(errno_text("event loop", errno));
        return false;
    }
    for (int fd : {heartbeat_timer_.get(), load_timer_.get()}) {
        if (const std::error_code ec = epoll_watch(life_.epoll_fd(), fd, EPOLLIN)) {
            log_.error(errno_text("event loop: epoll", ec.value()));
            return false;
        }
    }

    sender_ = DatagramSender::open(config_.dispatchers, &error);
    if (!sender_) {
        log_.error(error);
        return false;
    }
    diag_ = SockDiagSocket::open(&error);
    if (!diag_) log_.warning(error + "; listen checks fail and backlog is sent as 0");

    // The control socket first: it creates the directory the setup record lives in.
    control_ = open_control(config_.control, &error);
    if (!control_) {
        log_.error(error);
        return false;
    }
    setup_ = std::make_unique<NodeSetup>(log_, setup_record_path(config_.control.socket));
    setup_->recover();
    if (config_.node_setup && setup_->apply(*config_.node_setup, &error)) {
        log_.error(error);
        return false;
    }

    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    heartbeat_ = HeartbeatState(config_.node_id, time_based_first_seq(since_epoch, config_.heartbeat_interval));
    next_load_seq_ = time_based_first_seq(since_epoch, config_.load_interval);
    build_app_and_load(config_);
    // The first heartbeat goes out at once; the first load vector after δ, when the CPU
    // counters have a δ to compare over.
    if (arm_timer(heartbeat_timer_.get(), std::chrono::nanoseconds(1), config_.heartbeat_interval) ||
        arm_timer(load_timer_.get(), config_.load_interval, config_.load_interval)) {
        log_.error(errno_text("timers", errno));
        return false;
    }
    log_.notice("sara-nodeagent: node " + std::to_string(config_.node_id) + " -> " +
                join_dispatchers(config_.dispatchers) + ", heartbeat every " +
                std::to_string(config_.heartbeat_interval.count()) + "ms, load every " +
                std::to_string(config_.load_interval.count()) + "ms, application " + checker_->description() +
                "; ready");
    life_.ready();
    return true;
}

void Agent::run() {
    epoll_event events[16];
    while (!life_.stopping()) {
        const int n = life_.wait(events, -1);
        for (int i = 0; i < n && !life_.stopping(); ++i) {
            const int fd = events[i].data.fd;
            if (fd == heartbeat_timer_.get()) {
                const uint64_t ticks = read_expirations(fd);
                if (ticks == 0) continue;
                counters_.timer_ticks_missed_total += ticks - 1;
                send_heartbeat();
                if (control_) control_->serve();  // closes connections past their deadline
            } else if (fd == load_timer_.get()) {
                const uint64_t ticks = read_expirations(fd);
                if (ticks == 0) continue;
                counters_.timer_ticks_missed_total += ticks - 1;
                send_load();
            } else if (fd == life_.signal_fd()) {
                life_.read_pending_signals([this] { reload(); });
            } else if (control_ && fd == control_->event_fd()) {
                control_->serve();
            }
        }
    }
    life_.stopped();
}

void Agent::note_send_result(size_t failed) {
    if (failed > 0 && !sending_fails_) log_.warning("sending: " + sender_->last_error());
    if (failed == 0 && sending_fails_) log_.notice("sending: datagrams reach every dispatcher again");
    sending_fails_ = failed > 0;
}

void Agent::send_heartbeat() {
    const bool app_up = checker_->tick();
    const wire::Heartbeat h = heartbeat_.next(app_up, unix_now());
    const std::vector<uint8_t> datagram = wire::encode(h, key_ ? &*key_ : nullptr);
    note_send_result(sender_->send_to_all(datagram));
    ++counters_.heartbeats_sent_total;
    last_heartbeat_ = h;
    last_heartbeat_bytes_ = datagram.size();
    if (h.flag == wire::HeartbeatFlag::undrain) log_.notice("drain: withdrawn (flag 3 sent, seq " + std::to_string(h.seq) + ")");
}

void Agent::send_load() {
    LoadSample sample = sampler_->sample();
    if (sample.problems != load_problems_) {
        for (const std::string& p : sample.problems) log_.warning("load: " + p + "; sent as 0");
        if (sample.problems.empty()) log_.notice("load: every value is measured again");
        load_problems_ = std::move(sample.problems);
    }
    if (sampler_->tcp_mem_estimated() && !tcp_mem_estimate_logged_) {
        log_.info("load: net.ipv4.tcp_mem is not visible in this network namespace; net is measured against "
                  "the kernel's default limit (3/32 of memory)");
        tcp_mem_estimate_logged_ = true;
    }
    wire::LoadVector l;
    l.host_id = config_.node_id;
    l.seq = next_load_seq_++;
    l.timestamp = unix_now();
    l.cpu = sample.cpu;
    l.memory = sample.memory;
    l.net = sample.net;
    l.io = sample.io;
    l.backlog = sample.backlog;
    const std::vector<uint8_t> datagram = wire::encode(l, key_ ? &*key_ : nullptr);
    note_send_result(sender_->send_to_all(datagram));
    ++counters_.load_vectors_sent_total;
    last_load_ = l;
    last_load_bytes_ = datagram.size();
}

void Agent::reload() {
    life_.reload(load_nodeagent_config, [this](const NodeAgentConfig& next) { return apply(next); });
}

// A reload's new config: nullopt once applied, else why the running one stays.
ReloadOutcome Agent::apply(const NodeAgentConfig& next) {
    // Everything that can fail is built before anything is swapped in.
    std::string error;
    std::optional<wire::AgentChannels> built = wire::build_agent_channels(
        next, config_, [this](const AgentControlConfig& c, std::string* e) { return open_control(c, e); }, log_, &error);
    if (!built) return error;
    auto& [key, sender, control] = *built;

    std::vector<std::string> changed;
    key_ = std::move(key);
    if (next.auth != config_.auth) {
        changed.push_back("auth");
        if (!next.auth.enabled) log_.warning("auth: none: heartbeats and load vectors go out unauthenticated (lab use only)");
    }
    if (sender) {
        sender_ = std::move(sender);
        changed.push_back("dispatchers");
    }
    if (control) {
        control_ = std::move(control);
        changed.push_back("control");
    }
    if (next.node_id != config_.node_id) {
        heartbeat_.set_host_id(next.node_id);
        changed.push_back("node_id");
    }
    if (next.application != config_.application || next.load != config_.load ||
        next.heartbeat_interval != config_.heartbeat_interval) {
        build_app_and_load(next);
        changed.push_back("application/load");
    }
    if (next.heartbeat_interval != config_.heartbeat_interval) {
        (void)arm_timer(heartbeat_timer_.get(), next.heartbeat_interval, next.heartbeat_interval);
        changed.push_back("heartbeat_interval");
    }
    if (next.load_interval != config_.load_interval) {
        (void)arm_timer(load_timer_.get(), next.load_interval, next.load_interval);
        changed.push_back("load_interval");
    }
    if (next.node_setup != config_.node_setup || next.control.socket != config_.control.socket) {
        setup_->undo();
        setup_ = std::make_unique<NodeSetup>(log_, setup_record_path(next.control.socket));
        if (next.node_setup && setup_->apply(*next.node_setup, &error))
            log_.error("reload: " + error + "; the node is left without node setup");
        changed.push_back("node_setup");
    }
    config_ = next;
    life_.log_applied(changed, "drain state and sequence numbers carried over");
    return std::nullopt;
}

// The control socket (control_protocol.hpp), served from the event loop: its event fd is in
// the loop's epoll set, and the heartbeat timer's serve() expires silent clients.
std::unique_ptr<LineControlServer> Agent::open_control(const AgentControlConfig& control, std::string* error) {
    LineControlServer::Options options;
    options.owner = "sara-nodeagent";
    options.max_request_bytes = kMaxControlRequestBytes;
    options.too_long_reply = [this] {
        ++counters_.control_rejected_total;
        const std::string error = "request longer than " + std::to_string(kMaxControlRequestBytes) + " bytes";
        return nlohmann::json{{"ok", false}, {"error", error}}.dump() + "\n";
    };
    std::unique_ptr<LineControlServer> server = LineControlServer::open(
        control.socket, std::move(options), [this](std::string_view line) { return on_control(line); }, clock_,
        error);
    if (!server) return nullptr;
    if (const std::error_code ec = epoll_watch(life_.epoll_fd(), server->event_fd(), EPOLLIN)) {
        if (error) *error = errno_text("control socket " + control.socket + ": epoll", ec.value());
        return nullptr;
    }
    return server;
}

std::string Agent::on_control(std::string_view line) {
    std::string error;
    const std::optional<ControlRequest> request = parse_control_request(line, &error);
    if (!request) {
        ++counters_.control_rejected_total;
        return nlohmann::json{{"ok", false}, {"error", error}}.dump() + "\n";
    }
    ++counters_.control_requests_total;
    switch (request->kind) {
    case ControlRequest::Kind::drain:
        heartbeat_.drain(request->drain_at);
        log_.notice("drain: planned failure at " + std::to_string(request->drain_at) + " (Unix time); heartbeats carry flag 2");
        return nlohmann::json{{"ok", true}, {"draining", true}, {"drain_at", request->drain_at}}.dump() + "\n";
    case ControlRequest::Kind::undrain: {
        const bool was = heartbeat_.undrain();
        if (was) log_.notice("drain: undrain requested; the next heartbeat carries flag 3");
        return nlohmann::json{{"ok", true}, {"draining", false}, {"was_draining", was}}.dump() + "\n";
    }
    case ControlRequest::Kind::status: return status().dump() + "\n";
    }
    return "{}\n";
}

nlohmann::json Agent::status() const {
    nlohmann::json out;
    out["ok"] = true;
    out["node_id"] = config_.node_id;
    out["dispatchers"] = nlohmann::json::array();
    for (const Endpoint& e : config_.dispatchers) out["dispatchers"].push_back(e.to_string());
    out["auth"] = config_.auth.enabled ? "hmac-sha256" : "none";
    nlohmann::json hb{{"interval_ms", config_.heartbeat_interval.count()}};
    if (last_heartbeat_) {
        hb["seq"] = last_heartbeat_->seq;
        hb["flag"] = static_cast<unsigned>(last_heartbeat_->flag);
        hb["timestamp"] = last_heartbeat_->timestamp;
        hb["bytes"] = last_heartbeat_bytes_;
    }
    out["heartbeat"] = hb;
    nlohmann::json load{{"interval_ms", config_.load_interval.count()}};
    if (last_load_) {
        load["seq"] = last_load_->seq;
        load["timestamp"] = last_load_->timestamp;
        load["cpu"] = last_load_->cpu;
        load["memory"] = last_load_->memory;
        load["net"] = last_load_->net;
        load["io"] = last_load_->io;
        load["backlog"] = last_load_->backlog;
        load["bytes"] = last_load_bytes_;
    }
    out["load"] = load;
    out["application"] = {{"check", checker_->description()}, {"up", checker_->up()}, {"problem", checker_->last_problem()}};
    out["drain"] = {{"state", to_string(heartbeat_.drain_state())}, {"at", heartbeat_.drain_at()}};
    out["node_setup"] = setup_ && setup_->active();
    nlohmann::json counters;
    counters_.for_each([&](const char* name, const char*, uint64_t v) { counters[name] = v; });
    sender_->counters().for_each([&](const char* name, const char*, uint64_t v) { counters[name] = v; });
    out["counters"] = counters;
    return out;
}

}  // namespace

int check_config(const std::string& config_path) {
    const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config(config_path);
    if (!load.ok()) return check_config_verdict(config_path, load.errors);
    // The key file too: start refuses without a readable key, so check-config does.
    if (const auto key_error = wire::check_configured_key(config_path, load.config.auth))
        return check_config_verdict(config_path, {*key_error});
    return check_config_verdict(config_path, {});
}

int run_agent(const std::string& config_path, const Logger& log) {
    Agent agent(config_path, log);
    return start_and_run(agent);
}

}  // namespace sara::nodeagent
