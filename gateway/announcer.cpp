// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/announcer.hpp"

#include <vector>

#include "common/util/time_sequence.hpp"
#include "common/wire/announce_message.hpp"

namespace sara::gateway {
namespace {

constexpr std::chrono::milliseconds kSeqInterval{1};

}  // namespace

uint32_t later_seq(uint32_t a, uint32_t b) { return static_cast<int32_t>(b - a) > 0 ? b : a; }

Announcer::Announcer(uint16_t host_id, std::chrono::milliseconds now)
    : host_id_(host_id), next_seq_(time_based_first_seq(now, kSeqInterval)) {}

Announcer::Result Announcer::announce(const Announcement& a, std::chrono::milliseconds now,
                                     const wire::ClusterKey* key, DatagramSink& sink) {
    wire::AnnounceMessage message;
    message.host_id = host_id_;
    message.seq = later_seq(next_seq_, time_based_first_seq(now, kSeqInterval));
    message.timestamp = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
    message.announcement = a;
    const std::vector<uint8_t> datagram = wire::encode(message, key);
    if (datagram.empty()) {
        ++counters_.announcements_unencodable_total;
        return Result::unencodable;
    }
    next_seq_ = message.seq + 1;
    const size_t failed = sink.send_to_all(datagram);
    ++counters_.announcements_sent_total;
    if (failed == 0) return Result::sent;
    ++counters_.announcements_partly_sent_total;
    return Result::send_failed;
}

}  // namespace sara::gateway
