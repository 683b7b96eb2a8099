// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the SIP parser: the input is parsed as one datagram and walked as a
// TCP stream (each message consumed by its length), under the default limits and under tiny
// ones that put every bound in reach. Every body goes through parse_sdp. Invariants are
// checked with __builtin_trap so a violation is a crash libFuzzer keeps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/proto/sdp.hpp"
#include "common/proto/sip.hpp"
#include "common/proto/sip_headers.hpp"

namespace {

using sara::ParseStatus;
using sara::SipError;
using sara::SipFraming;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_sdp(std::string_view body) {
    sara::SdpSummary s;
    const sara::SdpParseResult r = sara::parse_sdp(body, s);
    check(r.status != ParseStatus::incomplete);
    check((r.status == ParseStatus::complete) == (r.error == sara::SdpError::none));
    check(s.media_count <= sara::kMaxSdpMedia);
    for (size_t i = 0; i < s.media_count; ++i) check(points_into(s.media[i].type, body));
}

void check_message(std::string_view data, SipFraming framing, const sara::SipLimits& limits,
                   const sara::SipParseResult& r) {
    const sara::SipMessage& m = r.message;
    check(sara::to_string(r.error) != nullptr);
    if (r.status != ParseStatus::complete) {
        check((r.status == ParseStatus::error) == (r.error != SipError::none));
        check(m.length == 0 && m.body.empty() && m.call_id.empty());
        return;
    }
    check(r.error == SipError::none);
    check(m.length > 0 && m.length <= data.size());
    const std::string_view whole = data.substr(0, m.length);
    check(m.is_request ? (!m.method.empty() && m.status_code == 0)
                       : (m.method.empty() && m.status_code >= 100 && m.status_code <= 699));
    for (const std::string_view part : {m.method, m.call_id, m.cseq_method, m.content_type, m.body})
        check(points_into(part, whole));
    // The body is the tail of the message; the header block stays within its bound.
    check(m.body.empty() || m.body.data() + m.body.size() == whole.data() + whole.size());
    check(m.length - m.body.size() <= limits.max_header_bytes);
    check(m.call_id.size() <= limits.max_call_id);
    // The header block lies between the start line and the body, and every field the shared
    // reader gives back lies in it (each one already accepted by the parser: none is bad).
    check(points_into(m.header_block, whole));
    check(m.header_block.data() + m.header_block.size() <= whole.data() + (m.length - m.body.size()));
    size_t call_ids = 0;
    sara::for_each_sip_header(m.header_block, [&](const sara::SipHeaderField& f) {
        check(points_into(f.field, m.header_block) && points_into(f.value, f.field) && points_into(f.name, f.field));
        check(f.value.empty() || f.name.empty() || f.name.data() + f.name.size() < f.value.data());  // name, ':', value
        check(sara::unfold_sip_value(f.value).size() <= f.value.size());
        call_ids += f.header == sara::SipHeader::call_id;
    });
    check(m.call_id.empty() || call_ids > 0);
    // On a stream the body only ever comes from a Content-Length, which is bounded.
    if (framing == SipFraming::stream) check(m.body.size() <= limits.max_body_bytes);
    check_sdp(m.body);
}

void check_limits(std::string_view data, const sara::SipLimits& limits) {
    for (const SipFraming framing : {SipFraming::datagram, SipFraming::stream}) {
        const sara::SipParseResult r = sara::parse_sip_message(data, framing, limits);
        check_message(data, framing, limits, r);
    }

    // A stream walked message by message, the way the session identifier reads a connection.
    std::string_view rest = data;
    while (!rest.empty()) {
        const sara::SipParseResult r = sara::parse_sip_message(rest, SipFraming::stream, limits);
        check_message(rest, SipFraming::stream, limits, r);
        if (r.status != ParseStatus::complete) break;
        // Split before its last byte the message must wait for more, and exactly cut it
        // parses the same: what a reader holding a partial segment sees.
        const std::string_view whole = rest.substr(0, r.message.length);
        const sara::SipParseResult cut = sara::parse_sip_message(whole, SipFraming::stream, limits);
        check(cut.status == ParseStatus::complete && cut.message.length == whole.size() &&
              cut.message.call_id == r.message.call_id && cut.message.body == r.message.body);
        const sara::SipParseResult short_by_one =
            sara::parse_sip_message(whole.substr(0, whole.size() - 1), SipFraming::stream, limits);
        check(short_by_one.status == ParseStatus::incomplete);
        // Cut anywhere in its header block (a TCP segment may end there), it must wait too:
        // a value whose fold has not arrived yet is no bad value.
        const size_t block_at = size_t(r.message.header_block.data() - whole.data());
        for (const size_t n : {block_at, block_at + r.message.header_block.size() / 3,
                               block_at + r.message.header_block.size() / 2, block_at + r.message.header_block.size() - 1}) {
            if (n >= whole.size()) continue;
            check(sara::parse_sip_message(whole.substr(0, n), SipFraming::stream, limits).status == ParseStatus::incomplete);
        }
        rest.remove_prefix(r.message.length);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_limits(input, sara::SipLimits{});
    check_limits(input, sara::SipLimits{.max_header_bytes = 256, .max_body_bytes = 7, .max_call_id = 12});
    return 0;
}
