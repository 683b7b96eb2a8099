// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's configuration (/etc/sara/dispatcher.yaml, DESIGN §12) and its loader.
//
// Where things are: each struct below holds a section's defaults; the matching read_* function
// in dispatcher_config.cpp holds each field's accepted range and meaning, one line per field;
// etc/dispatcher.yaml documents the same for operators. A default-constructed DispatcherConfig
// is the all-defaults config except that it has no VIP and no nodes (both required).
//
// Loading never throws and reports every error it finds (see config_errors.hpp). The config it
// returns is meaningful only when there are no errors. The sections' equality operators let a
// reload diff the running config against the new one (services: same_services()).
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
#include "common/net/mac_address.hpp"
#include "common/net/node_id.hpp"
#include "common/net/port_range.hpp"
#include "common/net/vip_set.hpp"
#include "common/proto/service.hpp"

namespace sara {

enum class ForwardingMode { route, raw };
enum class FastPath { netfilter, bpf };
enum class BpfAttachHook { tc, xdp };
enum class BpfFailure { refuse, netfilter };
enum class DropMode { random, paced };
enum class TcpReject { rst, drop };
enum class SchedulerAlgorithm { shell, round_robin, weighted_round_robin, least_sessions, least_loaded, two_choices };

// The spelling used in the YAML file.
const char* to_string(ForwardingMode mode);
const char* to_string(FastPath fast_path);
const char* to_string(BpfAttachHook hook);
const char* to_string(DropMode mode);
const char* to_string(TcpReject reject);
const char* to_string(SchedulerAlgorithm algorithm);

struct QueueConfig {
    uint16_t first = 0;  // NFQUEUE numbers first .. first+count-1 (--queue-balance)
    uint16_t count = 1;
    uint32_t max_len = 4096;  // kernel queue length per queue
    bool fail_open = false;   // queue full / sarad gone: accept (true) or drop (false)
    friend bool operator==(const QueueConfig&, const QueueConfig&) = default;
};

// forwarding.bpf: the BPF fast path's settings (issue 17; daemon/forward/bpf/README.md).
struct BpfConfig {
    std::string interface;                     // where client traffic arrives; required with fast_path: bpf
    BpfAttachHook hook = BpfAttachHook::tc;    // tc (cls_bpf direct-action) or xdp
    BpfFailure on_failure = BpfFailure::refuse;// the kernel refuses the program: refuse to start, or netfilter
    uint32_t max_flows = 1u << 20;             // flow map entries, 1024..16M
    std::string object;                        // empty: next to sarad, else /usr/lib/sara/sara_fast_path.bpf.o
    // Where `forwarding.fast_path` is written (1-based; 0 = not in the file), so that
    // `--check-config` reports a program object it cannot read at file:line:col.
    int line = 0;
    int column = 0;
    // A reload compares these; a moved line changes nothing.
    friend bool operator==(const BpfConfig& a, const BpfConfig& b) {
        return a.interface == b.interface && a.hook == b.hook && a.on_failure == b.on_failure &&
               a.max_flows == b.max_flows && a.object == b.object;
    }
};

struct ForwardingConfig {
    ForwardingMode mode = ForwardingMode::route;
    // Established media flows and node media ranges: netfilter (conntrack marks and policy
    // routes, the default) or a BPF program on the client interface's ingress (route mode only).
    FastPath fast_path = FastPath::netfilter;
    BpfConfig bpf;
    // Completed media flows (the gateway's announcements) pre-installed as conntrack entries
    // with their node's mark, so their first packet skips the queue. Route mode only.
    bool preinstall = false;
    // How long a session that signalling ended (BYE, TEARDOWN, ...) keeps its media flows for
    // trailing packets before they are released (and their conntrack entries deleted), so that
    // the next call from the same client port is decided afresh. 0..60 s.
    std::chrono::milliseconds media_linger{2000};
    // An RTSP session whose control connection closed without a TEARDOWN waits this long for
    // its client: the client address's next new RTSP connection goes to the session's node (a
    // reconnect's SYN is scheduled before its Session header can be read). 0 = off; 0..600 s.
    std::chrono::milliseconds rtsp_affinity{30'000};
    friend bool operator==(const ForwardingConfig&, const ForwardingConfig&) = default;
};

// `services` entries are common/proto/service.hpp's Service, ready for ServiceMap. In YAML,
// protocol tcp or udp becomes ServiceProtocol::plain with that transport.
// The services used when `services` is absent: ServiceMap::defaults() (sip/udp+tcp/5060 30s,
// rtsp/tcp/554 60s).
std::vector<Service> default_services();

struct NodeConfig {
    NodeId id = kNoNode; // kMinNodeId..kMaxNodeId, the heartbeat host_id and the packet mark
    std::string name;
    IpAddress address;   // the node's real address (not the VIP)
    MacAddress mac;      // static neighbour entry / raw-frame destination
    uint16_t weight = 1; // weighted-round-robin share
    bool drain = false;  // no new sessions (established ones continue); a reload applies a change
    // UDP ports on the VIP whose packets go to this node whatever their source, steered in the
    // kernel (NOTRACK + mark, never queued): the node's media server allocates its RTP/RTCP
    // ports from them. Empty = media follows the session table. No overlap with any other
    // range (of any node) nor with a signalling service's port.
    std::vector<PortRange> media_ports;
    friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// How a node's load vector combines into its load l_j (a weighted sum, DESIGN §7).
struct LoadWeights {
    double cpu = 0.5, memory = 0.1, net = 0.1, io = 0.1, backlog = 0.2;
    friend bool operator==(const LoadWeights&, const LoadWeights&) = default;
};

// Present only if node agents report to this dispatcher; absent = every node is up.
struct HealthConfig {
    Endpoint listen;  // UDP address heartbeats and load vectors arrive on
    std::chrono::milliseconds heartbeat_interval{200};  // d: agents send a heartbeat every d
    uint32_t miss_limit = 3;                              // n: node down after n*d without one
    std::chrono::milliseconds load_interval{500};         // δ: agents send a load vector every δ
    uint32_t recovery_heartbeats = 3;  // hysteresis: consecutive heartbeats before a node is up again
    LoadWeights load_weights;
    friend bool operator==(const HealthConfig&, const HealthConfig&) = default;
};

struct AdmissionConfig {
    bool enabled = true;                        // false: admit every new session (no SA2C)
    std::chrono::milliseconds interval{200};    // t: admission decision period
    double alpha = 0.9;                         // weight of the mean in l_c (eq. 1)
    // With alpha 0.9 a cluster at full load reads l_c = 0.9 (eq. 1): t2 = 0.90 is "full"; the
    // simulator (sim/README.md) measured 0.80/0.90 well above 0.70/0.85 in completed sessions.
    double t1 = 0.80;                           // t1 <= t2 <= t3 <= capacity (eq. 2)
    double t2 = 0.90;
    double t3 = 0.95;
    double capacity = 1.0;
    DropMode drop_mode = DropMode::random;
    std::chrono::milliseconds sip_retry_after = std::chrono::seconds(5);  // Retry-After of the 503 for rejected SIP/UDP
    TcpReject tcp_reject = TcpReject::rst;         // what a rejected new TCP session gets
    friend bool operator==(const AdmissionConfig&, const AdmissionConfig&) = default;
};

struct SchedulerConfig {
    SchedulerAlgorithm algorithm = SchedulerAlgorithm::shell;
    uint32_t window = 4;  // T: load samples in the regression (eq. 5, 6); 4 beat 8 in sara-sim
    friend bool operator==(const SchedulerConfig&, const SchedulerConfig&) = default;
};


// Gateway "expected flow" announcements; absent = no gateway.
struct AnnounceConfig {
    Endpoint listen;
    // The host ids sara-gatewayd instances announce with (gateway.yaml gateway_id); messages
    // from any other id are dropped as unknown_host. Disjoint from node ids.
    std::vector<uint16_t> senders{kFirstGatewayId};
    friend bool operator==(const AnnounceConfig&, const AnnounceConfig&) = default;
};

// One of the other active dispatchers of a mesh (sync.peers; issue 19).
struct SyncPeer {
    uint16_t id = 0;
    Endpoint address;
    friend bool operator==(const SyncPeer&, const SyncPeer&) = default;
};

// State replication: an HA pair (peer, peer_id; keepalived decides who is master) or a mesh
// of active dispatchers (peers; every one carries sessions, docs/architecture.md "Active
// dispatchers"); absent = single dispatcher.
struct SyncConfig {
    Endpoint listen;
    Endpoint peer;
    uint16_t id = 0;        // this dispatcher's host id on the sync channel (required)
    uint16_t peer_id = 0;   // the pair's peer's (required without `peers`, != id)
    std::vector<SyncPeer> peers;  // the mesh's other dispatchers; empty = an HA pair
    bool mesh() const { return !peers.empty(); }
    std::chrono::milliseconds interval{50};             // master → backup updates
    std::chrono::milliseconds snapshot_interval{2000};  // from the end of one full snapshot to the next
    uint32_t snapshot_rate = 100'000;  // sessions + flows a second a snapshot is streamed at
    std::chrono::milliseconds ready_wait{3000};         // see daemon/ha/state_sync.hpp
    // keepalived's notify hook writes the role here, with the identity of the keepalived
    // process that decided it; sarad starts as master only if that process still runs (and,
    // with floating_address, the address is held now). Anything else: backup.
    std::string role_file = "/run/sara-vrrp.state";
    // keepalived's floating address (its virtual_ipaddress). Set: sarad watches it over
    // rtnetlink and is master exactly while this host holds it (the notify hook is a second
    // path, checked against it). Unset: the notify hook alone decides.
    std::optional<IpAddress> floating_address;
    // The master holds the verdict of a packet that gives a new session its node until the
    // backup acknowledged the binding, at most this long (daemon/ha/held_verdicts.hpp);
    // 0 = never held (the old window of up to one interval).
    std::chrono::milliseconds hold_timeout{50};
    friend bool operator==(const SyncConfig&, const SyncConfig&) = default;
};

// The VIPs' route a routing daemon announces while this dispatcher is ready (issue 19;
// daemon/forward/vip_route_announcer.hpp); absent = none (a single dispatcher, or an HA pair
// behind keepalived's floating address).
struct RouteAnnounceConfig {
    uint32_t table = 254;  // main (FRR's `redistribute kernel`), or 1..252 for a daemon importing a table
    friend bool operator==(const RouteAnnounceConfig&, const RouteAnnounceConfig&) = default;
};

struct ControlConfig {
    std::string socket = "/run/sara/sarad.sock";  // saractl's Unix socket
    std::string state_file = "/var/lib/sara/sessions.snapshot";  // session table across a restart
    // Also written every save_interval while running, so a crash (SIGKILL, OOM) loses at most
    // that much; 0 = only at a clean stop.
    std::chrono::milliseconds save_interval{5000};
    friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

struct MetricsConfig {
    Endpoint listen{IpAddress{4, {127, 0, 0, 1}}, 9740};  // Prometheus text over HTTP
    friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

struct LimitsConfig {
    uint32_t max_sessions = 1'000'000;
    uint32_t max_flows = 4'000'000;
    uint32_t max_flows_per_session = 16;
    uint32_t max_announced_per_session = 8;  // announced-but-unseen flows per session
    uint32_t max_header_bytes = 16 * 1024;   // SIP/RTSP header block, bytes
    // All TCP signalling stream buffers together, bytes; over it the oldest partial
    // messages are evicted (docs/architecture.md, "Bounded stream memory").
    uint64_t stream_buffer_bytes = 32ull << 20;
    friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

struct DispatcherConfig {
    VipSet vip;                 // required: an IPv4 VIP, an IPv6 VIP, or both
    std::string lan_interface;  // towards the nodes; empty = the route to each node decides
    QueueConfig queue;
    ForwardingConfig forwarding;
    std::vector<Service> services = default_services();
    std::vector<NodeConfig> nodes;  // required, at least one; ids, names, addresses, MACs unique
    std::optional<HealthConfig> health;
    AdmissionConfig admission;
    SchedulerConfig scheduler;
    AuthConfig auth;
    std::optional<AnnounceConfig> announce;
    std::optional<SyncConfig> sync;
    std::optional<RouteAnnounceConfig> route_announce;
    ControlConfig control;
    MetricsConfig metrics;
    LimitsConfig limits;
};

// Field-by-field equality of two service lists (Service has no operator==).
bool same_services(const std::vector<Service>& a, const std::vector<Service>& b);

// What a load checks. `format`: the file's schema, ranges and consistency. `start`: also
// what this sarad's kernel setup supports (IPv4 node addresses with an IPv4 VIP, an IPv6 VIP
// in route mode on the netfilter fast path only, lan_interface set), so `sarad --check-config` refuses, with file:line:col,
// every file that start (and a reload) would refuse — the same checks as
// validate_kernel_setup_spec, made where the positions are known.
enum class DispatcherChecks { format, start };

// Reads and validates a dispatcher config file; error positions name `path`. sarad's start,
// reload and --check-config use it as is (`start`).
ConfigLoad<DispatcherConfig> load_dispatcher_config(const std::string& path,
                                                    DispatcherChecks checks = DispatcherChecks::start);

// The same for YAML text in memory (tests, fuzzing); errors name `file_name`.
ConfigLoad<DispatcherConfig> load_dispatcher_config_from_string(std::string_view yaml_text,
                                                                const std::string& file_name = "<string>",
                                                                DispatcherChecks checks = DispatcherChecks::format);

}  // namespace sara
