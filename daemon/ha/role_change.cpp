// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/role_change.hpp"

namespace sara {

void change_role(SyncRuntime& rt, HaRole role, const std::string& why, const Logger& log) {
    const HaRole before = rt.sync->role();
    // Only a master holds verdicts; its decisions stand, whoever replicates them now.
    if (rt.held && role != HaRole::master) rt.held->release_all(rt.clock.now());
    if (std::unique_ptr<SessionTable> dropped = rt.sync->set_role(role, rt.table))
        rt.retired_tables.push_back(std::move(dropped));
    rt.set_accept_new_sessions(role == HaRole::master);
    if (before == role) return;
    // A master that steps down empties its flow map (and conntrack's index): the backup it
    // becomes fills the map again from its replica (ha/fast_path_prefill.hpp), a pass that
    // puts every forwardable flow whatever its flag, and is not ready before that pass ends.
    const size_t cleared = before == HaRole::master ? rt.clear_fast_path_flows() : 0;
    if (cleared) log.notice("ha: " + std::to_string(cleared) + " flows cleared from the BPF fast path");
    log.notice(std::string("ha: role ") + to_string(before) + " -> " + to_string(role) + " (" + why + "; " +
               std::to_string(rt.table.session_count()) + " sessions in the table)");
    if (role != HaRole::master) rt.send_sync(rt.sync->resync_request(), log);
}

void follow_floating_address(SyncRuntime& rt, bool held, const Logger& log) {
    const std::string address = rt.config.floating_address->to_string();
    if (held && rt.sync->role() != HaRole::master) change_role(rt, HaRole::master, "floating address " + address + " added", log);
    if (!held && rt.sync->role() == HaRole::master)
        change_role(rt, HaRole::backup, "floating address " + address + " removed", log);
}

}  // namespace sara
