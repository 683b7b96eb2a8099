// SPDX-License-Identifier: GPL-2.0-or-later
// The HA backup's BPF flow map, filled from its replica (issue 17): every flow the master
// would forward from its map (an established UDP data flow of a session with a node) is put
// on the backup too, so that after a takeover established media is forwarded by the program
// from its first packet, instead of each flow's next packet visiting the new master's queue.
// A backup receives no client traffic (the VIP and its next hop are the master's), so its
// entries steer nothing until it takes over.
//
// The table is walked a slice at a time under the runtime lock (step, each main tick, only
// while not master), so a pass over a million flows holds the lock in bounded steps; a flow the
// map already holds (FlowEntry::offloaded) costs a look only. Updates need nothing more: the
// table erases an offloaded flow that its replica removes or moves (FastPathFlows), and the
// next pass puts what they added. A snapshot that replaces the replica leaves the old one's
// flags behind: its offloaded keys are handed back (recheck, collected without the lock by
// offloaded_keys) and each is erased unless the new replica still forwards it (then put
// again with its node). `filled` — one whole pass since the map was last emptied (start,
// demotion) — gates the backup's readiness, so keepalived promotes a full map.
#pragma once

#include <cstddef>
#include <vector>

#include "common/net/flow_key.hpp"
#include "common/proto/service.hpp"
#include "common/util/counters.hpp"
#include "daemon/identify/fast_path_flows.hpp"
#include "daemon/identify/session_table.hpp"

namespace sara {

#define SARA_PREFILL_COUNTERS(X)                                                                    \
    X(fast_path_prefill_puts_total, "Replica flows an HA backup put into its BPF flow map")          \
    X(fast_path_prefill_put_failed_total, "Replica flows the backup's map did not take (full)")      \
    X(fast_path_prefill_erased_total, "Entries a replaced replica left that the new one no longer forwards: erased") \
    X(fast_path_prefill_passes_total, "Whole passes of the backup over its replica's flows")
SARA_DECLARE_COUNTERS(PrefillCounters, SARA_PREFILL_COUNTERS)

// A flow the master forwards from its map: UDP, both ports known, seen (not only announced),
// not to a signalling port, its session given a node.
bool forwardable_flow(const FlowKey& key, const FlowEntry& flow, const SessionTable& table, const ServiceMap& services);

class FastPathPrefill {
public:
    // One slice: the rechecks first, then up to `budget` flows of `table`. Caller holds the
    // lock that guards `table` and `fast_path`.
    void step(SessionTable& table, const ServiceMap& services, FastPathFlows& fast_path, size_t budget);
    void recheck(std::vector<FlowKey> keys);
    // The map was emptied (start, demotion): a new pass starts, which fills it.
    void restart();
    bool filled() const { return filled_; }
    const PrefillCounters& counters() const { return counters_; }

private:
    FlowIndex::ShardCursor cursor_;
    bool filled_ = false;
    // False for the first pass after restart(): the map was emptied but the table's flags
    // stayed set (a demoted master's flows), so every forwardable flow is put again.
    bool trust_flags_ = false;
    std::vector<FlowKey> recheck_;
    PrefillCounters counters_;
};

// The keys of `retired`'s flows flagged offloaded: what a replaced replica left in the map.
// The table is no longer shared: no lock needed.
std::vector<FlowKey> offloaded_keys(const SessionTable& retired);

}  // namespace sara
