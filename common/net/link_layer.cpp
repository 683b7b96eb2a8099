// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/link_layer.hpp"

#include <pcap/dlt.h>

#include "common/util/byte_order.hpp"

namespace sara {
namespace {

// Not in every libpcap's dlt.h: the LINKTYPE_ numbers pcap_datalink() reports for them.
constexpr int kLinkTypeIpv4 = 228;
constexpr int kLinkTypeIpv6 = 229;
constexpr int kLinkTypeLinuxSll2 = 276;

constexpr uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd, kEtherVlan = 0x8100, kEtherQinQ = 0x88a8;
constexpr size_t kEthernetHeader = 14, kVlanTag = 4, kSllHeader = 16, kSll2Header = 20;
// BSD loopback: the address family as a 4-byte word in the writer's byte order; the decoder
// tells IPv4 from IPv6 by the version nibble, so the family is not read.
constexpr size_t kLoopbackHeader = 4;

LinkStrip ip_after(std::span<const uint8_t> frame, size_t offset, uint16_t ethertype) {
    if (ethertype != kEtherIpv4 && ethertype != kEtherIpv6) return {LinkStatus::not_ip, {}};
    return {LinkStatus::ip, frame.subspan(offset)};
}

LinkStrip strip_ethernet(std::span<const uint8_t> frame) {
    if (frame.size() < kEthernetHeader) return {LinkStatus::not_ip, {}};
    size_t type_at = kEthernetHeader - 2;
    uint16_t type = read_be16(frame.data() + type_at);
    for (int tags = 0; tags < 2 && (type == kEtherVlan || type == kEtherQinQ); ++tags) {
        type_at += kVlanTag;
        if (frame.size() < type_at + 2) return {LinkStatus::not_ip, {}};
        type = read_be16(frame.data() + type_at);
    }
    return ip_after(frame, type_at + 2, type);
}

}  // namespace

bool link_type_supported(int link_type) {
    switch (link_type) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case kLinkTypeLinuxSll2:
    case DLT_RAW:
    case kLinkTypeIpv4:
    case kLinkTypeIpv6:
    case DLT_NULL:
    case DLT_LOOP: return true;
    default: return false;
    }
}

LinkStrip strip_link_layer(int link_type, std::span<const uint8_t> frame) {
    switch (link_type) {
    case DLT_EN10MB: return strip_ethernet(frame);
    case DLT_LINUX_SLL:
        // packet type u16 | ARPHRD u16 | address length u16 | address [8] | protocol u16
        if (frame.size() < kSllHeader) return {LinkStatus::not_ip, {}};
        return ip_after(frame, kSllHeader, read_be16(frame.data() + 14));
    case kLinkTypeLinuxSll2:
        // protocol u16 | reserved u16 | ifindex u32 | ARPHRD u16 | packet type u8 | address
        // length u8 | address [8]
        if (frame.size() < kSll2Header) return {LinkStatus::not_ip, {}};
        return ip_after(frame, kSll2Header, read_be16(frame.data()));
    case DLT_RAW:
    case kLinkTypeIpv4:
    case kLinkTypeIpv6: return {LinkStatus::ip, frame};
    case DLT_NULL:
    case DLT_LOOP:
        if (frame.size() < kLoopbackHeader) return {LinkStatus::not_ip, {}};
        return {LinkStatus::ip, frame.subspan(kLoopbackHeader)};
    default: return {LinkStatus::unsupported, {}};
    }
}

}  // namespace sara
