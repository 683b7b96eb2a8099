// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the RTSP parser: the input is a control connection's byte stream,
// walked the way the gateway walks it (interleaved '$' frames and messages, each consumed by
// its length), under the default limits and under tiny ones that put every bound in reach.
// Each Transport found, and the raw input, also go through parse_rtsp_transport. Invariants
// are checked with __builtin_trap so a violation is a crash libFuzzer keeps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/proto/rtsp.hpp"

namespace {

using sara::ParseStatus;
using sara::RtspError;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_transport(std::string_view value) {
    sara::RtspTransport t;
    const ParseStatus status = parse_rtsp_transport(value, t);
    check(status != ParseStatus::incomplete);
    check(t.count <= sara::kMaxTransportSpecs);
    check(!t.truncated || t.count == sara::kMaxTransportSpecs);
    if (value.empty()) check(status == ParseStatus::error && t.count == 0);
    for (size_t i = 0; i < t.count; ++i) {
        const sara::RtspTransportSpec& s = t.specs[i];
        // A port pair is all or nothing, never 0, and RTCP never below RTP.
        check((s.client_rtp == 0) == (s.client_rtcp == 0));
        check((s.server_rtp == 0) == (s.server_rtcp == 0));
        check(s.client_rtcp >= s.client_rtp && s.server_rtcp >= s.server_rtp);
        if (s.client_rtp != 0) check(s.client_rtcp > s.client_rtp);
        if (s.server_rtp != 0) check(s.server_rtcp > s.server_rtp);
        check(s.destination.family == 0 || s.destination.family == 4 || s.destination.family == 6);
    }
}

void check_message(std::string_view data, const sara::RtspLimits& limits, const sara::RtspParseResult& r) {
    const sara::RtspMessage& m = r.message;
    switch (r.status) {
        case ParseStatus::complete:
            check(r.error == RtspError::none);
            check(m.length > 0 && m.length <= data.size());
            check(m.is_request ? (!m.method.empty() && !m.uri.empty() && m.status_code == 0)
                               : (m.method.empty() && m.status_code >= 100 && m.status_code <= 599));
            check(m.body.size() <= limits.max_body_bytes);
            check(m.length - m.body.size() <= limits.max_header_bytes);
            // The body is the tail of the message.
            check(m.body.empty() || m.body.data() + m.body.size() == data.data() + m.length);
            check(m.session_id.size() <= limits.max_session_id);
            break;
        case ParseStatus::incomplete:
            check(r.error == RtspError::none && m.length == 0);
            check(data.size() < limits.max_header_bytes || !m.method.empty() || m.status_code != 0);
            break;
        case ParseStatus::error:
            check(r.error != RtspError::none && m.length == 0);
            break;
    }
    for (const std::string_view part : {m.method, m.uri, m.session_id, m.transport, m.body})
        check(points_into(part, data));
    check(std::string_view(to_string(r.error)) != "unknown");
}

// A message parses the same on its own, and any proper prefix of it (as a TCP segment
// boundary would cut it) is only incomplete: one byte short, and half of it.
void check_self_contained(std::string_view data, const sara::RtspLimits& limits, const sara::RtspParseResult& r) {
    const std::string_view whole = data.substr(0, r.message.length);
    const sara::RtspParseResult alone = parse_rtsp_message(whole, limits);
    check(alone.status == ParseStatus::complete && alone.message.length == r.message.length);
    check(alone.message.cseq == r.message.cseq && alone.message.session_id == r.message.session_id);
    check(alone.message.transport == r.message.transport && alone.message.body == r.message.body);
    for (const size_t cut : {whole.size() - 1, whole.size() / 2})
        check(parse_rtsp_message(whole.substr(0, cut), limits).status == ParseStatus::incomplete);
}

void walk_stream(std::string_view data, const sara::RtspLimits& limits) {
    // Each step consumes at least one byte, so this ends within data.size() steps.
    while (!data.empty()) {
        const size_t frame = sara::interleaved_frame_length(data);
        if (frame == std::string_view::npos) {
            check(data[0] == '$');
            return;
        }
        if (frame != 0) {
            check(data[0] == '$' && frame >= 4 && frame <= data.size() && frame <= 4 + 65535);
            data.remove_prefix(frame);
            continue;
        }
        check(data[0] != '$');
        const sara::RtspParseResult r = parse_rtsp_message(data, limits);
        check_message(data, limits, r);
        if (!r.message.transport.empty()) check_transport(r.message.transport);
        if (r.status != ParseStatus::complete) return;
        check_self_contained(data, limits, r);
        data.remove_prefix(r.message.length);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const std::string_view data(reinterpret_cast<const char*>(bytes), size);
    walk_stream(data, sara::RtspLimits{});
    walk_stream(data, sara::RtspLimits{.max_header_bytes = 96, .max_body_bytes = 32, .max_session_id = 8});
    check_transport(data);
    return 0;
}
