// Aster codec on every recorded payload, the depth bridge sequence through BookSync, the
// encoders, and malformed/truncated input.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <chrono>

#include "adapters/aster/codec.h"
#include "test_util.h"

namespace perpgw::adapters::aster {
namespace {

using testing::ReadData;

Decimal D(std::string_view s) { return Decimal::Parse(s).value(); }
UnixNanos Ms(int64_t ms) { return ms * 1'000'000; }

// The exchangeInfo capture plus the other symbols the recorded payloads mention.
const SymbolMap& Symbols() {
  static const SymbolMap* m = [] {
    auto list = ParseExchangeInfo(ReadData("exchangeInfo.json")).value();
    Instrument bnb;
    bnb.venue = kVenue;
    bnb.venue_symbol = "BNBUSDT";
    bnb.symbol = "BNB";
    bnb.base = "BNB";
    bnb.quote = "USDT";
    bnb.tick_size = D("0.0001");
    bnb.step_size = D("0.01");
    bnb.price_scale = 4;
    bnb.size_scale = 2;
    list.push_back(bnb);
    Instrument eth = bnb;
    eth.venue_symbol = "ETHUSDT";
    eth.symbol = "ETH";
    eth.base = "ETH";
    list.push_back(eth);
    return new SymbolMap(list);
  }();
  return *m;
}

AccountContext Acct() {
  AccountContext c;
  c.symbols = &Symbols();
  c.account = "main";
  return c;
}

// Splits a JSON array file into one minified frame per element.
std::vector<std::string> Frames(const std::string& file) {
  std::string json = ReadData(file);
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  std::vector<std::string> out;
  for (simdjson::dom::element e : root.get_array()) out.push_back(simdjson::minify(e));
  return out;
}

// ------------------------------------------------------------------------------------------
TEST_CASE("exchangeInfo → instruments", "[aster][codec]") {
  auto info = ParseExchangeInfoDetailed(ReadData("exchangeInfo.json"));
  REQUIRE(info.ok());
  CHECK(info->server_time_ms == 1768185214423);
  CHECK(info->skipped.empty());
  REQUIRE(info->instruments.size() == 3);
  const Instrument& btc = info->instruments[0].instrument;
  CHECK(btc.venue == "aster");
  CHECK(btc.venue_symbol == "BTCUSDT");
  CHECK(btc.symbol == "BTC");
  CHECK(btc.base == "BTC");
  CHECK(btc.quote == "USDT");
  CHECK(btc.tick_size == D("0.1"));
  CHECK(btc.step_size == D("0.001"));
  CHECK(btc.min_size == D("0.001"));
  CHECK(btc.max_size == D("1000"));
  CHECK(btc.min_notional == D("5"));
  CHECK(btc.price_band_up == D("1.02"));  // PERCENT_PRICE vs the mark
  CHECK(btc.price_band_down == D("0.98"));
  CHECK(btc.quantity_multiplier == 1);
  CHECK(btc.tradeable);
  CHECK(btc.price_scale == 1);
  CHECK(btc.size_scale == 3);
  CHECK(info->instruments[0].market_max_qty == D("120"));
  CHECK(info->instruments[0].market_step == D("0.001"));
  CHECK(info->instruments[0].min_price == D("1"));
  CHECK(info->instruments[0].time_in_force.size() == 6);
  CHECK(info->instruments[0].order_types.size() == 7);
  CHECK(info->instruments[0].contract_type == "PERPETUAL");

  const Instrument& pepe = info->instruments[1].instrument;
  CHECK(pepe.venue_symbol == "1000PEPEUSDT");
  CHECK(pepe.symbol == "PEPE");
  CHECK(pepe.base == "1000PEPE");
  CHECK(pepe.quantity_multiplier == 1000);
  CHECK(pepe.tick_size.ToString() == "0.000001");  // "0.0000010" with the trailing zero dropped
  CHECK(pepe.price_scale == 6);
  CHECK(pepe.size_scale == 0);
  CHECK(pepe.max_size == D("35000000"));

  const Instrument& cn = info->instruments[2].instrument;
  CHECK(cn.venue_symbol == "币安人生USDT");
  CHECK(cn.symbol == "币安人生");
  CHECK(cn.quantity_multiplier == 1);
  CHECK(cn.price_scale == 5);

  auto plain = ParseExchangeInfo(ReadData("exchangeInfo.json"));
  REQUIRE(plain.ok());
  CHECK(plain->size() == 3);
}

TEST_CASE("exchangeInfo filtering and bad symbols", "[aster][codec]") {
  std::string json = R"({"serverTime":1,"symbols":[
    {"symbol":"AUSDT","status":"SETTLING","contractType":"PERPETUAL","baseAsset":"A","quoteAsset":"USDT",
     "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01"},{"filterType":"LOT_SIZE","stepSize":"1"}]},
    {"symbol":"BUSDT","status":"PENDING_TRADING","contractType":"","baseAsset":"B","quoteAsset":"USDT",
     "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01"},{"filterType":"LOT_SIZE","stepSize":"1"}]},
    {"symbol":"CUSDT","status":"TRADING","contractType":"PERPETUAL","baseAsset":"C","quoteAsset":"USDT",
     "filters":[{"filterType":"PRICE_FILTER","tickSize":"abc"},{"filterType":"LOT_SIZE","stepSize":"1"}]},
    {"symbol":"DUSDT","status":"TRADING","contractType":"PERPETUAL","baseAsset":"D","quoteAsset":"USDT",
     "filters":[{"filterType":"LOT_SIZE","stepSize":"1"}]}]})";
  auto info = ParseExchangeInfoDetailed(json);
  REQUIRE(info.ok());
  REQUIRE(info->instruments.size() == 1);
  CHECK(info->instruments[0].instrument.venue_symbol == "AUSDT");
  CHECK(!info->instruments[0].instrument.tradeable);
  CHECK(info->skipped.size() == 2);  // CUSDT (bad tick), DUSDT (no PRICE_FILTER)
  ExchangeInfoOptions opt;
  opt.tradeable_only = true;
  CHECK(ParseExchangeInfoDetailed(json, opt)->instruments.empty());
  opt = {};
  opt.include_non_perpetual = true;
  CHECK(ParseExchangeInfoDetailed(json, opt)->instruments.size() == 2);
  CHECK(!ParseExchangeInfo(R"({"serverTime":1})").ok());
}

TEST_CASE("fundingInfo, fundingRate history and intervals", "[aster][codec]") {
  auto rows = ParseFundingInfo(ReadData("fundingInfo.json"));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 4);
  CHECK((*rows)[1].venue_symbol == "ZORAUSDT");
  CHECK((*rows)[1].interval_hours == 4);
  CHECK((*rows)[1].fee_cap == D("0.02"));  // JSON number parsed exactly, not via double
  CHECK((*rows)[1].fee_floor == D("-0.02"));
  CHECK((*rows)[0].interest_rate == D("0.0001"));
  CHECK((*rows)[3].time == Ms(1773080759003));
  FundingIntervals m = ToFundingIntervals(*rows);
  CHECK(IntervalHoursFor(&m, "ZORAUSDT") == 4);
  CHECK(IntervalHoursFor(&m, "NOPEUSDT") == 8);
  CHECK(IntervalHoursFor(nullptr, "ZORAUSDT") == 8);
  std::vector<Instrument> list(1);
  list[0].venue_symbol = "TRUTHUSDT";
  ApplyFundingIntervals(m, &list);
  CHECK(list[0].funding_interval_hours == 4);

  auto hist = ParseFundingRateHistory(ReadData("fundingRate_history.json"));
  REQUIRE(hist.ok());
  REQUIRE(hist->size() == 2);
  CHECK((*hist)[0].rate == D("-0.0375"));
  CHECK(InferIntervalHours(*hist) == 8);
  CHECK(!InferIntervalHours({}).has_value());
}

TEST_CASE("fundingRate history → settled funding (ListFundingHistory)", "[aster][codec]") {
  // The recorded docs payload: no markPrice, 8 h apart; BTCUSDT is not in this fundingInfo, so
  // the interval comes from the settlement gaps.
  auto docs = ParseFundingHistory(ReadData("fundingRate_history.json"), "BTCUSDT", "BTC", nullptr);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  const Funding& d0 = (*docs)[0];
  CHECK(d0.venue == "aster");
  CHECK(d0.symbol == "BTC");
  CHECK(d0.rate == D("-0.0375"));
  CHECK(d0.interval_hours == D("8"));
  CHECK(d0.rate_8h == D("-0.0375"));
  CHECK(d0.as_of == Ms(1570608000000));
  CHECK_FALSE(d0.mark_price.has_value());
  CHECK(d0.next_funding_time == 0);
  CHECK((*docs)[1].as_of == Ms(1570636800000));
  CHECK((*docs)[1].rate_1h == D("0.0000125"));

  // fundingInfo's interval wins (the one live funding uses): 4 h → rate_8h = 2 × rate.
  const std::string two = R"([
    {"symbol":"ZORAUSDT","fundingRate":"0.00005000","fundingTime":1756195200000,"markPrice":"0.0812"},
    {"symbol":"ZORAUSDT","fundingRate":"-0.00002500","fundingTime":1756209600000,"markPrice":"0.0799"}
  ])";
  FundingIntervals iv{{"ZORAUSDT", 4}};
  auto z = ParseFundingHistory(two, "ZORAUSDT", "ZORA", &iv);
  REQUIRE(z.ok());
  REQUIRE(z->size() == 2);
  CHECK((*z)[0].interval_hours == D("4"));
  CHECK((*z)[0].rate_8h == D("0.0001"));
  CHECK((*z)[0].rate_1h == D("0.0000125"));
  CHECK((*z)[0].apr == D("0.1095"));
  CHECK((*z)[0].mark_price == D("0.0812"));
  CHECK((*z)[1].rate_8h == D("-0.00005"));
  CHECK((*z)[1].as_of == Ms(1756209600000));
  // Unknown to fundingInfo: inferred from the gap (4 h), not assumed 8.
  FundingIntervals other{{"INJUSDT", 8}};
  CHECK(ParseFundingHistory(two, "ZORAUSDT", "ZORA", &other)->front().interval_hours == D("4"));
  // Nothing to infer from (one row) and not in fundingInfo: the documented default, 8.
  const std::string one =
      R"([{"symbol":"ZORAUSDT","fundingRate":"0.0001","fundingTime":1756195200000}])";
  CHECK(ParseFundingHistory(one, "ZORAUSDT", "ZORA", nullptr)->front().interval_hours == D("8"));
  CHECK(ParseFundingHistory("[]", "ZORAUSDT", "ZORA", &iv)->empty());
}

TEST_CASE("fundingRate history refuses malformed rows and foreign symbols", "[aster][codec]") {
  FundingIntervals iv{{"BTCUSDT", 8}};
  auto bad = [&](const std::string& json) {
    auto r = ParseFundingHistory(json, "BTCUSDT", "BTC", &iv);
    INFO(json);
    CHECK(!r.ok());
    return r.status();
  };
  const std::string good = R"({"symbol":"BTCUSDT","fundingRate":"0.0001","fundingTime":1570608000000})";
  REQUIRE(ParseFundingHistory("[" + good + "]", "BTCUSDT", "BTC", &iv).ok());
  // A row for another symbol among good ones: an error naming it, never dropped.
  auto st = bad("[" + good + R"(,{"symbol":"ETHUSDT","fundingRate":"0.0001","fundingTime":1570636800000}])");
  CHECK(st.message().find("ETHUSDT") != std::string_view::npos);
  (void)bad("[" + good + R"(,{"symbol":"BTCUSDT","fundingTime":1570636800000}])");           // no rate
  (void)bad("[" + good + R"(,{"symbol":"BTCUSDT","fundingRate":"abc","fundingTime":1}])");   // bad rate
  st = bad("[" + good + R"(,{"symbol":"BTCUSDT","fundingRate":"0.0001"}])");           // no time
  CHECK(st.message().find("fundingTime") != std::string_view::npos);
  (void)bad("[" + good + R"(,{"symbol":"BTCUSDT","fundingRate":"0.0001","fundingTime":-5}])");
  (void)bad("[" + good + R"(,{"symbol":"BTCUSDT","fundingRate":"0.0001","fundingTime":1,"markPrice":"x"}])");
  (void)bad(R"({"code":-1121,"msg":"Invalid symbol."})");
  (void)bad("[" + good);
}

TEST_CASE("premiumIndex → funding normalized with the symbol's interval", "[aster][codec]") {
  auto single = ParsePremiumIndex(ReadData("premiumIndex_single.json"), &Symbols(), nullptr);
  REQUIRE(single.ok());
  REQUIRE(single->size() == 1);
  const Funding& f = (*single)[0];
  CHECK(f.venue == "aster");
  CHECK(f.symbol == "BTC");
  CHECK(f.rate == D("0.0001"));
  CHECK(f.interval_hours == D("8"));
  CHECK(f.rate_8h == D("0.0001"));
  CHECK(f.rate_1h == D("0.0000125"));
  CHECK(f.apr == D("0.1095"));
  CHECK(f.mark_price == D("106729.84047826"));
  CHECK(f.index_price == D("106775.72673913"));
  CHECK(f.next_funding_time == Ms(1750147200000));
  CHECK(f.as_of == Ms(1750146970000));

  // Hourly small caps (next funding on the next whole hour in the capture).
  FundingIntervals hourly = {{"SUSHIUSDT", 1}, {"RVVUSDT", 1}, {"龙虾USDT", 1}};
  auto all = ParsePremiumIndex(ReadData("premiumIndex_all.json"), &Symbols(), &hourly);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 8);
  CHECK((*all)[0].symbol == "1000BONKUSDT");  // not in the symbol map: verbatim
  CHECK((*all)[0].rate_8h == D("0.00005"));
  CHECK((*all)[6].symbol == "RVVUSDT");
  CHECK((*all)[6].rate == D("0.0000125"));
  CHECK((*all)[6].rate_8h == D("0.0001"));
  CHECK((*all)[6].rate_1h == D("0.0000125"));
  CHECK((*all)[3].rate.IsZero());  // TSLAUSDT stock perp: 0 funding
  CHECK((*all)[3].apr.IsZero());
  CHECK((*all)[7].symbol == "龙虾USDT");
  CHECK((*all)[7].interval_hours == D("1"));
  CHECK((*all)[5].symbol == "BTCU");
}

TEST_CASE("ticker24hr, openInterest, REST bookTicker", "[aster][codec]") {
  auto t = ParseTicker24h(ReadData("ticker24hr_all.json"), &Symbols());
  REQUIRE(t.ok());
  REQUIRE(t->size() == 1);
  CHECK((*t)[0].symbol == "BTC");
  CHECK((*t)[0].quote_volume == D("923607368.61"));
  CHECK((*t)[0].volume == D("8753.286"));
  CHECK((*t)[0].last_price == D("107037.7"));

  auto oi = ParseOpenInterest(ReadData("openInterest.json"));
  REQUIRE(oi.ok());
  CHECK(oi->venue_symbol == "BTCUSDT");
  CHECK(oi->open_interest == D("35123.45"));
  CHECK(oi->time == Ms(1788695053643));
  CHECK(OpenInterestUsd(oi->open_interest, D("106729.84047826")).value() ==
        D("3748720215.546141"));

  auto bt = ParseRestBookTicker(ReadData("rest_bookTicker_all.json"), &Symbols(), 77);
  REQUIRE(bt.ok());
  REQUIRE(bt->size() == 1);
  CHECK((*bt)[0].symbol == "BMTUSDT");
  CHECK((*bt)[0].bid_price == D("0.004"));
  CHECK((*bt)[0].bid_size == D("1250"));
  CHECK((*bt)[0].ask_price.IsZero());
  CHECK((*bt)[0].venue_seq == 453174307613ULL);
  CHECK((*bt)[0].exchange_time == Ms(1776411276072));
  CHECK((*bt)[0].receive_time == 77);
}

TEST_CASE("depth snapshot", "[aster][codec][depth]") {
  auto s = ParseDepthSnapshot(ReadData("depth_snapshot.json"), 1, 3);
  REQUIRE(s.ok());
  CHECK(s->last_update_id == 156391349800ULL);
  CHECK(s->event_time == Ms(1754556878100));
  CHECK(s->transaction_time == Ms(1754556878031));
  REQUIRE(s->bids.size() == 5);
  REQUIRE(s->asks.size() == 5);
  CHECK(s->bids[0].price == 1149883);
  CHECK(s->bids[0].size == 147);
  CHECK(s->asks[4].price == 1149912);
  CHECK(s->asks[4].size == 50);
  // A scale too small for the data is an error, never silent rounding.
  CHECK(!ParseDepthSnapshot(ReadData("depth_snapshot.json"), 0, 3).ok());
  const Instrument* btc = Symbols().ByVenueSymbol("BTCUSDT");
  REQUIRE(btc != nullptr);
  BookUpdate u = MakeSnapshotUpdate(*btc, *s, 5);
  CHECK(u.snapshot);
  CHECK(u.symbol == "BTC");
  CHECK(u.venue_seq == 156391349800ULL);
  CHECK(u.price_scale == 1);
  CHECK(u.bids.size() == 5);
  CHECK(u.receive_time == 5);
}

TEST_CASE("diff depth frames parse (wrapped and bare)", "[aster][codec][depth]") {
  std::vector<std::string> frames = Frames("ws_depth_diff_events.json");
  REQUIRE(frames.size() == 5);
  DeltaMsg d;
  REQUIRE(ParseDepthUpdate(frames[1], 1, 3, &d).ok());
  CHECK(d.first_id == 156391349796ULL);
  CHECK(d.last_id == 156391349810ULL);
  CHECK(d.prev_id == 156391349795ULL);
  CHECK(d.exchange_time == Ms(1754556878140));
  REQUIRE(d.changes.size() == 3);
  CHECK(d.changes[0].side == BookSide::kBid);
  CHECK(d.changes[0].level.price == 1149883);
  CHECK(d.changes[0].level.size == 100);
  CHECK(d.changes[1].level.size == 0);
  CHECK(d.changes[2].side == BookSide::kAsk);

  // The bare event (raw /ws stream) gives the same result.
  simdjson::dom::parser p;
  std::string bare = simdjson::minify(p.parse(frames[1])["data"]);
  DeltaMsg b;
  REQUIRE(ParseDepthUpdate(bare, 1, 3, &b).ok());
  CHECK(b.last_id == d.last_id);
  CHECK(b.changes.size() == 3);

  MarketContext ctx;
  ctx.symbols = &Symbols();
  MarketFrame f;
  REQUIRE(DecodeMarketFrame(frames[1], ctx, 9, &f).ok());
  CHECK(f.kind == MarketEventKind::kDepthDiff);
  CHECK(f.stream == "btcusdt@depth@100ms");
  CHECK(f.venue_symbol == "BTCUSDT");
  CHECK(f.delta.prev_id == 156391349795ULL);
  CHECK(f.delta.changes.size() == 3);
  REQUIRE(DecodeMarketFrame(bare, ctx, 9, &f).ok());
  CHECK(f.kind == MarketEventKind::kDepthDiff);
  CHECK(f.stream.empty());
  ctx.raw_depth_is_partial = true;
  REQUIRE(DecodeMarketFrame(bare, ctx, 9, &f).ok());
  CHECK(f.kind == MarketEventKind::kDepthPartial);
}

TEST_CASE("depth bridge: drop / bridge / continue / gap through BookSync", "[aster][codec][depth]") {
  const Instrument* btc = Symbols().ByVenueSymbol("BTCUSDT");
  REQUIRE(btc != nullptr);
  MarketContext ctx;
  ctx.symbols = &Symbols();
  std::vector<std::string> frames = Frames("ws_depth_diff_events.json");
  std::vector<DeltaMsg> deltas;
  for (const std::string& fr : frames) {
    MarketFrame f;
    REQUIRE(DecodeMarketFrame(fr, ctx, 0, &f).ok());
    REQUIRE(f.kind == MarketEventKind::kDepthDiff);
    deltas.push_back(f.delta);
  }
  auto snap = ParseDepthSnapshot(ReadData("depth_snapshot.json"), btc->price_scale, btc->size_scale);
  REQUIRE(snap.ok());

  BookSync sync(SeqRule::kPrevLink, btc->price_scale, btc->size_scale);
  // Events arrive before the snapshot: buffered.
  CHECK(sync.OnDelta(deltas[0]) == BookSync::Result::kBuffered);
  CHECK(sync.OnDelta(deltas[1]) == BookSync::Result::kBuffered);
  std::vector<const DeltaMsg*> applied;
  // u=...795 < L is dropped; U=...796 <= L=...800 <= u=...810 bridges.
  CHECK(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id, &applied) ==
        BookSync::Result::kApplied);
  REQUIRE(applied.size() == 1);
  CHECK(applied[0]->last_id == 156391349810ULL);
  CHECK(sync.live());
  CHECK(sync.last_id() == 156391349810ULL);
  const OrderBook& book = sync.book();
  CHECK(book.BestBid()->price == 1149883);
  CHECK(book.BestBid()->size == 100);
  CHECK(book.bid(1).size == 500);  // 114988.0 untouched: the dropped event never applied
  CHECK(book.bid_count() == 4);    // 114986.0 deleted
  CHECK(book.BestAsk()->size == 900);

  // pu == previous u: continue.
  CHECK(sync.OnDelta(deltas[2]) == BookSync::Result::kApplied);
  CHECK(book.bid_count() == 5);  // 114987.9 added
  CHECK(book.ask_count() == 5);  // 114989.5 deleted, 114992.0 added
  CHECK(sync.OnDelta(deltas[3]) == BookSync::Result::kApplied);
  CHECK(book.BestAsk()->price == 1149889);  // 114988.4 deleted ("0.000")
  CHECK(sync.last_id() == 156391349830ULL);

  // pu=...835 != ...830: gap → book dropped, awaiting a new snapshot.
  CHECK(sync.OnDelta(deltas[4]) == BookSync::Result::kGap);
  CHECK(!sync.live());
  CHECK(sync.book().Empty());
}

TEST_CASE("depth bridge: snapshot older than the buffered events", "[aster][codec][depth]") {
  MarketContext ctx;
  ctx.symbols = &Symbols();
  std::vector<std::string> frames = Frames("ws_depth_diff_events.json");
  BookSync sync(SeqRule::kPrevLink, 1, 3);
  for (int i : {2, 3}) {
    MarketFrame f;
    REQUIRE(DecodeMarketFrame(frames[i], ctx, 0, &f).ok());
    CHECK(sync.OnDelta(f.delta) == BookSync::Result::kBuffered);
  }
  auto snap = ParseDepthSnapshot(ReadData("depth_snapshot.json"), 1, 3);
  REQUIRE(snap.ok());
  // L = ...800 but the earliest buffered event starts at U = ...811: refetch.
  CHECK(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id) ==
        BookSync::Result::kSnapshotOld);
}

TEST_CASE("partial depth event replaces the book", "[aster][codec][depth]") {
  MarketContext ctx;
  ctx.symbols = &Symbols();
  MarketFrame f;
  REQUIRE(DecodeMarketFrame(ReadData("ws_partial_depth_event.json"), ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kDepthPartial);
  CHECK(f.stream == "btcusdt@depth20");
  DepthSnapshot s = PartialDepthToSnapshot(f.delta);
  CHECK(s.last_update_id == 156391349814ULL);
  REQUIRE(s.bids.size() == 1);
  REQUIRE(s.asks.size() == 1);
  CHECK(s.bids[0].price == 1149883);
  CHECK(s.asks[0].size == 1060);
  CHECK(IsPartialDepthStream("btcusdt@depth20@100ms"));
  CHECK(IsPartialDepthStream("btcusdt@depth5"));
  CHECK(!IsPartialDepthStream("btcusdt@depth@100ms"));
  CHECK(IsDiffDepthStream("btcusdt@depth"));
  CHECK(IsDiffDepthStream("btcusdt@depth@500ms"));
  CHECK(!IsDiffDepthStream("btcusdt@depth10"));
  CHECK(!IsDiffDepthStream("btcusdt@bookTicker"));
}

TEST_CASE("market frames: bookTicker, markPrice, forceOrder, aggTrade, ticker", "[aster][codec]") {
  MarketContext ctx;
  ctx.symbols = &Symbols();
  MarketFrame f;
  REQUIRE(DecodeMarketFrame(ReadData("ws_bookTicker.json"), ctx, 123, &f).ok());
  CHECK(f.kind == MarketEventKind::kBookTicker);
  CHECK(f.bbo.symbol == "BNB");
  CHECK(f.bbo.bid_price == D("25.3519"));
  CHECK(f.bbo.bid_size == D("31.21"));
  CHECK(f.bbo.ask_price == D("25.3652"));
  CHECK(f.bbo.ask_size == D("40.66"));
  CHECK(f.bbo.venue_seq == 400900217ULL);
  CHECK(f.bbo.exchange_time == Ms(1568014460891));
  CHECK(f.bbo.receive_time == 123);

  REQUIRE(DecodeMarketFrame(ReadData("ws_markPrice.json"), ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kMarkPrice);
  REQUIRE(f.funding.size() == 1);
  CHECK(f.funding[0].symbol == "BTC");
  CHECK(f.funding[0].mark_price == D("11794.15"));
  CHECK(f.funding[0].index_price == D("11784.62659091"));
  CHECK(f.funding[0].rate == D("0.00038167"));
  CHECK(f.funding[0].rate_1h == D("0.00004770875"));
  CHECK(f.funding[0].apr == D("0.41792865"));
  CHECK(f.funding[0].next_funding_time == Ms(1562306400000));
  CHECK(f.funding[0].as_of == Ms(1562305380000));
  FundingIntervals four = {{"BTCUSDT", 4}};
  ctx.intervals = &four;
  REQUIRE(DecodeMarketFrame(ReadData("ws_markPrice.json"), ctx, 0, &f).ok());
  CHECK(f.funding[0].interval_hours == D("4"));
  CHECK(f.funding[0].rate_8h == D("0.00076334"));
  ctx.intervals = nullptr;

  // !markPrice@arr, wrapped and raw.
  std::string one = ReadData("ws_markPrice.json");
  std::string arr = "[" + one + "," + one + "]";
  REQUIRE(DecodeMarketFrame(arr, ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kMarkPrice);
  CHECK(f.funding.size() == 2);
  REQUIRE(DecodeMarketFrame(R"({"stream":"!markPrice@arr@1s","data":)" + arr + "}", ctx, 0, &f)
              .ok());
  CHECK(f.funding.size() == 2);

  REQUIRE(DecodeMarketFrame(ReadData("ws_forceOrder.json"), ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kLiquidation);
  CHECK(f.venue_symbol == "BTCUSDT");
  CHECK(f.liquidation.symbol == "BTC");
  CHECK(f.liquidation.side == Side::kSell);
  CHECK(f.liquidation.price == D("9910"));
  CHECK(f.liquidation.size == D("0.014"));
  CHECK(f.liquidation.exchange_time == Ms(1568014460893));
  auto liq = ParseForceOrder(ReadData("ws_forceOrder.json"), &Symbols());
  REQUIRE(liq.ok());
  CHECK(liq->size == D("0.014"));

  std::string agg = R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":123456789,"s":"BTCUSDT",
      "a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}})";
  REQUIRE(DecodeMarketFrame(agg, ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kTrade);
  CHECK(f.trade.trade_id == "5933014");
  CHECK(f.trade.taker_side == Side::kSell);
  CHECK(f.trade.size == D("100"));
  CHECK(f.trade.exchange_time == Ms(123456785));
  std::string trade = R"({"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":77,"p":"10.5","q":"1","m":false})";
  REQUIRE(DecodeMarketFrame(trade, ctx, 0, &f).ok());
  CHECK(f.trade.trade_id == "77");
  CHECK(f.trade.taker_side == Side::kBuy);

  std::string ticker = R"({"e":"24hrTicker","E":123456789,"s":"BTCUSDT","p":"0.1","c":"0.0025",
      "v":"10000","q":"18","O":0,"C":86400000})";
  REQUIRE(DecodeMarketFrame(ticker, ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kTicker);
  CHECK(f.ticker.quote_volume == D("18"));

  REQUIRE(DecodeMarketFrame(R"({"e":"kline","E":1,"s":"BTCUSDT","k":{}})", ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kUnknown);
  CHECK(f.event_type == "kline");
}

TEST_CASE("control frames", "[aster][codec]") {
  std::string json = ReadData("ws_subscribe.json");
  simdjson::dom::parser p;
  simdjson::dom::element root = p.parse(json);
  CHECK(EncodeSubscribe({AggTradeStream("BTCUSDT"), "btcusdt@depth"}, 1).value() ==
        simdjson::minify(root["request"]));
  MarketContext ctx;
  MarketFrame f;
  REQUIRE(DecodeMarketFrame(simdjson::minify(root["response"]), ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kControlReply);
  CHECK(f.control.id == 1);
  CHECK(f.control.result_null);
  REQUIRE(DecodeMarketFrame(R"({"result":["btcusdt@aggTrade"],"id":3})", ctx, 0, &f).ok());
  CHECK(f.control.result_list == std::vector<std::string>{"btcusdt@aggTrade"});
  REQUIRE(DecodeMarketFrame(R"({"result":true,"id":2})", ctx, 0, &f).ok());
  CHECK(f.control.result_bool == true);
  REQUIRE(DecodeMarketFrame(R"({"code":2,"msg":"Invalid request"})", ctx, 0, &f).ok());
  CHECK(f.kind == MarketEventKind::kControlError);
  CHECK(f.control.code == 2);
  CHECK(f.control.msg == "Invalid request");

  CHECK(EncodeUnsubscribe({"btcusdt@depth"}, 312).value() ==
        R"({"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312})");
  CHECK(EncodeListSubscriptions(3) == R"({"method":"LIST_SUBSCRIPTIONS","id":3})");
  std::vector<std::string> too_many(kMaxStreamsPerConnection + 1, "btcusdt@depth");
  CHECK(!EncodeSubscribe(too_many, 1).ok());
  CHECK(EncodeSubscribe(std::vector<std::string>(kMaxStreamsPerConnection, "x@depth"), 1).ok());
  CHECK(!EncodeSubscribe({}, 1).ok());
  CHECK(DepthDiffStream("BTCUSDT") == "btcusdt@depth@100ms");
  CHECK(DepthDiffStream("BTCUSDT", 250) == "btcusdt@depth");
  CHECK(PartialDepthStream("BTCUSDT", 20) == "btcusdt@depth20");
  CHECK(PartialDepthStream("BTCUSDT", 7, 500) == "btcusdt@depth10@500ms");
  CHECK(BookTickerStream("1000PEPEUSDT") == "1000pepeusdt@bookTicker");
  CHECK(MarkPriceStream("BTCUSDT") == "btcusdt@markPrice@1s");
  CHECK(ForceOrderStream("") == "!forceOrder@arr");
  CHECK(TickerStream("BTCUSDT") == "btcusdt@ticker");
  CHECK(EncodeSubscribe({DepthDiffStream("币安人生USDT")}, 9).value() ==
        R"({"method":"SUBSCRIBE","params":["币安人生usdt@depth@100ms"],"id":9})");
  CHECK(CombinedStreamPath({"btcusdt@depth", "!markPrice@arr"}).value() ==
        "/stream?streams=btcusdt@depth/!markPrice@arr");
  CHECK(CombinedStreamPath({"龙虾usdt@bookTicker"}).value() ==
        "/stream?streams=%E9%BE%99%E8%99%BEusdt@bookTicker");
}

TEST_CASE("user stream: ORDER_TRADE_UPDATE", "[aster][codec][user]") {
  UserFrame u;
  REQUIRE(DecodeUserFrame(ReadData("ws_order_trade_update.json"), Acct(), 42, &u).ok());
  CHECK(u.kind == UserEventKind::kOrderTradeUpdate);
  CHECK(u.event_time == Ms(1568879465651));
  const Order& o = u.order.order;
  CHECK(o.venue == "aster");
  CHECK(o.account == "main");
  CHECK(o.symbol == "BTC");
  CHECK(o.order_id == "8886774");
  CHECK(o.client_order_id == "TEST");
  CHECK(o.side == Side::kSell);
  CHECK(o.type == OrderType::kMarket);  // TRAILING_STOP_MARKET
  CHECK(o.tif == TimeInForce::kGtc);
  CHECK(o.size == D("0.001"));
  CHECK(o.status == OrderStatus::kOpen);
  CHECK(!u.order.fill.has_value());
  CHECK(u.order.receive_time == 42);
  CHECK(u.order.exchange_time == Ms(1568879465650));

  std::string fill = R"({"e":"ORDER_TRADE_UPDATE","E":1700000000100,"T":1700000000099,"o":{
    "s":"BTCUSDT","c":"gw-7","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"60000","ap":"60000",
    "sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":99,"l":"0.004","z":"0.004","L":"60000",
    "N":"USDT","n":"0.0096","T":1700000000099,"t":555,"b":"0","a":"0","m":true,"R":false,
    "wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}})";
  REQUIRE(DecodeUserFrame(fill, Acct(), 0, &u).ok());
  CHECK(u.order.order.status == OrderStatus::kPartiallyFilled);
  CHECK(u.order.order.filled_size == D("0.004"));
  REQUIRE(u.order.fill.has_value());
  CHECK(u.order.fill->trade_id == "555");
  CHECK(u.order.fill->price == D("60000"));
  CHECK(u.order.fill->size == D("0.004"));
  CHECK(u.order.fill->fee == D("0.0096"));
  CHECK(u.order.fill->fee_asset == "USDT");
  CHECK(u.order.fill->maker);
  CHECK(!u.order.fill->liquidation);
  CHECK(u.order.fill->client_order_id == "gw-7");

  std::string gtx = R"({"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"gw-8",
    "S":"SELL","o":"LIMIT","f":"GTX","q":"1","p":"10","ap":"0","x":"EXPIRED","X":"EXPIRED",
    "i":100,"l":"0","z":"0","L":"0","T":1,"t":0,"m":false,"R":false}})";
  REQUIRE(DecodeUserFrame(gtx, Acct(), 0, &u).ok());
  CHECK(u.order.order.status == OrderStatus::kRejected);
  CHECK(u.order.order.reason == CancelReason::kPostOnlyViolation);
  CHECK(u.order.order.tif == TimeInForce::kPostOnly);

  std::string liq = R"({"stream":"x","data":{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT",
    "c":"autoclose-1700000000","S":"SELL","o":"LIMIT","f":"IOC","q":"1","p":"10","ap":"10",
    "x":"CALCULATED","X":"FILLED","i":101,"l":"1","z":"1","L":"10","T":1,"t":9,"m":false,"R":false}}})";
  REQUIRE(DecodeUserFrame(liq, Acct(), 0, &u).ok());
  CHECK(u.order.order.status == OrderStatus::kFilled);
  CHECK(u.order.order.reason == CancelReason::kLiquidation);
  REQUIRE(u.order.fill.has_value());
  CHECK(u.order.fill->liquidation);
}

// The venue's event for a native modify (x AMENDMENT, per ccxt; aster.md §7.4): the order's new
// price and size, its status as it stands — never a fill, never a status step back.
TEST_CASE("user stream: ORDER_TRADE_UPDATE for an amend is no fill", "[aster][codec][user]") {
  UserFrame u;
  std::string amend = R"({"e":"ORDER_TRADE_UPDATE","E":1700000000200,"T":1700000000199,"o":{
    "s":"BTCUSDT","c":"gw-9","S":"BUY","o":"LIMIT","f":"GTC","q":"0.020","p":"59990.0",
    "ap":"0","sp":"0","x":"AMENDMENT","X":"NEW","i":120,"l":"0","z":"0","L":"0","N":"USDT",
    "n":"0","T":1700000000199,"t":0,"b":"1199.8","a":"0","m":false,"R":false,
    "wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}})";
  REQUIRE(DecodeUserFrame(amend, Acct(), 0, &u).ok());
  CHECK(u.execution_type == "AMENDMENT");
  CHECK(u.order.order.status == OrderStatus::kOpen);
  CHECK(u.order.order.price == D("59990"));
  CHECK(u.order.order.size == D("0.02"));
  CHECK(u.order.order.client_order_id == "gw-9");
  CHECK(u.order.order.order_id == "120");
  CHECK(!u.order.fill.has_value());
  // Amending a partly filled order: still partly filled, and the last fill it repeats
  // (l/L from the earlier trade) is not a new fill.
  std::string part = R"({"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"gw-10",
    "S":"SELL","o":"LIMIT","f":"GTC","q":"0.030","p":"60010","ap":"60000","x":"AMENDMENT",
    "X":"PARTIALLY_FILLED","i":121,"l":"0.004","z":"0.004","L":"60000","T":1,"t":556,
    "m":true,"R":false}})";
  REQUIRE(DecodeUserFrame(part, Acct(), 0, &u).ok());
  CHECK(u.order.order.status == OrderStatus::kPartiallyFilled);
  CHECK(u.order.order.filled_size == D("0.004"));
  CHECK(u.order.order.size == D("0.03"));
  CHECK(!u.order.fill.has_value());
}

TEST_CASE("order status mapping", "[aster][codec]") {
  Order o;
  struct Case {
    const char* status;
    const char* tif;
    const char* x;
    const char* cid;
    const char* filled;
    OrderStatus want;
    CancelReason reason;
  } cases[] = {
      {"NEW", "GTC", "NEW", "a", "0", OrderStatus::kOpen, CancelReason::kNone},
      {"PARTIALLY_FILLED", "GTC", "TRADE", "a", "1", OrderStatus::kPartiallyFilled, CancelReason::kNone},
      {"FILLED", "IOC", "TRADE", "a", "1", OrderStatus::kFilled, CancelReason::kNone},
      {"CANCELED", "GTC", "CANCELED", "a", "0", OrderStatus::kCanceled, CancelReason::kUserCanceled},
      {"EXPIRED", "GTX", "EXPIRED", "a", "0", OrderStatus::kRejected, CancelReason::kPostOnlyViolation},
      {"EXPIRED", "GTX", "EXPIRED", "a", "0.5", OrderStatus::kExpired, CancelReason::kExpired},
      {"EXPIRED", "IOC", "EXPIRED", "a", "0", OrderStatus::kExpired, CancelReason::kExpired},
      {"REJECTED", "GTC", "", "a", "0", OrderStatus::kRejected, CancelReason::kRejected},
      {"NEW_ADL", "IOC", "", "adl_autoclose", "0", OrderStatus::kOpen, CancelReason::kLiquidation},
      {"NEW_INSURANCE", "IOC", "", "autoclose-1", "0", OrderStatus::kOpen, CancelReason::kLiquidation},
      {"CANCELED", "GTC", "", "autoclose-1", "0", OrderStatus::kCanceled, CancelReason::kLiquidation},
  };
  for (const Case& c : cases) {
    INFO(c.status << " " << c.tif);
    REQUIRE(MapOrderStatus(c.status, c.tif, c.x, c.cid, D(c.filled), &o).ok());
    CHECK(o.status == c.want);
    CHECK(o.reason == c.reason);
  }
  CHECK(!MapOrderStatus("WEIRD", "GTC", "", "", Decimal(), &o).ok());
  CHECK(ParseTimeInForce("GTX").value() == TimeInForce::kPostOnly);
  CHECK(ParseTimeInForce("HIDDEN").value() == TimeInForce::kGtc);
  CHECK(!ParseTimeInForce("XYZ").ok());
  CHECK(ParseOrderType("STOP").value() == OrderType::kLimit);
  CHECK(!ParseSide("buy").ok());
}

TEST_CASE("user stream: ACCOUNT_UPDATE, config, listenKeyExpired", "[aster][codec][user]") {
  UserFrame u;
  REQUIRE(DecodeUserFrame(ReadData("ws_account_update.json"), Acct(), 0, &u).ok());
  CHECK(u.kind == UserEventKind::kAccountUpdate);
  CHECK(u.account.reason == "ORDER");
  REQUIRE(u.account.balances.size() == 1);
  CHECK(u.account.balances[0].asset == "USDT");
  CHECK(u.account.balances[0].wallet_balance == D("39.41184271"));
  CHECK(u.account.balances[0].balance_change.IsZero());
  REQUIRE(u.account.positions.size() == 1);
  CHECK(u.account.positions[0].symbol == "ETH");
  CHECK(u.account.positions[0].size.IsZero());
  CHECK(u.account.positions[0].realized_pnl == D("-0.5907"));
  CHECK(u.account.positions[0].update_time == Ms(1768551627708));
  CHECK(u.account.position_sides[0] == "BOTH");

  REQUIRE(DecodeUserFrame(ReadData("ws_account_update_doc.json"), Acct(), 0, &u).ok());
  REQUIRE(u.account.balances.size() == 2);
  CHECK(u.account.balances[1].asset == "BUSD");
  CHECK(u.account.balances[1].balance_change == D("-49.12345678"));
  REQUIRE(u.account.positions.size() == 3);
  CHECK(u.account.positions[1].size == D("20"));
  CHECK(u.account.positions[1].entry_price == D("6563.665"));
  CHECK(u.account.positions[1].unrealized_pnl == D("2850.212"));
  CHECK(u.account.positions[1].margin == D("13200.70726908"));
  CHECK(u.account.positions[2].size == D("-10"));
  CHECK(u.account.position_sides[2] == "SHORT");

  REQUIRE(DecodeUserFrame(ReadData("ws_account_config_update.json"), Acct(), 0, &u).ok());
  CHECK(u.kind == UserEventKind::kAccountConfigUpdate);
  CHECK(u.config.symbol == "BTC");
  CHECK(u.config.leverage == 25);
  REQUIRE(DecodeUserFrame(R"({"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1,"ai":{"j":true}})", Acct(),
                          0, &u).ok());
  CHECK(u.config.multi_assets == true);
  CHECK(!u.config.leverage.has_value());

  REQUIRE(DecodeUserFrame(ReadData("ws_listenKeyExpired.json"), Acct(), 0, &u).ok());
  CHECK(u.kind == UserEventKind::kListenKeyExpired);
  CHECK(u.event_time == Ms(1576653824250));
  REQUIRE(DecodeUserFrame(R"({"e":"ALGO_UPDATE","E":1})", Acct(), 0, &u).ok());
  CHECK(u.kind == UserEventKind::kUnknown);
  CHECK(!DecodeUserFrame(R"({"e":"ORDER_TRADE_UPDATE","E":1})", Acct(), 0, &u).ok());
}

TEST_CASE("a cross position's margin is absent, or the account's initialMargin, never \"0\"",
          "[aster][codec][rest]") {
  // positionRisk: isolatedMargin is the isolated wallet, "0" on a cross position.
  const std::string risk = R"([{"symbol":"BTCUSDT","positionAmt":"0.010","entryPrice":"100000.0",
      "markPrice":"100000","unRealizedProfit":"0","liquidationPrice":"90000","leverage":"20",
      "marginType":"cross","isolatedMargin":"0.00000000","updateTime":1},
      {"symbol":"ETHUSDT","positionAmt":"-1.000","entryPrice":"3000","markPrice":"3000",
      "unRealizedProfit":"0","liquidationPrice":"3300","leverage":"10","marginType":"isolated",
      "isolatedMargin":"0.00000000","updateTime":1}])";
  auto rows = ParsePositionRisk(risk, Acct());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK_FALSE((*rows)[0].margin.has_value());  // cross: unknown from these rows
  REQUIRE((*rows)[1].margin.has_value());       // isolated: the venue's real zero stays
  CHECK((*rows)[1].margin->IsZero());
  // The account endpoint's row of the same symbol and size supplies it.
  const std::string account = R"({"availableBalance":"10","assets":[],"positions":[
      {"symbol":"BTCUSDT","initialMargin":"50.00000000","maintMargin":"4","unrealizedProfit":"0",
       "positionInitialMargin":"50","openOrderInitialMargin":"0","leverage":"20","isolated":false,
       "entryPrice":"100000.0","maxNotional":"1000000","positionSide":"BOTH","positionAmt":"0.010",
       "notional":"1000","isolatedWallet":"0","updateTime":1}]})";
  auto snap = ParseAccount(account, Acct());
  REQUIRE(snap.ok());
  FillCrossMargin(&*rows, snap->positions);
  CHECK((*rows)[0].margin == D("50"));
  CHECK((*rows)[1].margin == D("0"));
  // A different size (the account row raced a fill) is no match: absent, not a wrong number.
  auto again = ParsePositionRisk(risk, Acct());
  snap->positions[0].size = D("0.02");
  FillCrossMargin(&*again, snap->positions);
  CHECK_FALSE((*again)[0].margin.has_value());

  // ACCOUNT_UPDATE: iw is the isolated wallet; a cross position ("cross" or the "CROSSED" of
  // the MARGIN_CALL sample) carries no margin there.
  for (std::string mt : {"cross", "CROSSED"}) {
    UserFrame u;
    const std::string frame = R"({"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","B":[],
        "P":[{"s":"BTCUSDT","pa":"0.010","ep":"100000","cr":"0","up":"0","mt":")" + mt +
                              R"(","iw":"0","ps":"BOTH"}]}})";
    REQUIRE(DecodeUserFrame(frame, Acct(), 0, &u).ok());
    REQUIRE(u.account.positions.size() == 1);
    CHECK_FALSE(u.account.positions[0].margin.has_value());
  }
  CHECK(IsCrossMargin("Cross"));
  CHECK_FALSE(IsCrossMargin("isolated"));
  CHECK_FALSE(IsCrossMargin(""));
}

TEST_CASE("a streamed position is merged with its last whole state (StreamPositions)",
          "[aster][codec][user]") {
  // The last REST state: everything positionRisk, the account and the income give.
  Position last;
  last.symbol = "BTC";
  last.size = D("0.01");
  last.entry_price = D("100000");
  last.mark_price = D("100100");
  last.leverage = D("20");
  last.liquidation_price = D("95000");
  last.funding_accrued = D("-0.5");
  last.margin = D("50");
  // ACCOUNT_UPDATE with the same size (e.g. after a funding fee): only s, pa, ep, cr, up, iw.
  UserFrame u;
  const std::string frame = R"({"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"FUNDING_FEE","B":[],
      "P":[{"s":"BTCUSDT","pa":"0.010","ep":"100000","cr":"0","up":"1.5","mt":"cross","iw":"0",
      "ps":"BOTH"}]}})";
  REQUIRE(DecodeUserFrame(frame, Acct(), 0, &u).ok());
  Position same = u.account.positions[0];
  CHECK_FALSE(same.leverage.has_value());  // what the old stream message lacked
  CHECK_FALSE(MergeStreamPosition(&last, D("100200"), &same));
  CHECK(same.leverage == D("20"));
  CHECK(same.mark_price == D("100200"));  // the live mark, not the REST one
  CHECK(same.exposure_usd == D("1002"));
  CHECK(same.liquidation_price == D("95000"));
  CHECK(same.funding_accrued == D("-0.5"));
  CHECK(same.margin == D("50"));
  CHECK(same.unrealized_pnl == D("1.5"));  // the stream's own values stay
  // Resized on the same side: funding and leverage carry, size-dependent values do not (absent,
  // and the caller re-reads the position).
  Position bigger = u.account.positions[0];
  bigger.size = D("0.02");
  CHECK(MergeStreamPosition(&last, std::nullopt, &bigger));
  CHECK(bigger.leverage == D("20"));
  CHECK(bigger.mark_price == D("100100"));  // no live mark: the last one read
  CHECK(bigger.funding_accrued == D("-0.5"));
  CHECK_FALSE(bigger.liquidation_price.has_value());
  CHECK_FALSE(bigger.margin.has_value());
  // Flipped or new: only the leverage setting and the mark.
  Position flipped = u.account.positions[0];
  flipped.size = D("-0.01");
  CHECK(MergeStreamPosition(&last, std::nullopt, &flipped));
  CHECK(flipped.leverage == D("20"));
  CHECK_FALSE(flipped.funding_accrued.has_value());
  CHECK_FALSE(flipped.liquidation_price.has_value());
  Position fresh = u.account.positions[0];
  CHECK(MergeStreamPosition(nullptr, D("100200"), &fresh));
  CHECK_FALSE(fresh.leverage.has_value());
  CHECK(fresh.mark_price == D("100200"));
  // Flat: nothing of the old position.
  Position flat = u.account.positions[0];
  flat.size = D("0");
  (void)MergeStreamPosition(&last, std::nullopt, &flat);
  CHECK_FALSE(flat.funding_accrued.has_value());
  CHECK_FALSE(flat.liquidation_price.has_value());
}

TEST_CASE("REST orders", "[aster][codec][rest]") {
  auto n = ParseOrder(ReadData("order_new_response.json"), Acct());
  REQUIRE(n.ok());
  CHECK(n->order_id == "22542179");
  CHECK(n->client_order_id == "testOrder");
  CHECK(n->symbol == "BTC");
  CHECK(n->type == OrderType::kMarket);
  CHECK(n->size == D("10"));
  CHECK(n->status == OrderStatus::kOpen);
  CHECK(n->updated_time == Ms(1566818724722));

  auto q = ParseOrder(ReadData("order_query_response.json"), Acct());
  REQUIRE(q.ok());
  CHECK(q->order_id == "1917641");
  CHECK(q->size == D("0.4"));
  CHECK(q->created_time == Ms(1579276756075));

  auto l = ParseOrder(ReadData("order_limit_response.json"), Acct());
  REQUIRE(l.ok());
  CHECK(l->symbol == "GOOGLUSDT");
  CHECK(l->type == OrderType::kLimit);
  CHECK(l->tif == TimeInForce::kGtc);
  CHECK(l->price == D("295.5"));
  CHECK(l->size == D("0.15"));
  CHECK(l->filled_size.IsZero());
  CHECK(l->side == Side::kBuy);
  CHECK(!l->reduce_only);

  std::string arr = "[" + ReadData("order_limit_response.json") + "]";
  auto open = ParseOrders(arr, Acct());
  REQUIRE(open.ok());
  CHECK(open->size() == 1);
  CHECK(ParseOrders("[]", Acct())->empty());

  auto batch = ParseBatchOrders(ReadData("batch_orders_response.json"), Acct());
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 2);
  CHECK((*batch)[0].ok());
  CHECK((*batch)[0]->order_id == "22542179");
  CHECK(!(*batch)[1].ok());
  CHECK((*batch)[1].status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string((*batch)[1].status().message()).find("ReduceOnly") != std::string::npos);
  // The same answer with the venue's code kept (the order desk classifies it as for one order).
  auto entries = ParseBatchAnswer(ReadData("batch_orders_response.json"), Acct());
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);
  REQUIRE((*entries)[0].order.has_value());
  CHECK((*entries)[0].order->order_id == "22542179");
  CHECK_FALSE((*entries)[1].order.has_value());
  CHECK((*entries)[1].error.code == -2022);
  CHECK((*entries)[1].error.msg == "ReduceOnly Order is rejected.");
  CHECK(!ParseBatchAnswer("[1]", Acct()).ok());

  auto err = ParseOrder(ReadData("error.json"), Acct());
  CHECK(err.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCodeAck(ReadData("cancel_all_response.json")).ok());
}

TEST_CASE("REST account: positions, balances, account, leverage, fills", "[aster][codec][rest]") {
  auto pos = ParsePositionRisk(ReadData("positionRisk.json"), Acct());
  REQUIRE(pos.ok());
  REQUIRE(pos->size() == 2);
  CHECK((*pos)[0].symbol == "BTC");
  CHECK((*pos)[0].size == D("20"));
  CHECK((*pos)[0].entry_price == D("6563.665"));
  CHECK((*pos)[0].mark_price == D("6679.50671178"));
  CHECK((*pos)[0].liquidation_price == D("5930.78"));
  CHECK((*pos)[0].leverage == D("10"));
  CHECK((*pos)[0].margin == D("15517.54150468"));
  CHECK((*pos)[0].exposure_usd == D("133590.1342356"));
  CHECK((*pos)[0].update_time == Ms(1625474304765));
  CHECK((*pos)[1].size == D("-10"));
  CHECK((*pos)[1].unrealized_pnl == D("-1156.4671178"));
  std::string flat = R"([{"symbol":"ETHUSDT","positionAmt":"0.000","entryPrice":"0.0",
      "markPrice":"0","unRealizedProfit":"0","liquidationPrice":"0","leverage":"20",
      "isolatedMargin":"0","updateTime":0}])";
  CHECK(ParsePositionRisk(flat, Acct())->empty());
  CHECK(ParsePositionRisk(flat, Acct(), true)->size() == 1);

  auto bal = ParseBalances(ReadData("balance.json"), Acct());
  REQUIRE(bal.ok());
  REQUIRE(bal->size() == 1);
  CHECK((*bal)[0].asset == "USDT");
  CHECK((*bal)[0].available == D("23.72469206"));
  CHECK((*bal)[0].equity == D("122607.35137903"));
  CHECK((*bal)[0].account == "main");
  CHECK((*bal)[0].update_time == Ms(1617939110373));

  auto acct = ParseAccount(ReadData("account_v4.json"), Acct());
  REQUIRE(acct.ok());
  REQUIRE(acct->balances.size() == 1);
  CHECK(acct->balances[0].asset == "USDT");
  CHECK(acct->balances[0].update_time == Ms(1768446813429));
  CHECK(acct->positions.empty());  // both hedge-mode rows are flat
  CHECK(acct->available_balance.IsZero());

  auto br = ParseLeverageBrackets(ReadData("leverageBracket.json"), Acct());
  REQUIRE(br.ok());
  REQUIRE(br->size() == 1);
  CHECK((*br)[0].symbol == "ETH");
  CHECK((*br)[0].max_leverage == D("75"));
  CHECK((*br)[0].max_notional == D("10000"));
  CHECK((*br)[0].maint_margin_ratio == D("0.0065"));
  CHECK((*br)[0].initial_margin_ratio == D("0.01333333"));
  REQUIRE((*br)[0].brackets.size() == 1);
  // ccxt shows the same fields as strings.
  auto brs = ParseLeverageBrackets(R"({"symbol":"BTCUSDT","brackets":[{"bracket":1,
      "initialLeverage":"125","notionalCap":"50000","notionalFloor":"0","maintMarginRatio":"0.004",
      "cum":"0"},{"bracket":2,"initialLeverage":"100","notionalCap":"250000",
      "notionalFloor":"50000","maintMarginRatio":"0.005","cum":"50"}]})", Acct());
  REQUIRE(brs.ok());
  CHECK((*brs)[0].max_leverage == D("125"));
  CHECK((*brs)[0].brackets.size() == 2);
  // At the account's leverage: IMR 1/leverage and the cap of the brackets allowing it (was the
  // market's 1/125 and 50000 whatever the setting).
  LeverageInfo at = (*brs)[0];
  CHECK(at.initial_margin_ratio == D("0.008"));
  at.leverage = D("5");
  AtLeverage(&at);
  CHECK(at.initial_margin_ratio == D("0.2"));
  CHECK(at.max_notional == D("250000"));
  at.leverage = D("110");
  AtLeverage(&at);
  CHECK(at.max_notional == D("50000"));
  LeverageInfo unknown = (*brs)[0];
  AtLeverage(&unknown);  // no setting known: the market-wide values stay
  CHECK(unknown.initial_margin_ratio == D("0.008"));

  auto lev = ParseLeverageResponse(ReadData("leverage_response.json"), Acct());
  REQUIRE(lev.ok());
  CHECK(lev->symbol == "BTC");
  CHECK(lev->leverage == D("21"));
  CHECK(lev->max_notional == D("1000000"));
  CHECK(!ParseLeverageResponse(R"({"code":-4028,"msg":"Leverage 200 is not valid"})", Acct()).ok());

  auto fills = ParseUserTrades(R"([{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT",
      "id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002",
      "quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT",
      "symbol":"BTCUSDT","time":1569514978020}])", Acct());
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 1);
  CHECK((*fills)[0].trade_id == "698759");
  CHECK((*fills)[0].order_id == "25851813");
  CHECK((*fills)[0].side == Side::kSell);
  CHECK((*fills)[0].fee == D("-0.0781901"));
  CHECK((*fills)[0].exchange_time == Ms(1569514978020));

  auto key = ParseListenKey(ReadData("listenKey.json"));
  REQUIRE(key.ok());
  CHECK(key->size() == 64);
  CHECK(!ParseListenKey(R"({"listenKey":"../../etc"})").ok());
  CHECK(ParseServerTimeMs(R"({"serverTime":1499827319559})").value() == 1499827319559);
  auto eb = ParseErrorBody(ReadData("error.json"));
  REQUIRE(eb.ok());
  CHECK(eb->code == -1121);
  CHECK(ParseErrorBody(R"({"code":"200","msg":"ok"})")->code == 200);
}

TEST_CASE("order encoders", "[aster][codec][encode]") {
  const Instrument* btc = Symbols().ByVenueSymbol("BTCUSDT");
  REQUIRE(btc != nullptr);
  OrderRequest r;
  r.client_order_id = "gw-0001";
  r.side = Side::kBuy;
  r.type = OrderType::kLimit;
  r.tif = TimeInForce::kPostOnly;
  r.price = D("60000.0");
  r.size = D("0.0010");
  CHECK(EncodeNewOrder(r, *btc).value() ==
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=60000&timeInForce=GTX"
        "&newClientOrderId=gw-0001");
  r.tif = TimeInForce::kIoc;
  r.reduce_only = true;
  NewOrderOptions opt;
  opt.result_response = true;
  CHECK(EncodeNewOrder(r, *btc, opt).value() ==
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=60000&timeInForce=IOC"
        "&reduceOnly=true&newClientOrderId=gw-0001&newOrderRespType=RESULT");
  r.price = D("60000.05");  // off the 0.1 tick: refused, never rounded
  CHECK(!EncodeNewOrder(r, *btc).ok());
  r.price = D("60000");
  r.size = D("0.0015");
  CHECK(!EncodeNewOrder(r, *btc).ok());
  r.size = D("0.001");
  r.client_order_id = "bad id!";
  CHECK(!EncodeNewOrder(r, *btc).ok());
  r.client_order_id = std::string(37, 'a');
  CHECK(!EncodeNewOrder(r, *btc).ok());
  r.client_order_id = "ok.id:/_-1";
  CHECK(EncodeNewOrder(r, *btc).ok());
  r.size = Decimal();
  CHECK(!EncodeNewOrder(r, *btc).ok());

  // Non-ASCII symbols are percent-encoded (and signed in that form).
  const Instrument* cn = Symbols().ByVenueSymbol("币安人生USDT");
  REQUIRE(cn != nullptr);
  OrderRequest m;
  m.side = Side::kSell;
  m.type = OrderType::kMarket;
  m.size = D("12");
  CHECK(EncodeNewOrder(m, *cn).value() ==
        "symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&side=SELL&type=MARKET&quantity=12");

  // Modify (PUT /fapi/v3/order): the order ref, then side, the new total quantity and price;
  // checked against tick and step like a new order.
  CHECK(EncodeModifyOrder(*btc, "2194215", "gw-0001", Side::kBuy, D("0.0020"), D("59990.0"))
            .value() == "symbol=BTCUSDT&orderId=2194215&side=BUY&quantity=0.002&price=59990");
  CHECK(EncodeModifyOrder(*btc, "", "gw-0001", Side::kSell, D("0.001"), D("60000")).value() ==
        "symbol=BTCUSDT&origClientOrderId=gw-0001&side=SELL&quantity=0.001&price=60000");
  CHECK(!EncodeModifyOrder(*btc, "", "gw-0001", Side::kBuy, D("0.001"), D("60000.05")).ok());
  CHECK(!EncodeModifyOrder(*btc, "", "gw-0001", Side::kBuy, D("0.0015"), D("60000")).ok());
  CHECK(!EncodeModifyOrder(*btc, "", "gw-0001", Side::kBuy, Decimal(), D("60000")).ok());
  CHECK(!EncodeModifyOrder(*btc, "", "", Side::kBuy, D("0.001"), D("60000")).ok());

  CHECK(EncodeOrderRef("BTCUSDT", "", "gw-0001").value() ==
        "symbol=BTCUSDT&origClientOrderId=gw-0001");
  CHECK(EncodeOrderRef("BTCUSDT", "2194215", "gw").value() == "symbol=BTCUSDT&orderId=2194215");
  CHECK(!EncodeOrderRef("BTCUSDT", "", "").ok());
  // DELETE batchOrders: numbers for order ids, strings for client ids (aster.md §9).
  CHECK(EncodeBatchCancel("BTCUSDT", true, {"11", "12"}).value() ==
        "symbol=BTCUSDT&orderIdList=%5B11%2C12%5D");
  CHECK(EncodeBatchCancel("BTCUSDT", false, {"a-1", "b"}).value() ==
        "symbol=BTCUSDT&origClientOrderIdList=%5B%22a-1%22%2C%22b%22%5D");
  CHECK(!EncodeBatchCancel("BTCUSDT", true, {"12x"}).ok());
  CHECK(!EncodeBatchCancel("BTCUSDT", false, {"bad id"}).ok());
  CHECK(!EncodeBatchCancel("BTCUSDT", true, {}).ok());
  CHECK(!EncodeBatchCancel("BTCUSDT", true, std::vector<std::string>(11, "1")).ok());
  CHECK(!EncodeOrderRef("BTCUSDT", "12a", "").ok());
  CHECK(EncodeSymbolOnly("BTCUSDT") == "symbol=BTCUSDT");
  CHECK(EncodeSetLeverage("BTCUSDT", 20).value() == "symbol=BTCUSDT&leverage=20");
  CHECK(!EncodeSetLeverage("BTCUSDT", 126).ok());
  CHECK(!EncodeBatchOrders({}, {}).ok());
  CHECK(!EncodeBatchOrders(std::vector<OrderRequest>(6, m),
                           std::vector<const Instrument*>(6, cn)).ok());
}

// ------------------------------------------------------------------------------------------
// Untrusted input: truncations of every recorded payload, garbage, wrong types.
// Found by fuzz_aster_codec: {"code":200,"msg":..} (what cancel-all answers) where an order or a
// leverage answer was due made an OK status inside a StatusOr, which aborts the process.
TEST_CASE("a success code where an object is due is an error, not an abort", "[aster][codec]") {
  AccountContext actx = Acct();
  for (const char* body : {R"({"code":"200","msg":"done"})", R"({"code":0,"msg":""})"}) {
    INFO(body);
    auto o = ParseOrder(body, actx);
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().code() == absl::StatusCode::kInvalidArgument);
    auto lev = ParseLeverageResponse(body, actx);
    REQUIRE_FALSE(lev.ok());
    CHECK(lev.status().code() == absl::StatusCode::kInvalidArgument);
  }
  auto list = ParseOrders(R"([{"code":200,"msg":"x"}])", actx);
  CHECK_FALSE(list.ok());
  auto batch = ParseBatchOrders(R"([{"code":200,"msg":"x"}])", actx);
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 1);
  CHECK_FALSE((*batch)[0].ok());
  // A real venue error keeps its classification.
  auto rejected = ParseOrder(R"({"code":-2011,"msg":"Unknown order sent."})", actx);
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.status().code() != absl::StatusCode::kInvalidArgument);
}

TEST_CASE("truncated and garbage input never crashes and is rejected", "[aster][codec][fuzz]") {
  const char* files[] = {
      "account_v4.json", "balance.json", "batch_orders_response.json", "cancel_all_response.json",
      "depth_snapshot.json", "error.json", "errors_examples.json", "exchangeInfo.json",
      "fundingInfo.json", "fundingRate_history.json", "leverageBracket.json",
      "leverage_response.json", "listenKey.json", "openInterest.json", "order_limit_response.json",
      "order_new_response.json", "order_query_response.json", "positionRisk.json",
      "premiumIndex_all.json", "premiumIndex_single.json", "rest_bookTicker_all.json",
      "ticker24hr_all.json", "ws_account_config_update.json", "ws_account_update.json",
      "ws_account_update_doc.json", "ws_bookTicker.json", "ws_depth_diff_events.json",
      "ws_forceOrder.json", "ws_listenKeyExpired.json", "ws_markPrice.json",
      "ws_order_trade_update.json", "ws_partial_depth_event.json", "ws_subscribe.json"};
  MarketContext mctx;
  mctx.symbols = &Symbols();
  AccountContext actx = Acct();
  int checked = 0;
  for (const char* file : files) {
    std::string full = ReadData(file);
    size_t last = full.find_last_not_of(" \r\n\t");
    // Every decoder on every prefix that cuts the closing bracket: all must fail cleanly.
    for (size_t cut = 0; cut <= last; cut += (full.size() > 3000 ? 7 : 1)) {
      std::string t = full.substr(0, cut);
      INFO(file << " cut at " << cut);
      MarketFrame mf;
      UserFrame uf;
      DeltaMsg d;
      CHECK(!DecodeMarketFrame(t, mctx, 0, &mf).ok());
      CHECK(!DecodeUserFrame(t, actx, 0, &uf).ok());
      CHECK(!ParseDepthUpdate(t, 1, 3, &d).ok());
      CHECK(!ParseDepthSnapshot(t, 1, 3).ok());
      CHECK(!ParseExchangeInfo(t).ok());
      CHECK(!ParseOrder(t, actx).ok());
      CHECK(!ParseBatchOrders(t, actx).ok());
      CHECK(!ParsePositionRisk(t, actx).ok());
      CHECK(!ParseAccount(t, actx).ok());
      CHECK(!ParsePremiumIndex(t, &Symbols(), nullptr).ok());
      CHECK(!ParseErrorBody(t).ok());
      ++checked;
    }
  }
  CHECK(checked > 1000);

  const char* garbage[] = {"", " ", "null", "42", "\"x\"", "[", "{", "}", "{]", "{\"e\":}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"pu\":0,\"b\":\"x\",\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"pu\":0,\"b\":[[\"1\"]],\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"pu\":0,\"b\":[[\"-1\",\"1\"]],\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":3,\"u\":2,\"pu\":0,\"b\":[],\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"b\":[],\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"pu\":1,\"b\":[[\"1.05\",\"1\"]],\"a\":[]}",
                           "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":-2,\"pu\":1,\"b\":[],\"a\":[]}",
                           "{\"e\":\"bookTicker\",\"s\":\"BTCUSDT\",\"b\":\"x\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
                           "{\"e\":\"bookTicker\",\"s\":\"BTCUSDT\",\"b\":1e999,\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
                           "{\"e\":\"aggTrade\",\"s\":\"BTCUSDT\",\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}",
                           "{\"e\":\"markPriceUpdate\",\"s\":\"BTCUSDT\",\"p\":\"NaN\"}",
                           "{\"stream\":\"btcusdt@depth\",\"data\":[1,2]}",
                           "{\"e\":\"forceOrder\",\"E\":1}",
                           "{\"e\":\"depthUpdate\"} trailing",
                           "\xff\xfe{}"};
  for (const char* g : garbage) {
    INFO(g);
    MarketFrame mf;
    CHECK(!DecodeMarketFrame(g, mctx, 0, &mf).ok());
    DeltaMsg d;
    CHECK(!ParseDepthUpdate(g, 1, 3, &d).ok());
  }
  MarketFrame unknown_symbol;
  CHECK(DecodeMarketFrame(R"({"stream":"x@depth","data":{"e":"depthUpdate","s":"NOPE","U":1,"u":2,"pu":0,"b":[],"a":[]}})",
                          mctx, 0, &unknown_symbol).code() == absl::StatusCode::kNotFound);
  UserFrame uf;
  CHECK(!DecodeUserFrame(R"({"e":"ORDER_TRADE_UPDATE","o":{"s":"BTCUSDT","X":"NEW"}})", actx, 0,
                         &uf).ok());
  CHECK(!DecodeUserFrame(R"({"e":"ACCOUNT_UPDATE","a":{"B":[{"a":"USDT","wb":"x"}]}})", actx, 0,
                         &uf).ok());
  // Deep nesting is bounded by the parser, not the stack.
  std::string deep(100000, '[');
  MarketFrame mf;
  CHECK(!DecodeMarketFrame(deep, mctx, 0, &mf).ok());
}

// Not a pass/fail test: prints the decode cost of a depth frame (run with "[.bench]").
TEST_CASE("depth frame decode throughput", "[.bench][aster]") {
  MarketContext ctx;
  ctx.symbols = &Symbols();
  std::string frame = Frames("ws_depth_diff_events.json")[1];
  MarketFrame f;
  constexpr int kIters = 200000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) {
    if (!DecodeMarketFrame(frame, ctx, 0, &f).ok()) FAIL("decode failed");
  }
  auto t1 = std::chrono::steady_clock::now();
  double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / kIters;
  WARN("DecodeMarketFrame(depth diff, " << frame.size() << " bytes, 3 levels): " << ns
                                        << " ns/frame");
  std::string big = R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[)";
  for (int i = 0; i < 100; ++i) {
    if (i) big += ',';
    big += "[\"";
    big += std::to_string(100000 + i);
    big += ".1\",\"1.234\"]";
  }
  big += R"(],"a":[]}})";
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters / 10; ++i) {
    if (!DecodeMarketFrame(big, ctx, 0, &f).ok()) FAIL("decode failed");
  }
  t1 = std::chrono::steady_clock::now();
  ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / (kIters / 10);
  WARN("DecodeMarketFrame(depth diff, " << big.size() << " bytes, 100 levels): " << ns
                                        << " ns/frame");
}

// ------------------------------------------------------------------ funding accrued (issue 19)

// GET /fapi/v1/income rows as the venue documents them (Binance family; aster.md §9) and as the
// sim writes them: a transfer without symbol, tranId as number or string, tradeId "" or digits.
TEST_CASE("income rows parse", "[aster][codec][funding_accrued]") {
  const std::string body = R"([
    {"symbol":"","incomeType":"TRANSFER","income":"-0.37500000","asset":"USDT","info":"TRANSFER",
     "time":1570608000000,"tranId":"9689322392","tradeId":""},
    {"symbol":"BTCUSDT","incomeType":"FUNDING_FEE","income":"-1.25000000","asset":"USDT",
     "info":"FUNDING_FEE","time":1570636800000,"tranId":9689322393,"tradeId":""},
    {"symbol":"BTCUSDT","incomeType":"COMMISSION","income":"-0.01000000","asset":"USDT",
     "info":"COMMISSION","time":1570636800001,"tranId":9689322394,"tradeId":"2059192"}])";
  auto rows = ParseIncome(body, Acct());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].venue_symbol.empty());
  CHECK((*rows)[0].symbol.empty());
  CHECK((*rows)[0].tran_id == 9689322392);
  CHECK((*rows)[1].symbol == "BTC");
  CHECK((*rows)[1].venue_symbol == "BTCUSDT");
  CHECK((*rows)[1].income_type == "FUNDING_FEE");
  CHECK((*rows)[1].income == D("-1.25"));
  CHECK((*rows)[1].asset == "USDT");
  CHECK((*rows)[1].time_ms == 1570636800000);
  CHECK((*rows)[1].tran_id == 9689322393);
  CHECK(ParseIncome("[]", Acct())->empty());
  CHECK_FALSE(ParseIncome(R"([{"symbol":"BTCUSDT","incomeType":"FUNDING_FEE","time":1}])", Acct())
                  .ok());  // no amount
  CHECK_FALSE(ParseIncome(R"({"code":-1100,"msg":"x"})", Acct()).ok());
}

Fill F(const char* id, Side side, const char* qty, int64_t ms) {
  Fill f;
  f.trade_id = id;
  f.side = side;
  f.size = D(qty);
  f.exchange_time = Ms(ms);
  return f;
}

TEST_CASE("the fill that opened the current position", "[aster][codec][funding_accrued]") {
  SECTION("opened from flat within the fills returned") {
    // flat -> buy 1 (t=10) -> sell 1 (t=20, flat) -> buy 2 (t=30, opens) -> sell 0.5 (t=40).
    std::vector<Fill> fills = {F("4", Side::kSell, "0.5", 40), F("1", Side::kBuy, "1", 10),
                               F("3", Side::kBuy, "2", 30), F("2", Side::kSell, "1", 20)};
    auto o = FindPositionOpening(fills, D("1.5"));
    REQUIRE(o);
    CHECK(o->time_ms == 30);
    CHECK(o->trade_id == "3");
    // A short opened by two fills in the same millisecond: the older trade id opened it.
    std::vector<Fill> same_ms = {F("10", Side::kSell, "1", 50), F("9", Side::kSell, "1", 50)};
    o = FindPositionOpening(same_ms, D("-2"));
    REQUIRE(o);
    CHECK(o->trade_id == "9");
  }
  SECTION("not found: the position is older than the fills returned") {
    std::vector<Fill> fills = {F("7", Side::kBuy, "1", 10), F("8", Side::kBuy, "1", 20)};
    CHECK_FALSE(FindPositionOpening(fills, D("3")));  // 1 long was there before the window
    CHECK_FALSE(FindPositionOpening({}, D("1")));
    CHECK_FALSE(FindPositionOpening(fills, D("0")));  // flat: nothing to accrue
  }
  SECTION("flipped sign: the fill that crossed zero opened it") {
    // long 1 (t=10), then sell 3 at t=20: short 2, opened by the flip.
    std::vector<Fill> fills = {F("1", Side::kBuy, "1", 10), F("2", Side::kSell, "3", 20)};
    auto o = FindPositionOpening(fills, D("-2"));
    REQUIRE(o);
    CHECK(o->time_ms == 20);
    CHECK(o->trade_id == "2");
    // Then buy 4 at t=30: long 2 again, opened by that second flip.
    fills.push_back(F("3", Side::kBuy, "4", 30));
    o = FindPositionOpening(fills, D("2"));
    REQUIRE(o);
    CHECK(o->trade_id == "3");
  }
}

IncomeRow Row(const char* vs, const char* type, const char* amount, int64_t ms, int64_t tran) {
  IncomeRow r;
  r.venue_symbol = vs;
  r.income_type = type;
  r.income = D(amount);
  r.time_ms = ms;
  r.tran_id = tran;
  return r;
}

TEST_CASE("funding accrued sums FUNDING_FEE since the opening, page after page",
          "[aster][codec][funding_accrued]") {
  FundingAccrual a;
  a.opening = PositionOpening{1000, "42"};
  CHECK(a.NextStartMs() == 1000);
  // Before the opening, other symbols and other types are not this position's funding.
  REQUIRE(a.Add({Row("BTCUSDT", "FUNDING_FEE", "-9", 999, 1), Row("ETHUSDT", "FUNDING_FEE", "-7",
                                                                  1500, 2),
                 Row("BTCUSDT", "COMMISSION", "-0.1", 1000, 3),
                 Row("BTCUSDT", "FUNDING_FEE", "-1.5", 1000, 4),
                 Row("BTCUSDT", "FUNDING_FEE", "0.25", 2000, 5),
                 Row("BTCUSDT", "FUNDING_FEE", "-0.125", 2000, 6)},
                "BTCUSDT")
              .ok());
  CHECK(a.sum == D("-1.375"));
  CHECK(a.NextStartMs() == 2000);
  // The next read starts at 2000 again: rows already counted are skipped, new ones added.
  REQUIRE(a.Add({Row("BTCUSDT", "FUNDING_FEE", "0.25", 2000, 5),
                 Row("BTCUSDT", "FUNDING_FEE", "-0.125", 2000, 6),
                 Row("BTCUSDT", "FUNDING_FEE", "-0.5", 2000, 7),
                 Row("BTCUSDT", "FUNDING_FEE", "2", 3000, 8)},
                "BTCUSDT")
              .ok());
  CHECK(a.sum == D("0.125"));
  CHECK(a.NextStartMs() == 3000);
  REQUIRE(a.Add({}, "BTCUSDT").ok());
  CHECK(a.sum == D("0.125"));
}

}  // namespace
}  // namespace perpgw::adapters::aster
