// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's announcement datagram (common/wire/announce_message.hpp): literal datagrams for
// an RTSP reply and a SIP response, the HMAC trailer, how decode() finds the end of a
// variable-length body with and without a key, every truncation, extension and flipped bit,
// each malformed field value, the size bound, what encode() refuses, and the receiver's checks
// for announcements. Seeds and hostile shapes for the fuzzer are in
// tests/fuzz/corpus/announce_message/ and tests/fuzz/regressions/announce_message/.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/wire/announce_message.hpp"
#include "common/wire/control_receiver.hpp"
#include "tests/unit/wire/wire_test_support.hpp"

namespace sara::wire {
namespace {

using namespace test_support;

const uint8_t kClient4[4] = {198, 18, 1, 2};
const uint8_t kVip4[4] = {198, 18, 100, 10};
const uint8_t kClient6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
const uint8_t kVip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Every field, so two messages compare equal exactly when their descriptions do, and a failed
// comparison shows what differs.
std::string describe(const AnnounceMessage& m) {
    const Announcement& a = m.announcement;
    std::ostringstream o;
    o << "host " << m.host_id << " seq " << m.seq << " ts " << m.timestamp << " " << to_string(a.protocol)
      << " key '" << a.key << "' request " << a.is_request << " method " << int(a.method) << " status "
      << a.status_code << " cseq_method " << int(a.cseq_method) << " cseq " << a.cseq;
    if (a.has_control) o << " control " << a.control.to_string();
    if (a.has_media) {
        o << " media";
        for (size_t i = 0; i < a.media_count; ++i) {
            const MediaHint& h = a.media[i];
            o << " [" << h.client_address.to_string() << " " << h.client_rtp << "/" << h.client_rtcp << " -> "
              << h.server_rtp << "/" << h.server_rtcp << "]";
        }
    }
    return o.str();
}

// ---------------------------------------------------------------------------------------------
// Literal datagrams

struct AnnounceCase {
    const char* description;
    AnnounceMessage message;
    Bytes bytes;  // header + body, as on the wire
};

AnnounceMessage rtsp_reply() {
    AnnounceMessage m{.host_id = 0x0102, .seq = 5, .timestamp = kNow, .announcement = {}};
    Announcement& a = m.announcement;
    a.protocol = ServiceProtocol::rtsp;
    a.key = "12345678";
    a.has_control = true;
    a.control = {.src = IpAddress::v4(kClient4), .dst = IpAddress::v4(kVip4), .src_port = 40000, .dst_port = 554,
                 .proto = IpProto::tcp};
    a.status_code = 200;
    a.cseq = 3;
    a.has_media = true;
    a.media_count = 2;
    a.media[0] = {.client_address = IpAddress::v4(kClient4), .client_rtp = 5000, .client_rtcp = 5001,
                  .server_rtp = 6970, .server_rtcp = 6971};
    a.media[1] = {.client_address = IpAddress::v4(kClient4), .client_rtp = 5002, .client_rtcp = 5003,
                  .server_rtp = 6972, .server_rtcp = 6973};
    return m;
}

// Offsets into rtsp_reply()'s datagram, for the malformed-field table.
constexpr size_t kProtocolAt = 14, kFlagsAt = 15, kMethodAt = 16, kCseqMethodAt = 17, kKeyLenAt = 24;
constexpr size_t kControlFamilyAt = 33, kControlProtoAt = 46, kMediaCountAt = 47, kHint0FamilyAt = 48,
                 kHint1FamilyAt = 61;

const Bytes kRtspReplyBytes = {
    'S', 'A', 0x01, 0x03,
    0x01, 0x02,                                      // host_id 258
    0x00, 0x00, 0x00, 0x05,                          // seq 5
    0x65, 0x53, 0xf1, 0x00,                          // timestamp 1700000000
    0x01, 0x05, 0x00, 0x00,                          // rtsp | has_control + has_media | method, cseq_method none
    0x00, 0xc8, 0x00, 0x00, 0x00, 0x03,              // status 200 | cseq 3
    0x08, '1', '2', '3', '4', '5', '6', '7', '8',    // key "12345678"
    0x04, 0xc6, 0x12, 0x01, 0x02, 0xc6, 0x12, 0x64, 0x0a,  // control: IPv4 198.18.1.2 > 198.18.100.10
    0x9c, 0x40, 0x02, 0x2a, 0x06,                    //   40000 > 554, tcp
    0x02,                                            // two hints
    0x04, 0xc6, 0x12, 0x01, 0x02, 0x13, 0x88, 0x13, 0x89, 0x1b, 0x3a, 0x1b, 0x3b,  // 5000/5001 -> 6970/6971
    0x04, 0xc6, 0x12, 0x01, 0x02, 0x13, 0x8a, 0x13, 0x8b, 0x1b, 0x3c, 0x1b, 0x3d,  // 5002/5003 -> 6972/6973
};

const std::vector<AnnounceCase>& literal_cases() {
    static const std::vector<AnnounceCase> cases = [] {
        std::vector<AnnounceCase> v;
        v.push_back({"RTSP 200 to SETUP: control flow and two Transport hints", rtsp_reply(), kRtspReplyBytes});

        AnnounceMessage sip{.host_id = 0x0102, .seq = 0x01020304, .timestamp = kNow + 1, .announcement = {}};
        Announcement& s = sip.announcement;
        s.protocol = ServiceProtocol::sip;
        s.key = "a84b4c76e66710@pc33.atlanta.example.com";  // longer than a std::string's own buffer
        s.status_code = 200;
        s.cseq_method = SipMethod::invite;
        s.cseq = 1;
        s.has_media = true;
        s.media_count = 3;
        s.media[0] = {.client_address = IpAddress::v4(kClient4), .client_rtp = 49170, .client_rtcp = 49171,
                      .server_rtp = 30000, .server_rtcp = 30001};
        s.media[1] = {.client_address = IpAddress::v6(kClient6), .client_rtp = 49172, .client_rtcp = 49173,
                      .server_rtp = 30002, .server_rtcp = 30003};
        s.media[2] = {};  // an m= line with port 0, kept so positions match the offer
        v.push_back({"SIP 200 to INVITE: SDP hints for IPv4, IPv6 and a disabled stream", sip,
                     concat(concat({'S', 'A', 0x01, 0x03,
                                    0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x65, 0x53, 0xf1, 0x01,
                                    0x00, 0x04, 0x00, 0x01,              // sip | has_media | none | INVITE
                                    0x00, 0xc8, 0x00, 0x00, 0x00, 0x01,  // status 200 | cseq 1
                                    0x27},                               // key_len 39
                                   text("a84b4c76e66710@pc33.atlanta.example.com")),
                            {0x03,
                             0x04, 0xc6, 0x12, 0x01, 0x02, 0xc0, 0x12, 0xc0, 0x13, 0x75, 0x30, 0x75, 0x31,
                             0x06, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x00, 0x00, 0x02, 0xc0, 0x14, 0xc0, 0x15, 0x75, 0x32, 0x75, 0x33,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})});

        AnnounceMessage bye{.host_id = 3, .seq = 0xfffffffe, .timestamp = 0xfedcba98, .announcement = {}};
        bye.announcement.key = "x";
        bye.announcement.is_request = true;
        bye.announcement.method = SipMethod::bye;
        bye.announcement.cseq = 0xffffffff;
        v.push_back({"SIP BYE from a node: the smallest body (22 bytes)", bye,
                     {'S', 'A', 0x01, 0x03, 0x00, 0x03, 0xff, 0xff, 0xff, 0xfe, 0xfe, 0xdc, 0xba, 0x98,
                      0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'}});

        AnnounceMessage plain{.host_id = 0xffff, .seq = 0, .timestamp = 0, .announcement = {}};
        Announcement& p = plain.announcement;
        p.protocol = ServiceProtocol::plain;
        p.key = "k6";
        p.has_control = true;
        p.control = {.src = IpAddress::v6(kClient6), .dst = IpAddress::v6(kVip6), .src_port = 5060, .dst_port = 0,
                     .proto = IpProto::udp};
        p.method = SipMethod::other;
        p.cseq_method = SipMethod::other;
        p.status_code = 0xffff;
        p.cseq = 0x7fffffff;
        v.push_back({"IPv6 control flow, udp, dst_port 0, every enum at its largest", plain,
                     {'S', 'A', 0x01, 0x03, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                      0x02, 0x01, 0x07, 0x07, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x02, 'k', '6',
                      0x06, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
                      0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
                      0x13, 0xc4, 0x00, 0x00, 0x11}});
        return v;
    }();
    return cases;
}

// The largest body the layout allows: a 255-byte key, an IPv6 control flow, 8 IPv6 hints.
AnnounceMessage largest() {
    AnnounceMessage m = rtsp_reply();
    Announcement& a = m.announcement;
    a.key = std::string(255, 'K');
    a.control.src = IpAddress::v6(kClient6);
    a.control.dst = IpAddress::v6(kVip6);
    a.media_count = kMaxMediaHints;
    for (size_t i = 0; i < kMaxMediaHints; ++i)
        a.media[i] = {.client_address = IpAddress::v6(kClient6), .client_rtp = uint16_t(1000 + i),
                      .client_rtcp = uint16_t(2000 + i), .server_rtp = uint16_t(3000 + i),
                      .server_rtcp = uint16_t(4000 + i)};
    return m;
}

Bytes ann(uint16_t host, uint32_t seq, uint32_t ts, const ClusterKey* key = &test_key()) {
    AnnounceMessage m = rtsp_reply();
    m.host_id = host;
    m.seq = seq;
    m.timestamp = ts;
    return encode(m, key);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(announce_message)

BOOST_AUTO_TEST_CASE(encodes_literal_bytes_and_trailer) {
    for (const AnnounceCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(hex(encode(c.message, nullptr)) == hex(c.bytes));
            BOOST_TEST(hex(encode(c.message, &test_key())) == hex(signed_with(c.bytes, test_key())));
        }
    }
}

// Signed under a key, signed without one (the trailer ignored), and unsigned without one.
BOOST_AUTO_TEST_CASE(decodes_literal_bytes_and_round_trips) {
    for (const AnnounceCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes signed_bytes = signed_with(c.bytes, test_key());
            const std::vector<std::pair<Bytes, const ClusterKey*>> readings = {
                {signed_bytes, &test_key()}, {signed_bytes, nullptr}, {c.bytes, nullptr}};
            for (const auto& [datagram, key] : readings) {
                BOOST_TEST_CONTEXT((key ? "with key" : "auth none") << ", " << datagram.size() << " bytes") {
                    const Decoded d = decode(datagram, key);
                    BOOST_TEST_REQUIRE(d.reject == Reject::none);
                    BOOST_TEST((d.type == MessageType::announce));
                    BOOST_TEST(describe(d.announce) == describe(c.message));
                    BOOST_TEST(hex(encode(d.announce, key)) == hex(key ? signed_bytes : c.bytes));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_largest_layout_fits_and_round_trips) {
    const AnnounceMessage m = largest();
    const Bytes signed_bytes = encode(m, &test_key());
    BOOST_TEST(signed_bytes.size() == kHeaderSize + 515 + kMacSize);
    const Decoded d = decode(signed_bytes, &test_key());
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST(describe(d.announce) == describe(m));
}

// A header flip makes another (or no) type, refused before the trailer is looked for; anywhere
// else the MAC catches it.
BOOST_AUTO_TEST_CASE(every_flipped_bit_is_rejected) {
    for (const AnnounceCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes full = signed_with(c.bytes, test_key());
            for (size_t bit = 0; bit < full.size() * 8; ++bit) {
                BOOST_TEST_CONTEXT("bit " << bit) {
                    Bytes flipped = full;
                    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
                    BOOST_TEST(decode(flipped, &test_key()).reject ==
                               (bit / 8 < kHeaderSize ? Reject::malformed : Reject::auth));
                }
            }
        }
    }
}

// With a key, anything long enough to hold a minimal body (22 bytes) is checked against its
// last 32 bytes, so cut or padded datagrams are Reject::auth; without one, the body measures
// itself and only "nothing after it" or "32 bytes after it" is accepted.
BOOST_AUTO_TEST_CASE(every_truncation_and_extension_is_rejected) {
    constexpr size_t kMinimal = kHeaderSize + 22;
    for (const AnnounceCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            check_truncations_and_extensions(c.bytes, kMinimal);
        }
    }
}

struct RejectCase {
    const char* description;
    Bytes datagram;  // header + body, unsigned
};

// Each is refused with a valid MAC under the key and without a key: the MAC proves who sent
// it, not that it is well-formed.
BOOST_AUTO_TEST_CASE(each_malformed_field_is_rejected) {
    const Bytes& r = kRtspReplyBytes;
    const Bytes without_last = Bytes(r.begin(), r.end() - 1);
    const std::vector<RejectCase> cases = {
        {"protocol 3", with_byte(r, kProtocolAt, 3)},
        {"protocol 255", with_byte(r, kProtocolAt, 255)},
        {"flags bit 3", with_byte(r, kFlagsAt, 0x0d)},
        {"flags bit 7", with_byte(r, kFlagsAt, 0x85)},
        {"flags without has_media: the hints are trailing bytes", with_byte(r, kFlagsAt, 0x01)},
        {"flags without has_control: the control flow read as hints", with_byte(r, kFlagsAt, 0x04)},
        {"method 8", with_byte(r, kMethodAt, 8)},
        {"method 255", with_byte(r, kMethodAt, 255)},
        {"cseq_method 8", with_byte(r, kCseqMethodAt, 8)},
        {"key_len 0", with_byte(r, kKeyLenAt, 0)},
        {"key_len one too long", with_byte(r, kKeyLenAt, 9)},
        {"key_len past the end", with_byte(r, kKeyLenAt, 255)},
        {"control family 0", with_byte(r, kControlFamilyAt, 0)},
        {"control family 5", with_byte(r, kControlFamilyAt, 5)},
        {"control family 6 with IPv4-sized addresses", with_byte(r, kControlFamilyAt, 6)},
        {"control ip proto 0", with_byte(r, kControlProtoAt, 0)},
        {"control ip proto 1 (ICMP)", with_byte(r, kControlProtoAt, 1)},
        {"control ip proto 255", with_byte(r, kControlProtoAt, 255)},
        {"media count 0", with_byte(r, kMediaCountAt, 0)},
        {"media count 1 of 2 hints", with_byte(r, kMediaCountAt, 1)},
        {"media count 3 of 2 hints", with_byte(r, kMediaCountAt, 3)},
        {"media count 9", with_byte(r, kMediaCountAt, 9)},
        {"media count 255", with_byte(r, kMediaCountAt, 255)},
        {"hint family 5", with_byte(r, kHint0FamilyAt, 5)},
        {"hint family 255", with_byte(r, kHint1FamilyAt, 255)},
        {"hint family 6 with an IPv4-sized address", with_byte(r, kHint0FamilyAt, 6)},
        {"hint family 0 with an address", with_byte(r, kHint1FamilyAt, 0)},
        {"the last port cut short", without_last},
        {"one byte after the body", concat(r, {0})},
        {"31 bytes after the body", concat(r, Bytes(31, 0))},
        {"a trailer and 32 bytes after the body", concat(signed_with(r, test_key()), Bytes(32, 0))},
        {"header only", {'S', 'A', 0x01, 0x03}},
        {"a body one byte short of the smallest", {'S', 'A', 0x01, 0x03, 0x00, 0x03, 0xff, 0xff, 0xff, 0xfe,
                                                    0xfe, 0xdc, 0xba, 0x98, 0x00, 0x02, 0x03, 0x00, 0x00,
                                                    0x00, 0xff, 0xff, 0xff, 0xff, 0x00}},
    };
    for (const RejectCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(decode(signed_with(c.datagram, test_key()), &test_key()).reject == Reject::malformed);
            BOOST_TEST(decode(c.datagram, nullptr).reject == Reject::malformed);
        }
    }
}

// The bound is checked before the MAC, so an oversize datagram costs no HMAC.
BOOST_AUTO_TEST_CASE(oversize_is_rejected) {
    const Bytes header = {'S', 'A', 0x01, 0x03};
    const Bytes biggest = concat(header, Bytes(kMaxAnnounceBody + kMacSize, 0));
    const Bytes one_more = concat(header, Bytes(kMaxAnnounceBody + 1, 0));
    BOOST_TEST(decode(signed_with(one_more, test_key()), &test_key()).reject == Reject::malformed);
    BOOST_TEST(decode(signed_with(one_more, test_key()), nullptr).reject == Reject::malformed);
    BOOST_TEST(decode(concat(biggest, {0}), nullptr).reject == Reject::malformed);
    BOOST_TEST(decode(Bytes(64 * 1024, 0x53), nullptr).reject == Reject::malformed);
    // At the bound the MAC is checked, then the body must fill the rest.
    const Bytes padded = concat(kRtspReplyBytes, Bytes(kHeaderSize + kMaxAnnounceBody - kRtspReplyBytes.size(), 0));
    BOOST_TEST(decode(signed_with(padded, test_key()), &test_key()).reject == Reject::malformed);
    BOOST_TEST(decode(concat(padded, Bytes(kMacSize, 0)), &test_key()).reject == Reject::auth);
}

// Without a key, the last 32 bytes are a trailer only if the body ends before them.
BOOST_AUTO_TEST_CASE(auth_none_reads_a_32_byte_suffix_as_a_trailer) {
    const AnnounceMessage want = rtsp_reply();
    for (const uint8_t fill : {0x00, 0x53, 0xff}) {
        BOOST_TEST_CONTEXT("suffix of 0x" << std::hex << int(fill)) {
            const Decoded d = decode(concat(kRtspReplyBytes, Bytes(kMacSize, fill)), nullptr);
            BOOST_TEST_REQUIRE(d.reject == Reject::none);
            BOOST_TEST(describe(d.announce) == describe(want));
        }
    }
    // A key 32 bytes longer makes those 32 bytes part of the body: the key_len says so.
    AnnounceMessage longer = want;
    longer.announcement.key += std::string(32, 'L');
    const Bytes longer_bytes = encode(longer, nullptr);
    const Decoded d = decode(longer_bytes, nullptr);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST(describe(d.announce) == describe(longer));
    BOOST_TEST(decode(Bytes(longer_bytes.begin(), longer_bytes.end() - long(kMacSize)), nullptr).reject ==
               Reject::malformed);
}

struct EncodeCase {
    const char* description;
    std::function<void(Announcement&)> change;
};

BOOST_AUTO_TEST_CASE(encode_refuses_what_decode_would_reject) {
    const std::vector<EncodeCase> cases = {
        {"empty key", [](Announcement& a) { a.key.clear(); }},
        {"256-byte key", [](Announcement& a) { a.key = std::string(256, 'k'); }},
        {"has_media with no hints", [](Announcement& a) { a.media_count = 0; }},
        {"9 hints", [](Announcement& a) { a.media_count = kMaxMediaHints + 1; }},
        {"control flow unset", [](Announcement& a) { a.control = FlowKey{}; }},
        {"control flow IPv4 to IPv6", [](Announcement& a) { a.control.dst = IpAddress::v6(kVip6); }},
        {"control flow family 5", [](Announcement& a) { a.control.src.family = a.control.dst.family = 5; }},
        {"control flow ip proto 1", [](Announcement& a) { a.control.proto = IpProto(1); }},
        {"hint family 5", [](Announcement& a) { a.media[1].client_address.family = 5; }},
        {"protocol 3", [](Announcement& a) { a.protocol = ServiceProtocol(3); }},
        {"method 8", [](Announcement& a) { a.method = SipMethod(8); }},
        {"cseq_method 200", [](Announcement& a) { a.cseq_method = SipMethod(200); }},
        {"status_code -1", [](Announcement& a) { a.status_code = -1; }},
        {"status_code 65536", [](Announcement& a) { a.status_code = 65536; }},
    };
    for (const EncodeCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            AnnounceMessage m = rtsp_reply();
            c.change(m.announcement);
            BOOST_TEST(encode(m, nullptr).empty());
            BOOST_TEST(encode(m, &test_key()).empty());
        }
    }
}

// What the flags leave out is not sent, so it cannot come back.
BOOST_AUTO_TEST_CASE(encode_sends_only_what_the_flags_announce) {
    AnnounceMessage m = rtsp_reply();
    m.announcement.has_control = false;
    m.announcement.has_media = false;
    m.announcement.media[5].server_rtp = 9;
    const Bytes bytes = encode(m, nullptr);
    BOOST_TEST(bytes.size() == kHeaderSize + 20 + 1 + m.announcement.key.size());  // fixed fields, key_len, key
    const Decoded d = decode(bytes, nullptr);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST(!d.announce.announcement.has_control);
    BOOST_TEST(!d.announce.announcement.has_media);
    BOOST_TEST(d.announce.announcement.media_count == 0);
    BOOST_TEST(d.announce.announcement.media[5].server_rtp == 0);

    m = rtsp_reply();
    m.announcement.media[2].server_rtp = 9;  // past media_count
    BOOST_TEST(hex(encode(m, nullptr)) == hex(kRtspReplyBytes));
}

BOOST_AUTO_TEST_CASE(receiver_outcomes_for_announcements) {
    const uint32_t T = kNow;
    const auto hb = [](uint16_t host, uint32_t seq, uint32_t ts) {
        return encode(Heartbeat{.host_id = host, .seq = seq, .timestamp = ts}, &test_key());
    };
    const std::vector<ReceiverCase> cases = {
        {.description = "in order from two gateways",
         .steps = {{ann(1, 1, T), T, Reject::none}, {ann(2, 1, T), T, Reject::none}, {ann(1, 2, T + 1), T + 1, Reject::none}}},
        {.description = "duplicate and out of order within the window",
         .steps = {{ann(1, 10, T), T, Reject::none}, {ann(1, 10, T), T, Reject::replay},
                   {ann(1, 8, T), T, Reject::none}, {ann(1, 8, T), T + 1, Reject::replay}}},
        {.description = "the timestamp is a send time: 30 s either way is fresh, 31 s is stale",
         .steps = {{ann(1, 1, T + 30), T, Reject::none}, {ann(1, 2, T - 30), T, Reject::none},
                   {ann(1, 3, T + 31), T, Reject::stale}, {ann(1, 4, T - 31), T, Reject::stale},
                   {ann(1, 5, 0), T, Reject::stale}}},
        {.description = "a stale announcement leaves no trace in the window",
         .steps = {{ann(1, 5, T - 100), T, Reject::stale}, {ann(1, 5, T), T, Reject::none}}},
        {.description = "unknown host (authentic)", .steps = {{ann(9, 1, T), T, Reject::unknown_host}}},
        {.description = "wrong key, missing trailer, malformed under a valid MAC",
         .steps = {{ann(1, 1, T, &other_key()), T, Reject::auth}, {ann(1, 1, T, nullptr), T, Reject::auth},
                   {signed_with(with_byte(kRtspReplyBytes, kKeyLenAt, 0), test_key()), T, Reject::malformed},
                   {ann(1, 1, T), T, Reject::none}}},
        {.description = "announce and heartbeat windows of one host are separate",
         .steps = {{hb(1, 7, T), T, Reject::none}, {ann(1, 7, T), T, Reject::none},
                   {ann(1, 7, T), T, Reject::replay}, {hb(1, 7, T), T, Reject::replay}}},
        {.description = "restart: a small sequence with a newer send time starts the window over",
         .steps = {{ann(1, 1000, T), T, Reject::none}, {ann(1, 1, T + 1), T + 1, Reject::none},
                   {ann(1, 1000, T), T + 1, Reject::replay}, {ann(1, 2, T + 1), T + 1, Reject::none}}},
        {.description = "auth none: with and without a trailer, one window",
         .steps = {{ann(1, 1, T, nullptr), T, Reject::none}, {ann(1, 2, T, &other_key()), T, Reject::none},
                   {ann(1, 2, T, nullptr), T, Reject::replay}},
         .key = nullptr},
    };
    for (const ReceiverCase& c : cases) run_receiver_case(c);
}

BOOST_AUTO_TEST_CASE(receiver_returns_the_decoded_announcement) {
    ControlReceiver receiver(&test_key(), {0x0102});
    const Decoded d = receiver.receive(signed_with(kRtspReplyBytes, test_key()), kNow);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST((d.type == MessageType::announce));
    BOOST_TEST(describe(d.announce) == describe(rtsp_reply()));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::wire
