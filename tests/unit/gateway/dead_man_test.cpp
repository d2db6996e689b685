#include "gateway/risk/dead_man.h"

#include <catch2/catch.hpp>

using perpgw::gateway::risk::DeadMan;

namespace {
constexpr int64_t kMs = 1000000;
}

TEST_CASE("dead man: the last guarded stream gone starts the countdown; a new one stops it",
          "[risk][deadman]") {
  DeadMan d;
  const auto s1 = d.StreamOpened("acc", 1500 * kMs);
  const auto s2 = d.StreamOpened("acc", 1500 * kMs);
  d.StreamClosed(s1, 0);
  CHECK(d.Due(10000 * kMs).empty());  // s2 still watches
  d.StreamClosed(s2, 1000 * kMs);
  CHECK(d.Of("acc").stream_deadline == 2500 * kMs);
  CHECK(d.Due(2499 * kMs).empty());
  auto f = d.Due(2500 * kMs);
  REQUIRE(f.size() == 1);
  CHECK(f[0].account == "acc");
  CHECK(f[0].why == "order-event stream gone for 1500 ms");
  CHECK(d.Due(5000 * kMs).empty());  // fires once

  // Reconnected in time: nothing fires.
  const auto s3 = d.StreamOpened("acc", 1000 * kMs);
  d.StreamClosed(s3, 0);
  d.StreamOpened("acc", 1000 * kMs);
  CHECK(d.Due(10000 * kMs).empty());
  // Accounts are separate; closing an unknown id is harmless.
  const auto o = d.StreamOpened("other", 100 * kMs);
  d.StreamClosed(o, 0);
  d.StreamClosed(999, 0);
  f = d.Due(100 * kMs);
  REQUIRE(f.size() == 1);
  CHECK(f[0].account == "other");
}

TEST_CASE("dead man: heartbeats renew, lapse once, and disarm with 0", "[risk][deadman]") {
  DeadMan d;
  d.Heartbeat("acc", "strat", 1000 * kMs, 0);
  d.Heartbeat("acc", "strat", 1000 * kMs, 900 * kMs);
  CHECK(d.Due(1500 * kMs).empty());
  auto f = d.Due(1900 * kMs);
  REQUIRE(f.size() == 1);
  CHECK(f[0].why == "no heartbeat from 'strat' for 1000 ms");
  CHECK(d.Due(9000 * kMs).empty());
  d.Heartbeat("acc", "strat", 1000 * kMs, 0);
  d.Heartbeat("acc", "strat", 0, 10 * kMs);
  CHECK(d.Due(9000 * kMs).empty());
  CHECK(d.Of("acc").heartbeat_deadlines.empty());
}
