// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/heartbeat_state.hpp"

namespace sara::nodeagent {

const char* to_string(DrainState state) {
    switch (state) {
    case DrainState::none: return "none";
    case DrainState::draining: return "draining";
    case DrainState::undrain_pending: return "undrain-pending";
    }
    return "?";
}

void HeartbeatState::drain(uint32_t at) {
    drain_ = DrainState::draining;
    drain_at_ = at;
}

bool HeartbeatState::undrain() {
    if (drain_ != DrainState::draining) return false;
    drain_ = DrainState::undrain_pending;
    return true;
}

wire::Heartbeat HeartbeatState::next(bool app_up, uint32_t now) {
    wire::Heartbeat h;
    h.host_id = host_id_;
    h.seq = next_seq_++;
    h.timestamp = now;
    switch (drain_) {
    case DrainState::draining:
        h.flag = wire::HeartbeatFlag::drain;
        h.timestamp = drain_at_;
        break;
    case DrainState::undrain_pending:
        h.flag = wire::HeartbeatFlag::undrain;
        drain_ = DrainState::none;
        break;
    case DrainState::none:
        h.flag = app_up ? wire::HeartbeatFlag::available : wire::HeartbeatFlag::app_down;
        break;
    }
    return h;
}

bool AppHealth::record(bool passed) {
    const bool was_known = known_;
    const bool was_up = up_;
    failures_ = passed ? 0 : failures_ + 1;
    if (!known_) {
        known_ = true;
        up_ = passed;
    } else if (passed) {
        up_ = true;
    } else if (failures_ >= fall_) {
        up_ = false;
    }
    return !was_known || was_up != up_;
}

}  // namespace sara::nodeagent
