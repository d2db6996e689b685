// Order desk against a scripted fake venue: idempotency, request mismatch, unknown outcomes
// resolved only after the request's own expiry, 429, duplicate client ids, journal restart and
// reconcile of missed fills, market-order type.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <deque>
#include <filesystem>

#include "adapters/runtime/order_desk.h"

namespace perpgw::runtime {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t kWindow = 10 * kSec;

Decimal D(const char* s) {
  return *Decimal::Parse(s);
}

OrderRequest Req(const std::string& cid) {
  OrderRequest r;
  r.account = "acct";
  r.symbol = "BTC";
  r.client_order_id = cid;
  r.side = Side::kBuy;
  r.type = OrderType::kLimit;
  r.tif = TimeInForce::kIoc;
  r.price = D("100");
  r.size = D("1");
  return r;
}

// A venue whose answers the test scripts; it records every submit.
struct FakeVenue {
  int submits = 0, queries = 0;
  std::deque<OrderDesk::SubmitResult> answers;  // next submit answers (default: accepted)
  std::map<std::string, Order> orders;          // by client id: what a query finds
  std::vector<Fill> fills;
  bool query_fails = false;
  bool defer_queries = false;  // hold lookups until the test runs them
  std::vector<std::function<void()>> deferred;
  std::vector<OrderEvent> published;

  OrderDesk::Hooks Hooks() {
    OrderDesk::Hooks h;
    h.submit = [this](const OrderRequest& req, const JournalEntry&, OrderDesk::SubmitDone done) {
      ++submits;
      OrderDesk::SubmitResult r;
      if (!answers.empty()) {
        r = answers.front();
        answers.pop_front();
      } else {
        r.ack.outcome = AckOutcome::kAccepted;
        r.ack.order.order_id = "oid-" + req.client_order_id + "-" + std::to_string(submits);
        r.ack.order.status = OrderStatus::kOpen;
        orders[req.client_order_id] = r.ack.order;
      }
      done(r);
    };
    h.query = [this](const JournalEntry& e, OrderDesk::QueryDone done) {
      ++queries;
      if (defer_queries) {
        deferred.push_back([this, e, done] {
          OrderDesk::QueryResult q;
          q.found = OrderDesk::Found::kFound;
          q.order = orders[e.client_order_id];
          done(q);
        });
        return;
      }
      OrderDesk::QueryResult q;
      if (query_fails) {
        q.found = OrderDesk::Found::kError;
        q.error = "connection reset";
      } else if (auto it = orders.find(e.client_order_id); it != orders.end()) {
        q.found = OrderDesk::Found::kFound;
        q.order = it->second;
      } else {
        q.found = OrderDesk::Found::kNotFound;
      }
      done(q);
    };
    h.fills = [this](const std::string&, const std::string&, UnixNanos,
                     Callback<std::vector<Fill>> done) { done(fills); };
    h.publish = [this](OrderEvent ev) { published.push_back(std::move(ev)); };
    return h;
  }
};

OrderDesk::SubmitResult Unknown(bool answered = false, bool refused = false) {
  OrderDesk::SubmitResult r;
  r.ack.outcome = AckOutcome::kOutcomeUnknown;
  r.ack.message = answered ? "HTTP 429" : "timeout";
  r.venue_answered = answered;
  r.refused_before_engine = refused;
  return r;
}

struct Placed {
  bool called = false;
  absl::StatusOr<OrderAck> ack = absl::UnknownError("not called");
};

Placed Place(OrderDesk& desk, const OrderRequest& r) {
  Placed p;
  desk.Place(r, kWindow, [&p](absl::StatusOr<OrderAck> a) {
    p.called = true;
    p.ack = std::move(a);
  });
  return p;
}

std::string TempJournal(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("perpgw_desk_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return (dir / "fake.journal").string();
}

std::unique_ptr<OrderDesk> MakeDesk(const Clock& clock, const std::string& journal = "") {
  OrderDesk::Options o;
  o.venue = "fake";
  o.journal_path = journal;
  o.clock_slack_ns = kSec;
  auto d = OrderDesk::Open(o, clock);
  REQUIRE(d.ok());
  return std::move(*d);
}

// A desk in memory over a scripted venue, at a fixed time the test moves by hand.
struct DeskFixture {
  ManualClock clock{1000 * kSec};
  FakeVenue venue;
  std::unique_ptr<OrderDesk> desk = MakeDesk(clock);
  DeskFixture() { desk->SetHooks(venue.Hooks()); }
};

TEST_CASE_METHOD(DeskFixture,
                 "desk: a retried client id returns the original ack and sends nothing",
                 "[runtime][desk]") {
  auto first = Place(*desk, Req("c1"));
  REQUIRE(first.ack.ok());
  CHECK(first.ack->outcome == AckOutcome::kAccepted);
  CHECK(first.ack->order.order_id == "oid-c1-1");
  REQUIRE(venue.published.size() == 1);  // the ack is an order event too
  CHECK(venue.published[0].order.client_order_id == "c1");
  auto again = Place(*desk, Req("c1"));
  REQUIRE(again.ack.ok());
  CHECK(again.ack->outcome == AckOutcome::kAccepted);
  CHECK(again.ack->order.order_id == "oid-c1-1");
  CHECK(venue.submits == 1);
}

TEST_CASE_METHOD(DeskFixture,
                 "desk: a reused client id with different parameters is ALREADY_EXISTS",
                 "[runtime][desk]") {
  REQUIRE(Place(*desk, Req("c1")).ack.ok());
  auto r = Req("c1");
  r.price = D("101");
  auto p = Place(*desk, r);
  REQUIRE(!p.ack.ok());
  CHECK(p.ack.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(std::string(p.ack.status().message()).find("price: first 100, now 101") !=
        std::string::npos);
  r = Req("c1");
  r.side = Side::kSell;
  CHECK(Place(*desk, r).ack.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(venue.submits == 1);
}

TEST_CASE_METHOD(DeskFixture, "desk: not found is final only after the held request's expiry",
                 "[runtime][desk]") {
  venue.answers.push_back(Unknown());  // the POST timed out; the venue still holds it
  auto p = Place(*desk, Req("h1"));
  REQUIRE(p.ack.ok());
  CHECK(p.ack->outcome == AckOutcome::kOutcomeUnknown);
  CHECK(p.ack->retryable);

  // Retry 8 s later: the venue has not executed it yet. The old rule (not found → send again)
  // executes twice once the held request lands; the desk must answer unknown instead.
  clock.Advance(8 * kSec);
  auto retry = Place(*desk, Req("h1"));
  REQUIRE(retry.ack.ok());
  CHECK(retry.ack->outcome == AckOutcome::kOutcomeUnknown);
  CHECK(std::string(retry.ack->message).find("can still execute") != std::string::npos);
  CHECK(venue.submits == 1);

  SECTION("the held request executes: the next retry finds it, never a second order") {
    Order o;
    o.order_id = "held";
    o.status = OrderStatus::kFilled;
    o.filled_size = D("1");
    venue.orders["h1"] = o;
    clock.Advance(5 * kSec);
    auto found = Place(*desk, Req("h1"));
    REQUIRE(found.ack.ok());
    CHECK(found.ack->outcome == AckOutcome::kAccepted);
    CHECK(found.ack->order.order_id == "held");
    CHECK(found.ack->order.status == OrderStatus::kFilled);
    CHECK(venue.submits == 1);
  }
  SECTION("the window passes with nothing at the venue: the retry sends again") {
    clock.Advance(5 * kSec);  // 13 s > 10 s window + 1 s slack
    auto resent = Place(*desk, Req("h1"));
    REQUIRE(resent.ack.ok());
    CHECK(resent.ack->outcome == AckOutcome::kAccepted);
    CHECK(venue.submits == 2);
  }
  SECTION("a failing lookup stays unknown") {
    clock.Advance(5 * kSec);
    venue.query_fails = true;
    auto r = Place(*desk, Req("h1"));
    REQUIRE(r.ack.ok());
    CHECK(r.ack->outcome == AckOutcome::kOutcomeUnknown);
    CHECK(venue.submits == 1);
  }
}

TEST_CASE_METHOD(DeskFixture,
                 "desk: a 429 is unknown but settles at the next retry without waiting",
                 "[runtime][desk]") {
  venue.answers.push_back(Unknown(/*answered=*/true, /*refused=*/true));
  auto p = Place(*desk, Req("r1"));
  REQUIRE(p.ack.ok());
  CHECK(p.ack->outcome == AckOutcome::kOutcomeUnknown);
  CHECK(p.ack->retryable);
  auto retry = Place(*desk, Req("r1"));
  REQUIRE(retry.ack.ok());
  CHECK(retry.ack->outcome == AckOutcome::kAccepted);
  CHECK(venue.submits == 2);
}

TEST_CASE_METHOD(DeskFixture, "desk: a duplicate-client-id rejection returns the resting order",
                 "[runtime][desk]") {
  Order resting;
  resting.order_id = "resting-1";
  resting.status = OrderStatus::kOpen;
  venue.orders["d1"] = resting;
  OrderDesk::SubmitResult dup;
  dup.ack.outcome = AckOutcome::kRejected;
  dup.ack.message = "ClientOrderId is duplicated.";
  dup.duplicate_client_id = true;
  dup.venue_answered = true;
  venue.answers.push_back(dup);
  auto p = Place(*desk, Req("d1"));
  REQUIRE(p.ack.ok());
  CHECK(p.ack->outcome == AckOutcome::kAccepted);
  CHECK(p.ack->order.order_id == "resting-1");
  CHECK(p.ack->order.status == OrderStatus::kOpen);
}

TEST_CASE_METHOD(DeskFixture, "desk: a rejection is final for its client id", "[runtime][desk]") {
  OrderDesk::SubmitResult rej;
  rej.ack.outcome = AckOutcome::kRejected;
  rej.ack.reason = CancelReason::kPostOnlyViolation;
  rej.ack.message = "would immediately match";
  rej.ack.retryable = true;
  venue.answers.push_back(rej);
  auto p = Place(*desk, Req("p1"));
  REQUIRE(p.ack.ok());
  CHECK(p.ack->outcome == AckOutcome::kRejected);
  CHECK(p.ack->reason == CancelReason::kPostOnlyViolation);
  auto again = Place(*desk, Req("p1"));
  REQUIRE(again.ack.ok());
  CHECK(again.ack->outcome == AckOutcome::kRejected);
  CHECK(venue.submits == 1);
}

TEST_CASE_METHOD(DeskFixture, "desk: market orders say MARKET in acks and events",
                 "[runtime][desk]") {
  OrderRequest req = Req("m1");
  req.type = OrderType::kMarket;
  req.price = Decimal();
  req.max_slippage_bps = D("50");
  req.worst_price = D("100.5");
  const OrderRequest wire = WireRequest(req);
  CHECK(wire.type == OrderType::kLimit);
  CHECK(wire.tif == TimeInForce::kIoc);
  CHECK(wire.price == D("100.5"));
  Placed p;
  desk->Place(req, kWindow, [&p](absl::StatusOr<OrderAck> a) { p.ack = std::move(a); });
  REQUIRE(p.ack.ok());
  CHECK(p.ack->order.type == OrderType::kMarket);
  OrderEvent ev;
  ev.order.account = "acct";
  ev.order.client_order_id = "m1";
  ev.order.type = OrderType::kLimit;
  ev.order.status = OrderStatus::kFilled;
  ev.order.filled_size = D("1");
  CHECK(desk->OnOrderEvent(ev));
  CHECK(ev.order.type == OrderType::kMarket);
  Order looked_up;
  looked_up.account = "acct";
  looked_up.client_order_id = "m1";
  desk->Annotate(looked_up);
  CHECK(looked_up.type == OrderType::kMarket);
  // Same request again (the worst price differs on a retry: it is not part of the identity).
  req.worst_price = D("101");
  Placed again;
  desk->Place(req, kWindow, [&again](absl::StatusOr<OrderAck> a) { again.ack = std::move(a); });
  REQUIRE(again.ack.ok());
  CHECK(again.ack->outcome == AckOutcome::kAccepted);
  CHECK(again.ack->order.status == OrderStatus::kFilled);
  CHECK(venue.submits == 1);
}

TEST_CASE("desk: the journal makes ids idempotent across a restart", "[runtime][desk]") {
  const std::string path = TempJournal("restart");
  ManualClock clock(1000 * kSec);
  FakeVenue venue;
  {
    auto desk = MakeDesk(clock, path);
    desk->SetHooks(venue.Hooks());
    REQUIRE(Place(*desk, Req("j1")).ack->outcome == AckOutcome::kAccepted);
    venue.answers.push_back(Unknown());
    REQUIRE(Place(*desk, Req("j2")).ack->outcome == AckOutcome::kOutcomeUnknown);
  }  // "crash": the desk is gone, the journal stays
  // While away: j1 partially filled then filled (two fills), j2's held request executed.
  Order j1 = venue.orders["j1"];
  j1.status = OrderStatus::kFilled;
  j1.filled_size = D("1");
  venue.orders["j1"] = j1;
  for (int i = 0; i < 2; ++i) {
    Fill f;
    f.order_id = j1.order_id;
    f.trade_id = "t" + std::to_string(i);
    f.size = D("0.5");
    f.price = D("100");
    f.exchange_time = (1001 + i) * kSec;
    venue.fills.push_back(f);
  }
  Order j2;
  j2.order_id = "held-j2";
  j2.status = OrderStatus::kOpen;
  venue.orders["j2"] = j2;
  venue.published.clear();

  auto desk = MakeDesk(clock, path);
  desk->SetHooks(venue.Hooks());
  CHECK(!desk->ready());
  auto early = Place(*desk, Req("j1"));
  REQUIRE(!early.ack.ok());
  CHECK(early.ack.status().code() == absl::StatusCode::kUnavailable);
  bool reconciled = false;
  desk->Reconcile([&] { reconciled = true; });
  CHECK(reconciled);
  CHECK(desk->ready());
  // Exactly the missed events: j1's two fills then its state, j2's state.
  int fills = 0, j1_states = 0, j2_states = 0;
  for (const auto& ev : venue.published) {
    if (ev.fill)
      ++fills;
    else if (ev.order.client_order_id == "j1")
      ++j1_states;
    else if (ev.order.client_order_id == "j2")
      ++j2_states;
  }
  CHECK(fills == 2);
  CHECK(j1_states == 1);
  CHECK(j2_states == 1);

  const int submits = venue.submits;
  auto r1 = Place(*desk, Req("j1"));
  REQUIRE(r1.ack.ok());
  CHECK(r1.ack->outcome == AckOutcome::kAccepted);
  CHECK(r1.ack->order.status == OrderStatus::kFilled);
  auto r2 = Place(*desk, Req("j2"));
  REQUIRE(r2.ack.ok());
  CHECK(r2.ack->outcome == AckOutcome::kAccepted);
  CHECK(r2.ack->order.order_id == "held-j2");
  CHECK(venue.submits == submits);
  auto mismatch = Req("j1");
  mismatch.size = D("2");
  CHECK(Place(*desk, mismatch).ack.status().code() == absl::StatusCode::kAlreadyExists);
}

// A kill -9 between the journal write of a fill (the desk saw it) and the gateway's event log
// (the clients never did): the journal says FILLED, which is final, so a reconcile that trusts
// the journal publishes nothing and the fill is lost to StreamOrderEvents. The restart starts
// from what clients were told instead.
TEST_CASE("desk: a fill journaled but never told to clients goes out after a restart",
          "[runtime][desk]") {
  const std::string path = TempJournal("untold");
  ManualClock clock(1000 * kSec);
  FakeVenue venue;
  {
    auto desk = MakeDesk(clock, path);
    desk->SetHooks(venue.Hooks());
    REQUIRE(Place(*desk, Req("u1")).ack->outcome == AckOutcome::kAccepted);
    REQUIRE(Place(*desk, Req("u2")).ack->outcome == AckOutcome::kAccepted);
    Order filled = venue.orders["u1"];
    filled.client_order_id = "u1";
    filled.account = "acct";
    filled.status = OrderStatus::kFilled;
    filled.filled_size = D("1");
    venue.orders["u1"] = filled;
    Fill f;
    f.order_id = filled.order_id;
    f.trade_id = "t-u1";
    f.size = D("1");
    f.price = D("100");
    f.exchange_time = 1001 * kSec;
    venue.fills.push_back(f);
    OrderEvent ev{filled, f, f.exchange_time, clock.Now()};
    CHECK(desk->OnOrderEvent(ev));  // journaled as FILLED; the process dies before publishing
  }
  venue.published.clear();
  // What the event log says clients saw: u1 OPEN with nothing filled; u2 exactly as journaled.
  auto published = [](const JournalEntry& e) {
    PublishedOrder p;
    p.covered = true;
    p.found = true;
    p.status = OrderStatus::kOpen;
    return p;
  };
  for (bool with_view : {false, true}) {
    DYNAMIC_SECTION((with_view ? "starting from the published view" : "trusting the journal")) {
      auto desk = MakeDesk(clock, path);
      auto hooks = venue.Hooks();
      if (with_view) hooks.published = published;
      desk->SetHooks(hooks);
      desk->Reconcile();
      int fills = 0, u1_filled = 0, u2_states = 0;
      for (const auto& ev : venue.published) {
        if (ev.fill && ev.fill->trade_id == "t-u1") ++fills;
        if (!ev.fill && ev.order.client_order_id == "u1" &&
            ev.order.status == OrderStatus::kFilled) {
          ++u1_filled;
        }
        if (ev.order.client_order_id == "u2") ++u2_states;
      }
      if (with_view) {
        CHECK(fills == 1);
        CHECK(u1_filled == 1);
        CHECK(u2_states == 0);  // clients already had u2's state: nothing repeated
      } else {
        CHECK(fills == 0);  // the defect: lost
      }
    }
  }
}

TEST_CASE_METHOD(DeskFixture, "desk: a stream event settles an unknown outcome",
                 "[runtime][desk]") {
  venue.answers.push_back(Unknown());
  REQUIRE(Place(*desk, Req("e1")).ack->outcome == AckOutcome::kOutcomeUnknown);
  OrderEvent ev;
  ev.order.account = "acct";
  ev.order.client_order_id = "e1";
  ev.order.order_id = "from-stream";
  ev.order.status = OrderStatus::kOpen;
  CHECK(desk->OnOrderEvent(ev));
  auto r = Place(*desk, Req("e1"));
  REQUIRE(r.ack.ok());
  CHECK(r.ack->outcome == AckOutcome::kAccepted);
  CHECK(r.ack->order.order_id == "from-stream");
  CHECK(venue.submits == 1);
}

TEST_CASE_METHOD(DeskFixture, "desk: a reconcile asked for during a pass runs once after it",
                 "[runtime][desk]") {
  REQUIRE(Place(*desk, Req("o1")).ack->outcome == AckOutcome::kAccepted);  // open at the venue
  venue.defer_queries = true;
  const int before = venue.queries;
  int first = 0, second = 0;
  desk->Reconcile([&] { ++first; });
  desk->Reconcile([&] { ++second; });  // a reconnect while the first pass is out
  CHECK(venue.queries == before + 1);  // never two passes at once
  auto run = [&] {
    auto pending = std::move(venue.deferred);
    venue.deferred.clear();
    for (auto& f : pending) f();
  };
  run();
  CHECK(venue.queries == before + 2);  // the second pass, after the first
  CHECK(first + second == 0);
  run();
  CHECK(first == 1);
  CHECK(second == 1);
  CHECK(venue.deferred.empty());
}

// Native amend (TradingService.AmendOrder on a venue that modifies in place): the entry takes
// the venue's new price/size under the same client id, journaled, published once, and a
// stream event that repeats it is dropped.
TEST_CASE_METHOD(DeskFixture, "desk: a confirmed amend moves the entry's price and size",
                 "[runtime][desk]") {
  REQUIRE(Place(*desk, Req("a1")).ack->outcome == AckOutcome::kAccepted);
  venue.published.clear();
  Order amended;
  amended.account = "acct";
  amended.client_order_id = "a1";
  amended.order_id = "oid-a1-1";
  amended.status = OrderStatus::kOpen;
  amended.price = D("97");
  amended.size = D("2");
  auto reported = desk->RecordAmend(amended);
  REQUIRE(reported.has_value());
  CHECK(reported->price == D("97"));
  CHECK(reported->size == D("2"));
  CHECK(reported->order_id == "oid-a1-1");
  auto known = desk->Known("acct", "a1");
  REQUIRE(known.has_value());
  CHECK(known->price == D("97"));
  CHECK(known->size == D("2"));
  CHECK(known->status == OrderStatus::kOpen);
  REQUIRE(venue.published.size() == 1);  // the amended order goes out as an event
  CHECK(venue.published[0].order.price == D("97"));
  CHECK(venue.published[0].order.size == D("2"));
  // The venue's event for the same amend repeats what was published: dropped.
  OrderEvent ev;
  ev.order = amended;
  CHECK(!desk->OnOrderEvent(ev));
  // Recording it again changes nothing and publishes nothing.
  REQUIRE(desk->RecordAmend(amended).has_value());
  CHECK(venue.published.size() == 1);
  // A later reconcile and a duplicate ack carry the amended values.
  venue.orders["a1"] = amended;
  desk->Reconcile();
  CHECK(venue.published.size() == 1);
  CHECK(desk->Known("acct", "a1")->price == D("97"));
  auto dup = Req("a1");
  dup.price = D("97");
  dup.size = D("2");
  auto again = Place(*desk, dup);
  REQUIRE(again.ack.ok());
  CHECK(again.ack->outcome == AckOutcome::kAccepted);
  CHECK(again.ack->order.price == D("97"));
  CHECK(again.ack->order.size == D("2"));
  CHECK(venue.submits == 1);
  // The first request no longer describes the order.
  CHECK(Place(*desk, Req("a1")).ack.status().code() == absl::StatusCode::kAlreadyExists);
  // A client id the desk never saw is not its business.
  amended.client_order_id = "other";
  CHECK(!desk->RecordAmend(amended).has_value());
  CHECK(!desk->Known("acct", "other").has_value());
}

TEST_CASE("desk: an amended price and size survive a restart", "[runtime][desk]") {
  const std::string path = TempJournal("amend");
  ManualClock clock(1000 * kSec);
  FakeVenue venue;
  {
    auto desk = MakeDesk(clock, path);
    desk->SetHooks(venue.Hooks());
    REQUIRE(Place(*desk, Req("r1")).ack->outcome == AckOutcome::kAccepted);
    Order amended = venue.orders["r1"];
    amended.account = "acct";
    amended.client_order_id = "r1";
    amended.price = D("95");
    amended.size = D("3");
    REQUIRE(desk->RecordAmend(amended).has_value());
  }
  auto desk = MakeDesk(clock, path);
  auto known = desk->Known("acct", "r1");
  REQUIRE(known.has_value());
  CHECK(known->price == D("95"));
  CHECK(known->size == D("3"));
}

TEST_CASE_METHOD(DeskFixture,
                 "desk: a batch's orders go out together per account, in chunks of max_batch",
                 "[runtime][desk][batch]") {
  std::vector<std::vector<std::string>> chunks;  // client ids per batch request
  std::vector<std::vector<OrderDesk::BatchItem>> held;
  OrderDesk::Hooks h = venue.Hooks();
  h.max_batch = 3;
  h.submit_batch = [&](std::vector<OrderDesk::BatchItem> items) {
    std::vector<std::string> ids;
    for (const auto& it : items) ids.push_back(it.entry.client_order_id);
    chunks.push_back(ids);
    held.push_back(std::move(items));
  };
  desk->SetHooks(h);
  REQUIRE(desk->batches());

  desk->OpenBatch(7);
  std::vector<Placed> placed(8);
  auto place = [&](size_t i, OrderRequest r) {
    desk->Place(r, kWindow, [&placed, i](absl::StatusOr<OrderAck> a) {
      placed[i].called = true;
      placed[i].ack = std::move(a);
    });
  };
  for (size_t i = 0; i < 5; ++i) {
    auto r = Req("b" + std::to_string(i));
    r.batch_id = 7;
    place(i, r);
  }
  auto other = Req("x0");  // another account of the same batch: its own request
  other.account = "acct2";
  other.batch_id = 7;
  place(5, other);
  auto alone = Req("s0");  // not in the batch: sent at once
  place(6, alone);
  auto stranger = Req("t0");  // a batch id that is not open: sent at once
  stranger.batch_id = 99;
  place(7, stranger);
  CHECK(venue.submits == 2);
  CHECK(placed[6].called);
  CHECK(placed[7].called);
  CHECK(chunks.empty());
  for (size_t i = 0; i < 6; ++i) CHECK_FALSE(placed[i].called);  // held (journaled, in flight)

  desk->CloseBatch(7);
  // acct: b0 b1 b2 | b3 b4 ; acct2: x0 alone (a chunk of one goes through submit).
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0] == std::vector<std::string>{"b0", "b1", "b2"});
  CHECK(chunks[1] == std::vector<std::string>{"b3", "b4"});
  CHECK(venue.submits == 3);
  CHECK(placed[5].called);
  desk->CloseBatch(7);  // closing twice changes nothing
  CHECK(chunks.size() == 2);

  // The venue answers the first chunk: accepted, rejected, unknown (then found by the lookup).
  OrderDesk::SubmitResult ok;
  ok.ack.outcome = AckOutcome::kAccepted;
  ok.ack.order.order_id = "v-b0";
  ok.ack.order.status = OrderStatus::kOpen;
  held[0][0].done(ok);
  OrderDesk::SubmitResult rej;
  rej.ack.outcome = AckOutcome::kRejected;
  rej.ack.reason = CancelReason::kPostOnlyViolation;
  rej.ack.message = "would cross";
  held[0][1].done(rej);
  Order found;
  found.order_id = "v-b2";
  found.client_order_id = "b2";
  found.status = OrderStatus::kOpen;
  venue.orders["b2"] = found;
  held[0][2].done(Unknown());
  REQUIRE(placed[0].ack.ok());
  CHECK(placed[0].ack->outcome == AckOutcome::kAccepted);
  CHECK(placed[0].ack->order.order_id == "v-b0");
  REQUIRE(placed[1].ack.ok());
  CHECK(placed[1].ack->outcome == AckOutcome::kRejected);
  CHECK(placed[1].ack->reason == CancelReason::kPostOnlyViolation);
  REQUIRE(placed[2].ack.ok());
  CHECK(placed[2].ack->outcome == AckOutcome::kAccepted);
  CHECK(placed[2].ack->order.order_id == "v-b2");
  CHECK(venue.queries == 1);
  // A whole-request failure answers every order of the chunk (unknown: resolved by lookups).
  for (auto& item : held[1]) item.done(Unknown());
  CHECK(placed[3].called);
  CHECK(placed[4].called);

  // A retry of a batched order is idempotent like any other: no new request.
  auto again = Req("b0");
  again.batch_id = 8;
  desk->OpenBatch(8);
  auto p = Place(*desk, again);
  desk->CloseBatch(8);
  REQUIRE(p.ack.ok());
  CHECK(p.ack->order.order_id == "v-b0");
  CHECK(chunks.size() == 2);
  CHECK(venue.submits == 3);
}

}  // namespace

TEST_CASE("SubmitResult::ApplyVenueError: the one rule over an answer read from the body",
          "[desk]") {
  OrderDesk::SubmitResult res;
  res.venue_answered = true;
  res.ack.order.client_order_id = "c1";
  res.ack.message = "from the body";
  res.ack.outcome = AckOutcome::kAccepted;

  SECTION("a refusal: REJECTED with the venue's reason; order and message kept") {
    VenueError e;
    e.http_status = 400;
    e.message = "classified";
    e.reason = CancelReason::kPostOnlyViolation;
    e.duplicate_client_id = true;
    res.ApplyVenueError(e);
    CHECK(res.ack.outcome == AckOutcome::kRejected);
    CHECK(res.ack.reason == CancelReason::kPostOnlyViolation);
    CHECK_FALSE(res.ack.retryable);
    CHECK(res.duplicate_client_id);
    CHECK_FALSE(res.refused_before_engine);
    CHECK(res.ack.order.client_order_id == "c1");
    CHECK(res.ack.message == "from the body");
  }
  SECTION("rate limited: unknown outcome, refused before the engine, no reason") {
    VenueError e;
    e.http_status = 429;
    res.ack.reason = CancelReason::kNone;
    res.ApplyVenueError(e);
    CHECK(res.ack.outcome == AckOutcome::kOutcomeUnknown);
    CHECK(res.refused_before_engine);
    CHECK(res.ack.reason == CancelReason::kNone);
  }
  SECTION("could have executed: unknown outcome") {
    VenueError e;
    e.http_status = 503;
    e.retry = RetryClass::kUnknownOutcome;
    res.ApplyVenueError(e);
    CHECK(res.ack.outcome == AckOutcome::kOutcomeUnknown);
    CHECK_FALSE(res.refused_before_engine);
  }
}

}  // namespace perpgw::runtime
