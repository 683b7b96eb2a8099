// SPDX-License-Identifier: GPL-2.0-or-later
// The nodes' media port ranges (dispatcher.yaml `nodes[].media_ports`): which node owns a UDP
// port of the VIP. Media to a ranged port needs no session state: the kernel steers it
// (raw-table mark, iptables_rules.cpp) and a queued packet (raw mode) goes to the range's
// node in the pipeline. The identifier uses it to keep no flow for ranged media and to
// notice a node whose media server answers outside its own ranges (a misconfiguration).
//
// Immutable once built; lookups are a binary search over the sorted, non-overlapping ranges
// (the config guarantees they do not overlap; where a reload keeps a retiring node's range
// that a current node took over, the first given wins).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/net/port_range.hpp"
#include "daemon/identify/session_types.hpp"

namespace sara {

class MediaPortMap {
public:
    struct Range {
        PortRange ports;
        NodeId node = kNoNode;
    };

    MediaPortMap() = default;
    // `ranges` in priority order (current nodes before retiring ones).
    explicit MediaPortMap(std::vector<Range> ranges) {
        for (const Range& r : ranges) {
            const bool taken = std::any_of(ranges_.begin(), ranges_.end(),
                                           [&](const Range& have) { return have.ports.overlaps(r.ports); });
            if (!taken) ranges_.push_back(r);
        }
        std::sort(ranges_.begin(), ranges_.end(),
                  [](const Range& a, const Range& b) { return a.ports.first < b.ports.first; });
    }

    bool empty() const { return ranges_.empty(); }
    // The node whose range holds `port`, or kNoNode.
    NodeId node_for(uint16_t port) const {
        auto it = std::upper_bound(ranges_.begin(), ranges_.end(), port,
                                   [](uint16_t p, const Range& r) { return p < r.ports.first; });
        if (it == ranges_.begin()) return kNoNode;
        --it;
        return it->ports.contains(port) ? it->node : kNoNode;
    }
    bool has_ranges(NodeId node) const {
        return std::any_of(ranges_.begin(), ranges_.end(), [&](const Range& r) { return r.node == node; });
    }
    const std::vector<Range>& ranges() const { return ranges_; }

private:
    std::vector<Range> ranges_;  // sorted by first port, non-overlapping
};

}  // namespace sara
