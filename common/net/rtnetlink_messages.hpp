// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink message work of the dispatcher's kernel setup (daemon/forward/rtnetlink), the
// node agent's node setup (nodeagent/setup/route_netlink) and the BPF fast path's tc check,
// without a socket, so that it can be unit-tested: building a request (netlink header, family
// header, attributes), reading a message's family header and attributes, and turning a dumped
// message into the request that deletes or re-adds exactly that object. Sending is
// common/net/rtnetlink_socket's.
//
// Addresses go in and come out as IpAddress with the address family as a parameter, so that
// IPv6 rules, routes and neighbours need no second copy of these helpers.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/net/ip_address.hpp"

namespace sara {

// One request message being built: the netlink header, the family header (ifaddrmsg, ndmsg,
// rtmsg, fib_rule_hdr, tcmsg... zeroed, for the caller to fill in) and the attributes put after
// it. The buffer is held inside, so a request can be returned and copied by value.
class RtnetlinkRequest {
public:
    // Far more than any request here needs (a few attributes of at most 16 bytes).
    static constexpr size_t kCapacity = 1024;

    RtnetlinkRequest(uint16_t type, uint16_t flags, size_t family_header_size);

    // The family header; Header must fit the size the request was made with.
    template <typename Header>
    Header& family_header() {
        assert(sizeof(Header) <= family_header_size_);
        return *reinterpret_cast<Header*>(buffer_.data() + NLMSG_HDRLEN);
    }

    void put_u32(uint16_t type, uint32_t value);
    void put_bytes(uint16_t type, std::span<const uint8_t> bytes);
    // The address's own bytes: 4 for IPv4, 16 for IPv6. An unset address spoils the request
    // (there is no length to give it), as does an attribute that does not fit.
    void put_address(uint16_t type, const IpAddress& address);

    // False if an attribute was refused: the request must not be sent, as the kernel would
    // read it without that attribute.
    bool complete() const { return complete_; }
    nlmsghdr* message() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
    const nlmsghdr* message() const { return reinterpret_cast<const nlmsghdr*>(buffer_.data()); }

private:
    alignas(nlmsghdr) std::array<uint8_t, kCapacity> buffer_{};
    size_t family_header_size_;
    bool complete_ = true;
};

// The request for a dump of `type` (RTM_GETRULE, RTM_GETROUTE, ...) for `family`. It carries an
// rtmsg-sized family header, as `ip` sends: rtgenmsg, ifaddrmsg, ndmsg, rtmsg and fib_rule_hdr
// all start with the family byte, and the kernel reads no further for a plain dump.
RtnetlinkRequest dump_request(uint16_t type, uint8_t family);

// A route message's header and table (RTA_TABLE too: tables above 255 exist only there), the
// caller adding its attributes; scope universe.
RtnetlinkRequest route_request(uint16_t type, uint16_t flags, uint8_t family, uint32_t table, uint8_t dst_len,
                               uint8_t protocol, uint8_t route_type);
// The request for a unicast default route (dst 0/0, proto static, scope universe) of `family`
// in `table` via `gateway` out of `ifindex`: RTA_TABLE, RTA_GATEWAY, RTA_OIF, in that order.
// The dispatcher's per-node routes and the node agent's `src VIP` route add to it.
RtnetlinkRequest default_route_request(uint16_t type, uint16_t flags, uint8_t family, uint32_t table,
                                       const IpAddress& gateway, int ifindex);

// `nlh`'s family header if the message is of `type` and long enough to hold one; else null.
template <typename Header>
const Header* family_header_of(const nlmsghdr& nlh, uint16_t type) {
    if (nlh.nlmsg_type != type || nlh.nlmsg_len < NLMSG_LENGTH(sizeof(Header))) return nullptr;
    return reinterpret_cast<const Header*>(reinterpret_cast<const uint8_t*>(&nlh) + NLMSG_HDRLEN);
}

// The attributes of `nlh` after its `header_size`-byte family header: table[type], or nullptr
// for a type the message does not carry; types beyond the table are ignored.
void parse_attributes(const nlmsghdr& nlh, size_t header_size, std::span<const nlattr*> table);

// family_header_of() and, if the message has that header, its attributes in `table`.
template <typename Header>
const Header* parse_message(const nlmsghdr& nlh, uint16_t type, std::span<const nlattr*> table) {
    const Header* header = family_header_of<Header>(nlh, type);
    if (header) parse_attributes(nlh, sizeof(Header), table);
    return header;
}
// A u32 attribute's value; nullopt if the attribute is absent or not 4 bytes long.
std::optional<uint32_t> u32_attribute(const nlattr* attr);
// An address attribute of a message of `family` (AF_INET: 4 bytes, AF_INET6: 16); unset if
// absent, of another length, or of another family.
IpAddress address_attribute(const nlattr* attr, uint8_t family);
// The bytes of a whole message, to send it back later (exact deletion, restore).
std::vector<uint8_t> copy_message(const nlmsghdr& nlh);

// A dumped message (from copy_message) as a request of `type` with `flags`: RTM_DEL* of it
// deletes exactly that object (what `ip ... flush` does), RTM_NEW* puts it back. Route flags
// the kernel reports but refuses to be told (RTNH_F_DEAD, _LINKDOWN, _OFFLOAD, _TRAP: a link
// that was down when dumped) are cleared for RTM_NEWROUTE. Empty if `dumped` is shorter than
// its own length field says or than the family header `type` needs.
std::vector<uint8_t> replayed_message(std::span<const uint8_t> dumped, uint16_t type, uint16_t flags);

}  // namespace sara
