// SPDX-License-Identifier: GPL-2.0-or-later
// The receiving end of the control channel (DESIGN §7): one object per listening socket turns
// datagrams into accepted heartbeats, load vectors and announcements, or a counted reject.
//
// Checks, in order (the first that fails is the verdict, and each datagram is counted once in
// ControlCounters):
//   1. decode() and the HMAC trailer                  → Reject::malformed / Reject::auth
//   2. host_id is one of the configured hosts         → Reject::unknown_host
//      (after the MAC, so this counter means "a node with the key we were not told about",
//      not random noise). One list serves every type: an id listed for a gateway's
//      announcements is also taken on heartbeats and load vectors, and a node's on announcements.
//   3. |timestamp − now| ≤ max_skew                   → Reject::stale
//      Not for a drain heartbeat: its timestamp is the planned failure time (0 = now), which
//      may lie hours ahead; it is not a send time.
//   4. the replay window of (host, type)              → Reject::replay
//
// Sender restarts. sara-nodeagent starts each sequence at "now / interval"
// (nodeagent/heartbeat_state.hpp), so a restarted agent lies ahead of its previous life and is
// taken at once. For a sender whose sequence goes back (a clock stepped back, another
// implementation counting from 1), a sequence behind the window (ReplayWindow::behind) is
// accepted anyway — and the window started over from it — when the message's timestamp is a
// send time newer than every send time accepted so far from that host and type: a replayed
// message can never be newer than the newest one the receiver accepted. A duplicate inside the
// window is always a replay; such a sender that restarts less than 64 sequences into its life
// is refused until its sequence passes the old one. After a restart, a message whose timestamp
// is not newer than the newest one before the restart is a replay from the sender's previous
// life (its sequence may lie ahead of the new window) and is refused. Timestamps have
// whole-second resolution, so such a sender restarting within the second of its last message
// is recognised at its next second.
//
// Drain heartbeats carry the drain time instead of a send time, so they tell nothing about
// freshness (a wire-format limit):
//   - Their timestamp never raises the "newest accepted" mark, or a drain announced an hour
//     ahead would lock a restarted sender out for that hour.
//   - They never trigger the restart rule: a captured drain heartbeat replayed once the window
//     has moved past it is refused, whatever drain time it carries. A sender that restarts
//     while draining is taken at once through its time-based sequence; one counting from 1 is
//     recognised at its first heartbeat of another flag or, for the load window, its first
//     load vector.
//
// Not thread-safe: one receiver belongs to the thread reading its socket. Memory is fixed at
// construction: one window per configured host and message type.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "common/wire/control_message.hpp"

namespace sara::wire {

class ControlReceiver {
public:
    // `key`: the cluster key, or null for `auth: none`; not owned, must outlive the receiver.
    // `known_hosts`: the configured host ids (duplicates are harmless). `max_skew` ≥ 0.
    ControlReceiver(const ClusterKey* key, std::vector<uint16_t> known_hosts,
                    std::chrono::seconds max_skew = std::chrono::seconds(30));

    // One datagram as read from the socket; `now_unix_seconds` from the caller's wall clock.
    // A reject after decoding (unknown_host, stale, replay) keeps the decoded fields, for the
    // caller's log line. Never throws; allocates nothing itself but an announcement's key in
    // decode() (libcrypto's HMAC may allocate too).
    Decoded receive(std::span<const uint8_t> datagram, uint32_t now_unix_seconds) noexcept;

    const ControlCounters& counters() const { return counters_; }
    // A reload's host list: hosts kept keep their replay windows, new ones start fresh.
    void set_known_hosts(std::vector<uint16_t> known_hosts);

private:
    static constexpr size_t kTypeCount = 4;  // MessageType 1..4, announce and sync included

    struct SenderState {
        ReplayWindow window;
        uint32_t newest_timestamp = 0;  // newest send time accepted (drain times excluded)
        bool restarted = false;
        uint32_t restart_floor = 0;  // newest_timestamp when the last restart was accepted
    };
    struct HostState {
        uint16_t host_id = 0;
        std::array<SenderState, kTypeCount> by_type{};
    };

    // Steps 2-4 for a message decode() accepted.
    Reject check_authentic(const Decoded& d, uint32_t now_unix_seconds) noexcept;
    Reject check_sender(SenderState& s, uint32_t seq, uint32_t timestamp, bool is_send_time) noexcept;
    HostState* find_host(uint16_t host_id) noexcept;
    void count(Reject r) noexcept;

    const ClusterKey* key_;
    std::vector<HostState> hosts_;  // sorted by host_id, unique
    int64_t max_skew_seconds_;
    ControlCounters counters_;
};

}  // namespace sara::wire
