// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/proto/sip.hpp"

#include <algorithm>

#include "common/proto/sip_headers.hpp"
#include "common/proto/text.hpp"

namespace sara {
namespace {

constexpr uint64_t kMaxCseq = 0xffffffffu;  // RFC 3261: CSeq is below 2^31, we accept 32 bits

bool parse_start_line(std::string_view line, SipMessage& m) {
    if (text::istarts_with(line, "SIP/2.0 ")) {
        std::string_view rest = line.substr(8);
        const std::string_view code = text::split_token(rest, ' ');
        const auto v = text::parse_decimal(code, 699);
        if (code.size() != 3 || !v || *v < 100) return false;
        m.is_request = false;
        m.status_code = int(*v);
        return true;
    }
    std::string_view rest = line;
    const std::string_view method = text::split_token(rest, ' ');
    const std::string_view uri = text::split_token(rest, ' ');
    if (method.empty() || uri.empty() || !text::iequals(rest, "SIP/2.0")) return false;
    // RFC 3261 token: alphanumerics and -.!%*_+`'~
    for (char c : method)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '!' || c == '%' || c == '*' || c == '_' || c == '+' || c == '`' || c == '\'' ||
              c == '~'))
            return false;
    m.is_request = true;
    m.method = method;
    return true;
}

struct HeaderState {
    bool have_length = false;
    uint64_t content_length = 0;
};

SipError apply_header(SipHeader h, std::string_view value, const SipLimits& limits, SipMessage& m,
                      HeaderState& st) {
    switch (h) {
        case SipHeader::call_id:
            if (value.size() > limits.max_call_id) return SipError::call_id_too_long;
            if (!m.call_id.empty() && m.call_id != value) return SipError::conflicting_call_id;
            m.call_id = value;
            return SipError::none;
        case SipHeader::cseq: {
            // Number and method are separated by LWS: spaces, tabs, or a fold (RFC 4475 wsinv).
            const size_t gap = std::min(value.find_first_of(" \t\r\n"), value.size());
            const auto number = text::parse_decimal(value.substr(0, gap), kMaxCseq);
            if (!number) return SipError::bad_cseq;
            m.cseq = uint32_t(*number);
            m.cseq_method = text::trim(value.substr(gap));
            return SipError::none;
        }
        case SipHeader::content_length: {
            const auto v = text::parse_decimal(value, limits.max_body_bytes);
            if (!v || (st.have_length && st.content_length != *v)) return SipError::bad_content_length;
            st.have_length = true;
            st.content_length = *v;
            return SipError::none;
        }
        case SipHeader::content_type: {
            std::string_view rest = value;
            m.content_type = text::trim(text::split_token(rest, ';'));
            return SipError::none;
        }
        default: return SipError::none;  // headers the parser does not need
    }
}

SipParseResult fail(SipError e) { return {ParseStatus::error, e, {}}; }

}  // namespace

const char* to_string(SipError e) {
    switch (e) {
        case SipError::none: return "none";
        case SipError::bad_start_line: return "bad_start_line";
        case SipError::header_too_large: return "header_too_large";
        case SipError::bad_header: return "bad_header";
        case SipError::bad_content_length: return "bad_content_length";
        case SipError::body_truncated: return "body_truncated";
        case SipError::call_id_too_long: return "call_id_too_long";
        case SipError::conflicting_call_id: return "conflicting_call_id";
        case SipError::bad_cseq: return "bad_cseq";
    }
    return "unknown";
}

bool SipMessage::has_sdp() const {
    if (body.empty()) return false;
    if (!content_type.empty()) return text::iequals(content_type, "application/sdp");
    return body.starts_with("v=");
}

SipParseResult parse_sip_message(std::string_view data, SipFraming framing, const SipLimits& limits) {
    SipParseResult r;
    SipMessage& m = r.message;
    // Only look for the end of the header block within the bound; beyond it the message is
    // too large, whatever follows.
    std::string_view rest = data.substr(0, limits.max_header_bytes);
    const bool bound_hit = data.size() > limits.max_header_bytes;
    std::string_view line;
    auto out_of_lines = [&]() -> SipParseResult {
        if (bound_hit) return fail(SipError::header_too_large);
        return {ParseStatus::incomplete, SipError::none, {}};
    };

    if (!text::next_line(rest, line)) return out_of_lines();
    if (!parse_start_line(line, m)) return fail(SipError::bad_start_line);

    HeaderState st;
    const char* const block = rest.data();
    SipHeaderCursor cursor(rest);
    SipHeaderField field;
    for (;;) {
        const SipHeaderCursor::Step step = cursor.next(field);
        if (step == SipHeaderCursor::Step::end) break;
        if (step == SipHeaderCursor::Step::incomplete) return out_of_lines();
        if (step == SipHeaderCursor::Step::bad) return fail(SipError::bad_header);
        if (const SipError e = apply_header(field.header, field.value, limits, m, st); e != SipError::none)
            return fail(e);
    }
    rest = cursor.rest();
    m.header_block = std::string_view(block, size_t(rest.data() - block));

    const size_t header_len = size_t(rest.data() - data.data());
    const size_t available = data.size() - header_len;
    size_t body_len;
    if (framing == SipFraming::datagram) {
        if (st.have_length && st.content_length > available) return fail(SipError::body_truncated);
        body_len = st.have_length ? size_t(st.content_length) : available;
    } else {
        body_len = size_t(st.content_length);  // absent on a stream: no body (lenient)
        if (body_len > available) return {ParseStatus::incomplete, SipError::none, {}};
    }
    m.body = data.substr(header_len, body_len);
    m.length = header_len + body_len;
    r.status = ParseStatus::complete;
    return r;
}

}  // namespace sara
