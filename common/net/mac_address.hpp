// SPDX-License-Identifier: GPL-2.0-or-later
// An Ethernet address as the config writes it (a node's `mac`). Kept apart from the YAML
// reader so code that holds a node's config does not pull yaml-cpp in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sara {

// Six hex octets separated by ':' (`02:00:00:00:02:11`), either case.
struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    static std::optional<MacAddress> parse(std::string_view text);
    std::string to_string() const;  // lower-case, ':'-separated
    bool is_multicast() const { return (bytes[0] & 1) != 0; }  // includes broadcast
    bool is_zero() const;
    friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace sara
