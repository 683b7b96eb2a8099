// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/load_sampler.hpp"

#include <unistd.h>

#include "nodeagent/load/io_load.hpp"
#include "nodeagent/load/memory_load.hpp"
#include "nodeagent/load/net_load.hpp"

namespace sara::nodeagent {

LoadSampler::LoadSampler(const AgentLoadConfig& config, std::optional<AppPort> backlog, SockDiagSocket* diag,
                         ProcPaths paths)
    : config_(config), backlog_(backlog), diag_(diag), paths_(std::move(paths)) {
    disks_ = config_.disks.empty() ? list_physical_disks(paths_.sys_block) : config_.disks;
    const long page_size = ::sysconf(_SC_PAGESIZE);
    page_size_ = page_size > 0 ? static_cast<uint64_t>(page_size) : 4096;
}

void LoadSampler::start() { previous_cpu_ = read_cpu_times(paths_.stat, nullptr); }

LoadSample LoadSampler::sample() {
    LoadSample s;
    std::string error;

    if (const std::optional<CpuTimes> now = read_cpu_times(paths_.stat, &error)) {
        if (previous_cpu_) s.cpu = cpu_busy_fraction(*previous_cpu_, *now);
        previous_cpu_ = now;
    } else {
        s.problems.push_back("cpu: " + error);
    }

    uint64_t mem_total_kb = 0;  // also the fallback for an invisible tcp_mem
    if (const std::optional<MemoryUse> memory = read_memory_use(paths_.meminfo, &error)) {
        s.memory = memory->used_fraction;
        mem_total_kb = memory->total_kb;
    } else {
        s.problems.push_back("memory: " + error);
    }

    if (const std::optional<NetBufferUse> net =
            read_net_buffer_use(paths_.sockstat, paths_.tcp_mem, mem_total_kb, page_size_, &error)) {
        s.net = net->fraction;
        tcp_mem_estimated_ = tcp_mem_estimated_ || net->limit_estimated;
    } else {
        s.problems.push_back("net: " + error);
    }

    if (const std::optional<uint64_t> in_flight = read_in_flight(paths_.diskstats, disks_, &error))
        s.io = io_queue_fraction(*in_flight, config_.io_saturation);
    else
        s.problems.push_back("io: " + error);

    if (backlog_ && diag_ != nullptr) {
        if (diag_->sockets_on(*backlog_, sockets_, &error))
            s.problems.push_back("backlog: " + error);
        else
            s.backlog = backlog_fraction(sockets_, *backlog_);
    }
    return s;
}

}  // namespace sara::nodeagent
