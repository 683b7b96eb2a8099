// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/role_evidence.hpp"

#include "common/proto/text.hpp"
#include "common/util/proc_file.hpp"

namespace sara {

std::optional<RoleRecord> parse_role_record(std::string_view text) {
    const std::string_view line = text.substr(0, text.find('\n'));
    if (!whitespace_field(line, 4).empty()) return std::nullopt;
    RoleRecord r;
    const std::string_view role = whitespace_field(line, 0);
    if (role == "master") r.role = HaRole::master;
    else if (role == "backup") r.role = HaRole::backup;
    else if (role == "fault") r.role = HaRole::fault;
    else return std::nullopt;
    const auto pid = text::parse_decimal(whitespace_field(line, 1), INT32_MAX);
    const auto ticks = text::parse_decimal(whitespace_field(line, 2), UINT64_MAX / 2);
    r.boot_id = std::string(whitespace_field(line, 3));
    if (!pid || *pid == 0 || !ticks || r.boot_id.empty()) return std::nullopt;
    r.pid = int(*pid);
    r.start_ticks = *ticks;
    return r;
}

std::optional<uint64_t> proc_stat_start_ticks(std::string_view stat) {
    return text::parse_decimal(proc_stat_field(stat, 19), UINT64_MAX / 2);  // field 22
}

std::string_view proc_stat_comm(std::string_view stat) {
    const size_t open = stat.find('(');
    const size_t close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) return {};
    return stat.substr(open + 1, close - open - 1);
}

bool record_writer_alive(const RoleRecord& record) {
    const std::string boot = std::string(text::trim(read_small_file("/proc/sys/kernel/random/boot_id")));
    if (boot.empty() || boot != record.boot_id) return false;
    const std::string stat = read_small_file("/proc/" + std::to_string(record.pid) + "/stat");
    return proc_stat_comm(stat) == "keepalived" && proc_stat_start_ticks(stat) == record.start_ticks;
}

HaRole start_role(const StartEvidence& e) {
    if (!e.record || !e.writer_alive) return HaRole::backup;
    if (e.record->role == HaRole::master) return e.address_held.value_or(true) ? HaRole::master : HaRole::backup;
    return e.record->role;
}

}  // namespace sara
