// SPDX-License-Identifier: GPL-2.0-or-later
// What every config loader's errors promise, checked by the three config fuzz targets:
// bounded count, named file, positions, a message, and file order except for the closing
// "too many errors" note. A violation traps, so libFuzzer keeps the input.
#pragma once

#include <vector>

#include "common/config/config_errors.hpp"

namespace sara::fuzz {

inline constexpr const char* kConfigFileName = "fuzz.yaml";

inline void check(bool ok) {
    if (!ok) __builtin_trap();
}

inline void check_config_errors(const std::vector<ConfigError>& errors) {
    check(errors.size() <= ConfigErrorList::default_cap + 1);
    for (size_t i = 0; i < errors.size(); ++i) {
        const ConfigError& e = errors[i];
        check(e.file == kConfigFileName);
        check(e.line >= 0 && e.column >= 0);
        check(!e.message.empty());
        check(!format_config_error(e).empty());
        const bool last_note = i + 1 == errors.size() && errors.size() == ConfigErrorList::default_cap + 1;
        if (i > 0 && !last_note) {
            const ConfigError& p = errors[i - 1];
            check(p.line < e.line || (p.line == e.line && p.column <= e.column));
        }
    }
}

}  // namespace sara::fuzz
