// SPDX-License-Identifier: GPL-2.0-or-later
#include "saractl/cli_args.hpp"

#include <charconv>

namespace sara::ctl {
namespace {

bool parse_number(std::string_view text, uint64_t max, uint64_t* out) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > max) return false;
    *out = v;
    return true;
}

std::optional<CtlCommand> command_named(std::string_view name) {
    if (name == "status") return CtlCommand::status;
    if (name == "nodes") return CtlCommand::nodes;
    if (name == "sessions") return CtlCommand::sessions;
    if (name == "stats") return CtlCommand::stats;
    if (name == "drain") return CtlCommand::drain;
    if (name == "undrain") return CtlCommand::undrain;
    if (name == "role") return CtlCommand::role;
    if (name == "announce") return CtlCommand::announce;
    return std::nullopt;
}

// Why a --key/--client value cannot go into sarad's one-line request; empty when it can.
// Control characters would end or garble the line; sarad refuses lines over 1024 bytes.
std::string lookup_value_error(std::string_view value) {
    if (value.empty()) return "needs a value";
    if (value.size() > kMaxLookupValue)
        return "is longer than " + std::to_string(kMaxLookupValue) + " bytes";
    for (const char c : value)
        if (uint8_t(c) < 0x20 || c == 0x7f) return "may not contain control characters";
    return "";
}

}  // namespace

CtlParse parse_ctl_args(std::span<const std::string_view> argv) {
    CtlParse r;
    std::optional<CtlCommand> command;
    std::optional<std::string_view> operand;  // drain/undrain NODE
    bool help = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            help = true;
            continue;
        }
        if (a == "--json") {
            r.args.json = true;
            continue;
        }
        if (a == "--ready") {
            r.args.ready = true;
            continue;
        }
        if (a.starts_with("--")) {
            std::string_view name = a, value;
            bool has_value = false;
            if (const size_t eq = a.find('='); eq != std::string_view::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
                has_value = true;
            }
            if (name != "--socket" && name != "--node" && name != "--limit" && name != "--key" && name != "--client") {
                r.error = "unknown option " + std::string(name);
                return r;
            }
            if (!has_value) {
                if (i + 1 >= argv.size()) {
                    r.error = std::string(name) + " needs a value";
                    return r;
                }
                value = argv[++i];
            }
            uint64_t n = 0;
            if (name == "--socket") {
                if (value.empty()) {
                    r.error = "--socket needs a path";
                    return r;
                }
                r.args.socket = std::string(value);
            } else if (name == "--node") {
                if (!parse_number(value, UINT16_MAX, &n) || n == 0) {
                    r.error = "--node wants a node id (1-65535), not '" + std::string(value) + "'";
                    return r;
                }
                r.args.node = uint32_t(n);
            } else if (name == "--key" || name == "--client") {
                if (const std::string why = lookup_value_error(value); !why.empty()) {
                    r.error = std::string(name) + " " + why;
                    return r;
                }
                (name == "--key" ? r.args.key : r.args.client) = std::string(value);
            } else {
                if (!parse_number(value, kAllSessions, &n) || n == 0) {
                    r.error = "--limit wants a number from 1 to " + std::to_string(kAllSessions) + ", not '" +
                              std::string(value) + "'";
                    return r;
                }
                r.args.limit = size_t(n);
                r.args.limit_given = true;
            }
            continue;
        }
        if (!command) {
            command = command_named(a);
            if (!command) {
                r.error = "unknown command '" + std::string(a) + "'";
                return r;
            }
        } else if ((*command == CtlCommand::drain || *command == CtlCommand::undrain || *command == CtlCommand::role ||
                    *command == CtlCommand::announce) &&
                   !operand) {
            operand = a;
        } else {
            r.error = "unexpected argument '" + std::string(a) + "'";
            return r;
        }
    }
    if (help) {
        r.args.command = CtlCommand::help;
        return r;
    }
    if (!command) {
        r.error = "no command given";
        return r;
    }
    r.args.command = *command;
    const bool drain = *command == CtlCommand::drain || *command == CtlCommand::undrain;
    if (drain) {
        uint64_t n = 0;
        if (!operand) {
            r.error = std::string(*command == CtlCommand::drain ? "drain" : "undrain") + " needs a NODE id";
            return r;
        }
        if (!parse_number(*operand, UINT16_MAX, &n) || n == 0) {
            r.error = "NODE must be a node id (1-65535), not '" + std::string(*operand) + "'";
            return r;
        }
        r.args.target = uint32_t(n);
    }
    if (*command == CtlCommand::role && operand) {
        if (*operand != "master" && *operand != "backup" && *operand != "fault") {
            r.error = "role must be master, backup or fault, not '" + std::string(*operand) + "'";
            return r;
        }
        r.args.role = std::string(*operand);
    }
    if (*command == CtlCommand::announce && operand) {
        if (*operand != "on" && *operand != "off") {
            r.error = "announce takes on or off, not '" + std::string(*operand) + "'";
            return r;
        }
        r.args.announce = std::string(*operand);
    }
    if (r.args.ready && (*command != CtlCommand::role || operand)) {
        r.error = "--ready applies to `role` alone";
        return r;
    }
    const bool lookup = !r.args.key.empty() || !r.args.client.empty();
    if (*command != CtlCommand::sessions && (r.args.node || r.args.limit_given || lookup))
        r.error = "--node, --limit, --key and --client apply to `sessions` only";
    else if (!r.args.key.empty() && !r.args.client.empty())
        r.error = "--key and --client: give one";
    else if (lookup && r.args.node)
        r.error = "--node lists a node's sessions; --key and --client find a session wherever it is";
    else if (!r.args.key.empty() && r.args.limit_given)
        r.error = "--limit does not apply to --key (a key names one session)";
    return r;
}

std::string request_line(CtlCommand command, const CtlArgs& args, bool second) {
    switch (command) {
    case CtlCommand::status: return second ? "nodes" : "stats";
    case CtlCommand::nodes: return "nodes";
    case CtlCommand::sessions:
        if (!args.key.empty()) return "lookup key " + args.key;
        if (!args.client.empty()) return "lookup client " + args.client + " " + std::to_string(args.limit);
        return "sessions " + std::to_string(args.node ? kAllSessions : args.limit);
    case CtlCommand::stats: return "stats";
    case CtlCommand::drain: return "drain " + std::to_string(args.target);
    case CtlCommand::undrain: return "undrain " + std::to_string(args.target);
    case CtlCommand::role: return args.ready ? "role ready" : args.role.empty() ? "role" : "role " + args.role;
    case CtlCommand::announce: return args.announce.empty() ? "announce" : "announce " + args.announce;
    case CtlCommand::help: break;
    }
    return "";
}

std::string usage_text() {
    return std::string(
               "usage: saractl [--socket PATH] [--json] COMMAND\n"
               "\n"
               "Talks to sarad's control socket (default ") +
           kDefaultSocket +
           ").\n"
           "\n"
           "commands:\n"
           "  status                        nodes up, sessions, flows, admission, counters of note\n"
           "  nodes                         every node: state, sessions, load, estimate\n"
           "  sessions [--node N] [--limit N]\n"
           "                                sessions in the table (default limit 1000)\n"
           "  sessions --key CALL-ID        one session by its SIP Call-ID or RTSP Session id: its\n"
           "                                node, state, age, every flow and whether the kernel\n"
           "                                fast path carries it\n"
           "  sessions --client ADDR[:PORT] [--limit N]\n"
           "                                the same for every session with a flow from ADDR[:PORT]\n"
           "  stats                         every counter sarad keeps\n"
           "  drain NODE                    no new sessions on NODE; established ones continue\n"
           "  undrain NODE                  NODE takes new sessions again (if its health is up)\n"
           "  role [master|backup|fault]    show the HA role, or set it (keepalived's notify hook)\n"
           "  role --ready                  exit 0 if this dispatcher may become master (it holds a\n"
           "                                replica, or no master streams to it), else 1\n"
           "  announce [on|off]             show whether the VIP's route is announced\n"
           "                                (route_announce), or withdraw it (off: a planned drain;\n"
           "                                packets that still arrive are served) and allow it again\n"
           "\n"
           "options:\n"
           "  --socket PATH   sarad's control socket\n"
           "  --json          print sarad's JSON document instead of a table\n"
           "  -h, --help      this text\n"
           "\n"
           "exit codes:\n"
           "  0  success\n"
           "  1  sarad refused the request (e.g. unknown node), or --key/--client found no session\n"
           "  2  bad arguments\n"
           "  3  sarad unreachable (not running, permission denied) or its answer unreadable\n";
}

}  // namespace sara::ctl
