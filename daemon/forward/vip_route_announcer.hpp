// SPDX-License-Identifier: GPL-2.0-or-later
// The VIPs' route a routing daemon announces for this dispatcher (issue 19, DESIGN §9b:
// several active dispatchers behind the upstream router's ECMP). While the dispatcher is
// ready — started, synced with its mesh, not withdrawn by the operator — each VIP has a
// blackhole host route in `route_announce.table` (main by default) with protocol
// kAnnounceProtocol; FRR's zebra sees it as a kernel route and bgpd redistributes it
// (`redistribute kernel route-map SARA-VIP`, etc/frr/frr.conf), so the router holds this
// dispatcher as a next hop for the VIP exactly while the route is there. Why a kernel route
// rather than vtysh: sarad needs nothing of FRR (no socket, no exec, no ordering at start),
// FRR finds the route whenever it (re)starts, and the same route serves any daemon that
// learns kernel routes (BIRD's `kernel` protocol with `learn`). Not `ip import-table`: zebra
// then installs a copy in the main table, which a killed zebra leaves behind and its
// successor takes for a kernel route that shadows the import (seen in test_mesh_bgp). The
// blackhole itself forwards nothing: packets for the VIP are steered by their marks to the
// nodes' tables first (the fwmark rules come before the main table); an unmarked one is
// dropped, as it would be without the route (a dispatcher has no other way to the VIP).
//
// A crash leaves the route behind: sarad deletes every route of kAnnounceProtocol in the
// table when it starts and when it stops, and `sarad --withdraw-routes FILE` does only that
// (systemd's ExecStopPost, which runs after a crash too).
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "common/net/vip_set.hpp"

namespace sara {

// The route's protocol (rtm_protocol, /etc/iproute2/rt_protos.d/sara.conf names it "sara"):
// clear of the kernel's, the routing daemons' (186-192) and `ip`'s boot/static ones.
inline constexpr uint8_t kAnnounceProtocol = 240;

class VipRouteAnnouncer {
public:
    VipRouteAnnouncer(uint32_t table, const VipSet& vips) : table_(table), vips_(vips) {}

    // Adds (announce) or deletes (withdraw) the VIPs' routes; nothing when already so.
    [[nodiscard]] std::error_code set(bool announce, std::string* error);
    // Deletes every route of kAnnounceProtocol in the table, of both families (a crashed
    // predecessor's too, whatever VIPs it had).
    [[nodiscard]] std::error_code withdraw_all(std::string* error);
    bool announced() const { return announced_; }
    uint32_t table() const { return table_; }

private:
    std::error_code withdraw_family(uint8_t family, std::string* error);

    uint32_t table_;
    VipSet vips_;
    bool announced_ = false;
};

}  // namespace sara
