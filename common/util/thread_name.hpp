// SPDX-License-Identifier: GPL-2.0-or-later
// Names the calling thread as `top -H`, perf and /proc/PID/task/*/comm show it, so that an
// operator can tell a daemon's packet threads from its housekeeping (and give them another
// CPU or scheduling policy: make bench-datapath runs sarad's queue threads one SCHED_FIFO
// priority above its other threads).
#pragma once

#include <pthread.h>

#include <string>

namespace sara {

// The kernel keeps 15 characters; a longer name is cut, not refused.
inline void name_this_thread(const std::string& name) {
    (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace sara
