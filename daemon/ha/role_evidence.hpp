// SPDX-License-Identifier: GPL-2.0-or-later
// The role a (re)starting sarad may take, from evidence that holds now (issue 20). The notify
// hook writes `ROLE PID START BOOT_ID` to sync.role_file: the role keepalived gave and which
// keepalived process gave it (its PID, its start time in clock ticks since boot, and the
// kernel's boot id). A file written by an earlier life — a keepalived that died, a box that
// rebooted, or the one-word file of an older hook — names no running keepalived: it is not
// trusted, and sarad starts as backup, needing a snapshot before it may be master again.
//
// So a sarad that alone crashed on the master comes back as master at once (its keepalived
// still holds the address and said MASTER), while after a whole-box crash keepalived's stale
// word is ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/ha/state_sync.hpp"

namespace sara {

struct RoleRecord {
    HaRole role = HaRole::backup;  // master, backup or fault
    int pid = 0;                   // the keepalived process that ran the hook
    uint64_t start_ticks = 0;      // its start time (proc(5) stat field 22)
    std::string boot_id;           // /proc/sys/kernel/random/boot_id when it was written
};

// The role file's first line; nullopt for anything else than four fields with a known role,
// a positive PID, a number of ticks and a non-empty boot id (an older hook's one-word file
// included: it does not say who wrote it).
std::optional<RoleRecord> parse_role_record(std::string_view text);

// proc(5) stat field 22 (starttime) and field 2 (comm, without its parentheses).
std::optional<uint64_t> proc_stat_start_ticks(std::string_view stat);
std::string_view proc_stat_comm(std::string_view stat);

// What /proc says now: is the record's writer this boot's running keepalived process?
bool record_writer_alive(const RoleRecord& record);

struct StartEvidence {
    std::optional<RoleRecord> record;  // parsed role file (nullopt: absent or untrusted format)
    bool writer_alive = false;         // record_writer_alive(*record)
    std::optional<bool> address_held;  // nullopt without sync.floating_address
};

// master only if the running keepalived that wrote the file said master and, with a floating
// address, the address is held now; fault if it said fault; backup otherwise.
HaRole start_role(const StartEvidence& evidence);

}  // namespace sara
