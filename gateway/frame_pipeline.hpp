// SPDX-License-Identifier: GPL-2.0-or-later
// What the gateway does with one captured frame, without the capture: strip the link layer,
// decode the IP packet, and let the outgoing inspector turn the nodes' SIP messages and RTSP
// replies into announcements. Every frame is counted once by what became of it.
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/announce/outgoing_inspector.hpp"
#include "common/util/counters.hpp"

namespace sara::gateway {

#define SARA_GATEWAY_FRAME_COUNTERS(X)                                                               \
    X(frames_captured_total, "Frames the capture handed over")                                     \
    X(frames_truncated_total, "Frames cut short by the snapshot length (not inspected)")           \
    X(frames_unsupported_link_total, "Frames of a link type the gateway cannot strip")             \
    X(frames_not_ip_total, "Frames that carry no IPv4/IPv6 packet")                                \
    X(packets_malformed_total, "IP packets the decoder refused")                                   \
    X(packets_decoded_total, "IP packets decoded and given to the outgoing inspector")
SARA_DECLARE_COUNTERS(FrameCounters, SARA_GATEWAY_FRAME_COUNTERS)

class FramePipeline {
public:
    FramePipeline(std::vector<Service> services, const VipSet& vip, const InspectorLimits& limits);

    // `frame` as captured on a link of `link_type` (DLT_*), from a packet of `wire_length`
    // bytes. Appends the announcements it produced to `out`.
    void handle(int link_type, std::span<const uint8_t> frame, uint32_t wire_length, std::vector<Announcement>& out);

    const FrameCounters& counters() const { return counters_; }
    const OutgoingCounters& inspector_counters() const { return inspector_->counters(); }

private:
    ServiceMap services_;
    std::unique_ptr<OutgoingInspector> inspector_;  // refers to services_: not movable
    FrameCounters counters_;
};

}  // namespace sara::gateway
