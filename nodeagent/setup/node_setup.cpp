// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/setup/node_setup.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/util/errno_text.hpp"
#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {
namespace {

std::optional<int> read_int_file(const std::string& path, std::string* error) {
    std::string text;
    if (!read_text_file(path, text, error)) return std::nullopt;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    int value = 0;
    if (std::sscanf(text.c_str(), "%d", &value) != 1) {
        if (error) *error = path + ": not a number";
        return std::nullopt;
    }
    return value;
}

std::error_code write_int_file(const std::string& path, int value, std::string* error) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (error) *error = path + ": " + errno_text(e);
        return errno_code(e);
    }
    const std::string text = std::to_string(value) + "\n";
    const ssize_t n = ::write(fd, text.data(), text.size());
    const int e = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size())) {
        if (error) *error = path + ": write: " + errno_text(n < 0 ? e : EIO);
        return errno_code(n < 0 ? e : EIO);
    }
    return {};
}

uint8_t host_prefix(const IpAddress& a) { return a.is_v6() ? 128 : 32; }

}  // namespace

std::string setup_record_path(const std::string& control_socket) {
    constexpr std::string_view suffix = ".sock";
    if (control_socket.ends_with(suffix)) return control_socket.substr(0, control_socket.size() - suffix.size()) + ".setup";
    return control_socket + ".setup";
}

NodeSetup::NodeSetup(const Logger& log, std::string record_path, std::string proc_sys)
    : log_(log), record_path_(std::move(record_path)), proc_sys_(std::move(proc_sys)) {}

void NodeSetup::persist() {
    // Written to a temporary file and renamed, so a crash never leaves half a record.
    const std::string tmp = record_path_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << format_setup_record(record_);
        if (!out.flush()) {
            log_.warning("node setup: cannot write " + tmp + "; a crash now would leave the setup in place");
            return;
        }
    }
    if (std::rename(tmp.c_str(), record_path_.c_str()) != 0)
        log_.warning("node setup: cannot rename " + tmp + " to " + record_path_ + ": " + errno_text(errno));
}

void NodeSetup::recover() {
    std::string text, error;
    if (!read_text_file(record_path_, text, &error)) return;  // no record: nothing left behind
    const std::optional<SetupRecord> record = parse_setup_record(text, &error);
    if (!record) {
        log_.warning("node setup: " + record_path_ + ": " + error + "; ignored and removed");
        std::remove(record_path_.c_str());
        return;
    }
    log_.notice("node setup: undoing what an earlier run left (" + record_path_ + ")");
    undo_record(*record);
    std::remove(record_path_.c_str());
}

std::error_code NodeSetup::apply(const NodeSetupConfig& config, std::string* error) {
    if (active_) undo();
    record_ = SetupRecord{};
    active_ = true;
    auto fail = [&](std::error_code ec) {
        undo();
        return ec;
    };
    const int ifindex = static_cast<int>(if_nametoindex(config.interface.c_str()));
    if (ifindex == 0) {
        const int e = errno;
        if (error) *error = "node setup: interface " + config.interface + ": " + errno_text(e);
        return fail(errno_code(e));
    }
    if (std::error_code ec = netlink_.open(error)) return fail(ec);
    // 1. ARP first: once an IPv4 VIP is on lo, the node must already ignore ARP requests for
    // it. An IPv6 VIP on lo needs nothing: Linux answers a Neighbor Solicitation only for the
    // receiving interface's own addresses.
    if (config.vip.has_v4()) {
        for (const std::string& scope : {std::string("all"), config.interface}) {
            if (std::error_code ec = apply_sysctl("net/ipv4/conf/" + scope + "/arp_ignore", 1, error)) return fail(ec);
            if (std::error_code ec = apply_sysctl("net/ipv4/conf/" + scope + "/arp_announce", 2, error))
                return fail(ec);
        }
    }
    // 2. The VIPs.
    for (const IpAddress& vip : config.vip.list())
        if (std::error_code ec = apply_address(vip, error)) return fail(ec);
    // 3. Replies leave from the VIP of their family through that family's gateway.
    for (const IpAddress& gateway : config.gateway.list())
        if (std::error_code ec = apply_route(gateway, config.vip.for_peer(gateway), config.interface, ifindex, error))
            return fail(ec);
    persist();
    std::string summary = "node setup: VIP " + config.vip.to_string() + " on lo";
    if (config.vip.has_v4()) summary += ", ARP off for it on " + config.interface;
    for (const IpAddress& gateway : config.gateway.list())
        summary += ", default route via " + gateway.to_string() + " src " + config.vip.for_peer(gateway).to_string();
    log_.notice(summary);
    return {};
}

std::error_code NodeSetup::apply_sysctl(const std::string& path, int minimum, std::string* error) {
    const std::string full = proc_sys_ + "/" + path;
    const std::optional<int> current = read_int_file(full, error);
    if (!current) return errno_code(ENOENT);
    if (*current >= minimum) return {};  // already as strict or stricter: not ours to change
    if (std::error_code ec = write_int_file(full, minimum, error)) return ec;
    record_.sysctls.push_back(SysctlChange{path, *current, minimum});
    persist();
    return {};
}

std::error_code NodeSetup::apply_address(const IpAddress& vip, std::string* error) {
    const int lo = static_cast<int>(if_nametoindex("lo"));
    std::string text;
    const std::error_code ec = netlink_.add_address(lo, vip, host_prefix(vip), &text);
    if (ec.value() == EEXIST) {
        log_.info("node setup: " + vip.to_string() + " is on lo already; it stays there on stop");
        return {};
    }
    if (ec) {
        if (error) *error = "node setup: " + text;
        return ec;
    }
    record_.addresses.push_back(AddressChange{"lo", vip});
    persist();
    return {};
}

std::error_code NodeSetup::apply_route(const IpAddress& gateway, const IpAddress& vip, const std::string& interface,
                                       int ifindex, std::string* error) {
    // The metric the kernel gives a route that names none: IPv4 0, IPv6 1024.
    const uint32_t default_metric = gateway.is_v6() ? 1024 : 0;
    std::string text;
    std::error_code ec = netlink_.add_default_route(gateway, ifindex, vip, &text);
    if (ec.value() == EEXIST) {
        // A default route of that metric is in the way: unless it is ours already, save it
        // and take its place.
        std::vector<DefaultRoute> routes;
        if (std::error_code dump_ec = netlink_.dump_default_routes(routes, gateway, &text)) {
            if (error) *error = "node setup: " + text;
            return dump_ec;
        }
        std::vector<DefaultRoute> in_the_way;
        for (DefaultRoute& r : routes) {
            if (r.priority != default_metric || r.tos != 0) continue;
            if (r.gateway == gateway && r.oif == ifindex && r.prefsrc == vip) {
                log_.info("node setup: the default route via " + gateway.to_string() + " src " + vip.to_string() +
                          " is there already; it stays there on stop");
                return {};
            }
            in_the_way.push_back(std::move(r));
        }
        for (const DefaultRoute& r : in_the_way) {
            if (std::error_code del_ec = netlink_.delete_dumped_route(r.message, &text)) {
                if (error) *error = "node setup: " + text;
                return del_ec;
            }
            record_.saved_routes.push_back(r.message);
            persist();
            log_.notice("node setup: replaced the default route via " +
                        (r.gateway.family ? r.gateway.to_string() : std::string("(none)")) + " dev " +
                        interface_name(r.oif) + "; it comes back on stop");
        }
        ec = netlink_.add_default_route(gateway, ifindex, vip, &text);
    }
    if (ec) {
        if (error) *error = "node setup: " + text;
        return ec;
    }
    record_.routes.push_back(RouteChange{interface, gateway, vip});
    persist();
    return {};
}

void NodeSetup::undo() {
    if (!active_) return;
    undo_record(record_);
    record_ = SetupRecord{};
    active_ = false;
    std::remove(record_path_.c_str());
}

void NodeSetup::undo_record(const SetupRecord& record) {
    if (record.empty()) return;
    std::string error;
    if (netlink_.open(&error)) {
        log_.error("node setup: cannot undo: " + error);
        return;
    }
    for (auto it = record.routes.rbegin(); it != record.routes.rend(); ++it) {
        const int ifindex = static_cast<int>(if_nametoindex(it->interface.c_str()));
        if (ifindex != 0 && netlink_.delete_default_route(it->gateway, ifindex, it->source, &error))
            log_.error("node setup: undo: " + error);
    }
    for (const std::vector<uint8_t>& saved : record.saved_routes)
        if (netlink_.restore_dumped_route(saved, &error)) log_.error("node setup: undo: " + error);
    for (auto it = record.addresses.rbegin(); it != record.addresses.rend(); ++it) {
        const int ifindex = static_cast<int>(if_nametoindex(it->interface.c_str()));
        if (ifindex != 0 && netlink_.delete_address(ifindex, it->address, host_prefix(it->address), &error))
            log_.error("node setup: undo: " + error);
    }
    for (auto it = record.sysctls.rbegin(); it != record.sysctls.rend(); ++it) {
        const std::string full = proc_sys_ + "/" + it->path;
        const std::optional<int> current = read_int_file(full, &error);
        if (!current) continue;  // the interface is gone, and its settings with it
        if (*current != it->new_value) {
            log_.notice("node setup: " + it->path + " was changed to " + std::to_string(*current) +
                        " by someone else; left as it is");
            continue;
        }
        if (write_int_file(full, it->old_value, &error)) log_.error("node setup: undo: " + error);
    }
    log_.notice("node setup: undone");
}

}  // namespace sara::nodeagent
