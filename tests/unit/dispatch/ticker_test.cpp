// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "daemon/dispatch/ticker.hpp"

using namespace sara;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(ticker)

BOOST_AUTO_TEST_CASE(an_unscheduled_task_is_due_at_once_then_every_period) {
    ManualClock clock{1000s};
    Ticker ticker(clock);
    BOOST_TEST(ticker.take(PeriodicTask::health, 500ms));
    BOOST_TEST(!ticker.take(PeriodicTask::health, 500ms));
    clock.advance(499ms);
    BOOST_TEST(!ticker.take(PeriodicTask::health, 500ms));
    clock.advance(1ms);
    BOOST_TEST(ticker.take(PeriodicTask::health, 500ms));
}

BOOST_AUTO_TEST_CASE(a_scheduled_task_waits_for_its_first_delay) {
    ManualClock clock;
    Ticker ticker(clock);
    ticker.schedule(PeriodicTask::retire, 1s);
    BOOST_TEST(!ticker.take(PeriodicTask::retire, 1s));
    clock.advance(999ms);
    BOOST_TEST(!ticker.take(PeriodicTask::retire, 1s));
    clock.advance(1ms);
    BOOST_TEST(ticker.take(PeriodicTask::retire, 1s));
}

BOOST_AUTO_TEST_CASE(a_late_wake_runs_once_and_counts_the_period_from_it) {
    ManualClock clock;
    Ticker ticker(clock);
    ticker.schedule(PeriodicTask::admission, 100ms);
    clock.advance(350ms);  // three periods late: one run, not three
    BOOST_TEST(ticker.take(PeriodicTask::admission, 100ms));
    BOOST_TEST(!ticker.take(PeriodicTask::admission, 100ms));
    clock.advance(99ms);
    BOOST_TEST(!ticker.take(PeriodicTask::admission, 100ms));
    clock.advance(1ms);
    BOOST_TEST(ticker.take(PeriodicTask::admission, 100ms));
}

BOOST_AUTO_TEST_CASE(a_new_period_applies_from_the_next_run) {
    ManualClock clock;
    Ticker ticker(clock);
    BOOST_TEST(ticker.take(PeriodicTask::admission, 100ms));
    clock.advance(100ms);
    BOOST_TEST(ticker.take(PeriodicTask::admission, 1s));  // a reload made it longer
    clock.advance(500ms);
    BOOST_TEST(!ticker.take(PeriodicTask::admission, 1s));
    clock.advance(500ms);
    BOOST_TEST(ticker.take(PeriodicTask::admission, 1s));
}

BOOST_AUTO_TEST_CASE(tasks_are_independent) {
    ManualClock clock;
    Ticker ticker(clock);
    ticker.schedule(PeriodicTask::save, 10s);
    BOOST_TEST(ticker.take(PeriodicTask::health, 1s));
    BOOST_TEST(!ticker.take(PeriodicTask::save, 10s));
    clock.advance(1s);
    BOOST_TEST(ticker.take(PeriodicTask::health, 1s));
    BOOST_TEST(!ticker.take(PeriodicTask::save, 10s));
    clock.advance(9s);
    BOOST_TEST(ticker.take(PeriodicTask::save, 10s));
}

BOOST_AUTO_TEST_SUITE_END()
