// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/net/packet.hpp"
#include "daemon/forward/reply_packets.hpp"

using namespace sara;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// Sum of a whole header/segment including its checksum field: 0xffff when it is right.
uint16_t ones_sum(const std::vector<uint8_t>& bytes, size_t from, size_t to, uint32_t sum = 0) {
    for (size_t i = from; i + 1 < to; i += 2) sum += uint32_t(bytes[i]) << 8 | bytes[i + 1];
    if ((to - from) % 2) sum += uint32_t(bytes[to - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reply_packets)

BOOST_AUTO_TEST_CASE(rfc1071_checksum_of_a_known_segment) {
    // RFC 1071 §3's example bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (one's complement);
    // with a zero pseudo header (0.0.0.0 → 0.0.0.0, proto 0, length 8) the sum gains 8:
    // 0xddf2 + 0x0008 = 0xddfa; the checksum is its complement 0x2205.
    const std::vector<uint8_t> seg = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    BOOST_TEST(transport_checksum(ip("0.0.0.0"), ip("0.0.0.0"), 0, seg) == 0x2205);
}

BOOST_AUTO_TEST_CASE(udp_reply_decodes_back_with_valid_checksums) {
    const std::string text = "SIP/2.0 503 Service Unavailable\r\n\r\n";
    const auto p = udp_packet(ip("198.18.100.10"), 5060, ip("198.18.1.2"), 5070,
                                   {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->size() == 20u + 8u + text.size());
    const DecodeResult d = decode_ip_packet(*p);
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d.packet.src.to_string() == "198.18.100.10");
    BOOST_TEST(d.packet.dst.to_string() == "198.18.1.2");
    BOOST_TEST(d.packet.src_port == 5060);
    BOOST_TEST(d.packet.dst_port == 5070);
    BOOST_TEST(std::string(d.packet.payload.begin(), d.packet.payload.end()) == text);
    BOOST_TEST(ones_sum(*p, 0, 20) == 0xffff);  // IPv4 header checksum
    // UDP: pseudo header (addresses, proto 17, length) + segment sums to 0xffff.
    uint32_t pseudo = 0xc612 + 0x640a + 0xc612 + 0x0102 + 17 + uint32_t(8 + text.size());
    BOOST_TEST(ones_sum(*p, 20, p->size(), pseudo) == 0xffff);
    BOOST_TEST(!udp_packet(ip("2001:db8::1"), 1, ip("198.18.1.2"), 2, {}).has_value());  // mixed families
}

// Issue 18: the 503 and the RST of a refused IPv6 session, in IPv6.
BOOST_AUTO_TEST_CASE(ipv6_replies_decode_back_with_valid_checksums) {
    const std::string text = "SIP/2.0 503 Service Unavailable\r\n\r\n";
    const auto p = udp_packet(ip("2001:db8:100::10"), 5060, ip("2001:db8:1::2"), 5070,
                              {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->size() == 40u + 8u + text.size());
    const DecodeResult d = decode_ip_packet(*p);
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d.packet.src.to_string() == "2001:db8:100::10");
    BOOST_TEST(d.packet.dst.to_string() == "2001:db8:1::2");
    BOOST_TEST(d.packet.dst_port == 5070);
    BOOST_TEST(std::string(d.packet.payload.begin(), d.packet.payload.end()) == text);
    // Pseudo header: both addresses (16-bit words), the upper-layer length, next header 17.
    const uint32_t addresses = 0x2001 + 0x0db8 + 0x0100 + 0x0010 + 0x2001 + 0x0db8 + 0x0001 + 0x0002;
    BOOST_TEST(ones_sum(*p, 40, p->size(), addresses + uint32_t(8 + text.size()) + 17) == 0xffff);

    DecodedPacket syn;
    syn.src = ip("2001:db8:1::2");
    syn.dst = ip("2001:db8:100::10");
    syn.ip_proto = 6;
    syn.has_ports = true;
    syn.src_port = 40000;
    syn.dst_port = 5060;
    syn.tcp_flags = tcp_flag::syn;
    syn.tcp_seq = 41;
    const auto r = tcp_rst_for(syn);
    BOOST_REQUIRE(r.has_value());
    const DecodeResult rd = decode_ip_packet(*r);
    BOOST_REQUIRE(rd.ok());
    BOOST_TEST(rd.packet.src.to_string() == "2001:db8:100::10");
    BOOST_TEST(rd.packet.tcp_flags == (tcp_flag::rst | tcp_flag::ack));
    BOOST_TEST(rd.packet.tcp_ack == 42u);
    BOOST_TEST(ones_sum(*r, 40, r->size(), addresses + 20 + 6) == 0xffff);
}

BOOST_AUTO_TEST_CASE(rst_follows_rfc793) {
    DecodedPacket syn;
    syn.src = ip("198.18.1.2");
    syn.dst = ip("198.18.100.10");
    syn.ip_proto = 6;
    syn.has_ports = true;
    syn.src_port = 40000;
    syn.dst_port = 554;
    syn.tcp_flags = tcp_flag::syn;
    syn.tcp_seq = 0xfffffffe;
    // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counts 1: 0xfffffffe + 1 = 0xffffffff.
    auto r = tcp_rst_for(syn);
    BOOST_REQUIRE(r.has_value());
    DecodeResult d = decode_ip_packet(*r);
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d.packet.src.to_string() == "198.18.100.10");
    BOOST_TEST(d.packet.dst_port == 40000);
    BOOST_TEST(d.packet.src_port == 554);
    BOOST_TEST(d.packet.tcp_flags == (tcp_flag::rst | tcp_flag::ack));
    BOOST_TEST(d.packet.tcp_seq == 0u);
    BOOST_TEST(d.packet.tcp_ack == 0xffffffffu);
    uint32_t pseudo = 0xc612 + 0x640a + 0xc612 + 0x0102 + 6 + 20;
    BOOST_TEST(ones_sum(*r, 20, r->size(), pseudo) == 0xffff);

    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    DecodedPacket data = syn;
    data.tcp_flags = tcp_flag::ack | tcp_flag::psh;
    data.tcp_ack = 1234;
    d = decode_ip_packet(*tcp_rst_for(data));
    BOOST_TEST(d.packet.tcp_flags == tcp_flag::rst);
    BOOST_TEST(d.packet.tcp_seq == 1234u);

    DecodedPacket rst = syn;
    rst.tcp_flags = tcp_flag::rst;
    BOOST_TEST(!tcp_rst_for(rst).has_value());  // a RST is never answered
    DecodedPacket udp = syn;
    udp.ip_proto = 17;
    BOOST_TEST(!tcp_rst_for(udp).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
