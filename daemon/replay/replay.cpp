// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/replay/replay.hpp"

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "common/announce/outgoing_inspector.hpp"
#include "common/net/packet.hpp"
#include "common/util/clock.hpp"
#include "daemon/identify/session_identifier.hpp"
#include "daemon/replay/pcap_reader.hpp"

namespace sara {
namespace {

constexpr const char* kUsage =
    "usage: sarad replay --vip ADDR [--service PROTO/TRANSPORT/PORT ...] [--json] CAPTURE.pcap\n"
    "  PROTO is sip, rtsp or plain; default services: sip/udp/5060 sip/tcp/5060 rtsp/tcp/554\n";

struct Options {
    IpAddress vip;
    std::vector<Service> services;
    bool json = false;
    std::string capture;
};

// Returns an error message, empty on success.
std::string parse_options(const std::vector<std::string>& args, Options& o) {
    bool have_vip = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--json") {
            o.json = true;
        } else if (a == "--vip" || a == "--service") {
            if (i + 1 == args.size()) return a + " needs a value";
            const std::string& v = args[++i];
            if (a == "--vip") {
                const auto vip = IpAddress::parse(v);
                if (!vip) return "--vip: not an IP address: " + v;
                o.vip = *vip;
                have_vip = true;
            } else {
                const auto s = ServiceMap::parse_spec(v);
                if (!s) return "--service: expected PROTO/TRANSPORT/PORT (e.g. sip/udp/5060), got " + v;
                o.services.push_back(*s);
            }
        } else if (!a.empty() && a[0] == '-') {
            return "unknown option " + a;
        } else if (o.capture.empty()) {
            o.capture = a;
        } else {
            return "more than one capture file given";
        }
    }
    if (!have_vip) return "--vip is required";
    if (o.capture.empty()) return "no capture file given";
    return {};
}

// What the replay saw of one flow of one session (the table keeps no per-session packet
// counts for shared signalling 5-tuples, so the replay counts them itself).
struct FlowSeen {
    FlowIdentity identity = FlowIdentity::signalling;
    uint64_t packets = 0;
};
struct FlowKeyLess {
    bool operator()(const FlowKey& a, const FlowKey& b) const { return a.to_string() < b.to_string(); }
};
using SessionFlows = std::map<FlowKey, FlowSeen, FlowKeyLess>;

struct Report {
    std::map<SessionId, SessionFlows> flows;
    uint64_t packets_in = 0, packets_out = 0, packets_other = 0, decode_errors = 0;
};

void account(const DecodedPacket& p, const Classification& c, Report& report) {
    if (c.outcome != PacketOutcome::classified) return;
    const FlowKey key = p.flow_key();
    auto count = [&](SessionId id) {
        FlowSeen& seen = report.flows[id][key];
        ++seen.packets;
        seen.identity = c.identity;
    };
    if (c.carried_count == 0) count(c.session);
    for (uint8_t i = 0; i < c.carried_count; ++i) count(c.carried[i]);
}

nlohmann::json to_json(SessionTable& table, Report& report) {
    // Flows the table holds that carried no packet (announced, partial) are listed too.
    table.for_each_flow([&](const FlowKey& key, const FlowEntry& e) {
        auto& flows = report.flows[e.session];
        auto it = flows.find(key);
        if (it == flows.end()) flows[key] = FlowSeen{e.identity, 0};
        else it->second.identity = e.identity;
    });
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& [id, flows] : report.flows) {
        const Session& s = table.session(id);
        nlohmann::json jf = nlohmann::json::array();
        for (const auto& [key, seen] : flows)
            jf.push_back({{"proto", to_string(key.proto)},
                          {"client", format_endpoint(key.src, key.src_port)},
                          {"server", format_endpoint(key.dst, key.dst_port)},
                          {"identity", to_string(seen.identity)},
                          {"packets", seen.packets}});
        sessions.push_back({{"protocol", to_string(s.protocol)},
                            {"key", s.key},
                            {"state", to_string(s.state)},
                            {"node", s.node == kNoNode ? nlohmann::json(nullptr) : nlohmann::json(s.node)},
                            {"flows", std::move(jf)}});
    }
    return {{"sessions", std::move(sessions)}};
}

void print_table(const nlohmann::json& doc, const Report& report, const SessionIdentifier& identifier,
                 const OutgoingInspector& inspector, std::ostream& out) {
    out << std::left << std::setw(6) << "#" << std::setw(7) << "PROTO" << std::setw(11) << "STATE"
        << "KEY\n";
    size_t n = 0;
    std::map<std::string, size_t> by_protocol, by_state;
    for (const auto& s : doc["sessions"]) {
        ++n;
        ++by_protocol[s["protocol"].get<std::string>()];
        ++by_state[s["state"].get<std::string>()];
        const std::string key = s["key"].get<std::string>();
        out << std::left << std::setw(6) << n << std::setw(7) << s["protocol"].get<std::string>() << std::setw(11)
            << s["state"].get<std::string>() << (key.empty() ? "-" : key) << "\n";
        for (const auto& f : s["flows"])
            out << "      " << std::setw(4) << f["proto"].get<std::string>() << std::setw(44)
                << (f["client"].get<std::string>() + " > " + f["server"].get<std::string>()) << std::setw(11)
                << f["identity"].get<std::string>() << f["packets"].get<uint64_t>() << " packets\n";
    }
    out << "\n" << n << " sessions:";
    for (const auto& [k, v] : by_protocol) out << " " << k << "=" << v;
    for (const auto& [k, v] : by_state) out << " " << k << "=" << v;
    out << "\npackets: " << report.packets_in << " to the VIP, " << report.packets_out << " from the VIP, "
        << report.packets_other << " other, " << report.decode_errors << " undecodable\n";
    auto print_nonzero = [&](const char* name, const char*, uint64_t v) {
        if (v) out << "  " << name << " " << v << "\n";
    };
    out << "counters:\n";
    identifier.counters().for_each(print_nonzero);
    const_cast<SessionIdentifier&>(identifier).table().counters().for_each(print_nonzero);
    inspector.counters().for_each(print_nonzero);
}

}  // namespace

int replay_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    Options options;
    if (const std::string e = parse_options(args, options); !e.empty()) {
        err << "sarad replay: " << e << "\n" << kUsage;
        return 2;
    }
    PcapReader reader(options.capture);
    if (!reader.error().empty()) {
        err << "sarad replay: " << options.capture << ": " << reader.error() << "\n";
        return 1;
    }
    const ServiceMap services = options.services.empty() ? ServiceMap::defaults() : ServiceMap(options.services);
    ManualClock clock;
    SessionTable table(SessionTableLimits{}, services.timeouts(), clock);
    SessionIdentifier identifier(table, services, options.vip);
    OutgoingInspector inspector(services, options.vip);
    Report report;
    std::vector<Announcement> announcements;

    std::span<const uint8_t> bytes;
    std::chrono::nanoseconds timestamp{};
    while (reader.next(bytes, timestamp)) {
        clock.set(timestamp);
        const DecodeResult d = decode_ip_packet(bytes);
        if (!d.ok()) {
            ++report.decode_errors;
            continue;
        }
        if (d.packet.dst == options.vip) {
            ++report.packets_in;
            account(d.packet, identifier.classify(d.packet), report);
        } else if (d.packet.src == options.vip) {
            ++report.packets_out;
            announcements.clear();
            inspector.inspect(d.packet, announcements);
            for (const Announcement& a : announcements) identifier.apply(a);
        } else {
            ++report.packets_other;
        }
    }
    if (!reader.error().empty()) {
        err << "sarad replay: " << options.capture << ": " << reader.error() << "\n";
        return 1;
    }
    const nlohmann::json doc = to_json(table, report);
    if (options.json) out << doc.dump(2) << "\n";
    else print_table(doc, report, identifier, inspector, out);
    return 0;
}

}  // namespace sara
