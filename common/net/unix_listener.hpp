// SPDX-License-Identifier: GPL-2.0-or-later
// The listening Unix stream socket of a daemon's control channel (sarad, sara-nodeagent):
// created 0660, its folder created if missing, and never taken from a running daemon. A file
// already at the path is refused unless it is a socket nobody listens on (ECONNREFUSED: left
// by a run that did not stop cleanly), which is removed first.
#pragma once

#include <string>

#include "common/util/unique_fd.hpp"

namespace sara {

// `owner` names the daemon in the refusal ("another sarad listens on it"). `socket_flags`
// are added to SOCK_STREAM | SOCK_CLOEXEC (e.g. SOCK_NONBLOCK). On failure: an invalid fd
// and the reason in *error, naming the path.
UniqueFd listen_unix(const std::string& path, const std::string& owner, int backlog, int socket_flags,
                     std::string* error);

}  // namespace sara
