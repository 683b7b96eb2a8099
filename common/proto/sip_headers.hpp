// SPDX-License-Identifier: GPL-2.0-or-later
// The one reader of SIP header fields (RFC 3261 §7.3): the parser (sip.cpp), the dispatcher's
// 503 (daemon/dispatch/sip_reject) and sip-loadgen (tests/loadgen/sip_fields) all walk a
// message's header block with it, so folding, compact names and bad lines are handled once.
// Zero-copy: views into the caller's buffer. Never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/proto/text.hpp"

namespace sara {

// The headers someone in SARA reads; compact forms (RFC 3261 §7.3.3) map to the same value.
enum class SipHeader : uint8_t {
    other,
    via,             // v
    from,            // f
    to,              // t
    call_id,         // i
    cseq,
    contact,         // m
    record_route,
    content_length,  // l
    content_type,    // c
};
SipHeader classify_sip_header(std::string_view name);  // `name` trimmed, any case

struct SipHeaderField {
    SipHeader header = SipHeader::other;
    std::string_view name;   // as written, trimmed
    std::string_view value;  // trimmed; a folded value spans its continuation lines, line ends included
    std::string_view field;  // the whole field, from its name to the end of its last line (no line end)
};

// Walks the header lines of a message: give it the text right after the start line.
class SipHeaderCursor {
public:
    enum class Step : uint8_t {
        field,       // `out` holds the next field
        end,         // the blank line that ends the block was read; rest() is the body
        incomplete,  // the text ended inside the block (no blank line yet; a field is given
                     // only once the line after it has begun, as a fold may extend it)
        bad,         // a line without ':' or a continuation line before any field
    };

    explicit SipHeaderCursor(std::string_view after_start_line) : rest_(after_start_line) {}

    Step next(SipHeaderField& out);
    // What follows the block once next() returned `end`.
    std::string_view rest() const { return rest_; }

private:
    std::string_view rest_;
};

// Inline: the parser calls it for every header of every signalling packet.
inline SipHeaderCursor::Step SipHeaderCursor::next(SipHeaderField& out) {
    std::string_view line;
    if (!text::next_line(rest_, line)) return Step::incomplete;
    if (line.empty()) return Step::end;
    // A continuation here has no field to extend (the previous field took its own).
    if (line.front() == ' ' || line.front() == '\t') return Step::bad;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Step::bad;
    std::string_view field = line;
    // Folded continuation lines (RFC 3261 §7.3.1) belong to this field. A field is whole only
    // once the line after it has begun and is no continuation: on a TCP stream cut there, the
    // rest of its value may still come (the parser must wait, not judge a partial value).
    for (;;) {
        if (rest_.empty()) return Step::incomplete;
        if (rest_.front() != ' ' && rest_.front() != '\t') break;
        std::string_view ahead = rest_, next;
        if (!text::next_line(ahead, next)) return Step::incomplete;
        field = std::string_view(field.data(), size_t(next.data() + next.size() - field.data()));
        rest_ = ahead;
    }
    out.name = text::trim(line.substr(0, colon));
    out.header = classify_sip_header(out.name);
    out.value = text::trim(field.substr(colon + 1));
    out.field = field;
    return Step::field;
}

// Calls fn(const SipHeaderField&) for each field of a header block that the parser accepted
// (SipMessage::header_block: the header lines and the blank line that ends them).
template <typename Fn>
void for_each_sip_header(std::string_view header_block, Fn&& fn) {
    SipHeaderCursor cursor(header_block);
    SipHeaderField field;
    while (cursor.next(field) == SipHeaderCursor::Step::field) fn(field);
}

// A folded value as one line: each line end with the whitespace around it becomes one space.
std::string unfold_sip_value(std::string_view value);

}  // namespace sara
