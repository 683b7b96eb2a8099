// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/capture_supervisor.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sara::gateway {
namespace {

constexpr time_t kRetrySeconds = 1;

std::string link_name(int link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    return name ? name : "DLT " + std::to_string(link_type);
}

void add(CaptureCounters& counters, const CaptureStats& s) {
    counters.pcap_received_total += s.received;
    counters.pcap_dropped_total += s.dropped;
    counters.pcap_interface_dropped_total += s.if_dropped;
}

}  // namespace

CaptureSupervisor::CaptureSupervisor(int epoll_fd, const Logger& log)
    : epoll_fd_(epoll_fd), log_(log), retry_timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
    if (retry_timer_) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = retry_timer_.get();
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, retry_timer_.get(), &event) != 0) retry_timer_.reset();
    }
    if (!retry_timer_) log_.error(std::string("capture: retry timer: ") + std::strerror(errno) + "; no retries");
}

CaptureSupervisor::~CaptureSupervisor() {
    if (capture_) close_capture("");
}

bool CaptureSupervisor::start(const CaptureSettings& settings, std::string* error) {
    if (capture_) close_capture("");
    settings_ = settings;
    retrying_ = false;  // new settings: a failure with them is a new outage, logged
    arm_retry(false);
    return open_now(error);
}

bool CaptureSupervisor::open_now(std::string* error) {
    std::string why;
    bool permanent = false;
    std::unique_ptr<LiveCapture> capture = LiveCapture::open(settings_, &why, &permanent);
    if (capture) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = capture->fd();
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, capture->fd(), &event) != 0) {
            why = std::string("capture: epoll: ") + std::strerror(errno);
            permanent = true;
            capture.reset();
        }
    }
    if (!capture) {
        last_error_ = why;
        if (permanent) {
            if (retrying_) log_.error(why + "; no more retries");
            retrying_ = false;
            arm_retry(false);
            if (error) *error = why;
            return false;
        }
        if (!retrying_) {  // logged when the outage begins, not again per retry
            ++counters_.capture_failures_total;
            log_.warning(why + "; retrying every second");
            retrying_ = true;
            arm_retry(true);
        }
        return true;
    }
    capture_ = std::move(capture);
    const std::string what = "capture on " + settings_.interface + " (" + link_name(capture_->link_type()) + "): ";
    if (retrying_) ++counters_.capture_reopens_total;
    log_.notice(what + (retrying_ ? "capturing again: " : "") + settings_.filter);
    if (!capture_->direction_warning().empty()) log_.warning(what + capture_->direction_warning());
    retrying_ = false;
    arm_retry(false);
    last_error_.clear();
    return true;
}

bool CaptureSupervisor::handle(int fd, uint32_t events, const FrameFn& on_frame, int budget) {
    if (retry_timer_ && fd == retry_timer_.get()) {
        uint64_t expirations = 0;
        if (::read(fd, &expirations, sizeof(expirations)) == sizeof(expirations) && !capture_ && retrying_)
            (void)open_now(nullptr);  // a permanent failure is logged there
        return true;
    }
    if (!capture_ || fd != capture_->fd()) return false;
    const int link_type = capture_->link_type();
    const LiveCapture::FrameHandler handler = [&](std::span<const uint8_t> frame, uint32_t wire_length) {
        on_frame(link_type, frame, wire_length);
    };
    int seen = 0;
    while (seen < budget) {
        const int n = capture_->read(budget - seen, handler);
        if (n < 0) {
            close_capture(capture_->error());
            return true;
        }
        if (n == 0) break;
        seen += n;
    }
    // An error condition on the socket that libpcap did not turn into an error: without this,
    // a level-triggered EPOLLERR would wake the loop forever.
    if (seen == 0 && (events & (EPOLLERR | EPOLLHUP))) close_capture("the capture socket reported an error");
    return true;
}

void CaptureSupervisor::close_capture(const std::string& reason) {
    add(counters_, capture_->stats());
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, capture_->fd(), nullptr);
    capture_.reset();
    if (reason.empty()) return;  // a planned close (reload, stop)
    ++counters_.capture_failures_total;
    last_error_ = "capture on " + settings_.interface + " broke: " + reason;
    log_.warning(last_error_ + "; retrying every second");
    retrying_ = true;
    arm_retry(true);
}

void CaptureSupervisor::arm_retry(bool on) {
    if (!retry_timer_) return;
    itimerspec spec{};
    if (on) spec.it_value.tv_sec = spec.it_interval.tv_sec = kRetrySeconds;
    ::timerfd_settime(retry_timer_.get(), 0, &spec, nullptr);
}

CaptureCounters CaptureSupervisor::counters() const {
    CaptureCounters out = counters_;
    if (capture_) add(out, capture_->stats());
    return out;
}

}  // namespace sara::gateway
