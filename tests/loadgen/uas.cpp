// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/uas.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include "tests/loadgen/clock.hpp"
#include "tests/loadgen/summary.hpp"
#include "tests/loadgen/udp.hpp"

namespace sara::loadgen {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

// Distinct calls seen (for the calls-per-node spread): statistics only, no protocol state.
// Bounded: past kMaxTracked Call-IDs it stops adding (and says so).
constexpr size_t kMaxTracked = 20'000'000;

struct UasCounters {
    uint64_t received = 0, malformed = 0, responses_ignored = 0;
    uint64_t invites = 0, acks = 0, byes = 0, other_requests = 0;
    uint64_t answers_sent = 0, send_refused = 0;
    std::string last_error;
};

uint64_t hash_call_id(std::string_view s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    return h;
}

}  // namespace

int run_uas(const UasOptions& o) {
    try {
        to_sockaddr(o.listen);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "sip-loadgen uas: %s\n", e.what());
        return 2;
    }
    struct sigaction sa{};
    sa.sa_handler = on_stop;  // no SA_RESTART: epoll_wait returns EINTR
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    const int epfd = epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> fds;
    for (int i = 0; i < std::max(1, o.sockets); ++i) {
        const int fd = open_udp(o.listen, o.buffer_bytes, o.sockets > 1);
        if (fd < 0) {
            std::fprintf(stderr, "sip-loadgen uas: bind %s: %s\n", to_string(o.listen).c_str(), std::strerror(errno));
            return 2;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        fds.push_back(fd);
    }
    const Endpoint contact = local_endpoint(fds.front());
    std::fprintf(stderr, "sip-loadgen uas: listening on %s (%zu sockets)\n", to_string(contact).c_str(), fds.size());
    RecvBatch batch;
    SendQueue queue;
    UasAnswer answer;
    UasCounters k;
    std::unordered_set<uint64_t> calls;
    bool tracking_full = false;
    const int64_t t0 = now_us(), end = t0 + int64_t(o.max_seconds * 1e6);
    std::vector<epoll_event> events(fds.size());
    while (!g_stop && now_us() < end) {
        const int ready = epoll_wait(epfd, events.data(), int(events.size()), 100);
        for (int e = 0; e < ready; ++e) {
            const int fd = events[size_t(e)].data.fd;
            for (int round = 0; round < 16; ++round) {
                const size_t n = batch.receive(fd);
                for (size_t i = 0; i < n; ++i) {
                    ++k.received;
                    const FieldsResult f = read_fields(batch.datagram(i));
                    if (!f.ok()) {
                        ++k.malformed;
                        k.last_error = f.error;
                        continue;
                    }
                    const SipMessage& m = f.fields.message;
                    if (!m.is_request) {
                        ++k.responses_ignored;
                        continue;
                    }
                    if (m.method == "INVITE") {
                        ++k.invites;
                        if (calls.size() < kMaxTracked) calls.insert(hash_call_id(m.call_id));
                        else tracking_full = true;
                    } else if (m.method == "ACK") {
                        ++k.acks;
                    } else if (m.method == "BYE") {
                        ++k.byes;
                    } else {
                        ++k.other_requests;
                    }
                    answer_request(answer, f.fields, contact, o.media_port);
                    for (int r = 0; r < answer.count; ++r) queue.add(fd, batch.source(i), answer.response[r]);
                }
                k.send_refused += queue.flush();
                if (n < RecvBatch::kBatch) break;
            }
        }
    }
    for (int fd : fds) close(fd);
    close(epfd);
    k.answers_sent = queue.sent();
    JsonLine j;
    j.str("role", "uas").str("listen", to_string(contact));
    j.num("sockets", uint64_t(fds.size())).num("received", k.received).num("malformed", k.malformed);
    j.num("calls", uint64_t(calls.size())).num("invites", k.invites).num("acks", k.acks).num("byes", k.byes);
    j.num("invite_retransmissions", k.invites - std::min<uint64_t>(k.invites, calls.size()));
    j.num("other_requests", k.other_requests).num("responses_ignored", k.responses_ignored);
    j.num("answers_sent", k.answers_sent).num("send_refused", k.send_refused);
    j.num("call_tracking_full", uint64_t(tracking_full ? 1 : 0));
    j.num("elapsed_s", double(now_us() - t0) / 1e6);
    if (!k.last_error.empty()) j.str("last_parse_error", k.last_error);
    std::printf("%s\n", j.done().c_str());
    std::fflush(stdout);
    return 0;
}

}  // namespace sara::loadgen
