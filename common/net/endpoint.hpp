// SPDX-License-Identifier: GPL-2.0-or-later
// An address and a port, as the config files write them (`a.b.c.d:port`, `[v6]:port`).
// Here rather than beside the YAML reader so that the sockets and daemons holding one do not
// pull yaml-cpp in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net/ip_address.hpp"

namespace sara {

// `a.b.c.d:port` or `[v6]:port`, port 1..65535.
struct Endpoint {
    IpAddress address;
    uint16_t port = 0;

    static std::optional<Endpoint> parse(std::string_view text);
    std::string to_string() const { return format_endpoint(address, port); }
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace sara
