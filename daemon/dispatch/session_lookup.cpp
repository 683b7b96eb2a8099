// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/session_lookup.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <map>
#include <vector>

namespace sara {
namespace {

constexpr size_t kDefaultClientLimit = 100;

bool parse_port(std::string_view text, uint16_t* port) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535) return false;
    *port = uint16_t(v);
    return true;
}

// A partial flow (the node's port not announced yet) waits for any port of the VIP: "VIP:*".
std::string any_port(const IpAddress& address) {
    std::string text = format_endpoint(address, 0);
    text.back() = '*';
    return text;
}

struct FlowView {
    FlowKey key;
    FlowEntry entry;
};

// Where a flow's packets go now, from what sarad decided (see the header).
const char* flow_path(const LookupContext& c, const Session& s, const FlowKey& key, const FlowEntry& f) {
    if (s.node == kNoNode) return "none";  // refused or not decided: nothing forwards it
    if (!c.mark_mode || c.services.is_signalling(key.proto, key.dst_port)) return "queue";
    if (f.identity == FlowIdentity::announced) return "expected";  // no packet yet: its first is queued
    if (f.offloaded && c.bpf_fast_path) return "bpf";  // in the BPF fast path's flow map (forwarding.fast_path: bpf)
    return "kernel";
}

nlohmann::json flow_json(const LookupContext& c, const Session& s, const FlowView& v, uint32_t now) {
    const char* path = flow_path(c, s, v.key, v.entry);
    const bool partial = v.entry.identity == FlowIdentity::announced && v.key.dst_port == 0;
    return {{"proto", to_string(v.key.proto)},
            {"client", format_endpoint(v.key.src, v.key.src_port)},
            {"server", partial ? any_port(v.key.dst) : format_endpoint(v.key.dst, v.key.dst_port)},
            {"identity", to_string(v.entry.identity)},
            {"status", to_string(v.entry.status)},
            // No packet counts: the table keeps none (see the header); status and idle time instead.
            {"packets", nullptr},
            {"idle_ms", uint32_t(now - v.entry.last_seen_ms)},
            {"path", path},
            {"fast_path", std::string_view(path) == "kernel" || std::string_view(path) == "bpf"}};
}

nlohmann::json session_json(const LookupContext& c, const Session& s, const std::vector<FlowView>& flows) {
    const uint32_t now = c.table.now_ms();
    nlohmann::json jf = nlohmann::json::array();
    bool fast = false;
    for (const FlowView& v : flows) {
        jf.push_back(flow_json(c, s, v, now));
        fast = fast || jf.back()["fast_path"].get<bool>();
    }
    nlohmann::json out = {{"protocol", to_string(s.protocol)},
                          {"key", s.key},
                          {"state", to_string(s.state)},
                          {"node", s.node == kNoNode ? nlohmann::json(nullptr) : nlohmann::json(s.node)},
                          {"node_name", s.node == kNoNode ? nlohmann::json(nullptr) : nlohmann::json(c.node_name(s.node))},
                          {"age_ms", uint32_t(now - s.created_ms)},
                          {"idle_ms", uint32_t(now - s.last_seen_ms)},
                          {"fast_path", fast},
                          {"flows", std::move(jf)}};
    // SIP over UDP is routed datagram by datagram by its Call-ID: its 5-tuple is no flow of
    // the session (one client socket may carry many calls), so it is not listed.
    if (s.protocol == ServiceProtocol::sip) out["signalling"] = "per message by Call-ID (UDP) or its TCP connection's flow";
    return out;
}

// Every flow of the sessions in `ids`, in one pass over the flow index.
std::map<SessionId, std::vector<FlowView>> flows_of(const SessionTable& table, const std::vector<SessionId>& ids) {
    std::map<SessionId, std::vector<FlowView>> out;
    for (SessionId id : ids) out[id];
    table.for_each_flow([&](const FlowKey& key, const FlowEntry& e) {
        auto it = out.find(e.session);
        if (it != out.end()) it->second.push_back({key, e});
    });
    for (auto& [id, flows] : out)
        std::sort(flows.begin(), flows.end(),
                  [](const FlowView& a, const FlowView& b) { return a.key.to_string() < b.key.to_string(); });
    return out;
}

nlohmann::json sessions_json(const LookupContext& c, const std::vector<SessionId>& ids) {
    nlohmann::json sessions = nlohmann::json::array();
    const auto flows = flows_of(c.table, ids);
    for (SessionId id : ids) sessions.push_back(session_json(c, c.table.session(id), flows.at(id)));
    return sessions;
}

nlohmann::json by_key(std::string_view key, const LookupContext& c) {
    if (key.empty()) return {{"error", "lookup key needs a KEY (a SIP Call-ID or an RTSP Session id)"}};
    std::vector<SessionId> ids;
    // The same text may key a SIP call and an RTSP session: both are shown.
    for (ServiceProtocol p : {ServiceProtocol::sip, ServiceProtocol::rtsp})
        if (const SessionId id = c.table.find_session(p, key); id != kNoSession) ids.push_back(id);
    return {{"sessions", sessions_json(c, ids)}};
}

nlohmann::json by_client(std::string_view args, const LookupContext& c) {
    const size_t space = args.find(' ');
    const std::string_view endpoint_text = args.substr(0, space);
    size_t limit = kDefaultClientLimit;
    if (space != std::string_view::npos) {
        const std::string_view text = args.substr(space + 1);
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || limit == 0)
            return {{"error", "lookup client: LIMIT must be a positive number, not '" + std::string(text) + "'"}};
    }
    std::string error;
    const std::optional<ClientEndpoint> endpoint = parse_client_endpoint(endpoint_text, &error);
    if (!endpoint) return {{"error", "lookup client: " + error}};
    std::vector<SessionId> ids;
    bool truncated = false;
    // In the order the flow index holds them; a session is listed once, however many flows match.
    std::set<SessionId> seen;
    c.table.for_each_flow([&](const FlowKey& key, const FlowEntry& e) {
        if (key.src != endpoint->address || (endpoint->port != 0 && key.src_port != endpoint->port)) return;
        if (seen.contains(e.session)) return;
        if (ids.size() >= limit) {
            truncated = true;
            return;
        }
        seen.insert(e.session);
        ids.push_back(e.session);
    });
    return {{"sessions", sessions_json(c, ids)}, {"truncated", truncated}};
}

}  // namespace

std::optional<ClientEndpoint> parse_client_endpoint(std::string_view text, std::string* error) {
    ClientEndpoint e;
    std::string_view address = text, port;
    if (text.starts_with('[')) {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
            *error = "'" + std::string(text) + "' is not [IPV6] or [IPV6]:PORT";
            return std::nullopt;
        }
        address = text.substr(1, close - 1);
        if (close + 1 < text.size()) port = text.substr(close + 2);
        if (close + 1 < text.size() && port.empty()) port = ":";  // "[v6]:" is a missing port
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const size_t colon = text.find(':');
        address = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty()) port = ":";
    }
    const std::optional<IpAddress> parsed = IpAddress::parse(address);
    if (!parsed) {
        *error = "'" + std::string(text) + "' is not an address (ADDR, ADDR:PORT, [IPV6]:PORT)";
        return std::nullopt;
    }
    e.address = *parsed;
    if (!port.empty() && !parse_port(port, &e.port)) {
        *error = "the port in '" + std::string(text) + "' is not 1-65535";
        return std::nullopt;
    }
    return e;
}

nlohmann::json lookup_sessions(std::string_view args, const LookupContext& context) {
    if (args.starts_with("key ")) return by_key(args.substr(4), context);
    if (args.starts_with("client ")) return by_client(args.substr(7), context);
    return {{"error", "lookup wants `key KEY` or `client ADDR[:PORT] [LIMIT]`"}};
}

}  // namespace sara
