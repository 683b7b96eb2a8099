// SPDX-License-Identifier: GPL-2.0-or-later
// Small, allocation-free helpers for the line-oriented text protocols (SIP, SDP, RTSP).
// Every function bounds its reads by the string_view it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sara::text {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Decimal without sign; nullopt on empty, non-digits or a value above `max`.
inline std::optional<uint64_t> parse_decimal(std::string_view s, uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const uint64_t digit = uint64_t(c - '0');
        if (digit > max || v > (max - digit) / 10) return std::nullopt;  // digit > max: max - digit wraps
        v = v * 10 + digit;
    }
    return v;
}

// A port 1..65535.
inline std::optional<uint16_t> parse_port(std::string_view s) {
    auto v = parse_decimal(s, 65535);
    if (!v || *v == 0) return std::nullopt;
    return static_cast<uint16_t>(*v);
}

// Splits off the next line of `rest` (without its "\n" or "\r\n"); returns false when
// `rest` holds no complete line. `rest` advances past the line terminator.
inline bool next_line(std::string_view& rest, std::string_view& line) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;
    line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    rest.remove_prefix(nl + 1);
    return true;
}

// The text up to the first `sep` (or all of it); `s` advances past the separator.
inline std::string_view split_token(std::string_view& s, char sep) {
    const size_t pos = s.find(sep);
    std::string_view token = s.substr(0, pos);
    s = pos == std::string_view::npos ? std::string_view{} : s.substr(pos + 1);
    return token;
}

}  // namespace sara::text
