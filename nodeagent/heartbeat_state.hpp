// SPDX-License-Identifier: GPL-2.0-or-later
// What the next heartbeat says (DESIGN §7, paper §III-E): its sequence number and flag.
//
//   flag 0  node and application up          (no drain, application check passing)
//   flag 1  node up, application down        (no drain, application check failing)
//   flag 2  planned failure at `timestamp`   (every heartbeat from drain() until undrain())
//   flag 3  planned failure withdrawn        (the one heartbeat after undrain(); then 0/1)
//
// `timestamp` is the send time in Unix seconds, except with flag 2, where it is the time of
// the planned failure. The sequence number grows by one per heartbeat; the same heartbeat (same
// seq) goes to every dispatcher, so each of them sees consecutive numbers and counts the lost
// ones from the gaps. Pure: time comes in as an argument, so tests need no clock.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/util/time_sequence.hpp"  // time_based_first_seq: a HeartbeatState's first seq
#include "common/wire/control_message.hpp"

namespace sara::nodeagent {

enum class DrainState {
    none,
    draining,         // flag 2 until undrain()
    undrain_pending,  // the next heartbeat carries flag 3
};
const char* to_string(DrainState state);

class HeartbeatState {
public:
    // The first heartbeat carries `first_seq`.
    explicit HeartbeatState(uint16_t host_id, uint32_t first_seq = 1) : host_id_(host_id), next_seq_(first_seq) {}

    void set_host_id(uint16_t host_id) { host_id_ = host_id; }

    // Announces a planned failure at `at` (Unix seconds; a time already past means "now").
    // While draining, a second drain() moves the time; after undrain() and before its flag 3
    // went out, drain() cancels the pending undrain.
    void drain(uint32_t at);

    // Withdraws the planned failure: the next heartbeat carries flag 3. False (and nothing
    // changes) if no drain is in progress.
    bool undrain();

    // The next heartbeat to send at `now` (Unix seconds); `app_up` is the application check's
    // current verdict. Advances the sequence number and the drain state.
    wire::Heartbeat next(bool app_up, uint32_t now);

    DrainState drain_state() const { return drain_; }
    uint32_t drain_at() const { return drain_at_; }  // meaningful while draining
    uint32_t next_seq() const { return next_seq_; }

private:
    uint16_t host_id_;
    uint32_t next_seq_;
    DrainState drain_ = DrainState::none;
    uint32_t drain_at_ = 0;
};

// The application check's verdict with a fall count: `fall` consecutive failed checks turn an
// up application down; one passing check turns it up again (the dispatcher has its own
// recovery hysteresis). The first check decides directly: there is no earlier state to keep.
class AppHealth {
public:
    explicit AppHealth(uint32_t fall) : fall_(fall == 0 ? 1 : fall) {}

    // Records one check result; true if the verdict changed (for the log line).
    bool record(bool passed);
    bool up() const { return up_; }
    bool known() const { return known_; }
    uint32_t failures() const { return failures_; }

private:
    uint32_t fall_;
    bool known_ = false;
    bool up_ = false;
    uint32_t failures_ = 0;  // consecutive
};

}  // namespace sara::nodeagent
