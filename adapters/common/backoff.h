// Capped exponential backoff with full jitter (delay = uniform(0, min(cap, initial * 2^n))).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

namespace perpgw::common {

class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{250};  // ceiling for the first attempt
    std::chrono::milliseconds max{30000};    // cap on the ceiling
    std::chrono::milliseconds min{0};        // floor applied after jitter
    double multiplier = 2.0;                 // ceiling growth per attempt (>= 1)
  };
  // Returns a uniform value in [0, 1); injectable so tests are deterministic.
  using RandomFn = std::function<double()>;

  Backoff();
  explicit Backoff(Options options, RandomFn random = {});

  // Delay before the next attempt; each call advances the attempt counter.
  std::chrono::milliseconds Next();
  // The ceiling the next call to Next() draws under (no jitter, no state change).
  std::chrono::milliseconds PeekCeiling() const;
  // Call after a success (e.g. a connection stayed healthy): the next delay is small again.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  RandomFn random_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace perpgw::common
