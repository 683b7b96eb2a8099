// SPDX-License-Identifier: GPL-2.0-or-later
// Network buffer load: the memory the kernel holds in TCP and UDP socket buffers over the
// point where it starts refusing TCP memory.
//
// /proc/net/sockstat gives the pages in use (`TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 3`,
// `UDP: inuse 2 mem 1`); net.ipv4.tcp_mem (/proc/sys/net/ipv4/tcp_mem, `low pressure high`,
// pages) gives the limit: above `high` the kernel refuses new TCP buffer memory. UDP has its
// own limit (udp_mem) but shares the pages, so both are measured against tcp_mem's high.
// Socket memory is system-wide: a network namespace sees the whole node's. tcp_mem, though, is
// visible in the initial network namespace only; inside another one (a container) the agent
// uses the limit the kernel computes at boot when nobody sets it (default_tcp_mem_high).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara::nodeagent {

struct SocketMemory {
    uint64_t tcp_pages = 0;
    uint64_t udp_pages = 0;
    friend bool operator==(const SocketMemory&, const SocketMemory&) = default;
};

// The `mem` values of the TCP: and UDP: lines. nullopt without a TCP `mem` value; a UDP line
// without one (older kernels) counts as 0.
std::optional<SocketMemory> parse_sockstat(std::string_view text);

// The third value of tcp_mem; nullopt unless the text is three numbers.
std::optional<uint64_t> parse_tcp_mem_high(std::string_view text);

// The kernel's boot-time default for tcp_mem's high value (tcp_init_mem(): a sixteenth of the
// free buffer pages, times 3/4, times 2), estimated from MemTotal: 3/32 of memory, in pages.
uint64_t default_tcp_mem_high(uint64_t mem_total_kb, uint64_t page_size);

// (tcp + udp pages) / high, in [0, 1]; 1 if high is 0 and any memory is in use.
double net_buffer_fraction(const SocketMemory& memory, uint64_t high_pages);

struct NetBufferUse {
    double fraction = 0;
    bool limit_estimated = false;  // tcp_mem was not readable: default_tcp_mem_high stood in
};

// The thin reader: sockstat (normally /proc/net/sockstat) over tcp_mem's high value (normally
// /proc/sys/net/ipv4/tcp_mem), or over default_tcp_mem_high(mem_total_kb, page_size) when
// tcp_mem cannot be read and mem_total_kb is known (not 0). nullopt with `error` set otherwise.
std::optional<NetBufferUse> read_net_buffer_use(const std::string& sockstat_path, const std::string& tcp_mem_path,
                                                uint64_t mem_total_kb, uint64_t page_size, std::string* error);

}  // namespace sara::nodeagent
