// Market generator: determinism under a seed, book sanity, update-id continuity and skip_seq.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "sim/core/market.h"

namespace perpgw::sim {
namespace {

std::vector<SimInstrument> Catalogue() {
  std::vector<SimInstrument> out;
  InstrumentSpec btc;
  btc.symbol = "BTCUSDT";
  btc.tick = "0.1";
  btc.step = "0.001";
  btc.min_qty = "0.001";
  btc.mid = "65000";
  InstrumentSpec pepe;
  pepe.symbol = "1000PEPEUSDT";
  pepe.tick = "0.0000001";
  pepe.step = "1";
  pepe.min_qty = "1";
  pepe.mid = "0.0123456";
  out.push_back(*ResolveInstrument(btc, 0));
  out.push_back(*ResolveInstrument(pepe, 1));
  return out;
}

// FNV-1a over every published change.
struct Recorder {
  uint64_t hash = 1469598103934665603ULL;
  uint64_t count = 0;
  void Mix(uint64_t v) { hash = (hash ^ v) * 1099511628211ULL; }
  void On(const BookChange& c) {
    ++count;
    Mix(c.instrument->index);
    Mix(c.update_id);
    for (const auto& l : c.changes) {
      Mix(static_cast<uint64_t>(c.changes.size()));
      Mix(static_cast<uint64_t>(l.side));
      Mix(static_cast<uint64_t>(l.level.price));
      Mix(static_cast<uint64_t>(l.level.size));
    }
  }
};

uint64_t Run(uint64_t seed, size_t steps) {
  ManualClock clock(1);
  Market m(Catalogue(), MarketOptions{seed, 20, 125}, clock);
  Recorder r;
  m.SetListener([&](const BookChange& c) { r.On(c); });
  m.Step(steps);
  REQUIRE(r.count == steps);
  return r.hash;
}

}  // namespace

TEST_CASE("generator is deterministic under a seed", "[sim][market]") {
  CHECK(Run(42, 20000) == Run(42, 20000));
  CHECK(Run(42, 20000) != Run(43, 20000));
}

TEST_CASE("generated books are never crossed and ids are contiguous", "[sim][market]") {
  ManualClock clock(1);
  Market m(Catalogue(), MarketOptions{9, 10, 125}, clock);
  std::vector<uint64_t> last(m.size(), 0);
  bool ok = true;
  size_t max_changes = 0, recentres = 0;
  m.SetListener([&](const BookChange& c) {
    size_t i = c.instrument->index;
    ok &= c.update_id == last[i] + 1 && c.prev_update_id == last[i] && c.first_update_id == c.update_id;
    last[i] = c.update_id;
    ok &= !c.changes.empty();
    if (c.changes.size() > 10) ++recentres;
    max_changes = std::max(max_changes, c.changes.size());
    const OrderBook& b = m.book(i);
    ok &= !b.IsCrossed() && b.bid_count() > 0 && b.ask_count() > 0;
    ok &= b.bid_count() <= 10 && b.ask_count() <= 10;
    for (const auto& l : c.changes) {
      ok &= l.level.size >= 0 && l.level.price > 0 && l.level.price % c.instrument->tick == 0;
      ok &= l.level.size % c.instrument->step == 0;
    }
  });
  for (int k = 0; k < 50000 && ok; ++k) m.Step(1);
  CHECK(ok);
  // Churn changes 1-10 levels; a one-tick move 4 plus any refilled holes in the windows.
  CHECK(max_changes <= 40);
  CHECK(recentres < 50000 / 20);
  // A big move re-centres the whole window in one change.
  m.SetMid(0, 700000);  // 70000.0
  CHECK(m.mid(0) == 700000);
  CHECK(m.book(0).BestBid()->price == 699999);
  CHECK(m.book(0).BestAsk()->price == 700001);
  CHECK_FALSE(m.book(0).IsCrossed());
}

TEST_CASE("skip_seq makes the next change skip one id", "[sim][market]") {
  ManualClock clock(1);
  Market m(Catalogue(), MarketOptions{3, 5, 125}, clock);
  std::vector<BookChange> seen;
  m.SetListener([&](const BookChange& c) { seen.push_back(c); });
  m.StepSymbol(0);
  m.SkipNextUpdateId(0);
  m.StepSymbol(0);
  m.StepSymbol(0);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].update_id == 1);
  CHECK(seen[1].update_id == 3);
  CHECK(seen[1].prev_update_id == 2);  // != 1, the last id a client saw
  CHECK(seen[2].update_id == 4);
  CHECK(seen[2].prev_update_id == 3);
}

TEST_CASE("generator throughput", "[.][sim-bench]") {
  ManualClock clock(1);
  Market m(Catalogue(), MarketOptions{1, 20, 125}, clock);
  uint64_t n = 0;
  m.SetListener([&](const BookChange&) { ++n; });
  auto t0 = std::chrono::steady_clock::now();
  m.Step(1'000'000);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("generator: %.0f updates/s (depth 20)\n", n / s);
  CHECK(n == 1'000'000);
}

}  // namespace perpgw::sim
