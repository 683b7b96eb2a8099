// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/gateway_config.hpp"

#include <algorithm>

#include "common/config/config_loader.hpp"
#include "common/config/shared_sections.hpp"
#include "common/config/yaml_reader.hpp"

namespace sara {

namespace {

constexpr size_t kMaxDispatchers = 16;

bool announces_something(const Service& s) {
    return s.protocol == ServiceProtocol::sip || s.protocol == ServiceProtocol::rtsp;
}

// --- one function per section: each field's range and meaning ------------------------------

void read_gateway_services(ConfigErrorList& errors, const Field& field, std::vector<Service>& services) {
    std::vector<Service> read;
    if (!field.present) return;  // the defaults announce SIP and RTSP
    const size_t before = errors.size();
    read_services(errors, field, read);
    if (errors.size() != before || read.empty()) return;
    // Plain tcp/udp services are accepted, so that dispatcher.yaml's list can be copied as it
    // is, but nothing is captured for them: a node's reply on them names no other flow.
    if (std::none_of(read.begin(), read.end(), announces_something)) {
        report(errors, field.mark(), "services: no sip or rtsp service: the gateway would have nothing to announce");
        return;
    }
    services = std::move(read);
}

void read_limits(ConfigErrorList& errors, const Field& field, GatewayLimitsConfig& limits) {
    MapReader map(errors, field,
                  {"max_streams", "max_header_bytes", "max_body_bytes", "snaplen", "capture_buffer_bytes"});
    // max_streams: TCP signalling connections (SIP/TCP, RTSP) buffered at once, 1..1048576,
    // default 4096. A connection beyond it is not inspected until another one closes. Worst
    // case memory: max_streams * (max_header_bytes + max_body_bytes).
    read_integer<uint32_t>(errors, map.get("max_streams"), limits.max_streams, 1, 1 << 20);
    // max_header_bytes: largest SIP/RTSP header block parsed, 512..1048576, default 16384.
    read_integer<uint32_t>(errors, map.get("max_header_bytes"), limits.max_header_bytes, 512, 1 << 20);
    // max_body_bytes: largest SIP/RTSP body (the SDP) parsed, 1024..1048576, default 65536.
    read_integer<uint32_t>(errors, map.get("max_body_bytes"), limits.max_body_bytes, 1024, 1 << 20);
    // snaplen: bytes captured per packet, 1024..262144, default 262144 (GRO can hand the
    // capture packets far above the MTU). A packet cut short is counted and not inspected.
    read_integer<uint32_t>(errors, map.get("snaplen"), limits.snaplen, 1024, 262144);
    // capture_buffer_bytes: the kernel ring the capture reads from, 65536..1073741824 (1 GiB),
    // default 4194304. Packets arriving while it is full are dropped (pcap drops counter).
    read_integer<uint32_t>(errors, map.get("capture_buffer_bytes"), limits.capture_buffer_bytes, 1 << 16, 1 << 30);
}

void read_control(ConfigErrorList& errors, const Field& field, GatewayControlConfig& control) {
    MapReader map(errors, field, {"socket"});
    // socket: the Unix socket `sara-gatewayd status` asks, absolute path of at most 107 bytes
    // (sun_path), default /run/sara/gateway.sock.
    read_absolute_path(errors, map.get("socket"), control.socket, 107);
}

void read_gateway(ConfigErrorList& errors, const YAML::Node& root, GatewayConfig& config) {
    MapReader top(errors, root_field(root),
                  {"gateway_id", "vip", "interface", "dispatchers", "services", "auth", "limits", "control"});
    if (!top.is_map()) return;
    // gateway_id: the announcements' host_id, 251..65535 (above every node id), default 251;
    // each dispatcher lists it in announce.senders.
    read_integer<uint16_t>(errors, top.get("gateway_id"), config.gateway_id, kFirstGatewayId, kMaxGatewayId);
    // vip: the cluster's VIP, or its IPv4 and IPv6 VIPs (dispatcher.yaml vip); packets from
    // them are the nodes' replies (required).
    read_address_pair(errors, top.require("vip"), config.vip);
    // interface: the interface facing the nodes, where their replies arrive (required).
    read_interface_name(errors, top.require("interface"), config.interface);
    // dispatchers: ADDRESS:PORT of each dispatcher's announce.listen, 1..16, unique; every
    // announcement goes to each (both of an HA pair) (required).
    read_endpoint_list(errors, top.require("dispatchers"), config.dispatchers, kMaxDispatchers);
    // services: as in dispatcher.yaml; the sip and rtsp ones are captured and inspected.
    read_gateway_services(errors, top.get("services"), config.services);
    // auth: {key_file: PATH} (default /etc/sara/cluster.key) or none (lab use only).
    read_auth(errors, top.get("auth"), config.auth);
    read_limits(errors, top.get("limits"), config.limits);
    read_control(errors, top.get("control"), config.control);
}

}  // namespace

std::vector<Service> default_gateway_services() {
    const ServiceMap defaults = ServiceMap::defaults();
    std::vector<Service> services;
    // [0] is "other", not a service.
    for (size_t i = 1; i < defaults.size(); ++i) services.push_back(defaults.service(static_cast<uint8_t>(i)));
    return services;
}

ConfigLoad<GatewayConfig> load_gateway_config(const std::string& path) {
    return load_config_file<GatewayConfig>(path, read_gateway);
}

ConfigLoad<GatewayConfig> load_gateway_config_from_string(std::string_view yaml_text, const std::string& file_name) {
    return load_config_text<GatewayConfig>(yaml_text, file_name, read_gateway);
}

}  // namespace sara
