#include "sim/core/candles.h"

#include <algorithm>
#include <chrono>

namespace perpgw::sim {

namespace {
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kWeekMs = 7 * kDayMs;
constexpr int64_t kMondayMs = 4 * kDayMs;  // 1970-01-05 00:00 UTC was a Monday

int64_t FloorTo(int64_t t, int64_t step) { return t - ((t % step) + step) % step; }

std::chrono::year_month_day DayOf(int64_t t_ms) {
  using namespace std::chrono;
  return year_month_day{floor<days>(sys_time<milliseconds>{milliseconds{t_ms}})};
}

int64_t MsOf(std::chrono::year_month_day d) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days{d}.time_since_epoch()).count();
}
}  // namespace

int64_t CandleInterval::BucketStart(int64_t t_ms) const {
  switch (kind) {
    case Kind::kWeek:
      return FloorTo(t_ms - kMondayMs, kWeekMs) + kMondayMs;
    case Kind::kMonth: {
      const std::chrono::year_month_day d = DayOf(t_ms);
      return MsOf(d.year() / d.month() / 1);
    }
    case Kind::kFixed:
      break;
  }
  return FloorTo(t_ms, ms);
}

int64_t CandleInterval::BucketEnd(int64_t start_ms) const {
  switch (kind) {
    case Kind::kWeek:
      return start_ms + kWeekMs;
    case Kind::kMonth: {
      const std::chrono::year_month_day d = DayOf(start_ms);
      return MsOf(d.year() / d.month() / 1 + std::chrono::months{1});
    }
    case Kind::kFixed:
      break;
  }
  return start_ms + ms;
}

Candle& CandleSeries::Base(int64_t t_ms, int64_t price_if_new) {
  const int64_t step = opt_.base_ms;
  const int64_t start = FloorTo(t_ms, step);
  if (!base_.empty() && start < base_.back().open_ms) {
    return base_.back();  // a clock step back: fold into the latest period
  }
  if (base_.empty() || start > base_.back().open_ms) {
    if (!base_.empty()) {
      const int64_t last_close = base_.back().close;
      if (opt_.quiet == QuietPeriods::kCarryClose) {
        // Quiet periods in between carry the previous close (bounded by what is kept).
        int64_t gap = (start - base_.back().open_ms) / step - 1;
        gap = std::min<int64_t>(gap, static_cast<int64_t>(opt_.kept));
        for (int64_t k = gap; k >= 1; --k) {
          Candle flat;
          flat.open_ms = start - k * step;
          flat.open = flat.high = flat.low = flat.close = last_close;
          base_.push_back(flat);
        }
      }
      price_if_new = price_if_new != 0 ? price_if_new : last_close;
    }
    Candle c;
    c.open_ms = start;
    c.open = c.high = c.low = c.close = price_if_new;
    base_.push_back(c);
    while (base_.size() > opt_.kept) base_.pop_front();
  }
  return base_.back();
}

void CandleSeries::OnPrice(int64_t t_ms, int64_t price) {
  if (price <= 0) return;
  Candle& c = Base(t_ms, price);
  c.high = std::max(c.high, price);
  c.low = std::min(c.low, price);
  c.close = price;
}

void CandleSeries::OnTrade(int64_t t_ms, int64_t price, int64_t qty, Money notional,
                           bool taker_buy) {
  if (price <= 0 || qty <= 0) return;
  OnPrice(t_ms, price);
  Candle& c = base_.back();
  c.volume += qty;
  c.quote_volume += notional;
  c.trades += 1;
  if (taker_buy) {
    c.buy_volume += qty;
    c.buy_quote_volume += notional;
  }
}

std::vector<Candle> CandleSeries::Range(const CandleInterval& interval, int64_t start_ms,
                                        int64_t end_ms, size_t limit) const {
  std::vector<Candle> out;
  if (base_.empty() || limit == 0) return out;
  if (interval.kind == CandleInterval::Kind::kFixed) {
    if (interval.ms <= 0 || interval.ms % opt_.base_ms != 0) return out;
  } else if (kDayMs % opt_.base_ms != 0) {
    return out;
  }
  // Periods are in time order: skip those that start before start_ms (their bucket does too).
  auto it = base_.begin();
  if (start_ms >= 0) {
    it = std::lower_bound(base_.begin(), base_.end(), start_ms,
                          [](const Candle& c, int64_t t) { return c.open_ms < t; });
  }
  int64_t bucket = 0, bucket_end = 0;  // the bucket of the latest period seen, [bucket, end)
  bool have_bucket = false;
  for (; it != base_.end(); ++it) {
    const Candle& m = *it;
    if (!have_bucket || m.open_ms < bucket || m.open_ms >= bucket_end) {
      bucket = interval.BucketStart(m.open_ms);
      bucket_end = interval.BucketEnd(bucket);
      have_bucket = true;
    }
    if (bucket > end_ms) break;
    if (start_ms >= 0 && bucket < start_ms) continue;
    if (out.empty() || out.back().open_ms != bucket) {
      if (start_ms >= 0 && out.size() == limit) break;  // the earliest `limit` are complete
      Candle c = m;
      c.open_ms = bucket;
      out.push_back(c);
      continue;
    }
    Candle& c = out.back();
    c.high = std::max(c.high, m.high);
    c.low = std::min(c.low, m.low);
    c.close = m.close;
    c.volume += m.volume;
    c.buy_volume += m.buy_volume;
    c.quote_volume += m.quote_volume;
    c.buy_quote_volume += m.buy_quote_volume;
    c.trades += m.trades;
  }
  if (out.size() > limit) {
    if (start_ms >= 0) {
      out.resize(limit);
    } else {
      out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    }
  }
  return out;
}

}  // namespace perpgw::sim
