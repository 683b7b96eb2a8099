// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/net_load.hpp"

#include <algorithm>
#include <vector>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {
namespace {

// The number after `mem` in a sockstat line's fields (name/value pairs after the label).
std::optional<uint64_t> mem_value(const std::vector<std::string_view>& fields) {
    for (size_t i = 1; i + 1 < fields.size(); i += 2)
        if (fields[i] == "mem") return parse_u64(fields[i + 1]);
    return std::nullopt;
}

}  // namespace

std::optional<SocketMemory> parse_sockstat(std::string_view text) {
    std::optional<uint64_t> tcp, udp;
    for_each_line(text, [&](std::string_view line) {
        const std::vector<std::string_view> fields = split_fields(line);
        if (fields.empty()) return true;
        if (fields[0] == "TCP:") tcp = mem_value(fields);
        if (fields[0] == "UDP:") udp = mem_value(fields);
        return true;
    });
    if (!tcp) return std::nullopt;
    return SocketMemory{*tcp, udp.value_or(0)};
}

std::optional<uint64_t> parse_tcp_mem_high(std::string_view text) {
    const std::vector<std::string_view> fields = split_fields(text.substr(0, text.find('\n')));
    if (fields.size() != 3) return std::nullopt;
    for (std::string_view f : fields)
        if (!parse_u64(f)) return std::nullopt;
    return parse_u64(fields[2]);
}

uint64_t default_tcp_mem_high(uint64_t mem_total_kb, uint64_t page_size) {
    const uint64_t pages = page_size == 0 ? 0 : mem_total_kb * 1024 / page_size;
    const uint64_t limit = std::max<uint64_t>(pages / 16, 128);
    return limit / 4 * 3 * 2;
}

std::optional<NetBufferUse> read_net_buffer_use(const std::string& sockstat_path, const std::string& tcp_mem_path,
                                                uint64_t mem_total_kb, uint64_t page_size, std::string* error) {
    std::string text;
    if (!read_text_file(sockstat_path, text, error)) return std::nullopt;
    const std::optional<SocketMemory> memory = parse_sockstat(text);
    if (!memory) {
        if (error) *error = sockstat_path + ": no TCP mem value";
        return std::nullopt;
    }
    std::string tcp_mem_error;
    if (!read_text_file(tcp_mem_path, text, &tcp_mem_error)) {
        // Not visible outside the initial network namespace: the kernel's default stands in.
        if (mem_total_kb == 0) {
            if (error) *error = tcp_mem_error;
            return std::nullopt;
        }
        return NetBufferUse{net_buffer_fraction(*memory, default_tcp_mem_high(mem_total_kb, page_size)), true};
    }
    const std::optional<uint64_t> high = parse_tcp_mem_high(text);
    if (!high) {
        if (error) *error = tcp_mem_path + ": not three numbers";
        return std::nullopt;
    }
    return NetBufferUse{net_buffer_fraction(*memory, *high), false};
}

double net_buffer_fraction(const SocketMemory& memory, uint64_t high_pages) {
    const uint64_t used = memory.tcp_pages + memory.udp_pages;
    if (high_pages == 0) return used > 0 ? 1.0 : 0.0;
    return std::clamp(static_cast<double>(used) / static_cast<double>(high_pages), 0.0, 1.0);
}

}  // namespace sara::nodeagent
