// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the gateway's announcement datagram (common/wire/announce_message.hpp)
// and the receiver's checks for it. Invariants are checked with __builtin_trap so a violation is
// a crash libFuzzer keeps.
//
// Each input is used twice:
//   - As one datagram, decoded with the fixture key and with none. An accepted announcement
//     must be well-formed, re-encode to exactly the bytes it came from (less an ignored trailer)
//     and survive decode → encode → decode with every field; a receiver must accept it once and
//     then refuse it as a replay.
//   - As the fields of a message (FuzzedDataProvider), invalid values included: encode() must
//     refuse exactly what decode() would, and what it writes must decode to the same fields.
//
// Seeds (tests/fuzz/corpus/announce_message/) are datagrams signed with this key, unsigned, and
// with an ignored trailer, from hosts 1-3 and 0x0102 with timestamps at kNow;
// regressions/announce_message/ holds hostile shapes (bad field values under a valid MAC, a
// 31- or 33-byte suffix, the size bound).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <span>
#include <vector>

#include "common/wire/announce_message.hpp"
#include "common/wire/control_receiver.hpp"
#include "tests/fuzz/cluster_key_fixture.hpp"

namespace {

using namespace sara;
using namespace sara::wire;

using fuzz::kNow;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool same_hint(const MediaHint& a, const MediaHint& b) {
    return a.client_address == b.client_address && a.client_rtp == b.client_rtp && a.client_rtcp == b.client_rtcp &&
           a.server_rtp == b.server_rtp && a.server_rtcp == b.server_rtcp;
}

// Every field, hints past media_count included (decode leaves them at their defaults).
bool same_message(const AnnounceMessage& x, const AnnounceMessage& y) {
    const Announcement& a = x.announcement;
    const Announcement& b = y.announcement;
    if (x.host_id != y.host_id || x.seq != y.seq || x.timestamp != y.timestamp) return false;
    if (a.protocol != b.protocol || a.key != b.key || a.has_control != b.has_control || !(a.control == b.control) ||
        a.is_request != b.is_request || a.method != b.method || a.status_code != b.status_code ||
        a.cseq_method != b.cseq_method || a.cseq != b.cseq || a.has_media != b.has_media ||
        a.media_count != b.media_count)
        return false;
    return std::equal(a.media.begin(), a.media.end(), b.media.begin(), same_hint);
}

// What a sender's message becomes on the wire: the fields the flags leave out are not sent.
AnnounceMessage as_sent(AnnounceMessage m) {
    Announcement& a = m.announcement;
    if (!a.has_control) a.control = FlowKey{};
    if (!a.has_media) a.media_count = 0;
    for (size_t i = a.media_count; i < kMaxMediaHints; ++i) a.media[i] = MediaHint{};
    for (size_t i = 0; i < a.media_count; ++i)
        if (a.media[i].client_address.family == 0) a.media[i].client_address = IpAddress{};
    return m;
}

bool family_ok(uint8_t f, bool unset_allowed) { return f == 4 || f == 6 || (f == 0 && unset_allowed); }

// The wire format's limits, written out again here as the oracle for encode()'s refusals.
bool sendable(const Announcement& a) {
    const bool control_ok = !a.has_control || (family_ok(a.control.src.family, false) &&
                                               a.control.dst.family == a.control.src.family &&
                                               (a.control.proto == IpProto::tcp || a.control.proto == IpProto::udp));
    bool media_ok = !a.has_media || (a.media_count >= 1 && a.media_count <= kMaxMediaHints);
    for (size_t i = 0; media_ok && a.has_media && i < a.media_count; ++i)
        media_ok = family_ok(a.media[i].client_address.family, true);
    return control_ok && media_ok && !a.key.empty() && a.key.size() <= 255 && uint8_t(a.protocol) <= 2 &&
           uint8_t(a.method) <= 7 && uint8_t(a.cseq_method) <= 7 && a.status_code >= 0 && a.status_code <= 65535;
}

// Properties of every announcement decode() accepts.
void check_well_formed(const Announcement& a) {
    check(!a.key.empty() && a.key.size() <= 255);
    check(a.has_media == (a.media_count > 0) && a.media_count <= kMaxMediaHints);
    check(a.has_control || a.control == FlowKey{});
    check(sendable(a));
    for (size_t i = a.media_count; i < kMaxMediaHints; ++i) check(same_hint(a.media[i], MediaHint{}));
}

// An accepted announcement re-encodes to the datagram it came from, and decoding that again
// gives the same fields.
void check_round_trip(const Decoded& d, std::span<const uint8_t> datagram, const ClusterKey* key) {
    check(d.type == MessageType::announce);
    check_well_formed(d.announce.announcement);
    const std::vector<uint8_t> again = encode(d.announce, key);
    check(!again.empty());
    const bool exact = std::equal(again.begin(), again.end(), datagram.begin(), datagram.end());
    // Without a key a 32-byte trailer is accepted and ignored.
    const bool with_ignored_trailer = !key && datagram.size() == again.size() + kMacSize &&
                                      std::equal(again.begin(), again.end(), datagram.begin());
    check(exact || with_ignored_trailer);
    const Decoded twice = decode(again, key);
    check(twice.reject == Reject::none && twice.type == MessageType::announce);
    check(same_message(twice.announce, d.announce));
}

void check_decode(std::span<const uint8_t> datagram, const ClusterKey& key) {
    const Decoded keyed = decode(datagram, &key);
    const Decoded open = decode(datagram, nullptr);
    check(keyed.reject == Reject::none || keyed.reject == Reject::malformed || keyed.reject == Reject::auth);
    check(open.reject == Reject::none || open.reject == Reject::malformed);
    // The key only adds a check. (Keyed malformed but open accepted would need a body whose
    // last 32 bytes are a valid HMAC of the bytes before them.)
    if (keyed.reject == Reject::malformed) check(open.reject == Reject::malformed);
    if (keyed.reject == Reject::none) check(open.reject == Reject::none && open.type == keyed.type);
    if (keyed.reject == Reject::none && keyed.type == MessageType::announce) {
        check(same_message(keyed.announce, open.announce));
        check_round_trip(keyed, datagram, &key);
    }
    if (open.reject == Reject::none && open.type == MessageType::announce) check_round_trip(open, datagram, nullptr);
}

// A receiver takes an authentic, fresh announcement once; the same datagram again is a replay.
void check_receiver(const ClusterKey* key, std::span<const uint8_t> datagram) {
    ControlReceiver receiver(key, {1, 2, 3, 0x0102});
    const Decoded first = receiver.receive(datagram, kNow);
    const Decoded plain = decode(datagram, key);
    if (plain.reject != Reject::none) check(first.reject == plain.reject);
    if (first.reject != Reject::none || first.type != MessageType::announce) return;
    check(same_message(first.announce, plain.announce));
    check(std::abs(int64_t(first.announce.timestamp) - int64_t(kNow)) <= 30);
    check(receiver.receive(datagram, kNow).reject == Reject::replay);
    check(receiver.counters().control_accepted_total == 1 && receiver.counters().control_rejected_replay_total == 1);
}

IpAddress fuzzed_address(FuzzedDataProvider& in) {
    static constexpr uint8_t kFamilies[] = {0, 4, 6, 5};
    IpAddress a;
    a.family = in.PickValueInArray(kFamilies);
    const size_t n = a.family == 4 ? 4 : a.family == 6 ? 16 : 0;
    for (size_t i = 0; i < n; ++i) a.bytes[i] = in.ConsumeIntegral<uint8_t>();
    return a;
}

// A message built from the fuzzer's bytes, with values outside every field's range.
AnnounceMessage fuzzed_message(FuzzedDataProvider& in) {
    AnnounceMessage m;
    m.host_id = in.ConsumeIntegral<uint16_t>();
    m.seq = in.ConsumeIntegral<uint32_t>();
    m.timestamp = in.ConsumeIntegral<uint32_t>();
    Announcement& a = m.announcement;
    a.protocol = ServiceProtocol(in.ConsumeIntegralInRange<uint8_t>(0, 3));
    a.is_request = in.ConsumeBool();
    a.method = SipMethod(in.ConsumeIntegralInRange<uint8_t>(0, 8));
    a.cseq_method = SipMethod(in.ConsumeIntegralInRange<uint8_t>(0, 8));
    a.status_code = in.ConsumeIntegralInRange<int>(-1, 65536);
    a.cseq = in.ConsumeIntegral<uint32_t>();
    a.has_control = in.ConsumeBool();
    a.control.src = fuzzed_address(in);
    a.control.dst = fuzzed_address(in);
    a.control.src_port = in.ConsumeIntegral<uint16_t>();
    a.control.dst_port = in.ConsumeIntegral<uint16_t>();
    a.control.proto = IpProto(in.ConsumeBool() ? in.ConsumeIntegral<uint8_t>() : uint8_t(IpProto::udp));
    a.has_media = in.ConsumeBool();
    a.media_count = in.ConsumeIntegralInRange<uint8_t>(0, uint8_t(kMaxMediaHints + 1));
    for (MediaHint& h : a.media) {
        h.client_address = fuzzed_address(in);
        h.client_rtp = in.ConsumeIntegral<uint16_t>();
        h.client_rtcp = in.ConsumeIntegral<uint16_t>();
        h.server_rtp = in.ConsumeIntegral<uint16_t>();
        h.server_rtcp = in.ConsumeIntegral<uint16_t>();
    }
    a.key = in.ConsumeRandomLengthString(300);
    return m;
}

void check_encode(const AnnounceMessage& m, const ClusterKey& key) {
    const std::vector<uint8_t> keyed = encode(m, &key);
    const std::vector<uint8_t> open = encode(m, nullptr);
    check(keyed.empty() == !sendable(m.announcement) && open.empty() == keyed.empty());
    if (open.empty()) return;
    check(keyed.size() == open.size() + kMacSize && std::equal(open.begin(), open.end(), keyed.begin()));
    check(open.size() <= kHeaderSize + kMaxAnnounceBody);
    const Decoded d = decode(keyed, &key);
    check(d.reject == Reject::none && d.type == MessageType::announce);
    check(same_message(d.announce, as_sent(m)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ClusterKey& key = fuzz::fixture_key();
    const std::span<const uint8_t> input(data, size);
    check_decode(input, key);
    check_receiver(&key, input);
    check_receiver(nullptr, input);

    FuzzedDataProvider fields(data, size);
    check_encode(fuzzed_message(fields), key);
    return 0;
}
