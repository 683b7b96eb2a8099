// SPDX-License-Identifier: GPL-2.0-or-later
// Errors found while loading a config file, each with the file name and a 1-based line and
// column, printed as `FILE:LINE:COL: error: MESSAGE` (the format editors and CI jump to).
// Loaders collect every error instead of stopping at the first (STYLE.md, example 6).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sara {

struct ConfigError {
    std::string file;
    int line = 0;    // 1-based; 0 = no position (e.g. the file could not be read)
    int column = 0;  // 1-based; 0 = no position
    std::string message;

    friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

// `FILE:LINE:COL: error: MESSAGE`, or `FILE: error: MESSAGE` when the error has no position.
std::string format_config_error(const ConfigError& error);

// One formatted error per line, each ending in '\n'; empty for no errors.
std::string format_config_errors(const std::vector<ConfigError>& errors);

// The errors of one file. It holds at most `cap` errors and then stops accepting more (one
// final error says so): a hostile file can reuse one bad mapping thousands of times through
// YAML aliases, and the error list must not grow with that amplification. Loaders check
// full() to stop walking once nothing more would be recorded.
class ConfigErrorList {
public:
    static constexpr size_t default_cap = 1000;

    explicit ConfigErrorList(std::string file, size_t cap = default_cap);

    const std::string& file() const { return file_; }

    // line and column are 1-based; pass 0, 0 for an error without a position.
    void add(int line, int column, std::string message);

    bool empty() const { return errors_.empty() && !truncated_; }
    size_t size() const { return errors_.size() + (truncated_ ? 1 : 0); }
    bool full() const { return truncated_; }

    // The errors sorted by position (file order, stable for equal positions), followed by the
    // "too many errors" note if the cap was reached. Leaves the list empty.
    std::vector<ConfigError> take();

private:
    std::string file_;
    size_t cap_;
    bool truncated_ = false;
    std::vector<ConfigError> errors_;
};

}  // namespace sara
