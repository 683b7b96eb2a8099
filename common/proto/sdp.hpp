// SPDX-License-Identifier: GPL-2.0-or-later
// The parts of an SDP body (RFC 4566) that announce media flows: connection addresses
// (`c=`, session and media level), media lines (`m=`, several, port 0 = disabled) and
// `a=rtcp:` (RFC 3605); without it RTCP is RTP + 1. Zero-copy and allocation-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/net/ip_address.hpp"
#include "common/util/parse_status.hpp"

namespace sara {

struct SdpMedia {
    std::string_view type;  // "audio", "video", "application", ... (unknown kept as is)
    IpAddress address;      // media-level c= if present, else session-level c=; may be unset
    uint16_t rtp_port = 0;  // 0 = stream disabled (RFC 3264)
    uint16_t rtcp_port = 0; // a=rtcp: value, else rtp_port + 1 (0 when rtp_port is 0 or 65535)
};

inline constexpr size_t kMaxSdpMedia = 8;

struct SdpSummary {
    std::array<SdpMedia, kMaxSdpMedia> media{};
    size_t media_count = 0;
    bool truncated = false;  // more than kMaxSdpMedia m= lines; the rest are ignored
};

enum class SdpError : uint8_t { none, bad_media_line, bad_connection_line, bad_rtcp_attribute };
const char* to_string(SdpError e);

struct SdpParseResult {
    ParseStatus status = ParseStatus::error;  // complete or error, never incomplete
    SdpError error = SdpError::none;
};

SdpParseResult parse_sdp(std::string_view body, SdpSummary& out);

}  // namespace sara
