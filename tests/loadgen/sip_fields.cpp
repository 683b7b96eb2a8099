// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/sip_fields.hpp"

#include "common/proto/text.hpp"

namespace sara::loadgen {
namespace {

enum class Kept { none, via, from, to, call_id, cseq, record_route, contact };

Kept classify(std::string_view name) {
    if (name.size() == 1) {
        switch (text::lower(name[0])) {
            case 'v': return Kept::via;
            case 'f': return Kept::from;
            case 't': return Kept::to;
            case 'i': return Kept::call_id;
            case 'm': return Kept::contact;
            default: return Kept::none;
        }
    }
    if (text::iequals(name, "via")) return Kept::via;
    if (text::iequals(name, "from")) return Kept::from;
    if (text::iequals(name, "to")) return Kept::to;
    if (text::iequals(name, "call-id")) return Kept::call_id;
    if (text::iequals(name, "cseq")) return Kept::cseq;
    if (text::iequals(name, "record-route")) return Kept::record_route;
    if (text::iequals(name, "contact")) return Kept::contact;
    return Kept::none;
}

std::string_view uri_of(std::string_view contact_value) {
    const size_t open = contact_value.find('<');
    if (open != std::string_view::npos) {
        const size_t close = contact_value.find('>', open);
        if (close == std::string_view::npos) return {};
        return contact_value.substr(open + 1, close - open - 1);
    }
    return text::trim(contact_value.substr(0, contact_value.find(';')));
}

// Extends `line` (a view into `all`) to the end of `continuation`, which follows it.
std::string_view extend(std::string_view line, std::string_view continuation) {
    return {line.data(), size_t(continuation.data() + continuation.size() - line.data())};
}

}  // namespace

std::string_view header_value(std::string_view line) {
    const size_t colon = line.find(':');
    return colon == std::string_view::npos ? std::string_view{} : text::trim(line.substr(colon + 1));
}

FieldsResult read_fields(std::string_view datagram) {
    FieldsResult r;
    const SipParseResult parsed = parse_sip_message(datagram, SipFraming::datagram);
    if (parsed.status != ParseStatus::complete) {
        r.error = to_string(parsed.error);
        return r;
    }
    SipFields& f = r.fields;
    f.message = parsed.message;
    std::string_view rest = datagram.substr(0, parsed.message.length), line;
    text::next_line(rest, line);  // the start line, checked by the parser
    std::string_view* last = nullptr;  // the kept line a continuation extends
    while (text::next_line(rest, line) && !line.empty()) {
        if (line.front() == ' ' || line.front() == '\t') {
            if (last) *last = extend(*last, line);
            continue;
        }
        last = nullptr;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            r.error = "header without colon";
            return r;
        }
        switch (classify(text::trim(line.substr(0, colon)))) {
            case Kept::none: break;
            case Kept::via:
                if (f.via_count == kMaxVias) {
                    r.error = "too many Via headers";
                    return r;
                }
                last = &f.via_lines[f.via_count++];
                break;
            case Kept::record_route:
                if (f.record_route_count == kMaxRecordRoutes) {
                    r.error = "too many Record-Route headers";
                    return r;
                }
                last = &f.record_route_lines[f.record_route_count++];
                break;
            case Kept::from: last = &f.from_line; break;
            case Kept::to: last = &f.to_line; break;
            case Kept::call_id: last = &f.call_id_line; break;
            case Kept::cseq: last = &f.cseq_line; break;
            case Kept::contact: last = &f.contact_uri; break;  // reduced to the URI below
        }
        if (last) *last = line;
    }
    if (!f.contact_uri.empty()) f.contact_uri = uri_of(header_value(f.contact_uri));
    f.to_value = header_value(f.to_line);
    if (f.message.call_id.empty() || f.call_id_line.empty()) r.error = "no Call-ID";
    else if (f.cseq_line.empty() || f.message.cseq_method.empty()) r.error = "no CSeq";
    else if (f.from_line.empty() || f.to_line.empty()) r.error = "no From or To";
    else if (f.via_count == 0) r.error = "no Via";
    return r;
}

}  // namespace sara::loadgen
