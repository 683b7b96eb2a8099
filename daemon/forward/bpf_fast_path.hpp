// SPDX-License-Identifier: GPL-2.0-or-later
// The BPF fast path (issue 17, `forwarding.fast_path: bpf`): a program on the ingress of the
// client-facing interface forwards established media flows and node media ranges straight to
// their node (Ethernet rewrite, TTL decrement, redirect to the LAN interface: direct routing as
// the netfilter path does it), from maps sarad owns. Everything else — signalling, first
// packets, fragments, IP options, unknown flows, malformed headers — goes up the stack
// untouched to the netfilter/NFQUEUE path, which stays complete on its own: an empty map (or
// a detached program) only means more packets take the netfilter path.
//
// The program and its map layouts: daemon/forward/bpf/ (README.md there is the contract;
// fast_path_abi.h is shared with this file's implementation).
//
// What is "ours" in the kernel (the cleanup contract, like KernelSetup's): a tc filter on a
// clsact ingress hook with handle kTcHandle and priority kTcPriority, or an XDP program, whose
// program name starts with "sara_fast_path" (the kernel keeps 15 characters of a name: the tc
// program shows as "sara_fast_path", the XDP one, sara_fast_path_x, as "sara_fast_path_"). Maps
// are not pinned: they live as long as the program (or this object's fds) holds them. A clsact
// qdisc left without any filter by a detach or a cleanup is deleted too.
//
// Threading: the map operations (put_flow, delete_flow, flow_idle_ms, set_*) are single BPF
// system calls and may be called from any thread; load/attach/detach/remove_leftovers from
// one thread, not concurrently with each other.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "common/net/flow_key.hpp"
#include "common/net/ip_address.hpp"
#include "common/net/node_id.hpp"
#include "common/net/port_range.hpp"
#include "common/net/vip_set.hpp"

namespace sara {

enum class BpfHook : uint8_t { tc, xdp };

struct BpfFastPathSpec {
    std::string object_path;       // the compiled program (sara_fast_path.bpf.o)
    std::string client_interface;  // where client traffic to the VIP arrives (the hook)
    std::string lan_interface;     // towards the nodes: the redirect target and source MAC
    VipSet vip;                    // an IPv4 VIP, an IPv6 VIP, or both
    BpfHook hook = BpfHook::tc;
    uint32_t max_flows = 1u << 20; // the flow map's size (a full map: the flow stays on netfilter)
};

struct BpfNodeTarget {
    NodeId id = kNoNode;
    std::array<uint8_t, 6> mac{};  // the node's MAC (direct routing)
};

// Per-CPU counters of the program, summed over CPUs.
struct BpfFastPathCounters {
    uint64_t flow_hits = 0;         // forwarded from the flow map
    uint64_t range_hits = 0;        // forwarded by a node media range
    uint64_t passed = 0;            // went up the stack: not for the VIP, not UDP, unknown flow...
    uint64_t degraded_dropped = 0;  // dropped by the degrade probability (SA2C above T3)
    uint64_t bad_header = 0;        // malformed or truncated headers: passed up, never forwarded
    uint64_t fragments_passed = 0;  // IPv4 fragments and packets with IP options: passed up
    uint64_t ttl_expired_passed = 0;// TTL <= 1: passed up (the stack answers ICMP)
    uint64_t no_node_passed = 0;    // a hit whose node has no target (removed node): passed up
};

class BpfFastPath {
public:
    // The tc filter that is ours (see the contract above).
    static constexpr uint32_t kTcHandle = 0x5a1a;
    static constexpr uint32_t kTcPriority = 0x5a1a;

    // Opens and loads the object (the verifier runs here), sizes and fills the maps' fixed part
    // (VIP, LAN interface index and MAC). Does not attach. nullptr with *error saying why
    // (no BPF, a verifier error with the verifier's last lines, a missing capability, no such
    // interface).
    static std::unique_ptr<BpfFastPath> load(const BpfFastPathSpec& spec, std::string* error);
    ~BpfFastPath();  // detaches if attached
    BpfFastPath(const BpfFastPath&) = delete;
    BpfFastPath& operator=(const BpfFastPath&) = delete;

    // Attaches the program to spec.client_interface, atomically replacing a program of ours that
    // is there (a crashed sarad's), so that no packet meets neither. Idempotent.
    [[nodiscard]] std::error_code attach(std::string* error);
    // Detaches this object's program (tc filter or XDP); idempotent.
    [[nodiscard]] std::error_code detach(std::string* error);
    // Removes every program of ours (by name, see the contract) from every interface of the
    // caller's network namespace, whatever interface a previous run's config named: a start
    // in netfilter mode after a bpf-mode crash, or on a changed interface. Returns how many.
    static size_t remove_leftovers(std::string* error);

    // --- the maps (one BPF system call each) ---------------------------------------------------
    // Client → VIP flow to `node`; its last-seen time starts now. False (counted by the caller)
    // when the map is full or the key is not one the program can match (not IPv4 UDP — the
    // program forwards UDP only —, a zero port, kNoNode). A known key is updated (another node).
    bool put_flow(const FlowKey& key, NodeId node);
    void delete_flow(const FlowKey& key);
    // Empties the flow map (a dispatcher that stops being the HA master); batched. Returns how
    // many entries went.
    size_t clear_flows();
    // Milliseconds since the program last forwarded a packet of the flow (or since put_flow);
    // nullopt when the map does not hold it.
    std::optional<uint32_t> flow_idle_ms(const FlowKey& key) const;
    // Replaces the node targets (a node not listed has none: its hits are passed up; so has a
    // node with a zero MAC or an id of 256 or more).
    void set_nodes(const std::vector<BpfNodeTarget>& nodes);
    // Replaces the media ranges (UDP destination port of the VIP → node).
    void set_media_ranges(const std::vector<std::pair<PortRange, NodeId>>& ranges);
    // Drop probability for forwarded packets, 0..1 (SA2C above T3).
    void set_degrade_probability(double p);

    BpfFastPathCounters counters() const;
    // Kernel memory charged for the maps (the fdinfo "memlock" lines), bytes.
    uint64_t map_memory_bytes() const;
    bool attached() const { return attached_; }
    // The loaded program's fd (owned by this object): for BPF_PROG_TEST_RUN in the unit tests
    // and for bpf_obj_get_info_by_fd (id, instruction counts).
    int program_fd() const;

private:
    struct Handles;
    std::error_code attach_hook(std::string* error);
    BpfFastPath(BpfFastPathSpec spec, std::unique_ptr<Handles> handles);
    BpfFastPathSpec spec_;
    std::unique_ptr<Handles> handles_;
    bool attached_ = false;
};

}  // namespace sara
