// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher's end of a control channel: a UDP socket (`health.listen` for the node agents'
// heartbeats and load vectors, `announce.listen` for the gateways' announcements), a thread
// that authenticates each datagram (wire::ControlReceiver: HMAC, known host, timestamp skew,
// replay window) and hands accepted messages to the owner's callback. Rejected datagrams are
// counted by reason and never reach the callback.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include "common/util/mutex.hpp"
#include <string>
#include <thread>
#include <vector>

#include "common/net/endpoint.hpp"
#include "common/wire/control_receiver.hpp"

namespace sara {

class ControlListener {
public:
    using OnMessage = std::function<void(const wire::Decoded&)>;

    // `key` null = `auth: none`. `on_message` runs on the listener's thread.
    static std::unique_ptr<ControlListener> start(const Endpoint& listen, const wire::ClusterKey* key,
                                                 std::vector<uint16_t> hosts, OnMessage on_message,
                                                 std::string* error);
    ~ControlListener();
    ControlListener(const ControlListener&) = delete;
    ControlListener& operator=(const ControlListener&) = delete;

    wire::ControlCounters counters() const;
    // A reload's host list (see wire::ControlReceiver::set_known_hosts); any thread.
    void set_hosts(std::vector<uint16_t> hosts);

private:
    ControlListener(int fd, const wire::ClusterKey* key, std::vector<uint16_t> hosts, OnMessage on_message);
    void serve();

    int fd_;
    mutable Mutex counters_lock_;
    wire::ControlReceiver receiver_ ABSL_GUARDED_BY(counters_lock_);  // the thread, counters(), set_hosts()
    OnMessage on_message_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace sara
