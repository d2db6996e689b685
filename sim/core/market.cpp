// Market generator implementation: random walk + level churn on the ground-truth book.
#include "sim/core/market.h"

#include <algorithm>

namespace perpgw::sim {
namespace {

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Prng::Prng(uint64_t seed) {
  for (auto& s : s_) s = SplitMix(seed);
}

uint64_t Prng::Next() {
  uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

Market::Market(std::vector<SimInstrument> instruments, MarketOptions options, const Clock& clock)
    : instruments_(std::move(instruments)),
      options_(options),
      clock_(clock),
      rng_(options.seed) {
  options_.depth = std::max(1, options_.depth);
  symbols_.resize(instruments_.size());
  for (size_t i = 0; i < instruments_.size(); ++i) {
    instruments_[i].index = i;
    auto& s = symbols_[i];
    s.book = OrderBook(instruments_[i].price_scale, instruments_[i].size_scale);
    s.mid_ticks = std::max<int64_t>(instruments_[i].initial_mid / instruments_[i].tick,
                                    options_.depth + 2);
    s.funding_rate = instruments_[i].funding_rate;
    Reset(i);
  }
  scratch_.changes.reserve(4 * options_.depth + 16);
}

const SimInstrument* Market::Find(std::string_view symbol) const {
  for (const auto& in : instruments_) {
    if (in.spec.symbol == symbol) return &in;
  }
  return nullptr;
}

int64_t Market::RandomSize(const SimInstrument& in, int64_t distance_ticks) {
  int64_t base_lots = std::max<int64_t>(1, in.min_qty / std::max<int64_t>(1, in.step));
  int64_t lots = base_lots * static_cast<int64_t>(1 + rng_.Below(40)) * (4 + distance_ticks) / 4;
  return lots * in.step;
}

void Market::Reset(size_t i) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  std::vector<Level> bids, asks;
  for (int64_t d = 1; d <= options_.depth; ++d) {
    bids.push_back({(s.mid_ticks - d) * in.tick, RandomSize(in, d)});
    asks.push_back({(s.mid_ticks + d) * in.tick, RandomSize(in, d)});
  }
  s.book.ReplaceAll(bids, asks);
}

void Market::ReplaceBook(size_t i, std::span<const Level> bids, std::span<const Level> asks,
                         int64_t mid_price) {
  symbols_[i].mid_ticks = mid_price / instruments_[i].tick;
  symbols_[i].book.ReplaceAll(bids, asks);
}

void Market::Change(size_t i, BookSide side, int64_t price, int64_t size) {
  symbols_[i].book.Apply(side, {price, size});
  for (auto& c : scratch_.changes) {
    if (c.side == side && c.level.price == price) {
      c.level.size = size;
      return;
    }
  }
  scratch_.changes.push_back({side, {price, size}});
}

void Market::Recentre(size_t i, int64_t m) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  const int64_t depth = options_.depth;
  s.mid_ticks = m;
  // Drop levels outside the new windows, then fill every missing slot inside them.
  for (auto side : {BookSide::kBid, BookSide::kAsk}) {
    std::vector<Level> levels =
        side == BookSide::kBid ? s.book.Bids() : s.book.Asks();
    int64_t lo = side == BookSide::kBid ? m - depth : m + 1;
    int64_t hi = side == BookSide::kBid ? m - 1 : m + depth;
    std::vector<int64_t> present;
    for (const auto& l : levels) {
      int64_t t = l.price / in.tick;
      if (t < lo || t > hi || l.price % in.tick != 0) {
        Change(i, side, l.price, 0);
      } else {
        present.push_back(t);
      }
    }
    for (int64_t t = lo; t <= hi; ++t) {
      if (std::find(present.begin(), present.end(), t) == present.end()) {
        Change(i, side, t * in.tick, RandomSize(in, side == BookSide::kBid ? m - t : t - m));
      }
    }
  }
}

void Market::Publish(size_t i, bool from_trade) {
  auto& s = symbols_[i];
  if (scratch_.changes.empty()) return;
  scratch_.instrument = &instruments_[i];
  scratch_.prev_update_id = s.update_id;
  if (s.skip_next) {
    // The skipped id is "published" nowhere: prev-link venues see prev != last id seen.
    scratch_.prev_update_id = ++s.update_id;
    s.skip_next = false;
  }
  scratch_.update_id = scratch_.first_update_id = ++s.update_id;
  scratch_.time = clock_.Now();
  scratch_.from_trade = from_trade;
  ++published_;
  if (listener_) listener_(scratch_);
  scratch_.changes.clear();
}

void Market::Step(size_t n) {
  if (instruments_.empty()) return;
  for (size_t k = 0; k < n; ++k) StepSymbol(rng_.Below(instruments_.size()));
}

void Market::StepSymbol(size_t i) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  const int64_t depth = options_.depth;
  scratch_.changes.clear();
  if (static_cast<int>(rng_.Below(1000)) < options_.move_per_mille) {
    int64_t m = s.mid_ticks + (rng_.Below(2) == 0 ? -1 : 1);
    Recentre(i, std::max<int64_t>(m, depth + 2));
  } else {
    int n = 1 + static_cast<int>(rng_.Below(10));
    for (int c = 0; c < n; ++c) {
      BookSide side = rng_.Below(2) == 0 ? BookSide::kBid : BookSide::kAsk;
      // Churn concentrates near the top of the book, like real flow.
      int64_t d = 1 + static_cast<int64_t>(std::min(rng_.Below(depth), rng_.Below(depth)));
      int64_t t = side == BookSide::kBid ? s.mid_ticks - d : s.mid_ticks + d;
      bool remove = rng_.Below(10) == 0 && d > 1;
      Change(i, side, t * in.tick, remove ? 0 : RandomSize(in, d));
    }
  }
  Publish(i, false);
}

void Market::SetMid(size_t i, int64_t price) {
  const auto& in = instruments_[i];
  int64_t t = (price + in.tick / 2) / in.tick;
  scratch_.changes.clear();
  Recentre(i, std::max<int64_t>(t, options_.depth + 2));
  Publish(i, false);
}

void Market::Consume(size_t i, BookSide side, int64_t price, int64_t qty) {
  auto& s = symbols_[i];
  const auto& levels = side == BookSide::kBid ? s.book.Bids() : s.book.Asks();
  for (const auto& l : levels) {
    if (l.price != price) continue;
    int64_t left = std::max<int64_t>(0, l.size - qty);
    s.book.Apply(side, {price, left});
    for (auto& c : s.pending_trades) {
      if (c.side == side && c.level.price == price) {
        c.level.size = left;
        return;
      }
    }
    s.pending_trades.push_back({side, {price, left}});
    return;
  }
}

void Market::FlushTrades(size_t i) {
  auto& s = symbols_[i];
  if (s.pending_trades.empty()) return;
  scratch_.changes.swap(s.pending_trades);
  s.pending_trades.clear();
  Publish(i, true);
}

}  // namespace perpgw::sim
