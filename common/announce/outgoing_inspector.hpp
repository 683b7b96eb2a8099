// SPDX-License-Identifier: GPL-2.0-or-later
// Inspects the outgoing direction (packets from the VIP: the nodes' SIP messages and RTSP
// replies) and summarises each signalling message as an Announcement. The gateway runs it
// on captured traffic; `sarad replay` runs it on a capture's outgoing packets.
// Not thread-safe: one owner.
#pragma once

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/announce/announcement.hpp"
#include "common/net/packet.hpp"
#include "common/net/vip_set.hpp"
#include "common/proto/rtsp.hpp"
#include "common/proto/service.hpp"
#include "common/proto/sip.hpp"
#include "common/proto/stream_buffer.hpp"
#include "common/util/counters.hpp"

namespace sara {

#define SARA_OUTGOING_COUNTERS(X)                                                     \
    X(outgoing_messages_total, "Signalling messages parsed in the outgoing direction") \
    X(outgoing_malformed_total, "Outgoing signalling that failed to parse")            \
    X(outgoing_announcements_total, "Announcements produced")                          \
    X(outgoing_stream_gaps_total, "Outgoing TCP streams resynchronised after a gap or overflow")
SARA_DECLARE_COUNTERS(OutgoingCounters, SARA_OUTGOING_COUNTERS)

struct InspectorLimits {
    SipLimits sip;
    RtspLimits rtsp;
    size_t max_streams = 65536;  // TCP connections buffered at once
};

class OutgoingInspector {
public:
    OutgoingInspector(const ServiceMap& services, const VipSet& vip, const InspectorLimits& limits = {});

    // `packet` must come from the VIP. Appends zero or more announcements to `out`.
    void inspect(const DecodedPacket& packet, std::vector<Announcement>& out);
    const OutgoingCounters& counters() const { return counters_; }

private:
    void inspect_sip(const DecodedPacket& p, std::string_view data, SipFraming framing,
                     std::vector<Announcement>& out, size_t* consumed);
    void inspect_rtsp(const DecodedPacket& p, std::string_view data, std::vector<Announcement>& out,
                      size_t* consumed);
    void inspect_stream(const DecodedPacket& p, ServiceProtocol protocol, std::vector<Announcement>& out);

    const ServiceMap& services_;
    VipSet vip_;
    InspectorLimits limits_;
    absl::flat_hash_map<FlowKey, StreamBuffer> streams_;  // keyed in the outgoing direction
    OutgoingCounters counters_;
};

}  // namespace sara
