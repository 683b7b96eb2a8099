// SPDX-License-Identifier: GPL-2.0-or-later
// What sip-loadgen reads from a datagram it receives: the project's own SIP parser
// (common/proto/sip) for the start line, Call-ID and CSeq, plus the few headers a UAS copies
// into its answers (Via, From, To, Record-Route) and a UAC needs for the dialog (To with the
// peer's tag, Contact). Zero-copy: views into the datagram. Never throws; bad input is an
// error string the caller counts.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "common/proto/sip.hpp"

namespace sara::loadgen {

inline constexpr size_t kMaxVias = 8;          // a proxy or two in front of us: plenty
inline constexpr size_t kMaxRecordRoutes = 8;

struct SipFields {
    SipMessage message;
    // Whole header lines ("Via: ..."), as received, so answers copy them byte for byte
    // (folded continuation lines included).
    std::array<std::string_view, kMaxVias> via_lines{};
    size_t via_count = 0;
    std::array<std::string_view, kMaxRecordRoutes> record_route_lines{};
    size_t record_route_count = 0;
    std::string_view from_line, to_line, call_id_line, cseq_line;
    std::string_view to_value;      // the To header's value (with the peer's tag in responses)
    std::string_view contact_uri;   // inside <...> if present, else the value up to ';'
};

struct FieldsResult {
    const char* error = nullptr;    // nullptr: ok
    SipFields fields;
    bool ok() const { return error == nullptr; }
};

// Reads one SIP datagram. An answerable message has a start line, Call-ID, CSeq, From, To
// and at least one Via; anything else is an error.
FieldsResult read_fields(std::string_view datagram);

// The value of a header line ("Name: value" -> "value", trimmed).
std::string_view header_value(std::string_view line);

}  // namespace sara::loadgen
