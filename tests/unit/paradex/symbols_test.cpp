// Paradex symbol rules: market names, multiplier prefixes, table lookups with fallbacks.
#include "adapters/paradex/symbols.h"

#include <catch2/catch.hpp>

namespace px = perpgw::adapters::paradex;

TEST_CASE("paradex symbols: split, prefixes, table") {
  auto p = px::SplitVenueSymbol("BTC-USD-PERP");
  REQUIRE(p.ok());
  CHECK(p->base == "BTC");
  CHECK(p->quote == "USD");
  CHECK(p->perp);
  auto opt = px::SplitVenueSymbol("BTC-USD-96000-C");
  REQUIRE(opt.ok());
  CHECK_FALSE(opt->perp);
  auto spot = px::SplitVenueSymbol("ETH-USD");
  REQUIRE(spot.ok());
  CHECK_FALSE(spot->perp);
  CHECK_FALSE(px::SplitVenueSymbol("BTC").ok());
  CHECK_FALSE(px::SplitVenueSymbol("-USD-PERP").ok());
  CHECK_FALSE(px::SplitVenueSymbol("BTC--PERP").ok());

  CHECK(px::NormalizeBase("kBONK").ticker == "BONK");
  CHECK(px::NormalizeBase("kBONK").multiplier == 1000);
  CHECK(px::NormalizeBase("mSATS").multiplier == 1'000'000);
  CHECK(px::NormalizeBase("mSATS").ticker == "SATS");
  CHECK(px::NormalizeBase("BTC").multiplier == 1);
  CHECK(px::NormalizeBase("k").ticker == "k");
  CHECK(px::NormalizeBase("kb").ticker == "kb");  // lower-case after k: not a prefix
  CHECK(px::PerpSymbolForBase("kPEPE") == "kPEPE-USD-PERP");

  px::SymbolTable t;
  perpgw::Instrument bonk;
  bonk.venue_symbol = "kBONK-USD-PERP";
  bonk.symbol = "BONK";
  t.Add(bonk);
  CHECK(t.TickerFor("kBONK-USD-PERP") == "BONK");
  CHECK(t.VenueSymbolFor("BONK") == "kBONK-USD-PERP");
  CHECK(t.TickerFor("ETH-USD-PERP") == "ETH");
  CHECK(t.VenueSymbolFor("ETH") == "ETH-USD-PERP");
  CHECK(t.TickerFor("garbage") == "garbage");
}
