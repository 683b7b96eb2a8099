// SPDX-License-Identifier: GPL-2.0-or-later
// Verdicts held until the backup has a new session's binding (issue 20, DESIGN §9 "no
// replication window"). The master's queue threads hand over the verdict of every packet that
// gave a new session its node; the sync thread sends the journal (with that binding) at most
// `batch` after the first such hold, as an update the backup acknowledges; the ack releases
// every verdict held for that update or an earlier one. A verdict held longer than `timeout`
// (the backup died, or is too slow) is released anyway and counted: availability first,
// and the window is open again only for those sessions. When no backup acknowledges at all
// the queue threads do not hold (counted as unheld), so a lone master adds no latency.
//
// Every held verdict is released exactly once: by an ack, by the timeout, or by release_all
// (leaving master, stopping). NFQUEUE takes verdicts in any order, by packet id, from any
// thread (DeferredVerdictSink). Pure logic with the clock passed in; the owner serialises
// calls (the runtime's lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/counters.hpp"
#include "daemon/forward/verdict.hpp"

namespace sara {

#define SARA_HOLD_COUNTERS(X)                                                                                  \
    X(sync_verdicts_held_total, "New-session verdicts held until the backup acknowledged the binding")        \
    X(sync_verdicts_released_acked_total, "Held verdicts released by the backup's acknowledgement")           \
    X(sync_verdicts_released_late_total, "Held verdicts released after sync.hold_timeout without an ack")     \
    X(sync_verdicts_released_other_total, "Held verdicts released on leaving master or stopping")             \
    X(sync_verdicts_unheld_total, "New-session verdicts given at once: no backup acknowledging updates")     \
    X(sync_verdicts_held_microseconds_total, "Time verdicts spent held, summed (added new-session latency)")
SARA_DECLARE_COUNTERS(HoldCounters, SARA_HOLD_COUNTERS)

class HeldVerdicts {
public:
    // batch: how long the first held verdict waits for others before its update is sent.
    // timeout: the longest a verdict is held.
    HeldVerdicts(std::chrono::microseconds batch, std::chrono::microseconds timeout)
        : batch_(batch), timeout_(timeout) {}

    // Holds the verdict of `packet_id` on `sink` until update `update` is acknowledged.
    void hold(DeferredVerdictSink& sink, uint32_t packet_id, const Verdict& verdict, uint32_t update, MonoTime now);
    void count_unheld() { ++counters_.sync_verdicts_unheld_total; }

    // When the sync thread must send an update for the held verdicts (nullopt: none waits).
    std::optional<MonoTime> flush_due() const;
    // The update carrying everything held so far was built (held verdicts wait for its ack).
    void sent() { unsent_since_.reset(); }
    // The earliest moment a held verdict times out (nullopt: none held).
    std::optional<MonoTime> next_timeout() const;

    // Releases the verdicts held for update `update` or earlier (serial number order).
    void acknowledged(uint32_t update, MonoTime now);
    // Releases the verdicts held longer than the timeout.
    void expire(MonoTime now);
    // Releases every held verdict.
    void release_all(MonoTime now);

    size_t size() const { return held_.size(); }
    const HoldCounters& counters() const { return counters_; }

private:
    struct Held {
        DeferredVerdictSink* sink;
        uint32_t packet_id;
        Verdict verdict;
        uint32_t update;
        MonoTime since;
    };
    template <typename Pred>
    void release_if(Pred pred, MonoTime now, uint64_t& counter);

    std::chrono::microseconds batch_;
    std::chrono::microseconds timeout_;
    std::vector<Held> held_;  // in hold order: `since` ascending
    std::optional<MonoTime> unsent_since_;
    HoldCounters counters_;
};

}  // namespace sara
