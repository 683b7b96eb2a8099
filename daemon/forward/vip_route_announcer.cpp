// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/vip_route_announcer.hpp"

#include <linux/rtnetlink.h>

#include <vector>

#include "daemon/forward/rtnetlink.hpp"

namespace sara {

std::error_code VipRouteAnnouncer::set(bool announce, std::string* error) {
    if (announce == announced_) return {};
    if (!announce) {
        if (std::error_code ec = withdraw_all(error)) return ec;
        announced_ = false;
        return {};
    }
    for (const IpAddress& vip : vips_.list()) {
        RtNetlink nl(vip.is_v4() ? AF_INET : AF_INET6);
        if (std::error_code ec = nl.open(error)) return ec;
        if (std::error_code ec = nl.replace_blackhole_route(table_, vip, kAnnounceProtocol, error)) return ec;
    }
    announced_ = true;
    return {};
}

std::error_code VipRouteAnnouncer::withdraw_family(uint8_t family, std::string* error) {
    RtNetlink nl(family);
    if (std::error_code ec = nl.open(error)) return ec;
    std::vector<RouteEntry> routes;
    if (std::error_code ec = nl.dump_routes(routes, error)) return ec;
    for (const RouteEntry& r : routes) {
        if (r.table != table_ || r.protocol != kAnnounceProtocol) continue;
        if (std::error_code ec =
                nl.delete_dumped(r.message, RTM_DELROUTE, "announced route " + r.destination.to_string(), error))
            return ec;
    }
    return {};
}

std::error_code VipRouteAnnouncer::withdraw_all(std::string* error) {
    for (const uint8_t family : {uint8_t{AF_INET}, uint8_t{AF_INET6}}) {
        // A family without a VIP is cleaned best-effort (as the kernel setup's): a host
        // without IPv6 must not stop an IPv4 dispatcher.
        const bool ours = family == AF_INET ? vips_.has_v4() : vips_.has_v6();
        std::string family_error;
        if (std::error_code ec = withdraw_family(family, &family_error); ec && ours) {
            if (error) *error = family_error;
            return ec;
        }
    }
    announced_ = false;
    return {};
}

}  // namespace sara
