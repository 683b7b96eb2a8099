// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/sip_reject.hpp"

#include <cstdio>
#include <functional>

#include "common/proto/sip_headers.hpp"
#include "common/proto/text.hpp"

namespace sara {
namespace {

bool has_tag(std::string_view to) {
    // ";tag=" as a header parameter: after the URI's closing '>' when there is one.
    const size_t close = to.find('>');
    const std::string_view params = close == std::string_view::npos ? to : to.substr(close);
    for (size_t i = params.find(';'); i != std::string_view::npos; i = params.find(';', i + 1))
        if (text::istarts_with(text::trim(params.substr(i + 1)), "tag=")) return true;
    return false;
}

}  // namespace

std::optional<std::string> sip_503_response(const SipMessage& request, std::chrono::seconds retry_after) {
    if (!request.is_request || request.method == "ACK") return std::nullopt;
    std::string vias, from, to, call_id, cseq;
    for_each_sip_header(request.header_block, [&](const SipHeaderField& h) {
        switch (h.header) {
            case SipHeader::via: vias += "Via: " + unfold_sip_value(h.value) + "\r\n"; break;
            case SipHeader::from: if (from.empty()) from = unfold_sip_value(h.value); break;
            case SipHeader::to: if (to.empty()) to = unfold_sip_value(h.value); break;
            case SipHeader::call_id: if (call_id.empty()) call_id = unfold_sip_value(h.value); break;
            case SipHeader::cseq: if (cseq.empty()) cseq = unfold_sip_value(h.value); break;
            default: break;
        }
    });
    if (vias.empty() || from.empty() || to.empty() || call_id.empty() || cseq.empty()) return std::nullopt;
    if (!has_tag(to)) {
        // Stateless, yet the same for every retransmission: derived from the Call-ID.
        char tag[24];
        std::snprintf(tag, sizeof tag, ";tag=sara%08zx", std::hash<std::string>{}(call_id) & 0xffffffffu);
        to += tag;
    }
    std::string out = "SIP/2.0 503 Service Unavailable\r\n" + vias + "From: " + from + "\r\nTo: " + to +
                      "\r\nCall-ID: " + call_id + "\r\nCSeq: " + cseq + "\r\n";
    if (retry_after.count() > 0) out += "Retry-After: " + std::to_string(retry_after.count()) + "\r\n";
    out += "Content-Length: 0\r\n\r\n";
    return out;
}

}  // namespace sara
