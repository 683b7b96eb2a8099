// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/messages.hpp"

#include <charconv>
#include <cstdio>

#include "common/proto/text.hpp"

namespace sara::loadgen {
namespace {

constexpr std::string_view kCallIdHost = "@sip-loadgen";

std::string hex32(uint32_t v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

// SDP names the address family and writes IPv6 addresses without brackets (RFC 4566 §5.7).
std::string sdp(const Endpoint& media, uint16_t media_port) {
    const std::string_view address_type = media.is_v6() ? "IN IP6 " : "IN IP4 ";
    std::string s = "v=0\r\no=sip-loadgen 1 1 ";
    s.append(address_type).append(media.host).append("\r\ns=-\r\nc=").append(address_type).append(media.host);
    s.append("\r\nt=0 0\r\nm=audio ");
    s.append(std::to_string(media_port)).append(" RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
    return s;
}

// The headers every request of a call shares after its start line: Via (with the
// transaction's branch), From, Call-ID.
void common_headers(std::string& out, const UacCall& c, char txn) {
    out.append("Via: SIP/2.0/UDP ");
    append_host_port(out, c.local);
    out.append(";branch=z9hG4bK-").append(hex32(c.run)).append("-").append(std::to_string(c.index));
    out.push_back('-');
    out.push_back(txn);
    out.append(";rport\r\nFrom: <sip:sip-loadgen@");
    append_host_port(out, c.local);
    out.append(">;tag=g").append(std::to_string(c.index)).append("\r\nCall-ID: ");
    out.append(call_id(c.run, c.index)).append("\r\n");
}

void tail(std::string& out, const UacCall& c, std::string_view content_type, std::string_view body) {
    out.append("Contact: <sip:sip-loadgen@");
    append_host_port(out, c.local);
    out.append(">\r\nMax-Forwards: 70\r\n");
    if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
}

void in_dialog(std::string& out, const UacCall& c, const Dialog& d, std::string_view method, char txn,
               std::string_view cseq) {
    out.clear();
    out.append(method).append(" ").append(d.request_uri).append(" SIP/2.0\r\n");
    common_headers(out, c, txn);
    out.append(d.routes);
    out.append("To: ").append(d.to_value).append("\r\nCSeq: ").append(cseq).append("\r\n");
    tail(out, c, {}, {});
}

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    return h;
}

void response_head(std::string& out, std::string_view status, const SipFields& req, bool add_tag,
                   bool record_route) {
    out.clear();
    out.append("SIP/2.0 ").append(status).append("\r\n");
    for (size_t i = 0; i < req.via_count; ++i) out.append(req.via_lines[i]).append("\r\n");
    if (record_route)
        for (size_t i = 0; i < req.record_route_count; ++i) out.append(req.record_route_lines[i]).append("\r\n");
    out.append(req.from_line).append("\r\n").append(req.to_line);
    // A To without a tag gets ours (every response of the UAS to this call: the same tag).
    if (add_tag && req.to_value.find(";tag=") == std::string_view::npos)
        out.append(";tag=").append(uas_tag(req.message.call_id));
    out.append("\r\n").append(req.call_id_line).append("\r\n").append(req.cseq_line).append("\r\n");
}

void response_tail(std::string& out, const Endpoint& contact, std::string_view body) {
    if (!contact.host.empty()) {
        out.append("Contact: <sip:");
        append_host_port(out, contact);
        out.append(">\r\n");
    }
    if (!body.empty()) out.append("Content-Type: application/sdp\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
}

}  // namespace

void append_host_port(std::string& out, const Endpoint& e) {
    if (e.is_v6()) out.append("[").append(e.host).append("]");
    else out.append(e.host);
    out.append(":").append(std::to_string(e.port));
}

std::string to_string(const Endpoint& e) {
    std::string out;
    append_host_port(out, e);
    return out;
}

std::string call_id(uint32_t run, uint64_t index) {
    return std::to_string(index) + "-" + hex32(run) + std::string(kCallIdHost);
}

std::optional<uint64_t> call_index(std::string_view id, uint32_t run) {
    const size_t dash = id.find('-');
    if (dash == std::string_view::npos || id.substr(dash + 1) != hex32(run) + std::string(kCallIdHost))
        return std::nullopt;
    const auto v = text::parse_decimal(id.substr(0, dash), UINT64_MAX);
    if (!v) return std::nullopt;
    return *v;
}

Dialog dialog_from(const SipFields& ok, std::string_view fallback_uri) {
    Dialog d;
    d.to_value = std::string(ok.to_value);
    d.request_uri = std::string(ok.contact_uri.empty() ? fallback_uri : ok.contact_uri);
    for (size_t i = ok.record_route_count; i-- > 0;)
        d.routes.append("Route: ").append(header_value(ok.record_route_lines[i])).append("\r\n");
    return d;
}

std::string invite_uri(const UacCall& c) {
    std::string uri = "sip:";
    uri.append(c.service).append("@");
    append_host_port(uri, c.target);
    return uri;
}

void build_invite(std::string& out, const UacCall& c) {
    out.clear();
    out.append("INVITE ").append(invite_uri(c)).append(" SIP/2.0\r\n");
    common_headers(out, c, 'i');
    out.append("To: <").append(invite_uri(c)).append(">\r\nCSeq: 1 INVITE\r\n");
    tail(out, c, "application/sdp", sdp(c.local, c.media_port));
}

void build_ack(std::string& out, const UacCall& c, const Dialog& d) { in_dialog(out, c, d, "ACK", 'a', "1 ACK"); }

void build_bye(std::string& out, const UacCall& c, const Dialog& d) { in_dialog(out, c, d, "BYE", 'b', "2 BYE"); }

void build_error_ack(std::string& out, const UacCall& c, std::string_view to_value) {
    Dialog d;
    d.request_uri = invite_uri(c);
    d.to_value = std::string(to_value);
    in_dialog(out, c, d, "ACK", 'i', "1 ACK");
}

std::string uas_tag(std::string_view call_id) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(call_id)));
    return buf;
}

void answer_request(UasAnswer& out, const SipFields& req, const Endpoint& contact, uint16_t media_port) {
    out.count = 0;
    const SipMessage& m = req.message;
    if (!m.is_request || m.method == "ACK") return;
    if (m.method == "INVITE") {
        response_head(out.response[0], "100 Trying", req, false, false);
        response_tail(out.response[0], {}, {});
        response_head(out.response[1], "200 OK", req, true, true);
        response_tail(out.response[1], contact, sdp(contact, media_port));
        out.count = 2;
        return;
    }
    const bool known = m.method == "BYE" || m.method == "OPTIONS" || m.method == "CANCEL";
    response_head(out.response[0], known ? "200 OK" : "501 Not Implemented", req, true, false);
    response_tail(out.response[0], {}, {});
    out.count = 1;
}

}  // namespace sara::loadgen
