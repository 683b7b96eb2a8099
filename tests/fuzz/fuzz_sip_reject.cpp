// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the stateless 503 builder (daemon/dispatch/sip_reject): any datagram
// sarad refuses goes through it, once parsed. Invariants: it never crashes, and whatever it answers is a
// complete SIP response that the SIP parser reads back as a 503 for the same Call-ID and CSeq.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/proto/sip.hpp"
#include "daemon/dispatch/sip_reject.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view request(reinterpret_cast<const char*>(data), size);
    // Parsed once, as the session identifier does before the pipeline hands the message on.
    const sara::SipParseResult in = sara::parse_sip_message(request, sara::SipFraming::datagram);
    if (in.status != sara::ParseStatus::complete) return 0;
    const auto response = sara::sip_503_response(in.message, std::chrono::seconds(5));
    if (!response) return 0;
    const sara::SipParseResult out = sara::parse_sip_message(*response, sara::SipFraming::datagram);
    if (out.status != sara::ParseStatus::complete || out.message.is_request || out.message.status_code != 503 ||
        out.message.length != response->size() || !in.message.is_request)
        __builtin_trap();
    return 0;
}
