// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/setup/setup_record.hpp"

#include <charconv>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {
namespace {

constexpr std::string_view kVersionLine = "sara-nodeagent node-setup 1";

std::optional<int> parse_int(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "ADDRESS/32" (IPv4) or "ADDRESS/128" (IPv6): the host prefix of its family.
std::optional<IpAddress> parse_host_prefix(std::string_view text) {
    const size_t slash = text.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::optional<IpAddress> address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    const std::string_view prefix = text.substr(slash + 1);
    if ((address->is_v4() && prefix != "32") || (address->is_v6() && prefix != "128")) return std::nullopt;
    return address;
}

bool valid_interface(std::string_view name) {
    return !name.empty() && name.size() <= 15 && name.find('/') == std::string_view::npos && name != "." && name != "..";
}

std::string hex(const std::vector<uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::optional<std::vector<uint8_t>> unhex(std::string_view text) {
    if (text.empty() || text.size() % 2 != 0 || text.size() > 2 * 65536) return std::nullopt;
    std::vector<uint8_t> out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        uint8_t byte = 0;
        const auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
        if (ec != std::errc{} || end != text.data() + i + 2) return std::nullopt;
        out.push_back(byte);
    }
    return out;
}

}  // namespace

std::string format_setup_record(const SetupRecord& record) {
    std::string out = std::string(kVersionLine) + "\n";
    for (const SysctlChange& s : record.sysctls)
        out += "sysctl " + s.path + " " + std::to_string(s.old_value) + " " + std::to_string(s.new_value) + "\n";
    for (const AddressChange& a : record.addresses)
        out += "address " + a.interface + " " + a.address.to_string() + (a.address.is_v6() ? "/128\n" : "/32\n");
    for (const RouteChange& r : record.routes)
        out += "route " + r.interface + " " + r.gateway.to_string() + " " + r.source.to_string() + "\n";
    for (const std::vector<uint8_t>& route : record.saved_routes) out += "saved-route " + hex(route) + "\n";
    return out;
}

std::optional<SetupRecord> parse_setup_record(std::string_view text, std::string* error) {
    SetupRecord record;
    bool first = true;
    size_t line_number = 0;
    std::string problem;
    for_each_line(text, [&](std::string_view line) {
        ++line_number;
        if (first) {
            first = false;
            if (line != kVersionLine) problem = "not a node setup record (version line)";
            return problem.empty();
        }
        const std::vector<std::string_view> f = split_fields(line);
        if (f.empty()) return true;
        if (f[0] == "sysctl" && f.size() == 4) {
            const std::optional<int> old_value = parse_int(f[2]);
            const std::optional<int> new_value = parse_int(f[3]);
            if (f[1].starts_with("net/ipv4/conf/") && f[1].find("..") == std::string_view::npos && old_value &&
                new_value) {
                record.sysctls.push_back(SysctlChange{std::string(f[1]), *old_value, *new_value});
                return true;
            }
        } else if (f[0] == "address" && f.size() == 3 && valid_interface(f[1])) {
            if (const std::optional<IpAddress> vip = parse_host_prefix(f[2])) {
                record.addresses.push_back(AddressChange{std::string(f[1]), *vip});
                return true;
            }
        } else if (f[0] == "route" && f.size() == 4 && valid_interface(f[1])) {
            const std::optional<IpAddress> gateway = IpAddress::parse(f[2]);
            const std::optional<IpAddress> source = IpAddress::parse(f[3]);
            if (gateway && source && gateway->family == source->family) {
                record.routes.push_back(RouteChange{std::string(f[1]), *gateway, *source});
                return true;
            }
        } else if (f[0] == "saved-route" && f.size() == 2) {
            if (std::optional<std::vector<uint8_t>> bytes = unhex(f[1])) {
                record.saved_routes.push_back(std::move(*bytes));
                return true;
            }
        }
        problem = "line " + std::to_string(line_number) + " is not understood";
        return false;
    });
    if (first) problem = "empty";
    if (!problem.empty()) {
        if (error) *error = problem;
        return std::nullopt;
    }
    return record;
}

}  // namespace sara::nodeagent
