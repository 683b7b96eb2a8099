// SPDX-License-Identifier: GPL-2.0-or-later
// operator<< for the project's enums, so Boost.Test can print them in failed assertions.
// Found by argument-dependent lookup (namespace sara).
#pragma once

#include <ostream>

#include "daemon/identify/session_identifier.hpp"
#include "daemon/identify/session_types.hpp"

namespace sara {

inline std::ostream& operator<<(std::ostream& o, FlowIdentity v) { return o << to_string(v); }
inline std::ostream& operator<<(std::ostream& o, FlowStatus v) { return o << to_string(v); }
inline std::ostream& operator<<(std::ostream& o, SessionState v) { return o << to_string(v); }
inline std::ostream& operator<<(std::ostream& o, ServiceProtocol v) { return o << to_string(v); }
inline std::ostream& operator<<(std::ostream& o, PacketOutcome v) { return o << to_string(v); }

}  // namespace sara
