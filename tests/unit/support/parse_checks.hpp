// SPDX-License-Identifier: GPL-2.0-or-later
// What the parser tests (tests/unit/proto) check on every result: its status, compared by
// name so a failure prints something readable without a global operator<<, and that a view
// it returned points into the parsed buffer (the parsers never copy).
#pragma once

#include <string_view>

#include "common/util/parse_status.hpp"

namespace sara::test {

inline std::string_view status_name(ParseStatus s) {
    switch (s) {
        case ParseStatus::complete: return "complete";
        case ParseStatus::incomplete: return "incomplete";
        case ParseStatus::error: return "error";
    }
    return "?";
}

inline bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace sara::test
