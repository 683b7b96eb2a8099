// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/nfqueue.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "common/util/errno_text.hpp"

namespace sara {
namespace {

// Room for one queued packet: netlink and nfqueue headers plus a full 64 KiB IP packet.
constexpr size_t kReceiveBufferSize = 0xffff + 4096;
constexpr size_t kVerdictBufferSize = 64 * 1024;
constexpr size_t kVerdictMessageMax = 128;  // one verdict message with a mark is ~40 bytes

struct PacketFields {
    bool have_id = false;
    uint32_t id = 0;
    std::span<const uint8_t> payload;
    size_t packet_length = 0;  // the packet's real length when the copy is cut short (NFQA_CAP_LEN)
};

int parse_packet(const nlmsghdr* nlh, PacketFields& out) {
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(nlh, attr) < 0) return MNL_CB_ERROR;
    if (attr[NFQA_PACKET_HDR]) {
        const auto* hdr = static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
        out.have_id = true;
        out.id = ntohl(hdr->packet_id);
    }
    if (attr[NFQA_PAYLOAD])
        out.payload = {static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
                       mnl_attr_get_payload_len(attr[NFQA_PAYLOAD])};
    // The copy range stops at 65,531 bytes (0xffff less a netlink attribute header): a longer
    // packet comes truncated, with its real length here.
    if (attr[NFQA_CAP_LEN] && mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= sizeof(uint32_t))
        out.packet_length = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
    return MNL_CB_OK;
}

struct RoundContext {
    NfQueue* queue;
    const NfQueue::Handler* handler;  // null while configuring: packets get the fail policy
    const NfQueueOptions* options;
    QueueCounters* counters;
};

int on_message(const nlmsghdr* nlh, void* data) {
    auto& ctx = *static_cast<RoundContext*>(data);
    PacketFields fields;
    const int rc = parse_packet(nlh, fields);
    if (!fields.have_id) {
        ++ctx.counters->queue_malformed_messages_total;
        return MNL_CB_OK;  // nothing to give a verdict to; keep reading the round
    }
    ++ctx.counters->queue_packets_total;
    PacketLease lease(*ctx.queue, fields.id, ctx.options->fail_policy, &ctx.counters->queue_undecided_total);
    if (rc == MNL_CB_OK && ctx.handler) (*ctx.handler)(lease, fields.payload, std::max(fields.packet_length, fields.payload.size()));
    else if (rc != MNL_CB_OK) ++ctx.counters->queue_malformed_messages_total;
    return MNL_CB_OK;  // an undecided lease applies the fail policy here
}

}  // namespace

NfQueue::NfQueue(const NfQueueOptions& options) : options_(options), verdict_buffer_(kVerdictBufferSize) {
    receive_buffers_.resize(options_.batch, std::vector<char>(kReceiveBufferSize));
    // Built once: a receive round must not allocate (measured: the per-round memset showed
    // in the queue path's profile).
    iov_.resize(options_.batch);
    messages_.resize(options_.batch);
    for (size_t i = 0; i < options_.batch; ++i) {
        iov_[i] = {receive_buffers_[i].data(), receive_buffers_[i].size()};
        messages_[i] = {};
        messages_[i].msg_hdr.msg_iov = &iov_[i];
        messages_[i].msg_hdr.msg_iovlen = 1;
    }
}

NfQueue::~NfQueue() {
    if (!socket_) return;
    flush_verdicts();
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, options_.queue_num);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
    (void)mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len);
    mnl_socket_close(socket_);
}

std::unique_ptr<NfQueue> NfQueue::open(const NfQueueOptions& options, std::string* error) {
    std::unique_ptr<NfQueue> q(new NfQueue(options));
    if (!q->configure(error)) return nullptr;
    return q;
}

bool NfQueue::configure(std::string* error) {
    socket_ = mnl_socket_open(NETLINK_NETFILTER);
    if (!socket_) return *error = errno_text("netlink socket", errno), false;
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) return *error = errno_text("netlink bind", errno), false;
    port_id_ = mnl_socket_get_portid(socket_);
    const int fd = mnl_socket_get_fd(socket_);
    int one = 1;
    // Without this a burst the kernel cannot deliver turns into an ENOBUFS error on recv.
    if (mnl_socket_setsockopt(socket_, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
        return *error = errno_text("NETLINK_NO_ENOBUFS", errno), false;
    int rcvbuf = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    timeval tv{};
    tv.tv_sec = options_.receive_timeout.count() / 1000;
    tv.tv_usec = (options_.receive_timeout.count() % 1000) * 1000;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) return *error = errno_text("SO_RCVTIMEO", errno), false;

    // Bind and configure in one send, each acknowledged, so a queue already bound by another
    // process (EBUSY) is reported at start.
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
    nlmsghdr* nlh = nfq_nlmsg_put(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFQNL_MSG_CONFIG, options_.queue_num);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = 1;
    mnl_nlmsg_batch_next(batch);
    nlh = nfq_nlmsg_put(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFQNL_MSG_CONFIG, options_.queue_num);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, options_.max_len);
    if (options_.fail_open) {
        mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
        mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
    }
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = 2;
    mnl_nlmsg_batch_next(batch);
    const size_t len = mnl_nlmsg_batch_size(batch);
    mnl_nlmsg_batch_stop(batch);
    if (mnl_socket_sendto(socket_, buf.data(), len) < 0) return *error = errno_text("nfqueue config send", errno), false;

    // Read both acknowledgements. A packet queued in between gets the fail policy.
    RoundContext ctx{this, nullptr, &options_, &counters_};
    int acks = 0;
    while (acks < 2) {
        const ssize_t n = mnl_socket_recvfrom(socket_, buf.data(), buf.size());
        if (n < 0) return *error = errno_text("nfqueue config ack", errno), false;
        for (const nlmsghdr* m = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(m, int(n));) {
            if (m->nlmsg_type == NLMSG_ERROR) {
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
                if (err->error != 0) {
                    errno = -err->error;
                    flush_verdicts();
                    return *error = errno_text("nfqueue config (is another process bound to the queue?)", errno), false;
                }
                ++acks;
            } else {
                on_message(m, &ctx);
            }
            int remaining = int(n) - int(reinterpret_cast<const char*>(m) - buf.data());
            m = mnl_nlmsg_next(m, &remaining);
            if (remaining <= 0) break;
        }
    }
    return flush_verdicts() || (*error = errno_text("verdict send", errno), false);
}

void NfQueue::add_verdict(uint32_t packet_id, const Verdict& verdict) {
    if (verdict_bytes_ + kVerdictMessageMax > verdict_buffer_.size()) flush_verdicts();
    nlmsghdr* nlh = nfq_nlmsg_put(verdict_buffer_.data() + verdict_bytes_, NFQNL_MSG_VERDICT, options_.queue_num);
    nfq_nlmsg_verdict_put(nlh, int(packet_id), verdict.kind == Verdict::Kind::accept ? NF_ACCEPT : NF_DROP);
    if (verdict.set_mark) nfq_nlmsg_verdict_put_mark(nlh, verdict.mark);
    verdict_bytes_ += NLMSG_ALIGN(nlh->nlmsg_len);
    ++counters_.queue_verdicts_total;
}

void NfQueue::send_verdict_now(uint32_t packet_id, const Verdict& verdict) {
    alignas(nlmsghdr) char buffer[kVerdictMessageMax];
    nlmsghdr* nlh = nfq_nlmsg_put(buffer, NFQNL_MSG_VERDICT, options_.queue_num);
    nfq_nlmsg_verdict_put(nlh, int(packet_id), verdict.kind == Verdict::Kind::accept ? NF_ACCEPT : NF_DROP);
    if (verdict.set_mark) nfq_nlmsg_verdict_put_mark(nlh, verdict.mark);
    // sendto on a netlink socket is safe beside the queue thread's own sends.
    if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) late_verdict_errors_.fetch_add(1, std::memory_order_relaxed);
}

bool NfQueue::flush_verdicts() {
    if (verdict_bytes_ == 0) return true;
    const ssize_t sent = mnl_socket_sendto(socket_, verdict_buffer_.data(), verdict_bytes_);
    verdict_bytes_ = 0;
    if (sent < 0) {
        ++counters_.queue_send_errors_total;
        return false;
    }
    return true;
}

bool NfQueue::receive_round(const Handler& handler, std::string* error) {
    const size_t batch = receive_buffers_.size();
    std::vector<mmsghdr>& messages = messages_;
    for (size_t i = 0; i < batch; ++i) messages[i].msg_len = 0;
    // MSG_WAITFORONE: block (up to SO_RCVTIMEO) for the first, then take what is waiting.
    const int n = recvmmsg(mnl_socket_get_fd(socket_), messages.data(), unsigned(batch), MSG_WAITFORONE, nullptr);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        ++counters_.queue_receive_errors_total;
        if (errno == ENOBUFS) return true;
        *error = errno_text("nfqueue receive", errno);
        return false;
    }
    ++counters_.queue_receive_rounds_total;
    RoundContext ctx{this, &handler, &options_, &counters_};
    for (int i = 0; i < n; ++i) {
        if (mnl_cb_run(receive_buffers_[size_t(i)].data(), messages[size_t(i)].msg_len, 0, port_id_, on_message, &ctx) < 0)
            ++counters_.queue_malformed_messages_total;
    }
    if (!flush_verdicts()) {
        *error = errno_text("verdict send", errno);
        return errno == ENOBUFS || errno == EAGAIN;  // transient: keep going
    }
    return true;
}

}  // namespace sara
