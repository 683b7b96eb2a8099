// SPDX-License-Identifier: GPL-2.0-or-later
// Assembles raw IPv4 + UDP/TCP packets for tests of code that takes bytes (the pipeline, the
// queue handler). Checksums are left zero: nothing under test verifies them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/net/ip_address.hpp"

namespace sara::test {

inline void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}

inline std::vector<uint8_t> ipv4_packet(std::string_view src, std::string_view dst, uint8_t proto,
                                        const std::vector<uint8_t>& l4) {
    std::vector<uint8_t> b(20, 0);
    b[0] = 0x45;
    put16(b, 2, uint16_t(20 + l4.size()));
    b[8] = 64;
    b[9] = proto;
    const IpAddress s = *IpAddress::parse(src), d = *IpAddress::parse(dst);
    for (int i = 0; i < 4; ++i) {
        b[12 + i] = s.bytes[i];
        b[16 + i] = d.bytes[i];
    }
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

inline std::vector<uint8_t> udp_packet(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport,
                                       std::string_view payload) {
    std::vector<uint8_t> l4(8, 0);
    put16(l4, 0, sport);
    put16(l4, 2, dport);
    put16(l4, 4, uint16_t(8 + payload.size()));
    l4.insert(l4.end(), payload.begin(), payload.end());
    return ipv4_packet(src, dst, 17, l4);
}

inline std::vector<uint8_t> tcp_packet(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport,
                                       uint8_t flags, uint32_t seq, std::string_view payload = {}) {
    std::vector<uint8_t> l4(20, 0);
    put16(l4, 0, sport);
    put16(l4, 2, dport);
    put16(l4, 4, uint16_t(seq >> 16));
    put16(l4, 6, uint16_t(seq));
    l4[12] = 5 << 4;
    l4[13] = flags;
    l4.insert(l4.end(), payload.begin(), payload.end());
    return ipv4_packet(src, dst, 6, l4);
}

}  // namespace sara::test
