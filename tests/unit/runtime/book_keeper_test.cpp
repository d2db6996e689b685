// Book keeper against fake hooks: a scripted timer queue, recorded snapshot requests and published
// updates. Snapshot bridge, backoff on failures and unbridged snapshots, resync on gap, crossed
// and bad input, stream loss and reopen, and nothing after Stop.
#include <catch2/catch.hpp>
#include <deque>

#include "adapters/runtime/book_keeper.h"

namespace perpgw::runtime {
namespace {

using Millis = std::chrono::milliseconds;

struct Fake {
  std::deque<std::pair<Millis, std::function<void()>>> timers;
  std::vector<std::string> requests;  // venue symbols asked for a snapshot
  std::vector<BookUpdate> published;
  std::map<VenueCounter, uint64_t> counts;
  std::vector<std::string> notes;
  bool can_request = true;

  BookKeeper::Hooks Hooks() {
    BookKeeper::Hooks h;
    h.request_snapshot = [this](const Instrument& in) { requests.push_back(in.venue_symbol); };
    h.schedule = [this](Millis d, std::function<void()> fn) {
      timers.emplace_back(d, std::move(fn));
    };
    h.publish = [this](BookUpdate u) { published.push_back(std::move(u)); };
    h.count = [this](VenueCounter c, uint64_t n) { counts[c] += n; };
    h.now = [] { return UnixNanos{42}; };
    h.can_request = [this] { return can_request; };
    h.note = [this](std::string_view, std::string_view what) { notes.emplace_back(what); };
    return h;
  }
  // Runs the oldest timer; returns its delay.
  Millis Fire() {
    REQUIRE_FALSE(timers.empty());
    auto [d, fn] = std::move(timers.front());
    timers.pop_front();
    fn();
    return d;
  }
};

Instrument Btc() {
  Instrument in;
  in.venue = std::string("v");
  in.symbol = std::string("BTC");
  in.venue_symbol = std::string("BTCUSDT");
  in.price_scale = 1;
  in.size_scale = 3;
  return in;
}

DeltaMsg Delta(uint64_t first, uint64_t last, uint64_t prev, int64_t bid_price, int64_t size) {
  DeltaMsg m;
  m.first_id = first;
  m.last_id = last;
  m.prev_id = prev;
  m.changes.push_back({BookSide::kBid, {bid_price, size}});
  return m;
}

BookSnapshot Snap(uint64_t id) {
  BookSnapshot s;
  s.id = id;
  s.exchange_time = 7;
  s.bids = {{1000, 1000}};
  s.asks = {{1010, 2000}};
  return s;
}

}  // namespace

TEST_CASE("book keeper: first snapshot after a delay, bridge, live deltas published",
          "[book_keeper]") {
  Fake f;
  BookKeeper k("v", SeqRule::kPrevLink, f.Hooks());
  REQUIRE(k.Add(Btc()));
  CHECK_FALSE(k.Add(Btc()));
  CHECK(k.Resyncing("BTCUSDT"));
  CHECK(f.requests.empty());
  CHECK(f.Fire() == Millis(300));
  REQUIRE(f.requests == std::vector<std::string>{"BTCUSDT"});
  // A stream delta buffered while the snapshot is in flight, bridging id 100.
  k.OnDelta("BTCUSDT", Delta(99, 101, 98, 1001, 500), 1);
  CHECK(f.published.empty());
  k.OnSnapshot("BTCUSDT", Snap(100));
  REQUIRE(f.published.size() == 1);
  const BookUpdate& full = f.published[0];
  CHECK(full.snapshot);
  CHECK(full.status == BookStatus::kLive);
  CHECK(full.venue_seq == 101);
  CHECK(full.exchange_time == 7);
  CHECK(full.receive_time == 42);
  REQUIRE(full.bids.size() == 2);
  CHECK(full.bids[0].price == 1001);
  CHECK(k.Live("BTCUSDT"));
  k.OnDelta("BTCUSDT", Delta(102, 103, 101, 999, 10), 5);
  REQUIRE(f.published.size() == 2);
  CHECK_FALSE(f.published[1].snapshot);
  CHECK(f.published[1].venue_seq == 103);
  CHECK(f.published[1].receive_time == 5);
  // A late second snapshot never rolls a live book back.
  k.OnSnapshot("BTCUSDT", Snap(90));
  CHECK(f.published.size() == 2);
  k.OnDelta("ETHUSDT", Delta(1, 2, 0, 1, 1), 5);  // not followed: ignored
  CHECK(f.published.size() == 2);
}

TEST_CASE("book keeper: failures back off 250 ms doubling to 4 s; unbridged 100 ms up to 1.6 s",
          "[book_keeper]") {
  Fake f;
  BookKeeper k("v", SeqRule::kPrevLink, f.Hooks());
  k.Add(Btc());
  f.Fire();
  std::vector<Millis> delays;
  for (int i = 0; i < 6; ++i) {
    k.OnSnapshot("BTCUSDT", absl::UnavailableError("down"));
    delays.push_back(f.Fire());
  }
  CHECK(delays == std::vector<Millis>{Millis(250), Millis(500), Millis(1000), Millis(2000),
                                      Millis(4000), Millis(4000)});
  CHECK(f.requests.size() == 7);
  // An unparseable body: counted, asked again after 1 s.
  k.OnSnapshot("BTCUSDT", absl::InvalidArgumentError("bad json"), /*parse_error=*/true);
  CHECK(f.counts[VenueCounter::kParseErrors] == 1);
  CHECK(f.Fire() == Millis(1000));
  // Success resets the attempts.
  k.OnSnapshot("BTCUSDT", Snap(10));
  CHECK(k.Live("BTCUSDT"));
  k.OnDelta("BTCUSDT", Delta(20, 21, 19, 1000, 1), 1);  // pu 19 != 10: gap
  CHECK(f.counts[VenueCounter::kResyncGap] == 1);
  CHECK(f.published.back().status == BookStatus::kResyncing);
  CHECK(f.published.back().status_reason == "sequence gap");
  CHECK(f.published.back().bids.empty());
  CHECK(f.Fire() == Millis(100));
  // Buffered stream is ahead of every snapshot: kSnapshotOld, asked again with its own backoff.
  k.OnDelta("BTCUSDT", Delta(50, 51, 49, 1000, 1), 1);
  k.OnSnapshot("BTCUSDT", Snap(10));
  CHECK_FALSE(k.Live("BTCUSDT"));
  CHECK(f.Fire() == Millis(100));
  REQUIRE_FALSE(f.notes.empty());
  CHECK(f.notes.back().find("not bridged") != std::string::npos);
  k.OnSnapshot("BTCUSDT", Snap(10));
  CHECK(f.Fire() == Millis(200));
}

TEST_CASE("book keeper: crossed and bad input resync; one request in flight at a time",
          "[book_keeper]") {
  Fake f;
  BookKeeper k("v", SeqRule::kContiguous, f.Hooks());
  k.Add(Btc());
  f.Fire();
  f.timers.clear();
  k.OnStreamOpen("BTCUSDT");
  f.Fire();  // a request is already in flight: not asked twice
  CHECK(f.requests.size() == 1);
  k.OnSnapshot("BTCUSDT", Snap(10));
  REQUIRE(k.Live("BTCUSDT"));
  DeltaMsg crossing;
  crossing.first_id = 11;
  crossing.last_id = 11;
  crossing.changes.push_back({BookSide::kBid, {1020, 5}});
  k.OnDelta("BTCUSDT", crossing, 1);
  CHECK(f.counts[VenueCounter::kResyncCrossed] == 1);
  CHECK(f.published.back().status_reason == "crossed book");
  f.Fire();
  k.OnSnapshot("BTCUSDT", Snap(20));
  DeltaMsg bad;
  bad.first_id = 21;
  bad.last_id = 21;
  bad.changes.push_back({BookSide::kAsk, {1011, -1}});
  k.OnDelta("BTCUSDT", bad, 1);
  CHECK(f.counts[VenueCounter::kResyncBadInput] == 1);
  CHECK(f.published.back().status_reason == "invalid level");
}

TEST_CASE("book keeper: stream lost resyncs without asking; reopen asks; can_request gates",
          "[book_keeper]") {
  Fake f;
  BookKeeper k("v", SeqRule::kContiguous, f.Hooks());
  k.Add(Btc());
  f.Fire();
  k.OnSnapshot("BTCUSDT", Snap(10));
  REQUIRE(k.Live("BTCUSDT"));
  f.can_request = false;
  k.OnStreamLostAll();
  CHECK(f.counts[VenueCounter::kResyncReconnect] == 1);
  CHECK(f.published.back().status == BookStatus::kResyncing);
  CHECK(f.published.back().status_reason == "reconnect");
  CHECK(f.timers.empty());
  k.OnStreamOpenAll();
  f.Fire();  // stream not ready yet: nothing asked
  CHECK(f.requests.size() == 1);
  f.can_request = true;
  k.OnStreamOpen("BTCUSDT");
  CHECK(f.Fire() == Millis(300));
  CHECK(f.requests.size() == 2);
}

TEST_CASE("book keeper: nothing is asked or published after Stop", "[book_keeper]") {
  Fake f;
  BookKeeper k("v", SeqRule::kPrevLink, f.Hooks());
  k.Add(Btc());
  k.Stop();
  f.Fire();  // the pending timer fires after Stop: a no-op
  CHECK(f.requests.empty());
  k.OnSnapshot("BTCUSDT", Snap(1));
  k.Resync("BTCUSDT", "x", VenueCounter::kResyncGap, true);
  CHECK(f.published.empty());
  CHECK(f.timers.empty());
}

}  // namespace perpgw::runtime
