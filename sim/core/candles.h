// OHLCV candles of one market at a base period (one minute by default, or one second), built
// from the generated mid (every book change) and from public trades (volume, trade count,
// taker-buy volume), and rolled up to any interval that is a whole number of base periods or to
// calendar buckets (ISO weeks from Monday 00:00 UTC, calendar months). Venues' kline/candle
// endpoints format them. Pure data: the time comes from the caller.
//
// Quiet periods (a base period with no observation) are a per-series option because the venues
// differ: by default they carry the previous close (a flat candle, no volume), as the Aster,
// Lighter and Paradex modules show quiet minutes (SimContext::Candles); with QuietPeriods::kSkip
// no candle exists for them (Backpack; the reading is argued in sim/backpack/module.h).
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

// A roll-up interval: a fixed length aligned to the epoch, or a calendar bucket.
struct CandleInterval {
  enum class Kind { kFixed, kWeek, kMonth };
  Kind kind = Kind::kFixed;
  int64_t ms = 0;  // kFixed only: the length

  static CandleInterval Fixed(int64_t ms) { return {Kind::kFixed, ms}; }
  static CandleInterval Week() { return {Kind::kWeek, 0}; }    // Monday 00:00 UTC
  static CandleInterval Month() { return {Kind::kMonth, 0}; }  // the 1st, 00:00 UTC

  // Start of the bucket holding t_ms, and the start of the next bucket (the end, exclusive).
  int64_t BucketStart(int64_t t_ms) const;
  int64_t BucketEnd(int64_t start_ms) const;
};

class CandleSeries {
 public:
  static constexpr int64_t kSecondMs = 1'000;
  static constexpr int64_t kMinuteMs = 60'000;
  static constexpr size_t kMinutesKept = 7 * 24 * 60;  // a week of one-minute candles

  enum class QuietPeriods {
    kCarryClose,  // a flat candle at the previous close, no volume
    kSkip,        // no candle
  };
  struct Options {
    int64_t base_ms = kMinuteMs;  // a positive divisor of one minute (1 s, 1 min)
    size_t kept = kMinutesKept;   // base candles kept (the oldest go first)
    QuietPeriods quiet = QuietPeriods::kCarryClose;
  };

  CandleSeries() = default;
  explicit CandleSeries(Options options) : opt_(options) {}

  // A price observation (the mid) at time t_ms.
  void OnPrice(int64_t t_ms, int64_t price);
  // A public trade at time t_ms.
  void OnTrade(int64_t t_ms, int64_t price, int64_t qty, Money notional, bool taker_buy);

  // Candles of `interval` whose start lies in [start_ms, end_ms], oldest first, at most `limit`
  // of them: the latest ones when only the end bounds the range (start_ms < 0), the earliest
  // from start_ms otherwise. The current interval is included (still open). Empty before the
  // first observation, and for a fixed interval that is not a positive multiple of the base
  // period (calendar buckets need a base that divides a day: 1 s or 1 min).
  std::vector<Candle> Range(const CandleInterval& interval, int64_t start_ms, int64_t end_ms,
                            size_t limit) const;
  std::vector<Candle> Range(int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                            size_t limit) const {
    return Range(CandleInterval::Fixed(interval_ms), start_ms, end_ms, limit);
  }

  bool empty() const { return base_.empty(); }
  const Options& options() const { return opt_; }

 private:
  Candle& Base(int64_t t_ms, int64_t price_if_new);
  Options opt_;
  std::deque<Candle> base_;  // base periods, oldest first (consecutive when carrying the close)
};

}  // namespace perpgw::sim
