// SPDX-License-Identifier: GPL-2.0-or-later
// SDP media extraction: offers and answers as SIPp, baresip and Asterisk write them, then
// every shape the identifier must survive (no media, disabled media, unknown media, too many
// m= lines, bad c=/m= lines). The hostile bodies are also in tests/fuzz/regressions/sdp/.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/sdp.hpp"
#include "tests/unit/support/parse_checks.hpp"

namespace sara {
namespace {

using test::points_into;
using test::status_name;

struct Media {
    std::string_view type;
    std::string_view address;  // IpAddress::to_string(): "unset" when there is no c=
    uint16_t rtp = 0;
    uint16_t rtcp = 0;
};

struct SdpCase {
    const char* description;
    std::string body;
    SdpError error = SdpError::none;  // status is complete exactly when this is none
    std::vector<Media> media{};
    bool truncated = false;
};

constexpr std::string_view kSession = "v=0\r\no=- 1 1 IN IP4 198.18.1.2\r\ns=-\r\n";

// `n` audio m= lines on ports 5000, 5002, ...
std::string many_media(size_t n) {
    std::string out = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\n";
    for (size_t i = 0; i < n; ++i) out += "m=audio " + std::to_string(5000 + 2 * i) + " RTP/AVP 0\r\n";
    return out;
}
std::vector<Media> many_expected(size_t n) {
    std::vector<Media> out;
    for (size_t i = 0; i < n; ++i)
        out.push_back({"audio", "198.18.1.2", uint16_t(5000 + 2 * i), uint16_t(5001 + 2 * i)});
    return out;
}

const std::vector<SdpCase>& sdp_cases() {
    static const std::vector<SdpCase> cases = {
        // --- real offers and answers ------------------------------------------------------------
        {.description = "SIPp uac offer",
         .body = "v=0\r\no=user1 53655765 2353687637 IN IP4 198.18.1.2\r\ns=-\r\nc=IN IP4 198.18.1.2\r\nt=0 0\r\n"
                 "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},
        {.description = "baresip offer: audio and video, each with a=rtcp",
         .body = "v=0\r\no=- 1419419498 2063838391 IN IP4 198.18.1.3\r\ns=-\r\nc=IN IP4 198.18.1.3\r\nt=0 0\r\n"
                 "m=audio 10066 RTP/AVP 96 9 0 8 101\r\nb=AS:64\r\na=rtpmap:96 opus/48000/2\r\n"
                 "a=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtcp:10067\r\na=sendrecv\r\na=rtcp-rsize\r\n"
                 "m=video 10068 RTP/AVP 100\r\nb=AS:1000\r\na=rtpmap:100 VP8/90000\r\na=rtcp:10069\r\n"
                 "a=rtcp-fb:* nack pli\r\n",
         .media = {{"audio", "198.18.1.3", 10066, 10067}, {"video", "198.18.1.3", 10068, 10069}}},
        {.description = "answer declining video with port 0",
         .body = "v=0\r\no=- 3912 3913 IN IP4 198.18.100.21\r\ns=-\r\nc=IN IP4 198.18.100.21\r\nt=0 0\r\n"
                 "m=audio 31000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\nm=video 0 RTP/AVP 100\r\n",
         .media = {{"audio", "198.18.100.21", 31000, 31001}, {"video", "198.18.100.21", 0, 0}}},
        {.description = "Asterisk answer with a=rtcp and an address (RFC 3605)",
         .body = "v=0\r\no=- 1 2 IN IP4 198.18.100.22\r\ns=Asterisk\r\nc=IN IP4 198.18.100.22\r\nt=0 0\r\n"
                 "m=audio 12400 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:53020 IN IP4 126.16.64.4\r\n"
                 "a=ptime:20\r\na=sendrecv\r\n",
         .media = {{"audio", "198.18.100.22", 12400, 53020}}},
        {.description = "RFC 4566 example: multicast c= with a TTL",
         .body = "v=0\r\no=jdoe 2890844526 2890842807 IN IP4 198.18.6.5\r\ns=SDP Seminar\r\n"
                 "i=A Seminar on the session description protocol\r\nu=http://www.example.com/seminars/sdp.pdf\r\n"
                 "e=j.doe@example.com (Jane Doe)\r\nc=IN IP4 224.2.17.12/127\r\nt=2873397496 2873404696\r\n"
                 "a=recvonly\r\nm=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 99\r\na=rtpmap:99 h263-1998/90000\r\n",
         .media = {{"audio", "224.2.17.12", 49170, 49171}, {"video", "224.2.17.12", 51372, 51373}}},
        {.description = "IPv6 offer",
         .body = "v=0\r\no=- 1 1 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\n"
                 "m=audio 7078 RTP/AVP 0\r\n",
         .media = {{"audio", "2001:db8::2", 7078, 7079}}},
        {.description = "IPv6 multicast c= with a scope suffix",
         .body = std::string(kSession) + "c=IN IP6 ff15::101/3\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\n",
         .media = {{"audio", "ff15::101", 7078, 7079}}},
        {.description = "hold offer with c=0.0.0.0 is kept as given",
         .body = std::string(kSession) + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n",
         .media = {{"audio", "0.0.0.0", 6000, 6001}}},

        // --- session and media level c= -----------------------------------------------------------
        {.description = "media-level c= overrides the session one for that medium only",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
                 "m=video 6002 RTP/AVP 96\r\nc=IN IP4 198.18.1.9\r\nm=audio 6004 RTP/AVP 8\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}, {"video", "198.18.1.9", 6002, 6003},
                   {"audio", "198.18.1.2", 6004, 6005}}},
        {.description = "only media-level c=",
         .body = std::string(kSession) + "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 198.18.1.7\r\n"
                 "m=video 6002 RTP/AVP 96\r\nc=IN IP6 2001:db8::7\r\n",
         .media = {{"audio", "198.18.1.7", 6000, 6001}, {"video", "2001:db8::7", 6002, 6003}}},
        {.description = "no c= at all leaves the address unset",
         .body = std::string(kSession) + "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\n", .media = {{"audio", "unset", 6000, 6001}}},
        {.description = "IPv4 session c=, IPv6 media c=",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
                 "c=IN IP6 2001:db8::2\r\n",
         .media = {{"audio", "2001:db8::2", 6000, 6001}}},

        // --- ports and a=rtcp ---------------------------------------------------------------------
        {.description = "a=rtcp without an address",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtcp:7000\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 7000}}},
        {.description = "a=rtcp with an IPv6 address",
         .body = std::string(kSession) + "c=IN IP6 2001:db8::2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
                 "a=rtcp:7001 IN IP6 2001:db8::9\r\n",
         .media = {{"audio", "2001:db8::2", 6000, 7001}}},
        {.description = "a=rtcp applies to its own medium only",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
                 "m=video 6002 RTP/AVP 96\r\na=rtcp:9000\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}, {"video", "198.18.1.2", 6002, 9000}}},
        {.description = "session-level a=rtcp is ignored",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\na=rtcp:bogus\r\nm=audio 6000 RTP/AVP 0\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},
        {.description = "a=rtcp-mux and a=rtcp-fb are not a=rtcp",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtcp-mux\r\n"
                 "a=rtcp-fb:* nack\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},
        {.description = "port 65535 leaves no room for RTCP",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 65535 RTP/AVP 0\r\n",
         .media = {{"audio", "198.18.1.2", 65535, 0}}},
        {.description = "port 65534 has RTCP on 65535",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 65534 RTP/AVP 0\r\n",
         .media = {{"audio", "198.18.1.2", 65534, 65535}}},
        {.description = "port with a count (RFC 4566 hierarchical encoding)",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=video 49170/2 RTP/AVP 31\r\n",
         .media = {{"video", "198.18.1.2", 49170, 49171}}},
        {.description = "only port-0 media",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n",
         .media = {{"audio", "198.18.1.2", 0, 0}, {"video", "198.18.1.2", 0, 0}}},

        // --- media types and counts ---------------------------------------------------------------
        {.description = "unknown media types are kept as they are",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=message 2855 TCP/MSRP *\r\n"
                 "m=image 0 udptl t38\r\nm=text 5000 RTP/AVP 98\r\nm=x-holo 7 foo bar\r\n",
         .media = {{"message", "198.18.1.2", 2855, 2856}, {"image", "198.18.1.2", 0, 0},
                   {"text", "198.18.1.2", 5000, 5001}, {"x-holo", "198.18.1.2", 7, 8}}},
        {.description = "no m= lines", .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\na=sendrecv\r\n"},
        {.description = "empty body", .body = ""},
        {.description = "exactly eight m= lines", .body = many_media(8), .media = many_expected(8)},
        {.description = "nine m= lines: the first eight kept, truncated", .body = many_media(9),
         .media = many_expected(8), .truncated = true},
        {.description = "40 m= lines", .body = many_media(40), .media = many_expected(8), .truncated = true},
        {.description = "c= and a=rtcp after the eighth medium do not touch it",
         .body = many_media(8) + "m=video 7000 RTP/AVP 96\r\nc=IN IP4 198.18.9.9\r\na=rtcp:1\r\n",
         .media = many_expected(8), .truncated = true},

        // --- line shapes ------------------------------------------------------------------------
        {.description = "bare LF line ends",
         .body = "v=0\no=- 1 1 IN IP4 198.18.1.2\ns=-\nc=IN IP4 198.18.1.2\nt=0 0\nm=audio 6000 RTP/AVP 0\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},
        {.description = "last line without a terminator",
         .body = std::string(kSession) + "c=IN IP4 198.18.1.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},
        {.description = "blank and odd lines are tolerated",
         .body = "\r\n\r\nv=0\r\nhello\r\n=\r\nc\r\nc=IN IP4 198.18.1.2\r\n\r\nm=audio 6000 RTP/AVP 0\r\nx\r\n",
         .media = {{"audio", "198.18.1.2", 6000, 6001}}},

        // --- malformed m= ---------------------------------------------------------------------------
        {.description = "m= without a port", .body = std::string(kSession) + "m=audio\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= empty", .body = std::string(kSession) + "m=\r\n", .error = SdpError::bad_media_line},
        {.description = "m= without a type", .body = std::string(kSession) + "m= 6000 RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= port not a number", .body = std::string(kSession) + "m=audio abc RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= port 65536", .body = std::string(kSession) + "m=audio 65536 RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= port of 25 digits", .body = std::string(kSession) + "m=audio 9999999999999999999999999 RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= port negative", .body = std::string(kSession) + "m=audio -1 RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "m= port count without a port", .body = std::string(kSession) + "m=audio /2 RTP/AVP 0\r\n",
         .error = SdpError::bad_media_line},
        {.description = "a bad m= after a good one",
         .body = many_media(2) + "m=video x RTP/AVP 96\r\n", .error = SdpError::bad_media_line},

        // --- malformed c= and a=rtcp ------------------------------------------------------------------
        {.description = "c= with an IPv6 address under IP4",
         .body = std::string(kSession) + "c=IN IP4 2001:db8::1\r\nm=audio 6000 RTP/AVP 0\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "c= with an IPv4 address under IP6",
         .body = std::string(kSession) + "c=IN IP6 198.18.1.2\r\nm=audio 6000 RTP/AVP 0\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "c= without an address", .body = std::string(kSession) + "c=IN IP4\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "c= empty", .body = std::string(kSession) + "c=\r\n", .error = SdpError::bad_connection_line},
        {.description = "c= with an octet above 255", .body = std::string(kSession) + "c=IN IP4 198.18.1.256\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "c= with a host name (not resolved on the data plane)",
         .body = std::string(kSession) + "c=IN IP4 media.example.com\r\n", .error = SdpError::bad_connection_line},
        {.description = "c= with another network type", .body = std::string(kSession) + "c=ATM NSAP 47.0091.8100\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "c= with a 60-byte address",
         .body = std::string(kSession) + "c=IN IP6 " + std::string(60, '1') + "\r\n",
         .error = SdpError::bad_connection_line},
        {.description = "media-level c= malformed",
         .body = many_media(1) + "c=IN IP4 1.2.3\r\n", .error = SdpError::bad_connection_line},
        {.description = "a=rtcp without a port", .body = many_media(1) + "a=rtcp:\r\n",
         .error = SdpError::bad_rtcp_attribute},
        {.description = "a=rtcp port 0", .body = many_media(1) + "a=rtcp:0\r\n", .error = SdpError::bad_rtcp_attribute},
        {.description = "a=rtcp port 65536", .body = many_media(1) + "a=rtcp:65536\r\n",
         .error = SdpError::bad_rtcp_attribute},
        {.description = "a=rtcp port not a number", .body = many_media(1) + "a=rtcp:abc IN IP4 1.2.3.4\r\n",
         .error = SdpError::bad_rtcp_attribute},
    };
    return cases;
}

BOOST_AUTO_TEST_SUITE(sdp)

BOOST_AUTO_TEST_CASE(parses_sdp_table) {
    for (const SdpCase& c : sdp_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            SdpSummary s;
            const SdpParseResult r = parse_sdp(c.body, s);
            BOOST_TEST(std::string_view(to_string(r.error)) == to_string(c.error));
            BOOST_TEST(status_name(r.status) == (c.error == SdpError::none ? "complete" : "error"));
            if (c.error != SdpError::none) continue;
            BOOST_TEST(s.truncated == c.truncated);
            BOOST_TEST(s.media_count == c.media.size());
            for (size_t i = 0; i < std::min(s.media_count, c.media.size()); ++i) {
                BOOST_TEST_CONTEXT("media " << i) {
                    const SdpMedia& m = s.media[i];
                    BOOST_TEST(m.type == c.media[i].type);
                    BOOST_TEST(points_into(m.type, c.body));
                    BOOST_TEST(m.address.to_string() == c.media[i].address);
                    BOOST_TEST(m.rtp_port == c.media[i].rtp);
                    BOOST_TEST(m.rtcp_port == c.media[i].rtcp);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(summary_is_reset_before_parsing) {
    SdpSummary s;
    BOOST_REQUIRE(parse_sdp(many_media(12), s).status == ParseStatus::complete);
    BOOST_REQUIRE(s.truncated);
    const std::string one = std::string(kSession) + "m=audio 4000 RTP/AVP 0\r\n";
    BOOST_TEST(status_name(parse_sdp(one, s).status) == "complete");
    BOOST_TEST(s.media_count == 1u);
    BOOST_TEST(!s.truncated);
    BOOST_TEST(s.media[0].address.to_string() == "unset");
    BOOST_TEST(s.media[1].rtp_port == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
