// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/uac.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

#include "tests/loadgen/clock.hpp"
#include "tests/loadgen/summary.hpp"
#include "tests/loadgen/udp.hpp"

namespace sara::loadgen {
namespace {

// Where Calls' messages go: the one socket (u1) or the call's own (un). A call's socket is
// closed after the next flush, so its last messages still leave on it.
class SocketOutbox : public Outbox {
public:
    SocketOutbox(int shared_fd, const sockaddr_storage& target, int epfd, uint64_t calls, bool per_call)
        : shared_(shared_fd), target_(target), epfd_(epfd), per_call_(per_call) {
        if (per_call) fds_.assign(calls, -1);
    }
    void send(uint64_t call, const std::string& message) override {
        const int fd = per_call_ ? fds_[call] : shared_;
        if (fd >= 0) queue_.add(fd, target_, message);
    }
    void finished(uint64_t call) override {
        if (!per_call_ || fds_[call] < 0) return;
        closing_.push_back(fds_[call]);
        fds_[call] = -1;
    }
    void own(uint64_t call, int fd) { fds_[call] = fd; }
    void flush() {
        refused_ += queue_.flush();
        for (int fd : closing_) {
            epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
            close(fd);
        }
        closing_.clear();
    }
    size_t refused() const { return refused_; }
    size_t sent() const { return queue_.sent(); }

private:
    int shared_;
    sockaddr_storage target_;
    int epfd_;
    bool per_call_;
    std::vector<int> fds_;
    std::vector<int> closing_;
    SendQueue queue_;
    size_t refused_ = 0;
};

// A socket per call needs many descriptors: up to the hard limit.
void raise_open_files_limit() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

uint32_t random_run() {
    std::random_device rd;
    uint32_t v = 0;
    while (v == 0) v = rd();
    return v;
}

// --local, or without it the wildcard address of the target's family (the kernel picks the
// source address towards the target).
Endpoint local_of(const UacOptions& o) {
    if (!o.local.host.empty()) return o.local;
    return Endpoint{o.target.is_v6() ? "::" : "0.0.0.0", o.local.port};
}

struct Receipts {
    uint64_t received = 0, unparsable = 0;
    std::string last_error;
};

void drain(int fd, RecvBatch& batch, Calls& calls, SocketOutbox& out, Receipts& r) {
    for (int round = 0; round < 16; ++round) {  // bounded: placement and timers get their turn
        const size_t n = batch.receive(fd);
        const int64_t now = now_us();
        for (size_t i = 0; i < n; ++i) {
            ++r.received;
            const FieldsResult f = read_fields(batch.datagram(i));
            if (!f.ok()) {
                ++r.unparsable;
                r.last_error = f.error;
                continue;
            }
            calls.receive(f.fields, now, out);
        }
        if (n < RecvBatch::kBatch) return;
    }
}

}  // namespace

int run_uac(const UacOptions& o) {
    if (o.rate <= 0 || o.calls == 0 || o.t1_ms <= 0 || o.target.host.empty()) {
        std::fprintf(stderr, "sip-loadgen uac: --target, a rate > 0, calls > 0 and t1 > 0 are needed\n");
        return 2;
    }
    const Endpoint local_bind = local_of(o);
    sockaddr_storage target{};
    try {
        target = to_sockaddr(o.target);
        to_sockaddr(local_bind);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "sip-loadgen uac: %s\n", e.what());
        return 2;
    }
    raise_open_files_limit();
    const double max_seconds =
        o.max_seconds > 0 ? o.max_seconds : double(o.calls) / o.rate + 64.0 * o.t1_ms / 1000.0 + 1;
    const int epfd = epoll_create1(EPOLL_CLOEXEC);
    int shared = -1;
    Endpoint shared_local;
    if (!o.socket_per_call) {
        shared = open_udp(local_bind, o.buffer_bytes, false);
        if (shared < 0) {
            std::fprintf(stderr, "sip-loadgen uac: bind %s: %s\n", to_string(local_bind).c_str(), std::strerror(errno));
            return 2;
        }
        shared_local = local_endpoint(shared);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = shared;
        epoll_ctl(epfd, EPOLL_CTL_ADD, shared, &ev);
    }
    CallsConfig cfg;
    cfg.run = o.run ? o.run : random_run();
    cfg.service = o.service;
    cfg.target = o.target;
    cfg.media_port = o.media_port;
    cfg.t1 = int64_t(o.t1_ms) * 1000;
    cfg.t2 = 8 * cfg.t1;  // RFC 3261's defaults: T2 = 4 s = 8 * T1
    Calls calls(cfg, o.calls);
    SocketOutbox out(shared, target, epfd, o.calls, o.socket_per_call);
    RecvBatch batch;
    Receipts receipts;
    uint64_t placed = 0, socket_errors = 0;
    std::string socket_error;
    const int64_t t0 = now_us(), end = t0 + int64_t(max_seconds * 1e6);
    int64_t placed_at = -1;
    std::vector<epoll_event> events(256);
    Endpoint per_call_local{local_bind.host, 0};
    bool cut = false;
    for (;;) {
        int64_t now = now_us();
        if (now >= end) {
            cut = true;
            break;
        }
        // Open loop: every call due by now is placed (at most 1024 per turn).
        const uint64_t due = std::min<uint64_t>(o.calls, uint64_t(double(now - t0) * o.rate / 1e6) + 1);
        for (int n = 0; placed < due && n < 1024; ++n, ++placed) {
            Endpoint local = shared_local;
            if (o.socket_per_call) {
                const int fd = open_udp(per_call_local, o.buffer_bytes > 0 ? 65536 : 0, false);
                if (fd < 0) {
                    ++socket_errors;
                    socket_error = std::strerror(errno);
                    continue;
                }
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.fd = fd;
                epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                out.own(placed, fd);
                local = local_endpoint(fd);
            }
            calls.start(placed, local, now, out);
        }
        if (placed == o.calls && placed_at < 0) placed_at = now;
        calls.expire(now, out);
        out.flush();
        if (placed == o.calls && calls.open() == 0) break;
        // Sleep until the next call is due, a timer fires, or an answer arrives.
        int64_t wake = std::min(calls.next_timer(), end);
        if (placed < o.calls) wake = std::min(wake, t0 + int64_t(double(placed) * 1e6 / o.rate));
        const int64_t wait = wake - now_us();
        const int timeout_ms = wait <= 0 ? 0 : int(std::min<int64_t>((wait + 999) / 1000, 1000));
        const int ready = epoll_wait(epfd, events.data(), int(events.size()), timeout_ms);
        for (int i = 0; i < ready; ++i) drain(events[size_t(i)].data.fd, batch, calls, out, receipts);
        out.flush();
    }
    const int64_t t_end = now_us();
    const uint64_t open_at_end = calls.open();
    calls.abandon(out);
    out.flush();
    if (shared >= 0) close(shared);
    close(epfd);

    const CallCounters& c = calls.counters();
    const double placed_in = placed_at >= 0 ? double(placed_at - t0) / 1e6 : NAN;
    JsonLine j;
    j.str("role", "uac").str("transport", o.socket_per_call ? "un" : "u1");
    j.str("target", to_string(o.target));
    j.num("rate", o.rate).num("calls", o.calls).num("started", c.started);
    j.num("successful", c.successful).num("failed", c.failed + socket_errors).num("timed_out", c.timed_out);
    j.num("not_started", o.calls - c.started - socket_errors).num("socket_errors", socket_errors);
    j.num("open_at_end", open_at_end).num("cut_by_max_seconds", uint64_t(cut ? 1 : 0));
    j.num("retransmissions", c.retransmissions).num("acks_repeated", c.acks_repeated);
    j.num("messages_sent", uint64_t(out.sent())).num("send_refused", uint64_t(out.refused()));
    j.num("messages_received", receipts.received).num("unparsable", receipts.unparsable);
    j.num("late_or_stray", c.late_or_stray).num("unexpected", c.unexpected);
    j.num("placed_in_s", placed_in).num("placed_rate", placed_in > 0 ? double(o.calls) / placed_in : NAN);
    j.num("elapsed_s", double(t_end - t0) / 1e6).num("max_seconds", max_seconds);
    j.raw("setup_latency_us", latency_json(calls.setup_latencies()));
    char run_hex[9];
    std::snprintf(run_hex, sizeof run_hex, "%08x", cfg.run);
    j.str("run", run_hex).str("call_id_example", call_id(cfg.run, 0));
    if (!receipts.last_error.empty()) j.str("last_parse_error", receipts.last_error);
    if (!socket_error.empty()) j.str("last_socket_error", socket_error);
    std::printf("%s\n", j.done().c_str());
    std::fflush(stdout);
    return c.successful == o.calls ? 0 : 1;
}

}  // namespace sara::loadgen
