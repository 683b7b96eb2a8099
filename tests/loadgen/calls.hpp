// SPDX-License-Identifier: GPL-2.0-or-later
// The UAC's calls: each INVITE -> 100/200 -> ACK + BYE -> 200, with the RFC 3261 client
// transaction timers over UDP (INVITE: Timer A from T1 doubling, Timer B = 64*T1; BYE: Timer
// E from T1 doubling up to T2, Timer F = 64*T1). No sockets and no clock here: the caller
// passes the time (microseconds) and receives what to send through an Outbox, so the unit
// tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "tests/loadgen/messages.hpp"

namespace sara::loadgen {

using Micros = int64_t;

class Outbox {
public:
    virtual ~Outbox() = default;
    // The call's message to its target (the socket layer picks the call's socket).
    virtual void send(uint64_t call, const std::string& message) = 0;
    // The call is over (success, failure or time-out): its socket may go.
    virtual void finished(uint64_t call) = 0;
};

struct CallsConfig {
    uint32_t run = 0;
    std::string service = "service";
    Endpoint target;
    uint16_t media_port = 6000;
    Micros t1 = 500'000;
    Micros t2 = 4'000'000;
};

struct CallCounters {
    uint64_t started = 0, successful = 0, failed = 0, timed_out = 0;
    uint64_t retransmissions = 0;      // requests sent again by a timer
    uint64_t acks_repeated = 0;        // ACKs sent again for a repeated 200 to the INVITE
    uint64_t responses = 0;            // responses matched to a live call
    uint64_t late_or_stray = 0;        // answers for calls already over, or other runs' calls
    uint64_t unexpected = 0;           // requests, or responses no call state expects
};

class Calls {
public:
    Calls(CallsConfig config, uint64_t total);

    // Starts call `index` (< total) from socket address `local` at `now`: sends its INVITE.
    void start(uint64_t index, const Endpoint& local, Micros now, Outbox& out);
    // A parsed response (or request) received at `now`.
    void receive(const SipFields& msg, Micros now, Outbox& out);
    // Fires every retransmission and time-out due at `now`.
    void expire(Micros now, Outbox& out);
    // Ends every call still open as timed out (the run's time is up).
    void abandon(Outbox& out);
    // The time of the next timer; INT64_MAX without one.
    Micros next_timer() const;
    uint64_t open() const { return open_; }

    const CallCounters& counters() const { return counters_; }
    // Setup latency per successful INVITE: first send to the first 200, microseconds.
    const std::vector<uint32_t>& setup_latencies() const { return latencies_; }

private:
    enum class State : uint8_t { idle, inviting, proceeding, ending, done };
    struct Call {
        State state = State::idle;
        Micros invite_sent = 0;
        Micros interval = 0, next = 0, deadline = 0;
        Endpoint local;
        std::unique_ptr<std::string> request, ack;  // what a timer resends; the ACK for a repeated 200
    };

    UacCall message_context(uint64_t index, const Call& c) const;
    void arm(uint64_t index, Call& c, Micros at);
    void finish(uint64_t index, Call& c, uint64_t CallCounters::* counter, Outbox& out);
    void on_invite_response(uint64_t index, Call& c, const SipFields& msg, Micros now, Outbox& out);
    void on_bye_response(uint64_t index, Call& c, const SipFields& msg, Outbox& out);

    CallsConfig config_;
    std::vector<Call> calls_;
    using Timer = std::pair<Micros, uint64_t>;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    CallCounters counters_;
    std::vector<uint32_t> latencies_;
    uint64_t open_ = 0;
};

}  // namespace sara::loadgen
