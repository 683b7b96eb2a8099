// SPDX-License-Identifier: GPL-2.0-or-later
// The one config loader of the three daemons (dispatcher, node agent, gateway): read the file
// (or text, for tests and fuzzing), parse it with yaml_reader, let the daemon's schema reader
// walk the tree collecting every error, and hand back the config with the errors in file
// order. Only the schema reader differs between the daemons, so each loader is
// load_config_file / load_config_text with its reader.
//
// yaml-cpp stays out of this header (YAML::Node is only declared): the schema headers name
// ConfigLoad and must stay plain structs (docs/architecture.md, "Config").
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_errors.hpp"

namespace YAML {
class Node;
}

namespace sara {

// A loaded config: `config` is meaningful only if there are no errors.
template <class Config>
struct ConfigLoad {
    Config config;
    std::vector<ConfigError> errors;  // in file order
    bool ok() const { return errors.empty(); }
};

// A schema reader: walks a parsed document, adding an error for every problem it finds.
using ConfigTreeReader = std::function<void(ConfigErrorList& errors, const YAML::Node& root)>;

// Parses the file `path` and, if it parsed, runs `read` over it; the errors name `path`. Never
// throws: the schema readers only call yaml-cpp's non-throwing accessors, and an exception a
// yaml-cpp version throws anyway becomes one error without a position.
std::vector<ConfigError> read_config_file(const std::string& path, const ConfigTreeReader& read);

// The same for YAML text in memory; the errors name `file_name`.
std::vector<ConfigError> read_config_text(std::string_view text, const std::string& file_name,
                                          const ConfigTreeReader& read);

// `read(errors, root, config)` fills a Config from the file's tree.
template <class Config, class Read>
ConfigLoad<Config> load_config_file(const std::string& path, Read&& read) {
    ConfigLoad<Config> load;
    load.errors = read_config_file(
        path, [&](ConfigErrorList& errors, const YAML::Node& root) { read(errors, root, load.config); });
    return load;
}

template <class Config, class Read>
ConfigLoad<Config> load_config_text(std::string_view text, const std::string& file_name, Read&& read) {
    ConfigLoad<Config> load;
    load.errors = read_config_text(
        text, file_name, [&](ConfigErrorList& errors, const YAML::Node& root) { read(errors, root, load.config); });
    return load;
}

}  // namespace sara
