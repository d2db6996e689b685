// OrderBook ordering/updates and BookSync continuity rules (gap → resync, crossed, bridging).
#include <catch2/catch.hpp>

#include <map>

#include "adapters/api/order_book.h"

using namespace perpgw;

namespace {
DeltaMsg Delta(uint64_t first, uint64_t last, uint64_t prev,
               std::vector<LevelChange> changes = {}) {
  DeltaMsg m;
  m.first_id = first;
  m.last_id = last;
  m.prev_id = prev;
  m.changes = std::move(changes);
  return m;
}
LevelChange Bid(int64_t p, int64_t s) { return {BookSide::kBid, {p, s}}; }
LevelChange Ask(int64_t p, int64_t s) { return {BookSide::kAsk, {p, s}}; }

// xorshift64: a fixed, portable random sequence.
struct XorShift {
  uint64_t x;
  uint64_t operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

// The same change to the book and to the std::map reference of its side.
void ApplyBoth(OrderBook& b, std::map<int64_t, int64_t>& bids, std::map<int64_t, int64_t>& asks,
               bool bid, int64_t price, int64_t size) {
  b.Apply(bid ? BookSide::kBid : BookSide::kAsk, {price, size});
  auto& ref = bid ? bids : asks;
  if (size == 0) {
    ref.erase(price);
  } else {
    ref[price] = size;
  }
}

void RequireEqual(const OrderBook& b, const std::map<int64_t, int64_t>& bids,
                  const std::map<int64_t, int64_t>& asks) {
  REQUIRE(b.bid_count() == bids.size());
  REQUIRE(b.ask_count() == asks.size());
  std::vector<Level> want_bids, want_asks;
  for (auto it = bids.rbegin(); it != bids.rend(); ++it) {
    want_bids.push_back({it->first, it->second});
  }
  for (const auto& [p, sz] : asks) want_asks.push_back({p, sz});
  const auto got_bids = b.Bids();
  const auto got_asks = b.Asks();
  REQUIRE(got_bids.size() == want_bids.size());
  REQUIRE(got_asks.size() == want_asks.size());
  for (size_t i = 0; i < want_bids.size(); ++i) {
    REQUIRE(got_bids[i].price == want_bids[i].price);
    REQUIRE(got_bids[i].size == want_bids[i].size);
  }
  for (size_t i = 0; i < want_asks.size(); ++i) {
    REQUIRE(got_asks[i].price == want_asks[i].price);
    REQUIRE(got_asks[i].size == want_asks[i].size);
  }
}
}  // namespace

TEST_CASE("order book keeps sides sorted best-first", "[book]") {
  OrderBook b(2, 3);
  std::vector<Level> bids = {{100, 1}, {102, 2}, {101, 3}};
  std::vector<Level> asks = {{105, 1}, {103, 2}, {104, 3}};
  b.ReplaceAll(bids, asks);
  REQUIRE(b.bid_count() == 3);
  CHECK(b.bid(0).price == 102);
  CHECK(b.bid(2).price == 100);
  CHECK(b.ask(0).price == 103);
  CHECK(b.ask(2).price == 105);
  b.Apply(BookSide::kBid, {102, 0});  // delete
  CHECK(b.BestBid()->price == 101);
  b.Apply(BookSide::kBid, {99, 0});  // deleting an absent level is fine
  b.Apply(BookSide::kAsk, {103, 7});
  CHECK(b.BestAsk()->size == 7);
  b.Apply(BookSide::kBid, {150, 1});
  CHECK(b.IsCrossed());
  auto top = b.Bids(2);
  REQUIRE(top.size() == 2);
  CHECK(top[0].price == 150);
  CHECK(top[1].price == 101);
  std::vector<Level> zero = {{1, 0}};
  b.ReplaceAll(zero, {});
  CHECK(b.Empty());
}

TEST_CASE("order book equals a reference map under random updates near and far from the touch",
          "[book]") {
  // Inserts, updates and deletes at every depth (the grid window near the touch and the
  // vector past it), against std::map.
  OrderBook b(0, 0);
  std::map<int64_t, int64_t> bids, asks;
  XorShift next{88172645463325252ULL};
  for (int i = 0; i < 20000; ++i) {
    const bool bid = next() % 2 == 0;
    // Bids 1..400, asks 601..1000: most updates within 10 of the touch, some anywhere.
    const int64_t off = next() % 4 == 0 ? static_cast<int64_t>(next() % 400)
                                         : static_cast<int64_t>(next() % 10);
    const int64_t price = bid ? 400 - off : 601 + off;
    const int64_t size = next() % 3 == 0 ? 0 : static_cast<int64_t>(next() % 50) + 1;
    ApplyBoth(b, bids, asks, bid, price, size);
  }
  RequireEqual(b, bids, asks);
  CHECK(bids.size() > 100);  // deep enough to matter
}

TEST_CASE("order book equals a reference map as the market walks off the grid window",
          "[book]") {
  // The grid window holds 2048 steps around the touch and learns its step from the data:
  // a random walk far wider than the window (it moves and re-centres), levels off the learned
  // grid (it refines and re-places), snapshots with repeated prices, levels deep below the
  // window (the vector), a window emptied from the top, prices near the int64 edge (no
  // window: the vector alone), all against std::map, with the best levels checked every step.
  OrderBook b(8, 8);
  std::map<int64_t, int64_t> bids, asks;
  XorShift next{0x9E3779B97F4A7C15ULL};
  int64_t mid = 10'000'000;
  const int64_t tick = 10;
  for (int i = 0; i < 60000; ++i) {
    const uint64_t r = next() % 1000;
    if (r < 2) {  // a snapshot, prices repeated now and then (the last size wins)
      std::vector<Level> sb, sa;
      bids.clear();
      asks.clear();
      const int n = static_cast<int>(next() % 60);
      for (int k = 0; k < n; ++k) {
        const int64_t pb = mid - tick * (1 + static_cast<int64_t>(next() % 300));
        const int64_t pa = mid + tick * (1 + static_cast<int64_t>(next() % 300));
        const int64_t sz = static_cast<int64_t>(next() % 4);  // 0 is skipped
        sb.push_back({pb, sz});
        sa.push_back({pa, sz});
        if (sz == 0) {
          bids.erase(pb);
          asks.erase(pa);
        } else {
          bids[pb] = sz;
          asks[pa] = sz;
        }
      }
      b.ReplaceAll(sb, sa);
    } else if (r < 4) {  // the walk jumps: farther than the window spans
      mid += (next() % 2 == 0 ? 1 : -1) * tick * static_cast<int64_t>(3000 + next() % 5000);
    } else if (r < 5 && !bids.empty()) {  // empty the bid window from the top
      for (int k = 0; k < 40 && !bids.empty(); ++k) {
        const int64_t p = bids.rbegin()->first;
        b.Apply(BookSide::kBid, {p, 0});
        bids.erase(p);
      }
    } else if (r < 6) {  // the int64 edge: a step this coarse cannot span a window
      const int64_t p = INT64_MAX - static_cast<int64_t>(next() % 3) * (INT64_MAX / 4);
      ApplyBoth(b, bids, asks, false, p, static_cast<int64_t>(next() % 2));
    } else {
      if (next() % 8 == 0) mid += (next() % 2 == 0 ? tick : -tick);
      const bool bid = next() % 2 == 0;
      // Mostly near the touch on the 10-unit grid; some deep (past the window), some off it.
      int64_t off = next() % 5 == 0 ? static_cast<int64_t>(next() % 5000)
                                     : static_cast<int64_t>(next() % 12);
      int64_t price = bid ? mid - tick * (1 + off) : mid + tick * (1 + off);
      if (next() % 97 == 0) price += static_cast<int64_t>(next() % 9) + 1;
      if (price <= 0) continue;
      const int64_t size = next() % 3 == 0 ? 0 : static_cast<int64_t>(next() % 50) + 1;
      ApplyBoth(b, bids, asks, bid, price, size);
    }
    const auto bb = b.BestBid();
    const auto ba = b.BestAsk();
    REQUIRE(bb.has_value() == !bids.empty());
    REQUIRE(ba.has_value() == !asks.empty());
    if (bb) REQUIRE(bb->price == bids.rbegin()->first);
    if (bb) REQUIRE(bb->size == bids.rbegin()->second);
    if (ba) REQUIRE(ba->price == asks.begin()->first);
    if (ba) REQUIRE(ba->size == asks.begin()->second);
    REQUIRE(b.IsCrossed() == (bb && ba && bb->price >= ba->price));
    if (i % 997 == 0) RequireEqual(b, bids, asks);
  }
  RequireEqual(b, bids, asks);
  REQUIRE(b.bid(0).price == b.BestBid()->price);
  b.Clear();
  CHECK(b.Empty());
  b.Apply(BookSide::kBid, {5, 1});  // after Clear, far from the old window
  b.Apply(BookSide::kBid, {7, 2});
  REQUIRE(b.bid_count() == 2);
  CHECK(b.bid(0).price == 7);
  CHECK(b.bid(1).price == 5);
}

TEST_CASE("Aster rule: bridge with U <= L <= u, then pu == previous u", "[book][sync]") {
  BookSync s(SeqRule::kPrevLink, 2, 3);
  CHECK(s.OnDelta(Delta(90, 95, 89, {Bid(100, 1)})) == BookSync::Result::kBuffered);
  CHECK(s.OnDelta(Delta(96, 105, 95, {Bid(101, 2)})) == BookSync::Result::kBuffered);
  CHECK(s.OnDelta(Delta(106, 110, 105, {Ask(103, 5)})) == BookSync::Result::kBuffered);
  std::vector<Level> bids = {{99, 1}}, asks = {{104, 1}};
  CHECK(s.OnSnapshot(bids, asks, 100) == BookSync::Result::kApplied);  // 95 < 100 dropped
  CHECK(s.live());
  CHECK(s.last_id() == 110);
  CHECK(s.book().BestBid()->price == 101);
  CHECK(s.book().BestAsk()->price == 103);
  CHECK(s.OnDelta(Delta(111, 112, 110, {Bid(101, 0)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(120, 125, 119)) == BookSync::Result::kGap);
  CHECK_FALSE(s.live());
  CHECK(s.book().Empty());
}

// Defect: an event whose u jumps far ahead while pu still links was applied, and every later
// event (pu = the real previous u, below the jumped u) was then dropped as stale while the book
// stayed LIVE, frozen. Any older event on a live linked book is now a resync.
TEST_CASE("u jump with a linking pu resyncs on the next event instead of freezing", "[book][sync]") {
  BookSync s(SeqRule::kPrevLink, 2, 3);
  std::vector<Level> bids = {{99, 1}}, asks = {{104, 1}};
  REQUIRE(s.OnSnapshot(bids, asks, 100) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(95, 105, 94, {Bid(100, 1)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(106, 1000105, 105, {Bid(101, 1)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(107, 110, 106, {Bid(101, 0)})) == BookSync::Result::kGap);
  CHECK_FALSE(s.live());
  // An exact repeat of an applied event is no better: the stream is not what the book assumes.
  REQUIRE(s.OnSnapshot(bids, asks, 200) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(199, 205, 198)) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(206, 210, 205)) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(199, 205, 198)) == BookSync::Result::kGap);
}

TEST_CASE("Backpack rule: U jump resyncs on the next event", "[book][sync]") {
  BookSync s(SeqRule::kContiguous, 2, 3);
  std::vector<Level> bids = {{99, 1}}, asks = {{104, 1}};
  REQUIRE(s.OnSnapshot(bids, asks, 10) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(11, 12, 0)) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(13, 5000000, 0)) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(14, 14, 0)) == BookSync::Result::kGap);
  CHECK_FALSE(s.live());
}

TEST_CASE("monotonic rule: a repeat is dropped, a run of them resyncs", "[book][sync]") {
  BookSync s(SeqRule::kMonotonic, 2, 3);
  REQUIRE(s.OnSnapshot({}, {}, 50) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(0, 60, 0)) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(0, 900000, 0)) == BookSync::Result::kApplied);
  for (int i = 0; i < 7; ++i) CHECK(s.OnDelta(Delta(0, 61 + i, 0)) == BookSync::Result::kStale);
  CHECK(s.OnDelta(Delta(0, 70, 0)) == BookSync::Result::kGap);
  CHECK_FALSE(s.live());
  // A newer event in between ends the run.
  REQUIRE(s.OnSnapshot({}, {}, 100) == BookSync::Result::kApplied);
  REQUIRE(s.OnDelta(Delta(0, 110, 0)) == BookSync::Result::kApplied);
  for (int i = 0; i < 7; ++i) CHECK(s.OnDelta(Delta(0, 101, 0)) == BookSync::Result::kStale);
  CHECK(s.OnDelta(Delta(0, 111, 0)) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(0, 101, 0)) == BookSync::Result::kStale);
}

TEST_CASE("Aster rule: snapshot older than the buffer must be refetched", "[book][sync]") {
  BookSync s(SeqRule::kPrevLink, 2, 3);
  s.OnDelta(Delta(200, 210, 199));
  CHECK(s.OnSnapshot({}, {}, 150) == BookSync::Result::kSnapshotOld);
  CHECK_FALSE(s.live());
  CHECK(s.OnSnapshot({}, {}, 205) == BookSync::Result::kApplied);
}

TEST_CASE("Backpack rule: U == previous u + 1", "[book][sync]") {
  BookSync s(SeqRule::kContiguous, 2, 3);
  s.OnDelta(Delta(5, 9, 0, {Bid(100, 1)}));
  s.OnDelta(Delta(10, 12, 0, {Bid(101, 1)}));
  std::vector<Level> asks = {{105, 1}};
  CHECK(s.OnSnapshot({}, asks, 9) == BookSync::Result::kApplied);  // first delta (u=9) dropped
  CHECK(s.book().bid_count() == 1);
  CHECK(s.OnDelta(Delta(13, 13, 0, {Ask(104, 2)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(15, 16, 0)) == BookSync::Result::kGap);
}

TEST_CASE("Lighter rule: begin_nonce == previous nonce", "[book][sync]") {
  BookSync s(SeqRule::kPrevLink, 2, 3);
  std::vector<Level> bids = {{100, 1}}, asks = {{101, 1}};
  CHECK(s.OnSnapshot(bids, asks, 1000) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(1000, 1007, 1000, {Bid(100, 3)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(1008, 1010, 1008)) == BookSync::Result::kGap);
}

TEST_CASE("Paradex rule: monotonic seq_no, stale dropped", "[book][sync]") {
  BookSync s(SeqRule::kMonotonic, 2, 3);
  CHECK(s.OnSnapshot({}, {}, 50) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(0, 57, 0, {Bid(10, 1)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(0, 57, 0)) == BookSync::Result::kStale);
  CHECK(s.OnDelta(Delta(0, 90, 0)) == BookSync::Result::kApplied);
}

TEST_CASE("crossed book and bad levels force a resync", "[book][sync]") {
  BookSync s(SeqRule::kContiguous, 2, 3);
  std::vector<Level> bids = {{100, 1}}, asks = {{101, 1}};
  REQUIRE(s.OnSnapshot(bids, asks, 1) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(2, 2, 0, {Bid(102, 1)})) == BookSync::Result::kCrossed);
  CHECK_FALSE(s.live());
  REQUIRE(s.OnSnapshot(bids, asks, 5) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(6, 6, 0, {Bid(100, -1)})) == BookSync::Result::kBadInput);
  std::vector<Level> crossed = {{105, 1}};
  CHECK(s.OnSnapshot(crossed, asks, 9) == BookSync::Result::kCrossed);
}

TEST_CASE("buffer overflow while awaiting a snapshot", "[book][sync]") {
  BookSync s(SeqRule::kContiguous, 2, 3, 3);
  for (uint64_t i = 1; i <= 3; ++i) CHECK(s.OnDelta(Delta(i, i, 0)) == BookSync::Result::kBuffered);
  CHECK(s.OnDelta(Delta(4, 4, 0)) == BookSync::Result::kOverflow);
  CHECK(s.buffered() == 0);
}

TEST_CASE("first delta after a snapshot with an empty buffer must bridge it", "[book][sync]") {
  // Aster: snapshot L=800; next event U=796 u=810 pu=795 spans it and applies; its pu does not
  // link to 800, so a link check there would resync forever.
  BookSync s(SeqRule::kPrevLink, 2, 3);
  std::vector<Level> bids = {{100, 1}}, asks = {{105, 1}};
  REQUIRE(s.OnSnapshot(bids, asks, 800) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(790, 799, 789)) == BookSync::Result::kStale);
  CHECK(s.OnDelta(Delta(796, 810, 795, {Bid(101, 2)})) == BookSync::Result::kApplied);
  CHECK(s.OnDelta(Delta(811, 812, 810)) == BookSync::Result::kApplied);
  // Backpack: L=9, next U=8 u=12 overlaps L+1=10 and applies; U=11 would be a gap.
  BookSync b(SeqRule::kContiguous, 2, 3);
  REQUIRE(b.OnSnapshot(bids, asks, 9) == BookSync::Result::kApplied);
  CHECK(b.OnDelta(Delta(8, 12, 0)) == BookSync::Result::kApplied);
  BookSync g(SeqRule::kContiguous, 2, 3);
  REQUIRE(g.OnSnapshot(bids, asks, 9) == BookSync::Result::kApplied);
  CHECK(g.OnDelta(Delta(11, 12, 0)) == BookSync::Result::kGap);
}
