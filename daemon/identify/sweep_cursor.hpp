// SPDX-License-Identifier: GPL-2.0-or-later
// A bounded, resumable walk over a hash map: expiry visits a table of a million entries a
// slice at a time, so the lock the packet path shares is held for microseconds, not for a
// whole scan (issue 16: a full purge stalled the queues ~10 ms at 880k sessions).
//
// The place is kept as the key of the next entry to visit, found again with one lookup: an
// iterator would not survive the inserts between two slices. Erasing other entries does not
// move entries in an open-addressing map, so the walk goes on in slot order. If the kept key
// was erased meanwhile, or a rehash reordered the slots, the walk starts over or skips some
// entries this round; both are rare (one key among millions, a rehash per doubling) and only
// postpone an entry's expiry to the next round, so they are counted, not prevented.
#pragma once

#include <cstddef>

namespace sara {

template <typename Map>
class SweepCursor {
public:
    // Visits up to `budget` entries from where the last call stopped, decrementing `budget`
    // per entry; erases those for which fn(key, value) returns true. Returns true when the
    // walk reached the map's end (the next call starts from the beginning again).
    template <typename Fn>
    bool step(Map& map, size_t& budget, Fn&& fn) {
        auto it = map.begin();
        if (resuming_) {
            it = map.find(resume_);
            if (it == map.end()) {
                ++restarts_;
                it = map.begin();
            }
        }
        for (; it != map.end() && budget > 0; --budget) {
            if (fn(it->first, it->second)) {
                map.erase(it++);
                ++erased_;
            } else {
                ++it;
            }
        }
        if (it == map.end()) {
            resuming_ = false;
            return true;
        }
        resume_ = it->first;
        resuming_ = true;
        return false;
    }
    void reset() { resuming_ = false; }
    // Walks that lost their place (the kept key was erased) and started over.
    size_t restarts() const { return restarts_; }
    size_t erased() const { return erased_; }

private:
    // Not a std::optional: GCC 12 warns that its payload "may be used uninitialized".
    bool resuming_ = false;
    typename Map::key_type resume_{};
    size_t restarts_ = 0;
    size_t erased_ = 0;
};

}  // namespace sara
