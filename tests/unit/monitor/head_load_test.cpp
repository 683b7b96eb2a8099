// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>

#include "daemon/monitor/head_load.hpp"

using namespace sara;

BOOST_AUTO_TEST_SUITE(head_load)

BOOST_AUTO_TEST_CASE(cpu_ticks_from_proc_stat) {
    // proc(5): utime and stime are fields 14 and 15; comm may hold ") (" and spaces.
    const char* stat = "4242 (sarad (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
                       "150 25 0 0 20 0 5 0 12345 123456789 2000 18446744073709551615";
    BOOST_TEST(parse_proc_stat_cpu_ticks(stat).value() == 175u);  // 150 + 25
    BOOST_TEST(!parse_proc_stat_cpu_ticks("4242 sarad S 1").has_value());
    BOOST_TEST(!parse_proc_stat_cpu_ticks("4242 (sarad) S 1 2").has_value());
    BOOST_TEST(!parse_proc_stat_cpu_ticks("").has_value());
}

BOOST_AUTO_TEST_CASE(fullest_of_our_queues) {
    const char* text = "    0  12345    17 2 65531     0     0      900  1\n"
                       "    1  12346   250 2 65531     3     0     1200  1\n"
                       "    7  99999  4000 2 65531     0     0       10  1\n"
                       "garbage line\n";
    BOOST_TEST(parse_nfqueue_max_backlog(text, 0, 1) == 17u);
    BOOST_TEST(parse_nfqueue_max_backlog(text, 0, 2) == 250u);
    BOOST_TEST(parse_nfqueue_max_backlog(text, 2, 4) == 0u);   // queue 7 is not ours
    BOOST_TEST(parse_nfqueue_max_backlog(text, 7, 1) == 4000u);
    BOOST_TEST(parse_nfqueue_max_backlog("", 0, 1) == 0u);
}

BOOST_AUTO_TEST_CASE(kernel_drops_at_our_queues) {
    // queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1
    const char* text = "    0  12345    17 2 65531     5     2      900  1\n"
                       "    1  12346   250 2 65531     3     0     1200  1\n"
                       "    7  99999  4000 2 65531   100   100       10  1\n"
                       "    2  12347     0 2 65531     x     1        0  1\n"  // malformed: not counted
                       "garbage line\n";
    BOOST_TEST(parse_nfqueue_dropped(text, 0, 1) == 7u);
    BOOST_TEST(parse_nfqueue_dropped(text, 0, 3) == 10u);
    BOOST_TEST(parse_nfqueue_dropped(text, 7, 1) == 200u);
    BOOST_TEST(parse_nfqueue_dropped(text, 3, 4) == 0u);
    BOOST_TEST(parse_nfqueue_dropped("", 0, 1) == 0u);
}

// The reading (taken without the dispatcher's lock) and the sample (under it) give the load
// from what was read: CPU ticks over wall time and cores, or the queue's fill, the larger.
BOOST_AUTO_TEST_CASE(sample_from_readings) {
    ManualClock clock;
    HeadLoadMeter meter(clock, 0, 1, 1000);  // one queue: one core
    const uint64_t per_second = uint64_t(std::max(1L, ::sysconf(_SC_CLK_TCK)));
    HeadLoadReading r;
    r.time = clock.now();
    r.cpu_ticks = 1000;
    r.queue_backlog = 100;
    BOOST_TEST(meter.sample(r) == 0.1);  // no CPU interval yet: the queue's part only
    r.time += std::chrono::seconds(2);
    r.cpu_ticks = 1000 + per_second;      // one second of CPU in two
    r.queue_backlog = 0;
    BOOST_TEST(meter.sample(r) == 0.5, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(meter.last_cpu() == 0.5, boost::test_tools::tolerance(1e-9));
    r.time += std::chrono::seconds(1);
    r.cpu_ticks.reset();                  // /proc unreadable: the CPU part keeps its last value
    r.queue_backlog = 2000;
    BOOST_TEST(meter.sample(r) == 1.0);   // an overfull queue counts as full
    // read() sees this process's /proc/self/stat.
    BOOST_TEST(meter.read().cpu_ticks.has_value());
}

// With the queue threads known, only their CPU counts (not the janitor's dumps or the HA
// threads'): read() sums /proc/self/task/TID/stat, and a thread that is gone gives no CPU part.
BOOST_AUTO_TEST_CASE(the_cpu_part_counts_the_queue_threads) {
    ManualClock clock;
    HeadLoadMeter meter(clock, 0, 1, 1000);
    BOOST_TEST(!meter.has_queue_threads());
    meter.set_queue_threads({gettid()});
    BOOST_TEST(meter.has_queue_threads());
    BOOST_TEST(meter.read().cpu_ticks.has_value());
    meter.set_queue_threads({gettid(), pid_t(0x7ffffff0)});  // no such thread
    BOOST_TEST(!meter.read().cpu_ticks.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
