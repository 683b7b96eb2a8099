// SPDX-License-Identifier: GPL-2.0-or-later
// A snapshot of the session table on disk, so that a stopped-and-restarted sarad routes the
// established sessions' signalling and media to the same nodes (DESIGN §9: kernel marks
// persist across a restart; the table is reloaded from here). Written at a clean stop,
// read at start. Text, versioned: the line "sara-snapshot 2", then the table as the records of
// table_records.hpp (one S line per session, each followed by its F lines).
// Loading is strict: a malformed line stops loading and is reported; the sessions before its
// block stay.
#pragma once

#include <iosfwd>
#include <string>

#include "daemon/identify/session_table.hpp"

namespace sara {

void write_snapshot(const SessionTable& table, std::ostream& out);

struct SnapshotLoad {
    size_t sessions = 0;
    size_t flows = 0;
    std::string error;  // empty when the whole snapshot was read
};
// Adds the snapshot's sessions and flows to `table` (times restart from now).
SnapshotLoad read_snapshot(std::istream& in, SessionTable& table);

}  // namespace sara
