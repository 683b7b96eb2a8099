// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's /metrics body (MetricsServer serves it): everything `stats` and `nodes` show, in
// the Prometheus text format. The caller holds the dispatcher's lock (dispatcher_view.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "daemon/control/dispatcher_view.hpp"

namespace sara {

// Every counter as sara_<name> (the X-macro names already end in _total), the table, each
// node's state, load and sessions, HA and SA2C's state. `kernel_dropped`: the packets the
// kernel dropped at the queues, read by the caller before it took the lock (a /proc read).
std::string dispatcher_metrics_text(const DispatcherView& view, uint64_t kernel_dropped);

}  // namespace sara
