// SPDX-License-Identifier: GPL-2.0-or-later
// The running dispatcher as the control socket and /metrics see it (issue 15: the requests
// live here, the state they read in daemon/dispatch). Reads return plain values through
// DispatcherView; the only things a request may change go through DispatcherCommands. The
// dispatcher implements both (daemon/dispatch/runtime.cpp); tests implement them with fixed
// values, so the requests' parsing and rendering run without a kernel.
//
// Contract: every call is made with the dispatcher's lock held, by the thread that took it
// for the whole request (so one answer is one consistent moment).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/net/ip_address.hpp"
#include "daemon/admit/sa2c.hpp"
#include "daemon/ha/state_sync.hpp"
#include "daemon/identify/session_table.hpp"

namespace sara {

// One counter of the dispatcher's: `stats` shows it by name, /metrics as sara_<name>.
struct CounterSample {
    std::string name;
    const char* help = "";
    uint64_t value = 0;
};

struct NodeStatus {
    NodeId id = kNoNode;
    std::string name;
    std::string state = "up";   // the health monitor's state; "up" without `health:`
    bool drained = false;       // by the operator or its `drain:`
    bool available = true;      // may take new sessions
    IpAddress address;
    uint64_t sessions = 0;      // active sessions assigned to it
    std::optional<double> load; // its agent's load; none without `health:`
    uint64_t heartbeats_lost = 0;
    double estimate = -1;       // the scheduler's estimate; < 0: the scheduler keeps none
};

// The gauges `stats` and /metrics show besides the counters.
struct DispatcherGauges {
    size_t sessions = 0;
    size_t flows = 0;
    uint64_t queue_lock_wait_max_us = 0;
    uint64_t main_lock_hold_max_us = 0;
    std::vector<std::pair<std::string, uint64_t>> lock_hold_max_us;  // by task, in task order
    // Each task's longest hold and where its time went (daemon/monitor/lock_holds.hpp), and
    // how many of its holds passed 1 ms; in task order.
    struct LockHold {
        std::string task;
        uint64_t us = 0, cpu_us = 0, minor_faults = 0, preemptions = 0, waits = 0;
        uint64_t over_1ms = 0;
    };
    std::vector<LockHold> lock_holds;
    uint64_t stream_buffer_bytes = 0;
    double head_queue = 0;  // HeadLoadMeter at the last admission update
    double head_cpu = 0;
};

// SA2C's state; absent with admission.enabled: false.
struct AdmissionStatus {
    AdmissionState state;
    uint64_t updates = 0;
    double t1 = 0;  // admission.t1 as configured
};

// absent without `sync:` (a single dispatcher).
struct HaStatus {
    HaRole role = HaRole::single;
    bool ready = false;
    bool synced = false;
    bool floating_address = false;  // sync.floating_address is configured
    std::vector<StateSync::PeerView> peers{};  // a mesh's other dispatchers (empty in a pair)
};

class DispatcherView {
public:
    virtual ~DispatcherView() = default;
    virtual std::vector<CounterSample> counters() const = 0;
    virtual DispatcherGauges gauges() const = 0;
    virtual bool health_configured() const = 0;  // `health:`: nodes have states and loads
    virtual std::vector<NodeStatus> nodes() const = 0;
    virtual std::optional<AdmissionStatus> admission() const = 0;
    virtual std::optional<HaStatus> ha() const = 0;
    virtual const SessionTable& table() const = 0;
    // `lookup ARGS` (daemon/dispatch/session_lookup.hpp) → its JSON answer.
    virtual nlohmann::json lookup(std::string_view args) const = 0;
};

class DispatcherCommands {
public:
    virtual ~DispatcherCommands() = default;
    // What an operator drain (or undrain) of a known node did.
    struct DrainChange {
        std::string name;
        bool changed = false;    // false: it already was (un)drained
        bool healthy = true;     // its health is up (always without `health:`)
        bool available = false;  // it may take new sessions now
    };
    // Drains (`drain`) or undrains node `id`; nullopt when the dispatcher has no such node.
    virtual std::optional<DrainChange> set_drain(NodeId id, bool drain) = 0;
    // With sync.floating_address: whether this host holds it now (asked of the kernel);
    // nullopt with `error` set when it cannot be asked.
    virtual std::optional<bool> floating_address_held(std::string* error) = 0;
    // Only with `sync:`. change_role: the role, logged with `why`; follow_floating_address:
    // master if `held`, backup if not (as the address thread does).
    virtual void change_role(HaRole role, const std::string& why) = 0;
    virtual void follow_floating_address(bool held) = 0;
    // route_announce (nullopt without it): the operator's withdrawal (`announce off`; a
    // planned drain: what still arrives is served) or its end (`on`); nullopt `on` only asks.
    struct AnnounceStatus {
        uint32_t table = 0;
        bool withdrawn_by_operator = false;
        bool ready = false;      // started, and synced with the mesh or pair
        bool announced = false;  // the route is in the table now (the main loop applies a change)
    };
    virtual std::optional<AnnounceStatus> set_announce(std::optional<bool> on) = 0;
};

}  // namespace sara
