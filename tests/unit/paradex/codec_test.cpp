// Paradex JSON codec on every recorded payload in tests/data/paradex/, the order encoder against
// the signing vectors, and malformed input.
#include "adapters/paradex/codec.h"

#include <catch2/catch.hpp>

#include "adapters/api/order_book.h"
#include "adapters/paradex/feed.h"
#include "test_util.h"

namespace px = perpgw::adapters::paradex;
using perpgw::CancelReason;
using perpgw::OrderStatus;
using px::testing::D;
using px::testing::Member;
using px::testing::ReadData;
using px::testing::SplitArray;

namespace {

px::SymbolTable Symbols(px::Codec& c) {
  auto m = c.ParseMarkets(ReadData("rest_markets.json"));
  REQUIRE(m.ok());
  px::SymbolTable t;
  for (perpgw::Instrument i : *m) {
    perpgw::WidenBookScales(&i);
    t.Add(i);
  }
  perpgw::Instrument btc;
  btc.venue = "paradex";
  btc.venue_symbol = "BTC-USD-PERP";
  btc.symbol = "BTC";
  btc.base = "BTC";
  btc.tick_size = D("0.1");
  btc.step_size = D("0.001");
  btc.price_scale = 1;
  btc.size_scale = 3;
  perpgw::WidenBookScales(&btc);
  t.Add(btc);
  return t;
}

}  // namespace

TEST_CASE("paradex codec: markets keep perps only, with leverage, limits and RFQ mode") {
  px::Codec c;
  auto infos = c.ParseMarketInfos(ReadData("rest_markets.json"));
  REQUIRE(infos.ok());
  REQUIRE(infos->size() == 2);  // BTC-USD-96000-C (PERP_OPTION) skipped
  const px::MarketInfo& eth = (*infos)[0];
  CHECK(eth.instrument.venue_symbol == "ETH-USD-PERP");
  CHECK(eth.instrument.symbol == "ETH");
  CHECK(eth.instrument.quote == "USD");
  CHECK(eth.instrument.settle == "USDC");
  CHECK(eth.instrument.tick_size == D("0.01"));
  CHECK(eth.instrument.step_size == D("0.001"));
  CHECK(eth.instrument.price_scale == 2);
  CHECK(eth.instrument.size_scale == 3);
  CHECK(eth.instrument.min_notional == D("3"));
  CHECK(eth.instrument.max_size == D("100"));
  CHECK(eth.instrument.max_leverage == D("9"));  // floor(1 / 0.11)
  CHECK(eth.instrument.tradeable);
  CHECK(eth.funding_period_hours == 8);
  CHECK(eth.imf_base == D("0.11"));
  CHECK(eth.mmf_factor == D("0.51"));
  CHECK(eth.price_bands_width == D("0.05"));
  CHECK(eth.instrument.price_band_up == D("1.05"));
  CHECK(eth.instrument.price_band_down == D("0.95"));
  CHECK(eth.max_open_orders == 100);
  const px::MarketInfo& boden = (*infos)[1];
  CHECK(boden.instrument.max_leverage == D("5"));
  CHECK(boden.funding_period_hours == 0);  // not reported
  CHECK(boden.open_at == 1717065600000LL * 1000000);

  // RFQ_ONLY: listed, not tradeable on the book.
  std::string rfq = ReadData("rest_markets.json");
  size_t at = rfq.find("\"STANDARD\"");
  REQUIRE(at != std::string::npos);
  rfq.replace(at, 10, "\"RFQ_ONLY\"");
  auto r = c.ParseMarketInfos(rfq);
  REQUIRE(r.ok());
  CHECK_FALSE((*r)[0].instrument.tradeable);

  CHECK_FALSE(c.ParseMarkets("{\"results\":[{\"symbol\":\"X-USD-PERP\",\"asset_kind\":\"PERP\","
                             "\"price_tick_size\":\"0\",\"order_size_increment\":\"1\"}]}")
                  .ok());
  CHECK_FALSE(c.ParseMarkets("{\"nothing\":1}").ok());
  CHECK_FALSE(c.ParseMarkets("[").ok());
}

TEST_CASE("paradex codec: system config, state and time") {
  px::Codec c;
  auto cfg = c.ParseSystemConfig(ReadData("rest_system_config_excerpt.json"));
  REQUIRE(cfg.ok());
  CHECK(cfg->starknet_chain_id == "PRIVATE_SN_PARACLEAR_MAINNET");
  CHECK(cfg->l1_chain_id == "1");
  CHECK(cfg->paraclear_decimals == 8);
  CHECK_FALSE(c.ParseSystemConfig("{\"l1_chain_id\":\"1\"}").ok());

  auto st = c.ParseSystemState("{\"status\":\"ok\"}");
  REQUIRE(st.ok());
  CHECK(st->status == px::SystemStatus::kOk);
  CHECK(c.ParseSystemState("{\"status\":\"cancel_only\"}")->status ==
        px::SystemStatus::kCancelOnly);
  CHECK(c.ParseSystemState("{\"status\":\"post_only\"}")->status == px::SystemStatus::kPostOnly);
  CHECK(c.ParseSystemState("{\"status\":\"maintenance\"}")->status ==
        px::SystemStatus::kMaintenance);
  CHECK(c.ParseSystemState("{\"status\":\"something new\"}")->status == px::SystemStatus::kUnknown);

  auto t = c.ParseSystemTime("{\"server_time\":\"1681493415023\"}");
  REQUIRE(t.ok());
  CHECK(*t == 1681493415023LL * 1000000);
  CHECK_FALSE(c.ParseSystemTime("{\"server_time\":\"-5\"}").ok());
}

TEST_CASE("paradex codec: markets summary (REST and WS) and funding data") {
  px::Codec c;
  auto s = c.ParseMarketsSummary(ReadData("rest_markets_summary.json"));
  REQUIRE(s.ok());
  REQUIRE(s->size() == 2);
  CHECK((*s)[0].venue_symbol == "BTC-USD-PERP");
  CHECK((*s)[0].mark_price == D("68465.17449906"));
  CHECK((*s)[0].index_price == D("67367.37268422"));
  CHECK((*s)[0].open_interest == D("162.272"));
  CHECK((*s)[0].funding_rate == D("0.01629574927887"));
  CHECK_FALSE((*s)[0].bid_size.has_value());
  CHECK((*s)[1].ask_size == D("0.05"));

  auto ws = c.ParseWsMarketsSummary(ReadData("ws_markets_summary.json"));
  REQUIRE(ws.ok());
  CHECK(ws->venue_symbol == "ORDI-USD-PERP");
  CHECK(ws->total_volume_usd == D("54542628.66054200416"));
  CHECK_FALSE(ws->price_change_rate_24h.has_value());  // "" is absent, not zero

  px::PageCursor cursor;
  auto fd = c.ParseFundingData(ReadData("rest_funding_data.json"), &cursor);
  REQUIRE(fd.ok());
  REQUIRE(fd->size() == 1);
  CHECK(cursor.next.rfind("eyJ", 0) == 0);
  CHECK(cursor.prev.empty());
  CHECK((*fd)[0].funding_rate == D("0.00000567"));
  CHECK((*fd)[0].funding_period_hours == 8);

  auto wf = c.ParseWsFundingData(ReadData("ws_funding_data.json"));
  REQUIRE(wf.ok());
  CHECK(wf->venue_symbol == "TRUMP-USD-PERP");
  // 21 fractional digits: beyond Decimal, kept as checked text.
  CHECK(wf->funding_premium == "-0.000509914923994872836");
  CHECK(wf->funding_index == "-0.551694014226244835");
  CHECK(wf->funding_rate == D("-0.00014969570582"));
  CHECK(wf->has_rate_8h);

  auto f = px::BuildFunding(*wf, &*ws, "TRUMP", 99);
  REQUIRE(f.ok());
  CHECK(f->venue == "paradex");
  CHECK(f->interval_hours == D("8"));
  CHECK(f->rate_8h == D("-0.000149695706"));  // 12 places, half-even
  CHECK(f->next_funding_time == 0);           // continuous
  CHECK(f->as_of == 1771506636154LL * 1000000);
  CHECK(f->mark_price == D("49.80885481"));
  // 6999.5 x 49.80885481 = 348637.07824... -> cents.
  CHECK(f->open_interest_usd == D("348637.08"));
  px::FundingData no_period = *wf;
  no_period.funding_period_hours = 0;
  CHECK_FALSE(px::BuildFunding(no_period, nullptr, "TRUMP", 1).ok());
}

TEST_CASE("paradex codec: REST orderbook and bbo") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  const perpgw::Instrument& btc = *sym.ByVenueSymbol("BTC-USD-PERP");
  auto ob = c.ParseOrderbook(ReadData("rest_orderbook.json"), btc);
  REQUIRE(ob.ok());
  CHECK(ob->seq_no == 20784);
  REQUIRE(ob->bids.size() == 3);
  CHECK(ob->bids[0].price == *perpgw::ParseScaled("30112.2", btc.price_scale));
  CHECK(ob->bids[2].price == *perpgw::ParseScaled("30110.0", btc.price_scale));
  CHECK(ob->asks[0].price == *perpgw::ParseScaled("30130.1", btc.price_scale));
  const perpgw::Instrument& eth = *sym.ByVenueSymbol("ETH-USD-PERP");
  CHECK_FALSE(c.ParseOrderbook(ReadData("rest_orderbook.json"), eth).ok());  // wrong market

  auto b = c.ParseBbo(ReadData("rest_bbo.json"), sym, 7);
  REQUIRE(b.ok());
  CHECK(b->symbol == "BTC");
  CHECK(b->bid_price == D("30112.22"));
  CHECK(b->ask_size == D("0.05"));
  CHECK(b->venue_seq == 20784);
  auto wb = c.ParseWsBbo(ReadData("ws_bbo.json"), sym, 7);
  REQUIRE(wb.ok());
  CHECK(wb->ask_price == D("30130.15"));
  CHECK(wb->exchange_time == 1681493939981LL * 1000000);
}

TEST_CASE("paradex codec: JSON book feed (connections without SBE) through BookSync") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  px::Feed feed(&c, &sym);
  std::vector<std::string> frames = SplitArray(ReadData("ws_order_book_deltas.json"));
  REQUIRE(frames.size() == 2);
  const perpgw::Instrument& btc = *sym.ByVenueSymbol("BTC-USD-PERP");
  perpgw::BookSync sync(feed.seq_rule(), btc.price_scale, btc.size_scale);
  perpgw::MarketMsg m;
  REQUIRE(feed.Decode(frames[0], 1, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kDepthSnapshot);
  std::vector<perpgw::Level> bids, asks;
  perpgw::SplitSnapshotLevels(*m.delta, &bids, &asks);
  sync.OnSnapshot(bids, asks, m.delta->last_id);
  REQUIRE(feed.Decode(frames[1], 2, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kDepthDelta);
  // Deletes first, then updates and inserts.
  REQUIRE(m.delta->changes.size() == 3);
  CHECK(m.delta->changes[0].level.size == 0);
  CHECK(sync.OnDelta(*m.delta) == perpgw::BookSync::Result::kApplied);
  CHECK(sync.book().bid_count() == 1);
  CHECK(sync.book().bid(0).size == *perpgw::ParseScaled("0.5", btc.size_scale));
  CHECK(sync.book().ask(0).price == *perpgw::ParseScaled("69000", btc.price_scale));

  // The captured snapshot-feed message: every level an insert.
  REQUIRE(feed.Decode(ReadData("ws_order_book_snapshot.json"), 3, &m).ok());
  CHECK(m.kind == perpgw::FeedKind::kDepthSnapshot);
  CHECK_FALSE(m.delta->changes.empty());

  // A value in a form the fast parser leaves to the exact one (an exponent; likewise '+' or a
  // long digit run) is the same value, not a bad frame that resyncs the book.
  std::string padded = frames[1];
  size_t p25 = padded.find("\"0.25\"");
  REQUIRE(p25 != std::string::npos);
  padded.replace(p25, 6, "\"2.5e-1\"");
  perpgw::MarketMsg pm;
  auto pst = feed.Decode(padded, 4, &pm);
  INFO(pst.ToString());
  REQUIRE(pst.ok());
  REQUIRE(pm.delta->changes.size() == 3);
  bool found = false;
  for (const auto& ch : pm.delta->changes) {
    found |= ch.level.size == *perpgw::ParseScaled("0.25", btc.size_scale);
  }
  CHECK(found);

  // Loss rules the adapter acts on: an insert with size 0 and an unknown update type are errors.
  std::string zero = frames[1];
  size_t at = zero.find("\"0.25\"");
  REQUIRE(at != std::string::npos);
  zero.replace(at, 6, "\"0\"");
  CHECK_FALSE(feed.Decode(zero, 4, &m).ok());
  std::string weird = frames[1];
  weird.replace(weird.find("\"d\""), 3, "\"x\"");
  CHECK_FALSE(feed.Decode(weird, 4, &m).ok());
}

TEST_CASE("paradex codec: trades, and the SBE int64 id matches the JSON id's low 64 bits") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  auto t = c.ParseWsTrade(ReadData("ws_trades.json"), sym, 3);
  REQUIRE(t.ok());
  CHECK(t->symbol == "BONK");  // not in the table: fallback strips the k prefix
  CHECK(t->trade_id == "1718179273230201709233240002");
  CHECK(t->taker_side == perpgw::Side::kBuy);
  CHECK(t->price == D("0.028776"));
  int64_t low = 0;
  REQUIRE(px::TradeIdLow64(t->trade_id, &low));
  CHECK(low == 697056161572911042);
  CHECK_FALSE(px::TradeIdLow64("12a", &low));
  CHECK_FALSE(px::TradeIdLow64("", &low));
}

TEST_CASE("paradex codec: JSON-RPC control frames and errors") {
  px::Codec c;
  px::WsFrameInfo info;
  std::string ctl = ReadData("ws_control_messages.json");
  REQUIRE(c.ClassifyWsFrame(Member(ctl, "auth_response"), &info).ok());
  CHECK(info.kind == px::WsKind::kResult);
  REQUIRE(info.id.has_value());
  CHECK(*info.id == 0);
  CHECK(info.node_id == "73cf456f7cb78d59");
  REQUIRE(c.ClassifyWsFrame(Member(ctl, "subscribe_response"), &info).ok());
  CHECK(info.kind == px::WsKind::kResult);
  CHECK(info.channel == "bbo.BTC-USD-PERP");
  CHECK(info.channel_kind == px::ChannelKind::kBbo);
  CHECK(*info.id == 1);

  std::vector<std::string> errs = SplitArray(ReadData("ws_errors.json"));
  REQUIRE(errs.size() == 3);
  REQUIRE(c.ClassifyWsFrame(errs[0], &info).ok());
  CHECK(info.kind == px::WsKind::kError);
  CHECK(info.error_code == -32601);
  CHECK(*info.id == 4);
  REQUIRE(c.ClassifyWsFrame(errs[1], &info).ok());
  CHECK(info.error_code == 40111);
  REQUIRE(c.ClassifyWsFrame(errs[2], &info).ok());
  CHECK(info.error_code == -32600);
  CHECK(info.error_message == "invalid subscribe request: invalid channel");

  for (const char* f : {"ws_orders_update.json", "ws_fills.json", "ws_positions.json",
                        "ws_account.json", "ws_trades.json", "ws_bbo.json"}) {
    INFO(f);
    REQUIRE(c.ClassifyWsFrame(ReadData(f), &info).ok());
    CHECK(info.kind == px::WsKind::kSubscription);
  }
  REQUIRE(c.ClassifyWsFrame(ReadData("ws_fills.json"), &info).ok());
  CHECK(info.channel_kind == px::ChannelKind::kFills);
  REQUIRE(c.ClassifyWsFrame(ReadData("ws_positions.json"), &info).ok());
  CHECK(info.channel_kind == px::ChannelKind::kPositions);
  CHECK(px::ClassifyChannel("order_book.BTC-USD-PERP.deltas@15@50ms") ==
        px::ChannelKind::kOrderBook);
  CHECK(px::ClassifyChannel("tradebusts") == px::ChannelKind::kOther);

  // Feed: an error frame is kVenueError with its code and message.
  px::SymbolTable sym;
  px::Feed feed(&c, &sym);
  perpgw::MarketMsg m;
  REQUIRE(feed.Decode(errs[1], 1, &m).ok());
  CHECK(m.kind == perpgw::FeedKind::kVenueError);
  CHECK(m.detail == "40111 Invalid Bearer Token");
  CHECK_FALSE(feed.Decode("not json", 1, &m).ok());
  CHECK(feed.DecodeBinary("", 1, &m).code() == absl::StatusCode::kInvalidArgument);

  auto e = c.ParseError(SplitArray(ReadData("rest_error.json"))[0]);
  REQUIRE(e.has_value());
  CHECK(e->code == "NOT_ONBOARDED");
  CHECK(e->message == "User has never called /onboarding endpoint");
  auto we = c.ParseError(errs[1]);
  REQUIRE(we.has_value());
  CHECK(we->code == "40111");
  CHECK_FALSE(c.ParseError("{\"ok\":true}").has_value());
  CHECK_FALSE(c.ParseError("<html>").has_value());
}

TEST_CASE("paradex codec: orders, order answers and status mapping") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  auto o = c.ParseOrder(ReadData("rest_order_response.json"), sym);
  REQUIRE(o.ok());
  CHECK(o->order_id == "123456");
  CHECK(o->client_order_id == "x1234");
  CHECK(o->symbol == "BTC");
  CHECK(o->side == perpgw::Side::kBuy);
  CHECK(o->type == perpgw::OrderType::kLimit);
  CHECK(o->reduce_only);
  CHECK(o->size == D("0.05"));
  CHECK(o->filled_size == D("0.05"));  // remaining 0
  CHECK(o->created_time == 1681493746016LL * 1000000);
  auto w = c.ParseOrder(ReadData("ws_orders_update.json"), sym);
  REQUIRE(w.ok());
  CHECK(w->order_id == "123456");

  auto ack = c.ParseOrderResponse(201, ReadData("rest_order_response.json"), sym);
  CHECK(ack.outcome == perpgw::AckOutcome::kAccepted);
  auto rej = c.ParseOrderResponse(400, SplitArray(ReadData("rest_error.json"))[1], sym);
  CHECK(rej.outcome == perpgw::AckOutcome::kRejected);
  CHECK(rej.message.rfind("VALIDATION_ERROR", 0) == 0);
  auto limited = c.ParseOrderResponse(429, "{\"error\":\"RATE_LIMIT\",\"message\":\"slow\"}", sym);
  CHECK(limited.outcome == perpgw::AckOutcome::kRejected);
  CHECK(limited.retryable);
  CHECK(c.ParseOrderResponse(500, "", sym).outcome == perpgw::AckOutcome::kOutcomeUnknown);
  CHECK(c.ParseOrderResponse(0, "", sym).outcome == perpgw::AckOutcome::kOutcomeUnknown);
  CHECK(c.ParseOrderResponse(201, "{\"garbage\":1}", sym).outcome ==
        perpgw::AckOutcome::kOutcomeUnknown);

  using px::MapOrderStatus;
  CHECK(MapOrderStatus("NEW", D("1"), D("1"), "") == OrderStatus::kOpen);
  CHECK(MapOrderStatus("OPEN", D("1"), D("0.4"), "") == OrderStatus::kPartiallyFilled);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("0"), "") == OrderStatus::kFilled);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("1"), "USER_CANCELED") == OrderStatus::kCanceled);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("0.5"), "USER_CANCELED") == OrderStatus::kCanceled);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("1"), "POST_ONLY_WOULD_CROSS") ==
        OrderStatus::kRejected);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("1"), "NOT_ENOUGH_MARGIN") == OrderStatus::kRejected);
  CHECK(MapOrderStatus("CLOSED", D("1"), D("0.3"), "IOC_UNFILLED") == OrderStatus::kExpired);
  CHECK(MapOrderStatus("SOMETHING", D("1"), D("1"), "") == OrderStatus::kPendingNew);
  CHECK(px::MapCancelReason("NOT_ENOUGH_MARGIN") == CancelReason::kInsufficientBalance);
  CHECK(px::MapCancelReason("POST_ONLY_WOULD_CROSS") == CancelReason::kPostOnlyViolation);
  CHECK(px::MapCancelReason("REDUCE_ONLY_WOULD_INCREASE") == CancelReason::kReduceOnly);
  CHECK(px::MapCancelReason("SELF_TRADE") == CancelReason::kSelfTrade);
  CHECK(px::MapCancelReason("") == CancelReason::kNone);

  std::string closed = ReadData("ws_orders_update.json");
  closed.replace(closed.find("\"NEW\""), 5, "\"CLOSED\"");
  closed.replace(closed.find("\"remaining_size\": \"0\""), 21, "\"remaining_size\": \"0.05\"");
  closed.replace(closed.find("\"cancel_reason\": \"\""), 19,
                 "\"cancel_reason\": \"POST_ONLY_WOULD_CROSS\"");
  auto r = c.ParseOrder(closed, sym);
  REQUIRE(r.ok());
  CHECK(r->status == OrderStatus::kRejected);
  CHECK(r->reason == CancelReason::kPostOnlyViolation);
  CHECK(r->reason_text == "POST_ONLY_WOULD_CROSS");
  CHECK_FALSE(r->avg_fill_price.has_value());  // nothing filled: the placeholder price is dropped

  CHECK_FALSE(c.ParseOrder("{\"id\":\"1\",\"market\":\"BTC-USD-PERP\",\"side\":\"BUY\","
                           "\"type\":\"LIMIT\",\"size\":\"1\",\"remaining_size\":\"2\","
                           "\"status\":\"OPEN\"}",
                           sym)
                  .ok());
}

TEST_CASE("paradex codec: fills, positions, balance, account, margin, auth") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  auto f = c.ParseFill(ReadData("ws_fills.json"), sym);
  REQUIRE(f.ok());
  CHECK(f->trade_id == "8615262148007718462");
  CHECK(f->order_id == "1681462103821101699438490000");
  CHECK(f->client_order_id == "x1234");
  CHECK(f->price == D("30000.12"));
  CHECK(f->size == D("0.5"));
  CHECK(f->fee == D("7.56"));
  CHECK(f->fee_asset == "USDC");
  CHECK_FALSE(f->maker);
  CHECK_FALSE(f->liquidation);
  std::string liq = ReadData("ws_fills.json");
  liq.replace(liq.find("\"FILL\""), 6, "\"LIQUIDATION\"");
  CHECK(c.ParseFill(liq, sym)->liquidation);

  auto ps = c.ParsePositions(ReadData("rest_positions.json"), sym);
  REQUIRE(ps.ok());
  REQUIRE(ps->size() == 1);
  const perpgw::Position& p = (*ps)[0];
  CHECK(p.symbol == "BTC");
  CHECK(p.size == D("-0.345"));
  CHECK(p.entry_price == D("29001.34"));
  CHECK(p.unrealized_pnl == D("-123.23"));
  CHECK(p.funding_accrued == D("12.234"));
  CHECK(p.exposure_usd == D("10005.4623"));
  CHECK_FALSE(p.liquidation_price.has_value());  // "" on the venue
  auto wp = c.ParsePosition(ReadData("ws_positions.json"), sym);
  REQUIRE(wp.ok());
  CHECK(wp->size == D("-0.345"));
  std::string closed = ReadData("rest_positions.json");
  closed.replace(closed.find("\"OPEN\""), 6, "\"CLOSED\"");
  CHECK(c.ParsePositions(closed, sym)->empty());

  auto bal = c.ParseBalanceSize(ReadData("rest_balances.json"), "USDC");
  REQUIRE(bal.ok());
  CHECK(*bal == D("123003.62"));
  CHECK(c.ParseBalanceSize(ReadData("rest_balances.json"), "ETH")->IsZero());

  for (const char* file : {"rest_account.json", "ws_account.json"}) {
    auto a = c.ParseAccount(ReadData(file));
    REQUIRE(a.ok());
    CHECK(a->account_value == D("136285.06918911"));
    CHECK(a->free_collateral == D("73276.47229774"));
    CHECK(a->maintenance_margin_requirement == D("31597.25239676"));
    CHECK(a->status == "ACTIVE");
    CHECK(a->update_time == 1681471234972LL * 1000000);
  }

  auto m = c.ParseAccountMargin(
      "{\"account\":\"0x1\",\"configs\":[{\"market\":\"BTC-USD-PERP\",\"leverage\":10,"
      "\"margin_type\":\"CROSS\"}]}");
  REQUIRE(m.ok());
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].leverage == D("10"));
  auto infos = c.ParseMarketInfos(ReadData("rest_markets.json"));
  perpgw::LeverageInfo li = px::BuildLeverageInfo((*infos)[0], &(*m)[0]);
  CHECK(li.max_leverage == D("9"));
  CHECK(li.leverage == D("10"));
  CHECK(li.initial_margin_ratio == D("0.11"));
  CHECK(li.maint_margin_ratio == D("0.0561"));

  auto jwt = c.ParseAuth(Member(ReadData("rest_auth.json"), "response"));
  REQUIRE(jwt.ok());
  CHECK(jwt->rfind("eyJhbGciOiJFUzM4NCIs", 0) == 0);
  // The recorded token: exp 1681452907 (iat + 300 s).
  auto exp = px::JwtExpiry(*jwt);
  REQUIRE(exp.ok());
  CHECK(*exp == 1681452907);
  CHECK_FALSE(px::JwtExpiry("no-dots").ok());
  CHECK_FALSE(px::JwtExpiry("a.!!!.c").ok());
  CHECK_FALSE(px::JwtExpiry("a.e30.c").ok());  // {} : no exp
  CHECK_FALSE(c.ParseAuth("{\"jwt_token\":\"\"}").ok());
}

TEST_CASE("paradex codec: the order encoder signs what the vectors sign") {
  px::Codec c;
  auto infos = c.ParseMarkets(ReadData("rest_markets.json"));
  REQUIRE(infos.ok());
  const perpgw::Instrument& eth = (*infos)[0];
  perpgw::OrderRequest req;
  req.symbol = "ETH";
  req.side = perpgw::Side::kBuy;
  req.type = perpgw::OrderType::kLimit;
  req.price = D("1500");
  req.size = D("0.1");
  auto enc = px::EncodeOrderFields(req, eth, "my-cid-0001", 1634736000000ULL);
  REQUIRE(enc.ok());
  // vectors: order_limit_buy on PRIVATE_SN_PARACLEAR_MAINNET.
  auto account = px::ParseFelt("0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a");
  REQUIRE(account.ok());
  auto hash = px::OrderMessageHash("PRIVATE_SN_PARACLEAR_MAINNET", *account, enc->signed_fields);
  REQUIRE(hash.ok());
  CHECK(hash->ToHex() == "0x128f4ee98f0a08c87c91c7c87fdd7ac08a7af793dc140b13cd4e3ea6d5e1d00");

  std::string body = px::EncodeOrderBody(req, eth, *enc, "my-cid-0001", "[\"1\",\"2\"]", 5000);
  CHECK(body ==
        "{\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\","
        "\"price\":\"1500\",\"instruction\":\"GTC\",\"client_id\":\"my-cid-0001\",\"flags\":[],"
        "\"recv_window\":5000,\"signature\":\"[\\\"1\\\",\\\"2\\\"]\","
        "\"signature_timestamp\":1634736000000}");

  // Market with a worst price: LIMIT IOC rounded inward; without one: MARKET, price 0 signed.
  perpgw::OrderRequest mkt = req;
  mkt.type = perpgw::OrderType::kMarket;
  mkt.side = perpgw::Side::kSell;
  mkt.worst_price = D("1499.994");
  auto m1 = px::EncodeOrderFields(mkt, eth, "", 1);
  REQUIRE(m1.ok());
  CHECK(m1->signed_fields.order_type == "LIMIT");
  CHECK(m1->signed_fields.price == "1500");  // sell: rounded up
  CHECK(px::EncodeOrderBody(mkt, eth, *m1, "", "[]", 0).find("\"instruction\":\"IOC\"") !=
        std::string::npos);
  mkt.worst_price = perpgw::Decimal();
  auto m2 = px::EncodeOrderFields(mkt, eth, "", 1);
  REQUIRE(m2.ok());
  CHECK(m2->signed_fields.order_type == "MARKET");
  CHECK(m2->signed_fields.price == "0");
  CHECK(px::EncodeOrderBody(mkt, eth, *m2, "", "[]", 0).find("\"price\"") == std::string::npos);

  perpgw::OrderRequest bad = req;
  bad.price = D("1500.001");
  CHECK_FALSE(px::EncodeOrderFields(bad, eth, "", 1).ok());  // off the tick
  bad = req;
  bad.size = D("0.0001");
  CHECK_FALSE(px::EncodeOrderFields(bad, eth, "", 1).ok());  // off the increment
  bad = req;
  bad.tif = perpgw::TimeInForce::kFok;
  CHECK_FALSE(px::EncodeOrderFields(bad, eth, "", 1).ok());
  CHECK_FALSE(px::EncodeOrderFields(req, eth, std::string(65, 'x'), 1).ok());

  CHECK(*px::EncodeSetLeverage(D("10"), "CROSS") == "{\"leverage\":10,\"margin_type\":\"CROSS\"}");
  CHECK_FALSE(px::EncodeSetLeverage(D("2.5"), "CROSS").ok());
  CHECK_FALSE(px::EncodeSetLeverage(D("10"), "cross").ok());
}

TEST_CASE("paradex codec: WS requests, channel names, SBE negotiation URL") {
  CHECK(px::EncodeAuth("abc", 0) ==
        "{\"jsonrpc\":\"2.0\",\"method\":\"auth\",\"params\":{\"bearer\":\"abc\"},\"id\":0}");
  CHECK(px::EncodeSubscribe("bbo.BTC-USD-PERP", 3) ==
        "{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"params\":{\"channel\":"
        "\"bbo.BTC-USD-PERP\"},\"id\":3}");
  CHECK(px::EncodeUnsubscribe("x", 4).find("\"unsubscribe\"") != std::string::npos);
  CHECK(px::EncodeCancelOnDisconnect(true, 5) ==
        "{\"jsonrpc\":\"2.0\",\"method\":\"order.cancel_on_disconnect\",\"params\":{"
        "\"enabled\":true},\"id\":5}");
  CHECK(px::OrderBookDeltasChannel("BTC-USD-PERP") == "order_book.BTC-USD-PERP.deltas@15@50ms");
  CHECK(px::WithSbeQuery("wss://ws.api.prod.paradex.trade/v1") ==
        "wss://ws.api.prod.paradex.trade/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  CHECK(px::WithSbeQuery("ws://127.0.0.1:9/v1?x=1") ==
        "ws://127.0.0.1:9/v1?x=1&sbeSchemaId=1&sbeSchemaVersion=1");
  CHECK(px::SbeChannelFor(2, "ETH-USD-PERP") == "bbo.ETH-USD-PERP");
  CHECK(px::SbeChannelFor(99, "ETH-USD-PERP").empty());
}

TEST_CASE("paradex codec: every truncation of every recorded JSON payload fails cleanly") {
  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  const perpgw::Instrument& btc = *sym.ByVenueSymbol("BTC-USD-PERP");
  px::Feed feed(&c, &sym);
  for (const char* file :
       {"rest_markets.json", "rest_markets_summary.json", "rest_orderbook.json", "rest_bbo.json",
        "rest_funding_data.json", "rest_order_response.json", "rest_positions.json",
        "rest_balances.json", "rest_account.json", "ws_fills.json", "ws_orders_update.json",
        "ws_order_book_snapshot.json", "ws_trades.json", "ws_funding_data.json"}) {
    std::string full = ReadData(file);
    while (!full.empty() && (full.back() == '\n' || full.back() == ' ')) full.pop_back();
    for (size_t len = 1; len < full.size(); len += 7) {
      std::string cut = full.substr(0, len);
      (void)c.ParseMarketInfos(cut);
      (void)c.ParseMarketsSummary(cut);
      (void)c.ParseOrderbook(cut, btc);
      (void)c.ParseBbo(cut, sym, 0);
      (void)c.ParseFundingData(cut);
      (void)c.ParseOrder(cut, sym);
      (void)c.ParsePositions(cut, sym);
      (void)c.ParseBalanceSize(cut, "USDC");
      (void)c.ParseAccount(cut);
      (void)c.ParseFill(cut, sym);
      (void)c.ParseError(cut);
      perpgw::MarketMsg m;
      // Every recorded payload is one object: a strict prefix is never valid JSON.
      CHECK_FALSE(feed.Decode(cut, 0, &m).ok());
    }
  }
}

TEST_CASE("paradex codec: funding history from /funding/data pages") {
  px::Codec c;
  // The recorded docs example: one BTC row, 8 h period.
  px::PageCursor cursor;
  auto rec = c.ParseFundingData(ReadData("rest_funding_data.json"), &cursor);
  REQUIRE(rec.ok());
  auto h = px::BuildFundingHistory(*rec, "BTC-USD-PERP", 8, "BTC");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 1);
  const perpgw::Funding& f = (*h)[0];
  CHECK(f.venue == "paradex");
  CHECK(f.symbol == "BTC");
  CHECK(f.rate == D("0.00000567"));
  CHECK(f.interval_hours == D("8"));
  CHECK(f.rate_8h == D("0.00000567"));  // equals the server's funding_rate_8h
  CHECK(f.rate_1h == D("0.00000070875"));
  CHECK(f.as_of == 1684796400000LL * 1000000);  // the sample's created_at
  CHECK(f.next_funding_time == 0);              // continuous
  CHECK_FALSE(f.mark_price.has_value());                 // rows carry no mark

  // Newest first on the wire (as the sim pages), oldest first out; a 24 h market's rate is per
  // 24 h (paradex.md §4), and a row without funding_period_hours takes the market's.
  const std::string page = R"({"next":"abc=","prev":null,"results":[
    {"market":"ETH-USD-PERP","funding_rate":"0.0003","funding_rate_8h":"0.0001",
     "funding_period_hours":24,"funding_index":"1.5","funding_premium":"0.1","created_at":1700000002000},
    {"market":"ETH-USD-PERP","funding_rate":"-0.00024","funding_index":"1.4",
     "funding_premium":"0.1","created_at":1700000001000}]})";
  auto rows = c.ParseFundingData(page, &cursor);
  REQUIRE(rows.ok());
  CHECK(cursor.next == "abc=");
  auto eth = px::BuildFundingHistory(*rows, "ETH-USD-PERP", 24, "ETH");
  REQUIRE(eth.ok());
  REQUIRE(eth->size() == 2);
  CHECK((*eth)[0].as_of == 1700000001000LL * 1000000);
  CHECK((*eth)[0].interval_hours == D("24"));  // from the market
  CHECK((*eth)[0].rate_8h == D("-0.00008"));
  CHECK((*eth)[1].rate_8h == D("0.0001"));
  CHECK((*eth)[1].apr == D("0.1095"));  // 0.0003 / 24 * 8760

  // Refused: a row of another market, no period anywhere, no created_at.
  CHECK_FALSE(px::BuildFundingHistory(*rows, "BTC-USD-PERP", 24, "BTC").ok());
  CHECK_FALSE(px::BuildFundingHistory(*rows, "ETH-USD-PERP", 0, "ETH").ok());
  std::vector<px::FundingData> undated = *rows;
  undated[0].exchange_time = 0;
  CHECK_FALSE(px::BuildFundingHistory(undated, "ETH-USD-PERP", 24, "ETH").ok());
  // A malformed row fails the page, not just the row.
  CHECK_FALSE(c.ParseFundingData(R"({"results":[{"market":"ETH-USD-PERP","funding_rate":"x",
      "created_at":1700000001000}]})")
                  .ok());
}

TEST_CASE("paradex codec: funding history query and paging") {
  perpgw::FundingHistoryQuery q{"BTC", 0, 0, 5};
  CHECK(px::EncodeFundingDataQuery("BTC-USD-PERP", q, "") == "market=BTC-USD-PERP&page_size=5");
  // ns -> ms inside [from, to]: from rounds up, to down; the cursor is percent-encoded.
  q.from = 1700000000000000001;
  q.to = 1700000001999999999;
  q.limit = 10000;
  CHECK(px::EncodeFundingDataQuery("BTC-USD-PERP", q, "eyJ+/=") ==
        "market=BTC-USD-PERP&page_size=5000&start_at=1700000000001&end_at=1700000001999"
        "&cursor=eyJ%2B%2F%3D");

  auto row = [](int64_t ms) {
    px::FundingData d;
    d.exchange_time = ms * 1000000;
    return d;
  };
  const std::vector<px::FundingData> newest_first{row(3), row(2)}, oldest_first{row(2), row(3)};
  const px::PageCursor more{"next", ""}, end{"", "prev"};
  CHECK(px::FundingHistoryComplete(newest_first, end, 2, 5));   // no further page
  CHECK(px::FundingHistoryComplete(newest_first, more, 2, 2));  // the newest 2 are here
  CHECK_FALSE(px::FundingHistoryComplete(newest_first, more, 2, 5));
  CHECK_FALSE(px::FundingHistoryComplete(oldest_first, more, 2, 2));  // newest rows come last
  CHECK(px::FundingHistoryComplete({}, more, 0, 5));                  // an empty page ends it
}

TEST_CASE("paradex codec: the modify encoder signs what the ModifyOrder vector signs") {
  px::Codec c;
  auto infos = c.ParseMarkets(ReadData("rest_markets.json"));
  REQUIRE(infos.ok());
  const perpgw::Instrument& eth = (*infos)[0];
  // vectors: modify_order on PRIVATE_SN_PARACLEAR_MAINNET.
  auto fields = px::EncodeModifyOrderFields(eth, "1681462103821101699438490000",
                                            perpgw::Side::kBuy, D("0.2"), D("1501"),
                                            1700000000456ULL);
  REQUIRE(fields.ok());
  CHECK(fields->id == "1681462103821101699438490000");
  CHECK(fields->order.order_type == "LIMIT");
  auto account = px::ParseFelt("0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a");
  REQUIRE(account.ok());
  auto hash = px::ModifyOrderMessageHash("PRIVATE_SN_PARACLEAR_MAINNET", *account, *fields);
  REQUIRE(hash.ok());
  CHECK(hash->ToHex() == "0x6b8ae909bd7a586640709ebb4f75ed2c71718fdc4baa7ada5d7d8982074d1ea");

  // The PUT body: the path's id, the order's own market/side/type, the new size and price.
  CHECK(px::EncodeModifyOrderBody(*fields, "[\"1\",\"2\"]", 5000) ==
        "{\"id\":\"1681462103821101699438490000\",\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\","
        "\"type\":\"LIMIT\",\"size\":\"0.2\",\"price\":\"1501\",\"recv_window\":5000,"
        "\"signature\":\"[\\\"1\\\",\\\"2\\\"]\",\"signature_timestamp\":1700000000456}");
  CHECK(px::EncodeModifyOrderBody(*fields, "[]", 0).find("recv_window") == std::string::npos);

  // Never rounded: off the tick or the increment, a non-numeric id, nothing to rest.
  CHECK_FALSE(px::EncodeModifyOrderFields(eth, "1", perpgw::Side::kBuy, D("0.2"), D("1501.001"),
                                          1)
                  .ok());
  CHECK_FALSE(
      px::EncodeModifyOrderFields(eth, "1", perpgw::Side::kBuy, D("0.0001"), D("1501"), 1).ok());
  CHECK_FALSE(
      px::EncodeModifyOrderFields(eth, "0xabc", perpgw::Side::kBuy, D("0.2"), D("1501"), 1).ok());
  CHECK_FALSE(px::EncodeModifyOrderFields(eth, "", perpgw::Side::kBuy, D("0.2"), D("1501"), 1).ok());
  CHECK_FALSE(px::EncodeModifyOrderFields(eth, "1", perpgw::Side::kSell, D("0"), D("1501"), 1).ok());
}

TEST_CASE("paradex codec: a modify answer is the order as amended plus request_info") {
  px::Codec c;
  px::SymbolTable symbols = Symbols(c);
  const std::string order =
      "{\"id\":\"1681462103821101699438490000\",\"client_id\":\"grid-1\",\"account\":\"0x1\","
      "\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.2\","
      "\"remaining_size\":\"0.15\",\"price\":\"1501\",\"avg_fill_price\":\"1500\","
      "\"status\":\"OPEN\",\"cancel_reason\":\"\",\"instruction\":\"GTC\",\"flags\":[],"
      "\"created_at\":1700000000000,\"last_updated_at\":1700000000500,\"timestamp\":1700000000456";
  auto a = c.ParseModifyResponse(
      order +
          ",\"request_info\":{\"id\":\"1681462103821101699438490000\",\"message\":\"\","
          "\"request_type\":\"MODIFY_ORDER\",\"status\":\"ACCEPTED\"}}",
      symbols);
  REQUIRE(a.ok());
  CHECK(a->order.order_id == "1681462103821101699438490000");
  CHECK(a->order.client_order_id == "grid-1");
  CHECK(a->order.price == D("1501"));
  CHECK(a->order.size == D("0.2"));
  CHECK(a->order.filled_size == D("0.05"));
  CHECK(a->order.status == OrderStatus::kPartiallyFilled);
  CHECK(a->request_status == "ACCEPTED");
  CHECK(a->request_type == "MODIFY_ORDER");
  CHECK(a->request_message.empty());

  // A refusal inside a 200, and an answer without request_info (the order alone).
  auto refused = c.ParseModifyResponse(
      order + ",\"request_info\":{\"status\":\"REJECTED\",\"message\":\"would cross\"}}", symbols);
  REQUIRE(refused.ok());
  CHECK(refused->request_status == "REJECTED");
  CHECK(refused->request_message == "would cross");
  auto bare = c.ParseModifyResponse(order + ",\"request_info\":null}", symbols);
  REQUIRE(bare.ok());
  CHECK(bare->request_status.empty());
  CHECK_FALSE(c.ParseModifyResponse("{\"request_info\":{}}", symbols).ok());  // no order
  CHECK_FALSE(c.ParseModifyResponse("not json", symbols).ok());
}

// POST /orders/batch (paradex.md §10; sim/paradex/rest.cpp PlaceBatch): a JSON array of the
// single order bodies; the 201 answer {"orders":[placed], "errors":[refused]} lists only real
// errors, in request order (the venue's docs example, the sim); the notes' sketch has `errors`
// positional with nulls. Each order's part reads as its single POST /orders answer.
TEST_CASE("paradex codec: batch order body and answer, one placed and one refused") {
  CHECK(px::EncodeBatchOrdersBody({R"({"a":1})", R"({"b":2})"}) == R"([{"a":1},{"b":2}])");
  CHECK(px::EncodeBatchOrdersBody({R"({"a":1})"}) == R"([{"a":1}])");

  px::Codec c;
  px::SymbolTable sym = Symbols(c);
  const std::string placed = ReadData("rest_order_response.json");  // client_id x1234
  const std::string refused =
      R"({"error":"POST_ONLY_WOULD_CROSS","message":"post-only order would cross the book"})";
  // The sim's shape: only the refusal; request order: the refused one first.
  const std::string answer = R"({"orders":[)" + placed + R"(],"errors":[)" + refused + "]}";
  auto entries = px::MatchBatchOrdersAnswer(answer, {"bt-cross", "x1234"});
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0].http_status == 400);
  CHECK((*entries)[1].http_status == 201);
  auto rej = c.ParseOrderResponse((*entries)[0].http_status, (*entries)[0].body, sym);
  CHECK(rej.outcome == perpgw::AckOutcome::kRejected);
  CHECK(rej.reason == CancelReason::kPostOnlyViolation);
  CHECK(rej.message.rfind("POST_ONLY_WOULD_CROSS", 0) == 0);
  auto ok = c.ParseOrderResponse((*entries)[1].http_status, (*entries)[1].body, sym);
  CHECK(ok.outcome == perpgw::AckOutcome::kAccepted);
  CHECK(ok.order.order_id == "123456");
  CHECK(ok.order.client_order_id == "x1234");

  // Request order the other way round: the refusal goes to the order not placed.
  entries = px::MatchBatchOrdersAnswer(answer, {"x1234", "bt-cross"});
  REQUIRE(entries.ok());
  CHECK((*entries)[0].http_status == 201);
  CHECK((*entries)[1].http_status == 400);

  // The notes' positional shape (null for the placed one).
  entries = px::MatchBatchOrdersAnswer(
      R"({"orders":[)" + placed + R"(],"errors":[null,)" + refused + "]}", {"x1234", "bt-cross"});
  REQUIRE(entries.ok());
  CHECK((*entries)[0].http_status == 201);
  CHECK((*entries)[1].http_status == 400);
  CHECK(c.ParseOrderResponse(400, (*entries)[1].body, sym).reason ==
        CancelReason::kPostOnlyViolation);

  // Fewer entries than orders: the one left has none (the adapter answers it unknown).
  entries = px::MatchBatchOrdersAnswer(R"({"orders":[)" + placed + R"(],"errors":[]})",
                                       {"x1234", "bt-other"});
  REQUIRE(entries.ok());
  CHECK((*entries)[1].http_status == 0);

  // Unreadable: an order nobody asked for, more refusals than orders, no arrays.
  CHECK_FALSE(px::MatchBatchOrdersAnswer(answer, {"a", "b"}).ok());
  CHECK_FALSE(px::MatchBatchOrdersAnswer(
                  R"({"orders":[],"errors":[)" + refused + "," + refused + "]}", {"a"})
                  .ok());
  CHECK_FALSE(px::MatchBatchOrdersAnswer(R"({"results":[]})", {"a"}).ok());
  CHECK_FALSE(px::MatchBatchOrdersAnswer("not json", {"a"}).ok());
}

// DELETE /orders/batch (sim/paradex/rest.cpp CancelMany): {"order_ids":[..],
// "client_order_ids":[..]}; 200 {"results":[...]}, order ids first, each with a status.
TEST_CASE("paradex codec: batch cancel body and per-id results") {
  CHECK(px::EncodeBatchCancelBody({"123", "456"}, {"c-1"}) ==
        R"({"order_ids":["123","456"],"client_order_ids":["c-1"]})");
  CHECK(px::EncodeBatchCancelBody({}, {"c-1", "c-2"}) ==
        R"({"order_ids":[],"client_order_ids":["c-1","c-2"]})");
  auto r = px::ParseBatchCancelAnswer(
      R"({"results":[{"id":"123","client_id":"c-0","account":"0x1","market":"BTC-USD-PERP",)"
      R"("status":"QUEUED_FOR_CANCELLATION"},{"client_id":"nope","status":"NOT_FOUND"}]})");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].id == "123");
  CHECK((*r)[0].client_id == "c-0");
  CHECK((*r)[0].status == "QUEUED_FOR_CANCELLATION");
  CHECK((*r)[1].id.empty());
  CHECK((*r)[1].client_id == "nope");
  CHECK((*r)[1].status == "NOT_FOUND");
  CHECK_FALSE(px::ParseBatchCancelAnswer(R"({"results":[{"id":"1"}]})").ok());  // no status
  CHECK_FALSE(px::ParseBatchCancelAnswer("{}").ok());
}
