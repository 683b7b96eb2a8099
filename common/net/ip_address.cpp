// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/ip_address.hpp"

#include <arpa/inet.h>

namespace sara {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton needs a NUL-terminated string; addresses are short, anything longer is invalid.
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    uint8_t raw[16];
    if (inet_pton(AF_INET, buf, raw) == 1) return v4(raw);
    if (inet_pton(AF_INET6, buf, raw) == 1) return v6(raw);
    return std::nullopt;
}

bool IpAddress::is_unspecified() const {
    const size_t n = family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; ++i)
        if (bytes[i] != 0) return false;
    return true;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (family == 4) return inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
    if (family == 6) return inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
    return "unset";
}

std::string format_endpoint(const IpAddress& address, uint16_t port) {
    if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ":" + std::to_string(port);
}

}  // namespace sara
