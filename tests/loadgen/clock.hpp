// SPDX-License-Identifier: GPL-2.0-or-later
// Monotonic microseconds for sip-loadgen's loops.
#pragma once

#include <time.h>

#include <cstdint>

namespace sara::loadgen {

inline int64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace sara::loadgen
