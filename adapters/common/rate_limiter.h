// Token bucket for venue request weights; pure (the caller passes the time) so it is testable.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace perpgw::common {

// Tokens refill continuously at refill_amount per refill_interval, up to capacity. A venue
// limit such as "2400 weight per minute" is TokenBucket({2400, 2400, 1min}).
class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::nanoseconds;

  struct Options {
    int64_t capacity = 1;                            // max tokens (burst)
    int64_t refill_amount = 1;                       // tokens added per refill_interval
    std::chrono::nanoseconds refill_interval{std::chrono::seconds(1)};
  };

  // Starts full at `now`.
  TokenBucket(Options options, TimePoint now);

  // Takes `weight` tokens and returns zero, or takes nothing and returns how long to wait until
  // they would be available. A weight above capacity is treated as capacity (it can only ever
  // go through on a full bucket). Weight <= 0 always succeeds.
  Duration TryAcquire(int64_t weight, TimePoint now);
  // Same wait calculation without taking anything.
  Duration WaitTime(int64_t weight, TimePoint now);

  // The venue reported `used` weight already consumed in its current window (e.g. Binance/Aster
  // X-MBX-USED-WEIGHT-1M). The venue knows about requests we did not count (other processes on
  // the same key/IP), so the local view only ever moves down to match it: available becomes
  // min(available, capacity - used).
  void UpdateFromUsedWeight(int64_t used, TimePoint now);
  // Parses a usage header value (decimal integer, surrounding spaces allowed) and applies it.
  // Returns false (and changes nothing) when the value is not a non-negative integer.
  bool UpdateFromUsageHeader(std::string_view header_value, TimePoint now);

  // After a 429/418 with Retry-After: nothing is granted before now + d, and the bucket is
  // emptied so requests resume gradually.
  void BlockFor(Duration d, TimePoint now);

  // Whole tokens available at `now` (refills first).
  int64_t Available(TimePoint now);
  const Options& options() const { return options_; }

 private:
  void Refill(TimePoint now);

  Options options_;
  // Tokens are kept in units of 1/interval_ns token so refill is exact integer arithmetic.
  __int128 scaled_tokens_ = 0;
  __int128 scaled_capacity_ = 0;
  TimePoint last_;
  TimePoint blocked_until_{};
};

// Parses a non-negative decimal integer header value ("  1234 "); nullopt when malformed.
std::optional<int64_t> ParseUsageHeader(std::string_view value);

}  // namespace perpgw::common
