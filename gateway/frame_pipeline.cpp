// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/frame_pipeline.hpp"

#include "common/net/packet.hpp"
#include "common/net/link_layer.hpp"

namespace sara::gateway {

FramePipeline::FramePipeline(std::vector<Service> services, const VipSet& vip, const InspectorLimits& limits)
    : services_(std::move(services)), inspector_(std::make_unique<OutgoingInspector>(services_, vip, limits)) {}

void FramePipeline::handle(int link_type, std::span<const uint8_t> frame, uint32_t wire_length,
                           std::vector<Announcement>& out) {
    ++counters_.frames_captured_total;
    // A cut packet would reach the inspector as a shorter TCP segment or a UDP datagram that
    // fails its length check: either way wrong, so it is only counted (raise limits.snaplen).
    if (frame.size() < wire_length) {
        ++counters_.frames_truncated_total;
        return;
    }
    const LinkStrip link = strip_link_layer(link_type, frame);
    if (link.status == LinkStatus::unsupported) {
        ++counters_.frames_unsupported_link_total;
        return;
    }
    if (link.status == LinkStatus::not_ip) {
        ++counters_.frames_not_ip_total;
        return;
    }
    const DecodeResult decoded = decode_ip_packet(link.ip);
    if (!decoded.ok()) {
        ++counters_.packets_malformed_total;
        return;
    }
    ++counters_.packets_decoded_total;
    inspector_->inspect(decoded.packet, out);
}

}  // namespace sara::gateway
