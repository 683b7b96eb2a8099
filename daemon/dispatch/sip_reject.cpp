// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/sip_reject.hpp"

#include <cstdio>
#include <functional>
#include <vector>

#include "common/proto/sip.hpp"
#include "common/proto/text.hpp"

namespace sara {
namespace {

struct Header {
    std::string name;   // canonical: Via, From, To, Call-ID, CSeq, or "" for the rest
    std::string value;  // unfolded, trimmed
};

std::string canonical_name(std::string_view name) {
    name = text::trim(name);
    if (text::iequals(name, "via") || text::iequals(name, "v")) return "Via";
    if (text::iequals(name, "from") || text::iequals(name, "f")) return "From";
    if (text::iequals(name, "to") || text::iequals(name, "t")) return "To";
    if (text::iequals(name, "call-id") || text::iequals(name, "i")) return "Call-ID";
    if (text::iequals(name, "cseq")) return "CSeq";
    return "";
}

// Header lines of the message head (after the start line, up to the blank line), unfolded.
std::vector<Header> read_headers(std::string_view head) {
    std::vector<Header> out;
    size_t pos = head.find('\n');
    while (pos != std::string_view::npos && pos + 1 < head.size()) {
        const size_t start = pos + 1;
        size_t end = head.find('\n', start);
        std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        if ((line.front() == ' ' || line.front() == '\t') && !out.empty()) {
            out.back().value += ' ';
            out.back().value += std::string(text::trim(line));
        } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
            out.push_back({canonical_name(line.substr(0, colon)), std::string(text::trim(line.substr(colon + 1)))});
        }
        pos = end;
    }
    return out;
}

bool has_tag(std::string_view to) {
    // ";tag=" as a header parameter: after the URI's closing '>' when there is one.
    const size_t close = to.find('>');
    const std::string_view params = close == std::string_view::npos ? to : to.substr(close);
    for (size_t i = params.find(';'); i != std::string_view::npos; i = params.find(';', i + 1))
        if (text::istarts_with(text::trim(params.substr(i + 1)), "tag=")) return true;
    return false;
}

}  // namespace

std::optional<std::string> sip_503_response(std::string_view request, std::chrono::seconds retry_after) {
    const SipParseResult parsed = parse_sip_message(request, SipFraming::datagram);
    if (parsed.status != ParseStatus::complete || !parsed.message.is_request || parsed.message.method == "ACK")
        return std::nullopt;
    const std::vector<Header> headers = read_headers(request.substr(0, parsed.message.length - parsed.message.body.size()));
    std::string vias, from, to, call_id, cseq;
    for (const Header& h : headers) {
        if (h.name == "Via") vias += "Via: " + h.value + "\r\n";
        else if (h.name == "From" && from.empty()) from = h.value;
        else if (h.name == "To" && to.empty()) to = h.value;
        else if (h.name == "Call-ID" && call_id.empty()) call_id = h.value;
        else if (h.name == "CSeq" && cseq.empty()) cseq = h.value;
    }
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
