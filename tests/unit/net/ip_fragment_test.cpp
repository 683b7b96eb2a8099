// SPDX-License-Identifier: GPL-2.0-or-later
// fragment_ipv4: raw mode's frames over the LAN MTU (issue 16, item 4). Each case checks the
// fragments the way a receiver's reassembly would: sizes, 8-byte offsets, MF, options,
// header checksums, and the payload put back together.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "common/net/ip_fragment.hpp"
#include "common/net/packet.hpp"

namespace sara {
namespace {

using Bytes = std::vector<uint8_t>;

uint16_t u16(const Bytes& b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }

// An IPv4 UDP datagram with `options` (a multiple of 4) and `payload_size` bytes after the UDP header.
Bytes datagram(size_t payload_size, const Bytes& options = {}, uint16_t flags_offset = 0) {
    const size_t ihl = 20 + options.size();
    const size_t total = ihl + 8 + payload_size;
    Bytes b(total);
    b[0] = uint8_t(0x40 | ihl / 4);
    b[2] = uint8_t(total >> 8), b[3] = uint8_t(total);
    b[4] = 0x12, b[5] = 0x34;  // identification
    b[6] = uint8_t(flags_offset >> 8), b[7] = uint8_t(flags_offset);
    b[8] = 64, b[9] = 17;
    const uint8_t src[] = {198, 18, 1, 2}, dst[] = {198, 18, 100, 10};
    std::copy(src, src + 4, b.begin() + 12);
    std::copy(dst, dst + 4, b.begin() + 16);
    std::copy(options.begin(), options.end(), b.begin() + 20);
    b[ihl] = 0x13, b[ihl + 1] = 0xc4;      // 5060
    b[ihl + 2] = 0x13, b[ihl + 3] = 0xc4;  // 5060
    const size_t udp_len = 8 + payload_size;
    b[ihl + 4] = uint8_t(udp_len >> 8), b[ihl + 5] = uint8_t(udp_len);
    for (size_t i = 0; i < payload_size; ++i) b[ihl + 8 + i] = uint8_t(i * 7);
    return b;
}

bool checksum_ok(const Bytes& f) {
    const size_t ihl = size_t(f[0] & 0x0f) * 4;
    uint32_t sum = 0;
    for (size_t i = 0; i < ihl; i += 2) sum += u16(f, i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

std::vector<Bytes> fragment(const Bytes& packet, size_t mtu, FragmentResult expect = FragmentResult::fragmented) {
    std::vector<Bytes> out;
    const FragmentResult r = fragment_ipv4(packet, mtu, [&](std::span<const uint8_t> f) {
        out.emplace_back(f.begin(), f.end());
        return true;
    });
    BOOST_TEST(to_string(r) == to_string(expect));
    return out;
}

// What a receiver rebuilds: the IP payload at the fragments' offsets.
Bytes reassemble(const std::vector<Bytes>& fragments) {
    Bytes payload;
    for (const Bytes& f : fragments) {
        const size_t ihl = size_t(f[0] & 0x0f) * 4;
        const size_t offset = size_t(u16(f, 6) & 0x1fff) * 8;
        if (payload.size() < offset + f.size() - ihl) payload.resize(offset + f.size() - ihl);
        std::copy(f.begin() + long(ihl), f.end(), payload.begin() + long(offset));
    }
    return payload;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ip_fragment)

BOOST_AUTO_TEST_CASE(a_3_kB_datagram_becomes_three_fragments_within_the_mtu) {
    const Bytes packet = datagram(3000);
    const std::vector<Bytes> frags = fragment(packet, 1500);
    BOOST_REQUIRE(frags.size() == 3u);
    for (size_t i = 0; i < frags.size(); ++i) {
        BOOST_TEST_CONTEXT("fragment " << i) {
            const Bytes& f = frags[i];
            BOOST_TEST(f.size() <= 1500u);
            BOOST_TEST(u16(f, 2) == f.size());
            BOOST_TEST(u16(f, 4) == 0x1234);  // same identification
            BOOST_TEST(checksum_ok(f));
            const bool more = u16(f, 6) & 0x2000;
            BOOST_TEST(more == (i + 1 < frags.size()));
            if (more) BOOST_TEST((f.size() - 20) % 8 == 0u);
        }
    }
    BOOST_TEST(frags[0].size() == 1500u);  // 1480 payload bytes: a multiple of 8
    BOOST_TEST((reassemble(frags) == Bytes(packet.begin() + 20, packet.end())));
    // The first fragment carries the UDP header: it decodes with ports, the others without.
    const DecodeResult first = decode_ip_packet(frags[0]);
    BOOST_TEST(first.ok());
    BOOST_TEST(first.packet.has_ports);
    BOOST_TEST(decode_ip_packet(frags[1]).packet.later_fragment);
}

BOOST_AUTO_TEST_CASE(only_copied_options_follow_into_later_fragments) {
    // Router alert (copied, type 148, 4 bytes) and a timestamp-like option (not copied, type 68),
    // padded: NOP, NOP, then end of list.
    const Bytes options = {148, 4, 0, 0, 68, 4, 5, 0, 1, 1, 0, 0};
    const Bytes packet = datagram(2000, options);
    const std::vector<Bytes> frags = fragment(packet, 1000);
    BOOST_REQUIRE(frags.size() >= 2u);
    BOOST_TEST((frags[0][0] & 0x0f) == 8);  // 20 + 12 option bytes
    BOOST_TEST((Bytes(frags[0].begin() + 20, frags[0].begin() + 32) == options));
    for (size_t i = 1; i < frags.size(); ++i) {
        BOOST_TEST((frags[i][0] & 0x0f) == 6);  // 20 + the router alert
        BOOST_TEST((Bytes(frags[i].begin() + 20, frags[i].begin() + 24) == Bytes{148, 4, 0, 0}));
        BOOST_TEST(checksum_ok(frags[i]));
    }
    BOOST_TEST((reassemble(frags) == Bytes(packet.begin() + 32, packet.end())));
}

BOOST_AUTO_TEST_CASE(a_fragment_of_a_fragment_keeps_its_offset_and_more_flag) {
    // A middle fragment (MF, offset 1480 bytes) refragmented to a smaller MTU.
    const Bytes middle = datagram(1992, {}, 0x2000 | 185);
    const std::vector<Bytes> frags = fragment(middle, 1000);
    BOOST_REQUIRE(frags.size() == 3u);
    BOOST_TEST((u16(frags[0], 6) & 0x1fff) == 185);
    BOOST_TEST((u16(frags[1], 6) & 0x1fff) == 185 + 980 / 8);
    for (const Bytes& f : frags) BOOST_TEST((u16(f, 6) & 0x2000) != 0);  // the last keeps MF
}

BOOST_AUTO_TEST_CASE(what_cannot_be_fragmented_is_refused_whole) {
    BOOST_TEST(fragment(datagram(3000, {}, 0x4000), 1500, FragmentResult::dont_fragment).empty());
    Bytes v6 = datagram(3000);
    v6[0] = 0x60;
    BOOST_TEST(fragment(v6, 1500, FragmentResult::not_ipv4).empty());
    BOOST_TEST(fragment(datagram(3000), 20, FragmentResult::mtu_too_small).empty());
    Bytes bad_options = datagram(3000, {148, 40, 0, 0});  // an option running past the header
    BOOST_TEST(fragment(bad_options, 1500, FragmentResult::malformed).empty());
    Bytes short_total = datagram(3000);
    short_total[2] = 0xff;  // longer than the buffer
    BOOST_TEST(fragment(short_total, 1500, FragmentResult::malformed).empty());
    // The sink refusing a fragment stops the rest.
    int emitted = 0;
    BOOST_TEST((fragment_ipv4(datagram(3000), 1500, [&](std::span<const uint8_t>) { return ++emitted < 1; }) ==
                FragmentResult::emit_failed));
    BOOST_TEST(emitted == 1);
}

BOOST_AUTO_TEST_CASE(a_datagram_within_the_mtu_goes_whole) {
    const Bytes small = datagram(100);
    const std::vector<Bytes> frags = fragment(small, 1500);
    BOOST_REQUIRE(frags.size() == 1u);
    BOOST_TEST((frags[0] == small));
}

BOOST_AUTO_TEST_CASE(the_largest_datagram_fragments_within_the_offset_field) {
    const Bytes largest = datagram(65535 - 28);
    const std::vector<Bytes> frags = fragment(largest, 1500);
    BOOST_TEST(frags.size() == 45u);  // ceil(65515 / 1480)
    BOOST_TEST((reassemble(frags) == Bytes(largest.begin() + 20, largest.end())));
}

// Found by fuzz_ip_fragment in CI: a fragment at offset 8184 × 8 with 3 kB of payload used to
// emit its first pieces and then stop at an offset the field cannot hold.
BOOST_AUTO_TEST_CASE(a_fragment_ending_past_the_largest_datagram_is_refused_before_any_emit) {
    const Bytes late = datagram(3000, {}, 0x2000 | 8184);
    BOOST_TEST(fragment(late, 1500, FragmentResult::malformed).empty());
    // The last offset that still fits: its end is exactly at 65,515 payload bytes.
    const Bytes last_fit = datagram(65515 - 8 * 8000 - 8, {}, 8000);
    BOOST_TEST(fragment(last_fit, 1500).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
