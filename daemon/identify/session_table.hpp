// SPDX-License-Identifier: GPL-2.0-or-later
// The session table (DESIGN §4, the paper §III-A): sessions keyed by their application key
// (Call-ID, RTSP Session id) and the flows that belong to them, with status, identity,
// per-service timeouts and purging. It knows nothing of packets or protocols: the session
// identifier drives it. Time comes from the caller (a Clock), so tests use a fake one.
//
// Lifetimes: a flow is purged when idle for twice its service's timeout. A session ends
// *completed* when signalling ends it (end_session) and *aborted* when it has been idle for
// twice its timeout without that; its slot is freed once no flow refers to it. Expiry walks
// the table a bounded slice at a time (expire_step), so no call is O(table).
//
// Each node's count of active sessions is kept up to date as sessions get a node, end, abort
// or go (active_sessions): schedulers and `saractl nodes` read it without a recount.
//
// Bounds (each with a counter, never unbounded growth): sessions, flows, flows per session,
// announced flows per session, key length.
//
// Not thread-safe: one owner thread (a queue thread owns one table shard).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "common/util/chunked_vector.hpp"
#include "common/util/clock.hpp"
#include "common/util/counters.hpp"
#include "daemon/identify/fast_path_flows.hpp"
#include "daemon/identify/flow_index.hpp"

namespace sara {

#define SARA_SESSION_TABLE_COUNTERS(X)                                                          \
    X(sessions_created_total, "Sessions created")                                               \
    X(sessions_completed_total, "Sessions ended by their signalling (BYE, CANCEL, final error, TEARDOWN)") \
    X(sessions_aborted_total, "Sessions that timed out without their signalling ending them")  \
    X(flows_created_total, "Flows added (signalling, announced and secondary)")                \
    X(flows_confirmed_total, "Announced flows confirmed by a packet (now secondary)")          \
    X(flows_purged_total, "Flows purged after twice their timeout without a packet")           \
    X(sessions_table_full_total, "New sessions refused: session table full")                   \
    X(flows_table_full_total, "New flows refused: flow table full")                            \
    X(session_flow_limit_total, "Flows refused: the session has its maximum number of flows")  \
    X(announced_limit_total, "Announced flows refused: the session has its maximum announced") \
    X(key_too_long_total, "Sessions refused: key longer than the limit")                       \
    X(sessions_merged_total, "Keyless connection sessions merged into the keyed session they rejoined") \
    X(media_flows_released_total, "Media flows of ended sessions released after the linger") \
    X(flows_kept_by_fast_path_total, "Idle-looking flows kept: the kernel fast path forwarded their packets meanwhile")
SARA_DECLARE_COUNTERS(SessionTableCounters, SARA_SESSION_TABLE_COUNTERS)

struct SessionTableLimits {
    size_t max_sessions = 1'000'000;
    size_t max_flows = 4'000'000;
    uint16_t max_flows_per_session = 16;
    uint16_t max_announced_per_session = 8;
    size_t max_key_bytes = 256;
};

struct Session {
    std::string key;             // Call-ID, RTSP Session id; empty until known (or plain)
    uint32_t created_ms = 0;
    uint32_t last_seen_ms = 0;
    uint32_t ended_ms = 0;       // when signalling ended it (state completed): its media linger starts
    NodeId node = kNoNode;       // set with SessionTable::set_node (it keeps per-node counts)
    uint16_t flow_count = 0;     // flows in the index that refer to this session
    uint16_t announced_count = 0;
    ServiceProtocol protocol = ServiceProtocol::plain;
    SessionState state = SessionState::active;  // changed only by SessionTable (per-node counts)
    uint8_t service = 0;
    bool in_use = false;
    bool confirmed = false;      // SIP: a 2xx to the INVITE was seen (a later final error
                                 // answers a re-INVITE and does not end the call)
    bool journaled = false;      // in the replication journal (HA sync) since the last take
};

// What changed since the last SessionTable::take_journal() (HA: the master's incremental update).
struct TableJournal {
    std::vector<SessionId> sessions;  // may name freed slots: check in_use
    std::vector<FlowKey> flows;       // may name removed flows: look them up
};

enum class TableError : uint8_t { none, table_full, session_flow_limit, announced_limit, key_too_long };

class SessionTable {
public:
    // `timeouts[i]` is the flow timeout of service i (FlowEntry::service, Session::service).
    SessionTable(const SessionTableLimits& limits, std::vector<std::chrono::milliseconds> timeouts,
                 const Clock& clock);
    SessionTable(const SessionTable&) = delete;
    SessionTable& operator=(const SessionTable&) = delete;

    // --- sessions ---------------------------------------------------------------------------
    SessionId find_session(ServiceProtocol protocol, std::string_view key) const;
    // Creates an active session; `key` may be empty (a connection whose key is not known yet,
    // or a plain service). kNoSession with `error` set when a bound is hit.
    SessionId create_session(ServiceProtocol protocol, std::string_view key, uint8_t service,
                             TableError* error = nullptr);
    // Gives a keyless session its key. False if the key is taken or too long (the caller
    // then creates a separate session).
    bool assign_key(SessionId id, std::string_view key);
    Session& session(SessionId id) { return (*sessions_)[id]; }
    const Session& session(SessionId id) const { return (*sessions_)[id]; }
    void touch_session(SessionId id) {
        (*sessions_)[id].last_seen_ms = now_ms();
        mark_changed(id);  // a signalling packet: its state, node or key may change with it
    }
    // Signalling ended the session: counted completed now. Its media flows (announced or
    // secondary) stay for the media linger (trailing packets still reach the same node), then
    // purge() releases them so that the next call from the same client port is decided
    // afresh; its signalling flows (a SIP/TCP or RTSP connection) stay until idle.
    void end_session(SessionId id);
    // A session restored (state file, HA replica) in the completed state: its linger starts now.
    void restore_ended(SessionId id);
    void set_media_linger(std::chrono::milliseconds linger) { media_linger_ms_ = uint32_t(linger.count()); }
    size_t session_count() const { return live_sessions_; }
    const SessionTableLimits& limits() const { return limits_; }
    // Gives the session its node (or kNoNode), keeping the per-node counts.
    void set_node(SessionId id, NodeId node);
    // Sets an active session's state as a replica record says (active or aborted; completed
    // goes through restore_ended, which starts the media linger).
    void set_state(SessionId id, SessionState state);
    // Active sessions with this node: O(1), kept up to date.
    uint64_t active_sessions(NodeId node) const { return node < active_per_node_.size() ? active_per_node_[node] : 0; }

    // --- flows ------------------------------------------------------------------------------
    FlowEntry* find_flow(const FlowKey& key) { return flows_.find(key); }
    // Adds a flow to `session`. Returns the entry (existing or new); nullptr with `error` set
    // when a bound is hit. An existing flow is left as it is.
    FlowEntry* add_flow(const FlowKey& key, SessionId session, FlowIdentity identity,
                        TableError* error = nullptr);
    // Counts a packet on a flow (`flow` is find_flow(key)): refreshes its time and its
    // session's, promotes status (fresh → established) and identity (announced → secondary).
    // Journaled with its session: a packet may change either (a key, a node, a state).
    void touch_flow(const FlowKey& key, FlowEntry& flow);
    // Removes one flow (e.g. a partial flow replaced by its completed form).
    void remove_flow(const FlowKey& key);
    // The kernel's per-flow fast path, if any (fast_path_flows.hpp; not owned, may be null):
    // a flow the caller put there (FlowEntry::offloaded) is erased from it when the table
    // removes, moves, purges or releases the flow, and is purged only once the fast path has
    // not seen it for twice its timeout either. Not carried by swap_contents.
    void set_fast_path(FastPathFlows* fast_path) { fast_path_ = fast_path; }
    FastPathFlows* fast_path() const { return fast_path_; }
    // Moves a flow to another session (an RTSP client reconnecting with its Session id). A
    // keyless session left without flows is merged away (freed, counted as merged).
    void move_flow(const FlowKey& key, SessionId to);
    size_t flow_count() const { return flows_.size(); }

    // Expiry, a slice at a time: visits up to `budget` flows, then (once a walk over the
    // flows is complete) sessions; purges flows idle for twice their timeout, releases the
    // media flows of sessions ended longer than the media linger ago, and frees sessions that
    // have ended or idled out and hold no flows. Returns true when a round (every flow, then
    // every session) is complete. The owner calls it often with a small budget: an entry
    // expires at most one round late.
    bool expire_step(size_t budget);
    // A whole round at once (tests, offline replay): O(table).
    void purge() {
        while (!expire_step(SIZE_MAX)) {
        }
    }
    // Rounds completed and walks that lost their place (counted, see sweep_cursor.hpp).
    uint64_t expiry_rounds() const { return expiry_rounds_; }
    size_t expiry_restarts() const { return flow_cursor_.restarts(); }
    // The exact media flows (client → VIP, both ports) released since the last call: the
    // kernel may still hold a conntrack entry with their node's mark, which the owner deletes.
    std::vector<FlowKey> take_released_media() { return std::exchange(released_media_, {}); }

    template <typename Fn>
    void for_each_flow(Fn&& fn) const { flows_.for_each(fn); }
    template <typename Fn>
    void for_each_session(Fn&& fn) const {
        for (SessionId id = 0; id < sessions_->size(); ++id)
            if ((*sessions_)[id].in_use) fn(id, (*sessions_)[id]);
    }
    // Slots (in use or free) a walk by SessionId goes through: ids are below this.
    SessionId session_slots() const { return SessionId(sessions_->size()); }
    // Visits the flows of whole shards from `cursor` until `budget` is spent (a bounded slice
    // of a walk that skips no flow present throughout; true at its end).
    template <typename Fn>
    bool visit_flows(FlowIndex::ShardCursor& cursor, size_t& budget, Fn&& fn) const {
        return flows_.visit_shards(cursor, budget, fn);
    }

    // --- replication journal (HA sync, daemon/ha) --------------------------------------------
    // While enabled, the table remembers which sessions and flows changed (created, keyed,
    // touched by signalling, ended, flows added, moved or promoted) since the last
    // take_journal(). Bounded by the table itself: each entry is flagged, listed once.
    void enable_journal(bool on) { journal_on_ = on; }
    void mark_changed(SessionId id) {
        if (journal_on_ && !(*sessions_)[id].journaled) {
            (*sessions_)[id].journaled = true;
            journal_.sessions.push_back(id);
        }
    }
    TableJournal take_journal();
    // Every session and flow removed, counters kept (a backup replacing its replica).
    void clear();
    // Exchanges every session and flow with `other` (built with the same limits and
    // timeouts), in O(1): a backup swaps in the replica it built aside from a snapshot's chunks
    // (daemon/ha) and frees the old one outside the lock. Each table keeps its counters, clock,
    // journal setting and media linger; both expiry walks start over; pending released media
    // and journals are dropped.
    void swap_contents(SessionTable& other);
    const std::vector<std::chrono::milliseconds>& timeouts() const { return timeouts_; }

    const SessionTableCounters& counters() const { return counters_; }
    uint32_t now_ms() const;
    std::chrono::milliseconds timeout(uint8_t service) const;

private:
    struct KeyRef {
        ServiceProtocol protocol;
        std::string_view key;
    };
    // The key index stores only session ids; hashing and comparing look the key up in
    // sessions_ (4 bytes per slot instead of a second copy of every key).
    struct KeyHash {
        using is_transparent = void;
        const ChunkedVector<Session>* sessions;
        size_t operator()(SessionId id) const {
            const Session& s = (*sessions)[id];
            return (*this)(KeyRef{s.protocol, s.key});
        }
        size_t operator()(const KeyRef& k) const { return absl::HashOf(static_cast<uint8_t>(k.protocol), k.key); }
    };
    struct KeyEq {
        using is_transparent = void;
        const ChunkedVector<Session>* sessions;
        KeyRef ref(SessionId id) const { return {(*sessions)[id].protocol, (*sessions)[id].key}; }
        KeyRef ref(const KeyRef& k) const { return k; }
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            const KeyRef x = ref(a), y = ref(b);
            return x.protocol == y.protocol && x.key == y.key;
        }
    };

    bool idle_for_twice_timeout(uint32_t last_seen_ms, uint8_t service, uint32_t now) const;
    bool expire_flow(const FlowKey& key, FlowEntry& flow, uint32_t now);
    // The flow leaves the table or its session: its fast-path entry (if any) goes.
    void unoffload(const FlowKey& key, FlowEntry& flow) {
        if (!flow.offloaded) return;
        flow.offloaded = 0;
        if (fast_path_) fast_path_->erase(key);
    }
    // The per-node count of active sessions: a session counts while in use, active, with a node.
    void count(const Session& s, int delta) {
        if (!s.in_use || s.state != SessionState::active || s.node == kNoNode) return;
        if (s.node >= active_per_node_.size()) active_per_node_.resize(size_t(s.node) + 1, 0);
        active_per_node_[s.node] += delta;
    }
    void release_flow_reference(SessionId id, FlowIdentity identity);
    void maybe_free_session(SessionId id, uint32_t now);
    void free_session(SessionId id);

    SessionTableLimits limits_;
    std::vector<std::chrono::milliseconds> timeouts_;
    const Clock& clock_;
    // Neither container moves its contents as the table grows: no insert copies O(table)
    // under the queues' lock (issue 16). On the heap, so that the key index's hasher, which
    // points at it, stays right when swap_contents() exchanges both with another table.
    std::unique_ptr<ChunkedVector<Session>> sessions_;
    SessionId free_head_ = kNoSession;  // freed slots, linked through Session::last_seen_ms
    size_t live_sessions_ = 0;
    using KeySet = absl::flat_hash_set<SessionId, KeyHash, KeyEq>;
    ShardedHashTable<KeySet> by_key_;
    FlowIndex flows_;
    SessionTableCounters counters_;
    bool journal_on_ = false;
    TableJournal journal_;
    uint32_t media_linger_ms_ = 2000;
    FastPathFlows* fast_path_ = nullptr;
    std::vector<FlowKey> released_media_;
    std::vector<uint64_t> active_per_node_;  // by NodeId
    // Expiry's place: the flows' walk, then the sessions' (by id).
    FlowIndex::Cursor flow_cursor_;
    bool sweeping_sessions_ = false;
    SessionId session_cursor_ = 0;
    uint64_t expiry_rounds_ = 0;
    bool media_linger_over(const FlowEntry& flow, uint32_t now) const;
    void mark_flow_changed(const FlowKey& key, FlowEntry& flow) {
        if (journal_on_ && !flow.journaled) {
            flow.journaled = 1;
            journal_.flows.push_back(key);
        }
    }
};

}  // namespace sara
