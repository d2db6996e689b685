// Tests for the token bucket (time is passed in; no clock reads decide anything).
#include <catch2/catch.hpp>

#include "adapters/common/rate_limiter.h"

using perpgw::common::ParseUsageHeader;
using perpgw::common::TokenBucket;
using namespace std::chrono_literals;

TEST_CASE("TokenBucket grants until empty then reports exact waits") {
  TokenBucket::TimePoint t0{};
  // 2400 weight per minute → 40 per second.
  TokenBucket b({2400, 2400, 60s}, t0);
  CHECK(b.Available(t0) == 2400);
  CHECK(b.TryAcquire(2000, t0) == 0ns);
  CHECK(b.Available(t0) == 400);
  CHECK(b.TryAcquire(400, t0) == 0ns);
  // Needs 20 tokens at 40/s → 0.5 s.
  CHECK(b.TryAcquire(20, t0) == 500ms);
  CHECK(b.Available(t0) == 0);  // failed acquire took nothing
  CHECK(b.TryAcquire(20, t0 + 499ms) == 1ms);
  CHECK(b.TryAcquire(20, t0 + 500ms) == 0ns);
  // Refill caps at capacity.
  CHECK(b.Available(t0 + 1h) == 2400);
}

TEST_CASE("TokenBucket weight edge cases") {
  TokenBucket::TimePoint t0{};
  TokenBucket b({10, 1, 1s}, t0);
  CHECK(b.TryAcquire(0, t0) == 0ns);
  CHECK(b.TryAcquire(-5, t0) == 0ns);
  CHECK(b.Available(t0) == 10);
  CHECK(b.TryAcquire(50, t0) == 0ns);  // above capacity: treated as capacity
  CHECK(b.Available(t0) == 0);
  CHECK(b.TryAcquire(50, t0) == 10s);
  CHECK(b.WaitTime(1, t0) == 1s);
  // Time going backwards does not refill or crash.
  CHECK(b.Available(t0 - 5s) == 0);
}

TEST_CASE("TokenBucket follows the venue's used-weight header downwards only") {
  TokenBucket::TimePoint t0{};
  TokenBucket b({1200, 1200, 60s}, t0);
  CHECK(b.TryAcquire(100, t0) == 0ns);
  // Someone else on the same IP used more: venue says 1000 used.
  CHECK(b.UpdateFromUsageHeader(" 1000 ", t0));
  CHECK(b.Available(t0) == 200);
  // Venue reporting less than we think does not hand out extra tokens.
  b.UpdateFromUsedWeight(10, t0);
  CHECK(b.Available(t0) == 200);
  CHECK_FALSE(b.UpdateFromUsageHeader("abc", t0));
  CHECK_FALSE(b.UpdateFromUsageHeader("-1", t0));
  CHECK(b.Available(t0) == 200);
  b.UpdateFromUsedWeight(5000, t0);  // clamped to capacity
  CHECK(b.Available(t0) == 0);
}

TEST_CASE("TokenBucket BlockFor (Retry-After)") {
  TokenBucket::TimePoint t0{};
  TokenBucket b({10, 10, 1s}, t0);
  b.BlockFor(3s, t0);
  CHECK(b.TryAcquire(1, t0) == 3s);
  CHECK(b.TryAcquire(1, t0 + 2s) == 1s);
  CHECK(b.Available(t0 + 3s) == 0);
  CHECK(b.TryAcquire(1, t0 + 3s + 100ms) == 0ns);
}

TEST_CASE("ParseUsageHeader") {
  CHECK(ParseUsageHeader("42") == 42);
  CHECK(ParseUsageHeader("\t7 ") == 7);
  CHECK_FALSE(ParseUsageHeader("").has_value());
  CHECK_FALSE(ParseUsageHeader("4 2").has_value());
  CHECK_FALSE(ParseUsageHeader("99999999999999999999999").has_value());
}
