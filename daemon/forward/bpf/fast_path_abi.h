/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The maps of the BPF fast path (issue 17) as the program (sara_fast_path.bpf.c) and its loader
 * (daemon/forward/bpf_fast_path.cpp) both see them: key and value layouts, map and program
 * names, counter indices. Valid C and C++. README.md in this folder is the contract. A change
 * here changes the kernel ABI between a sarad and the object it loads: both are built from
 * the same tree and shipped together, so there is no version field. */
#ifndef SARA_FAST_PATH_ABI_H
#define SARA_FAST_PATH_ABI_H

#include <linux/types.h>

/* Program names. The kernel keeps 15 characters of a program's name (BPF_OBJ_NAME_LEN 16):
 * the XDP one shows as "sara_fast_path_"; every name of ours starts with the prefix, which is
 * what a cleanup matches. */
#define SARA_FP_PROG_PREFIX "sara_fast_path"
#define SARA_FP_PROG_TC "sara_fast_path"
#define SARA_FP_PROG_XDP "sara_fast_path_x"

/* Map names (at most 15 characters, so the kernel shows them whole). */
#define SARA_FP_MAP_FLOWS "sara_fp_flows"
#define SARA_FP_MAP_NODES "sara_fp_nodes"
#define SARA_FP_MAP_RANGES "sara_fp_ranges"
#define SARA_FP_MAP_CONFIG "sara_fp_config"
#define SARA_FP_MAP_COUNTERS "sara_fp_counts"

#define SARA_FP_FAMILY_IPV4 2   /* AF_INET */
#define SARA_FP_FAMILY_IPV6 10  /* AF_INET6 */
#define SARA_FP_MAX_NODES 256   /* node ids 1..255 index the node array (sarad's go to 250) */
#define SARA_FP_PORTS 65536     /* the media range array: one entry per UDP port */
/* The program writes a flow's last_seen_ns only when it is older than this, so a stream of
 * packets costs one memory write per 250 ms, not one per packet; idle times read from the map
 * are late by at most this much. */
#define SARA_FP_REFRESH_NS (250ULL * 1000ULL * 1000ULL)

/* Flow map key (BPF_MAP_TYPE_HASH, exact match): the client → VIP 5-tuple. Addresses and ports
 * in network byte order; IPv4 in saddr[0]/daddr[0] with the rest zero, IPv6 in all four words.
 * Every byte, pad included, takes part in the hash: unused bytes must be zero. */
struct sara_fp_flow_key {
    __u8 family;  /* SARA_FP_FAMILY_IPV4 or SARA_FP_FAMILY_IPV6 */
    __u8 proto;   /* IPPROTO_UDP (the program matches nothing else yet) */
    __be16 sport;
    __be16 dport;
    __u16 pad;
    __u32 saddr[4];
    __u32 daddr[4];
};

/* Flow map value. sarad writes node and the initial last_seen_ns; the program refreshes
 * last_seen_ns (bpf_ktime_get_ns, i.e. CLOCK_MONOTONIC) on a hit, see SARA_FP_REFRESH_NS. */
struct sara_fp_flow_value {
    __u32 node;
    __u32 pad;
    __u64 last_seen_ns;
};

/* Node array value (BPF_MAP_TYPE_ARRAY, key = node id): where a hit for that node goes.
 * ifindex 0 = no target (a removed node, or none set): its hits are passed up. */
struct sara_fp_node {
    __u32 ifindex;  /* the LAN interface: the redirect target */
    __u8 dmac[6];   /* the node's MAC */
    __u8 smac[6];   /* the LAN interface's own MAC */
};

/* Config array value (one entry, key 0). */
struct sara_fp_config {
    __be32 vip4;           /* the IPv4 VIP, 0 = none; only packets to a VIP are looked at */
    __u32 pad;
    /* A forwarded packet is dropped when bpf_get_prandom_u32() < degrade_threshold:
     * p * 2^32, so 0 = never and 2^32 (which needs the 64 bits) = always. */
    __u64 degrade_threshold;
    __u8 client_mac[6];    /* XDP: frames to another MAC (promiscuous mode) are passed up */
    __u8 pad2[2];
    __be32 vip6[4];        /* the IPv6 VIP, network order; all zero = none */
};

/* Media range array (BPF_MAP_TYPE_ARRAY, key = UDP destination port in host order, value =
 * __u16 node id, 0 = none). */

/* Per-CPU counter array (BPF_MAP_TYPE_PERCPU_ARRAY, __u64 values). Every packet the program
 * sees is counted exactly once, in one of these; the order matches BpfFastPathCounters. */
enum sara_fp_counter {
    SARA_FP_FLOW_HITS = 0,       /* forwarded from the flow map */
    SARA_FP_RANGE_HITS,          /* forwarded by a media range */
    SARA_FP_PASSED,              /* up the stack: not IP, not for us, not a VIP, not UDP, unknown */
    SARA_FP_DEGRADED_DROPPED,    /* dropped by the degrade probability */
    SARA_FP_BAD_HEADER,          /* malformed or truncated: passed up, never forwarded */
    SARA_FP_FRAGMENTS_PASSED,    /* IPv4 fragments and options, IPv6 extension headers: passed up */
    SARA_FP_TTL_EXPIRED_PASSED,  /* TTL / hop limit <= 1: passed up (the stack answers with ICMP) */
    SARA_FP_NO_NODE_PASSED,      /* a hit whose node has no target: passed up */
    SARA_FP_COUNTERS
};

#ifdef __cplusplus
#define SARA_FP_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SARA_FP_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
SARA_FP_STATIC_ASSERT(sizeof(struct sara_fp_flow_key) == 40, "flow key layout");
SARA_FP_STATIC_ASSERT(sizeof(struct sara_fp_flow_value) == 16, "flow value layout");
SARA_FP_STATIC_ASSERT(sizeof(struct sara_fp_node) == 16, "node value layout");
SARA_FP_STATIC_ASSERT(sizeof(struct sara_fp_config) == 40, "config layout");

#endif /* SARA_FAST_PATH_ABI_H */
