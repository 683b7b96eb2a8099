// SPDX-License-Identifier: GPL-2.0-or-later
// Node setup for direct server return (paper §III-D, DESIGN §2), when node_setup is
// configured, in this order so the node never answers ARP for the VIP:
//   1. with an IPv4 VIP: arp_ignore >= 1 and arp_announce >= 2 on `all` and on the interface
//      (raised only: a stricter value already there is kept); an IPv6 VIP needs none (Linux
//      answers NDP only for the receiving interface's own addresses),
//   2. each VIP on lo (IPv4 /32, IPv6 /128 without DAD),
//   3. per gateway: default route `via GATEWAY dev INTERFACE src VIP` with the VIP of its
//      family (main table, the family's default metric: IPv4 0, IPv6 1024). A default route
//      of that metric in the way is saved and removed, and put back on undo.
// Each change is recorded in the setup record file as it is made (setup_record.hpp); undo()
// reverts exactly the recorded changes in reverse order, leaving alone anything that was
// there before or that someone else changed since. recover() undoes the record an agent that
// did not stop cleanly left behind.
#pragma once

#include <string>
#include <system_error>

#include "common/config/nodeagent_config.hpp"
#include "common/util/log.hpp"
#include "nodeagent/setup/route_netlink.hpp"
#include "nodeagent/setup/setup_record.hpp"

namespace sara::nodeagent {

class NodeSetup {
public:
    // `record_path`: where the record lives. `proc_sys`: normally /proc/sys.
    NodeSetup(const Logger& log, std::string record_path, std::string proc_sys = "/proc/sys");

    // Undoes a record left by an earlier run, if there is one.
    void recover();

    // Sets the node up. On failure, undoes what it did and returns the error.
    [[nodiscard]] std::error_code apply(const NodeSetupConfig& config, std::string* error);

    // Reverts everything apply() recorded; logs what it could not revert. Idempotent.
    void undo();

    bool active() const { return active_; }
    const std::string& record_path() const { return record_path_; }

private:
    std::error_code apply_sysctl(const std::string& path, int minimum, std::string* error);
    std::error_code apply_address(const IpAddress& vip, std::string* error);
    std::error_code apply_route(const IpAddress& gateway, const IpAddress& vip, const std::string& interface,
                                int ifindex, std::string* error);
    void undo_record(const SetupRecord& record);
    void persist();

    const Logger& log_;
    std::string record_path_;
    std::string proc_sys_;
    RouteNetlink netlink_;
    SetupRecord record_;
    bool active_ = false;
};

// The record file for a control socket path: the same name with `.sock` replaced by `.setup`
// (appended if it has no `.sock`).
std::string setup_record_path(const std::string& control_socket);

}  // namespace sara::nodeagent
