// SPDX-License-Identifier: GPL-2.0-or-later
// What the gateway's running parts take from its config, in one place, so that the daemon,
// `--check-config` and a reload agree on it.
#pragma once

#include <string>

#include "common/announce/outgoing_inspector.hpp"
#include "common/config/gateway_config.hpp"
#include "gateway/live_capture.hpp"

namespace sara::gateway {

CaptureSettings capture_settings(const GatewayConfig& config);
InspectorLimits inspector_limits(const GatewayLimitsConfig& limits);

// Problems a valid config can still have that only libpcap can see (the filter does not
// compile); empty if none. Needs no device and no privileges.
std::string capture_problem(const GatewayConfig& config);

// True if the frame pipeline (inspector and its TCP buffers) must be rebuilt for `next`.
bool inspection_changed(const GatewayConfig& running, const GatewayConfig& next);

}  // namespace sara::gateway
