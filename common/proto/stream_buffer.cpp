// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/proto/stream_buffer.hpp"

namespace sara {

StreamBuffer::Feed StreamBuffer::feed(uint32_t seq, std::span<const uint8_t> payload) {
    Feed result = Feed::appended;
    if (!synced_) {
        // Picked up mid-stream (no SYN seen): start at this segment.
        next_seq_ = seq;
        synced_ = true;
    }
    // Signed distance handles sequence wrap-around.
    const int32_t ahead = static_cast<int32_t>(seq - next_seq_);
    if (ahead > 0) {
        clear();
        next_seq_ = seq;
        result = Feed::gap_resync;
    } else if (ahead < 0) {
        const size_t old = static_cast<size_t>(-static_cast<int64_t>(ahead));
        if (old >= payload.size()) return Feed::retransmission;
        payload = payload.subspan(old);
        result = Feed::retransmission;
    }
    if (data_.size() + payload.size() > max_bytes_) {
        clear();
        next_seq_ += static_cast<uint32_t>(payload.size());
        return Feed::overflow;
    }
    data_.append(reinterpret_cast<const char*>(payload.data()), payload.size());
    next_seq_ += static_cast<uint32_t>(payload.size());
    return result;
}

}  // namespace sara
