// SPDX-License-Identifier: GPL-2.0-or-later
// One NFQUEUE queue, bound over a netlink socket with libmnl and libnetfilter_queue's nlmsg
// helpers. A receive round blocks up to the receive timeout for the first packet, then takes
// every packet already waiting (up to the batch size) with one recvmmsg, hands each to the
// handler as a PacketLease, and sends all verdicts of the round in one sendto (one verdict
// message per packet, since a batch verdict carries a single mark — KERNEL-NOTES snag 6).
//
// Hardening (Suricata's list): NETLINK_NO_ENOBUFS, a bounded kernel queue (max_len),
// optional fail-open when the queue is full, a receive timeout so the owner sees stop
// requests. One NfQueue belongs to one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "common/util/counters.hpp"
#include "daemon/forward/verdict.hpp"

struct mnl_socket;

namespace sara {

#define SARA_QUEUE_COUNTERS(X)                                                             \
    X(queue_packets_total, "Packets received from NFQUEUE")                                \
    X(queue_verdicts_total, "Verdicts sent")                                               \
    X(queue_receive_rounds_total, "Receive rounds (one recvmmsg, one verdict sendto each)") \
    X(queue_undecided_total, "Packets that got the fail-policy verdict because the pipeline gave none") \
    X(queue_receive_errors_total, "Netlink receive errors (ENOBUFS: the kernel dropped packets)") \
    X(queue_send_errors_total, "Verdict sendto errors")                                     \
    X(queue_malformed_messages_total, "Netlink messages from the queue that could not be parsed")
// Written by the queue's thread, read by the metrics and control threads.
SARA_DECLARE_SHARED_COUNTERS(QueueCounters, SARA_QUEUE_COUNTERS)

struct NfQueueOptions {
    uint16_t queue_num = 0;
    uint32_t max_len = 4096;         // packets the kernel holds for us before it drops (or fails open)
    bool fail_open = false;          // kernel accepts packets when the queue is full
    size_t batch = 64;               // packets per receive round
    std::chrono::milliseconds receive_timeout{200};
    Verdict fail_policy = Verdict::drop();  // for a packet the pipeline leaves undecided
};

class NfQueue final : public VerdictSink, public DeferredVerdictSink {
public:
    // Handler contract: decide the lease (accept/drop); `payload` starts at the IP header and
    // is valid only during the call. `packet_length` is the packet's real length: more than
    // payload.size() when the kernel's copy was cut short (packets over 65,531 bytes).
    using Handler = std::function<void(PacketLease&, std::span<const uint8_t> payload, size_t packet_length)>;

    static std::unique_ptr<NfQueue> open(const NfQueueOptions& options, std::string* error);
    ~NfQueue() override;
    NfQueue(const NfQueue&) = delete;
    NfQueue& operator=(const NfQueue&) = delete;

    // One receive round; returns false on a fatal socket error (the text in *error).
    bool receive_round(const Handler& handler, std::string* error);
    const QueueCounters& counters() const { return counters_; }
    uint16_t queue_num() const { return options_.queue_num; }

    void add_verdict(uint32_t packet_id, const Verdict& verdict) override;
    // A verdict for a packet handed over earlier, sent at once on its own (any thread: its own
    // buffer, one sendto; counted by the caller, and its send errors here, not in the queue
    // thread's counters).
    void send_verdict_now(uint32_t packet_id, const Verdict& verdict) override;
    uint64_t late_verdict_errors() const { return late_verdict_errors_.load(std::memory_order_relaxed); }

private:
    explicit NfQueue(const NfQueueOptions& options);
    bool configure(std::string* error);
    bool flush_verdicts();

    NfQueueOptions options_;
    mnl_socket* socket_ = nullptr;
    unsigned port_id_ = 0;
    std::vector<std::vector<char>> receive_buffers_;
    std::vector<iovec> iov_;          // one per receive buffer
    std::vector<mmsghdr> messages_;   // recvmmsg's array, pointing at iov_
    std::vector<char> verdict_buffer_;
    size_t verdict_bytes_ = 0;
    QueueCounters counters_;
    std::atomic<uint64_t> late_verdict_errors_{0};
};

}  // namespace sara
