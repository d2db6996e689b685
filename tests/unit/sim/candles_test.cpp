// Candles at a base period (1 min, 1 s) and their roll-up, fixed and calendar (the venues' kline
// endpoints).
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

TEST_CASE("candles: one-second base period rolls up to seconds and minutes", "[sim][candles]") {
  CandleSeries s({CandleSeries::kSecondMs, 3600, CandleSeries::QuietPeriods::kCarryClose});
  const int64_t m0 = 1'700'000'100'000 / 60'000 * 60'000;  // a minute boundary
  s.OnPrice(m0 + 58'200, 100);
  s.OnPrice(m0 + 58'700, 104);
  s.OnTrade(m0 + 59'100, 102, 5, 510, /*taker_buy=*/true);
  s.OnPrice(m0 + 61'900, 99);  // two quiet seconds in between carry 102
  auto secs = s.Range(1'000, -1, m0 + 70'000, 100);
  REQUIRE(secs.size() == 4);
  CHECK(secs[0].open_ms == m0 + 58'000);
  CHECK(secs[0].open == 100);
  CHECK(secs[0].high == 104);
  CHECK(secs[0].close == 104);
  CHECK(secs[1].open_ms == m0 + 59'000);
  CHECK(secs[1].volume == 5);
  CHECK(secs[1].trades == 1);
  CHECK(secs[2].open_ms == m0 + 60'000);
  CHECK(secs[2].open == 102);
  CHECK(secs[2].volume == 0);
  CHECK(secs[3].open_ms == m0 + 61'000);
  CHECK(secs[3].close == 99);
  // Rolled up to minutes: [m0, m0+1m) and [m0+1m, ...).
  auto mins = s.Range(60'000, -1, m0 + 70'000, 100);
  REQUIRE(mins.size() == 2);
  CHECK(mins[0].open_ms == m0);
  CHECK(mins[0].open == 100);
  CHECK(mins[0].high == 104);
  CHECK(mins[0].close == 102);
  CHECK(mins[0].buy_quote_volume == 510);
  CHECK(mins[1].open == 102);
  CHECK(mins[1].low == 99);
  // 1500 ms is not a whole number of base periods.
  CHECK(s.Range(1'500, -1, m0 + 70'000, 10).empty());
  // The second base keeps `kept` periods.
  CandleSeries small({CandleSeries::kSecondMs, 3, CandleSeries::QuietPeriods::kCarryClose});
  for (int k = 0; k < 10; ++k) small.OnPrice(m0 + k * 1'000, 100 + k);
  auto kept = small.Range(1'000, -1, m0 + 20'000, 100);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].open_ms == m0 + 7'000);
}

TEST_CASE("candles: week buckets start Monday 00:00 UTC, month buckets on the 1st",
          "[sim][candles]") {
  // Buckets themselves.
  const CandleInterval w = CandleInterval::Week(), mo = CandleInterval::Month();
  const int64_t kDay = 86'400'000;
  // 2024-02-29 (a Thursday) 13:00 UTC = 1709211600000; its week starts Mon 2024-02-26.
  const int64_t thu = 1'709'211'600'000;
  CHECK(w.BucketStart(thu) == 1'708'905'600'000);  // 2024-02-26 00:00 UTC
  CHECK(w.BucketEnd(1'708'905'600'000) == 1'708'905'600'000 + 7 * kDay);
  CHECK(w.BucketStart(1'708'905'600'000) == 1'708'905'600'000);      // Monday midnight
  CHECK(w.BucketStart(1'708'905'600'000 - 1) == 1'708'905'600'000 - 7 * kDay);  // Sunday
  CHECK(mo.BucketStart(thu) == 1'706'745'600'000);  // 2024-02-01 00:00 UTC
  CHECK(mo.BucketEnd(1'706'745'600'000) == 1'709'251'200'000);  // 2024-03-01: 29 days (leap)
  CHECK(mo.BucketEnd(1'733'011'200'000) == 1'735'689'600'000);  // 2024-12-01 -> 2025-01-01
  CHECK(CandleInterval::Fixed(3 * kDay).BucketStart(thu) == thu / (3 * kDay) * (3 * kDay));

  // Roll-up over a month end, from a one-minute series (quiet minutes skipped: fewer minutes).
  CandleSeries s({CandleSeries::kMinuteMs, 100'000, CandleSeries::QuietPeriods::kSkip});
  const int64_t sat = 1'709'424'000'000 - 60'000;  // Saturday 2024-03-02 23:59 UTC
  s.OnPrice(thu, 50);                              // Thu 2024-02-29, week of 02-26, February
  s.OnTrade(1'709'251'200'000 - 60'000, 55, 1, 55, false);  // 2024-02-29 23:59, February
  s.OnPrice(1'709'251'200'000, 60);                // 2024-03-01 00:00, March, same week
  s.OnPrice(sat, 58);
  s.OnPrice(1'709'510'400'000, 70);                // Mon 2024-03-04 00:00: next week
  auto weeks = s.Range(w, -1, 1'709'510'400'000, 10);
  REQUIRE(weeks.size() == 2);
  CHECK(weeks[0].open_ms == 1'708'905'600'000);
  CHECK(weeks[0].open == 50);
  CHECK(weeks[0].high == 60);
  CHECK(weeks[0].close == 58);
  CHECK(weeks[0].volume == 1);
  CHECK(weeks[1].open_ms == 1'709'510'400'000);
  CHECK(weeks[1].open == 70);
  auto months = s.Range(mo, -1, 1'709'510'400'000, 10);
  REQUIRE(months.size() == 2);
  CHECK(months[0].open_ms == 1'706'745'600'000);
  CHECK(months[0].close == 55);
  CHECK(months[1].open_ms == 1'709'251'200'000);
  CHECK(months[1].open == 60);
  CHECK(months[1].close == 70);
  // From a start: buckets starting before it are left out; the earliest `limit` from it.
  auto march = s.Range(mo, 1'709'251'200'000, INT64_MAX, 10);
  REQUIRE(march.size() == 1);
  CHECK(march[0].open == 60);
  REQUIRE(s.Range(w, 0, INT64_MAX, 1).size() == 1);
  CHECK(s.Range(w, 0, INT64_MAX, 1)[0].open_ms == 1'708'905'600'000);
  // A base period that does not divide a day has no calendar roll-up.
  CandleSeries odd({7'000, 10, CandleSeries::QuietPeriods::kCarryClose});
  odd.OnPrice(thu, 1);
  CHECK(odd.Range(w, -1, INT64_MAX, 10).empty());
}

TEST_CASE("candles: quiet periods carry the close by default, or leave no candle",
          "[sim][candles]") {
  const int64_t m0 = 1'700'000'100'000 / 300'000 * 300'000;
  auto feed = [&](CandleSeries& s) {
    s.OnPrice(m0 + 5'000, 100);
    s.OnTrade(m0 + 3 * 60'000 + 1'000, 110, 2, 220, /*taker_buy=*/false);  // two quiet minutes
  };
  CandleSeries carry;  // the default: what SimContext::Candles does for Aster/Lighter/Paradex
  CHECK(carry.options().quiet == CandleSeries::QuietPeriods::kCarryClose);
  CandleSeries skip({CandleSeries::kMinuteMs, CandleSeries::kMinutesKept,
                     CandleSeries::QuietPeriods::kSkip});
  feed(carry);
  feed(skip);
  auto c = carry.Range(60'000, -1, m0 + 10 * 60'000, 100);
  REQUIRE(c.size() == 4);
  CHECK(c[1].open_ms == m0 + 60'000);
  CHECK(c[1].close == 100);
  CHECK(c[1].volume == 0);
  auto k = skip.Range(60'000, -1, m0 + 10 * 60'000, 100);
  REQUIRE(k.size() == 2);
  CHECK(k[0].open_ms == m0);
  CHECK(k[1].open_ms == m0 + 3 * 60'000);
  CHECK(k[1].open == 110);  // opens at its first print, not at the previous close
  CHECK(k[1].volume == 2);
  // A bucket with nothing in it is absent; a roll-up over the gap merges what there is.
  CHECK(skip.Range(60'000, m0 + 60'000, m0 + 60'000, 1).empty());
  auto five = skip.Range(300'000, -1, m0 + 10 * 60'000, 10);
  REQUIRE(five.size() == 1);
  CHECK(five[0].open == 100);
  CHECK(five[0].close == 110);
  CHECK(five[0].high == 110);
  CHECK(five[0].volume == 2);
  CHECK(five[0].quote_volume == 220);
}

}  // namespace perpgw::sim
