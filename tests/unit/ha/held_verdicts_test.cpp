// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <utility>
#include <vector>

#include "daemon/ha/held_verdicts.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

// Records every late verdict: (packet id, accept?).
struct RecordingSink final : DeferredVerdictSink {
    std::vector<std::pair<uint32_t, bool>> sent;
    void send_verdict_now(uint32_t id, const Verdict& v) override { sent.emplace_back(id, v.kind == Verdict::Kind::accept); }
    std::vector<uint32_t> ids() const {
        std::vector<uint32_t> out;
        for (auto& [id, _] : sent) out.push_back(id);
        return out;
    }
};

const MonoTime t0 = 1000s;

}  // namespace

BOOST_AUTO_TEST_SUITE(held_verdicts)

BOOST_AUTO_TEST_CASE(an_ack_releases_its_update_and_earlier_ones_exactly_once) {
    RecordingSink sink;
    HeldVerdicts held(1ms, 20ms);
    BOOST_TEST(!held.flush_due().has_value());
    held.hold(sink, 10, Verdict::accept_with_mark(2), 5, t0);
    held.hold(sink, 11, Verdict::accept_with_mark(3), 5, t0 + 100us);
    BOOST_TEST((held.flush_due() == t0 + 1ms));  // one batch after the first
    held.sent();
    BOOST_TEST(!held.flush_due().has_value());
    held.hold(sink, 12, Verdict::accept(), 6, t0 + 2ms);
    BOOST_TEST((held.flush_due() == t0 + 3ms));
    held.acknowledged(4, t0 + 2ms);  // an older update: nothing of ours
    BOOST_TEST(sink.sent.empty());
    held.acknowledged(5, t0 + 3ms);
    BOOST_TEST((sink.ids() == std::vector<uint32_t>{10, 11}));
    held.acknowledged(5, t0 + 3ms);  // a duplicate ack releases nothing twice
    BOOST_TEST(sink.sent.size() == 2u);
    held.acknowledged(7, t0 + 4ms);  // a later update covers earlier ones
    BOOST_TEST((sink.ids() == std::vector<uint32_t>{10, 11, 12}));
    BOOST_TEST(held.size() == 0u);
    BOOST_TEST(held.counters().sync_verdicts_held_total == 3u);
    BOOST_TEST(held.counters().sync_verdicts_released_acked_total == 3u);
    BOOST_TEST(held.counters().sync_verdicts_held_microseconds_total == 3000u + 2900u + 2000u);
}

BOOST_AUTO_TEST_CASE(update_numbers_wrap_as_serial_numbers) {
    RecordingSink sink;
    HeldVerdicts held(1ms, 20ms);
    held.hold(sink, 1, Verdict::accept(), 0xffffffffu, t0);
    held.hold(sink, 2, Verdict::accept(), 2, t0);  // after the wrap (0 is skipped)
    held.acknowledged(1, t0);
    BOOST_TEST((sink.ids() == std::vector<uint32_t>{1}));
    held.acknowledged(2, t0);
    BOOST_TEST((sink.ids() == std::vector<uint32_t>{1, 2}));
}

BOOST_AUTO_TEST_CASE(a_late_backup_costs_at_most_the_timeout_and_is_counted) {
    RecordingSink sink;
    HeldVerdicts held(1ms, 20ms);
    held.hold(sink, 1, Verdict::accept(), 1, t0);
    held.hold(sink, 2, Verdict::drop(), 1, t0 + 5ms);
    BOOST_TEST((held.next_timeout() == t0 + 20ms));
    held.expire(t0 + 19ms);
    BOOST_TEST(sink.sent.empty());
    held.expire(t0 + 20ms);
    BOOST_TEST((sink.sent == std::vector<std::pair<uint32_t, bool>>{{1, true}}));
    BOOST_TEST((held.next_timeout() == t0 + 25ms));
    held.expire(t0 + 30ms);
    BOOST_TEST((sink.sent == std::vector<std::pair<uint32_t, bool>>{{1, true}, {2, false}}));
    BOOST_TEST(!held.next_timeout().has_value());
    BOOST_TEST(!held.flush_due().has_value());
    BOOST_TEST(held.counters().sync_verdicts_released_late_total == 2u);
    held.acknowledged(1, t0 + 31ms);  // the ack that came too late releases nothing again
    BOOST_TEST(sink.sent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(leaving_master_releases_everything_once) {
    RecordingSink a, b;
    HeldVerdicts held(1ms, 20ms);
    held.hold(a, 1, Verdict::accept(), 1, t0);
    held.hold(b, 2, Verdict::accept(), 2, t0);
    held.release_all(t0 + 1ms);
    BOOST_TEST((a.ids() == std::vector<uint32_t>{1}));
    BOOST_TEST((b.ids() == std::vector<uint32_t>{2}));
    BOOST_TEST(held.counters().sync_verdicts_released_other_total == 2u);
    held.release_all(t0 + 2ms);
    held.expire(t0 + 1s);
    BOOST_TEST(a.sent.size() + b.sent.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
