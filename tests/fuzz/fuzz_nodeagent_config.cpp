// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the node agent config loader: the input is the YAML text of
// /etc/sara/nodeagent.yaml. The loader must never crash, hang or throw, whatever the text;
// what a config without errors promises the agent is checked with __builtin_trap so a
// violation is a crash libFuzzer keeps. Short inputs also go through AppPort::parse directly.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/config/nodeagent_config.hpp"
#include "tests/fuzz/config_error_checks.hpp"

namespace {

constexpr const char* file_name = sara::fuzz::kConfigFileName;
using sara::fuzz::check;

void check_errors(const std::vector<sara::ConfigError>& errors) { sara::fuzz::check_config_errors(errors); }

void check_port(const sara::AppPort& p) { check(p.port != 0 && sara::AppPort::parse(p.to_string()) == p); }

// What a config without errors guarantees to the agent.
void check_valid(const sara::NodeAgentConfig& c) {
    check(c.node_id >= 1 && c.node_id <= 250);
    check(!c.dispatchers.empty() && c.dispatchers.size() <= 16);
    std::set<std::string> seen;
    for (const sara::Endpoint& e : c.dispatchers) {
        check(e.port != 0 && !e.address.is_unspecified());
        check(seen.insert(e.to_string()).second);
    }
    check(c.heartbeat_interval >= std::chrono::milliseconds(10) && c.heartbeat_interval <= std::chrono::seconds(10));
    check(c.load_interval >= std::chrono::milliseconds(10) && c.load_interval <= std::chrono::seconds(60));
    const sara::AppCheckConfig& a = c.application;
    switch (a.kind) {
    case sara::AppCheckKind::listen:
        check_port(a.port);
        check(a.backlog && *a.backlog == a.port);
        break;
    case sara::AppCheckKind::unit:
        check(a.unit.ends_with(".service") && a.unit.front() != '-');
        break;
    case sara::AppCheckKind::command:
        check(!a.command.empty() && a.command.find('\0') == std::string::npos);
        break;
    }
    if (a.backlog) check_port(*a.backlog);
    check(a.fall >= 1 && a.fall <= 100);
    check(c.load.io_saturation >= 1);
    check(c.load.disks.size() <= 64);
    if (c.node_setup) {
        check(!c.node_setup->vip.empty());
        for (const sara::IpAddress& vip : c.node_setup->vip.list()) check(!vip.is_unspecified());
        check(!c.node_setup->interface.empty() && c.node_setup->interface.size() <= 15 &&
              c.node_setup->interface != "lo");
        // Each gateway has a VIP of its family (the route's source) and is not one.
        for (const sara::IpAddress& gateway : c.node_setup->gateway.list())
            check(c.node_setup->vip.for_peer(gateway).family == gateway.family && !c.node_setup->vip.contains(gateway));
    }
    check(!c.auth.enabled || (!c.auth.key_file.empty() && c.auth.key_file.front() == '/'));
    check(!c.control.socket.empty() && c.control.socket.front() == '/' && c.control.socket.size() <= 107);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (size <= 32)
        if (const auto p = sara::AppPort::parse(text)) check_port(*p);
    const sara::ConfigLoad<sara::NodeAgentConfig> load = sara::load_nodeagent_config_from_string(text, file_name);
    check_errors(load.errors);
    if (load.ok()) check_valid(load.config);
    return 0;
}
