// SPDX-License-Identifier: GPL-2.0-or-later
// Keeps the capture running: opens it, and when it breaks (interface deleted or taken down,
// a driver reset) or cannot be opened yet, closes it, counts it and tries again every second
// until it opens. Logs on a change of state only (down with the reason, up again), never per
// retry. Registers its file descriptors (the capture's, a retry timer) in the owner's epoll.
// Not thread-safe: runs in the gateway's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/util/counters.hpp"
#include "common/util/log.hpp"
#include "common/util/unique_fd.hpp"
#include "gateway/live_capture.hpp"

namespace sara::gateway {

#define SARA_CAPTURE_COUNTERS(X)                                                             \
    X(capture_failures_total, "Times the capture broke or could not be opened")            \
    X(capture_reopens_total, "Times the capture was opened again after a failure")         \
    X(pcap_received_total, "Packets that passed the capture filter (pcap_stats)")         \
    X(pcap_dropped_total, "Packets dropped because the capture ring was full (pcap_stats)") \
    X(pcap_interface_dropped_total, "Packets the interface dropped (pcap_stats, if reported)")
SARA_DECLARE_COUNTERS(CaptureCounters, SARA_CAPTURE_COUNTERS)

class CaptureSupervisor {
public:
    // `epoll_fd` and `log` must outlive the supervisor.
    CaptureSupervisor(int epoll_fd, const Logger& log);
    ~CaptureSupervisor();
    CaptureSupervisor(const CaptureSupervisor&) = delete;
    CaptureSupervisor& operator=(const CaptureSupervisor&) = delete;

    // (Re)starts the capture with `settings`, closing any running one. False only when the
    // open failed for good (see LiveCapture::open; `error` says why); a failure that may pass
    // later is logged, and retried every second, and returns true.
    bool start(const CaptureSettings& settings, std::string* error);

    // Handles an epoll event for `fd`; false if the fd is not the supervisor's. Frames go to
    // `on_frame` with the capture's link type; at most `budget` per call, so that signals and
    // timers are not starved (epoll reports the fd again while frames wait).
    using FrameFn = std::function<void(int link_type, std::span<const uint8_t> frame, uint32_t wire_length)>;
    bool handle(int fd, uint32_t events, const FrameFn& on_frame, int budget = 1024);

    bool capturing() const { return capture_ != nullptr; }
    const std::string& last_error() const { return last_error_; }
    const CaptureSettings& settings() const { return settings_; }
    // Counters so far, the running capture's pcap_stats included.
    CaptureCounters counters() const;

private:
    // Opens the capture now; see start() for the result.
    bool open_now(std::string* error);
    void close_capture(const std::string& reason);
    void arm_retry(bool on);

    int epoll_fd_;
    const Logger& log_;
    CaptureSettings settings_;
    std::unique_ptr<LiveCapture> capture_;
    UniqueFd retry_timer_;
    bool retrying_ = false;  // down, the retry timer armed
    std::string last_error_;
    CaptureCounters counters_;  // pcap_* hold the closed captures' totals
};

}  // namespace sara::gateway
