// Injectable clocks: production reads the system clock; tests drive a manual one.
#pragma once

#include <atomic>
#include <chrono>

#include "adapters/api/types.h"

namespace perpgw {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixNanos Now() const = 0;  // wall clock, ns since epoch
};

class SystemClock final : public Clock {
 public:
  UnixNanos Now() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& Instance() {
    static const SystemClock c;
    return c;
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixNanos t = 0) : t_(t) {}
  UnixNanos Now() const override { return t_.load(); }
  void Set(UnixNanos t) { t_.store(t); }
  void Advance(UnixNanos d) { t_.fetch_add(d); }

 private:
  std::atomic<UnixNanos> t_;
};

}  // namespace perpgw
