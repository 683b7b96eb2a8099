// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/control_protocol.hpp"

#include <limits>

#include "nodeagent/load/proc_text.hpp"

namespace sara::nodeagent {

std::optional<ControlRequest> parse_control_request(std::string_view line, std::string* error) {
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxControlRequestBytes) {
        if (error) *error = "request longer than " + std::to_string(kMaxControlRequestBytes) + " bytes";
        return std::nullopt;
    }
    const std::vector<std::string_view> words = split_fields(line);
    ControlRequest request;
    if (words.size() == 1 && words[0] == "status") {
        request.kind = ControlRequest::Kind::status;
        return request;
    }
    if (words.size() == 1 && words[0] == "undrain") {
        request.kind = ControlRequest::Kind::undrain;
        return request;
    }
    if (words.size() == 2 && words[0] == "drain") {
        const std::optional<uint64_t> at = parse_u64(words[1]);
        if (!at || *at > std::numeric_limits<uint32_t>::max()) {
            if (error) *error = "drain: expected Unix seconds (0..4294967295)";
            return std::nullopt;
        }
        request.kind = ControlRequest::Kind::drain;
        request.drain_at = static_cast<uint32_t>(*at);
        return request;
    }
    if (error) *error = "unknown request; expected 'drain UNIX_SECONDS', 'undrain' or 'status'";
    return std::nullopt;
}

std::string format_control_request(const ControlRequest& request) {
    switch (request.kind) {
    case ControlRequest::Kind::drain: return "drain " + std::to_string(request.drain_at);
    case ControlRequest::Kind::undrain: return "undrain";
    case ControlRequest::Kind::status: return "status";
    }
    return "status";
}

std::optional<uint32_t> parse_drain_time(std::string_view text, uint32_t now, std::string* error) {
    const bool relative = text.starts_with('+');
    const std::optional<uint64_t> value = parse_u64(relative ? text.substr(1) : text);
    if (!value) {
        if (error) *error = "expected Unix seconds or +SECONDS, got '" + std::string(text.substr(0, 40)) + "'";
        return std::nullopt;
    }
    const uint64_t at = relative ? uint64_t{now} + *value : *value;
    if (at > std::numeric_limits<uint32_t>::max() || (relative && *value > std::numeric_limits<uint32_t>::max())) {
        if (error) *error = "time is past 2106 (the heartbeat's 32-bit timestamp)";
        return std::nullopt;
    }
    return static_cast<uint32_t>(at);
}

}  // namespace sara::nodeagent
