// SPDX-License-Identifier: GPL-2.0-or-later
// The send loop: every announcement becomes one datagram, handed to every dispatcher through
// the sink, with the sequence rule (time-based start, never behind the clock, +1 per message),
// the send time, the gateway's id and the key. Time is an argument and the sink a recorder.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/wire/announce_message.hpp"
#include "common/wire/control_message.hpp"
#include "gateway/announcer.hpp"

namespace sara::gateway {
namespace {

using std::chrono::milliseconds;

// Records what would have gone out; `failures` is what each send_to_all reports.
class RecordingSink final : public DatagramSink {
public:
    size_t send_to_all(std::span<const uint8_t> datagram) override {
        sent.emplace_back(datagram.begin(), datagram.end());
        return failures;
    }
    std::vector<std::vector<uint8_t>> sent;
    size_t failures = 0;
};

Announcement rtsp_reply(const char* session) {
    Announcement a;
    a.protocol = ServiceProtocol::rtsp;
    a.key = session;
    a.status_code = 200;
    a.cseq = 3;
    a.has_media = true;
    a.media_count = 1;
    a.media[0].server_rtp = 7000;
    a.media[0].server_rtcp = 7001;
    return a;
}

// 2026-11-26 12:00:00 UTC in milliseconds.
constexpr milliseconds kNow{1795694400000};
// kNow mod 2^32: the first sequence number at kNow.
constexpr uint32_t kFirstSeq = static_cast<uint32_t>(1795694400000ULL % (1ULL << 32));

wire::AnnounceMessage decode_ok(const std::vector<uint8_t>& datagram, const wire::ClusterKey* key) {
    const wire::Decoded d = wire::decode(datagram, key);
    BOOST_TEST_REQUIRE(static_cast<int>(d.reject) == static_cast<int>(wire::Reject::none));
    BOOST_TEST_REQUIRE(static_cast<int>(d.type) == static_cast<int>(wire::MessageType::announce));
    return d.announce;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_announcer)

BOOST_AUTO_TEST_CASE(each_announcement_is_one_datagram_to_every_dispatcher) {
    const wire::ClusterKey key = *wire::ClusterKey::from_hex(std::string(64, 'a'), nullptr);
    RecordingSink sink;
    Announcer announcer(251, kNow);
    BOOST_TEST(announcer.next_seq() == kFirstSeq);
    BOOST_TEST(static_cast<int>(announcer.announce(rtsp_reply("8A7B6C5D"), kNow, &key, sink)) ==
               static_cast<int>(Announcer::Result::sent));
    BOOST_TEST_REQUIRE(sink.sent.size() == 1u);
    const wire::AnnounceMessage m = decode_ok(sink.sent[0], &key);
    BOOST_TEST(m.host_id == 251);
    BOOST_TEST(m.seq == kFirstSeq);
    BOOST_TEST(m.timestamp == 1795694400u);
    BOOST_TEST(m.announcement.key == "8A7B6C5D");
    BOOST_TEST(m.announcement.media[0].server_rtp == 7000);
    // Signed: a receiver with another key refuses it.
    const wire::ClusterKey other = *wire::ClusterKey::from_hex(std::string(64, 'b'), nullptr);
    BOOST_TEST(static_cast<int>(wire::decode(sink.sent[0], &other).reject) == static_cast<int>(wire::Reject::auth));
    BOOST_TEST(announcer.counters().announcements_sent_total == 1u);
}

BOOST_AUTO_TEST_CASE(auth_none_sends_no_trailer) {
    RecordingSink sink;
    Announcer announcer(252, kNow);
    announcer.announce(rtsp_reply("1"), kNow, nullptr, sink);
    BOOST_TEST_REQUIRE(sink.sent.size() == 1u);
    const wire::AnnounceMessage m = decode_ok(sink.sent[0], nullptr);
    BOOST_TEST(m.host_id == 252);
    const wire::ClusterKey key = *wire::ClusterKey::from_hex(std::string(64, 'a'), nullptr);
    BOOST_TEST(static_cast<int>(wire::decode(sink.sent[0], &key).reject) == static_cast<int>(wire::Reject::auth));
}

BOOST_AUTO_TEST_CASE(sequence_numbers) {
    struct Step {
        const char* description;
        milliseconds now;
        uint32_t seq;
    };
    // Three in the same millisecond count up from the clock; a later message jumps to the
    // clock; a burst runs ahead of it and stays monotonic; the clock catching up takes over.
    const std::vector<Step> steps = {
        {"first, at start", kNow, kFirstSeq},
        {"same millisecond", kNow, kFirstSeq + 1},
        {"same millisecond again", kNow, kFirstSeq + 2},
        {"five seconds later: the clock", kNow + milliseconds(5000), kFirstSeq + 5000},
        {"burst 1", kNow + milliseconds(5000), kFirstSeq + 5001},
        {"burst 2", kNow + milliseconds(5001), kFirstSeq + 5002},
        {"burst 3, ahead of the clock", kNow + milliseconds(5001), kFirstSeq + 5003},
        {"clock stepped back: still +1", kNow, kFirstSeq + 5004},
        {"clock ahead again", kNow + milliseconds(9000), kFirstSeq + 9000},
    };
    RecordingSink sink;
    Announcer announcer(251, kNow);
    for (const Step& s : steps) {
        BOOST_TEST_CONTEXT(s.description) {
            announcer.announce(rtsp_reply("k"), s.now, nullptr, sink);
            BOOST_TEST(decode_ok(sink.sent.back(), nullptr).seq == s.seq);
        }
    }
    // A gateway restarted a second after the last message starts ahead of everything it sent.
    const Announcer restarted(251, kNow + milliseconds(10000));
    BOOST_TEST(static_cast<int32_t>(restarted.next_seq() - (kFirstSeq + 9000)) > 0);
}

BOOST_AUTO_TEST_CASE(later_seq_follows_the_wrap) {
    BOOST_TEST(later_seq(5, 6) == 6u);
    BOOST_TEST(later_seq(6, 5) == 6u);
    BOOST_TEST(later_seq(0xfffffff0u, 3) == 3u);  // 3 is 19 past the wrap
    BOOST_TEST(later_seq(3, 0xfffffff0u) == 3u);
}

BOOST_AUTO_TEST_CASE(send_failures_are_counted_not_fatal) {
    RecordingSink sink;
    sink.failures = 1;  // one of two dispatchers is restarting
    Announcer announcer(251, kNow);
    BOOST_TEST(static_cast<int>(announcer.announce(rtsp_reply("a"), kNow, nullptr, sink)) ==
               static_cast<int>(Announcer::Result::send_failed));
    sink.failures = 0;
    BOOST_TEST(static_cast<int>(announcer.announce(rtsp_reply("b"), kNow, nullptr, sink)) ==
               static_cast<int>(Announcer::Result::sent));
    BOOST_TEST(sink.sent.size() == 2u);
    BOOST_TEST(announcer.counters().announcements_sent_total == 2u);
    BOOST_TEST(announcer.counters().announcements_partly_sent_total == 1u);
    // The failed one used its sequence number: the dispatcher that got it must not see it twice.
    BOOST_TEST(decode_ok(sink.sent[1], nullptr).seq == kFirstSeq + 1);
}

BOOST_AUTO_TEST_CASE(an_unencodable_announcement_is_counted_and_not_sent) {
    RecordingSink sink;
    Announcer announcer(251, kNow);
    BOOST_TEST(static_cast<int>(announcer.announce(rtsp_reply(""), kNow, nullptr, sink)) ==
               static_cast<int>(Announcer::Result::unencodable));
    BOOST_TEST(sink.sent.empty());
    BOOST_TEST(announcer.counters().announcements_unencodable_total == 1u);
    BOOST_TEST(announcer.next_seq() == kFirstSeq);  // no number used
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::gateway
