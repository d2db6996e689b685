// Market generator: per-symbol random-walk mid and a ground-truth L2 book around it, deterministic
// under a seed; publishes each change (levels + update id) to one listener.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "adapters/api/clock.h"
#include "adapters/api/order_book.h"
#include "sim/core/types.h"

namespace perpgw::sim {

// Small, fast and identical on every platform (std distributions are not): xoshiro256**.
class Prng {
 public:
  explicit Prng(uint64_t seed);
  uint64_t Next();
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }  // [0, n)

 private:
  uint64_t s_[4];
};

struct MarketOptions {
  uint64_t seed = 1;
  int depth = 20;          // levels per side, one tick apart, around a 2-tick spread
  int move_per_mille = 125;  // chance (in 1/1000) that an update moves the mid by one tick
};

class Market {
 public:
  using Listener = std::function<void(const BookChange&)>;

  // Instruments must be resolved with index == position in the vector.
  Market(std::vector<SimInstrument> instruments, MarketOptions options, const Clock& clock);

  void SetListener(Listener l) { listener_ = std::move(l); }
  const std::vector<SimInstrument>& instruments() const { return instruments_; }
  const SimInstrument* Find(std::string_view symbol) const;
  const SimInstrument& instrument(size_t i) const { return instruments_[i]; }
  size_t size() const { return instruments_.size(); }
  int depth() const { return options_.depth; }

  // Ground truth.
  const OrderBook& book(size_t i) const { return symbols_[i].book; }
  uint64_t update_id(size_t i) const { return symbols_[i].update_id; }
  int64_t mid(size_t i) const { return symbols_[i].mid_ticks * instruments_[i].tick; }
  int64_t mark_price(size_t i) const { return mid(i); }
  int64_t funding_rate(size_t i) const { return symbols_[i].funding_rate; }
  void set_funding_rate(size_t i, int64_t rate) { symbols_[i].funding_rate = rate; }
  uint64_t updates_published() const { return published_; }

  // `n` random updates, each on a symbol drawn from the PRNG (deterministic under the seed).
  void Step(size_t n);
  // One random update on symbol i.
  void StepSymbol(size_t i);
  // Moves the mid (rounded to tick, kept >= depth + 2 ticks) and re-centres the book in one change.
  void SetMid(size_t i, int64_t price);
  // The next change on symbol i skips one update id (its prev_update_id is the skipped id).
  void SkipNextUpdateId(size_t i) { symbols_[i].skip_next = true; }

  // Liquidity taken by a user order: reduces a level now; FlushTrades publishes one change.
  void Consume(size_t i, BookSide side, int64_t price, int64_t qty);
  void FlushTrades(size_t i);

  // Re-creates the book around the current mid without publishing (initial state).
  void Reset(size_t i);
  // Scenario/test hook: replaces symbol i's book and mid (price mantissas) without publishing.
  // The next generated updates continue from it.
  void ReplaceBook(size_t i, std::span<const Level> bids, std::span<const Level> asks,
                   int64_t mid_price);

 private:
  struct SymbolState {
    OrderBook book;
    int64_t mid_ticks = 0;
    uint64_t update_id = 0;
    bool skip_next = false;
    int64_t funding_rate = 0;
    std::vector<LevelChange> pending_trades;
  };

  int64_t RandomSize(const SimInstrument& in, int64_t distance_ticks);
  void Change(size_t i, BookSide side, int64_t price, int64_t size);  // apply + record
  void Recentre(size_t i, int64_t new_mid_ticks);
  void Publish(size_t i, bool from_trade);

  std::vector<SimInstrument> instruments_;
  MarketOptions options_;
  const Clock& clock_;
  Prng rng_;
  std::vector<SymbolState> symbols_;
  Listener listener_;
  BookChange scratch_;
  uint64_t published_ = 0;
};

}  // namespace perpgw::sim
