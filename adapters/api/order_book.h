// L2 price-level book on fixed-point integers, plus the venue-sequence synchronizer around it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "adapters/api/types.h"

namespace perpgw {

// One side of an L2 book, keyed so that a larger key is a better level (bids: the price; asks:
// minus the price). The levels near the touch live in a window of slots on the price grid (a
// slot per grid step, indexed by (key - lo) / unit), so a change there is O(1) with no search
// and no element moves; the levels worse than the window sit in a sorted vector. The grid step
// is learned from the data (the gcd of the distances between the keys seen; a level off the
// grid refines it and re-places the levels), so no tick size is needed and any price is kept
// exactly. Invariant: every window level is better than every vector level.
class PriceLadder {
 public:
  explicit PriceLadder(bool bid) : sign_(bid ? 1 : -1) {}
  void Clear();
  // size 0 removes (removing an absent level is fine).
  void Set(int64_t price, int64_t size);
  // Replaces the side with `levels` (any order; zero sizes skipped; a repeated price keeps the
  // last size).
  void Assign(std::span<const Level> levels);
  size_t count() const { return in_window_ + far_.size(); }
  bool empty() const { return count() == 0; }
  std::optional<Level> Best() const;
  // Best first; f(const Level&) returns false to stop.
  template <class F>
  void ForEach(F&& f) const {
    for (int64_t i = best_; i >= 0; --i) {
      if (slots_[static_cast<size_t>(i)] != 0) {
        if (!f(Level{sign_ * (lo_ + i * unit_), slots_[static_cast<size_t>(i)]})) return;
      }
    }
    for (auto it = far_.rbegin(); it != far_.rend(); ++it) {
      if (!f(Level{sign_ * it->price, it->size})) return;
    }
  }

  static constexpr int64_t kSlots = 2048;

 private:
  // Re-places every level (keys ascending, sizes > 0, no repeats): learns the grid step and
  // centres the window on the best key. O(kSlots + levels); only on the slow paths.
  void Rebuild(std::vector<Level> keyed);
  std::vector<Level> Keyed() const;  // every level as {key, size}, keys ascending
  void SetFar(int64_t key, int64_t size);

  int64_t sign_;
  int64_t unit_ = 0;  // grid step in key units; 0: no window (fewer than two distinct keys, or a
                      // grid too coarse to span without overflow)
  int64_t lo_ = 0;    // key of slot 0
  std::vector<int64_t> slots_;  // size per slot, 0 = empty; kSlots entries while unit_ > 0
  int64_t best_ = -1;           // highest occupied slot, -1 if none
  size_t in_window_ = 0;
  std::vector<Level> far_;  // {key, size}, keys ascending (best at the back), all < lo_
};

// L2 price-level book on fixed-point integers: two PriceLadder (see above).
class OrderBook {
 public:
  OrderBook() = default;
  OrderBook(int price_scale, int size_scale) : price_scale_(price_scale), size_scale_(size_scale) {}

  int price_scale() const { return price_scale_; }
  int size_scale() const { return size_scale_; }

  void Clear();
  // Replaces the book; input order does not matter (venues send either order); zero sizes skipped;
  // a price repeated on one side keeps the last size.
  void ReplaceAll(std::span<const Level> bids, std::span<const Level> asks);
  // Absolute size at a price; size 0 removes (removing an absent level is fine). Prices are
  // mantissas > INT64_MIN (a book's are > 0).
  void Apply(BookSide side, Level level);

  size_t bid_count() const { return bids_.count(); }
  size_t ask_count() const { return asks_.count(); }
  // i = 0 is the best level. O(i) (plus empty grid slots): walk with ForEachBid/Ask instead.
  Level bid(size_t i) const { return Nth(bids_, i); }
  Level ask(size_t i) const { return Nth(asks_, i); }
  // Best first; f(const Level&) returns false to stop.
  template <class F>
  void ForEachBid(F&& f) const {
    bids_.ForEach(std::forward<F>(f));
  }
  template <class F>
  void ForEachAsk(F&& f) const {
    asks_.ForEach(std::forward<F>(f));
  }
  std::optional<Level> BestBid() const { return bids_.Best(); }
  std::optional<Level> BestAsk() const { return asks_.Best(); }
  bool IsCrossed() const;  // best bid >= best ask
  bool Empty() const { return bids_.empty() && asks_.empty(); }

  // Best-first copies of the top `depth` levels (0 = all).
  std::vector<Level> Bids(size_t depth = 0) const { return Top(bids_, depth); }
  std::vector<Level> Asks(size_t depth = 0) const { return Top(asks_, depth); }

 private:
  static Level Nth(const PriceLadder& side, size_t i);
  static std::vector<Level> Top(const PriceLadder& side, size_t depth);

  int price_scale_ = 0;
  int size_scale_ = 0;
  PriceLadder bids_{true};
  PriceLadder asks_{false};
};

// How a venue links consecutive book messages (see each venue's notes).
enum class SeqRule : uint8_t {
  // Aster futures: first applied event spans the snapshot id (U <= L <= u), then pu == prev u.
  // Lighter: begin_nonce == previous nonce (snapshot nonce seeds it); set first=prev=begin.
  kPrevLink,
  // Backpack: first applied event has U <= L+1 <= u, then U == prev u + 1.
  kContiguous,
  // Paradex: seq_no strictly increases; gaps cannot be detected from ids (throttled batches).
  kMonotonic,
};

struct DeltaMsg {
  uint64_t first_id = 0;  // U / begin_nonce
  uint64_t last_id = 0;   // u / nonce / seq_no
  uint64_t prev_id = 0;   // pu (Aster) / begin_nonce (Lighter); unused otherwise
  UnixNanos exchange_time = 0;
  std::vector<LevelChange> changes;
};

// A partial-depth message (changes = the whole top of book) as snapshot sides: bids and asks in
// the order received, zero sizes dropped. Appends to *bids and *asks.
void SplitSnapshotLevels(const DeltaMsg& msg, std::vector<Level>* bids, std::vector<Level>* asks);

// Applies deltas under a venue's continuity rule, buffering them until a snapshot bridges.
// Pure: no I/O; the adapter reacts to the results (fetch a snapshot, resubscribe, publish).
class BookSync {
 public:
  enum class State : uint8_t { kAwaitingSnapshot, kLive };
  enum class Result : uint8_t {
    kApplied,       // live book changed
    kBuffered,      // waiting for a snapshot
    kStale,         // older than the book, ignored (bridging, or a monotonic feed's repeat)
    kGap,           // continuity broken (or an event older than a live linked book):
                    // book cleared, state = awaiting snapshot
    kCrossed,       // applying left best bid >= best ask: book cleared, awaiting snapshot
    kSnapshotOld,   // snapshot older than every buffered delta can bridge: fetch again
    kOverflow,      // too many buffered deltas while waiting: buffer cleared, fetch again
    kBadInput,      // invalid levels (negative size/price); book cleared
  };

  BookSync(SeqRule rule, int price_scale, int size_scale, size_t max_buffered = 4096);

  SeqRule rule() const { return rule_; }
  State state() const { return state_; }
  bool live() const { return state_ == State::kLive; }
  uint64_t last_id() const { return last_id_; }
  const OrderBook& book() const { return book_; }
  size_t buffered() const { return buffer_.size(); }

  // Snapshot with the venue's id (lastUpdateId / nonce / seq_no); replays bridging buffered deltas.
  // `applied` (optional) receives the buffered deltas that were applied on top.
  Result OnSnapshot(std::span<const Level> bids, std::span<const Level> asks, uint64_t id,
                    std::vector<const DeltaMsg*>* applied = nullptr);
  // Copies the message only when it has to be buffered (the live path does not allocate).
  Result OnDelta(const DeltaMsg& msg);
  // Drops the book (reconnect, stale, manual): back to awaiting a snapshot.
  void Reset();

 private:
  bool Links(const DeltaMsg& m) const;   // continues the live book?
  bool Bridges(const DeltaMsg& m, uint64_t snap) const;  // first event after snapshot?
  bool Older(const DeltaMsg& m, uint64_t snap) const;    // entirely before the snapshot?
  Result ApplyLevels(const DeltaMsg& m);

  SeqRule rule_;
  size_t max_buffered_;
  State state_ = State::kAwaitingSnapshot;
  uint64_t last_id_ = 0;
  bool bridging_ = false;  // live, but no delta applied since the snapshot yet
  // Consecutive live events older than the book (monotonic rule only; linked rules resync on the
  // first). At kMaxStaleRun the book is declared broken.
  static constexpr int kMaxStaleRun = 8;
  int stale_run_ = 0;
  OrderBook book_;
  std::deque<DeltaMsg> buffer_;
  std::deque<DeltaMsg> replayed_;  // owns messages handed out by OnSnapshot(applied)
};

const char* ToString(BookSync::Result r);

}  // namespace perpgw
