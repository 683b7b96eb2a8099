// SPDX-License-Identifier: GPL-2.0-or-later
// A snapshot of the session table on disk, so that a stopped-and-restarted sarad routes the
// established sessions' signalling and media to the same nodes (DESIGN §9: kernel marks
// persist across a restart; the table is reloaded from here). Written periodically and at a
// clean stop, read at start.
//
// Version 3 is written a bounded slice at a time (SnapshotWriter), so a periodic save holds
// the lock the queues share for one slice, never for the whole table (issue 16); the HA
// sync streams the same records, without the first line (daemon/ha/snapshot_stream.hpp): the line
// "sara-snapshot 3", then one line per session, then one per flow, each naming its session
// by a tag "<slot>:<created_ms>":
//   s <tag> <the S fields of table_records.hpp>
//   f <tag> <the F fields>
// The walk is not one instant: a session that ends during it may be missing or stale (it
// expires again after the restart), and a flow whose tag names no session line (its session
// came after the walk passed, or its slot was reused: another creation time) is skipped and
// counted. Version 3 is applied line by line as it is read (beyond the table, memory is one
// line and 12 bytes a session). Version 2 (S blocks each followed by its F lines, the HA
// sync's update records) is read too. Loading is strict: a malformed line stops loading and is
// reported; what came before stays.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "daemon/identify/session_table.hpp"
#include "daemon/identify/table_records.hpp"

namespace sara {

class SnapshotWriter {
public:
    // `header`: the version line first (a file); the HA sync's chunks carry only the records.
    explicit SnapshotWriter(std::ostream& out, bool header = true);
    // The caller holds the table's lock: copies up to `budget` sessions or flows. True once
    // every session and flow was copied.
    bool step(SessionTable& table, size_t budget);
    // Without the lock: writes what step() copied.
    void flush();
    size_t sessions() const { return sessions_written_; }
    // Records copied by step() and not flushed yet.
    size_t copied() const { return sessions_.size() + flows_.size(); }

private:
    struct SessionCopy {
        SessionId id;
        Session session;
    };
    struct FlowCopy {
        FlowKey key;
        FlowEntry entry;
        uint32_t session_created_ms;
    };
    std::ostream& out_;
    bool in_flows_ = false;
    SessionId next_slot_ = 0;
    FlowIndex::ShardCursor cursor_;
    std::vector<SessionCopy> sessions_;
    std::vector<FlowCopy> flows_;
    size_t sessions_written_ = 0;
};

// The whole table at once (a clean stop, tests).
void write_snapshot(SessionTable& table, std::ostream& out);

struct SnapshotLoad {
    size_t sessions = 0;
    size_t flows = 0;
    size_t orphan_flows = 0;  // version 3: flows whose session line is not in the file
    std::string error;        // empty when the whole snapshot was read
};
// Adds the snapshot's sessions and flows to `table` (times restart from now).
SnapshotLoad read_snapshot(std::istream& in, SessionTable& table);

class SessionsByTag;
// Version-3 records applied one line at a time, as read_snapshot does and as the HA backup
// does with a snapshot's chunks: a session line upserts its session (by key; a keyless one
// waits for its first flow, as nothing else could find it), a flow line joins the session its
// tag named. Memory beyond the table: the tags seen (12 bytes a session).
class SnapshotLoader {
public:
    explicit SnapshotLoader(SessionTable& table);
    ~SnapshotLoader();
    SnapshotLoader(const SnapshotLoader&) = delete;
    SnapshotLoader& operator=(const SnapshotLoader&) = delete;
    // One line, without its newline (a CR before it is ignored). False once a line was
    // malformed: nothing more is applied, and result().error names `line_number`.
    bool add_line(std::string_view line, size_t line_number);
    // Every line of `text` (the first one numbered `first_line`); false as add_line.
    bool add_lines(std::string_view text, size_t first_line);
    const SnapshotLoad& result() const { return result_; }

private:
    SessionTable& table_;
    SnapshotLoad result_;
    std::unique_ptr<SessionsByTag> by_tag_;
    absl::flat_hash_map<uint64_t, SessionRecord> keyless_;  // not created until a flow names it
};

}  // namespace sara
