// Backpack codec on every recorded payload in tests/data/backpack/, book sync over the recorded
// sequence, encoders, and malformed input.
#include "adapters/backpack/codec.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>

#include "adapters/api/order_book.h"
#include "test_util.h"

namespace bp = perpgw::adapters::backpack;
using bp::testing::D;
using bp::testing::ReadData;
using bp::testing::SplitArray;
using perpgw::BookSync;
using perpgw::CancelReason;
using perpgw::Level;
using perpgw::OrderStatus;

namespace {

std::vector<perpgw::Instrument> Markets(bp::Codec& c) {
  auto m = c.ParseMarkets(ReadData("markets.json"));
  REQUIRE(m.ok());
  return *m;
}

const perpgw::Instrument& Find(const std::vector<perpgw::Instrument>& v, const std::string& sym) {
  for (const auto& i : v) {
    if (i.venue_symbol == sym) return i;
  }
  FAIL("instrument " << sym << " missing");
  return v.front();
}

perpgw::Instrument MakeInst(const std::string& venue_symbol, const char* tick, const char* step) {
  perpgw::Instrument i;
  i.venue = "backpack";
  i.venue_symbol = venue_symbol;
  i.symbol = bp::NormalizeBase(bp::SplitVenueSymbol(venue_symbol)->base).ticker;
  i.tick_size = D(tick);
  i.step_size = D(step);
  i.price_scale = perpgw::DecimalPlaces(i.tick_size);
  i.size_scale = perpgw::DecimalPlaces(i.step_size);
  return i;
}

std::vector<Level> ExpectedLevels(const std::string& json, const char* side, int ps, int ss) {
  simdjson::dom::parser p;
  std::vector<Level> out;
  simdjson::dom::array levels = p.parse(json)[side].get_array().value();
  for (simdjson::dom::element lvl : levels) {
    simdjson::dom::array arr = lvl.get_array().value();
    out.push_back({*perpgw::ParseScaled(arr.at(0).get_string().value(), ps),
                   *perpgw::ParseScaled(arr.at(1).get_string().value(), ss)});
  }
  return out;
}

bool SameLevels(const std::vector<Level>& a, const std::vector<Level>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].price != b[i].price || a[i].size != b[i].size) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("backpack codec: markets.json -> USDC perps only") {
  bp::Codec c;
  auto infos = c.ParseMarketInfos(ReadData("markets.json"));
  REQUIRE(infos.ok());
  REQUIRE(infos->size() == 2);  // SOL_USDC (spot) skipped
  auto inst = Markets(c);
  const auto& sol = Find(inst, "SOL_USDC_PERP");
  CHECK(sol.venue == "backpack");
  CHECK(sol.symbol == "SOL");
  CHECK(sol.base == "SOL");
  CHECK(sol.quote == "USDC");
  CHECK(sol.tick_size == D("0.01"));
  CHECK(sol.step_size == D("0.01"));
  CHECK(sol.min_size == D("0.01"));
  CHECK_FALSE(sol.max_size.has_value());  // null = no cap
  CHECK(sol.price_scale == 2);
  CHECK(sol.size_scale == 2);
  CHECK(sol.quantity_multiplier == 1);
  CHECK(sol.max_leverage == D("50"));                // 1 / 0.02
  CHECK(sol.price_band_up == D("1.25"));  // filters.price maxMultiplier (vs last price)
  CHECK(sol.price_band_down == D("0.75"));
  CHECK(sol.funding_interval_hours == Approx(8.0));  // 28800000 ms (pre-2025-08-20 capture)
  CHECK(sol.tradeable);
  const auto& btc = Find(inst, "BTC_USDC_PERP");
  CHECK(btc.symbol == "BTC");
  CHECK(btc.tick_size == D("0.1"));
  CHECK(btc.price_scale == 1);
  CHECK(btc.size_scale == 5);
  CHECK(btc.min_size == D("0.00001"));
  CHECK(btc.max_leverage == D("75"));  // floor(1 / 0.01333)
  CHECK(btc.funding_interval_hours == Approx(1.0));
  for (const auto& i : *infos) {
    if (i.instrument.venue_symbol == "BTC_USDC_PERP") {
      CHECK(i.funding_interval_ms == 3600000);
      CHECK(i.imf_base == D("0.01333"));
      CHECK(i.imf_factor == D("0.00006"));
      CHECK(i.mmf_base == D("0.0066"));
      CHECK(i.funding_rate_upper_bps == D("100"));
      CHECK(i.funding_rate_lower_bps == D("-100"));
      CHECK(i.open_interest_limit == D("500"));
      CHECK(i.order_book_state == "Open");
    }
  }
}

TEST_CASE("backpack codec: markets multiplier prefix, closed market, malformed") {
  bp::Codec c;
  const char* body = R"([{"symbol":"kPEPE_USDC_PERP","baseSymbol":"kPEPE","quoteSymbol":"USDC",
    "marketType":"PERP","orderBookState":"CancelOnly","visible":true,
    "filters":{"price":{"tickSize":"0.000001","minPrice":"0.000001"},
               "quantity":{"stepSize":"1","minQuantity":"1","maxQuantity":"5000000"}},
    "fundingInterval":3600000,"imfFunction":null},
    {"symbol":"BTC_USDC","marketType":"SPOT","filters":{}}])";
  auto m = c.ParseMarkets(body);
  REQUIRE(m.ok());
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].symbol == "PEPE");
  CHECK((*m)[0].base == "kPEPE");
  CHECK((*m)[0].quantity_multiplier == 1000);
  CHECK((*m)[0].price_scale == 6);
  CHECK((*m)[0].size_scale == 0);
  CHECK((*m)[0].max_size == D("5000000"));
  CHECK(!(*m)[0].tradeable);
  CHECK_FALSE((*m)[0].max_leverage.has_value());
  CHECK(!c.ParseMarkets("{}").ok());
  CHECK(!c.ParseMarkets(R"([{"symbol":"X_USDC_PERP","marketType":"PERP","filters":{}}])").ok());
  CHECK(
      !c.ParseMarkets(
            R"([{"symbol":"X_USDC_PERP","marketType":"PERP","filters":{"price":{"tickSize":"0"},"quantity":{"stepSize":"1"}}}])")
           .ok());
  // A value we cannot read in a market we skip (spot) does not fail the list; the same value in
  // a USDC perp does, naming the venue, the list and the key.
  const char* perp = R"({"symbol":"Y_USDC_PERP","marketType":"PERP",
    "filters":{"price":{"tickSize":"0.1"},"quantity":{"stepSize":"1"}}})";
  std::string spot_bad =
      std::string("[") + perp +
      R"(,{"symbol":"Z_USDC","marketType":"SPOT","filters":{"price":{"tickSize":"abc"}}}])";
  auto skipped = c.ParseMarkets(spot_bad);
  REQUIRE(skipped.ok());
  CHECK(skipped->size() == 1);
  auto bad = c.ParseMarkets(
      R"([{"symbol":"Z_USDC_PERP","marketType":"PERP","filters":{"price":{"tickSize":"abc"},"quantity":{"stepSize":"1"}}}])");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()) ==
        "backpack markets: 'tickSize' is not a decimal: \"abc\"");
  // Nothing may trail the list.
  CHECK_FALSE(c.ParseMarkets(std::string("[") + perp + "]]").ok());
}

TEST_CASE("backpack codec: REST depth snapshot sorts each side") {
  bp::Codec c;
  auto btc = Find(Markets(c), "BTC_USDC_PERP");
  auto snap = c.ParseDepthSnapshot(ReadData("depth.json"), btc);
  REQUIRE(snap.ok());
  CHECK(snap->last_update_id == 1504999670u);         // a JSON string on the wire
  CHECK(snap->exchange_time == 1753102447307501000);  // us -> ns
  REQUIRE(snap->bids.size() == 2);
  REQUIRE(snap->asks.size() == 2);
  CHECK(snap->bids[0].price == 129);  // 12.9 at scale 1: best bid first despite ascending input
  CHECK(snap->bids[0].size == 100000);
  CHECK(snap->bids[1].price == 10);
  CHECK(snap->asks[0].price == 1183183);
  CHECK(snap->asks[0].size == 633);
  CHECK(snap->asks[1].price == 1185672);
  auto upd = bp::MakeSnapshotUpdate(*snap, btc, 42);
  CHECK(upd.snapshot);
  CHECK(upd.symbol == "BTC");
  CHECK(upd.venue_seq == 1504999670u);
  CHECK(upd.receive_time == 42);
  CHECK(upd.price_scale == 1);
  // Precision beyond the tick is refused rather than rounded.
  CHECK(!c.ParseDepthSnapshot(R"({"asks":[["1.05","1"]],"bids":[],"lastUpdateId":"1"})", btc).ok());
  CHECK(!c.ParseDepthSnapshot(R"({"asks":[],"bids":[],"lastUpdateId":"x1"})", btc).ok());
  CHECK(!c.ParseDepthSnapshot(R"({"asks":[],"bids":[]})", btc).ok());
  CHECK(!c.ParseDepthSnapshot(R"({"asks":[[1,2]],"bids":[],"lastUpdateId":1})", btc).ok());
  CHECK(c.ParseDepthSnapshot(R"({"asks":[],"bids":[],"lastUpdateId":7})", btc).ok());
}

TEST_CASE("backpack codec: WS depth docs example") {
  bp::Codec c;
  auto sol = MakeInst("SOL_USDC", "0.01", "0.001");
  perpgw::DeltaMsg m;
  REQUIRE(c.ParseDepthDelta(ReadData("ws_depth_docs_example.json"), sol, &m).ok());
  CHECK(m.first_id == 94978271u);
  CHECK(m.last_id == 94978271u);
  CHECK(m.exchange_time == 1694687965940999000);  // T, us -> ns
  REQUIRE(m.changes.size() == 3);
  CHECK(m.changes[0].side == perpgw::BookSide::kAsk);
  CHECK(m.changes[0].level.price == 1870);
  CHECK(m.changes[0].level.size == 0);
  CHECK(m.changes[1].side == perpgw::BookSide::kBid);
  CHECK(m.changes[1].level.price == 1867);
  CHECK(m.changes[1].level.size == 832);
  CHECK(m.changes[2].level.size == 0);
  // Bare data object (no envelope) parses the same; symbol mismatch is refused.
  auto data = bp::testing::Member(ReadData("ws_depth_docs_example.json"), "data");
  perpgw::DeltaMsg m2;
  REQUIRE(c.ParseDepthDelta(data, sol, &m2).ok());
  CHECK(m2.changes.size() == 3);
  auto other = MakeInst("ETH_USDC", "0.01", "0.001");
  CHECK(!c.ParseDepthDelta(data, other, &m2).ok());
  // Sizes finer than the step scale are refused.
  auto coarse = MakeInst("SOL_USDC", "0.01", "0.01");
  CHECK(!c.ParseDepthDelta(data, coarse, &m2).ok());
}

TEST_CASE("backpack codec: recorded WS depth sequence through BookSync gives the expected book") {
  bp::Codec c;
  auto btc = Find(Markets(c), "BTC_USDC_PERP");
  auto snap = c.ParseDepthSnapshot(ReadData("depth_snapshot_for_ws_sequence.json"), btc);
  REQUIRE(snap.ok());
  CHECK(snap->last_update_id == 1662976170u);
  auto frames = SplitArray(ReadData("ws_depth_sequence.json"));
  REQUIRE(frames.size() == 5);
  std::string expected = ReadData("ws_depth_sequence_expected_book.json");
  auto exp_bids = ExpectedLevels(expected, "bids", btc.price_scale, btc.size_scale);
  auto exp_asks = ExpectedLevels(expected, "asks", btc.price_scale, btc.size_scale);

  SECTION("deltas buffered before the snapshot (the documented sync order)") {
    BookSync sync(perpgw::SeqRule::kContiguous, btc.price_scale, btc.size_scale);
    for (const auto& f : frames) {
      perpgw::DeltaMsg m;
      REQUIRE(c.ParseDepthDelta(f, btc, &m).ok());
      CHECK(sync.OnDelta(std::move(m)) == BookSync::Result::kBuffered);
    }
    std::vector<const perpgw::DeltaMsg*> applied;
    CHECK(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id, &applied) ==
          BookSync::Result::kApplied);
    CHECK(applied.size() == 4);  // the u=1662976170 event predates the snapshot
    CHECK(sync.live());
    CHECK(sync.last_id() == 1662976177u);
    CHECK(SameLevels(sync.book().Bids(), exp_bids));
    CHECK(SameLevels(sync.book().Asks(), exp_asks));

    // Gap example continues the live book: 178 applies, 181 breaks contiguity.
    auto gap = SplitArray(ReadData("ws_depth_gap_example.json"));
    REQUIRE(gap.size() == 2);
    perpgw::DeltaMsg g1, g2;
    REQUIRE(c.ParseDepthDelta(gap[0], btc, &g1).ok());
    REQUIRE(c.ParseDepthDelta(gap[1], btc, &g2).ok());
    CHECK(sync.OnDelta(std::move(g1)) == BookSync::Result::kApplied);
    CHECK(sync.book().BestBid()->size == 70000);
    CHECK(sync.OnDelta(std::move(g2)) == BookSync::Result::kGap);
    CHECK(!sync.live());
  }
  SECTION("snapshot first, then live deltas") {
    BookSync sync(perpgw::SeqRule::kContiguous, btc.price_scale, btc.size_scale);
    CHECK(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id) ==
          BookSync::Result::kApplied);
    std::vector<BookSync::Result> results;
    for (const auto& f : frames) {
      perpgw::DeltaMsg m;
      REQUIRE(c.ParseDepthDelta(f, btc, &m).ok());
      results.push_back(sync.OnDelta(std::move(m)));
    }
    CHECK(results[0] == BookSync::Result::kStale);
    for (size_t i = 1; i < results.size(); ++i) CHECK(results[i] == BookSync::Result::kApplied);
    CHECK(SameLevels(sync.book().Bids(), exp_bids));
    CHECK(SameLevels(sync.book().Asks(), exp_asks));
  }
  SECTION("a gap while buffering makes the replay fail") {
    BookSync sync(perpgw::SeqRule::kContiguous, btc.price_scale, btc.size_scale);
    for (size_t i = 0; i < frames.size(); ++i) {
      if (i == 2) continue;  // drop U=u=1662976172
      perpgw::DeltaMsg m;
      REQUIRE(c.ParseDepthDelta(frames[i], btc, &m).ok());
      sync.OnDelta(std::move(m));
    }
    CHECK(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id) == BookSync::Result::kGap);
  }
}

// Found by fuzz_backpack_codec: a syntax error after the first keys left the on-demand iterator
// broken, and the next key lookup dereferenced a null parser (a crash on one bad venue frame).
TEST_CASE("backpack codec: ClassifyWsFrame rejects a frame broken past its first keys") {
  bp::Codec c;
  // (Malformed input the on-demand scan skips over without noticing is fine here: this is a
  // cheap look, and the frame's own decoder validates what it reads.)
  for (const char* frame : {R"({"clientId":5,"reduceOnly":null,"x"::null})",
                            R"({"clientId":5,"reduceOnly":null,"x":::,"y":1})",
                            R"({"stream":17,"data":{}})"}) {
    INFO(frame);
    auto info = c.ClassifyWsFrame(frame);
    CHECK_FALSE(info.ok());
  }
  auto err = c.ClassifyWsFrame(R"({"id":null,"error":{"code":4006,"message":"Invalid stream"}})");
  REQUIRE(err.ok());
  CHECK(err->kind == bp::WsKind::kError);
  CHECK(err->error_code == 4006);
  CHECK(err->error_message == "Invalid stream");
  auto unknown = c.ClassifyWsFrame(R"({"result":null,"id":1})");
  REQUIRE(unknown.ok());
  CHECK(unknown->kind == bp::WsKind::kUnknown);
}

TEST_CASE("backpack codec: ClassifyWsFrame on every WS payload") {
  bp::Codec c;
  struct Row {
    const char* file;
    bp::WsKind kind;
    const char* symbol;
  };
  const Row rows[] = {
      {"ws_bookTicker.json", bp::WsKind::kBookTicker, "ETH_USDC"},
      {"ws_bookTicker_docs_example.json", bp::WsKind::kBookTicker, "SOL_USDC"},
      {"ws_depth_docs_example.json", bp::WsKind::kDepth, "SOL_USDC"},
      {"ws_markPrice.json", bp::WsKind::kMarkPrice, "SOL_USDC_PERP"},
      {"ws_openInterest.json", bp::WsKind::kOpenInterest, "SOL_USDC_PERP"},
      {"ws_orderUpdate_docs_example.json", bp::WsKind::kOrderUpdate, ""},
      {"ws_positionUpdate.json", bp::WsKind::kPositionUpdate, ""},
      {"ws_ticker.json", bp::WsKind::kTicker, "ETH_USDC"},
      {"ws_trade.json", bp::WsKind::kTrade, "ETH_USDC_PERP"},
  };
  for (const Row& r : rows) {
    INFO(r.file);
    auto info = c.ClassifyWsFrame(ReadData(r.file));
    REQUIRE(info.ok());
    CHECK(info->kind == r.kind);
    CHECK(info->venue_symbol == r.symbol);
  }
  for (const char* f : {"ws_depth_sequence.json", "ws_depth_gap_example.json"}) {
    for (const auto& frame : SplitArray(ReadData(f))) {
      auto info = c.ClassifyWsFrame(frame);
      REQUIRE(info.ok());
      CHECK(info->kind == bp::WsKind::kDepth);
      CHECK(info->venue_symbol == "BTC_USDC_PERP");
    }
  }
  for (const auto& frame : SplitArray(ReadData("ws_orderUpdate.json"))) {
    auto info = c.ClassifyWsFrame(frame);
    REQUIRE(info.ok());
    CHECK(info->kind == bp::WsKind::kOrderUpdate);
    CHECK(info->venue_symbol == "ETH_USDC");
    CHECK(info->stream == "account.orderUpdate.ETH_USDC");
  }
  auto err = c.ClassifyWsFrame(
      bp::testing::Member(ReadData("ws_subscribe_frames.json"), "server_error_frame"));
  REQUIRE(err.ok());
  CHECK(err->kind == bp::WsKind::kError);
  CHECK(err->error_code == 4006);
  CHECK(err->error_message == "Invalid stream");
  auto agg = c.ClassifyWsFrame(R"({"stream":"depth.200ms.BTC_USDC_PERP","data":{}})");
  REQUIRE(agg.ok());
  CHECK(agg->kind == bp::WsKind::kDepth);
  CHECK(agg->venue_symbol == "BTC_USDC_PERP");
  CHECK(c.ClassifyWsFrame(R"({"stream":"somethingNew.X","data":{}})")->kind ==
        bp::WsKind::kUnknown);
  CHECK(c.ClassifyWsFrame(R"({"foo":1})")->kind == bp::WsKind::kUnknown);
  CHECK(!c.ClassifyWsFrame("[1]").ok());
  CHECK(!c.ClassifyWsFrame("").ok());
  CHECK(!c.ClassifyWsFrame("\x01\x02garbage").ok());
}

TEST_CASE("backpack codec: bookTicker and trade") {
  bp::Codec c;
  bp::SymbolTable syms(Markets(c));
  auto b = c.ParseBookTicker(ReadData("ws_bookTicker.json"), syms, 99);
  REQUIRE(b.ok());
  CHECK(b->venue == "backpack");
  CHECK(b->symbol == "ETH");  // fallback rule for a symbol outside the table
  CHECK(b->bid_price == D("3667.49"));
  CHECK(b->bid_size == D("0.0020"));
  CHECK(b->ask_price == D("3667.50"));
  CHECK(b->ask_size == D("0.4087"));
  CHECK(b->venue_seq == 1328288557u);  // integer form
  CHECK(b->exchange_time == 1754517402449064000);
  CHECK(b->receive_time == 99);
  auto d = c.ParseBookTicker(ReadData("ws_bookTicker_docs_example.json"), syms, 0);
  REQUIRE(d.ok());
  CHECK(d->venue_seq == 111063070525358080u);  // string form
  CHECK(d->bid_price == D("18.67"));

  auto t = c.ParseTrade(ReadData("ws_trade.json"), syms, 5);
  REQUIRE(t.ok());
  CHECK(t->symbol == "ETH");
  CHECK(t->trade_id == "10782547");
  CHECK(t->price == D("3870.25"));
  CHECK(t->size == D("0.0008"));
  CHECK(t->taker_side == perpgw::Side::kBuy);  // m=false: buyer took
  CHECK(t->exchange_time == 1754601477744000000);
  auto sell = c.ParseTrade(
      R"({"e":"trade","E":1,"s":"BTC_USDC_PERP","p":"1","q":"2","t":3,"T":4,"m":true})", syms, 0);
  REQUIRE(sell.ok());
  CHECK(sell->taker_side == perpgw::Side::kSell);
  CHECK(sell->symbol == "BTC");
  CHECK(!c.ParseTrade(R"({"e":"trade","s":"BTC_USDC_PERP","p":"x","q":"2"})", syms, 0).ok());
  CHECK(!c.ParseBookTicker(R"({"data":{"s":"X_USDC","a":"1"}})", syms, 0).ok());
}

TEST_CASE("backpack codec: funding from markPrices + ticker + openInterest") {
  bp::Codec c;
  auto marks = c.ParseMarkPrices(ReadData("markPrices.json"));
  REQUIRE(marks.ok());
  REQUIRE(marks->size() == 3);
  CHECK((*marks)[0].venue_symbol == "0G_USDC_PERP");
  CHECK((*marks)[0].funding_rate == D("-0.000179157"));
  CHECK((*marks)[0].next_funding_time == 1759489200000LL * 1000000);
  const bp::MarkPriceInfo& aave = (*marks)[1];
  CHECK(aave.mark_price == D("285.78212281"));
  CHECK(aave.index_price == D("285.79854845"));
  CHECK(aave.has_funding);

  auto tickers = c.ParseTickers(ReadData("ticker.json"));
  REQUIRE(tickers.ok());
  REQUIRE(tickers->size() == 1);
  CHECK((*tickers)[0].venue_symbol == "ETH_USDC");
  CHECK((*tickers)[0].quote_volume == D("28695174.189628"));
  CHECK((*tickers)[0].volume == D("6732.4927"));
  CHECK((*tickers)[0].trades == 24843);  // a string on the wire
  auto ois = c.ParseOpenInterest(ReadData("openInterest.json"));
  REQUIRE(ois.ok());
  REQUIRE(ois->size() == 1);
  CHECK((*ois)[0].open_interest == D("27481.6232"));
  CHECK((*ois)[0].time == 1755006837991LL * 1000000);

  // Hourly market (current Backpack): 8h rate = 8 x hourly.
  bp::TickerStats ticker = (*tickers)[0];
  ticker.venue_symbol = aave.venue_symbol;  // recorded samples are for other symbols
  bp::OpenInterestInfo oi = (*ois)[0];
  oi.venue_symbol = aave.venue_symbol;
  auto f = bp::BuildFunding(aave, 3600000, &ticker, &oi, "AAVE", 777);
  REQUIRE(f.ok());
  CHECK(f->venue == "backpack");
  CHECK(f->symbol == "AAVE");
  CHECK(f->rate == D("0.0000125"));
  CHECK(f->interval_hours == D("1"));
  CHECK(f->rate_1h == D("0.0000125"));
  CHECK(f->rate_8h == D("0.0001"));
  CHECK(f->apr == D("0.1095"));
  CHECK(f->next_funding_time == 1759489200000LL * 1000000);
  CHECK(f->volume_24h_usd == D("28695174.189628"));
  CHECK(f->open_interest_usd == D("7853756.616361"));  // base x mark, 6 places
  CHECK(f->as_of == 777);
  // 8-hour market (older captures): the raw rate is already per 8 h.
  auto f8 = bp::BuildFunding(aave, 28800000, nullptr, nullptr, "AAVE", 0);
  REQUIRE(f8.ok());
  CHECK(f8->interval_hours == D("8"));
  CHECK(f8->rate_8h == D("0.0000125"));
  CHECK(f8->rate_1h == D("0.0000015625"));
  CHECK_FALSE(f8->open_interest_usd.has_value());
  CHECK(!bp::BuildFunding(aave, 0, nullptr, nullptr, "AAVE", 0).ok());
  bp::MarkPriceInfo no_funding = aave;
  no_funding.has_funding = false;
  CHECK(!bp::BuildFunding(no_funding, 3600000, nullptr, nullptr, "AAVE", 0).ok());
  CHECK(!bp::BuildFunding(aave, 3600000, &(*tickers)[0], nullptr, "AAVE", 0).ok());  // mismatch

  auto hist = c.ParseFundingRates(ReadData("fundingRates.json"));
  REQUIRE(hist.ok());
  REQUIRE(hist->size() == 3);
  CHECK((*hist)[0].venue_symbol == "ETH_USDC_PERP");
  CHECK((*hist)[0].interval_end == 1757592000LL * 1000000000);  // naive string parsed as UTC
  CHECK((*hist)[2].rate == D("0.000006196"));
}

TEST_CASE("backpack codec: fundingRates history -> settled funding (ListFundingHistory)") {
  bp::Codec c;
  // The recorded page (ccxt fixture, hourly market, newest first), kept in the venue's order.
  auto h = c.ParseFundingHistory(ReadData("fundingRates.json"), "ETH_USDC_PERP", "ETH", 3600000);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  const perpgw::Funding& f0 = (*h)[0];
  CHECK(f0.venue == "backpack");
  CHECK(f0.symbol == "ETH");
  CHECK(f0.rate == D("0.0000125"));
  CHECK(f0.interval_hours == D("1"));
  CHECK(f0.rate_1h == D("0.0000125"));
  CHECK(f0.rate_8h == D("0.0001"));
  CHECK(f0.apr == D("0.1095"));
  CHECK(f0.as_of == 1757592000LL * 1000000000);  // 2025-09-11T12:00:00 naive UTC
  CHECK(f0.next_funding_time == 0);
  CHECK_FALSE(f0.mark_price.has_value());  // the venue's history has no mark
  CHECK((*h)[1].as_of == 1757588400LL * 1000000000);
  CHECK((*h)[2].rate == D("0.000006196"));
  CHECK((*h)[2].rate_8h == D("0.000049568"));
  // The same rows on an 8 h market (fundingInterval 28800000): the rate is already per 8 h.
  auto h8 = c.ParseFundingHistory(ReadData("fundingRates.json"), "ETH_USDC_PERP", "ETH", 28800000);
  REQUIRE(h8.ok());
  CHECK((*h8)[0].interval_hours == D("8"));
  CHECK((*h8)[0].rate_8h == D("0.0000125"));
  CHECK((*h8)[0].rate_1h == D("0.0000015625"));
  // Interval not known for the market: refused like live funding, never a guessed 1 h.
  auto none = c.ParseFundingHistory(ReadData("fundingRates.json"), "ETH_USDC_PERP", "ETH", 0);
  CHECK(none.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(c.ParseFundingHistory("[]", "ETH_USDC_PERP", "ETH", 3600000)->empty());
}

TEST_CASE("backpack codec: fundingRates history refuses malformed rows and foreign symbols") {
  bp::Codec c;
  const std::string good =
      R"({"fundingRate":"0.0000125","intervalEndTimestamp":"2025-09-11T12:00:00","symbol":"ETH_USDC_PERP"})";
  REQUIRE(c.ParseFundingHistory("[" + good + "]", "ETH_USDC_PERP", "ETH", 3600000).ok());
  auto bad = [&](const std::string& row) {
    auto r = c.ParseFundingHistory("[" + good + "," + row + "]", "ETH_USDC_PERP", "ETH", 3600000);
    INFO(row);
    CHECK(!r.ok());
    return std::string(r.status().message());
  };
  // Another market's row among ours: an error naming it, never dropped.
  CHECK(bad(R"({"fundingRate":"0.0001","intervalEndTimestamp":"2025-09-11T11:00:00","symbol":"SOL_USDC_PERP"})")
            .find("SOL_USDC_PERP") != std::string::npos);
  CHECK(bad(R"({"fundingRate":"0.0001","symbol":"ETH_USDC_PERP"})").find("intervalEndTimestamp") !=
        std::string::npos);
  (void)bad(R"({"fundingRate":"0.0001","intervalEndTimestamp":null,"symbol":"ETH_USDC_PERP"})");
  (void)bad(R"({"intervalEndTimestamp":"2025-09-11T11:00:00","symbol":"ETH_USDC_PERP"})");
  (void)bad(R"({"fundingRate":"1e-5x","intervalEndTimestamp":"2025-09-11T11:00:00","symbol":"ETH_USDC_PERP"})");
  (void)bad(R"({"fundingRate":"0.0001","intervalEndTimestamp":"2025-13-41T11:00:00","symbol":"ETH_USDC_PERP"})");
  (void)bad(R"({"fundingRate":"0.0001","intervalEndTimestamp":"2025-09-11T11:00:00"})");
  CHECK(!c.ParseFundingHistory(R"({"code":"INVALID_CLIENT_REQUEST","message":"x"})",
                               "ETH_USDC_PERP", "ETH", 3600000).ok());
}

namespace {
constexpr perpgw::UnixNanos kHour = 3600LL * 1000000000;
// Settlements at hours [from_h, to_h], newest first (as /fundingRates pages them).
std::vector<perpgw::Funding> Hours(int to_h, int from_h) {
  std::vector<perpgw::Funding> v;
  for (int h = to_h; h >= from_h; --h) {
    perpgw::Funding f;
    f.as_of = h * kHour;
    v.push_back(f);
  }
  return v;
}
std::vector<int> HoursOf(const std::vector<perpgw::Funding>& v) {
  std::vector<int> out;
  for (const auto& f : v) out.push_back(static_cast<int>(f.as_of / kHour));
  return out;
}
}  // namespace

TEST_CASE("backpack FundingHistoryPager: pages only as far as the query needs") {
  using Step = bp::FundingHistoryPager::Step;
  // No `to`: one page of `limit` answers it, oldest first.
  {
    bp::FundingHistoryPager p(0, 0, 3);
    CHECK(p.page_size() == 3);
    CHECK(p.offset() == 0);
    CHECK(p.Add(Hours(100, 98)) == Step::kDone);
    CHECK(HoursOf(*p.Take()) == std::vector<int>{98, 99, 100});
  }
  // `from` inside the first page: done, only the rows in range.
  {
    bp::FundingHistoryPager p(99 * kHour, 0, 5);
    CHECK(p.Add(Hours(100, 96)) == Step::kDone);
    CHECK(HoursOf(*p.Take()) == std::vector<int>{99, 100});
  }
  // A `to` far back: full pages of 1000 are skipped until `limit` rows at or before it.
  {
    bp::FundingHistoryPager p(0, 2500 * kHour, 4);
    CHECK(p.page_size() == 1000);
    CHECK(p.Add(Hours(4000, 3001)) == Step::kFetchMore);
    CHECK(p.offset() == 1000);
    // A new settlement (4001) landed meanwhile: this page starts with 3001 again, which is
    // dropped, not counted twice.
    CHECK(p.Add(Hours(3001, 2002)) == Step::kDone);
    CHECK(p.offset() == 2000);
    CHECK(HoursOf(*p.Take()) == std::vector<int>{2497, 2498, 2499, 2500});
  }
  // The range straddles a page boundary and the newest `limit` are kept.
  {
    bp::FundingHistoryPager p(1990 * kHour, 3005 * kHour, 1000);
    CHECK(p.Add(Hours(3010, 2011)) == Step::kFetchMore);
    CHECK(p.Add(Hours(2010, 1011)) == Step::kDone);
    auto got = *p.Take();
    REQUIRE(got.size() == 1000);
    CHECK(got.front().as_of == 2006 * kHour);
    CHECK(got.back().as_of == 3005 * kHour);
  }
  // A short page is the end of the history, even with fewer rows than asked.
  {
    bp::FundingHistoryPager p(0, 50 * kHour, 100);
    CHECK(p.Add(Hours(60, 1)) == Step::kDone);
    CHECK(HoursOf(*p.Take()).size() == 50);
  }
  // Too deep to answer within the paging cap: said so, never a short answer.
  {
    bp::FundingHistoryPager p(0, 5 * kHour, 10);
    Step s = Step::kFetchMore;
    int pages = 0;
    for (int top = 100000; s == Step::kFetchMore; top -= 1000, ++pages) {
      s = p.Add(Hours(top, top - 999));
    }
    CHECK(s == Step::kTooDeep);
    CHECK(pages == bp::FundingHistoryPager::kMaxPages);
  }
  // Limits are clamped to the venue-safe page.
  CHECK(bp::FundingHistoryPager(0, 0, 5000).page_size() == 1000);
  CHECK(bp::FundingHistoryPager(0, 0, 0).page_size() == 1);
}

TEST_CASE("backpack funding history: each row's interval from the row spacing (8 h before "
          "2025-08-20 08:00 UTC, 1 h after)") {
  bp::Codec c;
  auto row = [](const std::string& rate, const std::string& at) {
    return R"({"fundingRate":")" + rate + R"(","intervalEndTimestamp":")" + at +
           R"(","symbol":"BTC_USDC_PERP"})";
  };
  // Newest first, as the venue pages; the market reports 1 h today (fundingInterval 3600000).
  const std::string page1 = "[" + row("0.00001", "2025-08-20T10:00:00") + "," +
                            row("0.00001", "2025-08-20T09:00:00") + "," +
                            row("0.0001", "2025-08-20T08:00:00") + "]";
  const std::string page2 = "[" + row("0.0001", "2025-08-20T00:00:00") + "," +
                            row("0.0001", "2025-08-19T16:00:00") + "]";
  bp::FundingHistoryPager p(0, 0, 3);
  auto r1 = c.ParseFundingHistory(page1, "BTC_USDC_PERP", "BTC", 3600000);
  REQUIRE(r1.ok());
  // A limit of 3 without `to` is answered by the first page; its hourly rows are 1 h.
  REQUIRE(p.Add(std::move(*r1)) == bp::FundingHistoryPager::Step::kDone);
  auto got = p.Take();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 3);
  CHECK((*got)[2].interval_hours == D("1"));  // 10:00
  CHECK((*got)[2].rate_8h == D("0.00008"));
  CHECK((*got)[1].interval_hours == D("1"));  // 09:00

  // The end of the history read: the 08:00 row's predecessor is unseen, so it takes its newer
  // neighbour's 1 h (nothing better is known).
  bp::FundingHistoryPager deep(0, 1755684000LL * 1000000000 /* 2025-08-20T10:00 */, 5);
  auto a = c.ParseFundingHistory(page1, "BTC_USDC_PERP", "BTC", 3600000);
  auto b = c.ParseFundingHistory(page2, "BTC_USDC_PERP", "BTC", 3600000);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)[2].rate_8h == D("0.0008"));  // parsed with today's 1 h
  REQUIRE(deep.Add(std::move(*a)) == bp::FundingHistoryPager::Step::kDone);  // short page
  got = deep.Take();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 3);
  CHECK((*got)[0].interval_hours == D("1"));  // 08:00: still no predecessor read
  // With the older settlements known the 8 h ones are 8 h: their rate is already per 8 h (it
  // was multiplied by 8 as if hourly).
  std::vector<perpgw::Funding> rows = *c.ParseFundingHistory(page1, "BTC_USDC_PERP", "BTC", 3600000);
  auto older = *c.ParseFundingHistory(page2, "BTC_USDC_PERP", "BTC", 3600000);
  rows.insert(rows.end(), older.begin(), older.end());
  std::vector<perpgw::UnixNanos> times;
  for (const auto& f : rows) times.push_back(f.as_of);
  REQUIRE(bp::InferFundingIntervals(&rows, times, 1).ok());
  CHECK(rows[0].interval_hours == D("1"));  // 10:00
  CHECK(rows[1].interval_hours == D("1"));  // 09:00
  CHECK(rows[2].interval_hours == D("8"));  // 08:00: 8 h after 00:00
  CHECK(rows[2].rate_8h == D("0.0001"));
  CHECK(rows[2].rate_1h == D("0.0000125"));
  CHECK(rows[3].interval_hours == D("8"));  // 00:00
  CHECK(rows[4].interval_hours == D("8"));  // 16:00, the oldest: its newer neighbour's 8 h

  // A missing hourly row (a 2 h gap) is not a 2 h interval: the newer neighbour's 1 h.
  std::vector<perpgw::Funding> gap = *c.ParseFundingHistory(
      "[" + row("0.00001", "2025-09-01T12:00:00") + "," + row("0.00001", "2025-09-01T11:00:00") +
          "," + row("0.00001", "2025-09-01T09:00:00") + "," +
          row("0.00001", "2025-09-01T08:00:00") + "]",
      "BTC_USDC_PERP", "BTC", 3600000);
  std::vector<perpgw::UnixNanos> gt;
  for (const auto& f : gap) gt.push_back(f.as_of);
  REQUIRE(bp::InferFundingIntervals(&gap, gt, 1).ok());
  for (const auto& f : gap) CHECK(f.interval_hours == D("1"));
}

TEST_CASE("backpack FundingHistoryPager: a page boundary between two settlements keeps the "
          "older page's spacing") {
  bp::Codec c;
  auto row = [](const std::string& at) {
    return R"({"fundingRate":"0.0001","intervalEndTimestamp":")" + at +
           R"(","symbol":"BTC_USDC_PERP"})";
  };
  // A full first page (1000 rows: a `to` is set) ending at the 08:00 settlement; the second
  // page reaches below `from` and shows the 8 h gap before 08:00.
  bp::FundingHistoryPager p(1755648000LL * 1000000000 /* 2025-08-20T00:00 */,
                            1755676800LL * 1000000000 /* 2025-08-20T08:00 */, 2);
  std::string one = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i > 0) one += ",";
    // Hourly rows newest first, the last one 2025-08-20T08:00.
    const int64_t t = 1755676800LL + static_cast<int64_t>(999 - i) * 3600;
    const std::time_t tt = static_cast<std::time_t>(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&tt));
    one += row(buf);
  }
  one += "]";
  auto first = c.ParseFundingHistory(one, "BTC_USDC_PERP", "BTC", 3600000);
  REQUIRE(first.ok());
  REQUIRE(p.Add(std::move(*first)) == bp::FundingHistoryPager::Step::kFetchMore);
  auto second = c.ParseFundingHistory(
      "[" + row("2025-08-20T00:00:00") + "," + row("2025-08-19T16:00:00") + "]", "BTC_USDC_PERP",
      "BTC", 3600000);
  REQUIRE(second.ok());
  REQUIRE(p.Add(std::move(*second)) == bp::FundingHistoryPager::Step::kDone);
  auto got = p.Take();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].as_of == 1755648000LL * 1000000000);  // 00:00
  CHECK((*got)[0].interval_hours == D("8"));
  CHECK((*got)[1].as_of == 1755676800LL * 1000000000);  // 08:00, the first page's oldest
  CHECK((*got)[1].interval_hours == D("8"));
  CHECK((*got)[1].rate_8h == D("0.0001"));
}

TEST_CASE("backpack codec: WS markPrice, ticker, openInterest") {
  bp::Codec c;
  auto m = c.ParseWsMarkPrice(ReadData("ws_markPrice.json"));
  REQUIRE(m.ok());
  CHECK(m->venue_symbol == "SOL_USDC_PERP");
  CHECK(m->mark_price == D("18.70"));
  CHECK(m->index_price == D("18.69"));
  CHECK(m->has_funding);
  CHECK(m->funding_rate == D("0.0000125"));
  CHECK(m->next_funding_time == 1694689200000LL * 1000000);  // n is ms
  CHECK(m->exchange_time == 1694687965940999000);            // T is us
  auto f = bp::BuildFunding(*m, 3600000, nullptr, nullptr, "SOL", 1);
  REQUIRE(f.ok());
  CHECK(f->rate_8h == D("0.0001"));
  auto pred = c.ParseWsMarkPrice(R"({"e":"markPrice","E":1,"s":"X_USDC","p":"0.5","T":2})");
  REQUIRE(pred.ok());
  CHECK(!pred->has_funding);

  auto t = c.ParseWsTicker(ReadData("ws_ticker.json"));
  REQUIRE(t.ok());
  CHECK(t->venue_symbol == "ETH_USDC");
  CHECK(t->last_price == D("3398.57"));
  CHECK(t->quote_volume == D("19419526.742584"));
  CHECK(t->trades == 17152);
  CHECK(t->exchange_time == 1754176123312507000);  // no T: falls back to E

  auto oi = c.ParseWsOpenInterest(ReadData("ws_openInterest.json"));
  REQUIRE(oi.ok());
  CHECK(oi->open_interest == D("100"));
  CHECK(oi->time == 1694687965941000000);
}

TEST_CASE("backpack codec: account.orderUpdate recorded captures") {
  bp::Codec c;
  bp::SymbolTable syms;
  auto frames = SplitArray(ReadData("ws_orderUpdate.json"));
  REQUIRE(frames.size() == 2);
  auto acc = c.ParseOrderUpdate(frames[0], syms, nullptr, 11);
  REQUIRE(acc.ok());
  CHECK(acc->event_type == "orderAccepted");
  CHECK(acc->origin == "USER");
  CHECK(!acc->client_id.has_value());
  const perpgw::Order& o = acc->event.order;
  CHECK(o.venue == "backpack");
  CHECK(o.symbol == "ETH");
  CHECK(o.order_id == "5406825793");
  CHECK(o.client_order_id.empty());
  CHECK(o.side == perpgw::Side::kBuy);
  CHECK(o.type == perpgw::OrderType::kMarket);  // "MARKET" upper case on WS
  CHECK(o.tif == perpgw::TimeInForce::kGtc);
  CHECK(o.size == D("0.001"));
  CHECK(o.filled_size.IsZero());
  CHECK(o.status == OrderStatus::kOpen);
  CHECK(o.reason == CancelReason::kNone);
  CHECK(!acc->event.fill.has_value());
  CHECK(acc->event.exchange_time == 1754939110174703000);
  CHECK(acc->event.receive_time == 11);

  auto fill = c.ParseOrderUpdate(frames[1], syms, nullptr, 12);
  REQUIRE(fill.ok());
  CHECK(fill->event_type == "orderFill");
  CHECK(fill->event.order.status == OrderStatus::kFilled);
  CHECK(fill->event.order.filled_size == D("0.0010"));
  CHECK(fill->event.order.avg_fill_price == D("4299.16"));
  REQUIRE(fill->event.fill.has_value());
  const perpgw::Fill& f = *fill->event.fill;
  CHECK(f.trade_id == "2888471");
  CHECK(f.price == D("4299.16"));
  CHECK(f.size == D("0.0010"));
  CHECK(f.fee == D("0.000001"));
  CHECK(f.fee_asset == "ETH");
  CHECK(!f.maker);
  CHECK(!f.liquidation);
  CHECK(f.side == perpgw::Side::kBuy);
  CHECK(f.exchange_time == 1754939110174705000);
  CHECK(!fill->liquidation.has_value());
}

TEST_CASE("backpack codec: orderUpdate docs example, client ids, terminal events") {
  bp::Codec c;
  bp::SymbolTable syms;
  bp::ClientIdMapper clients;
  REQUIRE(clients.Restore("my-order-1", 123).ok());
  auto u = c.ParseOrderUpdate(ReadData("ws_orderUpdate_docs_example.json"), syms, &clients, 0);
  REQUIRE(u.ok());
  CHECK(u->client_id == 123u);
  CHECK(u->event.order.client_order_id == "my-order-1");
  CHECK(u->event.order.tif == perpgw::TimeInForce::kPostOnly);  // y = true
  CHECK(u->event.order.type == perpgw::OrderType::kLimit);
  CHECK(u->event.order.price == D("20"));
  CHECK(u->event.order.order_id == "1111343026172067");
  CHECK(u->expiry_reason == "PRICE_BAND");
  CHECK(!u->event.fill.has_value());  // fill fields only count on orderFill
  // Unknown clientId without a mapper entry: decimal text.
  auto u2 = c.ParseOrderUpdate(ReadData("ws_orderUpdate_docs_example.json"), syms, nullptr, 0);
  REQUIRE(u2.ok());
  CHECK(u2->event.order.client_order_id == "123");

  const char* expired_post_only = R"({"stream":"account.orderUpdate","data":{
    "e":"orderExpired","E":1700000000000001,"s":"BTC_USDC_PERP","c":7,"S":"Ask","o":"LIMIT",
    "f":"GTC","q":"0.01","p":"60000","X":"Expired","R":"PostOnlyTaker","i":"9","z":"0",
    "Z":"0","y":true,"r":false,"O":"USER","T":1700000000000000}})";
  auto e = c.ParseOrderUpdate(expired_post_only, syms, nullptr, 0);
  REQUIRE(e.ok());
  CHECK(e->event.order.status == OrderStatus::kRejected);
  CHECK(e->event.order.reason == CancelReason::kPostOnlyViolation);
  CHECK(e->event.order.side == perpgw::Side::kSell);
  CHECK(e->event.order.symbol == "BTC");

  const char* ioc_expired = R"({"e":"orderExpired","s":"BTC_USDC_PERP","S":"Bid","o":"LIMIT",
    "f":"IOC","q":"0.02","p":"60000","X":"Expired","R":"ImmediateOrCancel","i":"10","z":"0.01",
    "Z":"600","T":1})";
  auto ioc = c.ParseOrderUpdate(ioc_expired, syms, nullptr, 0);
  REQUIRE(ioc.ok());
  CHECK(ioc->event.order.status == OrderStatus::kExpired);
  CHECK(ioc->event.order.reason == CancelReason::kExpired);
  CHECK(ioc->event.order.tif == perpgw::TimeInForce::kIoc);
  CHECK(ioc->event.order.avg_fill_price == D("60000"));

  const char* cancelled = R"({"e":"orderCancelled","s":"BTC_USDC_PERP","S":"Bid","o":"LIMIT",
    "f":"GTC","q":"1","p":"1","X":"Cancelled","i":"11","z":"0","Z":"0","T":5})";
  auto cx = c.ParseOrderUpdate(cancelled, syms, nullptr, 0);
  REQUIRE(cx.ok());
  CHECK(cx->event.order.status == OrderStatus::kCanceled);
  CHECK(cx->event.order.reason == CancelReason::kUserCanceled);
  CHECK(cx->event.order.updated_time == 5000);

  const char* liq = R"({"e":"orderFill","E":2,"s":"SOL_USDC_PERP","S":"Ask","o":"MARKET",
    "f":"IOC","q":"3","X":"PartiallyFilled","i":"12","t":"77","l":"1","L":"150.5","z":"1",
    "Z":"150.5","m":false,"n":"0.05","N":"USDC","r":true,"O":"LIQUIDATION_AUTOCLOSE","T":3})";
  auto l = c.ParseOrderUpdate(liq, syms, nullptr, 0);
  REQUIRE(l.ok());
  CHECK(l->event.order.status == OrderStatus::kPartiallyFilled);
  REQUIRE(l->event.fill.has_value());
  CHECK(l->event.fill->liquidation);
  CHECK(l->event.fill->trade_id == "77");
  REQUIRE(l->liquidation.has_value());
  CHECK(l->liquidation->symbol == "SOL");
  CHECK(l->liquidation->side == perpgw::Side::kSell);
  CHECK(l->liquidation->price == D("150.5"));
  CHECK(l->liquidation->size == D("1"));
  CHECK(l->liquidation->order_id == "12");
  CHECK(l->liquidation->exchange_time == 3000);

  // Missing mandatory fields / bad values.
  CHECK(!c.ParseOrderUpdate(R"({"e":"orderAccepted","s":"X_USDC","S":"Bid","X":"New"})", syms,
                            nullptr, 0)
             .ok());  // no order id
  CHECK(!c.ParseOrderUpdate(R"({"e":"orderAccepted","s":"X_USDC","S":"Up","i":"1"})", syms, nullptr,
                            0)
             .ok());
  CHECK(!c.ParseOrderUpdate(R"({"e":"orderAccepted","s":"X_USDC","S":"Bid","i":"1","X":"Weird"})",
                            syms, nullptr, 0)
             .ok());
  CHECK(
      !c.ParseOrderUpdate(R"({"e":"orderAccepted","s":"X_USDC","S":"Bid","i":"1","c":4294967296})",
                          syms, nullptr, 0)
           .ok());
  CHECK(!c.ParseOrderUpdate(
              R"({"e":"orderFill","s":"X_USDC","S":"Bid","i":"1","X":"Filled","l":"1"})", syms,
              nullptr, 0)
             .ok());  // fill without price
}

TEST_CASE("backpack codec: account.positionUpdate, incl. the snapshot without e") {
  bp::Codec c;
  bp::SymbolTable syms;
  auto p = c.ParsePositionUpdate(ReadData("ws_positionUpdate.json"), syms);
  REQUIRE(p.ok());
  CHECK(p->event_type == "positionOpened");
  CHECK(!p->snapshot);
  CHECK(p->position_id == "5411399049");
  const perpgw::Position& pos = p->position;
  CHECK(pos.venue == "backpack");
  CHECK(pos.symbol == "ETH");
  CHECK(pos.size == D("0.0010"));
  CHECK(pos.entry_price == D("4236.36"));
  CHECK(pos.mark_price == D("4235.88650933"));
  CHECK(pos.exposure_usd == D("4.23588650933"));
  CHECK(pos.unrealized_pnl == D("-0.000473"));
  CHECK(pos.realized_pnl == D("0"));  // "p": "0" is a value
  CHECK(pos.margin == D("0.08471773"));  // |n| x f = 4.23588650933 x 0.02, 8 places
  CHECK(pos.update_time == 1754943862040487000);
  // First message after subscribe: no "e", numbers possibly bare (docs sample style).
  const char* snap = R"({"stream":"account.positionUpdate","data":{"E":1,"s":"BTC_USDC_PERP",
    "b":60001.5,"B":60000,"f":0.02,"M":60010.25,"m":0.0125,"q":-0.5,"Q":-0.5,"n":-30005.125,
    "i":42,"p":0,"P":-5.125,"l":0,"T":2}})";
  auto s = c.ParsePositionUpdate(snap, syms);
  REQUIRE(s.ok());
  CHECK(s->snapshot);
  CHECK(s->event_type.empty());
  CHECK(s->position.size == D("-0.5"));
  CHECK(s->position.entry_price == D("60000"));
  CHECK(s->position.mark_price == D("60010.25"));
  CHECK(s->position.unrealized_pnl == D("-5.125"));
  CHECK(s->position_id == "42");
  CHECK(!c.ParsePositionUpdate(R"({"e":"positionOpened","s":"X_USDC_PERP"})", syms).ok());
}

TEST_CASE("backpack codec: REST order objects and the execute ack") {
  bp::Codec c;
  bp::SymbolTable syms;
  auto o = c.ParseOrder(ReadData("order_execute_response.json"), syms, nullptr);
  REQUIRE(o.ok());
  CHECK(o->order_id == "8284671277");
  CHECK(o->symbol == "ETH");
  CHECK(o->client_order_id.empty());
  CHECK(o->type == perpgw::OrderType::kLimit);
  CHECK(o->tif == perpgw::TimeInForce::kGtc);
  CHECK(o->status == OrderStatus::kOpen);
  CHECK(o->price == D("4000"));
  CHECK(o->size == D("0.001"));
  CHECK(o->filled_size.IsZero());
  CHECK_FALSE(o->avg_fill_price.has_value());
  CHECK(!o->reduce_only);
  CHECK(o->created_time == 1757621458290LL * 1000000);  // ms -> ns

  bp::ClientIdMapper clients;
  REQUIRE(clients.Restore("mkt-1", 55555).ok());
  auto ack = c.ParseOrderExecuteResponse(200, ReadData("order_execute_market_filled_response.json"),
                                         syms, &clients);
  CHECK(ack.outcome == perpgw::AckOutcome::kAccepted);
  CHECK(ack.order.status == OrderStatus::kFilled);
  CHECK(ack.order.type == perpgw::OrderType::kMarket);
  CHECK(ack.order.client_order_id == "mkt-1");
  CHECK(ack.order.filled_size == D("1"));
  CHECK(ack.order.avg_fill_price == D("0.8921"));
  CHECK(ack.order.symbol == "ADA");

  const char* would_cross = R"({"id":"ord-2","status":"Expired","expiryReason":"PostOnlyTaker",
    "symbol":"BTC_USDC_PERP","side":"Bid","orderType":"Limit","postOnly":true,"price":"79990.0",
    "quantity":"0.005","executedQuantity":"0","executedQuoteQuantity":"0","createdAt":1})";
  auto po = c.ParseOrderExecuteResponse(200, would_cross, syms, nullptr);
  CHECK(po.outcome == perpgw::AckOutcome::kRejected);
  CHECK(po.reason == CancelReason::kPostOnlyViolation);
  CHECK(po.order.tif == perpgw::TimeInForce::kPostOnly);

  auto accepted_later = c.ParseOrderExecuteResponse(202, "", syms, nullptr);
  CHECK(accepted_later.outcome == perpgw::AckOutcome::kOutcomeUnknown);
  auto server = c.ParseOrderExecuteResponse(500, R"({"code":"SERVER_ERROR","message":"oops"})",
                                            syms, nullptr);
  CHECK(server.outcome == perpgw::AckOutcome::kOutcomeUnknown);
  auto bad = c.ParseOrderExecuteResponse(400, ReadData("error.json"), syms, nullptr);
  CHECK(bad.outcome == perpgw::AckOutcome::kRejected);
  CHECK(!bad.retryable);
  CHECK(bad.order.status == OrderStatus::kRejected);
  CHECK(bad.message.find("INVALID_CLIENT_REQUEST") != std::string::npos);
  auto dup =
      c.ParseOrderExecuteResponse(400, SplitArray(ReadData("errors.json"))[0], syms, nullptr);
  CHECK(dup.outcome == perpgw::AckOutcome::kOutcomeUnknown);  // reconcile by clientId
  auto limited = c.ParseOrderExecuteResponse(429, "", syms, nullptr);
  CHECK(limited.outcome == perpgw::AckOutcome::kRejected);
  CHECK(limited.retryable);
  auto text = c.ParseOrderExecuteResponse(400, "failed to parse \"MarketSymbol\"", syms, nullptr);
  CHECK(text.outcome == perpgw::AckOutcome::kRejected);
  auto garbled = c.ParseOrderExecuteResponse(200, "{\"id\":\"1\",", syms, nullptr);
  CHECK(garbled.outcome == perpgw::AckOutcome::kOutcomeUnknown);

  // Arrays: open orders and history (ISO createdAt, expiryReason).
  std::string open = "[" + ReadData("order_execute_response.json") + "]";
  auto list = c.ParseOrders(open, syms, nullptr);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].order_id == "8284671277");
  const char* history = R"([{"id":"5","createdAt":"2025-09-11T12:00:00.500","executedQuantity":"0",
    "executedQuoteQuantity":"0","expiryReason":"SelfTradePrevention","orderType":"Limit",
    "postOnly":false,"price":"10","quantity":"1","selfTradePrevention":"RejectTaker",
    "status":"Expired","side":"Ask","symbol":"SOL_USDC_PERP","timeInForce":"GTC",
    "clientId":9,"reduceOnly":true},
    {"id":"6","createdAt":"2025-09-11T12:00:01","orderType":"Market","status":"Cancelled",
    "side":"Bid","symbol":"SOL_USDC_PERP","timeInForce":"IOC","selfTradePrevention":"RejectTaker"}])";
  auto h = c.ParseOrders(history, syms, nullptr);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 2);
  CHECK((*h)[0].status == OrderStatus::kExpired);
  CHECK((*h)[0].reason == CancelReason::kSelfTrade);
  CHECK((*h)[0].reason_text == "SelfTradePrevention");
  CHECK((*h)[0].created_time == 1757592000LL * 1000000000 + 500000000);
  CHECK((*h)[0].client_order_id == "9");
  CHECK((*h)[0].reduce_only);
  CHECK((*h)[1].status == OrderStatus::kCanceled);
  CHECK((*h)[1].reason == CancelReason::kUserCanceled);
  CHECK(c.ParseOrders("[]", syms, nullptr)->empty());
  CHECK(!c.ParseOrders("{}", syms, nullptr).ok());
  CHECK(!c.ParseOrder(
              R"({"id":"1","symbol":"X_USDC","side":"Bid","orderType":"Stop","status":"New"})",
              syms, nullptr)
             .ok());
}

TEST_CASE("backpack codec: positions, collateral, capital, account, leverage") {
  bp::Codec c;
  bp::SymbolTable syms;
  auto ps = c.ParsePositions(ReadData("positions.json"), syms, 1234);
  REQUIRE(ps.ok());
  REQUIRE(ps->size() == 1);
  const perpgw::Position& p = (*ps)[0];
  CHECK(p.symbol == "ETH");
  CHECK(p.size == D("0.002"));
  CHECK(p.entry_price == D("4447.065"));
  CHECK(p.mark_price == D("4420.23644794"));
  CHECK(p.exposure_usd == D("8.84047289588"));
  CHECK(p.unrealized_pnl == D("0.000776"));
  CHECK(p.realized_pnl == D("-0.054434"));
  CHECK(p.funding_accrued == D("-0.022061"));
  CHECK(p.liquidation_price == D("0"));  // "0": none; the gateway sends it absent (convert)
  CHECK(p.margin == D("0.17680946"));
  CHECK(p.update_time == 1234);

  auto col = c.ParseCollateral(ReadData("collateral.json"), 5);
  REQUIRE(col.ok());
  CHECK(col->asset == "USDC");
  CHECK(col->available == D("999.82"));
  CHECK(col->equity == D("1000.00"));
  CHECK(col->margin_used == D("0.18"));
  CHECK(col->unrealized_pnl == D("0.000776"));
  CHECK(col->update_time == 5);

  auto cap = c.ParseCapital(ReadData("capital.json"), "USDC", 6);
  REQUIRE(cap.ok());
  CHECK(cap->available == D("112.847976936"));
  CHECK(cap->equity == D("112.847976936"));
  auto eth = c.ParseCapital(ReadData("capital.json"), "ETH", 6);
  REQUIRE(eth.ok());
  CHECK(eth->available == D("0.0019918"));
  auto none = c.ParseCapital(ReadData("capital.json"), "BTC", 6);
  REQUIRE(none.ok());
  CHECK(none->available.IsZero());

  auto acct = c.ParseAccount(ReadData("account.json"));
  REQUIRE(acct.ok());
  CHECK(acct->leverage_limit == D("10"));
  CHECK(acct->futures_maker_fee_bps == D("2"));
  CHECK(acct->futures_taker_fee_bps == D("5"));
  CHECK(acct->limit_orders == 1);
  CHECK(!acct->liquidating);

  auto infos = c.ParseMarketInfos(ReadData("markets.json"));
  REQUIRE(infos.ok());
  const bp::MarketInfo* btc = nullptr;
  for (const auto& i : *infos) {
    if (i.instrument.venue_symbol == "BTC_USDC_PERP") btc = &i;
  }
  REQUIRE(btc);
  auto li = bp::BuildLeverageInfo(*acct, btc, "BTC");
  CHECK(li.venue == "backpack");
  CHECK(li.symbol == "BTC");
  CHECK(li.leverage == D("10"));
  CHECK(li.max_leverage == D("10"));  // account limit below the market's 75x
  CHECK(li.initial_margin_ratio == D("0.01333"));
  CHECK(li.maint_margin_ratio == D("0.0066"));
  bp::AccountSettings high = *acct;
  high.leverage_limit = D("100");
  CHECK(bp::BuildLeverageInfo(high, btc, "BTC").max_leverage == D("75"));
  CHECK(bp::BuildLeverageInfo(high, nullptr, "BTC").max_leverage == D("100"));

  // Position.leverage: the account's leverageLimit on every position (account-wide, issue 19);
  // an account without one leaves it absent, never "0".
  CHECK(bp::AccountLeverage(*acct) == D("10"));
  std::vector<perpgw::Position> two(2);
  bp::ApplyAccountLeverage(bp::AccountLeverage(*acct), &two);
  CHECK(two[0].leverage == D("10"));
  CHECK(two[1].leverage == D("10"));
  bp::AccountSettings unset = *acct;
  unset.leverage_limit = D("0");
  CHECK_FALSE(bp::AccountLeverage(unset).has_value());
  bp::ApplyAccountLeverage(bp::AccountLeverage(unset), &two);
  CHECK_FALSE(two[0].leverage.has_value());
  CHECK_FALSE(bp::BuildLeverageInfo(unset, nullptr, "BTC").leverage.has_value());
  CHECK(bp::BuildLeverageInfo(unset, btc, "BTC").max_leverage == D("75"));

  CHECK(!c.ParseCollateral(R"({"netEquity":"x","netEquityAvailable":"1"})", 0).ok());
  CHECK(!c.ParseCollateral("[]", 0).ok());
  CHECK(!c.ParsePositions(R"([{"symbol":"X_USDC_PERP"}])", syms, 0).ok());
}

TEST_CASE("backpack codec: fill history") {
  bp::Codec c;
  bp::SymbolTable syms;
  bp::ClientIdMapper clients;
  REQUIRE(clients.Restore("alpha", 424242).ok());
  const char* body = R"([
    {"clientId":"424242","fee":"0.01","feeSymbol":"USDC","isMaker":true,"orderId":"111",
     "price":"100.5","quantity":"2","side":"Bid","symbol":"SOL_USDC_PERP","systemOrderType":null,
     "timestamp":"2025-09-11T12:00:00.123456","tradeId":99},
    {"fee":"0","feeSymbol":"USDC","isMaker":false,"orderId":"112","price":"99","quantity":"1",
     "side":"Ask","symbol":"SOL_USDC_PERP","systemOrderType":"LiquidatePositionOnBook",
     "timestamp":"2025-09-11T12:00:01"}])";
  auto fills = c.ParseFills(body, syms, &clients);
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 2);
  const perpgw::Fill& a = (*fills)[0];
  CHECK(a.client_order_id == "alpha");
  CHECK(a.symbol == "SOL");
  CHECK(a.trade_id == "99");
  CHECK(a.order_id == "111");
  CHECK(a.price == D("100.5"));
  CHECK(a.size == D("2"));
  CHECK(a.fee == D("0.01"));
  CHECK(a.maker);
  CHECK(!a.liquidation);
  CHECK(a.side == perpgw::Side::kBuy);
  CHECK(a.exchange_time == 1757592000LL * 1000000000 + 123456000);
  CHECK((*fills)[1].liquidation);
  CHECK((*fills)[1].client_order_id.empty());
  CHECK(!c.ParseFills(R"([{"symbol":"X","side":"Bid","price":"1"}])", syms, nullptr).ok());
}

TEST_CASE("backpack codec: naive UTC timestamps and status mapping") {
  CHECK(*bp::ParseNaiveUtc("1970-01-01T00:00:00") == 0);
  CHECK(*bp::ParseNaiveUtc("2025-01-21T06:34:54.691858") == 1737441294LL * 1000000000 + 691858000);
  CHECK(*bp::ParseNaiveUtc("2024-02-29T23:59:59Z") == 1709251199LL * 1000000000);
  CHECK(!bp::ParseNaiveUtc("2025-13-01T00:00:00").ok());
  CHECK(!bp::ParseNaiveUtc("2025-01-01").ok());
  CHECK(!bp::ParseNaiveUtc("2025-01-01T00:00:00+02:00").ok());
  CHECK(!bp::ParseNaiveUtc("2025-01-01T00:00:00.").ok());
  // Found by fuzz_backpack_codec: a year past 2262 overflowed int64 nanoseconds (UB).
  CHECK(!bp::ParseNaiveUtc("4050-09-11T11:00:00").ok());
  CHECK(*bp::ParseNaiveUtc("2261-12-31T23:59:59") == 9214646399LL * 1000000000);
  CHECK(*bp::MapOrderStatus("New") == OrderStatus::kOpen);
  CHECK(*bp::MapOrderStatus("PartiallyFilled") == OrderStatus::kPartiallyFilled);
  CHECK(*bp::MapOrderStatus("Filled") == OrderStatus::kFilled);
  CHECK(*bp::MapOrderStatus("Cancelled") == OrderStatus::kCanceled);
  CHECK(*bp::MapOrderStatus("Expired") == OrderStatus::kExpired);
  CHECK(*bp::MapOrderStatus("TriggerPending") == OrderStatus::kOpen);
  CHECK(*bp::MapOrderStatus("TriggerFailed") == OrderStatus::kRejected);
  CHECK(!bp::MapOrderStatus("Bogus").ok());
}

TEST_CASE("backpack codec: order and control-frame encoders") {
  auto btc = MakeInst("BTC_USDC_PERP", "0.1", "0.00001");
  perpgw::OrderRequest r;
  r.side = perpgw::Side::kBuy;
  r.type = perpgw::OrderType::kLimit;
  r.tif = perpgw::TimeInForce::kGtc;
  r.price = D("60000.50");
  r.size = D("0.00100");
  auto gtc = bp::EncodeOrderExecute(r, btc, 7);
  REQUIRE(gtc.ok());
  CHECK(
      gtc->body ==
      R"({"clientId":7,"orderType":"Limit","price":"60000.5","quantity":"0.001","side":"Bid","symbol":"BTC_USDC_PERP"})");
  REQUIRE(gtc->params.size() == 6);
  CHECK(gtc->params[0].key == "clientId");
  CHECK(gtc->params[0].value == "7");
  r.tif = perpgw::TimeInForce::kIoc;
  CHECK(bp::EncodeOrderExecute(r, btc, 0)->body.find(R"("timeInForce":"IOC")") !=
        std::string::npos);
  r.tif = perpgw::TimeInForce::kFok;
  CHECK(bp::EncodeOrderExecute(r, btc, 0)->body.find(R"("timeInForce":"FOK")") !=
        std::string::npos);
  r.tif = perpgw::TimeInForce::kPostOnly;
  r.reduce_only = true;
  auto po = bp::EncodeOrderExecute(r, btc, 0);
  REQUIRE(po.ok());
  CHECK(
      po->body ==
      R"({"orderType":"Limit","postOnly":true,"price":"60000.5","quantity":"0.001","reduceOnly":true,"side":"Bid","symbol":"BTC_USDC_PERP"})");
  // Off-grid values are refused, never rounded here.
  r.price = D("60000.55");
  CHECK(!bp::EncodeOrderExecute(r, btc, 0).ok());
  r.price = D("60000.5");
  r.size = D("0.000015");
  CHECK(!bp::EncodeOrderExecute(r, btc, 0).ok());
  r.size = D("0");
  CHECK(!bp::EncodeOrderExecute(r, btc, 0).ok());

  // Market with a slippage bound (bps -> percent), and the limit-IOC variant.
  perpgw::OrderRequest m;
  m.side = perpgw::Side::kSell;
  m.type = perpgw::OrderType::kMarket;
  m.size = D("0.5");
  m.max_slippage_bps = D("50");
  m.worst_price = D("59700.04");
  auto mk = bp::EncodeOrderExecute(m, btc, 42);
  REQUIRE(mk.ok());
  CHECK(
      mk->body ==
      R"({"clientId":42,"orderType":"Market","quantity":"0.5","side":"Ask","slippageTolerance":"0.5","slippageToleranceType":"Percent","symbol":"BTC_USDC_PERP"})");
  bp::OrderEncodeOptions ioc;
  ioc.market_style = bp::OrderEncodeOptions::MarketStyle::kLimitIoc;
  auto li = bp::EncodeOrderExecute(m, btc, 42, ioc);
  REQUIRE(li.ok());
  CHECK(
      li->body ==
      R"({"clientId":42,"orderType":"Limit","price":"59700.1","quantity":"0.5","side":"Ask","symbol":"BTC_USDC_PERP","timeInForce":"IOC"})");
  m.side = perpgw::Side::kBuy;
  CHECK(bp::EncodeOrderExecute(m, btc, 0, ioc)->body.find(R"("price":"59700")") !=
        std::string::npos);
  m.worst_price = perpgw::Decimal();
  CHECK(!bp::EncodeOrderExecute(m, btc, 0, ioc).ok());
  m.max_slippage_bps = perpgw::Decimal();
  CHECK(bp::EncodeOrderExecute(m, btc, 0)->body.find("slippage") == std::string::npos);
  m.tif = perpgw::TimeInForce::kPostOnly;
  CHECK(!bp::EncodeOrderExecute(m, btc, 0).ok());

  CHECK(bp::EncodeCancelOrder("BTC_USDC_PERP", "8284671277").body ==
        R"({"orderId":"8284671277","symbol":"BTC_USDC_PERP"})");
  CHECK(bp::EncodeCancelOrderByClientId("BTC_USDC_PERP", 4294967295u).body ==
        R"({"clientId":4294967295,"symbol":"BTC_USDC_PERP"})");
  CHECK(bp::EncodeCancelAll("BTC_USDC_PERP").body == R"({"symbol":"BTC_USDC_PERP"})");
  CHECK(bp::EncodeSetLeverage(D("10"))->body == R"({"leverageLimit":"10"})");
  CHECK(!bp::EncodeSetLeverage(D("0")).ok());

  std::string frames = ReadData("ws_subscribe_frames.json");
  CHECK(bp::EncodeSubscribe(
            {bp::DepthStream("BTC_USDC_PERP"), bp::BookTickerStream("BTC_USDC_PERP"),
             bp::MarkPriceStream("BTC_USDC_PERP"), bp::TradeStream("BTC_USDC_PERP")}) ==
        bp::testing::Member(frames, "public_subscribe"));
  CHECK(bp::EncodeUnsubscribe({bp::TradeStream("BTC_USDC_PERP")}) ==
        bp::testing::Member(frames, "public_unsubscribe"));
  CHECK(bp::EncodeSubscribe({"depth.200ms.BTC_USDC_PERP"}) ==
        bp::testing::Member(frames, "aggregated_depth_subscribe"));
  auto signer = bp::Signer::FromSecretBase64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
  REQUIRE(signer.ok());
  auto sig = signer->SignWsSubscribe(1614550000000, 5000);
  REQUIRE(sig.ok());
  CHECK(bp::EncodePrivateSubscribe(
            {std::string(bp::kOrderUpdateStream), std::string(bp::kPositionUpdateStream)}, *sig) ==
        bp::testing::Member(frames, "private_subscribe_see_vectors_V2"));
  CHECK(bp::EncodePrivateUnsubscribe({"account.orderUpdate"}) ==
        R"({"method":"UNSUBSCRIBE","params":["account.orderUpdate"]})");
  CHECK(bp::TickerStream("X") == "ticker.X");
  CHECK(bp::OpenInterestStream("X") == "openInterest.X");
}

TEST_CASE("backpack codec: truncated and garbage input never crash and mostly fail") {
  bp::Codec c;
  auto btc = Find(Markets(c), "BTC_USDC_PERP");
  bp::SymbolTable syms(Markets(c));
  bp::ClientIdMapper clients;
  const char* files[] = {"account.json",
                         "capital.json",
                         "collateral.json",
                         "depth.json",
                         "fundingRates.json",
                         "markPrices.json",
                         "markets.json",
                         "openInterest.json",
                         "order_execute_response.json",
                         "positions.json",
                         "ticker.json",
                         "ws_bookTicker.json",
                         "ws_markPrice.json",
                         "ws_openInterest.json",
                         "ws_positionUpdate.json",
                         "ws_ticker.json",
                         "ws_trade.json",
                         "ws_orderUpdate_docs_example.json",
                         "ws_depth_docs_example.json",
                         "depth_snapshot_for_ws_sequence.json",
                         "order_execute_market_filled_response.json"};
  std::vector<std::string> docs;
  for (const char* f : files) docs.push_back(ReadData(f));
  for (const auto& f : SplitArray(ReadData("ws_depth_sequence.json"))) docs.push_back(f);
  size_t dom_errors = 0, dom_calls = 0;
  auto count = [&](bool ok) {
    ++dom_calls;
    if (!ok) ++dom_errors;
  };
  for (const std::string& doc : docs) {
    for (size_t cut = 0; cut < doc.size(); cut += (cut < 64 ? 1 : 7)) {
      std::string t = doc.substr(0, cut);
      perpgw::DeltaMsg m;
      (void)c.ParseDepthDelta(t, btc, &m);
      (void)c.ClassifyWsFrame(t);
      // DOM-based parsers validate the whole document: a truncated one is always an error.
      count(c.ParseMarkets(t).ok());
      count(c.ParseDepthSnapshot(t, btc).ok());
      count(c.ParseBookTicker(t, syms, 0).ok());
      count(c.ParseTrade(t, syms, 0).ok());
      count(c.ParseMarkPrices(t).ok());
      count(c.ParseTickers(t).ok());
      count(c.ParseOpenInterest(t).ok());
      count(c.ParseFundingRates(t).ok());
      count(c.ParseWsMarkPrice(t).ok());
      count(c.ParseWsTicker(t).ok());
      count(c.ParseWsOpenInterest(t).ok());
      count(c.ParseOrderUpdate(t, syms, &clients, 0).ok());
      count(c.ParsePositionUpdate(t, syms).ok());
      count(c.ParseOrder(t, syms, &clients).ok());
      count(c.ParseOrders(t, syms, &clients).ok());
      count(c.ParsePositions(t, syms, 0).ok());
      count(c.ParseCollateral(t, 0).ok());
      count(c.ParseCapital(t, "USDC", 0).ok());
      count(c.ParseAccount(t).ok());
      count(c.ParseFills(t, syms, &clients).ok());
      CHECK(c.ParseOrderExecuteResponse(200, t, syms, &clients).outcome ==
            perpgw::AckOutcome::kOutcomeUnknown);
    }
  }
  CHECK(dom_calls > 0);
  CHECK(dom_errors == dom_calls);

  // Hand-written bad depth frames.
  const char* bad_depth[] = {
      "",
      "null",
      "[]",
      "{}",
      "not json at all",
      R"({"stream":"depth.BTC_USDC_PERP","data":[]})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[],"b":[],"U":"abc","u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[],"b":[],"U":5,"u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[],"b":[]}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[["1.0"]],"b":[],"U":1,"u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[[1.0,2]],"b":[],"U":1,"u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[["x","1"]],"b":[],"U":1,"u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[["1.0","1"]],"b":{},"U":1,"u":2}})",
      R"({"data":{"e":"trade","s":"BTC_USDC_PERP","a":[],"b":[],"U":1,"u":2}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[],"b":[],"U":1,"u":2,"T":-5}})",
      R"({"data":{"e":"depth","s":"BTC_USDC_PERP","a":[],"b":[],"U":1,"u":2,"T":99999999999999999}})",
  };
  for (const char* f : bad_depth) {
    INFO(f);
    perpgw::DeltaMsg m;
    CHECK(!c.ParseDepthDelta(f, btc, &m).ok());
  }
  // U/u as strings are tolerated (bookTicker-style); bare data works too.
  perpgw::DeltaMsg ok;
  CHECK(c.ParseDepthDelta(
             R"({"e":"depth","s":"BTC_USDC_PERP","a":[["1.0","1"]],"b":[],"U":"1","u":"2","T":3})",
             btc, &ok)
            .ok());
  CHECK(ok.exchange_time == 3000);
  // Binary garbage.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  perpgw::DeltaMsg m;
  CHECK(!c.ParseDepthDelta(junk, btc, &m).ok());
  CHECK(!c.ClassifyWsFrame(junk).ok());
  CHECK(!c.ParseOrderUpdate(junk, syms, nullptr, 0).ok());
  CHECK(!c.ParseMarkets(junk).ok());
}

TEST_CASE("backpack codec: depth delta throughput (informational)", "[.perf]") {
  bp::Codec c;
  auto btc = Find(Markets(c), "BTC_USDC_PERP");
  auto frames = SplitArray(ReadData("ws_depth_sequence.json"));
  perpgw::DeltaMsg m;
  constexpr int kRounds = 200000;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  for (int r = 0; r < kRounds; ++r) {
    for (const auto& f : frames) {
      (void)c.ParseDepthDelta(f, btc, &m);
      sum += m.last_id;
    }
  }
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  WARN("ParseDepthDelta: " << static_cast<double>(ns) / (kRounds * frames.size())
                           << " ns/frame (checksum " << sum << ")");
}

// Batch orderExecute (POST /api/v1/orders): expected bodies and signing strings written by hand
// from backpack.md sections 9-10 (a JSON array of the single order's bodies; one
// "instruction=orderExecute&<sorted fields>" segment per order, timestamp/window once).
TEST_CASE("backpack codec: batch orderExecute body and signing string") {
  auto sol = MakeInst("SOL_USDC_PERP", "0.01", "0.01");
  perpgw::OrderRequest a;
  a.side = perpgw::Side::kBuy;
  a.type = perpgw::OrderType::kLimit;
  a.tif = perpgw::TimeInForce::kPostOnly;
  a.price = D("141");
  a.size = D("12");
  perpgw::OrderRequest b;
  b.side = perpgw::Side::kSell;
  b.type = perpgw::OrderType::kLimit;
  b.tif = perpgw::TimeInForce::kIoc;
  b.reduce_only = true;
  b.price = D("140.50");
  b.size = D("11");
  auto ea = bp::EncodeOrderExecute(a, sol, 7);
  auto eb = bp::EncodeOrderExecute(b, sol, 4294967295u);  // clientId is a uint32
  REQUIRE(ea.ok());
  REQUIRE(eb.ok());
  auto batch = bp::EncodeOrderExecuteBatch({*ea, *eb});
  REQUIRE(batch.ok());
  CHECK(batch->body ==
        R"([{"clientId":7,"orderType":"Limit","postOnly":true,"price":"141","quantity":"12",)"
        R"("side":"Bid","symbol":"SOL_USDC_PERP"},)"
        R"({"clientId":4294967295,"orderType":"Limit","price":"140.5","quantity":"11",)"
        R"("reduceOnly":true,"side":"Ask","symbol":"SOL_USDC_PERP","timeInForce":"IOC"}])");
  REQUIRE(batch->items.size() == 2);
  const std::string want =
      "instruction=orderExecute&clientId=7&orderType=Limit&postOnly=true&price=141&quantity=12"
      "&side=Bid&symbol=SOL_USDC_PERP"
      "&instruction=orderExecute&clientId=4294967295&orderType=Limit&price=140.5&quantity=11"
      "&reduceOnly=true&side=Ask&symbol=SOL_USDC_PERP&timeInForce=IOC"
      "&timestamp=1750793021519&window=5000";
  CHECK(bp::BuildBatchSigningString("orderExecute", batch->items, 1750793021519, 5000) == want);
  // The server rebuilds the string from the body it receives: body and signed items agree.
  auto from_body = bp::ParamsFromJsonArray(batch->body);
  REQUIRE(from_body.ok());
  CHECK(bp::BuildBatchSigningString("orderExecute", *from_body, 1750793021519, 5000) == want);

  // The docs' batch example (vector V7: two Bid Limit orders 141 x 12 and 140 x 11, no clientId,
  // timestamp 1750793021519, window 5000, key K1 = the RFC 8032 test seed).
  perpgw::OrderRequest d1;
  d1.side = perpgw::Side::kBuy;
  d1.type = perpgw::OrderType::kLimit;
  d1.tif = perpgw::TimeInForce::kGtc;
  d1.price = D("141");
  d1.size = D("12");
  perpgw::OrderRequest d2 = d1;
  d2.price = D("140");
  d2.size = D("11");
  auto docs = bp::EncodeOrderExecuteBatch(
      {*bp::EncodeOrderExecute(d1, sol, 0), *bp::EncodeOrderExecute(d2, sol, 0)});
  REQUIRE(docs.ok());
  CHECK(docs->body ==
        R"([{"orderType":"Limit","price":"141","quantity":"12","side":"Bid","symbol":"SOL_USDC_PERP"},)"
        R"({"orderType":"Limit","price":"140","quantity":"11","side":"Bid","symbol":"SOL_USDC_PERP"}])");
  CHECK(bp::BuildBatchSigningString("orderExecute", docs->items, 1750793021519, 5000) ==
        "instruction=orderExecute&orderType=Limit&price=141&quantity=12&side=Bid"
        "&symbol=SOL_USDC_PERP&instruction=orderExecute&orderType=Limit&price=140&quantity=11"
        "&side=Bid&symbol=SOL_USDC_PERP&timestamp=1750793021519&window=5000");
  auto signer = bp::Signer::FromSecretBase64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
  REQUIRE(signer.ok());
  auto h = signer->SignBatch("orderExecute", docs->items, 1750793021519, 5000);
  REQUIRE(h.ok());
  CHECK(h->signature ==
        "vPFtn5Js/Bow3UsENNogoyaEcTqy8fxLH2ASbpAcTSClJf1v4VAj7+61T7IRwMt9kvGvGxhtlXqlvtCzzbFxAQ==");

  // 1..kMaxBatchOrders orders.
  CHECK(!bp::EncodeOrderExecuteBatch({}).ok());
  CHECK(!bp::EncodeOrderExecuteBatch(std::vector<bp::EncodedRequest>(bp::kMaxBatchOrders + 1, *ea))
             .ok());
  CHECK(bp::EncodeOrderExecuteBatch(std::vector<bp::EncodedRequest>(bp::kMaxBatchOrders, *ea)).ok());
}

TEST_CASE("backpack codec: batch orderExecute answer, one entry per order") {
  bp::Codec c;
  bp::SymbolTable syms;
  bp::ClientIdMapper clients;
  REQUIRE(clients.Restore("bt-ok", 11).ok());
  REQUIRE(clients.Restore("bt-margin", 12).ok());
  // Accepted, refused (error body in its place), a post-only that would cross (Expired
  // PostOnlyTaker), and a server-side error (could have executed).
  const std::string answer =
      "[" + ReadData("order_execute_response.json") + "," +
      R"({"code":"INSUFFICIENT_MARGIN","message":"Insufficient margin"},)"
      R"({"id":"ord-2","status":"Expired","expiryReason":"PostOnlyTaker","clientId":13,)"
      R"("symbol":"BTC_USDC_PERP","side":"Bid","orderType":"Limit","postOnly":true,)"
      R"("price":"79990.0","quantity":"0.005","executedQuantity":"0",)"
      R"("executedQuoteQuantity":"0","createdAt":1},)"
      R"({"code":"SERVER_ERROR","message":"Internal server error"}])";
  auto entries = c.ParseOrderExecuteBatchResponse(answer, syms, &clients);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 4);
  const auto& ok = (*entries)[0];
  CHECK(ok.http_status == 200);
  CHECK(ok.ack.outcome == perpgw::AckOutcome::kAccepted);
  CHECK(ok.ack.order.order_id == "8284671277");
  CHECK(ok.ack.order.status == OrderStatus::kOpen);
  const auto& refused = (*entries)[1];
  CHECK(refused.http_status == 400);
  CHECK(refused.body == R"({"code":"INSUFFICIENT_MARGIN","message":"Insufficient margin"})");
  CHECK(refused.ack.outcome == perpgw::AckOutcome::kRejected);
  CHECK(refused.ack.reason == CancelReason::kInsufficientBalance);
  CHECK(refused.ack.message.find("Insufficient margin") != std::string::npos);
  const auto& cross = (*entries)[2];
  CHECK(cross.http_status == 200);
  CHECK(cross.ack.outcome == perpgw::AckOutcome::kRejected);
  CHECK(cross.ack.reason == CancelReason::kPostOnlyViolation);
  CHECK(cross.ack.order.order_id == "ord-2");
  CHECK((*entries)[3].http_status == 400);
  CHECK((*entries)[3].ack.outcome == perpgw::AckOutcome::kOutcomeUnknown);

  // A duplicate live clientId in an entry: reconcile, as for one order.
  auto dup = c.ParseOrderExecuteBatchResponse(
      "[" + SplitArray(ReadData("errors.json"))[0] + "," + ReadData("order_execute_response.json") +
          "]",
      syms, nullptr);
  REQUIRE(dup.ok());
  REQUIRE(dup->size() == 2);
  CHECK((*dup)[0].ack.outcome == perpgw::AckOutcome::kOutcomeUnknown);
  CHECK((*dup)[1].ack.outcome == perpgw::AckOutcome::kAccepted);
  // An entry we cannot read is an unknown outcome (the order may exist).
  auto odd = c.ParseOrderExecuteBatchResponse(R"([{"status":"New"}])", syms, nullptr);
  REQUIRE(odd.ok());
  REQUIRE(odd->size() == 1);
  CHECK((*odd)[0].ack.outcome == perpgw::AckOutcome::kOutcomeUnknown);
  // Not an array of objects: no entries at all (the adapter answers unknown for each order).
  CHECK(!c.ParseOrderExecuteBatchResponse(ReadData("order_execute_response.json"), syms, nullptr)
             .ok());
  CHECK(!c.ParseOrderExecuteBatchResponse("[1,2]", syms, nullptr).ok());
  CHECK(!c.ParseOrderExecuteBatchResponse("[{\"id\":\"1\",", syms, nullptr).ok());
  CHECK(c.ParseOrderExecuteBatchResponse("[]", syms, nullptr)->empty());
}
