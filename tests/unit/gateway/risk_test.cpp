#include "gateway/risk/risk.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using perpgw::AckOutcome;
using perpgw::Decimal;
using perpgw::Order;
using perpgw::OrderAck;
using perpgw::OrderRequest;
using perpgw::OrderStatus;
using perpgw::OrderType;
using perpgw::Position;
using perpgw::Side;
using namespace perpgw::gateway::risk;

namespace {

Decimal D(const char* s) { return *Decimal::Parse(s); }

OrderRequest Req(const std::string& cid, Side side, const char* price, const char* size,
                 bool reduce_only = false) {
  OrderRequest r;
  r.account = "acc";
  r.symbol = "BTC";
  r.client_order_id = cid;
  r.side = side;
  r.price = D(price);
  r.size = D(size);
  r.reduce_only = reduce_only;
  return r;
}

// "t3-17" (built with appends: GCC 12 warns falsely on a chain of string + in a lambda).
std::string Cid(char p, int t, int i) {
  std::string s(1, p);
  s.append(std::to_string(t)).append("-").append(std::to_string(i));
  return s;
}

constexpr int64_t kS = 1000000000LL;
const Reference kRef{D("100"), D("101"), D("100.5")};

}  // namespace

TEST_CASE("risk: no limits, every order passes and is counted", "[risk]") {
  RiskEngine r;
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, kS).ok());
  REQUIRE(r.State("acc", kS).in_flight == 1);
}

TEST_CASE("risk: max_order_notional boundary is inclusive and exact", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_order_notional = D("1000.5");
  r.SetDefaultLimits(l);
  // 100.05 * 10 = 1000.5 exactly: passes.
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100.05", "10"), kRef, kS).ok());
  // One step more is refused, naming the limit and its value.
  auto v = r.CheckOrder(Req("b", Side::kBuy, "100.05", "10.00000001"), kRef, kS);
  REQUIRE(v.limit == "max_order_notional");
  REQUIRE(v.message.find("1000.5") != std::string::npos);
  REQUIRE(v.message.find("1000.500001") != std::string::npos);
  // A market order is valued at its worst price.
  auto m = Req("c", Side::kBuy, "0", "10");
  m.type = OrderType::kMarket;
  m.worst_price = D("100.06");
  REQUIRE(r.CheckOrder(m, kRef, kS).limit == "max_order_notional");
}

TEST_CASE("risk: max_open_orders counts in-flight orders and frees them on reject/terminal",
          "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_open_orders = 2;
  r.SetDefaultLimits(l);
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, kS).ok());
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "100", "1"), kRef, kS).ok());
  REQUIRE(r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, kS).limit == "max_open_orders");
  // A retry of an order already counted passes (the desk answers it) and counts once.
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, kS).ok());
  REQUIRE(r.State("acc", kS).in_flight == 2);
  OrderAck rej;
  rej.outcome = AckOutcome::kRejected;
  r.OnAck("acc", "a", rej);
  REQUIRE(r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, kS).ok());
  // An unknown outcome keeps counting (it may rest at the venue).
  OrderAck unk;
  unk.outcome = AckOutcome::kOutcomeUnknown;
  r.OnAck("acc", "b", unk);
  REQUIRE(r.CheckOrder(Req("d", Side::kBuy, "100", "1"), kRef, kS).limit == "max_open_orders");
  // The order's events end it.
  Order o;
  o.account = "acc";
  o.client_order_id = "b";
  o.symbol = "BTC";
  o.status = OrderStatus::kCanceled;
  r.OnOrder(o);
  REQUIRE(r.CheckOrder(Req("d", Side::kBuy, "100", "1"), kRef, kS).ok());
}

TEST_CASE("risk: orders opened elsewhere (seen only in events) count as open", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_open_orders = 1;
  r.SetDefaultLimits(l);
  Order o;
  o.account = "acc";
  o.order_id = "777";
  o.symbol = "BTC";
  o.side = Side::kSell;
  o.price = D("110");
  o.size = D("2");
  o.status = OrderStatus::kOpen;
  r.OnOrder(o);
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, kS).limit == "max_open_orders");
}

TEST_CASE("risk: order rate per second and per minute, sliding windows", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_orders_per_second = 2;
  l.max_orders_per_minute = 3;
  r.SetDefaultLimits(l);
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, 10 * kS).ok());
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "100", "1"), kRef, 10 * kS + 1).ok());
  auto v = r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, 10 * kS + 2);
  REQUIRE(v.limit == "max_orders_per_second");
  REQUIRE(v.message.find("max_orders_per_second 2") != std::string::npos);
  // One second later the per-second window has room; the minute window has one slot left.
  REQUIRE(r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, 11 * kS).ok());
  REQUIRE(r.CheckOrder(Req("d", Side::kBuy, "100", "1"), kRef, 12 * kS).limit ==
          "max_orders_per_minute");
  // A refused attempt is not counted: a minute after the first, there is room again.
  REQUIRE(r.CheckOrder(Req("d", Side::kBuy, "100", "1"), kRef, 70 * kS + 1).ok());
  // Rates are per account.
  auto other = Req("x", Side::kBuy, "100", "1");
  other.account = "other";
  REQUIRE(r.CheckOrder(other, kRef, 70 * kS + 2).ok());
}

TEST_CASE("risk: cancel rate", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_cancels_per_second = 1;
  r.SetDefaultLimits(l);
  REQUIRE(r.CheckCancel("acc", kS).ok());
  REQUIRE(r.CheckCancel("acc", kS + 5).limit == "max_cancels_per_second");
  REQUIRE(r.CheckCancel("acc", 2 * kS + 1).ok());

  RiskEngine m;
  Limits lm;
  lm.max_cancels_per_minute = 2;
  m.SetDefaultLimits(lm);
  REQUIRE(m.CheckCancel("acc", kS).ok());
  REQUIRE(m.CheckCancel("acc", 30 * kS).ok());
  auto v = m.CheckCancel("acc", 60 * kS);
  REQUIRE(v.limit == "max_cancels_per_minute");
  REQUIRE(v.message == "2 cancels in the last minute; max_cancels_per_minute 2");
  REQUIRE(m.CheckCancel("acc", 61 * kS).ok());  // the first one left the window
  REQUIRE(m.CheckCancel("other", 61 * kS).ok());
}

TEST_CASE("risk: price band through the touch and away from the mark", "[risk]") {
  RiskEngine r;
  Limits l;
  l.price_band_touch_bps = D("50");  // 0.5 %
  r.SetDefaultLimits(l);
  // Best ask 101: 101.505 is exactly 50 bps through; 101.51 is more.
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "101.505", "1"), kRef, kS).ok());
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "101.51", "1"), kRef, kS).limit ==
          "price_band_touch_bps");
  // Best bid 100: 99.5 is exactly 50 bps; 99.49 is through.
  REQUIRE(r.CheckOrder(Req("c", Side::kSell, "99.5", "1"), kRef, kS).ok());
  REQUIRE(r.CheckOrder(Req("d", Side::kSell, "99.49", "1"), kRef, kS).limit ==
          "price_band_touch_bps");
  // Passive prices far away are not "through" the touch.
  REQUIRE(r.CheckOrder(Req("e", Side::kBuy, "50", "1"), kRef, kS).ok());
  // No reference: refused (never waved through).
  REQUIRE(r.CheckOrder(Req("f", Side::kBuy, "100", "1"), Reference{}, kS).limit ==
          "price_band_touch_bps");
  // Market orders are bounded by their own worst price, not the band.
  auto m = Req("g", Side::kBuy, "0", "1");
  m.type = OrderType::kMarket;
  m.worst_price = D("200");
  REQUIRE(r.CheckOrder(m, kRef, kS).ok());

  RiskEngine k;
  Limits lm;
  lm.price_band_mark_bps = D("100");  // 1 % of mark 100.5 = 1.005
  k.SetDefaultLimits(lm);
  REQUIRE(k.CheckOrder(Req("a", Side::kBuy, "99.495", "1"), kRef, kS).ok());
  REQUIRE(k.CheckOrder(Req("b", Side::kBuy, "99.49", "1"), kRef, kS).limit ==
          "price_band_mark_bps");
  REQUIRE(k.CheckOrder(Req("c", Side::kSell, "101.505", "1"), kRef, kS).ok());
  REQUIRE(k.CheckOrder(Req("d", Side::kSell, "101.51", "1"), kRef, kS).limit ==
          "price_band_mark_bps");
}

TEST_CASE("risk: position notional, worst case with open orders, reduce-only exempt", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_position_notional = D("1000");
  r.SetDefaultLimits(l);
  Position p;
  p.account = "acc";
  p.symbol = "BTC";
  p.size = D("5");
  p.mark_price = D("100");
  r.OnPosition(p);
  // Long 5 @ 100 = 500; buying 5 more → 1000 (limit, passes); the next 0.01 does not.
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "99", "5"), kRef, kS).ok());
  auto v = r.CheckOrder(Req("b", Side::kBuy, "99", "0.01"), kRef, kS);
  REQUIRE(v.limit == "max_position_notional");
  REQUIRE(v.message.find("1001") != std::string::npos);
  // Selling reduces: worst case |5 - 14| * 100 = 900.
  REQUIRE(r.CheckOrder(Req("c", Side::kSell, "101", "14"), kRef, kS).ok());
  // Sells now total 14: one more 2 → |5 - 16| = 11 → 1100.
  REQUIRE(r.CheckOrder(Req("d", Side::kSell, "101", "2"), kRef, kS).limit ==
          "max_position_notional");
  // Reduce-only orders cannot grow the position: not checked.
  REQUIRE(r.CheckOrder(Req("e", Side::kSell, "101", "2", true), kRef, kS).ok());
}

TEST_CASE("risk: total position notional over markets", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_total_position_notional = D("1502.5");
  r.SetDefaultLimits(l);
  Position p;
  p.account = "acc";
  p.symbol = "ETH";
  p.size = D("-10");
  p.mark_price = D("100");
  r.OnPosition(p);  // 1000 on ETH
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "5"), kRef, kS).ok());  // +502.5 at mark
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "100", "0.1"), kRef, kS).limit ==
          "max_total_position_notional");
  auto st = r.State("acc", kS);
  REQUIRE(st.position_notional["ETH"] == D("1000"));
}

TEST_CASE("risk: reduce-only mode and per-account limits override the defaults", "[risk]") {
  RiskEngine r;
  Limits d;
  d.max_order_notional = D("10");
  r.SetDefaultLimits(d);
  Limits a;
  a.reduce_only = true;
  r.SetAccountLimits("acc", a);
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "1", "1"), kRef, kS).limit == "reduce_only");
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "1", "1", true), kRef, kS).ok());
  REQUIRE(r.CheckOrder(Req("c", Side::kBuy, "100", "1", true), kRef, kS).limit ==
          "max_order_notional");
  REQUIRE(r.Effective("acc").max_order_notional == D("10"));
  REQUIRE(r.Effective("other").reduce_only == std::nullopt);
}

TEST_CASE("risk: kill switch blocks new orders, reduce-only if allowed, and persists", "[risk]") {
  RiskEngine r;
  KillSwitch k;
  k.engaged = true;
  k.reason = "runaway\tstrategy";
  k.by = "ops";
  k.since = 42;
  r.SetKill("acc", k);
  auto v = r.CheckOrder(Req("a", Side::kBuy, "1", "1", true), kRef, kS);
  REQUIRE(v.limit == "kill_switch");
  auto other = Req("x", Side::kBuy, "1", "1");
  other.account = "other";
  REQUIRE(r.CheckOrder(other, kRef, kS).ok());
  KillSwitch g;
  g.engaged = true;
  g.allow_reduce_only = true;
  r.SetKill("", g);
  other.client_order_id = "y";
  REQUIRE(r.CheckOrder(other, kRef, kS).limit == "kill_switch");
  other.client_order_id = "z";
  other.reduce_only = true;
  REQUIRE(r.CheckOrder(other, kRef, kS).ok());

  RiskEngine back;
  REQUIRE(back.LoadKills(r.SerializeKills()).ok());
  REQUIRE(back.Kill("").engaged);
  REQUIRE(back.Kill("").allow_reduce_only);
  REQUIRE(back.Kill("acc").engaged);
  REQUIRE(back.Kill("acc").reason == "runaway strategy");
  REQUIRE(back.Kill("acc").since == 42);
  REQUIRE_FALSE(back.Kill("other").engaged);
  // Released: gone from the persisted form.
  r.SetKill("acc", KillSwitch{});
  r.SetKill("", KillSwitch{});
  RiskEngine again;
  REQUIRE(again.LoadKills(r.SerializeKills()).ok());
  REQUIRE(again.Kills().empty());
  REQUIRE_FALSE(again.LoadKills("garbage\n").ok());
  REQUIRE_FALSE(again.LoadKills("perpgw-risk 1\nkill\tacc\t2\t0\t\t\n").ok());
}

TEST_CASE("risk: concurrent orders racing one limit: exactly the limit passes", "[risk]") {
  RiskEngine r;
  Limits l;
  l.max_open_orders = 7;
  l.max_position_notional = D("100000");
  r.SetDefaultLimits(l);
  std::atomic<int> passed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto q = Req(Cid('t', t, i), Side::kBuy, "100", "1");
        if (r.CheckOrder(q, kRef, kS).ok()) ++passed;
      }
    });
  }
  for (auto& t : ts) t.join();
  REQUIRE(passed.load() == 7);

  // Notional racing: 4 threads each try 10 orders of 100; room for 25 → exactly 25... not
  // divisible: limit 2550 on a flat account → 25 orders (2500), the 26th would be 2600.
  RiskEngine n;
  Limits ln;
  ln.max_position_notional = D("2550");
  n.SetDefaultLimits(ln);
  passed = 0;
  ts.clear();
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto q = Req(Cid('n', t, i), Side::kBuy, "100", "1");
        if (n.CheckOrder(q, Reference{}, kS).ok()) ++passed;
      }
    });
  }
  for (auto& t : ts) t.join();
  REQUIRE(passed.load() == 25);
}

TEST_CASE("risk: limits are validated", "[risk]") {
  Limits l;
  l.max_order_notional = D("-1");
  REQUIRE_FALSE(Validate(l).ok());
  Limits c;
  c.max_open_orders = -1;
  REQUIRE_FALSE(Validate(c).ok());
  REQUIRE(Validate(Limits{}).ok());
}

TEST_CASE("risk: a token's own limits apply on top of the account's, to its own orders",
          "[risk]") {
  RiskEngine r;
  Limits t;
  t.max_open_orders = 2;
  t.max_orders_per_minute = 3;
  t.max_cancels_per_second = 1;
  t.max_position_notional = D("1");  // per account only: ignored for a token
  r.SetTokenLimits("grid", t);
  REQUIRE(r.CheckOrder(Req("a", Side::kBuy, "100", "1"), kRef, kS, nullptr, "grid").ok());
  REQUIRE(r.CheckOrder(Req("b", Side::kBuy, "100", "1"), kRef, kS, nullptr, "grid").ok());
  auto v = r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, kS, nullptr, "grid");
  REQUIRE(v.limit == "max_open_orders");
  REQUIRE(v.message.find("token 'grid'") != std::string::npos);
  // Another strategy on the same account is not bound by grid's limits.
  REQUIRE(r.CheckOrder(Req("x", Side::kBuy, "100", "1"), kRef, kS, nullptr, "arb").ok());
  REQUIRE(r.CheckOrder(Req("y", Side::kBuy, "100", "1"), kRef, kS, nullptr).ok());
  // grid's order ends: room again; its minute rate then stops the fourth.
  OrderAck rej;
  rej.outcome = AckOutcome::kRejected;
  r.OnAck("acc", "a", rej);
  REQUIRE(r.CheckOrder(Req("c", Side::kBuy, "100", "1"), kRef, kS, nullptr, "grid").ok());
  Order done;
  done.account = "acc";
  done.client_order_id = "b";
  done.status = OrderStatus::kCanceled;
  r.OnOrder(done);
  REQUIRE(r.CheckOrder(Req("d", Side::kBuy, "100", "1"), kRef, kS, nullptr, "grid").limit ==
          "max_orders_per_minute");
  // Cancels: the token's per-second rate; the account has none.
  REQUIRE(r.CheckCancel("acc", kS, "grid").ok());
  REQUIRE(r.CheckCancel("acc", kS + 1, "grid").limit == "max_cancels_per_second");
  REQUIRE(r.CheckCancel("acc", kS + 2, "arb").ok());
  REQUIRE(r.TokenLimits("grid").max_open_orders == 2);
}
