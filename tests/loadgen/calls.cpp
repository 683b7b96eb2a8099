// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/calls.hpp"

#include <algorithm>
#include <climits>

namespace sara::loadgen {

Calls::Calls(CallsConfig config, uint64_t total) : config_(std::move(config)), calls_(total) {}

UacCall Calls::message_context(uint64_t index, const Call& c) const {
    return UacCall{c.local, config_.target, config_.service, config_.run, index, config_.media_port};
}

void Calls::arm(uint64_t index, Call& c, Micros at) {
    c.next = std::min(at, c.deadline);
    timers_.emplace(c.next, index);
}

void Calls::start(uint64_t index, const Endpoint& local, Micros now, Outbox& out) {
    if (index >= calls_.size() || calls_[index].state != State::idle) return;
    Call& c = calls_[index];
    c.local = local;
    c.request = std::make_unique<std::string>();
    build_invite(*c.request, message_context(index, c));
    c.state = State::inviting;
    c.invite_sent = now;
    c.interval = config_.t1;
    c.deadline = now + 64 * config_.t1;  // Timer B
    arm(index, c, now + c.interval);
    ++counters_.started;
    ++open_;
    out.send(index, *c.request);
}

void Calls::finish(uint64_t index, Call& c, uint64_t CallCounters::* counter, Outbox& out) {
    c.state = State::done;
    c.request.reset();
    c.ack.reset();
    ++(counters_.*counter);
    --open_;
    out.finished(index);
}

void Calls::on_invite_response(uint64_t index, Call& c, const SipFields& msg, Micros now, Outbox& out) {
    const int code = msg.message.status_code;
    if (code < 200) {
        // Proceeding: a provisional answer stops Timer A; Timer B still bounds the wait.
        if (c.state == State::inviting) c.state = State::proceeding;
        return;
    }
    if (c.state == State::ending) {
        // The 200 again (our ACK was lost, or a proxy relays it twice): ACK it again.
        if (code < 300 && c.ack) {
            ++counters_.acks_repeated;
            out.send(index, *c.ack);
        }
        return;
    }
    const UacCall ctx = message_context(index, c);
    if (code >= 300) {
        std::string ack;
        build_error_ack(ack, ctx, msg.to_value);
        out.send(index, ack);
        finish(index, c, &CallCounters::failed, out);
        return;
    }
    latencies_.push_back(uint32_t(std::clamp<Micros>(now - c.invite_sent, 0, UINT32_MAX)));
    const Dialog d = dialog_from(msg, invite_uri(ctx));
    c.ack = std::make_unique<std::string>();
    build_ack(*c.ack, ctx, d);
    build_bye(*c.request, ctx, d);
    out.send(index, *c.ack);
    out.send(index, *c.request);
    // The zero-length call hangs up at once: the BYE's client transaction (Timer E, F).
    c.state = State::ending;
    c.interval = config_.t1;
    c.deadline = now + 64 * config_.t1;
    arm(index, c, now + c.interval);
}

void Calls::on_bye_response(uint64_t index, Call& c, const SipFields& msg, Outbox& out) {
    const int code = msg.message.status_code;
    if (code < 200) {
        c.interval = config_.t2;  // RFC 3261 §17.1.2.2: Proceeding retransmits every T2
        return;
    }
    finish(index, c, code < 300 ? &CallCounters::successful : &CallCounters::failed, out);
}

void Calls::receive(const SipFields& msg, Micros now, Outbox& out) {
    const auto index = call_index(msg.message.call_id, config_.run);
    if (!index || *index >= calls_.size() || calls_[*index].state == State::idle ||
        calls_[*index].state == State::done) {
        ++counters_.late_or_stray;
        return;
    }
    Call& c = calls_[*index];
    if (msg.message.is_request) {
        ++counters_.unexpected;
        return;
    }
    ++counters_.responses;
    if (msg.message.cseq_method == "INVITE" && msg.message.cseq == 1) {
        on_invite_response(*index, c, msg, now, out);
    } else if (msg.message.cseq_method == "BYE" && msg.message.cseq == 2 && c.state == State::ending) {
        on_bye_response(*index, c, msg, out);
    } else {
        ++counters_.unexpected;
    }
}

void Calls::expire(Micros now, Outbox& out) {
    while (!timers_.empty() && timers_.top().first <= now) {
        const auto [at, index] = timers_.top();
        timers_.pop();
        Call& c = calls_[index];
        if (c.state == State::done || c.state == State::idle || c.next != at) continue;  // stale
        if (now >= c.deadline) {
            finish(index, c, &CallCounters::timed_out, out);
            continue;
        }
        if (c.state == State::proceeding) {  // no INVITE retransmissions; wait for Timer B
            arm(index, c, c.deadline);
            continue;
        }
        ++counters_.retransmissions;
        out.send(index, *c.request);
        c.interval = c.state == State::ending ? std::min(2 * c.interval, config_.t2) : 2 * c.interval;
        arm(index, c, now + c.interval);
    }
}

void Calls::abandon(Outbox& out) {
    for (uint64_t i = 0; i < calls_.size(); ++i) {
        Call& c = calls_[i];
        if (c.state != State::idle && c.state != State::done) finish(i, c, &CallCounters::timed_out, out);
    }
    timers_ = {};
}

Micros Calls::next_timer() const { return timers_.empty() ? INT64_MAX : timers_.top().first; }

}  // namespace sara::loadgen
