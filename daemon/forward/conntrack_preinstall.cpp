// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/conntrack_preinstall.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

namespace sara {

std::unique_ptr<ConntrackPreinstall> ConntrackPreinstall::open(std::string* error) {
    // A receive timeout: an ACK that never comes must not stall the janitor.
    std::unique_ptr<CtnetlinkSocket> s = CtnetlinkSocket::open("conntrack pre-installation", timeval{0, 200'000}, error);
    if (!s) return nullptr;
    return std::unique_ptr<ConntrackPreinstall>(new ConntrackPreinstall(std::move(s)));
}

ConntrackPreinstall::ConntrackPreinstall(std::unique_ptr<CtnetlinkSocket> socket) : socket_(std::move(socket)) {}

ConntrackPreinstall::~ConntrackPreinstall() = default;

ConntrackPreinstall::Result ConntrackPreinstall::create(const FlowKey& flow, uint32_t mark,
                                                         std::chrono::seconds timeout) {
    if (!ctnetlink_supported(flow) || flow.src_port == 0 || flow.dst_port == 0) return Result::unsupported;
    std::vector<char> buf;
    nlmsghdr* nlh = socket_->put_header(buf, IPCTNL_MSG_CT_NEW, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
                                        ct_family(flow));
    ct_put_tuple(nlh, CTA_TUPLE_ORIG, flow);
    // The reply tuple: the node answers from the VIP (direct server return); the dispatcher
    // never sees it, but conntrack needs both directions to create an entry.
    ct_put_tuple(nlh, CTA_TUPLE_REPLY, FlowKey{flow.dst, flow.src, flow.dst_port, flow.src_port, flow.proto});
    mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(uint32_t(timeout.count())));
    mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
    const int err = socket_->exchange(buf);
    if (err == 0) return Result::created;
    return err == EEXIST ? Result::exists : Result::failed;
}

}  // namespace sara
