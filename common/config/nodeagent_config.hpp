// SPDX-License-Identifier: GPL-2.0-or-later
// The node agent's configuration (/etc/sara/nodeagent.yaml, DESIGN §12) and its loader.
//
// Where things are: each struct below holds a section's defaults; the matching read_* function
// in nodeagent_config.cpp holds each field's accepted range and meaning, one line per field;
// etc/nodeagent.yaml documents the same for operators. A default-constructed NodeAgentConfig
// has no node id, no dispatchers and no application check (all three required).
//
// Load weights are deliberately not here: how the five load values combine into l_j is the
// dispatcher's decision (dispatcher.yaml, health.load_weights); a `load_weights` key in this
// file is an error that says so.
//
// Loading never throws and reports every error it finds, each with file:line:col (see
// config_errors.hpp). The config it returns is meaningful only when there are no errors. The
// sections' equality operators let a reload see what changed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/auth_config.hpp"
#include "common/config/config_loader.hpp"
#include "common/net/endpoint.hpp"
#include "common/net/ip_address.hpp"
#include "common/net/node_id.hpp"
#include "common/net/vip_set.hpp"

namespace sara {

enum class AppTransport { tcp, udp };

// `tcp/5060` or `udp/5060`: a port the application serves on, in the agent's own network
// namespace.
struct AppPort {
    AppTransport transport = AppTransport::tcp;
    uint16_t port = 0;

    static std::optional<AppPort> parse(std::string_view text);
    std::string to_string() const;
    friend bool operator==(const AppPort&, const AppPort&) = default;
};

// How the agent decides "application up" (heartbeat flag 0) or "down" (flag 1).
enum class AppCheckKind {
    listen,   // a socket on `port`: TCP in LISTEN, or a bound UDP socket (kernel sock_diag)
    unit,     // `systemctl is-active --quiet -- UNIT` exits 0
    command,  // `/bin/sh -c COMMAND` exits 0
};
const char* to_string(AppCheckKind kind);

struct AppCheckConfig {
    AppCheckKind kind = AppCheckKind::listen;
    AppPort port;          // kind listen
    std::string unit;      // kind unit: NAME.service
    std::string command;   // kind command: a shell command line
    // The socket whose queue is the load vector's `backlog`: `port` for kind listen; for unit
    // and command the optional `backlog` key (none = backlog reported as 0).
    std::optional<AppPort> backlog;
    uint32_t fall = 1;  // consecutive failed checks before the agent reports the application down
    friend bool operator==(const AppCheckConfig&, const AppCheckConfig&) = default;
};

struct AgentLoadConfig {
    // In-flight block I/Os (summed over `disks`) that count as a fully loaded I/O queue.
    uint32_t io_saturation = 32;
    // Block devices whose in-flight I/Os are summed (names as in /proc/diskstats). Empty =
    // every whole physical disk (an entry of /sys/block with a `device` link: not loop, ram,
    // zram or device-mapper devices, which would count the same I/O twice).
    std::vector<std::string> disks;
    friend bool operator==(const AgentLoadConfig&, const AgentLoadConfig&) = default;
};

// The node side of direct server return (paper §III-D): the VIP on the loopback with ARP for
// it disabled (an IPv6 VIP needs nothing for that), and replies routed to the gateway from the VIP.
struct NodeSetupConfig {
    VipSet vip;                       // one VIP, or an IPv4 and an IPv6 one
    std::string interface;            // the interface towards the dispatcher and the gateway
    VipSet gateway;                   // per family; unset = the agent leaves that family's routes alone
    friend bool operator==(const NodeSetupConfig&, const NodeSetupConfig&) = default;
};


struct AgentControlConfig {
    std::string socket = "/run/sara/nodeagent.sock";  // drain, undrain, status
    friend bool operator==(const AgentControlConfig&, const AgentControlConfig&) = default;
};

struct NodeAgentConfig {
    NodeId node_id = kNoNode;             // required, kMinNodeId..kMaxNodeId: the messages' host_id
    std::vector<Endpoint> dispatchers;    // required, 1..16, unique
    std::chrono::milliseconds heartbeat_interval{200};  // d
    std::chrono::milliseconds load_interval{500};       // δ
    AppCheckConfig application;           // required
    AgentLoadConfig load;
    std::optional<NodeSetupConfig> node_setup;
    AuthConfig auth;
    AgentControlConfig control;
};

// Reads and validates a node agent config file; error positions name `path`.
ConfigLoad<NodeAgentConfig> load_nodeagent_config(const std::string& path);

// The same for YAML text in memory (tests, fuzzing); errors name `file_name`.
ConfigLoad<NodeAgentConfig> load_nodeagent_config_from_string(std::string_view yaml_text,
                                                              const std::string& file_name = "<string>");

}  // namespace sara
