// SPDX-License-Identifier: GPL-2.0-or-later
// saractl's command line (DESIGN §10): which request to send to sarad's control socket and how
// to print the answer. Pure: parse_ctl_args never touches the socket or prints anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sara::ctl {

inline constexpr const char* kDefaultSocket = "/run/sara/sarad.sock";  // ControlConfig's default

// Exit codes, also printed by --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // sarad answered with an error (e.g. unknown node)
inline constexpr int kExitUsage = 2;        // bad arguments
inline constexpr int kExitUnreachable = 3;  // sarad not running, permission denied, bad answer

enum class CtlCommand { help, status, nodes, sessions, stats, drain, undrain, role, announce };

struct CtlArgs {
    CtlCommand command = CtlCommand::help;
    std::string socket = kDefaultSocket;
    bool json = false;
    std::optional<uint32_t> node;  // sessions --node N: only that node's sessions
    size_t limit = 1000;           // sessions --limit N (sarad's own default)
    bool limit_given = false;      // --limit on the command line (lookup by client passes it on)
    std::string key;               // sessions --key CALL-ID: that one session (lookup key)
    std::string client;            // sessions --client ADDR[:PORT]: a client's sessions (lookup client)
    uint32_t target = 0;           // drain/undrain NODE
    std::string role;              // role master|backup|fault; empty: show
    std::string announce;          // announce on|off; empty: show
    bool ready = false;            // role --ready
};

struct CtlParse {
    CtlArgs args;
    std::string error;  // empty on success
    bool ok() const { return error.empty(); }
};

// argv without the program name. Options may come before or after the command, as
// `--opt VALUE` or `--opt=VALUE`.
CtlParse parse_ctl_args(std::span<const std::string_view> argv);

// The request lines sent to sarad for a command, in order (status needs two).
// sessions with --node asks for every session (up to kAllSessions) and filters here.
inline constexpr size_t kAllSessions = 1000000;
// The longest --key/--client value: its request line stays under sarad's 1024-byte bound.
inline constexpr size_t kMaxLookupValue = 960;
std::string request_line(CtlCommand command, const CtlArgs& args, bool second = false);

std::string usage_text();

}  // namespace sara::ctl
