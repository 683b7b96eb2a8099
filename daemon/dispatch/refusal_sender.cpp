// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/refusal_sender.hpp"

#include <optional>
#include <string>
#include <vector>

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

void RefusalSender::refuse(const Refusal& refusal) {
    const DecodedPacket& p = refusal.packet;
    std::optional<std::vector<uint8_t>> reply;
    uint64_t* sent = nullptr;
    if (sender_) {
        if (refusal.answer == RefusalAnswer::sip_503) {
            if (const auto response = sip_503_response(refusal.sip, retry_after_)) {
                reply = udp_packet(p.dst, p.dst_port, p.src, p.src_port,
                                   {reinterpret_cast<const uint8_t*>(response->data()), response->size()});
                sent = &counters_.refusals_sip_503_sent_total;
            }
        } else if (refusal.answer == RefusalAnswer::tcp_rst && tcp_rst_) {
            reply = tcp_rst_for(p);
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
