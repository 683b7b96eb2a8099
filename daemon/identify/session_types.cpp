// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/session_types.hpp"

namespace sara {

const char* to_string(FlowStatus s) {
    switch (s) {
        case FlowStatus::fresh: return "new";
        case FlowStatus::established: return "established";
        case FlowStatus::inactive: return "inactive";
    }
    return "unknown";
}

const char* to_string(FlowIdentity i) {
    switch (i) {
        case FlowIdentity::signalling: return "signalling";
        case FlowIdentity::announced: return "announced";
        case FlowIdentity::secondary: return "secondary";
    }
    return "unknown";
}

const char* to_string(SessionState s) {
    switch (s) {
        case SessionState::active: return "active";
        case SessionState::completed: return "completed";
        case SessionState::aborted: return "aborted";
    }
    return "unknown";
}

}  // namespace sara
