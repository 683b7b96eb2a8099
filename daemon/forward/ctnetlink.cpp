// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/ctnetlink.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sara {
namespace {

// The attributes of one nest, by type (unknown types ignored).
template <size_t N>
bool parse_nest(const nlattr* nest, const nlattr* (&tb)[N]) {
    for (auto& a : tb) a = nullptr;
    return mnl_attr_parse_nested(nest, [](const nlattr* a, void* data) {
        auto* table = static_cast<const nlattr**>(data);
        const uint16_t type = mnl_attr_get_type(a);
        if (type < N) table[type] = a;
        return MNL_CB_OK;
    }, tb) >= 0;
}

int on_message(const nlmsghdr* nlh, void* data) {
    const auto& on_entry = *static_cast<const std::function<void(const CtEntry&)>*>(data);
    if (const std::optional<CtEntry> e = ct_parse_entry(nlh)) on_entry(*e);
    return MNL_CB_OK;
}

}  // namespace

std::unique_ptr<CtnetlinkSocket> CtnetlinkSocket::open(const std::string& purpose, timeval receive_timeout,
                                                       std::string* error) {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        if (error) *error = "ctnetlink socket for " + purpose + ": " + std::strerror(errno);
        if (s) mnl_socket_close(s);
        return nullptr;
    }
    // A reply that never comes must not stall the owner for ever.
    setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);
    return std::unique_ptr<CtnetlinkSocket>(new CtnetlinkSocket(s));
}

CtnetlinkSocket::~CtnetlinkSocket() { mnl_socket_close(socket_); }

uint8_t ct_family(const FlowKey& k) { return k.dst.is_v6() ? AF_INET6 : AF_INET; }

nlmsghdr* CtnetlinkSocket::put_header(std::vector<char>& buf, uint16_t type, uint16_t flags, uint8_t family) {
    const size_t size = size_t(MNL_SOCKET_BUFFER_SIZE);
    if (buf.size() < size) buf.resize(size);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = uint16_t((NFNL_SUBSYS_CTNETLINK << 8) | type);
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = ++seq_;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

int CtnetlinkSocket::exchange(std::vector<char>& request, const std::function<void(const CtEntry&)>& on_entry) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(request.data());
    if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) return errno;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, reply_.data(), reply_.size());
        if (n < 0) return errno;
        const int rc = mnl_cb_run(reply_.data(), size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(socket_),
                                  on_entry ? on_message : nullptr,
                                  const_cast<void*>(static_cast<const void*>(&on_entry)));
        if (rc < 0) return errno;
        if (rc == MNL_CB_STOP) return 0;
    }
}

void ct_put_tuple(nlmsghdr* nlh, uint16_t type, const FlowKey& k) {
    nlattr* tuple = mnl_attr_nest_start(nlh, type);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    if (k.dst.is_v6()) {
        mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, k.src.bytes.data());
        mnl_attr_put(nlh, CTA_IP_V6_DST, 16, k.dst.bytes.data());
    } else {
        mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, k.src.v4_network_order());
        mnl_attr_put_u32(nlh, CTA_IP_V4_DST, k.dst.v4_network_order());
    }
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    if (k.src_port != 0) mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(k.src_port));
    if (k.dst_port != 0) mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(k.dst_port));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
}

std::optional<CtEntry> ct_parse_entry(const nlmsghdr* nlh) {
    const nlattr* top[CTA_MAX + 1] = {};
    mnl_attr_parse(nlh, sizeof(nfgenmsg), [](const nlattr* a, void* d) {
        const uint16_t type = mnl_attr_get_type(a);
        if (type <= CTA_MAX) static_cast<const nlattr**>(d)[type] = a;
        return MNL_CB_OK;
    }, top);
    if (!top[CTA_TUPLE_ORIG]) return std::nullopt;
    const nlattr* tuple[CTA_TUPLE_MAX + 1];
    if (!parse_nest(top[CTA_TUPLE_ORIG], tuple) || !tuple[CTA_TUPLE_IP] || !tuple[CTA_TUPLE_PROTO]) return std::nullopt;
    const nlattr* ip[CTA_IP_MAX + 1];
    const nlattr* proto[CTA_PROTO_MAX + 1];
    if (!parse_nest(tuple[CTA_TUPLE_IP], ip) || !parse_nest(tuple[CTA_TUPLE_PROTO], proto)) return std::nullopt;
    if (!proto[CTA_PROTO_NUM] || !proto[CTA_PROTO_SRC_PORT] || !proto[CTA_PROTO_DST_PORT]) return std::nullopt;
    CtEntry e;
    if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST]) {
        if (mnl_attr_validate(ip[CTA_IP_V4_SRC], MNL_TYPE_U32) < 0 || mnl_attr_validate(ip[CTA_IP_V4_DST], MNL_TYPE_U32) < 0)
            return std::nullopt;
        const uint32_t src = mnl_attr_get_u32(ip[CTA_IP_V4_SRC]), dst = mnl_attr_get_u32(ip[CTA_IP_V4_DST]);
        e.orig.src = IpAddress::v4(reinterpret_cast<const uint8_t*>(&src));
        e.orig.dst = IpAddress::v4(reinterpret_cast<const uint8_t*>(&dst));
    } else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST]) {
        if (mnl_attr_get_payload_len(ip[CTA_IP_V6_SRC]) != 16 || mnl_attr_get_payload_len(ip[CTA_IP_V6_DST]) != 16)
            return std::nullopt;
        e.orig.src = IpAddress::v6(static_cast<const uint8_t*>(mnl_attr_get_payload(ip[CTA_IP_V6_SRC])));
        e.orig.dst = IpAddress::v6(static_cast<const uint8_t*>(mnl_attr_get_payload(ip[CTA_IP_V6_DST])));
    } else {
        return std::nullopt;
    }
    if (mnl_attr_validate(proto[CTA_PROTO_NUM], MNL_TYPE_U8) < 0 ||
        mnl_attr_validate(proto[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) < 0 ||
        mnl_attr_validate(proto[CTA_PROTO_DST_PORT], MNL_TYPE_U16) < 0)
        return std::nullopt;
    if (mnl_attr_get_u8(proto[CTA_PROTO_NUM]) != IPPROTO_UDP) return std::nullopt;
    e.orig.src_port = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_SRC_PORT]));
    e.orig.dst_port = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]));
    e.orig.proto = IpProto::udp;
    if (top[CTA_MARK] && mnl_attr_validate(top[CTA_MARK], MNL_TYPE_U32) >= 0) e.mark = ntohl(mnl_attr_get_u32(top[CTA_MARK]));
    if (top[CTA_TIMEOUT] && mnl_attr_validate(top[CTA_TIMEOUT], MNL_TYPE_U32) >= 0)
        e.timeout_s = ntohl(mnl_attr_get_u32(top[CTA_TIMEOUT]));
    if (top[CTA_STATUS] && mnl_attr_validate(top[CTA_STATUS], MNL_TYPE_U32) >= 0)
        e.assured = (ntohl(mnl_attr_get_u32(top[CTA_STATUS])) & IPS_ASSURED) != 0;
    return e;
}

}  // namespace sara
