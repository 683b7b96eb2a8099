// SPDX-License-Identifier: GPL-2.0-or-later
// The session table as text records: what the disk snapshot (table_snapshot.hpp) and the HA
// state sync (daemon/ha) carry. One session is a block of lines:
//   S <protocol> <state> <node> <service> <confirmed> <key>
//   F <proto 6|17> <src> <sport> <dst> <dport> <identity> <status>     (zero or more)
// Each F belongs to the S before it. Fields are printable ASCII. The key is "-" when empty;
// otherwise '%', whitespace, control and non-ASCII bytes (and a key that is just "-") are
// written %XX, so any key a parser accepted replicates as itself. A line may end in CRLF.
//
// Applying a block upserts: the session is found by its key, else by one of its flows, else
// created; its fields are set; its flows are added, or moved to it when another session holds
// them. Flows it no longer has are not removed (a full snapshot replaces the whole table).
// Parsing is strict and never trusts a field: a malformed line stops applying and is reported;
// what came before it stays.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/identify/session_table.hpp"

namespace sara {

// One S or F line (with its newline), as a block holds them.
std::string session_line(const Session& s);
std::string flow_line(const FlowKey& k, const FlowEntry& e);

// A block per session: its S line and all its flows (one pass over the flow index), the whole
// table at once (tests, fuzzing; the HA sync streams snapshot_stream.hpp's slices instead).
std::vector<std::string> session_blocks(const SessionTable& table);
// The blocks of a journal: each changed session with its changed flows (a changed flow's
// session is included even if the session itself did not change). Freed sessions and removed
// flows are skipped.
std::vector<std::string> journal_blocks(SessionTable& table, const TableJournal& journal);

// A block longer than `max_bytes` as several blocks of at most that size that apply to the
// same result: the S line again with the next F lines, and from the second on also the
// block's first F line, by which a keyless session is found. A block that fits is returned as
// is. `max_bytes` must hold an S line and two F lines (1400, a sync payload, always does).
std::vector<std::string> split_block(const std::string& block, size_t max_bytes);

// One record's fields (the line after "S " or "F "), read strictly: nullopt when malformed.
struct SessionRecord {
    ServiceProtocol protocol{};
    SessionState state{};
    NodeId node = kNoNode;
    uint8_t service = 0;
    bool confirmed = false;
    std::string key;
};
struct FlowRecord {
    FlowKey key;
    FlowIdentity identity{};
    FlowStatus status{};
};

std::optional<SessionRecord> parse_session_record(std::string_view fields);
std::optional<FlowRecord> parse_flow_record(std::string_view fields);
// A session record's fields onto session `id` (key if it has none, state, node, confirmed).
void set_session_fields(SessionId id, const SessionRecord& r, SessionTable& table);
// The session of `r`, found by its key or created (a keyless one always: the caller knows which
// flows name it and creates it only for them); kNoSession when the table refused it.
SessionId apply_session_record(const SessionRecord& r, SessionTable& table);
// Adds the flow to session `id` or moves it there; false when a bound refused it.
bool apply_flow_record(const FlowRecord& f, SessionId id, SessionTable& table);

struct RecordsApplied {
    size_t sessions = 0;
    size_t flows = 0;
    // The node of each session that got it from these records (new, or without a node
    // before): a mesh peer's assignments, for the scheduler's estimates.
    std::vector<NodeId> assigned;
    // Flows these records gave a session that did not hold them: a partial flow added (an
    // offer claiming its client port) or a flow taken from another session. A mesh peer's
    // claims: the receiver's kernel may still carry them with the previous owner's node.
    std::vector<FlowKey> claimed;
    std::string error;  // "line N: ..." for the first malformed line; empty when all applied
};
// `first_line`: the number of text's first line in the error (the file's, when it has a header).
RecordsApplied apply_records(std::string_view text, SessionTable& table, size_t first_line = 1);

}  // namespace sara
