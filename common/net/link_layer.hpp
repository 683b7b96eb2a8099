// SPDX-License-Identifier: GPL-2.0-or-later
// Strips the link-layer header of a captured frame down to its IP packet, for the gateway's live
// capture and `sarad replay`'s capture files: Ethernet (with up to two VLAN tags, which libpcap
// puts back into the frame), Linux cooked v1 and v2 (the "any" device, some tunnels), raw IP
// (tun devices) and BSD loopback (capture files written on BSD or macOS; a live capture on
// Linux never reports it). Every read is bounds-checked; any byte sequence is a valid input.
#pragma once

#include <cstdint>
#include <span>

namespace sara {

enum class LinkStatus : uint8_t {
    ip,           // `ip` holds the IPv4/IPv6 packet (the decoder checks its version)
    not_ip,       // a frame of another protocol (ARP, LLDP ...) or too short for its header
    unsupported,  // a link type this code does not know
};

struct LinkStrip {
    LinkStatus status = LinkStatus::unsupported;
    std::span<const uint8_t> ip;  // views the frame; empty unless status == ip
};

// `link_type` is pcap_datalink()'s DLT_ value.
LinkStrip strip_link_layer(int link_type, std::span<const uint8_t> frame);

// True for the link types strip_link_layer() knows.
bool link_type_supported(int link_type);

}  // namespace sara
