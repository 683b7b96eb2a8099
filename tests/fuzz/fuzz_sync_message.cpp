// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the HA state-sync datagram (common/wire/sync_message.hpp), the receiver's
// checks for it, and the table records it carries (daemon/identify/table_records.hpp).
// Invariants are checked with __builtin_trap so a violation is a crash libFuzzer keeps.
//
// Each input is used three ways:
//   - As one datagram, decoded with the fixture key and with none. An accepted message must
//     keep the layout's rules, re-encode to exactly the bytes it came from (less an ignored
//     trailer) and survive decode → encode → decode with every field; a receiver must accept
//     it once and then refuse it as a replay.
//   - As the fields of a message (FuzzedDataProvider), invalid values included: encode() must
//     refuse exactly what decode() would, and what it writes must decode to the same fields.
//   - As records: an accepted message's payload, and the raw input as text, are applied to a
//     session table with small bounds. Nothing may crash, the bounds must hold, the table must
//     stay consistent, and the table must write itself out (session_blocks) as text that
//     apply_records() takes without an error into a fresh table with the same sessions.
//   - As a state file (daemon/identify/table_snapshot.hpp): the raw input, and the input after
//     a version-3 header, are read into a table (consistent, whatever the error), and the
//     records' table written as a version-3 snapshot reads back into the same sessions.
//
// Seeds (tests/fuzz/corpus/sync_message/, written by tests/fuzz/make_sync_seeds.py) are
// datagrams signed with this key, unsigned, and with an ignored trailer, from hosts 1, 2 and
// 0x0102 with timestamps at kNow, plus record text on its own; regressions/sync_message/ holds
// hostile shapes (rule violations under a valid MAC, a 31- or 33-byte suffix, the size bound,
// hostile records).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/clock.hpp"
#include "common/wire/control_receiver.hpp"
#include "common/wire/sync_message.hpp"
#include "daemon/ha/snapshot_stream.hpp"
#include "daemon/identify/table_records.hpp"
#include "daemon/identify/table_snapshot.hpp"
#include "tests/fuzz/cluster_key_fixture.hpp"

namespace {

using namespace sara;
using namespace sara::wire;
using namespace std::chrono_literals;

using fuzz::kNow;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool same_message(const SyncMessage& a, const SyncMessage& b) {
    return a.host_id == b.host_id && a.seq == b.seq && a.timestamp == b.timestamp && a.kind == b.kind &&
           a.epoch == b.epoch && a.index == b.index && a.last_chunk == b.last_chunk && a.payload == b.payload;
}

// The layout's rules, written out again here as the oracle for encode()'s refusals.
bool sendable(const SyncMessage& m) {
    if (m.payload.size() > 1400) return false;
    switch (uint8_t(m.kind)) {
        // update: index 1 = a ready mesh dispatcher; epoch: 0 or the number an ack names
        case 1: return m.index <= 1 && m.last_chunk == 0;
        case 2: return m.last_chunk <= 1;  // any index: chunks count mod 65536
        // resync, ack: any index (the mesh dispatcher they are for; 0 in a pair)
        case 3: return m.epoch == 0 && m.last_chunk == 0 && m.payload.empty();
        case 4: return m.epoch != 0 && m.last_chunk == 0 && m.payload.empty();
        default: return false;
    }
}

// An accepted message re-encodes to the datagram it came from, and decoding that again gives
// the same fields.
void check_round_trip(const Decoded& d, std::span<const uint8_t> datagram, const ClusterKey* key) {
    check(d.type == MessageType::sync);
    check(sendable(d.sync));
    const std::vector<uint8_t> again = encode(d.sync, key);
    check(!again.empty());
    check(again.size() == kHeaderSize + kSyncFixedBody + d.sync.payload.size() + (key ? kMacSize : 0));
    const bool exact = std::equal(again.begin(), again.end(), datagram.begin(), datagram.end());
    // Without a key a 32-byte trailer is accepted and ignored.
    const bool with_ignored_trailer = !key && datagram.size() == again.size() + kMacSize &&
                                      std::equal(again.begin(), again.end(), datagram.begin());
    check(exact || with_ignored_trailer);
    const Decoded twice = decode(again, key);
    check(twice.reject == Reject::none && twice.type == MessageType::sync);
    check(same_message(twice.sync, d.sync));
}

// Returns the message `auth: none` accepted, if any, for the records check.
const SyncMessage* check_decode(std::span<const uint8_t> datagram, const ClusterKey& key, Decoded& open) {
    const Decoded keyed = decode(datagram, &key);
    open = decode(datagram, nullptr);
    check(keyed.reject == Reject::none || keyed.reject == Reject::malformed || keyed.reject == Reject::auth);
    check(open.reject == Reject::none || open.reject == Reject::malformed);
    // The key only adds a check. (Keyed malformed but open accepted would need a body whose
    // last 32 bytes are a valid HMAC of the bytes before them.)
    if (keyed.reject == Reject::malformed) check(open.reject == Reject::malformed);
    if (keyed.reject == Reject::none) check(open.reject == Reject::none && open.type == keyed.type);
    if (keyed.reject == Reject::none && keyed.type == MessageType::sync) {
        check(same_message(keyed.sync, open.sync));
        check_round_trip(keyed, datagram, &key);
    }
    if (open.reject != Reject::none || open.type != MessageType::sync) return nullptr;
    check_round_trip(open, datagram, nullptr);
    return &open.sync;
}

// A receiver takes an authentic, fresh sync message once; the same datagram again is a replay.
void check_receiver(const ClusterKey* key, std::span<const uint8_t> datagram) {
    ControlReceiver receiver(key, {1, 2, 3, 0x0102});
    const Decoded first = receiver.receive(datagram, kNow);
    const Decoded plain = decode(datagram, key);
    if (plain.reject != Reject::none) check(first.reject == plain.reject);
    if (first.reject != Reject::none || first.type != MessageType::sync) return;
    check(same_message(first.sync, plain.sync));
    check(std::abs(int64_t(first.sync.timestamp) - int64_t(kNow)) <= 30);
    check(receiver.receive(datagram, kNow).reject == Reject::replay);
    check(receiver.counters().control_accepted_total == 1 && receiver.counters().control_rejected_replay_total == 1);
}

SyncMessage fuzzed_message(FuzzedDataProvider& in) {
    SyncMessage m;
    m.host_id = in.ConsumeIntegral<uint16_t>();
    m.seq = in.ConsumeIntegral<uint32_t>();
    m.timestamp = in.ConsumeIntegral<uint32_t>();
    m.kind = SyncKind(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint8_t>(1, 4) : in.ConsumeIntegral<uint8_t>());
    // Mostly the small values the rules are about, sometimes anything.
    m.epoch = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint32_t>();
    m.index = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint16_t>(0, 3) : in.ConsumeIntegral<uint16_t>();
    m.last_chunk = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint16_t>(0, 3) : in.ConsumeIntegral<uint16_t>();
    const size_t length = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(1395, 1405)
                                           : in.ConsumeIntegralInRange<size_t>(0, 64);
    m.payload = in.ConsumeBytesAsString(length);
    m.payload.resize(length, 'p');  // the input may run out; the length is what matters
    return m;
}

void check_encode(const SyncMessage& m, const ClusterKey& key) {
    const std::vector<uint8_t> keyed = encode(m, &key);
    const std::vector<uint8_t> open = encode(m, nullptr);
    check(keyed.empty() == !sendable(m) && open.empty() == keyed.empty());
    if (open.empty()) return;
    check(keyed.size() == open.size() + kMacSize && std::equal(open.begin(), open.end(), keyed.begin()));
    check(keyed.size() <= kHeaderSize + kSyncFixedBody + kMaxSyncPayload + kMacSize);
    const Decoded d = decode(keyed, &key);
    check(d.reject == Reject::none && d.type == MessageType::sync && same_message(d.sync, m));
    const Decoded o = decode(open, nullptr);
    check(o.reject == Reject::none && o.type == MessageType::sync && same_message(o.sync, m));
}

// --- records ---------------------------------------------------------------------------------

// Small bounds, so a 1400-byte payload (or a fuzzer input) reaches every one of them.
constexpr SessionTableLimits kLimits{.max_sessions = 64,
                                     .max_flows = 256,
                                     .max_flows_per_session = 4,
                                     .max_announced_per_session = 2,
                                     .max_key_bytes = 32};

struct Replica {
    ManualClock clock;
    SessionTable table{kLimits, {30s, 30s}, clock};
};

std::string records_of(const SessionTable& t) {
    std::string text;
    for (const std::string& b : session_blocks(t)) text += b;
    return text;
}

// The bounds, and the table's own bookkeeping: each session's flow_count is the number of
// flows that name it, and every flow names a live session.
void check_table(SessionTable& t) {
    check(t.session_count() <= kLimits.max_sessions);
    check(t.flow_count() <= kLimits.max_flows);
    std::vector<uint32_t> flows_of;
    size_t live = 0;
    t.for_each_session([&](SessionId id, const Session& s) {
        ++live;
        check(s.key.size() <= kLimits.max_key_bytes);
        check(s.flow_count <= kLimits.max_flows_per_session);
        if (flows_of.size() <= id) flows_of.resize(id + 1, 0);
    });
    check(live == t.session_count());
    size_t flows = 0;
    t.for_each_flow([&](const FlowKey&, const FlowEntry& e) {
        ++flows;
        check(e.session < flows_of.size() && t.session(e.session).in_use);
        ++flows_of[e.session];
    });
    check(flows == t.flow_count());
    t.for_each_session([&](SessionId id, const Session& s) { check(s.flow_count == flows_of[id]); });
    // The per-node counts kept without a recount match one: every node a session names, and
    // the configurable ids (1..250) and a little beyond, where a count left behind would show
    // (all 65535 ids would slow every input tenfold).
    std::map<NodeId, uint64_t> active;
    t.for_each_session([&](SessionId, const Session& s) {
        if (s.state == SessionState::active && s.node != kNoNode) ++active[s.node];
    });
    for (const auto& [node, n] : active) check(t.active_sessions(node) == n);
    for (NodeId node = 1; node <= 300; ++node) check(active.contains(node) || t.active_sessions(node) == 0);
}

// Sessions a snapshot carries across: a keyless session without flows has nothing that could
// find it again, and apply_records() does not create one (table_records_test). The master can
// hold one briefly — a keyless session that ended after its flows moved away — so it is left
// out of the comparison, not treated as a finding.
size_t identifiable_sessions(const SessionTable& t) {
    size_t n = 0;
    t.for_each_session([&](SessionId, const Session& s) { n += !s.key.empty() || s.flow_count > 0; });
    return n;
}

// A session can hold more announced flows than the limit lets add_flow() give it: move_flow()
// does not check that limit. A fresh table then refuses the extra ones.
bool over_announced_limit(const SessionTable& t) {
    bool over = false;
    t.for_each_session([&](SessionId, const Session& s) { over = over || s.announced_count > kLimits.max_announced_per_session; });
    return over;
}

bool same_session(const Session& a, const Session& b) {
    return a.key == b.key && a.protocol == b.protocol && a.state == b.state && a.node == b.node &&
           a.service == b.service && a.confirmed == b.confirmed;
}

// `copy` was built from `original`'s records: every keyed session is there under its key with
// the same fields, and (unless the announced limit refused some) every flow is there with the
// same identity and status, in a session with the same fields as the one it was in.
void check_same_contents(SessionTable& original, SessionTable& copy) {
    original.for_each_session([&](SessionId, const Session& s) {
        if (s.key.empty()) return;
        const SessionId id = copy.find_session(s.protocol, s.key);
        check(id != kNoSession && same_session(s, copy.session(id)));
    });
    if (over_announced_limit(original)) return;
    original.for_each_flow([&](const FlowKey& k, const FlowEntry& e) {
        const FlowEntry* c = copy.find_flow(k);
        check(c && c->identity == e.identity && c->status == e.status);
        check(same_session(original.session(e.session), copy.session(c->session)));
    });
}

// Records are lines of printable ASCII whatever the keys hold (table_records.hpp).
bool printable_lines(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == '\n' || (c >= 0x20 && c < 0x7f); });
}

void check_records(std::string_view text) {
    Replica first;
    const RecordsApplied applied = apply_records(text, first.table);
    check(applied.error.empty() || applied.error.starts_with("line "));
    check(applied.sessions <= size_t(std::count(text.begin(), text.end(), '\n')) + 1);
    check_table(first.table);

    const std::string written = records_of(first.table);
    check(printable_lines(written));
    Replica second;
    const RecordsApplied again = apply_records(written, second.table);
    check(again.error.empty());
    check_table(second.table);
    check(second.table.session_count() == identifiable_sessions(first.table));
    if (!over_announced_limit(first.table)) check(second.table.flow_count() == first.table.flow_count());
    check_same_contents(first.table, second.table);

    // The same table through a state file (version 3, written in slices).
    std::stringstream file;
    SnapshotWriter writer(file);
    while (!writer.step(first.table, 3)) writer.flush();
    writer.flush();
    Replica restored;
    const SnapshotLoad load = read_snapshot(file, restored.table);
    check(load.error.empty() && load.orphan_flows == 0);
    check_table(restored.table);
    check(restored.table.session_count() == identifiable_sessions(first.table));
    check_same_contents(first.table, restored.table);

    // The same table as an HA snapshot: slices of 3 records cut into payloads of at most
    // 300 bytes at line ends, loaded as the backup does at the last chunk.
    SnapshotStream stream(300);
    std::string streamed;
    size_t payloads = 0;
    while (!stream.done()) {
        stream.copy(first.table, 3);
        for (const std::string& p : stream.format()) {
            check(p.size() <= 300 && (p.empty() || p.back() == '\n'));
            streamed += p;
            ++payloads;
        }
    }
    check(payloads >= 1);
    Replica backup;
    SnapshotLoader loader(backup.table);
    check(loader.add_lines(streamed, 1) && loader.result().orphan_flows == 0);
    check_table(backup.table);
    check(backup.table.session_count() == identifiable_sessions(first.table));
    check_same_contents(first.table, backup.table);

    // Applying a table's own records to it changes nothing it counts.
    const size_t sessions = first.table.session_count(), flows = first.table.flow_count();
    check(apply_records(written, first.table).error.empty());
    check(first.table.session_count() == sessions && first.table.flow_count() == flows);
    check_table(first.table);
}

// Any bytes as a state file, and as the body of a version-3 one: a consistent table.
void check_state_file(std::string_view text) {
    for (const std::string& file : {std::string(text), "sara-snapshot 3\n" + std::string(text)}) {
        std::istringstream in(file);
        Replica replica;
        const SnapshotLoad load = read_snapshot(in, replica.table);
        check(load.error.empty() || load.error.starts_with("line ") || load.error.starts_with("not a sarad"));
        check_table(replica.table);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ClusterKey& key = fuzz::fixture_key();
    const std::span<const uint8_t> input(data, size);
    Decoded open;
    if (const SyncMessage* accepted = check_decode(input, key, open)) check_records(accepted->payload);
    check_receiver(&key, input);
    check_receiver(nullptr, input);

    FuzzedDataProvider fields(data, size);
    check_encode(fuzzed_message(fields), key);

    check_records(std::string_view(reinterpret_cast<const char*>(data), size));
    check_state_file(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
