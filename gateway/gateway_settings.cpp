// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/gateway_settings.hpp"

#include <pcap/dlt.h>

#include "common/config/dispatcher_config.hpp"  // same_services
#include "gateway/capture_filter.hpp"

namespace sara::gateway {

CaptureSettings capture_settings(const GatewayConfig& config) {
    CaptureSettings s;
    s.interface = config.interface;
    s.filter = capture_filter(config.vip, config.services);
    s.snaplen = static_cast<int>(config.limits.snaplen);
    s.buffer_bytes = static_cast<int>(config.limits.capture_buffer_bytes);
    return s;
}

InspectorLimits inspector_limits(const GatewayLimitsConfig& limits) {
    InspectorLimits out;
    out.sip.max_header_bytes = out.rtsp.max_header_bytes = limits.max_header_bytes;
    out.sip.max_body_bytes = out.rtsp.max_body_bytes = limits.max_body_bytes;
    out.max_streams = limits.max_streams;
    return out;
}

std::string capture_problem(const GatewayConfig& config) {
    const CaptureSettings s = capture_settings(config);
    if (s.filter.empty()) return "services: no sip or rtsp service to capture";
    const std::string problem = filter_problem(s.filter, DLT_EN10MB, s.snaplen);
    return problem.empty() ? "" : "capture filter '" + s.filter + "': " + problem;
}

bool inspection_changed(const GatewayConfig& running, const GatewayConfig& next) {
    return !(running.vip == next.vip) || !same_services(running.services, next.services) ||
           running.limits.max_streams != next.limits.max_streams ||
           running.limits.max_header_bytes != next.limits.max_header_bytes ||
           running.limits.max_body_bytes != next.limits.max_body_bytes;
}

}  // namespace sara::gateway
