// SPDX-License-Identifier: GPL-2.0-or-later
// What the outgoing direction (a node's replies, seen by the gateway or in a capture) tells
// the dispatcher: a compact summary of one SIP or RTSP message from a node. sarad's session
// identifier applies it to complete announced flows (DESIGN §8, KERNEL-NOTES snag 3).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/net/flow_key.hpp"
#include "common/proto/service.hpp"

namespace sara {

// One media stream of the node's side of a negotiation.
struct MediaHint {
    IpAddress client_address;  // unset for SIP: sarad pairs the hint with the client's offer
    uint16_t client_rtp = 0, client_rtcp = 0;
    uint16_t server_rtp = 0, server_rtcp = 0;  // the VIP ports the client sends to; 0 = disabled
};
inline constexpr size_t kMaxMediaHints = 8;

enum class SipMethod : uint8_t { none, invite, ack, bye, cancel, update, prack, other };
SipMethod sip_method_from(std::string_view name);

struct Announcement {
    ServiceProtocol protocol = ServiceProtocol::sip;
    std::string key;            // Call-ID or RTSP Session id
    bool has_control = false;
    FlowKey control;            // RTSP: the control connection as the client sends it
    // SIP: the message it summarises (requests from a node: re-INVITE, BYE; responses).
    bool is_request = false;
    SipMethod method = SipMethod::none;       // requests
    int status_code = 0;                      // responses (SIP and RTSP)
    SipMethod cseq_method = SipMethod::none;  // SIP responses: the request answered
    uint32_t cseq = 0;                        // RTSP: matches the reply to its request
    // Media, by position: SDP m= lines (port 0 kept, so positions match the offer) or the
    // reply's Transport specs.
    bool has_media = false;
    uint8_t media_count = 0;
    std::array<MediaHint, kMaxMediaHints> media{};
};

}  // namespace sara
