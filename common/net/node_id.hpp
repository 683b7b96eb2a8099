// SPDX-License-Identifier: GPL-2.0-or-later
// The ids of a cluster's hosts, kept in one place because three files, the wire messages and
// the kernel's marks and routing tables must agree on them. Nodes and gateways share one
// 16-bit host_id space (common/wire); the ranges below keep them apart, so a message's host_id
// alone says which kind of sender it is.
#pragma once

#include <cstdint>

namespace sara {

// A node's id: dispatcher.yaml nodes[].id and nodeagent.yaml node_id, the host_id of the node
// agent's heartbeats and load vectors, and the packet mark (daemon/forward/marks.hpp) whose ip
// rule selects the node's routing table.
using NodeId = uint16_t;
// Ids are 1-based: mark 0 is an unmarked packet, so 0 means "no node".
inline constexpr NodeId kNoNode = 0;

// A node's routing table and fwmark rule priority are table_base + id, inside the 256 values
// sarad owns (daemon/forward/kernel_setup.hpp), so ids stay below 256; the ids above 250 are
// left to the gateways.
inline constexpr NodeId kMinNodeId = 1;
inline constexpr NodeId kMaxNodeId = 250;

// Gateway ids (gateway.yaml gateway_id, dispatcher.yaml announce.senders) start above every
// node id; a dispatcher drops an announcement from a host_id it does not list.
inline constexpr uint16_t kFirstGatewayId = kMaxNodeId + 1;
inline constexpr uint16_t kMaxGatewayId = 65535;

}  // namespace sara
