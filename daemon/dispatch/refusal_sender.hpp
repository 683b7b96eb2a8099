// SPDX-License-Identifier: GPL-2.0-or-later
// Answers the first packet of a new session that admission control refused (DESIGN §5), from
// the VIP: a SIP request over UDP gets a stateless 503 with Retry-After (a silent drop would
// be retransmitted for 32 s and add to the overload), a TCP segment a RST when
// admission.tcp_reject is rst. Anything else is only dropped. Every outcome is counted.
// Built from the packet as the pipeline decoded and parsed it (PacketAction::refusal).
// Called by the queue threads under the runtime's lock; IPv4 and IPv6 alike.
#pragma once

#include <chrono>
#include <memory>

#include "common/config/dispatcher_config.hpp"
#include "common/util/counters.hpp"
#include "daemon/dispatch/packet_action.hpp"
#include "daemon/forward/ip_sender.hpp"

namespace sara {

#define SARA_REFUSAL_COUNTERS(X)                                                               \
    X(refusals_sip_503_sent_total, "Refused new SIP/UDP sessions answered with a 503")          \
    X(refusals_tcp_rst_sent_total, "Refused new TCP sessions answered with a RST")              \
    X(refusals_dropped_total, "Refused new sessions dropped without an answer")                 \
    X(refusals_send_errors_total, "503s and RSTs the kernel refused to send")
SARA_DECLARE_COUNTERS(RefusalCounters, SARA_REFUSAL_COUNTERS)

class RefusalSender {
public:
    // `sender` null: count every refusal as dropped (e.g. no raw socket permission).
    RefusalSender(const AdmissionConfig& config, std::unique_ptr<IpSender> sender);

    // Answers `refusal` as its answer says, when the config and the address family allow.
    void refuse(const Refusal& refusal);
    void reconfigure(const AdmissionConfig& config);  // a reload's Retry-After and tcp_reject
    const RefusalCounters& counters() const { return counters_; }

private:
    std::chrono::seconds retry_after_;
    bool tcp_rst_;
    std::unique_ptr<IpSender> sender_;
    RefusalCounters counters_;
};

}  // namespace sara
