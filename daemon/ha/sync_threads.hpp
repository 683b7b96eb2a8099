// SPDX-License-Identifier: GPL-2.0-or-later
// The HA threads of a running dispatcher (`sync:`): its start (the sync channel and the role
// it starts in), the floating address's thread and the master's stream thread. They were part
// of daemon/dispatch/dispatcher_daemon.cpp (issue 15: one owner per concern).
//
// What they use of the dispatcher is named in SyncRuntime, which daemon/dispatch builds from
// its runtime: the objects stay the dispatcher's (its queue threads, counters and control
// requests read them too); this room does not include daemon/dispatch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/config/dispatcher_config.hpp"
#include "common/net/datagram_sender.hpp"
#include "common/util/clock.hpp"
#include "common/util/mutex.hpp"
#include "common/util/log.hpp"
#include "common/wire/control_message.hpp"
#include "daemon/ha/address_watch.hpp"
#include "daemon/ha/held_verdicts.hpp"
#include "daemon/ha/state_sync.hpp"
#include "daemon/identify/session_table.hpp"
#include "daemon/monitor/control_listener.hpp"
#include "daemon/monitor/lock_holds.hpp"

namespace sara {

struct SyncRuntime {
    SyncConfig config;            // `sync:` as started: a reload does not change the HA setup
    bool hold_verdicts = true;    // false in raw mode: it sends its own copy, nothing to hold
    const wire::ClusterKey* key;  // null with `auth: none`
    const Clock& clock;
    // The dispatcher's lock: guards table, sync, held and lock_holds (the analysis cannot see
    // through these references; the runtime's fields carry the ABSL_GUARDED_BY).
    Mutex& lock;
    CondVar& sync_wake;  // waited on with `lock`: the first held verdict of a batch
    const std::atomic<bool>& stop;
    SessionTable& table;
    LockHolds& lock_holds;
    // Made by start_sync (sync_seq: under the dispatcher's send lock, in send_sync).
    std::unique_ptr<StateSync>& sync;
    std::unique_ptr<HeldVerdicts>& held;
    std::unique_ptr<DatagramSender>& sync_sender;
    uint32_t& sync_seq;
    std::unique_ptr<ControlListener>& sync_listener;
    std::unique_ptr<AddressWatch>& floating;  // with sync.floating_address
    // Snapshots a role change dropped half-loaded: the main loop frees them without `lock`.
    std::vector<std::unique_ptr<SessionTable>>& retired_tables;
    // What the dispatcher does for them. forget_sessions: the replica replaced the table (the
    // identifier's side maps name its old sessions); set_accept_new_sessions and
    // clear_fast_path_flows (the BPF flow map emptied when leaving master; how many went):
    // caller holds `lock`; send_sync: stamps and sends (any thread).
    std::function<void()> forget_sessions;
    std::function<void(bool)> set_accept_new_sessions;
    std::function<void(wire::SyncMessage, const Logger&)> send_sync;
    std::function<size_t()> clear_fast_path_flows;
    // What a mesh peer's update changed (caller holds `lock`): the scheduler counts its
    // assignments, the identifier has the kernel forget what it claimed.
    std::function<void(const RecordsApplied&)> peer_applied;
    // Caller holds `lock`: hands the kernel entries those claims made stale to the janitor;
    // true when `then` goes with them, run (without `lock`) once they are gone.
    std::function<bool(std::function<void()> then)> forget_claims;
};

// Opens the sync channel and takes the start role: backup — no new sessions — unless present
// evidence says master (role_evidence.hpp); from then on the floating address and
// keepalived's notify hook move the role. False with `error` set when a socket cannot be had.
bool start_sync(SyncRuntime& rt, const Logger& log, std::string* error);

// sync.floating_address: the role follows the address as soon as the kernel reports it.
// Runs until rt.stop.
void floating_thread(SyncRuntime& rt, const Logger& log);

// The master's stream: every sync.interval, the table's changes to the peer, and between
// them the slices of a snapshot, paced (the lock is held for one slice at a time); and, with
// held verdicts, the journal at most one batch after the first held one, and the held
// verdicts that waited too long released. Runs until rt.stop (set with sync_wake notified).
void sync_thread(SyncRuntime& rt, const Logger& log);

}  // namespace sara
