// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for strip_link_layer (the gateway's captures, sarad replay's files): the first
// input byte picks the link type from kLinkTypes, the rest is the frame. Whatever the frame, an IP
// result is the frame's tail, anything else is empty, and link_type_supported agrees with the
// status. ASan catches any read outside the input.
#include <pcap/dlt.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "common/net/link_layer.hpp"

namespace {

// Every type strip_link_layer knows (228, 229: LINKTYPE_IPV4/IPV6; 276: LINUX_SLL2) and one
// it does not.
constexpr int kLinkTypes[] = {DLT_EN10MB, DLT_LINUX_SLL, 276, DLT_RAW, 228, 229, DLT_NULL, DLT_LOOP, DLT_IEEE802_11};

void check(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const int link_type = kLinkTypes[data[0] % std::size(kLinkTypes)];
    const std::span<const uint8_t> frame(data + 1, size - 1);
    const sara::LinkStrip r = sara::strip_link_layer(link_type, frame);
    check(sara::link_type_supported(link_type) == (r.status != sara::LinkStatus::unsupported));
    if (r.status == sara::LinkStatus::ip) {
        check(r.ip.size() <= frame.size());
        check(r.ip.data() + r.ip.size() == frame.data() + frame.size());
    } else {
        check(r.ip.empty());
    }
    return 0;
}
