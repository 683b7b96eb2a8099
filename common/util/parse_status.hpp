// SPDX-License-Identifier: GPL-2.0-or-later
// The outcome of parsing untrusted bytes (Suricata's habit): the data plane never throws.
#pragma once

namespace sara {

enum class ParseStatus {
    complete,    // a whole message was parsed; see the parser's consumed length
    incomplete,  // more bytes are needed (a message split over segments)
    error,       // malformed or over a bound; the caller counts it and applies its policy
};

}  // namespace sara
