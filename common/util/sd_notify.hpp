// SPDX-License-Identifier: GPL-2.0-or-later
// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram with
// "READY=1", "RELOADING=1" or "STOPPING=1" to $NOTIFY_SOCKET. Does nothing when the daemon does
// not run under systemd (no NOTIFY_SOCKET), so the unit can be Type=notify or Type=simple.
#pragma once

#include <string_view>

namespace sara {

// Returns false if NOTIFY_SOCKET is set but the message could not be sent.
bool notify_systemd(std::string_view state);

}  // namespace sara
