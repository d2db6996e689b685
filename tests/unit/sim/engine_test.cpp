// Matching engine: post-only, crossing limits, IOC/FOK/market, reduce-only, maker fills on price
// moves, fees, positions/balances, funding and liquidation.
#include <catch2/catch.hpp>

#include "sim/core/engine.h"

namespace perpgw::sim {
namespace {

// One instrument TEST: tick 0.1, step 0.1, mid 100, a hand-made book; prices/sizes in mantissas
// (x10), money in 1e-8.
struct Fixture {
  ManualClock clock{1'700'000'000'000'000'000};
  Market market;
  Engine engine;
  std::vector<AccountEvent> events;
  std::vector<BookChange> changes;

  static std::vector<SimInstrument> Instruments(int max_leverage = 20) {
    InstrumentSpec s;
    s.symbol = "TEST";
    s.tick = "0.1";
    s.step = "0.1";
    s.min_qty = "0.1";
    s.mid = "100";
    s.max_leverage = max_leverage;
    s.funding_rate = "0.0001";
    return {*ResolveInstrument(s, 0)};
  }

  explicit Fixture(std::string balance = "10000", int max_leverage = 20)
      : market(Instruments(max_leverage), MarketOptions{7, 5, 125}, clock), engine(market, clock) {
    std::vector<Level> bids = {{999, 10}, {998, 20}, {997, 50}};
    std::vector<Level> asks = {{1000, 10}, {1001, 20}, {1002, 50}};
    market.ReplaceBook(0, bids, asks, 1000);
    market.SetListener([this](const BookChange& c) {
      changes.push_back(c);
      engine.OnBookChange(c.instrument->index, c.from_trade);
    });
    engine.SetEventSink([this](const AccountEvent& e) { events.push_back(e); });
    AccountSpec a;
    a.id = "alice";
    a.balance = balance;
    a.maker_fee = "0.0002";
    a.taker_fee = "0.0005";
    REQUIRE(engine.AddAccount(a).ok());
  }

  PlaceResult Place(Side side, int64_t price, int64_t qty, TimeInForce tif = TimeInForce::kGtc,
                    OrderType type = OrderType::kLimit, bool reduce_only = false,
                    std::string cid = "") {
    PlaceRequest r;
    r.account = "alice";
    r.symbol = "TEST";
    r.client_id = std::move(cid);
    r.side = side;
    r.type = type;
    r.tif = tif;
    r.reduce_only = reduce_only;
    r.price = type == OrderType::kLimit ? price : 0;
    r.worst_price = type == OrderType::kMarket ? price : 0;
    r.qty = qty;
    return engine.Place(r);
  }
  int64_t BestAskSize() { return market.book(0).BestAsk()->size; }
};

constexpr Money kUsd = 100'000'000;

}  // namespace

TEST_CASE("post-only that would cross is rejected; otherwise it rests", "[sim][engine]") {
  Fixture f;
  auto r = f.Place(Side::kBuy, 1000, 5, TimeInForce::kPostOnly);
  CHECK(r.code == RejectCode::kPostOnlyViolation);
  CHECK(r.order.status == OrderStatus::kRejected);
  CHECK(r.order.reason == CancelReason::kPostOnlyViolation);
  CHECK(r.fills.empty());
  auto ok = f.Place(Side::kBuy, 999, 5, TimeInForce::kPostOnly);
  CHECK(ok.code == RejectCode::kNone);
  CHECK(ok.order.status == OrderStatus::kOpen);
  CHECK(f.engine.OpenOrders("alice").size() == 1);
}

TEST_CASE("amend moves price and size in place; a crossing amend trades, post-only refuses",
          "[sim][engine]") {
  Fixture f;
  auto rest = f.Place(Side::kBuy, 997, 5, TimeInForce::kPostOnly, OrderType::kLimit, false, "a1");
  REQUIRE(rest.code == RejectCode::kNone);
  const uint64_t id = rest.order.id;
  const size_t events = f.events.size();

  AmendRequest m;
  m.account = "alice";
  m.order_id = id;
  m.price = 998;
  m.qty = 8;
  auto a = f.engine.Amend(m);
  REQUIRE(a.code == RejectCode::kNone);
  CHECK(a.order.id == id);
  CHECK(a.order.price == 998);
  CHECK(a.order.qty == 8);
  CHECK(a.order.status == OrderStatus::kOpen);
  CHECK(f.events.size() == events + 1);  // one order update
  REQUIRE(f.engine.OpenOrders("alice").size() == 1);
  CHECK(f.engine.OpenOrders("alice")[0]->price == 998);
  CHECK(f.engine.FindByClientId("alice", "a1") != nullptr);  // still found by its client id

  // Post-only through the ask: refused, order unchanged.
  m.price = 1000;
  auto po = f.engine.Amend(m);
  CHECK(po.code == RejectCode::kPostOnlyViolation);
  CHECK(po.order.price == 998);
  CHECK(f.engine.OpenOrders("alice")[0]->price == 998);
  // Off-tick, unknown, someone else's order: refused.
  m.price = 0;
  m.qty = 3;  // keeps the price; smaller size
  CHECK(f.engine.Amend(m).code == RejectCode::kNone);
  CHECK(f.engine.OpenOrders("alice")[0]->qty == 3);
  m.qty = -1;
  CHECK(f.engine.Amend(m).code == RejectCode::kInvalidQty);
  m.qty = 0;
  m.account = "bob";
  CHECK(f.engine.Amend(m).code == RejectCode::kNotFound);

  // A GTC order amended through the ask takes liquidity and rests the rest, same id.
  auto gtc = f.Place(Side::kBuy, 990, 5);
  REQUIRE(gtc.code == RejectCode::kNone);
  AmendRequest x;
  x.account = "alice";
  x.order_id = gtc.order.id;
  x.price = 1000;
  x.qty = 15;  // 1.0 available at 100.0: fills 1.0, 0.5 rests at 100.0
  auto t = f.engine.Amend(x);
  REQUIRE(t.code == RejectCode::kNone);
  REQUIRE(t.fills.size() == 1);
  CHECK(t.fills[0].qty == 10);
  CHECK(t.order.status == OrderStatus::kPartiallyFilled);
  CHECK(t.order.remaining() == 5);
  CHECK(f.engine.Position("alice", 0).size == 10);
  // A size at or below the filled part is refused; the closed order cannot be amended.
  x.price = 0;
  x.qty = 10;
  CHECK(f.engine.Amend(x).code == RejectCode::kInvalidQty);
  REQUIRE(f.engine.Cancel("alice", gtc.order.id).code == RejectCode::kNone);
  x.qty = 20;
  CHECK(f.engine.Amend(x).code == RejectCode::kAlreadyClosed);
}

TEST_CASE("conditional orders park until the mark reaches the trigger, then execute",
          "[sim][engine]") {
  Fixture f;
  const Money available = f.engine.Balance("alice").available;
  PlaceRequest stop;
  stop.account = "alice";
  stop.symbol = "TEST";
  stop.client_id = "stop-1";
  stop.side = Side::kBuy;
  stop.type = OrderType::kMarket;
  stop.qty = 5;
  stop.worst_price = 1100;
  stop.trigger = TriggerWhen::kAtOrAbove;
  stop.trigger_price = 1003;
  auto parked = f.engine.Place(stop);
  REQUIRE(parked.code == RejectCode::kNone);
  CHECK(parked.order.status == OrderStatus::kOpen);
  CHECK(parked.order.awaiting_trigger());
  CHECK(parked.fills.empty());
  CHECK(f.engine.OpenOrders("alice").size() == 1);
  CHECK(f.engine.FindByClientId("alice", "stop-1") != nullptr);
  CHECK(f.engine.Balance("alice").available == available);  // no margin held while parked

  // Already past its trigger: refused.
  PlaceRequest late = stop;
  late.client_id = "stop-late";
  late.trigger_price = 990;
  auto refused = f.engine.Place(late);
  CHECK(refused.code == RejectCode::kInvalidPrice);
  CHECK(refused.message == "order would immediately trigger");

  // A take-profit sell below (fires at or below 995), cancelled while parked.
  PlaceRequest tp;
  tp.account = "alice";
  tp.symbol = "TEST";
  tp.side = Side::kSell;
  tp.type = OrderType::kLimit;
  tp.price = 990;
  tp.qty = 5;
  tp.trigger = TriggerWhen::kAtOrBelow;
  tp.trigger_price = 995;
  auto tpo = f.engine.Place(tp);
  REQUIRE(tpo.code == RejectCode::kNone);
  REQUIRE(f.engine.Cancel("alice", tpo.order.id).code == RejectCode::kNone);
  CHECK(f.engine.OpenOrders("alice").size() == 1);
  AmendRequest am;
  am.account = "alice";
  am.order_id = parked.order.id;
  am.qty = 6;
  CHECK(f.engine.Amend(am).code == RejectCode::kInvalidPrice);  // not before it triggers

  // The market moves up through 100.3: the stop fires and buys as a market order.
  f.market.SetMid(0, 1005);
  const SimOrder* o = f.engine.FindOrder(parked.order.id);
  REQUIRE(o != nullptr);
  CHECK(o->triggered);
  CHECK(o->filled == 5);
  CHECK(o->status == OrderStatus::kFilled);
  CHECK(f.engine.Position("alice", 0).size == 5);
  CHECK(f.engine.OpenOrders("alice").empty());
}

TEST_CASE("crossing limit takes levels at their prices and rests the remainder", "[sim][engine]") {
  Fixture f;
  auto r = f.Place(Side::kBuy, 1001, 40);  // 1.0 @100.0 + 2.0 @100.1, 1.0 rests @100.1
  REQUIRE(r.code == RejectCode::kNone);
  REQUIRE(r.fills.size() == 2);
  CHECK(r.fills[0].price == 1000);
  CHECK(r.fills[0].qty == 10);
  CHECK(r.fills[1].price == 1001);
  CHECK(r.fills[1].qty == 20);
  CHECK_FALSE(r.fills[0].maker);
  CHECK(r.order.status == OrderStatus::kPartiallyFilled);
  CHECK(r.order.filled == 30);
  // (100.0*1 + 100.1*2) / 3 = 100.0666..
  CHECK(r.order.AvgPrice().ToString().rfind("100.0666", 0) == 0);
  // The taken liquidity left the public book, in one published change flagged from_trade.
  CHECK(f.market.book(0).BestAsk()->price == 1002);
  REQUIRE(f.changes.size() == 1);
  CHECK(f.changes[0].from_trade);
  CHECK(f.changes[0].changes.size() == 2);
  CHECK(f.engine.OpenOrders("alice").size() == 1);
  // Taker fee 0.05% of 300.2 = 0.1501.
  auto pos = f.engine.Position("alice", 0);
  CHECK(pos.size == 30);
  CHECK(pos.entry_notional == 30020 * kUsd / 100);
  auto bal = f.engine.Balance("alice");
  CHECK(bal.wallet == 10000 * kUsd - 15'010'000);
}

TEST_CASE("IOC remainder expires; FOK all-or-nothing", "[sim][engine]") {
  Fixture f;
  auto ioc = f.Place(Side::kSell, 998, 50, TimeInForce::kIoc);  // bids 1.0@99.9 + 2.0@99.8
  CHECK(ioc.fills.size() == 2);
  CHECK(ioc.order.filled == 30);
  CHECK(ioc.order.status == OrderStatus::kExpired);
  CHECK(f.engine.OpenOrders("alice").empty());
  auto fok = f.Place(Side::kBuy, 1000, 20, TimeInForce::kFok);  // only 1.0 at <= 100.0
  CHECK(fok.fills.empty());
  CHECK(fok.order.status == OrderStatus::kExpired);
  CHECK(f.BestAskSize() == 10);
  auto fok2 = f.Place(Side::kBuy, 1001, 20, TimeInForce::kFok);
  CHECK(fok2.order.status == OrderStatus::kFilled);
}

TEST_CASE("market order respects the worst-price bound", "[sim][engine]") {
  Fixture f;
  auto r = f.Place(Side::kBuy, 1001, 100, TimeInForce::kIoc, OrderType::kMarket);
  CHECK(r.code == RejectCode::kNone);
  CHECK(r.order.filled == 30);  // 100.2 is beyond the bound
  CHECK(r.order.status == OrderStatus::kExpired);
  auto unbounded = f.Place(Side::kBuy, 0, 20, TimeInForce::kIoc, OrderType::kMarket);
  CHECK(unbounded.order.status == OrderStatus::kFilled);
  CHECK(unbounded.fills.at(0).price == 1002);
}

TEST_CASE("reduce-only rejects growth and trims to the position", "[sim][engine]") {
  Fixture f;
  auto none = f.Place(Side::kSell, 999, 10, TimeInForce::kIoc, OrderType::kLimit, true);
  CHECK(none.code == RejectCode::kReduceOnly);
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // long 1.0
  auto grow = f.Place(Side::kBuy, 1001, 10, TimeInForce::kIoc, OrderType::kLimit, true);
  CHECK(grow.code == RejectCode::kReduceOnly);
  auto trim = f.Place(Side::kSell, 998, 30, TimeInForce::kIoc, OrderType::kLimit, true);
  REQUIRE(trim.code == RejectCode::kNone);
  CHECK(trim.order.qty == 10);
  CHECK(trim.order.status == OrderStatus::kFilled);
  CHECK(f.engine.Position("alice", 0).size == 0);
}

TEST_CASE("duplicate client id on an open order and insufficient margin are rejected",
          "[sim][engine]") {
  Fixture f("100");
  auto a = f.Place(Side::kBuy, 990, 1, TimeInForce::kGtc, OrderType::kLimit, false, "c1");
  REQUIRE(a.code == RejectCode::kNone);
  auto dup = f.Place(Side::kBuy, 989, 1, TimeInForce::kGtc, OrderType::kLimit, false, "c1");
  CHECK(dup.code == RejectCode::kDuplicateClientId);
  CHECK(f.engine.FindByClientId("alice", "c1")->id == a.order.id);
  CHECK(f.engine.CancelByClientId("alice", "c1").code == RejectCode::kNone);
  CHECK(f.engine.Cancel("alice", a.order.id).code == RejectCode::kAlreadyClosed);
  CHECK(f.engine.FindByClientId("alice", "c1")->status == OrderStatus::kCanceled);
  CHECK(f.engine.OpenOrders("alice").empty());
  // Reusable once the first is closed; lookups then find the open one.
  auto again = f.Place(Side::kBuy, 989, 1, TimeInForce::kGtc, OrderType::kLimit, false, "c1");
  CHECK(again.code == RejectCode::kNone);
  CHECK(f.engine.FindByClientId("alice", "c1")->id == again.order.id);
  CHECK(f.engine.FindByClientId("alice", "nope") == nullptr);
  // 100 USD at 20x buys at most ~2000 notional: 30 units at ~99 is ~2970.
  auto big = f.Place(Side::kBuy, 990, 300);
  CHECK(big.code == RejectCode::kInsufficientMargin);
}

TEST_CASE("resting orders fill as maker when the market moves through them", "[sim][engine]") {
  Fixture f;
  auto r = f.Place(Side::kBuy, 995, 5);
  REQUIRE(r.order.status == OrderStatus::kOpen);
  f.events.clear();
  f.market.SetMid(0, 990);  // asks now start at 99.1: the bid at 99.5 is crossed
  const SimOrder* o = f.engine.FindOrder(r.order.id);
  REQUIRE(o != nullptr);
  CHECK(o->status == OrderStatus::kFilled);
  auto fills = f.engine.Fills("alice");
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].maker);
  CHECK(fills[0].price == 995);  // at the resting price
  // Maker fee 0.02% of 49.75 = 0.00995.
  CHECK(fills[0].fee == 995'000);
  bool saw_fill = false, saw_pos = false, saw_bal = false;
  for (const auto& e : f.events) {
    saw_fill |= e.kind == AccountEvent::Kind::kOrder && e.has_fill;
    saw_pos |= e.kind == AccountEvent::Kind::kPosition;
    saw_bal |= e.kind == AccountEvent::Kind::kBalance;
  }
  CHECK(saw_fill);
  CHECK(saw_pos);
  CHECK(saw_bal);
}

TEST_CASE("crossed resting orders share the crossing liquidity in price priority",
          "[sim][engine]") {
  Fixture f;
  auto hi = f.Place(Side::kBuy, 995, 5);
  auto lo = f.Place(Side::kBuy, 994, 5);
  REQUIRE(f.engine.OpenOrders("alice").size() == 2);
  // The market drops: 0.6 offered at 99.4, plenty at 99.5.
  f.market.ReplaceBook(0, std::vector<Level>{{990, 10}}, std::vector<Level>{{994, 6}, {995, 100}},
                       992);
  f.engine.OnBookChange(0, false);
  CHECK(f.engine.FindOrder(hi.order.id)->status == OrderStatus::kFilled);
  const SimOrder* o = f.engine.FindOrder(lo.order.id);
  CHECK(o->status == OrderStatus::kPartiallyFilled);
  CHECK(o->filled == 1);  // 0.6 at <= 99.4, 0.5 of it already used by the higher bid
}

TEST_CASE("positions, realized PnL and balances follow fills", "[sim][engine]") {
  Fixture f;
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // long 1 @100
  f.market.ReplaceBook(0, std::vector<Level>{{1010, 50}}, std::vector<Level>{{1012, 50}}, 1011);
  REQUIRE(f.Place(Side::kSell, 1010, 20).order.status == OrderStatus::kFilled);  // → short 1 @101
  auto pos = f.engine.Position("alice", 0);
  CHECK(pos.size == -10);
  CHECK(pos.realized_pnl == 1 * kUsd);
  CHECK(pos.EntryPrice().ToNormalizedString() == "101");
  // Fees: 0.05% of 100 + 0.05% of 202.
  auto bal = f.engine.Balance("alice");
  CHECK(bal.wallet == 10000 * kUsd + kUsd - 5'000'000 - 10'100'000);
  // Mark 101.1 on a short from 101: -0.1 unrealized.
  CHECK(bal.unrealized == -10'000'000);
  CHECK(bal.equity == bal.wallet + bal.unrealized);
}

TEST_CASE("funding: longs pay mark x size x rate", "[sim][engine]") {
  Fixture f;
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);
  Money before = f.engine.Balance("alice").wallet;
  f.events.clear();
  f.engine.ApplyFunding(0, f.market.funding_rate(0));  // 0.0001 * 100 * 1 = 0.01
  CHECK(f.engine.Balance("alice").wallet == before - 1'000'000);
  CHECK(f.engine.Position("alice", 0).funding == -1'000'000);
  REQUIRE_FALSE(f.events.empty());
  CHECK(f.events[0].kind == AccountEvent::Kind::kFunding);
  CHECK(f.events[0].amount == -1'000'000);
}

TEST_CASE("liquidation closes at mark when equity < maintenance margin", "[sim][engine]") {
  Fixture f("10", 100);
  REQUIRE(f.engine.SetLeverage("alice", "TEST", 100).ok());
  auto r = f.Place(Side::kBuy, 1000, 10);  // 100 notional on 10 collateral
  REQUIRE(r.order.status == OrderStatus::kFilled);
  f.events.clear();
  f.market.SetMid(0, 950);  // equity 10 - 5 - fee: still above 0.5% maintenance
  CHECK(f.engine.Position("alice", 0).size == 10);
  f.market.SetMid(0, 895);  // -10.5: below maintenance
  CHECK(f.engine.Position("alice", 0).size == 0);
  bool liquidated = false;
  for (const auto& e : f.events) {
    if (e.kind == AccountEvent::Kind::kLiquidation) {
      liquidated = true;
      CHECK(e.fill.liquidation);
      CHECK(e.fill.price == 895);
      CHECK(e.fill.side == Side::kSell);
    }
  }
  CHECK(liquidated);
  // Forced liquidation through the API on a fresh position.
  Fixture g;
  REQUIRE(g.Place(Side::kSell, 999, 10).order.status == OrderStatus::kFilled);
  CHECK(g.engine.Liquidate("alice") == 1);
  CHECK(g.engine.Positions("alice").empty());
}

}  // namespace perpgw::sim

namespace perpgw::sim {
namespace {

PlaceRequest Conditional(Side side, OrderType type, int64_t price, int64_t qty, TriggerWhen when,
                         int64_t trigger) {
  PlaceRequest r;
  r.account = "alice";
  r.symbol = "TEST";
  r.side = side;
  r.type = type;
  r.price = type == OrderType::kLimit ? price : 0;
  r.worst_price = type == OrderType::kMarket ? price : 0;
  r.qty = qty;
  r.trigger = when;
  r.trigger_price = trigger;
  return r;
}

}  // namespace

TEST_CASE("a parked conditional order is amended in place when the venue opts in",
          "[sim][engine]") {
  Fixture f;
  auto stop = f.engine.Place(Conditional(Side::kBuy, OrderType::kLimit, 1015, 5,
                                         TriggerWhen::kAtOrAbove, 1003));
  REQUIRE(stop.code == RejectCode::kNone);
  AmendRequest am;
  am.account = "alice";
  am.order_id = stop.order.id;
  am.trigger_price = 1010;
  am.price = 1020;
  am.qty = 7;
  // Not opted in: refused as before.
  CHECK(f.engine.Amend(am).code == RejectCode::kInvalidPrice);
  CHECK(f.engine.FindOrder(stop.order.id)->trigger_price == 1003);
  am.allow_parked = true;
  f.events.clear();
  auto r = f.engine.Amend(am);
  REQUIRE(r.code == RejectCode::kNone);
  CHECK(r.order.id == stop.order.id);
  CHECK(r.order.trigger_price == 1010);
  CHECK(r.order.price == 1020);
  CHECK(r.order.qty == 7);
  CHECK(r.order.awaiting_trigger());
  CHECK(r.fills.empty());
  REQUIRE(f.events.size() == 1);
  CHECK(f.events[0].order.trigger_price == 1010);

  // A trigger the mark (100.0) already satisfies: refused, order unchanged.
  AmendRequest now = am;
  now.trigger_price = 1000;
  now.price = 0;
  now.qty = 0;
  auto refused = f.engine.Amend(now);
  CHECK(refused.code == RejectCode::kInvalidPrice);
  CHECK(refused.message == "order would immediately trigger");
  CHECK(f.engine.FindOrder(stop.order.id)->trigger_price == 1010);
  // Size only keeps the trigger.
  AmendRequest size_only;
  size_only.account = "alice";
  size_only.order_id = stop.order.id;
  size_only.qty = 8;
  size_only.allow_parked = true;
  REQUIRE(f.engine.Amend(size_only).code == RejectCode::kNone);
  CHECK(f.engine.FindOrder(stop.order.id)->trigger_price == 1010);

  // A market stop has no limit price to amend.
  auto mkt = f.engine.Place(Conditional(Side::kSell, OrderType::kMarket, 0, 5,
                                        TriggerWhen::kAtOrBelow, 990));
  REQUIRE(mkt.code == RejectCode::kNone);
  AmendRequest px;
  px.account = "alice";
  px.order_id = mkt.order.id;
  px.price = 980;
  px.allow_parked = true;
  CHECK(f.engine.Amend(px).code == RejectCode::kInvalidPrice);

  f.market.SetMid(0, 1005);  // past the old trigger, not the new one
  CHECK(f.engine.FindOrder(stop.order.id)->awaiting_trigger());
  f.market.SetMid(0, 1012);
  const SimOrder* o = f.engine.FindOrder(stop.order.id);
  CHECK(o->triggered);
  CHECK(o->qty == 8);
  CHECK(o->price == 1020);
}

TEST_CASE("a trigger may compare the last trade price instead of the mark", "[sim][engine]") {
  Fixture f;
  CHECK(f.engine.LastPrice(0) == 1000);  // no trade yet: the mark
  PlaceRequest by_last = Conditional(Side::kSell, OrderType::kLimit, 1001, 1,
                                     TriggerWhen::kAtOrAbove, 1002);
  by_last.trigger_ref = TriggerRef::kLastPrice;
  PlaceRequest by_mark = by_last;
  by_mark.trigger_ref = TriggerRef::kMark;
  auto last = f.engine.Place(by_last);
  auto mark = f.engine.Place(by_mark);
  REQUIRE(last.code == RejectCode::kNone);
  REQUIRE(mark.code == RejectCode::kNone);
  // A buy sweeping 100.0, 100.1 and 100.2 prints 100.2 while the mark stays below it.
  auto sweep = f.Place(Side::kBuy, 1002, 40);
  REQUIRE(sweep.fills.size() == 3);
  CHECK(f.engine.LastPrice(0) == 1002);
  REQUIRE(f.market.mark_price(0) < 1002);
  CHECK(f.engine.FindOrder(last.order.id)->triggered);
  CHECK(f.engine.FindOrder(mark.order.id)->awaiting_trigger());
  // The generated flow's own prints count too.
  REQUIRE(f.engine.PrintMarketTrade(0, Side::kSell, 1));
  CHECK(f.engine.LastPrice(0) < 1002);  // the print hit the best bid
  REQUIRE(f.engine.LastPrice(0) < f.market.mark_price(0));
  // Placement checks the chosen reference: "at or below the last price" holds at once.
  PlaceRequest now = by_last;
  now.trigger = TriggerWhen::kAtOrBelow;
  now.trigger_price = f.engine.LastPrice(0);
  CHECK(f.engine.Place(now).message == "order would immediately trigger");
}

TEST_CASE("trailing stop follows the best mark by its callback and fires", "[sim][engine]") {
  SECTION("sell, active from placement") {
    Fixture f;
    PlaceRequest t;
    t.account = "alice";
    t.symbol = "TEST";
    t.side = Side::kSell;
    t.type = OrderType::kMarket;
    t.qty = 5;
    t.trailing_bps = 100;  // 1 %
    auto r = f.engine.Place(t);
    REQUIRE(r.code == RejectCode::kNone);
    CHECK(r.order.awaiting_trigger());
    CHECK(r.order.trigger_price == 990);  // 100.0 x 0.99
    f.market.SetMid(0, 1050);
    CHECK(f.engine.FindOrder(r.order.id)->trigger_price == 1039);  // 103.95 down to tick
    f.market.SetMid(0, 1045);
    CHECK(f.engine.FindOrder(r.order.id)->trigger_price == 1039);  // a fall does not lower it
    CHECK(f.engine.FindOrder(r.order.id)->awaiting_trigger());
    f.market.SetMid(0, 1038);
    const SimOrder* o = f.engine.FindOrder(r.order.id);
    CHECK(o->triggered);
    CHECK(o->status == OrderStatus::kFilled);
    CHECK(f.engine.Position("alice", 0).size == -5);
  }
  SECTION("buy with an activation price") {
    Fixture f;
    PlaceRequest t;
    t.account = "alice";
    t.symbol = "TEST";
    t.side = Side::kBuy;
    t.type = OrderType::kMarket;
    t.qty = 5;
    t.trailing_bps = 200;
    t.activation_price = 980;
    auto r = f.engine.Place(t);
    REQUIRE(r.code == RejectCode::kNone);
    CHECK(r.order.trigger_price == 0);  // not active yet
    f.market.SetMid(0, 990);
    CHECK(f.engine.FindOrder(r.order.id)->trigger_price == 0);
    f.market.SetMid(0, 980);
    CHECK(f.engine.FindOrder(r.order.id)->trigger_price == 1000);  // 99.96 up to tick
    f.market.SetMid(0, 970);
    CHECK(f.engine.FindOrder(r.order.id)->trigger_price == 990);  // 98.94 up
    f.market.SetMid(0, 985);
    CHECK(f.engine.FindOrder(r.order.id)->awaiting_trigger());
    f.market.SetMid(0, 995);
    CHECK(f.engine.FindOrder(r.order.id)->triggered);
    CHECK(f.engine.Position("alice", 0).size == 5);
  }
  SECTION("refused shapes") {
    Fixture f;
    PlaceRequest t;
    t.account = "alice";
    t.symbol = "TEST";
    t.side = Side::kSell;
    t.type = OrderType::kLimit;
    t.price = 1000;
    t.qty = 5;
    t.trailing_bps = 100;
    CHECK(f.engine.Place(t).code == RejectCode::kInvalidPrice);  // a market order only
    t.type = OrderType::kMarket;
    t.trailing_bps = 10000;
    CHECK(f.engine.Place(t).code == RejectCode::kInvalidPrice);
  }
}

TEST_CASE("reduce-only resting orders shrink with the position when the engine opts in",
          "[sim][engine]") {
  for (bool on : {true, false}) {
    Fixture f;
    f.engine.SetReduceOnlyShrink(on);
    REQUIRE(f.Place(Side::kBuy, 1001, 30).order.status == OrderStatus::kFilled);  // long 3.0
    auto ro = f.Place(Side::kSell, 1010, 30, TimeInForce::kGtc, OrderType::kLimit, true);
    REQUIRE(ro.order.status == OrderStatus::kOpen);
    f.events.clear();
    REQUIRE(f.Place(Side::kSell, 999, 10, TimeInForce::kIoc).order.filled == 10);  // long 2.0
    const SimOrder* o = f.engine.FindOrder(ro.order.id);
    int modified = 0;
    for (const auto& e : f.events) {
      if (e.kind == AccountEvent::Kind::kOrder && e.modified) {
        ++modified;
        CHECK(e.order.id == ro.order.id);
        CHECK(e.order.qty == 20);
        CHECK(!e.has_fill);
      }
    }
    if (on) {
      CHECK(modified == 1);
      CHECK(o->qty == 20);
      CHECK(o->status == OrderStatus::kOpen);
    } else {
      CHECK(modified == 0);
      CHECK(o->qty == 30);
    }
    REQUIRE(f.Place(Side::kSell, 998, 20, TimeInForce::kIoc).order.filled == 20);  // flat
    if (on) {
      CHECK(o->status == OrderStatus::kCanceled);
      CHECK(o->reason == CancelReason::kReduceOnly);
    } else {
      CHECK(o->status == OrderStatus::kOpen);
    }
  }
}

TEST_CASE("attached take-profit / stop-loss park on fills and cancel each other",
          "[sim][engine]") {
  auto with_tpsl = [](Side side, int64_t price, int64_t qty, int64_t tp, int64_t sl,
                      TimeInForce tif = TimeInForce::kGtc) {
    PlaceRequest r;
    r.account = "alice";
    r.symbol = "TEST";
    r.side = side;
    r.price = price;
    r.qty = qty;
    r.tif = tif;
    r.tp_trigger_price = tp;
    r.sl_trigger_price = sl;
    return r;
  };
  SECTION("children for the filled size; the take-profit fires, the stop-loss goes") {
    Fixture f;
    PlaceRequest p = with_tpsl(Side::kBuy, 1001, 30, 1020, 980);
    p.sl_limit_price = 979;
    auto r = f.engine.Place(p);  // two fills: 1.0 at 100.0 then 2.0 at 100.1
    REQUIRE(r.fills.size() == 2);
    const SimOrder* parent = f.engine.FindOrder(r.order.id);
    REQUIRE(parent->tp_child_id != 0);
    REQUIRE(parent->sl_child_id != 0);
    const SimOrder* tp = f.engine.FindOrder(parent->tp_child_id);
    const SimOrder* sl = f.engine.FindOrder(parent->sl_child_id);
    CHECK(tp->awaiting_trigger());
    CHECK(sl->awaiting_trigger());
    CHECK(tp->qty == 30);  // grown by the second fill
    CHECK(sl->qty == 30);
    CHECK(tp->side == Side::kSell);
    CHECK(tp->reduce_only);
    CHECK(tp->type == OrderType::kMarket);
    CHECK(sl->type == OrderType::kLimit);
    CHECK(sl->price == 979);
    CHECK(tp->trigger == TriggerWhen::kAtOrAbove);
    CHECK(sl->trigger == TriggerWhen::kAtOrBelow);
    CHECK(tp->parent_id == r.order.id);
    CHECK(tp->oco_id == sl->id);
    CHECK(sl->oco_id == tp->id);
    f.market.SetMid(0, 1021);
    CHECK(tp->triggered);
    CHECK(tp->status == OrderStatus::kFilled);
    CHECK(sl->status == OrderStatus::kCanceled);
    CHECK(f.engine.Position("alice", 0).size == 0);
    CHECK(f.engine.OpenOrders("alice").empty());
  }
  SECTION("a short's stop-loss fires above, its take-profit is cancelled") {
    Fixture f;
    auto r = f.engine.Place(with_tpsl(Side::kSell, 999, 10, 980, 1020, TimeInForce::kIoc));
    REQUIRE(r.order.filled == 10);
    const SimOrder* parent = f.engine.FindOrder(r.order.id);
    const SimOrder* tp = f.engine.FindOrder(parent->tp_child_id);
    const SimOrder* sl = f.engine.FindOrder(parent->sl_child_id);
    CHECK(tp->trigger == TriggerWhen::kAtOrBelow);
    CHECK(sl->trigger == TriggerWhen::kAtOrAbove);
    f.market.SetMid(0, 1020);
    CHECK(sl->status == OrderStatus::kFilled);
    CHECK(tp->status == OrderStatus::kCanceled);
    CHECK(f.engine.Position("alice", 0).size == 0);
  }
  SECTION("a parent cancelled before any fill leaves nothing; wrong sides are refused") {
    Fixture f;
    auto r = f.engine.Place(with_tpsl(Side::kBuy, 990, 10, 1020, 980));
    REQUIRE(r.order.status == OrderStatus::kOpen);
    REQUIRE(f.engine.Cancel("alice", r.order.id).code == RejectCode::kNone);
    CHECK(f.engine.OpenOrders("alice").empty());
    CHECK(f.engine.Orders("alice").size() == 1);
    CHECK(f.engine.Place(with_tpsl(Side::kBuy, 990, 10, 980, 1020)).code ==
          RejectCode::kInvalidPrice);
  }
  SECTION("a parent cancelled after a partial fill keeps the children for the filled part") {
    Fixture f;
    auto r = f.engine.Place(with_tpsl(Side::kBuy, 1000, 15, 1020, 980));  // 1.0 fills, 0.5 rests
    REQUIRE(r.order.filled == 10);
    REQUIRE(r.order.status == OrderStatus::kPartiallyFilled);
    REQUIRE(f.engine.Cancel("alice", r.order.id).code == RejectCode::kNone);
    const SimOrder* parent = f.engine.FindOrder(r.order.id);
    CHECK(f.engine.FindOrder(parent->tp_child_id)->qty == 10);
    CHECK(f.engine.FindOrder(parent->sl_child_id)->awaiting_trigger());
    CHECK(f.engine.OpenOrders("alice").size() == 2);
  }
  SECTION("only the take-profit: a lone child, no sibling") {
    Fixture f;
    auto r = f.engine.Place(with_tpsl(Side::kBuy, 1000, 5, 1020, 0));
    const SimOrder* parent = f.engine.FindOrder(r.order.id);
    REQUIRE(parent->tp_child_id != 0);
    CHECK(parent->sl_child_id == 0);
    CHECK(f.engine.FindOrder(parent->tp_child_id)->oco_id == 0);
    CHECK(f.engine.FindOrder(parent->tp_child_id)->qty == 5);
  }
}

}  // namespace perpgw::sim

namespace perpgw::sim {

TEST_CASE("isolated margin: opt-in per market, switch refused with a position or open orders",
          "[sim][engine][isolated]") {
  Fixture f("10000", 100);
  CHECK_FALSE(f.engine.Isolated("alice", 0));  // cross by default
  CHECK(f.engine.SetIsolated("alice", "TEST", false) == MarginResult::kNoChange);
  CHECK(f.engine.SetIsolated("alice", "NOPE", true) == MarginResult::kUnknown);
  auto resting = f.Place(Side::kBuy, 990, 10);
  REQUIRE(resting.order.status == OrderStatus::kOpen);
  CHECK(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kHasOpenOrders);
  f.engine.Cancel("alice", resting.order.id);
  REQUIRE(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kOk);
  CHECK(f.engine.Isolated("alice", 0));
  CHECK(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kNoChange);
  CHECK(f.engine.Position("alice", 0).isolated);  // flat, but the market's mode shows
  REQUIRE(f.engine.SetLeverage("alice", "TEST", 100).ok());
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // long 1 @100
  CHECK(f.engine.SetIsolated("alice", "TEST", false) == MarginResult::kHasPosition);
  // Closing it releases the whole isolated margin; then the switch back is allowed.
  REQUIRE(f.Place(Side::kSell, 999, 10).order.status == OrderStatus::kFilled);
  CHECK(f.engine.Balance("alice").isolated_wallet == 0);
  CHECK(f.engine.SetIsolated("alice", "TEST", false) == MarginResult::kOk);
  CHECK_FALSE(f.engine.Position("alice", 0).isolated);
}

TEST_CASE("isolated margin moves from the wallet as the position opens and back pro rata",
          "[sim][engine][isolated]") {
  Fixture f("10000", 100);
  REQUIRE(f.engine.SetLeverage("alice", "TEST", 10).ok());
  REQUIRE(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kOk);
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // long 1 @100
  // 100 notional / 10x = 10 moved out of the cross wallet; the 0.05 taker fee from the wallet.
  auto pos = f.engine.Position("alice", 0);
  CHECK(pos.isolated);
  CHECK(pos.isolated_margin == 10 * kUsd);
  auto bal = f.engine.Balance("alice");
  CHECK(bal.cross_wallet == 10000 * kUsd - 10 * kUsd - 5'000'000);
  CHECK(bal.isolated_wallet == 10 * kUsd);
  CHECK(bal.wallet == 10000 * kUsd - 5'000'000);  // total wallet unchanged but for the fee
  // Available: the cross wallet only (the isolated position's PnL is its own).
  CHECK(bal.available == bal.cross_wallet);
  // Half closed at 99.9: half the isolated margin back, realized PnL -0.05 to the wallet.
  REQUIRE(f.Place(Side::kSell, 999, 5).order.status == OrderStatus::kFilled);
  pos = f.engine.Position("alice", 0);
  CHECK(pos.size == 5);
  CHECK(pos.isolated_margin == 5 * kUsd);
  bal = f.engine.Balance("alice");
  CHECK(bal.cross_wallet ==
        10000 * kUsd - 5 * kUsd - 5'000'000 - 5'000'000 - 2'497'500);  // pnl -0.05, fee 0.024975
}

TEST_CASE("isolated margin add / reduce", "[sim][engine][isolated]") {
  Fixture f("10000", 100);
  REQUIRE(f.engine.SetLeverage("alice", "TEST", 10).ok());
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", kUsd) == MarginResult::kNotIsolated);
  REQUIRE(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kOk);
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", kUsd) == MarginResult::kNoPosition);
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // 10 isolated
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", 0) == MarginResult::kBadAmount);
  const Money cross = f.engine.Balance("alice").cross_wallet;
  f.events.clear();
  REQUIRE(f.engine.AdjustIsolatedMargin("alice", "TEST", 5 * kUsd) == MarginResult::kOk);
  CHECK(f.engine.Position("alice", 0).isolated_margin == 15 * kUsd);
  CHECK(f.engine.Balance("alice").cross_wallet == cross - 5 * kUsd);
  REQUIRE(f.events.size() == 2);  // position + balance
  CHECK(f.events[0].position.isolated_margin == 15 * kUsd);
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", 100000 * kUsd) ==
        MarginResult::kInsufficient);  // more than the available balance
  // Reduce: at most margin + min(0, uPnL) - initial margin at mark (mark 100: uPnL 0, IM 10).
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", -6 * kUsd) == MarginResult::kInsufficient);
  REQUIRE(f.engine.AdjustIsolatedMargin("alice", "TEST", -5 * kUsd) == MarginResult::kOk);
  CHECK(f.engine.Position("alice", 0).isolated_margin == 10 * kUsd);
  CHECK(f.engine.Balance("alice").cross_wallet == cross);
  CHECK(f.engine.AdjustIsolatedMargin("alice", "TEST", -kUsd) == MarginResult::kInsufficient);
}

TEST_CASE("an isolated position liquidates on its own margin while the cross account is healthy",
          "[sim][engine][isolated]") {
  for (const bool isolated : {false, true}) {
    Fixture f("10000", 100);
    REQUIRE(f.engine.SetLeverage("alice", "TEST", 100).ok());
    if (isolated) REQUIRE(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kOk);
    REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);  // margin 1
    const Money cross_before = f.engine.Balance("alice").cross_wallet;
    f.events.clear();
    // Mark 99.4: uPnL -0.6, margin 1 - 0.6 = 0.4 < 0.5 % x 99.4 = 0.497 maintenance.
    f.market.SetMid(0, 994);
    bool liquidated = false;
    for (const auto& e : f.events) liquidated |= e.kind == AccountEvent::Kind::kLiquidation;
    if (!isolated) {  // cross: 10000 of equity carries it
      CHECK_FALSE(liquidated);
      CHECK(f.engine.Position("alice", 0).size == 10);
      continue;
    }
    CHECK(liquidated);
    CHECK(f.engine.Position("alice", 0).size == 0);
    const SimBalance b = f.engine.Balance("alice");
    CHECK(b.isolated_wallet == 0);
    // The cross wallet gets back the margin less the loss at mark: 1 - 0.6.
    CHECK(b.cross_wallet == cross_before + kUsd - 60'000'000);
  }
}

TEST_CASE("funding on an isolated position settles in its isolated margin",
          "[sim][engine][isolated]") {
  Fixture f("10000", 100);
  REQUIRE(f.engine.SetLeverage("alice", "TEST", 10).ok());
  REQUIRE(f.engine.SetIsolated("alice", "TEST", true) == MarginResult::kOk);
  REQUIRE(f.Place(Side::kBuy, 1000, 10).order.status == OrderStatus::kFilled);
  const Money cross = f.engine.Balance("alice").cross_wallet;
  f.engine.ApplyFunding(0, f.market.funding_rate(0));  // long pays 0.01
  CHECK(f.engine.Position("alice", 0).isolated_margin == 10 * kUsd - 1'000'000);
  CHECK(f.engine.Balance("alice").cross_wallet == cross);
}

}  // namespace perpgw::sim

namespace perpgw::sim {
namespace {

PlaceResult PlaceSide(Fixture& f, Side side, PositionSide ps, int64_t price, int64_t qty,
                      bool reduce_only = false) {
  PlaceRequest r;
  r.account = "alice";
  r.symbol = "TEST";
  r.side = side;
  r.position_side = ps;
  r.type = OrderType::kLimit;
  r.tif = TimeInForce::kIoc;
  r.reduce_only = reduce_only;
  r.price = price;
  r.qty = qty;
  return f.engine.Place(r);
}

}  // namespace

TEST_CASE("hedge mode: opt-in per account; LONG and SHORT on one market at once",
          "[sim][engine][hedge]") {
  Fixture f;
  CHECK_FALSE(f.engine.HedgeMode("alice"));
  // One-way (the default) refuses LONG/SHORT orders.
  CHECK(PlaceSide(f, Side::kBuy, PositionSide::kLong, 1000, 2).code == RejectCode::kPositionSide);
  CHECK(f.engine.SetHedgeMode("alice", false) == PositionModeResult::kNoChange);
  CHECK(f.engine.SetHedgeMode("bob", true) == PositionModeResult::kUnknown);
  REQUIRE(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kOk);
  CHECK(f.engine.HedgeMode("alice"));
  // Hedge refuses BOTH and reduce-only.
  CHECK(f.Place(Side::kBuy, 1000, 2).code == RejectCode::kPositionSide);
  CHECK(PlaceSide(f, Side::kSell, PositionSide::kLong, 999, 1, true).code ==
        RejectCode::kPositionSide);

  // BUY+LONG 2 @ 100.0, SELL+SHORT 3 @ 99.9: two positions, nothing nets.
  REQUIRE(PlaceSide(f, Side::kBuy, PositionSide::kLong, 1000, 2).code == RejectCode::kNone);
  REQUIRE(PlaceSide(f, Side::kSell, PositionSide::kShort, 999, 3).code == RejectCode::kNone);
  const SimPosition l = f.engine.Position("alice", 0, PositionSide::kLong);
  const SimPosition s = f.engine.Position("alice", 0, PositionSide::kShort);
  CHECK(l.side == PositionSide::kLong);
  CHECK(l.size == 2);
  CHECK(l.entry_notional == 20 * kUsd);
  CHECK(s.side == PositionSide::kShort);
  CHECK(s.size == -3);
  CHECK(s.entry_notional == 2997 * kUsd / 100);
  CHECK(f.engine.Position("alice", 0).size == 0);  // no BOTH position in hedge mode
  auto all = f.engine.Positions("alice");
  REQUIRE(all.size() == 2);
  // Each side margined on its own: the balance's initial margin covers both.
  const SimBalance b = f.engine.Balance("alice");
  CHECK(b.initial_margin == std::llabs(l.instrument->Notional(l.mark_price, 2)) / l.leverage +
                                std::llabs(s.instrument->Notional(s.mark_price, -3)) / s.leverage);
  // The fill's position event names its side.
  bool saw_short = false;
  for (const auto& e : f.events) {
    if (e.kind == AccountEvent::Kind::kPosition && e.position.side == PositionSide::kShort) {
      saw_short = true;
      CHECK(e.position.size == -3);
    }
  }
  CHECK(saw_short);
}

TEST_CASE("hedge mode: closing one side leaves the other; a close larger than the side is refused",
          "[sim][engine][hedge]") {
  Fixture f;
  REQUIRE(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kOk);
  REQUIRE(PlaceSide(f, Side::kBuy, PositionSide::kLong, 1000, 2).code == RejectCode::kNone);
  REQUIRE(PlaceSide(f, Side::kSell, PositionSide::kShort, 999, 3).code == RejectCode::kNone);
  const Money wallet0 = f.engine.Balance("alice").wallet;
  // SELL+LONG 5 > long 2: refused whole, nothing traded.
  auto big = PlaceSide(f, Side::kSell, PositionSide::kLong, 998, 5);
  CHECK(big.code == RejectCode::kReduceOnly);
  CHECK(big.fills.empty());
  CHECK(f.engine.Position("alice", 0, PositionSide::kLong).size == 2);
  // SELL+LONG 0.2 (limit 99.8) fills at 99.9 (7 left there after the short took 3):
  // closes the long only; the short is untouched.
  auto close = PlaceSide(f, Side::kSell, PositionSide::kLong, 998, 2);
  REQUIRE(close.code == RejectCode::kNone);
  REQUIRE(close.fills.size() == 1);
  CHECK(close.fills[0].position_side == PositionSide::kLong);
  const SimPosition l = f.engine.Position("alice", 0, PositionSide::kLong);
  CHECK(l.size == 0);
  CHECK(close.fills[0].price == 999);
  CHECK(l.realized_pnl == -2 * kUsd / 100);  // (99.9 - 100.0) x 0.2
  CHECK(f.engine.Position("alice", 0, PositionSide::kShort).size == -3);
  CHECK(f.engine.Positions("alice").size() == 1);
  // Wallet: realized PnL minus the close's taker fee (19.98 x 0.0005).
  CHECK(f.engine.Balance("alice").wallet == wallet0 - 2 * kUsd / 100 - 999'000);
  // BUY+SHORT with no long: closes the short (2 of 3) and never opens a long.
  auto cover = PlaceSide(f, Side::kBuy, PositionSide::kShort, 1001, 2);
  REQUIRE(cover.code == RejectCode::kNone);
  CHECK(f.engine.Position("alice", 0, PositionSide::kShort).size == -1);
  CHECK(f.engine.Position("alice", 0, PositionSide::kLong).size == 0);
  // A close on a flat side is refused.
  CHECK(PlaceSide(f, Side::kSell, PositionSide::kLong, 998, 1).code == RejectCode::kReduceOnly);
}

TEST_CASE("hedge mode: the switch is refused with a position or an open order",
          "[sim][engine][hedge]") {
  Fixture f;
  REQUIRE(f.Place(Side::kBuy, 1000, 2, TimeInForce::kIoc).code == RejectCode::kNone);
  CHECK(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kHasPosition);
  CHECK_FALSE(f.engine.HedgeMode("alice"));
  REQUIRE(f.Place(Side::kSell, 999, 2, TimeInForce::kIoc).code == RejectCode::kNone);  // flat
  REQUIRE(f.Place(Side::kBuy, 990, 1).code == RejectCode::kNone);                      // rests
  CHECK(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kHasOpenOrders);
  f.engine.CancelAll("alice");
  REQUIRE(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kOk);
  // And back: refused while the hedge account holds a SHORT.
  REQUIRE(PlaceSide(f, Side::kSell, PositionSide::kShort, 999, 1).code == RejectCode::kNone);
  CHECK(f.engine.SetHedgeMode("alice", false) == PositionModeResult::kHasPosition);
  REQUIRE(PlaceSide(f, Side::kBuy, PositionSide::kShort, 1001, 1).code == RejectCode::kNone);
  CHECK(f.engine.SetHedgeMode("alice", false) == PositionModeResult::kOk);
  CHECK(f.Place(Side::kBuy, 1000, 1, TimeInForce::kIoc).code == RejectCode::kNone);
}

TEST_CASE("hedge mode: funding and liquidation treat each side on its own",
          "[sim][engine][hedge]") {
  Fixture f;
  REQUIRE(f.engine.SetHedgeMode("alice", true) == PositionModeResult::kOk);
  REQUIRE(PlaceSide(f, Side::kBuy, PositionSide::kLong, 1000, 2).code == RejectCode::kNone);
  REQUIRE(PlaceSide(f, Side::kSell, PositionSide::kShort, 999, 2).code == RejectCode::kNone);
  const Money w0 = f.engine.Balance("alice").wallet;
  f.events.clear();
  f.engine.ApplyFunding(0, ParseRate("0.001").value());
  // Equal sizes: the long pays what the short receives.
  int fundings = 0;
  Money sum = 0;
  for (const auto& e : f.events) {
    if (e.kind == AccountEvent::Kind::kFunding) {
      ++fundings;
      sum += e.amount;
    }
  }
  CHECK(fundings == 2);
  CHECK(sum == 0);
  CHECK(f.engine.Balance("alice").wallet == w0);
  CHECK(f.engine.Liquidate("alice", "TEST") == 2);
  CHECK(f.engine.Positions("alice").empty());
}

}  // namespace perpgw::sim
