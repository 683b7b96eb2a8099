// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by the control-channel tests: the test keys, an HMAC computed with OpenSSL's EVP_MAC
// API (not the HMAC() call the encoders use, so a wrong trailer cannot agree with itself), byte
// helpers for building hostile datagrams and the receiver table runner.
#pragma once

#include <boost/test/unit_test.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire/control_message.hpp"
#include "common/wire/control_receiver.hpp"

namespace sara::wire {

// Boost.Test prints Reject in failed assertions (found by argument-dependent lookup).
inline std::ostream& operator<<(std::ostream& o, Reject r) { return o << to_string(r); }

namespace test_support {

using Bytes = std::vector<uint8_t>;

inline constexpr std::string_view kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
inline constexpr std::string_view kOtherKeyHex = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
inline constexpr uint32_t kNow = 1'700'000'000;

inline const ClusterKey& test_key() {
    static const ClusterKey key = *ClusterKey::from_hex(kKeyHex, nullptr);
    return key;
}
inline const ClusterKey& other_key() {
    static const ClusterKey key = *ClusterKey::from_hex(kOtherKeyHex, nullptr);
    return key;
}

inline std::string hex(const Bytes& b) {
    std::string out;
    char buf[3];
    for (const uint8_t v : b) {
        std::snprintf(buf, sizeof buf, "%02x", v);
        out += buf;
    }
    return out;
}

inline Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// HMAC-SHA256 through the EVP_MAC interface, independent of the encoder's HMAC() call.
inline Bytes independent_hmac(const Bytes& key, const Bytes& data) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    Bytes out(32);
    size_t len = 0;
    const bool ok = ctx && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                    EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                    EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    BOOST_REQUIRE(ok);
    return out;
}

inline Bytes signed_with(const Bytes& unsigned_datagram, const ClusterKey& key) {
    return concat(unsigned_datagram, independent_hmac(key.bytes, unsigned_datagram));
}

inline Bytes with_byte(Bytes b, size_t at, uint8_t v) {
    b.at(at) = v;
    return b;
}

// Only for signed datagrams (longer than the trailer). erase(), not resize(): GCC 12 under
// -fsanitize warns that resize() might grow by size_t(-32) bytes.
inline Bytes without_trailer(Bytes b) {
    b.erase(b.end() - long(kMacSize), b.end());
    return b;
}

// A receiver table row: datagrams fed in order to one receiver that knows hosts 1, 2 and 3.
struct Step {
    Bytes datagram;
    uint32_t now;
    Reject expected;
};
struct ReceiverCase {
    const char* description;
    std::vector<Step> steps;
    const ClusterKey* key = &test_key();
    std::chrono::seconds max_skew = std::chrono::seconds(30);
};

// Checks each step's verdict, and that each datagram was counted once, under its verdict.
inline void run_receiver_case(const ReceiverCase& c) {
    BOOST_TEST_CONTEXT(c.description) {
        ControlReceiver receiver(c.key, {3, 1, 2, 1}, c.max_skew);
        ControlCounters want;
        for (size_t i = 0; i < c.steps.size(); ++i) {
            const Step& s = c.steps[i];
            BOOST_TEST_CONTEXT("step " << i) {
                BOOST_TEST(receiver.receive(s.datagram, s.now).reject == s.expected);
            }
            switch (s.expected) {
                case Reject::none: ++want.control_accepted_total; break;
                case Reject::malformed: ++want.control_rejected_malformed_total; break;
                case Reject::auth: ++want.control_rejected_auth_total; break;
                case Reject::replay: ++want.control_rejected_replay_total; break;
                case Reject::stale: ++want.control_rejected_stale_total; break;
                case Reject::unknown_host: ++want.control_rejected_unknown_host_total; break;
            }
        }
        std::vector<uint64_t> got_values, want_values;
        uint64_t total = 0;
        receiver.counters().for_each([&](const char*, const char*, uint64_t v) {
            got_values.push_back(v);
            total += v;
        });
        want.for_each([&](const char*, const char*, uint64_t v) { want_values.push_back(v); });
        BOOST_TEST(got_values == want_values, boost::test_tools::per_element());
        BOOST_TEST(total == c.steps.size());
    }
}

// For a self-delimiting datagram type (announce, sync; `bytes` is header + body, unsigned):
// with a key, anything of at least `minimal` bytes is checked against its last 32 (a cut or
// padded datagram is Reject::auth), shorter is malformed before any HMAC; without one, the body
// measures itself and only "nothing after it" or "32 bytes after it" is accepted.
inline void check_truncations_and_extensions(const Bytes& bytes, size_t minimal) {
    const Bytes full = signed_with(bytes, test_key());
    for (size_t len = 0; len < full.size(); ++len) {
        BOOST_TEST_CONTEXT("first " << len << " bytes") {
            const Bytes prefix(full.begin(), full.begin() + long(len));
            BOOST_TEST(decode(prefix, &test_key()).reject == (len < minimal ? Reject::malformed : Reject::auth));
            BOOST_TEST(decode(prefix, nullptr).reject == (len == bytes.size() ? Reject::none : Reject::malformed));
        }
    }
    for (size_t extra = 1; extra <= 40; ++extra) {
        BOOST_TEST_CONTEXT(extra << " trailing bytes") {
            const Bytes longer = concat(full, Bytes(extra, 0));
            BOOST_TEST(decode(longer, &test_key()).reject == Reject::auth);
            BOOST_TEST(decode(longer, nullptr).reject == Reject::malformed);
            const Bytes unsigned_longer = concat(bytes, Bytes(extra, 0xee));
            BOOST_TEST(decode(unsigned_longer, &test_key()).reject == Reject::auth);
            BOOST_TEST(decode(unsigned_longer, nullptr).reject == (extra == kMacSize ? Reject::none : Reject::malformed));
        }
    }
}

}  // namespace test_support
}  // namespace sara::wire
