// SPDX-License-Identifier: GPL-2.0-or-later
// The /proc parsers of the load sampler, fed literal file contents (as a 6.1 kernel prints
// them, and the odd shapes older kernels and broken files have). One description per case.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "nodeagent/load/cpu_load.hpp"
#include "nodeagent/load/io_load.hpp"
#include "nodeagent/load/memory_load.hpp"
#include "nodeagent/load/net_load.hpp"

namespace sara::nodeagent {

BOOST_AUTO_TEST_SUITE(nodeagent_proc_parsers)

BOOST_AUTO_TEST_CASE(proc_stat_aggregate_line) {
    struct Case {
        const char* description;
        std::string text;
        std::optional<CpuTimes> expected;
    };
    const std::vector<Case> cases = {
        {"all ten fields: idle and iowait are idle, guest is not added twice",
         "cpu  100 5 50 800 20 3 2 10 7 1\n"
         "cpu0 50 2 25 400 10 1 1 5 3 0\n"
         "intr 12345 0 0\nctxt 999\n",
         CpuTimes{100 + 5 + 50 + 3 + 2 + 10, 100 + 5 + 50 + 800 + 20 + 3 + 2 + 10}},
        {"a 2.4 kernel's four fields", "cpu 10 0 10 80\n", CpuTimes{20, 100}},
        {"aggregate line not first", "cpu0 1 1 1 1\ncpu  4 0 4 12 0 0 0 0\n", CpuTimes{8, 20}},
        {"no trailing newline", "cpu  1 2 3 4 5 6 7 8 9 10", CpuTimes{1 + 2 + 3 + 6 + 7 + 8, 36}},
        {"only per-CPU lines", "cpu0 1 2 3 4\ncpu1 1 2 3 4\n", std::nullopt},
        {"three fields", "cpu 1 2 3\n", std::nullopt},
        {"a non-number", "cpu  1 2 x 4 5\n", std::nullopt},
        {"a negative number", "cpu  1 2 -3 4 5\n", std::nullopt},
        {"empty", "", std::nullopt},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const std::optional<CpuTimes> got = parse_proc_stat(c.text);
            BOOST_TEST(got.has_value() == c.expected.has_value());
            if (got && c.expected) {
                BOOST_TEST(got->busy == c.expected->busy);
                BOOST_TEST(got->total == c.expected->total);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(cpu_busy_fraction_between_samples) {
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {150, 1100}) == 0.5);
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {200, 1100}) == 1.0);
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {100, 1100}) == 0.0);
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {100, 1000}) == 0.0);   // no time passed
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {50, 500}) == 0.0);     // counters went backwards
    BOOST_TEST(cpu_busy_fraction({100, 1000}, {90, 1100}) == 0.0);    // busy went backwards
    BOOST_TEST(cpu_busy_fraction({0, 0}, {500, 100}) == 1.0);         // never above 1
}

BOOST_AUTO_TEST_CASE(meminfo_used_fraction) {
    const std::string kernel61 =
        "MemTotal:        8000000 kB\n"
        "MemFree:          500000 kB\n"
        "MemAvailable:    6000000 kB\n"
        "Buffers:          100000 kB\n"
        "Cached:          5000000 kB\n";
    BOOST_TEST(*parse_meminfo_used_fraction(kernel61) == 0.25);
    BOOST_TEST(*parse_meminfo_used_fraction("MemAvailable: 0 kB\nMemTotal: 100 kB\n") == 1.0);
    BOOST_TEST(*parse_meminfo_used_fraction("MemTotal: 100 kB\nMemAvailable: 150 kB\n") == 0.0);  // clamped
    BOOST_TEST(!parse_meminfo_used_fraction("MemTotal: 100 kB\nMemFree: 50 kB\n"));  // before 3.14
    BOOST_TEST(!parse_meminfo_used_fraction("MemTotal: 0 kB\nMemAvailable: 0 kB\n"));
    BOOST_TEST(!parse_meminfo_used_fraction("MemTotal: lots kB\nMemAvailable: 1 kB\n"));
    BOOST_TEST(!parse_meminfo_used_fraction(""));
    BOOST_TEST(*parse_meminfo_kb(kernel61, "Cached:") == 5000000u);
    BOOST_TEST(!parse_meminfo_kb(kernel61, "SwapTotal:"));
}

BOOST_AUTO_TEST_CASE(sockstat_and_tcp_mem) {
    const std::string sockstat =
        "sockets: used 290\n"
        "TCP: inuse 12 orphan 0 tw 3 alloc 20 mem 300\n"
        "UDP: inuse 4 mem 100\n"
        "UDPLITE: inuse 0\n"
        "RAW: inuse 0\n"
        "FRAG: inuse 0 memory 0\n";
    const std::optional<SocketMemory> memory = parse_sockstat(sockstat);
    BOOST_TEST_REQUIRE(memory.has_value());
    BOOST_TEST(memory->tcp_pages == 300u);
    BOOST_TEST(memory->udp_pages == 100u);
    BOOST_TEST(parse_sockstat("TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 7\nUDP: inuse 0\n")->udp_pages == 0u);
    BOOST_TEST(!parse_sockstat("UDP: inuse 4 mem 100\n"));                      // no TCP line
    BOOST_TEST(!parse_sockstat("TCP: inuse 12 orphan 0 tw 3 alloc 20\n"));      // no mem
    BOOST_TEST(!parse_sockstat("TCP: inuse 1 orphan 0 tw 0 alloc 1 mem x\n"));  // not a number

    BOOST_TEST(*parse_tcp_mem_high("92511\t123350\t185022\n") == 185022u);
    BOOST_TEST(!parse_tcp_mem_high("92511 123350\n"));
    BOOST_TEST(!parse_tcp_mem_high("1 2 3 4\n"));
    BOOST_TEST(!parse_tcp_mem_high("a b c\n"));

    // tcp_init_mem(): limit = max(pages/16, 128); high = limit/4*3*2.
    BOOST_TEST(default_tcp_mem_high(16 * 1024 * 1024, 4096) == 4194304u / 16 / 4 * 3 * 2);  // 16 GiB
    BOOST_TEST(default_tcp_mem_high(1024, 4096) == 128u / 4 * 3 * 2);                       // the floor
    BOOST_TEST(default_tcp_mem_high(1024, 0) == 192u);

    BOOST_TEST(net_buffer_fraction({300, 100}, 1600) == 0.25);
    BOOST_TEST(net_buffer_fraction({3000, 100}, 1600) == 1.0);
    BOOST_TEST(net_buffer_fraction({0, 0}, 0) == 0.0);
    BOOST_TEST(net_buffer_fraction({1, 0}, 0) == 1.0);
}

BOOST_AUTO_TEST_CASE(diskstats_in_flight) {
    // Field 12 (the 9th counter) is the I/Os in progress: 3 on vda, 1 on vda1, 5 on dm-0.
    const std::string text =
        "   7       0 loop0 10 0 80 1 0 0 0 0 0 4 1 0 0 0 0 0 0\n"
        " 252       0 vda 9000 10 400000 3000 5000 200 80000 9000 3 7000 12000 0 0 0 0 100 50\n"
        " 252       1 vda1 8000 10 390000 2900 4900 200 79000 8900 1 6900 11800 0 0 0 0 0 0\n"
        " 253       0 dm-0 100 0 800 10 100 0 800 10 5 20 20\n"
        "   8      16 sdb 1 2 3 4 5 6 7\n";  // truncated line
    const DiskStats stats = parse_diskstats(text);
    BOOST_TEST_REQUIRE(stats.disks.size() == 4u);
    BOOST_TEST(stats.malformed_lines == 1u);
    BOOST_TEST(stats.disks[1].name == "vda");
    BOOST_TEST(stats.disks[1].in_flight == 3u);
    BOOST_TEST(stats.disks[3].name == "dm-0");
    BOOST_TEST(stats.disks[3].in_flight == 5u);

    const std::vector<std::string> whole_disk = {"vda"};
    const std::vector<std::string> two = {"vda", "dm-0", "absent"};
    BOOST_TEST(sum_in_flight(stats.disks, whole_disk) == 3u);
    BOOST_TEST(sum_in_flight(stats.disks, two) == 8u);
    BOOST_TEST(sum_in_flight(stats.disks, std::vector<std::string>{}) == 0u);

    BOOST_TEST(io_queue_fraction(8, 32) == 0.25);
    BOOST_TEST(io_queue_fraction(64, 32) == 1.0);
    BOOST_TEST(io_queue_fraction(0, 1) == 0.0);
    BOOST_TEST(parse_diskstats("").disks.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
