// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for fragment_ipv4 (raw mode's fragmenter): the first two input bytes are
// the MTU, the rest the packet. Whatever the packet, every fragment fits the MTU, carries a
// valid header checksum and an 8-byte aligned offset, and the fragments put back together
// are exactly the original IP payload. ASan catches any read outside the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/ip_fragment.hpp"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

uint16_t u16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const size_t mtu = u16(data) % 9001;
    const std::span<const uint8_t> packet(data + 2, size - 2);
    std::vector<std::vector<uint8_t>> fragments;
    const sara::FragmentResult r = sara::fragment_ipv4(packet, mtu, [&](std::span<const uint8_t> f) {
        fragments.emplace_back(f.begin(), f.end());
        return true;
    });
    check(sara::to_string(r) != nullptr);
    if (r != sara::FragmentResult::fragmented) {
        check(fragments.empty());
        return 0;
    }
    const size_t ihl = size_t(packet[0] & 0x0f) * 4;
    const size_t total = u16(packet.data() + 2);
    check(!fragments.empty());
    if (total <= mtu) {  // fits: sent as it is
        check(fragments.size() == 1 && std::equal(fragments[0].begin(), fragments[0].end(), packet.begin()) &&
              fragments[0].size() == total);
        return 0;
    }
    const size_t base = size_t(u16(packet.data() + 6) & 0x1fff) * 8;
    std::vector<uint8_t> payload;
    for (size_t n = 0; n < fragments.size(); ++n) {
        const std::vector<uint8_t>& f = fragments[n];
        check(f.size() >= 20 && f.size() <= mtu);
        const size_t fihl = size_t(f[0] & 0x0f) * 4;
        check(f[0] >> 4 == 4 && fihl >= 20 && fihl <= f.size() && u16(f.data() + 2) == f.size());
        uint32_t sum = 0;
        for (size_t i = 0; i + 1 < fihl; i += 2) sum += u16(f.data() + i);
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        check(sum == 0xffff);
        const size_t offset = size_t(u16(f.data() + 6) & 0x1fff) * 8;
        check(offset == base + payload.size());  // in order, no gap, no overlap
        if (n + 1 < fragments.size()) check((u16(f.data() + 6) & 0x2000) && (f.size() - fihl) % 8 == 0);
        payload.insert(payload.end(), f.begin() + long(fihl), f.end());
    }
    check(payload.size() == total - ihl);
    check(std::equal(payload.begin(), payload.end(), packet.begin() + long(ihl)));
    return 0;
}
