// SPDX-License-Identifier: GPL-2.0-or-later
// The config loader's frame around the daemons' schema readers (config_loader.hpp).
#include "common/config/config_loader.hpp"

#include <exception>
#include <optional>

#include "common/config/yaml_reader.hpp"

namespace sara {
namespace {

std::vector<ConfigError> finish(ConfigErrorList& errors, const std::optional<YAML::Node>& root,
                                const ConfigTreeReader& read) {
    if (root) {
        // The readers only call yaml-cpp's non-throwing accessors; this catch keeps the
        // "never throws" contract should a yaml-cpp version disagree.
        try {
            read(errors, *root);
        } catch (const std::exception& e) {
            errors.add(0, 0, std::string("internal error while reading the config: ") + e.what());
        }
    }
    return errors.take();
}

}  // namespace

std::vector<ConfigError> read_config_file(const std::string& path, const ConfigTreeReader& read) {
    ConfigErrorList errors(path);
    const std::optional<YAML::Node> root = load_yaml_file(errors);
    return finish(errors, root, read);
}

std::vector<ConfigError> read_config_text(std::string_view text, const std::string& file_name,
                                          const ConfigTreeReader& read) {
    ConfigErrorList errors(file_name);
    const std::optional<YAML::Node> root = parse_yaml_text(errors, text);
    return finish(errors, root, read);
}

}  // namespace sara
