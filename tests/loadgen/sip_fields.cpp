// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/sip_fields.hpp"

#include "common/proto/sip_headers.hpp"
#include "common/proto/text.hpp"

namespace sara::loadgen {
namespace {

std::string_view uri_of(std::string_view contact_value) {
    const size_t open = contact_value.find('<');
    if (open != std::string_view::npos) {
        const size_t close = contact_value.find('>', open);
        if (close == std::string_view::npos) return {};
        return contact_value.substr(open + 1, close - open - 1);
    }
    return text::trim(contact_value.substr(0, contact_value.find(';')));
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
    const char* error = nullptr;
    for_each_sip_header(parsed.message.header_block, [&](const SipHeaderField& h) {
        switch (h.header) {
            case SipHeader::via:
                if (f.via_count == kMaxVias) error = "too many Via headers";
                else f.via_lines[f.via_count++] = h.field;
                break;
            case SipHeader::record_route:
                if (f.record_route_count == kMaxRecordRoutes) error = "too many Record-Route headers";
                else f.record_route_lines[f.record_route_count++] = h.field;
                break;
            case SipHeader::from: f.from_line = h.field; break;
            case SipHeader::to: f.to_line = h.field; break;
            case SipHeader::call_id: f.call_id_line = h.field; break;
            case SipHeader::cseq: f.cseq_line = h.field; break;
            case SipHeader::contact: f.contact_uri = h.field; break;  // reduced to the URI below
            default: break;
        }
    });
    if (error) {
        r.error = error;
        return r;
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
