// SPDX-License-Identifier: GPL-2.0-or-later
// What the queue thread does with one queued packet, as PacketPipeline::decide decided it:
// the verdict, and where it applies the copy raw mode sends to a node and the answer to a
// refused new session. The queue thread only carries it out (dispatcher_daemon.cpp).
//
// Plain values, no heap: one is built per packet on the hot path. The views inside
// (`Refusal::packet.payload`, `Refusal::sip`) point into the queue's receive buffer and are
// valid only while the packet's handler runs.
#pragma once

#include <cstdint>
#include <optional>

#include "common/net/packet.hpp"
#include "common/proto/sip.hpp"
#include "daemon/forward/verdict.hpp"
#include "daemon/identify/session_types.hpp"

namespace sara {

// What the first packet of a session admission control refused may be answered with
// (DESIGN §5); RefusalSender sends it if its config (admission.tcp_reject) and the address
// family (IPv4 only) allow, else counts the refusal as dropped.
enum class RefusalAnswer : uint8_t {
    none,     // nothing fits (a datagram that is not SIP, a truncated copy): dropped unanswered
    sip_503,  // a SIP datagram: a stateless 503, if it is a request RFC 3261 lets us answer
    tcp_rst,  // a TCP segment: a RST
};

struct Refusal {
    RefusalAnswer answer = RefusalAnswer::none;
    DecodedPacket packet;  // the refused packet as the pipeline decoded it
    SipMessage sip;        // sip_503: the datagram as the session identifier parsed it
};

struct PacketAction {
    Verdict verdict = Verdict::drop();
    NodeId node = kNoNode;         // set when the packet goes to a node
    // Raw mode: sarad sends its copy of the packet to this node itself (the verdict is then a
    // drop: the kernel must not route the original). kNoNode in route mode.
    NodeId raw_copy_to = kNoNode;
    bool new_binding = false;      // this packet gave a new session its node (HA: held until replicated)
    // BPF fast path: a new binding's data flow, to be put into the flow map when its verdict is
    // given now (PacketPipeline::offer_fast_path) — not while it is held for the HA backup:
    // its next packets would otherwise reach the node before the backup knew the binding.
    std::optional<FlowKey> fast_path_on_verdict;
    std::optional<Refusal> refusal;  // admission control refused this new session: answer it
};

}  // namespace sara
