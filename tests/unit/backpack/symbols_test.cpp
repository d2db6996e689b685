// Backpack symbol rules, SymbolTable and the uint32 clientId mapper.
#include "adapters/backpack/symbols.h"

#include <catch2/catch.hpp>
#include <set>

namespace bp = perpgw::adapters::backpack;

TEST_CASE("backpack symbols: split and classify venue symbols") {
  auto p = bp::SplitVenueSymbol("BTC_USDC_PERP");
  REQUIRE(p.ok());
  CHECK(p->base == "BTC");
  CHECK(p->quote == "USDC");
  CHECK(p->perp);
  auto s = bp::SplitVenueSymbol("SOL_USDC");
  REQUIRE(s.ok());
  CHECK(!s->perp);
  CHECK(bp::SplitVenueSymbol("0G_USDC_PERP")->base == "0G");
  CHECK(!bp::SplitVenueSymbol("BTCUSDC").ok());
  CHECK(!bp::SplitVenueSymbol("_USDC_PERP").ok());
  CHECK(!bp::SplitVenueSymbol("BTC_").ok());
  CHECK(!bp::SplitVenueSymbol("").ok());
  CHECK(bp::IsUsdcPerpSymbol("ETH_USDC_PERP"));
  CHECK(!bp::IsUsdcPerpSymbol("ETH_USDC"));
  CHECK(!bp::IsUsdcPerpSymbol("ETH_USDT_PERP"));
  CHECK(bp::PerpSymbolForBase("kPEPE") == "kPEPE_USDC_PERP");
}

TEST_CASE("backpack symbols: multiplier prefixes") {
  CHECK(bp::NormalizeBase("BTC").ticker == "BTC");
  CHECK(bp::NormalizeBase("BTC").multiplier == 1);
  CHECK(bp::NormalizeBase("kPEPE").ticker == "PEPE");
  CHECK(bp::NormalizeBase("kPEPE").multiplier == 1000);
  CHECK(bp::NormalizeBase("1000BONK").ticker == "BONK");
  CHECK(bp::NormalizeBase("1000BONK").multiplier == 1000);
  CHECK(bp::NormalizeBase("1000000MOG").multiplier == 1000000);
  CHECK(bp::NormalizeBase("1000000MOG").ticker == "MOG");
  CHECK(bp::NormalizeBase("1MBABYDOGE").ticker == "BABYDOGE");
  CHECK(bp::NormalizeBase("1MBABYDOGE").multiplier == 1000000);
  // Not prefixes.
  CHECK(bp::NormalizeBase("0G").ticker == "0G");
  CHECK(bp::NormalizeBase("1INCH").ticker == "1INCH");
  CHECK(bp::NormalizeBase("1INCH").multiplier == 1);
  CHECK(bp::NormalizeBase("KAITO").ticker == "KAITO");
  CHECK(bp::NormalizeBase("kaito").ticker == "kaito");
  CHECK(bp::NormalizeBase("1000").ticker == "1000");
  CHECK(bp::NormalizeBase("10000").multiplier == 1);
  CHECK(bp::NormalizeBase("").ticker.empty());
}

TEST_CASE("backpack symbols: SymbolTable lookups and fallback") {
  perpgw::Instrument pepe;
  pepe.venue_symbol = "kPEPE_USDC_PERP";
  pepe.symbol = "PEPE";
  pepe.base = "kPEPE";
  pepe.quantity_multiplier = 1000;
  bp::SymbolTable t({pepe});
  CHECK(t.size() == 1);
  CHECK(t.TickerFor("kPEPE_USDC_PERP") == "PEPE");
  CHECK(t.VenueSymbolFor("PEPE") == "kPEPE_USDC_PERP");
  REQUIRE(t.ByTicker("PEPE") != nullptr);
  CHECK(t.ByTicker("PEPE")->quantity_multiplier == 1000);
  CHECK(t.ByVenueSymbol("BTC_USDC_PERP") == nullptr);
  // Fallback for unknown symbols.
  CHECK(t.TickerFor("BTC_USDC_PERP") == "BTC");
  CHECK(t.TickerFor("1000BONK_USDC_PERP") == "BONK");
  CHECK(t.TickerFor("garbage") == "garbage");
  CHECK(t.VenueSymbolFor("ETH") == "ETH_USDC_PERP");
  // Re-adding under a new ticker drops the old ticker mapping.
  pepe.symbol = "PEPE2";
  t.Add(pepe);
  CHECK(t.ByTicker("PEPE") == nullptr);
  CHECK(t.TickerFor("kPEPE_USDC_PERP") == "PEPE2");
  t.Clear();
  CHECK(t.size() == 0);
}

TEST_CASE("backpack clientId mapper: numeric identity, determinism, round trip") {
  bp::ClientIdMapper a, b;
  CHECK(*a.Assign("12345") == 12345u);
  CHECK(*a.Assign("4294967295") == 4294967295u);
  CHECK(bp::ClientIdMapper::ParseCanonicalUint32("4294967296") == std::nullopt);
  CHECK(bp::ClientIdMapper::ParseCanonicalUint32("0") == std::nullopt);
  CHECK(bp::ClientIdMapper::ParseCanonicalUint32("012") == std::nullopt);
  CHECK(bp::ClientIdMapper::ParseCanonicalUint32("-1") == std::nullopt);
  uint32_t x = *a.Assign("strategy-7/order-0001");
  CHECK(x != 0);
  CHECK(x == bp::ClientIdMapper::Candidate("strategy-7/order-0001", 0));
  CHECK(*a.Assign("strategy-7/order-0001") == x);  // stable
  CHECK(*b.Assign("strategy-7/order-0001") == x);  // deterministic across instances
  CHECK(*a.Resolve(x) == "strategy-7/order-0001");
  CHECK(*a.Find("strategy-7/order-0001") == x);
  CHECK(a.ResolveOrDecimal(777) == "777");
  CHECK(!a.Resolve(777).has_value());
  a.Release("strategy-7/order-0001");
  CHECK(!a.Resolve(x).has_value());
  CHECK(!a.Find("strategy-7/order-0001").has_value());
  CHECK(!a.Assign("").ok());
}

TEST_CASE("backpack clientId mapper: collisions pick another id") {
  bp::ClientIdMapper m;
  const std::string id = "abc";
  uint32_t c0 = bp::ClientIdMapper::Candidate(id, 0);
  uint32_t c1 = bp::ClientIdMapper::Candidate(id, 1);
  REQUIRE(c0 != c1);
  // Another id already holds c0 (e.g. restored from persisted state).
  REQUIRE(m.Restore("someone-else", c0).ok());
  CHECK(*m.Assign(id) == c1);
  CHECK(m.collisions() == 1);
  CHECK(*m.Resolve(c0) == "someone-else");
  CHECK(*m.Resolve(c1) == id);
  // A numeric id whose number is taken falls back to hashing.
  REQUIRE(m.Restore("other", 42).ok());
  uint32_t n = *m.Assign("42");
  CHECK(n != 42u);
  CHECK(*m.Resolve(n) == "42");
  // Restore conflicts.
  CHECK(m.Restore("abc", c1).ok());  // same pair again is fine
  CHECK(m.Restore("abc", 99).code() == absl::StatusCode::kAlreadyExists);
  CHECK(m.Restore("new", c1).code() == absl::StatusCode::kAlreadyExists);
  CHECK(!m.Restore("", 5).ok());
  CHECK(!m.Restore("x", 0).ok());
}

TEST_CASE("backpack clientId mapper: many ids stay unique; the map is bounded") {
  bp::ClientIdMapper m;
  std::set<uint32_t> seen;
  for (int i = 0; i < 100000; ++i) {
    auto v = m.Assign("ord-" + std::to_string(i));
    REQUIRE(v.ok());
    REQUIRE(*v != 0u);
    seen.insert(*v);
  }
  CHECK(seen.size() == 100000);
  CHECK(m.size() == 100000);
  for (int i = 0; i < 100000; i += 997) {
    CHECK(*m.Resolve(*m.Find("ord-" + std::to_string(i))) == "ord-" + std::to_string(i));
  }
  bp::ClientIdMapper small(2);
  CHECK(small.Assign("a").ok());
  CHECK(small.Assign("b").ok());
  CHECK(small.Assign("c").status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(small.Assign("a").ok());  // existing mappings still resolve
  small.Release("a");
  CHECK(small.Assign("c").ok());
}
