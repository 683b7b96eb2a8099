// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "daemon/monitor/lock_holds.hpp"

using namespace sara;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(lock_holds)

BOOST_AUTO_TEST_CASE(each_task_keeps_its_own_longest_hold) {
    LockHolds holds;
    const HoldMark start = HoldMark::now();
    std::this_thread::sleep_for(2ms);
    const HoldMark next = holds.note(LockTask::expiry, start);
    BOOST_TEST(holds.max_us(LockTask::expiry) >= 2000u);
    BOOST_TEST(holds.over_1ms(LockTask::expiry) == 1u);
    BOOST_TEST(holds.max_us(LockTask::save) == 0u);
    // The returned mark starts the next task: a short one does not lower the expiry maximum.
    holds.note(LockTask::save, next);
    holds.note(LockTask::expiry, HoldMark::now());
    BOOST_TEST(holds.max_us(LockTask::expiry) >= 2000u);
    BOOST_TEST(holds.over_1ms(LockTask::expiry) == 1u);
    BOOST_TEST(holds.max_us(LockTask::save) < 2000u);
    for (size_t t = 0; t < kLockTasks; ++t) BOOST_TEST(std::string(to_string(LockTask(t))) != "unknown");
}

// A hold spent asleep (as a preempted holder is) shows little CPU time; one spent computing
// shows about its wall time; one touching fresh pages shows their faults.
BOOST_AUTO_TEST_CASE(the_longest_hold_says_where_its_time_went) {
    LockHolds holds;
    holds.note(LockTask::health, [] {
        const HoldMark m = HoldMark::now();
        std::this_thread::sleep_for(5ms);
        return m;
    }());
    const HoldCost& slept = holds.longest(LockTask::health);
    BOOST_TEST(slept.us >= 5000u);
    BOOST_TEST(slept.cpu_us < slept.us / 2);
    BOOST_TEST(slept.waits >= 1u);  // a sleep gives the CPU up

    const HoldMark busy_start = HoldMark::now();
    volatile uint64_t sum = 0;
    while (std::chrono::steady_clock::now() - busy_start.wall < 5ms) sum = sum + 1;
    holds.note(LockTask::expiry, busy_start);
    const HoldCost& busy = holds.longest(LockTask::expiry);
    BOOST_TEST(busy.us >= 5000u);
    BOOST_TEST(busy.cpu_us > 0u);  // the machine may preempt the loop; it still ran

    const HoldMark touch_start = HoldMark::now();
    std::vector<char> pages(64 << 20);  // 64 MiB, written: its own fresh pages
    for (size_t i = 0; i < pages.size(); i += 4096) pages[i] = 1;
    holds.note(LockTask::save, touch_start);
    BOOST_TEST(holds.longest(LockTask::save).minor_faults >= 10u);  // 4 KiB or 2 MiB pages
}

BOOST_AUTO_TEST_SUITE_END()
