// Market generator: per-symbol random-walk mid and a ground-truth L2 book around it, deterministic
// under a seed; publishes each change (levels + update id) to one listener.
//
// With a ReferenceMarket installed (perpgw-sim --shared-reference), every Market of the process
// follows one reference price per asset instead of its own walk: mid = reference x multiplier x
// (1 + the venue's slowly drifting basis of a few bps), a per-venue spread, and a funding rate per
// venue and asset that differs between venues and drifts (see ReferenceMarket).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
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

// One reference price per asset (per token: "1000PEPE" and "kPEPE" are both PEPE, priced per
// unit / multiplier), shared by every venue of a perpgw-sim process: a mean-reverting random walk
// in log price on a 1 s grid counted from the first time the reference is read, each step drawn
// from (seed, asset, step index), so the path is a function of the seed and the time since start.
// The first instrument that registers an asset sets its start price. Thread-safe.
class ReferenceMarket {
 public:
  static constexpr UnixNanos kStepNs = 1'000'000'000;

  explicit ReferenceMarket(uint64_t seed);
  uint64_t seed() const { return seed_; }

  // The asset an instrument tracks and how many tokens one unit is: BTC -> ("BTC", 1),
  // 1000PEPE / kPEPE with multiplier 1000 -> ("PEPE", 1000).
  static std::string AssetOf(const InstrumentSpec& spec);
  // Registers the asset (first call anchors it at start_per_token) and returns its id.
  size_t Register(const std::string& asset, double start_per_token);
  // Price per token at time t (the start price before the first read's time).
  double Price(size_t asset, UnixNanos t);
  std::string asset_name(size_t asset) const;
  size_t asset_count() const;

 private:
  struct Asset {
    std::string name;
    uint64_t key = 0;
    double start = 0;
    double sigma = 0;   // per step, in log price
    double x = 0;       // log(price / start) at step `step`
    int64_t step = 0;
  };
  const uint64_t seed_;
  mutable std::mutex mu_;
  bool has_origin_ = false;
  UnixNanos origin_ = 0;
  std::vector<Asset> assets_;
};

// Process-wide: Markets constructed while a reference is installed follow it (perpgw-sim's main
// installs one for --shared-reference); nullptr uninstalls. Markets keep the one they started with.
void InstallReferenceMarket(std::shared_ptr<ReferenceMarket> reference);
std::shared_ptr<ReferenceMarket> InstalledReferenceMarket();

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
  // Per the instrument's funding interval, at kRateScale. Following a reference: the venue's
  // drifting rate now, until set_funding_rate pins it.
  int64_t funding_rate(size_t i) const;
  void set_funding_rate(size_t i, int64_t rate) {
    symbols_[i].funding_rate = rate;
    symbols_[i].funding_pinned = true;
  }
  // Shared reference (nullptr: this market walks on its own).
  const ReferenceMarket* reference() const { return reference_.get(); }
  // Whether symbol i follows the reference (SetMid / ReplaceBook take it off, for good).
  bool follows_reference(size_t i) const { return reference_ && !symbols_[i].detached; }
  // The reference for symbol i now, per instrument unit, as a price (0 without a reference).
  double reference_price(size_t i) const;
  // The venue's basis over the reference now, and its target mid (reference x (1 + basis)).
  double basis_bps(size_t i) const;
  double target_mid(size_t i) const;
  // Half the quoted spread, in ticks (1 = the best bid and ask one tick either side of the mid).
  int64_t half_spread_ticks(size_t i) const { return symbols_[i].half_spread; }
  uint64_t updates_published() const { return published_; }

  // `n` random updates, each on a symbol drawn from the PRNG (deterministic under the seed).
  void Step(size_t n);
  // One random update on symbol i.
  void StepSymbol(size_t i);
  // Moves the mid (rounded to tick, kept >= depth + 2 ticks) and re-centres the book in one change.
  // A symbol following the reference leaves it and walks on its own from there.
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
    bool funding_pinned = false;
    std::vector<LevelChange> pending_trades;
    // Following a reference.
    int64_t half_spread = 1;  // ticks
    bool detached = false;
    size_t asset = 0;
    uint64_t key = 0;         // per venue and asset: draws the basis and funding premium
    double basis_static_bps = 0;
    double premium_8h = 0;    // venue + asset premium over the baseline, per 8 h
    double base_8h = 0;       // the instrument's configured rate, per 8 h
  };

  int64_t RandomSize(const SimInstrument& in, int64_t distance_ticks);
  int64_t MinMidTicks(size_t i) const { return options_.depth + symbols_[i].half_spread + 1; }
  int64_t TargetTicks(size_t i) const;
  void Change(size_t i, BookSide side, int64_t price, int64_t size);  // apply + record
  void Recentre(size_t i, int64_t new_mid_ticks);
  void Publish(size_t i, bool from_trade);

  std::vector<SimInstrument> instruments_;
  MarketOptions options_;
  const Clock& clock_;
  std::shared_ptr<ReferenceMarket> reference_;
  Prng rng_;
  std::vector<SymbolState> symbols_;
  Listener listener_;
  BookChange scratch_;
  uint64_t published_ = 0;
};

}  // namespace perpgw::sim
