// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/dispatcher_config.hpp"

#include "common/config/config_loader.hpp"
#include "common/config/shared_sections.hpp"
#include "common/config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>
#include <utility>

namespace sara {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char* to_string(ForwardingMode mode) { return mode == ForwardingMode::raw ? "raw" : "route"; }
const char* to_string(FastPath fast_path) { return fast_path == FastPath::bpf ? "bpf" : "netfilter"; }
const char* to_string(BpfAttachHook hook) { return hook == BpfAttachHook::xdp ? "xdp" : "tc"; }
const char* to_string(DropMode mode) { return mode == DropMode::paced ? "paced" : "random"; }
const char* to_string(TcpReject reject) { return reject == TcpReject::drop ? "drop" : "rst"; }

const char* to_string(SchedulerAlgorithm algorithm) {
    switch (algorithm) {
    case SchedulerAlgorithm::shell: return "shell";
    case SchedulerAlgorithm::round_robin: return "round-robin";
    case SchedulerAlgorithm::weighted_round_robin: return "weighted-round-robin";
    case SchedulerAlgorithm::least_sessions: return "least-sessions";
    case SchedulerAlgorithm::least_loaded: return "least-loaded";
    case SchedulerAlgorithm::two_choices: return "two-choices";
    }
    return "?";
}

std::vector<Service> default_services() {
    const ServiceMap defaults = ServiceMap::defaults();
    std::vector<Service> services;
    for (size_t i = 1; i < defaults.size(); ++i) services.push_back(defaults.service(i));  // [0] is "other"
    return services;
}

bool same_services(const std::vector<Service>& a, const std::vector<Service>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Service& x, const Service& y) {
        return x.name == y.name && x.protocol == y.protocol && x.udp == y.udp && x.tcp == y.tcp &&
               x.port == y.port && x.flow_timeout == y.flow_timeout;
    });
}

namespace {

std::string show(double value) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

std::string show(const Field& field, double value) {
    return show(value) + (field.present ? "" : ", the default");
}

// `earlier` <= `later`, both read successfully (ok_*): otherwise one error, at `later` if it
// is in the file, else at `earlier` (two defaults are always in order).
void check_order(ConfigErrorList& errors, const Field& earlier, double earlier_value, bool earlier_ok,
                 const Field& later, double later_value, bool later_ok) {
    if (!earlier_ok || !later_ok || earlier_value <= later_value) return;
    if (later.present)
        report(errors, later.mark(), later.path + " (" + show(later_value) + ") must be >= " + earlier.path + " (" +
                                         show(earlier, earlier_value) + ")");
    else
        report(errors, earlier.mark(), earlier.path + " (" + show(earlier_value) + ") must be <= " + later.path +
                                           " (" + show(later, later_value) + ")");
}

// A reader's result for a field that may be absent: absent counts as fine (the default stays).
template <class Read>
bool optional_ok(const Field& field, Read read) {
    const bool ok = read();
    return ok || !field.present;
}

// --- one function per section: each field's range and meaning ------------------------------

void read_queue(ConfigErrorList& errors, const Field& field, QueueConfig& queue) {
    MapReader map(errors, field, {"first", "count", "max_len", "fail_open"});
    const Field first = map.get("first");
    const Field count = map.get("count");
    // first: lowest NFQUEUE number used, 0..65535.
    const bool first_ok = optional_ok(first, [&] { return read_integer<uint16_t>(errors, first, queue.first, 0, 65535); });
    // count: queues (one reader thread each), spread over by --queue-balance, 1..64.
    const bool count_ok = optional_ok(count, [&] { return read_integer<uint16_t>(errors, count, queue.count, 1, 64); });
    // max_len: packets the kernel holds per queue before the fail policy applies, 1..1048576.
    read_integer<uint32_t>(errors, map.get("max_len"), queue.max_len, 1, 1 << 20);
    // fail_open: on a full queue or with sarad gone, accept (true) or drop (false) packets.
    read_bool(errors, map.get("fail_open"), queue.fail_open);

    if (first_ok && count_ok && queue.first + queue.count - 1 > 65535) {
        const Field& at = count.present ? count : first;
        report(errors, at.mark(), "queue: queues " + std::to_string(queue.first) + ".." +
                                      std::to_string(queue.first + queue.count - 1) + " go past 65535");
    }
}

// forwarding.bpf; `needed`: fast_path is bpf (then interface is required).
void read_bpf(ConfigErrorList& errors, const Field& field, bool needed, BpfConfig& bpf) {
    MapReader map(errors, field, {"interface", "hook", "on_failure", "max_flows", "object"});
    // interface: where client traffic to the VIP arrives; the program sits on its ingress.
    const Field interface = needed ? map.require("interface") : map.get("interface");
    read_interface_name(errors, interface, bpf.interface);
    // hook: tc (cls_bpf direct-action, any driver; default) or xdp (before the stack; the
    // driver must support XDP redirect to lan_interface).
    read_enum<BpfAttachHook>(errors, map.get("hook"), bpf.hook, {{"tc", BpfAttachHook::tc}, {"xdp", BpfAttachHook::xdp}});
    // on_failure: the kernel refuses the program (no BPF, verifier, capability): refuse to
    // start (default), or start on the netfilter fast path with a warning.
    read_enum<BpfFailure>(errors, map.get("on_failure"), bpf.on_failure,
                          {{"refuse", BpfFailure::refuse}, {"netfilter", BpfFailure::netfilter}});
    // max_flows: established flows the map holds, 1024..16777216 (a flow that does not fit
    // stays on the netfilter path).
    read_integer<uint32_t>(errors, map.get("max_flows"), bpf.max_flows, 1024, 1u << 24);
    // object: the compiled program; default next to sarad, else /usr/lib/sara.
    read_absolute_path(errors, map.get("object"), bpf.object);
}

// Returns the `mode` field (for the lan_interface check).
Field read_forwarding(ConfigErrorList& errors, const Field& field, ForwardingConfig& forwarding) {
    MapReader map(errors, field, {"mode", "fast_path", "bpf", "preinstall", "media_linger", "rtsp_affinity"});
    const Field mode = map.get("mode");
    // fast_path: netfilter (conntrack marks, policy routes; default) or bpf (a BPF program on
    // the client interface forwards established media and media ranges; route mode only).
    const Field fast_path = map.get("fast_path");
    const bool fast_path_ok =
        read_enum<FastPath>(errors, fast_path, forwarding.fast_path, {{"netfilter", FastPath::netfilter}, {"bpf", FastPath::bpf}});
    const bool bpf_needed = fast_path_ok && forwarding.fast_path == FastPath::bpf;
    const Field bpf = map.get("bpf");
    if (bpf_needed && !bpf.present)
        report(errors, fast_path.mark(), "forwarding.fast_path: bpf needs forwarding.bpf.interface (where client traffic arrives)");
    read_bpf(errors, bpf, bpf_needed, forwarding.bpf);
    if (fast_path.present) {
        forwarding.bpf.line = int(fast_path.mark().line) + 1;
        forwarding.bpf.column = int(fast_path.mark().column) + 1;
    }
    // media_linger: how long an ended session's media flows stay for trailing packets,
    // 0..60s, default 2s.
    read_duration(errors, map.get("media_linger"), forwarding.media_linger, std::chrono::milliseconds(0),
                  std::chrono::milliseconds(60'000));
    // rtsp_affinity: how long an RTSP session that lost its control connection keeps its
    // client address's next new RTSP connection for its node, 0 (off)..600s, default 30s.
    read_duration(errors, map.get("rtsp_affinity"), forwarding.rtsp_affinity, std::chrono::milliseconds(0),
                  std::chrono::milliseconds(600'000));
    // preinstall: completed media flows become conntrack entries with the node's mark before
    // their first packet (needs the gateway's announcements to complete them), default false.
    read_bool(errors, map.get("preinstall"), forwarding.preinstall);
    // mode: route = kernel routes by packet mark (default); raw = sarad writes Ethernet frames
    // to the node's MAC itself (needs lan_interface).
    const bool mode_ok = read_enum<ForwardingMode>(errors, mode, forwarding.mode,
                                                   {{"route", ForwardingMode::route}, {"raw", ForwardingMode::raw}});
    if (mode_ok && fast_path_ok && forwarding.mode == ForwardingMode::raw && forwarding.fast_path == FastPath::bpf)
        report(errors, fast_path.mark(), "forwarding.fast_path: bpf needs forwarding.mode: route (raw mode queues every packet)");
    return mode;
}

bool read_port_range(ConfigErrorList& errors, const Field& field, PortRange& out) {
    if (!read_parsed(errors, field, "a port range", "a port range LO-HI (1..65535)", out)) return false;
    if (out.first > out.last) {
        report(errors, field.mark(), field.path + ": " + std::to_string(out.first) + "-" + std::to_string(out.last) +
                                         " is reversed (LO > HI)");
        return false;
    }
    return true;
}

// Media ranges must not overlap each other (one node per port) nor cover a signalling port
// (signalling is always inspected). Each problem is reported at the later range.
bool check_media_ranges(ConfigErrorList& errors, const std::vector<std::pair<PortRange, Field>>& ranges,
                        const std::vector<Service>& services) {
    bool ok = true;
    for (size_t i = 0; i < ranges.size(); ++i) {
        const auto& [range, at] = ranges[i];
        for (size_t j = 0; j < i; ++j) {
            if (!range.overlaps(ranges[j].first)) continue;
            report(errors, at.mark(), at.path + ": " + range.to_string() + " overlaps " + ranges[j].second.path + " (" +
                                          ranges[j].first.to_string() + ", line " +
                                          std::to_string(ranges[j].second.mark().line + 1) + ")");
            ok = false;
        }
        for (const Service& s : services) {
            if (s.protocol == ServiceProtocol::plain || !range.contains(s.port)) continue;
            report(errors, at.mark(), at.path + ": " + range.to_string() + " covers signalling port " +
                                          std::to_string(s.port) + " (service '" + s.name + "')");
            ok = false;
        }
    }
    return ok;
}

void read_nodes(ConfigErrorList& errors, const Field& field, const VipSet* vip, const std::vector<Service>& services,
                DispatcherChecks checks, std::vector<NodeConfig>& out) {
    if (!field.present) return;  // top level reports it as missing
    const std::vector<Field> items = list_items(errors, field);
    if (!field.value.IsSequence()) return;
    if (items.empty()) {
        report(errors, field.mark(), "nodes: needs at least one node");
        return;
    }
    // Value -> line of first use; a duplicate is reported where it occurs the second time.
    std::map<int, int> id_lines;
    std::unordered_map<std::string, int> name_lines;
    std::map<std::array<uint8_t, 17>, int> address_lines;  // family + bytes
    std::map<std::array<uint8_t, 6>, int> mac_lines;
    const auto first_use = [&errors](auto& lines, const auto& key, const Field& at, const std::string& what) {
        const auto [seen, inserted] = lines.try_emplace(key, at.mark().line + 1);
        if (!inserted)
            report(errors, at.mark(), at.path + ": " + what + " is already used at line " + std::to_string(seen->second));
        return inserted;
    };

    std::vector<NodeConfig> nodes;
    std::vector<std::pair<PortRange, Field>> all_ranges;  // every node's, for the overlap check
    bool ok = true;
    for (const Field& item : items) {
        if (errors.full()) return;  // nothing more would be reported (alias amplification)
        MapReader map(errors, item, {"id", "name", "address", "mac", "weight", "drain", "media_ports"});
        if (!map.is_map()) {
            ok = false;
            continue;
        }
        NodeConfig node;
        const Field id = map.require("id");
        const Field name = map.require("name");
        const Field address = map.require("address");
        const Field mac = map.require("mac");
        // id: 1..250, unique; the heartbeat host_id and the packet mark of this node.
        const bool id_ok = read_integer<NodeId>(errors, id, node.id, kMinNodeId, kMaxNodeId);
        // name: unique; shown by saractl and in metrics.
        const bool name_ok = read_name(errors, name, node.name);
        // address: the node's own (real) address, unique, not the VIP.
        bool address_ok = read_ip(errors, address, node.address);
        if (address_ok && (node.address.is_unspecified() || (vip != nullptr && vip->contains(node.address)))) {
            report(errors, address.mark(), address.path + ": " + node.address.to_string() +
                                               (node.address.is_unspecified() ? " is unspecified" : " is the VIP"));
            address_ok = false;
        }
        // An IPv4 VIP is routed to the node's IPv4 address (its permanent neighbour); an
        // IPv6 VIP to the link-local address derived from its MAC, so any address will do then.
        if (address_ok && checks == DispatcherChecks::start && vip != nullptr && vip->has_v4() &&
            !node.address.is_v4()) {
            report(errors, address.mark(), address.path + ": " + node.address.to_string() +
                                               ": with an IPv4 VIP a node's address must be IPv4 (the next hop "
                                               "of its IPv4 route)");
            address_ok = false;
        }
        // mac: the node's MAC on lan_interface, unique; frames/neighbour entries use it.
        const bool mac_ok = read_mac(errors, mac, node.mac);
        // weight: share under weighted-round-robin, 1..1000, default 1.
        const Field weight = map.get("weight");
        const bool weight_ok =
            optional_ok(weight, [&] { return read_integer<uint16_t>(errors, weight, node.weight, 1, 1000); });
        // drain: true = no new sessions, established ones continue (a SIGHUP applies it).
        const Field drain = map.get("drain");
        const bool drain_ok = optional_ok(drain, [&] { return read_bool(errors, drain, node.drain); });
        // media_ports: "LO-HI" or a list of them; UDP to VIP:port in a range goes to this node.
        const Field media_ports = map.get("media_ports");
        const bool media_ok = optional_ok(media_ports, [&] {
            return read_list(errors, media_ports, node.media_ports, read_port_range, /*allow_single=*/true);
        });
        if (media_ok && media_ports.present) {
            if (media_ports.value.IsScalar()) {
                all_ranges.emplace_back(node.media_ports.front(), media_ports);
            } else {
                const std::vector<Field> items = list_items(errors, media_ports);
                for (size_t k = 0; k < items.size() && k < node.media_ports.size(); ++k)
                    all_ranges.emplace_back(node.media_ports[k], items[k]);
            }
        }

        bool unique = true;
        if (id_ok) unique = first_use(id_lines, int{node.id}, id, "node id " + std::to_string(node.id)) && unique;
        if (name_ok) unique = first_use(name_lines, node.name, name, "node name '" + node.name + "'") && unique;
        if (address_ok) {
            std::array<uint8_t, 17> key{};
            key[0] = node.address.family;
            std::copy(node.address.bytes.begin(), node.address.bytes.end(), key.begin() + 1);
            unique = first_use(address_lines, key, address, "address " + node.address.to_string()) && unique;
        }
        if (mac_ok) unique = first_use(mac_lines, node.mac.bytes, mac, "MAC " + node.mac.to_string()) && unique;

        ok = id_ok && name_ok && address_ok && mac_ok && weight_ok && drain_ok && media_ok && unique && ok;
        nodes.push_back(std::move(node));
    }
    ok = check_media_ranges(errors, all_ranges, services) && ok;
    if (ok) out = std::move(nodes);
}

void read_health(ConfigErrorList& errors, const Field& field, std::optional<HealthConfig>& out) {
    if (!field.present) return;  // no node agents: every node is up
    MapReader map(errors, field,
                  {"listen", "heartbeat_interval", "miss_limit", "load_interval", "recovery_heartbeats", "load_weights"});
    if (!map.is_map()) return;
    HealthConfig health;
    // listen: UDP address for heartbeats and load vectors from node agents (required).
    read_endpoint(errors, map.require("listen"), health.listen);
    // heartbeat_interval: d, how often agents send a heartbeat, 10ms..10s, default 200ms.
    read_duration(errors, map.get("heartbeat_interval"), health.heartbeat_interval, milliseconds(10), seconds(10));
    // miss_limit: n, a node is down after n*d without a heartbeat, 1..100, default 3.
    read_integer<uint32_t>(errors, map.get("miss_limit"), health.miss_limit, 1, 100);
    // load_interval: δ, how often agents send a load vector, 10ms..60s, default 500ms.
    read_duration(errors, map.get("load_interval"), health.load_interval, milliseconds(10), seconds(60));
    // recovery_heartbeats: consecutive heartbeats (no gap) before a down node is up again
    // (hysteresis), 1..100, default 3.
    read_integer<uint32_t>(errors, map.get("recovery_heartbeats"), health.recovery_heartbeats, 1, 100);
    // load_weights: how the load vector combines into the node's load l_j, each 0..1, with a
    // sum above 0; defaults cpu 0.5, memory 0.1, net 0.1, io 0.1, backlog 0.2.
    const Field weights = map.get("load_weights");
    if (weights.present) {
        MapReader w(errors, weights, {"cpu", "memory", "net", "io", "backlog"});
        LoadWeights& lw = health.load_weights;
        read_fraction(errors, w.get("cpu"), lw.cpu);
        read_fraction(errors, w.get("memory"), lw.memory);
        read_fraction(errors, w.get("net"), lw.net);
        read_fraction(errors, w.get("io"), lw.io);
        read_fraction(errors, w.get("backlog"), lw.backlog);
        if (lw.cpu + lw.memory + lw.net + lw.io + lw.backlog <= 0)
            report(errors, weights.mark(), "health.load_weights: at least one weight must be above 0");
    }
    out = health;
}

void read_admission(ConfigErrorList& errors, const Field& field, AdmissionConfig& admission) {
    MapReader map(errors, field,
                  {"enabled", "interval", "alpha", "t1", "t2", "t3", "capacity", "drop_mode", "sip_retry_after",
                   "tcp_reject"});
    // enabled: false admits every new session (no SA2C; for comparison runs), default true.
    read_bool(errors, map.get("enabled"), admission.enabled);
    // interval: t, how often the drop probability is recomputed, 10ms..60s, default 200ms.
    read_duration(errors, map.get("interval"), admission.interval, milliseconds(10), seconds(60));
    // alpha: weight of the mean load against its variance in the cluster load (eq. 1), 0..1.
    read_fraction(errors, map.get("alpha"), admission.alpha);
    // t1, t2, t3, capacity: load thresholds (fractions, eq. 2), t1 <= t2 <= t3 <= capacity,
    // capacity > 0; defaults 0.80, 0.90, 0.95, 1.0.
    const Field t1 = map.get("t1");
    const Field t2 = map.get("t2");
    const Field t3 = map.get("t3");
    const Field capacity = map.get("capacity");
    const bool t1_ok = optional_ok(t1, [&] { return read_fraction(errors, t1, admission.t1); });
    const bool t2_ok = optional_ok(t2, [&] { return read_fraction(errors, t2, admission.t2); });
    const bool t3_ok = optional_ok(t3, [&] { return read_fraction(errors, t3, admission.t3); });
    bool capacity_ok = optional_ok(capacity, [&] { return read_fraction(errors, capacity, admission.capacity); });
    if (capacity_ok && admission.capacity <= 0) {
        report(errors, capacity.mark(), capacity.path + ": must be greater than 0");
        capacity_ok = false;
    }
    check_order(errors, t1, admission.t1, t1_ok, t2, admission.t2, t2_ok);
    check_order(errors, t2, admission.t2, t2_ok, t3, admission.t3, t3_ok);
    check_order(errors, t3, admission.t3, t3_ok, capacity, admission.capacity, capacity_ok);
    // drop_mode: random = each new session dropped with probability p (default);
    // paced = one rejection per interval T_i (eq. 3).
    read_enum<DropMode>(errors, map.get("drop_mode"), admission.drop_mode,
                        {{"random", DropMode::random}, {"paced", DropMode::paced}});
    // sip_retry_after: Retry-After of the 503 sent for a rejected SIP/UDP session, whole
    // seconds, 0s..3600s (0s = no Retry-After header), default 5s.
    const Field retry_after = map.get("sip_retry_after");
    milliseconds retry{};
    if (read_duration(errors, retry_after, retry, seconds(0), seconds(3600))) {
        if (retry % seconds(1) != milliseconds(0))
            report(errors, retry_after.mark(), retry_after.path + ": must be a whole number of seconds");
        else
            admission.sip_retry_after = retry;
    }
    // tcp_reject: a rejected new TCP session gets a RST (default) or is silently dropped.
    read_enum<TcpReject>(errors, map.get("tcp_reject"), admission.tcp_reject,
                         {{"rst", TcpReject::rst}, {"drop", TcpReject::drop}});
}

void read_scheduler(ConfigErrorList& errors, const Field& field, SchedulerConfig& scheduler) {
    MapReader map(errors, field, {"algorithm", "window"});
    // algorithm: shell (forecasted least loaded, default) or a baseline to compare it with.
    read_enum<SchedulerAlgorithm>(errors, map.get("algorithm"), scheduler.algorithm,
                                  {{"shell", SchedulerAlgorithm::shell},
                                   {"round-robin", SchedulerAlgorithm::round_robin},
                                   {"weighted-round-robin", SchedulerAlgorithm::weighted_round_robin},
                                   {"least-sessions", SchedulerAlgorithm::least_sessions},
                                   {"least-loaded", SchedulerAlgorithm::least_loaded},
                                   {"two-choices", SchedulerAlgorithm::two_choices}});
    // window: T, load samples per node in the forecast regression, 2..1024, default 4.
    read_integer<uint32_t>(errors, map.get("window"), scheduler.window, 2, 1024);
}

void read_announce(ConfigErrorList& errors, const Field& field, std::optional<AnnounceConfig>& out) {
    if (!field.present) return;  // no gateway
    MapReader map(errors, field, {"listen", "senders"});
    if (!map.is_map()) return;
    AnnounceConfig announce;
    // listen: UDP address the gateway's expected-flow announcements arrive on (required).
    read_endpoint(errors, map.require("listen"), announce.listen);
    // senders: the gateways' ids (gateway.yaml gateway_id), 251..65535, unique; default [251].
    const Field senders = map.get("senders");
    if (senders.present) {
        std::vector<uint16_t> ids;
        if (read_list(errors, senders, ids, [](ConfigErrorList& e, const Field& f, uint16_t& v) {
                return read_integer<uint16_t>(e, f, v, kFirstGatewayId, kMaxGatewayId);
            })) {
            if (ids.empty()) report(errors, senders.mark(), senders.path + ": needs at least one gateway id");
            for (size_t i = 0; i < ids.size(); ++i)
                for (size_t j = 0; j < i; ++j)
                    if (ids[i] == ids[j])
                        report(errors, senders.mark(), senders.path + ": gateway id " + std::to_string(ids[i]) + " is listed twice");
            if (!ids.empty()) announce.senders = ids;
        }
    }
    out = announce;
}

// sync.peers: the other active dispatchers of a mesh, each `{id, address}`; ids unique, none
// this dispatcher's, addresses unique and none its listen address.
void read_sync_peers(ConfigErrorList& errors, const Field& field, SyncConfig& sync, bool id_ok, bool listen_ok) {
    std::vector<SyncPeer> peers;
    const bool ok = read_list(errors, field, peers, [](ConfigErrorList& e, const Field& f, SyncPeer& p) {
        MapReader item(e, f, {"id", "address"});
        if (!item.is_map()) return false;
        const bool id = read_integer<uint16_t>(e, item.require("id"), p.id, 1, 65535);
        return read_endpoint(e, item.require("address"), p.address) && id;
    });
    if (!ok) return;
    if (peers.empty()) report(errors, field.mark(), "sync.peers: needs at least one other dispatcher");
    for (size_t i = 0; i < peers.size(); ++i) {
        const std::string what = "sync.peers[" + std::to_string(i) + "]: ";
        if (id_ok && peers[i].id == sync.id) report(errors, field.mark(), what + "id " + std::to_string(sync.id) + " is sync.id");
        if (listen_ok && peers[i].address == sync.listen) report(errors, field.mark(), what + "address is sync.listen");
        for (size_t j = 0; j < i; ++j) {
            if (peers[j].id == peers[i].id)
                report(errors, field.mark(), what + "id " + std::to_string(peers[i].id) + " is listed twice");
            if (peers[j].address == peers[i].address)
                report(errors, field.mark(), what + "address " + peers[i].address.to_string() + " is listed twice");
        }
    }
    sync.peers = std::move(peers);
}

void read_route_announce(ConfigErrorList& errors, const Field& field, std::optional<RouteAnnounceConfig>& out) {
    if (!field.present) return;  // nothing announced by sarad
    MapReader map(errors, field, {"table"});
    if (!map.is_map()) return;
    RouteAnnounceConfig announce;
    // table: the kernel routing table the VIPs' blackhole routes go in while this dispatcher
    // is ready: 254 (main, the default) for FRR's `redistribute kernel` (etc/frr/frr.conf),
    // or 1..252 for a daemon that imports a table; not 253 or 255 (the kernel's default and
    // local tables) nor sarad's node tables (from 1000).
    const Field table = map.get("table");
    if (!table.present || read_integer<uint32_t>(errors, table, announce.table, 1, 254)) {
        if (announce.table == 253)
            report(errors, table.mark(), "route_announce.table: 253 is the kernel's default table");
        else
            out = announce;
    }
}

void read_sync(ConfigErrorList& errors, const Field& field, std::optional<SyncConfig>& out) {
    if (!field.present) return;  // single dispatcher
    MapReader map(errors, field, {"listen", "peer", "id", "peer_id", "peers", "interval", "snapshot_interval", "snapshot_rate",
                                  "ready_wait", "role_file", "floating_address", "hold_timeout"});
    if (!map.is_map()) return;
    SyncConfig sync;
    // listen: this dispatcher's replication address (required).
    const bool listen_ok = read_endpoint(errors, map.require("listen"), sync.listen);
    // id: this dispatcher's host id on the sync channel, 1..65535 (required).
    const bool id_ok = read_integer<uint16_t>(errors, map.require("id"), sync.id, 1, 65535);
    const Field peers = map.get("peers");
    if (peers.present) {
        // A mesh of active dispatchers: no pair peer, no keepalived address.
        for (const char* pair_only : {"peer", "peer_id", "floating_address"})
            if (const Field f = map.get(pair_only); f.present)
                report(errors, f.mark(), std::string("sync.") + pair_only + ": is for an HA pair; a mesh (sync.peers) has none");
        read_sync_peers(errors, peers, sync, id_ok, listen_ok);
    } else {
        // peer, peer_id: the pair's other dispatcher (required; its file has the ids swapped).
        const Field peer = map.require("peer");
        if (read_endpoint(errors, peer, sync.peer) && listen_ok && sync.peer == sync.listen)
            report(errors, peer.mark(), "sync.peer: is the same as sync.listen");
        const Field peer_id = map.require("peer_id");
        if (read_integer<uint16_t>(errors, peer_id, sync.peer_id, 1, 65535) && id_ok && sync.peer_id == sync.id)
            report(errors, peer_id.mark(), "sync.peer_id: is the same as sync.id");
    }
    // interval: how often the master sends an update, 10ms..1s, default 50ms.
    read_duration(errors, map.get("interval"), sync.interval, milliseconds(10), seconds(1));
    // snapshot_interval: the pause between two full snapshots (from the end of one to the start
    // of the next), 100ms..10m, default 2s.
    read_duration(errors, map.get("snapshot_interval"), sync.snapshot_interval, milliseconds(100), std::chrono::minutes(10));
    // snapshot_rate: sessions + flows a second a snapshot walks and sends, in slices (the
    // table's lock held for one slice at a time, the wire paced), 1000..10000000, default
    // 100000 (about 6.5 MB/s; a million SIP calls with two media flows each take 30 s).
    read_integer<uint32_t>(errors, map.get("snapshot_rate"), sync.snapshot_rate, 1000, 10'000'000);
    // ready_wait: how long a backup without a replica waits for a master's stream before it
    // may take over (`saractl role --ready`), 100ms..1m, default 3s.
    read_duration(errors, map.get("ready_wait"), sync.ready_wait, milliseconds(100), std::chrono::minutes(1));
    // role_file: where keepalived's notify hook writes the role (master, backup, fault);
    // sarad starts in it. Absolute path, default /run/sara-vrrp.state.
    read_absolute_path(errors, map.get("role_file"), sync.role_file, 4096);
    // floating_address: keepalived's virtual_ipaddress (IPv4 or IPv6, without prefix).
    // Optional; set, the role follows this host holding it (daemon/ha/address_watch.hpp).
    const Field floating = map.get("floating_address");
    IpAddress address;
    if (floating.present && read_ip(errors, floating, address)) {
        if (address.is_unspecified())
            report(errors, floating.mark(), "sync.floating_address: needs a specified address (keepalived's "
                                            "virtual_ipaddress), got " + address.to_string());
        else
            sync.floating_address = address;
    }
    // hold_timeout: the longest the master holds a new session's first verdict waiting for the
    // backup's ack of its binding, 0s (never hold)..1s, default 50ms.
    read_duration(errors, map.get("hold_timeout"), sync.hold_timeout, milliseconds(0), seconds(1));
    out = sync;
}

void read_control(ConfigErrorList& errors, const Field& field, ControlConfig& control) {
    MapReader map(errors, field, {"socket", "state_file", "save_interval"});
    // socket: saractl's Unix socket, absolute path of at most 107 bytes (sun_path),
    // default /run/sara/sarad.sock.
    read_absolute_path(errors, map.get("socket"), control.socket, 107);
    // state_file: where a clean stop saves the session table for the next start (absolute
    // path), default /var/lib/sara/sessions.snapshot.
    read_absolute_path(errors, map.get("state_file"), control.state_file, 4096);
    // save_interval: also save it every so often while running (a crash loses at most that
    // much), 0 (only at a clean stop) or 100ms..1h, default 5s.
    const Field save = map.get("save_interval");
    if (read_duration(errors, save, control.save_interval, milliseconds(0), std::chrono::hours(1)) &&
        control.save_interval.count() > 0 && control.save_interval < milliseconds(100))
        report(errors, save.mark(), "control.save_interval: 0 (off) or at least 100ms");
}

void read_metrics(ConfigErrorList& errors, const Field& field, MetricsConfig& metrics) {
    MapReader map(errors, field, {"listen"});
    // listen: TCP address of the Prometheus text endpoint, default 127.0.0.1:9740.
    read_endpoint(errors, map.get("listen"), metrics.listen);
}

void read_limits(ConfigErrorList& errors, const Field& field, LimitsConfig& limits) {
    MapReader map(errors, field, {"max_sessions", "max_flows", "max_flows_per_session",
                                  "max_announced_per_session", "max_header_bytes", "stream_buffer_bytes"});
    const Field sessions = map.get("max_sessions");
    const Field flows = map.get("max_flows");
    const Field per_session = map.get("max_flows_per_session");
    const Field announced = map.get("max_announced_per_session");
    // max_sessions: session table size; when full, new sessions are rejected. 1..100M, default 1M.
    const bool sessions_ok = optional_ok(sessions, [&] {
        return read_integer<uint32_t>(errors, sessions, limits.max_sessions, 1, 100'000'000);
    });
    // max_flows: flow table size, >= max_sessions, 1..400M, default 4M.
    const bool flows_ok =
        optional_ok(flows, [&] { return read_integer<uint32_t>(errors, flows, limits.max_flows, 1, 400'000'000); });
    // max_flows_per_session: signalling + media flows of one session, 2..1024, default 16.
    const bool per_session_ok = optional_ok(per_session, [&] {
        return read_integer<uint32_t>(errors, per_session, limits.max_flows_per_session, 2, 1024);
    });
    // max_announced_per_session: expected-but-unseen flows per session, 0..1023 and below
    // max_flows_per_session, default 8.
    const bool announced_ok = optional_ok(announced, [&] {
        return read_integer<uint32_t>(errors, announced, limits.max_announced_per_session, 0, 1023);
    });
    // max_header_bytes: largest SIP/RTSP header block parsed, 512..1048576, default 16384.
    read_integer<uint32_t>(errors, map.get("max_header_bytes"), limits.max_header_bytes, 512, 1 << 20);
    // stream_buffer_bytes: memory of all TCP signalling stream buffers together (partial
    // SIP/RTSP messages), 65536..68719476736 (64 GiB), default 33554432 (32 MiB); over it
    // the oldest partial streams are evicted (counted: stream_evictions_total).
    if (int64_t budget = 0; read_int64(errors, map.get("stream_buffer_bytes"), budget, 65536, int64_t(1) << 36))
        limits.stream_buffer_bytes = uint64_t(budget);

    check_order(errors, sessions, limits.max_sessions, sessions_ok, flows, limits.max_flows, flows_ok);
    if (announced_ok && per_session_ok && limits.max_announced_per_session >= limits.max_flows_per_session) {
        const Field& at = announced.present ? announced : per_session;
        report(errors, at.mark(), "limits.max_announced_per_session (" +
                                      std::to_string(limits.max_announced_per_session) +
                                      ") must be less than limits.max_flows_per_session (" +
                                      std::to_string(limits.max_flows_per_session) + ")");
    }
}

void read_dispatcher(ConfigErrorList& errors, const YAML::Node& root, DispatcherChecks checks, DispatcherConfig& config) {
    MapReader top(errors, root_field(root),
                  {"vip", "lan_interface", "queue", "forwarding", "services", "nodes", "health", "admission",
                   "scheduler", "auth", "announce", "sync", "route_announce", "control", "metrics", "limits"});
    if (!top.is_map()) return;
    // vip: the cluster's virtual address clients connect to (required): one address, or a
    // list of an IPv4 and an IPv6 address (dual stack, one service set for both).
    const Field vip = top.require("vip");
    const bool vip_ok = read_address_pair(errors, vip, config.vip);
    // lan_interface: interface towards the nodes; required to start (the per-node routes and
    // static neighbours are bound to it), and for forwarding.mode raw.
    const Field lan_interface = checks == DispatcherChecks::start ? top.require("lan_interface") : top.get("lan_interface");
    read_interface_name(errors, lan_interface, config.lan_interface);
    read_queue(errors, top.get("queue"), config.queue);
    const Field mode = read_forwarding(errors, top.get("forwarding"), config.forwarding);
    if (config.forwarding.mode == ForwardingMode::raw && !lan_interface.present && checks == DispatcherChecks::format)
        report(errors, mode.mark(), "forwarding.mode: raw needs lan_interface");
    read_services(errors, top.get("services"), config.services);
    read_nodes(errors, top.require("nodes"), vip_ok ? &config.vip : nullptr, config.services, checks, config.nodes);
    read_health(errors, top.get("health"), config.health);
    read_admission(errors, top.get("admission"), config.admission);
    read_scheduler(errors, top.get("scheduler"), config.scheduler);
    read_auth(errors, top.get("auth"), config.auth);
    read_announce(errors, top.get("announce"), config.announce);
    read_sync(errors, top.get("sync"), config.sync);
    read_route_announce(errors, top.get("route_announce"), config.route_announce);
    read_control(errors, top.get("control"), config.control);
    read_metrics(errors, top.get("metrics"), config.metrics);
    read_limits(errors, top.get("limits"), config.limits);
}

// The schema reader the loader runs, with this load's checks.
auto dispatcher_reader(DispatcherChecks checks) {
    return [checks](ConfigErrorList& errors, const YAML::Node& root, DispatcherConfig& config) {
        read_dispatcher(errors, root, checks, config);
    };
}

}  // namespace

ConfigLoad<DispatcherConfig> load_dispatcher_config(const std::string& path, DispatcherChecks checks) {
    return load_config_file<DispatcherConfig>(path, dispatcher_reader(checks));
}

ConfigLoad<DispatcherConfig> load_dispatcher_config_from_string(std::string_view yaml_text, const std::string& file_name,
                                                                DispatcherChecks checks) {
    return load_config_text<DispatcherConfig>(yaml_text, file_name, dispatcher_reader(checks));
}

}  // namespace sara
