// SPDX-License-Identifier: GPL-2.0-or-later
// One byte budget for all TCP signalling stream buffers (issue 16): each buffer's memory is
// accounted here after every change, and buffers holding memory are listed in the order they
// started to (the oldest partial message first). While the total is over the budget the owner
// evicts the stream at the front: a spoofed connection that sent half a message and nothing
// more ages to the front and goes first, a live one empties its buffer with every whole
// message and leaves the list.
#pragma once

#include <cstddef>
#include <list>

#include "common/net/flow_key.hpp"

namespace sara {

class StreamBudget {
public:
    // A stream's entry: kept in the stream, passed back on every update.
    class Account {
        friend class StreamBudget;
        size_t bytes_ = 0;
        bool listed_ = false;
        std::list<FlowKey>::iterator position_;
    };

    explicit StreamBudget(size_t limit_bytes) : limit_(limit_bytes) {}
    StreamBudget(const StreamBudget&) = delete;
    StreamBudget& operator=(const StreamBudget&) = delete;

    // The stream `key` now holds `bytes` (0: empty, or about to be dropped).
    void update(const FlowKey& key, Account& account, size_t bytes);
    // The stream to evict next: the oldest holding memory while the total is over the limit.
    const FlowKey* over_budget() const { return total_ > limit_ && !order_.empty() ? &order_.front() : nullptr; }
    size_t bytes() const { return total_; }
    size_t limit() const { return limit_; }
    size_t streams_holding() const { return order_.size(); }
    // Every stream is gone at once (their accounts with them).
    void clear() {
        order_.clear();
        total_ = 0;
    }

private:
    size_t limit_;
    size_t total_ = 0;
    std::list<FlowKey> order_;  // streams holding memory, oldest first
};

}  // namespace sara
