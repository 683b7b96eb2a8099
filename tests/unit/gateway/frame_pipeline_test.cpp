// SPDX-License-Identifier: GPL-2.0-or-later
// The frame pipeline with literal frames: link layer stripped, packet decoded, the nodes'
// signalling turned into announcements, and every other frame counted by what it was.
#include <boost/test/unit_test.hpp>

#include <pcap/dlt.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/config/gateway_config.hpp"
#include "gateway/frame_pipeline.hpp"
#include "tests/unit/support/ip_builder.hpp"
#include "tests/unit/support/packets.hpp"

namespace sara::gateway {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

Bytes ethernet(const Bytes& ip, uint16_t ethertype = 0x0800) {
    Bytes f = {0x02, 0, 0, 0, 0x02, 0x54, 0x02, 0, 0, 0, 0x02, 0x11, uint8_t(ethertype >> 8), uint8_t(ethertype)};
    f.insert(f.end(), ip.begin(), ip.end());
    return f;
}

Bytes linux_cooked(const Bytes& ip) {
    Bytes f = {0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0x02, 0x11, 0, 0, 0x08, 0x00};
    f.insert(f.end(), ip.begin(), ip.end());
    return f;
}

struct Fixture {
    FramePipeline pipeline{default_gateway_services(), test::ip(kVip), InspectorLimits{}};
    std::vector<Announcement> out;

    void feed(int link_type, const Bytes& frame) { pipeline.handle(link_type, frame, uint32_t(frame.size()), out); }
};

const std::string sip_ok = test::sip_message("SIP/2.0 200 OK", "call-1@198.18.1.2", "1 INVITE",
                                             test::sdp_body(kVip, 30000));
const std::string rtsp_reply =
    "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 8A7B6C5D;timeout=60\r\n"
    "Transport: RTP/AVP/UDP;unicast;client_port=25000-25001;server_port=7000-7001\r\n\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_frame_pipeline)

BOOST_FIXTURE_TEST_CASE(a_sip_answer_from_the_vip_over_ethernet, Fixture) {
    feed(DLT_EN10MB, ethernet(test::udp_packet(kVip, 5060, kClient, 5070, sip_ok)));
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].key == "call-1@198.18.1.2");
    BOOST_TEST(out[0].status_code == 200);
    BOOST_TEST(out[0].has_media);
    BOOST_TEST(out[0].media[0].server_rtp == 30000);
    BOOST_TEST(pipeline.counters().frames_captured_total == 1u);
    BOOST_TEST(pipeline.counters().packets_decoded_total == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_rtsp_reply_over_tcp_on_linux_cooked, Fixture) {
    feed(DLT_LINUX_SLL, linux_cooked(test::tcp_packet(kVip, 554, kClient, 41000, tcp_flag::syn | tcp_flag::ack, 50)));
    feed(DLT_LINUX_SLL, linux_cooked(test::tcp_packet(kVip, 554, kClient, 41000, tcp_flag::ack, 51, rtsp_reply)));
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].key == "8A7B6C5D");
    BOOST_TEST(out[0].media[0].server_rtp == 7000);
    BOOST_TEST(out[0].media[0].client_rtp == 25000);
}

BOOST_FIXTURE_TEST_CASE(frames_that_yield_nothing_are_counted_once_each, Fixture) {
    const Bytes sip = ethernet(test::udp_packet(kVip, 5060, kClient, 5070, sip_ok));
    // Cut by the snapshot length: captured 100 bytes of a longer packet.
    pipeline.handle(DLT_EN10MB, std::span<const uint8_t>(sip.data(), 100), uint32_t(sip.size()), out);
    feed(DLT_EN10MB, ethernet({0, 1, 8, 0, 6, 4, 0, 1}, 0x0806));               // ARP
    feed(DLT_IEEE802_11, sip);                                                  // unsupported link
    feed(DLT_EN10MB, ethernet({0x45, 0, 0, 20}));                               // IPv4 cut short
    feed(DLT_EN10MB, ethernet(test::udp_packet(kClient, 5070, kVip, 5060, sip_ok)));  // not from the VIP
    BOOST_TEST(out.empty());
    const FrameCounters& c = pipeline.counters();
    BOOST_TEST(c.frames_captured_total == 5u);
    BOOST_TEST(c.frames_truncated_total == 1u);
    BOOST_TEST(c.frames_not_ip_total == 1u);
    BOOST_TEST(c.frames_unsupported_link_total == 1u);
    BOOST_TEST(c.packets_malformed_total == 1u);
    BOOST_TEST(c.packets_decoded_total == 1u);
    BOOST_TEST(pipeline.inspector_counters().outgoing_messages_total == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::gateway
