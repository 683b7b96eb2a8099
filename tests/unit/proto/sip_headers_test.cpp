// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/proto/sip.hpp"
#include "common/proto/sip_headers.hpp"

using namespace sara;
using Step = SipHeaderCursor::Step;

BOOST_AUTO_TEST_SUITE(sip_headers)

BOOST_AUTO_TEST_CASE(full_and_compact_names_are_the_same_header) {
    BOOST_TEST((classify_sip_header("Via") == SipHeader::via));
    BOOST_TEST((classify_sip_header("v") == SipHeader::via));
    BOOST_TEST((classify_sip_header("FROM") == SipHeader::from));
    BOOST_TEST((classify_sip_header("f") == SipHeader::from));
    BOOST_TEST((classify_sip_header("to") == SipHeader::to));
    BOOST_TEST((classify_sip_header("T") == SipHeader::to));
    BOOST_TEST((classify_sip_header("call-ID") == SipHeader::call_id));
    BOOST_TEST((classify_sip_header("i") == SipHeader::call_id));
    BOOST_TEST((classify_sip_header("CSeq") == SipHeader::cseq));
    BOOST_TEST((classify_sip_header("Contact") == SipHeader::contact));
    BOOST_TEST((classify_sip_header("m") == SipHeader::contact));
    BOOST_TEST((classify_sip_header("Record-Route") == SipHeader::record_route));
    BOOST_TEST((classify_sip_header("Content-Length") == SipHeader::content_length));
    BOOST_TEST((classify_sip_header("l") == SipHeader::content_length));
    BOOST_TEST((classify_sip_header("Content-Type") == SipHeader::content_type));
    BOOST_TEST((classify_sip_header("c") == SipHeader::content_type));
    BOOST_TEST((classify_sip_header("Route") == SipHeader::other));
    BOOST_TEST((classify_sip_header("x") == SipHeader::other));
    BOOST_TEST((classify_sip_header("") == SipHeader::other));
}

BOOST_AUTO_TEST_CASE(fields_folds_and_the_end_of_the_block) {
    const std::string text =
        "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
        "Subject: one\r\n"
        "  two\r\n"
        "\tthree\r\n"
        "i : abc@host\r\n"
        "\r\n"
        "body";
    SipHeaderCursor cursor(text);
    SipHeaderField f;
    BOOST_TEST_REQUIRE((cursor.next(f) == Step::field));
    BOOST_TEST((f.header == SipHeader::via));
    BOOST_TEST(f.value == "SIP/2.0/UDP a;branch=z9hG4bK1");
    BOOST_TEST(f.field == "Via: SIP/2.0/UDP a;branch=z9hG4bK1");
    BOOST_TEST_REQUIRE((cursor.next(f) == Step::field));
    BOOST_TEST(f.name == "Subject");
    BOOST_TEST(f.value == "one\r\n  two\r\n\tthree");  // the fold kept, for byte-exact copies
    BOOST_TEST(f.field == "Subject: one\r\n  two\r\n\tthree");
    BOOST_TEST(unfold_sip_value(f.value) == "one two three");
    BOOST_TEST_REQUIRE((cursor.next(f) == Step::field));
    BOOST_TEST((f.header == SipHeader::call_id));
    BOOST_TEST(f.name == "i");
    BOOST_TEST(f.value == "abc@host");
    BOOST_TEST((cursor.next(f) == Step::end));
    BOOST_TEST(cursor.rest() == "body");
}

BOOST_AUTO_TEST_CASE(bad_lines_and_text_that_ends_inside_the_block) {
    SipHeaderField f;
    SipHeaderCursor no_colon("Via SIP/2.0/UDP a\r\n\r\n");
    BOOST_TEST((no_colon.next(f) == Step::bad));
    SipHeaderCursor fold_first(" folded: first\r\n\r\n");
    BOOST_TEST((fold_first.next(f) == Step::bad));
    SipHeaderCursor cut("To: <sip:b@h>\r\nFrom: <sip:a");
    BOOST_TEST_REQUIRE((cut.next(f) == Step::field));
    BOOST_TEST((cut.next(f) == Step::incomplete));
    // A TCP segment that ends right after a field, or inside a fold of it: the rest of the
    // value may still come, so the field is not given yet (a partial CSeq is no bad CSeq).
    for (const char* text : {"CSeq:\r\n", "CSeq:\r\n 1 INV", "CSeq:\r\n 1 INVITE\r\n"}) {
        SipHeaderCursor waiting(text);
        BOOST_TEST((waiting.next(f) == Step::incomplete), text);
    }
    SipHeaderCursor whole("CSeq:\r\n 1 INVITE\r\n\r\n");
    BOOST_TEST_REQUIRE((whole.next(f) == Step::field));
    BOOST_TEST(unfold_sip_value(f.value) == "1 INVITE");
    SipHeaderCursor bare_lf("To: x\nFrom: y\n\n");
    BOOST_TEST_REQUIRE((bare_lf.next(f) == Step::field));
    BOOST_TEST(f.field == "To: x");
    BOOST_TEST_REQUIRE((bare_lf.next(f) == Step::field));
    BOOST_TEST((bare_lf.next(f) == Step::end));
}

// The parser hands the block to the other readers: the header lines and the blank line,
// without the start line, whatever the line ends.
BOOST_AUTO_TEST_CASE(the_parser_gives_the_header_block) {
    for (const std::string eol : {"\r\n", "\n"}) {
        const std::string msg = "OPTIONS sip:x@h SIP/2.0" + eol + "Via: SIP/2.0/UDP a" + eol + "v: SIP/2.0/UDP b" + eol +
                                "Call-ID: c1" + eol + "CSeq: 1 OPTIONS" + eol + eol;
        const SipParseResult r = parse_sip_message(msg, SipFraming::datagram);
        BOOST_TEST_REQUIRE((r.status == ParseStatus::complete));
        BOOST_TEST(r.message.header_block == "Via: SIP/2.0/UDP a" + eol + "v: SIP/2.0/UDP b" + eol + "Call-ID: c1" + eol +
                                                 "CSeq: 1 OPTIONS" + eol + eol);
        std::vector<std::string> vias;
        for_each_sip_header(r.message.header_block, [&](const SipHeaderField& f) {
            if (f.header == SipHeader::via) vias.emplace_back(f.value);
        });
        BOOST_TEST(vias == (std::vector<std::string>{"SIP/2.0/UDP a", "SIP/2.0/UDP b"}));
    }
    const SipParseResult none = parse_sip_message("SIP/2.0 200 OK\r\n\r\n", SipFraming::datagram);
    BOOST_TEST_REQUIRE((none.status == ParseStatus::complete));
    BOOST_TEST(none.message.header_block == "\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
