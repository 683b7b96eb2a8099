// SPDX-License-Identifier: GPL-2.0-or-later
// SIP message framing and header extraction. The INVITEs and responses are the messages
// SIPp 3.6 (uac/uas scenarios) and baresip 3.x send, addresses rewritten to the test ranges;
// the whitespace torture message is RFC 4475 §3.1.1.1. The hostile cases are the ones the
// fuzz regressions in tests/fuzz/regressions/sip/ replay.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/sip.hpp"
#include "tests/unit/support/parse_checks.hpp"

namespace sara {
namespace {

using test::points_into;
using test::status_name;

// --- real messages ------------------------------------------------------------------------

const std::string kSippSdp =
    "v=0\r\no=user1 53655765 2353687637 IN IP4 198.18.1.2\r\ns=-\r\nc=IN IP4 198.18.1.2\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

const std::string kSippInvite =
    "INVITE sip:service@198.18.100.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-0\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: sip:sipp@198.18.1.2:5061\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: Performance Test\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length:   131\r\n"
    "\r\n" + kSippSdp;

const std::string kBaresipSdp =
    "v=0\r\no=- 1419419498 2063838391 IN IP4 198.18.1.3\r\ns=-\r\nc=IN IP4 198.18.1.3\r\nt=0 0\r\n"
    "m=audio 10066 RTP/AVP 96 9 0 8 101\r\nb=AS:64\r\na=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp:10067\r\n"
    "a=sendrecv\r\na=label:1\r\na=ssrc:2290424418 cname:2c7ee6a5a3a4c0e1\r\na=rtcp-rsize\r\n"
    "m=video 10068 RTP/AVP 100\r\nb=AS:1000\r\na=rtpmap:100 VP8/90000\r\na=rtcp:10069\r\na=sendrecv\r\n"
    "a=label:2\r\na=rtcp-fb:* nack pli\r\n";

const std::string kBaresipInvite =
    "INVITE sip:svc@198.18.100.10;transport=tcp SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 198.18.1.3:43211;branch=z9hG4bK8f3a1c2d9e7b6a50;rport\r\n"
    "Contact: <sip:alice-0x55d1c2a3b4c0@198.18.1.3:43211;transport=tcp>\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:svc@198.18.100.10;transport=tcp>\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=4a0c7fb2c3a1e9d5\r\n"
    "Call-ID: 9d2e4b1f7a6c3e08\r\n"
    "CSeq: 29516 INVITE\r\n"
    "User-Agent: baresip v3.10.1 (x86_64/linux)\r\n"
    "Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\n"
    "Supported: replaces,norefersub,100rel\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 521\r\n"
    "\r\n" + kBaresipSdp;

const std::string kTrying =
    "SIP/2.0 100 Trying\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-0\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

const std::string kRinging =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-0\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>;tag=5521SIPpTag011\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:198.18.100.21:5060;transport=UDP>\r\n"
    "Content-Length: 0\r\n\r\n";

const std::string kAnswerSdp =
    "v=0\r\no=- 3912 3913 IN IP4 198.18.100.21\r\ns=-\r\nc=IN IP4 198.18.100.21\r\nt=0 0\r\n"
    "m=audio 31000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\nm=video 0 RTP/AVP 100\r\n";

const std::string kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-0\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>;tag=5521SIPpTag011\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:198.18.100.21:5060;transport=UDP>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 159\r\n"
    "\r\n" + kAnswerSdp;

const std::string kBusy =
    "SIP/2.0 486 Busy Here\r\n"
    "Via: SIP/2.0/TCP 198.18.1.3:43211;branch=z9hG4bK8f3a1c2d9e7b6a50;rport=43211\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=4a0c7fb2c3a1e9d5\r\n"
    "To: <sip:svc@198.18.100.10;transport=tcp>;tag=a8f1c0\r\n"
    "Call-ID: 9d2e4b1f7a6c3e08\r\n"
    "CSeq: 29516 INVITE\r\n"
    "Server: baresip v3.10.1 (x86_64/linux)\r\n"
    "Content-Length: 0\r\n\r\n";

const std::string kAck =
    "ACK sip:198.18.100.21:5060;transport=UDP SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-5\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>;tag=5521SIPpTag011\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 1 ACK\r\n"
    "Contact: sip:sipp@198.18.1.2:5061\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: Performance Test\r\n"
    "Content-Length: 0\r\n\r\n";

const std::string kBye =
    "BYE sip:198.18.100.21:5060;transport=UDP SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-3815-1-7\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5061>;tag=3815SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>;tag=5521SIPpTag011\r\n"
    "Call-ID: 1-3815@198.18.1.2\r\n"
    "CSeq: 2 BYE\r\n"
    "Contact: sip:sipp@198.18.1.2:5061\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: Performance Test\r\n"
    "Content-Length: 0\r\n\r\n";

// RFC 3261 §20 compact forms throughout, as some proxies squeeze UDP messages.
const std::string kCompactInvite =
    "INVITE sip:bob@198.18.100.10 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 198.18.1.4:5060;branch=z9hG4bKnashds7\r\n"
    "f: <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "t: <sip:bob@biloxi.example.com>\r\n"
    "i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "m: <sip:alice@198.18.1.4>\r\n"
    "c: application/sdp\r\n"
    "l: 131\r\n"
    "\r\n" + kSippSdp;

const std::string kTortureSdp =
    "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n"
    "m=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n";

// RFC 4475 §3.1.1.1 "wsinv": folding everywhere, a folded CSeq, mixed short and long forms.
const std::string kTortureInvite =
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
    "TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
    "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n"
    "MaX-fOrWaRdS: 0068\r\n"
    "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
    "Content-Length   : 150\r\n"
    "cseq: 0009\r\n  INVITE\r\n"
    "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n"
    "s :\r\n"
    "NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n"
    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
    "Content-Type: application/sdp\r\n"
    "Route:\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
    " SIP  /    2.0   / UDP  198.18.255.111   ; branch=\r\n z9hG4bK30239\r\n"
    "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n"
    "  secondparam ; q = 0.33\r\n"
    "\r\n" + kTortureSdp;

const std::string kBareLf =
    "OPTIONS sip:svc@198.18.100.10 SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.18.1.5:5060;branch=z9hG4bK-lf\n"
    "Call-ID: lf-1@198.18.1.5\n"
    "CSeq: 7 OPTIONS\n"
    "Content-Length: 0\n\n";

// A minimal request around one header line, for the cases about a single header.
std::string with_header(std::string_view header, std::string_view body = {}) {
    return "OPTIONS sip:a@198.18.100.10 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n" + std::string(header) + "\r\n\r\n" +
           std::string(body);
}

const std::string kLongestCallId(SipLimits{}.max_call_id, 'c');

struct SipCase {
    const char* description;
    std::string input;
    SipFraming framing = SipFraming::datagram;
    SipLimits limits{};
    ParseStatus status = ParseStatus::complete;
    SipError error = SipError::none;
    bool is_request = true;
    std::string_view method{};
    int status_code = 0;
    std::string_view call_id{};
    uint32_t cseq = 0;
    std::string_view cseq_method{};
    std::string_view content_type{};
    std::string_view body{};
    bool has_sdp = false;
    std::optional<size_t> length{};  // when complete; defaults to the whole input
};

constexpr SipFraming kStream = SipFraming::stream;

const std::vector<SipCase>& sip_cases() {
    static const std::vector<SipCase> cases = {
        // --- real messages ------------------------------------------------------------------
        {.description = "SIPp uac INVITE with SDP over UDP", .input = kSippInvite, .method = "INVITE",
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE", .content_type = "application/sdp",
         .body = kSippSdp, .has_sdp = true},
        {.description = "SIPp uac INVITE over TCP", .input = kSippInvite, .framing = kStream, .method = "INVITE",
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE", .content_type = "application/sdp",
         .body = kSippSdp, .has_sdp = true},
        {.description = "baresip INVITE with audio and video over TCP", .input = kBaresipInvite, .framing = kStream,
         .method = "INVITE", .call_id = "9d2e4b1f7a6c3e08", .cseq = 29516, .cseq_method = "INVITE",
         .content_type = "application/sdp", .body = kBaresipSdp, .has_sdp = true},
        {.description = "100 Trying", .input = kTrying, .is_request = false, .status_code = 100,
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE"},
        {.description = "180 Ringing", .input = kRinging, .is_request = false, .status_code = 180,
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE"},
        {.description = "200 OK with an SDP answer", .input = kOk, .is_request = false, .status_code = 200,
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE", .content_type = "application/sdp",
         .body = kAnswerSdp, .has_sdp = true},
        {.description = "486 Busy Here over TCP", .input = kBusy, .framing = kStream, .is_request = false,
         .status_code = 486, .call_id = "9d2e4b1f7a6c3e08", .cseq = 29516, .cseq_method = "INVITE"},
        {.description = "ACK", .input = kAck, .method = "ACK", .call_id = "1-3815@198.18.1.2", .cseq = 1,
         .cseq_method = "ACK"},
        {.description = "BYE", .input = kBye, .method = "BYE", .call_id = "1-3815@198.18.1.2", .cseq = 2,
         .cseq_method = "BYE"},
        {.description = "compact i: l: c: headers", .input = kCompactInvite, .method = "INVITE",
         .call_id = "a84b4c76e66710@pc33.atlanta.example.com", .cseq = 314159, .cseq_method = "INVITE",
         .content_type = "application/sdp", .body = kSippSdp, .has_sdp = true},
        {.description = "RFC 4475 wsinv: folded headers and a folded CSeq", .input = kTortureInvite,
         .method = "INVITE", .call_id = "wsinv.ndaksdj@192.0.2.1", .cseq = 9, .cseq_method = "INVITE",
         .content_type = "application/sdp", .body = kTortureSdp, .has_sdp = true},
        {.description = "bare LF line ends", .input = kBareLf, .method = "OPTIONS", .call_id = "lf-1@198.18.1.5",
         .cseq = 7, .cseq_method = "OPTIONS"},
        {.description = "CRLF and bare LF mixed",
         .input = "MESSAGE sip:a@h SIP/2.0\r\nCall-ID: m1\nCSeq: 3 MESSAGE\r\nContent-Type: text/plain\n"
                  "Content-Length: 2\r\n\nhi",
         .method = "MESSAGE", .call_id = "m1", .cseq = 3, .cseq_method = "MESSAGE", .content_type = "text/plain",
         .body = "hi"},
        {.description = "extension method with a digit (RFC 3261 token)",
         .input = "X-PING2 sip:a@h SIP/2.0\r\nCall-ID: p\r\nCSeq: 1 X-PING2\r\n\r\n", .method = "X-PING2",
         .call_id = "p", .cseq = 1, .cseq_method = "X-PING2"},
        {.description = "response without a reason phrase", .input = "SIP/2.0 200\r\nCall-ID: r\r\nCSeq: 5 BYE\r\n\r\n",
         .is_request = false, .status_code = 200, .call_id = "r", .cseq = 5, .cseq_method = "BYE"},
        {.description = "status 699 is the largest", .input = "SIP/2.0 699 Custom\r\nCall-ID: r\r\nCSeq: 5 BYE\r\n\r\n",
         .is_request = false, .status_code = 699, .call_id = "r", .cseq = 5, .cseq_method = "BYE"},

        // --- framing --------------------------------------------------------------------------
        {.description = "datagram: bytes after Content-Length are not part of the message",
         .input = with_header("Call-ID: d1\r\nContent-Length: 2", "okEXTRA"), .method = "OPTIONS", .call_id = "d1",
         .cseq = 1, .cseq_method = "OPTIONS", .body = "ok", .length = with_header("Call-ID: d1\r\nContent-Length: 2").size() + 2},
        {.description = "datagram without Content-Length: the body is the rest",
         .input = with_header("Call-ID: d2\r\nContent-Type: application/sdp", kSippSdp), .method = "OPTIONS",
         .call_id = "d2", .cseq = 1, .cseq_method = "OPTIONS", .content_type = "application/sdp", .body = kSippSdp,
         .has_sdp = true},
        {.description = "datagram with a body shorter than Content-Length",
         .input = with_header("Call-ID: d3\r\nContent-Length: 131", kSippSdp.substr(0, 130)),
         .status = ParseStatus::error, .error = SipError::body_truncated},
        {.description = "datagram with Content-Length but no body at all",
         .input = with_header("Call-ID: d3\r\nContent-Length: 1"), .status = ParseStatus::error,
         .error = SipError::body_truncated},
        {.description = "datagram without the blank line",
         .input = "OPTIONS sip:a@h SIP/2.0\r\nCall-ID: d4\r\nCSeq: 1 OPTIONS\r\n", .status = ParseStatus::incomplete},
        {.description = "stream without Content-Length: no body",
         .input = with_header("Call-ID: s1", "OPTIONS"), .framing = kStream, .method = "OPTIONS", .call_id = "s1",
         .cseq = 1, .cseq_method = "OPTIONS", .length = with_header("Call-ID: s1").size()},
        {.description = "stream: body not all there yet",
         .input = with_header("Call-ID: s2\r\nContent-Length: 10", "12345"), .framing = kStream,
         .status = ParseStatus::incomplete},
        {.description = "stream: only the first message of a buffer is consumed",
         .input = kTrying + kRinging, .framing = kStream, .is_request = false, .status_code = 100,
         .call_id = "1-3815@198.18.1.2", .cseq = 1, .cseq_method = "INVITE", .length = kTrying.size()},
        {.description = "empty input waits", .input = "", .framing = kStream, .status = ParseStatus::incomplete},
        {.description = "empty datagram", .input = "", .status = ParseStatus::incomplete},

        // --- Call-ID ------------------------------------------------------------------------
        {.description = "missing Call-ID is complete with an empty call_id",
         .input = "OPTIONS sip:a@h SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", .method = "OPTIONS",
         .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "Call-ID surrounded by whitespace", .input = with_header("Call-ID: \t abc@h \t"),
         .method = "OPTIONS", .call_id = "abc@h", .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "header names in any case", .input = with_header("cAlL-iD: x1\r\nCONTENT-LENGTH: 0"),
         .method = "OPTIONS", .call_id = "x1", .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "duplicate Call-ID with the same value", .input = with_header("Call-ID: dup@h\r\nCall-ID: dup@h"),
         .method = "OPTIONS", .call_id = "dup@h", .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "Call-ID and compact i: with the same value", .input = with_header("i: dup@h\r\nCall-ID:dup@h"),
         .method = "OPTIONS", .call_id = "dup@h", .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "conflicting Call-ID headers", .input = with_header("Call-ID: a@h\r\nCall-ID: b@h"),
         .status = ParseStatus::error, .error = SipError::conflicting_call_id},
        {.description = "Call-ID conflicting with compact i:", .input = with_header("Call-ID: a@h\r\ni: b@h"),
         .status = ParseStatus::error, .error = SipError::conflicting_call_id},
        {.description = "folded Call-ID: value on the continuation line",
         .input = with_header("Call-ID:\r\n  fold@h"), .method = "OPTIONS", .call_id = "fold@h", .cseq = 1,
         .cseq_method = "OPTIONS"},
        {.description = "folded Call-ID keeps its raw span, line break included",
         .input = with_header("Call-ID: fold\r\n\t@h"), .method = "OPTIONS", .call_id = "fold\r\n\t@h", .cseq = 1,
         .cseq_method = "OPTIONS"},
        {.description = "Call-ID exactly max_call_id", .input = with_header("Call-ID: " + kLongestCallId),
         .method = "OPTIONS", .call_id = kLongestCallId, .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "Call-ID one byte over max_call_id", .input = with_header("Call-ID: " + std::string(257, 'c')),
         .status = ParseStatus::error, .error = SipError::call_id_too_long},
        {.description = "10 KiB Call-ID", .input = with_header("Call-ID: " + std::string(10 * 1024, 'c')),
         .status = ParseStatus::error, .error = SipError::call_id_too_long},
        {.description = "10 KiB Call-ID on a stream", .input = with_header("Call-ID: " + std::string(10 * 1024, 'c')),
         .framing = kStream, .status = ParseStatus::error, .error = SipError::call_id_too_long},
        {.description = "10 KiB Call-ID folded over many lines",
         .input = with_header("Call-ID: x" + [] {
             std::string s;
             for (int i = 0; i < 1024; ++i) s += "\r\n 123456";
             return s;
         }()),
         .status = ParseStatus::error, .error = SipError::call_id_too_long},

        // --- CSeq ---------------------------------------------------------------------------
        {.description = "CSeq with extra whitespace", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq:   7   BYE  \r\n\r\n",
         .method = "BYE", .call_id = "c", .cseq = 7, .cseq_method = "BYE"},
        {.description = "CSeq separated by a tab", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 7\tBYE\r\n\r\n",
         .method = "BYE", .call_id = "c", .cseq = 7, .cseq_method = "BYE"},
        {.description = "CSeq 2^32-1 is the largest",
         .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 4294967295 BYE\r\n\r\n", .method = "BYE", .call_id = "c",
         .cseq = 4294967295u, .cseq_method = "BYE"},
        {.description = "CSeq number without a method", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 12\r\n\r\n",
         .method = "BYE", .call_id = "c", .cseq = 12},
        {.description = "missing CSeq is reported as 0", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\n\r\n",
         .method = "BYE", .call_id = "c"},
        {.description = "CSeq 2^32", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 4294967296 BYE\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_cseq},
        {.description = "CSeq without a number", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: BYE\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_cseq},
        {.description = "CSeq empty", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq:\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_cseq},
        {.description = "CSeq negative", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: -1 BYE\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_cseq},
        {.description = "CSeq of 30 digits", .input = "BYE sip:a@h SIP/2.0\r\nCall-ID: c\r\nCSeq: 123456789012345678901234567890 BYE\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_cseq},

        // --- Content-Length and Content-Type ---------------------------------------------------
        {.description = "duplicate Content-Length with the same value",
         .input = with_header("Call-ID: l1\r\nContent-Length: 2\r\nl: 02", "ok"), .method = "OPTIONS",
         .call_id = "l1", .cseq = 1, .cseq_method = "OPTIONS", .body = "ok"},
        {.description = "conflicting Content-Length headers (request smuggling)",
         .input = with_header("Call-ID: l2\r\nContent-Length: 0\r\nContent-Length: 5", "hello"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length conflicting with compact l: on a stream",
         .input = with_header("Call-ID: l3\r\nl: 5\r\nContent-Length: 4", "hello"), .framing = kStream,
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length 2^32 + 1", .input = with_header("Call-ID: l4\r\nContent-Length: 4294967297"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length 2^32 + 1 on a stream",
         .input = with_header("Call-ID: l4\r\nContent-Length: 4294967297"), .framing = kStream,
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length 2^64", .input = with_header("Call-ID: l5\r\nContent-Length: 18446744073709551616"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length 2^32 with a limit above it",
         .input = with_header("Call-ID: l6\r\nContent-Length: 4294967296"), .framing = kStream,
         .limits = {.max_body_bytes = size_t{1} << 40}, .status = ParseStatus::incomplete},
        {.description = "Content-Length above max_body_bytes",
         .input = with_header("Call-ID: l7\r\nContent-Length: 65537"), .framing = kStream,
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length at max_body_bytes waits on a stream",
         .input = with_header("Call-ID: l8\r\nContent-Length: 65536", "v=0"), .framing = kStream,
         .status = ParseStatus::incomplete},
        {.description = "one digit above a one-digit max_body_bytes",
         .input = with_header("Call-ID: l9\r\nContent-Length: 9", "123456789"), .limits = {.max_body_bytes = 8},
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "a body where max_body_bytes is 0",
         .input = with_header("Call-ID: l10\r\nContent-Length: 1", "x"), .framing = kStream,
         .limits = {.max_body_bytes = 0}, .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length 0 where max_body_bytes is 0",
         .input = with_header("Call-ID: l11\r\nContent-Length: 0"), .framing = kStream, .limits = {.max_body_bytes = 0},
         .method = "OPTIONS", .call_id = "l11", .cseq = 1, .cseq_method = "OPTIONS"},
        {.description = "Content-Length negative", .input = with_header("Call-ID: l\r\nContent-Length: -1"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length with a sign", .input = with_header("Call-ID: l\r\nContent-Length: +1", "x"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length in hex", .input = with_header("Call-ID: l\r\nContent-Length: 0x10"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length with two numbers", .input = with_header("Call-ID: l\r\nContent-Length: 1 1", "x"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "Content-Length empty", .input = with_header("Call-ID: l\r\nContent-Length:"),
         .status = ParseStatus::error, .error = SipError::bad_content_length},
        {.description = "folded Content-Length",
         .input = with_header("Call-ID: l12\r\nContent-Length:\r\n 2", "ok"), .framing = kStream, .method = "OPTIONS",
         .call_id = "l12", .cseq = 1, .cseq_method = "OPTIONS", .body = "ok"},
        {.description = "Content-Type parameters stripped, media type in any case",
         .input = with_header("Call-ID: t1\r\nContent-Type: Application/SDP ; charset=utf-8", "v=0\r\n"),
         .method = "OPTIONS", .call_id = "t1", .cseq = 1, .cseq_method = "OPTIONS",
         .content_type = "Application/SDP", .body = "v=0\r\n", .has_sdp = true},
        {.description = "body that looks like SDP under another Content-Type is not SDP",
         .input = with_header("Call-ID: t2\r\nContent-Type: multipart/mixed;boundary=x", "v=0\r\n"),
         .method = "OPTIONS", .call_id = "t2", .cseq = 1, .cseq_method = "OPTIONS", .content_type = "multipart/mixed",
         .body = "v=0\r\n"},
        {.description = "SDP recognised without a Content-Type", .input = with_header("Call-ID: t3", "v=0\r\n"),
         .method = "OPTIONS", .call_id = "t3", .cseq = 1, .cseq_method = "OPTIONS", .body = "v=0\r\n", .has_sdp = true},
        {.description = "application/sdp with an empty body has no SDP",
         .input = with_header("Call-ID: t4\r\nContent-Type: application/sdp\r\nContent-Length: 0"),
         .method = "OPTIONS", .call_id = "t4", .cseq = 1, .cseq_method = "OPTIONS", .content_type = "application/sdp"},

        // --- header block -------------------------------------------------------------------
        {.description = "64 KiB header line", .input = with_header("X-Pad: " + std::string(64 * 1024, 'a')),
         .status = ParseStatus::error, .error = SipError::header_too_large},
        {.description = "64 KiB header line on a stream", .input = with_header("X-Pad: " + std::string(64 * 1024, 'a')),
         .framing = kStream, .status = ParseStatus::error, .error = SipError::header_too_large},
        {.description = "64 KiB unterminated start line", .input = "INVITE sip:" + std::string(64 * 1024, 'a'),
         .framing = kStream, .status = ParseStatus::error, .error = SipError::header_too_large},
        {.description = "unterminated header block under the limit waits",
         .input = "INVITE sip:a@h SIP/2.0\r\nX-Pad: " + std::string(8 * 1024, 'a'), .framing = kStream,
         .status = ParseStatus::incomplete},
        {.description = "header block exactly max_header_bytes",
         .input = "OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", .limits = {.max_header_bytes = 37},
         .method = "OPTIONS", .call_id = "x"},
        {.description = "header block one byte over max_header_bytes",
         .input = "OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", .limits = {.max_header_bytes = 36},
         .status = ParseStatus::error, .error = SipError::header_too_large},
        {.description = "a body beyond max_header_bytes does not count against it",
         .input = "OPTIONS sip:a SIP/2.0\r\nl: 40\r\n\r\n" + std::string(40, 'b'), .framing = kStream,
         .limits = {.max_header_bytes = 32}, .method = "OPTIONS", .body = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
        {.description = "header line without a colon", .input = with_header("Call-ID x"), .status = ParseStatus::error,
         .error = SipError::bad_header},
        {.description = "a folded line right after the start line has nothing to continue",
         .input = "OPTIONS sip:a SIP/2.0\r\n Call-ID: x\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_header},
        {.description = "an error in a complete line is reported before the block ends",
         .input = "OPTIONS sip:a SIP/2.0\r\nno colon here\r\nCall-ID: x\r\n", .framing = kStream,
         .status = ParseStatus::error, .error = SipError::bad_header},

        // --- start line -----------------------------------------------------------------------
        {.description = "HTTP request", .input = "GET / HTTP/1.1\r\nHost: x\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "RTSP request", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "SIP/3.0 request", .input = "INVITE sip:a@h SIP/3.0\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "four-digit status", .input = "SIP/2.0 2000 OK\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "status below 100", .input = "SIP/2.0 099 Odd\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "status 700", .input = "SIP/2.0 700 Odd\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "status not a number", .input = "SIP/2.0 2x0 OK\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "double space in the request line", .input = "INVITE  sip:a@h SIP/2.0\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_start_line},
        {.description = "request line without a version", .input = "INVITE sip:a@h\r\n\r\n",
         .status = ParseStatus::error, .error = SipError::bad_start_line},
        {.description = "method with a slash", .input = "IN/VITE sip:a@h SIP/2.0\r\n\r\n", .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "keep-alive CRLF before a start line (the stream reader skips it first)",
         .input = "\r\n\r\nOPTIONS sip:a SIP/2.0\r\n\r\n", .framing = kStream, .status = ParseStatus::error,
         .error = SipError::bad_start_line},
        {.description = "TLS hello", .input = std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", 12),
         .status = ParseStatus::error, .error = SipError::bad_start_line},
    };
    return cases;
}

BOOST_AUTO_TEST_SUITE(sip)

BOOST_AUTO_TEST_CASE(parses_message_table) {
    for (const SipCase& c : sip_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const SipParseResult r = parse_sip_message(c.input, c.framing, c.limits);
            BOOST_TEST(status_name(r.status) == status_name(c.status));
            BOOST_TEST(std::string_view(to_string(r.error)) == to_string(c.error));
            if (c.status != ParseStatus::complete) {
                BOOST_TEST(r.message.length == 0u);
                continue;
            }
            const SipMessage& m = r.message;
            BOOST_TEST(m.length == c.length.value_or(c.input.size()));
            BOOST_TEST(m.is_request == c.is_request);
            BOOST_TEST(m.method == c.method);
            BOOST_TEST(m.status_code == c.status_code);
            BOOST_TEST(m.call_id == c.call_id);
            BOOST_TEST(m.cseq == c.cseq);
            BOOST_TEST(m.cseq_method == c.cseq_method);
            BOOST_TEST(m.content_type == c.content_type);
            BOOST_TEST(m.body == c.body);
            BOOST_TEST(m.has_sdp() == c.has_sdp);
            // Zero copy: every view lies in the message itself, the body at its very end.
            const std::string_view whole = std::string_view(c.input).substr(0, m.length);
            for (const std::string_view part : {m.method, m.call_id, m.cseq_method, m.content_type, m.body})
                BOOST_TEST(points_into(part, whole));
            if (!m.body.empty()) BOOST_TEST(m.body.data() + m.body.size() == whole.data() + whole.size());
        }
    }
}

// A message split over TCP segments: every proper prefix must ask for more bytes (never an
// error, never a shorter message), and the whole must parse to its full length.
BOOST_AUTO_TEST_CASE(every_prefix_of_a_stream_message_is_incomplete) {
    const struct {
        const char* description;
        const std::string& message;
    } messages[] = {
        {"SIPp INVITE", kSippInvite}, {"baresip INVITE", kBaresipInvite}, {"100 Trying", kTrying},
        {"180 Ringing", kRinging},    {"200 OK with SDP", kOk},           {"486 Busy Here", kBusy},
        {"ACK", kAck},                {"BYE", kBye},                      {"compact headers", kCompactInvite},
        {"RFC 4475 wsinv", kTortureInvite}, {"bare LF", kBareLf},
    };
    for (const auto& c : messages) {
        BOOST_TEST_CONTEXT(c.description) {
            const std::string_view whole = c.message;
            size_t wrong = 0;
            for (size_t n = 0; n < whole.size(); ++n) {
                const SipParseResult r = parse_sip_message(whole.substr(0, n), SipFraming::stream);
                if (r.status != ParseStatus::incomplete) {
                    BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
                        BOOST_TEST(status_name(r.status) == "incomplete");
                    }
                    if (++wrong == 3) break;  // one wrong prefix tells the story; don't flood the log
                }
            }
            const SipParseResult r = parse_sip_message(whole, SipFraming::stream);
            BOOST_TEST(status_name(r.status) == "complete");
            BOOST_TEST(r.message.length == whole.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(an_error_stays_an_error_as_bytes_arrive) {
    const std::string input = with_header("Call-ID: a@h\r\nCall-ID: b@h\r\nUser-Agent: x");
    // The second Call-ID is judged once the next header line is complete.
    const size_t known_at = input.find("User-Agent: x\r\n") + std::string_view("User-Agent: x\r\n").size();
    for (size_t n = known_at; n <= input.size(); ++n) {
        BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
            const SipParseResult r = parse_sip_message(std::string_view(input).substr(0, n), SipFraming::stream);
            BOOST_TEST(std::string_view(to_string(r.error)) == "conflicting_call_id");
        }
    }
}

// What a TCP connection carries: messages back to back, the last one possibly unfinished.
struct StreamCase {
    const char* description;
    std::string input;
    std::vector<std::string> items;  // the method, or the status code of a response
    size_t left_over = 0;            // bytes of an unfinished message at the end
};

BOOST_AUTO_TEST_CASE(walks_a_signalling_connection) {
    const std::vector<StreamCase> cases = {
        {.description = "INVITE, ACK and BYE in one buffer", .input = kSippInvite + kAck + kBye,
         .items = {"INVITE", "ACK", "BYE"}},
        {.description = "responses with and without bodies", .input = kTrying + kRinging + kOk + kBusy,
         .items = {"100", "180", "200", "486"}},
        {.description = "a message cut in its body at the end", .input = kBaresipInvite + kOk.substr(0, kOk.size() - 10),
         .items = {"INVITE"}, .left_over = kOk.size() - 10},
        {.description = "a message cut in its headers at the end", .input = kTrying + kRinging.substr(0, 40),
         .items = {"100"}, .left_over = 40},
        {.description = "bare LF messages back to back", .input = kBareLf + kBareLf, .items = {"OPTIONS", "OPTIONS"}},
    };
    for (const StreamCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::string_view data = c.input;
            std::vector<std::string> items;
            for (;;) {
                const SipParseResult r = parse_sip_message(data, SipFraming::stream);
                if (r.status != ParseStatus::complete) {
                    BOOST_TEST(status_name(r.status) == "incomplete");
                    break;
                }
                items.push_back(r.message.is_request ? std::string(r.message.method)
                                                     : std::to_string(r.message.status_code));
                data.remove_prefix(r.message.length);
            }
            BOOST_TEST(items == c.items, boost::test_tools::per_element());
            BOOST_TEST(data.size() == c.left_over);
        }
    }
}

BOOST_AUTO_TEST_CASE(header_too_large_as_soon_as_the_bound_is_passed) {
    const SipLimits limits{.max_header_bytes = 1024};
    const std::string input = "INVITE sip:a@h SIP/2.0\r\nX-Pad: " + std::string(2048, 'a');
    BOOST_TEST(status_name(parse_sip_message(std::string_view(input).substr(0, 1024), SipFraming::stream, limits).status) ==
               "incomplete");
    const SipParseResult r = parse_sip_message(std::string_view(input).substr(0, 1025), SipFraming::stream, limits);
    BOOST_TEST(std::string_view(to_string(r.error)) == "header_too_large");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
