// SPDX-License-Identifier: GPL-2.0-or-later
// Reassembles one direction of a TCP connection's signalling bytes for the text parsers:
// a message split over segments waits here until it is whole; retransmitted bytes are
// skipped by sequence number; a gap (a segment we never saw) drops what is buffered and
// resynchronises at the new segment. Bounded: more than `max_bytes` buffered is an overflow
// the caller counts (the buffer is dropped). An emptied buffer gives its memory back, so the
// owner can hold all its buffers to one budget by memory() (SessionIdentifier does).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sara {

class StreamBuffer {
public:
    enum class Feed : uint8_t { appended, retransmission, gap_resync, overflow };

    explicit StreamBuffer(size_t max_bytes) : max_bytes_(max_bytes) {}

    // A SYN: the first data byte will have sequence number seq + 1.
    void start(uint32_t syn_seq) {
        next_seq_ = syn_seq + 1;
        synced_ = true;
        clear();
    }
    // Adds a segment's payload starting at sequence number `seq`.
    Feed feed(uint32_t seq, std::span<const uint8_t> payload);
    std::string_view pending() const { return data_; }
    // Drops the first `n` buffered bytes (a parsed message).
    void consume(size_t n) {
        data_.erase(0, n);
        if (data_.empty()) clear();
    }
    // Drops what is buffered and frees its memory.
    void clear() { std::string().swap(data_); }
    // Heap bytes held: the string's capacity once it left its inline storage, else 0.
    size_t memory() const { return data_.capacity() > std::string().capacity() ? data_.capacity() : 0; }

private:
    size_t max_bytes_;
    uint32_t next_seq_ = 0;
    bool synced_ = false;
    std::string data_;
};

}  // namespace sara
