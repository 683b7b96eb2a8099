// SPDX-License-Identifier: GPL-2.0-or-later
// `make thread-safety` must refuse this file: it proves the analysis runs and reads
// common/util/mutex.hpp's annotations (a check that cannot fail proves nothing).
#include "common/util/mutex.hpp"

namespace {

struct Shared {
    sara::Mutex lock;
    int value ABSL_GUARDED_BY(lock) = 0;
};

}  // namespace

int touch_without_the_lock(Shared& s) { return ++s.value; }
