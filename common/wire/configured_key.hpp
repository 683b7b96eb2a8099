// SPDX-License-Identifier: GPL-2.0-or-later
// The cluster key a daemon's `auth:` section asks for, loaded at start and at each reload by
// sarad, sara-nodeagent and sara-gatewayd alike.
#pragma once

#include <optional>
#include <string>

#include "common/util/log.hpp"
#include "common/wire/control_message.hpp"

namespace sara::wire {

// `enabled` false (`auth: none`): `key` becomes empty and the answer is true. Otherwise `key`
// is the file's; when the file cannot be used, logs "auth: <the reason, naming the file>",
// leaves `key` empty and returns false.
bool load_configured_key(bool enabled, const std::string& key_file, std::optional<ClusterKey>& key,
                         const Logger& log);

}  // namespace sara::wire
