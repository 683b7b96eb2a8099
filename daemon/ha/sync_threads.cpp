// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/sync_threads.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "common/util/thread_name.hpp"
#include "common/util/time_sequence.hpp"
#include "daemon/ha/role_change.hpp"
#include "daemon/ha/role_evidence.hpp"

namespace sara {
namespace {

// The role a (re)started sarad takes (role_evidence.hpp): master only if the keepalived that
// wrote sync.role_file still runs, said master, and (with floating_address) the address is
// held now; else backup, asking the peer for a snapshot. The address watch subscribes before
// the address is asked for, so a change in between is not lost.
bool take_start_role(SyncRuntime& rt, const Logger& log, std::string* error) {
    const SyncConfig& c = rt.config;
    StartEvidence evidence;
    if (c.floating_address) {
        rt.floating = AddressWatch::open(*c.floating_address, error);
        if (!rt.floating) return false;
        evidence.address_held = holds_address(*c.floating_address, error);
        if (!evidence.address_held) return false;
    }
    std::string text;
    if (std::ifstream in(c.role_file); in) std::getline(in, text);
    evidence.record = parse_role_record(text);
    evidence.writer_alive = evidence.record && record_writer_alive(*evidence.record);
    const HaRole role = start_role(evidence);
    std::string why = text.empty() ? "no role file" : c.role_file + " says '" + text + "'";
    if (!text.empty() && !evidence.writer_alive) why += ", written by a keepalived that no longer runs";
    if (evidence.address_held) why += std::string(", floating address ") + (*evidence.address_held ? "held" : "not held");
    MutexLock guard(rt.lock);
    if (role == HaRole::backup) {
        log.notice("ha: starting as backup (" + why + ")");
        rt.send_sync(rt.sync->resync_request(), log);
    } else {
        change_role(rt, role, "at start: " + why, log);
    }
    return true;
}

std::chrono::steady_clock::time_point steady(MonoTime t) {
    return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(t));
}

}  // namespace

namespace {

// A mesh: active from the start, taking new sessions once ready (state_sync.hpp); until then
// it asks a ready peer for a snapshot (at its first tick, or as soon as it hears one).
bool start_mesh(SyncRuntime& rt, const Logger& log) {
    std::string peers;
    for (const SyncPeer& p : rt.config.peers) peers += (peers.empty() ? "" : ", ") + std::to_string(p.id) + " at " + p.address.to_string();
    MutexLock guard(rt.lock);
    (void)rt.sync->set_role(HaRole::active, rt.table);
    log.notice("ha: active in a mesh with " + peers + " (id " + std::to_string(rt.config.id) +
               "); new sessions once ready");
    return true;
}

}  // namespace

bool start_sync(SyncRuntime& rt, const Logger& log, std::string* error) {
    const SyncConfig& c = rt.config;
    std::vector<uint16_t> mesh_ids;
    std::vector<Endpoint> destinations{c.peer};
    std::vector<uint16_t> senders{c.peer_id};
    if (c.mesh()) {
        destinations.clear();
        senders.clear();
        for (const SyncPeer& p : c.peers) {
            mesh_ids.push_back(p.id);
            destinations.push_back(p.address);
            senders.push_back(p.id);
        }
    }
    rt.sync = std::make_unique<StateSync>(
        SyncSettings{c.id, c.peer_id, mesh_ids, c.interval, c.snapshot_interval, c.ready_wait, c.snapshot_rate}, rt.clock);
    SyncRuntime* r = &rt;
    rt.sync->set_on_table_replaced([r] { r->forget_sessions(); });
    rt.sync->set_on_peer_applied([r](const RecordsApplied& applied) { r->peer_applied(applied); });
    rt.set_accept_new_sessions(false);
    // Raw mode sends its own copy in the receive round: nothing to hold there (not covered).
    if (c.hold_timeout.count() > 0 && rt.hold_verdicts)
        rt.held = std::make_unique<HeldVerdicts>(std::chrono::milliseconds(1), c.hold_timeout);
    // A mesh sends every datagram to every peer (one sequence each receiver sees whole).
    rt.sync_sender = DatagramSender::open(destinations, error);
    if (!rt.sync_sender) return false;
    // Time-based, so that a restarted sarad is not refused as a replay by its peer.
    rt.sync_seq = time_based_first_seq(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()),
        c.interval);
    rt.sync_listener = ControlListener::start(
        c.listen, rt.key, senders,
        [r, &log](const wire::Decoded& d) {
            if (d.type != wire::MessageType::sync) return;
            SyncReply reply;
            bool after_claims = false;
            {
                MutexLock guard(r->lock);
                reply = r->sync->on_message(d.sync, r->table);
                if (reply.acked && r->held) r->held->acknowledged(*reply.acked, r->clock.now());
                // A mesh peer's update that claimed client ports is acknowledged only once
                // this kernel's stale entries for them are gone: the peer releases the new
                // call's first packet on that ack, and its media may come through here.
                if (reply.send && reply.send->kind == wire::SyncKind::ack) {
                    const wire::SyncMessage ack = *reply.send;
                    after_claims = r->forget_claims([r, ack, &log] { r->send_sync(ack, log); });
                }
            }
            if (reply.send && !after_claims) r->send_sync(*reply.send, log);
        },
        error);
    if (!rt.sync_listener) return false;
    if (c.mesh()) return start_mesh(rt, log);
    log.notice("ha: sync with " + c.peer.to_string() + " (id " + std::to_string(c.id) + ", peer " +
               std::to_string(c.peer_id) + ")");
    return take_start_role(rt, log, error);
}

void floating_thread(SyncRuntime& rt, const Logger& log) {
    name_this_thread("sara-floating");
    std::string error;
    while (!rt.stop) {
        const std::optional<bool> held = rt.floating->wait_change(std::chrono::milliseconds(200), &error);
        if (!error.empty()) {
            log.error("ha: " + error);
            error.clear();
        }
        if (!held) continue;
        MutexLock guard(rt.lock);
        follow_floating_address(rt, *held, log);
    }
}

void sync_thread(SyncRuntime& rt, const Logger& log) {
    name_this_thread("sara-sync");
    const MonoTime interval = std::chrono::duration_cast<MonoTime>(rt.config.interval);
    MonoTime next_tick = rt.clock.now() + interval;
    rt.lock.lock();
    while (!rt.stop) {
        const MonoTime now = rt.clock.now();
        std::vector<wire::SyncMessage> out;
        if (now >= next_tick) {
            const HoldMark taken = HoldMark::now();
            out = rt.sync->tick(rt.table);
            // A mesh dispatcher takes new sessions exactly while it is ready.
            if (rt.sync->role() == HaRole::active) rt.set_accept_new_sessions(rt.sync->ready());
            rt.lock_holds.note(LockTask::sync_update, taken);
            next_tick += interval;
            if (next_tick <= now) next_tick = now + interval;  // late (a busy host): no burst
        }
        if (rt.held) {
            // Between ticks: number an update now (a tick's output ends with one).
            const bool numbered = !out.empty() && out.back().kind == wire::SyncKind::update;
            if (rt.held->flush_due() && (numbered || now >= *rt.held->flush_due())) {
                if (!numbered) {
                    std::vector<wire::SyncMessage> update = rt.sync->flush(rt.table);
                    out.insert(out.end(), std::make_move_iterator(update.begin()), std::make_move_iterator(update.end()));
                }
                rt.held->sent();
            }
        }
        if (out.empty()) {
            // A snapshot's slice when due: copied under the lock, formatted without it.
            const HoldMark taken = HoldMark::now();
            if (std::shared_ptr<SnapshotStream> stream = rt.sync->snapshot_copy(rt.table)) {
                rt.lock_holds.note(LockTask::sync_snapshot, taken);
                rt.lock.unlock();
                const std::vector<std::string> payloads = stream->format();
                rt.lock.lock();
                out = rt.sync->snapshot_messages(stream, payloads);
            }
        }
        if (!out.empty()) {
            rt.lock.unlock();
            for (wire::SyncMessage& m : out) rt.send_sync(std::move(m), log);
            rt.lock.lock();
            continue;  // look again: a hold may have come meanwhile
        }
        // Only once their update is on the wire: a thread woken late must not release a
        // verdict before the binding it waited for was even sent.
        if (rt.held) rt.held->expire(now);
        MonoTime wake = next_tick;
        if (auto slice = rt.sync->next_slice()) wake = std::min(wake, *slice);
        if (rt.held) {
            if (auto due = rt.held->flush_due()) wake = std::min(wake, *due);
            if (auto timeout = rt.held->next_timeout()) wake = std::min(wake, *timeout);
        }
        rt.sync_wake.wait_until(rt.lock, steady(wake));
    }
    rt.lock.unlock();
}

}  // namespace sara
