// Fan-out policies with a deliberately stalled subscriber: the others and the publisher are not
// slowed; the book subscriber gets a resync snapshot; order streams end RESOURCE_EXHAUSTED.
#include <catch2/catch.hpp>

#include <grpcpp/impl/codegen/proto_utils.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "adapters/api/decimal.h"
#include "gateway/fanout/bus.h"
#include "perpgw/v1/market_data.pb.h"
#include "perpgw/v1/trading.pb.h"

using namespace perpgw;
using namespace perpgw::gateway;

namespace {

// A fake stream: records messages; `stalled` never completes its writes.
struct FakeStream {
  explicit FakeStream(SubscriberPtr s, bool stalled) : sub(std::move(s)), stalled(stalled) {
    sub->Bind(
        [this](const grpc::ByteBuffer* m, bool more) {
          std::lock_guard l(mu);
          msgs.push_back(*m);
          hinted.push_back(more);
          if (!this->stalled) pending = true;
          cv.notify_all();
        },
        [this](const grpc::Status& st) {
          std::lock_guard l(mu);
          finished = true;
          status = st;
          cv.notify_all();
        });
  }
  // Completes writes as a real transport would, on another thread.
  void Pump() {
    while (running) {
      bool do_done = false;
      {
        std::unique_lock l(mu);
        cv.wait_for(l, std::chrono::milliseconds(5), [&] { return pending || !running; });
        do_done = pending;
        pending = false;
      }
      if (do_done) sub->OnWriteDone(true);
    }
  }
  template <typename Pred>
  bool WaitFor(Pred p, int ms = 5000) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return p(); });
  }
  SubscriberPtr sub;
  bool stalled;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<grpc::ByteBuffer> msgs;
  std::vector<bool> hinted;  // the `more` flag of each write
  bool pending = false;
  bool finished = false;
  grpc::Status status;
  std::atomic<bool> running{true};
};

template <typename M>
M Decode(const grpc::ByteBuffer& b) {
  grpc::ByteBuffer copy(b);
  M m;
  REQUIRE(grpc::SerializationTraits<M>::Deserialize(&copy, &m).ok());
  return m;
}

// Runs a task on the bus thread and waits for it: every task posted before it has run.
void Drain(Bus& bus) {
  std::promise<void> done;
  bus.Post([&] { done.set_value(); });
  done.get_future().wait();
}

// Order `i` of account acc1 (aster BTC), OPEN.
EventPtr AccountOrderEvent(int i) {
  OrderEvent e;
  e.order.account = "acc1";
  e.order.venue = "aster";
  e.order.symbol = "BTC";
  e.order.order_id = std::to_string(i);
  e.order.status = OrderStatus::kOpen;
  return std::make_shared<const Event>(e);
}

EventPtr BookEvent(bool snapshot, uint64_t id, int64_t bid, int64_t ask,
                   UnixNanos receive_time = 0) {
  BookUpdate u;
  u.venue = "aster";
  u.symbol = "BTC";
  u.snapshot = snapshot;
  u.venue_seq = id;
  u.price_scale = 1;
  u.size_scale = 3;
  u.bids = {{bid, 1000}};
  u.asks = {{ask, 2000}};
  u.receive_time = receive_time;
  return std::make_shared<const Event>(std::move(u));
}

}  // namespace

TEST_CASE("book fan-out: snapshot first, deltas in order, stalled consumer resyncs",
          "[bus]") {
  LimitsConfig limits;
  limits.book_mailbox = 8;
  ManualClock clock(1);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  bus.Publish(BookEvent(true, 1, 1000, 1010));

  auto fast_sub = std::make_shared<Subscriber>(StreamKind::kBook, 100000, &bus.stats());
  auto slow_sub = std::make_shared<Subscriber>(StreamKind::kBook, limits.book_mailbox, &bus.stats());
  FakeStream fast(fast_sub, false), slow(slow_sub, true);
  std::thread pump([&] { fast.Pump(); });
  bus.SubscribeBooks(fast_sub, {{"aster", "BTC"}}, 0);
  bus.SubscribeBooks(slow_sub, {{"aster", "BTC"}}, 0);

  constexpr int kUpdates = 2000;
  auto t0 = std::chrono::steady_clock::now();
  // Bursts of 20 with a drain between them: each burst may be coalesced, but the stalled
  // consumer still gets more messages than its mailbox holds.
  for (int i = 0; i < kUpdates; ++i) {
    bus.Publish(BookEvent(false, 2 + i, 990 - i % 50, 1020 + i % 50));
    if (i % 20 == 19) Drain(bus);
  }
  auto publish_time = std::chrono::steady_clock::now() - t0;
  // Publishing never waits on subscribers.
  CHECK(publish_time < std::chrono::seconds(1));

  // The publisher outran the fan-out, so live deltas were coalesced: whatever the message count,
  // sequences are contiguous and the book the client rebuilds equals the one published.
  auto last_venue_seq = [&] {
    return fast.msgs.empty() ? 0 : Decode<v1::OrderBookUpdate>(fast.msgs.back()).venue_sequence();
  };
  REQUIRE(fast.WaitFor([&] { return last_venue_seq() == 1 + kUpdates; }));
  auto first = Decode<v1::OrderBookUpdate>(fast.msgs.front());
  CHECK(first.is_snapshot());
  CHECK(first.status() == v1::BOOK_STATUS_LIVE);
  OrderBook expected(1, 3), rebuilt(1, 3);
  expected.Apply(BookSide::kBid, {1000, 1000});
  expected.Apply(BookSide::kAsk, {1010, 2000});
  for (int i = 0; i < kUpdates; ++i) {
    expected.Apply(BookSide::kBid, {990 - i % 50, 1000});
    expected.Apply(BookSide::kAsk, {1020 + i % 50, 2000});
  }
  auto apply = [&](const v1::OrderBookUpdate& m) {
    for (const auto& l : m.bids()) {
      rebuilt.Apply(BookSide::kBid, {*ParseScaled(l.price(), 1), *ParseScaled(l.size(), 3)});
    }
    for (const auto& l : m.asks()) {
      rebuilt.Apply(BookSide::kAsk, {*ParseScaled(l.price(), 1), *ParseScaled(l.size(), 3)});
    }
  };
  apply(first);
  uint64_t seq = first.sequence();
  for (size_t i = 1; i < fast.msgs.size(); ++i) {
    auto m = Decode<v1::OrderBookUpdate>(fast.msgs[i]);
    CHECK_FALSE(m.is_snapshot());
    CHECK(m.sequence() == ++seq);
    apply(m);
  }
  CHECK(fast.msgs.size() <= kUpdates + 1);
  // Every event is either the first of a message or counted as merged into one.
  CHECK(bus.stats().book_deltas_merged.load() + (fast.msgs.size() - 1) == kUpdates);
  auto same = [](const std::vector<Level>& a, const std::vector<Level>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Level& x, const Level& y) {
      return x.price == y.price && x.size == y.size;
    });
  };
  CHECK(same(rebuilt.Bids(), expected.Bids()));
  CHECK(same(rebuilt.Asks(), expected.Asks()));
  // The stalled one holds one in-flight write; its queue overflowed and was replaced by a
  // fresh snapshot flagged resync.
  CHECK(bus.stats().slow_consumer_resyncs.load() > 0);
  CHECK(slow_sub->queued() <= limits.book_mailbox);
  slow.stalled = false;
  slow_sub->OnWriteDone(true);  // unstick: the next message must be a resync snapshot
  REQUIRE(slow.WaitFor([&] { return slow.msgs.size() >= 2; }));
  auto resync = Decode<v1::OrderBookUpdate>(slow.msgs[1]);
  CHECK(resync.is_snapshot());
  CHECK(resync.resync());
  fast.running = false;
  pump.join();
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  CHECK(fast.finished);
  CHECK(fast.status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("order events: lossless with replay, bounded, RESOURCE_EXHAUSTED when exceeded",
          "[bus]") {
  LimitsConfig limits;
  limits.order_mailbox = 4;
  limits.replay_buffer = 100;
  ManualClock clock(1);
  Bus bus(limits, {}, clock);
  bus.Start();
  for (int i = 1; i <= 5; ++i) bus.Publish(AccountOrderEvent(i));

  // Resume from sequence 3: gets 3, 4, 5, then live ones.
  auto sub = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
  FakeStream s(sub, false);
  std::thread pump([&] { s.Pump(); });
  bus.SubscribeOrders(sub, "acc1", 3);
  bus.Publish(AccountOrderEvent(6));
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 4; }));
  for (size_t i = 0; i < 4; ++i) CHECK(Decode<v1::OrderEvent>(s.msgs[i]).sequence() == 3 + i);

  // A stalled order consumer is cut off, never silently dropped.
  auto stuck = std::make_shared<Subscriber>(StreamKind::kOrders, limits.order_mailbox, &bus.stats());
  FakeStream st(stuck, true);
  bus.SubscribeOrders(stuck, "acc1", 0);
  for (int i = 7; i < 20; ++i) bus.Publish(AccountOrderEvent(i));
  REQUIRE(st.WaitFor([&] { return st.finished; }));
  CHECK(st.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 4 + 13; }));

  // A sequence older than the replay buffer is OUT_OF_RANGE.
  LimitsConfig tiny = limits;
  s.running = false;
  pump.join();
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  Bus small(LimitsConfig{.replay_buffer = 2}, {}, clock);
  small.Start();
  for (int i = 1; i <= 5; ++i) small.Publish(AccountOrderEvent(i));
  auto late = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &small.stats());
  FakeStream l(late, false);
  small.SubscribeOrders(late, "acc1", 1);
  REQUIRE(l.WaitFor([&] { return l.finished; }));
  CHECK(l.status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  small.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  (void)tiny;
}

// A transport that records the headers (and whether they went alone) and every write, and
// completes each op at once, as the reactor would from gRPC's callbacks.
struct HeaderStream {
  explicit HeaderStream(SubscriberPtr s) : sub(std::move(s)) {
    sub->Bind(
        [this](const grpc::ByteBuffer* m, bool) {
          {
            std::lock_guard l(mu);
            ops.push_back("write");
            msgs.push_back(*m);
          }
          sub->OnWriteDone(true);
        },
        [](const grpc::Status&) {},
        [this](const Subscriber::Headers& h, bool alone) {
          {
            std::lock_guard l(mu);
            ops.push_back(alone ? "headers alone" : "headers attached");
            headers = h;
          }
          if (alone) sub->OnWriteDone(true);  // OnSendInitialMetadataDone
        });
  }
  std::string Header(const std::string& key) {
    std::lock_guard l(mu);
    for (const auto& [k, v] : headers) {
      if (k == key) return v;
    }
    return "(absent)";
  }
  std::vector<std::string> Ops() {
    std::lock_guard l(mu);
    return ops;
  }
  SubscriberPtr sub;
  std::mutex mu;
  std::vector<std::string> ops;
  std::vector<grpc::ByteBuffer> msgs;
  Subscriber::Headers headers;
};

TEST_CASE("a stream's headers go out once the bus registered it: alone, or with its first message",
          "[bus][headers]") {
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  bus.Publish(AccountOrderEvent(1));
  bus.Publish(AccountOrderEvent(2));
  const std::string epoch = std::to_string(bus.epoch());

  // Live only: nothing before the bus ran the subscription, then the headers alone, carrying
  // where the account stands; the next event follows them.
  auto live = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
  HeaderStream a(live);
  CHECK(a.Ops().empty());
  bus.SubscribeOrders(live, "acc1", 0);
  Drain(bus);
  CHECK(a.Ops() == std::vector<std::string>{"headers alone"});
  CHECK(a.Header("perpgw-sequence") == "2");
  CHECK(a.Header("perpgw-epoch") == epoch);
  bus.Publish(AccountOrderEvent(3));
  Drain(bus);
  REQUIRE(a.Ops() == std::vector<std::string>{"headers alone", "write"});
  CHECK(Decode<v1::OrderEvent>(a.msgs[0]).sequence() == 3);

  // A replay: the headers ride on its first message, once.
  auto replay = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
  HeaderStream b(replay);
  bus.SubscribeOrders(replay, "acc1", 2);
  Drain(bus);
  CHECK(b.Ops() == std::vector<std::string>{"headers attached", "write", "write"});
  CHECK(b.Header("perpgw-sequence") == "3");
  CHECK(Decode<v1::OrderEvent>(b.msgs[0]).sequence() == 2);

  // A refused subscription sends no headers of its own (the status carries them).
  auto ahead = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
  HeaderStream c(ahead);
  bus.SubscribeOrders(ahead, "acc1", 9);
  Drain(bus);
  CHECK(c.Ops().empty());

  // Every stream kind goes live the same way (no headers of its own).
  auto book = std::make_shared<Subscriber>(StreamKind::kTrades, 64, &bus.stats());
  HeaderStream d(book);
  bus.SubscribeTrades(book, {{"aster", "BTC"}});
  Drain(bus);
  CHECK(d.Ops() == std::vector<std::string>{"headers alone"});
  CHECK(d.headers.empty());
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("BBO is conflated per market for a stalled consumer", "[bus]") {
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {}, clock);
  bus.Start();
  auto sub = std::make_shared<Subscriber>(StreamKind::kBbo, 1000, &bus.stats());
  FakeStream s(sub, true);
  bus.SubscribeBbo(sub, {{"aster", "BTC"}, {"aster", "ETH"}});
  for (int i = 0; i < 500; ++i) {
    Bbo b;
    b.venue = "aster";
    b.symbol = i % 2 ? "BTC" : "ETH";
    b.bid_price = Decimal::FromInt(100 + i);
    b.ask_price = Decimal::FromInt(200 + i);
    bus.Publish(std::make_shared<const Event>(b));
  }
  // One in flight + at most one queued per market.
  REQUIRE(s.WaitFor([&] { return !s.msgs.empty(); }));
  bus.Post([] {});
  std::this_thread::yield();
  REQUIRE(s.WaitFor([&] { return bus.stats().events_in.load() == 500; }));
  CHECK(sub->queued() <= 2);
  s.stalled = false;
  sub->OnWriteDone(true);
  sub->OnWriteDone(true);
  REQUIRE(s.WaitFor([&] { return s.msgs.size() >= 3; }));
  auto last = Decode<v1::BboUpdate>(s.msgs.back());
  // The newest value survives conflation.
  CHECK((last.bid_price() == "599" || last.bid_price() == "598"));
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("mailbox hints the transport to buffer only while more messages are queued", "[bus]") {
  BusStats stats;
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 100, &stats);
  FakeStream s(sub, true);  // writes complete only when the test says so
  grpc::ByteBuffer m;
  REQUIRE(sub->PushBook(m, 0));  // idle mailbox: written at once, nothing behind it
  REQUIRE(sub->PushBook(m, 0));
  REQUIRE(sub->PushBook(m, 0));
  REQUIRE(s.hinted.size() == 1);
  CHECK_FALSE(s.hinted[0]);
  sub->OnWriteDone(true);  // two queued: the first of them may be held for the second
  REQUIRE(s.hinted.size() == 2);
  CHECK(s.hinted[1]);
  sub->OnWriteDone(true);  // the last of the burst must be flushed
  REQUIRE(s.hinted.size() == 3);
  CHECK_FALSE(s.hinted[2]);
  sub->OnWriteDone(true);
  CHECK(s.hinted.size() == 3);
  // Conflated keys count as queued too.
  auto bbo = std::make_shared<Subscriber>(StreamKind::kBbo, 100, &stats);
  FakeStream b(bbo, true);
  bbo->PushConflated("a", m);
  bbo->PushConflated("b", m);
  bbo->PushConflated("c", m);
  bbo->OnWriteDone(true);
  REQUIRE(b.hinted.size() == 2);
  CHECK(b.hinted[1]);
  bbo->OnWriteDone(true);
  REQUIRE(b.hinted.size() == 3);
  CHECK_FALSE(b.hinted[2]);
}

TEST_CASE("a push does not wait for a StartWrite under way on another thread", "[bus]") {
  // gRPC's thread starts the next write from OnWriteDone; StartWrite may send inline (a
  // syscall, wake-ups). The venue thread pushing the next update must not block on that: with
  // the mailbox lock held across StartWrite it did (perf: the venue thread's off-CPU waits at
  // 150k updates/s over 50 symbols ended in Subscriber::PushBook's mutex). Finish meanwhile is
  // deferred until StartWrite returns, so OnDone can never overtake a starting write.
  BusStats stats;
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 100, &stats);
  std::mutex mu;
  std::condition_variable cv;
  bool in_start = false, release = false;
  int starts = 0, finishes = 0;
  sub->Bind(
      [&](const grpc::ByteBuffer*, bool) {
        std::unique_lock l(mu);
        ++starts;
        if (starts == 2) {  // the write started from OnWriteDone blocks until released
          in_start = true;
          cv.notify_all();
          cv.wait(l, [&] { return release; });
        }
      },
      [&](const grpc::Status&) {
        std::lock_guard l(mu);
        ++finishes;
      });
  grpc::ByteBuffer m;
  REQUIRE(sub->PushBook(m, 0));  // write 1 in flight
  REQUIRE(sub->PushBook(m, 0));  // queued
  std::thread grpc_thread([&] { sub->OnWriteDone(true); });  // starts write 2: blocks inside
  {
    std::unique_lock l(mu);
    REQUIRE(cv.wait_for(l, std::chrono::seconds(10), [&] { return in_start; }));
  }
  auto push = std::async(std::launch::async, [&] { return sub->PushBook(m, 0); });
  const bool push_returned = push.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  auto finish = std::async(std::launch::async,
                           [&] { sub->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "x")); });
  const bool finish_returned =
      finish.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  bool finished_early;
  {
    std::lock_guard l(mu);
    finished_early = finishes != 0;
    release = true;
    cv.notify_all();
  }
  grpc_thread.join();
  push.wait();
  finish.wait();
  CHECK(push_returned);
  CHECK(push.get());
  CHECK(finish_returned);
  CHECK_FALSE(finished_early);  // deferred while the write was being started
  std::lock_guard l(mu);
  CHECK(finishes == 1);  // then run once, by the starting thread
  CHECK(starts == 2);
}

TEST_CASE("book consumer that lags beyond the bound is resynced before its queue fills",
          "[bus]") {
  LimitsConfig limits;
  ManualClock clock(1'000'000'000);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  bus.Publish(BookEvent(true, 1, 1000, 1010));
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 1000, &bus.stats());
  sub->set_max_lag(100'000'000);  // 100 ms
  FakeStream s(sub, true);
  bus.SubscribeBooks(sub, {{"aster", "BTC"}}, 0);
  Drain(bus);
  REQUIRE(s.msgs.size() == 1);  // the snapshot, in flight and never completed
  bus.Publish(BookEvent(false, 2, 999, 1011));
  Drain(bus);
  clock.Advance(60'000'000);
  bus.Publish(BookEvent(false, 3, 998, 1012));
  Drain(bus);
  CHECK(sub->queued() == 2);  // oldest has waited 60 ms: still within the bound
  CHECK(bus.stats().slow_consumer_resyncs.load() == 0);
  clock.Advance(50'000'000);
  bus.Publish(BookEvent(false, 4, 997, 1013));
  Drain(bus);
  // 110 ms > 100 ms: the backlog is dropped for one fresh snapshot flagged resync.
  CHECK(bus.stats().slow_consumer_resyncs.load() == 1);
  CHECK(sub->queued() == 1);
  sub->OnWriteDone(true);
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 2; }));
  auto resync = Decode<v1::OrderBookUpdate>(s.msgs[1]);
  CHECK(resync.is_snapshot());
  CHECK(resync.resync());
  CHECK(resync.venue_sequence() == 4);
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("book deltas go out one message per event when the fan-out keeps up", "[bus]") {
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  bus.Publish(BookEvent(true, 1, 1000, 1010));
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 1000, &bus.stats());
  FakeStream s(sub, false);
  std::thread pump([&] { s.Pump(); });
  bus.SubscribeBooks(sub, {{"aster", "BTC"}}, 0);
  for (int i = 0; i < 20; ++i) {
    bus.Publish(BookEvent(false, 2 + i, 999 - i, 1011 + i));
    Drain(bus);  // the bus drains before the next event: nothing to coalesce
  }
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 21; }));
  for (int i = 0; i < 20; ++i) {
    auto m = Decode<v1::OrderBookUpdate>(s.msgs[1 + i]);
    CHECK(m.venue_sequence() == static_cast<uint64_t>(2 + i));
    REQUIRE(m.bids_size() == 1);
    CHECK(*ParseScaled(m.bids(0).price(), 1) == 999 - i);
  }
  s.running = false;
  pump.join();
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

// The order-event log: a new Bus on the same file (a restart) continues the sequences, replays
// what was published before it under the new epoch, reports what clients were told per order,
// and never repeats a fill (by trade id).
TEST_CASE("fills with the same venue trade id on two markets (or both sides) are both kept",
          "[bus]") {
  // Binance-family venues (Aster) and Backpack number trades per symbol: trade 7 on BTC and
  // trade 7 on ETH are two fills. A self-trade has a buy and a sell fill with one trade id.
  // Only a repeat of the same fill (same market, side and id) is a duplicate.
  LimitsConfig limits;
  limits.replay_buffer = 100;
  ManualClock clock(1);
  Bus bus(limits, {}, clock);
  bus.Start();
  auto fill_event = [](const std::string& symbol, Side side, const std::string& oid) {
    OrderEvent e;
    e.order.account = "acc1";
    e.order.venue = "aster";
    e.order.symbol = symbol;
    e.order.order_id = oid;
    e.order.client_order_id = "c-" + oid;
    e.order.side = side;
    e.order.status = OrderStatus::kFilled;
    e.order.filled_size = *Decimal::Parse("0.001");
    Fill f;
    f.venue = "aster";
    f.account = "acc1";
    f.symbol = symbol;
    f.order_id = oid;
    f.side = side;
    f.trade_id = "7";
    f.size = *Decimal::Parse("0.001");
    e.fill = f;
    return std::make_shared<const Event>(e);
  };
  bus.Publish(fill_event("BTC", Side::kBuy, "o1"));
  bus.Publish(fill_event("ETH", Side::kBuy, "o2"));
  bus.Publish(fill_event("ETH", Side::kSell, "o3"));
  bus.Publish(fill_event("ETH", Side::kSell, "o3"));  // the same fill again: dropped
  auto sub = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
  FakeStream s(sub, false);
  std::thread pump([&] { s.Pump(); });
  bus.SubscribeOrders(sub, "acc1", 1);
  s.WaitFor([&] { return s.msgs.size() >= 3 || s.finished; });
  s.running = false;
  pump.join();
  REQUIRE(s.msgs.size() == 3);
  int fills = 0;
  for (auto& m : s.msgs) fills += Decode<v1::OrderEvent>(m).has_fill() ? 1 : 0;
  CHECK(fills == 3);
  CHECK(Decode<v1::OrderEvent>(s.msgs[1]).fill().market().symbol() == "ETH");
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("order events survive a restart through the order-event log", "[bus][orderlog]") {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("perpgw_bus_log_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/order-events.log";
  LimitsConfig limits;
  limits.replay_buffer = 100;
  ManualClock clock(1000);
  auto event = [](const std::string& cid, OrderStatus st, const char* filled,
                  const char* trade = nullptr) {
    OrderEvent e;
    e.order.account = "acc1";
    e.order.venue = "aster";
    e.order.symbol = "BTC";
    e.order.client_order_id = cid;
    e.order.order_id = "v-" + cid;
    e.order.status = st;
    e.order.filled_size = *Decimal::Parse(filled);
    if (trade) {
      Fill f;
      f.trade_id = trade;
      f.size = *Decimal::Parse("0.001");
      e.fill = f;
    }
    return std::make_shared<const Event>(e);
  };
  auto collect = [](Bus& bus, uint64_t from, size_t n, uint64_t epoch = 0) {
    auto sub = std::make_shared<Subscriber>(StreamKind::kOrders, 64, &bus.stats());
    auto s = std::make_unique<FakeStream>(sub, false);
    std::thread pump([&] { s->Pump(); });
    bus.SubscribeOrders(sub, "acc1", from, epoch);
    s->WaitFor([&] { return s->msgs.size() >= n || s->finished; });
    s->running = false;
    pump.join();
    return s;
  };

  uint64_t epoch1 = 0;
  {
    Bus bus(limits, {}, clock);
    REQUIRE(bus.OpenOrderLog(path, false).ok());
    epoch1 = bus.epoch();
    CHECK(epoch1 != 0);
    // Covered from the log's creation on; nothing was published about this order yet.
    auto p0 = bus.PublishedBeforeStart("acc1", "c1", 1000);
    CHECK(p0.covered);
    CHECK_FALSE(p0.found);
    CHECK_FALSE(bus.PublishedBeforeStart("acc1", "c1", 999).covered);
    bus.Start();
    bus.Publish(event("c1", OrderStatus::kOpen, "0"));
    bus.Publish(event("c1", OrderStatus::kPartiallyFilled, "0.001", "t1"));
    bus.Publish(event("c1", OrderStatus::kPartiallyFilled, "0.001", "t1"));  // repeat: dropped
    bus.Publish(event("c2", OrderStatus::kOpen, "0"));
    auto s = collect(bus, 1, 3);
    REQUIRE(s->msgs.size() == 3);
    CHECK(Decode<v1::OrderEvent>(s->msgs[1]).fill().trade_id() == "t1");
    CHECK(Decode<v1::OrderEvent>(s->msgs[2]).order().client_order_id() == "c2");
    for (auto& m : s->msgs) CHECK(Decode<v1::OrderEvent>(m).epoch() == epoch1);
    bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  }
  {
    // Torn tail from a crash mid-append: cut, the rest intact.
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << std::string("\x40\x00\x00\x00garbage", 11);
  }
  {
    Bus bus(limits, {}, clock);
    REQUIRE(bus.OpenOrderLog(path, false).ok());
    CHECK(bus.epoch() != epoch1);
    auto p1 = bus.PublishedBeforeStart("acc1", "c1", 2000);
    CHECK(p1.covered);
    REQUIRE(p1.found);
    CHECK(p1.status == OrderStatus::kPartiallyFilled);
    CHECK(p1.filled_size == *Decimal::Parse("0.001"));
    bus.Start();
    // The reconcile after the restart reports t1 again and the next fill: only t2 goes out.
    bus.Publish(event("c1", OrderStatus::kPartiallyFilled, "0.001", "t1"));
    bus.Publish(event("c1", OrderStatus::kFilled, "0.002", "t2"));
    // A client resuming after its last event (sequence 3) with its old epoch gets the rest.
    auto s = collect(bus, 4, 1, epoch1);
    REQUIRE(s->msgs.size() == 1);
    auto e = Decode<v1::OrderEvent>(s->msgs[0]);
    CHECK(e.sequence() == 4);
    CHECK(e.fill().trade_id() == "t2");
    CHECK(e.epoch() == bus.epoch());
    // Replay from the start spans both processes.
    auto all = collect(bus, 1, 4);
    REQUIRE(all->msgs.size() == 4);
    CHECK(Decode<v1::OrderEvent>(all->msgs[0]).epoch() == epoch1);
    bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  }
  {
    // Without a log, a resume naming an older epoch is told sequences restarted.
    Bus bus(limits, {}, clock);
    bus.Start();
    bus.Publish(event("c9", OrderStatus::kOpen, "0"));
    auto s = collect(bus, 1, 1, epoch1);
    CHECK(s->finished);
    CHECK(s->status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  }
  std::filesystem::remove_all(dir);
}

// Defect (found by the kill -9 burst test, 1 run in ~25): an IOC's ack says FILLED before the
// venue's fill message; killed between the two, the restarted gateway took the ack's filled size
// for fills its clients had seen, and the fill never reached StreamOrderEvents.
TEST_CASE("a FILLED state without its fill message does not count as the fill across a restart",
          "[bus][orderlog]") {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("perpgw_bus_fills_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/order-events.log";
  LimitsConfig limits;
  ManualClock clock(1000);
  auto event = [](const std::string& cid, const char* filled, const char* trade) {
    OrderEvent e;
    e.order.account = "acc1";
    e.order.venue = "backpack";
    e.order.symbol = "BTC";
    e.order.client_order_id = cid;
    e.order.order_id = "v-" + cid;
    e.order.status = OrderStatus::kFilled;
    e.order.filled_size = *Decimal::Parse(filled);
    if (trade) {
      Fill f;
      f.trade_id = trade;
      f.size = *Decimal::Parse(filled);
      e.fill = f;
    }
    return std::make_shared<const Event>(e);
  };
  {
    Bus bus(limits, {}, clock);
    REQUIRE(bus.OpenOrderLog(path, false).ok());
    bus.Start();
    bus.Publish(event("ack-only", "0.001", nullptr));  // the ack; killed before the fill
    bus.Publish(event("both", "0.002", nullptr));
    bus.Publish(event("both", "0.002", "t-both"));
    bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));  // drains the queue first
  }
  Bus bus(limits, {}, clock);
  REQUIRE(bus.OpenOrderLog(path, false).ok());
  auto ack_only = bus.PublishedBeforeStart("acc1", "ack-only", 2000);
  REQUIRE(ack_only.found);
  CHECK(ack_only.status == OrderStatus::kFilled);
  CHECK(ack_only.filled_size == Decimal());  // no fill message went out: reconcile sends it
  auto both = bus.PublishedBeforeStart("acc1", "both", 2000);
  REQUIRE(both.found);
  CHECK(both.filled_size == *Decimal::Parse("0.002"));
  std::filesystem::remove_all(dir);
}

// Defect (issue 13, 3): a starved fan-out sent books minutes late while they said LIVE. Data
// whose venue frame arrived longer ago than limits.book_max_lag_ms goes out STALE ("late").
TEST_CASE("book data older than the lag bound is flagged STALE, not LIVE", "[bus]") {
  LimitsConfig limits;
  limits.book_max_lag_ms = 1000;
  ManualClock clock(100LL * 1000000000);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  auto publish = [&](bool snapshot, uint64_t id, UnixNanos received) {
    bus.Publish(BookEvent(snapshot, id, 1000, 1010, received));
  };
  publish(true, 1, clock.Now());
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 1000, &bus.stats());
  FakeStream s(sub, false);
  std::thread pump([&] { s.Pump(); });
  bus.SubscribeBooks(sub, {{"aster", "BTC"}}, 0);
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 1; }));
  CHECK(Decode<v1::OrderBookUpdate>(s.msgs[0]).status() == v1::BOOK_STATUS_LIVE);
  // A frame received 2.5 s before the fan-out handles it.
  publish(false, 2, clock.Now() - 2500LL * 1000000);
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 2; }));
  auto late = Decode<v1::OrderBookUpdate>(s.msgs[1]);
  CHECK(late.status() == v1::BOOK_STATUS_STALE);
  CHECK(late.status_reason().find("late: sent 2500 ms") != std::string::npos);
  // Fresh again: LIVE.
  publish(false, 3, clock.Now());
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 3; }));
  CHECK(Decode<v1::OrderBookUpdate>(s.msgs[2]).status() == v1::BOOK_STATUS_LIVE);
  s.running = false;
  pump.join();
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

namespace {

// Keeps the bus loop turning (a sweep runs after a batch, at most every 200 ms) until `cond`.
template <typename Cond>
bool TurnUntil(Bus& bus, Cond cond, int ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Drain(bus);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

// Defect (found by the streams suite under ThreadSanitizer's timing): a stream cancelled before
// the bus ran its subscribe task was added dead after the sweep had already counted its end, so
// nothing swept it again until some other stream ended: it leaked (perpgw_subscribers stayed up).
TEST_CASE("a stream that ended before its subscription reached the bus is never kept", "[bus]") {
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {}, clock);
  bus.Start();
  // sub0: subscribed, then ended; once the bus let go of it, a sweep has counted every end so far.
  auto sub0 = std::make_shared<Subscriber>(StreamKind::kLiquidations, 100, &bus.stats());
  auto sub1 = std::make_shared<Subscriber>(StreamKind::kLiquidations, 100, &bus.stats());
  bus.SubscribeLiquidations(sub0, "acct");
  Drain(bus);
  sub1->OnDone();  // sub1's call ends before its subscription is handled
  sub0->OnDone();
  REQUIRE(TurnUntil(bus, [&] { return sub0.use_count() == 1; }));
  // Now sub1's subscription arrives: the bus must not keep a stream that has already ended.
  // (Posted tasks hold a reference until the bus clears its batch: wait for the count to drop.)
  bus.SubscribeLiquidations(sub1, "acct");
  CHECK(TurnUntil(bus, [&] { return sub1.use_count() == 1; }));
  // The same for every kind of subscription (a marker stream shows when a sweep has run).
  auto dead = std::make_shared<Subscriber>(StreamKind::kBbo, 100, &bus.stats());
  auto marker = std::make_shared<Subscriber>(StreamKind::kLiquidations, 100, &bus.stats());
  bus.SubscribeLiquidations(marker, "acct");
  Drain(bus);
  dead->OnDone();
  marker->OnDone();
  REQUIRE(TurnUntil(bus, [&] { return marker.use_count() == 1; }));
  bus.SubscribeBbo(dead, {{"aster", "BTC"}});
  bus.SubscribeTrades(dead, {{"aster", "BTC"}});
  bus.SubscribeFunding(dead, {{"aster", "BTC"}});
  bus.SubscribeBooks(dead, {{"aster", "BTC"}}, 5);
  bus.SubscribePositions(dead, "acct");
  bus.SubscribeOrders(dead, "acct", 0);
  CHECK(TurnUntil(bus, [&] { return dead.use_count() == 1; }));
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("a venue without a ticker gets its BBO from the book: one per change of the top",
          "[bus][bbo]") {
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {}, clock);
  bus.DeriveBboFromBook("aster");
  bus.Start();
  auto sub = std::make_shared<Subscriber>(StreamKind::kBbo, 1000, &bus.stats());
  FakeStream s(sub, false);
  std::thread pump([&] { s.Pump(); });
  bus.Publish(BookEvent(true, 1, 1000, 1010));  // bid 100.0 x 1, ask 101.0 x 2
  bus.SubscribeBbo(sub, {{"aster", "BTC"}});
  // The current top first.
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 1; }));
  auto first = Decode<v1::BboUpdate>(s.msgs[0]);
  CHECK(first.bid_price() == "100");
  CHECK(first.bid_size() == "1");
  CHECK(first.ask_price() == "101");
  CHECK(first.ask_size() == "2");
  CHECK(first.status() == v1::BOOK_STATUS_LIVE);
  CHECK(first.sequence() == 1);

  // A level below the top changes nothing; a new best bid is one BBO.
  BookUpdate deep;
  deep.venue = "aster";
  deep.symbol = "BTC";
  deep.venue_seq = 2;
  deep.price_scale = 1;
  deep.size_scale = 3;
  deep.bids = {{990, 5000}};
  bus.Publish(std::make_shared<const Event>(deep));
  BookUpdate better = deep;
  better.venue_seq = 3;
  better.bids = {{1005, 3000}};
  bus.Publish(std::make_shared<const Event>(better));
  // A ticker BBO for this venue is not expected and is not passed on.
  Bbo ticker;
  ticker.venue = "aster";
  ticker.symbol = "BTC";
  ticker.bid_price = Decimal::FromInt(1);
  ticker.ask_price = Decimal::FromInt(2);
  bus.Publish(std::make_shared<const Event>(ticker));
  REQUIRE(s.WaitFor([&] { return s.msgs.size() >= 2; }));
  Drain(bus);
  REQUIRE(s.WaitFor([&] { return sub->queued() == 0; }));
  {
    std::lock_guard l(s.mu);
    REQUIRE(s.msgs.size() == 2);
    auto second = Decode<v1::BboUpdate>(s.msgs[1]);
    CHECK(second.bid_price() == "100.5");
    CHECK(second.bid_size() == "3");
    CHECK(second.ask_price() == "101");
    CHECK(second.sequence() == 3);
  }

  // A resync is a BBO too (status), even with the top unchanged.
  BookUpdate resync = better;
  resync.venue_seq = 4;
  resync.bids.clear();
  resync.status = BookStatus::kResyncing;
  resync.status_reason = "gap";
  bus.Publish(std::make_shared<const Event>(resync));
  REQUIRE(s.WaitFor([&] { return s.msgs.size() == 3; }));
  {
    std::lock_guard l(s.mu);
    auto third = Decode<v1::BboUpdate>(s.msgs[2]);
    CHECK(third.status() == v1::BOOK_STATUS_RESYNCING);
    CHECK(third.bid_price() == "100.5");
  }
  s.running = false;
  pump.join();
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("a venue thread's batch is fanned out on that thread when the bus is idle, merged",
          "[bus]") {
  std::mutex mu;  // before the bus: the bus thread may still write until bus.Stop
  std::vector<grpc::ByteBuffer> msgs;
  std::vector<std::thread::id> writers;
  LimitsConfig limits;
  ManualClock clock(1);
  Bus bus(limits, {{"aster", 3600000}}, clock);
  bus.Start();
  bus.Publish(BookEvent(true, 1, 1000, 1010));
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 1000, &bus.stats());
  sub->Bind(
      [&](const grpc::ByteBuffer* m, bool) {
        {
          std::lock_guard l(mu);
          msgs.push_back(*m);
          writers.push_back(std::this_thread::get_id());
        }
        sub->OnWriteDone(true);  // a transport that completes at once
      },
      [](const grpc::Status&) {});
  bus.SubscribeBooks(sub, {{"aster", "BTC"}}, 0);
  Drain(bus);  // the snapshot went out
  while (!bus.idle()) std::this_thread::yield();  // the bus thread is done with that task
  {
    std::lock_guard l(mu);
    REQUIRE(msgs.size() == 1);
  }
  // One burst of five deltas of one pair, as an adapter hands over what one wake-up decoded.
  std::vector<EventPtr> burst;
  for (int i = 0; i < 5; ++i) burst.push_back(BookEvent(false, 2 + i, 999 - i, 1011 + i));
  bus.PublishBatch(burst);
  CHECK(burst.empty());
  {
    // Done before PublishBatch returned, on this thread: no hand-off to the bus thread.
    std::lock_guard l(mu);
    REQUIRE(msgs.size() == 2);
    CHECK(writers[1] == std::this_thread::get_id());
    auto m = Decode<v1::OrderBookUpdate>(msgs[1]);
    CHECK_FALSE(m.is_snapshot());
    CHECK(m.venue_sequence() == 6);  // the five merged into one delta, the last one's id
    CHECK(m.sequence() == 2);        // one message after the snapshot: no gap for the client
    CHECK(m.bids_size() == 5);       // each changed level once
  }
  CHECK(bus.stats().events_in.load() == 6);
  bus.Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
}

TEST_CASE("a batched book stream writes every queued update as one OrderBookBatch, in order",
          "[bus][batch]") {
  BusStats stats;
  auto sub = std::make_shared<Subscriber>(StreamKind::kBook, 100, &stats);
  sub->set_batch(3);
  FakeStream s(sub, true);  // writes complete only when the test says so
  auto update = [](const char* symbol, uint64_t seq, size_t levels) {
    v1::OrderBookUpdate u;
    u.mutable_market()->set_venue("backpack");
    u.mutable_market()->set_symbol(symbol);
    u.set_sequence(seq);
    for (size_t i = 0; i < levels; ++i) {
      auto* l = u.add_bids();
      l->set_price(std::to_string(100 + i));
      l->set_size("1");
    }
    grpc::ByteBuffer b;
    bool own = false;
    REQUIRE(grpc::SerializationTraits<v1::OrderBookUpdate>::Serialize(u, &b, &own).ok());
    return b;
  };
  REQUIRE(sub->PushBook(update("BTC", 1, 1), 0));  // idle: written at once, a batch of one
  REQUIRE(s.msgs.size() == 1);
  auto first = Decode<v1::OrderBookBatch>(s.msgs[0]);
  REQUIRE(first.updates_size() == 1);
  CHECK(first.updates(0).market().symbol() == "BTC");
  // Queued behind the write in flight: BTC 2, ETH 1, SOL 1 (200 levels: a length over 127,
  // two varint bytes), BTC 3. The next write takes the first three (the cap), the one after the
  // rest.
  REQUIRE(sub->PushBook(update("BTC", 2, 2), 0));
  REQUIRE(sub->PushBook(update("ETH", 1, 0), 0));
  REQUIRE(sub->PushBook(update("SOL", 1, 200), 0));
  REQUIRE(sub->PushBook(update("BTC", 3, 1), 0));
  CHECK(s.msgs.size() == 1);
  sub->OnWriteDone(true);
  REQUIRE(s.msgs.size() == 2);
  CHECK(s.hinted[1]);  // BTC 3 is still queued
  auto second = Decode<v1::OrderBookBatch>(s.msgs[1]);
  REQUIRE(second.updates_size() == 3);
  CHECK(second.updates(0).market().symbol() == "BTC");
  CHECK(second.updates(0).sequence() == 2);
  CHECK(second.updates(0).bids_size() == 2);
  CHECK(second.updates(1).market().symbol() == "ETH");
  CHECK(second.updates(2).market().symbol() == "SOL");
  CHECK(second.updates(2).bids_size() == 200);
  CHECK(second.updates(2).bids(199).price() == "299");
  sub->OnWriteDone(true);
  REQUIRE(s.msgs.size() == 3);
  CHECK_FALSE(s.hinted[2]);
  auto third = Decode<v1::OrderBookBatch>(s.msgs[2]);
  REQUIRE(third.updates_size() == 1);
  CHECK(third.updates(0).sequence() == 3);
  // An unbatched stream of the same pushes writes one OrderBookUpdate each.
  auto plain = std::make_shared<Subscriber>(StreamKind::kBook, 100, &stats);
  FakeStream p(plain, true);
  REQUIRE(plain->PushBook(update("BTC", 1, 1), 0));
  REQUIRE(plain->PushBook(update("ETH", 1, 1), 0));
  plain->OnWriteDone(true);
  REQUIRE(p.msgs.size() == 2);
  CHECK(Decode<v1::OrderBookUpdate>(p.msgs[1]).market().symbol() == "ETH");
}
