// One-minute candles and their roll-up (the venues' kline endpoints).
#include <catch2/catch.hpp>

#include "sim/core/candles.h"

namespace perpgw::sim {

TEST_CASE("candles: OHLC per minute, trades add volume, quiet minutes carry the close",
          "[sim][candles]") {
  CandleSeries s;
  const int64_t t0 = 1'700'000'140'000;  // 40 s into a minute (a 5-minute boundary + 40 s)
  const int64_t m0 = t0 - 40'000;
  CHECK(s.Range(60'000, -1, t0, 10).empty());
  s.OnPrice(t0, 1000);
  s.OnPrice(t0 + 1000, 1005);
  s.OnTrade(t0 + 2000, 998, 3, 2994, /*taker_buy=*/false);
  s.OnPrice(t0 + 3000, 1001);
  // Next minute, then three quiet ones, then a trade.
  s.OnPrice(m0 + 60'000, 1002);
  s.OnTrade(m0 + 5 * 60'000 + 10, 1010, 2, 2020, /*taker_buy=*/true);
  auto all = s.Range(60'000, -1, m0 + 10 * 60'000, 100);
  REQUIRE(all.size() == 6);
  CHECK(all[0].open_ms == m0);
  CHECK(all[0].open == 1000);
  CHECK(all[0].high == 1005);
  CHECK(all[0].low == 998);
  CHECK(all[0].close == 1001);
  CHECK(all[0].volume == 3);
  CHECK(all[0].trades == 1);
  CHECK(all[0].buy_volume == 0);
  CHECK(all[1].open == 1002);
  for (int k = 2; k <= 4; ++k) {  // flat, no volume
    CHECK(all[k].open == 1002);
    CHECK(all[k].close == 1002);
    CHECK(all[k].volume == 0);
  }
  CHECK(all[5].open == 1010);  // opens at its first print, as the venues do
  CHECK(all[5].high == 1010);
  CHECK(all[5].buy_volume == 2);
  CHECK(all[5].buy_quote_volume == 2020);

  // 5-minute roll-up: [m0, m0+5m) and [m0+5m, ...) (m0 is a multiple of 5 min here).
  REQUIRE(m0 % 300'000 == 0);
  auto five = s.Range(300'000, -1, m0 + 10 * 60'000, 100);
  REQUIRE(five.size() == 2);
  CHECK(five[0].open == 1000);
  CHECK(five[0].high == 1005);
  CHECK(five[0].low == 998);
  CHECK(five[0].close == 1002);
  CHECK(five[0].volume == 3);
  CHECK(five[1].volume == 2);
  // limit: latest when only the end bounds, earliest from a start.
  auto last2 = s.Range(60'000, -1, m0 + 10 * 60'000, 2);
  REQUIRE(last2.size() == 2);
  CHECK(last2[1].open_ms == m0 + 5 * 60'000);
  auto first2 = s.Range(60'000, m0 + 60'000, m0 + 10 * 60'000, 2);
  REQUIRE(first2.size() == 2);
  CHECK(first2[0].open_ms == m0 + 60'000);
  // Bad intervals answer nothing.
  CHECK(s.Range(90'000, -1, m0 + 10 * 60'000, 10).empty());
  CHECK(s.Range(0, -1, m0 + 10 * 60'000, 10).empty());
}

}  // namespace perpgw::sim
