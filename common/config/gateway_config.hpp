// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's configuration (/etc/sara/gateway.yaml, DESIGN §8, §12) and its loader.
//
// Where things are: each struct below holds a section's defaults; the matching read_* function
// in gateway_config.cpp holds each field's accepted range and meaning, one line per field;
// etc/gateway.yaml documents the same for operators. `services`, `dispatchers` and `auth` are
// read exactly as in the other config files (shared_sections.hpp). A default-constructed
// GatewayConfig has no VIP, no interface and no dispatchers (all three required).
//
// Loading never throws and reports every error it finds, each with file:line:col (see
// config_errors.hpp). The config it returns is meaningful only when there are no errors. The
// sections' equality operators let a reload see what changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/auth_config.hpp"
#include "common/config/config_loader.hpp"
#include "common/net/endpoint.hpp"
#include "common/net/ip_address.hpp"
#include "common/net/vip_set.hpp"
#include "common/net/node_id.hpp"  // kFirstGatewayId
#include "common/proto/service.hpp"

namespace sara {


// What bounds the gateway's memory: the TCP streams the outgoing inspector buffers (each at
// most max_header_bytes + max_body_bytes) and the capture's snapshot length and ring buffer.
struct GatewayLimitsConfig {
    uint32_t max_streams = 4096;             // TCP signalling connections buffered at once
    uint32_t max_header_bytes = 16 * 1024;   // SIP/RTSP start line + headers
    uint32_t max_body_bytes = 64 * 1024;     // SIP/RTSP body (SDP)
    uint32_t snaplen = 262144;               // bytes captured per packet
    uint32_t capture_buffer_bytes = 4 << 20; // the kernel's capture ring (pcap_set_buffer_size)
    friend bool operator==(const GatewayLimitsConfig&, const GatewayLimitsConfig&) = default;
};

// The default `services`: ServiceMap::defaults() (sip/udp+tcp/5060, rtsp/tcp/554).
std::vector<Service> default_gateway_services();

// The control socket `sara-gatewayd status` asks for the counters.
struct GatewayControlConfig {
    std::string socket = "/run/sara/gateway.sock";
    friend bool operator==(const GatewayControlConfig&, const GatewayControlConfig&) = default;
};

struct GatewayConfig {
    uint16_t gateway_id = kFirstGatewayId;  // the announcements' host_id, kFirstGatewayId..kMaxGatewayId
    VipSet vip;                              // required: the cluster's VIP(s), as in dispatcher.yaml
    std::string interface;                   // required: faces the nodes (their replies arrive here)
    std::vector<Endpoint> dispatchers;       // required, 1..16, unique: each sarad's announce.listen
    std::vector<Service> services = default_gateway_services();  // at least one sip or rtsp service
    AuthConfig auth;
    GatewayLimitsConfig limits;
    GatewayControlConfig control;
};

// Reads and validates a gateway config file; error positions name `path`.
ConfigLoad<GatewayConfig> load_gateway_config(const std::string& path);

// The same for YAML text in memory (tests, fuzzing); errors name `file_name`.
ConfigLoad<GatewayConfig> load_gateway_config_from_string(std::string_view yaml_text,
                                                          const std::string& file_name = "<string>");

}  // namespace sara
