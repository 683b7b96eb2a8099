// SPDX-License-Identifier: GPL-2.0-or-later
// Link-layer stripping with literal frames: each case is a frame as a capture hands it over,
// the link type it was captured on, and where the IP packet must start (or why there is none).
#include <boost/test/unit_test.hpp>

#include <pcap/dlt.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/net/link_layer.hpp"

namespace sara {
namespace {

using Bytes = std::vector<uint8_t>;

// The first bytes of an IPv4 and an IPv6 header (enough to see where the packet starts).
const Bytes ipv4 = {0x45, 0x00, 0x00, 0x14};
const Bytes ipv6 = {0x60, 0x00, 0x00, 0x00};

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// dst MAC, src MAC (12 bytes), then the ethertype and whatever follows.
const Bytes macs = {0x02, 0, 0, 0, 0x02, 0x54, 0x02, 0, 0, 0, 0x02, 0x11};

struct Case {
    const char* description;
    int link_type;
    Bytes frame;
    LinkStatus status;
    size_t ip_offset = 0;  // for status ip
};

}  // namespace

BOOST_AUTO_TEST_SUITE(link_layer)

BOOST_AUTO_TEST_CASE(frames_of_each_link_type) {
    const std::vector<Case> cases = {
        {"Ethernet IPv4", DLT_EN10MB, cat({macs, {0x08, 0x00}, ipv4}), LinkStatus::ip, 14},
        {"Ethernet IPv6", DLT_EN10MB, cat({macs, {0x86, 0xdd}, ipv6}), LinkStatus::ip, 14},
        {"Ethernet, one 802.1Q tag", DLT_EN10MB, cat({macs, {0x81, 0x00, 0x00, 0x64, 0x08, 0x00}, ipv4}),
         LinkStatus::ip, 18},
        {"Ethernet, QinQ (802.1ad + 802.1Q)", DLT_EN10MB,
         cat({macs, {0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd}, ipv6}), LinkStatus::ip, 22},
        {"Ethernet ARP", DLT_EN10MB, cat({macs, {0x08, 0x06}, {0, 1, 8, 0}}), LinkStatus::not_ip},
        {"Ethernet, three tags: the third is not IP", DLT_EN10MB,
         cat({macs, {0x81, 0x00, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00}, ipv4}), LinkStatus::not_ip},
        {"Ethernet cut inside the header", DLT_EN10MB, Bytes(macs.begin(), macs.begin() + 10), LinkStatus::not_ip},
        {"Ethernet tag without its inner type", DLT_EN10MB, cat({macs, {0x81, 0x00, 0x00, 0x64}}), LinkStatus::not_ip},
        {"Linux cooked v1, IPv4 from a host (packet type 0)", DLT_LINUX_SLL,
         cat({{0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0x02, 0x11, 0, 0, 0x08, 0x00}, ipv4}), LinkStatus::ip, 16},
        {"Linux cooked v1, cut short", DLT_LINUX_SLL, Bytes{0, 0, 0, 1, 0, 6}, LinkStatus::not_ip},
        {"Linux cooked v2, IPv6", 276,
         cat({{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0x02, 0, 0, 0, 0x02, 0x11, 0, 0}, ipv6}), LinkStatus::ip, 20},
        {"Linux cooked v2, ARP", 276, Bytes{0x08, 0x06, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 2, 0x11, 0, 0},
         LinkStatus::not_ip},
        {"raw IP (tun)", DLT_RAW, ipv4, LinkStatus::ip, 0},
        {"LINKTYPE_IPV6", 229, ipv6, LinkStatus::ip, 0},
        {"BSD loopback, IPv4 (family 2, little-endian writer)", DLT_NULL, cat({{2, 0, 0, 0}, ipv4}), LinkStatus::ip, 4},
        {"OpenBSD loopback, IPv6 (family 24, big-endian)", DLT_LOOP, cat({{0, 0, 0, 24}, ipv6}), LinkStatus::ip, 4},
        {"BSD loopback cut inside the header", DLT_NULL, Bytes{2, 0}, LinkStatus::not_ip},
        {"an 802.11 frame: unsupported", DLT_IEEE802_11, cat({macs, ipv4}), LinkStatus::unsupported},
        {"empty Ethernet frame", DLT_EN10MB, {}, LinkStatus::not_ip},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const LinkStrip got = strip_link_layer(c.link_type, c.frame);
            BOOST_TEST(static_cast<int>(got.status) == static_cast<int>(c.status));
            BOOST_TEST(link_type_supported(c.link_type) == (c.status != LinkStatus::unsupported));
            if (c.status == LinkStatus::ip) {
                BOOST_TEST(got.ip.data() == c.frame.data() + c.ip_offset);
                BOOST_TEST(got.ip.size() == c.frame.size() - c.ip_offset);
            } else {
                BOOST_TEST(got.ip.empty());
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
