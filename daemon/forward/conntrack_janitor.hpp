// SPDX-License-Identifier: GPL-2.0-or-later
// Deletes conntrack entries whose saved mark no longer names the right node, because the
// session table gave their flow to another session (a newer call from a reused client port)
// or released it (its session ended): the kernel fast path would otherwise keep sending the
// media to the old node and never ask sarad again (issue 14).
//   - an exact flow (client → VIP, both ports): deleted by its original tuple;
//   - a claimed client endpoint (client address:port → VIP, any VIP port): the entries are
//     found with a ctnetlink dump that the kernel filters by that tuple (CTA_FILTER, Linux ≥
//     5.9; without it the dump is filtered here), then deleted one by one. Such a dump walks
//     every conntrack bucket (~10 ms with 262,144), so sarad asks for it only until its own
//     index of the marked entries is seeded (ConntrackFlows); then a claim names exact flows.
//   - a seed: one dump of every marked UDP entry to the VIP, handed to the owner to seed that
//     index (at start, and when a dispatcher becomes master again).
// It also pre-installs completed media flows (`forwarding.preinstall`) from the same queue.
// A batch runs its installs first (a media flow's first packet should find its entry, and a
// dump takes milliseconds), then its deletes, which spare an entry installed by a request
// submitted after theirs: the forgetting of a client port a new offer claimed never deletes
// the entry its answer pre-installed, but does delete an older call's.
// It runs on its own thread, fed through submit(), so that a dump (linear in the conntrack
// table in the kernel) never holds the runtime lock or a queue thread. The queue is bounded
// (kMaxPending; the rest is counted and dropped). IPv4 UDP only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/net/flow_key.hpp"
#include "common/net/vip_set.hpp"
#include "common/util/counters.hpp"
#include "common/util/mutex.hpp"
#include "daemon/forward/conntrack_preinstall.hpp"
#include "daemon/forward/ctnetlink.hpp"

namespace sara {

#define SARA_JANITOR_COUNTERS(X)                                                                   \
    X(conntrack_forget_flows_total, "Conntrack entries of released or taken-over media flows deleted") \
    X(conntrack_forget_absent_total, "Flows to forget that had no conntrack entry")                 \
    X(conntrack_endpoint_dumps_total, "Filtered conntrack dumps for client ports claimed anew")       \
    X(conntrack_endpoint_entries_deleted_total, "Conntrack entries of claimed client ports deleted")  \
    X(conntrack_endpoint_entries_kept_total, "Conntrack entries of claimed client ports kept: already marked for the claiming session's node") \
    X(conntrack_dump_microseconds_total, "Time spent in those dumps and their deletes")              \
    X(conntrack_forget_dropped_total, "Requests dropped: the janitor's queue was full")              \
    X(conntrack_forget_failed_total, "Conntrack deletes or dumps the kernel refused")                \
    X(preinstall_created_total, "Completed media flows pre-installed in conntrack with their node's mark") \
    X(preinstall_exists_total, "Completed media flows already in conntrack (their media came first)") \
    X(preinstall_failed_total, "Conntrack pre-installations the kernel refused")                \
    X(conntrack_waiters_released_total, "Work that waited for the janitor (a claiming packet's verdict) released after its forgets") \
    X(conntrack_waits_skipped_total, "Claiming packets not held for the janitor: it was busy (verdict at once)") \
    X(conntrack_seed_dumps_total, "Dumps of the VIP's marked conntrack entries that seeded sarad's index of them") \
    X(conntrack_seed_entries_total, "Marked conntrack entries those dumps found")
SARA_DECLARE_COUNTERS(JanitorCounters, SARA_JANITOR_COUNTERS)

// One request, handled in submission order.
struct ConntrackRequest {
    enum class Kind : uint8_t { forget_flow, forget_endpoint, install, seed } kind = Kind::forget_flow;
    FlowKey key;        // forget_endpoint: dst_port 0 (any VIP port); seed: dst = the VIP
    // install: the node's mark; forget_endpoint: the claiming session's node, whose entries
    // are kept (0: delete every entry of the endpoint).
    uint32_t mark = 0;
    uint64_t order = 0; // set by submit(): submission order
};

class ConntrackJanitor {
public:
    static constexpr size_t kMaxPending = 16384;

    // `preinstall`: also create the entries of completed flows (install requests).
    static std::unique_ptr<ConntrackJanitor> start(bool preinstall, std::string* error);
    ~ConntrackJanitor();
    ConntrackJanitor(const ConntrackJanitor&) = delete;
    ConntrackJanitor& operator=(const ConntrackJanitor&) = delete;

    // Never blocks on the kernel.
    void submit(const std::vector<ConntrackRequest>& requests);
    // The same, then `after` once the janitor has handled these requests, on its thread (also
    // when it stops first: never lost). False, with `after` dropped and nothing kept, when none
    // of the requests was queued or the janitor was busy (a filtered dump walks every
    // conntrack bucket, ~10 ms with 262,144 of them: waiting behind a backlog delayed INVITEs
    // by 500 ms at 200 calls/s): the caller goes on itself. For a verdict that must not reach
    // the kernel before the conntrack entries it makes stale are gone (a claimed client port).
    [[nodiscard]] bool submit(const std::vector<ConntrackRequest>& requests, std::function<void()> after);
    // Dumps the VIPs' UDP entries (one dump per VIP) that carry a node's mark and hands them to `done` on the
    // janitor's thread, in order with the other requests (nullopt when the dump failed: the
    // caller asks again later). Not called when the janitor stops first.
    void submit_seed(const VipSet& vips, std::function<void(std::optional<std::vector<CtEntry>>)> done);
    bool preinstalls() const { return preinstall_ != nullptr; }
    // Blocks until everything submitted so far has been handled (tests, shutdown order).
    void wait_idle();
    JanitorCounters counters() const;

private:
    ConntrackJanitor(std::unique_ptr<CtnetlinkSocket> socket, std::unique_ptr<ConntrackPreinstall> preinstall);
    void run();
    void install(const FlowKey& flow, uint32_t mark);
    // `installed`: entries this batch installed, by the order of their request; a delete
    // spares those installed by a later request.
    using Installed = absl::flat_hash_map<FlowKey, uint64_t>;
    void forget_flow(const FlowKey& flow, uint64_t order, const Installed& installed);
    void forget_endpoint(const ConntrackRequest& request, const Installed& installed);
    void seed(const ConntrackRequest& request);
    // One exact DELETE of the entry whose original tuple is `flow`: 0 or the kernel's errno.
    int delete_entry(const FlowKey& flow);
    // A dump filtered in the kernel by `filter_key`'s fields named in `filter_flags`
    // (CTA_FILTER_ORIG_FLAGS); unfiltered on a kernel without CTA_FILTER. 0 or the errno.
    int dump(const FlowKey& filter_key, uint32_t filter_flags, const std::function<void(const CtEntry&)>& on_entry);

    std::unique_ptr<CtnetlinkSocket> socket_;
    std::vector<char> request_;  // the request being sent (the janitor's thread only)
    std::unique_ptr<ConntrackPreinstall> preinstall_;  // null without forwarding.preinstall
    bool kernel_filter_ = true;  // false once the kernel refused CTA_FILTER
    mutable Mutex mutex_;
    CondVar wake_, idle_;
    std::deque<ConntrackRequest> pending_ ABSL_GUARDED_BY(mutex_);
    struct Seed {
        std::vector<IpAddress> vips;  // one dump each
        std::function<void(std::optional<std::vector<CtEntry>>)> done;
    };
    std::deque<Seed> seeds_ ABSL_GUARDED_BY(mutex_);  // one per seed request
    // `after` callbacks by the order of the last request they wait for; run by the janitor's
    // thread outside mutex_ once that request is handled.
    std::deque<std::pair<uint64_t, std::function<void()>>> waiters_ ABSL_GUARDED_BY(mutex_);
    uint64_t handled_order_ ABSL_GUARDED_BY(mutex_) = 0;  // every request up to it is handled
    uint64_t next_order_ ABSL_GUARDED_BY(mutex_) = 1;
    bool busy_ ABSL_GUARDED_BY(mutex_) = false;
    bool stop_ ABSL_GUARDED_BY(mutex_) = false;
    JanitorCounters counters_ ABSL_GUARDED_BY(mutex_);
    std::thread thread_;
};

}  // namespace sara
