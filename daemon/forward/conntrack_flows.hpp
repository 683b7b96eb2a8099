// SPDX-License-Identifier: GPL-2.0-or-later
// The netfilter fast path (conntrack marks) as the session table sees a per-flow fast path
// (FastPathFlows), so that route mode without BPF gets what the BPF map already gave:
//   - put: nothing to do: the kernel saves the verdict's mark in the flow's conntrack entry
//     itself (SARA-FWD). Wrapped by FastPathEndpoints, every put is indexed by client
//     endpoint, so a claimed client port names its stale entries exactly instead of a dump
//     that walks every conntrack bucket (ConntrackJanitor::forget_endpoint; ~10 ms each with
//     262,144 buckets, which capped route mode near 50 calls/s).
//   - activity: the entry's own timer, which the kernel restarts at each packet, read with one
//     ctnetlink GET. A media flow's packets never reach sarad once its mark is saved, so
//     without this the table purged every flow of a call after twice its service's
//     flow_timeout, then the call's session, and the call's BYE was scheduled as a new session
//     — on another node whenever there are two (a call longer than ~60 s with the default
//     30 s flow_timeout; found 2026-12-07). The GETs run outside the runtime lock: the table
//     asks (defer_idle: the flow is kept as it is and queued), the main thread answers the
//     queued flows after its locked work (answer_queries), and the table's next visit of the
//     flow reads the answer (idle_ms).
//   - only SIP and RTSP sessions' flows are held (holds_plain_flows): a flood of new flows
//     does not grow the index, and a plain session is its one flow (no call to split).
//   - erase: nothing either: the identifier has the entries of flows whose owner changed
//     deleted (KernelForgets); a purged flow's entry idled as long as the table allowed.
// IPv4 UDP only, like the janitor. put, erase, defer_idle and idle_ms run under the runtime
// lock; answer_queries on the main thread without it (mutex_ guards what they share).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/util/counters.hpp"
#include "common/util/mutex.hpp"
#include "daemon/forward/ctnetlink.hpp"
#include "daemon/identify/fast_path_flows.hpp"

namespace sara {

#define SARA_CONNTRACK_FLOW_COUNTERS(X)                                                            \
    X(conntrack_activity_queries_total, "Conntrack entries read for the activity of a media flow that looked idle") \
    X(conntrack_activity_absent_total, "Of those, entries the kernel no longer held (the flow is purged)") \
    X(conntrack_activity_query_microseconds_total, "Time spent reading them (outside the runtime lock)") \
    X(conntrack_activity_queue_full_total, "Activity queries not queued: the queue was full (asked again later)") \
    X(conntrack_index_claimed_entries_total, "Marked entries of client ports claimed anew that the index named for an exact delete (no dump)")
SARA_DECLARE_COUNTERS(ConntrackFlowCounters, SARA_CONNTRACK_FLOW_COUNTERS)

class ConntrackFlows final : public FastPathFlows {
public:
    static constexpr size_t kMaxPending = 65536;    // flows waiting for a query
    static constexpr size_t kQueriesPerCall = 512;  // per answer_queries(): bounded work per tick
    static constexpr std::chrono::seconds kAnswerLife{10};  // an answer not read by then is dropped

    // Reads the namespace's UDP conntrack timeouts (idle time = timeout − time left).
    static std::unique_ptr<ConntrackFlows> open(std::string* error);

    bool put(const FlowKey& key, NodeId) override {
        return ctnetlink_supported(key) && key.src_port != 0 && key.dst_port != 0;
    }
    void erase(const FlowKey&) override {}
    bool holds_plain_flows() const override { return false; }
    bool defer_idle(const FlowKey& key) override;
    // The answer the last answer_queries() fetched, aged since (and then forgotten); a flow
    // without one counts as just seen (never purged for want of an answer).
    std::optional<uint32_t> idle_ms(const FlowKey& key) const override;
    // Reads the queued flows' entries (at most kQueriesPerCall). Main thread, no runtime lock.
    size_t answer_queries();
    ConntrackFlowCounters counters() const;
    // `n` entries of a claimed client port named by the index (FastPathEndpoints over this).
    void count_claimed(size_t n) {
        MutexLock guard(mutex_);
        counters_.conntrack_index_claimed_entries_total += n;
    }

private:
    struct Answer {
        std::optional<uint32_t> idle_ms;  // nullopt: no entry
        std::chrono::steady_clock::time_point at;
    };
    ConntrackFlows(std::unique_ptr<CtnetlinkSocket> socket, std::chrono::seconds udp, std::chrono::seconds stream)
        : socket_(std::move(socket)), udp_timeout_(udp), udp_stream_timeout_(stream) {}
    std::optional<uint32_t> query(const FlowKey& key);

    std::unique_ptr<CtnetlinkSocket> socket_;  // answer_queries' thread only
    const std::chrono::seconds udp_timeout_;         // an entry seen one way (nf_conntrack_udp_timeout)
    const std::chrono::seconds udp_stream_timeout_;  // an assured one (nf_conntrack_udp_timeout_stream)
    mutable Mutex mutex_;
    std::vector<FlowKey> pending_ ABSL_GUARDED_BY(mutex_);
    absl::flat_hash_set<FlowKey> queued_ ABSL_GUARDED_BY(mutex_);  // pending_ or being asked
    mutable absl::flat_hash_map<FlowKey, Answer> answers_ ABSL_GUARDED_BY(mutex_);
    ConntrackFlowCounters counters_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sara
