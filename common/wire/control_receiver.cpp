// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/wire/control_receiver.hpp"

#include <algorithm>

namespace sara::wire {

ControlReceiver::ControlReceiver(const ClusterKey* key, std::vector<uint16_t> known_hosts,
                                 std::chrono::seconds max_skew)
    : key_(key), max_skew_seconds_(int64_t(max_skew.count())) {
    set_known_hosts(std::move(known_hosts));
}

void ControlReceiver::set_known_hosts(std::vector<uint16_t> known_hosts) {
    std::sort(known_hosts.begin(), known_hosts.end());
    known_hosts.erase(std::unique(known_hosts.begin(), known_hosts.end()), known_hosts.end());
    std::vector<HostState> hosts;
    hosts.reserve(known_hosts.size());
    for (const uint16_t id : known_hosts) {
        const HostState* old = find_host(id);
        hosts.push_back(old ? *old : HostState{.host_id = id});
    }
    hosts_ = std::move(hosts);
}

ControlReceiver::HostState* ControlReceiver::find_host(uint16_t host_id) noexcept {
    const auto it = std::lower_bound(hosts_.begin(), hosts_.end(), host_id,
                                     [](const HostState& h, uint16_t id) { return h.host_id < id; });
    return (it != hosts_.end() && it->host_id == host_id) ? &*it : nullptr;
}

void ControlReceiver::count(Reject r) noexcept {
    switch (r) {
        case Reject::none: ++counters_.control_accepted_total; return;
        case Reject::malformed: ++counters_.control_rejected_malformed_total; return;
        case Reject::auth: ++counters_.control_rejected_auth_total; return;
        case Reject::replay: ++counters_.control_rejected_replay_total; return;
        case Reject::stale: ++counters_.control_rejected_stale_total; return;
        case Reject::unknown_host: ++counters_.control_rejected_unknown_host_total; return;
    }
}

// The replay window plus the restart rule (see the header). Records the message only when it
// is accepted, so a refused message leaves no trace in the window.
Reject ControlReceiver::check_sender(SenderState& s, uint32_t seq, uint32_t timestamp,
                                     bool is_send_time) noexcept {
    if (is_send_time && s.restarted && timestamp <= s.restart_floor) return Reject::replay;
    if (!s.window.accept(seq)) {
        // Only a send time proves freshness: a drain heartbeat never restarts the window.
        if (!is_send_time || !s.window.behind(seq) || timestamp <= s.newest_timestamp) return Reject::replay;
        s.restarted = true;
        s.restart_floor = s.newest_timestamp;
        s.window.reset();
        (void)s.window.accept(seq);  // a reset window accepts anything
    }
    if (is_send_time) s.newest_timestamp = std::max(s.newest_timestamp, timestamp);
    return Reject::none;
}

Reject ControlReceiver::check_authentic(const Decoded& d, uint32_t now_unix_seconds) noexcept {
    uint16_t host_id = 0;
    uint32_t seq = 0, timestamp = 0;
    bool is_send_time = true;
    switch (d.type) {
        case MessageType::heartbeat:
            host_id = d.heartbeat.host_id;
            seq = d.heartbeat.seq;
            timestamp = d.heartbeat.timestamp;
            is_send_time = d.heartbeat.flag != HeartbeatFlag::drain;
            break;
        case MessageType::load:
            host_id = d.load.host_id;
            seq = d.load.seq;
            timestamp = d.load.timestamp;
            break;
        case MessageType::announce:
            host_id = d.announce.host_id;
            seq = d.announce.seq;
            timestamp = d.announce.timestamp;
            break;
        case MessageType::sync:
            host_id = d.sync.host_id;
            seq = d.sync.seq;
            timestamp = d.sync.timestamp;
            break;
    }
    HostState* host = find_host(host_id);
    if (!host) return Reject::unknown_host;
    const int64_t skew = int64_t(timestamp) - int64_t(now_unix_seconds);
    if (is_send_time && (skew > max_skew_seconds_ || -skew > max_skew_seconds_)) return Reject::stale;
    return check_sender(host->by_type[size_t(d.type) - 1], seq, timestamp, is_send_time);
}

Decoded ControlReceiver::receive(std::span<const uint8_t> datagram, uint32_t now_unix_seconds) noexcept {
    Decoded d = decode(datagram, key_);
    if (d.reject == Reject::none) d.reject = check_authentic(d, now_unix_seconds);
    count(d.reject);
    return d;
}

}  // namespace sara::wire
