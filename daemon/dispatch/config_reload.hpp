// SPDX-License-Identifier: GPL-2.0-or-later
// What a SIGHUP reload changes (DESIGN §10: a good config is applied without dropping
// sessions). Pure: compares the running config with the newly loaded one and says what the
// daemon applies in place and what waits for a restart.
//
// Applied in place: the node list (added; removed; name, address, MAC or weight changed;
// `drain` flipped), the admission thresholds and timing, the scheduler. Everything else —
// VIP, interfaces, queues, forwarding, services, health, auth, announce, sync, control,
// metrics, limits, admission on/off — holds sockets, threads, kernel state or sizes fixed at
// start: a change there is reported and the running value is kept until the next restart.
#pragma once

#include <string>
#include <vector>

#include "common/config/dispatcher_config.hpp"

namespace sara {

struct ReloadPlan {
    // The config that runs after the reload: the new file's live sections, the running
    // config's restart-only ones.
    DispatcherConfig config;
    std::vector<NodeConfig> added;    // in the new file only
    std::vector<NodeConfig> removed;  // in the running config only (retired once idle)
    std::vector<NodeConfig> changed;  // same id, other name/address/MAC/weight/drain (new values)
    bool admission_changed = false;   // thresholds, interval, drop mode, 503/RST settings
    bool scheduler_changed = false;   // algorithm or window
    // Sections whose change takes effect only at a restart, by their YAML name.
    std::vector<std::string> restart_only;

    bool nodes_changed() const { return !added.empty() || !removed.empty() || !changed.empty(); }
    bool applies_anything() const { return nodes_changed() || admission_changed || scheduler_changed; }
};

ReloadPlan plan_reload(const DispatcherConfig& running, const DispatcherConfig& next);

// One line for the log: "2 nodes added (node4, node5), 1 removed (node1), thresholds changed;
// restart needed for: queue" or "no change".
std::string describe(const ReloadPlan& plan);

}  // namespace sara
