// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/nodeagent_config.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "common/config/config_loader.hpp"
#include "common/config/shared_sections.hpp"
#include "common/config/yaml_reader.hpp"

namespace sara {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr size_t kMaxDispatchers = 16;
constexpr size_t kMaxCommandBytes = 4096;
constexpr size_t kMaxUnitNameBytes = 255;  // systemd's UNIT_NAME_MAX - 1
constexpr size_t kMaxDisks = 64;

bool read_app_port(ConfigErrorList& errors, const Field& field, AppPort& out) {
    return read_parsed(errors, field, "tcp/PORT or udp/PORT", "tcp/PORT or udp/PORT with port 1..65535", out);
}

// A systemd service unit: NAME.service, NAME of [A-Za-z0-9:_.@\-], not starting with '-' (it
// is passed to systemctl as an argument, after `--`, but a leading '-' is never a real unit).
bool read_unit_name(ConfigErrorList& errors, const Field& field, std::string& out) {
    std::string name;
    if (!read_string(errors, field, name)) return false;
    constexpr std::string_view suffix = ".service";
    const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
               c == '.' || c == '@' || c == '-' || c == '\\';
    });
    if (!chars_ok || name.size() <= suffix.size() || name.size() > kMaxUnitNameBytes || !name.ends_with(suffix) ||
        name.front() == '-' || name.front() == '.') {
        report(errors, field.mark(), field.path + ": expected a systemd service unit NAME.service, got " + quoted(name));
        return false;
    }
    out = std::move(name);
    return true;
}

bool read_command(ConfigErrorList& errors, const Field& field, std::string& out) {
    std::string command;
    if (!read_string(errors, field, command)) return false;
    if (command.size() > kMaxCommandBytes) {
        report(errors, field.mark(), field.path + ": longer than " + std::to_string(kMaxCommandBytes) + " bytes");
        return false;
    }
    if (command.find('\0') != std::string::npos) {
        report(errors, field.mark(), field.path + ": contains a NUL byte");
        return false;
    }
    if (std::all_of(command.begin(), command.end(), [](char c) { return c == ' ' || c == '\t'; })) {
        report(errors, field.mark(), field.path + ": is blank");
        return false;
    }
    out = std::move(command);
    return true;
}

// A block device name as /proc/diskstats prints it: 1..32 bytes of [A-Za-z0-9._!/-].
bool read_disk_name(ConfigErrorList& errors, const Field& field, std::string& out) {
    std::string name;
    if (!read_string(errors, field, name)) return false;
    const bool valid = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '.' || c == '_' || c == '-' || c == '!' || c == '/';
                       });
    if (!valid) {
        report(errors, field.mark(), field.path + ": " + quoted(name) + " is not a block device name");
        return false;
    }
    out = std::move(name);
    return true;
}

// --- one function per section: each field's range and meaning ------------------------------

void read_application(ConfigErrorList& errors, const Field& field, AppCheckConfig& app) {
    MapReader map(errors, field, {"listen", "unit", "command", "backlog", "fall"});
    if (!map.is_map()) return;
    const Field listen = map.get("listen");
    const Field unit = map.get("unit");
    const Field command = map.get("command");
    // Exactly one check. The second one given (in file order) is the one reported.
    std::vector<const Field*> given;
    for (const Field* f : {&listen, &unit, &command})
        if (f->present) given.push_back(f);
    std::sort(given.begin(), given.end(), [](const Field* a, const Field* b) {
        return a->key_mark.pos < b->key_mark.pos;
    });
    if (given.empty()) {
        report(errors, field.mark(), "application: needs one of listen (tcp/PORT, udp/PORT), unit (NAME.service) "
                                     "or command (a shell command)");
    } else if (given.size() > 1) {
        const std::string first = given[0]->path.substr(given[0]->path.rfind('.') + 1);
        for (size_t i = 1; i < given.size(); ++i)
            report(errors, given[i]->key_mark,
                   given[i]->path + ": give only one of listen, unit, command (" + first + " is given already)");
    } else if (listen.present) {
        // listen: up while a TCP socket listens (or a UDP socket is bound) on this port; its
        // accept queue (receive queue for UDP) is also the load vector's backlog.
        app.kind = AppCheckKind::listen;
        if (read_app_port(errors, listen, app.port)) app.backlog = app.port;
    } else if (unit.present) {
        // unit: up while `systemctl is-active --quiet -- UNIT` exits 0.
        app.kind = AppCheckKind::unit;
        read_unit_name(errors, unit, app.unit);
    } else {
        // command: up while `/bin/sh -c COMMAND` exits 0 within heartbeat_interval.
        app.kind = AppCheckKind::command;
        read_command(errors, command, app.command);
    }
    // backlog: with unit or command, the tcp/PORT or udp/PORT whose queue is reported as
    // backlog; without it the backlog is reported as 0. With listen it is that port already.
    const Field backlog = map.get("backlog");
    if (backlog.present && listen.present)
        report(errors, backlog.key_mark, "application.backlog: only with unit or command (listen's port is the backlog)");
    else if (backlog.present) {
        AppPort port;
        if (read_app_port(errors, backlog, port)) app.backlog = port;
    }
    // fall: consecutive failed checks before the application is reported down, 1..100.
    read_integer<uint32_t>(errors, map.get("fall"), app.fall, 1, 100);
}

void read_load(ConfigErrorList& errors, const Field& field, AgentLoadConfig& load) {
    MapReader map(errors, field, {"io_saturation", "disks"});
    // io_saturation: in-flight I/Os (/proc/diskstats field 12, summed over disks) reported as
    // io = 1.0; fewer scale linearly, more stay 1.0. 1..65535, default 32.
    read_integer<uint32_t>(errors, map.get("io_saturation"), load.io_saturation, 1, 65535);
    // disks: device names to sum, 1..64 of them, unique; default every whole physical disk.
    const Field disks = map.get("disks");
    std::vector<std::string> names;
    if (!read_list(errors, disks, names, read_disk_name)) return;
    if (names.empty()) {
        report(errors, disks.mark(), "load.disks: leave it out for every disk, or name at least one");
        return;
    }
    if (names.size() > kMaxDisks) {
        report(errors, disks.mark(), "load.disks: at most " + std::to_string(kMaxDisks) + " disks");
        return;
    }
    const std::vector<Field> items = list_items(errors, disks);
    for (size_t i = 1; i < names.size(); ++i) {
        if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
            names.begin() + static_cast<std::ptrdiff_t>(i)) {
            report(errors, items[i].mark(), items[i].path + ": " + quoted(names[i]) + " is listed twice");
            return;
        }
    }
    load.disks = std::move(names);
}

void read_node_setup(ConfigErrorList& errors, const Field& field, std::optional<NodeSetupConfig>& out) {
    if (!field.present) return;  // the node is set up by other means
    MapReader map(errors, field, {"vip", "interface", "gateway"});
    if (!map.is_map()) return;
    NodeSetupConfig setup;
    // vip: the cluster's VIP, or its IPv4 and IPv6 VIPs (dispatcher.yaml's vip), required.
    // An IPv4 VIP goes on lo as VIP/32 with ARP off for it; an IPv6 VIP as VIP/128, which
    // Linux never announces on the LAN (NDP answers only for the receiving interface's own
    // addresses), so no sysctl is needed for it.
    const Field vip = map.require("vip");
    const bool vip_ok = read_address_pair(errors, vip, setup.vip);
    // interface: towards the dispatcher and gateway; gets arp_ignore=1, arp_announce=2 (required).
    const Field interface = map.require("interface");
    if (read_interface_name(errors, interface, setup.interface) && setup.interface == "lo")
        report(errors, interface.mark(), "node_setup.interface: must be the LAN interface, not lo");
    // gateway: one address, or an IPv4 and an IPv6 one; each family's default route becomes
    // `via GATEWAY dev INTERFACE src VIP` (that family's VIP), so replies leave from the VIP.
    // Optional: without it the routes are left alone.
    const Field gateway = map.get("gateway");
    VipSet gateways;
    if (gateway.present && read_address_pair(errors, gateway, gateways) && vip_ok) {
        bool ok = true;
        for (const IpAddress& g : gateways.list()) {
            if (setup.vip.contains(g)) {
                report(errors, gateway.mark(), "node_setup.gateway: " + g.to_string() + " is the VIP");
                ok = false;
            } else if (setup.vip.for_peer(g).family == 0) {
                report(errors, gateway.mark(), "node_setup.gateway: " + g.to_string() +
                                                   " has no VIP of its family to be the source of the route");
                ok = false;
            }
        }
        if (ok) setup.gateway = gateways;
    }
    out = setup;
}

void read_control(ConfigErrorList& errors, const Field& field, AgentControlConfig& control) {
    MapReader map(errors, field, {"socket"});
    // socket: the Unix socket `sara-nodeagent drain|undrain|status` talk to, absolute path of
    // at most 107 bytes (sun_path), default /run/sara/nodeagent.sock.
    read_absolute_path(errors, map.get("socket"), control.socket, 107);
}

void read_nodeagent(ConfigErrorList& errors, const YAML::Node& root, NodeAgentConfig& config) {
    MapReader top(errors, root_field(root),
                  {"node_id", "dispatchers", "heartbeat_interval", "load_interval", "application", "load",
                   "node_setup", "auth", "control", "load_weights"});
    if (!top.is_map()) return;
    // load_weights: accepted as a key only to say where it belongs.
    if (const Field weights = top.get("load_weights"); weights.present)
        report(errors, weights.key_mark,
               "load_weights: the weights are the dispatcher's (dispatcher.yaml, health.load_weights); "
               "the node agent sends the five raw values");
    // node_id: this node's id in dispatcher.yaml (nodes[].id), 1..250, the host_id of every
    // message (required).
    read_integer<NodeId>(errors, top.require("node_id"), config.node_id, kMinNodeId, kMaxNodeId);
    // dispatchers: ADDRESS:PORT of each dispatcher's health.listen, 1..16, unique; every
    // heartbeat and load vector goes to each (required).
    read_endpoint_list(errors, top.require("dispatchers"), config.dispatchers, kMaxDispatchers);
    // heartbeat_interval: d, one heartbeat every d, 10ms..10s, default 200ms; must match the
    // dispatcher's health.heartbeat_interval.
    read_duration(errors, top.get("heartbeat_interval"), config.heartbeat_interval, milliseconds(10), seconds(10));
    // load_interval: δ, one load vector every δ, 10ms..60s, default 500ms.
    read_duration(errors, top.get("load_interval"), config.load_interval, milliseconds(10), seconds(60));
    read_application(errors, top.require("application"), config.application);
    read_load(errors, top.get("load"), config.load);
    read_node_setup(errors, top.get("node_setup"), config.node_setup);
    read_auth(errors, top.get("auth"), config.auth);
    read_control(errors, top.get("control"), config.control);
}

}  // namespace

std::optional<AppPort> AppPort::parse(std::string_view text) {
    AppPort out;
    if (text.starts_with("tcp/"))
        out.transport = AppTransport::tcp;
    else if (text.starts_with("udp/"))
        out.transport = AppTransport::udp;
    else
        return std::nullopt;
    const std::string_view digits = text.substr(4);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
        return std::nullopt;
    out.port = static_cast<uint16_t>(port);
    return out;
}

std::string AppPort::to_string() const {
    return std::string(transport == AppTransport::tcp ? "tcp/" : "udp/") + std::to_string(port);
}

const char* to_string(AppCheckKind kind) {
    switch (kind) {
    case AppCheckKind::listen: return "listen";
    case AppCheckKind::unit: return "unit";
    case AppCheckKind::command: return "command";
    }
    return "?";
}

ConfigLoad<NodeAgentConfig> load_nodeagent_config(const std::string& path) {
    return load_config_file<NodeAgentConfig>(path, read_nodeagent);
}

ConfigLoad<NodeAgentConfig> load_nodeagent_config_from_string(std::string_view yaml_text,
                                                              const std::string& file_name) {
    return load_config_text<NodeAgentConfig>(yaml_text, file_name, read_nodeagent);
}

}  // namespace sara
