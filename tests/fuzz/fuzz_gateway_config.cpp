// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the gateway config loader: the input is the YAML text of
// /etc/sara/gateway.yaml. The loader must never crash, hang or throw, whatever the text; what
// a config without errors promises the gateway is checked with __builtin_trap so a violation
// is a crash libFuzzer keeps.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/config/gateway_config.hpp"
#include "tests/fuzz/config_error_checks.hpp"

namespace {

constexpr const char* file_name = sara::fuzz::kConfigFileName;
using sara::fuzz::check;

void check_errors(const std::vector<sara::ConfigError>& errors) { sara::fuzz::check_config_errors(errors); }

// What a config without errors guarantees to the gateway.
void check_valid(const sara::GatewayConfig& c) {
    check(c.gateway_id >= sara::kFirstGatewayId);
    check(!c.vip.empty());
    for (const sara::IpAddress& vip : c.vip.list()) check(!vip.is_unspecified());
    check(!c.interface.empty() && c.interface.size() <= 15 && c.interface.find('/') == std::string::npos);
    check(!c.dispatchers.empty() && c.dispatchers.size() <= 16);
    std::set<std::string> seen;
    for (const sara::Endpoint& e : c.dispatchers) {
        check(e.port != 0 && !e.address.is_unspecified());
        check(seen.insert(e.to_string()).second);
    }
    bool announces = false;
    std::set<std::string> bindings;
    for (const sara::Service& s : c.services) {
        check(s.port != 0 && (s.udp || s.tcp));
        announces = announces || s.protocol == sara::ServiceProtocol::sip || s.protocol == sara::ServiceProtocol::rtsp;
        if (s.udp) check(bindings.insert("udp/" + std::to_string(s.port)).second);
        if (s.tcp) check(bindings.insert("tcp/" + std::to_string(s.port)).second);
    }
    check(announces);
    check(!c.auth.enabled || (!c.auth.key_file.empty() && c.auth.key_file.front() == '/'));
    const sara::GatewayLimitsConfig& l = c.limits;
    check(l.max_streams >= 1 && l.max_streams <= (1u << 20));
    check(l.max_header_bytes >= 512 && l.max_body_bytes >= 1024);
    check(l.snaplen >= 1024 && l.snaplen <= 262144);
    check(l.capture_buffer_bytes >= (1u << 16) && l.capture_buffer_bytes <= (1u << 30));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const sara::ConfigLoad<sara::GatewayConfig> load = sara::load_gateway_config_from_string(text, file_name);
    check_errors(load.errors);
    if (load.ok()) check_valid(load.config);
    return 0;
}
