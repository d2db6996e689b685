// PlaceOrder → OrderRequest: validation, rounding, min notional (checked arithmetic) and the
// market order's worst price. Pure code, so every rule is pinned here.
#include "gateway/orders/order_builder.h"

#include <catch2/catch.hpp>

namespace perpgw::gateway::orders {
namespace {

Decimal D(const char* s) { return *Decimal::Parse(s); }

// Aster BTCUSDT as exchangeInfo lists it: tick 0.1, step 0.001, min notional 5, no max.
Instrument AsterBtc() {
  Instrument in;
  in.venue = "aster";
  in.symbol = "BTC";
  in.venue_symbol = "BTCUSDT";
  in.tick_size = D("0.1");
  in.step_size = D("0.001");
  in.min_size = D("0.001");
  in.min_notional = D("5");
  in.price_scale = 1;
  in.size_scale = 3;
  return in;
}

v1::PlaceOrderRequest Limit(const char* px, const char* size, v1::Side side = v1::SIDE_BUY) {
  v1::PlaceOrderRequest r;
  r.set_account("a1");
  r.mutable_market()->set_venue("aster");
  r.mutable_market()->set_symbol("BTC");
  r.set_client_order_id("cid-1");
  r.set_side(side);
  r.set_type(v1::ORDER_TYPE_LIMIT);
  r.set_price(px);
  r.set_size(size);
  return r;
}

std::string Message(const absl::Status& st) { return std::string(st.message()); }

}  // namespace

// Defect: the min-notional product was computed at a fixed scale of 12, which overflows int64
// above ~$9.2M; a $10M order was refused with "notional overflows".
TEST_CASE("min notional of a large order is exact (no overflow at $10M and beyond)", "[orders]") {
  auto o = BuildOrder(Limit("100000.1", "100.000"), AsterBtc());
  INFO(Message(o.status()));
  REQUIRE(o.ok());
  CHECK(o->price == D("100000.1"));
  CHECK(o->size == D("100"));
  auto n = Notional(D("100000.1"), D("100.000"));
  REQUIRE(n.ok());
  CHECK(*n == D("10000010"));
  // $1B notional still fits (scale 4 here).
  auto big = BuildOrder(Limit("125000.5", "8000.001"), AsterBtc());
  INFO(Message(big.status()));
  CHECK(big.ok());
  // A product beyond int64 at any scale is an error, never a wrapped value.
  auto huge = Notional(D("9000000000000"), D("9000000000"));
  CHECK_FALSE(huge.ok());
}

TEST_CASE("min notional still applies below the floor, reduce-only exempt", "[orders]") {
  auto small = BuildOrder(Limit("100000.0", "0.001"), AsterBtc());  // $100 >= $5
  CHECK(small.ok());
  Instrument in = AsterBtc();
  in.min_notional = D("150");
  auto below = BuildOrder(Limit("100000.0", "0.001"), in);
  REQUIRE_FALSE(below.ok());
  CHECK(below.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(below.status()).find("below min_notional 150") != std::string::npos);
  auto req = Limit("100000.0", "0.001");
  req.set_reduce_only(true);
  CHECK(BuildOrder(req, in).ok());
}

TEST_CASE("price and size on tick and step; passive rounding", "[orders]") {
  auto off_tick = BuildOrder(Limit("100000.05", "0.001"), AsterBtc());
  REQUIRE_FALSE(off_tick.ok());
  CHECK(Message(off_tick.status()).find("not on tick 0.1") != std::string::npos);
  auto off_step = BuildOrder(Limit("100000.0", "0.0015"), AsterBtc());
  REQUIRE_FALSE(off_step.ok());
  CHECK(Message(off_step.status()).find("not a multiple of step") != std::string::npos);

  auto buy = Limit("100000.05", "0.0015");
  buy.set_rounding(v1::PlaceOrderRequest::ROUNDING_PASSIVE);
  auto b = BuildOrder(buy, AsterBtc());
  REQUIRE(b.ok());
  CHECK(b->price == D("100000.0"));  // a buy rounds down, away from the touch
  CHECK(b->size == D("0.001"));
  auto sell = Limit("100000.05", "0.0015", v1::SIDE_SELL);
  sell.set_rounding(v1::PlaceOrderRequest::ROUNDING_PASSIVE);
  auto s = BuildOrder(sell, AsterBtc());
  REQUIRE(s.ok());
  CHECK(s->price == D("100000.1"));  // a sell rounds up
  auto tiny = Limit("100000.0", "0.0004");
  tiny.set_rounding(v1::PlaceOrderRequest::ROUNDING_PASSIVE);
  CHECK(Message(BuildOrder(tiny, AsterBtc()).status()) == "size rounds to zero");
}

TEST_CASE("request fields are validated with the field named", "[orders]") {
  auto r = Limit("100000.0", "0.001");
  r.set_client_order_id("has space");
  CHECK(Message(BuildOrder(r, AsterBtc()).status()).find("client_order_id") != std::string::npos);
  r = Limit("100000.0", "0.001");
  r.set_client_order_id(std::string(37, 'a'));
  CHECK_FALSE(BuildOrder(r, AsterBtc()).ok());
  r = Limit("100000.0", "0.001");
  r.set_side(v1::SIDE_UNSPECIFIED);
  CHECK(Message(BuildOrder(r, AsterBtc()).status()).find("side is required") != std::string::npos);
  r = Limit("abc", "0.001");
  CHECK(Message(BuildOrder(r, AsterBtc()).status()) == "price 'abc' is not a decimal number");
  r = Limit("100000.0", "-1");
  CHECK(Message(BuildOrder(r, AsterBtc()).status()) == "size must be greater than zero");
  Instrument capped = AsterBtc();
  capped.max_size = D("10");
  CHECK(Message(BuildOrder(Limit("100000.0", "10.001"), capped).status())
            .find("above max_size 10") != std::string::npos);
  r = Limit("100000.0", "0.001");
  r.set_type(v1::ORDER_TYPE_UNSPECIFIED);
  CHECK_FALSE(BuildOrder(r, AsterBtc()).ok());
  // Defect (issue 13): an unknown enum value (rounding=5) was accepted as ROUNDING_REJECT.
  r = Limit("100000.0", "0.001");
  r.set_rounding(static_cast<v1::PlaceOrderRequest::Rounding>(5));
  CHECK(Message(BuildOrder(r, AsterBtc()).status()) ==
        "rounding 5 is not valid (ROUNDING_REJECT or ROUNDING_PASSIVE)");
  r = Limit("100000.0", "0.001");
  r.set_time_in_force(static_cast<v1::TimeInForce>(42));
  CHECK(Message(BuildOrder(r, AsterBtc()).status()) == "time_in_force is not valid");
}

TEST_CASE("market orders: IOC, no price, bounded slippage", "[orders]") {
  auto r = Limit("", "100.000");
  r.set_type(v1::ORDER_TYPE_MARKET);
  auto o = BuildOrder(r, AsterBtc());
  REQUIRE(o.ok());
  CHECK(o->type == OrderType::kMarket);
  CHECK(o->tif == TimeInForce::kIoc);
  CHECK(o->max_slippage_bps == D("50"));
  // Buy: the ask moved up 50 bps, rounded down to the tick (never worse than asked).
  REQUIRE(BoundMarketOrder(D("100000.0"), AsterBtc(), &*o).ok());
  CHECK(o->worst_price == D("100500.0"));
  // $10M at the worst price: exact, no overflow (the same defect on the market path).
  auto sell_req = r;
  sell_req.set_side(v1::SIDE_SELL);
  sell_req.set_max_slippage_bps("33");
  auto s = BuildOrder(sell_req, AsterBtc());
  REQUIRE(s.ok());
  REQUIRE(BoundMarketOrder(D("100000.0"), AsterBtc(), &*s).ok());
  CHECK(s->worst_price == D("99670.0"));  // rounded up for a sell

  r.set_price("1");
  CHECK(Message(BuildOrder(r, AsterBtc()).status()).find("price must be empty") != std::string::npos);
  r.set_price("");
  r.set_max_slippage_bps("5001");
  CHECK(Message(BuildOrder(r, AsterBtc()).status()) == "max_slippage_bps must be at most 5000");
  r.set_max_slippage_bps("");
  r.set_time_in_force(v1::TIME_IN_FORCE_POST_ONLY);
  CHECK_FALSE(BuildOrder(r, AsterBtc()).ok());

  // Below min notional at the worst price.
  Instrument in = AsterBtc();
  in.min_notional = D("1000");
  auto m = Limit("", "0.001");
  m.set_type(v1::ORDER_TYPE_MARKET);
  auto mo = BuildOrder(m, in);
  REQUIRE(mo.ok());
  auto st = BoundMarketOrder(D("100000.0"), in, &*mo);
  CHECK(Message(st).find("below min_notional 1000") != std::string::npos);
  CHECK_FALSE(BoundMarketOrder(D("0"), in, &*mo).ok());
}


TEST_CASE("market orders: worst price clamped into the venue's own band", "[orders][risk]") {
  Instrument in = AsterBtc();
  in.price_band_up = D("1.05");
  in.price_band_down = D("0.95");
  auto r = Limit("", "0.010");
  r.set_type(v1::ORDER_TYPE_MARKET);
  r.set_max_slippage_bps("1000");  // 10 % from the touch: beyond the venue's 5 % band
  auto o = BuildOrder(r, in);
  REQUIRE(o.ok());
  REQUIRE(BoundMarketOrder(D("100000.0"), in, &*o).ok());
  CHECK(o->worst_price == D("110000.0"));
  bool clamped = false;
  // Mark 99,999.99 → 104,999.9895 → tick-floored 104,999.9; the touch's 105,000 is looser.
  ClampToVenueBand({D("99999.99"), D("100000.0")}, in, &*o, &clamped);
  CHECK(clamped);
  CHECK(o->worst_price == D("104999.9"));
  // Sell: 95 % of the touch, rounded up to the tick.
  auto s = r;
  s.set_side(v1::SIDE_SELL);
  auto so = BuildOrder(s, in);
  REQUIRE(so.ok());
  REQUIRE(BoundMarketOrder(D("100000.05"), in, &*so).ok());
  ClampToVenueBand({D("100000.05")}, in, &*so, &clamped);
  CHECK(clamped);
  CHECK(so->worst_price == D("95000.1"));
  // Inside the band, no band, or no reference: unchanged.
  auto inside = BuildOrder(Limit("", "0.010"), in);
  r.set_max_slippage_bps("100");
  inside = BuildOrder(r, in);
  REQUIRE(BoundMarketOrder(D("100000.0"), in, &*inside).ok());
  ClampToVenueBand({D("100000.0")}, in, &*inside, &clamped);
  CHECK_FALSE(clamped);
  CHECK(inside->worst_price == D("101000.0"));
  auto o2 = BuildOrder(r, AsterBtc());
  REQUIRE(BoundMarketOrder(D("100000.0"), AsterBtc(), &*o2).ok());
  ClampToVenueBand({D("90000")}, AsterBtc(), &*o2, &clamped);
  CHECK_FALSE(clamped);
  ClampToVenueBand({}, in, &*o2, &clamped);
  CHECK_FALSE(clamped);
}

}  // namespace perpgw::gateway::orders
