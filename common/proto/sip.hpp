// SPDX-License-Identifier: GPL-2.0-or-later
// SIP (RFC 3261) message framing and the few headers the session identifier needs:
// start line, Call-ID (also compact `i`), CSeq, Content-Length (`l`), Content-Type (`c`).
// Zero-copy: string_views point into the caller's buffer. Never throws; malformed or
// over-bound input yields ParseStatus::error with a reason the caller counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/util/parse_status.hpp"

namespace sara {

struct SipLimits {
    size_t max_header_bytes = 16 * 1024;  // start line + headers + blank line
    size_t max_body_bytes = 64 * 1024;
    size_t max_call_id = 256;
};

enum class SipError : uint8_t {
    none,
    bad_start_line,       // neither "METHOD uri SIP/2.0" nor "SIP/2.0 NNN reason"
    header_too_large,     // no blank line within max_header_bytes
    bad_header,           // a header line without ':'
    bad_content_length,   // non-numeric, conflicting duplicates, or above max_body_bytes
    body_truncated,       // a datagram shorter than its Content-Length
    call_id_too_long,
    conflicting_call_id,  // two Call-ID headers with different values
    bad_cseq,
};
const char* to_string(SipError e);

struct SipMessage {
    bool is_request = false;
    std::string_view method;        // requests: INVITE, ACK, BYE, CANCEL, ...
    int status_code = 0;            // responses: 100..699
    std::string_view call_id;       // empty when absent (the caller counts that)
    uint32_t cseq = 0;
    std::string_view cseq_method;
    std::string_view content_type;  // media type only, parameters stripped
    std::string_view header_block;  // the header lines after the start line and the blank line
                                    // that ends them (for_each_sip_header)
    std::string_view body;
    size_t length = 0;              // bytes consumed: headers + body

    // A body the session identifier should read as SDP.
    bool has_sdp() const;
};

struct SipParseResult {
    ParseStatus status = ParseStatus::error;
    SipError error = SipError::none;
    SipMessage message;
};

enum class SipFraming {
    datagram,  // UDP: one message per datagram; no Content-Length means "the rest"
    stream,    // TCP: messages back to back; incomplete until Content-Length bytes are in
};

// Parses one SIP message at the start of `data`.
SipParseResult parse_sip_message(std::string_view data, SipFraming framing, const SipLimits& limits = {});

}  // namespace sara
