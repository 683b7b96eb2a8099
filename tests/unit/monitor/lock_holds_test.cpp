// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <thread>

#include "daemon/monitor/lock_holds.hpp"

using namespace sara;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(lock_holds)

BOOST_AUTO_TEST_CASE(each_task_keeps_its_own_longest_hold) {
    LockHolds holds;
    const auto start = LockHolds::Clock::now();
    std::this_thread::sleep_for(2ms);
    const auto next = holds.note(LockTask::expiry, start);
    BOOST_TEST(holds.max_us(LockTask::expiry) >= 2000u);
    BOOST_TEST(holds.max_us(LockTask::save) == 0u);
    // The returned time starts the next task: a short one does not lower the expiry maximum.
    holds.note(LockTask::save, next);
    holds.note(LockTask::expiry, LockHolds::Clock::now());
    BOOST_TEST(holds.max_us(LockTask::expiry) >= 2000u);
    BOOST_TEST(holds.max_us(LockTask::save) < 2000u);
    for (size_t t = 0; t < kLockTasks; ++t) BOOST_TEST(std::string(to_string(LockTask(t))) != "unknown");
}

BOOST_AUTO_TEST_SUITE_END()
