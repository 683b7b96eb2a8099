// SPDX-License-Identifier: GPL-2.0-or-later
// HA state sync between two dispatchers (DESIGN §9, the paper §III-F): the master streams its
// session table to the backup, which keeps a warm replica and takes over with it when
// keepalived (VRRP) promotes it. Pure logic: the daemon owns the socket, the listener (which
// authenticates every datagram: HMAC, known host, skew, replay window) and the thread.
//
// Master: every `interval` an update with the table's journal (sessions and flows changed
// since the last one; table_records blocks) — sent even when empty, so the backup sees a
// sequence gap at once — and a full snapshot streamed in between, `snapshot_rate` records a
// second a slice at a time (snapshot_stream.hpp), starting `snapshot_interval` after the last
// one ended or when the backup asks (resync). Backup: applies updates to its replica; loads a
// snapshot's chunks as they come into a second table, and applies the updates that come while
// it streams to both (they are newer than the slices before them); at the last chunk it swaps
// the two (O(1) under the lock) and hands the old replica back to be freed without the lock;
// on a sequence gap it drops the snapshot in progress and asks for a resync. A backup answers
// no new session (the pipeline drops them unanswered).
//
// Mesh (settings.mesh_peers; issue 19): every dispatcher is `active` from the start. Each
// broadcasts its own journal to all peers every interval (numbered; `index` 1 when it is
// ready) and applies theirs to its one table with its journal off, so nothing echoes; an ack
// or a resync request names its addressee in `index`. Snapshots are merged (upserts), never
// swapped in: the table is live. One is streamed only when a peer asks (it joins, or it saw a
// gap in this dispatcher's sequence); the chunks go to every peer, and only the one that asked
// loads them. A mesh dispatcher is ready once it merged a ready peer's snapshot, or when no
// ready peer was heard for ready_wait since it started (the first of the set, or all restart).
// A held verdict is released when every peer that acknowledges at all acknowledged its update.
//
// Ready (`saractl role --ready`, keepalived's track script): a dispatcher that is not master
// may take over only once it holds a replica — a complete snapshot since it started or was
// demoted — or when no peer has sent anything for `ready_wait` (there is no master to copy:
// first start of the pair, or the peer is dead). So a returning old master cannot preempt
// with an empty table, the failure keepalived + IPVS sync is known for.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/counters.hpp"
#include "common/wire/control_message.hpp"
#include "daemon/ha/snapshot_stream.hpp"
#include "daemon/identify/table_records.hpp"
#include "daemon/identify/session_table.hpp"

namespace sara {

// active: one of a mesh of active dispatchers (sync.peers; docs/architecture.md "Active
// dispatchers"): it places new sessions and replicates them to every peer, as each of them does.
enum class HaRole : uint8_t { single, master, backup, fault, active };
const char* to_string(HaRole role);  // "single", "master", "backup", "fault", "active"

struct SyncSettings {
    uint16_t id = 0;       // this dispatcher's host id on the sync channel
    uint16_t peer_id = 0;  // the pair's peer's
    std::vector<uint16_t> mesh_peers{};  // a mesh's other dispatchers (empty: an HA pair)
    std::chrono::milliseconds interval{50};
    std::chrono::milliseconds snapshot_interval{2000};
    std::chrono::milliseconds ready_wait{3000};
    uint32_t snapshot_rate = 100'000;  // records (sessions + flows) a second
};

// What on_message gives back: a message for the peer (a resync request, an ack) and, on the
// master, the update number the backup acknowledged.
struct SyncReply {
    std::optional<wire::SyncMessage> send;
    std::optional<uint32_t> acked;
    // A replica replaced (or a snapshot dropped half-loaded): the caller frees it after
    // letting go of the table's lock (a million sessions take a while to free).
    std::unique_ptr<SessionTable> retired;
};

#define SARA_SYNC_COUNTERS(X)                                                                      \
    X(sync_updates_sent_total, "Incremental sync updates sent to the backup")                     \
    X(sync_snapshots_sent_total, "Full snapshots sent to the backup")                              \
    X(sync_updates_applied_total, "Sync updates applied to the replica")                          \
    X(sync_snapshots_applied_total, "Full snapshots applied (the replica replaced)")              \
    X(sync_gaps_total, "Sync sequence gaps seen by the backup (a resync request follows)")         \
    X(sync_snapshots_incomplete_total, "Snapshots dropped half-loaded: a chunk missing or out of order, a role change") \
    X(sync_snapshots_restarted_total, "Snapshots the master started over for a resync request")          \
    X(sync_snapshot_chunks_sent_total, "Snapshot datagrams sent to the backup")                    \
    X(sync_records_malformed_total, "Sync payloads with a malformed record (the rest ignored)")   \
    X(sync_resyncs_requested_total, "Resync requests sent to the master")                          \
    X(sync_ignored_total, "Sync messages ignored for this role (e.g. state sent to the master)")   \
    X(sync_blocks_split_total, "Session records larger than one sync datagram (sent in parts)")         \
    X(sync_acks_sent_total, "Acknowledgements of numbered updates sent to the master")            \
    X(sync_acks_received_total, "Acknowledgements received from the backup")                      \
    X(sync_mesh_snapshots_requested_total, "Snapshots this mesh dispatcher asked a peer for (joining, or after a gap)")
SARA_DECLARE_COUNTERS(SyncCounters, SARA_SYNC_COUNTERS)

class StateSync {
public:
    // Starts as backup, not synced. `clock` must outlive it.
    StateSync(const SyncSettings& settings, const Clock& clock);

    HaRole role() const { return role_; }
    // keepalived's verdict. Master: journal on, a snapshot at the next tick. Backup/fault:
    // journal off, the replica must be refreshed before this dispatcher is ready again.
    // Returns a snapshot dropped half-loaded (a takeover in the middle of one), for the caller
    // to free after letting go of the table's lock: at a million sessions that takes tens of
    // milliseconds, at the moment packets wait for the new master.
    [[nodiscard]] std::unique_ptr<SessionTable> set_role(HaRole role, SessionTable& table);
    bool ready() const;
    bool synced() const { return synced_; }
    bool mesh() const { return !settings_.mesh_peers.empty(); }
    // A mesh's peers as this dispatcher sees them (saractl status, metrics).
    struct PeerView {
        uint16_t id = 0;
        bool heard = false;           // sent anything since this dispatcher started
        double last_heard_s = -1;     // seconds since its last datagram (-1: never)
        bool ready = false;           // its last update said it is ready
        bool acking = false;          // acknowledged one of ours within 3 intervals
        uint32_t unacked = 0;         // our updates sent since the last one it acknowledged
    };
    std::vector<PeerView> peers() const;

    // Master, every `interval`: the messages to send now (seq and timestamp are the sender's):
    // the journal as a numbered update; starts a snapshot when one is due. Nothing in other roles.
    std::vector<wire::SyncMessage> tick(SessionTable& table);
    // Master: when the snapshot in progress wants its next slice (nullopt: none in progress).
    std::optional<MonoTime> next_slice() const;
    // Master, holding the table's lock, from next_slice() on: copies the next slice
    // (kSliceRecords records) of the snapshot in progress and returns it (null when none is
    // due). The caller formats it without the lock (SnapshotStream::format) and hands the
    // payloads to snapshot_messages, holding the lock again.
    std::shared_ptr<SnapshotStream> snapshot_copy(SessionTable& table);
    // The payloads of `stream`'s last slice as datagrams (the snapshot's last one has
    // last_chunk set); none if the snapshot was dropped meanwhile (a role change, a resync).
    std::vector<wire::SyncMessage> snapshot_messages(const std::shared_ptr<SnapshotStream>& stream,
                                                     const std::vector<std::string>& payloads);
    // Records a slice copies: one lock hold of tens of microseconds (a flow shard more at most).
    static constexpr size_t kSliceRecords = 256;
    // Master: the journal now, as an update numbered next_update() (its last datagram carries
    // the number; the backup acknowledges it). tick() sends its updates this way.
    std::vector<wire::SyncMessage> flush(SessionTable& table);
    // The number the next flush carries: a change made now is in that update or an earlier one.
    uint32_t next_update() const { return next_update_; }
    // Master: the backup acknowledged an update within the last `ack_window` (3 intervals;
    // it acknowledges every one, so a live backup does at least once per interval).
    bool peer_acking() const;
    // An authenticated message from the peer: applied, and what to send back.
    SyncReply on_message(const wire::SyncMessage& m, SessionTable& table);
    // What a backup sends when it starts or is demoted: a resync request.
    wire::SyncMessage resync_request() const;
    // Called right after a snapshot replaced the table (the owner drops state tied to it).
    void set_on_table_replaced(std::function<void()> fn) { on_table_replaced_ = std::move(fn); }
    // Mesh: called with what each peer's update changed here (the nodes it assigned, for the
    // scheduler; the flows it claimed, whose stale kernel entries must go), under the lock.
    void set_on_peer_applied(std::function<void(const RecordsApplied&)> fn) { on_peer_applied_ = std::move(fn); }

    const SyncCounters& counters() const { return counters_; }
    const SyncSettings& settings() const { return settings_; }

private:
    struct MeshPeer {
        bool heard = false;
        MonoTime last_heard{0};
        bool ready = false;
        bool have_seq = false;
        uint32_t last_seq = 0;
        bool have_ack = false;
        MonoTime last_ack{0};
        uint32_t acked = 0;
    };
    SyncReply on_mesh_message(const wire::SyncMessage& m, SessionTable& table);
    void mesh_chunk(const wire::SyncMessage& m, SessionTable& table);
    // Asks the lowest-id ready peer heard within ready_wait for a snapshot (none: nothing).
    std::optional<wire::SyncMessage> mesh_ask();
    std::optional<uint32_t> acked_by_all() const;
    bool recently(MonoTime t, MonoTime window) const { return clock_.now() - t < window; }
    // A peer that said it is ready, heard within ready_wait.
    bool ready_now(const MeshPeer& peer) const {
        return peer.heard && peer.ready && recently(peer.last_heard, std::chrono::duration_cast<MonoTime>(settings_.ready_wait));
    }
    void apply_untracked(std::string_view payload, SessionTable& table);

    void apply_chunk(const wire::SyncMessage& m, SessionTable& table, SyncReply& reply);
    // The half-loaded snapshot, counted as incomplete, for the caller to free without the lock.
    [[nodiscard]] std::unique_ptr<SessionTable> drop_pending_snapshot();
    wire::SyncMessage message(wire::SyncKind kind) const;
    void count_applied(bool ok);

    SyncSettings settings_;
    const Clock& clock_;
    HaRole role_ = HaRole::backup;
    SyncCounters counters_;
    MonoTime started_;
    // Master.
    MonoTime next_snapshot_{0};
    uint32_t epoch_ = 0;
    std::shared_ptr<SnapshotStream> snapshot_;  // in progress (the sync thread formats a copy without the lock)
    uint16_t next_chunk_ = 0;
    MonoTime next_slice_{0};
    bool restart_snapshot_ = false;
    uint32_t next_update_ = 1;  // never 0 (an update numbered 0 asks for no ack)
    bool have_ack_ = false;
    MonoTime last_ack_{0};
    // Backup.
    bool synced_ = false;
    bool heard_peer_ = false;
    MonoTime last_peer_message_{0};
    bool have_seq_ = false;
    uint32_t last_seq_ = 0;
    // A snapshot streaming in: loaded into a table of its own as its chunks come.
    std::unique_ptr<SessionTable> pending_table_;
    std::unique_ptr<SnapshotLoader> pending_loader_;  // into pending_table_
    uint32_t pending_epoch_ = 0;
    uint16_t pending_next_chunk_ = 0;
    bool pending_ok_ = true;  // no malformed record so far
    std::function<void()> on_table_replaced_;
    std::function<void(const RecordsApplied&)> on_peer_applied_;
    // Mesh.
    std::vector<std::pair<uint16_t, MeshPeer>> peers_;  // by id, a handful
    MeshPeer* mesh_peer(uint16_t id);
    uint16_t asked_ = 0;      // the peer whose snapshot we wait for (0: none)
    MonoTime asked_at_{0};
    std::unique_ptr<SnapshotLoader> mesh_loader_;  // its chunks, merged into the table
    uint32_t mesh_epoch_ = 0;
    uint16_t mesh_next_chunk_ = 0;
};

}  // namespace sara
