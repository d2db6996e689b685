// Aster symbol normalization: multiplier prefixes, ticker assignment, encodings, lookups.
#include <catch2/catch.hpp>

#include "adapters/aster/symbols.h"

namespace perpgw::adapters::aster {
namespace {

Instrument Make(std::string venue_symbol, std::string base, std::string quote,
                bool tradeable = true) {
  Instrument i;
  i.venue_symbol = std::move(venue_symbol);
  i.base = std::move(base);
  i.quote = std::move(quote);
  i.tradeable = tradeable;
  i.quantity_multiplier = NormalizeBaseAsset(i.base).multiplier;
  return i;
}

TEST_CASE("multiplier prefixes come from an explicit table", "[aster][symbols]") {
  struct Case {
    const char* base;
    const char* ticker;
    int64_t mult;
  } cases[] = {
      {"1000PEPE", "PEPE", 1000},     {"1000SHIB", "SHIB", 1000},   {"1000BONK", "BONK", 1000},
      {"1000CHEEMS", "CHEEMS", 1000}, {"1000LUNC", "LUNC", 1000},   {"1MBABYDOGE", "BABYDOGE", 1000000},
      {"1000000MOG", "MOG", 1000000}, {"1INCH", "1INCH", 1},        {"0G", "0G", 1},
      {"2Z", "2Z", 1},                {"4", "4", 1},                {"42", "42", 1},
      {"BTC", "BTC", 1},              {"1000", "1000", 1},          {"1M", "1M", 1},
      {"1000X2", "1000X2", 1},        {"币安人生", "币安人生", 1},   {"1000币安", "1000币安", 1},
  };
  for (const Case& c : cases) {
    INFO(c.base);
    BaseTicker t = NormalizeBaseAsset(c.base);
    CHECK(t.ticker == c.ticker);
    CHECK(t.multiplier == c.mult);
  }
}

TEST_CASE("percent-encoding covers non-ASCII symbols", "[aster][symbols]") {
  CHECK(PercentEncode("BTCUSDT") == "BTCUSDT");
  CHECK(PercentEncode("币安人生USDT") == "%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT");
  CHECK(PercentEncode("a b&c=d/e") == "a%20b%26c%3Dd%2Fe");
  CHECK(PercentEncode("-._~") == "-._~");
  CHECK(PercentDecode("%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT").value() == "币安人生USDT");
  CHECK(!PercentDecode("%E").ok());
  CHECK(!PercentDecode("%").ok());
  CHECK(!PercentDecode("%ZZ").ok());
}

TEST_CASE("stream symbols are ASCII lower-case only", "[aster][symbols]") {
  CHECK(StreamSymbol("BTCUSDT") == "btcusdt");
  CHECK(StreamSymbol("1000PEPEUSDT") == "1000pepeusdt");
  CHECK(StreamSymbol("币安人生USDT") == "币安人生usdt");
}

TEST_CASE("AssignTickers resolves collisions deterministically", "[aster][symbols]") {
  std::vector<Instrument> v = {
      Make("BTCU", "BTC", "U"),           Make("BTCUSD1", "BTC", "USD1"),
      Make("BTCUSDT", "BTC", "USDT"),     Make("1000PEPEUSDT", "1000PEPE", "USDT"),
      Make("PEPEUSDT", "PEPE", "USDT"),   Make("GNSUSD", "GNS", "USD"),
      Make("ETHUSDT", "ETH", "USDT", false), Make("ETHUSD1", "ETH", "USD1"),
      Make("币安人生USDT", "币安人生", "USDT"),
  };
  AssignTickers(&v);
  auto ticker = [&](const std::string& vs) {
    for (const Instrument& i : v) {
      if (i.venue_symbol == vs) return i.symbol;
    }
    return std::string("?");
  };
  CHECK(ticker("BTCUSDT") == "BTC");
  CHECK(ticker("BTCUSD1") == "BTC-USD1");
  CHECK(ticker("BTCU") == "BTC-U");
  CHECK(ticker("PEPEUSDT") == "PEPE");
  CHECK(ticker("1000PEPEUSDT") == "1000PEPE");
  CHECK(ticker("GNSUSD") == "GNS");
  CHECK(ticker("ETHUSD1") == "ETH");       // the tradeable one wins
  CHECK(ticker("ETHUSDT") == "ETH-USDT");
  CHECK(ticker("币安人生USDT") == "币安人生");

  std::map<std::string, std::string, std::less<>> overrides = {{"BTCU", "BTC"}};
  AssignTickers(&v, overrides);
  CHECK(ticker("BTCU") == "BTC");
  CHECK(ticker("BTCUSDT") == "BTC-USDT");
}

TEST_CASE("SymbolMap lookups", "[aster][symbols]") {
  std::vector<Instrument> v = {Make("1000PEPEUSDT", "1000PEPE", "USDT"),
                               Make("BTCUSDT", "BTC", "USDT")};
  AssignTickers(&v);
  SymbolMap m(v);
  CHECK(m.size() == 2);
  REQUIRE(m.ByVenueSymbol("1000PEPEUSDT") != nullptr);
  CHECK(m.ByVenueSymbol("1000PEPEUSDT")->symbol == "PEPE");
  CHECK(m.ByTicker("PEPE")->venue_symbol == "1000PEPEUSDT");
  CHECK(m.ByTicker("DOGE") == nullptr);
  CHECK(m.ToTicker("BTCUSDT") == "BTC");
  CHECK(m.ToTicker("NEWUSDT") == "NEWUSDT");  // unknown: verbatim
  Instrument again = *m.ByVenueSymbol("BTCUSDT");
  again.symbol = "XBT";
  m.Add(again);
  CHECK(m.size() == 2);
  CHECK(m.ByTicker("XBT") != nullptr);
  CHECK(m.ByTicker("BTC") == nullptr);
}

}  // namespace
}  // namespace perpgw::adapters::aster
