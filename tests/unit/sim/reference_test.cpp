// Shared reference market (perpgw-sim --shared-reference, issue 16): every venue's mid stays in a
// small band around one reference per asset, funding differs between venues and drifts, all of
// it deterministic under the seed; without a reference installed nothing changes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <vector>

#include "sim/core/config.h"
#include "sim/core/market.h"

namespace perpgw::sim {
namespace {

constexpr UnixNanos kSec = 1'000'000'000;
constexpr UnixNanos kStart = 1'760'000'000 * kSec;

// Installs a reference for the scope (Markets pick it up when constructed).
struct ReferenceScope {
  explicit ReferenceScope(uint64_t seed) : ref(std::make_shared<ReferenceMarket>(seed)) {
    InstallReferenceMarket(ref);
  }
  ~ReferenceScope() { InstallReferenceMarket(nullptr); }
  std::shared_ptr<ReferenceMarket> ref;
};

InstrumentSpec Spec(const char* symbol, const char* base, const char* tick, const char* step,
                    const char* mid, const char* rate, int hours, int64_t multiplier = 1) {
  InstrumentSpec s;
  s.symbol = symbol;
  s.base = base;
  s.tick = tick;
  s.step = step;
  s.min_qty = step;
  s.mid = mid;
  s.funding_rate = rate;
  s.funding_interval_hours = hours;
  s.multiplier = multiplier;
  return s;
}

std::vector<SimInstrument> Resolve(const std::vector<InstrumentSpec>& specs) {
  std::vector<SimInstrument> out;
  for (size_t i = 0; i < specs.size(); ++i) out.push_back(*ResolveInstrument(specs[i], i));
  return out;
}

// Four venues shaped like the sim's: different symbols, ticks, start prices (Backpack's BTC 20 %
// off on purpose: the first venue to list an asset anchors it), funding units and intervals.
std::vector<std::unique_ptr<Market>> Venues(const Clock& clock) {
  std::vector<std::vector<InstrumentSpec>> catalogues = {
      {Spec("BTCUSDT", "BTC", "0.1", "0.001", "97250.0", "0.0001", 8),
       Spec("ETHUSDT", "ETH", "0.01", "0.001", "3420.50", "0.0001", 8),
       Spec("1000PEPEUSDT", "1000PEPE", "0.0000010", "1", "0.011234", "0.0000125", 1, 1000)},
      {Spec("BTC_USDC_PERP", "BTC", "0.1", "0.00001", "117360.0", "0.0000125", 1),
       Spec("ETH_USDC_PERP", "ETH", "0.01", "0.0001", "4420.23", "0.0000125", 1),
       Spec("kPEPE_USDC_PERP", "kPEPE", "0.000001", "1", "0.010234", "0.0000125", 1, 1000)},
      {Spec("BTC-USD-PERP", "BTC", "0.1", "0.001", "97250.0", "0.0001", 8),
       Spec("ETH-USD-PERP", "ETH", "0.01", "0.001", "3612.45", "0.0001", 8)},
      {Spec("ETH", "ETH", "0.01", "0.0001", "3327.46", "0.00001", 1),
       Spec("BTC", "BTC", "0.1", "0.00001", "97250.0", "0.00001", 1)},
  };
  std::vector<std::unique_ptr<Market>> out;
  uint64_t seed = 0x1234;
  for (auto& c : catalogues) {
    out.push_back(std::make_unique<Market>(Resolve(c), MarketOptions{seed, 20, 125}, clock));
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  return out;
}

double Px(const Market& m, size_t i) {
  return static_cast<double>(m.mid(i)) / std::pow(10.0, m.instrument(i).price_scale);
}

double Rate8h(const Market& m, size_t i) {
  return static_cast<double>(m.funding_rate(i)) / 1e10 * 8 /
         m.instrument(i).spec.funding_interval_hours;
}

}  // namespace

TEST_CASE("asset of an instrument normalises the multiplier prefix", "[sim][reference]") {
  CHECK(ReferenceMarket::AssetOf(Spec("BTCUSDT", "BTC", "0.1", "1", "1", "0", 8)) == "BTC");
  CHECK(ReferenceMarket::AssetOf(Spec("x", "1000PEPE", "0.1", "1", "1", "0", 8, 1000)) == "PEPE");
  CHECK(ReferenceMarket::AssetOf(Spec("x", "kPEPE", "0.1", "1", "1", "0", 8, 1000)) == "PEPE");
  CHECK(ReferenceMarket::AssetOf(Spec("x", "kBONK", "0.1", "1", "1", "0", 8, 1000)) == "BONK");
  // No multiplier: the base is taken as it is.
  CHECK(ReferenceMarket::AssetOf(Spec("x", "kBONK", "0.1", "1", "1", "0", 8)) == "KBONK");
}

TEST_CASE("venues' mids stay in a small band around the shared reference", "[sim][reference]") {
  ManualClock clock(kStart);
  ReferenceScope scope(42);
  auto venues = Venues(clock);
  REQUIRE(scope.ref->asset_count() == 3);  // BTC, ETH, PEPE (1000PEPE and kPEPE are one asset)
  // Start: Backpack's 117360 is pulled to the reference Aster anchored at 97250.
  for (auto& m : venues) {
    for (size_t i = 0; i < m->size(); ++i) {
      CHECK(m->follows_reference(i));
      const double ref = m->reference_price(i);
      INFO(m->instrument(i).symbol() << " mid " << Px(*m, i) << " ref " << ref);
      CHECK(std::abs(Px(*m, i) / ref - 1) < 6e-4);
    }
  }
  CHECK(venues[0]->reference_price(2) == venues[1]->reference_price(2));  // 1000PEPE == kPEPE
  CHECK(std::abs(venues[0]->reference_price(0) / 97250.0 - 1) < 1e-9);    // anchored, t = 0

  double worst_bps = 0, btc_start = venues[0]->reference_price(0);
  std::set<int64_t> btc_mids;
  bool books_ok = true;
  for (int t = 0; t < 900; ++t) {
    clock.Advance(kSec);
    for (auto& m : venues) m->Step(40);
    for (auto& m : venues) {
      for (size_t i = 0; i < m->size(); ++i) {
        const double ref = m->reference_price(i);
        // Basis (<= 5 bps) plus at most a second of lag behind the walk.
        worst_bps = std::max(worst_bps, std::abs(Px(*m, i) / ref - 1) * 1e4);
        const OrderBook& b = m->book(i);
        books_ok &= !b.IsCrossed() && b.BestBid() && b.BestAsk() &&
                    b.BestAsk()->price - b.BestBid()->price >= 2 * m->instrument(i).tick;
      }
    }
    btc_mids.insert(venues[0]->mid(0));
  }
  INFO("worst distance from the reference: " << worst_bps << " bps");
  CHECK(worst_bps < 15);
  CHECK(books_ok);
  CHECK(btc_mids.size() > 100);  // the reference walks...
  CHECK(venues[0]->reference_price(0) != btc_start);
  // ...and the BTC mids of all four venues stay within a few bps of each other.
  double lo = 1e18, hi = 0;
  for (auto& m : venues) {
    const SimInstrument* btc = nullptr;
    for (const auto& in : m->instruments()) {
      if (in.spec.base == "BTC") btc = &in;
    }
    REQUIRE(btc != nullptr);
    lo = std::min(lo, Px(*m, btc->index));
    hi = std::max(hi, Px(*m, btc->index));
  }
  CHECK(hi / lo - 1 < 15e-4);
  // Venues quote their own spreads: BTC's differ between at least two venues.
  std::set<int64_t> spreads;
  for (auto& m : venues) spreads.insert(m->half_spread_ticks(0));
  CHECK(spreads.size() > 1);
}

TEST_CASE("funding differs between venues, drifts and keeps each venue's units",
          "[sim][reference]") {
  ManualClock clock(kStart);
  ReferenceScope scope(7);
  auto venues = Venues(clock);
  // BTC is index 0 on three venues and 1 on the last.
  auto btc = [&](size_t v) { return v == 3 ? size_t{1} : size_t{0}; };
  std::set<int64_t> at_start;
  for (size_t v = 0; v < venues.size(); ++v) at_start.insert(std::llround(Rate8h(*venues[v], btc(v)) * 1e8));
  CHECK(at_start.size() > 1);

  std::set<int64_t> seen;
  double max_spread_8h = 0;
  bool capped = true;
  for (int step = 0; step < 24 * 12; ++step) {  // a day in 5 min steps
    clock.Advance(300 * kSec);
    seen.insert(venues[0]->funding_rate(0));
    double lo = 1, hi = -1;
    for (size_t v = 0; v < venues.size(); ++v) {
      for (size_t i = 0; i < venues[v]->size(); ++i) {
        capped &= std::abs(Rate8h(*venues[v], i)) <= 0.003 + 1e-12;
        // Each instrument's rate is per its own interval: hourly ones an eighth of the 8 h one.
        const int hours = venues[v]->instrument(i).spec.funding_interval_hours;
        capped &= std::abs(venues[v]->funding_rate(i)) <= static_cast<int64_t>(3e7 * hours / 8) + 100;
      }
      lo = std::min(lo, Rate8h(*venues[v], btc(v)));
      hi = std::max(hi, Rate8h(*venues[v], btc(v)));
    }
    max_spread_8h = std::max(max_spread_8h, hi - lo);
  }
  CHECK(capped);
  CHECK(seen.size() > 20);            // it moves over time
  CHECK(max_spread_8h > 0.00005);     // > 0.5 bp / 8 h between venues at some point
  CHECK(max_spread_8h < 0.0015);      // but only by a few bps
  // Rates print like the venues' (1e-8 resolution).
  CHECK(venues[1]->funding_rate(0) % 100 == 0);

  // An explicit rate (funding_tick fault) pins the symbol.
  venues[0]->set_funding_rate(0, 123);
  clock.Advance(3600 * kSec);
  CHECK(venues[0]->funding_rate(0) == 123);
}

TEST_CASE("the shared market is deterministic under the seed", "[sim][reference]") {
  auto run = [](uint64_t seed) {
    ManualClock clock(kStart);
    ReferenceScope scope(seed);
    auto venues = Venues(clock);
    std::vector<int64_t> out;
    for (int t = 0; t < 300; ++t) {
      clock.Advance(kSec * 7);
      for (auto& m : venues) {
        m->Step(30);
        for (size_t i = 0; i < m->size(); ++i) {
          out.push_back(m->mid(i));
          out.push_back(m->funding_rate(i));
          out.push_back(m->book(i).BestBid()->size);
        }
      }
    }
    return out;
  };
  const auto a = run(42);
  CHECK(a == run(42));
  CHECK(a != run(43));
}

TEST_CASE("POST /price takes a symbol off the reference", "[sim][reference]") {
  ManualClock clock(kStart);
  ReferenceScope scope(5);
  auto venues = Venues(clock);
  Market& m = *venues[0];
  m.SetMid(0, 900000);  // 90000.0
  CHECK_FALSE(m.follows_reference(0));
  CHECK(m.follows_reference(1));
  for (int t = 0; t < 60; ++t) {
    clock.Advance(kSec);
    m.Step(40);
  }
  // Its own one-tick walk from the set price, not back to ~97250.
  CHECK(std::abs(m.mid(0) - 900000) < 2000);
}

TEST_CASE("without a reference a market keeps its own mid and rate", "[sim][reference]") {
  InstallReferenceMarket(nullptr);
  ManualClock clock(kStart);
  auto venues = Venues(clock);
  Market& bp = *venues[1];
  CHECK(bp.reference() == nullptr);
  CHECK_FALSE(bp.follows_reference(0));
  CHECK(bp.mid(0) == bp.instrument(0).initial_mid);
  CHECK(bp.funding_rate(0) == bp.instrument(0).funding_rate);
  CHECK(bp.half_spread_ticks(0) == 1);
  CHECK(bp.book(0).BestBid()->price == bp.mid(0) - bp.instrument(0).tick);
  clock.Advance(3600 * kSec);
  CHECK(bp.funding_rate(0) == bp.instrument(0).funding_rate);
}

TEST_CASE("--shared-reference and shared_reference turn the reference on", "[sim][config]") {
  const char* on[] = {"perpgw-sim", "--shared-reference", "--seed", "9"};
  auto cl = ParseCommandLine(4, on);
  REQUIRE(cl.ok());
  CHECK(*cl->seed == 9);
  CHECK(BuildConfig(*cl)->shared_reference);
  const char* off[] = {"perpgw-sim", "--shared-reference=false"};
  cl = ParseCommandLine(2, off);
  REQUIRE(cl.ok());
  CHECK_FALSE(BuildConfig(*cl)->shared_reference);
  const char* none[] = {"perpgw-sim"};
  CHECK_FALSE(BuildConfig(*ParseCommandLine(1, none))->shared_reference);
  const char* bad[] = {"perpgw-sim", "--shared-reference=maybe"};
  CHECK_FALSE(ParseCommandLine(2, bad).ok());

  std::string path = "/tmp/perpgw_sim_ref_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << "seed: 3\nshared_reference: true\n";
  }
  auto c = LoadSimConfigFile(path);
  std::remove(path.c_str());
  REQUIRE(c.ok());
  CHECK(c->shared_reference);
}

}  // namespace perpgw::sim
