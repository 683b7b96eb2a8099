// SPDX-License-Identifier: GPL-2.0-or-later
// RTSP message and Transport parsing. The client requests are the bytes ffmpeg 5.1 (Lavf59)
// and GStreamer 1.22 rtspsrc send (recorded against a stub server, ports rewritten); the
// hostile cases are the ones the fuzz regressions in tests/fuzz/regressions/rtsp/ replay.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/rtsp.hpp"
#include "tests/unit/support/parse_checks.hpp"

namespace sara {
namespace {

using test::points_into;
using test::status_name;
std::string_view error_name(RtspError e) { return to_string(e); }

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n";

struct MessageCase {
    const char* description;
    std::string input;
    RtspLimits limits{};
    ParseStatus status = ParseStatus::complete;
    RtspError error = RtspError::none;
    bool is_request = true;
    std::string_view method{};
    std::string_view uri{};
    int status_code = 0;
    bool has_cseq = true;
    uint32_t cseq = 0;
    std::string_view session_id{};
    std::string_view transport{};
    std::string_view body{};
    std::optional<size_t> length{};  // when complete; defaults to the whole input
};

// Built once; some inputs are generated (the oversized ones), so the table is a function.
const std::vector<MessageCase>& message_cases() {
    static const std::vector<MessageCase> cases = {
        // --- requests and responses from real clients -------------------------------------
        {.description = "ffmpeg OPTIONS",
         .input = "OPTIONS rtsp://198.18.0.1:8554/test RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n",
         .method = "OPTIONS", .uri = "rtsp://198.18.0.1:8554/test", .cseq = 1},
        {.description = "gst OPTIONS with two User-Agent headers (duplicates of other headers are fine)",
         .input = "OPTIONS rtsp://198.18.0.1:8554/test RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: GStreamer/1.22.0\r\n"
                  "User-Agent: RealMedia Player Version 6.0.9.1235 (linux-2.0-libc6-i386-gcc2.95)\r\n"
                  "ClientChallenge: 9e26d33f2984236010ef6253fb1887f7\r\n"
                  "PlayerStarttime: [28/03/2003:22:50:23 00:00]\r\n"
                  "Date: Thu, 26 Nov 2026 09:02:03 GMT\r\n\r\n",
         .method = "OPTIONS", .uri = "rtsp://198.18.0.1:8554/test", .cseq = 1},
        {.description = "ffmpeg DESCRIBE",
         .input = "DESCRIBE rtsp://198.18.0.1:8554/test RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\n"
                  "User-Agent: Lavf59.27.100\r\n\r\n",
         .method = "DESCRIBE", .uri = "rtsp://198.18.0.1:8554/test", .cseq = 2},
        {.description = "DESCRIBE reply with an SDP body",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://198.18.0.1:8554/test/\r\n"
                  "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp,
         .is_request = false, .status_code = 200, .cseq = 2, .body = kSdp},
        {.description = "ffmpeg SETUP over UDP",
         .input = "SETUP rtsp://198.18.0.1:8554/test/trackID=0 RTSP/1.0\r\n"
                  "Transport: RTP/AVP/UDP;unicast;client_port=25000-25001\r\nCSeq: 3\r\n"
                  "User-Agent: Lavf59.27.100\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://198.18.0.1:8554/test/trackID=0", .cseq = 3,
         .transport = "RTP/AVP/UDP;unicast;client_port=25000-25001"},
        {.description = "gst rtspsrc SETUP over UDP",
         .input = "SETUP rtsp://198.18.0.1:8554/test/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nUser-Agent: GStreamer/1.22.0\r\n"
                  "Transport: RTP/AVP;unicast;client_port=40000-40001\r\n"
                  "Date: Thu, 26 Nov 2026 09:02:03 GMT\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://198.18.0.1:8554/test/trackID=0", .cseq = 3,
         .transport = "RTP/AVP;unicast;client_port=40000-40001"},
        {.description = "gst rtspsrc SETUP offering UDP, multicast and TCP in one header",
         .input = "SETUP rtsp://198.18.0.1:8554/test/streamid=0 RTSP/1.0\r\nCSeq: 1\r\n"
                  "Transport: RTP/AVP/UDP;unicast;client_port=40000-40001,RTP/AVP/UDP;multicast,RTP/AVP/TCP\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://198.18.0.1:8554/test/streamid=0", .cseq = 1,
         .transport = "RTP/AVP/UDP;unicast;client_port=40000-40001,RTP/AVP/UDP;multicast,RTP/AVP/TCP"},
        {.description = "ffmpeg SETUP interleaved over TCP",
         .input = "SETUP rtsp://198.18.0.1:8554/test/trackID=0 RTSP/1.0\r\n"
                  "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 3\r\nUser-Agent: Lavf59.27.100\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://198.18.0.1:8554/test/trackID=0", .cseq = 3,
         .transport = "RTP/AVP/TCP;unicast;interleaved=0-1"},
        {.description = "SETUP reply with server_port and ssrc; Session timeout stripped",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 3\r\n"
                  "Transport: RTP/AVP;unicast;client_port=40000-40001;server_port=6970-6971;ssrc=1A2B3C4D\r\n"
                  "Session: 12345678;timeout=60\r\n\r\n",
         .is_request = false, .status_code = 200, .cseq = 3, .session_id = "12345678",
         .transport = "RTP/AVP;unicast;client_port=40000-40001;server_port=6970-6971;ssrc=1A2B3C4D"},
        {.description = "gst PLAY with Session",
         .input = "PLAY rtsp://198.18.0.1:8554/test/ RTSP/1.0\r\nCSeq: 4\r\nUser-Agent: GStreamer/1.22.0\r\n"
                  "Range: npt=0-\r\nSession: 12345678\r\nDate: Thu, 26 Nov 2026 09:02:03 GMT\r\n\r\n",
         .method = "PLAY", .uri = "rtsp://198.18.0.1:8554/test/", .cseq = 4, .session_id = "12345678"},
        {.description = "PLAY reply with RTP-Info",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 12345678\r\n"
                  "RTP-Info: url=rtsp://198.18.0.1:8554/test/trackID=0;seq=1;rtptime=0\r\n\r\n",
         .is_request = false, .status_code = 200, .cseq = 4, .session_id = "12345678"},
        {.description = "ffmpeg TEARDOWN",
         .input = "TEARDOWN rtsp://198.18.0.1:8554/test/ RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: Lavf59.27.100\r\n"
                  "Session: 12345678\r\n\r\n",
         .method = "TEARDOWN", .uri = "rtsp://198.18.0.1:8554/test/", .cseq = 5, .session_id = "12345678"},
        {.description = "GET_PARAMETER keep-alive with an empty body",
         .input = "GET_PARAMETER rtsp://198.18.0.1:8554/test/ RTSP/1.0\r\nCSeq: 9\r\nSession: 12345678\r\n"
                  "Content-Length: 0\r\n\r\n",
         .method = "GET_PARAMETER", .uri = "rtsp://198.18.0.1:8554/test/", .cseq = 9, .session_id = "12345678"},
        {.description = "error reply 454",
         .input = "RTSP/1.0 454 Session Not Found\r\nCSeq: 6\r\n\r\n",
         .is_request = false, .status_code = 454, .cseq = 6},
        {.description = "reply without a reason phrase",
         .input = "RTSP/1.0 200\r\nCSeq: 6\r\n\r\n", .is_request = false, .status_code = 200, .cseq = 6},
        {.description = "OPTIONS * with bare LF line ends",
         .input = "OPTIONS * RTSP/1.0\nCSeq: 7\nSession: abc\n\n", .method = "OPTIONS", .uri = "*", .cseq = 7,
         .session_id = "abc"},
        {.description = "CRLF and bare LF mixed",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 7\nContent-Length: 2\r\n\nhi", .method = "OPTIONS", .uri = "*",
         .cseq = 7, .body = "hi"},
        {.description = "header names in any case",
         .input = "SETUP rtsp://h/s RTSP/1.0\r\ncseq: 8\r\nTRANSPORT: RTP/AVP/TCP;interleaved=0-1\r\n"
                  "sEsSiOn: 42\r\nCONTENT-LENGTH: 3\r\n\r\nabc",
         .method = "SETUP", .uri = "rtsp://h/s", .cseq = 8, .session_id = "42",
         .transport = "RTP/AVP/TCP;interleaved=0-1", .body = "abc"},
        {.description = "Session value with whitespace around id and parameter",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nSession:   12345678 ;timeout=60  \r\n\r\n",
         .method = "PLAY", .uri = "rtsp://h/s", .cseq = 1, .session_id = "12345678"},
        {.description = "empty lines before the start line are skipped and counted",
         .input = "\r\n\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n", .method = "OPTIONS", .uri = "*", .cseq = 2},
        {.description = "only the first message of a buffer is consumed",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\n\r\nTEARDOWN rtsp://h/s RTSP/1.0\r\nCSeq: 2\r\n\r\n",
         .method = "PLAY", .uri = "rtsp://h/s", .cseq = 1, .length = 37},
        {.description = "RTSP/1.1 is accepted as a 1.x version",
         .input = "OPTIONS * RTSP/1.1\r\nCSeq: 1\r\n\r\n", .method = "OPTIONS", .uri = "*", .cseq = 1},

        // --- folded and duplicate headers ---------------------------------------------------
        {.description = "folded Transport keeps its raw span, line break included",
         .input = "SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;\r\n client_port=40000-40001\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://h/s", .cseq = 3, .transport = "RTP/AVP;unicast;\r\n client_port=40000-40001"},
        {.description = "folded Session and CSeq values (tab continuation)",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq:\r\n\t12\r\nSession:\r\n\t12345678\r\n ;timeout=60\r\n\r\n",
         .method = "PLAY", .uri = "rtsp://h/s", .cseq = 12, .session_id = "12345678"},
        {.description = "duplicate CSeq with the same value",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nCSeq: 5\r\n\r\n", .method = "OPTIONS", .uri = "*", .cseq = 5},
        {.description = "duplicate Content-Length with the same value",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nok",
         .method = "OPTIONS", .uri = "*", .cseq = 5, .body = "ok"},
        {.description = "duplicate Transport: the first one wins",
         .input = "SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n"
                  "Transport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n",
         .method = "SETUP", .uri = "rtsp://h/s", .cseq = 5, .transport = "RTP/AVP;unicast;client_port=5000-5001"},
        {.description = "duplicate Session with the same id",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nSession: 77\r\nSession: 77;timeout=30\r\n\r\n",
         .method = "PLAY", .uri = "rtsp://h/s", .cseq = 5, .session_id = "77"},
        {.description = "duplicate CSeq with different values",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nCSeq: 6\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_cseq},
        {.description = "duplicate Content-Length with different values (request smuggling)",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_content_length},
        {.description = "duplicate Session with different ids",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nSession: 77\r\nSession: 78\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_header},
        {.description = "a folded line right after the start line has nothing to continue",
         .input = "OPTIONS * RTSP/1.0\r\n CSeq: 5\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_header},

        // --- CSeq ---------------------------------------------------------------------------
        {.description = "missing CSeq is reported, not rejected",
         .input = "OPTIONS * RTSP/1.0\r\nUser-Agent: x\r\n\r\n", .method = "OPTIONS", .uri = "*",
         .has_cseq = false},
        {.description = "CSeq 2^32-1 is the largest",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 4294967295\r\n\r\n", .method = "OPTIONS", .uri = "*",
         .cseq = 4294967295u},
        {.description = "CSeq above 2^32-1", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 4294967296\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_cseq},
        {.description = "CSeq not a number", .input = "OPTIONS * RTSP/1.0\r\nCSeq: one\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_cseq},
        {.description = "CSeq empty", .input = "OPTIONS * RTSP/1.0\r\nCSeq:\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_cseq},
        {.description = "CSeq negative", .input = "OPTIONS * RTSP/1.0\r\nCSeq: -1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_cseq},

        // --- Content-Length -----------------------------------------------------------------
        {.description = "Content-Length exactly 2^32", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 4294967296\r\n\r\n",
         .limits = {.max_body_bytes = size_t{1} << 40}, .status = ParseStatus::error,
         .error = RtspError::bad_content_length},
        {.description = "Content-Length above 2^32",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 4294967297\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_content_length},
        {.description = "Content-Length that overflows 64 bits",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 184467440737095516160000\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_content_length},
        {.description = "Content-Length above max_body_bytes",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 65537\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_content_length},
        {.description = "Content-Length at max_body_bytes waits for the body",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 65536\r\n\r\nabc",
         .status = ParseStatus::incomplete},
        {.description = "Content-Length negative", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_content_length},
        {.description = "Content-Length with a plus sign",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: +1\r\n\r\nx", .status = ParseStatus::error,
         .error = RtspError::bad_content_length},
        {.description = "Content-Length with two numbers",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1 1\r\n\r\nx", .status = ParseStatus::error,
         .error = RtspError::bad_content_length},
        {.description = "Content-Length empty", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length:\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_content_length},
        {.description = "body not all there yet",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 10\r\n\r\n12345", .status = ParseStatus::incomplete},

        // --- Session ------------------------------------------------------------------------
        {.description = "Session id one byte over max_session_id",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nSession: " + std::string(257, 's') + "\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::session_id_too_long},
        {.description = "10 KiB Session id",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nSession: " + std::string(10 * 1024, '7') + "\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::session_id_too_long},
        {.description = "Session id with a space inside",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nSession: 1234 5678\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_header},

        // --- header block size ----------------------------------------------------------------
        {.description = "64 KiB header line",
         .input = "SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nX-Pad: " + std::string(64 * 1024, 'a') + "\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::header_too_large},
        {.description = "unterminated header block under the limit waits",
         .input = "SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nX-Pad: " + std::string(8 * 1024, 'a'),
         .status = ParseStatus::incomplete},
        {.description = "header block exactly max_header_bytes",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", .limits = {.max_header_bytes = 31}, .method = "OPTIONS",
         .uri = "*", .cseq = 1},
        {.description = "header block one byte over max_header_bytes",
         .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", .limits = {.max_header_bytes = 30},
         .status = ParseStatus::error, .error = RtspError::header_too_large},
        {.description = "body beyond max_header_bytes does not count against it",
         .input = "OPTIONS * RTSP/1.0\r\nContent-Length: 40\r\n\r\n" + std::string(40, 'b'),
         .limits = {.max_header_bytes = 42}, .method = "OPTIONS", .uri = "*", .has_cseq = false,
         .body = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
        {.description = "Content-Length at a smaller max_body_bytes",
         .input = "OPTIONS * RTSP/1.0\r\nContent-Length: 9\r\n\r\n123456789", .limits = {.max_body_bytes = 8},
         .status = ParseStatus::error, .error = RtspError::bad_content_length},

        // --- start line -----------------------------------------------------------------------
        {.description = "HTTP request", .input = "GET / HTTP/1.1\r\nHost: x\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_start_line},
        {.description = "RTSP/2.0 reply", .input = "RTSP/2.0 200 OK\r\nCSeq: 1\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_start_line},
        {.description = "four-digit status", .input = "RTSP/1.0 2000 OK\r\nCSeq: 1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "status below 100", .input = "RTSP/1.0 099 Odd\r\nCSeq: 1\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_start_line},
        {.description = "double space in the request line", .input = "SETUP  rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "request line without a version", .input = "SETUP rtsp://h/s\r\nCSeq: 1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "request line with a space in the URI", .input = "SETUP rtsp://h/a b RTSP/1.0\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "TLS hello is rejected at the first byte", .input = "\x16\x03\x01\x02",
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "an interleaved frame is not a message", .input = std::string("$\x00\x00\x04RTSP", 8),
         .status = ParseStatus::error, .error = RtspError::bad_start_line},
        {.description = "NUL inside the start line", .input = std::string("OPTIONS *\0 RTSP/1.0\r\n\r\n", 23),
         .status = ParseStatus::error, .error = RtspError::bad_start_line},

        // --- header lines ---------------------------------------------------------------------
        {.description = "header line without a colon", .input = "OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_header},
        {.description = "space before the colon", .input = "OPTIONS * RTSP/1.0\r\nContent-Length : 5\r\n\r\nhello",
         .status = ParseStatus::error, .error = RtspError::bad_header},
        {.description = "empty header name", .input = "OPTIONS * RTSP/1.0\r\n: 5\r\n\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_header},
        {.description = "bare CR inside a header line", .input = "OPTIONS * RTSP/1.0\r\nCSeq: 1\rContent-Length: 5\r\n\r\n",
         .status = ParseStatus::error, .error = RtspError::bad_header},
        {.description = "NUL inside a header value", .input = std::string("OPTIONS * RTSP/1.0\r\nX: a\0b\r\n\r\n", 30),
         .status = ParseStatus::error, .error = RtspError::bad_header},
        {.description = "an error in a complete line is reported before the block ends",
         .input = "OPTIONS * RTSP/1.0\r\nno colon here\r\nCSeq: 1\r\n", .status = ParseStatus::error,
         .error = RtspError::bad_header},
        {.description = "empty input waits", .input = "", .status = ParseStatus::incomplete},
    };
    return cases;
}

BOOST_AUTO_TEST_SUITE(rtsp)

BOOST_AUTO_TEST_CASE(parses_message_table) {
    for (const MessageCase& c : message_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const RtspParseResult r = parse_rtsp_message(c.input, c.limits);
            BOOST_TEST(status_name(r.status) == status_name(c.status));
            BOOST_TEST(error_name(r.error) == error_name(c.error));
            if (c.status != ParseStatus::complete) {
                BOOST_TEST(r.message.length == 0u);
                continue;
            }
            const RtspMessage& m = r.message;
            BOOST_TEST(m.length == c.length.value_or(c.input.size()));
            BOOST_TEST(m.is_request == c.is_request);
            BOOST_TEST(m.method == c.method);
            BOOST_TEST(m.uri == c.uri);
            BOOST_TEST(m.status_code == c.status_code);
            BOOST_TEST(m.has_cseq == c.has_cseq);
            BOOST_TEST(m.cseq == c.cseq);
            BOOST_TEST(m.session_id == c.session_id);
            BOOST_TEST(m.transport == c.transport);
            BOOST_TEST(m.body == c.body);
            for (const std::string_view part : {m.method, m.uri, m.session_id, m.transport, m.body})
                BOOST_TEST(points_into(part, c.input));
        }
    }
}

BOOST_AUTO_TEST_CASE(session_id_at_the_limit_is_kept_whole) {
    const std::string id(256, 's');
    const std::string input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nSession: " + id + ";timeout=60\r\n\r\n";
    const RtspParseResult r = parse_rtsp_message(input);
    BOOST_TEST(status_name(r.status) == "complete");
    BOOST_TEST(r.message.session_id == id);
}

// A message split over TCP segments: every proper prefix of a valid message must ask for
// more bytes (never an error, never a shorter message), and the whole must parse.
BOOST_AUTO_TEST_CASE(every_prefix_of_a_valid_message_is_incomplete) {
    for (const MessageCase& c : message_cases()) {
        if (c.status != ParseStatus::complete) continue;
        const size_t length = c.length.value_or(c.input.size());
        BOOST_TEST_CONTEXT(c.description) {
            const std::string_view whole(c.input.data(), length);
            for (size_t n = 0; n < length; ++n) {
                const RtspParseResult r = parse_rtsp_message(whole.substr(0, n), c.limits);
                BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
                    BOOST_TEST(status_name(r.status) == "incomplete");
                }
            }
            BOOST_TEST(parse_rtsp_message(whole, c.limits).message.length == length);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_error_stays_an_error_as_bytes_arrive) {
    const std::string input = "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nCSeq: 6\r\nUser-Agent: x\r\n\r\n";
    // From the first byte of the line after the second CSeq the verdict is known.
    const size_t known_at = input.find("User-Agent");
    for (size_t n = known_at + 1; n <= input.size(); ++n) {
        BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
            const RtspParseResult r = parse_rtsp_message(std::string_view(input).substr(0, n));
            BOOST_TEST(error_name(r.error) == "bad_cseq");
        }
    }
}

// What a control connection carries: pipelined messages and interleaved '$' frames.
struct StreamCase {
    const char* description;
    std::string input;
    std::vector<std::string_view> items;  // "$<length>" for a frame, otherwise the method or "reply"
    size_t left_over = 0;                 // bytes of an unfinished item at the end
};

std::vector<std::string_view> walk_stream(std::string_view data, std::vector<std::string>& names, size_t& left) {
    std::vector<std::string_view> out;
    for (;;) {
        if (data.empty()) break;
        if (const size_t frame = interleaved_frame_length(data); frame != 0) {
            if (frame == std::string_view::npos) break;
            names.push_back("$" + std::to_string(frame));
            data.remove_prefix(frame);
            continue;
        }
        const RtspParseResult r = parse_rtsp_message(data);
        if (r.status != ParseStatus::complete) break;
        names.emplace_back(r.message.is_request ? std::string(r.message.method) : "reply");
        data.remove_prefix(r.message.length);
    }
    for (const std::string& n : names) out.emplace_back(n);
    left = data.size();
    return out;
}

BOOST_AUTO_TEST_CASE(walks_a_control_connection) {
    const std::string frame_a("$\x00\x00\x05" "ABCDE", 9);
    const std::string frame_b("$\x01\x00\x00", 4);
    const std::vector<StreamCase> cases = {
        {.description = "two pipelined requests in one buffer",
         .input = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 4\r\nSession: 1\r\n\r\n"
                  "TEARDOWN rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nSession: 1\r\n\r\n",
         .items = {"PLAY", "TEARDOWN"}},
        {.description = "a reply with a body followed by a request",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\nOPTIONS * RTSP/1.0\r\nCSeq: 3\r\n\r\n",
         .items = {"reply", "OPTIONS"}},
        {.description = "PLAY reply, interleaved frames, then a keep-alive",
         .input = "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 1\r\n\r\n" + frame_a + frame_b + frame_a +
                  "GET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nSession: 1\r\n\r\n",
         .items = {"reply", "$9", "$4", "$9", "GET_PARAMETER"}},
        {.description = "a frame cut short at the end waits",
         .input = frame_a + frame_a.substr(0, 6), .items = {"$9"}, .left_over = 6},
        {.description = "a message cut short after a frame waits",
         .input = frame_b + "TEARDOWN rtsp://h/s RTSP/1.0\r\nCSe", .items = {"$4"}, .left_over = 33},
    };
    for (const StreamCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::vector<std::string> names;
            size_t left = 0;
            const std::vector<std::string_view> items = walk_stream(c.input, names, left);
            BOOST_TEST(items == c.items, boost::test_tools::per_element());
            BOOST_TEST(left == c.left_over);
        }
    }
}

BOOST_AUTO_TEST_CASE(measures_interleaved_frames) {
    constexpr size_t npos = std::string_view::npos;
    struct FrameCase {
        const char* description;
        std::string input;
        size_t length;
    };
    const FrameCase cases[] = {
        {.description = "empty buffer", .input = "", .length = 0},
        {.description = "an RTSP message", .input = "RTSP/1.0 200 OK\r\n", .length = 0},
        {.description = "only the '$'", .input = "$", .length = npos},
        {.description = "frame header cut short", .input = std::string("$\x00\x00", 3), .length = npos},
        {.description = "empty frame", .input = std::string("$\x00\x00\x00", 4), .length = 4},
        {.description = "five-byte RTP payload on channel 1", .input = std::string("$\x01\x00\x05" "abcde", 9),
         .length = 9},
        {.description = "payload cut short", .input = std::string("$\x01\x00\x05" "abcd", 8), .length = npos},
        {.description = "bytes after the frame are not counted",
         .input = std::string("$\x01\x00\x02" "abRTSP/1.0", 14), .length = 6},
        {.description = "largest frame, 65535 bytes, not all there",
         .input = std::string("\x24\x00\xff\xff", 4) + std::string(1000, 'x'), .length = npos},
        {.description = "largest frame, whole", .input = std::string("\x24\x00\xff\xff", 4) + std::string(65535, 'x'),
         .length = 65539},
    };
    for (const FrameCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) { BOOST_TEST(interleaved_frame_length(c.input) == c.length); }
    }
}

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value(); }

struct TransportCase {
    const char* description;
    std::string value;
    ParseStatus status = ParseStatus::complete;
    std::vector<RtspTransportSpec> specs{};
    bool truncated = false;
};

// `n` copies of a valid spec, client ports 5000+2i.
std::string many_specs(size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if (i != 0) out += ',';
        out += "RTP/AVP;unicast;client_port=" + std::to_string(5000 + 2 * i) + "-" + std::to_string(5001 + 2 * i);
    }
    return out;
}
std::vector<RtspTransportSpec> many_expected(size_t n) {
    std::vector<RtspTransportSpec> out;
    for (size_t i = 0; i < n; ++i)
        out.push_back({.client_rtp = static_cast<uint16_t>(5000 + 2 * i), .client_rtcp = static_cast<uint16_t>(5001 + 2 * i)});
    return out;
}

const std::vector<TransportCase>& transport_cases() {
    static const std::vector<TransportCase> cases = {
        {.description = "ffmpeg over UDP", .value = "RTP/AVP/UDP;unicast;client_port=25000-25001",
         .specs = {{.client_rtp = 25000, .client_rtcp = 25001}}},
        {.description = "gst rtspsrc over UDP", .value = "RTP/AVP;unicast;client_port=40000-40001",
         .specs = {{.client_rtp = 40000, .client_rtcp = 40001}}},
        {.description = "gst rtspsrc offering UDP, multicast and TCP",
         .value = "RTP/AVP/UDP;unicast;client_port=40000-40001,RTP/AVP/UDP;multicast,RTP/AVP/TCP",
         .specs = {{.client_rtp = 40000, .client_rtcp = 40001}, {.multicast = true}, {.tcp = true}}},
        {.description = "gst rtspsrc offering two profiles for one port pair",
         .value = "RTP/AVP;unicast;client_port=40000-40001,RTP/AVPF;unicast;client_port=40000-40001",
         .specs = {{.client_rtp = 40000, .client_rtcp = 40001}, {.client_rtp = 40000, .client_rtcp = 40001}}},
        {.description = "gst rtspsrc with an SRTP stream", .value = "RTP/SAVP;unicast;client_port=41664-41665",
         .specs = {{.client_rtp = 41664, .client_rtcp = 41665}}},
        {.description = "interleaved over TCP", .value = "RTP/AVP/TCP;unicast;interleaved=0-1",
         .specs = {{.tcp = true, .interleaved = true}}},
        {.description = "server reply with server_port and ssrc",
         .value = "RTP/AVP;unicast;client_port=40000-40001;server_port=6970-6971;ssrc=1A2B3C4D",
         .specs = {{.client_rtp = 40000, .client_rtcp = 40001, .server_rtp = 6970, .server_rtcp = 6971}}},
        {.description = "live555 reply with destination and source",
         .value = "RTP/AVP;unicast;destination=192.0.2.7;source=192.0.2.1;client_port=5000-5001;server_port=6256-6257",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001, .server_rtp = 6256, .server_rtcp = 6257,
                    .destination = ip("192.0.2.7")}}},
        {.description = "multicast reply with destination, port and ttl",
         .value = "RTP/AVP;multicast;destination=232.1.2.3;port=5000-5001;ttl=16",
         .specs = {{.multicast = true, .destination = ip("232.1.2.3")}}},
        {.description = "IPv6 destination", .value = "RTP/AVP;unicast;destination=2001:db8::7;client_port=5000-5001",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001, .destination = ip("2001:db8::7")}}},
        {.description = "host name destination is left unset",
         .value = "RTP/AVP;unicast;destination=media.example.com;client_port=5000-5001",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "single client port: RTCP is the next one", .value = "RTP/AVP;unicast;client_port=5000",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "client port a-a: RTCP is the next one", .value = "RTP/AVP;unicast;client_port=5000-5000",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "port 65535 as the RTCP end", .value = "RTP/AVP;unicast;client_port=65534-65535",
         .specs = {{.client_rtp = 65534, .client_rtcp = 65535}}},
        {.description = "protocol and parameters in any case", .value = "rtp/avp/tcp;UNICAST;Interleaved=2-3",
         .specs = {{.tcp = true, .interleaved = true}}},
        {.description = "single interleaved channel", .value = "RTP/AVP/TCP;interleaved=4",
         .specs = {{.tcp = true, .interleaved = true}}},
        {.description = "quoted mode with a comma stays in one spec",
         .value = "RTP/AVP;unicast;client_port=5000-5001;mode=\"PLAY,RECORD\"",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "whitespace around specs and parameters",
         .value = " RTP/AVP ; unicast ; client_port = 5000-5001 , RTP/AVP/TCP;interleaved=0-1 ",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}, {.tcp = true, .interleaved = true}}},
        {.description = "folded value with a line break inside", .value = "RTP/AVP;unicast;\r\n client_port=5000-5001",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "unknown parameters are ignored",
         .value = "RTP/AVP;unicast;client_port=5000-5001;x-dynamic-rate=1;mode=play;append;layers=2;rtcp-mux",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "empty specs from stray commas are skipped", .value = ",RTP/AVP;client_port=5000-5001,,",
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}}},
        {.description = "exactly kMaxTransportSpecs specs", .value = many_specs(kMaxTransportSpecs),
         .specs = many_expected(kMaxTransportSpecs)},
        {.description = "20 specs: the first eight kept, truncated", .value = many_specs(20),
         .specs = many_expected(kMaxTransportSpecs), .truncated = true},

        {.description = "reversed client port range", .value = "RTP/AVP;unicast;client_port=5001-5000",
         .status = ParseStatus::error},
        {.description = "reversed server port range between valid specs: those are kept",
         .value = "RTP/AVP;client_port=5000-5001,RTP/AVP;server_port=7001-7000,RTP/AVP/TCP;interleaved=0-1",
         .status = ParseStatus::error,
         .specs = {{.client_rtp = 5000, .client_rtcp = 5001}, {.tcp = true, .interleaved = true}}},
        {.description = "reversed interleaved channels", .value = "RTP/AVP/TCP;interleaved=1-0",
         .status = ParseStatus::error},
        {.description = "port 0", .value = "RTP/AVP;client_port=0-1", .status = ParseStatus::error},
        {.description = "port above 65535", .value = "RTP/AVP;client_port=65536-65537", .status = ParseStatus::error},
        {.description = "huge port number", .value = "RTP/AVP;client_port=99999999999999999999999-1",
         .status = ParseStatus::error},
        {.description = "single port 65535 leaves no RTCP port", .value = "RTP/AVP;client_port=65535",
         .status = ParseStatus::error},
        {.description = "port not a number", .value = "RTP/AVP;client_port=abc-def", .status = ParseStatus::error},
        {.description = "port with a sign", .value = "RTP/AVP;client_port=+5000-5001", .status = ParseStatus::error},
        {.description = "port range missing its end", .value = "RTP/AVP;client_port=5000-", .status = ParseStatus::error},
        {.description = "port range missing its start", .value = "RTP/AVP;client_port=-5001", .status = ParseStatus::error},
        {.description = "client_port without a value", .value = "RTP/AVP;client_port", .status = ParseStatus::error},
        {.description = "interleaved channel above 255", .value = "RTP/AVP/TCP;interleaved=256-257",
         .status = ParseStatus::error},
        {.description = "unknown protocol", .value = "RAW/RAW/UDP;unicast;client_port=5000-5001",
         .status = ParseStatus::error},
        {.description = "unknown lower transport", .value = "RTP/AVP/SCTP;unicast", .status = ParseStatus::error},
        {.description = "protocol without a profile", .value = "RTP;unicast", .status = ParseStatus::error},
        {.description = "empty value", .value = "", .status = ParseStatus::error},
        {.description = "only commas and spaces", .value = " , ,", .status = ParseStatus::error},
    };
    return cases;
}

void check_spec(const RtspTransportSpec& got, const RtspTransportSpec& want) {
    BOOST_TEST(got.tcp == want.tcp);
    BOOST_TEST(got.interleaved == want.interleaved);
    BOOST_TEST(got.multicast == want.multicast);
    BOOST_TEST(got.client_rtp == want.client_rtp);
    BOOST_TEST(got.client_rtcp == want.client_rtcp);
    BOOST_TEST(got.server_rtp == want.server_rtp);
    BOOST_TEST(got.server_rtcp == want.server_rtcp);
    BOOST_TEST(got.destination.to_string() == want.destination.to_string());
}

BOOST_AUTO_TEST_CASE(parses_transport_table) {
    for (const TransportCase& c : transport_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            RtspTransport t;
            BOOST_TEST(status_name(parse_rtsp_transport(c.value, t)) == status_name(c.status));
            BOOST_TEST(t.truncated == c.truncated);
            BOOST_TEST(t.count == c.specs.size());
            for (size_t i = 0; i < std::min(t.count, c.specs.size()); ++i) {
                BOOST_TEST_CONTEXT("spec " << i) { check_spec(t.specs[i], c.specs[i]); }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(transport_output_is_reset_before_parsing) {
    RtspTransport t;
    BOOST_REQUIRE(parse_rtsp_transport(many_specs(20), t) == ParseStatus::complete);
    BOOST_REQUIRE(t.truncated);
    BOOST_TEST(status_name(parse_rtsp_transport("RTP/AVP/TCP;interleaved=0-1", t)) == "complete");
    BOOST_TEST(t.count == 1u);
    BOOST_TEST(!t.truncated);
    check_spec(t.specs[0], {.tcp = true, .interleaved = true});
    check_spec(t.specs[1], {});
}

BOOST_AUTO_TEST_CASE(names_every_error) {
    const RtspError all[] = {RtspError::none, RtspError::bad_start_line, RtspError::header_too_large,
                             RtspError::bad_header, RtspError::bad_content_length, RtspError::bad_cseq,
                             RtspError::session_id_too_long};
    for (const RtspError e : all) BOOST_TEST(error_name(e) != "unknown");
    BOOST_TEST(error_name(RtspError::session_id_too_long) == "session_id_too_long");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
