// Tests for capped exponential backoff with full jitter.
#include <catch2/catch.hpp>

#include "adapters/common/backoff.h"

using perpgw::common::Backoff;
using std::chrono::milliseconds;

TEST_CASE("Backoff ceiling doubles up to the cap; jitter scales it") {
  double u = 1.0;
  Backoff b({milliseconds(100), milliseconds(1000), milliseconds(0), 2.0}, [&] { return u; });
  CHECK(b.Next() == milliseconds(100));
  CHECK(b.Next() == milliseconds(200));
  CHECK(b.Next() == milliseconds(400));
  CHECK(b.Next() == milliseconds(800));
  CHECK(b.Next() == milliseconds(1000));  // capped
  CHECK(b.Next() == milliseconds(1000));
  u = 0.5;
  CHECK(b.Next() == milliseconds(500));
  u = 0.0;
  CHECK(b.Next() == milliseconds(0));  // full jitter can go to zero
  CHECK(b.attempt() == 8);
  b.Reset();
  u = 1.0;
  CHECK(b.attempt() == 0);
  CHECK(b.PeekCeiling() == milliseconds(100));
  CHECK(b.Next() == milliseconds(100));
}

TEST_CASE("Backoff floor and bad inputs") {
  Backoff b({milliseconds(100), milliseconds(50), milliseconds(20), 0.1}, [] { return 0.0; });
  // max < initial is raised to initial; multiplier < 1 treated as 1; min applies after jitter.
  CHECK(b.Next() == milliseconds(20));
  CHECK(b.PeekCeiling() == milliseconds(100));
  Backoff c({milliseconds(10), milliseconds(100), milliseconds(0), 2.0}, [] { return 7.0; });
  CHECK(c.Next() == milliseconds(10));  // random clamped to [0,1]
}

TEST_CASE("Backoff default random stays within the ceiling and never overflows") {
  Backoff b({milliseconds(250), milliseconds(30000), milliseconds(0), 2.0});
  for (int i = 0; i < 2000; ++i) {
    auto ceiling = b.PeekCeiling();
    auto d = b.Next();
    REQUIRE(d >= milliseconds(0));
    REQUIRE(d <= ceiling);
    REQUIRE(ceiling <= milliseconds(30000));
  }
}
