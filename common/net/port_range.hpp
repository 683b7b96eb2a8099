// SPDX-License-Identifier: GPL-2.0-or-later
// A range of UDP/TCP ports, LO..HI inclusive, as dispatcher.yaml writes it ("20000-20999").
// Used for the nodes' media port ranges (`nodes[].media_ports`): media to VIP:port inside a
// node's range goes to that node without any per-flow state (docs/architecture.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara {

struct PortRange {
    uint16_t first = 0;
    uint16_t last = 0;  // inclusive

    bool contains(uint16_t port) const { return first <= port && port <= last; }
    bool overlaps(const PortRange& other) const { return first <= other.last && other.first <= last; }
    std::string to_string() const { return std::to_string(first) + "-" + std::to_string(last); }
    friend bool operator==(const PortRange&, const PortRange&) = default;

    // "LO-HI" with 1 <= LO <= HI <= 65535 (decimal, no spaces, no sign). A reversed range
    // parses (the config reports it with its own message); anything else is nullopt.
    static std::optional<PortRange> parse(std::string_view text);
};

}  // namespace sara
