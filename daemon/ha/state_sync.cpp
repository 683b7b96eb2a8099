// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/state_sync.hpp"

#include "common/wire/sync_message.hpp"
#include "daemon/identify/table_records.hpp"

namespace sara {
namespace {

// Packs whole blocks into payloads of at most kMaxSyncPayload bytes; a block that alone is
// larger travels split (split_block). At least one payload (an empty table is a valid snapshot).
std::vector<std::string> pack(const std::vector<std::string>& blocks, uint64_t& split) {
    std::vector<std::string> out(1);
    for (const std::string& block : blocks) {
        const std::vector<std::string> parts = split_block(block, wire::kMaxSyncPayload);
        if (parts.size() > 1) ++split;
        for (const std::string& b : parts) {
            if (out.back().size() + b.size() > wire::kMaxSyncPayload) out.emplace_back();
            out.back() += b;
        }
    }
    return out;
}

}  // namespace

const char* to_string(HaRole role) {
    switch (role) {
        case HaRole::single: return "single";
        case HaRole::master: return "master";
        case HaRole::backup: return "backup";
        case HaRole::fault: return "fault";
        case HaRole::active: return "active";
    }
    return "unknown";
}

StateSync::StateSync(const SyncSettings& settings, const Clock& clock)
    : settings_(settings), clock_(clock), started_(clock.now()) {
    for (uint16_t id : settings_.mesh_peers) peers_.emplace_back(id, MeshPeer{});
}

StateSync::MeshPeer* StateSync::mesh_peer(uint16_t id) {
    for (auto& [peer_id, peer] : peers_)
        if (peer_id == id) return &peer;
    return nullptr;
}

std::unique_ptr<SessionTable> StateSync::set_role(HaRole role, SessionTable& table) {
    if (role == role_) return nullptr;
    const bool was_master = role_ == HaRole::master;
    role_ = role;
    snapshot_.reset();
    std::unique_ptr<SessionTable> dropped = drop_pending_snapshot();
    if (role == HaRole::active) {
        // A mesh replicates its own changes from here on; what the table holds already (a
        // restart's state file) reaches a peer in the snapshot it asks for.
        table.enable_journal(true);
        (void)table.take_journal();
    } else if (role == HaRole::master) {
        table.enable_journal(true);
        (void)table.take_journal();  // the snapshot below carries everything
        next_snapshot_ = MonoTime{0};
    } else {
        table.enable_journal(false);
        (void)table.take_journal();
        if (was_master) {
            // Our table was the truth until now; the peer's is from here on. Until its snapshot
            // arrived this dispatcher must not take over again.
            synced_ = false;
            have_seq_ = false;
            started_ = clock_.now();
        }
    }
    return dropped;
}

bool StateSync::ready() const {
    if (role_ == HaRole::master || synced_) return true;
    const MonoTime now = clock_.now();
    const auto wait = std::chrono::duration_cast<MonoTime>(settings_.ready_wait);
    if (mesh()) {
        // No ready peer to copy: the first of the set, or every one restarted.
        if (now - started_ < wait) return false;
        for (const auto& [id, peer] : peers_)
            if (ready_now(peer)) return false;
        return true;
    }
    return now - started_ >= wait && (!heard_peer_ || now - last_peer_message_ >= wait);
}

std::vector<StateSync::PeerView> StateSync::peers() const {
    std::vector<PeerView> out;
    const MonoTime now = clock_.now();
    for (const auto& [id, peer] : peers_) {
        PeerView v;
        v.id = id;
        v.heard = peer.heard;
        v.last_heard_s = peer.heard ? std::chrono::duration<double>(now - peer.last_heard).count() : -1;
        v.ready = ready_now(peer);
        v.acking = peer.have_ack && now - peer.last_ack < 3 * std::chrono::duration_cast<MonoTime>(settings_.interval);
        v.unacked = peer.have_ack ? next_update_ - 1 - peer.acked : next_update_ - 1;
        out.push_back(v);
    }
    return out;
}

wire::SyncMessage StateSync::message(wire::SyncKind kind) const {
    wire::SyncMessage m;
    m.host_id = settings_.id;
    m.kind = kind;
    return m;
}

wire::SyncMessage StateSync::resync_request() const { return message(wire::SyncKind::resync); }

std::vector<wire::SyncMessage> StateSync::tick(SessionTable& table) {
    if (role_ != HaRole::master && role_ != HaRole::active) return {};
    const MonoTime now = clock_.now();
    if (restart_snapshot_ && snapshot_) {
        snapshot_.reset();
        ++counters_.sync_snapshots_restarted_total;
    }
    std::vector<wire::SyncMessage> asks;
    if (mesh()) {
        // A mesh streams a snapshot only when a peer asked; and a dispatcher without one asks
        // again when the peer it asked went quiet: no chunk for a second (or 20 intervals).
        const auto patience = std::max(std::chrono::duration_cast<MonoTime>(std::chrono::seconds(1)),
                                       20 * std::chrono::duration_cast<MonoTime>(settings_.interval));
        if (!synced_ && (!asked_ || now - asked_at_ >= patience)) {
            if (asked_) mesh_loader_.reset();
            if (auto ask = mesh_ask()) asks.push_back(*ask);
        }
        if (!restart_snapshot_) next_snapshot_ = MonoTime::max();
    }
    restart_snapshot_ = false;
    if (!snapshot_ && now >= next_snapshot_) {
        snapshot_ = std::make_shared<SnapshotStream>(wire::kMaxSyncPayload);
        ++epoch_;
        next_chunk_ = 0;
        next_slice_ = now;
    }
    std::vector<wire::SyncMessage> out = flush(table);
    out.insert(out.end(), asks.begin(), asks.end());
    return out;
}

std::optional<MonoTime> StateSync::next_slice() const {
    if ((role_ != HaRole::master && role_ != HaRole::active) || !snapshot_) return std::nullopt;
    return next_slice_;
}

std::shared_ptr<SnapshotStream> StateSync::snapshot_copy(SessionTable& table) {
    if ((role_ != HaRole::master && role_ != HaRole::active) || !snapshot_) return nullptr;
    const MonoTime now = clock_.now();
    if (now < next_slice_) return nullptr;
    const size_t copied = snapshot_->copy(table, kSliceRecords);
    // Paced: the next slice when this one's records are due at snapshot_rate (a late thread
    // does not catch up in a burst). By the records copied, not the budget: a slice may copy
    // a whole shard over it, or none (only empty shards, which the walk charges but the wire
    // never sees).
    const auto pace = std::chrono::duration_cast<MonoTime>(std::chrono::duration<double>(
        double(copied) / double(std::max<uint32_t>(settings_.snapshot_rate, 1))));
    next_slice_ = std::max(next_slice_ + pace, now);
    return snapshot_;
}

std::vector<wire::SyncMessage> StateSync::snapshot_messages(const std::shared_ptr<SnapshotStream>& stream,
                                                            const std::vector<std::string>& payloads) {
    std::vector<wire::SyncMessage> out;
    if ((role_ != HaRole::master && role_ != HaRole::active) || !stream || stream != snapshot_) return out;
    for (const std::string& payload : payloads) {
        wire::SyncMessage m = message(wire::SyncKind::snapshot);
        m.epoch = epoch_;
        m.index = next_chunk_++;  // wraps: the backup follows the chunks in order
        m.payload = payload;
        out.push_back(std::move(m));
    }
    counters_.sync_snapshot_chunks_sent_total += out.size();
    if (stream->done()) {
        out.back().last_chunk = 1;
        snapshot_.reset();
        next_snapshot_ = mesh() ? MonoTime::max()  // the next when a peer asks
                                : clock_.now() + std::chrono::duration_cast<MonoTime>(settings_.snapshot_interval);
        ++counters_.sync_snapshots_sent_total;
    }
    return out;
}

std::vector<wire::SyncMessage> StateSync::flush(SessionTable& table) {
    std::vector<wire::SyncMessage> out;
    if (role_ != HaRole::master && role_ != HaRole::active) return out;
    // A joining peer asks a ready one. Latched: a mesh dispatcher ready alone (no ready peer
    // heard) stays ready when a peer turns ready later, so its admission does not flap.
    const uint16_t ready_flag = mesh() && ready() ? 1 : 0;
    if (ready_flag) synced_ = true;
    for (std::string& payload : pack(journal_blocks(table, table.take_journal()), counters_.sync_blocks_split_total)) {
        wire::SyncMessage m = message(wire::SyncKind::update);
        m.index = ready_flag;
        m.payload = std::move(payload);
        out.push_back(std::move(m));
        ++counters_.sync_updates_sent_total;
    }
    // Only the last datagram is numbered: the backup acknowledges it only when it saw no
    // sequence gap, so an ack means every datagram of this update (and before) was applied.
    out.back().epoch = next_update_;
    if (++next_update_ == 0) next_update_ = 1;
    return out;
}

bool StateSync::peer_acking() const {
    const MonoTime window = 3 * std::chrono::duration_cast<MonoTime>(settings_.interval);
    for (const auto& [id, peer] : peers_)
        if (peer.have_ack && recently(peer.last_ack, window)) return true;
    return have_ack_ && recently(last_ack_, window);
}

std::optional<uint32_t> StateSync::acked_by_all() const {
    // Held verdicts wait for every peer that acknowledges at all (a dead one stops holding
    // them after 3 intervals, as a lone master's pair does); update numbers grow by one per
    // flush, so the lowest acknowledged one covers every peer.
    const MonoTime window = 3 * std::chrono::duration_cast<MonoTime>(settings_.interval);
    std::optional<uint32_t> lowest;
    for (const auto& [id, peer] : peers_)
        if (peer.have_ack && recently(peer.last_ack, window) && (!lowest || int32_t(peer.acked - *lowest) < 0))
            lowest = peer.acked;
    return lowest;
}

std::optional<wire::SyncMessage> StateSync::mesh_ask() {
    uint16_t best = 0;
    for (const auto& [id, peer] : peers_)
        if (ready_now(peer) && (!best || id < best)) best = id;
    if (!best) return std::nullopt;
    asked_ = best;
    asked_at_ = clock_.now();
    mesh_loader_.reset();
    ++counters_.sync_mesh_snapshots_requested_total;
    ++counters_.sync_resyncs_requested_total;
    wire::SyncMessage ask = resync_request();
    ask.index = best;
    return ask;
}

void StateSync::apply_untracked(std::string_view payload, SessionTable& table) {
    // A peer's change: not ours to replicate again (every peer had it from its source).
    table.enable_journal(false);
    const RecordsApplied applied = apply_records(payload, table);
    table.enable_journal(true);
    count_applied(applied.error.empty());
    if (on_peer_applied_) on_peer_applied_(applied);
    ++counters_.sync_updates_applied_total;
}

void StateSync::mesh_chunk(const wire::SyncMessage& m, SessionTable& table) {
    if (m.host_id != asked_) {
        ++counters_.sync_ignored_total;  // streamed for another peer
        return;
    }
    const bool continues = mesh_loader_ && m.epoch == mesh_epoch_ && m.index == mesh_next_chunk_;
    if (!continues) {
        if (mesh_loader_) ++counters_.sync_snapshots_incomplete_total;
        mesh_loader_.reset();
        if (m.index != 0) return;  // the one we asked for starts with chunk 0
        mesh_loader_ = std::make_unique<SnapshotLoader>(table);
        mesh_epoch_ = m.epoch;
        mesh_next_chunk_ = 0;
    }
    ++mesh_next_chunk_;
    // Merged into the live table: upserts by key (table_records.hpp), nothing removed.
    table.enable_journal(false);
    const bool ok = mesh_loader_->add_lines(m.payload, 1);
    table.enable_journal(true);
    if (!ok) {
        count_applied(false);
        mesh_loader_.reset();
        return;
    }
    // Progress: a snapshot of a million calls streams for half a minute; the asker's patience
    // (tick) runs from its last chunk, not from the request.
    asked_at_ = clock_.now();
    if (!m.last_chunk) return;
    mesh_loader_.reset();
    asked_ = 0;
    synced_ = true;
    ++counters_.sync_snapshots_applied_total;
}

SyncReply StateSync::on_mesh_message(const wire::SyncMessage& m, SessionTable& table) {
    SyncReply reply;
    MeshPeer* peer = mesh_peer(m.host_id);
    if (!peer) {  // the listener admits only the configured ids
        ++counters_.sync_ignored_total;
        return reply;
    }
    // A peer quiet for 3 intervals (it sends every one) died or was cut off: its new sequence
    // is a return, not a loss; what it replicated before it went, we applied then.
    const bool returned = peer->heard && !recently(peer->last_heard, 3 * std::chrono::duration_cast<MonoTime>(settings_.interval));
    peer->heard = true;
    peer->last_heard = clock_.now();
    // Every datagram of a mesh dispatcher goes to every peer: its sequence has no holes.
    const bool gap = peer->have_seq && !returned && m.seq != peer->last_seq + 1;
    peer->have_seq = true;
    peer->last_seq = m.seq;
    if (m.kind == wire::SyncKind::resync || m.kind == wire::SyncKind::ack) {
        // Numbered in the same sequence as the rest (counted above), whoever they are for.
        if (m.index == settings_.id && m.kind == wire::SyncKind::resync) {
            restart_snapshot_ = true;  // streamed from the next tick, one in progress started over
            next_snapshot_ = MonoTime{0};
        } else if (m.index == settings_.id) {
            ++counters_.sync_acks_received_total;
            peer->have_ack = true;
            peer->last_ack = clock_.now();
            peer->acked = m.epoch;
            reply.acked = acked_by_all();
        }
    } else {
        if (m.kind == wire::SyncKind::update) peer->ready = m.index == 1;
        if (m.kind == wire::SyncKind::snapshot)
            mesh_chunk(m, table);
        else
            apply_untracked(m.payload, table);
        if (!gap && m.kind == wire::SyncKind::update && m.epoch != 0) {
            wire::SyncMessage ack = message(wire::SyncKind::ack);
            ack.epoch = m.epoch;
            ack.index = m.host_id;
            reply.send = ack;
            ++counters_.sync_acks_sent_total;
        }
    }
    if (gap) {
        // A lost datagram of this peer (an update, or a chunk of the snapshot we load): its
        // snapshot, merged, brings what it carried.
        ++counters_.sync_gaps_total;
        if (asked_ == m.host_id) mesh_loader_.reset();
        asked_ = m.host_id;
        asked_at_ = clock_.now();
        ++counters_.sync_mesh_snapshots_requested_total;
        ++counters_.sync_resyncs_requested_total;
        wire::SyncMessage ask = resync_request();
        ask.index = m.host_id;
        reply.send = ask;
    }
    // Joining: a ready peer heard is asked now when nothing else answers this datagram (an
    // update's ack does; then the next tick asks).
    if (!reply.send && !synced_ && !asked_ && peer->ready) reply.send = mesh_ask();
    return reply;
}

void StateSync::count_applied(bool ok) {
    if (!ok) ++counters_.sync_records_malformed_total;
}

std::unique_ptr<SessionTable> StateSync::drop_pending_snapshot() {
    if (!pending_table_) return nullptr;
    ++counters_.sync_snapshots_incomplete_total;
    pending_loader_.reset();
    return std::move(pending_table_);
}

void StateSync::apply_chunk(const wire::SyncMessage& m, SessionTable& table, SyncReply& reply) {
    const bool continues = pending_table_ && m.epoch == pending_epoch_ && m.index == pending_next_chunk_;
    if (!continues) {
        reply.retired = drop_pending_snapshot();
        // Joined in the middle (a restart, a lost chunk: the sequence gap asked for a resync):
        // wait for the next snapshot's first chunk.
        if (m.index != 0) return;
        pending_table_ = std::make_unique<SessionTable>(table.limits(), table.timeouts(), clock_);
        pending_loader_ = std::make_unique<SnapshotLoader>(*pending_table_);
        pending_epoch_ = m.epoch;
        pending_next_chunk_ = 0;
        pending_ok_ = true;
    }
    ++pending_next_chunk_;
    // Whole lines per chunk (SnapshotStream cuts at line ends); an error names the chunk's line.
    pending_ok_ = pending_loader_->add_lines(m.payload, 1) && pending_ok_;
    if (!m.last_chunk) return;
    pending_loader_.reset();
    table.swap_contents(*pending_table_);
    if (on_table_replaced_) on_table_replaced_();
    reply.retired = std::move(pending_table_);  // the old replica now
    count_applied(pending_ok_);
    synced_ = true;
    ++counters_.sync_snapshots_applied_total;
}

SyncReply StateSync::on_message(const wire::SyncMessage& m, SessionTable& table) {
    if (mesh()) return on_mesh_message(m, table);
    SyncReply reply;
    if (role_ == HaRole::master || m.kind == wire::SyncKind::resync || m.kind == wire::SyncKind::ack) {
        // A master takes only resync requests and acks; a backup takes neither.
        if (role_ == HaRole::master && m.kind == wire::SyncKind::resync) {
            // A new snapshot at the next tick (at most one start per interval); one in
            // progress is useless to a backup that lost a datagram of it.
            next_snapshot_ = MonoTime{0};
            restart_snapshot_ = true;
        } else if (role_ == HaRole::master && m.kind == wire::SyncKind::ack) {
            ++counters_.sync_acks_received_total;
            have_ack_ = true;
            last_ack_ = clock_.now();
            reply.acked = m.epoch;
        } else {
            ++counters_.sync_ignored_total;
        }
        return reply;
    }
    heard_peer_ = true;
    last_peer_message_ = clock_.now();
    // The listener has refused replays; anything but the next sequence means datagrams were
    // lost (or the master restarted): the replica may be missing an update.
    const bool gap = have_seq_ && m.seq != last_seq_ + 1;
    have_seq_ = true;
    last_seq_ = m.seq;
    // A gap: whatever is missing may be a chunk of the snapshot streaming in.
    if (gap) reply.retired = drop_pending_snapshot();
    if (m.kind == wire::SyncKind::snapshot) {
        apply_chunk(m, table, reply);
    } else {
        bool ok = apply_records(m.payload, table).error.empty();
        // Newer than the snapshot's slices so far: the replica-to-be gets it too.
        if (pending_table_) ok = apply_records(m.payload, *pending_table_).error.empty() && ok;
        count_applied(ok);
        ++counters_.sync_updates_applied_total;
    }
    if (gap) {
        // The master answers with a snapshot at its next tick (at most one per interval).
        ++counters_.sync_gaps_total;
        ++counters_.sync_resyncs_requested_total;
        reply.send = resync_request();
    } else if (m.kind == wire::SyncKind::update && m.epoch != 0) {
        wire::SyncMessage ack = message(wire::SyncKind::ack);
        ack.epoch = m.epoch;
        reply.send = ack;
        ++counters_.sync_acks_sent_total;
    }
    return reply;
}

}  // namespace sara
