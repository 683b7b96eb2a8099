// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/config_errors.hpp"

#include <algorithm>
#include <utility>

namespace sara {

std::string format_config_error(const ConfigError& error) {
    std::string out = error.file;
    if (error.line > 0) {
        out += ':' + std::to_string(error.line);
        if (error.column > 0) out += ':' + std::to_string(error.column);
    }
    out += ": error: ";
    out += error.message;
    return out;
}

std::string format_config_errors(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const ConfigError& error : errors) {
        out += format_config_error(error);
        out += '\n';
    }
    return out;
}

ConfigErrorList::ConfigErrorList(std::string file, size_t cap) : file_(std::move(file)), cap_(cap) {}

void ConfigErrorList::add(int line, int column, std::string message) {
    if (truncated_) return;
    if (errors_.size() >= cap_) {
        truncated_ = true;
        return;
    }
    errors_.push_back(ConfigError{file_, std::max(line, 0), std::max(column, 0), std::move(message)});
}

std::vector<ConfigError> ConfigErrorList::take() {
    std::vector<ConfigError> out = std::move(errors_);
    errors_.clear();
    std::stable_sort(out.begin(), out.end(), [](const ConfigError& a, const ConfigError& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    if (truncated_) {
        out.push_back(ConfigError{file_, 0, 0,
                                  "too many errors; stopped after " + std::to_string(cap_)});
        truncated_ = false;
    }
    return out;
}

}  // namespace sara
