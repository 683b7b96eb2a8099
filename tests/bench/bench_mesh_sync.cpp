// SPDX-License-Identifier: GPL-2.0-or-later
// What replication costs a mesh of active dispatchers (issue 19), against what dispatching a
// call costs, in the same process (these machines drift; only the ratios are compared):
//   dispatch  a SIP call's packets through sarad's decision (INVITE with SDP, ACK, the first
//             RTP packet, BYE; the rest of the media never reaches sarad) with the journal on;
//   send      the placing dispatcher's share: its journal serialised into update datagrams,
//             each encoded and signed (HMAC-SHA256) once, whatever the number of peers;
//   datagram  one sendto() of a signed update datagram to a local UDP socket, drained: paid
//             once per peer;
//   apply     a peer's share: each datagram's HMAC checked, decoded and its records applied.
// Each is per call, in a batch of the calls one sync.interval (50 ms) carries at 1000 calls/s
// on one dispatcher. At the end it prints the work per dispatcher per cluster call for
// N = 1..4 and 16 (the scale model in docs/architecture.md, "Active dispatchers").
#include <benchmark/benchmark.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/wire/control_message.hpp"
#include "common/wire/sync_message.hpp"
#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/ha/state_sync.hpp"
#include "daemon/schedule/scheduler.hpp"
#include "tests/unit/support/ip_builder.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr size_t kBatch = 50;  // calls per 50 ms update at 1000 calls/s

const wire::ClusterKey& cluster_key() {
    static const wire::ClusterKey key = *wire::ClusterKey::from_hex(std::string(64, 'a'), nullptr);
    return key;
}

SessionTableLimits big_limits() {
    SessionTableLimits l;
    l.max_sessions = 4'000'000;
    l.max_flows = 8'000'000;
    return l;
}

NodeEntry node(NodeId id) {
    NodeEntry n;
    n.id = id;
    n.name = "node" + std::to_string(id);
    return n;
}

// One dispatcher's decision path over its own table (no kernel), journal on as in a mesh.
struct Dispatcher {
    ManualClock clock{std::chrono::seconds(1000)};
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{big_limits(), services.timeouts(), clock};
    SessionIdentifier identifier{table, services, *IpAddress::parse(kVip)};
    AdmitAll admit;
    LeastSessionsScheduler scheduler;
    PacketPipeline pipeline{identifier, admit, scheduler, {node(1), node(2), node(3)}, *IpAddress::parse(kVip)};
    uint64_t next_call = 0;

    Dispatcher() { table.enable_journal(true); }

    // Call n's packets; its client is 198.18.(n>>16 & 0xff).(n>>8 & 0xff) port 10000 + (n & 0xff)*2.
    void call() {
        const uint64_t n = next_call++;
        const std::string client = "198.18." + std::to_string(2 + ((n >> 16) & 0x7f)) + "." + std::to_string((n >> 8) & 0xff);
        const uint16_t rtp = uint16_t(10000 + (n & 0xff) * 2);
        const std::string id = "call-" + std::to_string(n) + "@bench";
        using test::sip_message;
        benchmark::DoNotOptimize(pipeline.decide(test::udp_packet(
            client, 5060, kVip, 5060, sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", id, "1 INVITE",
                                                  test::sdp_body(client, rtp)))));
        benchmark::DoNotOptimize(pipeline.decide(
            test::udp_packet(client, 5060, kVip, 5060, sip_message("ACK sip:svc@198.18.100.10 SIP/2.0", id, "1 ACK", ""))));
        benchmark::DoNotOptimize(pipeline.decide(test::udp_packet(client, rtp, kVip, 20000, std::string(172, 'r'))));
        benchmark::DoNotOptimize(pipeline.decide(
            test::udp_packet(client, 5060, kVip, 5060, sip_message("BYE sip:svc@198.18.100.10 SIP/2.0", id, "2 BYE", ""))));
    }
};

// The placing dispatcher's update for kBatch calls, as signed datagrams.
std::vector<std::vector<uint8_t>> batch_datagrams(Dispatcher& d, StateSync& sync) {
    for (size_t i = 0; i < kBatch; ++i) d.call();
    std::vector<std::vector<uint8_t>> out;
    uint32_t seq = 1;
    for (wire::SyncMessage& m : sync.flush(d.table)) {
        m.seq = seq++;
        out.push_back(wire::encode(m, &cluster_key()));
    }
    return out;
}

SyncSettings mesh_settings(uint16_t id) {
    SyncSettings s;
    s.id = id;
    s.mesh_peers = {uint16_t(id == 1 ? 2 : 1)};
    return s;
}

void BM_Dispatch(benchmark::State& state) {
    auto d = std::make_unique<Dispatcher>();
    for (auto _ : state) {
        for (size_t i = 0; i < kBatch; ++i) d->call();
        state.PauseTiming();
        (void)d->table.take_journal();
        if (d->next_call > 500'000) d = std::make_unique<Dispatcher>();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(int64_t(state.iterations() * kBatch));
}

void BM_Send(benchmark::State& state) {
    auto d = std::make_unique<Dispatcher>();
    auto sync = std::make_unique<StateSync>(mesh_settings(1), d->clock);
    (void)sync->set_role(HaRole::active, d->table);
    size_t bytes = 0, datagrams = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (size_t i = 0; i < kBatch; ++i) d->call();
        state.ResumeTiming();
        uint32_t seq = 1;
        for (wire::SyncMessage& m : sync->flush(d->table)) {
            m.seq = seq++;
            const std::vector<uint8_t> datagram = wire::encode(m, &cluster_key());
            bytes += datagram.size();
            ++datagrams;
            benchmark::DoNotOptimize(datagram.data());
        }
        state.PauseTiming();
        if (d->next_call > 500'000) {
            d = std::make_unique<Dispatcher>();
            sync = std::make_unique<StateSync>(mesh_settings(1), d->clock);
            (void)sync->set_role(HaRole::active, d->table);
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(int64_t(state.iterations() * kBatch));
    state.counters["bytes_per_call"] = double(bytes) / double(state.iterations() * kBatch);
    state.counters["datagrams_per_call"] = double(datagrams) / double(state.iterations() * kBatch);
}

void BM_Datagram(benchmark::State& state) {
    Dispatcher d;
    StateSync sync(mesh_settings(1), d.clock);
    (void)sync.set_role(HaRole::active, d.table);
    const std::vector<uint8_t> datagram = batch_datagrams(d, sync).front();
    const int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(rx, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        state.SkipWithError("no loopback UDP socket");
        return;
    }
    char sink[2048];
    for (auto _ : state) {
        benchmark::DoNotOptimize(::sendto(tx, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr), len));
        state.PauseTiming();
        benchmark::DoNotOptimize(::recv(rx, sink, sizeof sink, 0));  // the receiver's side is in BM_Apply
        state.ResumeTiming();
    }
    ::close(rx);
    ::close(tx);
    state.SetItemsProcessed(int64_t(state.iterations()));
}

void BM_Apply(benchmark::State& state) {
    auto sender = std::make_unique<Dispatcher>();
    auto send_sync = std::make_unique<StateSync>(mesh_settings(1), sender->clock);
    (void)send_sync->set_role(HaRole::active, sender->table);
    auto receiver = std::make_unique<Dispatcher>();
    auto sync = std::make_unique<StateSync>(mesh_settings(2), receiver->clock);
    (void)sync->set_role(HaRole::active, receiver->table);
    for (auto _ : state) {
        state.PauseTiming();
        const std::vector<std::vector<uint8_t>> datagrams = batch_datagrams(*sender, *send_sync);
        state.ResumeTiming();
        for (const std::vector<uint8_t>& datagram : datagrams) {
            const wire::Decoded d = wire::decode(datagram, &cluster_key());
            benchmark::DoNotOptimize(sync->on_message(d.sync, receiver->table));
        }
        state.PauseTiming();
        if (sender->next_call > 500'000) {
            sender = std::make_unique<Dispatcher>();
            send_sync = std::make_unique<StateSync>(mesh_settings(1), sender->clock);
            (void)send_sync->set_role(HaRole::active, sender->table);
            receiver = std::make_unique<Dispatcher>();
            sync = std::make_unique<StateSync>(mesh_settings(2), receiver->clock);
            (void)sync->set_role(HaRole::active, receiver->table);
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(int64_t(state.iterations() * kBatch));
}

BENCHMARK(BM_Dispatch);
BENCHMARK(BM_Send);
BENCHMARK(BM_Datagram);
BENCHMARK(BM_Apply);

class CostReporter : public benchmark::ConsoleReporter {
public:
    std::map<std::string, double> per_item_ns;
    std::map<std::string, double> counters;
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            const std::string name = r.run_name.function_name;
            if (const auto it = r.counters.find("items_per_second"); it != r.counters.end() && it->second.value > 0)
                per_item_ns[name] = 1e9 / it->second.value;
            for (const auto& [k, v] : r.counters) counters[name + "." + k] = v.value;
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    CostReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const double dispatch = reporter.per_item_ns["BM_Dispatch"], send = reporter.per_item_ns["BM_Send"];
    const double datagram = reporter.per_item_ns["BM_Datagram"], apply = reporter.per_item_ns["BM_Apply"];
    const double per_call = reporter.counters["BM_Send.datagrams_per_call"];
    const double bytes = reporter.counters["BM_Send.bytes_per_call"];
    if (dispatch <= 0 || send <= 0 || datagram <= 0 || apply <= 0) return 0;  // a filtered run
    std::printf("\nper call: dispatch %.0f ns; sync: send %.0f ns, %.3f datagrams (%.0f bytes), one sendto %.0f ns, "
                "apply %.0f ns\n", dispatch, send, per_call, bytes, datagram, apply);
    // A cluster call is placed by one of N dispatchers and applied by the N-1 others; each
    // dispatcher, per cluster call: dispatch/N + (send + (N-1) sendto)/N + apply (N-1)/N.
    std::printf("work per dispatcher per cluster call (ns), and the sync share of it:\n");
    for (const int n : {1, 2, 3, 4, 16}) {
        const double own = dispatch / n;
        const double sync = (send + (n - 1) * per_call * datagram) / n + apply * (n - 1) / n;
        const double single = dispatch;  // N = 1, no sync: the baseline
        std::printf("  N=%-2d dispatch %6.0f + sync %6.0f = %6.0f ns (%.2fx of one dispatcher alone; sync/dispatch %.2f)\n",
                    n, own, n == 1 ? 0.0 : sync, own + (n == 1 ? 0.0 : sync), (own + (n == 1 ? 0.0 : sync)) / single,
                    n == 1 ? 0.0 : sync / own);
    }
    benchmark::Shutdown();
    return 0;
}
