// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/conntrack_flows.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/util/proc_file.hpp"

namespace sara {
namespace {

// A sysctl of the namespace in seconds; `fallback` (the kernel's default) when unreadable.
std::chrono::seconds read_seconds(const char* path, std::chrono::seconds fallback) {
    const long value = std::strtol(read_small_file(path).c_str(), nullptr, 10);
    return value > 0 ? std::chrono::seconds(value) : fallback;
}

uint32_t elapsed_ms(std::chrono::steady_clock::time_point since, std::chrono::steady_clock::time_point now) {
    return uint32_t(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count()));
}

}  // namespace

std::unique_ptr<ConntrackFlows> ConntrackFlows::open(std::string* error) {
    std::unique_ptr<CtnetlinkSocket> s = CtnetlinkSocket::open("the conntrack fast path's activity", timeval{0, 200'000}, error);
    if (!s) return nullptr;
    return std::unique_ptr<ConntrackFlows>(new ConntrackFlows(
        std::move(s), read_seconds("/proc/sys/net/netfilter/nf_conntrack_udp_timeout", std::chrono::seconds(30)),
        read_seconds("/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream", std::chrono::seconds(120))));
}

bool ConntrackFlows::defer_idle(const FlowKey& key) {
    if (!ctnetlink_supported(key)) return false;
    MutexLock guard(mutex_);
    if (answers_.contains(key)) return false;
    if (queued_.contains(key)) return true;
    if (pending_.size() >= kMaxPending) {
        ++counters_.conntrack_activity_queue_full_total;
        return true;
    }
    pending_.push_back(key);
    queued_.insert(key);
    return true;
}

std::optional<uint32_t> ConntrackFlows::idle_ms(const FlowKey& key) const {
    MutexLock guard(mutex_);
    const auto it = answers_.find(key);
    if (it == answers_.end()) return 0;
    const Answer a = it->second;
    answers_.erase(it);
    if (!a.idle_ms) return std::nullopt;
    return *a.idle_ms + elapsed_ms(a.at, std::chrono::steady_clock::now());
}

std::optional<uint32_t> ConntrackFlows::query(const FlowKey& key) {
    std::vector<char> buf;
    ct_put_tuple(socket_->put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_ACK, ct_family(key)), CTA_TUPLE_ORIG,
                 key);
    std::optional<CtEntry> found;
    const int err = socket_->exchange(buf, [&](const CtEntry& e) { found = e; });
    if (err != 0 && err != ENOENT) return 0;  // the kernel did not say: as if just seen, asked again later
    if (!found) return std::nullopt;
    // The kernel restarts an entry's timer at each packet: what is left tells when it last
    // saw one (to the second).
    const auto timeout = found->assured ? udp_stream_timeout_ : udp_timeout_;
    const int64_t idle_s = std::max<int64_t>(0, int64_t(timeout.count()) - int64_t(found->timeout_s));
    return uint32_t(std::min<int64_t>(idle_s * 1000, UINT32_MAX));
}

size_t ConntrackFlows::answer_queries() {
    std::vector<FlowKey> batch;
    {
        MutexLock guard(mutex_);
        if (pending_.empty()) return 0;
        const size_t n = std::min(pending_.size(), kQueriesPerCall);
        batch.assign(pending_.end() - ptrdiff_t(n), pending_.end());
        pending_.resize(pending_.size() - n);
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::pair<FlowKey, std::optional<uint32_t>>> found;
    found.reserve(batch.size());
    for (const FlowKey& k : batch) found.emplace_back(k, query(k));
    const auto now = std::chrono::steady_clock::now();
    MutexLock guard(mutex_);
    absl::erase_if(answers_, [&](const auto& entry) { return now - entry.second.at > kAnswerLife; });
    for (auto& [k, idle] : found) {
        queued_.erase(k);
        answers_[k] = Answer{idle, now};
        counters_.conntrack_activity_absent_total += !idle;
    }
    counters_.conntrack_activity_queries_total += batch.size();
    counters_.conntrack_activity_query_microseconds_total +=
        uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(now - started).count());
    return batch.size();
}

ConntrackFlowCounters ConntrackFlows::counters() const {
    MutexLock guard(mutex_);
    return counters_;
}

}  // namespace sara
