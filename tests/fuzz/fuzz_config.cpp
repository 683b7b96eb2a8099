// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the dispatcher config loader: the input is the YAML text of
// /etc/sara/dispatcher.yaml. The loader must never crash, hang or throw, whatever the text
// (deep nesting, alias bombs, binary garbage). Invariants on what it returns are checked with
// __builtin_trap so a violation is a crash libFuzzer keeps. Short inputs also go through the
// scalar parsers (durations, endpoints, MACs) directly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/config/dispatcher_config.hpp"
#include "common/config/yaml_reader.hpp"  // parse_duration
#include "tests/fuzz/config_error_checks.hpp"

namespace {

constexpr const char* file_name = sara::fuzz::kConfigFileName;
using sara::fuzz::check;

void check_errors(const std::vector<sara::ConfigError>& errors) { sara::fuzz::check_config_errors(errors); }

// What a config without errors guarantees to the daemon.
void check_valid(const sara::DispatcherConfig& c) {
    check(!c.vip.empty());
    for (const sara::IpAddress& vip : c.vip.list()) check(!vip.is_unspecified());
    check(!c.nodes.empty() && c.nodes.size() <= 250);
    std::set<int> ids;
    std::set<std::string> names;
    for (const sara::NodeConfig& n : c.nodes) {
        check(n.id >= 1 && n.id <= 250);
        check(ids.insert(n.id).second);
        check(names.insert(n.name).second);
        check(!n.address.is_unspecified() && !c.vip.contains(n.address));
        check(!n.mac.is_multicast() && !n.mac.is_zero());
        check(n.weight >= 1 && n.weight <= 1000);
    }
    check(!c.services.empty());
    for (const sara::Service& s : c.services) {
        check(!s.name.empty() && s.port != 0 && (s.udp || s.tcp));
        check(s.flow_timeout >= std::chrono::seconds(1) && s.flow_timeout <= std::chrono::seconds(3600));
    }
    check(c.queue.count >= 1 && c.queue.first + c.queue.count - 1 <= 65535);
    const sara::AdmissionConfig& a = c.admission;
    check(a.t1 >= 0 && a.t1 <= a.t2 && a.t2 <= a.t3 && a.t3 <= a.capacity && a.capacity > 0 && a.capacity <= 1);
    check(a.alpha >= 0 && a.alpha <= 1);
    check(c.scheduler.window >= 2);
    check(c.limits.max_flows >= c.limits.max_sessions);
    check(c.limits.max_announced_per_session < c.limits.max_flows_per_session);
    if (c.health) check(c.health->listen.port != 0 && c.health->miss_limit >= 1);
    if (c.sync) check(!(c.sync->listen == c.sync->peer));
    if (c.forwarding.mode == sara::ForwardingMode::raw) check(!c.lan_interface.empty());
    check(!c.control.socket.empty() && c.control.socket.front() == '/');
    check(!c.auth.enabled || (!c.auth.key_file.empty() && c.auth.key_file.front() == '/'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (size <= 64) {
        if (const auto d = sara::parse_duration(text)) check(d->count() >= 0);
        if (const auto e = sara::Endpoint::parse(text)) check(e->port != 0 && sara::Endpoint::parse(e->to_string()) == e);
        if (const auto m = sara::MacAddress::parse(text)) check(sara::MacAddress::parse(m->to_string()) == m);
    }

    const sara::ConfigLoad<sara::DispatcherConfig> load = sara::load_dispatcher_config_from_string(text, file_name);
    check_errors(load.errors);
    if (load.ok()) check_valid(load.config);
    return 0;
}
