// SPDX-License-Identifier: GPL-2.0-or-later
// The load sampler over literal /proc files in a scratch directory: two samples give the CPU
// share between them; a file that cannot be read gives 0 for its value and a named problem.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "nodeagent/load/load_sampler.hpp"

namespace sara::nodeagent {
namespace {

struct ScratchProc {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("sara-sampler-test-" + std::to_string(::getpid()));
    ScratchProc() {
        std::filesystem::create_directories(dir / "block" / "vda" / "device");
        std::filesystem::create_directories(dir / "block" / "loop0");
        write("meminfo", "MemTotal: 1000 kB\nMemAvailable: 250 kB\n");
        write("sockstat", "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 30\nUDP: inuse 1 mem 10\n");
        write("tcp_mem", "100 150 200\n");
        write("diskstats",
              "   7 0 loop0 0 0 0 0 0 0 0 0 9 0 0\n"
              " 252 0 vda 0 0 0 0 0 0 0 0 8 0 0\n");
        write("stat", "cpu  100 0 100 800 0 0 0 0 0 0\n");
    }
    ~ScratchProc() { std::filesystem::remove_all(dir); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }
    ProcPaths paths() const {
        ProcPaths p;
        p.stat = (dir / "stat").string();
        p.meminfo = (dir / "meminfo").string();
        p.sockstat = (dir / "sockstat").string();
        p.tcp_mem = (dir / "tcp_mem").string();
        p.diskstats = (dir / "diskstats").string();
        p.sys_block = (dir / "block").string();
        return p;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(nodeagent_load_sampler)

BOOST_AUTO_TEST_CASE(five_values_from_literal_files) {
    ScratchProc proc;
    AgentLoadConfig config;
    config.io_saturation = 32;
    LoadSampler sampler(config, std::nullopt, nullptr, proc.paths());
    // Only vda has a `device` link: loop0's 9 in-flight I/Os do not count.
    BOOST_TEST((sampler.disks() == std::vector<std::string>{"vda"}));
    sampler.start();
    proc.write("stat", "cpu  130 0 130 840 0 0 0 0 0 0\n");  // +60 busy of +100
    const LoadSample s = sampler.sample();
    BOOST_TEST(s.problems.empty());
    BOOST_TEST(s.cpu == 0.6);
    BOOST_TEST(s.memory == 0.75);
    BOOST_TEST(s.net == 0.2);
    BOOST_TEST(s.io == 0.25);
    BOOST_TEST(s.backlog == 0.0);  // no backlog socket configured
}

BOOST_AUTO_TEST_CASE(configured_disks_and_missing_files) {
    ScratchProc proc;
    AgentLoadConfig config;
    config.io_saturation = 4;
    config.disks = {"loop0", "vda"};
    ProcPaths paths = proc.paths();
    paths.meminfo = (proc.dir / "absent").string();
    LoadSampler sampler(config, std::nullopt, nullptr, paths);
    const LoadSample first = sampler.sample();  // no start(): the CPU has no baseline yet
    BOOST_TEST(first.cpu == 0.0);
    BOOST_TEST(first.io == 1.0);  // 9 + 8 in flight over 4
    BOOST_TEST(first.memory == 0.0);
    BOOST_TEST_REQUIRE(first.problems.size() == 1u);
    BOOST_TEST(first.problems[0].starts_with("memory: "));
    proc.write("sockstat", "UDP: inuse 1 mem 10\n");
    proc.write("diskstats", "garbage\n");
    const LoadSample second = sampler.sample();
    BOOST_TEST(second.net == 0.0);
    BOOST_TEST(second.io == 0.0);
    BOOST_TEST(second.problems.size() == 2u);
}

BOOST_AUTO_TEST_CASE(tcp_mem_invisible_in_a_network_namespace) {
    ScratchProc proc;
    proc.write("meminfo", "MemTotal: 32768 kB\nMemAvailable: 16384 kB\n");  // 8192 pages of 4 KiB
    ProcPaths paths = proc.paths();
    paths.tcp_mem = (proc.dir / "absent").string();
    LoadSampler sampler(AgentLoadConfig{}, std::nullopt, nullptr, paths);
    const LoadSample s = sampler.sample();
    BOOST_TEST(s.problems.empty());
    BOOST_TEST(sampler.tcp_mem_estimated());
    // 40 pages over the default high of 8192*3/32 = 768 pages (on a 4 KiB-page machine).
    if (::sysconf(_SC_PAGESIZE) == 4096) BOOST_TEST(s.net == 40.0 / 768.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
