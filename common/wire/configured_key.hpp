// SPDX-License-Identifier: GPL-2.0-or-later
// The cluster key a daemon's `auth:` section asks for, loaded at start and at each reload by
// sarad, sara-nodeagent and sara-gatewayd alike.
#pragma once

#include <optional>
#include <string>

#include "common/config/auth_config.hpp"
#include "common/config/config_errors.hpp"
#include "common/util/log.hpp"
#include "common/wire/control_message.hpp"

namespace sara::wire {

// `enabled` false (`auth: none`): `key` becomes empty and the answer is true. Otherwise `key`
// is the file's; when the file cannot be used, logs "auth: <the reason, naming the file>",
// leaves `key` empty and returns false.
bool load_configured_key(bool enabled, const std::string& key_file, std::optional<ClusterKey>& key,
                         const Logger& log);

// `--check-config`: the key file read as start reads it. A problem is an error at
// auth.key_file's position in `config_path` (no position when the file uses the default);
// nothing with `auth: none`.
std::optional<ConfigError> check_configured_key(const std::string& config_path, const AuthConfig& auth);

}  // namespace sara::wire
