// SPDX-License-Identifier: GPL-2.0-or-later
// A std::mutex that clang's thread-safety analysis understands (issue 15: lock rules were
// comments). Fields carry ABSL_GUARDED_BY(lock), functions that expect the lock held
// ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock), and `make thread-safety` compiles the code that
// shares them with clang -Wthread-safety -Werror, so a field touched without its lock fails
// the build. g++ ignores the attributes: the object code is std::mutex's, unchanged.
//
// absl::Mutex carries the same annotations, but it spins and parks differently from the
// std::mutex the queue threads' per-packet lock was measured with (make bench-datapath).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace sara {

class ABSL_LOCKABLE Mutex {
public:
    // The uncontended path is std::mutex's own (one compare-and-swap): only a thread that
    // finds the lock taken counts itself as waiting.
    void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
        if (m_.try_lock()) return;
        waiting_.fetch_add(1, std::memory_order_relaxed);
        m_.lock();
        waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
    void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
    // For a thread that does long work in short holds (issue 16: the periodic work beside the
    // queue threads), called between two holds: if a thread waits for the lock, yields until
    // it has the lock or `patience` passed. A std::mutex is not fair: the thread that just
    // unlocked takes it again long before a woken waiter runs, so short holds alone would
    // still starve the queue for the whole task. Yields rather than spins: where both threads
    // share one CPU (sarad pinned to a core, as make bench-datapath runs it), a spin would
    // take the very CPU the woken waiter needs.
    void let_waiters_in(std::chrono::microseconds patience) const {
        if (waiting_.load(std::memory_order_relaxed) == 0) return;
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (waiting_.load(std::memory_order_relaxed) != 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
    }
    // Tells the analysis what a caller's comment used to say, where it cannot see the caller
    // (a callback run by a component that took the lock).
    void assert_held() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

private:
    friend class CondVar;
    std::mutex m_;
    std::atomic<int> waiting_{0};  // threads inside lock() that found it taken
};

// Holds `m` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
public:
    explicit MutexLock(Mutex& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
    ~MutexLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

private:
    Mutex& m_;
};

// std::condition_variable waited on with a held sara::Mutex.
class CondVar {
public:
    void notify_one() { cv_.notify_one(); }
    void notify_all() { cv_.notify_all(); }
    // Releases `m` while it waits, holds it again on return (woken, or spuriously).
    void wait(Mutex& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m) {
        std::unique_lock<std::mutex> held(m.m_, std::adopt_lock);
        cv_.wait(held);
        held.release();  // still locked: the caller's hold continues
    }
    // The same, also returning at `deadline`.
    template <typename Clock, typename Duration>
    void wait_until(Mutex& m, const std::chrono::time_point<Clock, Duration>& deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m) {
        std::unique_lock<std::mutex> held(m.m_, std::adopt_lock);
        cv_.wait_until(held, deadline);
        held.release();  // still locked: the caller's hold continues
    }

private:
    std::condition_variable cv_;
};

}  // namespace sara
