// SPDX-License-Identifier: GPL-2.0-or-later
// The master's full snapshot in progress (state_sync.hpp): the session table's version-3
// records (table_snapshot.hpp, the state file's format) copied a bounded slice at a time and
// cut into datagram payloads at line ends.
//
// Why slices: a snapshot taken at once held the lock the queues share for O(table) (about a
// second at a million sessions) every snapshot_interval, and went out as one burst (issue 16).
// A sliced walk is not one instant: a session or flow changed after its slice was copied
// reaches the backup in a later update, which the backup applies on top of the snapshot
// (state_sync.cpp); one removed after its slice stays until the next snapshot or its timeout,
// as removals always did. Slices never skip a flow present throughout the walk (whole shards,
// ShardedHashTable::visit_shards) nor a session (slots do not move).
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/identify/session_table.hpp"
#include "daemon/identify/table_snapshot.hpp"

namespace sara {

class SnapshotStream {
public:
    // Payloads of at most `max_payload` bytes (whole lines: a record line is at most ~800 bytes).
    explicit SnapshotStream(size_t max_payload);
    SnapshotStream(const SnapshotStream&) = delete;
    SnapshotStream& operator=(const SnapshotStream&) = delete;

    // The caller holds the table's lock: copies up to `budget` records (sessions and flows;
    // a shard of flows is never cut, so a slice may run a shard's size over; done() once the
    // walk is through and formatted).
    // Returns how many records it copied: a slice that crossed only empty shards copies none.
    size_t copy(SessionTable& table, size_t budget);
    // Without the lock: what copy() took, as the payloads that are full; after the copy that
    // ended the walk also the rest, at least one payload (the final chunk; empty if nothing
    // was left), and done() is true.
    std::vector<std::string> format();
    bool done() const { return done_; }

private:
    size_t max_payload_;
    std::ostringstream text_;
    SnapshotWriter writer_;
    std::string partial_;  // whole lines not yet in a full payload
    bool walked_ = false;
    bool done_ = false;
};

}  // namespace sara
