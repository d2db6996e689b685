// Lighter pure layer: the codec on every recorded payload (tests/data/lighter, copies of
// ../shared/protocols/lighter), the feed and BookSync on the nonce chain, symbols, errors, and
// the order encoder against the signer vectors (the encoded tx hashes to the vectors' tx_hash).
// Private channel and order/trade objects have no recorded payload: those cases use the
// documented field lists (lighter.md §8) and say so.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include <simdjson.h>

#include "adapters/api/order_book.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/errors.h"
#include "adapters/lighter/feed.h"
#include "adapters/lighter/symbols.h"

namespace perpgw::adapters::lighter {
namespace {

std::string Data(const std::string& name) {
  std::ifstream f(std::string(PERPGW_TEST_DATA) + "/lighter/" + name, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One element of a {"frames":[...]} file, re-serialized.
std::string Frame(const std::string& file, size_t i, const char* key = "frames") {
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(Data(file));
  simdjson::dom::array frames = doc[key];
  REQUIRE(i < frames.size());
  return simdjson::to_string(frames.at(i));
}

std::string Member(const std::string& file, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(Data(file));
  return simdjson::to_string(doc[key]);
}

Decimal D(const char* s) {
  return *Decimal::Parse(s);
}

// ETH (market 0) from the recorded orderBookDetails, plus BTC (1) and SOL (2) rows for the
// vectors' markets.
struct Markets {
  std::vector<MarketInfo> infos;
  SymbolTable symbols;
  Markets() {
    Codec c;
    auto list = c.ParseOrderBookDetails(Data("order_book_details.json"), nullptr);
    REQUIRE(list.ok());
    infos = *list;
    MarketInfo btc = infos[0];
    btc.market_index = 1;
    btc.instrument.venue_symbol = btc.instrument.symbol = btc.instrument.base = "BTC";
    btc.size_decimals = 5;
    btc.price_decimals = 1;
    btc.instrument.step_size = Decimal::FromUnits(1, 5);
    btc.instrument.tick_size = Decimal::FromUnits(1, 1);
    btc.instrument.size_scale = 5;
    btc.instrument.price_scale = 1;
    infos.push_back(btc);
    MarketInfo sol = infos[0];
    sol.market_index = 2;
    sol.instrument.venue_symbol = sol.instrument.symbol = sol.instrument.base = "SOL";
    sol.size_decimals = 3;
    sol.price_decimals = 3;
    sol.instrument.step_size = Decimal::FromUnits(1, 3);
    sol.instrument.tick_size = Decimal::FromUnits(1, 3);
    sol.instrument.size_scale = 3;
    sol.instrument.price_scale = 3;
    infos.push_back(sol);
    for (const MarketInfo& m : infos) {
      Instrument in = m.instrument;
      WidenBookScales(&in);
      symbols.Add(in, m.market_index);
    }
  }
  const Instrument& Inst(int64_t m) const { return *symbols.ByMarketIndex(m); }
};

}  // namespace

static int64_t ScaledOf(const char* text, int scale) {
  auto v = perpgw::ParseScaled(text, scale);
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("lighter fill history: pages walked oldest first to the window's end or the limit",
          "[lighter]") {
  auto fill = [](const std::string& id, UnixNanos t) {
    Fill f;
    f.trade_id = id;
    f.exchange_time = t;
    return f;
  };
  const UnixNanos ms = 1000000;
  // Two pages of a [from, to] window: the walk goes on while the venue has a next page.
  std::vector<Fill> out;
  auto more = TakeFillPage({fill("1", 5 * ms), fill("2", 10 * ms), fill("3", 11 * ms)}, "3",
                           10 * ms, 20 * ms, 500, &out);
  REQUIRE(more.ok());
  CHECK(*more);
  REQUIRE(out.size() == 2);  // the row before `from` (ms rounding of the venue's bound) is not in
  CHECK(out[0].trade_id == "2");
  more = TakeFillPage({fill("4", 15 * ms), fill("5", 21 * ms), fill("6", 22 * ms)}, "6", 10 * ms,
                      20 * ms, 500, &out);
  REQUIRE(more.ok());
  CHECK_FALSE(*more);  // a row past `to`: the window is complete
  REQUIRE(out.size() == 3);
  CHECK(out[2].trade_id == "4");
  // More than a venue page before `to`: the old single read stopped at 100 rows.
  out.clear();
  std::vector<Fill> page;
  for (int i = 0; i < 100; ++i) page.push_back(fill(std::to_string(i), (100 + i) * ms));
  more = TakeFillPage(page, "99", 0, 0, 500, &out);
  REQUIRE(more.ok());
  CHECK(*more);
  CHECK(out.size() == 100);
  // The limit ends the walk (the gateway narrows its window when it is reached).
  more = TakeFillPage(page, "199", 0, 0, 150, &out);
  REQUIRE(more.ok());
  CHECK_FALSE(*more);
  CHECK(out.size() == 150);
  // No next page: done.
  out.clear();
  more = TakeFillPage({fill("1", ms)}, "", 0, 0, 500, &out);
  REQUIRE(more.ok());
  CHECK_FALSE(*more);
  // A page newest first (the venue ignoring sort_dir=asc) is an error, not a short answer.
  out.clear();
  CHECK_FALSE(TakeFillPage({fill("2", 2 * ms), fill("1", ms)}, "1", 0, 0, 500, &out).ok());
}

TEST_CASE("lighter symbols: market index, venue symbol and ticker", "[lighter]") {
  CHECK(IsPerpMarketIndex(0));
  CHECK(IsPerpMarketIndex(254));
  CHECK_FALSE(IsPerpMarketIndex(255));
  CHECK_FALSE(IsPerpMarketIndex(2048));
  CHECK(NormalizeBase("eth").ticker == "ETH");
  CHECK(NormalizeBase("1000PEPE").ticker == "PEPE");
  CHECK(NormalizeBase("1000PEPE").multiplier == 1000);
  CHECK(NormalizeBase("1000").ticker == "1000");  // digits only: not a prefix
  Markets m;
  CHECK(m.symbols.MarketIndexOf("ETH") == 0);
  CHECK(m.symbols.MarketIndexOfTicker("BTC") == 1);
  CHECK(m.symbols.MarketIndexOf("DOGE") == -1);
  CHECK(m.symbols.ByMarketIndex(7) == nullptr);
  // Re-listing a symbol under a new index moves it.
  Instrument eth = *m.symbols.ByMarketIndex(0);
  m.symbols.Add(eth, 9);
  CHECK(m.symbols.ByMarketIndex(9)->venue_symbol == "ETH");
  CHECK(m.symbols.MarketIndexOf("ETH") == 9);
}

TEST_CASE("lighter orderBookDetails: instruments, limits, leverage and stats", "[lighter]") {
  Codec c;
  std::vector<MarketStats> stats;
  auto list = c.ParseOrderBookDetails(Data("order_book_details.json"), &stats);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);  // spot rows skipped
  const MarketInfo& m = (*list)[0];
  CHECK(m.market_index == 0);
  CHECK(m.instrument.venue == "lighter");
  CHECK(m.instrument.symbol == "ETH");
  CHECK(m.instrument.venue_symbol == "ETH");
  CHECK(m.instrument.venue_market_id == "0");
  CHECK(m.instrument.quote == "USDC");
  CHECK(m.instrument.tick_size == D("0.01"));
  CHECK(m.instrument.step_size == D("0.0001"));
  CHECK(m.instrument.min_size == D("0.005"));
  CHECK(m.instrument.min_notional == D("10"));
  CHECK(m.instrument.max_leverage == D("50"));  // 10000 / 200
  CHECK(m.instrument.tradeable);
  CHECK(m.instrument.funding_interval_hours == 1);
  CHECK(m.min_imf == 200);
  CHECK(m.maintenance_mf == 120);
  REQUIRE(stats.size() == 1);
  CHECK(*stats[0].mark_price == D("3327.50"));
  CHECK(*stats[0].last_trade_price == D("3327.46"));  // a JSON number, read exactly
  CHECK(*stats[0].open_interest == D("95000.1234"));
  CHECK(*stats[0].daily_quote_volume == D("830000000.25"));
  LeverageInfo li = BuildLeverageInfo(m);
  CHECK(li.max_leverage == D("50"));
  CHECK(li.leverage == D("20"));  // 10000 / 500, the venue default
  CHECK(li.initial_margin_ratio == D("0.02"));
  CHECK(li.maint_margin_ratio == D("0.012"));

  // An inactive market is kept, not tradeable; an index outside the perp range is an error; a
  // venue error code is an error naming it.
  CHECK_FALSE((*c.ParseOrderBookDetails(
      R"({"code":200,"order_book_details":[{"symbol":"X","market_id":3,"status":"frozen","size_decimals":2,"price_decimals":2}]})",
      nullptr))[0]
                  .instrument.tradeable);
  CHECK_FALSE(
      c.ParseOrderBookDetails(
           R"({"code":200,"order_book_details":[{"symbol":"X","market_id":2048,"size_decimals":2,"price_decimals":2}]})",
           nullptr)
          .ok());
  auto err = c.ParseOrderBookDetails(R"({"code":20001,"message":"invalid param"})", nullptr);
  REQUIRE_FALSE(err.ok());
  CHECK(err.status().message().find("20001") != std::string_view::npos);
}

TEST_CASE("lighter funding: lighter rows only, hourly, normalized to 8 h", "[lighter]") {
  Codec c;
  auto rows = c.ParseFundingRates(Data("funding_rates.json"));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);              // the binance reference row is skipped
  CHECK((*rows)[0].rate == D("0.00008"));  // "8e-05", exact
  CHECK((*rows)[1].rate == D("-0.00002"));
  MarketStats s;
  s.mark_price = D("3327.5");
  s.open_interest = D("10");
  s.daily_quote_volume = D("1000000");
  const UnixNanos as_of = int64_t{1760000123} * 1'000'000'000;  // 08:55:23 UTC
  auto f = BuildFunding((*rows)[0], &s, "ETH", /*rate_is_8h=*/false, as_of);
  REQUIRE(f.ok());
  CHECK(f->rate == D("0.00008"));
  CHECK(f->interval_hours == D("1"));
  CHECK(f->rate_8h == D("0.00064"));
  CHECK(f->next_funding_time == int64_t{1760000400} * 1'000'000'000);  // the next full hour
  CHECK(f->open_interest_usd == D("33275"));
  CHECK(f->mark_price == D("3327.5"));
  auto f8 = BuildFunding((*rows)[0], nullptr, "ETH", /*rate_is_8h=*/true, as_of);
  REQUIRE(f8.ok());
  CHECK(f8->rate == D("0.00001"));
  CHECK(f8->rate_8h == D("0.00008"));
}

TEST_CASE("lighter book: snapshot, nonce chain through BookSync, a missing begin_nonce resyncs",
          "[lighter]") {
  Markets m;
  Codec c;
  SymbolTable& syms = m.symbols;
  Feed feed(&c, &syms);
  CHECK(feed.seq_rule() == SeqRule::kPrevLink);
  MarketMsg msg;
  REQUIRE(feed.Decode(Data("ws_order_book_subscribed.json"), 5, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kDepthSnapshot);
  CHECK(msg.venue_symbol == "ETH");
  CHECK(msg.delta->last_id == 100);
  CHECK(msg.delta->changes.size() == 2);
  CHECK(msg.delta->exchange_time == int64_t{1774000000000} * 1'000'000);

  // The recorded update sequence: frame 1 carries begin_nonce; frames 2 and 3 omit it.
  const Instrument& eth = m.Inst(0);
  BookSync sync(SeqRule::kPrevLink, eth.price_scale, eth.size_scale);
  REQUIRE(feed.Decode(Frame("ws_order_book_updates.json", 0), 5, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kDepthDelta);
  CHECK(msg.delta->first_id == 4037957034u);
  CHECK(msg.delta->prev_id == 4037957034u);
  CHECK(msg.delta->last_id == 4037957053u);
  CHECK(msg.delta->changes.size() == 4);
  // Seed a snapshot at the update's begin_nonce: the update chains onto it.
  std::vector<Level> bids{{332600 * 1000000LL, 1}}, asks{{332746 * 1000000LL, 1}};
  REQUIRE(sync.OnSnapshot(bids, asks, 4037957034u) == BookSync::Result::kApplied);
  CHECK(sync.OnDelta(*msg.delta) == BookSync::Result::kApplied);
  REQUIRE(feed.Decode(Frame("ws_order_book_updates.json", 1), 5, &msg).ok());
  CHECK(msg.delta->prev_id == msg.delta->last_id);  // no begin_nonce: continuity unknown
  CHECK(sync.OnDelta(*msg.delta) != BookSync::Result::kApplied);

  // A chained update with a deleted level (size "0") and a break in the chain.
  auto update = [](uint64_t begin, uint64_t nonce, const char* size) {
    return std::string(
               R"({"channel":"order_book:0","offset":1,"order_book":{"code":0,"asks":[],"bids":[{"price":"3326.00","size":")") +
           size + R"("}],"offset":1,"nonce":)" + std::to_string(nonce) + R"(,"begin_nonce":)" +
           std::to_string(begin) + R"(},"timestamp":1766434222600,"type":"update/order_book"})";
  };
  BookSync s2(SeqRule::kPrevLink, eth.price_scale, eth.size_scale);
  REQUIRE(s2.OnSnapshot(bids, asks, 100) == BookSync::Result::kApplied);
  REQUIRE(feed.Decode(update(100, 105, "0"), 5, &msg).ok());
  CHECK(msg.delta->changes[0].level.size == 0);
  CHECK(s2.OnDelta(*msg.delta) == BookSync::Result::kApplied);
  CHECK(s2.book().bid_count() == 0);
  REQUIRE(feed.Decode(update(106, 110, "1.5"), 5, &msg).ok());  // 105 -> 106: one lost
  CHECK(s2.OnDelta(*msg.delta) != BookSync::Result::kApplied);
  CHECK(feed.info().channel_kind == ChannelKind::kOrderBook);  // the fast path keeps info()
  CHECK(feed.info().market_index == 0);
  CHECK(feed.info().channel == "order_book:0");

  // Frames that start like a book frame but are not one take the classifying path: an error
  // frame on the channel, an unconfigured market, a level without a size, a key-order change.
  REQUIRE(feed.Decode(R"({"channel":"order_book:0","type":"error","code":30003,"message":"x"})", 5,
                      &msg)
              .ok());
  CHECK(msg.kind == FeedKind::kVenueError);
  std::string other = update(110, 111, "1");
  other.replace(other.find("order_book:0"), 12, "order_book:9");
  CHECK(feed.Decode(other, 5, &msg).code() == absl::StatusCode::kNotFound);
  std::string no_size = update(110, 111, "1");
  no_size.replace(no_size.find(R"(,"size":"1")"), 11, "");
  CHECK(!feed.Decode(no_size, 5, &msg).ok());
  CHECK(feed.info().channel_kind == ChannelKind::kOrderBook);  // the resync names the market
  CHECK(feed.info().market_index == 0);
  const std::string reordered =
      R"({"type":"update/order_book","channel":"order_book:0","offset":1,"order_book":{"code":0,"asks":[],"bids":[{"size":"2","price":"3326.00"}],"offset":1,"nonce":120,"begin_nonce":111},"timestamp":1766434222600})";
  REQUIRE(feed.Decode(reordered, 5, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kDepthDelta);
  CHECK(msg.delta->prev_id == 111);
  CHECK(msg.delta->changes.size() == 1);
}

TEST_CASE("lighter book: malformed order_book frames are errors", "[lighter]") {
  Markets m;
  Codec c;
  const Instrument& eth = m.Inst(0);
  DeltaMsg d;
  bool snap = false;
  auto frame = [](const std::string& book, const char* type = "update/order_book",
                  const char* channel = "order_book:0") {
    return std::string(R"({"channel":")") + channel + R"(","order_book":)" + book +
           R"(,"timestamp":1,"type":")" + type + R"("})";
  };
  const std::string ok_book =
      R"({"code":0,"asks":[{"price":"3327.46","size":"1"}],"bids":[],"nonce":5,"begin_nonce":4})";
  CHECK(c.ParseWsBook(frame(ok_book), eth, 0, &d, &snap).ok());
  CHECK_FALSE(
      c.ParseWsBook(frame(ok_book, "update/order_book", "order_book:1"), eth, 0, &d, &snap).ok());
  CHECK_FALSE(c.ParseWsBook(frame(ok_book, "update/ticker"), eth, 0, &d, &snap).ok());
  CHECK_FALSE(c.ParseWsBook(frame(R"({"code":0,"asks":[],"bids":[],"nonce":4,"begin_nonce":5})"),
                            eth, 0, &d, &snap)
                  .ok());
  CHECK_FALSE(
      c.ParseWsBook(frame(R"({"code":0,"asks":[{"price":"1","size":"-1"}],"bids":[],"nonce":5})"),
                    eth, 0, &d, &snap)
          .ok());
  CHECK_FALSE(
      c.ParseWsBook(frame(R"({"code":0,"asks":[{"price":"0","size":"1"}],"bids":[],"nonce":5})"),
                    eth, 0, &d, &snap)
          .ok());
  CHECK_FALSE(c.ParseWsBook(frame(R"({"code":0,"asks":[],"bids":[]})"), eth, 0, &d, &snap).ok());
  CHECK_FALSE(
      c.ParseWsBook(frame(R"({"code":7,"asks":[],"bids":[],"nonce":5})"), eth, 0, &d, &snap).ok());
  CHECK_FALSE(c.ParseWsBook(
                   frame(R"({"code":0,"asks":[{"price":"1.001","size":"1"}],"bids":[],"nonce":5})"),
                   m.infos[0].instrument, 0, &d, &snap)
                  .ok());  // beyond the book's scale (the market's 2 decimals, unwidened)
  // Levels are read in place; escaped keys and values still read exactly, a string-typed
  // mismatch or a bad escape is an error.
  REQUIRE(c.ParseWsBook(
               frame(R"({"code":0,"asks":[{"pr\u0069ce":"3327.4\u0036","size":"\u0031"}],"bids":[{"size":"0.5","price":"3300"}],"nonce":5,"begin_nonce":4})"),
               eth, 0, &d, &snap)
              .ok());
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].level.price == ScaledOf("3327.46", eth.price_scale));
  CHECK(d.changes[0].level.size == ScaledOf("1", eth.size_scale));
  CHECK(d.changes[1].level.price == ScaledOf("3300", eth.price_scale));
  CHECK(d.changes[1].level.size == ScaledOf("0.5", eth.size_scale));
  CHECK_FALSE(
      c.ParseWsBook(frame(R"({"code":0,"asks":[{"price":3327,"size":"1"}],"bids":[],"nonce":5})"),
                    eth, 0, &d, &snap)
          .ok());
  CHECK_FALSE(
      c.ParseWsBook(frame(R"({"code":0,"asks":[{"price":"1\q","size":"1"}],"bids":[],"nonce":5})"),
                    eth, 0, &d, &snap)
          .ok());
}

TEST_CASE("lighter ticker, trades and market_stats through the feed", "[lighter]") {
  Markets m;
  Codec c;
  Feed feed(&c, &m.symbols);
  MarketMsg msg;
  REQUIRE(feed.Decode(Frame("ws_ticker_and_market_stats_subscribed.json", 0), 7, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kBbo);
  CHECK(msg.bbo->symbol == "ETH");
  CHECK(msg.bbo->bid_price == D("1999"));
  CHECK(msg.bbo->bid_size == D("2"));
  CHECK(msg.bbo->ask_price == D("2000"));
  CHECK(msg.bbo->ask_size == D("1"));
  CHECK(msg.bbo->venue_seq == 100);
  CHECK(msg.bbo->receive_time == 7);

  REQUIRE(feed.Decode(Frame("ws_ticker_and_market_stats_subscribed.json", 1), 7, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kVenue);
  CHECK(msg.detail == "market_stats");
  REQUIRE(feed.stats().size() == 1);
  CHECK(feed.stats()[0].market_index == 0);
  CHECK(*feed.stats()[0].mark_price == D("2000"));
  CHECK(*feed.stats()[0].current_funding_rate == D("0.0001"));

  // market_stats/all: a map of market index -> stats.
  std::vector<MarketStats> all;
  REQUIRE(
      c.ParseWsMarketStats(
           R"({"channel":"market_stats:all","market_stats":{"0":{"market_id":0,"mark_price":"1"},"1":{"market_id":1,"mark_price":"2","funding_timestamp":1760003600000}},"type":"update/market_stats"})",
           &all)
          .ok());
  REQUIRE(all.size() == 2);
  CHECK(all[1].market_index == 1);
  CHECK(all[1].funding_time == int64_t{1760003600000} * 1'000'000);

  REQUIRE(feed.Decode(Data("ws_trade_update.json"), 7, &msg).ok());
  REQUIRE(msg.kind == FeedKind::kVenue);  // two trades in one frame
  CHECK(msg.detail == "trades");
  REQUIRE(feed.trades().size() == 2);
  CHECK(feed.trades()[0].trade_id == "16164557907");
  CHECK(feed.trades()[0].price == D("2181.83"));
  CHECK(feed.trades()[0].size == D("0.1336"));
  CHECK(feed.trades()[0].taker_side == Side::kSell);  // the maker was the bid
  CHECK(feed.trades()[1].taker_side == Side::kBuy);
  CHECK(feed.trades()[0].exchange_time == int64_t{1773854156654} * 1'000'000);
  CHECK(feed.liquidations().empty());

  // One trade: kTrade. A liquidation: a trade and a Liquidation.
  const std::string one =
      R"({"channel":"trade:0","liquidation_trades":[],"nonce":1,"trades":[{"trade_id":5,"type":"trade","market_id":0,"size":"1","price":"2000","is_maker_ask":true,"timestamp":1}],"type":"update/trade"})";
  REQUIRE(feed.Decode(one, 7, &msg).ok());
  CHECK(msg.kind == FeedKind::kTrade);
  const std::string liq =
      R"({"channel":"trade:0","liquidation_trades":[{"trade_id":6,"type":"liquidation","market_id":0,"size":"2","price":"1990","is_maker_ask":false,"ask_id":77,"timestamp":1}],"nonce":2,"trades":[],"type":"update/trade"})";
  REQUIRE(feed.Decode(liq, 7, &msg).ok());
  CHECK(msg.kind == FeedKind::kVenue);
  REQUIRE(feed.liquidations().size() == 1);
  CHECK(feed.liquidations()[0].side == Side::kSell);
  CHECK(feed.liquidations()[0].order_id == "77");
  CHECK(feed.liquidations()[0].size == D("2"));

  // Unknown market: NotFound, never another market's book.
  auto unknown = feed.Decode(
      R"({"channel":"order_book:42","order_book":{"code":0,"asks":[],"bids":[],"nonce":1},"type":"update/order_book"})",
      7, &msg);
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
}

TEST_CASE("lighter control frames: connected, ping, errors, sendtx", "[lighter]") {
  Markets m;
  Codec c;
  Feed feed(&c, &m.symbols);
  MarketMsg msg;
  REQUIRE(feed.Decode(R"({"type":"connected","session_id":"abc"})", 1, &msg).ok());
  CHECK(msg.kind == FeedKind::kIgnored);
  REQUIRE(feed.Decode(R"({"type":"ping"})", 1, &msg).ok());
  CHECK(msg.kind == FeedKind::kVenue);
  CHECK(msg.detail == "ping");
  CHECK(EncodePong() == R"({"type":"pong"})");
  REQUIRE(feed.Decode(Frame("ws_error.json", 0), 1, &msg).ok());
  CHECK(msg.kind == FeedKind::kVenueError);
  CHECK(msg.detail.find("invalid channel") != std::string_view::npos);
  REQUIRE(feed.Decode(Frame("ws_error.json", 1), 1, &msg).ok());
  CHECK(msg.kind == FeedKind::kVenueError);
  CHECK(msg.detail == "30003 Already Subscribed");
  WsFrameInfo info;
  REQUIRE(
      c.ClassifyWsFrame(
           R"({"type":"update/account_all_orders","channel":"account_all_orders:123","orders":{}})",
           &info)
          .ok());
  CHECK(info.channel_kind == ChannelKind::kAccountAllOrders);
  CHECK(info.account_index == 123);
  REQUIRE(c.ClassifyWsFrame(R"({"type":"update/account_orders","channel":"account_orders:3:123"})",
                            &info)
              .ok());
  CHECK(info.market_index == 3);
  CHECK(info.account_index == 123);
  CHECK(ClassifyChannel("order_book/0") == ChannelKind::kOrderBook);  // subscribe spelling
  CHECK_FALSE(c.ClassifyWsFrame("[1,2]", &info).ok());
  CHECK_FALSE(c.ClassifyWsFrame("{\"type\":\"ping\"} x", &info).ok());

  // What the client sends (ws_subscribe_requests.json shapes).
  CHECK(EncodeSubscribe(OrderBookChannel(0)) == Frame("ws_subscribe_requests.json", 0));
  CHECK(EncodeSubscribe(TradeChannel(0)) == Frame("ws_subscribe_requests.json", 1));
  CHECK(EncodeSubscribe(kMarketStatsAllChannel) == Frame("ws_subscribe_requests.json", 2));
  CHECK(EncodeSubscribe(AccountAllOrdersChannel(123), "<AUTH_TOKEN>") ==
        Frame("ws_subscribe_requests.json", 3));
  CHECK(EncodeUnsubscribe(OrderBookChannel(0)) == Frame("ws_subscribe_requests.json", 4));
  CHECK(EncodePing() == Frame("ws_subscribe_requests.json", 5));
}

TEST_CASE("lighter account: collateral and signed positions", "[lighter]") {
  Markets m;
  Codec c;
  auto a = c.ParseAccount(Data("account_positions.json"), m.symbols, 12345);
  REQUIRE(a.ok());
  CHECK(a->account_index == 12345);
  CHECK(a->collateral == D("1000"));
  CHECK(a->available_balance == D("900"));
  REQUIRE(a->positions.size() == 1);
  const Position& p = a->positions[0];
  CHECK(p.symbol == "ETH");
  CHECK(p.size == D("0.5"));
  CHECK(p.entry_price == D("3300"));
  CHECK(p.liquidation_price == D("1500"));
  CHECK(p.unrealized_pnl == D("13.73"));
  CHECK(p.exposure_usd == D("1663.73"));
  CHECK(p.leverage == D("5"));  // initial_margin_fraction 20 %
  CHECK(c.ParseAccount(Data("account_positions.json"), m.symbols, 999).status().code() ==
        absl::StatusCode::kNotFound);
  // A short (sign -1) and the WS map shape.
  auto ps = c.ParsePositions(
      R"({"channel":"account_all_positions:1","positions":{"0":{"market_id":0,"sign":-1,"position":"2.0000","avg_entry_price":"3000"}},"type":"update/account_all_positions"})",
      m.symbols);
  REQUIRE(ps.ok());
  REQUIRE(ps->size() == 1);
  CHECK((*ps)[0].size == D("-2"));
  CHECK_FALSE(
      c.ParsePositions(R"({"positions":[{"market_id":0,"sign":2,"position":"1"}]})", m.symbols)
          .ok());
  auto u = c.ParseUserStats(
      R"({"channel":"user_stats:1","stats":{"collateral":"1000","portfolio_value":"1013.5","leverage":"1.6","available_balance":"900","margin_usage":"0.1","buying_power":"4500"},"type":"update/user_stats"})");
  REQUIRE(u.ok());
  CHECK(*u->portfolio_value == D("1013.5"));
  CHECK(*u->available_balance == D("900"));
}

TEST_CASE("lighter account: per-market leverage settings include flat rows", "[lighter]") {
  Markets m;
  Codec c;
  auto a = c.ParseAccount(Data("account_positions.json"), m.symbols, 12345);
  REQUIRE(a.ok());
  REQUIRE(a->settings.count("ETH") == 1);
  CHECK(*a->settings.at("ETH").leverage == D("5"));
  CHECK(a->settings.at("ETH").margin_mode == 0);
  // A flat row (the setting survives without a position) in isolated mode, IMF 3.34 %.
  auto b = c.ParseAccount(
      R"({"code":200,"total":1,"accounts":[{"account_index":7,"collateral":"1","available_balance":"1","positions":[{"market_id":0,"symbol":"ETH","sign":1,"position":"0.0000","margin_mode":1,"initial_margin_fraction":"3.34"}]}]})",
      m.symbols, 7);
  REQUIRE(b.ok());
  CHECK(b->positions.empty());
  REQUIRE(b->settings.count("ETH") == 1);
  CHECK(*b->settings.at("ETH").leverage == D("29.94"));
  CHECK(b->settings.at("ETH").margin_mode == 1);
}

TEST_CASE("lighter leverage encoder: IMF rounding and the market's bounds", "[lighter]") {
  Markets m;
  const MarketInfo& eth = m.infos[0];  // min IMF 200 (50x)
  REQUIRE(eth.min_imf == 200);
  auto t = EncodeUpdateLeverage(D("20"), eth, MarginMode::kCross);
  REQUIRE(t.ok());
  CHECK(t->initial_margin_fraction == 500);
  CHECK(t->market_index == eth.market_index);
  CHECK(t->margin_mode == MarginMode::kCross);
  // 3x does not divide 10 000: IMF rounds up (3334), so the leverage set (2.99) is not above 3.
  t = EncodeUpdateLeverage(D("3"), eth, MarginMode::kIsolated);
  REQUIRE(t.ok());
  CHECK(t->initial_margin_fraction == 3334);
  CHECK(t->margin_mode == MarginMode::kIsolated);
  CHECK(LeverageOfImf(3334) == D("2.99"));
  CHECK(EncodeUpdateLeverage(D("50"), eth, MarginMode::kCross)->initial_margin_fraction == 200);
  CHECK(EncodeUpdateLeverage(D("1"), eth, MarginMode::kCross)->initial_margin_fraction == 10000);
  CHECK(EncodeUpdateLeverage(D("51"), eth, MarginMode::kCross).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EncodeUpdateLeverage(D("0.5"), eth, MarginMode::kCross).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EncodeUpdateLeverage(D("0"), eth, MarginMode::kCross).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EncodeUpdateLeverage(D("-5"), eth, MarginMode::kCross).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// No recorded order/trade objects exist: these use the documented fields (lighter.md §8).
TEST_CASE("lighter orders and fills from the documented object fields", "[lighter]") {
  Markets m;
  Codec c;
  const std::string order =
      R"({"order_index":281474976710700,"client_order_index":1001,"order_id":"281474976710700","client_order_id":"1001","market_index":0,"owner_account_index":12345,"initial_base_amount":"0.1000","remaining_base_amount":"0.0400","filled_base_amount":"0.0600","filled_quote_amount":"180.000000","price":"3000.00","nonce":7,"is_ask":false,"side":"buy","type":"limit","time_in_force":"good-till-time","reduce_only":false,"trigger_price":"0.00","order_expiry":1762419200000,"status":"open","timestamp":1760000000000})";
  auto o = c.ParseOrder(order, m.symbols);
  REQUIRE(o.ok());
  CHECK(o->order_id == "281474976710700");
  CHECK(o->client_order_id == "1001");
  CHECK(o->symbol == "ETH");
  CHECK(o->side == Side::kBuy);
  CHECK(o->size == D("0.1"));
  CHECK(o->filled_size == D("0.06"));
  CHECK(o->avg_fill_price == D("3000"));
  CHECK(o->status == OrderStatus::kPartiallyFilled);
  CHECK(o->tif == perpgw::TimeInForce::kGtc);
  CHECK(o->updated_time == int64_t{1760000000000} * 1'000'000);

  auto list = c.ParseOrders(R"({"channel":"account_all_orders:12345","orders":{"0":[)" + order +
                                R"(],"1":[]},"type":"update/account_all_orders"})",
                            m.symbols);
  REQUIRE(list.ok());
  CHECK(list->size() == 1);
  std::string cursor;
  auto rest = c.ParseOrders(R"({"code":200,"orders":[)" + order + R"(],"next_cursor":"abc"})",
                            m.symbols, &cursor);
  REQUIRE(rest.ok());
  CHECK(cursor == "abc");
  CHECK_FALSE(c.ParseOrders(R"({"code":21100,"message":"x"})", m.symbols).ok());

  // Status vocabulary.
  CancelReason r;
  CHECK(MapOrderStatus("filled", D("1"), D("1"), &r) == OrderStatus::kFilled);
  CHECK(MapOrderStatus("canceled-post-only", D("1"), D("0"), &r) == OrderStatus::kRejected);
  CHECK(r == CancelReason::kPostOnlyViolation);
  CHECK(MapOrderStatus("canceled-margin-not-allowed", D("1"), D("0"), &r) ==
        OrderStatus::kRejected);
  CHECK(r == CancelReason::kInsufficientBalance);
  CHECK(MapOrderStatus("canceled", D("1"), D("0.4"), &r) == OrderStatus::kCanceled);
  CHECK(r == CancelReason::kUserCanceled);
  CHECK(MapOrderStatus("canceled-too-much-slippage", D("1"), D("0.4"), &r) ==
        OrderStatus::kCanceled);
  CHECK(MapOrderStatus("canceled-expired", D("1"), D("0"), &r) == OrderStatus::kExpired);
  CHECK(MapOrderStatus("canceled-self-trade", D("1"), D("0"), &r) == OrderStatus::kCanceled);
  CHECK(r == CancelReason::kSelfTrade);
  CHECK(MapOrderStatus("pending", D("1"), D("0"), &r) == OrderStatus::kPendingNew);
  CHECK(MapOrderStatus("something-new", D("1"), D("0"), &r) == OrderStatus::kPendingNew);

  // Fills: our account on the ask side (maker), on the bid side (taker), not on the trade.
  const std::string trades =
      R"({"code":200,"trades":[{"trade_id":1,"type":"trade","market_id":0,"size":"0.5","price":"3000","is_maker_ask":true,"ask_id":11,"bid_id":12,"ask_account_id":12345,"bid_account_id":7,"ask_client_id":1001,"timestamp":1760000000000},{"trade_id":2,"type":"liquidation","market_id":0,"size":"0.1","price":"2990","is_maker_ask":true,"ask_id":13,"bid_id":14,"ask_account_id":8,"bid_account_id":12345,"timestamp":1760000000001},{"trade_id":3,"type":"trade","market_id":0,"size":"1","price":"1","is_maker_ask":true,"ask_id":1,"bid_id":2,"ask_account_id":8,"bid_account_id":9,"timestamp":1}]})";
  auto fills = c.ParseFills(trades, m.symbols, 12345);
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 2);
  CHECK((*fills)[0].side == Side::kSell);
  CHECK((*fills)[0].maker);
  CHECK((*fills)[0].order_id == "11");
  CHECK((*fills)[0].client_order_id == "1001");
  CHECK((*fills)[0].fee_asset == "USDC");
  CHECK((*fills)[1].side == Side::kBuy);
  CHECK_FALSE((*fills)[1].maker);
  CHECK((*fills)[1].liquidation);
}

TEST_CASE("lighter orderBookOrders: orders aggregated into a snapshot by price", "[lighter]") {
  Markets m;
  Codec c;
  const Instrument& eth = m.Inst(0);
  const std::string body =
      R"({"code":200,"total_asks":2,"asks":[{"order_index":"1","price":"3001.00","remaining_base_amount":"0.5000","initial_base_amount":"1"},{"order_index":"2","price":"3000.50","remaining_base_amount":"0.2500"}],"total_bids":3,"bids":[{"order_index":"3","price":"2999.00","remaining_base_amount":"1.0000"},{"order_index":"4","price":"2999.50","remaining_base_amount":"0.1000"},{"order_index":"5","price":"2999.00","remaining_base_amount":"0.5000"}]})";
  auto u = c.ParseOrderBookOrders(body, eth, 9);
  REQUIRE(u.ok());
  CHECK(u->snapshot);
  CHECK(u->receive_time == 9);
  REQUIRE(u->bids.size() == 2);
  CHECK(u->bids[0].price == *ParseScaled("2999.5", eth.price_scale));
  CHECK(u->bids[1].size == *ParseScaled("1.5", eth.size_scale));  // two orders at 2999.00
  REQUIRE(u->asks.size() == 2);
  CHECK(u->asks[0].price == *ParseScaled("3000.5", eth.price_scale));
  CHECK_FALSE(
      c.ParseOrderBookOrders(
           R"({"code":200,"asks":[{"price":"2999","remaining_base_amount":"1"}],"bids":[{"price":"3000","remaining_base_amount":"1"}]})",
           eth, 0)
          .ok());  // crossed
  CHECK_FALSE(c.ParseOrderBookOrders(R"({"code":20001,"message":"bad market"})", eth, 0).ok());
}

TEST_CASE("lighter sendTx answers, nonces and errors", "[lighter]") {
  Codec c;
  auto one = c.ParseSendTx(Member("send_tx_response.json", "single"));
  REQUIRE(one.ok());
  CHECK(one->code == 200);
  REQUIRE(one->tx_hashes.size() == 1);
  CHECK(one->tx_hashes[0].rfind("01591bff", 0) == 0);
  CHECK(one->predicted_execution_time == int64_t{1760000000250} * 1'000'000);
  auto batch = c.ParseSendTx(Member("send_tx_response.json", "batch"));
  REQUIRE(batch.ok());
  CHECK(batch->tx_hashes.size() == 2);
  CHECK_FALSE(c.ParseSendTx(R"({"code":200,"tx_hash":"abc"})").ok());
  CHECK_FALSE(c.ParseSendTx("{}").ok());
  auto nonce = c.ParseNextNonce(R"({"code":200,"nonce":42})");
  REQUIRE(nonce.ok());
  CHECK(*nonce == 42);
  CHECK_FALSE(c.ParseNextNonce(R"({"code":200,"nonce":-1})").ok());

  auto err = c.ParseError(Member("ws_error.json", "rest_error_example"));
  REQUIRE(err);
  CHECK(err->code == 21104);
  CHECK_FALSE(c.ParseError(R"({"code":200,"message":"ok"})"));
  CHECK_FALSE(c.ParseError("not json"));

  VenueError e = ClassifyApiAnswer(200, Member("ws_error.json", "rest_error_example"),
                                   RequestKind::kOrderEntry);
  CHECK(e.status_code == absl::StatusCode::kFailedPrecondition);
  CHECK(e.retry == RetryClass::kRetryable);  // the nonce was refused: nothing accepted
  CHECK(e.action == ErrorAction::kResyncClock);
  CHECK(ToStatus(e).message().find("21104") != std::string_view::npos);
  CHECK(ClassifyApiAnswer(200, Member("send_tx_response.json", "single"), RequestKind::kOrderEntry)
            .ok());
  VenueError limited = ClassifyApiAnswer(429, "Too Many Requests", RequestKind::kOrderEntry);
  CHECK(limited.rate_limited());
  CHECK(limited.retry == RetryClass::kRetryable);
  CHECK(ClassifyApiAnswer(405, "", RequestKind::kQuery).action == ErrorAction::kBackOff);
  VenueError down = ClassifyApiAnswer(502, "<html>", RequestKind::kOrderEntry);
  CHECK(down.retry == RetryClass::kUnknownOutcome);
  CHECK(ClassifyApiAnswer(502, "<html>", RequestKind::kQuery).retry == RetryClass::kRetryable);
  VenueError po = ClassifyApiAnswer(
      200, R"({"code":21700,"message":"post only order would cross"})", RequestKind::kOrderEntry);
  CHECK(po.reason == CancelReason::kPostOnlyViolation);
  CHECK(po.retry == RetryClass::kNotRetryable);
  VenueError margin = ClassifyApiAnswer(200, R"({"code":21701,"message":"not enough margin"})",
                                        RequestKind::kOrderEntry);
  CHECK(margin.reason == CancelReason::kInsufficientBalance);
  CHECK(StatusCodeForVenueCode(30003, 200) == absl::StatusCode::kAlreadyExists);
  CHECK(StatusCodeForVenueCode(20001, 200) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("lighter order encoder: the vectors' transactions hash to their tx_hash", "[lighter]") {
  Markets m;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(Data("signed_tx_infos.json"));
  auto vector_hash = [&](const char* label) {
    for (auto it : doc["items"].get_array()) {
      if (std::string_view(it["label"]) == label)
        return std::string(std::string_view(it["tx_hash"]));
    }
    FAIL("no vector " << label);
    return std::string();
  };
  auto hash_of = [&](CreateOrderTx tx, int64_t nonce) {
    tx.account_index = 12345;
    tx.api_key_index = 3;
    tx.expired_at = 1760000599000;
    tx.nonce = nonce;
    auto h = HashTx(tx, kMainnetChainId);
    REQUIRE(h.ok());
    return ToHex(*h);
  };
  OrderRequest r;
  r.symbol = "ETH";
  r.side = Side::kBuy;
  r.type = perpgw::OrderType::kLimit;
  r.tif = perpgw::TimeInForce::kGtc;
  r.price = D("3000");
  r.size = D("0.1");
  auto gtt = EncodeCreateOrder(r, m.infos[0], 1001, 1762419200000);
  REQUIRE(gtt.ok());
  CHECK(gtt->base_amount == 1000);
  CHECK(gtt->price == 300000);
  CHECK(gtt->time_in_force == lighter::TimeInForce::kGoodTillTime);
  CHECK(hash_of(*gtt, 7) == vector_hash("limit GTT buy"));

  OrderRequest po = r;
  po.side = Side::kSell;
  po.tif = perpgw::TimeInForce::kPostOnly;
  po.price = D("650000");
  po.size = D("0.00025");
  auto pos = EncodeCreateOrder(po, m.infos[1], 1002, 1762419200000);
  REQUIRE(pos.ok());
  CHECK(hash_of(*pos, 8) == vector_hash("limit post-only sell"));

  OrderRequest mk;
  mk.symbol = "ETH";
  mk.side = Side::kSell;
  mk.type = perpgw::OrderType::kMarket;
  mk.tif = perpgw::TimeInForce::kIoc;
  mk.size = D("0.05");
  mk.reduce_only = true;
  mk.worst_price = D("2499.995");  // rounded up for a sell: 2500.00, never loosened
  auto mkt = EncodeCreateOrder(mk, m.infos[0], 1003, 1762419200000);
  REQUIRE(mkt.ok());
  CHECK(mkt->price == 250000);
  CHECK(mkt->order_expiry == 0);
  CHECK(mkt->type == lighter::OrderType::kMarket);
  CHECK(hash_of(*mkt, 9) == vector_hash("market IOC sell reduce-only"));

  // Refusals: off-grid size and price, FOK, a market order without a bound, a GTT without an
  // expiry, an index out of range, a size beyond 2^48-1 lots.
  OrderRequest bad = r;
  bad.size = D("0.00001");
  CHECK_FALSE(EncodeCreateOrder(bad, m.infos[0], 1, 1).ok());
  bad = r;
  bad.price = D("3000.001");
  CHECK_FALSE(EncodeCreateOrder(bad, m.infos[0], 1, 1).ok());
  bad = r;
  bad.tif = perpgw::TimeInForce::kFok;
  auto fok = EncodeCreateOrder(bad, m.infos[0], 1, 1);
  REQUIRE_FALSE(fok.ok());
  CHECK(fok.status().message().find("FOK") != std::string_view::npos);
  bad = mk;
  bad.worst_price = Decimal();
  CHECK_FALSE(EncodeCreateOrder(bad, m.infos[0], 1, 1).ok());
  CHECK_FALSE(EncodeCreateOrder(r, m.infos[0], 1, 0).ok());
  CHECK_FALSE(EncodeCreateOrder(r, m.infos[0], 0, 1).ok());
  CHECK_FALSE(EncodeCreateOrder(r, m.infos[0], kMaxClientOrderIndex + 1, 1).ok());
  bad = r;
  bad.size = D("999999999999");
  CHECK_FALSE(EncodeCreateOrder(bad, m.infos[0], 1, 1).ok());

  // Client order index: decimal ids in range as is, anything else hashed into 1..2^48-1.
  CHECK(ClientOrderIndexFor("1001") == 1001);
  CHECK(ClientOrderIndexFor("abc") == ClientOrderIndexFor("abc"));
  CHECK(ClientOrderIndexFor("abc") != ClientOrderIndexFor("abd"));
  for (const char* id : {"abc", "0", "00017", "281474976710656", "-5", ""}) {
    int64_t v = ClientOrderIndexFor(id);
    CHECK(v >= 1);
    CHECK(v <= kMaxClientOrderIndex);
  }
  CHECK(ClientOrderIndexFor("00017") != 17);  // not canonical: hashed, so "17" stays distinct
  CHECK(EncodeSendTxForm(TxType::kCreateOrder, R"({"A":1})") ==
        "tx_type=14&tx_info=%7B%22A%22%3A1%7D");
}

TEST_CASE("lighter modify encoder: ModifyOrder (17) with the size left and the new price",
          "[lighter]") {
  Markets m;
  // ETH (market 0): 2 size decimals, 2 price decimals. The order index as the venue gave it
  // (>= 2^48), 0.25 left to rest at 3001.50.
  auto tx = EncodeModifyOrder(m.infos[0], 281474976710656, D("0.25"), D("3001.5"));
  REQUIRE(tx.ok());
  CHECK(tx->market_index == 0);
  CHECK(tx->index == 281474976710656);
  CHECK(tx->base_amount == 2500);
  CHECK(tx->price == 300150);
  CHECK(tx->trigger_price == 0);
  // A client order index names the order too.
  auto by_client = EncodeModifyOrder(m.infos[1], 1001, D("0.00025"), D("650000"));
  REQUIRE(by_client.ok());
  CHECK(by_client->market_index == 1);
  CHECK(by_client->index == 1001);
  CHECK(by_client->base_amount == 25);
  CHECK(by_client->price == 6500000);

  // With its envelope it signs as tx type 17 and its tx_info carries the modify's fields.
  ModifyOrderTx full = *tx;
  full.account_index = 12345;
  full.api_key_index = 3;
  full.expired_at = 1760000599000;
  full.nonce = 16;
  CHECK(ValidateTx(full).ok());
  auto h = HashTx(full, kMainnetChainId);
  REQUIRE(h.ok());
  ModifyOrderTx other = full;
  other.price = 300151;
  CHECK(ToHex(*HashTx(other, kMainnetChainId)) != ToHex(*h));  // the price is signed
  Signature sig{};
  const std::string info = TxInfoJson(full, sig);
  CHECK(info.find("\"MarketIndex\":0,\"Index\":281474976710656,\"BaseAmount\":2500,"
                  "\"Price\":300150,\"TriggerPrice\":0") != std::string::npos);
  CHECK(EncodeSendTxForm(TxType::kModifyOrder, R"({"A":1})") ==
        "tx_type=17&tx_info=%7B%22A%22%3A1%7D");

  // Never rounded, never empty: off the lot or the tick, nothing left, no index, too large.
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("0.00001"), D("3000")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("0.1"), D("3000.001")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("0"), D("3000")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("0.1"), D("0")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 0, D("0.1"), D("3000")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("999999999999999"), D("3000")).ok());
  CHECK_FALSE(EncodeModifyOrder(m.infos[0], 1001, D("0.1"), D("99999999")).ok());
}

TEST_CASE("lighter errors: a failed modify as AmendOrder's answer", "[lighter]") {
  Order before;
  before.order_id = "281474976710656";
  before.client_order_id = "grid-1";
  before.price = D("3000");
  // No such open order: NOT_FOUND.
  auto gone = AmendFailure(
      ClassifyApiAnswer(200, R"({"code":21120,"message":"order not found"})",
                        RequestKind::kOrderEntry),
      before);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().code() == absl::StatusCode::kNotFound);
  // A refusal: REJECTED, the order as it was, the venue's reason.
  auto po = AmendFailure(
      ClassifyApiAnswer(200, R"({"code":21700,"message":"post only order would cross"})",
                        RequestKind::kOrderEntry),
      before);
  REQUIRE(po.ok());
  CHECK(po->outcome == AckOutcome::kRejected);
  CHECK(po->reason == CancelReason::kPostOnlyViolation);
  CHECK(po->order.price == D("3000"));
  // No answer or a 5xx: it may have applied.
  for (const VenueError& e : {ClassifyApiAnswer(502, "<html>", RequestKind::kOrderEntry),
                              ClassifyTransportError("timed out", RequestKind::kOrderEntry)}) {
    auto r = AmendFailure(e, before);
    REQUIRE(r.ok());
    CHECK(r->outcome == AckOutcome::kOutcomeUnknown);
    CHECK(r->retryable);
    CHECK(r->order.order_id == before.order_id);
  }
}

TEST_CASE("lighter codec survives every truncation and byte flip of every recorded payload",
          "[lighter]") {
  Markets m;
  Codec c;
  Feed feed(&c, &m.symbols);
  std::vector<std::string> inputs = {Data("order_book_details.json"),
                                     Data("funding_rates.json"),
                                     Data("account_positions.json"),
                                     Data("ws_order_book_subscribed.json"),
                                     Data("ws_trade_update.json"),
                                     Frame("ws_order_book_updates.json", 0),
                                     Frame("ws_ticker_and_market_stats_subscribed.json", 0),
                                     Frame("ws_ticker_and_market_stats_subscribed.json", 1),
                                     Member("send_tx_response.json", "single")};
  size_t runs = 0;
  for (const std::string& in : inputs) {
    auto all = [&](std::string_view s) {
      MarketMsg msg;
      (void)feed.Decode(s, 1, &msg);
      (void)c.ParseOrderBookDetails(s, nullptr);
      (void)c.ParseFundingRates(s);
      (void)c.ParseAccount(s, m.symbols, 12345);
      (void)c.ParseOrders(s, m.symbols);
      (void)c.ParseFills(s, m.symbols, 12345);
      (void)c.ParseSendTx(s);
      (void)c.ParseError(s);
      ++runs;
    };
    for (size_t n = 0; n < in.size(); ++n) all(std::string_view(in).substr(0, n));
    for (size_t i = 0; i < in.size(); i += 3) {
      std::string flipped = in;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
      all(flipped);
    }
  }
  CHECK(runs > 1000);
}

}  // namespace perpgw::adapters::lighter
