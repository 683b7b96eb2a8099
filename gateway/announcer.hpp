// SPDX-License-Identifier: GPL-2.0-or-later
// Turns each Announcement into one announce datagram (common/wire/announce_message.hpp) and
// hands it to every dispatcher. One sequence number per announcement, the same to each
// dispatcher, so each of them sees one stream from this gateway.
//
// Sequence numbers follow the clock in milliseconds: the first is time_based_first_seq(now,
// 1 ms), and each one is the larger (in the replay window's signed order) of "last + 1" and
// the current millisecond. A gateway restarted later therefore starts ahead of all it sent
// before, as long as it averaged less than one announcement per millisecond; a faster burst
// runs ahead of the clock, and the receiver's restart rule (a newer authenticated timestamp)
// takes a restart that falls behind it.
// Pure apart from the sink: time is an argument. Not thread-safe: one owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/announce/announcement.hpp"
#include "common/util/counters.hpp"
#include "common/wire/control_message.hpp"

namespace sara::gateway {

// Where announce datagrams go: DatagramSender in the daemon, a recorder in tests.
class DatagramSink {
public:
    virtual ~DatagramSink() = default;
    // Sends `datagram` to every destination; returns how many sends failed.
    virtual size_t send_to_all(std::span<const uint8_t> datagram) = 0;
};

#define SARA_ANNOUNCER_COUNTERS(X)                                                                  \
    X(announcements_sent_total, "Announcements sent (each to every dispatcher)")                  \
    X(announcements_partly_sent_total, "Announcements that did not reach every dispatcher")       \
    X(announcements_unencodable_total, "Announcements the wire format cannot carry (not sent)")
SARA_DECLARE_COUNTERS(AnnouncerCounters, SARA_ANNOUNCER_COUNTERS)

// The larger of `a` and `b` in serial-number order (RFC 1982, as the replay window compares).
uint32_t later_seq(uint32_t a, uint32_t b);

class Announcer {
public:
    // `now` is the wall clock (since the Unix epoch) when the gateway starts.
    Announcer(uint16_t host_id, std::chrono::milliseconds now);

    void set_host_id(uint16_t host_id) { host_id_ = host_id; }

    enum class Result { sent, send_failed, unencodable };

    // Encodes `a` (with `key`, or without a trailer for null: `auth: none`) stamped `now` and
    // sends it through `sink`. send_failed: at least one destination refused it.
    Result announce(const Announcement& a, std::chrono::milliseconds now, const wire::ClusterKey* key,
                    DatagramSink& sink);

    uint32_t next_seq() const { return next_seq_; }
    const AnnouncerCounters& counters() const { return counters_; }

private:
    uint16_t host_id_;
    uint32_t next_seq_;
    AnnouncerCounters counters_;
};

}  // namespace sara::gateway
