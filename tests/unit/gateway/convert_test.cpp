// gateway/convert: absent is not zero (issue 19). A value the venue does not publish goes out as
// "", and a 0 that means "none" for a price or leverage too; a real 0 stays "0".
#include "gateway/convert.h"

#include <catch2/catch.hpp>

using namespace perpgw;
using namespace perpgw::gateway;

namespace {
Decimal D(const char* s) { return *Decimal::Parse(s); }
}  // namespace

TEST_CASE("absent values go out empty, real zeros as 0", "[convert]") {
  Position p;
  p.venue = "backpack";
  p.symbol = "ETH";
  p.size = D("0.002");
  p.entry_price = D("4447.065");
  p.liquidation_price = D("0");  // Backpack's estLiquidationPrice "0": none
  p.realized_pnl = D("0");       // a real 0
  v1::Position out;
  gateway::Fill(p, &out);
  CHECK(out.liquidation_price().empty());
  CHECK(out.leverage().empty());
  CHECK(out.mark_price().empty());
  CHECK(out.funding_accrued().empty());
  CHECK(out.margin().empty());
  CHECK(out.realized_pnl() == "0");
  CHECK(out.size() == "0.002");

  p.liquidation_price = D("3100.5");
  p.leverage = D("5");
  gateway::Fill(p, &out);
  CHECK(out.liquidation_price() == "3100.5");
  CHECK(out.leverage() == "5");

  Order o;
  o.price = D("100");
  o.size = D("1");
  v1::Order oo;
  gateway::Fill(o, &oo);
  CHECK(oo.avg_fill_price().empty());
  CHECK(oo.filled_size() == "0");
  o.avg_fill_price = D("0");  // a placeholder
  gateway::Fill(o, &oo);
  CHECK(oo.avg_fill_price().empty());

  Balance b;
  b.available = D("10");
  b.equity = D("12");
  v1::Balance bo;
  gateway::Fill(b, &bo);
  CHECK(bo.margin_used().empty());
  CHECK(bo.unrealized_pnl().empty());
  b.margin_used = D("0");  // nothing in use: a value
  gateway::Fill(b, &bo);
  CHECK(bo.margin_used() == "0");

  Instrument in;
  in.tick_size = D("0.1");
  in.step_size = D("0.001");
  v1::Instrument io;
  gateway::Fill(in, &io);
  CHECK(io.max_size().empty());
  CHECK(io.min_notional().empty());
  CHECK(io.max_leverage().empty());

  Funding f;
  f.rate = D("0.0001");
  v1::FundingRate fo;
  gateway::Fill(f, &fo);
  CHECK(fo.mark_price().empty());
  CHECK(fo.open_interest_usd().empty());
  CHECK(fo.volume_24h_usd().empty());

  LeverageInfo li;
  v1::LeverageInfo lo;
  gateway::Fill(li, &lo);
  CHECK(lo.leverage().empty());
  CHECK(lo.max_notional().empty());
}

TEST_CASE("a BBO side that is empty goes out as \"\" price and size, not \"0\"", "[convert]") {
  Bbo b;
  b.venue = "aster";
  b.symbol = "BTC";
  b.ask_price = D("101.5");
  b.ask_size = D("2");  // no bid: price and size 0 inside
  v1::BboUpdate out;
  gateway::Fill(b, &out);
  CHECK(out.bid_price().empty());
  CHECK(out.bid_size().empty());
  CHECK(out.ask_price() == "101.5");
  CHECK(out.ask_size() == "2");
  b.bid_price = D("101");
  b.bid_size = D("0.5");
  b.ask_price = D("0");  // a venue's placeholder for an empty ask
  b.ask_size = D("0");
  gateway::Fill(b, &out);
  CHECK(out.bid_price() == "101");
  CHECK(out.bid_size() == "0.5");
  CHECK(out.ask_price().empty());
  CHECK(out.ask_size().empty());
}
