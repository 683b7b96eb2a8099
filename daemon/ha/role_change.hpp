// SPDX-License-Identifier: GPL-2.0-or-later
// The HA role of a running dispatcher (issue 15: role handling in ha/): what a change does —
// held verdicts released when leaving master, the replica swapped in or kept, new sessions
// taken only as master, the fast path's flow map emptied when leaving master, a log line,
// a resync request when not master — and the floating address as the role's evidence. Called
// by keepalived's notify hook (the control socket), the floating-address thread and the start
// role, each holding the dispatcher's lock.
#pragma once

#include <string>

#include "daemon/ha/sync_threads.hpp"

namespace sara {

// Sets the role, logged with `why`. Caller holds rt.lock.
void change_role(SyncRuntime& rt, HaRole role, const std::string& why, const Logger& log);
// The floating address appeared (`held`) or went: master, or backup (a fault stays fault).
// Caller holds rt.lock.
void follow_floating_address(SyncRuntime& rt, bool held, const Logger& log);

}  // namespace sara
