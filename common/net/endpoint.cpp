// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/endpoint.hpp"

#include <charconv>
#include <system_error>

namespace sara {

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    Endpoint endpoint;
    const std::optional<IpAddress> address = IpAddress::parse(host);
    if (!address) return std::nullopt;
    // A bare IPv6 address before the port is ambiguous; only the bracketed form is accepted.
    if (address->is_v6() && text.front() != '[') return std::nullopt;
    if (address->is_v4() && text.front() == '[') return std::nullopt;
    endpoint.address = *address;
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return std::nullopt;
    endpoint.port = static_cast<uint16_t>(port);
    return endpoint;
}

}  // namespace sara
