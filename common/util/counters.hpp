// SPDX-License-Identifier: GPL-2.0-or-later
// Counters are declared once, in an X-macro list of (name, help), and expanded into a plain
// struct of uint64_t plus a visitor, so the metrics exporter, saractl and the replay tool
// print every counter without a second list to keep in sync.
//
//   #define MY_COUNTERS(X) X(packets_total, "Packets seen") X(drops_total, "Packets dropped")
//   SARA_DECLARE_COUNTERS(MyCounters, MY_COUNTERS)
//
// Counters one thread writes while others read them (a queue thread's counters, read by the
// metrics and control threads) use SARA_DECLARE_SHARED_COUNTERS: the same list, fields of
// SharedCounter (relaxed atomics), so the reads are not data races.
#pragma once

#include <atomic>
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

namespace sara {

// A counter with one writing thread and any number of reading threads. Relaxed loads and
// stores: a reader sees some recent value, and the writer needs no read-modify-write
// (no locked instruction on the packet path) because no other thread writes.
class SharedCounter {
public:
    SharedCounter() = default;
    SharedCounter(const SharedCounter& other) : value_(other.load()) {}
    SharedCounter& operator=(const SharedCounter& other) {
        value_.store(other.load(), std::memory_order_relaxed);
        return *this;
    }
    uint64_t load() const { return value_.load(std::memory_order_relaxed); }
    operator uint64_t() const { return load(); }
    SharedCounter& operator+=(uint64_t n) {
        value_.store(load() + n, std::memory_order_relaxed);
        return *this;
    }
    SharedCounter& operator++() { return *this += 1; }

private:
    std::atomic<uint64_t> value_{0};
};

}  // namespace sara

#define SARA_SHARED_COUNTER_FIELD(name, help) ::sara::SharedCounter name;
#define SARA_SHARED_COUNTER_VISIT(name, help) fn(#name, help, name.load());
#define SARA_DECLARE_SHARED_COUNTERS(Type, LIST)       \
    struct Type {                                      \
        LIST(SARA_SHARED_COUNTER_FIELD)                \
        template <typename Fn>                         \
        void for_each(Fn&& fn) const {                 \
            LIST(SARA_SHARED_COUNTER_VISIT)            \
        }                                              \
    };
