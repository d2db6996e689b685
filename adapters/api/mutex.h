// The project's mutex: std::mutex with Clang's capability annotations (ABSL_GUARDED_BY and
// friends keep being checked by -Wthread-safety), plus the scoped lock and condition variable
// that go with it.
//
// Why not absl::Mutex: Debian's abseil is a prebuilt, uninstrumented shared library. ThreadSanitizer
// cannot see the happens-before edges its lock and unlock create (they are futex and atomics
// inside libabsl_synchronization), so under TSan every access an absl::Mutex guards is reported
// as a race. std::mutex goes through pthread_mutex_*, which TSan intercepts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace perpgw {

class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

class CondVar {
 public:
  // Waits (the mutex is released while waiting and held again on return); spurious wake-ups
  // happen, so callers loop on their condition.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, for at most `timeout`. True when the timeout expired.
  template <typename Rep, typename Period>
  bool WaitWithTimeout(Mutex* mu, std::chrono::duration<Rep, Period> timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    bool expired = cv_.wait_for(lock, timeout) == std::cv_status::timeout;
    lock.release();
    return expired;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace perpgw
