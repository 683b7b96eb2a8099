// SPDX-License-Identifier: GPL-2.0-or-later
// Parser throughput (messages per second on one core) with a ratio against a baseline run
// in the same process: a memchr walk over the same bytes that only finds line ends, the
// least any line parser must do. Target: SIP INVITE with SDP parsed at >= 1M messages/s.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "common/proto/rtsp.hpp"
#include "common/proto/sdp.hpp"
#include "common/proto/sip.hpp"

using namespace sara;

namespace {

// An INVITE as SIPp's uac scenario sends it, with an SDP offer.
const std::string kSdp =
    "v=0\r\no=user1 53655765 2353687637 IN IP4 198.18.1.2\r\ns=-\r\nc=IN IP4 198.18.1.2\r\nt=0 0\r\n"
    "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const std::string kInvite =
    "INVITE sip:service@198.18.100.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5070;branch=z9hG4bK-31337-1-0\r\n"
    "From: sipp <sip:sipp@198.18.1.2:5070>;tag=31337SIPpTag001\r\n"
    "To: service <sip:service@198.18.100.10:5060>\r\n"
    "Call-ID: 1-31337@198.18.1.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: sip:sipp@198.18.1.2:5070\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: Performance Test\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " + std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp;
const std::string kSetup =
    "SETUP rtsp://198.18.100.10:554/test/stream=0 RTSP/1.0\r\n"
    "CSeq: 3\r\nUser-Agent: Lavf59.27.100\r\n"
    "Transport: RTP/AVP/UDP;unicast;client_port=25000-25001\r\n\r\n";

void BM_LineScanInvite(benchmark::State& state) {
    for (auto _ : state) {
        const char* p = kInvite.data();
        const char* end = p + kInvite.size();
        size_t lines = 0;
        while (const void* nl = std::memchr(p, '\n', size_t(end - p))) {
            p = static_cast<const char*>(nl) + 1;
            ++lines;
        }
        benchmark::DoNotOptimize(lines);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_ParseSipInviteWithSdp(benchmark::State& state) {
    for (auto _ : state) {
        const SipParseResult r = parse_sip_message(kInvite, SipFraming::datagram);
        SdpSummary sdp;
        parse_sdp(r.message.body, sdp);
        benchmark::DoNotOptimize(sdp.media[0].rtp_port);
        benchmark::DoNotOptimize(r.message.call_id.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_ParseRtspSetup(benchmark::State& state) {
    for (auto _ : state) {
        const RtspParseResult r = parse_rtsp_message(kSetup);
        RtspTransport t;
        parse_rtsp_transport(r.message.transport, t);
        benchmark::DoNotOptimize(t.specs[0].client_rtp);
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_LineScanInvite);
BENCHMARK(BM_ParseSipInviteWithSdp);
BENCHMARK(BM_ParseRtspSetup);

class RateReporter : public benchmark::ConsoleReporter {
public:
    std::map<std::string, double> per_second;
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            const auto it = r.counters.find("items_per_second");
            if (it != r.counters.end()) per_second[r.run_name.str()] = it->second.value;
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RateReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const double scan = reporter.per_second["BM_LineScanInvite"];
    const double sip = reporter.per_second["BM_ParseSipInviteWithSdp"];
    const double rtsp = reporter.per_second["BM_ParseRtspSetup"];
    std::printf("\nSIP INVITE+SDP (%zu bytes): %.2fM messages/s (target >= 1M/s: %s), %.2fx the time of a bare line scan\n",
                kInvite.size(), sip / 1e6, sip >= 1e6 ? "met" : "NOT met", scan / sip);
    std::printf("RTSP SETUP+Transport: %.2fM messages/s\n", rtsp / 1e6);
    benchmark::Shutdown();
    return 0;
}
