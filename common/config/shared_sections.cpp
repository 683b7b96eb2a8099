// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/shared_sections.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

namespace sara {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A reader's result for a field that may be absent: absent counts as fine (the default stays).
template <class Read>
bool optional_ok(const Field& field, Read read) {
    const bool ok = read();
    return ok || !field.present;
}

// How a `services` entry is written: protocol tcp and udp are both ServiceProtocol::plain.
enum class ProtocolName { sip, rtsp, tcp, udp };
enum class Transport { udp, tcp };

// A service's flow timeout when it does not give one.
milliseconds default_flow_timeout(ProtocolName protocol) {
    return protocol == ProtocolName::rtsp || protocol == ProtocolName::tcp ? seconds(60) : seconds(30);
}

const char* transport_name(Transport transport) { return transport == Transport::udp ? "udp" : "tcp"; }

const char* protocol_name(ProtocolName protocol) {
    switch (protocol) {
    case ProtocolName::sip: return "sip";
    case ProtocolName::rtsp: return "rtsp";
    case ProtocolName::tcp: return "tcp";
    case ProtocolName::udp: return "udp";
    }
    return "?";
}

bool read_transport(ConfigErrorList& errors, const Field& field, Transport& out) {
    return read_enum<Transport>(errors, field, out, {{"udp", Transport::udp}, {"tcp", Transport::tcp}});
}

// What is wrong with a service's transport list, or "" if nothing. `protocol` may be null
// (not known because it was invalid).
std::string transport_problem(const std::vector<Transport>& transports, const ProtocolName* protocol) {
    if (transports.empty()) return "must name udp, tcp or both";
    if (transports.size() > 2) return "at most udp and tcp";
    if (transports.size() == 2 && transports[0] == transports[1])
        return std::string("lists ") + transport_name(transports[0]) + " twice";
    if (protocol != nullptr && *protocol != ProtocolName::sip) {
        const Transport only = *protocol == ProtocolName::udp ? Transport::udp : Transport::tcp;
        if (transports.size() != 1 || transports[0] != only)
            return std::string(protocol_name(*protocol)) + " runs over " + transport_name(only) + " only";
    }
    return "";
}

// One `services` item. Returns false if anything in it is invalid. The name, transport and
// port fields are handed back for the uniqueness checks across items.
bool read_service(ConfigErrorList& errors, const Field& item, Service& service, Field& name_field,
                  Field& port_field) {
    MapReader map(errors, item, {"name", "protocol", "transport", "port", "flow_timeout"});
    if (!map.is_map()) return false;
    name_field = map.require("name");
    const Field protocol_field = map.require("protocol");
    const Field transport_field = map.get("transport");
    port_field = map.require("port");
    const Field flow_timeout = map.get("flow_timeout");

    // name: unique, used in logs and metrics.
    bool ok = read_name(errors, name_field, service.name);
    // protocol: what sarad parses to group flows into sessions (sip: Call-ID, rtsp: Session);
    // tcp/udp: no parsing, a session is one flow.
    ProtocolName protocol = ProtocolName::tcp;
    const bool protocol_ok = read_enum<ProtocolName>(errors, protocol_field, protocol,
                                                     {{"sip", ProtocolName::sip},
                                                      {"rtsp", ProtocolName::rtsp},
                                                      {"tcp", ProtocolName::tcp},
                                                      {"udp", ProtocolName::udp}});
    ok = protocol_ok && ok;
    if (protocol_ok) {
        service.protocol = protocol == ProtocolName::sip    ? ServiceProtocol::sip
                           : protocol == ProtocolName::rtsp ? ServiceProtocol::rtsp
                                                            : ServiceProtocol::plain;
        // Default transports: sip both; rtsp and tcp tcp; udp udp.
        service.udp = protocol == ProtocolName::sip || protocol == ProtocolName::udp;
        service.tcp = protocol != ProtocolName::udp;
    }
    // transport: udp, tcp or [udp, tcp], as allowed by the protocol.
    if (transport_field.present) {
        std::vector<Transport> transports;
        if (read_list(errors, transport_field, transports, read_transport, /*allow_single=*/true)) {
            const std::string problem = transport_problem(transports, protocol_ok ? &protocol : nullptr);
            if (problem.empty()) {
                service.udp = std::find(transports.begin(), transports.end(), Transport::udp) != transports.end();
                service.tcp = std::find(transports.begin(), transports.end(), Transport::tcp) != transports.end();
            } else {
                report(errors, transport_field.mark(), transport_field.path + ": " + problem);
                ok = false;
            }
        } else {
            ok = false;
        }
        if (!ok) service.udp = service.tcp = false;  // unknown: no uniqueness checks on them
    }
    // port: the VIP's port for this service, 1..65535.
    ok = read_port(errors, port_field, service.port) && ok;
    // flow_timeout: a flow is inactive after this long without packets, 1s..3600s;
    // default sip and udp 30s, rtsp and tcp 60s (the paper uses 10..60s).
    if (protocol_ok) service.flow_timeout = default_flow_timeout(protocol);
    ok = optional_ok(flow_timeout, [&] {
             return read_duration(errors, flow_timeout, service.flow_timeout, seconds(1), seconds(3600));
         }) &&
         ok;
    return ok;
}

}  // namespace

void read_services(ConfigErrorList& errors, const Field& field, std::vector<Service>& out) {
    if (!field.present) return;  // keep the caller's defaults
    const std::vector<Field> items = list_items(errors, field);
    if (!field.value.IsSequence()) return;
    if (items.empty()) {
        report(errors, field.mark(), "services: needs at least one service (leave it out for the defaults)");
        return;
    }
    std::vector<Service> services;
    std::unordered_map<std::string, int> name_lines;
    std::map<std::pair<Transport, uint16_t>, int> binding_lines;
    bool ok = true;
    for (const Field& item : items) {
        if (errors.full()) return;  // nothing more would be reported (alias amplification)
        Service service;
        Field name;
        Field port;
        ok = read_service(errors, item, service, name, port) && ok;
        if (!service.name.empty()) {
            const auto [seen, inserted] = name_lines.try_emplace(service.name, name.mark().line + 1);
            if (!inserted) {
                report(errors, name.mark(), name.path + ": service name '" + service.name +
                                                "' is already used at line " + std::to_string(seen->second));
                ok = false;
            }
        }
        // Checked whenever port and transports are valid, even if other fields are not.
        std::vector<Transport> transports;
        if (service.udp) transports.push_back(Transport::udp);
        if (service.tcp) transports.push_back(Transport::tcp);
        if (service.port != 0) {
            for (Transport t : transports) {
                const auto [seen, inserted] = binding_lines.try_emplace({t, service.port}, port.mark().line + 1);
                if (!inserted) {
                    report(errors, port.mark(), port.path + ": " + transport_name(t) + "/" +
                                                    std::to_string(service.port) +
                                                    " already belongs to the service at line " +
                                                    std::to_string(seen->second));
                    ok = false;
                }
            }
        }
        services.push_back(std::move(service));
    }
    if (ok) out = std::move(services);
}

// Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool read_interface_name(ConfigErrorList& errors, const Field& field, std::string& out) {
    std::string name;
    if (!read_string(errors, field, name)) return false;
    const bool valid = name.size() <= 15 && name != "." && name != ".." &&
                       std::none_of(name.begin(), name.end(), [](char c) {
                           return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                                  c == '\v' || c == '\f' || c == '\0';
                       });
    if (!valid) {
        report(errors, field.mark(), field.path + ": " + quoted(name) +
                                         " is not a network interface name (1..15 bytes, no '/', ':' or spaces)");
        return false;
    }
    out = std::move(name);
    return true;
}

void read_endpoint_list(ConfigErrorList& errors, const Field& field, std::vector<Endpoint>& out, size_t max_count) {
    if (!field.present) return;
    std::vector<Endpoint> endpoints;
    std::vector<Field> items = list_items(errors, field);
    if (!field.value.IsSequence()) return;
    if (items.empty()) {
        report(errors, field.mark(), field.path + ": needs at least one ADDRESS:PORT");
        return;
    }
    if (items.size() > max_count) {
        report(errors, items[max_count].mark(),
               field.path + ": at most " + std::to_string(max_count) + " dispatchers");
        return;
    }
    bool ok = true;
    std::map<std::string, int> first_line;
    for (const Field& item : items) {
        Endpoint endpoint;
        if (!read_endpoint(errors, item, endpoint)) {
            ok = false;
            continue;
        }
        if (endpoint.address.is_unspecified()) {
            report(errors, item.mark(), item.path + ": " + endpoint.address.to_string() + " is unspecified");
            ok = false;
            continue;
        }
        const auto [seen, inserted] = first_line.try_emplace(endpoint.to_string(), item.mark().line + 1);
        if (!inserted) {
            report(errors, item.mark(), item.path + ": " + endpoint.to_string() + " is listed twice (first at line " +
                                            std::to_string(seen->second) + ")");
            ok = false;
            continue;
        }
        endpoints.push_back(endpoint);
    }
    if (ok) out = std::move(endpoints);
}

void read_auth(ConfigErrorList& errors, const Field& field, AuthConfig& auth) {
    if (!field.present) return;
    // `auth: none` turns message authentication off (lab use only; each daemon warns).
    if (field.value.IsScalar()) {
        if (field.value.Scalar() == "none") {
            auth.enabled = false;
            auth.key_file.clear();
        } else {
            report(errors, field.mark(), "auth: expected 'none' or {key_file: PATH}, got " + quoted(field.value.Scalar()));
        }
        return;
    }
    MapReader map(errors, field, {"key_file"});
    // key_file: the shared cluster key (HMAC-SHA256), absolute path, default /etc/sara/cluster.key.
    const Field key_file = map.require("key_file");
    if (read_absolute_path(errors, key_file, auth.key_file)) {
        auth.key_file_line = int(key_file.mark().line) + 1;
        auth.key_file_column = int(key_file.mark().column) + 1;
    }
}

bool read_address_pair(ConfigErrorList& errors, const Field& field, VipSet& out) {
    if (!field.present) return false;  // top level reports it as missing
    if (field.value.IsMap()) {
        report(errors, field.mark(), field.path + ": expected an IP address or a list of an IPv4 and an IPv6 address, got a mapping");
        return false;
    }
    const std::vector<Field> items = field.value.IsSequence() ? list_items(errors, field) : std::vector<Field>{field};
    if (items.empty()) {
        report(errors, field.mark(), field.path + ": needs an address");
        return false;
    }
    if (items.size() > 2) {
        report(errors, items[2].mark(), field.path + ": at most two addresses, one IPv4 and one IPv6");
        return false;
    }
    VipSet pair;
    bool ok = true;
    for (const Field& item : items) {
        IpAddress address;
        if (!read_ip(errors, item, address)) {
            ok = false;
        } else if (address.is_unspecified()) {
            report(errors, item.mark(), field.path + ": " + address.to_string() + " is unspecified");
            ok = false;
        } else if (const IpAddress& first = pair.for_peer(address); first.family) {
            report(errors, item.mark(), field.path + ": " + address.to_string() + " is of the same family as " +
                                            first.to_string() + "; give one IPv4 and one IPv6 address");
            ok = false;
        } else {
            pair.add(address);
        }
    }
    if (ok) out = pair;
    return ok;
}

}  // namespace sara
