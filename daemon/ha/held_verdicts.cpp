// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ha/held_verdicts.hpp"

#include <algorithm>

namespace sara {

void HeldVerdicts::hold(DeferredVerdictSink& sink, uint32_t packet_id, const Verdict& verdict, uint32_t update,
                        MonoTime now) {
    held_.push_back({&sink, packet_id, verdict, update, now});
    if (!unsent_since_) unsent_since_ = now;
    ++counters_.sync_verdicts_held_total;
}

std::optional<MonoTime> HeldVerdicts::flush_due() const {
    if (!unsent_since_) return std::nullopt;
    return *unsent_since_ + std::chrono::duration_cast<MonoTime>(batch_);
}

std::optional<MonoTime> HeldVerdicts::next_timeout() const {
    if (held_.empty()) return std::nullopt;
    return held_.front().since + std::chrono::duration_cast<MonoTime>(timeout_);
}

template <typename Pred>
void HeldVerdicts::release_if(Pred pred, MonoTime now, uint64_t& counter) {
    auto kept = held_.begin();
    for (auto it = held_.begin(); it != held_.end(); ++it) {
        if (!pred(*it)) {
            *kept++ = *it;
            continue;
        }
        it->sink->send_verdict_now(it->packet_id, it->verdict);
        ++counter;
        counters_.sync_verdicts_held_microseconds_total +=
            uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(now - it->since).count());
    }
    held_.erase(kept, held_.end());
}

void HeldVerdicts::acknowledged(uint32_t update, MonoTime now) {
    // Serial number arithmetic: the counter wraps (skipping 0) after 2^32 updates.
    release_if([update](const Held& h) { return int32_t(update - h.update) >= 0; }, now,
               counters_.sync_verdicts_released_acked_total);
}

void HeldVerdicts::expire(MonoTime now) {
    const MonoTime timeout = std::chrono::duration_cast<MonoTime>(timeout_);
    release_if([&](const Held& h) { return now - h.since >= timeout; }, now, counters_.sync_verdicts_released_late_total);
    if (held_.empty()) unsent_since_.reset();
}

void HeldVerdicts::release_all(MonoTime now) {
    release_if([](const Held&) { return true; }, now, counters_.sync_verdicts_released_other_total);
    unsent_since_.reset();
}

}  // namespace sara
