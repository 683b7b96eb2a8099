// SPDX-License-Identifier: GPL-2.0-or-later
// The HA state-sync datagram (common/wire/sync_message.hpp): literal datagrams for an update, a
// snapshot chunk and a resync request with and without the HMAC trailer (computed here through
// EVP_MAC, not the encoder's HMAC() call), the round trip, every truncation, extension and
// flipped bit, each rule the layout states, the size bound, the 32-byte suffix `auth: none`
// ignores, what encode() refuses, and the receiver's checks for sync messages. Seeds for the
// fuzzer are in tests/fuzz/corpus/sync_message/ (tests/fuzz/make_sync_seeds.py).
#include <boost/test/unit_test.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/wire/control_receiver.hpp"
#include "common/wire/sync_message.hpp"
#include "tests/unit/wire/wire_test_support.hpp"

namespace sara::wire {
namespace {

using namespace test_support;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Every field, so two messages compare equal exactly when their descriptions do, and a failed
// comparison shows what differs.
std::string describe(const SyncMessage& m) {
    std::ostringstream o;
    o << "host " << m.host_id << " seq " << m.seq << " ts " << m.timestamp << " kind " << int(m.kind) << " epoch "
      << m.epoch << " index " << m.index << " last_chunk " << m.last_chunk << " payload[" << m.payload.size() << "] '"
      << m.payload << "'";
    return o.str();
}

// Datagram offsets of the fields (header is 4 bytes), for the rule-violation table.
constexpr size_t kKindAt = 14, kEpochAt = 15, kIndexAt = 19, kLastChunkAt = 21, kLenAt = 23, kPayloadAt = 25;

Bytes with_u16(Bytes b, size_t at, uint16_t v) {
    b.at(at) = uint8_t(v >> 8);
    b.at(at + 1) = uint8_t(v);
    return b;
}

Bytes with_u32(Bytes b, size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) b.at(at + i) = uint8_t(v >> (24 - 8 * i));
    return b;
}

// ---------------------------------------------------------------------------------------------
// Literal datagrams

struct SyncCase {
    const char* description;
    SyncMessage message;
    Bytes bytes;  // header + body, as on the wire
};

// One SIP call: its block as journal_blocks() writes it.
const std::string kCallBlock =
    "S 0 0 2 0 1 call-1@198.18.1.2\n"
    "F 17 198.18.1.2 5070 198.18.100.10 5060 0 1\n";  // 74 bytes
// An RTSP session with its control connection and one media flow.
const std::string kRtspBlock =
    "S 1 0 3 1 1 sess-9\n"
    "F 6 198.18.1.2 41000 198.18.100.10 554 0 1\n"
    "F 17 198.18.1.2 5000 198.18.100.10 6970 2 0\n";  // 106 bytes

SyncMessage update() {
    return SyncMessage{.host_id = 0x0102, .seq = 5, .timestamp = kNow, .kind = SyncKind::update, .payload = kCallBlock};
}

const Bytes kUpdateBytes = concat(
    {'S', 'A', 0x01, 0x04,
     0x01, 0x02,                // host_id 258
     0x00, 0x00, 0x00, 0x05,    // seq 5
     0x65, 0x53, 0xf1, 0x00,    // timestamp 1700000000
     0x01,                      // kind update
     0x00, 0x00, 0x00, 0x00,    // epoch 0
     0x00, 0x00, 0x00, 0x00,    // index 0, last_chunk 0
     0x00, 0x4a},               // payload_len 74
    text(kCallBlock));

const std::vector<SyncCase>& literal_cases() {
    static const std::vector<SyncCase> cases = [] {
        std::vector<SyncCase> v;
        v.push_back({"update: one SIP call", update(), kUpdateBytes});

        v.push_back({"snapshot chunk 2 of epoch 7, its last: an RTSP session",
                     SyncMessage{.host_id = 1, .seq = 0x01020304, .timestamp = kNow + 1, .kind = SyncKind::snapshot,
                                 .epoch = 7, .index = 2, .last_chunk = 1, .payload = kRtspBlock},
                     concat({'S', 'A', 0x01, 0x04, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x65, 0x53, 0xf1, 0x01,
                             0x02,                    // kind snapshot
                             0x00, 0x00, 0x00, 0x07,  // epoch 7
                             0x00, 0x02, 0x00, 0x01,  // index 2, last_chunk 1
                             0x00, 0x6a},             // payload_len 106
                            text(kRtspBlock))});

        v.push_back({"snapshot of an empty table: chunk 0, the last, no payload, widest epoch",
                     SyncMessage{.host_id = 2, .seq = 0, .timestamp = 0, .kind = SyncKind::snapshot,
                                 .epoch = 0xffffffff, .index = 0, .last_chunk = 1, .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                      0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}});

        v.push_back({"resync request: the smallest body (21 bytes)",
                     SyncMessage{.host_id = 0xffff, .seq = 0xfffffffe, .timestamp = 0xfedcba98,
                                 .kind = SyncKind::resync, .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xfe, 0xdc, 0xba, 0x98,
                      0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}});

        v.push_back({"update with no changes: an empty payload",
                     SyncMessage{.host_id = 3, .seq = 1, .timestamp = kNow, .kind = SyncKind::update, .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x65, 0x53, 0xf1, 0x00,
                      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}});

        v.push_back({"update 9, to be acknowledged: its number in epoch",
                     SyncMessage{.host_id = 3, .seq = 2, .timestamp = kNow, .kind = SyncKind::update, .epoch = 9,
                                 .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x65, 0x53, 0xf1, 0x00,
                      0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}});

        v.push_back({"ack of update 0x80000001",
                     SyncMessage{.host_id = 4, .seq = 3, .timestamp = kNow, .kind = SyncKind::ack,
                                 .epoch = 0x80000001, .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x65, 0x53, 0xf1, 0x00,
                      0x04, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}});

        v.push_back({"a mesh's ack of update 5 for dispatcher 0x0203: the addressee in index",
                     SyncMessage{.host_id = 4, .seq = 4, .timestamp = kNow, .kind = SyncKind::ack, .epoch = 5,
                                 .index = 0x0203, .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x65, 0x53, 0xf1, 0x00,
                      0x04, 0x00, 0x00, 0x00, 0x05, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00}});

        v.push_back({"a mesh's resync request to dispatcher 7",
                     SyncMessage{.host_id = 4, .seq = 5, .timestamp = kNow, .kind = SyncKind::resync, .index = 7,
                                 .payload = {}},
                     {'S', 'A', 0x01, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x65, 0x53, 0xf1, 0x00,
                      0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00}});
        return v;
    }();
    return cases;
}

// A full payload: the most a datagram may carry.
SyncMessage largest() {
    SyncMessage m{.host_id = 1, .seq = 9, .timestamp = kNow, .kind = SyncKind::snapshot, .epoch = 1,
                  .index = 0xffff, .last_chunk = 0, .payload = {}};
    while (m.payload.size() + kCallBlock.size() <= kMaxSyncPayload) m.payload += kCallBlock;
    m.payload.resize(kMaxSyncPayload, '#');
    return m;
}

Bytes sync(uint16_t host, uint32_t seq, uint32_t ts, const ClusterKey* key = &test_key()) {
    SyncMessage m = update();
    m.host_id = host;
    m.seq = seq;
    m.timestamp = ts;
    return encode(m, key);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_message)

BOOST_AUTO_TEST_CASE(encodes_literal_bytes_and_trailer) {
    for (const SyncCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(c.bytes.size() == kHeaderSize + kSyncFixedBody + c.message.payload.size());
            BOOST_TEST(hex(encode(c.message, nullptr)) == hex(c.bytes));
            BOOST_TEST(hex(encode(c.message, &test_key())) == hex(signed_with(c.bytes, test_key())));
        }
    }
}

// Signed under a key, signed without one (the trailer ignored), and unsigned without one.
BOOST_AUTO_TEST_CASE(decodes_literal_bytes_and_round_trips) {
    for (const SyncCase& c : literal_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes signed_bytes = signed_with(c.bytes, test_key());
            const std::vector<std::pair<Bytes, const ClusterKey*>> readings = {
                {signed_bytes, &test_key()}, {signed_bytes, nullptr}, {c.bytes, nullptr}};
            for (const auto& [datagram, key] : readings) {
                BOOST_TEST_CONTEXT((key ? "with key" : "auth none") << ", " << datagram.size() << " bytes") {
                    const Decoded d = decode(datagram, key);
                    BOOST_TEST_REQUIRE(d.reject == Reject::none);
                    BOOST_TEST((d.type == MessageType::sync));
                    BOOST_TEST(describe(d.sync) == describe(c.message));
                    BOOST_TEST(hex(encode(d.sync, key)) == hex(key ? signed_bytes : c.bytes));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_largest_payload_fits_an_mtu_and_round_trips) {
    const SyncMessage m = largest();
    BOOST_TEST_REQUIRE(m.payload.size() == kMaxSyncPayload);
    const Bytes signed_bytes = encode(m, &test_key());
    BOOST_TEST(signed_bytes.size() == 1457u);  // the header's arithmetic: fits 1500 with IPv4 + UDP
    for (const ClusterKey* key : {&test_key(), static_cast<const ClusterKey*>(nullptr)}) {
        BOOST_TEST_CONTEXT((key ? "with key" : "auth none")) {
            const Decoded d = decode(signed_bytes, key);
            BOOST_TEST_REQUIRE(d.reject == Reject::none);
            BOOST_TEST(describe(d.sync) == describe(m));
        }
    }
    const Decoded open = decode(encode(m, nullptr), nullptr);
    BOOST_TEST_REQUIRE(open.reject == Reject::none);
    BOOST_TEST(describe(open.sync) == describe(m));
}

// A header flip makes another (or no) type — type 4 is one bit away from 0, 5, 6 and 12, none
// of them sync — and is refused before the trailer is looked for; anywhere else the MAC
// catches it, whatever field it lands in.
BOOST_AUTO_TEST_CASE(every_flipped_bit_is_rejected) {
    std::vector<SyncCase> cases = literal_cases();
    cases.push_back({"largest", largest(), encode(largest(), nullptr)});
    for (const SyncCase& c : cases) {
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

// With a key, anything long enough to hold the fixed body is checked against its last 32 bytes
// (so a cut or padded datagram is Reject::auth); shorter is malformed before any HMAC. Without
// one, the body measures itself by payload_len and only "nothing after it" or "32 bytes after
// it" is accepted.
BOOST_AUTO_TEST_CASE(every_truncation_and_extension_is_rejected) {
    constexpr size_t kMinimal = kHeaderSize + kSyncFixedBody;
    for (const SyncCase& c : literal_cases()) {
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
BOOST_AUTO_TEST_CASE(each_rule_violation_is_malformed) {
    const Bytes& u = kUpdateBytes;
    const Bytes& snap = literal_cases()[1].bytes;    // epoch 7, chunk 2, the last
    const Bytes& resync = literal_cases()[3].bytes;  // no payload
    const Bytes resync_with_payload = concat(with_u16(resync, kLenAt, 1), {'x'});
    const Bytes update_1401 = concat(with_u16(u, kLenAt, 1401), Bytes(1401 - kCallBlock.size(), 'x'));
    const std::vector<RejectCase> cases = {
        {"kind 0", with_byte(u, kKindAt, 0)},
        {"kind 5", with_byte(u, kKindAt, 5)},
        {"kind 255", with_byte(u, kKindAt, 255)},
        {"snapshot with last_chunk 2", with_u16(snap, kLastChunkAt, 2)},
        {"snapshot with index 0xffff, last_chunk 0xffff", with_u16(with_u16(snap, kIndexAt, 0xffff), kLastChunkAt, 0xffff)},
        {"ack with epoch 0", with_u32(with_byte(resync, kKindAt, 4), kEpochAt, 0)},
        {"ack with last_chunk 1", with_u16(with_u32(with_byte(resync, kKindAt, 4), kEpochAt, 9), kLastChunkAt, 1)},
        {"ack with a one-byte payload", with_u32(with_byte(resync_with_payload, kKindAt, 4), kEpochAt, 9)},
        {"update with index 2 (1 is a ready mesh dispatcher)", with_u16(u, kIndexAt, 2)},
        {"update with last_chunk 1", with_u16(u, kLastChunkAt, 1)},
        {"update with index 1, last_chunk 1 (a snapshot's fields)", with_u16(with_u16(u, kIndexAt, 1), kLastChunkAt, 1)},
        {"resync with epoch 1", with_u32(resync, kEpochAt, 1)},
        {"resync with last_chunk 1", with_u16(resync, kLastChunkAt, 1)},
        {"resync with a one-byte payload", resync_with_payload},
        {"resync with payload_len 1 and no payload", with_u16(resync, kLenAt, 1)},
        {"payload_len 1401 with 1401 bytes", update_1401},
        {"payload_len 0xffff", with_u16(u, kLenAt, 0xffff)},
        {"payload_len one more than the payload", with_u16(u, kLenAt, uint16_t(kCallBlock.size() + 1))},
        {"payload_len one less than the payload", with_u16(u, kLenAt, uint16_t(kCallBlock.size() - 1))},
        {"payload_len 0 with a payload", with_u16(u, kLenAt, 0)},
        {"payload_len 31 less than the payload", with_u16(u, kLenAt, uint16_t(kCallBlock.size() - 31))},
        {"payload_len 33 less than the payload", with_u16(u, kLenAt, uint16_t(kCallBlock.size() - 33))},
        {"the last payload byte cut", Bytes(u.begin(), u.end() - 1)},
        {"one byte after the body", concat(u, {0})},
        {"31 bytes after the body", concat(u, Bytes(31, 0))},
        {"a trailer and 32 bytes after the body", concat(signed_with(u, test_key()), Bytes(32, 0))},
        {"header only", {'S', 'A', 0x01, 0x04}},
        {"a body one byte short of the fixed 21",
         Bytes(resync.begin(), resync.end() - 1)},
    };
    for (const RejectCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(decode(signed_with(c.datagram, test_key()), &test_key()).reject == Reject::malformed);
            BOOST_TEST(decode(c.datagram, nullptr).reject == Reject::malformed);
        }
    }
    // Sanity for the table: the unchanged datagrams it starts from are accepted.
    for (const Bytes* ok : {&u, &snap, &resync}) {
        BOOST_TEST(decode(signed_with(*ok, test_key()), &test_key()).reject == Reject::none);
        BOOST_TEST(decode(*ok, nullptr).reject == Reject::none);
    }
}

// The bound is checked before the MAC, so an oversize datagram costs no HMAC.
BOOST_AUTO_TEST_CASE(oversize_is_rejected) {
    const Bytes biggest_signed = encode(largest(), &test_key());
    BOOST_TEST_REQUIRE(biggest_signed.size() == kHeaderSize + kSyncFixedBody + kMaxSyncPayload + kMacSize);
    BOOST_TEST(decode(concat(biggest_signed, {0}), &test_key()).reject == Reject::malformed);
    BOOST_TEST(decode(concat(biggest_signed, {0}), nullptr).reject == Reject::malformed);
    BOOST_TEST(decode(Bytes(64 * 1024, 0x53), nullptr).reject == Reject::malformed);
    // A 1401-byte payload under a valid MAC is one byte over the bound: malformed, not auth.
    SyncMessage over = largest();
    over.payload += 'x';
    Bytes over_bytes = encode(largest(), nullptr);
    over_bytes = with_u16(concat(over_bytes, {'x'}), kLenAt, 1401);
    BOOST_TEST(decode(signed_with(over_bytes, test_key()), &test_key()).reject == Reject::malformed);
    BOOST_TEST(decode(over_bytes, nullptr).reject == Reject::malformed);
    BOOST_TEST(encode(over, &test_key()).empty());
}

// Without a key, a 32-byte suffix after the body is a trailer and ignored, whatever it holds —
// also when payload_len says the payload ends 32 bytes early.
BOOST_AUTO_TEST_CASE(auth_none_reads_a_32_byte_suffix_as_a_trailer) {
    for (const uint8_t fill : {0x00, 0x53, 0xff}) {
        BOOST_TEST_CONTEXT("suffix of 0x" << std::hex << int(fill)) {
            const Decoded d = decode(concat(kUpdateBytes, Bytes(kMacSize, fill)), nullptr);
            BOOST_TEST_REQUIRE(d.reject == Reject::none);
            BOOST_TEST(describe(d.sync) == describe(update()));
        }
    }
    const Bytes shorter = with_u16(kUpdateBytes, kLenAt, uint16_t(kCallBlock.size() - kMacSize));
    const Decoded d = decode(shorter, nullptr);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    SyncMessage want = update();
    want.payload.resize(kCallBlock.size() - kMacSize);
    BOOST_TEST(describe(d.sync) == describe(want));
    // Under a key those 32 bytes are neither payload nor trailer.
    BOOST_TEST(decode(signed_with(shorter, test_key()), &test_key()).reject == Reject::malformed);
    // A resync is the whole fixed body; 32 bytes after it are a trailer, 33 are not.
    const Bytes& resync = literal_cases()[3].bytes;
    BOOST_TEST(decode(concat(resync, Bytes(32, 0xaa)), nullptr).reject == Reject::none);
    BOOST_TEST(decode(concat(resync, Bytes(33, 0xaa)), nullptr).reject == Reject::malformed);
}

struct EncodeCase {
    const char* description;
    std::function<void(SyncMessage&)> change;
};

BOOST_AUTO_TEST_CASE(encode_refuses_what_decode_would_reject) {
    const std::vector<EncodeCase> cases = {
        {"kind 0", [](SyncMessage& m) { m.kind = SyncKind(0); }},
        {"kind 5", [](SyncMessage& m) { m.kind = SyncKind(5); }},
        {"kind 255", [](SyncMessage& m) { m.kind = SyncKind(255); }},
        {"ack with epoch 0", [](SyncMessage& m) {
             m.kind = SyncKind::ack;
             m.payload.clear();
         }},
        {"ack with a payload", [](SyncMessage& m) {
             m.kind = SyncKind::ack;
             m.epoch = 9;
         }},
        {"update with index 2 (1 is a ready mesh dispatcher)", [](SyncMessage& m) { m.index = 2; }},
        {"update with last_chunk 1", [](SyncMessage& m) { m.last_chunk = 1; }},
        {"update with a 1401-byte payload", [](SyncMessage& m) { m.payload.assign(1401, 'x'); }},
        {"snapshot with last_chunk 2",
         [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.last_chunk = 2;
         }},
        {"snapshot with last_chunk 0xffff",
         [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.index = 0xffff;
             m.last_chunk = 0xffff;
         }},
        {"snapshot with a 1401-byte payload",
         [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.last_chunk = 1;
             m.payload.assign(1401, 'x');
         }},
        {"snapshot with a 64 KiB payload (payload_len would wrap)",
         [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.last_chunk = 1;
             m.payload.assign(65536 + 10, 'x');
         }},
        {"resync with a payload", [](SyncMessage& m) { m.kind = SyncKind::resync; }},
        {"resync with epoch 1",
         [](SyncMessage& m) {
             m.kind = SyncKind::resync;
             m.payload.clear();
             m.epoch = 1;
         }},
        {"resync with last_chunk 1",
         [](SyncMessage& m) {
             m.kind = SyncKind::resync;
             m.payload.clear();
             m.last_chunk = 1;
         }},
    };
    for (const EncodeCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            SyncMessage m = update();
            c.change(m);
            BOOST_TEST(encode(m, nullptr).empty());
            BOOST_TEST(encode(m, &test_key()).empty());
        }
    }
}

// The edges of each rule are sendable, and decode() takes what encode() wrote.
BOOST_AUTO_TEST_CASE(encode_takes_every_boundary_value) {
    const std::vector<EncodeCase> cases = {
        {"update with a 1400-byte payload", [](SyncMessage& m) { m.payload.assign(1400, 'x'); }},
        {"snapshot chunk 0, the last", [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.last_chunk = 1;
         }},
        {"snapshot chunk 0xffff, not the last, epoch 0", [](SyncMessage& m) {
             m.kind = SyncKind::snapshot;
             m.index = 0xffff;
         }},
        {"payload with NUL and high bytes (decode does not read it)",
         [](SyncMessage& m) { m.payload = std::string("S\0\xff\n", 4); }},
    };
    for (const EncodeCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            SyncMessage m = update();
            c.change(m);
            const Bytes b = encode(m, &test_key());
            BOOST_TEST_REQUIRE(!b.empty());
            const Decoded d = decode(b, &test_key());
            BOOST_TEST_REQUIRE(d.reject == Reject::none);
            BOOST_TEST(describe(d.sync) == describe(m));
        }
    }
}

BOOST_AUTO_TEST_CASE(receiver_outcomes_for_sync_messages) {
    const uint32_t T = kNow;
    const auto hb = [](uint16_t host, uint32_t seq, uint32_t ts) {
        return encode(Heartbeat{.host_id = host, .seq = seq, .timestamp = ts}, &test_key());
    };
    const auto resync = [](uint16_t host, uint32_t seq, uint32_t ts) {
        return encode(SyncMessage{.host_id = host, .seq = seq, .timestamp = ts, .kind = SyncKind::resync, .payload = {}},
                                  &test_key());
    };
    const std::vector<ReceiverCase> cases = {
        {.description = "accepted once, then a replay",
         .steps = {{sync(1, 1, T), T, Reject::none}, {sync(1, 1, T), T, Reject::replay},
                   {sync(1, 1, T), T + 1, Reject::replay}}},
        {.description = "in order from both peers",
         .steps = {{sync(1, 1, T), T, Reject::none}, {sync(2, 1, T), T, Reject::none},
                   {sync(1, 2, T + 1), T + 1, Reject::none}}},
        {.description = "out of order within the window, each once",
         .steps = {{sync(1, 10, T), T, Reject::none}, {sync(1, 8, T), T, Reject::none},
                   {sync(1, 8, T), T, Reject::replay}}},
        {.description = "updates and resyncs from one peer share the sync window",
         .steps = {{sync(1, 4, T), T, Reject::none}, {resync(1, 4, T), T, Reject::replay},
                   {resync(1, 5, T), T, Reject::none}}},
        {.description = "sync and heartbeat windows of one host are separate",
         .steps = {{hb(1, 7, T), T, Reject::none}, {sync(1, 7, T), T, Reject::none},
                   {sync(1, 7, T), T, Reject::replay}, {hb(1, 7, T), T, Reject::replay}}},
        {.description = "the timestamp is a send time: 30 s either way is fresh, 31 s is stale",
         .steps = {{sync(1, 1, T + 30), T, Reject::none}, {sync(1, 2, T - 30), T, Reject::none},
                   {sync(1, 3, T + 31), T, Reject::stale}, {sync(1, 4, T - 31), T, Reject::stale}}},
        {.description = "a stale message leaves no trace in the window",
         .steps = {{sync(1, 5, T - 100), T, Reject::stale}, {sync(1, 5, T), T, Reject::none}}},
        {.description = "unknown host (authentic)", .steps = {{sync(9, 1, T), T, Reject::unknown_host}}},
        {.description = "wrong key, missing trailer, a rule broken under a valid MAC",
         .steps = {{sync(1, 1, T, &other_key()), T, Reject::auth}, {sync(1, 1, T, nullptr), T, Reject::auth},
                   {signed_with(with_byte(kUpdateBytes, kKindAt, 4), test_key()), T, Reject::malformed},
                   {sync(1, 1, T), T, Reject::none}}},
        {.description = "restart: a small sequence with a newer send time starts the window over",
         .steps = {{sync(1, 1000, T), T, Reject::none}, {sync(1, 1, T + 1), T + 1, Reject::none},
                   {sync(1, 1000, T), T + 1, Reject::replay}}},
        {.description = "auth none: with and without a trailer, one window",
         .steps = {{sync(1, 1, T, nullptr), T, Reject::none}, {sync(1, 2, T, &other_key()), T, Reject::none},
                   {sync(1, 2, T, nullptr), T, Reject::replay}},
         .key = nullptr},
    };
    for (const ReceiverCase& c : cases) run_receiver_case(c);
}

BOOST_AUTO_TEST_CASE(receiver_returns_the_decoded_sync_message) {
    ControlReceiver receiver(&test_key(), {0x0102});
    const Bytes datagram = signed_with(kUpdateBytes, test_key());
    const Decoded d = receiver.receive(datagram, kNow);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST((d.type == MessageType::sync));
    BOOST_TEST(describe(d.sync) == describe(update()));
    const Decoded again = receiver.receive(datagram, kNow);
    BOOST_TEST(again.reject == Reject::replay);
    BOOST_TEST(describe(again.sync) == describe(update()));  // kept for the caller's log line
    BOOST_TEST(receiver.counters().control_accepted_total == 1u);
    BOOST_TEST(receiver.counters().control_rejected_replay_total == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::wire
