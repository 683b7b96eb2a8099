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

#include "common/util/thread_name.hpp"
#include "daemon/forward/marks.hpp"

namespace sara {
namespace {

// CTA_FILTER_ORIG_FLAGS bits (net/netfilter/nf_conntrack_netlink.c; not in the uapi header).
constexpr uint32_t kFilterIpSrc = 1u << 0;
constexpr uint32_t kFilterIpDst = 1u << 1;
constexpr uint32_t kFilterProtoNum = 1u << 3;
constexpr uint32_t kFilterProtoSrcPort = 1u << 4;

void put_filter(nlmsghdr* nlh, uint32_t orig_flags) {
    nlattr* filter = mnl_attr_nest_start(nlh, CTA_FILTER);
    mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, orig_flags);
    mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, 0);
    mnl_attr_nest_end(nlh, filter);
}

}  // namespace

std::unique_ptr<ConntrackJanitor> ConntrackJanitor::start(bool preinstall, std::string* error) {
    std::unique_ptr<ConntrackPreinstall> installer;
    if (preinstall && !(installer = ConntrackPreinstall::open(error))) return nullptr;
    std::unique_ptr<CtnetlinkSocket> socket = CtnetlinkSocket::open("the conntrack janitor", timeval{1, 0}, error);
    if (!socket) return nullptr;
    std::unique_ptr<ConntrackJanitor> j(new ConntrackJanitor(std::move(socket), std::move(installer)));
    j->thread_ = std::thread([p = j.get()] {
        name_this_thread("sara-janitor");
        p->run();
    });
    return j;
}

ConntrackJanitor::ConntrackJanitor(std::unique_ptr<CtnetlinkSocket> socket, std::unique_ptr<ConntrackPreinstall> preinstall)
    : socket_(std::move(socket)), preinstall_(std::move(preinstall)) {}

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
}

void ConntrackJanitor::submit(const std::vector<ConntrackRequest>& requests) { (void)submit(requests, nullptr); }

bool ConntrackJanitor::submit(const std::vector<ConntrackRequest>& requests, std::function<void()> after) {
    bool queued = false, waiting = false;
    {
        MutexLock guard(mutex_);
        // Idle: the wait is this submission's own work, a dump or two.
        const bool idle = !busy_ && pending_.empty();
        for (const ConntrackRequest& r : requests) {
            if (!ctnetlink_supported(r.key) || (r.kind == ConntrackRequest::Kind::install && !preinstall_)) continue;
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
            if (r.kind == ConntrackRequest::Kind::seed) seed(r);
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

int ConntrackJanitor::delete_entry(const FlowKey& flow) {
    ct_put_tuple(socket_->put_header(request_, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, ct_family(flow)),
                 CTA_TUPLE_ORIG, flow);
    return socket_->exchange(request_);
}

void ConntrackJanitor::forget_flow(const FlowKey& flow, uint64_t order, const Installed& installed) {
    if (const auto it = installed.find(flow); it != installed.end() && it->second > order) return;
    const int err = delete_entry(flow);
    MutexLock guard(mutex_);
    if (err == 0) ++counters_.conntrack_forget_flows_total;
    else if (err == ENOENT) ++counters_.conntrack_forget_absent_total;
    else ++counters_.conntrack_forget_failed_total;
}

int ConntrackJanitor::dump(const FlowKey& filter_key, uint32_t filter_flags, const std::function<void(const CtEntry&)>& on_entry) {
    nlmsghdr* nlh = socket_->put_header(request_, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, ct_family(filter_key));
    if (kernel_filter_) {
        ct_put_tuple(nlh, CTA_TUPLE_ORIG, filter_key);
        put_filter(nlh, filter_flags);
    }
    int err = socket_->exchange(request_, on_entry);
    if (err != 0 && kernel_filter_ && (err == EOPNOTSUPP || err == EINVAL)) {
        // An older kernel (before 5.9): dump everything and match here from now on.
        kernel_filter_ = false;
        socket_->put_header(request_, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, ct_family(filter_key));
        err = socket_->exchange(request_, on_entry);
    }
    return err;
}

void ConntrackJanitor::forget_endpoint(const ConntrackRequest& request, const Installed& installed) {
    const FlowKey& endpoint = request.key;
    const auto started = std::chrono::steady_clock::now();
    const NodeId keep_node = NodeId(request.mark & kNodeMarkMask);
    std::vector<FlowKey> matches;
    uint64_t kept = 0;
    const int err = dump(endpoint, kFilterIpSrc | kFilterIpDst | kFilterProtoNum | kFilterProtoSrcPort, [&](const CtEntry& e) {
        // Checked here too: the kernel filter may be absent (older kernels dump everything).
        if (e.orig.src != endpoint.src || e.orig.dst != endpoint.dst || e.orig.src_port != endpoint.src_port) return;
        // Already marked for the claiming session's node: its first packets came before this
        // forget. Deleting it would only send the flow through the queue again, to the same node.
        if (keep_node != kNoNode && (e.mark & kNodeMarkMask) == keep_node) {
            ++kept;
            return;
        }
        matches.push_back(e.orig);
    });
    uint64_t deleted = 0, failed = err != 0;
    for (const FlowKey& k : matches) {
        if (const auto it = installed.find(k); it != installed.end() && it->second > request.order) continue;
        const int e = delete_entry(k);
        if (e == 0) ++deleted;
        else if (e != ENOENT) ++failed;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    MutexLock guard(mutex_);
    ++counters_.conntrack_endpoint_dumps_total;
    counters_.conntrack_endpoint_entries_deleted_total += deleted;
    counters_.conntrack_endpoint_entries_kept_total += kept;
    counters_.conntrack_forget_failed_total += failed;
    counters_.conntrack_dump_microseconds_total += uint64_t(us.count());
}

void ConntrackJanitor::seed(const ConntrackRequest&) {
    Seed seed;
    {
        MutexLock guard(mutex_);
        if (seeds_.empty()) return;
        seed = std::move(seeds_.front());
        seeds_.pop_front();
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<CtEntry> entries;
    int err = 0;
    for (const IpAddress& vip : seed.vips) {
        FlowKey filter;
        filter.src = IpAddress{vip.family, {}};  // the family the dump asks for
        filter.dst = vip;
        filter.proto = IpProto::udp;
        err = dump(filter, kFilterIpDst | kFilterProtoNum, [&](const CtEntry& e) {
            // Only entries to the VIP that carry a node's mark: the ones a claim may have to delete.
            if (e.orig.dst == vip && (e.mark & kNodeMarkMask) != kNoNode) entries.push_back(e);
        });
        if (err != 0) break;
    }
    const auto& done = seed.done;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    {
        MutexLock guard(mutex_);
        counters_.conntrack_dump_microseconds_total += uint64_t(us.count());
        if (err == 0) {
            ++counters_.conntrack_seed_dumps_total;
            counters_.conntrack_seed_entries_total += entries.size();
        } else {
            ++counters_.conntrack_forget_failed_total;
        }
    }
    // A failed dump seeds nothing (nullopt): the owner keeps dumping per claimed port and asks again.
    if (err != 0) done(std::nullopt);
    else done(std::move(entries));
}

void ConntrackJanitor::submit_seed(const VipSet& vips, std::function<void(std::optional<std::vector<CtEntry>>)> done) {
    {
        MutexLock guard(mutex_);
        ConntrackRequest r;
        r.kind = ConntrackRequest::Kind::seed;
        r.order = next_order_++;
        pending_.push_back(r);
        seeds_.push_back(Seed{vips.list(), std::move(done)});
    }
    wake_.notify_one();
}

}  // namespace sara
