// SPDX-License-Identifier: GPL-2.0-or-later
// The BPF fast path's program run by the kernel on crafted frames (BPF_PROG_TEST_RUN), both
// hooks, through the loader the daemon uses. Needs root (or CAP_BPF + CAP_NET_ADMIN) and a
// kernel with BPF, as the tests and CI have: a load that fails FAILS the test with the loader's
// reason, it does not skip. The program object: $SARA_BPF_OBJECT, else sara_fast_path.bpf.o
// next to this binary (the Makefile builds it into every build folder).
//
// The program runs with "lo" as client and LAN interface: nothing is attached (BPF_PROG_TEST_RUN
// runs the program on a copy of the frame and reports its verdict; a redirect is not carried
// out). lo's MAC is 00:00:00:00:00:00, so a frame to that MAC is "for us" (tc: PACKET_HOST;
// XDP: the client MAC) and a forwarded frame's source MAC becomes zero. The attach, replace and
// cleanup test runs in a forked child in a network namespace of its own, on a veth pair there.
#include <boost/test/unit_test.hpp>

#include <net/if.h>  // before the kernel headers: linux/if.h steps aside for it
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/forward/bpf_fast_path.hpp"
#include "tests/unit/support/bpf_frames.hpp"

using namespace sara;
using namespace sara::test::bpf;

namespace {

const Mac kNode1Mac{0x02, 0x00, 0x00, 0x00, 0x01, 0x01};
const Mac kNode2Mac{0x02, 0x00, 0x00, 0x00, 0x02, 0x02};

std::string object_path() {
    if (const char* env = std::getenv("SARA_BPF_OBJECT"); env && *env) return env;
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "sara_fast_path.bpf.o").string();
}

BpfFastPathSpec spec_for(BpfHook hook, uint32_t max_flows = 1024) {
    return BpfFastPathSpec{.object_path = object_path(),
                           .client_interface = "lo",
                           .lan_interface = "lo",
                           .vip = kVip,
                           .hook = hook,
                           .max_flows = max_flows};
}

std::unique_ptr<BpfFastPath> load_or_fail(const BpfFastPathSpec& spec) {
    std::string error;
    auto fp = BpfFastPath::load(spec, &error);
    BOOST_REQUIRE_MESSAGE(fp, "BpfFastPath::load failed: " << error);
    BOOST_TEST(error.empty(), "a successful load says nothing: " << error);
    return fp;
}

FlowKey udp_flow(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport) {
    return FlowKey{.src = src, .dst = dst, .src_port = sport, .dst_port = dport, .proto = IpProto::udp};
}

RunResult run(const BpfFastPath& fp, const std::vector<uint8_t>& frame) {
    RunResult result = test_run(fp.program_fd(), frame);
    BOOST_REQUIRE_MESSAGE(result.error == 0, "BPF_PROG_TEST_RUN: " << std::strerror(result.error));
    return result;
}

enum class Expect { pass, drop, forward };

uint32_t retval_for(BpfHook hook, Expect e) {
    if (hook == BpfHook::tc) return e == Expect::pass ? TC_ACT_OK : e == Expect::drop ? TC_ACT_SHOT : TC_ACT_REDIRECT;
    return e == Expect::pass ? XDP_PASS : e == Expect::drop ? XDP_DROP : XDP_REDIRECT;
}

const char* hook_name(BpfHook hook) { return hook == BpfHook::tc ? "tc" : "xdp"; }

std::string describe(const BpfFastPathCounters& c) {
    return "flow_hits " + std::to_string(c.flow_hits) + ", range_hits " + std::to_string(c.range_hits) + ", passed " +
           std::to_string(c.passed) + ", degraded_dropped " + std::to_string(c.degraded_dropped) + ", bad_header " +
           std::to_string(c.bad_header) + ", fragments_passed " + std::to_string(c.fragments_passed) +
           ", ttl_expired_passed " + std::to_string(c.ttl_expired_passed) + ", no_node_passed " +
           std::to_string(c.no_node_passed);
}

bool operator==(const BpfFastPathCounters& a, const BpfFastPathCounters& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// The maps every case starts from: a flow to node 1, node 2's media range 30000-30999, node 3's
// 31000-31099 (node 3 has no target), and a flow inside node 2's range that belongs to node 1.
void fill_maps(BpfFastPath& fp) {
    BOOST_REQUIRE(fp.put_flow(udp_flow(kClient, 40000, kVip, 5004), 1));
    BOOST_REQUIRE(fp.put_flow(udp_flow(kClient, 40002, kVip, 30500), 1));
    fp.set_nodes({{.id = 1, .mac = kNode1Mac}, {.id = 2, .mac = kNode2Mac}});
    fp.set_media_ranges({{PortRange{30000, 30999}, 2}, {PortRange{31000, 31099}, 3}});
}

// A forwarded frame is the input with the node's destination MAC, the LAN's source MAC, TTL - 1
// and a valid header checksum, nothing else changed; any other verdict leaves it untouched.
void check_output(const std::vector<uint8_t>& in, const std::vector<uint8_t>& out, Expect expect, const Mac& node_mac) {
    BOOST_REQUIRE_EQUAL(out.size(), in.size());
    if (expect != Expect::forward) {
        BOOST_TEST(out == in, "the frame is passed up or dropped untouched");
        return;
    }
    BOOST_TEST(std::equal(node_mac.begin(), node_mac.end(), out.begin()), "destination MAC = the node's");
    BOOST_TEST(std::equal(kLoMac.begin(), kLoMac.end(), out.begin() + 6), "source MAC = the LAN interface's");
    BOOST_TEST(out[14 + 8] == in[14 + 8] - 1, "TTL decremented");
    BOOST_TEST(ip_checksum(out.data() + 14, 20) == 0, "header checksum valid");
    std::vector<uint8_t> a(in.begin() + 12, in.end()), b(out.begin() + 12, out.end());
    a[2 + 8] = b[2 + 8];    // TTL
    a[2 + 10] = b[2 + 10];  // checksum
    a[2 + 11] = b[2 + 11];
    BOOST_TEST(a == b, "nothing else changed");
}

struct Case {
    const char* description;
    Frame frame;
    Expect expect;
    uint64_t BpfFastPathCounters::*counter;
    Mac node_mac = kNode1Mac;  // Expect::forward: where to
    double degrade = 0;
    // BPF_PROG_TEST_RUN refuses (EINVAL) to build an skb of an IPv4 frame without a whole IP
    // header, so such frames run through the XDP program only (the decision code is shared).
    bool tc_test_run_takes_it = true;
};

const std::vector<Case>& cases() {
    static const std::vector<Case> table = {
        {"a flow in the map: forwarded to its node", {}, Expect::forward, &BpfFastPathCounters::flow_hits},
        {"a media range: forwarded to the range's node", {.sport = 41000, .dport = 30010}, Expect::forward,
         &BpfFastPathCounters::range_hits, kNode2Mac},
        {"a flow inside a range: the flow's node wins", {.sport = 40002, .dport = 30500}, Expect::forward,
         &BpfFastPathCounters::flow_hits, kNode1Mac},
        {"DF set is not a fragment", {.frag_off = 0x4000}, Expect::forward, &BpfFastPathCounters::flow_hits},
        {"neither flow nor range: passed up", {.dport = 6000}, Expect::pass, &BpfFastPathCounters::passed},
        {"another client port: no flow, passed up", {.sport = 40001}, Expect::pass, &BpfFastPathCounters::passed},
        {"not the VIP: passed up", {.dst = *IpAddress::parse("198.18.100.11")}, Expect::pass,
         &BpfFastPathCounters::passed},
        {"TCP to the VIP: passed up (UDP only)", {.protocol = 6}, Expect::pass, &BpfFastPathCounters::passed},
        {"ARP: passed up", {.ethertype = 0x0806}, Expect::pass, &BpfFastPathCounters::passed},
        {"IPv6 ethertype without an IPv6 VIP: passed up", {.ethertype = 0x86dd}, Expect::pass, &BpfFastPathCounters::passed},
        {"VLAN tag in the frame: passed up", {.ethertype = 0x8100}, Expect::pass, &BpfFastPathCounters::passed},
        {"another host's MAC (promiscuous): passed up", {.dst_mac = {0x02, 0, 0, 0, 0, 0x99}}, Expect::pass,
         &BpfFastPathCounters::passed},
        {"first fragment (MF): passed up", {.frag_off = 0x2000}, Expect::pass,
         &BpfFastPathCounters::fragments_passed},
        {"later fragment (offset): passed up", {.frag_off = 0x0010}, Expect::pass,
         &BpfFastPathCounters::fragments_passed},
        {"IP options: passed up", {.ihl = 6}, Expect::pass, &BpfFastPathCounters::fragments_passed},
        {"IP header cut short", {.cut_to = 14 + 10}, Expect::pass, &BpfFastPathCounters::bad_header, kNode1Mac, 0,
         false},
        {"UDP header cut short", {.payload = 0, .tot_len = 24, .cut_to = 14 + 24}, Expect::pass,
         &BpfFastPathCounters::bad_header},
        {"IP total length beyond the frame", {.tot_len = 200}, Expect::pass, &BpfFastPathCounters::bad_header},
        {"IP total length below the header", {.tot_len = 16}, Expect::pass, &BpfFastPathCounters::bad_header},
        {"IHL below 5", {.ihl = 4}, Expect::pass, &BpfFastPathCounters::bad_header},
        {"IP version 6 in an IPv4 ethertype", {.version = 6}, Expect::pass, &BpfFastPathCounters::bad_header},
        {"an IPv4 ethertype with no IP header", {.cut_to = 14}, Expect::pass, &BpfFastPathCounters::bad_header,
         kNode1Mac, 0, false},
        {"TTL 1: passed up (the stack answers)", {.ttl = 1}, Expect::pass, &BpfFastPathCounters::ttl_expired_passed},
        {"TTL 0: passed up", {.ttl = 0}, Expect::pass, &BpfFastPathCounters::ttl_expired_passed},
        {"a range whose node has no target: passed up", {.sport = 41000, .dport = 31050}, Expect::pass,
         &BpfFastPathCounters::no_node_passed},
        {"degrade p = 1: dropped", {}, Expect::drop, &BpfFastPathCounters::degraded_dropped, kNode1Mac, 1.0},
        {"degrade p = 1 on a range hit: dropped", {.sport = 41000, .dport = 30010}, Expect::drop,
         &BpfFastPathCounters::degraded_dropped, kNode2Mac, 1.0},
        {"degrade p = 1 does not drop what is passed up", {.dport = 6000}, Expect::pass,
         &BpfFastPathCounters::passed, kNode1Mac, 1.0},
    };
    return table;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bpf_fast_path)

BOOST_AUTO_TEST_CASE(the_program_decides_each_crafted_frame_and_counts_it_once) {
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        for (const Case& c : cases()) {
            if (hook == BpfHook::tc && !c.tc_test_run_takes_it) continue;
            BOOST_TEST_CONTEXT(hook_name(hook) << ": " << c.description) {
                auto fp = load_or_fail(spec_for(hook));
                fill_maps(*fp);
                fp->set_degrade_probability(c.degrade);
                const auto in = build(c.frame);
                const RunResult r = run(*fp, in);
                BOOST_TEST(r.retval == retval_for(hook, c.expect));
                check_output(in, r.out, c.expect, c.node_mac);
                BpfFastPathCounters expected;
                expected.*c.counter = 1;
                const BpfFastPathCounters got = fp->counters();
                BOOST_TEST((got == expected), "counters: " << describe(got) << "; expected " << describe(expected));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(degrade_probability_one_drops_zero_forwards_half_drops_half) {
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        BOOST_TEST_CONTEXT(hook_name(hook)) {
            auto fp = load_or_fail(spec_for(hook));
            fill_maps(*fp);
            const auto in = build({});
            fp->set_degrade_probability(1.0);
            BOOST_TEST(run(*fp, in).retval == retval_for(hook, Expect::drop));
            fp->set_degrade_probability(0.0);
            BOOST_TEST(run(*fp, in).retval == retval_for(hook, Expect::forward));
            fp->set_degrade_probability(0.5);
            int dropped = 0;
            for (int i = 0; i < 1000; ++i) dropped += run(*fp, in).retval == retval_for(hook, Expect::drop);
            BOOST_TEST(dropped > 400);  // binomial(1000, 0.5): outside 400..600 with p < 1e-9
            BOOST_TEST(dropped < 600);
            const auto c = fp->counters();
            BOOST_TEST(c.degraded_dropped == 1u + static_cast<uint64_t>(dropped));
            BOOST_TEST(c.flow_hits == 1u + static_cast<uint64_t>(1000 - dropped));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_hit_refreshes_last_seen_at_most_every_250_ms) {
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        BOOST_TEST_CONTEXT(hook_name(hook)) {
            auto fp = load_or_fail(spec_for(hook));
            fill_maps(*fp);
            const FlowKey flow = udp_flow(kClient, 40000, kVip, 5004);
            const auto fresh = fp->flow_idle_ms(flow);
            BOOST_REQUIRE(fresh.has_value());
            BOOST_TEST(*fresh < 50u, "put_flow starts the flow's last-seen time now");

            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            run(*fp, build({}));  // 100 ms after put_flow: not written (one write per 250 ms)
            BOOST_TEST(*fp->flow_idle_ms(flow) >= 100u);

            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            BOOST_TEST(*fp->flow_idle_ms(flow) >= 300u);
            run(*fp, build({}));  // 300 ms: refreshed
            BOOST_TEST(*fp->flow_idle_ms(flow) < 50u);

            run(*fp, build({.sport = 41000, .dport = 30010}));  // a range hit has no state
            BOOST_TEST(!fp->flow_idle_ms(udp_flow(kClient, 41000, kVip, 30010)).has_value());
            BOOST_TEST(fp->counters().flow_hits == 2u);
            BOOST_TEST(fp->counters().range_hits == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_deleted_flow_goes_up_the_stack_again) {
    auto fp = load_or_fail(spec_for(BpfHook::tc));
    fill_maps(*fp);
    const FlowKey flow = udp_flow(kClient, 40000, kVip, 5004);
    BOOST_TEST(run(*fp, build({})).retval == static_cast<uint32_t>(TC_ACT_REDIRECT));
    fp->delete_flow(flow);
    fp->delete_flow(flow);  // not there: nothing happens
    BOOST_TEST(!fp->flow_idle_ms(flow).has_value());
    BOOST_TEST(run(*fp, build({})).retval == static_cast<uint32_t>(TC_ACT_OK));
    BOOST_TEST(fp->counters().flow_hits == 1u);
    BOOST_TEST(fp->counters().passed == 1u);
}

// Issue 18: IPv6 frames to an IPv6 VIP through both hooks. A forwarded frame is the input with
// the node's MACs and the hop limit - 1 (IPv6 has no header checksum), nothing else changed.
BOOST_AUTO_TEST_CASE(ipv6_frames_are_forwarded_by_flow_and_range_and_passed_up_otherwise) {
    const IpAddress vip6 = *IpAddress::parse("2001:db8:100::10");
    const IpAddress client6 = *IpAddress::parse("2001:db8:1::2");
    const Frame base{.ethertype = 0x86dd, .version = 6, .src = client6, .dst = vip6};
    auto with = [&](auto change) {
        Frame f = base;
        change(f);
        return f;
    };
    struct V6Case {
        const char* description;
        Frame frame;
        Expect expect;
        uint64_t BpfFastPathCounters::*counter;
        Mac node_mac = kNode1Mac;
    };
    const std::vector<V6Case> v6_cases = {
        {"a flow in the map: forwarded", base, Expect::forward, &BpfFastPathCounters::flow_hits},
        {"a media range: forwarded to its node", with([](Frame& f) { f.sport = 41000, f.dport = 30010; }),
         Expect::forward, &BpfFastPathCounters::range_hits, kNode2Mac},
        {"neither flow nor range: passed up", with([](Frame& f) { f.dport = 6000; }), Expect::pass,
         &BpfFastPathCounters::passed},
        {"not the VIP: passed up", with([](Frame& f) { f.dst = *IpAddress::parse("2001:db8:100::11"); }),
         Expect::pass, &BpfFastPathCounters::passed},
        {"TCP: passed up", with([](Frame& f) { f.protocol = 6; }), Expect::pass, &BpfFastPathCounters::passed},
        {"a hop-by-hop header: passed up", with([](Frame& f) { f.protocol = 0; }), Expect::pass,
         &BpfFastPathCounters::fragments_passed},
        {"a destination options header: passed up", with([](Frame& f) { f.protocol = 60; }), Expect::pass,
         &BpfFastPathCounters::fragments_passed},
        {"hop limit 1: passed up", with([](Frame& f) { f.ttl = 1; }), Expect::pass,
         &BpfFastPathCounters::ttl_expired_passed},
        {"payload length beyond the frame", with([](Frame& f) { f.tot_len = 400; }), Expect::pass,
         &BpfFastPathCounters::bad_header},
        {"UDP header cut short", with([](Frame& f) { f.payload = 0, f.tot_len = 4, f.cut_to = 14 + 44; }),
         Expect::pass, &BpfFastPathCounters::bad_header},
        {"version 4 in an IPv6 ethertype", with([](Frame& f) { f.version = 4; }), Expect::pass,
         &BpfFastPathCounters::bad_header},
    };
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        for (const V6Case& c : v6_cases) {
            BOOST_TEST_CONTEXT(hook_name(hook) << ": " << c.description) {
                BpfFastPathSpec spec = spec_for(hook);
                spec.vip.add(vip6);
                auto fp = load_or_fail(spec);
                fill_maps(*fp);
                BOOST_REQUIRE(fp->put_flow(udp_flow(client6, 40000, vip6, 5004), 1));
                const auto in = build(c.frame);
                const RunResult r = run(*fp, in);
                BOOST_TEST(r.retval == retval_for(hook, c.expect));
                BOOST_REQUIRE_EQUAL(r.out.size(), in.size());
                if (c.expect == Expect::forward) {
                    BOOST_TEST(std::equal(c.node_mac.begin(), c.node_mac.end(), r.out.begin()));
                    BOOST_TEST(r.out[14 + 7] == in[14 + 7] - 1, "hop limit decremented");
                    std::vector<uint8_t> a(in.begin() + 12, in.end()), b(r.out.begin() + 12, r.out.end());
                    a[2 + 7] = b[2 + 7];
                    BOOST_TEST(a == b, "nothing else changed");
                } else {
                    BOOST_TEST(r.out == in);
                }
                BpfFastPathCounters expected;
                expected.*c.counter = 1;
                const BpfFastPathCounters got = fp->counters();
                BOOST_TEST((got == expected), "counters: " << describe(got) << "; expected " << describe(expected));
            }
        }
        // Without an IPv6 VIP no IPv6 frame is the program's, not even one of a known flow.
        BOOST_TEST_CONTEXT(hook_name(hook) << ": no IPv6 VIP") {
            auto fp = load_or_fail(spec_for(hook));
            fill_maps(*fp);
            BOOST_REQUIRE(fp->put_flow(udp_flow(client6, 40000, vip6, 5004), 1));
            BOOST_TEST(run(*fp, build(base)).retval == retval_for(hook, Expect::pass));
            BOOST_TEST(fp->counters().passed == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(put_flow_refuses_keys_the_program_cannot_match) {
    auto fp = load_or_fail(spec_for(BpfHook::tc));
    const IpAddress v6 = *IpAddress::parse("2001:db8::1");
    const IpAddress vip6 = *IpAddress::parse("2001:db8::10");
    struct {
        const char* description;
        FlowKey key;
        NodeId node;
    } const refused[] = {
        {"mixed families", udp_flow(v6, 40000, kVip, 5004), 1},
        {"IPv6 TCP", FlowKey{.src = v6, .dst = vip6, .src_port = 40000, .dst_port = 5004, .proto = IpProto::tcp}, 1},
        {"TCP", FlowKey{.src = kClient, .dst = kVip, .src_port = 40000, .dst_port = 5004, .proto = IpProto::tcp}, 1},
        {"zero destination port (partial flow)", udp_flow(kClient, 40000, kVip, 0), 1},
        {"zero source port", udp_flow(kClient, 0, kVip, 5004), 1},
        {"no node", udp_flow(kClient, 40000, kVip, 5004), kNoNode},
    };
    for (const auto& r : refused) {
        BOOST_TEST_CONTEXT(r.description) {
            BOOST_TEST(!fp->put_flow(r.key, r.node));
            BOOST_TEST(!fp->flow_idle_ms(r.key).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_full_flow_map_refuses_new_flows_but_updates_known_ones) {
    auto fp = load_or_fail(spec_for(BpfHook::tc, 4));
    for (uint16_t port = 1; port <= 4; ++port) BOOST_TEST(fp->put_flow(udp_flow(kClient, port, kVip, 5004), 1));
    BOOST_TEST(!fp->put_flow(udp_flow(kClient, 5, kVip, 5004), 1), "the fifth flow does not fit");
    BOOST_TEST(fp->put_flow(udp_flow(kClient, 4, kVip, 5004), 2), "a known flow may move to another node");
    fp->delete_flow(udp_flow(kClient, 1, kVip, 5004));
    BOOST_TEST(fp->put_flow(udp_flow(kClient, 5, kVip, 5004), 1), "room again after a delete");
}

BOOST_AUTO_TEST_CASE(clear_flows_empties_the_map_in_batches) {
    auto fp = load_or_fail(spec_for(BpfHook::tc, 20000));
    fill_maps(*fp);
    // More than one batch (4096 entries), and the flow the crafted frame hits among them.
    for (uint16_t port = 1; port <= 10000; ++port) BOOST_REQUIRE(fp->put_flow(udp_flow(kClient, port, kVip, 6000), 1));
    BOOST_TEST(run(*fp, build({})).retval == static_cast<uint32_t>(TC_ACT_REDIRECT));
    BOOST_TEST(fp->clear_flows() == 10002u);  // and fill_maps's two
    BOOST_TEST(!fp->flow_idle_ms(udp_flow(kClient, 40000, kVip, 5004)).has_value());
    BOOST_TEST(!fp->flow_idle_ms(udp_flow(kClient, 9999, kVip, 6000)).has_value());
    BOOST_TEST(run(*fp, build({})).retval == static_cast<uint32_t>(TC_ACT_OK));
    BOOST_TEST(fp->clear_flows() == 0u);
    BOOST_TEST(fp->put_flow(udp_flow(kClient, 1, kVip, 6000), 1), "usable again");
}

BOOST_AUTO_TEST_CASE(nodes_and_ranges_are_replaced_as_a_whole) {
    auto fp = load_or_fail(spec_for(BpfHook::xdp));
    fill_maps(*fp);
    // Node 2 removed, its range given to node 1: the range now forwards to node 1.
    fp->set_nodes({{.id = 1, .mac = kNode1Mac}});
    fp->set_media_ranges({{PortRange{30000, 30099}, 1}});
    const auto range_frame = build({.sport = 41000, .dport = 30010});
    const RunResult moved = run(*fp, range_frame);
    BOOST_TEST(moved.retval == static_cast<uint32_t>(XDP_REDIRECT));
    check_output(range_frame, moved.out, Expect::forward, kNode1Mac);
    BOOST_TEST(run(*fp, build({.sport = 41000, .dport = 30500})).retval == static_cast<uint32_t>(XDP_PASS),
               "30500 left the ranges");
    // A node with a zero MAC has no target.
    fp->set_nodes({{.id = 1, .mac = Mac{}}});
    BOOST_TEST(run(*fp, build({})).retval == static_cast<uint32_t>(XDP_PASS));
    const auto c = fp->counters();
    BOOST_TEST(c.range_hits == 1u);
    BOOST_TEST(c.passed == 1u);
    BOOST_TEST(c.no_node_passed == 1u);
}

BOOST_AUTO_TEST_CASE(load_failures_say_why) {
    std::string error;
    auto spec = spec_for(BpfHook::tc);
    spec.object_path = "/nonexistent/sara_fast_path.bpf.o";
    BOOST_TEST(!BpfFastPath::load(spec, &error));
    BOOST_TEST(error.find("/nonexistent/sara_fast_path.bpf.o") != std::string::npos, error);

    error.clear();
    spec = spec_for(BpfHook::tc);
    spec.lan_interface = "sara-no-such0";
    BOOST_TEST(!BpfFastPath::load(spec, &error));
    BOOST_TEST(error.find("lan_interface sara-no-such0") != std::string::npos, error);

    error.clear();
    spec = spec_for(BpfHook::tc);
    spec.vip = VipSet{};
    BOOST_TEST(!BpfFastPath::load(spec, &error));
    BOOST_TEST(error.find("needs a unicast VIP") != std::string::npos, error);
}

// What the kernel holds: the names a cleanup matches, the verifier's instruction counts, and
// the maps' memory at the default size (1M flows).
BOOST_AUTO_TEST_CASE(kernel_names_sizes_and_memory) {
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        BOOST_TEST_CONTEXT(hook_name(hook)) {
            auto fp = load_or_fail(spec_for(hook, 1u << 20));
            bpf_prog_info info{};
            uint32_t length = sizeof info;
            BOOST_REQUIRE(bpf_obj_get_info_by_fd(fp->program_fd(), &info, &length) == 0);
            const std::string name(info.name);
            BOOST_TEST(name == (hook == BpfHook::tc ? "sara_fast_path" : "sara_fast_path_"));
            BOOST_TEST(info.xlated_prog_len > 0u);
            BOOST_TEST_MESSAGE(hook_name(hook) << ": program '" << name << "' " << info.xlated_prog_len / 8
                                               << " instructions, JIT " << info.jited_prog_len << " bytes, verifier "
                                               << info.verified_insns << " instructions processed; maps at 1M flows "
                                               << fp->map_memory_bytes() << " bytes");
            BOOST_TEST(fp->map_memory_bytes() > (1u << 20) * 56u, "at least key + value per flow");
        }
    }
}

namespace {

// Runs in the forked child, inside its own network namespace; "" = all good, else what failed.
std::string attach_and_cleanup_in_namespace() {
    libbpf_set_print(nullptr);  // the queries below ask about hooks that are gone: expected, not news
    if (unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    if (std::system("ip link add sara-c0 type veth peer name sara-c1 && ip link set sara-c0 up && "
                    "ip link set sara-c1 up") != 0)
        return "ip link add (veth) failed";
    const int ifindex = static_cast<int>(if_nametoindex("sara-c0"));
    auto tc_program = [&]() -> uint32_t {
        bpf_tc_hook hook{};
        hook.sz = sizeof hook;
        hook.ifindex = ifindex;
        hook.attach_point = BPF_TC_INGRESS;
        bpf_tc_opts opts{};
        opts.sz = sizeof opts;
        opts.handle = BpfFastPath::kTcHandle;
        opts.priority = BpfFastPath::kTcPriority;
        return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
    };
    auto xdp_program = [&]() -> uint32_t {
        uint32_t id = 0;
        return bpf_xdp_query_id(ifindex, 0, &id) == 0 ? id : 0;
    };
    auto id_of = [](const BpfFastPath& fp) -> uint32_t {
        bpf_prog_info info{};
        uint32_t length = sizeof info;
        return bpf_obj_get_info_by_fd(fp.program_fd(), &info, &length) == 0 ? info.id : 0;
    };
    for (BpfHook hook : {BpfHook::tc, BpfHook::xdp}) {
        const std::string h = hook_name(hook);
        auto on_interface = hook == BpfHook::tc ? std::function<uint32_t()>(tc_program) : xdp_program;
        BpfFastPathSpec spec = spec_for(hook);
        spec.client_interface = "sara-c0";
        spec.lan_interface = "sara-c1";
        std::string error;
        auto first = BpfFastPath::load(spec, &error);
        if (!first) return h + ": load: " + error;
        if (auto ec = first->attach(&error)) return h + ": attach: " + error;
        if (!first->attached() || on_interface() != id_of(*first)) return h + ": not attached after attach()";
        if (auto ec = first->attach(&error)) return h + ": a second attach() is not a no-op: " + error;
        // A second run (a restart after a crash) replaces the first's program in one step.
        auto second = BpfFastPath::load(spec, &error);
        if (!second) return h + ": second load: " + error;
        if (auto ec = second->attach(&error)) return h + ": replacing attach: " + error;
        if (on_interface() != id_of(*second)) return h + ": the second program did not replace the first";
        first.reset();  // detaches only its own program: the second's stays
        if (on_interface() != id_of(*second)) return h + ": the first object's detach removed the second's program";
        // What a crashed run leaves is found by name and removed.
        const size_t removed = BpfFastPath::remove_leftovers(&error);
        if (removed != 1 || !error.empty())
            return h + ": remove_leftovers removed " + std::to_string(removed) + " (want 1): " + error;
        if (on_interface() != 0) return h + ": still attached after remove_leftovers";
        if (auto ec = second->detach(&error)) return h + ": detach of a removed program: " + error;
        if (BpfFastPath::remove_leftovers(&error) != 0) return h + ": a second remove_leftovers found something";
        // attach, detach: nothing left.
        if (auto ec = second->attach(&error)) return h + ": attach after cleanup: " + error;
        if (auto ec = second->detach(&error)) return h + ": detach: " + error;
        if (on_interface() != 0 || second->attached()) return h + ": still attached after detach()";
        if (hook == BpfHook::tc && std::system("tc qdisc show dev sara-c0 | grep -q clsact") == 0)
            return h + ": the empty clsact qdisc was left behind";
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(attach_replace_detach_and_leftovers_in_a_network_namespace) {
    int report[2];
    BOOST_REQUIRE(pipe(report) == 0);
    const pid_t child = fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        close(report[0]);
        const std::string failure = attach_and_cleanup_in_namespace();
        if (!failure.empty()) (void)!write(report[1], failure.data(), failure.size());
        _exit(failure.empty() ? 0 : 1);  // the namespace and its veth pair go with the process
    }
    close(report[1]);
    std::string failure;
    char buf[512];
    for (ssize_t n; (n = read(report[0], buf, sizeof buf)) > 0;) failure.append(buf, static_cast<size_t>(n));
    close(report[0]);
    int status = 0;
    BOOST_REQUIRE(waitpid(child, &status, 0) == child);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "child: " << failure);
}

BOOST_AUTO_TEST_SUITE_END()
