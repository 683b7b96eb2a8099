// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_sdp: the input is a SIP body. Invariants are checked with
// __builtin_trap so a violation is a crash libFuzzer keeps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/proto/sdp.hpp"

namespace {

using sara::ParseStatus;
using sara::SdpError;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool same_summary(const sara::SdpSummary& a, const sara::SdpSummary& b) {
    if (a.media_count != b.media_count || a.truncated != b.truncated) return false;
    for (size_t i = 0; i < a.media_count; ++i) {
        const sara::SdpMedia& x = a.media[i];
        const sara::SdpMedia& y = b.media[i];
        if (x.type != y.type || x.address != y.address || x.rtp_port != y.rtp_port || x.rtcp_port != y.rtcp_port)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    sara::SdpSummary s;
    const sara::SdpParseResult r = sara::parse_sdp(body, s);
    check(sara::to_string(r.error) != nullptr);
    check(r.status != ParseStatus::incomplete);
    check((r.status == ParseStatus::complete) == (r.error == SdpError::none));
    if (r.status != ParseStatus::complete) return 0;

    check(s.media_count <= sara::kMaxSdpMedia);
    check(!s.truncated || s.media_count == sara::kMaxSdpMedia);
    for (size_t i = 0; i < s.media_count; ++i) {
        const sara::SdpMedia& m = s.media[i];
        check(!m.type.empty() && points_into(m.type, body));
        check(m.address.family == 0 || m.address.family == 4 || m.address.family == 6);
    }
    for (size_t i = s.media_count; i < sara::kMaxSdpMedia; ++i) check(s.media[i].rtp_port == 0 && s.media[i].type.empty());

    // The summary is rebuilt from scratch: parsing again into a used one gives the same.
    const sara::SdpSummary first = s;
    check(sara::parse_sdp(body, s).status == ParseStatus::complete);
    check(same_summary(first, s));
    return 0;
}
