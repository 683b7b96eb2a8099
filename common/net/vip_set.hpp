// SPDX-License-Identifier: GPL-2.0-or-later
// The cluster's virtual addresses: at most one IPv4 VIP and one IPv6 VIP (dispatcher.yaml
// `vip`, docs/architecture.md "IPv6 and dual stack"). One service set serves both; a flow's
// VIP is the one of its client's family.
#pragma once

#include <string>
#include <vector>

#include "common/net/ip_address.hpp"

namespace sara {

struct VipSet {
    IpAddress v4;  // unset (family 0) when the cluster has no IPv4 VIP
    IpAddress v6;  // unset when it has no IPv6 VIP

    VipSet() = default;
    // One VIP of either family (tests, replay).
    VipSet(const IpAddress& only) { add(only); }  // NOLINT(google-explicit-constructor): a VIP is a VIP set

    // Puts `a` in its family's place (replacing what was there).
    void add(const IpAddress& a) {
        if (a.is_v4()) v4 = a;
        if (a.is_v6()) v6 = a;
    }
    bool has_v4() const { return v4.is_v4(); }
    bool has_v6() const { return v6.is_v6(); }
    bool empty() const { return !has_v4() && !has_v6(); }
    bool contains(const IpAddress& a) const { return (a.is_v4() && a == v4) || (a.is_v6() && a == v6); }
    // The VIP a flow from `client` goes to: the one of the client's family (unset if none).
    const IpAddress& for_peer(const IpAddress& client) const { return client.is_v6() ? v6 : v4; }
    // The configured VIPs, IPv4 first.
    std::vector<IpAddress> list() const {
        std::vector<IpAddress> out;
        if (has_v4()) out.push_back(v4);
        if (has_v6()) out.push_back(v6);
        return out;
    }
    // "198.18.100.10", "2001:db8::10" or "198.18.100.10 and 2001:db8::10".
    std::string to_string() const {
        if (has_v4() && has_v6()) return v4.to_string() + " and " + v6.to_string();
        return has_v4() ? v4.to_string() : has_v6() ? v6.to_string() : std::string("(none)");
    }
    friend bool operator==(const VipSet&, const VipSet&) = default;
};

}  // namespace sara
