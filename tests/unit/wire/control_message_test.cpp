// SPDX-License-Identifier: GPL-2.0-or-later
// Control-message wire format (DESIGN §7): literal datagrams, the HMAC trailer checked against
// an HMAC computed here with OpenSSL's EVP_MAC API (not the HMAC() call the encoder uses),
// every reject reason, truncation and bit flips, the replay window, the receiver's skew bound
// and restart rule, and the cluster key loader. The hostile datagrams are also in
// tests/fuzz/regressions/control_message/.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/wire/control_message.hpp"
#include "common/wire/control_receiver.hpp"
#include "tests/unit/wire/wire_test_support.hpp"

namespace sara::wire {
namespace {

using namespace test_support;

// ---------------------------------------------------------------------------------------------
// Literal datagrams

struct WireCase {
    const char* description;
    std::optional<Heartbeat> heartbeat;
    std::optional<LoadVector> load;
    Bytes bytes;                      // header + body, as on the wire
    std::optional<LoadVector> decoded_load{};  // when decoding `bytes` gives other fractions
};

const std::vector<WireCase>& wire_cases() {
    static const std::vector<WireCase> cases = {
        {.description = "heartbeat host 1 seq 2 flag 0 ts 0x01020304",
         .heartbeat = Heartbeat{.host_id = 1, .seq = 2, .flag = HeartbeatFlag::available, .timestamp = 0x01020304},
         .load = {},
         .bytes = {'S', 'A', 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04}},
        {.description = "heartbeat: every field at its widest, flag app_down",
         .heartbeat = Heartbeat{.host_id = 0xabcd, .seq = 0xfffffffe, .flag = HeartbeatFlag::app_down, .timestamp = 0xfedcba98},
         .load = {},
         .bytes = {'S', 'A', 0x01, 0x01, 0xab, 0xcd, 0xff, 0xff, 0xff, 0xfe, 0x01, 0xfe, 0xdc, 0xba, 0x98}},
        {.description = "heartbeat: drain at 0x65000000",
         .heartbeat = Heartbeat{.host_id = 0x0102, .seq = 0x00010000, .flag = HeartbeatFlag::drain, .timestamp = 0x65000000},
         .load = {},
         .bytes = {'S', 'A', 0x01, 0x01, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x02, 0x65, 0x00, 0x00, 0x00}},
        {.description = "heartbeat: undrain, timestamp 0",
         .heartbeat = Heartbeat{.host_id = 3, .seq = 0, .flag = HeartbeatFlag::undrain, .timestamp = 0},
         .load = {},
         .bytes = {'S', 'A', 0x01, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00}},
        {.description = "load: 0, 1, 1/2 (rounds up to 0x8000), 1/4 (to 0x4000), 1/65535",
         .heartbeat = {},
         .load = LoadVector{.host_id = 7, .seq = 0x01000000, .timestamp = 0x65a0b0c0,
                            .cpu = 0, .memory = 1, .net = 0.5, .io = 0.25, .backlog = 1.0 / 65535},
         .bytes = {'S', 'A', 0x01, 0x02, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00, 0x65, 0xa0, 0xb0, 0xc0,
                   0x00, 0x00, 0xff, 0xff, 0x80, 0x00, 0x40, 0x00, 0x00, 0x01},
         .decoded_load = LoadVector{.host_id = 7, .seq = 0x01000000, .timestamp = 0x65a0b0c0,
                                    .cpu = 0, .memory = 1, .net = 32768.0 / 65535, .io = 16384.0 / 65535,
                                    .backlog = 1.0 / 65535}},
        {.description = "load: out of range clamped (-0.5, 2, +inf, -inf), NaN as 0",
         .heartbeat = {},
         .load = LoadVector{.host_id = 0xffff, .seq = 9, .timestamp = 1,
                            .cpu = -0.5, .memory = 2.0, .net = std::numeric_limits<double>::quiet_NaN(),
                            .io = std::numeric_limits<double>::infinity(),
                            .backlog = -std::numeric_limits<double>::infinity()},
         .bytes = {'S', 'A', 0x01, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01,
                   0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00},
         .decoded_load = LoadVector{.host_id = 0xffff, .seq = 9, .timestamp = 1,
                                    .cpu = 0, .memory = 1, .net = 0, .io = 1, .backlog = 0}},
    };
    return cases;
}

void check_load(const LoadVector& got, const LoadVector& want) {
    BOOST_TEST(got.host_id == want.host_id);
    BOOST_TEST(got.seq == want.seq);
    BOOST_TEST(got.timestamp == want.timestamp);
    BOOST_TEST(got.cpu == want.cpu, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(got.memory == want.memory, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(got.net == want.net, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(got.io == want.io, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(got.backlog == want.backlog, boost::test_tools::tolerance(1e-12));
}

Bytes encode_case(const WireCase& c, const ClusterKey* key) {
    return c.heartbeat ? encode(*c.heartbeat, key) : encode(*c.load, key);
}

// ---------------------------------------------------------------------------------------------
// Builders for the receiver and reject tables

Bytes hb(uint16_t host, uint32_t seq, uint32_t ts, HeartbeatFlag flag = HeartbeatFlag::available,
         const ClusterKey* key = &test_key()) {
    return encode(Heartbeat{.host_id = host, .seq = seq, .flag = flag, .timestamp = ts}, key);
}
Bytes load(uint16_t host, uint32_t seq, uint32_t ts, const ClusterKey* key = &test_key()) {
    return encode(LoadVector{.host_id = host, .seq = seq, .timestamp = ts, .cpu = 0.5}, key);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(control_message)

BOOST_AUTO_TEST_CASE(independent_hmac_matches_rfc4231_case_2) {
    const std::string key = "Jefe", data = "what do ya want for nothing?";
    const Bytes mac = independent_hmac(Bytes(key.begin(), key.end()), Bytes(data.begin(), data.end()));
    BOOST_TEST(hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(encodes_literal_bytes_and_trailer) {
    for (const WireCase& c : wire_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(hex(encode_case(c, nullptr)) == hex(c.bytes));
            const Bytes expected_signed = concat(c.bytes, independent_hmac(test_key().bytes, c.bytes));
            BOOST_TEST(hex(encode_case(c, &test_key())) == hex(expected_signed));
        }
    }
}

BOOST_AUTO_TEST_CASE(decodes_literal_bytes_and_round_trips) {
    for (const WireCase& c : wire_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes signed_bytes = signed_with(c.bytes, test_key());
            for (const auto& [datagram, key] : {std::pair{c.bytes, (const ClusterKey*)nullptr},
                                                std::pair{signed_bytes, &test_key()}}) {
                const Decoded d = decode(datagram, key);
                BOOST_TEST_REQUIRE(d.reject == Reject::none);
                if (c.heartbeat) {
                    BOOST_TEST((d.type == MessageType::heartbeat));
                    BOOST_TEST(d.heartbeat.host_id == c.heartbeat->host_id);
                    BOOST_TEST(d.heartbeat.seq == c.heartbeat->seq);
                    BOOST_TEST(int(d.heartbeat.flag) == int(c.heartbeat->flag));
                    BOOST_TEST(d.heartbeat.timestamp == c.heartbeat->timestamp);
                    BOOST_TEST(hex(encode(d.heartbeat, key)) == hex(datagram));
                } else {
                    BOOST_TEST((d.type == MessageType::load));
                    check_load(d.load, c.decoded_load ? *c.decoded_load : *c.load);
                    BOOST_TEST(hex(encode(d.load, key)) == hex(datagram));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_load_fraction_survives_a_round_trip) {
    for (uint32_t v = 0; v <= 65535; ++v) {
        const Bytes b = {'S', 'A', 1, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, uint8_t(v >> 8), uint8_t(v), 0, 0, 0, 0, 0, 0, 0, 0};
        const Decoded d = decode(b, nullptr);
        if (d.reject != Reject::none || encode(d.load, nullptr) != b) {
            BOOST_TEST(false, "cpu fraction " << v << " does not survive decode + encode");
            break;
        }
    }
}

struct RejectCase {
    const char* description;
    Bytes datagram;
    const ClusterKey* key;
    Reject expected;
};

BOOST_AUTO_TEST_CASE(decode_rejects_with_the_right_reason) {
    const Bytes hb_plain = {'S', 'A', 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04};
    const Bytes hb_signed = signed_with(hb_plain, test_key());
    const Bytes load_plain = {'S', 'A', 0x01, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x65, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0xff, 0xff, 0x80, 0x00, 0x40, 0x00, 0x00, 0x01};
    const Bytes flag4 = with_byte(hb_plain, 10, 4);
    const Bytes flag255 = with_byte(hb_plain, 10, 255);
    const ClusterKey* k = &test_key();
    const std::vector<RejectCase> cases = {
        {"empty datagram", {}, k, Reject::malformed},
        {"header only, three bytes", {'S', 'A', 1}, k, Reject::malformed},
        {"header only, four bytes", {'S', 'A', 1, 1}, nullptr, Reject::malformed},
        {"magic 'SB'", with_byte(hb_signed, 1, 'B'), k, Reject::malformed},
        {"magic 'sA'", with_byte(hb_signed, 0, 's'), k, Reject::malformed},
        {"version 0", with_byte(hb_signed, 2, 0), k, Reject::malformed},
        {"version 2", with_byte(hb_signed, 2, 2), k, Reject::malformed},
        {"version 2 without a key", with_byte(hb_plain, 2, 2), nullptr, Reject::malformed},
        {"type 0", with_byte(hb_signed, 3, 0), k, Reject::malformed},
        {"type 3 (announce) with a heartbeat's body: the MAC is checked first", with_byte(hb_signed, 3, 3), k, Reject::auth},
        {"type 3 (announce) with a heartbeat's body, no key", with_byte(hb_plain, 3, 3), nullptr, Reject::malformed},
        {"type 4 (sync) with a heartbeat body: the trailer does not match", with_byte(hb_signed, 3, 4), k, Reject::auth},
        {"type 5 (unknown)", with_byte(hb_signed, 3, 5), k, Reject::malformed},
        {"type 255", with_byte(hb_signed, 3, 255), k, Reject::malformed},
        {"heartbeat body one byte short", Bytes(hb_plain.begin(), hb_plain.end() - 1), nullptr, Reject::malformed},
        {"heartbeat body one byte long", concat(hb_plain, {0}), nullptr, Reject::malformed},
        {"heartbeat with trailer and a trailing byte", concat(hb_signed, {0}), k, Reject::malformed},
        {"heartbeat with trailer and a trailing byte, no key", concat(hb_signed, {0}), nullptr, Reject::malformed},
        {"heartbeat with a 31-byte trailer", Bytes(hb_signed.begin(), hb_signed.end() - 1), k, Reject::malformed},
        {"load body sized as a heartbeat's", with_byte(hb_plain, 3, 2), nullptr, Reject::malformed},
        {"heartbeat body sized as a load's", with_byte(load_plain, 3, 1), nullptr, Reject::malformed},
        {"key given, trailer missing", hb_plain, k, Reject::auth},
        {"key given, load without trailer", load_plain, k, Reject::auth},
        {"key given, all-zero trailer", concat(hb_plain, Bytes(32, 0)), k, Reject::auth},
        {"key given, trailer made with another key", signed_with(hb_plain, other_key()), k, Reject::auth},
        {"key given, trailer of another message", concat(with_byte(hb_plain, 9, 3), independent_hmac(k->bytes, hb_plain)), k, Reject::auth},
        {"flag 4 under a valid MAC", signed_with(flag4, test_key()), k, Reject::malformed},
        {"flag 255 under a valid MAC", signed_with(flag255, test_key()), k, Reject::malformed},
        {"flag 255 under a wrong MAC: the MAC is checked first", signed_with(flag255, other_key()), k, Reject::auth},
        {"flag 255 without a key", flag255, nullptr, Reject::malformed},
        {"auth none: no trailer accepted", hb_plain, nullptr, Reject::none},
        {"auth none: a valid trailer is ignored", hb_signed, nullptr, Reject::none},
        {"auth none: a garbage trailer is ignored", concat(hb_plain, Bytes(32, 0xee)), nullptr, Reject::none},
        {"key given, valid trailer", hb_signed, k, Reject::none},
    };
    for (const RejectCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            BOOST_TEST(decode(c.datagram, c.key).reject == c.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_and_extension_is_rejected) {
    for (const WireCase& c : wire_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes full = encode_case(c, &test_key());
            const size_t signed_size = c.bytes.size();
            for (size_t len = 0; len < full.size(); ++len) {
                BOOST_TEST_CONTEXT("first " << len << " bytes") {
                    const Bytes prefix(full.begin(), full.begin() + long(len));
                    const bool no_trailer = len == signed_size;
                    BOOST_TEST(decode(prefix, &test_key()).reject == (no_trailer ? Reject::auth : Reject::malformed));
                    BOOST_TEST(decode(prefix, nullptr).reject == (no_trailer ? Reject::none : Reject::malformed));
                }
            }
            for (size_t extra = 1; extra <= 40; ++extra) {
                BOOST_TEST_CONTEXT(extra << " trailing bytes") {
                    const Bytes longer = concat(full, Bytes(extra, 0));
                    BOOST_TEST(decode(longer, &test_key()).reject == Reject::malformed);
                    BOOST_TEST(decode(longer, nullptr).reject == Reject::malformed);
                }
            }
        }
    }
}

// A flipped bit in the header makes it another (or no) message type, which decode() refuses
// before it can know where the trailer is — except a flip to announce, whose variable length
// puts the trailer at the end, where the MAC catches it as it does anywhere else.
BOOST_AUTO_TEST_CASE(every_flipped_bit_is_rejected) {
    for (const WireCase& c : wire_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes full = encode_case(c, &test_key());
            for (size_t bit = 0; bit < full.size() * 8; ++bit) {
                BOOST_TEST_CONTEXT("bit " << bit) {
                    Bytes flipped = full;
                    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
                    const bool header = bit / 8 < kHeaderSize;
                    const bool to_announce = bit / 8 == 3 && flipped[3] == uint8_t(MessageType::announce);
                    const Reject want = header && !to_announce ? Reject::malformed : Reject::auth;
                    BOOST_TEST(decode(flipped, &test_key()).reject == want);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replay window

struct WindowCase {
    const char* description;
    std::vector<std::pair<uint32_t, bool>> steps;  // sequence, accepted?
};

BOOST_AUTO_TEST_CASE(replay_window_sequences) {
    const std::vector<WindowCase> cases = {
        {"first sequence of any value starts the window", {{0xdeadbeef, true}}},
        {"in order", {{1, true}, {2, true}, {3, true}, {4, true}}},
        {"duplicate of the highest", {{5, true}, {5, false}}},
        {"duplicate inside the window", {{5, true}, {6, true}, {5, false}}},
        {"out of order within 64", {{10, true}, {8, true}, {9, true}, {8, false}, {7, true}, {10, false}}},
        {"63 behind is still in the window", {{100, true}, {37, true}, {37, false}}},
        {"64 behind is too old", {{100, true}, {36, false}}},
        {"older than 64", {{100, true}, {20, false}, {0, false}}},
        {"a jump ahead clears the bits that fall out",
         {{100, true}, {300, true}, {299, true}, {237, true}, {236, false}, {100, false}}},
        {"a jump of exactly 64 keeps nothing of the old window",
         {{100, true}, {99, true}, {164, true}, {100, false}, {101, true}, {99, false}}},
        {"a jump of 63 keeps the old highest",
         {{100, true}, {163, true}, {100, false}, {101, true}}},
        {"wrap-around at 2^32",
         {{0xfffffffe, true}, {0xffffffff, true}, {0, true}, {1, true}, {0xffffffff, false}, {0, false},
          {0xfffffffd, true}, {0xffffffc2, true}, {0xffffffc1, false}, {0xffffffc0, false}}},
        {"wrap-around jump from below to above zero",
         {{0xfffffff0, true}, {0x10, true}, {0xfffffff0, false}, {0xfffffff1, true}, {0xffffffd1, true}, {0xffffffd0, false}}},
        {"2^31 - 1 ahead is new", {{0, true}, {0x7fffffff, true}, {0, false}}},
        {"exactly 2^31 away is a replay (and not negated)", {{0x80000000, true}, {0, false}, {0x80000000, false}}},
        {"2^31 + 1 behind: modulo 2^32 that is 2^31 - 1 ahead, so new", {{0x80000001, true}, {0, true}}},
        {"a restarted sender's small sequence is refused (the receiver decides)",
         {{100000, true}, {1, false}, {2, false}}},
    };
    for (const WindowCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            ReplayWindow w;
            BOOST_TEST(!w.initialised());
            for (size_t i = 0; i < c.steps.size(); ++i) {
                BOOST_TEST_CONTEXT("step " << i << ", sequence " << c.steps[i].first) {
                    BOOST_TEST(w.accept(c.steps[i].first) == c.steps[i].second);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(replay_window_behind_tells_too_old_from_duplicate) {
    ReplayWindow w;
    BOOST_TEST(!w.behind(5));  // an empty window refuses nothing
    BOOST_TEST(w.accept(1000));
    BOOST_TEST(!w.behind(1000));  // duplicate
    BOOST_TEST(!w.behind(937));   // 63 behind: inside
    BOOST_TEST(w.behind(936));    // 64 behind
    BOOST_TEST(w.behind(1));
    BOOST_TEST(!w.behind(1001));  // ahead
    BOOST_TEST(w.behind(1000 + 0x80000000u));  // exactly 2^31 away
}

BOOST_AUTO_TEST_CASE(replay_window_reset_starts_over) {
    ReplayWindow w;
    BOOST_TEST(w.accept(1000));
    BOOST_TEST(!w.accept(1));
    w.reset();
    BOOST_TEST(!w.initialised());
    BOOST_TEST(w.accept(1));
    BOOST_TEST(w.highest() == 1u);
    BOOST_TEST(!w.accept(1));
    BOOST_TEST(w.accept(2));
}

// ---------------------------------------------------------------------------------------------
// Receiver

BOOST_AUTO_TEST_CASE(receiver_outcomes_and_counters) {
    const uint32_t T = kNow;
    const auto drain = HeartbeatFlag::drain;
    const std::vector<ReceiverCase> cases = {
        {.description = "heartbeats in order from two hosts",
         .steps = {{hb(1, 1, T), T, Reject::none}, {hb(2, 1, T), T, Reject::none}, {hb(1, 2, T + 1), T + 1, Reject::none}}},
        {.description = "heartbeat and load windows are separate",
         .steps = {{hb(1, 7, T), T, Reject::none}, {load(1, 7, T), T, Reject::none},
                   {hb(1, 7, T), T, Reject::replay}, {load(1, 7, T), T, Reject::replay}}},
        {.description = "duplicate and out-of-order within the window",
         .steps = {{hb(1, 10, T), T, Reject::none}, {hb(1, 10, T), T, Reject::replay},
                   {hb(1, 8, T), T, Reject::none}, {hb(1, 8, T), T, Reject::replay}}},
        {.description = "older than the window, with an older timestamp",
         .steps = {{hb(1, 100, T), T, Reject::none}, {hb(1, 20, T - 5), T, Reject::replay}}},
        {.description = "unknown host (authentic)", .steps = {{hb(9, 1, T), T, Reject::unknown_host}}},
        {.description = "unknown host with a bad MAC is an auth reject",
         .steps = {{hb(9, 1, T, HeartbeatFlag::available, &other_key()), T, Reject::auth}}},
        {.description = "malformed and unauthenticated datagrams",
         .steps = {{Bytes{'S', 'A'}, T, Reject::malformed},
                   {without_trailer(hb(1, 1, T)), T, Reject::auth},
                   {hb(1, 1, T, HeartbeatFlag::available, &other_key()), T, Reject::auth},
                   {hb(1, 1, T), T, Reject::none}}},
        {.description = "skew bound: exactly 30 s either way is fresh, 31 s is stale",
         .steps = {{hb(1, 1, T + 30), T, Reject::none}, {hb(1, 2, T - 30), T, Reject::none},
                   {hb(1, 3, T + 31), T, Reject::stale}, {hb(1, 4, T - 31), T, Reject::stale},
                   {load(1, 1, T - 31), T, Reject::stale}, {hb(1, 5, 0), T, Reject::stale},
                   {hb(1, 6, 0xffffffff), T, Reject::stale}}},
        {.description = "a configured skew of 5 s",
         .steps = {{hb(1, 1, T + 5), T, Reject::none}, {hb(1, 2, T + 6), T, Reject::stale},
                   {hb(1, 3, T - 6), T, Reject::stale}},
         .max_skew = std::chrono::seconds(5)},
        {.description = "a stale message leaves no trace in the window",
         .steps = {{hb(1, 5, T - 100), T, Reject::stale}, {hb(1, 5, T), T, Reject::none}}},
        {.description = "undrain and app_down are skew-checked like available",
         .steps = {{hb(1, 1, T + 31, HeartbeatFlag::undrain), T, Reject::stale},
                   {hb(1, 2, T - 31, HeartbeatFlag::app_down), T, Reject::stale}}},
        {.description = "drain heartbeats: the timestamp is the drain time, no skew check",
         .steps = {{hb(1, 1, T + 3600, drain), T, Reject::none}, {hb(1, 2, 0, drain), T, Reject::none},
                   {hb(1, 3, T - 86400, drain), T, Reject::none}, {hb(1, 3, T + 3600, drain), T, Reject::replay}}},
        {.description = "restart: a small sequence with a newer timestamp starts the window over",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1001, T + 1), T + 1, Reject::none},
                   {hb(1, 1, T + 2), T + 2, Reject::none}, {hb(1, 2, T + 2), T + 2, Reject::none},
                   {hb(1, 1, T + 2), T + 3, Reject::replay}, {hb(1, 3, T + 3), T + 3, Reject::none}}},
        {.description = "restart: pre-restart messages ahead of the new window are refused",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1001, T + 1), T + 1, Reject::none},
                   {hb(1, 1, T + 2), T + 2, Reject::none},
                   {hb(1, 1002, T + 1), T + 2, Reject::replay}, {hb(1, 1001, T + 1), T + 2, Reject::replay},
                   {hb(1, 2, T + 2), T + 2, Reject::none}}},
        {.description = "restart within the same second is recognised at the next second",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1, T), T, Reject::replay},
                   {hb(1, 2, T + 1), T + 1, Reject::none}}},
        {.description = "restart less than 64 in: the repeated sequences are lost, not the sender",
         .steps = {{hb(1, 1, T), T, Reject::none}, {hb(1, 2, T), T, Reject::none}, {hb(1, 3, T), T, Reject::none},
                   {hb(1, 1, T + 5), T + 5, Reject::replay}, {hb(1, 3, T + 5), T + 5, Reject::replay},
                   {hb(1, 4, T + 5), T + 5, Reject::none}}},
        {.description = "a replayed drain heartbeat inside the window is a replay whatever its drain time",
         .steps = {{hb(1, 10, T + 3600, drain), T, Reject::none}, {hb(1, 10, T + 3600, drain), T + 1, Reject::replay},
                   {hb(1, 11, T + 1), T + 1, Reject::none}, {hb(1, 10, T + 3600, drain), T + 2, Reject::replay}}},
        {.description = "a drain heartbeat 64 behind is a replay whatever its drain time (it never restarts)",
         .steps = {{hb(1, 10, T + 3600, drain), T, Reject::none}, {hb(1, 200, T + 1), T + 1, Reject::none},
                   {hb(1, 10, T + 3600, drain), T + 2, Reject::replay}, {hb(1, 11, T + 1), T + 2, Reject::replay},
                   {hb(1, 201, T + 2), T + 2, Reject::none}}},
        {.description = "restart of the load sender does not touch the heartbeat window",
         .steps = {{hb(1, 500, T), T, Reject::none}, {load(1, 500, T), T, Reject::none},
                   {load(1, 1, T + 1), T + 1, Reject::none}, {hb(1, 1, T), T + 1, Reject::replay}}},
        {.description = "a future drain time does not raise the mark: a restart right after is accepted",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1001, T + 3600, drain), T, Reject::none},
                   {hb(1, 1, T + 1), T + 1, Reject::none}}},
        {.description = "restart while draining: a sequence from 1 is refused; "
                        "the agent's time-based first sequence lies ahead and is taken at once",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1, T + 3600, drain), T + 1, Reject::replay},
                   {hb(1, 1050, T + 3600, drain), T + 5, Reject::none},
                   {hb(1, 1051, T + 3600, drain), T + 5, Reject::none}}},
        {.description = "restart while draining now (drain time 0) waits for a non-drain heartbeat",
         .steps = {{hb(1, 1000, T), T, Reject::none}, {hb(1, 1, 0, drain), T + 1, Reject::replay},
                   {hb(1, 2, T + 2), T + 2, Reject::none}, {hb(1, 3, 0, drain), T + 2, Reject::none}}},
        {.description = "auth none: messages with and without a trailer",
         .steps = {{hb(1, 1, T, HeartbeatFlag::available, nullptr), T, Reject::none},
                   {hb(1, 2, T, HeartbeatFlag::available, &other_key()), T, Reject::none},
                   {hb(1, 2, T, HeartbeatFlag::available, nullptr), T, Reject::replay}},
         .key = nullptr},
    };
    for (const ReceiverCase& c : cases) run_receiver_case(c);
}

BOOST_AUTO_TEST_CASE(receiver_returns_the_decoded_message) {
    ControlReceiver receiver(&test_key(), {1});
    const Decoded d = receiver.receive(load(1, 42, kNow), kNow);
    BOOST_TEST_REQUIRE(d.reject == Reject::none);
    BOOST_TEST((d.type == MessageType::load));
    BOOST_TEST(d.load.seq == 42u);
    BOOST_TEST(d.load.cpu == 32768.0 / 65535, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_reload_keeps_the_replay_windows_of_kept_hosts) {
    ControlReceiver receiver(&test_key(), {1, 2});
    BOOST_TEST_REQUIRE(receiver.receive(hb(1, 10, kNow), kNow).reject == Reject::none);
    receiver.set_known_hosts({3, 1});
    BOOST_TEST(receiver.receive(hb(1, 10, kNow), kNow).reject == Reject::replay);  // window kept
    BOOST_TEST(receiver.receive(hb(2, 1, kNow), kNow).reject == Reject::unknown_host);  // removed
    BOOST_TEST(receiver.receive(hb(3, 1, kNow), kNow).reject == Reject::none);  // added
}

// ---------------------------------------------------------------------------------------------
// Cluster key

struct HexCase {
    const char* description;
    std::string text;
    std::string error;  // substring of the error; empty: the key loads
    size_t key_bytes = 0;
};

BOOST_AUTO_TEST_CASE(cluster_key_from_hex) {
    const std::string k64(kKeyHex);
    const std::vector<HexCase> cases = {
        {"64 hex digits", k64, "", 32},
        {"surrounded by whitespace and a newline", "  \t" + k64 + "\n\r\n", "", 32},
        {"upper case", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "", 32},
        {"128 digits is a 64-byte key", k64 + k64, "", 64},
        {"62 digits", k64.substr(0, 62), "too short: 62 hex digits, need at least 64", 0},
        {"empty", "", "too short: 0 hex digits", 0},
        {"whitespace only", " \n", "too short: 0 hex digits", 0},
        {"a 'g'", "g" + k64.substr(1), "not hex: 'g' at offset 0", 0},
        {"space inside", k64.substr(0, 32) + " " + k64.substr(32), "not hex: 0x20 at offset 32", 0},
        {"0x prefix", "0x" + k64, "not hex: 'x' at offset 1", 0},
        {"65 digits", k64 + "a", "odd number of hex digits (65)", 0},
    };
    for (const HexCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::string error;
            const std::optional<ClusterKey> key = ClusterKey::from_hex(c.text, &error);
            if (c.error.empty()) {
                BOOST_TEST_REQUIRE(key.has_value(), error);
                BOOST_TEST(key->bytes.size() == c.key_bytes);
                BOOST_TEST(key->bytes[0] == 0x00);
                BOOST_TEST(key->bytes[31] == 0x1f);
            } else {
                BOOST_TEST(!key.has_value());
                BOOST_TEST(error.find(c.error) != std::string::npos, "error: " << error);
            }
        }
    }
    BOOST_TEST(!ClusterKey::from_hex("zz", nullptr).has_value());  // a null error is allowed
}

struct KeyFileCase {
    const char* description;
    std::string content;
    mode_t mode;
    std::string error;  // substring after "PATH: "; empty: the key loads
};

BOOST_AUTO_TEST_CASE(cluster_key_load_file) {
    char dir_template[] = "/tmp/sara-key-test-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    BOOST_TEST_REQUIRE(dir != nullptr);
    const std::string good = std::string(kKeyHex) + "\n";
    const std::vector<KeyFileCase> cases = {
        {"mode 0600", good, 0600, ""},
        {"mode 0400", good, 0400, ""},
        {"mode 0640: group-readable is allowed", good, 0640, ""},
        {"mode 0644 is world-readable", good, 0644, "mode 0644 is world-readable"},
        {"mode 0604 is world-readable", good, 0604, "mode 0604 is world-readable"},
        {"short key", "0011223344\n", 0600, "too short: 10 hex digits"},
        {"not hex", "not a key\n", 0600, "not hex: 'n' at offset 0"},
        {"empty file", "", 0600, "too short: 0 hex digits"},
        {"too large", std::string(5000, 'a'), 0600, "too large for a key file"},
    };
    int n = 0;
    for (const KeyFileCase& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const std::string path = std::string(dir) + "/key" + std::to_string(n++);
            { std::ofstream(path) << c.content; }
            BOOST_TEST_REQUIRE(::chmod(path.c_str(), c.mode) == 0);
            std::string error;
            const std::optional<ClusterKey> key = ClusterKey::load_file(path, &error);
            if (c.error.empty()) {
                BOOST_TEST_REQUIRE(key.has_value(), error);
                BOOST_TEST(hex(key->bytes) == std::string(kKeyHex));
            } else {
                BOOST_TEST(!key.has_value());
                BOOST_TEST(error.rfind(path + ": ", 0) == 0, "error: " << error);
                BOOST_TEST(error.find(c.error) != std::string::npos, "error: " << error);
            }
            ::unlink(path.c_str());
        }
    }
    std::string error;
    BOOST_TEST(!ClusterKey::load_file(std::string(dir) + "/missing", &error).has_value());
    BOOST_TEST(error == std::string(dir) + "/missing: not found");
    BOOST_TEST(!ClusterKey::load_file(dir, &error).has_value());
    BOOST_TEST(error == std::string(dir) + ": not a regular file");
    ::rmdir(dir);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::wire
