// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/wire/configured_key.hpp"

namespace sara::wire {

bool load_configured_key(bool enabled, const std::string& key_file, std::optional<ClusterKey>& key,
                         const Logger& log) {
    key.reset();
    if (!enabled) return true;
    std::string error;
    key = ClusterKey::load_file(key_file, &error);
    if (!key) log.error("auth: " + error);
    return key.has_value();
}

std::optional<ConfigError> check_configured_key(const std::string& config_path, const AuthConfig& auth) {
    if (!auth.enabled) return std::nullopt;
    std::string error;
    if (ClusterKey::load_file(auth.key_file, &error)) return std::nullopt;
    return ConfigError{config_path, auth.key_file_line, auth.key_file_column, "auth.key_file: " + error};
}

}  // namespace sara::wire
