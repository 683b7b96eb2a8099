// SPDX-License-Identifier: GPL-2.0-or-later
// Takes one load sample every δ: the five values of the load vector, each in [0, 1] (DESIGN
// §7, paper §III-G), from the thin readers of cpu_load, memory_load, net_load, io_load (each
// beside its pure parser) and the sock_diag socket; this class only calls them and combines. A value whose source cannot be read is sent as 0 and named in `problems`, so
// the agent keeps reporting the others (and logs the problem once, not every δ).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/nodeagent_config.hpp"
#include "nodeagent/load/cpu_load.hpp"
#include "nodeagent/load/sock_diag_socket.hpp"

namespace sara::nodeagent {

// Where the readers look; tests point them at literal files.
struct ProcPaths {
    std::string stat = "/proc/stat";
    std::string meminfo = "/proc/meminfo";
    std::string sockstat = "/proc/net/sockstat";
    std::string tcp_mem = "/proc/sys/net/ipv4/tcp_mem";
    std::string diskstats = "/proc/diskstats";
    std::string sys_block = "/sys/block";
};

struct LoadSample {
    double cpu = 0, memory = 0, net = 0, io = 0, backlog = 0;
    std::vector<std::string> problems;  // one line per value that could not be measured
};

class LoadSampler {
public:
    // `diag` may be null (backlog always 0); it must outlive the sampler. `backlog` is the
    // application socket whose queue is reported (AppCheckConfig::backlog).
    LoadSampler(const AgentLoadConfig& config, std::optional<AppPort> backlog, SockDiagSocket* diag,
                ProcPaths paths = {});

    // Reads the CPU counters as the baseline of the first sample's CPU value.
    void start();
    LoadSample sample();

    const std::vector<std::string>& disks() const { return disks_; }
    // True once tcp_mem could not be read and the kernel's default limit stood in for it.
    bool tcp_mem_estimated() const { return tcp_mem_estimated_; }

private:
    AgentLoadConfig config_;
    std::optional<AppPort> backlog_;
    SockDiagSocket* diag_;
    ProcPaths paths_;
    std::vector<std::string> disks_;  // config.disks, or the physical disks found at start
    std::optional<CpuTimes> previous_cpu_;
    bool tcp_mem_estimated_ = false;
    uint64_t page_size_ = 4096;
    std::vector<DiagSocket> sockets_;  // reused dump result
};

}  // namespace sara::nodeagent
