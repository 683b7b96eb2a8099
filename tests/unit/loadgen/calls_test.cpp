// SPDX-License-Identifier: GPL-2.0-or-later
// The UAC's call states and RFC 3261 timers, driven with a fake clock and a recording outbox:
// a whole call, INVITE and BYE retransmissions and their time-outs, a provisional answer
// stopping the INVITE's retransmissions, error answers, repeated 200s and stray answers.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "tests/loadgen/calls.hpp"
#include "tests/loadgen/options.hpp"

namespace sara::loadgen {
namespace {

struct Recorder : Outbox {
    std::vector<std::pair<uint64_t, std::string>> sent;
    std::vector<uint64_t> ended;
    void send(uint64_t call, const std::string& m) override { sent.emplace_back(call, m); }
    void finished(uint64_t call) override { ended.push_back(call); }
    std::string method(size_t i) const { return sent.at(i).second.substr(0, sent.at(i).second.find(' ')); }
};

const Endpoint kLocal{"198.18.100.2", 5070};
constexpr Micros kT1 = 500'000;

CallsConfig config() {
    CallsConfig c;
    c.run = 0x11223344u;
    c.target = Endpoint{"198.18.0.10", 5060};
    return c;
}

// The UAS's answers to the last message sent, parsed and handed to the calls.
void answer_last(Calls& calls, Recorder& out, Micros now, int only = -1) {
    const std::string request = out.sent.back().second;
    UasAnswer a;
    answer_request(a, read_fields(request).fields, Endpoint{"198.18.0.10", 5060}, 6000);
    for (int i = 0; i < a.count; ++i)
        if (only < 0 || only == i) calls.receive(read_fields(a.response[i]).fields, now, out);
}

BOOST_AUTO_TEST_SUITE(loadgen_calls)

BOOST_AUTO_TEST_CASE(a_call_is_invite_ack_bye_and_succeeds_on_the_bye_200) {
    Calls calls(config(), 2);
    Recorder out;
    calls.start(0, kLocal, 1000, out);
    BOOST_TEST_REQUIRE(out.sent.size() == 1u);
    BOOST_TEST(out.method(0) == "INVITE");
    answer_last(calls, out, 1250);
    BOOST_TEST_REQUIRE(out.sent.size() == 3u);
    BOOST_TEST(out.method(1) == "ACK");
    BOOST_TEST(out.method(2) == "BYE");
    BOOST_TEST(calls.setup_latencies() == std::vector<uint32_t>{250});
    answer_last(calls, out, 1400);
    BOOST_TEST(calls.counters().successful == 1u);
    BOOST_TEST(out.ended == std::vector<uint64_t>{0});
    BOOST_TEST(calls.open() == 0u);
    calls.expire(100 * kT1, out);  // no timer left behind
    BOOST_TEST(out.sent.size() == 3u);
    BOOST_TEST(calls.counters().retransmissions == 0u);
}

BOOST_AUTO_TEST_CASE(an_unanswered_invite_is_resent_at_t1_doubling_and_times_out_at_64_t1) {
    Calls calls(config(), 1);
    Recorder out;
    calls.start(0, kLocal, 0, out);
    std::vector<Micros> resent;
    for (Micros t = 0; t <= 70 * kT1; t += 10'000) {
        const size_t before = out.sent.size();
        calls.expire(t, out);
        if (out.sent.size() > before) resent.push_back(t);
    }
    // Timer A: T1, 3 T1, 7 T1, 15 T1, 31 T1 (63 T1 is the last before Timer B at 64 T1).
    BOOST_TEST(resent == (std::vector<Micros>{kT1, 3 * kT1, 7 * kT1, 15 * kT1, 31 * kT1, 63 * kT1}));
    BOOST_TEST(calls.counters().timed_out == 1u);
    BOOST_TEST(calls.counters().retransmissions == 6u);
    BOOST_TEST(out.ended.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_provisional_answer_stops_invite_retransmissions) {
    Calls calls(config(), 1);
    Recorder out;
    calls.start(0, kLocal, 0, out);
    answer_last(calls, out, 1000, 0);  // the 100 only
    calls.expire(20 * kT1, out);
    BOOST_TEST(out.sent.size() == 1u);
    calls.expire(64 * kT1, out);
    BOOST_TEST(calls.counters().timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(bye_retransmissions_are_capped_at_t2) {
    Calls calls(config(), 1);
    Recorder out;
    calls.start(0, kLocal, 0, out);
    answer_last(calls, out, 0);  // 100 + 200: ACK and BYE sent at 0
    std::vector<Micros> resent;
    for (Micros t = 0; t <= 20 * kT1; t += 10'000) {
        const size_t before = out.sent.size();
        calls.expire(t, out);
        if (out.sent.size() > before) resent.push_back(t);
    }
    // Timer E: T1, 2 T1, 4 T1, then every T2 = 8 T1.
    BOOST_TEST(resent == (std::vector<Micros>{kT1, 3 * kT1, 7 * kT1, 15 * kT1}));
    BOOST_TEST(out.method(out.sent.size() - 1) == "BYE");
}

BOOST_AUTO_TEST_CASE(an_error_answer_fails_the_call_and_is_acked) {
    Calls calls(config(), 1);
    Recorder out;
    calls.start(0, kLocal, 0, out);
    const std::string busy = "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 198.18.100.2:5070\r\nFrom: a\r\n"
                             "To: <sip:service@198.18.0.10>;tag=u\r\nCall-ID: 0-11223344@sip-loadgen\r\n"
                             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    calls.receive(read_fields(busy).fields, 10, out);
    BOOST_TEST(calls.counters().failed == 1u);
    BOOST_TEST_REQUIRE(out.sent.size() == 2u);
    BOOST_TEST(out.method(1) == "ACK");
    BOOST_TEST(out.sent[1].second.find("z9hG4bK-11223344-0-i") != std::string::npos);  // the INVITE's branch
}

BOOST_AUTO_TEST_CASE(a_repeated_200_is_acked_again_and_strays_are_counted) {
    Calls calls(config(), 1);
    Recorder out;
    calls.start(0, kLocal, 0, out);
    const std::string invite = out.sent.back().second;
    answer_last(calls, out, 10);
    UasAnswer a;
    answer_request(a, read_fields(invite).fields, Endpoint{"198.18.0.10", 5060}, 6000);
    calls.receive(read_fields(a.response[1]).fields, 20, out);
    BOOST_TEST(calls.counters().acks_repeated == 1u);
    BOOST_TEST(out.method(out.sent.size() - 1) == "ACK");
    std::string other = a.response[1];
    other.replace(other.find("11223344@"), 8, "99999999");  // another run's call
    calls.receive(read_fields(other).fields, 30, out);
    BOOST_TEST(calls.counters().late_or_stray == 1u);
    calls.abandon(out);
    BOOST_TEST(calls.counters().timed_out == 1u);
    BOOST_TEST(calls.open() == 0u);
}

BOOST_AUTO_TEST_CASE(options_are_checked) {
    UacOptions u;
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10", "--rate", "100", "--calls", "10", "--transport", "un"}, u)
               == "");
    BOOST_TEST(u.socket_per_call);
    BOOST_TEST(u.target.port == 5060);
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10:99999", "--rate", "1", "--calls", "1"}, u) != "");
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10", "--rate", "-1", "--calls", "1"}, u) != "");
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10", "--rate", "1"}, u) != "");
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10", "--rate", "1", "--calls", "1", "--bogus", "1"}, u) != "");
    BOOST_TEST(parse_uac_options({"--target", "198.18.0.10", "--rate", "1", "--calls", "1", "--transport", "t1"}, u)
               != "");
    UasOptions s;
    BOOST_TEST(parse_uas_options({"--listen", "198.18.0.10:5060", "--sockets", "2"}, s) == "");
    BOOST_TEST(s.sockets == 2);
    BOOST_TEST(parse_uas_options({"--sockets", "2"}, s) != "");
    BOOST_TEST(parse_uas_options({"--listen", "not-an-address"}, s) != "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara::loadgen
