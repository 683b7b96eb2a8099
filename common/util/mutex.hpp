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

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace sara {

class ABSL_LOCKABLE Mutex {
public:
    void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
    void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
    // Tells the analysis what a caller's comment used to say, where it cannot see the caller
    // (a callback run by a component that took the lock).
    void assert_held() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

private:
    friend class CondVar;
    std::mutex m_;
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
