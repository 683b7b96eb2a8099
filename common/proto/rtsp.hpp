// SPDX-License-Identifier: GPL-2.0-or-later
// RTSP (RFC 2326) message and Transport header parsing for the session identifier and the
// gateway. Zero-copy: every string_view points into the caller's buffer, which must outlive
// the result. Never throws; malformed or over-bound input yields ParseStatus::error with a
// reason the caller counts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/net/ip_address.hpp"
#include "common/util/parse_status.hpp"

namespace sara {

struct RtspLimits {
    size_t max_header_bytes = 16 * 1024;  // start line + headers + blank line
    size_t max_body_bytes = 64 * 1024;    // Content-Length above this is an error
    size_t max_session_id = 256;
};

enum class RtspError : uint8_t {
    none,
    bad_start_line,      // neither "METHOD uri RTSP/1.x" nor "RTSP/1.x NNN reason"
    header_too_large,    // no blank line within max_header_bytes
    bad_header,          // a header line without ':' (folded lines are accepted), a control
                         // byte in a line, or a Session id with inner whitespace or two ids
    bad_content_length,  // non-numeric, duplicate with another value, above max_body_bytes
                         // or above 2^32 - 1
    bad_cseq,
    session_id_too_long,
};
const char* to_string(RtspError e);

struct RtspMessage {
    bool is_request = false;
    std::string_view method;     // requests: "SETUP", "PLAY", "TEARDOWN", ...
    std::string_view uri;        // requests
    int status_code = 0;         // responses
    bool has_cseq = false;
    uint32_t cseq = 0;
    std::string_view session_id; // `Session:` value up to ';' (timeout parameter stripped), trimmed
    std::string_view transport;  // raw `Transport:` value (first occurrence), trimmed
    std::string_view body;
    size_t length = 0;           // bytes consumed: headers + body
};

struct RtspParseResult {
    ParseStatus status = ParseStatus::error;
    RtspError error = RtspError::none;
    RtspMessage message;
};

// Parses one RTSP message at the start of `data` (a TCP stream buffer). `incomplete` when
// the header block or the body (Content-Length) is not all there yet. Lines may end in CRLF
// or bare LF; empty lines before the start line are skipped and counted in `length`. A
// prefix of a valid message is never an error; a stream whose first byte cannot start a
// message (binary, or a '$' frame not taken off with interleaved_frame_length) is an error at
// once. `length` is 0 unless complete; on error the fields parsed so far (e.g. CSeq, for an
// error reply) are filled.
RtspParseResult parse_rtsp_message(std::string_view data, const RtspLimits& limits = {}) noexcept;

// An interleaved binary frame on the control connection ("$" channel len16 data).
// Returns the frame's total length, 0 if `data` does not start with '$', or
// std::string_view::npos if the frame is not complete yet.
size_t interleaved_frame_length(std::string_view data) noexcept;

// One transport spec of a `Transport:` header (specs are separated by ',').
struct RtspTransportSpec {
    bool tcp = false;            // RTP/AVP/TCP (lower transport TCP)
    bool interleaved = false;    // interleaved=a-b: media rides the control connection
    bool multicast = false;
    uint16_t client_rtp = 0, client_rtcp = 0;  // client_port=a-b (a-a or a alone: rtcp = a+1)
    uint16_t server_rtp = 0, server_rtcp = 0;  // server_port=c-d
    IpAddress destination{};     // destination=addr, unset when absent
};

inline constexpr size_t kMaxTransportSpecs = 8;

struct RtspTransport {
    std::array<RtspTransportSpec, kMaxTransportSpecs> specs{};
    size_t count = 0;
    bool truncated = false;      // more than kMaxTransportSpecs specs: the rest are ignored
};

// Parses a Transport header value into `out` (reset first). The protocol is RTP/AVP, or its
// SAVP/AVPF/SAVPF variants, with lower transport UDP (default) or TCP, case-insensitive.
// `error` for a spec with an unknown protocol, a malformed or reversed port range (b < a), a
// port of 0 / above 65535, or an interleaved channel above 255, and for a value with no spec
// at all; such a spec is skipped and the valid specs before and after it are kept in `out`.
// Unknown parameters are ignored; an unparsable destination leaves it unset.
ParseStatus parse_rtsp_transport(std::string_view value, RtspTransport& out) noexcept;

}  // namespace sara
