// Funding normalization to 8 h / 1 h / APR from the venue's own interval.
#include <catch2/catch.hpp>

#include "adapters/api/types.h"

using namespace perpgw;

TEST_CASE("funding normalizes by the reported interval", "[funding]") {
  Funding f;
  f.rate = *Decimal::Parse("0.0001");
  f.interval_hours = Decimal::FromInt(1);
  REQUIRE(NormalizeFunding(&f).ok());
  CHECK(f.rate_8h.ToNormalizedString() == "0.0008");
  CHECK(f.rate_1h.ToNormalizedString() == "0.0001");
  CHECK(f.apr.ToNormalizedString() == "0.876");
  f.interval_hours = Decimal::FromInt(4);
  REQUIRE(NormalizeFunding(&f).ok());
  CHECK(f.rate_8h.ToNormalizedString() == "0.0002");
  f.interval_hours = Decimal::FromInt(8);
  f.rate = *Decimal::Parse("-0.000375");
  REQUIRE(NormalizeFunding(&f).ok());
  CHECK(f.rate_8h.ToNormalizedString() == "-0.000375");
  f.interval_hours = Decimal();
  CHECK_FALSE(NormalizeFunding(&f).ok());
}

TEST_CASE("unified symbol: BASE/QUOTE:SETTLE, base as the venue names it", "[symbols]") {
  perpgw::Instrument in;
  in.symbol = "PEPE";
  in.base = "1000PEPE";
  in.quote = "USDT";
  CHECK(perpgw::UnifiedSymbol(in) == "1000PEPE/USDT:USDT");
  in.symbol = "BTC";
  in.base = "BTC";
  in.quote = "USD";
  in.settle = "USDC";  // Paradex: quoted in USD, settled in USDC
  CHECK(perpgw::UnifiedSymbol(in) == "BTC/USD:USDC");
  in.base.clear();
  CHECK(perpgw::UnifiedSymbol(in) == "BTC/USD:USDC");
}
