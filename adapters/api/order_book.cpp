// OrderBook (per side: a grid window near the touch + a sorted vector) and BookSync (venue
// continuity rules).
#include "adapters/api/order_book.h"

#include <algorithm>

namespace perpgw {
namespace {

// The far vector keeps keys ascending (best at the back). Most of its updates are at its
// best end: look there first (a few compares), then binary-search the rest.
void Upsert(std::vector<Level>& v, Level l) {
  auto cmp = [](const Level& a, int64_t p) { return a.price < p; };
  constexpr size_t kNearTouch = 8;
  auto it = v.end();
  size_t n = 0;
  while (it != v.begin() && n < kNearTouch && !cmp(*(it - 1), l.price)) {
    --it;
    ++n;
  }
  if (n == kNearTouch && it != v.begin()) it = std::lower_bound(v.begin(), it, l.price, cmp);
  if (it != v.end() && it->price == l.price) {
    if (l.size == 0) {
      v.erase(it);
    } else {
      it->size = l.size;
    }
  } else if (l.size != 0) {
    v.insert(it, l);
  }
}

uint64_t Gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    const uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// |a - b| for keys of one side (|key| <= 2^63 - 1), exact in uint64.
uint64_t Dist(int64_t a, int64_t b) {
  return a >= b ? static_cast<uint64_t>(a) - static_cast<uint64_t>(b)
                : static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
}

}  // namespace

void PriceLadder::Clear() {
  // The grid step is kept: the next levels are most likely on the same grid.
  if (in_window_ != 0) std::fill(slots_.begin(), slots_.end(), 0);
  best_ = -1;
  in_window_ = 0;
  far_.clear();
}

std::optional<Level> PriceLadder::Best() const {
  if (best_ >= 0) return Level{sign_ * (lo_ + best_ * unit_), slots_[static_cast<size_t>(best_)]};
  if (!far_.empty()) return Level{sign_ * far_.back().price, far_.back().size};
  return std::nullopt;
}

std::vector<Level> PriceLadder::Keyed() const {
  std::vector<Level> out;
  out.reserve(count());
  out.assign(far_.begin(), far_.end());
  for (int64_t i = 0; i <= best_; ++i) {
    const int64_t size = slots_[static_cast<size_t>(i)];
    if (size != 0) out.push_back(Level{lo_ + i * unit_, size});
  }
  return out;
}

void PriceLadder::Rebuild(std::vector<Level> keyed) {
  far_.clear();
  best_ = -1;
  in_window_ = 0;
  if (keyed.empty()) {
    unit_ = 0;
    slots_.clear();
    return;
  }
  uint64_t g = 0;
  for (const Level& l : keyed) g = Gcd(g, Dist(l.price, keyed.front().price));
  // The window spans kSlots steps with the best key at its middle; a step so coarse that the
  // span overflows (or no step yet: fewer than two distinct keys) leaves every level in the
  // vector, which is exact, only slower.
  int64_t lo = 0, half = 0, span = 0;
  const bool window = g != 0 && g <= static_cast<uint64_t>(INT64_MAX) &&
                      !__builtin_mul_overflow(static_cast<int64_t>(g), kSlots, &span) &&
                      !__builtin_mul_overflow(static_cast<int64_t>(g), kSlots / 2, &half) &&
                      !__builtin_sub_overflow(keyed.back().price, half, &lo) &&
                      !__builtin_add_overflow(lo, span, &span);
  if (!window) {
    unit_ = 0;
    slots_.clear();
    far_ = std::move(keyed);
    return;
  }
  unit_ = static_cast<int64_t>(g);
  lo_ = lo;
  slots_.assign(static_cast<size_t>(kSlots), 0);
  for (const Level& l : keyed) {
    if (l.price < lo_) {
      far_.push_back(l);  // ascending input: stays sorted
      continue;
    }
    const int64_t i = (l.price - lo_) / unit_;  // < kSlots: the best key is the middle slot
    slots_[static_cast<size_t>(i)] = l.size;
    ++in_window_;
    best_ = i;
  }
}

void PriceLadder::SetFar(int64_t key, int64_t size) {
  Upsert(far_, Level{key, size});
  // No window yet: a second distinct key gives the grid a step.
  if (unit_ == 0 && far_.size() == 2) Rebuild(std::move(far_));
}

void PriceLadder::Set(int64_t price, int64_t size) {
  const int64_t key = sign_ * price;
  if (unit_ == 0) {
    SetFar(key, size);
    return;
  }
  const uint64_t unit = static_cast<uint64_t>(unit_);
  // Every stored key is on the grid (Rebuild's step divides all their distances), so a key off
  // it is absent: removing it is a no-op, adding it refines the grid (slow path).
  const bool on_grid = Dist(key, lo_) % unit == 0;
  if (key >= lo_) {
    const uint64_t steps = (static_cast<uint64_t>(key) - static_cast<uint64_t>(lo_)) / unit;
    if (on_grid && steps < static_cast<uint64_t>(kSlots)) {
      const int64_t i = static_cast<int64_t>(steps);
      int64_t& slot = slots_[static_cast<size_t>(i)];
      if (size != 0) {
        if (slot == 0) {
          ++in_window_;
          if (i > best_) best_ = i;
        }
        slot = size;
      } else if (slot != 0) {
        slot = 0;
        --in_window_;
        if (i == best_) {
          while (best_ >= 0 && slots_[static_cast<size_t>(best_)] == 0) --best_;
        }
      }
      return;
    }
    if (size == 0) return;  // off the grid, or better than the window: not stored
    // A new best past the window (or off the grid): the slow path moves the window onto it.
  } else {
    if (size == 0) {
      if (on_grid) Upsert(far_, Level{key, 0});
      return;
    }
    // Worse than the window: the vector; but an empty window moves to the touch instead, so a
    // market that walked away from it gets the fast path back.
    if (on_grid && in_window_ != 0) {
      Upsert(far_, Level{key, size});
      return;
    }
  }
  std::vector<Level> keyed = Keyed();
  Upsert(keyed, Level{key, size});
  Rebuild(std::move(keyed));
}

void PriceLadder::Assign(std::span<const Level> levels) {
  std::vector<Level> keyed;
  keyed.reserve(levels.size());
  for (const Level& l : levels) keyed.push_back(Level{sign_ * l.price, l.size});
  // Repeated prices keep the last size: a stable sort keeps input order among equal keys.
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const Level& a, const Level& b) { return a.price < b.price; });
  size_t n = 0;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i + 1 < keyed.size() && keyed[i + 1].price == keyed[i].price) continue;
    if (keyed[i].size != 0) keyed[n++] = keyed[i];
  }
  keyed.resize(n);
  if (keyed.empty()) {
    Clear();  // keeps the grid step for the next levels
    return;
  }
  Rebuild(std::move(keyed));  // replaces every level
}

void OrderBook::Clear() {
  bids_.Clear();
  asks_.Clear();
}

void OrderBook::ReplaceAll(std::span<const Level> bids, std::span<const Level> asks) {
  bids_.Assign(bids);
  asks_.Assign(asks);
}

void OrderBook::Apply(BookSide side, Level level) {
  if (level.price == INT64_MIN) return;  // not a price: minus it has no key
  (side == BookSide::kBid ? bids_ : asks_).Set(level.price, level.size);
}

bool OrderBook::IsCrossed() const {
  const auto b = bids_.Best();
  const auto a = asks_.Best();
  return b && a && b->price >= a->price;
}

Level OrderBook::Nth(const PriceLadder& side, size_t i) {
  Level out{};
  side.ForEach([&](const Level& l) {
    if (i-- == 0) {
      out = l;
      return false;
    }
    return true;
  });
  return out;
}

std::vector<Level> OrderBook::Top(const PriceLadder& side, size_t depth) {
  const size_t n = depth == 0 ? side.count() : std::min(depth, side.count());
  std::vector<Level> out;
  out.reserve(n);
  side.ForEach([&](const Level& l) {
    if (out.size() == n) return false;
    out.push_back(l);
    return true;
  });
  return out;
}

BookSync::BookSync(SeqRule rule, int price_scale, int size_scale, size_t max_buffered)
    : rule_(rule), max_buffered_(max_buffered), book_(price_scale, size_scale) {}

void BookSync::Reset() {
  state_ = State::kAwaitingSnapshot;
  book_.Clear();
  buffer_.clear();
  last_id_ = 0;
  bridging_ = false;
  stale_run_ = 0;
}

bool BookSync::Links(const DeltaMsg& m) const {
  switch (rule_) {
    case SeqRule::kPrevLink:
      return m.prev_id == last_id_;
    case SeqRule::kContiguous:
      return m.first_id == last_id_ + 1;
    case SeqRule::kMonotonic:
      return m.last_id > last_id_;
  }
  return false;
}

bool BookSync::Older(const DeltaMsg& m, uint64_t snap) const {
  switch (rule_) {
    case SeqRule::kPrevLink:
      // Aster drops u < L; an event with u == L spans the snapshot exactly (U <= L <= u).
      // Lighter snapshots arrive in-stream, so nothing buffered predates them by construction.
      return m.last_id < snap;
    case SeqRule::kContiguous:
    case SeqRule::kMonotonic:
      return m.last_id <= snap;
  }
  return false;
}

bool BookSync::Bridges(const DeltaMsg& m, uint64_t snap) const {
  switch (rule_) {
    case SeqRule::kPrevLink:
      // Aster: U <= L <= u; Lighter: begin_nonce == snapshot nonce (first_id = begin).
      return m.first_id <= snap && snap <= m.last_id;
    case SeqRule::kContiguous:
      return m.first_id <= snap + 1 && snap + 1 <= m.last_id;
    case SeqRule::kMonotonic:
      return m.last_id > snap;
  }
  return false;
}

BookSync::Result BookSync::ApplyLevels(const DeltaMsg& m) {
  for (const LevelChange& c : m.changes) {
    if (c.level.size < 0 || c.level.price <= 0) {
      Reset();
      return Result::kBadInput;
    }
    book_.Apply(c.side, c.level);
  }
  last_id_ = m.last_id;
  if (book_.IsCrossed()) {
    Reset();
    return Result::kCrossed;
  }
  return Result::kApplied;
}

BookSync::Result BookSync::OnSnapshot(std::span<const Level> bids, std::span<const Level> asks,
                                      uint64_t id, std::vector<const DeltaMsg*>* applied) {
  for (const Level& l : bids) {
    if (l.size < 0 || l.price <= 0) {
      Reset();
      return Result::kBadInput;
    }
  }
  for (const Level& l : asks) {
    if (l.size < 0 || l.price <= 0) {
      Reset();
      return Result::kBadInput;
    }
  }
  while (!buffer_.empty() && Older(buffer_.front(), id)) buffer_.pop_front();
  if (!buffer_.empty() && !Bridges(buffer_.front(), id)) {
    // The earliest remaining delta starts after the snapshot: the snapshot is too old.
    book_.Clear();
    state_ = State::kAwaitingSnapshot;
    return Result::kSnapshotOld;
  }
  book_.ReplaceAll(bids, asks);
  last_id_ = id;
  state_ = State::kLive;
  bridging_ = true;
  if (book_.IsCrossed()) {
    Reset();
    return Result::kCrossed;
  }
  bool first = true;
  std::deque<DeltaMsg> pending;
  pending.swap(buffer_);
  for (DeltaMsg& m : pending) {
    if (!first && !Links(m)) {
      Reset();
      return Result::kGap;
    }
    first = false;
    bridging_ = false;
    Result r = ApplyLevels(m);
    if (r != Result::kApplied) return r;
    if (applied) applied->push_back(&m);
  }
  // Keep the replayed messages alive for the caller's pointers until the next call.
  buffer_.clear();
  replayed_.swap(pending);
  return Result::kApplied;
}

BookSync::Result BookSync::OnDelta(const DeltaMsg& msg) {
  if (state_ == State::kAwaitingSnapshot) {
    if (buffer_.size() >= max_buffered_) {
      buffer_.clear();
      return Result::kOverflow;
    }
    buffer_.push_back(msg);
    return Result::kBuffered;
  }
  if (bridging_) {
    // The first delta after a snapshot that had nothing buffered on top of it must span the
    // snapshot id (U <= L <= u, or U <= L+1 <= u), not link to it.
    if (Older(msg, last_id_)) return Result::kStale;
    if (!Bridges(msg, last_id_)) {
      Reset();
      return Result::kGap;
    }
    bridging_ = false;
    return ApplyLevels(msg);
  }
  // Live and past the bridge, one connection delivers events in order: an event older than the
  // book cannot be a harmless repeat under a linked rule. It means an earlier event carried an
  // id too far ahead (its pu/U still linked, so it was applied); dropping every later event as
  // stale would freeze a LIVE book. Resync instead. Monotonic feeds (no link to check) may
  // repeat a batch: drop it, but a run of them is the same freeze and resyncs too.
  const bool older = rule_ == SeqRule::kPrevLink ? msg.last_id < last_id_ : Older(msg, last_id_);
  if (older) {
    if (rule_ == SeqRule::kMonotonic && ++stale_run_ < kMaxStaleRun) return Result::kStale;
    Reset();
    return Result::kGap;
  }
  stale_run_ = 0;
  if (!Links(msg)) {
    Reset();
    return Result::kGap;
  }
  return ApplyLevels(msg);
}

const char* ToString(BookSync::Result r) {
  switch (r) {
    case BookSync::Result::kApplied: return "applied";
    case BookSync::Result::kBuffered: return "buffered";
    case BookSync::Result::kStale: return "stale";
    case BookSync::Result::kGap: return "gap";
    case BookSync::Result::kCrossed: return "crossed";
    case BookSync::Result::kSnapshotOld: return "snapshot_old";
    case BookSync::Result::kOverflow: return "overflow";
    case BookSync::Result::kBadInput: return "bad_input";
  }
  return "?";
}

void SplitSnapshotLevels(const DeltaMsg& msg, std::vector<Level>* bids, std::vector<Level>* asks) {
  for (const LevelChange& c : msg.changes) {
    if (c.level.size == 0) continue;
    (c.side == BookSide::kBid ? bids : asks)->push_back(c.level);
  }
}

}  // namespace perpgw
