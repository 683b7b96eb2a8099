// SPDX-License-Identifier: GPL-2.0-or-later
// The flow key: the paper's <IPsrc:Portsrc, IPdst:Portdst, Prot> for IPv4 and IPv6.
// Keys are always written in the incoming direction (client → VIP): `src` is the client.
#pragma once

#include <cstdint>
#include <string>

#include "absl/hash/hash.h"
#include "common/net/ip_address.hpp"

namespace sara {

enum class IpProto : uint8_t { tcp = 6, udp = 17 };

struct FlowKey {
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;  // 0 = not yet known (a partial, announced flow)
    IpProto proto = IpProto::udp;

    bool is_v4() const { return src.is_v4(); }
    std::string to_string() const;  // "udp 198.18.1.2:5060 > 198.18.100.10:5060"

    friend bool operator==(const FlowKey&, const FlowKey&) = default;

    template <typename H>
    friend H AbslHashValue(H h, const FlowKey& k) {
        h = H::combine(std::move(h), k.src.family, k.src_port, k.dst_port, static_cast<uint8_t>(k.proto));
        const size_t n = k.src.is_v4() ? 4 : 16;
        h = H::combine_contiguous(std::move(h), k.src.bytes.data(), n);
        return H::combine_contiguous(std::move(h), k.dst.bytes.data(), n);
    }
};

const char* to_string(IpProto proto);

}  // namespace sara
