// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/session_table.hpp"

namespace sara {

SessionTable::SessionTable(const SessionTableLimits& limits, std::vector<std::chrono::milliseconds> timeouts,
                           const Clock& clock)
    : limits_(limits),
      timeouts_(std::move(timeouts)),
      clock_(clock),
      sessions_(std::make_unique<ChunkedVector<Session>>()),
      by_key_(decltype(by_key_)::shard_bits_for(limits.max_sessions),
              KeySet(0, KeyHash{sessions_.get()}, KeyEq{sessions_.get()})),
      flows_(limits.max_flows) {
    if (timeouts_.empty()) timeouts_.push_back(std::chrono::seconds(30));
}

uint32_t SessionTable::now_ms() const {
    return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now()).count());
}

std::chrono::milliseconds SessionTable::timeout(uint8_t service) const {
    return service < timeouts_.size() ? timeouts_[service] : timeouts_.back();
}

bool SessionTable::idle_for_twice_timeout(uint32_t last_seen_ms, uint8_t service, uint32_t now) const {
    // Unsigned difference is right across the 49-day wrap of the 32-bit millisecond clock.
    return uint64_t(now - last_seen_ms) >= uint64_t(2 * timeout(service).count());
}

SessionId SessionTable::find_session(ServiceProtocol protocol, std::string_view key) const {
    if (key.empty()) return kNoSession;
    const SessionId* id = by_key_.find(KeyRef{protocol, key});
    return id ? *id : kNoSession;
}

SessionId SessionTable::create_session(ServiceProtocol protocol, std::string_view key, uint8_t service,
                                       TableError* error) {
    auto fail = [&](TableError e, uint64_t& counter) {
        ++counter;
        if (error) *error = e;
        return kNoSession;
    };
    if (key.size() > limits_.max_key_bytes) return fail(TableError::key_too_long, counters_.key_too_long_total);
    if (live_sessions_ >= limits_.max_sessions)
        return fail(TableError::table_full, counters_.sessions_table_full_total);
    SessionId id;
    if (free_head_ != kNoSession) {
        id = free_head_;
        free_head_ = (*sessions_)[id].last_seen_ms;  // the next free slot (free_session)
    } else {
        id = static_cast<SessionId>(sessions_->size());
        sessions_->emplace_back();
    }
    Session& s = (*sessions_)[id];
    s = Session{};
    s.key.assign(key);
    s.protocol = protocol;
    s.service = service;
    s.created_ms = s.last_seen_ms = now_ms();
    s.in_use = true;
    if (!key.empty()) by_key_.insert(id);
    ++live_sessions_;
    ++counters_.sessions_created_total;
    mark_changed(id);
    if (error) *error = TableError::none;
    return id;
}

bool SessionTable::assign_key(SessionId id, std::string_view key) {
    Session& s = (*sessions_)[id];
    if (!s.key.empty() || key.empty()) return s.key == key;
    if (key.size() > limits_.max_key_bytes) {
        ++counters_.key_too_long_total;
        return false;
    }
    if (find_session(s.protocol, key) != kNoSession) return false;
    s.key.assign(key);
    by_key_.insert(id);
    mark_changed(id);
    return true;
}

void SessionTable::set_node(SessionId id, NodeId node) {
    Session& s = (*sessions_)[id];
    count(s, -1);
    s.node = node;
    count(s, +1);
}

void SessionTable::set_state(SessionId id, SessionState state) {
    Session& s = (*sessions_)[id];
    count(s, -1);
    s.state = state;
    count(s, +1);
}

void SessionTable::end_session(SessionId id) {
    Session& s = (*sessions_)[id];
    if (s.state != SessionState::active) return;
    count(s, -1);
    s.state = SessionState::completed;
    s.last_seen_ms = s.ended_ms = now_ms();
    ++counters_.sessions_completed_total;
    mark_changed(id);
}

void SessionTable::restore_ended(SessionId id) {
    Session& s = (*sessions_)[id];
    if (s.state == SessionState::completed) return;
    count(s, -1);
    s.state = SessionState::completed;
    s.ended_ms = now_ms();
}

bool SessionTable::media_linger_over(const FlowEntry& flow, uint32_t now) const {
    if (flow.identity == FlowIdentity::signalling) return false;
    const Session& s = (*sessions_)[flow.session];
    return s.state == SessionState::completed && uint64_t(now - s.ended_ms) >= media_linger_ms_;
}

FlowEntry* SessionTable::add_flow(const FlowKey& key, SessionId session, FlowIdentity identity, TableError* error) {
    if (error) *error = TableError::none;
    if (FlowEntry* existing = flows_.find(key)) return existing;
    Session& s = (*sessions_)[session];
    auto fail = [&](TableError e, uint64_t& counter) -> FlowEntry* {
        ++counter;
        if (error) *error = e;
        return nullptr;
    };
    if (flows_.size() >= limits_.max_flows) return fail(TableError::table_full, counters_.flows_table_full_total);
    if (s.flow_count >= limits_.max_flows_per_session)
        return fail(TableError::session_flow_limit, counters_.session_flow_limit_total);
    if (identity == FlowIdentity::announced && s.announced_count >= limits_.max_announced_per_session)
        return fail(TableError::announced_limit, counters_.announced_limit_total);
    FlowEntry entry;
    entry.session = session;
    entry.last_seen_ms = now_ms();
    entry.service = s.service;
    entry.identity = identity;
    auto [flow, inserted] = flows_.emplace(key, entry);
    (void)inserted;
    mark_flow_changed(key, *flow);
    mark_changed(session);
    ++s.flow_count;
    if (identity == FlowIdentity::announced) ++s.announced_count;
    ++counters_.flows_created_total;
    return flow;
}

void SessionTable::touch_flow(const FlowKey& key, FlowEntry& flow) {
    const uint32_t now = now_ms();
    mark_flow_changed(key, flow);
    mark_changed(flow.session);
    if (flow.identity == FlowIdentity::announced) {
        flow.identity = FlowIdentity::secondary;
        --(*sessions_)[flow.session].announced_count;
        ++counters_.flows_confirmed_total;
        flow.status = FlowStatus::fresh;  // its first packet
    } else {
        flow.status = FlowStatus::established;
    }
    flow.last_seen_ms = now;
    (*sessions_)[flow.session].last_seen_ms = now;
}

void SessionTable::remove_flow(const FlowKey& key) {
    FlowEntry* flow = flows_.find(key);
    if (!flow) return;
    const SessionId id = flow->session;
    const FlowIdentity identity = flow->identity;
    unoffload(key, *flow);
    flows_.erase(key);
    release_flow_reference(id, identity);
}

void SessionTable::move_flow(const FlowKey& key, SessionId to) {
    FlowEntry* flow = flows_.find(key);
    if (!flow || flow->session == to) return;
    const SessionId from = flow->session;
    if ((*sessions_)[to].flow_count >= limits_.max_flows_per_session) {
        ++counters_.session_flow_limit_total;
        return;
    }
    unoffload(key, *flow);  // its entry names the old session's node
    flow->session = to;
    mark_flow_changed(key, *flow);
    mark_changed(to);
    ++(*sessions_)[to].flow_count;
    if (flow->identity == FlowIdentity::announced) ++(*sessions_)[to].announced_count;
    release_flow_reference(from, flow->identity);
    Session& old = (*sessions_)[from];
    if (old.flow_count == 0 && old.key.empty() && old.state == SessionState::active) {
        ++counters_.sessions_merged_total;
        free_session(from);
    }
}

void SessionTable::release_flow_reference(SessionId id, FlowIdentity identity) {
    Session& s = (*sessions_)[id];
    --s.flow_count;
    if (identity == FlowIdentity::announced) --s.announced_count;
}

bool SessionTable::expire_flow(const FlowKey& key, FlowEntry& flow, uint32_t now) {
    if (media_linger_over(flow, now)) {
        unoffload(key, flow);
        release_flow_reference(flow.session, flow.identity);
        if (key.src_port != 0 && key.dst_port != 0) released_media_.push_back(key);
        ++counters_.media_flows_released_total;
        return true;
    }
    if (flow.offloaded && fast_path_ && idle_for_twice_timeout(flow.last_seen_ms, flow.service, now)) {
        // Its packets bypass sarad: the fast path knows when it last saw one (or will know:
        // the flow waits for its answer, neither purged nor refreshed).
        if (fast_path_->defer_idle(key)) return false;
        if (const std::optional<uint32_t> idle = fast_path_->idle_ms(key); idle && *idle < uint32_t(now - flow.last_seen_ms)) {
            flow.last_seen_ms = now - *idle;
            ++counters_.flows_kept_by_fast_path_total;
        }
    }
    if (idle_for_twice_timeout(flow.last_seen_ms, flow.service, now)) {
        unoffload(key, flow);
        release_flow_reference(flow.session, flow.identity);
        ++counters_.flows_purged_total;
        return true;
    }
    if (uint64_t(now - flow.last_seen_ms) >= uint64_t(timeout(flow.service).count()))
        flow.status = FlowStatus::inactive;
    return false;
}

bool SessionTable::expire_step(size_t budget) {
    const uint32_t now = now_ms();
    if (!sweeping_sessions_) {
        if (!flows_.step(flow_cursor_, budget, [&](const FlowKey& k, FlowEntry& f) { return expire_flow(k, f, now); }))
            return false;
        sweeping_sessions_ = true;
        session_cursor_ = 0;
    }
    // Sessions after flows: one whose last flow went in this round is freed in it too.
    for (; session_cursor_ < sessions_->size() && budget > 0; ++session_cursor_, --budget)
        if ((*sessions_)[session_cursor_].in_use) maybe_free_session(session_cursor_, now);
    if (session_cursor_ < sessions_->size()) return false;
    sweeping_sessions_ = false;
    ++expiry_rounds_;
    return true;
}

void SessionTable::maybe_free_session(SessionId id, uint32_t now) {
    Session& s = (*sessions_)[id];
    if (s.flow_count != 0 || !idle_for_twice_timeout(s.last_seen_ms, s.service, now)) return;
    if (s.state == SessionState::active) {
        count(s, -1);
        s.state = SessionState::aborted;
        ++counters_.sessions_aborted_total;
    }
    free_session(id);
}

TableJournal SessionTable::take_journal() {
    TableJournal out;
    std::swap(out, journal_);
    for (SessionId id : out.sessions) (*sessions_)[id].journaled = false;
    for (const FlowKey& k : out.flows)
        if (FlowEntry* f = flows_.find(k)) f->journaled = 0;
    return out;
}

void SessionTable::clear() {
    flows_.erase_if([this](const FlowKey& k, FlowEntry& f) {
        unoffload(k, f);
        return true;
    });
    for (SessionId id = 0; id < sessions_->size(); ++id)
        if ((*sessions_)[id].in_use) {
            (*sessions_)[id].flow_count = 0;
            free_session(id);
        }
    journal_ = TableJournal{};
    flow_cursor_ = FlowIndex::Cursor{};
    sweeping_sessions_ = false;
    session_cursor_ = 0;
}

void SessionTable::swap_contents(SessionTable& other) {
    using std::swap;
    swap(sessions_, other.sessions_);
    swap(by_key_, other.by_key_);  // each with its hasher, which points at the storage it moved with
    swap(free_head_, other.free_head_);
    swap(live_sessions_, other.live_sessions_);
    swap(flows_, other.flows_);
    swap(active_per_node_, other.active_per_node_);
    for (SessionTable* t : {this, &other}) {
        t->journal_ = TableJournal{};
        t->released_media_.clear();
        t->flow_cursor_ = FlowIndex::Cursor{};
        t->sweeping_sessions_ = false;
        t->session_cursor_ = 0;
    }
}

void SessionTable::free_session(SessionId id) {
    Session& s = (*sessions_)[id];
    count(s, -1);
    s.journaled = false;
    if (!s.key.empty()) by_key_.erase(id);
    s.in_use = false;
    s.key.clear();
    s.key.shrink_to_fit();
    // The free list runs through the freed slots (their last_seen_ms: nothing reads a slot
    // not in use, and create_session resets it). A separate vector of ids cost 4 MiB at a
    // million sessions, and grown by doubling it moved half a million ids inside one free
    // while a million sessions expired: 0.9-4 ms of page faults and copying under the queues'
    // lock (make bench-table; bench_session_table's mass-expiry lane).
    s.last_seen_ms = free_head_;
    free_head_ = id;
    --live_sessions_;
}

}  // namespace sara
