// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/conntrack_janitor.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "daemon/forward/marks.hpp"

namespace sara {
namespace {

// CTA_FILTER_ORIG_FLAGS bits (net/netfilter/nf_conntrack_netlink.c; not in the uapi header).
constexpr uint32_t kFilterIpSrc = 1u << 0;
constexpr uint32_t kFilterIpDst = 1u << 1;
constexpr uint32_t kFilterProtoNum = 1u << 3;
constexpr uint32_t kFilterProtoSrcPort = 1u << 4;

bool supported(const FlowKey& k) { return k.is_v4() && k.dst.is_v4() && k.proto == IpProto::udp; }

nlmsghdr* put_header(std::vector<char>& buf, uint16_t type, uint16_t flags, uint32_t seq) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = uint16_t((NFNL_SUBSYS_CTNETLINK << 8) | type);
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_INET;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

// CTA_TUPLE_ORIG of `k`; a zero dst_port is left out (a filter on the source side).
void put_orig_tuple(nlmsghdr* nlh, const FlowKey& k) {
    nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, k.src.v4_network_order());
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, k.dst.v4_network_order());
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(k.src_port));
    if (k.dst_port != 0) mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(k.dst_port));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
}

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

// A dump reply: the entry's original tuple, kept when it is a UDP flow from the endpoint
// whose mark does not already name `keep_node` (the claiming session's node; kNoNode: none).
struct DumpState {
    FlowKey endpoint;
    NodeId keep_node = kNoNode;
    std::vector<FlowKey> matches;
    uint64_t kept = 0;
};

int on_entry(const nlmsghdr* nlh, void* data) {
    auto* state = static_cast<DumpState*>(data);
    const nlattr* top[CTA_MAX + 1] = {};
    mnl_attr_parse(nlh, sizeof(nfgenmsg), [](const nlattr* a, void* d) {
        const uint16_t type = mnl_attr_get_type(a);
        if (type <= CTA_MAX) static_cast<const nlattr**>(d)[type] = a;
        return MNL_CB_OK;
    }, top);
    if (!top[CTA_TUPLE_ORIG]) return MNL_CB_OK;
    const nlattr* tuple[CTA_TUPLE_MAX + 1];
    if (!parse_nest(top[CTA_TUPLE_ORIG], tuple) || !tuple[CTA_TUPLE_IP] || !tuple[CTA_TUPLE_PROTO]) return MNL_CB_OK;
    const nlattr* ip[CTA_IP_MAX + 1];
    const nlattr* proto[CTA_PROTO_MAX + 1];
    if (!parse_nest(tuple[CTA_TUPLE_IP], ip) || !parse_nest(tuple[CTA_TUPLE_PROTO], proto)) return MNL_CB_OK;
    if (!ip[CTA_IP_V4_SRC] || !ip[CTA_IP_V4_DST] || !proto[CTA_PROTO_NUM] || !proto[CTA_PROTO_SRC_PORT] ||
        !proto[CTA_PROTO_DST_PORT])
        return MNL_CB_OK;
    if (mnl_attr_get_u8(proto[CTA_PROTO_NUM]) != IPPROTO_UDP) return MNL_CB_OK;
    const uint32_t src = mnl_attr_get_u32(ip[CTA_IP_V4_SRC]), dst = mnl_attr_get_u32(ip[CTA_IP_V4_DST]);
    const uint16_t sport = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_SRC_PORT]));
    const uint16_t dport = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]));
    // Checked here too: the kernel filter may be absent (older kernels dump everything).
    const FlowKey& e = state->endpoint;
    if (src != e.src.v4_network_order() || dst != e.dst.v4_network_order() || sport != e.src_port) return MNL_CB_OK;
    // Already marked for the claiming session's node: its first packets came before this
    // forget (the claim is sent on asynchronously, and the dump takes milliseconds). Deleting
    // it would only send the flow through the queue again, to the same node.
    const uint32_t mark = top[CTA_MARK] ? ntohl(mnl_attr_get_u32(top[CTA_MARK])) : 0;
    if (state->keep_node != kNoNode && (mark & kNodeMarkMask) == state->keep_node) {
        ++state->kept;
        return MNL_CB_OK;
    }
    FlowKey found = e;
    found.dst_port = dport;
    state->matches.push_back(found);
    return MNL_CB_OK;
}

}  // namespace

std::unique_ptr<ConntrackJanitor> ConntrackJanitor::start(bool preinstall, std::string* error) {
    std::unique_ptr<ConntrackPreinstall> installer;
    if (preinstall && !(installer = ConntrackPreinstall::open(error))) return nullptr;
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        if (error) *error = std::string("ctnetlink socket for the conntrack janitor: ") + std::strerror(errno);
        if (s) mnl_socket_close(s);
        return nullptr;
    }
    // A reply that never comes must not stall the janitor for ever.
    timeval tv{1, 0};
    setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::unique_ptr<ConntrackJanitor> j(new ConntrackJanitor(s, std::move(installer)));
    j->thread_ = std::thread([p = j.get()] { p->run(); });
    return j;
}

ConntrackJanitor::ConntrackJanitor(mnl_socket* socket, std::unique_ptr<ConntrackPreinstall> preinstall)
    : socket_(socket), preinstall_(std::move(preinstall)) {}

ConntrackJanitor::~ConntrackJanitor() {
    {
        MutexLock guard(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    // Waiters whose requests the stop cut short still run: a held verdict is never lost.
    std::deque<std::pair<uint64_t, std::function<void()>>> left;
    {
        MutexLock guard(mutex_);
        left.swap(waiters_);
    }
    for (auto& [order, after] : left) after();
    mnl_socket_close(socket_);
}

void ConntrackJanitor::submit(const std::vector<ConntrackRequest>& requests) { (void)submit(requests, nullptr); }

bool ConntrackJanitor::submit(const std::vector<ConntrackRequest>& requests, std::function<void()> after) {
    bool queued = false, waiting = false;
    {
        MutexLock guard(mutex_);
        // Idle: the wait is this submission's own work, a dump or two.
        const bool idle = !busy_ && pending_.empty();
        for (const ConntrackRequest& r : requests) {
            if (!supported(r.key) || (r.kind == ConntrackRequest::Kind::install && !preinstall_)) continue;
            if (pending_.size() >= kMaxPending) {
                ++counters_.conntrack_forget_dropped_total;
                continue;
            }
            pending_.push_back(r);
            pending_.back().order = next_order_++;
            queued = true;
        }
        if (queued && after) {
            waiting = idle;
            if (waiting) waiters_.emplace_back(next_order_ - 1, std::move(after));
            else ++counters_.conntrack_waits_skipped_total;
        }
    }
    if (queued) wake_.notify_one();
    return waiting;
}

void ConntrackJanitor::wait_idle() {
    MutexLock guard(mutex_);
    while (!stop_ && (busy_ || !pending_.empty())) idle_.wait(mutex_);
}

JanitorCounters ConntrackJanitor::counters() const {
    MutexLock guard(mutex_);
    return counters_;
}

void ConntrackJanitor::run() {
    mutex_.lock();
    for (;;) {
        while (!stop_ && pending_.empty()) wake_.wait(mutex_);
        if (stop_) break;
        std::deque<ConntrackRequest> batch;
        batch.swap(pending_);
        busy_ = true;
        mutex_.unlock();
        Installed installed;
        for (const ConntrackRequest& r : batch) {
            if (r.kind != ConntrackRequest::Kind::install) continue;
            install(r.key, r.mark);
            installed[r.key] = r.order;
        }
        for (const ConntrackRequest& r : batch) {
            if (r.kind == ConntrackRequest::Kind::forget_flow) forget_flow(r.key, r.order, installed);
            if (r.kind == ConntrackRequest::Kind::forget_endpoint) forget_endpoint(r, installed);
        }
        mutex_.lock();
        handled_order_ = batch.back().order;
        std::vector<std::function<void()>> released;
        while (!waiters_.empty() && waiters_.front().first <= handled_order_) {
            released.push_back(std::move(waiters_.front().second));
            waiters_.pop_front();
        }
        counters_.conntrack_waiters_released_total += released.size();
        if (!released.empty()) {
            mutex_.unlock();  // a waiter may take its caller's locks (the dispatcher's)
            for (auto& after : released) after();
            mutex_.lock();
        }
        busy_ = false;  // only now: wait_idle() returns once the waiters have run
        if (pending_.empty()) idle_.notify_all();
    }
    busy_ = false;
    idle_.notify_all();
    mutex_.unlock();
}

void ConntrackJanitor::install(const FlowKey& flow, uint32_t mark) {
    // 30 s until its first packet; then the kernel's UDP timeouts apply.
    const ConntrackPreinstall::Result r = preinstall_->create(flow, mark, std::chrono::seconds(30));
    MutexLock guard(mutex_);
    switch (r) {
        case ConntrackPreinstall::Result::created: ++counters_.preinstall_created_total; break;
        case ConntrackPreinstall::Result::exists: ++counters_.preinstall_exists_total; break;
        case ConntrackPreinstall::Result::unsupported:
        case ConntrackPreinstall::Result::failed: ++counters_.preinstall_failed_total; break;
    }
}

int ConntrackJanitor::exchange(std::vector<char>& request, void* entries) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(request.data());
    if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) return errno;
    std::vector<char> reply(32768);  // a dump batch (libmnl 1.0.4 has no MNL_SOCKET_DUMP_SIZE)
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, reply.data(), reply.size());
        if (n < 0) return errno;
        const int rc = mnl_cb_run(reply.data(), size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(socket_),
                                  entries ? on_entry : nullptr, entries);
        if (rc < 0) return errno;
        if (rc == MNL_CB_STOP) return 0;
    }
}

void ConntrackJanitor::forget_flow(const FlowKey& flow, uint64_t order, const Installed& installed) {
    if (const auto it = installed.find(flow); it != installed.end() && it->second > order) return;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = put_header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, ++seq_);
    put_orig_tuple(nlh, flow);
    const int err = exchange(buf, nullptr);
    MutexLock guard(mutex_);
    if (err == 0) ++counters_.conntrack_forget_flows_total;
    else if (err == ENOENT) ++counters_.conntrack_forget_absent_total;
    else ++counters_.conntrack_forget_failed_total;
}

void ConntrackJanitor::forget_endpoint(const ConntrackRequest& request, const Installed& installed) {
    const FlowKey& endpoint = request.key;
    const uint64_t order = request.order;
    const auto started = std::chrono::steady_clock::now();
    DumpState state{endpoint, NodeId(request.mark & kNodeMarkMask), {}, 0};
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, ++seq_);
    if (kernel_filter_) {
        put_orig_tuple(nlh, endpoint);
        nlattr* filter = mnl_attr_nest_start(nlh, CTA_FILTER);
        mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, kFilterIpSrc | kFilterIpDst | kFilterProtoNum | kFilterProtoSrcPort);
        mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, 0);
        mnl_attr_nest_end(nlh, filter);
    }
    int err = exchange(buf, &state);
    if (err != 0 && kernel_filter_ && (err == EOPNOTSUPP || err == EINVAL)) {
        // An older kernel: dump everything and match here from now on.
        kernel_filter_ = false;
        state.matches.clear();
        state.kept = 0;
        nlh = put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, ++seq_);
        err = exchange(buf, &state);
    }
    uint64_t deleted = 0, failed = err != 0;
    for (const FlowKey& k : state.matches) {
        if (const auto it = installed.find(k); it != installed.end() && it->second > order) continue;
        std::vector<char> del(MNL_SOCKET_BUFFER_SIZE);
        nlmsghdr* d = put_header(del, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, ++seq_);
        put_orig_tuple(d, k);
        const int e = exchange(del, nullptr);
        if (e == 0) ++deleted;
        else if (e != ENOENT) ++failed;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    MutexLock guard(mutex_);
    ++counters_.conntrack_endpoint_dumps_total;
    counters_.conntrack_endpoint_entries_deleted_total += deleted;
    counters_.conntrack_endpoint_entries_kept_total += state.kept;
    counters_.conntrack_forget_failed_total += failed;
    counters_.conntrack_dump_microseconds_total += uint64_t(us.count());
}

}  // namespace sara
