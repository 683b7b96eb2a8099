// SPDX-License-Identifier: GPL-2.0-or-later
// Finding one call (issue 21): the control socket's `lookup key KEY` and `lookup client
// ADDR[:PORT] [LIMIT]`. Pure functions of the session table, so they are unit-tested with a
// table and a manual clock; the runtime calls them under its lock.
//
// What a flow shows, and what it cannot: the table keeps no packet counts (a 12-byte entry per
// flow), so a flow shows its status (new: one packet seen, or none for an announced flow;
// established: more) and how long
// ago sarad saw its last packet. "Fast path" is decided from what sarad knows, not read from
// conntrack: in mark mode a data flow (not signalling, see ServiceMap::is_signalling) of a
// session with a node got a verdict whose mark the kernel saved to conntrack on its first
// packet, and from then on the kernel forwards it without queueing it — so its idle time is
// since the last packet sarad saw, not the last the kernel forwarded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/net/ip_address.hpp"
#include "common/proto/service.hpp"
#include "daemon/identify/session_table.hpp"

namespace sara {

// A client endpoint to search for: ADDR, ADDR:PORT, [V6ADDR] or [V6ADDR]:PORT; port 0 is any.
struct ClientEndpoint {
    IpAddress address;
    uint16_t port = 0;
};
// nullopt with `error` set when `text` is none of those forms.
std::optional<ClientEndpoint> parse_client_endpoint(std::string_view text, std::string* error);

struct LookupContext {
    const SessionTable& table;
    const ServiceMap& services;
    bool mark_mode = true;  // forwarding.mode mark; raw mode queues every packet (no fast path)
    std::function<std::string(NodeId)> node_name;  // "" for a node the config no longer has
    // forwarding.fast_path: bpf runs: an offloaded flow is in its map (else in conntrack's index).
    bool bpf_fast_path = false;
};

// The arguments after "lookup " → {"sessions":[...]} (or {"error":...} for bad arguments).
// `client` stops after `limit` sessions (default 100) and then says "truncated": true. Cost:
// one pass over the flows (per key) or two (per client), under the caller's lock.
nlohmann::json lookup_sessions(std::string_view args, const LookupContext& context);

}  // namespace sara
