// wire::InstrumentIndex: lookups by venue symbol and ticker, replace in place, stable pointers.
#include <catch2/catch.hpp>

#include "adapters/wire/instrument_index.h"

#include <algorithm>
#include <string>
#include <vector>

using perpgw::Instrument;
using perpgw::wire::InstrumentIndex;

namespace {
Instrument Make(std::string venue_symbol, std::string ticker, int price_scale = 2) {
  Instrument i;
  i.venue_symbol = std::move(venue_symbol);
  i.symbol = std::move(ticker);
  i.price_scale = price_scale;
  return i;
}
}  // namespace

TEST_CASE("instrument index: both lookups, unknown is null", "[wire][index]") {
  InstrumentIndex idx({Make("BTCUSDT", "BTC"), Make("ETHUSDT", "ETH")});
  REQUIRE(idx.size() == 2);
  REQUIRE(idx.ByVenueSymbol("BTCUSDT") != nullptr);
  CHECK(idx.ByVenueSymbol("BTCUSDT")->symbol == "BTC");
  CHECK(idx.ByTicker("ETH")->venue_symbol == "ETHUSDT");
  CHECK(idx.ByVenueSymbol("SOLUSDT") == nullptr);
  CHECK(idx.ByTicker("BTCUSDT") == nullptr);
}

TEST_CASE("instrument index: Add replaces by venue symbol and moves its ticker", "[wire][index]") {
  InstrumentIndex idx;
  idx.Add(Make("kPEPE_USDC_PERP", "PEPE"));
  const Instrument* before = idx.ByVenueSymbol("kPEPE_USDC_PERP");
  for (int i = 0; i < 1000; ++i) idx.Add(Make("S" + std::to_string(i), "T" + std::to_string(i)));
  // Entries never move while others are added (adapters hold pointers within a callback).
  CHECK(idx.ByVenueSymbol("kPEPE_USDC_PERP") == before);
  idx.Add(Make("kPEPE_USDC_PERP", "kPEPE", 8));
  CHECK(idx.size() == 1001);
  CHECK(idx.ByVenueSymbol("kPEPE_USDC_PERP") == before);
  CHECK(before->price_scale == 8);
  CHECK(idx.ByTicker("PEPE") == nullptr);
  CHECK(idx.ByTicker("kPEPE") == before);
}

TEST_CASE("instrument index: copies are deep, moves keep entries", "[wire][index]") {
  InstrumentIndex a({Make("BTCUSDT", "BTC")});
  InstrumentIndex b = a;
  b.Add(Make("BTCUSDT", "XBT"));
  CHECK(a.ByTicker("BTC") != nullptr);
  CHECK(b.ByTicker("BTC") == nullptr);
  CHECK(b.ByTicker("XBT") != b.ByTicker("nothing"));
  const Instrument* p = a.ByVenueSymbol("BTCUSDT");
  InstrumentIndex c = std::move(a);
  CHECK(c.ByVenueSymbol("BTCUSDT") == p);
  c.Reset({});
  CHECK(c.size() == 0);
  CHECK(c.ByTicker("BTC") == nullptr);
}

TEST_CASE("instrument index: every venue symbol is found through growth, others are not",
          "[wire][index]") {
  // Keys of every length around the hash's 8-byte words, and keys that differ only in one
  // byte in the middle or at the end.
  InstrumentIndex idx;
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    std::string k = std::string(static_cast<size_t>(i % 25), 'A') + std::to_string(i);
    if (i % 3 == 0) k = "BTC_" + std::to_string(i) + "_USDC_PERP";
    keys.push_back(k);
    idx.Add(Make(k, "T" + std::to_string(i)));
    if (i % 500 == 0) {
      for (int j = 0; j <= i; ++j)
        REQUIRE(idx.ByVenueSymbol(keys[static_cast<size_t>(j)]) != nullptr);
    }
  }
  REQUIRE(idx.size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const Instrument* p = idx.ByVenueSymbol(keys[i]);
    REQUIRE(p != nullptr);
    CHECK(p->symbol == "T" + std::to_string(i));
    CHECK(idx.ByVenueSymbol(keys[i] + "X") == nullptr);
    const std::string shorter = keys[i].substr(0, keys[i].size() - 1);
    const Instrument* q = idx.ByVenueSymbol(shorter);
    CHECK((q == nullptr ? "" : q->venue_symbol) ==
          (std::find(keys.begin(), keys.end(), shorter) == keys.end() ? "" : shorter));
  }
  CHECK(idx.ByVenueSymbol("") == nullptr);
  InstrumentIndex copy = idx;
  CHECK(copy.ByVenueSymbol(keys[1234])->symbol == "T1234");
  CHECK(copy.ByVenueSymbol(keys[1234]) != idx.ByVenueSymbol(keys[1234]));
}
