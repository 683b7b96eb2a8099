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
    }
    return "unknown";
}

StateSync::StateSync(const SyncSettings& settings, const Clock& clock)
    : settings_(settings), clock_(clock), started_(clock.now()) {}

std::unique_ptr<SessionTable> StateSync::set_role(HaRole role, SessionTable& table) {
    if (role == role_) return nullptr;
    const bool was_master = role_ == HaRole::master;
    role_ = role;
    snapshot_.reset();
    std::unique_ptr<SessionTable> dropped = drop_pending_snapshot();
    if (role == HaRole::master) {
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
    return now - started_ >= wait && (!heard_peer_ || now - last_peer_message_ >= wait);
}

wire::SyncMessage StateSync::message(wire::SyncKind kind) const {
    wire::SyncMessage m;
    m.host_id = settings_.id;
    m.kind = kind;
    return m;
}

wire::SyncMessage StateSync::resync_request() const { return message(wire::SyncKind::resync); }

std::vector<wire::SyncMessage> StateSync::tick(SessionTable& table) {
    if (role_ != HaRole::master) return {};
    const MonoTime now = clock_.now();
    if (restart_snapshot_ && snapshot_) {
        snapshot_.reset();
        ++counters_.sync_snapshots_restarted_total;
    }
    restart_snapshot_ = false;
    if (!snapshot_ && now >= next_snapshot_) {
        snapshot_ = std::make_shared<SnapshotStream>(wire::kMaxSyncPayload);
        ++epoch_;
        next_chunk_ = 0;
        next_slice_ = now;
    }
    return flush(table);
}

std::optional<MonoTime> StateSync::next_slice() const {
    if (role_ != HaRole::master || !snapshot_) return std::nullopt;
    return next_slice_;
}

std::shared_ptr<SnapshotStream> StateSync::snapshot_copy(SessionTable& table) {
    if (role_ != HaRole::master || !snapshot_) return nullptr;
    const MonoTime now = clock_.now();
    if (now < next_slice_) return nullptr;
    snapshot_->copy(table, kSliceRecords);
    // Paced: the next slice when this one's records are due at snapshot_rate (a late thread
    // does not catch up in a burst).
    const auto pace = std::chrono::duration_cast<MonoTime>(std::chrono::duration<double>(
        double(kSliceRecords) / double(std::max<uint32_t>(settings_.snapshot_rate, 1))));
    next_slice_ = std::max(next_slice_ + pace, now);
    return snapshot_;
}

std::vector<wire::SyncMessage> StateSync::snapshot_messages(const std::shared_ptr<SnapshotStream>& stream,
                                                            const std::vector<std::string>& payloads) {
    std::vector<wire::SyncMessage> out;
    if (role_ != HaRole::master || !stream || stream != snapshot_) return out;
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
        next_snapshot_ = clock_.now() + std::chrono::duration_cast<MonoTime>(settings_.snapshot_interval);
        ++counters_.sync_snapshots_sent_total;
    }
    return out;
}

std::vector<wire::SyncMessage> StateSync::flush(SessionTable& table) {
    std::vector<wire::SyncMessage> out;
    if (role_ != HaRole::master) return out;
    for (std::string& payload : pack(journal_blocks(table, table.take_journal()), counters_.sync_blocks_split_total)) {
        wire::SyncMessage m = message(wire::SyncKind::update);
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
    return have_ack_ && clock_.now() - last_ack_ < 3 * std::chrono::duration_cast<MonoTime>(settings_.interval);
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
