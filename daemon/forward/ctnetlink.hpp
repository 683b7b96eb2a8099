// SPDX-License-Identifier: GPL-2.0-or-later
// The ctnetlink plumbing the conntrack janitor, the pre-installer and the fast-path view of
// conntrack share (libmnl): one socket with a receive timeout, request headers, a UDP
// client → VIP tuple, one request/reply exchange, and the fields of a dumped or fetched entry.
// UDP over IPv4 or IPv6, as the conntrack fast path is. Not thread-safe: one socket per owner thread.
#pragma once

#include <sys/time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/net/flow_key.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace sara {

// Keys conntrack's fast path handles here: UDP, both addresses of one family.
inline bool ctnetlink_supported(const FlowKey& k) {
    return (k.src.is_v4() || k.src.is_v6()) && k.dst.family == k.src.family && k.proto == IpProto::udp;
}
// The nfgen_family of a request about `k` (AF_INET or AF_INET6, by its destination).
uint8_t ct_family(const FlowKey& k);

// One conntrack entry as a dump or a GET returns it.
struct CtEntry {
    FlowKey orig;              // client → VIP (the original direction)
    uint32_t mark = 0;
    uint32_t timeout_s = 0;    // seconds left before the kernel expires it
    bool assured = false;      // seen both ways: the stream timeout applies
};

class CtnetlinkSocket {
public:
    // `purpose` names the socket in the error ("ctnetlink socket for PURPOSE: ...").
    static std::unique_ptr<CtnetlinkSocket> open(const std::string& purpose, timeval receive_timeout, std::string* error);
    ~CtnetlinkSocket();
    CtnetlinkSocket(const CtnetlinkSocket&) = delete;
    CtnetlinkSocket& operator=(const CtnetlinkSocket&) = delete;

    // A request of `type` (IPCTNL_MSG_CT_*) about `family`'s entries (AF_INET, AF_INET6) at the
    // start of `buf`, with a fresh sequence number.
    nlmsghdr* put_header(std::vector<char>& buf, uint16_t type, uint16_t flags, uint8_t family);
    // Sends the request and reads its replies: each entry to `on_entry` (a dump or a GET), or
    // none (an ACK). 0, or the kernel's errno.
    int exchange(std::vector<char>& request, const std::function<void(const CtEntry&)>& on_entry);
    int exchange(std::vector<char>& request) { return exchange(request, nullptr); }

private:
    explicit CtnetlinkSocket(mnl_socket* socket) : socket_(socket), reply_(32768) {}
    mnl_socket* socket_;
    std::vector<char> reply_;  // a dump batch (libmnl 1.0.4 has no MNL_SOCKET_DUMP_SIZE); kept between requests
    uint32_t seq_ = 1;
};

// The tuple `type` (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY) of `k`: both addresses, the protocol,
// and each port that is not zero (a dump's filter leaves out the side it does not match on).
void ct_put_tuple(nlmsghdr* nlh, uint16_t type, const FlowKey& k);
// The fields of one entry message; nullopt for anything but an IPv4 or IPv6 UDP entry with both ports.
std::optional<CtEntry> ct_parse_entry(const nlmsghdr* nlh);

}  // namespace sara
