// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include "common/proto/sip.hpp"
#include "daemon/dispatch/sip_reject.hpp"

using namespace sara;
using std::chrono::seconds;

namespace {

const std::string kInvite =
    "INVITE sip:service@198.18.100.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5070;branch=z9hG4bK-1-1-0\r\n"
    "v: SIP/2.0/UDP 198.18.1.9:5060;branch=z9hG4bK-proxy\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5070>;tag=1\r\n"
    "To: service <sip:service@198.18.100.10:5060>\r\n"
    "Call-ID: 1-42@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: sip:sipp@198.18.1.2:5070\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

// The 503 for a datagram as the queue path builds it: parsed once (by the session identifier
// there), answered from the parsed message; a datagram that does not parse is never answered.
std::optional<std::string> answer(const std::string& datagram, seconds retry_after) {
    const SipParseResult parsed = parse_sip_message(datagram, SipFraming::datagram);
    if (parsed.status != ParseStatus::complete) return std::nullopt;
    return sip_503_response(parsed.message, retry_after);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_reject)

BOOST_AUTO_TEST_CASE(invite_gets_a_503_with_every_via_a_to_tag_and_retry_after) {
    const auto r = answer(kInvite, seconds(5));
    BOOST_REQUIRE(r.has_value());
    const std::string tag_prefix = "To: service <sip:service@198.18.100.10:5060>;tag=sara";
    BOOST_TEST(r->rfind("SIP/2.0 503 Service Unavailable\r\n"
                        "Via: SIP/2.0/UDP 198.18.1.2:5070;branch=z9hG4bK-1-1-0\r\n"
                        "Via: SIP/2.0/UDP 198.18.1.9:5060;branch=z9hG4bK-proxy\r\n"
                        "From: sipp <sip:sipp@198.18.1.2:5070>;tag=1\r\n" + tag_prefix, 0) == 0u);
    const size_t after_tag = r->find("\r\n", r->find(tag_prefix));
    BOOST_TEST(r->substr(after_tag) ==
               "\r\nCall-ID: 1-42@198.18.1.2\r\nCSeq: 1 INVITE\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n");
    // Stateless but stable: a retransmitted INVITE gets the very same response.
    BOOST_TEST(*answer(kInvite, seconds(5)) == *r);
}

BOOST_AUTO_TEST_CASE(existing_to_tag_is_kept_and_retry_after_0_is_left_out) {
    std::string req = kInvite;
    req.replace(req.find("To: service <sip:service@198.18.100.10:5060>"),
                std::string("To: service <sip:service@198.18.100.10:5060>").size(),
                "t: <sip:service@198.18.100.10;transport=udp>;tag=abc");
    const auto r = answer(req, seconds(0));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->find("To: <sip:service@198.18.100.10;transport=udp>;tag=abc\r\n") != std::string::npos);
    BOOST_TEST(r->find(";tag=sara") == std::string::npos);
    BOOST_TEST(r->find("Retry-After") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_uri_parameter_named_tag_is_not_a_to_tag) {
    std::string req = kInvite;
    req.replace(req.find("To: service <sip:service@198.18.100.10:5060>"),
                std::string("To: service <sip:service@198.18.100.10:5060>").size(),
                "To: <sip:service@198.18.100.10;tag=uri>");
    const auto r = answer(req, seconds(1));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->find("To: <sip:service@198.18.100.10;tag=uri>;tag=sara") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(folded_headers_are_unfolded) {
    std::string req = kInvite;
    req.replace(req.find("From: sipp <sip:sipp@198.18.1.2:5070>;tag=1"),
                std::string("From: sipp <sip:sipp@198.18.1.2:5070>;tag=1").size(),
                "From: sipp\r\n <sip:sipp@198.18.1.2:5070>;tag=1");
    const auto r = answer(req, seconds(5));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->find("From: sipp <sip:sipp@198.18.1.2:5070>;tag=1\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_is_never_answered) {
    struct Case {
        const char* description;
        std::string message;
    };
    auto without = [](const std::string& header) {
        std::string m = kInvite;
        const size_t at = m.find(header);
        m.erase(at, m.find("\r\n", at) + 2 - at);
        return m;
    };
    const std::vector<Case> cases = {
        {"a response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.1.2\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n"
                       "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"},
        {"an ACK", "ACK sip:s@198.18.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.1.2\r\nFrom: a\r\nTo: b\r\n"
                   "Call-ID: c\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"},
        {"garbage", "\x01\x02 not sip"},
        {"empty", ""},
        {"no Via (neither form)", [&] { std::string m = without("Via: "); const size_t at = m.find("v: "); m.erase(at, m.find("\r\n", at) + 2 - at); return m; }()},
        {"no From", without("From: ")},
        {"no To", without("To: ")},
        {"no Call-ID", without("Call-ID: ")},
        {"no CSeq", without("CSeq: ")},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) { BOOST_TEST(!answer(c.message, seconds(5)).has_value()); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
