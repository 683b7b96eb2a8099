// SPDX-License-Identifier: GPL-2.0-or-later
// sip-loadgen's messages: what the UAC builds parses with the project's SIP parser and carries
// what a dialog needs; the stateless UAS answers from a request's own headers, identically for
// a retransmission; read_fields rejects what it cannot answer.
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/proto/sdp.hpp"
#include "tests/loadgen/messages.hpp"
#include "tests/loadgen/sip_fields.hpp"

namespace sara::loadgen {
namespace {

const Endpoint kLocal{"198.18.100.2", 5070};
const Endpoint kTarget{"198.18.0.10", 5060};
const Endpoint kUas{"198.18.0.10", 5060};

UacCall call(uint64_t index) { return UacCall{kLocal, kTarget, "service", 0xabcd1234u, index, 6000}; }

SipFields fields(const std::string& datagram) {
    const FieldsResult r = read_fields(datagram);
    BOOST_TEST_REQUIRE(r.ok(), (r.error ? r.error : ""));
    return r.fields;
}

BOOST_AUTO_TEST_SUITE(loadgen_messages)

BOOST_AUTO_TEST_CASE(call_ids_name_their_call_and_run) {
    const std::string id = call_id(0xabcd1234u, 42);
    BOOST_TEST(id == "42-abcd1234@sip-loadgen");
    BOOST_TEST(call_index(id, 0xabcd1234u).value() == 42u);
    BOOST_TEST(!call_index(id, 0xabcd1235u));              // another run's call
    BOOST_TEST(!call_index("x-abcd1234@sip-loadgen", 0xabcd1234u));
    BOOST_TEST(!call_index("42", 0xabcd1234u));
    BOOST_TEST(!call_index("", 0xabcd1234u));
}

BOOST_AUTO_TEST_CASE(invite_parses_with_sdp) {
    std::string invite;
    build_invite(invite, call(7));
    const SipFields f = fields(invite);
    BOOST_TEST(f.message.is_request);
    BOOST_TEST(f.message.method == "INVITE");
    BOOST_TEST(f.message.call_id == "7-abcd1234@sip-loadgen");
    BOOST_TEST(f.message.cseq == 1u);
    BOOST_TEST(f.message.has_sdp());
    BOOST_TEST(f.via_count == 1u);
    BOOST_TEST(invite.find("INVITE sip:service@198.18.0.10:5060 SIP/2.0\r\n") == 0u);
    SdpSummary sdp;
    BOOST_TEST((parse_sdp(f.message.body, sdp).status == ParseStatus::complete));
    BOOST_TEST(sdp.media_count == 1u);
}

BOOST_AUTO_TEST_CASE(uas_answers_invite_with_100_and_200_with_sdp_and_a_stable_tag) {
    std::string invite;
    build_invite(invite, call(3));
    UasAnswer a, again;
    answer_request(a, fields(invite), kUas, 6000);
    answer_request(again, fields(invite), kUas, 6000);
    BOOST_TEST_REQUIRE(a.count == 2);
    BOOST_TEST(a.response[0] == again.response[0]);   // a retransmission gets the same bytes
    BOOST_TEST(a.response[1] == again.response[1]);
    const SipFields trying = fields(a.response[0]), ok = fields(a.response[1]);
    BOOST_TEST(trying.message.status_code == 100);
    BOOST_TEST(ok.message.status_code == 200);
    BOOST_TEST(ok.message.cseq_method == "INVITE");
    BOOST_TEST(ok.message.call_id == "3-abcd1234@sip-loadgen");
    BOOST_TEST(ok.message.has_sdp());
    BOOST_TEST(std::string(ok.to_value).find(";tag=" + uas_tag(ok.message.call_id)) != std::string::npos);
    BOOST_TEST(trying.to_value.find(";tag=") == std::string_view::npos);  // 100: no tag needed
    BOOST_TEST(ok.contact_uri == "sip:198.18.0.10:5060");
    BOOST_TEST(ok.via_lines[0] == fields(invite).via_lines[0]);
}

BOOST_AUTO_TEST_CASE(dialog_follows_record_route_and_contact) {
    std::string invite;
    build_invite(invite, call(5));
    // A record-routing proxy added its Via and Record-Route on the way in.
    const std::string proxied = "INVITE sip:service@198.18.2.11:5060 SIP/2.0\r\n"
                                "Record-Route: <sip:198.18.2.1;lr>\r\n"
                                "Via: SIP/2.0/UDP 198.18.2.1;branch=z9hG4bKp1\r\n" +
                                invite.substr(invite.find("\r\n") + 2);
    UasAnswer a;
    answer_request(a, fields(proxied), Endpoint{"198.18.2.11", 5060}, 6000);
    BOOST_TEST_REQUIRE(a.count == 2);
    const SipFields ok = fields(a.response[1]);
    BOOST_TEST(ok.via_count == 2u);
    BOOST_TEST(ok.record_route_count == 1u);
    const Dialog d = dialog_from(ok, "sip:fallback");
    BOOST_TEST(d.request_uri == "sip:198.18.2.11:5060");
    BOOST_TEST(d.routes == "Route: <sip:198.18.2.1;lr>\r\n");
    std::string ack, bye;
    build_ack(ack, call(5), d);
    build_bye(bye, call(5), d);
    const SipFields fa = fields(ack), fb = fields(bye);
    BOOST_TEST(fa.message.method == "ACK");
    BOOST_TEST(fa.message.cseq == 1u);
    BOOST_TEST(fb.message.method == "BYE");
    BOOST_TEST(fb.message.cseq == 2u);
    BOOST_TEST(fb.to_value == ok.to_value);
    BOOST_TEST(bye.find("BYE sip:198.18.2.11:5060 SIP/2.0\r\n") == 0u);
    BOOST_TEST(bye.find("Route: <sip:198.18.2.1;lr>\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(uas_answers_bye_absorbs_ack_and_refuses_the_unknown) {
    Dialog d{"<sip:service@198.18.0.10:5060>;tag=x", "sip:198.18.0.10:5060", ""};
    std::string ack, bye;
    build_ack(ack, call(1), d);
    build_bye(bye, call(1), d);
    UasAnswer a;
    answer_request(a, fields(ack), kUas, 6000);
    BOOST_TEST(a.count == 0);
    answer_request(a, fields(bye), kUas, 6000);
    BOOST_TEST_REQUIRE(a.count == 1);
    BOOST_TEST(fields(a.response[0]).message.status_code == 200);
    BOOST_TEST(fields(a.response[0]).message.cseq_method == "BYE");
    std::string other = bye;
    other.replace(0, 3, "FOO");
    answer_request(a, fields(other), kUas, 6000);
    BOOST_TEST_REQUIRE(a.count == 1);
    BOOST_TEST(fields(a.response[0]).message.status_code == 501);
    // A response to the UAS is no request: no answer.
    answer_request(a, fields("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: a\r\nTo: b\r\n"
                             "Call-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"), kUas, 6000);
    BOOST_TEST(a.count == 0);
}

// IPv4 messages stay exactly what they were before IPv6 support (make bench-sip's figures
// compare across versions): the whole INVITE, byte for byte.
BOOST_AUTO_TEST_CASE(an_ipv4_invite_is_byte_for_byte_the_same) {
    std::string invite;
    build_invite(invite, call(42));
    BOOST_TEST(invite ==
               "INVITE sip:service@198.18.0.10:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 198.18.100.2:5070;branch=z9hG4bK-abcd1234-42-i;rport\r\n"
               "From: <sip:sip-loadgen@198.18.100.2:5070>;tag=g42\r\n"
               "Call-ID: 42-abcd1234@sip-loadgen\r\n"
               "To: <sip:service@198.18.0.10:5060>\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:sip-loadgen@198.18.100.2:5070>\r\n"
               "Max-Forwards: 70\r\n"
               "Content-Type: application/sdp\r\n"
               "Content-Length: 125\r\n"
               "\r\n"
               "v=0\r\n"
               "o=sip-loadgen 1 1 IN IP4 198.18.100.2\r\n"
               "s=-\r\n"
               "c=IN IP4 198.18.100.2\r\n"
               "t=0 0\r\n"
               "m=audio 6000 RTP/AVP 0\r\n"
               "a=rtpmap:0 PCMU/8000\r\n");
}

const Endpoint kLocal6{"2001:db8:1::2", 5070};
const Endpoint kVip6{"2001:db8:100::10", 5060};

BOOST_AUTO_TEST_CASE(endpoints_bracket_ipv6_hosts) {
    BOOST_TEST(to_string(kVip6) == "[2001:db8:100::10]:5060");
    BOOST_TEST(to_string(kTarget) == "198.18.0.10:5060");
    BOOST_TEST(kVip6.is_v6());
    BOOST_TEST(!kTarget.is_v6());
}

// RFC 3261 §19.1.1 / RFC 5118: IPv6 references in SIP URIs and Via in brackets; SDP
// (RFC 4566) says IP6 and writes the address bare.
BOOST_AUTO_TEST_CASE(an_ipv6_invite_brackets_its_hosts_and_offers_ip6_media) {
    std::string invite;
    build_invite(invite, UacCall{kLocal6, kVip6, "service", 0xabcd1234u, 7, 6000});
    BOOST_TEST(invite.find("INVITE sip:service@[2001:db8:100::10]:5060 SIP/2.0\r\n") == 0u);
    BOOST_TEST(invite.find("\r\nVia: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-abcd1234-7-i;rport\r\n")
               != std::string::npos);
    BOOST_TEST(invite.find("\r\nFrom: <sip:sip-loadgen@[2001:db8:1::2]:5070>;tag=g7\r\n") != std::string::npos);
    BOOST_TEST(invite.find("\r\nTo: <sip:service@[2001:db8:100::10]:5060>\r\n") != std::string::npos);
    BOOST_TEST(invite.find("\r\nContact: <sip:sip-loadgen@[2001:db8:1::2]:5070>\r\n") != std::string::npos);
    BOOST_TEST(invite.find("\r\no=sip-loadgen 1 1 IN IP6 2001:db8:1::2\r\n") != std::string::npos);
    BOOST_TEST(invite.find("\r\nc=IN IP6 2001:db8:1::2\r\n") != std::string::npos);
    const SipFields f = fields(invite);
    BOOST_TEST(f.message.method == "INVITE");
    BOOST_TEST(f.message.has_sdp());
    SdpSummary sdp;
    BOOST_TEST_REQUIRE((parse_sdp(f.message.body, sdp).status == ParseStatus::complete));
    BOOST_TEST_REQUIRE(sdp.media_count == 1u);
    BOOST_TEST(sdp.media[0].address.to_string() == "2001:db8:1::2");
    BOOST_TEST(sdp.media[0].rtp_port == 6000);
}

BOOST_AUTO_TEST_CASE(the_uas_answers_ipv6_with_a_bracketed_contact_and_the_dialog_follows_it) {
    const UacCall c{kLocal6, kVip6, "service", 0xabcd1234u, 9, 6000};
    std::string invite;
    build_invite(invite, c);
    UasAnswer a;
    answer_request(a, fields(invite), kVip6, 6002);
    BOOST_TEST_REQUIRE(a.count == 2);
    const SipFields ok = fields(a.response[1]);
    BOOST_TEST(ok.message.status_code == 200);
    BOOST_TEST(ok.contact_uri == "sip:[2001:db8:100::10]:5060");
    BOOST_TEST(ok.via_lines[0] == "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-abcd1234-9-i;rport");
    BOOST_TEST(a.response[1].find("\r\nc=IN IP6 2001:db8:100::10\r\n") != std::string::npos);
    SdpSummary sdp;
    BOOST_TEST_REQUIRE((parse_sdp(ok.message.body, sdp).status == ParseStatus::complete));
    BOOST_TEST(sdp.media[0].address.to_string() == "2001:db8:100::10");
    BOOST_TEST(sdp.media[0].rtp_port == 6002);
    const Dialog d = dialog_from(ok, invite_uri(c));
    std::string bye;
    build_bye(bye, c, d);
    BOOST_TEST(bye.find("BYE sip:[2001:db8:100::10]:5060 SIP/2.0\r\n") == 0u);
    answer_request(a, fields(bye), kVip6, 6002);
    BOOST_TEST_REQUIRE(a.count == 1);
    BOOST_TEST(fields(a.response[0]).message.status_code == 200);
}

BOOST_AUTO_TEST_CASE(read_fields_handles_compact_forms_and_folding) {
    const std::string msg = "BYE sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
                            "f: <sip:a@h>;tag=1\r\nt: <sip:x@h>\r\n ;tag=2\r\ni: abc\r\nCSeq: 2 BYE\r\n"
                            "m: sip:x@h:5062;transport=udp\r\nl: 0\r\n\r\n";
    const SipFields f = fields(msg);
    BOOST_TEST(f.via_count == 1u);
    BOOST_TEST(f.to_value == "<sip:x@h>\r\n ;tag=2");  // the fold is kept, answers copy it
    BOOST_TEST(f.contact_uri == "sip:x@h:5062");
}

BOOST_AUTO_TEST_CASE(read_fields_rejects_what_it_cannot_answer) {
    const std::string head = "BYE sip:x@h SIP/2.0\r\n";
    const std::string rest = "f: a\r\nt: b\r\ni: c\r\nCSeq: 2 BYE\r\n\r\n";
    BOOST_TEST(!read_fields(head + rest).ok());                                   // no Via
    BOOST_TEST(!read_fields(head + "v: x\r\nf: a\r\nt: b\r\nCSeq: 2 BYE\r\n\r\n").ok());  // no Call-ID
    BOOST_TEST(!read_fields(head + "v: x\r\nf: a\r\ni: c\r\nCSeq: 2 BYE\r\n\r\n").ok());  // no To
    BOOST_TEST(!read_fields(head + "v: x\r\nno colon\r\n" + rest).ok());
    std::string vias;
    for (size_t i = 0; i <= kMaxVias; ++i) vias += "Via: SIP/2.0/UDP h" + std::to_string(i) + "\r\n";
    BOOST_TEST(std::string(read_fields(head + vias + rest).error) == "too many Via headers");
    BOOST_TEST(!read_fields("").ok());
    BOOST_TEST(!read_fields("garbage\r\n\r\n").ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara::loadgen
