// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/mac_address.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sara {

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    MacAddress mac;
    for (size_t i = 0; i < 6; ++i) {
        if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
        const char* first = text.data() + i * 3;
        if (!std::isxdigit(static_cast<unsigned char>(first[0])) ||
            !std::isxdigit(static_cast<unsigned char>(first[1])))
            return std::nullopt;
        unsigned octet = 0;
        std::from_chars(first, first + 2, octet, 16);
        mac.bytes[i] = static_cast<uint8_t>(octet);
    }
    return mac;
}

std::string MacAddress::to_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0) out += ':';
        out += hex[bytes[i] >> 4];
        out += hex[bytes[i] & 15];
    }
    return out;
}

bool MacAddress::is_zero() const {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace sara
