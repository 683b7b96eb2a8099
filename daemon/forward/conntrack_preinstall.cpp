// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/conntrack_preinstall.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sara {
namespace {

// One tuple (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY): addresses and ports in network order.
void put_tuple(nlmsghdr* nlh, uint16_t type, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    nlattr* tuple = mnl_attr_nest_start(nlh, type);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, src);
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, dst);
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
}

}  // namespace

std::unique_ptr<ConntrackPreinstall> ConntrackPreinstall::open(std::string* error) {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        if (error) *error = std::string("ctnetlink socket for conntrack pre-installation: ") + std::strerror(errno);
        if (s) mnl_socket_close(s);
        return nullptr;
    }
    // A receive timeout: an ACK that never comes must not hold the runtime lock.
    timeval tv{0, 200'000};
    setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return std::unique_ptr<ConntrackPreinstall>(new ConntrackPreinstall(s));
}

ConntrackPreinstall::ConntrackPreinstall(mnl_socket* socket) : socket_(socket) {}

ConntrackPreinstall::~ConntrackPreinstall() { mnl_socket_close(socket_); }

ConntrackPreinstall::Result ConntrackPreinstall::create(const FlowKey& flow, uint32_t mark,
                                                         std::chrono::seconds timeout) {
    if (!flow.is_v4() || !flow.dst.is_v4() || flow.proto != IpProto::udp || flow.src_port == 0 ||
        flow.dst_port == 0)
        return Result::unsupported;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    nlh->nlmsg_seq = ++seq_;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_INET;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    const uint32_t client = flow.src.v4_network_order(), vip = flow.dst.v4_network_order();
    put_tuple(nlh, CTA_TUPLE_ORIG, client, vip, flow.src_port, flow.dst_port);
    // The reply tuple: the node answers from the VIP (direct server return); the dispatcher
    // never sees it, but conntrack needs both directions to create an entry.
    put_tuple(nlh, CTA_TUPLE_REPLY, vip, client, flow.dst_port, flow.src_port);
    mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(uint32_t(timeout.count())));
    mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
    if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) return Result::failed;
    char reply[8192];
    const ssize_t n = mnl_socket_recvfrom(socket_, reply, sizeof reply);
    if (n < 0) return Result::failed;
    const int rc = mnl_cb_run(reply, size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(socket_), nullptr, nullptr);
    if (rc >= 0) return Result::created;
    return errno == EEXIST ? Result::exists : Result::failed;
}

}  // namespace sara
