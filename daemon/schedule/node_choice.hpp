// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers the schedulers share for choosing among a NodeView list (DESIGN §6).
#pragma once

#include <cstddef>
#include <span>

#include "daemon/schedule/scheduler.hpp"

namespace sara {

// Unavailable (down, app-down, draining, load-unknown) and weight-0 nodes get no new session.
inline bool can_take_sessions(const NodeView& node) { return node.available && node.weight > 0; }

// The index of the eligible node `better` prefers, or nodes.size() when none is eligible.
// `better(candidate, best)` is true when candidate is strictly better. The scan starts at
// `tie_start` and only a strictly better node replaces the best, so among equal nodes the
// first one after the previous pick wins and equal nodes take turns instead of the first in the
// list taking every tie; `tie_start` then moves just past the pick. With `better` always false
// this is plain round robin.
template <class Better>
size_t pick_rotating(std::span<const NodeView> nodes, size_t& tie_start, Better better) {
    const size_t n = nodes.size();
    size_t best = n;
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (tie_start + k) % n;
        if (!can_take_sessions(nodes[i])) continue;
        if (best == n || better(nodes[i], nodes[best])) best = i;
    }
    if (best != n) tie_start = (best + 1) % n;
    return best;
}

}  // namespace sara
