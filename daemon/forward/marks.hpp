// SPDX-License-Identifier: GPL-2.0-or-later
// The packet mark sarad's verdicts carry, shared by the verdict code and the kernel rules:
// the low 16 bits are the node id (the ip rule's fwmark selects the node's routing table);
// bit 16 marks signalling, which the FORWARD rule never saves to the conntrack entry, so
// SIP over UDP keeps being routed per message by Call-ID (DESIGN §3).
#pragma once

#include <cstdint>

#include "common/net/node_id.hpp"

namespace sara {

inline constexpr uint32_t kNodeMarkMask = 0xffff;
inline constexpr uint32_t kMarkNoSave = 0x10000;
static_assert(kMaxNodeId <= kNodeMarkMask, "a node id must fit the mark's node bits");

}  // namespace sara
