// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the control-message wire format (common/wire/control_message.hpp) and
// the receiver's replay/skew/restart logic (control_receiver.hpp). Invariants are checked with
// __builtin_trap so a violation is a crash libFuzzer keeps.
//
// The whole input is decoded as one datagram, with the fixture key (cluster_key_fixture.hpp)
// and with none. Then the input is split into datagrams before every "SA\x01" (magic and
// version), so a corpus file that is several datagrams back to back drives two receivers
// (keyed and `auth: none`) through a sequence; datagram i arrives at kNow + i.
//
// Seeds (tests/fuzz/corpus/control_message/) were written with encode() and this key, with
// timestamps around kNow (sequence-with-announce mixes in announcements, whose own target is
// fuzz_announce_message); regressions/control_message/ holds the hostile shapes of the unit
// test (truncated, trailing bytes, flag 255 under a valid MAC, wrong version, bad MAC, ...).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/wire/announce_message.hpp"
#include "common/wire/sync_message.hpp"
#include "common/wire/control_message.hpp"
#include "common/wire/control_receiver.hpp"
#include "tests/fuzz/cluster_key_fixture.hpp"

namespace {

using namespace sara::wire;

using fuzz::kNow;
constexpr size_t kMaxDatagrams = 256;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool in_unit_range(double x) { return x >= 0 && x <= 1; }

std::vector<uint8_t> reencode(const Decoded& d, const ClusterKey* key) {
    switch (d.type) {
        case MessageType::heartbeat: return encode(d.heartbeat, key);
        case MessageType::load: return encode(d.load, key);
        case MessageType::announce: return encode(d.announce, key);
        case MessageType::sync: return encode(d.sync, key);
    }
    __builtin_trap();
}

uint16_t host_of(const Decoded& d) {
    switch (d.type) {
        case MessageType::heartbeat: return d.heartbeat.host_id;
        case MessageType::load: return d.load.host_id;
        case MessageType::announce: return d.announce.host_id;
        case MessageType::sync: return d.sync.host_id;
    }
    __builtin_trap();
}

// Announcements are compared by their encoding: decode() leaves nothing the encoding omits
// (fuzz_announce_message compares them field by field).
bool same_fields(const Decoded& a, const Decoded& b) {
    if (a.type != b.type) return false;
    if (a.type == MessageType::announce) return encode(a.announce, nullptr) == encode(b.announce, nullptr);
    if (a.type == MessageType::sync) return encode(a.sync, nullptr) == encode(b.sync, nullptr);
    if (a.type == MessageType::heartbeat)
        return a.heartbeat.host_id == b.heartbeat.host_id && a.heartbeat.seq == b.heartbeat.seq &&
               a.heartbeat.flag == b.heartbeat.flag && a.heartbeat.timestamp == b.heartbeat.timestamp;
    return a.load.host_id == b.load.host_id && a.load.seq == b.load.seq && a.load.timestamp == b.load.timestamp &&
           a.load.cpu == b.load.cpu && a.load.memory == b.load.memory && a.load.net == b.load.net &&
           a.load.io == b.load.io && a.load.backlog == b.load.backlog;
}

// An accepted message is well-formed and re-encodes to exactly the bytes it came from (less a
// trailer `auth: none` ignored).
void check_accepted(const Decoded& d, std::span<const uint8_t> datagram, const ClusterKey* key) {
    if (d.type == MessageType::heartbeat) {
        check(uint8_t(d.heartbeat.flag) <= uint8_t(HeartbeatFlag::undrain));
    } else if (d.type == MessageType::load) {
        check(in_unit_range(d.load.cpu) && in_unit_range(d.load.memory) && in_unit_range(d.load.net) &&
              in_unit_range(d.load.io) && in_unit_range(d.load.backlog));
    }
    const std::vector<uint8_t> again = reencode(d, key);
    check(!again.empty());
    if (key) {
        check(std::equal(again.begin(), again.end(), datagram.begin(), datagram.end()));
    } else {
        check(datagram.size() == again.size() || datagram.size() == again.size() + kMacSize);
        check(std::equal(again.begin(), again.end(), datagram.begin()));
    }
}

void check_decode(std::span<const uint8_t> datagram, const ClusterKey& key) {
    const Decoded keyed = decode(datagram, &key);
    const Decoded open = decode(datagram, nullptr);
    check(to_string(keyed.reject) != nullptr && to_string(open.reject) != nullptr);
    check(keyed.reject == Reject::none || keyed.reject == Reject::malformed || keyed.reject == Reject::auth);
    check(open.reject == Reject::none || open.reject == Reject::malformed);
    // The key only adds a check: what is malformed without it is malformed with it, and what
    // passes with it passes without it, with the same fields.
    if (keyed.reject == Reject::malformed) check(open.reject == Reject::malformed);
    if (keyed.reject == Reject::none) {
        check(open.reject == Reject::none && same_fields(keyed, open));
        check_accepted(keyed, datagram, &key);
    }
    if (open.reject == Reject::none) check_accepted(open, datagram, nullptr);
}

std::vector<std::span<const uint8_t>> split_datagrams(std::span<const uint8_t> input) {
    std::vector<std::span<const uint8_t>> out;
    size_t start = 0;
    for (size_t i = 1; i + 3 <= input.size() && out.size() + 1 < kMaxDatagrams; ++i) {
        if (input[i] == 'S' && input[i + 1] == 'A' && input[i + 2] == kVersion) {
            out.push_back(input.subspan(start, i - start));
            start = i;
        }
    }
    out.push_back(input.subspan(start));
    return out;
}

uint64_t total(const ControlCounters& c) {
    uint64_t sum = 0;
    c.for_each([&](const char*, const char*, uint64_t v) { sum += v; });
    return sum;
}

// Returns true if the receiver accepted the datagram.
bool check_receiver(ControlReceiver& receiver, const ClusterKey* key, std::span<const uint8_t> datagram,
                    uint32_t now) {
    const Decoded r = receiver.receive(datagram, now);
    const Decoded plain = decode(datagram, key);
    if (plain.reject != Reject::none) check(r.reject == plain.reject);
    if (r.reject == Reject::none) {
        check(plain.reject == Reject::none && same_fields(r, plain));
        check_accepted(r, datagram, key);
        const uint16_t host = host_of(r);
        check(host >= 1 && host <= 3);
    }
    return r.reject == Reject::none;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ClusterKey& key = fuzz::fixture_key();
    const std::span<const uint8_t> input(data, size);
    check_decode(input, key);

    ControlReceiver keyed(&key, {1, 2, 3});
    ControlReceiver open(nullptr, {3, 2, 1});
    const std::vector<std::span<const uint8_t>> datagrams = split_datagrams(input);
    std::vector<bool> accepted(datagrams.size());
    for (size_t i = 0; i < datagrams.size(); ++i) {
        accepted[i] = check_receiver(keyed, &key, datagrams[i], kNow + uint32_t(i));
        check_receiver(open, nullptr, datagrams[i], kNow + uint32_t(i));
    }
    // Every datagram is counted exactly once.
    check(total(keyed.counters()) == datagrams.size());
    check(total(open.counters()) == datagrams.size());

    // Feeding the sequence again, no authentic message is accepted twice. Drain heartbeats are
    // left out: one whose drain time lies ahead can be replayed as a restart once the window
    // has moved 64 past it (the documented limit in control_receiver.hpp). This relies on the
    // seeds' sequences lying close together: the fuzzer cannot forge a MAC, so it cannot make a
    // sender jump its sequence 2^31 and come round again.
    for (size_t i = 0; i < datagrams.size(); ++i) {
        if (!accepted[i]) continue;
        const Decoded first = decode(datagrams[i], &key);
        if (first.type == MessageType::heartbeat && first.heartbeat.flag == HeartbeatFlag::drain) continue;
        check(keyed.receive(datagrams[i], kNow + uint32_t(i)).reject != Reject::none);
    }
    return 0;
}
