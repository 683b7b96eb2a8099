// SPDX-License-Identifier: GPL-2.0-or-later
// RTSP message and Transport parsing. One forward pass over the caller's bytes: no
// allocation, no exceptions, every index checked against the view it reads, and work
// bounded by max_header_bytes for the header block (the body is only measured, not read).
#include "common/proto/rtsp.hpp"

#include "common/proto/text.hpp"
#include "common/util/byte_order.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace sara {

namespace {

using text::iequals;
using text::parse_decimal;
using text::trim;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 7230 tchar: what a method or a header name may be made of.
constexpr bool is_tchar(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            return true;
        default:
            return false;
    }
}

// A control byte other than HTAB. Inside a line this is never legitimate, and a bare CR in
// the middle of a line is how header-smuggling tricks start, so it is rejected outright.
constexpr bool is_forbidden_ctl(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

bool contains_forbidden_ctl(std::string_view s) { return std::any_of(s.begin(), s.end(), is_forbidden_ctl); }

bool contains_space(std::string_view s) { return std::any_of(s.begin(), s.end(), text::is_space); }

// Index of the first `sep` at or after `from` that is outside a double-quoted string, or
// s.size(). Quoting matters for Transport parameters such as mode="PLAY".
size_t find_unquoted(std::string_view s, char sep, size_t from) {
    bool quoted = false;
    for (size_t i = from; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        else if (s[i] == sep && !quoted) return i;
    }
    return s.size();
}

// --- message ------------------------------------------------------------------------------

struct Line {
    size_t begin = 0;       // offset of the line's first byte
    std::string_view text;  // the line without its LF and without one CR before it
    size_t next = 0;        // offset just past the LF
};

// The line starting at `pos`, if its LF lies inside `window`.
std::optional<Line> next_line(std::string_view window, size_t pos) {
    if (pos >= window.size()) return std::nullopt;
    const size_t lf = window.find('\n', pos);
    if (lf == std::string_view::npos) return std::nullopt;
    std::string_view content = window.substr(pos, lf - pos);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    return Line{pos, content, lf + 1};
}

constexpr std::string_view kVersionPrefix = "RTSP/1.";
constexpr size_t kVersionSize = kVersionPrefix.size() + 1;

bool is_rtsp_version(std::string_view s) {
    return s.size() == kVersionSize && s.substr(0, kVersionPrefix.size()) == kVersionPrefix && is_digit(s.back());
}

// "RTSP/1.x NNN reason" (the reason phrase may be absent).
bool parse_status_line(std::string_view line, RtspMessage& msg) {
    constexpr size_t code_at = kVersionSize + 1;
    if (line.size() < code_at + 3 || !is_rtsp_version(line.substr(0, kVersionSize)) || line[kVersionSize] != ' ')
        return false;
    const auto code = parse_decimal(line.substr(code_at, 3), 599);
    if (!code || *code < 100) return false;
    const std::string_view rest = line.substr(code_at + 3);
    if (!rest.empty() && (rest.front() != ' ' || contains_forbidden_ctl(rest))) return false;
    msg.is_request = false;
    msg.status_code = static_cast<int>(*code);
    return true;
}

// "METHOD uri RTSP/1.x", single spaces.
bool parse_request_line(std::string_view line, RtspMessage& msg) {
    const size_t first_sp = line.find(' ');
    const size_t last_sp = line.rfind(' ');
    if (first_sp == std::string_view::npos || first_sp == 0 || last_sp == first_sp) return false;
    const std::string_view method = line.substr(0, first_sp);
    const std::string_view uri = line.substr(first_sp + 1, last_sp - first_sp - 1);
    if (!std::all_of(method.begin(), method.end(), is_tchar)) return false;
    if (uri.empty() || !std::all_of(uri.begin(), uri.end(), [](char c) { return c != ' ' && !is_forbidden_ctl(c); }))
        return false;
    if (!is_rtsp_version(line.substr(last_sp + 1))) return false;
    msg.is_request = true;
    msg.method = method;
    msg.uri = uri;
    return true;
}

bool parse_start_line(std::string_view line, RtspMessage& msg) {
    if (line.substr(0, 5) == "RTSP/") return parse_status_line(line, msg);
    return parse_request_line(line, msg);
}

// Whether a start line may begin with this byte. '$' is a tchar, but at the start of a
// message it is an interleaved frame the caller should have taken off first.
constexpr bool can_start_message(char c) { return is_tchar(c) && c != '$'; }

// What the header pass remembers between header lines.
struct HeaderState {
    bool has_content_length = false;
    uint64_t content_length = 0;
    bool has_session = false;
    bool has_transport = false;
};

// Applies one complete (possibly folded) header. `value` is the raw text after the colon.
RtspError apply_header(std::string_view name, std::string_view value, const RtspLimits& limits,
                       RtspMessage& msg, HeaderState& state) {
    value = trim(value);
    if (iequals(name, "CSeq")) {
        const auto cseq = parse_decimal(value, std::numeric_limits<uint32_t>::max());
        if (!cseq || (msg.has_cseq && msg.cseq != *cseq)) return RtspError::bad_cseq;
        msg.has_cseq = true;
        msg.cseq = static_cast<uint32_t>(*cseq);
    } else if (iequals(name, "Content-Length")) {
        // Bounded by 32 bits as well, so a huge max_body_bytes cannot make length overflow.
        const uint64_t max = std::min<uint64_t>(limits.max_body_bytes, std::numeric_limits<uint32_t>::max());
        const auto length = parse_decimal(value, max);
        if (!length || (state.has_content_length && state.content_length != *length))
            return RtspError::bad_content_length;
        state.has_content_length = true;
        state.content_length = *length;
    } else if (iequals(name, "Session")) {
        const std::string_view id = trim(value.substr(0, value.find(';')));
        if (id.size() > limits.max_session_id) return RtspError::session_id_too_long;
        // Two different ids in one message would let the balancer and the server pick
        // different sessions, so that is refused like a malformed header.
        if (contains_space(id) || (state.has_session && msg.session_id != id)) return RtspError::bad_header;
        state.has_session = true;
        msg.session_id = id;
    } else if (iequals(name, "Transport")) {
        if (!state.has_transport) msg.transport = value;
        state.has_transport = true;
    }
    return RtspError::none;
}

}  // namespace

const char* to_string(RtspError e) {
    switch (e) {
        case RtspError::none: return "none";
        case RtspError::bad_start_line: return "bad_start_line";
        case RtspError::header_too_large: return "header_too_large";
        case RtspError::bad_header: return "bad_header";
        case RtspError::bad_content_length: return "bad_content_length";
        case RtspError::bad_cseq: return "bad_cseq";
        case RtspError::session_id_too_long: return "session_id_too_long";
    }
    return "unknown";
}

RtspParseResult parse_rtsp_message(std::string_view data, const RtspLimits& limits) noexcept {
    RtspParseResult result;
    RtspMessage& msg = result.message;
    // Everything up to and including the blank line must lie in this window.
    const std::string_view window = data.substr(0, std::min(data.size(), limits.max_header_bytes));

    const auto fail = [&](RtspError error) {
        result.status = ParseStatus::error;
        result.error = error;
        msg.length = 0;
        return result;
    };
    // No blank line in the window: wait for more bytes unless the window is already full.
    const auto need_more = [&] {
        if (data.size() >= limits.max_header_bytes) return fail(RtspError::header_too_large);
        result.status = ParseStatus::incomplete;
        return result;
    };

    // RFC 7230 §3.5: empty lines before the start line are skipped (a keep-alive CRLF, or
    // the CRLF some clients add after a body). They count towards `length`.
    size_t pos = 0;
    std::optional<Line> line;
    for (;;) {
        // Reject a stream that cannot be RTSP at its first byte, not after max_header_bytes.
        if (pos < window.size() && window[pos] != '\r' && window[pos] != '\n' && !can_start_message(window[pos]))
            return fail(RtspError::bad_start_line);
        line = next_line(window, pos);
        if (!line) return need_more();
        if (!line->text.empty()) break;
        pos = line->next;
    }
    if (!parse_start_line(line->text, msg)) return fail(RtspError::bad_start_line);
    pos = line->next;

    // A header is applied only once the first byte of the next line shows that it is not
    // folded any further, so a prefix of a valid message never reports an error.
    HeaderState state;
    std::string_view pending_name;
    size_t pending_value_begin = 0, pending_value_end = 0;
    bool pending = false;
    size_t header_end = 0;
    for (;;) {
        if (pos >= window.size()) return need_more();
        const bool folded = window[pos] == ' ' || window[pos] == '\t';
        if (pending && !folded) {
            const std::string_view value = data.substr(pending_value_begin, pending_value_end - pending_value_begin);
            if (const RtspError e = apply_header(pending_name, value, limits, msg, state); e != RtspError::none)
                return fail(e);
            pending = false;
        }
        line = next_line(window, pos);
        if (!line) return need_more();
        pos = line->next;
        if (line->text.empty()) {
            header_end = pos;
            break;
        }
        if (contains_forbidden_ctl(line->text)) return fail(RtspError::bad_header);
        if (folded) {
            if (!pending) return fail(RtspError::bad_header);  // nothing to continue
            pending_value_end = line->begin + line->text.size();
            continue;
        }
        const size_t colon = line->text.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail(RtspError::bad_header);
        pending_name = line->text.substr(0, colon);
        // No space before the colon either (RFC 7230 §3.2.4): it is a smuggling vector.
        if (!std::all_of(pending_name.begin(), pending_name.end(), is_tchar)) return fail(RtspError::bad_header);
        pending_value_begin = line->begin + colon + 1;
        pending_value_end = line->begin + line->text.size();
        pending = true;
    }

    // content_length <= 2^32 - 1 and header_end <= data.size(), so this cannot overflow.
    const size_t total = header_end + static_cast<size_t>(state.content_length);
    if (total > data.size()) {
        result.status = ParseStatus::incomplete;
        return result;
    }
    msg.body = data.substr(header_end, static_cast<size_t>(state.content_length));
    msg.length = total;
    result.status = ParseStatus::complete;
    return result;
}

size_t interleaved_frame_length(std::string_view data) noexcept {
    if (data.empty() || data[0] != '$') return 0;
    constexpr size_t kFrameHeader = 4;  // '$', channel, 16-bit length in network order
    if (data.size() < kFrameHeader) return std::string_view::npos;
    const size_t payload = read_be16(reinterpret_cast<const uint8_t*>(data.data()) + 2);
    const size_t total = kFrameHeader + payload;
    return data.size() < total ? std::string_view::npos : total;
}

// --- Transport ----------------------------------------------------------------------------

namespace {

// "RTP/profile[/lower]": the profile is AVP or one of its secure/feedback variants (RFC 3711,
// 4585, 5124), which keep the same port parameters; lower transport UDP (default) or TCP.
bool parse_transport_protocol(std::string_view token, RtspTransportSpec& spec) {
    const size_t slash1 = token.find('/');
    if (slash1 == std::string_view::npos || !iequals(token.substr(0, slash1), "RTP")) return false;
    const std::string_view rest = token.substr(slash1 + 1);
    const size_t slash2 = rest.find('/');
    const std::string_view profile = rest.substr(0, slash2);
    if (!iequals(profile, "AVP") && !iequals(profile, "SAVP") && !iequals(profile, "AVPF") &&
        !iequals(profile, "SAVPF"))
        return false;
    if (slash2 == std::string_view::npos) return true;
    const std::string_view lower = rest.substr(slash2 + 1);
    if (iequals(lower, "TCP")) spec.tcp = true;
    else if (!iequals(lower, "UDP")) return false;
    return true;
}

struct NumberRange {
    uint16_t first = 0;
    std::optional<uint16_t> last;  // absent for a single number
};

// "a-b" or "a", each number in [min, max], b >= a.
std::optional<NumberRange> parse_range(std::string_view token, uint16_t min, uint16_t max) {
    const size_t dash = token.find('-');
    const auto first = parse_decimal(trim(token.substr(0, dash)), max);
    if (!first || *first < min) return std::nullopt;
    NumberRange range{static_cast<uint16_t>(*first), std::nullopt};
    if (dash == std::string_view::npos) return range;
    const auto last = parse_decimal(trim(token.substr(dash + 1)), max);
    if (!last || *last < *first) return std::nullopt;
    range.last = static_cast<uint16_t>(*last);
    return range;
}

// client_port / server_port: RTCP is b, or a+1 when b is absent or equal to a.
bool parse_port_pair(std::string_view token, uint16_t& rtp, uint16_t& rtcp) {
    const auto range = parse_range(token, 1, 65535);
    if (!range) return false;
    const uint32_t second = (range->last && *range->last != range->first) ? *range->last : range->first + 1u;
    if (second > 65535) return false;
    rtp = range->first;
    rtcp = static_cast<uint16_t>(second);
    return true;
}

// One spec "protocol;param;param=value...". False when the spec is malformed.
bool parse_transport_spec(std::string_view spec_text, RtspTransportSpec& spec) {
    size_t pos = find_unquoted(spec_text, ';', 0);
    if (!parse_transport_protocol(trim(spec_text.substr(0, pos)), spec)) return false;
    while (pos < spec_text.size()) {
        const size_t begin = pos + 1;
        pos = find_unquoted(spec_text, ';', begin);
        const std::string_view param = trim(spec_text.substr(begin, pos - begin));
        const size_t eq = param.find('=');
        const std::string_view name = trim(param.substr(0, eq));
        const bool has_value = eq != std::string_view::npos;
        const std::string_view value = has_value ? trim(param.substr(eq + 1)) : std::string_view{};
        if (iequals(name, "unicast")) {
            spec.multicast = false;
        } else if (iequals(name, "multicast")) {
            spec.multicast = true;
        } else if (iequals(name, "interleaved")) {
            if (!has_value || !parse_range(value, 0, 255)) return false;
            spec.interleaved = true;
        } else if (iequals(name, "client_port")) {
            if (!has_value || !parse_port_pair(value, spec.client_rtp, spec.client_rtcp)) return false;
        } else if (iequals(name, "server_port")) {
            if (!has_value || !parse_port_pair(value, spec.server_rtp, spec.server_rtcp)) return false;
        } else if (iequals(name, "destination")) {
            if (const auto address = IpAddress::parse(value)) spec.destination = *address;
        }
        // Anything else (ttl, ssrc, mode, port, source, layers, append, ...) is ignored.
    }
    return true;
}

}  // namespace

ParseStatus parse_rtsp_transport(std::string_view value, RtspTransport& out) noexcept {
    out = RtspTransport{};
    bool malformed = false;
    bool any_spec = false;
    size_t pos = 0;
    while (pos <= value.size()) {
        const size_t end = find_unquoted(value, ',', pos);
        const std::string_view spec_text = trim(value.substr(pos, end - pos));
        pos = end + 1;
        if (spec_text.empty()) continue;  // "a,,b" or a trailing comma
        any_spec = true;
        RtspTransportSpec spec;
        if (!parse_transport_spec(spec_text, spec)) {
            malformed = true;
            continue;
        }
        if (out.count == kMaxTransportSpecs) {
            out.truncated = true;
            break;
        }
        out.specs[out.count++] = spec;
    }
    return (malformed || !any_spec) ? ParseStatus::error : ParseStatus::complete;
}

}  // namespace sara
