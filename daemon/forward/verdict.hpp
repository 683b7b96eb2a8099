// SPDX-License-Identifier: GPL-2.0-or-later
// One verdict per queued packet, guaranteed by construction (Suricata's rule): the queue hands
// each packet to the pipeline as a PacketLease; deciding twice is impossible, and a lease
// destroyed undecided (a bug, an early return) applies the configured fail policy and is
// counted. Verdicts are collected in a VerdictBatch and sent in one sendto.
#pragma once

#include <cstdint>
#include <utility>

#include "common/util/counters.hpp"

namespace sara {

struct Verdict {
    enum class Kind : uint8_t { accept, drop };
    Kind kind = Kind::drop;
    bool set_mark = false;
    uint32_t mark = 0;

    static Verdict accept() { return {Kind::accept, false, 0}; }
    static Verdict accept_with_mark(uint32_t mark) { return {Kind::accept, true, mark}; }
    static Verdict drop() { return {Kind::drop, false, 0}; }
};

class VerdictSink {
public:
    virtual ~VerdictSink() = default;
    virtual void add_verdict(uint32_t packet_id, const Verdict& verdict) = 0;
};

// Verdicts given after the packet's receive round, by packet id, in any order (NFQUEUE allows
// it): for packets whose lease was handed over (PacketLease::hand_over). Any thread.
class DeferredVerdictSink {
public:
    virtual ~DeferredVerdictSink() = default;
    virtual void send_verdict_now(uint32_t packet_id, const Verdict& verdict) = 0;
};

class PacketLease {
public:
    PacketLease(VerdictSink& sink, uint32_t packet_id, Verdict fail_policy, SharedCounter* undecided_counter)
        : sink_(&sink), id_(packet_id), fail_policy_(fail_policy), undecided_(undecided_counter) {}
    PacketLease(const PacketLease&) = delete;
    PacketLease& operator=(const PacketLease&) = delete;
    PacketLease(PacketLease&& other) noexcept
        : sink_(std::exchange(other.sink_, nullptr)),
          id_(other.id_),
          fail_policy_(other.fail_policy_),
          undecided_(other.undecided_) {}
    ~PacketLease() {
        if (!sink_) return;
        sink_->add_verdict(id_, fail_policy_);
        if (undecided_) ++*undecided_;
    }

    uint32_t id() const { return id_; }
    bool decided() const { return sink_ == nullptr; }
    void decide(const Verdict& verdict) {
        if (!sink_) return;  // already decided: the first verdict stands
        std::exchange(sink_, nullptr)->add_verdict(id_, verdict);
    }
    // The caller takes the duty to give this packet its verdict later (a DeferredVerdictSink);
    // the lease is then decided and its destructor does nothing.
    uint32_t hand_over() {
        sink_ = nullptr;
        return id_;
    }

private:
    VerdictSink* sink_;
    uint32_t id_;
    Verdict fail_policy_;
    SharedCounter* undecided_;
};

}  // namespace sara
