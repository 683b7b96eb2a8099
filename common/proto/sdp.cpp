// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/proto/sdp.hpp"

#include "common/proto/text.hpp"

namespace sara {
namespace {

// "IN IP4 198.18.1.2" or "IN IP6 2001:db8::1" (a multicast "/ttl" suffix is dropped).
bool parse_connection(std::string_view value, IpAddress& out) {
    std::string_view rest = value;
    const std::string_view net = text::split_token(rest, ' ');
    const std::string_view family = text::split_token(rest, ' ');
    std::string_view addr = text::trim(rest);
    if (net != "IN" || (family != "IP4" && family != "IP6")) return false;
    addr = addr.substr(0, addr.find('/'));
    const auto parsed = IpAddress::parse(addr);
    if (!parsed) return false;
    if ((family == "IP4") != parsed->is_v4()) return false;
    out = *parsed;
    return true;
}

// "audio 49170 RTP/AVP 0" or "video 49170/2 RTP/AVP 31".
bool parse_media(std::string_view value, SdpMedia& out) {
    std::string_view rest = value;
    out.type = text::split_token(rest, ' ');
    std::string_view port_text = text::split_token(rest, ' ');
    port_text = port_text.substr(0, port_text.find('/'));
    const auto port = text::parse_decimal(port_text, 65535);
    if (out.type.empty() || !port) return false;
    out.rtp_port = uint16_t(*port);
    out.rtcp_port = (out.rtp_port == 0 || out.rtp_port == 65535) ? 0 : uint16_t(out.rtp_port + 1);
    return true;
}

// "rtcp:53020" or "rtcp:53020 IN IP4 126.16.64.4".
bool parse_rtcp(std::string_view value, SdpMedia& media) {
    std::string_view rest = value;
    const auto port = text::parse_port(text::split_token(rest, ' '));
    if (!port) return false;
    media.rtcp_port = *port;
    return true;
}

}  // namespace

const char* to_string(SdpError e) {
    switch (e) {
        case SdpError::none: return "none";
        case SdpError::bad_media_line: return "bad_media_line";
        case SdpError::bad_connection_line: return "bad_connection_line";
        case SdpError::bad_rtcp_attribute: return "bad_rtcp_attribute";
    }
    return "unknown";
}

SdpParseResult parse_sdp(std::string_view body, SdpSummary& out) {
    out = SdpSummary{};
    IpAddress session_address;
    SdpMedia* current = nullptr;  // null while in the session section or after truncation
    bool in_media = false;
    std::string_view rest = body;
    std::string_view line;
    for (;;) {
        if (!text::next_line(rest, line)) {
            if (rest.empty()) break;
            line = rest;  // last line without a terminator
            rest = {};
        }
        if (line.size() < 2 || line[1] != '=') continue;  // tolerate blank or odd lines
        const std::string_view value = line.substr(2);
        switch (line[0]) {
            case 'm':
                in_media = true;
                if (out.media_count == kMaxSdpMedia) {
                    out.truncated = true;
                    current = nullptr;
                    break;
                }
                current = &out.media[out.media_count];
                if (!parse_media(value, *current)) return {ParseStatus::error, SdpError::bad_media_line};
                current->address = session_address;
                ++out.media_count;
                break;
            case 'c': {
                IpAddress address;
                if (!parse_connection(value, address)) return {ParseStatus::error, SdpError::bad_connection_line};
                if (!in_media) session_address = address;
                else if (current) current->address = address;
                break;
            }
            case 'a':
                if (current && text::istarts_with(value, "rtcp:") &&
                    !parse_rtcp(value.substr(5), *current))
                    return {ParseStatus::error, SdpError::bad_rtcp_attribute};
                break;
            default: break;
        }
        if (rest.empty()) break;
    }
    return {ParseStatus::complete, SdpError::none};
}

}  // namespace sara
