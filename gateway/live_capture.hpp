// SPDX-License-Identifier: GPL-2.0-or-later
// A live libpcap capture on one interface, read from the gateway's epoll loop: immediate mode
// (each packet is handed over at once, not when a ring block fills), non-blocking, received
// packets only, the capture filter compiled into the kernel. Passive: a packet socket sees
// copies, so nothing here can delay or drop the traffic the gateway forwards.
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <pcap/pcap.h>

namespace sara::gateway {

struct CaptureSettings {
    std::string interface;
    std::string filter;       // pcap-filter(7) text
    int snaplen = 262144;
    int buffer_bytes = 4 << 20;
    friend bool operator==(const CaptureSettings&, const CaptureSettings&) = default;
};

// The kernel's counts for one capture handle (pcap_stats), since it was opened.
struct CaptureStats {
    uint64_t received = 0;   // packets that passed the filter
    uint64_t dropped = 0;    // ... and found the ring full
    uint64_t if_dropped = 0; // dropped by the interface (not every driver reports it)
};

class LiveCapture {
public:
    // A frame as captured: at most snaplen bytes of a packet of `wire_length` bytes.
    using FrameHandler = std::function<void(std::span<const uint8_t> frame, uint32_t wire_length)>;

    // Opens and activates the capture. On failure returns null and sets `error` to one line;
    // `permanent` tells a failure that retrying cannot fix (no permission, a filter that does
    // not compile) from one that may pass later (no such interface yet, interface down).
    static std::unique_ptr<LiveCapture> open(const CaptureSettings& settings, std::string* error, bool* permanent);
    ~LiveCapture();
    LiveCapture(const LiveCapture&) = delete;
    LiveCapture& operator=(const LiveCapture&) = delete;

    int fd() const { return fd_; }               // readable when packets wait
    int link_type() const { return link_type_; } // DLT_*
    const std::string& direction_warning() const { return direction_warning_; }

    // Hands up to `max_packets` waiting frames to `on_frame`. Returns how many, 0 if none was
    // waiting, or -1 when the capture broke (interface gone or down): see error().
    int read(int max_packets, const FrameHandler& on_frame);
    CaptureStats stats() const;
    const std::string& error() const { return error_; }

private:
    explicit LiveCapture(pcap_t* handle) : handle_(handle) {}

    pcap_t* handle_;
    int fd_ = -1;
    int link_type_ = 0;
    std::string error_;
    std::string direction_warning_;
};

}  // namespace sara::gateway
