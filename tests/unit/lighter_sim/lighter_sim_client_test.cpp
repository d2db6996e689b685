// Loopback tests of perpgw-sim's Lighter module as standard venue clients see it (the official
// SDKs' typed models, ccxt): integer order_index in orderBookOrders, WS account_all /
// account_all_assets / user_stats (auth optional), jsonapi/sendtx replies (top-level tx_hash /
// tx_hashes, the request id echoed with its JSON type), recentTrades limit, GET fundings and
// exchangeStats, L1-address lookups, the trade / ticker snapshot keys, and the batch limits
// (REST 50, WS 15). Payloads are read with simdjson, as a client would.
#include <simdjson.h>
#include <catch2/catch.hpp>
#include <cctype>

#include "adapters/lighter/codec.h"
#include "tests/unit/lighter_sim/lighter_sim_fixture.h"

namespace perpgw::sim::lighter {
namespace {

namespace lt = perpgw::adapters::lighter;
using namespace perpgw::testing::loopback;
using namespace perpgw::sim::lighter::testing;

constexpr int64_t kAcct1 = 12345;

int64_t NextNonce(Sim& sim, const Trader& t) {
  auto r = sim.Get("/api/v1/nextNonce?account_index=" + std::to_string(t.account) +
                   "&api_key_index=" + std::to_string(t.api_key));
  REQUIRE(r.status == 200);
  auto n = sim.codec.ParseNextNonce(r.body);
  REQUIRE(n.ok());
  return *n;
}

std::pair<uint32_t, uint32_t> Bbo(Sim& sim) {
  auto r = sim.Get("/api/v1/orderBookOrders?market_id=0&limit=1");
  auto b = sim.codec.ParseOrderBookOrders(r.body, sim.markets[0].instrument, 0);
  REQUIRE(b.ok());
  REQUIRE(!b->bids.empty());
  REQUIRE(!b->asks.empty());
  return {static_cast<uint32_t>(b->bids[0].price), static_cast<uint32_t>(b->asks[0].price)};
}

void Accept(Sim& sim, const lt::SignedTx& s) {
  auto r = sim.Post("/api/v1/sendTx", lt::EncodeSendTxForm(s.tx_type, s.tx_info));
  INFO(r.body);
  REQUIRE(r.status == 200);
}

HttpResult SendBatch(Sim& sim, const std::vector<lt::SignedTx>& txs) {
  std::vector<lt::TxType> types;
  std::vector<std::string> infos;
  for (const auto& s : txs) {
    types.push_back(s.tx_type);
    infos.push_back(s.tx_info);
  }
  return sim.Post("/api/v1/sendTxBatch", lt::EncodeSendTxBatchForm(types, infos));
}

// The next text frame containing `needle`, parsed (the parser owns the document).
simdjson::dom::element NextJson(WsClient& ws, simdjson::dom::parser& p, const std::string& needle) {
  auto f = ws.ReadText(needle);
  INFO(needle);
  REQUIRE(f);
  simdjson::dom::element doc;
  REQUIRE(p.parse(*f).get(doc) == simdjson::SUCCESS);
  return doc;
}

simdjson::dom::element_type TypeOf(simdjson::dom::element e) {
  return e.type();
}

bool Has(simdjson::dom::element e, const char* key) {
  simdjson::dom::element v;
  return e[key].get(v) == simdjson::SUCCESS;
}

}  // namespace

TEST_CASE("lighter sim client: orderBookOrders ids are integers", "[lighter_sim]") {
  Sim sim;
  auto r = sim.Get("/api/v1/orderBookOrders?market_id=0&limit=3");
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r.body);
  for (const char* side : {"asks", "bids"}) {
    for (simdjson::dom::element o : doc[side].get_array()) {
      CHECK(TypeOf(o["order_index"]) == simdjson::dom::element_type::INT64);
      CHECK(int64_t(o["order_index"]) >= kOrderIndexBase);
      CHECK(std::string(std::string_view(o["order_id"])) ==
            std::to_string(int64_t(o["order_index"])));
      CHECK(TypeOf(o["owner_account_index"]) == simdjson::dom::element_type::INT64);
      CHECK(TypeOf(o["order_expiry"]) == simdjson::dom::element_type::INT64);
    }
  }
}

TEST_CASE("lighter sim client: recentTrades limit, exchangeStats, fundings", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  (void)bid;
  // Three IOC buys: three public trades on ETH.
  for (int k = 0; k < 3; ++k) {
    Accept(sim, t.Sign(t.Order(k, 0, 100 + k, 100, ask + 300, false,
                               lt::TimeInForce::kImmediateOrCancel)));
  }
  simdjson::dom::parser p;
  REQUIRE(WaitUntil([&] {
    auto r = sim.Get("/api/v1/recentTrades?market_id=0&limit=100");
    return r.status == 200 && p.parse(r.body)["trades"].get_array().size() >= 3;
  }));
  auto two = sim.Get("/api/v1/recentTrades?market_id=0&limit=2");
  REQUIRE(two.status == 200);
  simdjson::dom::element doc = p.parse(two.body);
  CHECK(doc["trades"].get_array().size() == 2);
  for (const char* bad : {"0", "101", "x", "-1"}) {
    auto r = sim.Get(std::string("/api/v1/recentTrades?market_id=0&limit=") + bad);
    CHECK(r.status == 400);
    CHECK(sim.ErrorCode(r.body) == kErrInvalidParam);
  }

  // The host root: the venue's status (ccxt fetchTime), timestamp in seconds.
  auto status = sim.Get("/");
  REQUIRE(status.status == 200);
  doc = p.parse(status.body);
  CHECK(int64_t(doc["status"]) == 1);
  CHECK(int64_t(doc["timestamp"]) == sim.NowMs() / 1000);

  auto stats = sim.Get("/api/v1/exchangeStats");
  REQUIRE(stats.status == 200);
  doc = p.parse(stats.body);
  CHECK(int64_t(doc["code"]) == 200);
  CHECK(int64_t(doc["total"]) == 3);
  CHECK(doc["order_book_stats"].get_array().size() == 3);
  simdjson::dom::element eth = doc["order_book_stats"].at(0);
  CHECK(std::string(std::string_view(eth["symbol"])) == "ETH");
  CHECK(int64_t(eth["daily_trades_count"]) >= 3);
  CHECK(double(eth["daily_quote_token_volume"]) > 0);
  CHECK(double(doc["daily_usd_volume"]) > 0);
  CHECK(int64_t(doc["daily_trades_count"]) >= 3);

  // Funding: an hourly settlement at +0.01 %, an hour later one at -0.02 %.
  auto tick = [&](const char* rate) {
    REQUIRE(sim.Control(http::verb::post, "/fault",
                        std::string(R"({"venue":"lighter","kind":"funding_tick","symbol":"ETH",)") +
                            R"("rate":")" + rate + "\"}")
                .status == 200);
  };
  const int64_t start_s = sim.NowMs() / 1000;
  tick("0.0001");
  sim.clock.Advance(int64_t{3600} * 1'000'000'000);
  tick("-0.0002");
  auto f = sim.Get("/api/v1/fundings?market_id=0&resolution=1h&start_timestamp=" +
                   std::to_string(start_s - 10) + "&end_timestamp=" +
                   std::to_string(start_s + 7200) + "&count_back=10");
  INFO(f.body);
  REQUIRE(f.status == 200);
  doc = p.parse(f.body);
  CHECK(std::string(std::string_view(doc["resolution"])) == "1h");
  auto rows = doc["fundings"].get_array();
  REQUIRE(rows.size() == 2);
  CHECK(int64_t(rows.at(0)["timestamp"]) == start_s / 3600 * 3600);
  CHECK(std::string(std::string_view(rows.at(0)["rate"])) == "0.01");  // percent
  CHECK(std::string(std::string_view(rows.at(0)["direction"])) == "long");
  CHECK(std::string(std::string_view(rows.at(1)["rate"])) == "0.02");
  CHECK(std::string(std::string_view(rows.at(1)["direction"])) == "short");
  // value: the payment per unit of base = mark x |rate| (about 0.34 USDC at ETH ~3421).
  const double value = std::stod(std::string(std::string_view(rows.at(0)["value"])));
  CHECK(value > 0.2);
  CHECK(value < 0.5);
  auto last = sim.Get("/api/v1/fundings?market_id=0&resolution=1h&count_back=1");
  REQUIRE(last.status == 200);
  doc = p.parse(last.body);
  REQUIRE(doc["fundings"].get_array().size() == 1);
  CHECK(std::string(std::string_view(doc["fundings"].at(0)["direction"])) == "short");
  auto daily = sim.Get("/api/v1/fundings?market_id=0&resolution=1d");
  REQUIRE(daily.status == 200);
  CHECK(p.parse(daily.body)["fundings"].get_array().size() >= 1);
  for (const std::string& bad :
       {std::string("resolution=1h"), std::string("market_id=0"),
        std::string("market_id=0&resolution=5m"), std::string("market_id=0&resolution=1h&count_back=0"),
        std::string("market_id=9&resolution=1h"),
        std::string("market_id=0&resolution=1h&start_timestamp=10&end_timestamp=5")}) {
    auto r = sim.Get("/api/v1/fundings?" + bad);
    INFO(bad);
    CHECK(r.status == 400);
    CHECK(sim.ErrorCode(r.body) == kErrInvalidParam);
  }
}

TEST_CASE("lighter sim client: candles", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  (void)bid;
  Accept(sim, t.Sign(t.Order(0, 0, 100, 100, ask + 300, false, lt::TimeInForce::kImmediateOrCancel)));
  simdjson::dom::parser p;
  REQUIRE(WaitUntil([&] {
    auto r = sim.Get("/api/v1/candles?market_id=0&resolution=1m&count_back=0");
    return r.status == 200 && p.parse(r.body)["c"].get_array().size() >= 1;
  }));
  auto r = sim.Get("/api/v1/candles?market_id=0&resolution=1h&count_back=10&start_timestamp=0");
  REQUIRE(r.status == 200);
  simdjson::dom::element doc = p.parse(r.body);
  CHECK(std::string_view(doc["r"]) == "1h");
  simdjson::dom::array c = doc["c"].get_array();
  REQUIRE(c.size() >= 1);
  simdjson::dom::element last = c.at(c.size() - 1);
  CHECK(int64_t(last["t"]) % 3'600'000 == 0);
  CHECK(double(last["h"]) >= double(last["l"]));  // JSON numbers, as the venue sends
  CHECK(double(last["v"]) > 0);                    // the print above
  CHECK(double(last["V"]) > 0);
  CHECK(sim.Get("/api/v1/candles?market_id=0&resolution=7m").status == 400);
  CHECK(sim.Get("/api/v1/candles?market_id=99&resolution=1m").status == 400);
  CHECK(sim.Get("/api/v1/candles?market_id=0&resolution=1m&start_timestamp=10&end_timestamp=5")
            .status == 400);
}

TEST_CASE("lighter sim client: accounts by L1 address", "[lighter_sim]") {
  Sim sim;
  const std::string l1 = L1AddressOf(kAcct1);
  REQUIRE(l1.size() == 42);
  CHECK(l1.rfind("0x", 0) == 0);
  CHECK(l1 != L1AddressOf(12346));
  // Published in the endpoints file (extra.l1_addresses).
  auto ep = sim.Control(http::verb::get, "/endpoints");
  CHECK(ep.body.find(l1) != std::string::npos);

  simdjson::dom::parser p;
  auto by_index = sim.Get("/api/v1/account?by=index&value=12345");
  REQUIRE(by_index.status == 200);
  CHECK(std::string(std::string_view(p.parse(by_index.body)["accounts"].at(0)["l1_address"])) ==
        l1);
  std::string upper = l1;
  for (size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  auto by_l1 = sim.Get("/api/v1/account?by=l1_address&value=" + upper);
  INFO(by_l1.body);
  REQUIRE(by_l1.status == 200);
  simdjson::dom::element doc = p.parse(by_l1.body);
  CHECK(int64_t(doc["total"]) == 1);
  CHECK(int64_t(doc["accounts"].at(0)["account_index"]) == kAcct1);
  auto none = sim.Get("/api/v1/account?by=l1_address&value=0x" + std::string(40, '1'));
  CHECK(none.status == 400);
  CHECK(sim.ErrorCode(none.body) == kErrAccountNotFound);

  auto subs = sim.Get("/api/v1/accountsByL1Address?l1_address=" + l1);
  INFO(subs.body);
  REQUIRE(subs.status == 200);
  doc = p.parse(subs.body);
  CHECK(int64_t(doc["code"]) == 200);
  CHECK(std::string(std::string_view(doc["l1_address"])) == l1);
  REQUIRE(doc["sub_accounts"].get_array().size() == 1);
  simdjson::dom::element a = doc["sub_accounts"].at(0);
  CHECK(int64_t(a["index"]) == kAcct1);
  CHECK(std::string(std::string_view(a["collateral"])) == "100000");
  CHECK(sim.ErrorCode(sim.Get("/api/v1/accountsByL1Address?l1_address=0x" + std::string(40, '2'))
                          .body) == kErrAccountNotFound);
  CHECK(sim.Get("/api/v1/accountsByL1Address").status == 400);
}

TEST_CASE("lighter sim client: trade and ticker snapshot keys", "[lighter_sim]") {
  Sim sim;
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  simdjson::dom::parser p;
  ws.Send(lt::EncodeSubscribe(lt::TradeChannel(0)));
  simdjson::dom::element tr = NextJson(ws, p, "subscribed/trade");
  CHECK(Has(tr, "nonce"));
  CHECK(tr["liquidation_trades"].is_array());
  CHECK(tr["trades"].is_array());
  CHECK(std::string(std::string_view(tr["channel"])) == "trade:0");
  ws.Send(lt::EncodeSubscribe(lt::TickerChannel(0)));
  simdjson::dom::element tk = NextJson(ws, p, "subscribed/ticker");
  CHECK(TypeOf(tk["nonce"]) == simdjson::dom::element_type::INT64);
  CHECK(!Has(tk, "offset"));
  CHECK(std::string(std::string_view(tk["ticker"]["s"])) == "ETH");
  CHECK(Has(tk, "timestamp"));
}

TEST_CASE("lighter sim client: orderBookDetails created_at, market_stats [3p] fields",
          "[lighter_sim]") {
  Sim sim;
  simdjson::dom::parser p;
  // orderBookDetails: every field of the sample (order_book_details.json) — created_at an ISO
  // 8601 UTC string, as there.
  auto r = sim.Get("/api/v1/orderBookDetails?market_id=0");
  REQUIRE(r.status == 200);
  simdjson::dom::element doc;
  REQUIRE(p.parse(r.body).get(doc) == simdjson::SUCCESS);
  simdjson::dom::element d = doc["order_book_details"].at(0);
  REQUIRE(Has(d, "created_at"));
  const std::string created{std::string_view(d["created_at"])};
  REQUIRE(created.size() == 20);
  CHECK(created[4] == '-');
  CHECK(created[10] == 'T');
  CHECK(created.back() == 'Z');
  const std::string clamp_big{std::string_view(d["funding_clamp_big"])};  // before p is reused
  // market_stats: the fields lighter.md §3 names from fixtures and third-party sources (the
  // daily price fields, funding clamps, open_interest_limit), strings on this channel, on the
  // single-market and the all-markets subscriptions alike.
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(R"({"type":"subscribe","channel":"market_stats/0"})");
  simdjson::dom::element one = NextJson(ws, p, "subscribed/market_stats");
  const char* fields[] = {"symbol", "market_id", "index_price", "mark_price", "open_interest",
                          "open_interest_limit", "funding_clamp_small", "funding_clamp_big",
                          "last_trade_price", "current_funding_rate", "funding_rate",
                          "funding_timestamp", "daily_base_token_volume",
                          "daily_quote_token_volume", "daily_price_low", "daily_price_high",
                          "daily_price_change"};
  for (const char* f : fields) {
    INFO(f);
    CHECK(Has(one["market_stats"], f));
  }
  CHECK(TypeOf(one["market_stats"]["daily_price_low"]) == simdjson::dom::element_type::STRING);
  CHECK(std::string(std::string_view(one["market_stats"]["funding_clamp_big"])) == clamp_big);
  ws.Send(R"({"type":"subscribe","channel":"market_stats/all"})");
  simdjson::dom::element all = NextJson(ws, p, "market_stats:all");
  CHECK(Has(all["market_stats"]["1"], "daily_price_high"));
  CHECK(Has(all["market_stats"]["1"], "open_interest_limit"));
}

TEST_CASE("lighter sim client: volume and open interest carry the market baseline, REST and WS "
          "agree",
          "[lighter_sim]") {
  Sim sim;
  simdjson::dom::parser p;
  // No sim account holds a position: open interest (one side) is the baseline alone, still > 0
  // (the gateway's min_open_interest_usd filter); the daily volumes are at least the baseline's.
  const std::vector<InstrumentSpec> specs = LighterModule().DefaultInstruments();
  auto eth = ResolveInstrument(specs[0], 0);
  REQUIRE(eth.ok());
  REQUIRE(eth->symbol() == "ETH");
  const MarketBaseline base = BaselineFor(*eth);
  CHECK(base.daily_volume == int64_t{830'000'000} * 100'000'000);  // the spec sample's scale
  const double daily = double(base.daily_volume) / 1e8, oi_usd = double(base.oi_usd) / 1e8;

  auto r = sim.Get("/api/v1/orderBookDetails?market_id=0");
  REQUIRE(r.status == 200);
  simdjson::dom::element d = p.parse(r.body)["order_book_details"].at(0);
  const double oi = double(d["open_interest"]), mark = std::stod(std::string(
                                                    std::string_view(d["mark_price"])));
  const double quote = double(d["daily_quote_token_volume"]);
  const double base_qty = double(d["daily_base_token_volume"]);
  CHECK(oi > 0);
  CHECK(oi * mark > 1e6);
  CHECK(oi * mark <= oi_usd * (1 + 1e-9));
  CHECK(oi * mark > oi_usd - mark * 0.0001 - 1);  // whole steps (0.0001 ETH) at the mark
  CHECK(quote >= daily);
  CHECK(base_qty * mark == Approx(daily).epsilon(1e-6));

  // exchangeStats: the same per-market volumes, and the total includes them.
  auto st = sim.Get("/api/v1/exchangeStats");
  REQUIRE(st.status == 200);
  simdjson::dom::element stats = p.parse(st.body);
  simdjson::dom::element row = stats["order_book_stats"].at(0);
  CHECK(double(row["daily_quote_token_volume"]) == quote);
  CHECK(double(row["daily_base_token_volume"]) == base_qty);
  CHECK(double(stats["daily_usd_volume"]) >= quote);

  // WS market_stats (strings there): the same figures (rate 0, manual clock: nothing moves).
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(R"({"type":"subscribe","channel":"market_stats/0"})");
  simdjson::dom::element ms = NextJson(ws, p, "subscribed/market_stats")["market_stats"];
  auto num = [&](const char* k) { return std::stod(std::string(std::string_view(ms[k]))); };
  CHECK(num("open_interest") == oi);
  CHECK(num("daily_quote_token_volume") == quote);
  CHECK(num("daily_base_token_volume") == base_qty);
}

TEST_CASE("lighter sim client: batch limits (REST 50, WS 15)", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  std::vector<lt::SignedTx> fifty;
  for (int k = 0; k < 50; ++k) fifty.push_back(t.Sign(t.Cancel(k, 0, 7)));
  auto ok = SendBatch(sim, fifty);
  INFO(ok.body);
  REQUIRE(ok.status == 200);
  simdjson::dom::parser p;
  CHECK(p.parse(ok.body)["tx_hash"].get_array().size() == 50);
  CHECK(NextNonce(sim, t) == 50);

  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  auto ws_batch = [&](int n, int64_t nonce0) {
    std::vector<std::string> infos;
    std::string types = "[";
    for (int k = 0; k < n; ++k) {
      infos.push_back(t.Sign(t.Cancel(nonce0 + k, 0, 7)).tx_info);
      types += (k ? ",15" : "15");
    }
    JsonWriter w;
    w.BeginArray();
    for (const auto& i : infos) w.String(i);
    w.EndArray();
    JsonWriter q;
    q.String(w.Take());
    ws.Send(R"({"type":"jsonapi/sendtxbatch","id":3,"data":{"tx_types":")" + types +
            R"(]","tx_infos":)" + q.Take() + "}}");
  };
  ws_batch(16, 50);
  simdjson::dom::element big = NextJson(ws, p, "jsonapi/sendtxbatch");
  CHECK(int64_t(big["code"]) == kErrBatchTooLarge);
  CHECK(int64_t(big["id"]) == 3);
  CHECK(!Has(big, "tx_hashes"));
  ws_batch(15, 50);
  simdjson::dom::element good = NextJson(ws, p, "jsonapi/sendtxbatch");
  CHECK(int64_t(good["code"]) == 200);
  REQUIRE(good["tx_hashes"].get_array().size() == 15);
  CHECK(good["tx_hash"].get_array().size() == 15);
  CHECK(NextNonce(sim, t) == 65);
}

TEST_CASE("lighter sim client: jsonapi/sendtx reply keys and id type", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  simdjson::dom::parser p;
  auto c0 = t.Sign(t.Cancel(0, 0, 7));
  ws.Send(R"({"type":"jsonapi/sendtx","id":5,"data":{"tx_type":15,"tx_info":)" + c0.tx_info +
          "}}");
  simdjson::dom::element r = NextJson(ws, p, "jsonapi/sendtx");
  CHECK(TypeOf(r["id"]) == simdjson::dom::element_type::INT64);
  CHECK(int64_t(r["id"]) == 5);
  CHECK(int64_t(r["code"]) == 200);
  CHECK(std::string(std::string_view(r["tx_hash"])) == c0.hash_hex);
  CHECK(std::string(std::string_view(r["data"]["tx_hash"])) == c0.hash_hex);

  auto c1 = t.Sign(t.Cancel(1, 0, 7));
  ws.Send(R"({"type":"jsonapi/sendtx","id":"abc","data":{"tx_type":15,"tx_info":)" +
          c1.tx_info + "}}");
  r = NextJson(ws, p, "jsonapi/sendtx");
  CHECK(std::string(std::string_view(r["id"])) == "abc");
  CHECK(std::string(std::string_view(r["tx_hash"])) == c1.hash_hex);

  // An error keeps the id and carries no hash.
  ws.Send(R"({"type":"jsonapi/sendtx","id":9,"data":{"tx_type":15,"tx_info":)" + c1.tx_info +
          "}}");
  r = NextJson(ws, p, "jsonapi/sendtx");
  CHECK(int64_t(r["id"]) == 9);
  CHECK(int64_t(r["code"]) == kErrInvalidNonce);
  CHECK(!Has(r, "tx_hash"));
  // No id sent, none echoed.
  auto c2 = t.Sign(t.Cancel(2, 0, 7));
  ws.Send(R"({"type":"jsonapi/sendtx","data":{"tx_type":15,"tx_info":)" + c2.tx_info + "}}");
  r = NextJson(ws, p, "jsonapi/sendtx");
  CHECK(!Has(r, "id"));
}

TEST_CASE("lighter sim client: account_all, account_all_assets, user_stats", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  Trader other = Trader::Make(sim, kApiKey2, 12346, 3);
  auto [bid, ask] = Bbo(sim);
  (void)bid;
  simdjson::dom::parser p;

  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  // Without a token (the official SDK's account_all, ccxt's user_stats).
  ws.Send(lt::EncodeSubscribe("account_all/12345"));
  simdjson::dom::element all = NextJson(ws, p, "subscribed/account_all");
  CHECK(std::string(std::string_view(all["channel"])) == "account_all:12345");
  CHECK(int64_t(all["account"]) == kAcct1);
  for (const char* key : {"orders", "positions", "trades", "funding_histories", "funding_rates",
                          "assets"}) {
    INFO(key);
    CHECK(all[key].is_object());
  }
  CHECK(all["shares"].is_array());
  CHECK(int64_t(all["total_trades_count"]) == 0);
  CHECK(std::string(std::string_view(all["assets"]["3"]["balance"])) == "100000");
  ws.Send(lt::EncodeSubscribe("user_stats/12345"));
  simdjson::dom::element us = NextJson(ws, p, "subscribed/user_stats");
  CHECK(std::string(std::string_view(us["stats"]["collateral"])) == "100000");
  ws.Send(lt::EncodeSubscribe("account_all_assets/12345"));
  simdjson::dom::element assets = NextJson(ws, p, "subscribed/account_all_assets");
  CHECK(std::string(std::string_view(assets["channel"])) == "account_all_assets:12345");
  simdjson::dom::element usdc = assets["assets"]["3"];
  CHECK(std::string(std::string_view(usdc["symbol"])) == "USDC");
  CHECK(int64_t(usdc["asset_id"]) == 3);
  CHECK(std::string(std::string_view(usdc["balance"])) == "100000");
  CHECK(std::string(std::string_view(usdc["locked_balance"])) == "0");
  // With a token too (ccxt's account_all_assets); a token that is sent must be good.
  WsClient ws2(sim.port, "/stream");
  REQUIRE(ws2.ok());
  REQUIRE(ws2.ReadText("\"connected\""));
  ws2.Send(lt::EncodeSubscribe("account_all_assets/12345", t.Token()));
  CHECK(ws2.ReadText("subscribed/account_all_assets"));
  ws2.Send(lt::EncodeSubscribe("user_stats/12345", other.Token()));
  CHECK(ws2.ReadText("invalid auth token"));
  ws2.Send(lt::EncodeSubscribe("account_all/12345", "garbage"));
  CHECK(ws2.ReadText("invalid auth token"));
  // The other account channels still need one.
  ws2.Send(lt::EncodeSubscribe(lt::AccountAllTradesChannel(kAcct1)));
  CHECK(ws2.ReadText("auth token required"));

  // A crossing IOC: account_all updates (order + trade, then positions), assets update.
  Accept(sim, t.Sign(t.Order(0, 0, 77, 100, ask + 300, false,
                             lt::TimeInForce::kImmediateOrCancel)));
  // The update with the fill: the order and its trade (updates before it may carry the order
  // alone).
  bool saw_fill = WaitUntil([&] {
    auto f = ws.ReadText("\"update/account_all\"", 500ms);
    if (!f) return false;
    simdjson::dom::element up = p.parse(*f);
    simdjson::dom::element trades;
    if (up["trades"]["0"].get(trades) != simdjson::SUCCESS) return false;
    CHECK(trades.get_array().size() == 1);
    CHECK(int64_t(up["orders"]["0"].at(0)["client_order_index"]) == 77);
    CHECK(int64_t(up["total_trades_count"]) == 1);
    CHECK(double(up["total_volume"]) > 30);
    return true;
  });
  CHECK(saw_fill);
  simdjson::dom::element au = NextJson(ws2, p, "update/account_all_assets");
  CHECK(std::string(std::string_view(au["assets"]["3"]["locked_balance"])) != "0");
  bool saw_position = WaitUntil([&] {
    auto f = ws.ReadText("\"update/account_all\"", 500ms);
    if (!f) return false;
    simdjson::dom::element d = p.parse(*f);
    return d["positions"]["0"].is_object() &&
           std::string(std::string_view(d["positions"]["0"]["position"])) == "0.01";
  });
  CHECK(saw_position);

  // Funding on the open position: a funding_histories update.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"lighter","kind":"funding_tick","symbol":"ETH","rate":"0.0001"})")
              .status == 200);
  bool saw_funding = WaitUntil([&] {
    auto f = ws.ReadText("funding_id", 500ms);
    if (!f) return false;
    simdjson::dom::element d = p.parse(*f);
    simdjson::dom::element h = d["funding_histories"]["0"].at(0);
    return std::string(std::string_view(h["position_side"])) == "long" &&
           std::string(std::string_view(h["rate"])) == "0.0001" &&
           std::string(std::string_view(h["change"])).rfind("-", 0) == 0;
  });
  CHECK(saw_funding);
}

}  // namespace perpgw::sim::lighter
