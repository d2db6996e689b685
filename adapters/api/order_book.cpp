// OrderBook (sorted vectors, best at the back) and BookSync (venue continuity rules).
#include "adapters/api/order_book.h"

#include <algorithm>

namespace perpgw {
namespace {

// bids: ascending by price; asks: descending. `less` orders the vector front→back.
template <bool kAscending>
void Upsert(std::vector<Level>& v, Level l) {
  auto cmp = [](const Level& a, int64_t p) { return kAscending ? a.price < p : a.price > p; };
  // Most updates touch the best levels at the back: look there first (a few compares, no
  // mispredicted halving), then binary-search the rest.
  constexpr size_t kNearTouch = 8;
  auto it = v.end();
  size_t n = 0;
  while (it != v.begin() && n < kNearTouch && !cmp(*(it - 1), l.price)) {
    --it;
    ++n;
  }
  // Every element from `it` on is at or past l.price (in the vector's order). A scan stopped
  // by an element before it has found the lower bound; otherwise search what is left.
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

}  // namespace

void OrderBook::Clear() {
  bids_.clear();
  asks_.clear();
}

void OrderBook::ReplaceAll(std::span<const Level> bids, std::span<const Level> asks) {
  Clear();
  bids_.reserve(bids.size());
  asks_.reserve(asks.size());
  for (const Level& l : bids) Upsert<true>(bids_, l);
  for (const Level& l : asks) Upsert<false>(asks_, l);
}

void OrderBook::Apply(BookSide side, Level level) {
  if (side == BookSide::kBid) {
    Upsert<true>(bids_, level);
  } else {
    Upsert<false>(asks_, level);
  }
}

std::optional<Level> OrderBook::BestBid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.back();
}
std::optional<Level> OrderBook::BestAsk() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.back();
}
bool OrderBook::IsCrossed() const {
  return !bids_.empty() && !asks_.empty() && bids_.back().price >= asks_.back().price;
}

std::vector<Level> OrderBook::Bids(size_t depth) const {
  size_t n = depth == 0 ? bids_.size() : std::min(depth, bids_.size());
  return std::vector<Level>(bids_.rbegin(), bids_.rbegin() + static_cast<long>(n));
}
std::vector<Level> OrderBook::Asks(size_t depth) const {
  size_t n = depth == 0 ? asks_.size() : std::min(depth, asks_.size());
  return std::vector<Level>(asks_.rbegin(), asks_.rbegin() + static_cast<long>(n));
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
