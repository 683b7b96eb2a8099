// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/stream_budget.hpp"

namespace sara {

void StreamBudget::update(const FlowKey& key, Account& account, size_t bytes) {
    total_ = total_ - account.bytes_ + bytes;
    account.bytes_ = bytes;
    if (bytes > 0 && !account.listed_) {
        account.position_ = order_.insert(order_.end(), key);
        account.listed_ = true;
    } else if (bytes == 0 && account.listed_) {
        order_.erase(account.position_);
        account.listed_ = false;
    }
}

}  // namespace sara
