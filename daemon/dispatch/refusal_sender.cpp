// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/refusal_sender.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/packet.hpp"
#include "daemon/dispatch/sip_reject.hpp"
#include "daemon/forward/reply_packets.hpp"

namespace sara {

RefusalSender::RefusalSender(const AdmissionConfig& config, std::unique_ptr<IpSender> sender)
    : retry_after_(std::chrono::duration_cast<std::chrono::seconds>(config.sip_retry_after)),
      tcp_rst_(config.tcp_reject == TcpReject::rst),
      sender_(std::move(sender)) {}

void RefusalSender::reconfigure(const AdmissionConfig& config) {
    retry_after_ = std::chrono::duration_cast<std::chrono::seconds>(config.sip_retry_after);
    tcp_rst_ = config.tcp_reject == TcpReject::rst;
}

void RefusalSender::refuse(std::span<const uint8_t> ip_packet) {
    const DecodeResult d = decode_ip_packet(ip_packet);
    std::optional<std::vector<uint8_t>> reply;
    uint64_t* sent = nullptr;
    if (sender_ && d.ok() && d.packet.has_ports && d.packet.src.is_v4()) {
        if (d.packet.is_udp()) {
            const std::string_view text(reinterpret_cast<const char*>(d.packet.payload.data()), d.packet.payload.size());
            if (const auto response = sip_503_response(text, retry_after_)) {
                reply = ipv4_udp_packet(d.packet.dst, d.packet.dst_port, d.packet.src, d.packet.src_port,
                                        {reinterpret_cast<const uint8_t*>(response->data()), response->size()});
                sent = &counters_.refusals_sip_503_sent_total;
            }
        } else if (d.packet.is_tcp() && tcp_rst_) {
            reply = ipv4_tcp_rst_for(d.packet);
            sent = &counters_.refusals_tcp_rst_sent_total;
        }
    }
    if (!reply) {
        ++counters_.refusals_dropped_total;
        return;
    }
    if (sender_->send(*reply)) ++*sent;
    else ++counters_.refusals_send_errors_total;
}

}  // namespace sara
