// One-minute OHLCV candles of one market, built from the generated mid (every book change) and
// from public trades (volume, trade count, taker-buy volume), and rolled up to any interval that
// is a whole number of minutes. Venues' kline/candle endpoints format them. Pure data: the time
// comes from the caller. Minutes with no change carry the previous close (a flat candle, no
// volume), as the venues' kline endpoints show quiet minutes.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sim/core/types.h"

namespace perpgw::sim {

struct Candle {
  int64_t open_ms = 0;  // start of the interval (ms since the epoch)
  int64_t open = 0, high = 0, low = 0, close = 0;  // price mantissas at the instrument's scale
  int64_t volume = 0;        // base size mantissa traded
  int64_t buy_volume = 0;    // of which bought by takers
  Money quote_volume = 0;    // notional traded (kMoneyScale)
  Money buy_quote_volume = 0;
  int64_t trades = 0;
};

class CandleSeries {
 public:
  static constexpr int64_t kMinuteMs = 60'000;
  static constexpr size_t kMinutesKept = 7 * 24 * 60;  // a week of one-minute candles

  // A price observation (the mid) at time t_ms.
  void OnPrice(int64_t t_ms, int64_t price);
  // A public trade at time t_ms.
  void OnTrade(int64_t t_ms, int64_t price, int64_t qty, Money notional, bool taker_buy);

  // Candles of `interval_ms` (a positive multiple of one minute) whose start lies in
  // [start_ms, end_ms], oldest first, at most `limit` of them: the latest ones when only the end
  // bounds the range (start_ms < 0), the earliest from start_ms otherwise. The current interval
  // is included (still open). Empty before the first observation.
  std::vector<Candle> Range(int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                            size_t limit) const;

  bool empty() const { return minutes_.empty(); }

 private:
  Candle& Minute(int64_t t_ms, int64_t price_if_new);
  std::deque<Candle> minutes_;  // consecutive minutes, oldest first
};

}  // namespace perpgw::sim
