// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/proto/service.hpp"

#include "common/proto/text.hpp"

namespace sara {

const char* to_string(ServiceProtocol p) {
    switch (p) {
        case ServiceProtocol::sip: return "sip";
        case ServiceProtocol::rtsp: return "rtsp";
        case ServiceProtocol::plain: return "plain";
    }
    return "unknown";
}

std::optional<ServiceProtocol> service_protocol_from_string(std::string_view s) {
    if (s == "sip") return ServiceProtocol::sip;
    if (s == "rtsp") return ServiceProtocol::rtsp;
    if (s == "plain" || s == "tcp" || s == "udp") return ServiceProtocol::plain;
    return std::nullopt;
}

ServiceMap::ServiceMap(std::vector<Service> services, std::chrono::milliseconds other_timeout) {
    Service other;
    other.name = "other";
    other.flow_timeout = other_timeout;
    services_.push_back(other);
    // At most 255 services: the index must fit in a byte.
    for (auto& s : services)
        if (services_.size() < 256) services_.push_back(std::move(s));
}

ServiceMap ServiceMap::defaults() {
    using std::chrono::seconds;
    return ServiceMap({
        Service{"sip", ServiceProtocol::sip, true, true, 5060, seconds(30)},
        Service{"rtsp", ServiceProtocol::rtsp, false, true, 554, seconds(60)},
    });
}

std::optional<Service> ServiceMap::parse_spec(std::string_view spec) {
    std::string_view rest = spec;
    const auto protocol = service_protocol_from_string(text::split_token(rest, '/'));
    const std::string_view transport = text::split_token(rest, '/');
    const auto port = text::parse_port(rest);
    if (!protocol || !port || (transport != "udp" && transport != "tcp")) return std::nullopt;
    Service s;
    s.name = std::string(spec);
    s.protocol = *protocol;
    s.udp = transport == "udp";
    s.tcp = transport == "tcp";
    s.port = *port;
    s.flow_timeout = *protocol == ServiceProtocol::rtsp ? std::chrono::seconds(60) : std::chrono::seconds(30);
    return s;
}

uint8_t ServiceMap::match(IpProto proto, uint16_t port) const {
    for (size_t i = 1; i < services_.size(); ++i) {
        const Service& s = services_[i];
        if (s.port == port && (proto == IpProto::udp ? s.udp : s.tcp)) return static_cast<uint8_t>(i);
    }
    return kOther;
}

bool ServiceMap::is_signalling(IpProto proto, uint16_t port) const {
    const ServiceProtocol protocol = services_[match(proto, port)].protocol;
    // RTSP's RTP over UDP is media; SIP is the only signalling carried in UDP datagrams.
    return proto == IpProto::udp ? protocol == ServiceProtocol::sip : protocol != ServiceProtocol::plain;
}

std::vector<std::chrono::milliseconds> ServiceMap::timeouts() const {
    std::vector<std::chrono::milliseconds> t;
    for (const auto& s : services_) t.push_back(s.flow_timeout);
    return t;
}

}  // namespace sara
