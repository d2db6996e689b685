#include "sim/core/candles.h"

#include <algorithm>

namespace perpgw::sim {

namespace {
int64_t FloorTo(int64_t t, int64_t step) { return t - ((t % step) + step) % step; }
}  // namespace

Candle& CandleSeries::Minute(int64_t t_ms, int64_t price_if_new) {
  const int64_t start = FloorTo(t_ms, kMinuteMs);
  if (!minutes_.empty() && start < minutes_.back().open_ms) {
    return minutes_.back();  // a clock step back: fold into the latest minute
  }
  if (minutes_.empty() || start > minutes_.back().open_ms) {
    // Quiet minutes in between carry the previous close (bounded by what is kept).
    if (!minutes_.empty()) {
      const int64_t last_close = minutes_.back().close;
      int64_t gap = (start - minutes_.back().open_ms) / kMinuteMs - 1;
      gap = std::min<int64_t>(gap, static_cast<int64_t>(kMinutesKept));
      for (int64_t k = gap; k >= 1; --k) {
        Candle flat;
        flat.open_ms = start - k * kMinuteMs;
        flat.open = flat.high = flat.low = flat.close = last_close;
        minutes_.push_back(flat);
      }
      price_if_new = price_if_new != 0 ? price_if_new : last_close;
    }
    Candle c;
    c.open_ms = start;
    c.open = c.high = c.low = c.close = price_if_new;
    minutes_.push_back(c);
    while (minutes_.size() > kMinutesKept) minutes_.pop_front();
  }
  return minutes_.back();
}

void CandleSeries::OnPrice(int64_t t_ms, int64_t price) {
  if (price <= 0) return;
  Candle& c = Minute(t_ms, price);
  c.high = std::max(c.high, price);
  c.low = std::min(c.low, price);
  c.close = price;
}

void CandleSeries::OnTrade(int64_t t_ms, int64_t price, int64_t qty, Money notional,
                           bool taker_buy) {
  if (price <= 0 || qty <= 0) return;
  OnPrice(t_ms, price);
  Candle& c = minutes_.back();
  c.volume += qty;
  c.quote_volume += notional;
  c.trades += 1;
  if (taker_buy) {
    c.buy_volume += qty;
    c.buy_quote_volume += notional;
  }
}

std::vector<Candle> CandleSeries::Range(int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                                        size_t limit) const {
  std::vector<Candle> out;
  if (minutes_.empty() || interval_ms <= 0 || interval_ms % kMinuteMs != 0 || limit == 0) {
    return out;
  }
  for (const Candle& m : minutes_) {
    const int64_t bucket = FloorTo(m.open_ms, interval_ms);
    if (bucket > end_ms) break;
    if (start_ms >= 0 && bucket < start_ms) continue;
    if (out.empty() || out.back().open_ms != bucket) {
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
