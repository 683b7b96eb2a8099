// SPDX-License-Identifier: GPL-2.0-or-later
// The smallest useful NFQUEUE consumer: accepts every packet, optionally with a mark. It is
// the baseline the datapath benchmark (tests/bench/datapath/run.sh) holds sarad's queue path
// against, so it does what any consumer must do and nothing more:
//   - libmnl + libnetfilter_queue's nlmsg API, NETLINK_NO_ENOBUFS, a big receive buffer;
//   - packets taken in batches with one recvmmsg (MSG_WAITFORONE);
//   - one verdict message per packet (a batch verdict carries one mark only, KERNEL-NOTES
//     snag 6), all verdicts of a batch sent with one sendto;
//   - the same copy mode as sarad (whole packet), so the kernel-to-user copy is the same.
//
//   nfq_accept_all --queue N [--mark M] [--batch N] [--max-len N] [--duration SECONDS]
//
// --mark 0 (default) accepts without touching the mark. Runs until SIGTERM/SIGINT or
// --duration (0 = no limit); then unbinds and prints its counters as one JSON line.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;  // set by the signal handler only
void on_signal(int) { g_stop = 1; }

struct Options {
    uint16_t queue = 0;
    uint32_t mark = 0;
    unsigned batch = 64;
    uint32_t max_len = 4096;
    double duration = 0;
};

struct Counters {
    uint64_t packets = 0, rounds = 0, verdict_sends = 0, send_errors = 0, receive_errors = 0, unparsed = 0;
};

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "nfq_accept_all: %s\n"
                 "usage: nfq_accept_all --queue N [--mark M] [--batch N] [--max-len N] [--duration SECONDS]\n",
                 problem.c_str());
    return 2;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex) s.remove_prefix(2);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, hex ? 16 : 10);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

struct Batch {
    const Options* options;
    std::vector<char>* verdicts;
    size_t* used;
    Counters* counters;
};

int on_packet(const nlmsghdr* nlh, void* data) {
    auto& b = *static_cast<Batch*>(data);
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) {
        ++b.counters->unparsed;
        return MNL_CB_OK;
    }
    const auto* hdr = static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    nlmsghdr* v = nfq_nlmsg_put(b.verdicts->data() + *b.used, NFQNL_MSG_VERDICT, b.options->queue);
    nfq_nlmsg_verdict_put(v, int(ntohl(hdr->packet_id)), NF_ACCEPT);
    if (b.options->mark) nfq_nlmsg_verdict_put_mark(v, b.options->mark);
    *b.used += NLMSG_ALIGN(v->nlmsg_len);
    ++b.counters->packets;
    return MNL_CB_OK;
}

// Sends a config message and waits for its acknowledgement, accepting packets that come first.
bool configure(mnl_socket* nl, const Options& o, uint8_t command, Batch& batch) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, o.queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, command);
    if (command == NFQNL_CFG_CMD_BIND) {
        nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
        nfq_nlmsg_cfg_put_qmaxlen(nlh, o.max_len);
    }
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = unsigned(time(nullptr));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return std::perror("nfqueue config send"), false;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0) return std::perror("nfqueue config ack"), false;
        const auto* m = reinterpret_cast<const nlmsghdr*>(buf.data());
        if (m->nlmsg_type == NLMSG_ERROR) {
            const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
            if (err->error != 0) {
                errno = -err->error;
                std::perror("nfqueue config (is another process bound to the queue?)");
                return false;
            }
            return true;
        }
        // A packet queued before the ack still needs its verdict.
        *batch.used = 0;
        if (mnl_cb_run(buf.data(), size_t(n), 0, mnl_socket_get_portid(nl), on_packet, &batch) >= 0 && *batch.used)
            (void)mnl_socket_sendto(nl, batch.verdicts->data(), *batch.used);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    bool have_queue = false;
    for (int i = 1; i < argc; i += 2) {
        const std::string_view key = argv[i];
        if (i + 1 >= argc) return usage("missing value for " + std::string(key));
        const std::string_view value = argv[i + 1];
        bool ok = false;
        if (key == "--queue") ok = have_queue = parse_number(value, o.queue);
        else if (key == "--mark") ok = parse_number(value, o.mark);
        else if (key == "--batch") ok = parse_number(value, o.batch) && o.batch > 0 && o.batch <= 1024;
        else if (key == "--max-len") ok = parse_number(value, o.max_len) && o.max_len > 0;
        else if (key == "--duration") {
            char* end = nullptr;
            o.duration = std::strtod(argv[i + 1], &end);
            ok = end && *end == 0 && o.duration >= 0;
        }
        if (!ok) return usage("bad option " + std::string(key) + " " + std::string(value));
    }
    if (!have_queue) return usage("--queue is required");

    struct sigaction sa {};
    sa.sa_handler = on_signal;  // no SA_RESTART: a blocked recvmmsg returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return std::perror("netlink"), 1;
    const unsigned port_id = mnl_socket_get_portid(nl);
    const int fd = mnl_socket_get_fd(nl);
    int one = 1;
    if (mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof one) < 0) return std::perror("NO_ENOBUFS"), 1;
    int rcvbuf = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval tv{0, 200'000};  // wake up to notice a stop request or the end of --duration
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    constexpr size_t kPacketBuffer = 0xffff + 4096;
    std::vector<std::vector<char>> bufs(o.batch, std::vector<char>(kPacketBuffer));
    std::vector<iovec> iov(o.batch);
    std::vector<mmsghdr> msgs(o.batch);
    std::vector<char> verdicts(size_t(o.batch) * 128 + MNL_SOCKET_BUFFER_SIZE);
    Counters counters;
    size_t used = 0;
    Batch batch{&o, &verdicts, &used, &counters};
    if (!configure(nl, o, NFQNL_CFG_CMD_BIND, batch)) return 1;
    std::fprintf(stderr, "nfq_accept_all: queue %u bound\n", unsigned(o.queue));
    const double end = o.duration > 0 ? monotonic_seconds() + o.duration : 0;

    while (!g_stop && (end == 0 || monotonic_seconds() < end)) {
        for (unsigned i = 0; i < o.batch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = recvmmsg(fd, msgs.data(), o.batch, MSG_WAITFORONE, nullptr);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            ++counters.receive_errors;  // ENOBUFS cannot happen with NETLINK_NO_ENOBUFS
            if (errno == ENOBUFS) continue;
            std::perror("nfqueue receive");
            break;
        }
        ++counters.rounds;
        used = 0;
        for (int i = 0; i < n; ++i)
            if (mnl_cb_run(bufs[size_t(i)].data(), msgs[size_t(i)].msg_len, 0, port_id, on_packet, &batch) < 0)
                ++counters.unparsed;
        if (used == 0) continue;
        ++counters.verdict_sends;
        if (mnl_socket_sendto(nl, verdicts.data(), used) < 0) ++counters.send_errors;
    }

    (void)configure(nl, o, NFQNL_CFG_CMD_UNBIND, batch);
    mnl_socket_close(nl);
    std::printf("{\"packets\": %" PRIu64 ", \"rounds\": %" PRIu64 ", \"verdict_sends\": %" PRIu64
                ", \"send_errors\": %" PRIu64 ", \"receive_errors\": %" PRIu64 ", \"unparsed\": %" PRIu64 "}\n",
                counters.packets, counters.rounds, counters.verdict_sends, counters.send_errors,
                counters.receive_errors, counters.unparsed);
    return 0;
}
