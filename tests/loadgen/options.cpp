// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/options.hpp"

#include <charconv>
#include <functional>
#include <map>
#include <optional>

#include "common/net/endpoint.hpp"
#include "common/net/ip_address.hpp"

namespace sara::loadgen {

const char* const kUsage =
    "usage: sip-loadgen uac --target HOST[:PORT] --rate CALLS_PER_S --calls N [--transport u1|un]\n"
    "                       [--local HOST[:PORT]] [--max-seconds S] [--t1-ms MS] [--service USER]\n"
    "                       [--media-port P] [--buffer-bytes B] [--run HEX]\n"
    "       sip-loadgen uas --listen HOST[:PORT] [--sockets N] [--max-seconds S] [--media-port P]\n"
    "                       [--buffer-bytes B]\n"
    "uac: places N zero-length calls (INVITE with SDP, ACK, BYE) at the rate, open loop; prints a\n"
    "JSON summary; exit 0 when every call succeeded. uas: answers statelessly until SIGTERM or\n"
    "--max-seconds; prints its counters as JSON.\n"
    "HOST: IPv4 (198.18.0.10, 198.18.0.10:5060) or IPv6 (2001:db8::10, [2001:db8::10],\n"
    "[2001:db8::10]:5060); --local defaults to the wildcard address of the target's family.\n";

namespace {

template <class T>
bool number(const std::string& s, T& out) {
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

bool real(const std::string& s, double& out) {
    try {
        size_t used = 0;
        out = std::stod(s, &used);
        return used == s.size() && out >= 0 && out < 1e9;
    } catch (const std::exception&) {
        return false;
    }
}

using Setter = std::function<bool(const std::string&)>;

std::string apply(const std::vector<std::string>& args, const std::map<std::string, Setter>& setters) {
    for (size_t i = 0; i < args.size(); i += 2) {
        const auto it = setters.find(args[i]);
        if (it == setters.end()) return "unknown option " + args[i];
        if (i + 1 >= args.size()) return args[i] + " needs a value";
        if (!it->second(args[i + 1])) return "bad value for " + args[i] + ": " + args[i + 1];
    }
    return "";
}

Setter port_setter(uint16_t& p) {
    return [&p](const std::string& v) { return number(v, p) && p != 0; };
}

}  // namespace

bool parse_endpoint(const std::string& text, Endpoint& out) {
    // The address alone (IPv4, or IPv6 without brackets): the port keeps its default.
    if (const std::optional<IpAddress> alone = IpAddress::parse(text)) {
        out.host = alone->to_string();
        return true;
    }
    // "[v6]" without a port.
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
        const std::optional<IpAddress> v6 = IpAddress::parse(std::string_view(text).substr(1, text.size() - 2));
        if (!v6 || !v6->is_v6()) return false;
        out.host = v6->to_string();
        return true;
    }
    // "a.b.c.d:port" or "[v6]:port": the config files' form (common/net/endpoint.hpp).
    const std::optional<sara::Endpoint> with_port = sara::Endpoint::parse(text);
    if (!with_port) return false;
    out.host = with_port->address.to_string();
    out.port = with_port->port;
    return true;
}

std::string parse_uac_options(const std::vector<std::string>& args, UacOptions& o) {
    bool have_target = false, have_local = false, have_rate = false, have_calls = false;
    const std::string err = apply(args, {
        {"--target", [&](const std::string& v) { return have_target = parse_endpoint(v, o.target); }},
        {"--local", [&](const std::string& v) { return have_local = parse_endpoint(v, o.local); }},
        {"--transport", [&](const std::string& v) {
             o.socket_per_call = v == "un";
             return v == "u1" || v == "un";
         }},
        {"--rate", [&](const std::string& v) { return have_rate = real(v, o.rate) && o.rate > 0; }},
        {"--calls", [&](const std::string& v) { return have_calls = number(v, o.calls) && o.calls > 0; }},
        {"--max-seconds", [&](const std::string& v) { return real(v, o.max_seconds) && o.max_seconds > 0; }},
        {"--t1-ms", [&](const std::string& v) { return number(v, o.t1_ms) && o.t1_ms > 0 && o.t1_ms <= 60000; }},
        {"--service", [&](const std::string& v) {
             o.service = v;
             return !v.empty() && v.find_first_of(" \r\n@:;<>") == std::string::npos;
         }},
        {"--media-port", port_setter(o.media_port)},
        {"--buffer-bytes", [&](const std::string& v) { return number(v, o.buffer_bytes) && o.buffer_bytes >= 0; }},
        {"--run", [&](const std::string& v) {
             const char* end = v.data() + v.size();
             const auto [ptr, ec] = std::from_chars(v.data(), end, o.run, 16);
             return ec == std::errc{} && ptr == end && o.run != 0;
         }},
    });
    if (!err.empty()) return err;
    if (!have_target || !have_rate || !have_calls) return "uac needs --target, --rate and --calls";
    if (o.calls > 50'000'000) return "--calls: at most 50000000";
    // One socket sends to the target from the local address: both of one family.
    if (have_local && o.local.is_v6() != o.target.is_v6()) return "--local and --target: one address family";
    return "";
}

std::string parse_uas_options(const std::vector<std::string>& args, UasOptions& o) {
    bool have_listen = false;
    const std::string err = apply(args, {
        {"--listen", [&](const std::string& v) { return have_listen = parse_endpoint(v, o.listen); }},
        {"--sockets", [&](const std::string& v) { return number(v, o.sockets) && o.sockets >= 1 && o.sockets <= 64; }},
        {"--max-seconds", [&](const std::string& v) { return real(v, o.max_seconds) && o.max_seconds > 0; }},
        {"--media-port", port_setter(o.media_port)},
        {"--buffer-bytes", [&](const std::string& v) { return number(v, o.buffer_bytes) && o.buffer_bytes >= 0; }},
    });
    if (!err.empty()) return err;
    if (!have_listen) return "uas needs --listen";
    return "";
}

}  // namespace sara::loadgen
