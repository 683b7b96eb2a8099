// SPDX-License-Identifier: GPL-2.0-or-later
// A per-flow fast path in the kernel (the BPF flow map, `forwarding.fast_path: bpf`), as the
// session table and the pipeline see it: a cache of the table's established data flows and
// their node. The pipeline puts a flow when it gives the verdict that netfilter would save as
// a conntrack mark; the table erases it whenever it stops holding that flow for that node
// (removed, moved to another session, purged, released after the media linger), and before
// purging an idle flow it asks how long the fast path has not seen it (those packets never
// reach sarad). A flow the cache lacks simply takes the queue again: a miss costs a queue
// visit, never a split session.
#pragma once

#include <cstdint>
#include <optional>

#include "common/net/flow_key.hpp"
#include "daemon/identify/session_types.hpp"

namespace sara {

class FastPathFlows {
public:
    virtual ~FastPathFlows() = default;
    // The flow's packets go to `node` from now on; false when the cache cannot take it (full,
    // or a key it cannot match): the flow stays on the queue/netfilter path.
    virtual bool put(const FlowKey& key, NodeId node) = 0;
    virtual void erase(const FlowKey& key) = 0;
    // Milliseconds since the fast path last forwarded one of the flow's packets (or since
    // put); nullopt when it does not hold the flow.
    virtual std::optional<uint32_t> idle_ms(const FlowKey& key) const = 0;
    // True when the answer to idle_ms(key) is not at hand: it is fetched outside the caller's
    // lock (conntrack: a netlink request per flow), and the caller keeps the flow as it is and
    // asks again at a later visit. False: idle_ms(key) answers now.
    virtual bool defer_idle(const FlowKey&) { return false; }
    // False: only the flows of SIP and RTSP sessions are put (conntrack's index: a flood of new
    // flows must not grow it; a plain flow's session is that flow, so its activity and its
    // claims do not matter). True: every data flow (the BPF map forwards what it holds).
    virtual bool holds_plain_flows() const { return true; }
};

}  // namespace sara
