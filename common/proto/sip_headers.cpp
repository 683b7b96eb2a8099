// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/proto/sip_headers.hpp"

#include "common/proto/text.hpp"

namespace sara {

SipHeader classify_sip_header(std::string_view name) {
    if (name.size() == 1) {
        switch (text::lower(name[0])) {
            case 'v': return SipHeader::via;
            case 'f': return SipHeader::from;
            case 't': return SipHeader::to;
            case 'i': return SipHeader::call_id;
            case 'm': return SipHeader::contact;
            case 'l': return SipHeader::content_length;
            case 'c': return SipHeader::content_type;
            default: return SipHeader::other;
        }
    }
    // By length first: the parser classifies every header of every signalling packet.
    switch (name.size()) {
        case 2: return text::iequals(name, "to") ? SipHeader::to : SipHeader::other;
        case 3: return text::iequals(name, "via") ? SipHeader::via : SipHeader::other;
        case 4:
            if (text::iequals(name, "from")) return SipHeader::from;
            return text::iequals(name, "cseq") ? SipHeader::cseq : SipHeader::other;
        case 7:
            if (text::iequals(name, "call-id")) return SipHeader::call_id;
            return text::iequals(name, "contact") ? SipHeader::contact : SipHeader::other;
        case 12:
            if (text::iequals(name, "content-type")) return SipHeader::content_type;
            return text::iequals(name, "record-route") ? SipHeader::record_route : SipHeader::other;
        case 14: return text::iequals(name, "content-length") ? SipHeader::content_length : SipHeader::other;
        default: return SipHeader::other;
    }
}

std::string unfold_sip_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    std::string_view line;
    bool first = true;
    for (std::string_view rest = value;;) {
        const bool more = text::next_line(rest, line);
        if (!more) line = rest;
        line = text::trim(line);
        if (!line.empty()) {
            if (!first) out += ' ';
            out += line;
            first = false;
        }
        if (!more) break;
    }
    return out;
}

}  // namespace sara
