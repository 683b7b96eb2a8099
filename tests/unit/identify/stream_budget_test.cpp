// SPDX-License-Identifier: GPL-2.0-or-later
// The global byte budget for TCP signalling stream buffers (issue 16, item 3): the budget's
// own bookkeeping, and the identifier evicting the oldest partial streams first.
#include <boost/test/unit_test.hpp>

#include <string>

#include "daemon/identify/session_identifier.hpp"
#include "daemon/identify/stream_budget.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace sara::test;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

FlowKey key(uint16_t port) { return tcp_key(kClient, port, kVip, 5060); }

// Five spoofed-looking connections, each with a SYN and 3000 bytes of an INVITE that never
// ends, under a 10,000-byte budget: three fit, the two oldest are evicted.
struct BudgetFixture {
    ManualClock clock{std::chrono::seconds(1000)};
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    IdentifierLimits limits = [] {
        IdentifierLimits l;
        l.stream_buffer_bytes = 10000;
        return l;
    }();
    SessionIdentifier identifier{table, services, ip(kVip), limits};

    static std::string invite(std::string_view call_id) {
        return sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE", std::string(3500, 'v'));
    }
    // SYN at 999, then the first 3000 bytes of the INVITE.
    void open_partial(uint16_t port) {
        identifier.classify(tcp(kClient, port, kVip, 5060, tcp_flag::syn, 999));
        identifier.classify(tcp(kClient, port, kVip, 5060, tcp_flag::ack, 1000, invite(std::to_string(port)).substr(0, 3000)));
    }
    // The rest of the INVITE: a session with the port as Call-ID if the stream was still inspected.
    bool finish(uint16_t port) {
        const std::string whole = invite(std::to_string(port));
        identifier.classify(tcp(kClient, port, kVip, 5060, tcp_flag::ack, 1000 + 3000, whole.substr(3000)));
        return table.find_session(ServiceProtocol::sip, std::to_string(port)) != kNoSession;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_budget)

BOOST_AUTO_TEST_CASE(accounts_bytes_and_names_the_oldest_holder_while_over) {
    StreamBudget budget(100);
    StreamBudget::Account a, b, c;
    budget.update(key(1), a, 40);
    budget.update(key(2), b, 40);
    BOOST_TEST(budget.bytes() == 80u);
    BOOST_TEST(!budget.over_budget());
    budget.update(key(3), c, 40);
    BOOST_REQUIRE(budget.over_budget());
    BOOST_TEST((*budget.over_budget() == key(1)));
    // Growing keeps a stream's place: age counts from when it started to hold memory.
    budget.update(key(1), a, 50);
    BOOST_TEST((*budget.over_budget() == key(1)));
    BOOST_TEST(budget.bytes() == 130u);
    // Emptied: off the list; it goes to the back when it holds memory again.
    budget.update(key(1), a, 0);
    BOOST_TEST(budget.bytes() == 80u);
    BOOST_TEST(budget.streams_holding() == 2u);
    budget.update(key(1), a, 30);
    BOOST_REQUIRE(budget.over_budget());
    BOOST_TEST((*budget.over_budget() == key(2)));
    budget.update(key(2), b, 0);
    BOOST_TEST(!budget.over_budget());
    BOOST_TEST(budget.bytes() == 70u);
    budget.clear();
    BOOST_TEST(budget.bytes() == 0u);
    BOOST_TEST(budget.streams_holding() == 0u);
}

BOOST_FIXTURE_TEST_CASE(oldest_partial_streams_are_evicted_first_and_counted, BudgetFixture) {
    for (uint16_t port = 40001; port <= 40005; ++port) {
        open_partial(port);
        BOOST_TEST(identifier.stream_budget().bytes() <= limits.stream_buffer_bytes);
    }
    BOOST_TEST(identifier.counters().stream_evictions_total == 2u);
    BOOST_TEST(identifier.stream_budget().streams_holding() == 3u);
    BOOST_TEST(identifier.stream_budget().bytes() >= 9000u);
    // The evicted connections are no longer inspected; the three newest still are, and a
    // completed message gives its memory back.
    BOOST_TEST(!finish(40001));
    BOOST_TEST(!finish(40002));
    BOOST_TEST(finish(40003));
    BOOST_TEST(finish(40004));
    BOOST_TEST(finish(40005));
    BOOST_TEST(identifier.stream_budget().bytes() == 0u);
    BOOST_TEST(identifier.counters().sip_malformed_total == 0u);  // evicted is not malformed
}

BOOST_FIXTURE_TEST_CASE(a_stream_that_keeps_completing_messages_is_never_evicted, BudgetFixture) {
    identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::syn, 999));
    uint32_t seq = 1000;
    for (int call = 0; call < 20; ++call) {
        // A live connection: a whole INVITE per round, while attackers pile up partial ones.
        const std::string m = invite("live-" + std::to_string(call));
        identifier.classify(tcp(kClient, 40000, kVip, 5060, tcp_flag::ack, seq, m));
        seq += uint32_t(m.size());
        open_partial(uint16_t(41000 + call));
    }
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "live-19") != kNoSession);
    BOOST_TEST(identifier.counters().stream_evictions_total == 17u);  // 20 partial, 3 fit
    BOOST_TEST(identifier.stream_budget().bytes() <= limits.stream_buffer_bytes);
}

BOOST_FIXTURE_TEST_CASE(closed_and_purged_streams_give_their_bytes_back, BudgetFixture) {
    open_partial(40001);
    open_partial(40002);
    BOOST_TEST(identifier.stream_budget().bytes() >= 6000u);
    identifier.classify(tcp(kClient, 40001, kVip, 5060, tcp_flag::rst | tcp_flag::ack, 4000));
    BOOST_TEST(identifier.stream_budget().bytes() >= 3000u);
    BOOST_TEST(identifier.stream_budget().bytes() < 6000u);
    // The connection's session expires: purge drops its stream too.
    clock.advance(std::chrono::hours(24));
    identifier.purge();
    BOOST_TEST(identifier.stream_budget().bytes() == 0u);
    BOOST_TEST(identifier.stream_budget().streams_holding() == 0u);
    BOOST_TEST(identifier.counters().stream_evictions_total == 0u);
}

// NFQUEUE's copy of a signalling packet over 65,531 bytes is cut short: counted, not parsed.
BOOST_FIXTURE_TEST_CASE(a_truncated_signalling_copy_is_counted_not_parsed, BudgetFixture) {
    DecodedPacket p = udp(kClient, 5070, kVip, 5060, invite("big"));
    p.truncated = true;
    BOOST_TEST((identifier.classify(p).outcome == PacketOutcome::malformed));
    BOOST_TEST(identifier.counters().signalling_truncated_total == 1u);
    BOOST_TEST(identifier.counters().sip_malformed_total == 0u);
    // A truncated data packet decides on its headers alone.
    DecodedPacket rtp = udp(kClient, 20000, kVip, 6000, "rtp");
    rtp.truncated = true;
    BOOST_TEST((identifier.classify(rtp).outcome == PacketOutcome::classified));
}

BOOST_AUTO_TEST_SUITE_END()
