// SPDX-License-Identifier: GPL-2.0-or-later
// The state file (control.state_file): the session table written out at a clean stop and,
// with control.save_interval, periodically, and read back at start (table_snapshot.hpp has
// the format). A file is always written as "<path>.tmp" and renamed over the old one, so a
// crash mid-write leaves the previous file. Used by the main thread only.
#pragma once

#include <fstream>
#include <optional>
#include <string>

#include "common/util/log.hpp"
#include "daemon/identify/session_table.hpp"
#include "daemon/identify/table_snapshot.hpp"

namespace sara {

// Adds what `path` holds to `table`, logging what was read and (as a warning) where a
// garbled file stopped; nullopt when there is no file to read. `remove_after` (no periodic
// saves): the file is removed once read, so a later crash never reloads state older than the
// crash.
std::optional<SnapshotLoad> load_state(SessionTable& table, const std::string& path, bool remove_after,
                                       const Logger& log);

// Creates the state file's folder; the path of the file written before the rename.
std::string state_tmp_path(const std::string& path);

// Replaces `path` with its written temporary file `out` (opened on state_tmp_path(path)).
// False, logged, when the write or the rename failed: the previous file stays.
bool commit_state(const std::string& path, std::ofstream& out, const Logger& log);

// The whole table at once (a clean stop: the queues are stopped, no lock needed).
bool save_state(SessionTable& table, const std::string& path, const Logger& log);

// A periodic save in progress: the main loop copies a slice of the table into `writer` under
// the lock at each tick, flushes it without the lock, and commits once step() says done.
struct PeriodicSave {
    std::ofstream out;
    SnapshotWriter writer;
    explicit PeriodicSave(const std::string& path) : out(state_tmp_path(path), std::ios::trunc), writer(out) {}
};

}  // namespace sara
