// SPDX-License-Identifier: GPL-2.0-or-later
// Counters are declared once, in an X-macro list of (name, help), and expanded into a plain
// struct of uint64_t plus a visitor, so the metrics exporter, saractl and the replay tool
// print every counter without a second list to keep in sync.
//
//   #define MY_COUNTERS(X) X(packets_total, "Packets seen") X(drops_total, "Packets dropped")
//   SARA_DECLARE_COUNTERS(MyCounters, MY_COUNTERS)
#pragma once

#include <cstdint>

#define SARA_COUNTER_FIELD(name, help) uint64_t name = 0;
#define SARA_COUNTER_VISIT(name, help) fn(#name, help, name);
#define SARA_DECLARE_COUNTERS(Type, LIST)              \
    struct Type {                                      \
        LIST(SARA_COUNTER_FIELD)                       \
        template <typename Fn>                         \
        void for_each(Fn&& fn) const {                 \
            LIST(SARA_COUNTER_VISIT)                   \
        }                                              \
    };
