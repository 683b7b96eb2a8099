// SPDX-License-Identifier: GPL-2.0-or-later
// SARA's BPF fast path (issue 17): forwards established UDP flows and node media ranges to their
// node before the stack sees them. One decision function, two hooks: tc (cls_bpf direct-action)
// and XDP. The maps and the contract: README.md and fast_path_abi.h in this folder.
//
// Rules the code keeps: every byte read is bounds-checked against data_end first; a packet that
// is not certainly ours and well-formed goes up the stack untouched (the netfilter/NFQUEUE path
// is complete on its own); each packet is counted exactly once.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "daemon/forward/bpf/fast_path_abi.h"

char LICENSE[] SEC("license") = "GPL";

// Sized by the loader (BpfFastPathSpec::max_flows) before the load. A plain hash, not an LRU:
// a full map refuses sarad's insert (the flow stays on netfilter) instead of silently evicting
// a live flow, which would then be decided again.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1 << 20);
    __type(key, struct sara_fp_flow_key);
    __type(value, struct sara_fp_flow_value);
} sara_fp_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SARA_FP_MAX_NODES);
    __type(key, __u32);
    __type(value, struct sara_fp_node);
} sara_fp_nodes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SARA_FP_PORTS);
    __type(key, __u32);
    __type(value, __u16);
} sara_fp_ranges SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sara_fp_config);
} sara_fp_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SARA_FP_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} sara_fp_counts SEC(".maps");

enum sara_fp_action { SARA_FP_PASS, SARA_FP_DROP, SARA_FP_FORWARD };

struct sara_fp_decision {
    __u32 counter;                     // enum sara_fp_counter: what to count
    const struct sara_fp_node *node;   // SARA_FP_FORWARD: where to
};

static __always_inline void count(__u32 index) {
    __u64 *value = bpf_map_lookup_elem(&sara_fp_counts, &index);
    if (value) *value += 1;  // per-CPU: no other writer
}

static __always_inline bool mac_equal(const __u8 *a, const __u8 *b) {
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

// Whether an IP total length runs past the frame's end. tc (skb_len != 0): against skb->len,
// which counts a non-linear skb's pages beyond data_end. XDP (skb_len == 0; the program does not
// take multi-buffer frames): against data_end. The verifier forbids arithmetic on data_end, so
// the pointer is moved, not the end.
static __always_inline bool beyond_frame(void *ip, __u32 tot_len, void *data_end, __u32 skb_len) {
    if (skb_len) return tot_len > skb_len - sizeof(struct ethhdr);
    return ip + tot_len > data_end;
}

// The part of the decision both families share, once the 5-tuple is known: the flow map, else
// the node's media range, then the node's target, the TTL / hop limit and the degrade rule.
static __always_inline enum sara_fp_action decide_flow(const struct sara_fp_flow_key *key, __u8 ttl,
                                                       const struct sara_fp_config *cfg,
                                                       struct sara_fp_decision *d) {
    __u32 node;
    __u32 hit;
    struct sara_fp_flow_value *flow = bpf_map_lookup_elem(&sara_fp_flows, key);
    if (flow) {
        node = flow->node;
        hit = SARA_FP_FLOW_HITS;
        // The flow is alive whatever happens to this packet below. Signed: sarad's put_flow may
        // have written a time a little after this CPU's `now`.
        const __u64 now = bpf_ktime_get_ns();
        if ((__s64)(now - flow->last_seen_ns) > (__s64)SARA_FP_REFRESH_NS) flow->last_seen_ns = now;
    } else {
        __u32 port = bpf_ntohs(key->dport);
        const __u16 *range_node = bpf_map_lookup_elem(&sara_fp_ranges, &port);
        if (!range_node || *range_node == 0) return SARA_FP_PASS;  // unknown: sarad decides
        node = *range_node;
        hit = SARA_FP_RANGE_HITS;
    }

    const struct sara_fp_node *target = bpf_map_lookup_elem(&sara_fp_nodes, &node);
    if (!target || target->ifindex == 0) {
        d->counter = SARA_FP_NO_NODE_PASSED;
        return SARA_FP_PASS;
    }
    if (ttl <= 1) {
        d->counter = SARA_FP_TTL_EXPIRED_PASSED;
        return SARA_FP_PASS;
    }
    if (cfg->degrade_threshold && (__u64)bpf_get_prandom_u32() < cfg->degrade_threshold) {
        d->counter = SARA_FP_DEGRADED_DROPPED;
        return SARA_FP_DROP;
    }
    d->counter = hit;
    d->node = target;
    return SARA_FP_FORWARD;
}

// IPv6 (issue 18): a fixed 40-byte header straight followed by UDP. Any extension header
// (hop-by-hop, routing, fragment, destination options) sends the packet up the stack, counted
// with the IPv4 fragments and options: the netfilter path takes it whole.
static __always_inline enum sara_fp_action decide_v6(struct ethhdr *eth, void *data_end, __u32 skb_len,
                                                     const struct sara_fp_config *cfg, struct sara_fp_decision *d) {
    // Without an IPv6 VIP (all zero) no IPv6 packet is ours; with one, only those to it.
    if ((cfg->vip6[0] | cfg->vip6[1] | cfg->vip6[2] | cfg->vip6[3]) == 0) return SARA_FP_PASS;
    struct ipv6hdr *ip6 = (void *)(eth + 1);
    if ((void *)(ip6 + 1) > data_end) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    if (ip6->version != 6) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    const __u32 *dst = ip6->daddr.in6_u.u6_addr32;
    if (dst[0] != cfg->vip6[0] || dst[1] != cfg->vip6[1] || dst[2] != cfg->vip6[2] || dst[3] != cfg->vip6[3])
        return SARA_FP_PASS;
    __u32 tot_len = bpf_ntohs(ip6->payload_len);
    barrier_var(tot_len);
    tot_len &= 0xffff;
    tot_len += sizeof(struct ipv6hdr);
    if (beyond_frame(ip6, tot_len, data_end, skb_len)) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    if (ip6->nexthdr != IPPROTO_UDP) {
        // 0 hop-by-hop, 43 routing, 44 fragment, 60 destination options: not walked here.
        if (ip6->nexthdr == 0 || ip6->nexthdr == 43 || ip6->nexthdr == 44 || ip6->nexthdr == 60)
            d->counter = SARA_FP_FRAGMENTS_PASSED;
        return SARA_FP_PASS;
    }
    struct udphdr *udp = (void *)(ip6 + 1);
    if ((void *)(udp + 1) > data_end || tot_len < sizeof(struct ipv6hdr) + sizeof(struct udphdr)) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    struct sara_fp_flow_key key;
    __builtin_memset(&key, 0, sizeof key);
    key.family = SARA_FP_FAMILY_IPV6;
    key.proto = IPPROTO_UDP;
    key.sport = udp->source;
    key.dport = udp->dest;
    __builtin_memcpy(key.saddr, ip6->saddr.in6_u.u6_addr32, 16);
    __builtin_memcpy(key.daddr, dst, 16);
    return decide_flow(&key, ip6->hop_limit, cfg, d);
}

// The shared decision. `skb_len`: tc's skb->len, 0 for XDP (see beyond_frame). `check_dst_mac`:
// XDP has no pkt_type, so a frame to another MAC is recognised by the config's client MAC.
static __always_inline enum sara_fp_action decide(void *data, void *data_end, __u32 skb_len, bool check_dst_mac,
                                                  struct sara_fp_decision *d) {
    struct ethhdr *eth = data;
    d->counter = SARA_FP_PASSED;
    d->node = 0;
    if ((void *)(eth + 1) > data_end) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    const bool v6 = eth->h_proto == bpf_htons(ETH_P_IPV6);
    if (!v6 && eth->h_proto != bpf_htons(ETH_P_IP)) return SARA_FP_PASS;  // ARP, VLAN tags...

    __u32 zero = 0;
    const struct sara_fp_config *cfg = bpf_map_lookup_elem(&sara_fp_config, &zero);
    if (!cfg) return SARA_FP_PASS;
    if (check_dst_mac && !mac_equal(eth->h_dest, cfg->client_mac)) return SARA_FP_PASS;
    if (v6) return decide_v6(eth, data_end, skb_len, cfg, d);

    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    const __u8 version_ihl = *(const __u8 *)ip;
    if ((version_ihl >> 4) != 4) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    // Traffic to other addresses is none of our business (and not "bad" for us to count).
    if (cfg->vip4 == 0 || ip->daddr != cfg->vip4) return SARA_FP_PASS;

    const __u32 ihl = version_ihl & 0x0f;
    // The verifier needs a bound on the value before it moves a packet pointer (beyond_frame,
    // XDP) and may not derive one from a byte swap; an empty asm hides the value from the
    // compiler (barrier_var), which would otherwise drop the mask as redundant.
    __u32 tot_len = bpf_ntohs(ip->tot_len);
    barrier_var(tot_len);
    tot_len &= 0xffff;
    if (ihl < 5 || tot_len < ihl * 4 || beyond_frame(ip, tot_len, data_end, skb_len)) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }
    if (ihl != 5 || (ip->frag_off & bpf_htons(0x3fff))) {  // options; MF or an offset
        d->counter = SARA_FP_FRAGMENTS_PASSED;
        return SARA_FP_PASS;
    }
    if (ip->protocol != IPPROTO_UDP) return SARA_FP_PASS;  // TCP: not yet (README)

    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end || tot_len < sizeof(struct iphdr) + sizeof(struct udphdr)) {
        d->counter = SARA_FP_BAD_HEADER;
        return SARA_FP_PASS;
    }

    struct sara_fp_flow_key key;
    __builtin_memset(&key, 0, sizeof key);  // pad and the IPv6 words take part in the hash
    key.family = SARA_FP_FAMILY_IPV4;
    key.proto = IPPROTO_UDP;
    key.sport = udp->source;
    key.dport = udp->dest;
    key.saddr[0] = ip->saddr;
    key.daddr[0] = ip->daddr;
    return decide_flow(&key, ip->ttl, cfg, d);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changed from `from` to `to`
// (all in network order: the one's complement sum does not care about byte order).
static __always_inline __u16 csum_replace2(__u16 check, __u16 from, __u16 to) {
    __u32 sum = (__u16)~check;
    sum += (__u16)~from;
    sum += to;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

// The forwarding rewrite, the same for both hooks: TTL - 1 with the header checksum updated in
// place (IPv6: hop limit - 1, no header checksum), Ethernet destination = the node, source =
// the LAN interface. Done by hand rather than with bpf_l3_csum_replace in tc as well: one code
// path tested by both hooks, and no helper that could fail after the packet was half rewritten
// (or invalidate the packet pointers).
// False only if the bounds (already checked by decide) do not hold: nothing was written then.
static __always_inline bool rewrite(void *data, void *data_end, const struct sara_fp_node *node) {
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) return false;
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end) return false;
        ip6->hop_limit -= 1;
        __builtin_memcpy(eth->h_dest, node->dmac, ETH_ALEN);
        __builtin_memcpy(eth->h_source, node->smac, ETH_ALEN);
        return true;
    }
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) return false;
    __u16 *ttl_protocol = (__u16 *)&ip->ttl;  // the header's 5th 16-bit word
    const __u16 before = *ttl_protocol;
    ip->ttl -= 1;
    ip->check = csum_replace2(ip->check, before, *ttl_protocol);
    __builtin_memcpy(eth->h_dest, node->dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, node->smac, ETH_ALEN);
    return true;
}

// decide(), then the rewrite and the count: what both hooks do. SARA_FP_FORWARD: the frame is
// rewritten and *ifindex is where it goes.
static __always_inline enum sara_fp_action decide_and_rewrite(void *data, void *data_end, __u32 skb_len,
                                                              bool check_dst_mac, __u32 *ifindex) {
    struct sara_fp_decision d;
    const enum sara_fp_action action = decide(data, data_end, skb_len, check_dst_mac, &d);
    if (action == SARA_FP_FORWARD) {
        if (!d.node || !rewrite(data, data_end, d.node)) {
            count(SARA_FP_BAD_HEADER);
            return SARA_FP_PASS;
        }
        *ifindex = d.node->ifindex;
    }
    count(d.counter);
    return action;
}

// The most decide() reads: Ethernet, a 40-byte IPv6 header, UDP (IPv4's 20-byte header needs less).
#define SARA_FP_HEADERS_LEN (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr))

SEC("tc")
int sara_fast_path(struct __sk_buff *skb) {
    // Frames the stack would not route (another host's MAC seen in promiscuous mode, broadcast,
    // multicast) and VLAN-tagged ones (tag taken off by the NIC) are not ours to forward.
    if (skb->pkt_type != PACKET_HOST || skb->vlan_present) {
        count(SARA_FP_PASSED);
        return TC_ACT_OK;
    }
    // A non-linear skb may hold less than the headers in its linear part: pull them in.
    if (skb->data + SARA_FP_HEADERS_LEN > skb->data_end)
        bpf_skb_pull_data(skb, skb->len < SARA_FP_HEADERS_LEN ? skb->len : SARA_FP_HEADERS_LEN);
    __u32 ifindex = 0;
    switch (decide_and_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, false, &ifindex)) {
    case SARA_FP_FORWARD:
        return bpf_redirect(ifindex, 0);  // TC_ACT_REDIRECT: out of the LAN interface
    case SARA_FP_DROP:
        return TC_ACT_SHOT;
    default:
        return TC_ACT_OK;
    }
}

SEC("xdp")
int sara_fast_path_x(struct xdp_md *ctx) {
    __u32 ifindex = 0;
    switch (decide_and_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, true, &ifindex)) {
    case SARA_FP_FORWARD:
        return bpf_redirect(ifindex, 0);  // XDP_REDIRECT
    case SARA_FP_DROP:
        return XDP_DROP;
    default:
        return XDP_PASS;
    }
}
