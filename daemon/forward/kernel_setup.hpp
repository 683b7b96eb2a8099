// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's kernel setup (DESIGN §3): its own iptables chains (SARA-*), per-node
// fwmark ip rules, per-node routing tables and permanent neighbours, and the sysctls the
// packet path needs. Everything sarad puts into the kernel is installed and removed here, so
// that a stop leaves nothing behind and a start after a crash first clears what the crashed
// run left.
//
// What counts as "ours" (the contract every cleanup relies on), in IPv4 and IPv6 alike:
//   - iptables/ip6tables: chains whose name starts with "SARA-" in any table, and every rule
//     that jumps (-j/-g) to one of them, whatever its match (so a previous run's VIP is found too);
//   - ip rules with a priority in [table_base, table_base + 256) that carry a fwmark;
//   - routes in tables [table_base, table_base + 256), never the reserved tables
//     0 (unspec), 253 (default), 254 (main), 255 (local);
//   - NUD_PERMANENT neighbours of the configured nodes' next hops on lan_interface (IPv4: the
//     node's address; IPv6: the link-local address derived from its MAC), and of every
//     gateway found in the tables above (the nodes of a previous run).
// A family without a VIP in the spec gets the cleanup only, best effort (a previous dual-stack run's
// objects go); on a kernel without IPv6 the IPv6 half is skipped.
// Sysctls are written on install and deliberately not reverted by remove(): they are host
// settings (forwarding) the dispatcher host's own configuration owns.
//
// The kernel deletes the permanent neighbours and the routes of an interface that goes down
// (the fwmark rules stay, so marked packets then fall through to the main table): after the
// LAN interface comes back up, the owner must call install() again (it is cheap and safe on a
// live setup).
//
// Threading: a KernelSetup holds no state between calls; calls must not run concurrently with
// each other (they read, then rewrite, the same kernel objects).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/net/flow_key.hpp"
#include "common/net/ip_address.hpp"
#include "common/net/node_id.hpp"
#include "common/net/port_range.hpp"
#include "common/net/vip_set.hpp"
#include "common/util/errno_text.hpp"
#include "daemon/forward/marks.hpp"  // kNodeMarkMask, kMarkNoSave: the mark layout the rules match

namespace sara {

// Width of the rule-priority and table ranges that belong to sarad (see the contract above).
inline constexpr uint32_t kOwnedRangeSize = 256;

struct NodeRoute {
    NodeId id = kNoNode;             // kMinNodeId..kMaxNodeId; the packet mark
    IpAddress address;               // the node's real address (IPv4 when the VIPs include an IPv4 one)
    std::array<uint8_t, 6> mac{};    // static neighbour entry
    // UDP ports on the VIP steered to this node in the raw table (untracked, marked), never
    // queued; the config guarantees they overlap no other node's and no signalling port.
    std::vector<PortRange> media_ports;
    friend bool operator==(const NodeRoute&, const NodeRoute&) = default;
};

struct KernelSetupSpec {
    VipSet vip;                      // an IPv4 VIP, an IPv6 VIP, or both
    std::string lan_interface;       // towards the nodes; must exist on install
    std::vector<NodeRoute> nodes;    // unique ids and addresses
    uint16_t queue_first = 0;        // NFQUEUE numbers queue_first .. queue_first+queue_count-1
    uint16_t queue_count = 1;        // 1 = --queue-num, more = --queue-balance
    bool queue_bypass = true;        // --queue-bypass: no listener = accept unmarked (KERNEL-NOTES 8)
    std::vector<std::pair<IpProto, uint16_t>> signalling_ports;  // always queued, never offloaded
    // forwarding.mode: raw. sarad writes every packet to the node itself and drops the
    // original, so the kernel must route none of them: every packet to the VIP is queued (no
    // connmark fast path, no mark saving, no SYN notrack), no per-node rules, routes or
    // neighbours are installed (a previous run's are removed), and no sysctl is written
    // (in particular ip_forward is left as it is).
    bool raw_mode = false;
    // Node i uses routing table table_base + i and ip rule priority table_base + i. The tables
    // 253..255 are the kernel's: node ids that would map onto them are rejected (with the
    // default 100, ids 153..155). Priorities must stay below the main rule (32766).
    uint32_t table_base = 100;
    // Admission control's degradation of established flows (DESIGN §5, m > T3): packets that
    // take the kernel fast path (a restored node mark) are dropped with this probability by
    // a `statistic --mode random` rule. 0 = no rule. Signalling is queued before the fast path
    // and degraded, if at all, by sarad itself. Not used in raw mode (no fast path).
    double degrade_probability = 0;
};

uint32_t node_table(const KernelSetupSpec& spec, uint16_t node_id);

// The IPv6 next hop of a node: fe80::/64 with the modified EUI-64 interface id of its MAC
// (RFC 4291 appendix A). Only the permanent neighbour entry (address -> MAC) gives it
// meaning, so the node need not hold it; no Neighbor Solicitation is ever sent for it.
IpAddress node_link_local(const std::array<uint8_t, 6>& mac);

// Error codes of this component; OS and netlink failures use std::system_category.
enum class KernelSetupErrc {
    invalid_spec = 1,    // the spec cannot be installed (details in the error text)
    command_failed,      // iptables-restore/iptables-save exited non-zero or timed out
};
const std::error_category& kernel_setup_category();
std::error_code make_error_code(KernelSetupErrc e);

// Checks everything that can be checked without the kernel (not the interface's existence).
// Appends one line per problem to *error_text; returns invalid_spec if there was any.
[[nodiscard]] std::error_code validate_kernel_setup_spec(const KernelSetupSpec& spec, std::string* error_text);

// net.ipv4.ip_forward=1 (and net.ipv6.conf.all.forwarding=1 when `ipv6`), net.netfilter.nf_conntrack_tcp_loose=1,
// net.netfilter.nf_conntrack_tcp_be_liberal=1, net.ipv4.conf.{all,LAN}.send_redirects=0,
// written through /proc/sys of the caller's network namespace. The nf_conntrack entries exist
// only once conntrack is in use in the namespace, so call this after the iptables rules are in.
// Tries every setting; reports each failure; returns the first error.
[[nodiscard]] std::error_code apply_dispatcher_sysctls(const std::string& lan_interface, bool ipv6,
                                                     std::string* error_text);

// Programs run for iptables; the defaults are looked up in PATH, then /usr/sbin and /sbin.
// A host on the legacy backend may name iptables-legacy-restore/-save here.
struct IptablesPrograms {
    std::string restore = "iptables-restore";
    std::string save = "iptables-save";
    std::string restore6 = "ip6tables-restore";
    std::string save6 = "ip6tables-save";
};

class KernelSetup {
public:
    KernelSetup() = default;
    explicit KernelSetup(IptablesPrograms programs) : programs_(std::move(programs)) {}

    // Brings the kernel to exactly the state the spec describes: what a previous run left
    // (see the contract at the top) and is not part of the new state is removed, the rest is
    // installed or replaced in place. Routes and neighbours are replaced, never deleted and
    // re-added, and the iptables change is one iptables-restore transaction per table, so
    // re-running install over a live setup (restart, VIP change) never opens a window in
    // which marked or queued traffic is unrouted. Order: neighbours, routes, rules (a mark is
    // steered to a table only once the table is ready), then iptables, then sysctls. In
    // raw_mode: leftovers removed, iptables, nothing else (see KernelSetupSpec::raw_mode).
    // On error the kernel may hold a partial setup; remove() clears it.
    [[nodiscard]] std::error_code install(const KernelSetupSpec& spec, std::string* error_text) const;

    // Removes everything that is ours (contract above); idempotent. Uses spec.table_base,
    // spec.lan_interface and spec.nodes' addresses only; the interface may be gone.
    [[nodiscard]] std::error_code remove(const KernelSetupSpec& spec, std::string* error_text) const;

    // Per-node objects only (reload: a node added or its address/MAC changed). The node need
    // not be in spec.nodes; spec supplies lan_interface and table_base.
    [[nodiscard]] std::error_code add_node(const KernelSetupSpec& spec, const NodeRoute& node,
                                           std::string* error_text) const;
    // Removes the node's rule, its table's routes and its permanent neighbour (and that of any
    // other gateway found in its table); idempotent.
    [[nodiscard]] std::error_code remove_node(const KernelSetupSpec& spec, const NodeRoute& node,
                                              std::string* error_text) const;

private:
    // The programs of one IP version's tables: (ip6tables-)restore and -save.
    IptablesPrograms programs_for(int ip_version) const;

    IptablesPrograms programs_;
};

}  // namespace sara

template <>
struct std::is_error_code_enum<sara::KernelSetupErrc> : std::true_type {};
