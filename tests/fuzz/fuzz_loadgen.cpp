// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for what sip-loadgen reads off the wire (tests/loadgen): the input is one
// datagram, read with read_fields; a request is answered by the stateless UAS (as an IPv4 and
// as an IPv6 one), and every answer must parse again (the UAS never emits what it could not
// read); a response is handed to a UAC call table whose call 0 is waiting for it, which must
// not crash whatever it gets.
// Invariants are checked with __builtin_trap so a violation is a crash libFuzzer keeps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/loadgen/calls.hpp"
#include "tests/loadgen/messages.hpp"
#include "tests/loadgen/sip_fields.hpp"

namespace {

using namespace sara::loadgen;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool points_into(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

struct NullOutbox : Outbox {
    size_t sent = 0;
    void send(uint64_t, const std::string& m) override { sent += !m.empty(); }
    void finished(uint64_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const FieldsResult r = read_fields(in);
    if (!r.ok()) return 0;
    const SipFields& f = r.fields;
    check(f.via_count >= 1 && f.via_count <= kMaxVias && f.record_route_count <= kMaxRecordRoutes);
    for (size_t i = 0; i < f.via_count; ++i) check(points_into(f.via_lines[i], in));
    check(points_into(f.from_line, in) && points_into(f.to_line, in) && points_into(f.contact_uri, in));
    if (f.message.is_request) {
        // Answered by an IPv4 and by an IPv6 UAS (bracketed Contact, IP6 SDP): both parse again.
        for (const Endpoint& contact : {Endpoint{"198.18.0.10", 5060}, Endpoint{"2001:db8:100::10", 5060}}) {
            UasAnswer a;
            answer_request(a, f, contact, 6000);
            check(a.count >= 0 && a.count <= 2);
            for (int i = 0; i < a.count; ++i) {
                const FieldsResult back = read_fields(a.response[i]);
                check(back.ok() && !back.fields.message.is_request);
                check(back.fields.message.call_id == f.message.call_id);
            }
        }
        return 0;
    }
    // A response: call 0 of run 0x11223344 has sent its INVITE; the input may be its answer.
    CallsConfig cfg;
    cfg.run = 0x11223344u;
    cfg.target = Endpoint{"198.18.0.10", 5060};
    Calls calls(cfg, 1);
    NullOutbox out;
    calls.start(0, Endpoint{"198.18.100.2", 5070}, 0, out);
    calls.receive(f, 1000, out);
    calls.receive(f, 2000, out);
    calls.expire(200 * cfg.t1, out);  // past every Timer B and F
    check(calls.open() == 0);
    const CallCounters& k = calls.counters();
    check(k.successful + k.failed + k.timed_out == 1);
    return 0;
}
