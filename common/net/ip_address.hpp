// SPDX-License-Identifier: GPL-2.0-or-later
// An IPv4 or IPv6 address held by value in 16 bytes (IPv4 in the first four, network order).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sara {

struct IpAddress {
    uint8_t family = 0;  // 4, 6, or 0 for "unset"
    std::array<uint8_t, 16> bytes{};

    static IpAddress v4(const uint8_t* network_order_4) {
        IpAddress a;
        a.family = 4;
        std::memcpy(a.bytes.data(), network_order_4, 4);
        return a;
    }
    static IpAddress v6(const uint8_t* network_order_16) {
        IpAddress a;
        a.family = 6;
        std::memcpy(a.bytes.data(), network_order_16, 16);
        return a;
    }
    // Accepts dotted quad or RFC 4291 text (inet_pton); nullopt on anything else.
    static std::optional<IpAddress> parse(std::string_view text);

    bool is_v4() const { return family == 4; }
    bool is_v6() const { return family == 6; }
    bool is_unspecified() const;  // 0.0.0.0 / :: / unset
    uint32_t v4_network_order() const {
        uint32_t v;
        std::memcpy(&v, bytes.data(), 4);
        return v;
    }
    std::string to_string() const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const IpAddress& a) {
        return H::combine_contiguous(H::combine(std::move(h), a.family), a.bytes.data(), a.is_v4() ? 4 : 16);
    }
};

// "a.b.c.d:port" or "[v6]:port" (DESIGN §12).
std::string format_endpoint(const IpAddress& address, uint16_t port);

}  // namespace sara
