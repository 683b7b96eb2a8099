// SPDX-License-Identifier: GPL-2.0-or-later
// How long from sarad's decision that a flow takes the BPF fast path until the program
// forwards the flow's packets (issue 17's goal: at most 50 µs at the 99th percentile). sarad
// puts the entry (BpfFastPath::put_flow, one map update) before it gives the verdict of the
// packet that decided it, so every later packet of the flow meets it: the delay is the update
// itself, measured here, and then the flow's first packet through the program (one
// BPF_PROG_TEST_RUN on a crafted frame, which must come out redirected: a hit).
//
//   bpf_map_update [--object PATH] [--count N] [--prefill N] [--max-flows N]
//
// --prefill puts that many other flows first, so the updates meet a map as full as a busy
// dispatcher's. The program is loaded with "lo" as client and LAN interface and attached to
// nothing. Needs root (CAP_BPF). Prints one JSON line: the percentiles of the update alone
// and of update + first hit, in µs, and the number of first packets that missed (must be 0).
#include <linux/pkt_cls.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/forward/bpf_fast_path.hpp"
#include "tests/unit/support/bpf_frames.hpp"

using namespace sara;
using namespace sara::test::bpf;

namespace {

// The n-th flow (n < 2^24): client 198.19.A.B:P → VIP:6000, a distinct 5-tuple for each n.
// Never sent anywhere: the program runs on a copy of the frame.
FlowKey flow(uint32_t n) {
    const uint8_t a[4] = {198, 19, uint8_t(n >> 16), uint8_t(n >> 8)};
    return FlowKey{IpAddress::v4(a), kVip, uint16_t(1024 + (n & 0xff)), 6000, IpProto::udp};
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

int usage() {
    std::fprintf(stderr, "usage: bpf_map_update [--object PATH] [--count N] [--prefill N] [--max-flows N]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string object = (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() /
                          "sara_fast_path.bpf.o").string();
    uint32_t count = 20000, prefill = 500000, max_flows = 1u << 20;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) return usage();
        const char* value = argv[++i];
        if (arg == "--object") object = value;
        else if (arg == "--count") count = uint32_t(std::strtoul(value, nullptr, 10));
        else if (arg == "--prefill") prefill = uint32_t(std::strtoul(value, nullptr, 10));
        else if (arg == "--max-flows") max_flows = uint32_t(std::strtoul(value, nullptr, 10));
        else return usage();
    }
    if (count == 0 || uint64_t(count) + prefill > max_flows) return usage();
    std::string error;
    auto fp = BpfFastPath::load(BpfFastPathSpec{.object_path = object, .client_interface = "lo", .lan_interface = "lo",
                                                .vip = kVip, .hook = BpfHook::tc, .max_flows = max_flows},
                                &error);
    if (!fp) {
        std::fprintf(stderr, "bpf_map_update: %s\n", error.c_str());
        return 1;
    }
    fp->set_nodes({{.id = 1, .mac = {0x02, 0x00, 0x00, 0x00, 0x01, 0x01}}});
    for (uint32_t n = 0; n < prefill; ++n)
        if (!fp->put_flow(flow(count + n), 1)) {
            std::fprintf(stderr, "bpf_map_update: the map refused prefill flow %u\n", n);
            return 1;
        }
    std::vector<double> update_us, first_hit_us;
    update_us.reserve(count);
    first_hit_us.reserve(count);
    uint32_t misses = 0, refused = 0;
    for (uint32_t n = 0; n < count; ++n) {
        const FlowKey key = flow(n);
        Frame f;
        f.src = key.src;
        f.sport = key.src_port;
        f.dport = key.dst_port;
        const std::vector<uint8_t> frame = build(f);
        const auto t0 = std::chrono::steady_clock::now();
        const bool put = fp->put_flow(key, 1);
        const auto t1 = std::chrono::steady_clock::now();
        const RunResult r = test_run(fp->program_fd(), frame);
        const auto t2 = std::chrono::steady_clock::now();
        refused += !put;
        misses += r.error != 0 || r.retval != TC_ACT_REDIRECT;
        update_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        first_hit_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    }
    std::printf("{\"count\": %u, \"prefilled\": %u, \"max_flows\": %u, \"refused\": %u, \"first_packet_misses\": %u, "
                "\"update_us\": {\"p50\": %.2f, \"p99\": %.2f, \"p999\": %.2f, \"max\": %.2f}, "
                "\"update_and_first_hit_us\": {\"p50\": %.2f, \"p99\": %.2f, \"p999\": %.2f, \"max\": %.2f}}\n",
                count, prefill, max_flows, refused, misses, percentile(update_us, 0.5), percentile(update_us, 0.99),
                percentile(update_us, 0.999), percentile(update_us, 1.0), percentile(first_hit_us, 0.5),
                percentile(first_hit_us, 0.99), percentile(first_hit_us, 0.999), percentile(first_hit_us, 1.0));
    return misses || refused ? 1 : 0;
}
