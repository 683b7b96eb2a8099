// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/port_range.hpp"

#include <charconv>

namespace sara {
namespace {

std::optional<uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    if (text.empty() || text.size() > 5) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<PortRange> PortRange::parse(std::string_view text) {
    const size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto first = parse_port(text.substr(0, dash));
    const auto last = parse_port(text.substr(dash + 1));
    if (!first || !last) return std::nullopt;
    return PortRange{*first, *last};
}

}  // namespace sara
