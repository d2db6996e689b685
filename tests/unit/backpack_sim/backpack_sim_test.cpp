// Loopback tests of perpgw-sim's Backpack module: every payload is read back with the Backpack
// adapter's own codec and encoders (the fidelity check), a book is bridged from REST depth + WS
// deltas with BookSync(kContiguous) and compared with the control API's ground truth, signed
// order round trips produce account.orderUpdate/positionUpdate events, auth failures are
// rejected and skip_seq shows up as a U gap. Real sockets on 127.0.0.1:0.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <set>
#include <thread>

#include "adapters/api/order_book.h"
#include "adapters/backpack/codec.h"
#include "adapters/backpack/errors.h"
#include "adapters/backpack/signing.h"
#include "adapters/backpack/symbols.h"
#include "sim/backpack/internal.h"
#include "sim/backpack/module.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"

namespace perpgw::sim::backpack {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace bp = perpgw::adapters::backpack;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

HttpResult Call(int port, http::verb verb, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json; charset=utf-8");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[http::field::content_type])};
}

// Blocking WS client with per-read deadlines (one async read stays pending across calls).
class WsClient {
 public:
  explicit WsClient(int port) : ws_(io_) {
    ws_.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws_.handshake("127.0.0.1", "/");
  }
  std::optional<std::string> Read(std::chrono::milliseconds timeout = 3000ms) {
    if (closed_) return std::nullopt;
    if (!pending_) {
      pending_ = true;
      done_ = false;
      ws_.async_read(buf_, [this](beast::error_code ec, size_t) {
        done_ = true;
        ec_ = ec;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_until(deadline);
    }
    if (!done_) return std::nullopt;
    pending_ = false;
    if (ec_) {
      closed_ = true;
      return std::nullopt;
    }
    std::string s = beast::buffers_to_string(buf_.data());
    buf_.consume(buf_.size());
    return s;
  }
  // First frame containing `needle` (others skipped), within `limit`.
  std::optional<std::string> ReadUntil(const std::string& needle, std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto f = Read(std::max(left, 1ms));
      if (f && f->find(needle) != std::string::npos) return f;
    }
    return std::nullopt;
  }
  void Send(const std::string& s) { ws_.write(asio::buffer(s)); }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  bool pending_ = false, done_ = false, closed_ = false;
  beast::error_code ec_;
};

template <class Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::string Field(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(json)[key].get(e)) return {};
  if (e.is_string()) return std::string(std::string_view(e.get_string().value()));
  return simdjson::to_string(e);
}

// The sim with only the Backpack module, generator off until a test turns it on.
struct Sim {
  ManualClock clock{SystemClock::Instance().Now()};
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0, control = 0;
  bp::Codec codec;
  std::vector<bp::MarketInfo> markets;
  std::vector<Instrument> instruments;
  bp::SymbolTable symbols;
  bp::Signer signer = *bp::Signer::FromSecretBase64(kSeed1);

  Sim() {
    SimConfig c;
    c.seed = 7;
    c.rate = 0;
    c.depth = 20;
    c.funding_timer = false;
    server = std::make_unique<Server>(c, &clock);
    REQUIRE(server->AddVenue(MakeModule(), VenueConfig{}).ok());
    REQUIRE(server->Start().ok());
    thread = std::thread([this] { server->Run(); });
    server->Sync([&] {
      port = server->venue("backpack")->port();
      control = server->control_port();
    });
    auto m = codec.ParseMarketInfos(Get("/api/v1/markets?marketType=PERP").body);
    REQUIRE(m.ok());
    markets = *m;
    for (const auto& mi : markets) instruments.push_back(mi.instrument);
    symbols = bp::SymbolTable(instruments);
  }
  ~Sim() {
    server->Stop();
    thread.join();
  }
  Venue& venue() { return *server->venue("backpack"); }
  const Instrument& Inst(const std::string& venue_symbol) {
    const Instrument* in = symbols.ByVenueSymbol(venue_symbol);
    REQUIRE(in != nullptr);
    return *in;
  }
  HttpResult Get(const std::string& target) { return Call(port, http::verb::get, target); }
  HttpResult Control(http::verb verb, const std::string& target, const std::string& body = "") {
    return Call(control, verb, target, body);
  }
  int64_t NowMs() const { return clock.Now() / 1000000; }

  // A signed call the way the gateway adapter makes it: JSON body for writes, sorted query for
  // GET; headers from the adapter's Signer.
  HttpResult Signed(http::verb verb, const std::string& path, const std::string& instruction,
                    const bp::EncodedRequest& enc, int64_t ts_offset_ms = 0,
                    int64_t window_ms = 5000, const bp::Signer* by = nullptr,
                    const std::string& key_override = "") {
    const bp::Signer& s = by ? *by : signer;
    // Sign() refuses windows above the venue maximum; build those by hand.
    std::string ts = std::to_string(NowMs() + ts_offset_ms);
    std::string sig = s.SignStringBase64(
        bp::BuildSigningString(instruction, enc.params, NowMs() + ts_offset_ms, window_ms));
    std::vector<std::pair<std::string, std::string>> h = {
        {"X-API-Key", key_override.empty() ? s.api_key() : key_override},
        {"X-Signature", sig},
        {"X-Timestamp", ts},
        {"X-Window", std::to_string(window_ms)},
        {"X-Broker-Id", "1400"},  // ccxt sends it; must be ignored
    };
    if (verb == http::verb::get) {
      std::string q = bp::EncodeQueryString(enc.params);
      return Call(port, verb, q.empty() ? path : path + "?" + q, "", h);
    }
    return Call(port, verb, path, enc.body, h);
  }
  HttpResult Query(const std::string& path, const std::string& instruction,
                   std::vector<bp::SignParam> params = {}) {
    bp::EncodedRequest enc;
    enc.params = std::move(params);
    return Signed(http::verb::get, path, instruction, enc);
  }
  HttpResult Place(const OrderRequest& req, uint32_t client_id) {
    auto enc = bp::EncodeOrderExecute(req, Inst(symbols.VenueSymbolFor(req.symbol)), client_id);
    REQUIRE(enc.ok());
    return Signed(http::verb::post, "/api/v1/order", "orderExecute", *enc);
  }
  void WaitConnections(size_t n) {
    REQUIRE(WaitUntil([&] {
      size_t c = 0;
      server->Sync([&] { c = venue().connections().size(); });
      return c >= n;
    }));
  }
  std::string PrivateSubscribeFrame(const bp::Signer& s, int64_t ts_offset_ms = 0) {
    auto sig = s.SignWsSubscribe(NowMs() + ts_offset_ms);
    REQUIRE(sig.ok());
    return bp::EncodePrivateSubscribe(
        {std::string(bp::kOrderUpdateStream), std::string(bp::kPositionUpdateStream)}, *sig);
  }
};

OrderRequest Limit(const std::string& ticker, Side side, const char* price, const char* size,
                   TimeInForce tif = TimeInForce::kGtc) {
  OrderRequest r;
  r.account = kAccount1;
  r.symbol = ticker;
  r.client_order_id = "x";
  r.side = side;
  r.type = OrderType::kLimit;
  r.tif = tif;
  r.price = *Decimal::Parse(price);
  r.size = *Decimal::Parse(size);
  return r;
}

// Best ask / bid of a symbol from the sim's ground truth (price scale of the instrument).
int64_t BestPrice(Sim& sim, const std::string& symbol, bool ask) {
  int64_t px = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    const OrderBook& b = m.book(m.Find(symbol)->index);
    px = ask ? b.BestAsk()->price : b.BestBid()->price;
  });
  return px;
}

}  // namespace

TEST_CASE("backpack sim: public REST parses with the adapter codec", "[backpack_sim]") {
  Sim sim;
  REQUIRE(sim.markets.size() == 4);
  const bp::MarketInfo* btc = nullptr;
  const bp::MarketInfo* pepe = nullptr;
  for (const auto& m : sim.markets) {
    CHECK(m.funding_interval_ms == 3600000);
    CHECK(m.market_type == "PERP");
    CHECK(m.instrument.tradeable);
    if (m.instrument.venue_symbol == "BTC_USDC_PERP") btc = &m;
    if (m.instrument.venue_symbol == "kPEPE_USDC_PERP") pepe = &m;
  }
  REQUIRE(btc != nullptr);
  REQUIRE(pepe != nullptr);
  CHECK(btc->instrument.tick_size == *Decimal::Parse("0.1"));
  CHECK(btc->instrument.step_size == *Decimal::Parse("0.00001"));
  CHECK(btc->instrument.max_leverage == Decimal::FromInt(75));
  CHECK(pepe->instrument.symbol == "PEPE");
  CHECK(pepe->instrument.base == "kPEPE");
  CHECK(pepe->instrument.quantity_multiplier == 1000);
  // A marketType other than PERP: the sim lists no spot markets.
  CHECK(sim.Get("/api/v1/markets?marketType=SPOT").body == "[]");
  auto one = sim.Get("/api/v1/market?symbol=SOL_USDC_PERP");
  REQUIRE(one.status == 200);
  CHECK(sim.codec.ParseMarkets("[" + one.body + "]")->size() == 1);

  auto depth = sim.Get("/api/v1/depth?symbol=BTC_USDC_PERP&limit=5");
  REQUIRE(depth.status == 200);
  CHECK(depth.content_type.find("application/json") == 0);
  CHECK(depth.body.find("\"lastUpdateId\":\"") != std::string::npos);  // a string
  auto snap = sim.codec.ParseDepthSnapshot(depth.body, sim.Inst("BTC_USDC_PERP"));
  REQUIRE(snap.ok());
  CHECK(snap->bids.size() == 5);
  CHECK(snap->asks.size() == 5);
  CHECK(snap->bids[0].price < snap->asks[0].price);
  // µs engine time near the sim clock.
  CHECK(std::llabs(snap->exchange_time - sim.clock.Now()) < 1'000'000'000LL);
  CHECK(sim.Get("/api/v1/depth?symbol=BTC_USDC_PERP&limit=7").status == 400);
  auto bad = sim.Get("/api/v1/depth?symbol=NOPE_USDC_PERP");
  CHECK(bad.status == 400);
  CHECK(Field(bad.body, "code") == "INVALID_MARKET");

  auto marks = sim.codec.ParseMarkPrices(sim.Get("/api/v1/markPrices").body);
  REQUIRE(marks.ok());
  REQUIRE(marks->size() == 4);
  CHECK((*marks)[0].has_funding);
  CHECK((*marks)[0].funding_rate == *Decimal::Parse("0.0000125"));
  CHECK((*marks)[0].next_funding_time % (3600LL * 1000000000) == 0);
  auto tick = sim.codec.ParseTickers(sim.Get("/api/v1/ticker?symbol=ETH_USDC_PERP").body);
  REQUIRE(tick.ok());
  CHECK(tick->at(0).trades > 0);
  CHECK(sim.codec.ParseTickers(sim.Get("/api/v1/tickers").body)->size() == 4);
  auto oi = sim.codec.ParseOpenInterest(sim.Get("/api/v1/openInterest?symbol=SOL_USDC_PERP").body);
  REQUIRE(oi.ok());
  CHECK(oi->size() == 1);
  auto fr = sim.Get("/api/v1/fundingRates?symbol=ETH_USDC_PERP&limit=3");
  auto rates = sim.codec.ParseFundingRates(fr.body);
  REQUIRE(rates.ok());
  REQUIRE(rates->size() == 3);
  CHECK((*rates)[0].interval_end - (*rates)[1].interval_end == 3600LL * 1000000000);  // newest first
  CHECK(sim.Get("/api/v1/fundingRates").status == 400);  // symbol is required

  auto t = sim.Get("/api/v1/time");
  CHECK(t.content_type.find("text/plain") == 0);
  CHECK(t.body == std::to_string(sim.NowMs()));
  CHECK(sim.Get("/api/v1/ping").body == "pong");
  CHECK(sim.Get("/api/v1/status").body == R"({"status":"Ok","message":null})");
}

TEST_CASE("backpack sim: REST snapshot + WS deltas bridge to the ground truth", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({bp::DepthStream("BTC_USDC_PERP"), "depth.NOPE_USDC_PERP"}));
  // The unknown symbol is an error frame; the good stream is subscribed (no ack).
  auto err = ws.ReadUntil("error");
  REQUIRE(err);
  auto info = sim.codec.ClassifyWsFrame(*err);
  REQUIRE(info.ok());
  CHECK(info->kind == bp::WsKind::kError);
  CHECK(info->error_code == 4006);
  CHECK(info->error_message == "Invalid stream");

  const Instrument& inst = sim.Inst("BTC_USDC_PERP");
  BookSync sync(SeqRule::kContiguous, inst.price_scale, inst.size_scale);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"backpack","rate":"4000"})").status == 200);
  DeltaMsg msg;
  int applied = 0, frames = 0;
  uint64_t prev_u = 0;
  bool snapshot_taken = false;
  const int64_t now_us = sim.clock.Now() / 1000;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (applied < 3000 && std::chrono::steady_clock::now() < deadline) {
    auto f = ws.Read();
    REQUIRE(f);
    ++frames;
    REQUIRE(sim.codec.ParseDepthDelta(*f, inst, &msg).ok());
    // Real-time stream: one engine update per event, contiguous ids, µs times.
    CHECK(msg.first_id == msg.last_id);
    if (prev_u) CHECK(msg.first_id == prev_u + 1);
    prev_u = msg.last_id;
    const int64_t t_us = std::stoll(Field(Field(*f, "data"), "T"));
    const int64_t e_us = std::stoll(Field(Field(*f, "data"), "E"));
    CHECK(std::llabs(t_us - now_us) < 60'000'000LL);
    CHECK(e_us >= t_us);
    auto r = sync.OnDelta(msg);
    if (r == BookSync::Result::kApplied) ++applied;
    CHECK(r != BookSync::Result::kGap);
    CHECK(r != BookSync::Result::kCrossed);
    if (!snapshot_taken && frames == 5) {
      // Bridge like ccxt: a few deltas buffered, then the REST snapshot.
      auto snap = sim.codec.ParseDepthSnapshot(
          sim.Get("/api/v1/depth?symbol=BTC_USDC_PERP&limit=1000").body, inst);
      REQUIRE(snap.ok());
      auto res = sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id);
      REQUIRE(res == BookSync::Result::kApplied);
      snapshot_taken = true;
    }
  }
  REQUIRE(applied >= 3000);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"backpack","rate":"0"})").status == 200);
  // Drain what is in flight, then compare with the ground truth.
  while (auto f = ws.Read(400ms)) {
    REQUIRE(sim.codec.ParseDepthDelta(*f, inst, &msg).ok());
    CHECK(sync.OnDelta(msg) == BookSync::Result::kApplied);
  }
  auto truth = sim.Control(http::verb::get, "/book?venue=backpack&symbol=BTC_USDC_PERP&depth=1000");
  REQUIRE(truth.status == 200);
  CHECK(std::stoull(Field(truth.body, "update_id")) == sync.last_id());
  simdjson::dom::parser p;
  auto doc = p.parse(truth.body);
  for (const char* side : {"bids", "asks"}) {
    std::vector<Level> want;
    for (auto lv : doc[side].get_array()) {
      auto arr = lv.get_array().value();
      want.push_back({*ParseScaled(std::string_view(arr.at(0).get_string().value()), inst.price_scale),
                      *ParseScaled(std::string_view(arr.at(1).get_string().value()), inst.size_scale)});
    }
    auto got = std::string(side) == "bids" ? sync.book().Bids() : sync.book().Asks();
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].price == want[k].price);
      CHECK(got[k].size == want[k].size);
    }
  }
}

TEST_CASE("backpack sim: bookTicker, trade and markPrice streams", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({bp::BookTickerStream("ETH_USDC_PERP"),
                               bp::TradeStream("ETH_USDC_PERP"),
                               bp::MarkPriceStream("ETH_USDC_PERP"), "depth.200ms.ETH_USDC_PERP"}));
  std::this_thread::sleep_for(100ms);
  REQUIRE(sim.Control(http::verb::post, "/step",
                      R"({"venue":"backpack","count":"50","symbol":"ETH_USDC_PERP"})").status == 200);
  auto bbo_frame = ws.ReadUntil("\"bookTicker\"");
  REQUIRE(bbo_frame);
  auto bbo = sim.codec.ParseBookTicker(*bbo_frame, sim.symbols, 1);
  REQUIRE(bbo.ok());
  CHECK(bbo->symbol == "ETH");
  CHECK(bbo->bid_price < bbo->ask_price);
  auto agg = ws.ReadUntil("depth.200ms");
  REQUIRE(agg);
  DeltaMsg d;
  REQUIRE(sim.codec.ParseDepthDelta(*agg, sim.Inst("ETH_USDC_PERP"), &d).ok());
  CHECK(d.first_id <= d.last_id);
  auto mark = ws.ReadUntil("\"markPrice\"");
  REQUIRE(mark);
  auto m = sim.codec.ParseWsMarkPrice(*mark);
  REQUIRE(m.ok());
  CHECK(m->has_funding);
  CHECK(m->next_funding_time % (3600LL * 1000000000) == 0);  // n in ms
  // A taker order prints a public trade.
  int64_t ask = BestPrice(sim, "ETH_USDC_PERP", true);
  auto r = sim.Place(Limit("ETH", Side::kBuy, Fixed(ask, 2).c_str(), "0.0001", TimeInForce::kIoc), 5);
  REQUIRE(r.status == 200);
  auto trade = ws.ReadUntil("\"trade\"");
  REQUIRE(trade);
  auto tr = sim.codec.ParseTrade(*trade, sim.symbols, 1);
  REQUIRE(tr.ok());
  CHECK(tr->taker_side == Side::kBuy);
  CHECK(tr->price == Decimal::FromUnits(ask, 2));

  // The same print on GET /api/v1/trades (ccxt fetchTrades), same id as the stream's `t`.
  simdjson::dom::parser jp;
  auto rest = sim.Get("/api/v1/trades?symbol=ETH_USDC_PERP&limit=5");
  REQUIRE(rest.status == 200);
  simdjson::dom::element doc = jp.parse(rest.body);
  REQUIRE(doc.get_array().size() == 1);
  simdjson::dom::element row = doc.at(0);
  CHECK(std::to_string(int64_t(row["id"])) == tr->trade_id);
  CHECK(std::string_view(row["price"]) == Fixed(ask, 2));
  CHECK(std::string_view(row["quantity"]) == "0.0001");
  CHECK(bool(row["isBuyerMaker"]) == false);
  CHECK(int64_t(row["timestamp"]) > 1'700'000'000'000);
  // /history pages back from the newest: offset 1 skips the only one.
  auto hist = sim.Get("/api/v1/trades/history?symbol=ETH_USDC_PERP&offset=1");
  REQUIRE(hist.status == 200);
  CHECK(hist.body == "[]");
  CHECK(sim.Get("/api/v1/trades").status == 400);  // symbol required
  // GET /api/v1/assets (ccxt loadMarkets): every base and quote asset, one token each.
  auto assets = sim.Get("/api/v1/assets");
  REQUIRE(assets.status == 200);
  std::set<std::string> symbols;
  for (simdjson::dom::element a : jp.parse(assets.body).get_array()) {
    symbols.insert(std::string(std::string_view(a["symbol"])));
    REQUIRE(a["tokens"].get_array().size() == 1);
    CHECK(!std::string_view(a["tokens"].at(0)["blockchain"]).empty());
  }
  CHECK(symbols.count("BTC") == 1);
  CHECK(symbols.count("USDC") == 1);
}

TEST_CASE("backpack sim: signed order round trips with account events", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  bp::ClientIdMapper clients;

  // 1. A resting limit order: accepted, visible via GET /order, orderAccepted on the stream.
  const int64_t bid = BestPrice(sim, "SOL_USDC_PERP", false);
  auto rest_px = Fixed(bid - 500, 2);  // 5 USDC below the best bid
  auto r = sim.Place(Limit("SOL", Side::kBuy, rest_px.c_str(), "0.5"), 42);
  REQUIRE(r.status == 200);
  auto ack = sim.codec.ParseOrderExecuteResponse(r.status, r.body, sim.symbols, nullptr);
  REQUIRE(ack.outcome == AckOutcome::kAccepted);
  CHECK(ack.order.status == OrderStatus::kOpen);
  CHECK(ack.order.client_order_id == "42");
  CHECK(Field(r.body, "clientId") == "42");  // an integer
  CHECK(Field(r.body, "id").size() == 10);
  const std::string order_id = ack.order.order_id;
  auto ev = ws.ReadUntil("orderAccepted");
  REQUIRE(ev);
  auto up = sim.codec.ParseOrderUpdate(*ev, sim.symbols, nullptr, 1);
  REQUIRE(up.ok());
  CHECK(up->event_type == "orderAccepted");
  CHECK(up->client_id == 42u);
  CHECK(up->event.order.order_id == order_id);
  CHECK(Field(Field(*ev, "data"), "o") == "LIMIT");
  auto q = sim.Query("/api/v1/order", "orderQuery", {{"symbol", "SOL_USDC_PERP"}, {"clientId", "42"}});
  REQUIRE(q.status == 200);
  CHECK(sim.codec.ParseOrder(q.body, sim.symbols, nullptr)->order_id == order_id);
  auto open = sim.Query("/api/v1/orders", "orderQueryAll", {{"marketType", "PERP"}});
  REQUIRE(open.status == 200);
  CHECK(sim.codec.ParseOrders(open.body, sim.symbols, nullptr)->size() == 1);

  // 2. Duplicate live clientId.
  auto dup = sim.Place(Limit("SOL", Side::kBuy, rest_px.c_str(), "1"), 42);
  CHECK(dup.status == 400);
  CHECK(Field(dup.body, "code") == "INVALID_ORDER");
  CHECK(Field(dup.body, "message") == "Order with client ID already exists: 42");
  auto dup_ack = sim.codec.ParseOrderExecuteResponse(dup.status, dup.body, sim.symbols, nullptr);
  CHECK(dup_ack.outcome == AckOutcome::kOutcomeUnknown);  // the adapter reconciles

  // 3. Post-only crossing the ask: Expired with PostOnlyTaker (REST and stream).
  const int64_t ask = BestPrice(sim, "SOL_USDC_PERP", true);
  auto po = sim.Place(Limit("SOL", Side::kBuy, Fixed(ask + 10, 2).c_str(), "1",
                            TimeInForce::kPostOnly), 43);
  REQUIRE(po.status == 200);
  CHECK(Field(po.body, "status") == "Expired");
  CHECK(Field(po.body, "expiryReason") == "PostOnlyTaker");
  auto po_ack = sim.codec.ParseOrderExecuteResponse(po.status, po.body, sim.symbols, nullptr);
  CHECK(po_ack.outcome == AckOutcome::kRejected);
  CHECK(po_ack.reason == CancelReason::kPostOnlyViolation);
  auto expired = ws.ReadUntil("orderExpired");
  REQUIRE(expired);
  auto exp_up = sim.codec.ParseOrderUpdate(*expired, sim.symbols, nullptr, 1);
  REQUIRE(exp_up.ok());
  CHECK(exp_up->expiry_reason == "PostOnlyTaker");
  CHECK(exp_up->client_id == 43u);
  CHECK(exp_up->event.order.reason == CancelReason::kPostOnlyViolation);

  // 4. The market moves through the resting bid: maker fill, orderFill + positionOpened.
  auto moved = sim.Control(http::verb::post, "/price",
                           R"({"venue":"backpack","symbol":"SOL_USDC_PERP","mid":")" +
                               Fixed(bid - 800, 2) + "\"}");
  REQUIRE(moved.status == 200);
  auto fill = ws.ReadUntil("orderFill");
  REQUIRE(fill);
  auto fu = sim.codec.ParseOrderUpdate(*fill, sim.symbols, nullptr, 1);
  REQUIRE(fu.ok());
  REQUIRE(fu->event.fill.has_value());
  CHECK(fu->event.fill->maker);
  CHECK(fu->event.fill->price == *Decimal::Parse(rest_px));
  CHECK(fu->event.order.order_id == order_id);
  auto pos = ws.ReadUntil("positionOpened");
  REQUIRE(pos);
  auto pu = sim.codec.ParsePositionUpdate(*pos, sim.symbols);
  REQUIRE(pu.ok());
  CHECK(pu->event_type == "positionOpened");
  CHECK(pu->position.symbol == "SOL");
  CHECK(pu->position.size.IsPositive());
  // REST views of the same state.
  auto positions = sim.codec.ParsePositions(sim.Query("/api/v1/position", "positionQuery").body,
                                            sim.symbols, 1);
  REQUIRE(positions.ok());
  REQUIRE(positions->size() == 1);
  CHECK(positions->at(0).size == pu->position.size);
  auto col = sim.codec.ParseCollateral(sim.Query("/api/v1/capital/collateral", "collateralQuery").body, 1);
  REQUIRE(col.ok());
  CHECK(col->equity.IsPositive());
  CHECK((col->margin_used.has_value() && col->margin_used->IsPositive()));
  auto acct = sim.codec.ParseAccount(sim.Query("/api/v1/account", "accountQuery").body);
  REQUIRE(acct.ok());
  CHECK(acct->leverage_limit == Decimal::FromInt(10));
  CHECK(acct->futures_taker_fee_bps == Decimal::FromInt(5));
  auto lev = bp::EncodeSetLeverage(Decimal::FromInt(20));
  REQUIRE(lev.ok());
  CHECK(sim.Signed(http::verb::patch, "/api/v1/account", "accountUpdate", *lev).status == 200);
  CHECK(sim.codec.ParseAccount(sim.Query("/api/v1/account", "accountQuery").body)->leverage_limit ==
        Decimal::FromInt(20));
  // A fresh private subscription starts with one snapshot message (no "e") per open position.
  WsClient ws2(sim.port);
  sim.WaitConnections(2);
  ws2.Send(sim.PrivateSubscribeFrame(sim.signer));
  auto snap = ws2.ReadUntil("account.positionUpdate");
  REQUIRE(snap);
  auto snap_pu = sim.codec.ParsePositionUpdate(*snap, sim.symbols);
  REQUIRE(snap_pu.ok());
  CHECK(snap_pu->snapshot);
  CHECK(snap_pu->position.size == pu->position.size);

  // 5. Cancel a resting order by id (the adapter's encoder sends orderId as a string).
  auto r2 = sim.Place(Limit("SOL", Side::kSell, Fixed(ask + 900, 2).c_str(), "0.5"), 44);
  REQUIRE(r2.status == 200);
  const std::string id2 = Field(r2.body, "id");
  auto cancel = sim.Signed(http::verb::delete_, "/api/v1/order", "orderCancel",
                           bp::EncodeCancelOrder("SOL_USDC_PERP", id2));
  REQUIRE(cancel.status == 200);
  auto cancelled = sim.codec.ParseOrder(cancel.body, sim.symbols, nullptr);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->status == OrderStatus::kCanceled);
  CHECK(cancelled->reason == CancelReason::kUserCanceled);
  auto cev = ws.ReadUntil("orderCancelled");
  REQUIRE(cev);
  CHECK(sim.codec.ParseOrderUpdate(*cev, sim.symbols, nullptr, 1)->event.order.status ==
        OrderStatus::kCanceled);
  // No longer resting: GET /order is 404 RESOURCE_NOT_FOUND, the history has it.
  auto gone = sim.Query("/api/v1/order", "orderQuery", {{"symbol", "SOL_USDC_PERP"}, {"orderId", id2}});
  CHECK(gone.status == 404);
  CHECK(Field(gone.body, "code") == "RESOURCE_NOT_FOUND");
  auto again = sim.Signed(http::verb::delete_, "/api/v1/order", "orderCancel",
                          bp::EncodeCancelOrder("SOL_USDC_PERP", id2));
  CHECK(again.status == 404);
  auto hist = sim.Query("/wapi/v1/history/orders", "orderHistoryQueryAll",
                        {{"symbol", "SOL_USDC_PERP"}, {"limit", "200"}});
  REQUIRE(hist.status == 200);
  auto orders = sim.codec.ParseOrders(hist.body, sim.symbols, nullptr);
  REQUIRE(orders.ok());
  REQUIRE(orders->size() == 3);  // newest first: cancelled, post-only expired, filled
  CHECK(orders->at(0).order_id == id2);
  CHECK(orders->at(0).status == OrderStatus::kCanceled);
  CHECK(orders->at(1).reason == CancelReason::kPostOnlyViolation);
  CHECK(orders->at(2).status == OrderStatus::kFilled);
  CHECK(orders->at(2).created_time / 1000000 == sim.NowMs());  // ISO createdAt parsed back
  auto fills = sim.codec.ParseFills(
      sim.Query("/wapi/v1/history/fills", "fillHistoryQueryAll", {{"limit", "500"}}).body,
      sim.symbols, nullptr);
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 1);
  CHECK(fills->at(0).order_id == order_id);
  CHECK(fills->at(0).client_order_id == "42");
  CHECK(fills->at(0).maker);

  // 6. Cancel-all and a market order closing the position (reduce-only).
  auto all = sim.Signed(http::verb::delete_, "/api/v1/orders", "orderCancelAll",
                        bp::EncodeCancelAll("SOL_USDC_PERP"));
  CHECK(all.status == 200);
  CHECK(all.body == "[]");
  OrderRequest close;
  close.account = kAccount1;
  close.symbol = "SOL";
  close.side = Side::kSell;
  close.type = OrderType::kMarket;
  close.tif = TimeInForce::kIoc;
  close.size = pu->position.size;
  close.reduce_only = true;
  auto mr = sim.Place(close, 45);
  REQUIRE(mr.status == 200);
  auto m_ack = sim.codec.ParseOrderExecuteResponse(mr.status, mr.body, sim.symbols, nullptr);
  CHECK(m_ack.outcome == AckOutcome::kAccepted);
  CHECK(m_ack.order.status == OrderStatus::kFilled);
  CHECK(Field(mr.body, "orderType") == "Market");
  CHECK(ws.ReadUntil("positionClosed"));
  CHECK(sim.Query("/api/v1/position", "positionQuery").body == "[]");
}

TEST_CASE("backpack sim: signature and window checks", "[backpack_sim]") {
  Sim sim;
  auto other = *bp::Signer::FromSecretBase64(kSeed2);
  bp::EncodedRequest none;
  // Good.
  CHECK(sim.Signed(http::verb::get, "/api/v1/capital", "balanceQuery", none).status == 200);
  // Signed by another key than the X-API-Key names.
  auto bad = sim.Signed(http::verb::get, "/api/v1/capital", "balanceQuery", none, 0, 5000, &other,
                        sim.signer.api_key());
  CHECK(bad.status == 400);
  CHECK(Field(bad.body, "code") == "INVALID_CLIENT_REQUEST");
  CHECK(Field(bad.body, "message") == "Invalid signature");
  // Wrong instruction in the signed string.
  auto wrong = sim.Signed(http::verb::get, "/api/v1/capital", "collateralQuery", none);
  CHECK(Field(wrong.body, "message") == "Invalid signature");
  // Expired: timestamp + window is in the past.
  auto old = sim.Signed(http::verb::get, "/api/v1/capital", "balanceQuery", none, -70000, 60000);
  CHECK(old.status == 400);
  CHECK(Field(old.body, "code") == "INVALID_CLIENT_REQUEST");
  CHECK(Field(old.body, "message") == "Request has expired");
  // Window above 60000.
  auto wide = sim.Signed(http::verb::get, "/api/v1/capital", "balanceQuery", none, 0, 60001);
  CHECK(wide.status == 400);
  // Body tampered after signing.
  OrderRequest req = Limit("BTC", Side::kBuy, "100000.0", "0.001");
  auto enc = bp::EncodeOrderExecute(req, sim.Inst("BTC_USDC_PERP"), 7);
  REQUIRE(enc.ok());
  bp::EncodedRequest tampered = *enc;
  const size_t at = tampered.body.find("0.001");
  REQUIRE(at != std::string::npos);
  tampered.body.replace(at, 5, "0.002");
  CHECK(Field(sim.Signed(http::verb::post, "/api/v1/order", "orderExecute", tampered).body,
              "message") == "Invalid signature");
  // No key at all.
  auto anon = sim.Get("/api/v1/capital");
  CHECK(anon.status == 401);
  CHECK(Field(anon.body, "code") == "UNAUTHORIZED");
  // The adapter's error classifier reads these as authentication failures.
  CHECK(bp::ClassifyHttpError(bad.status, bad.body, bp::RequestKind::kQuery).status_code ==
        absl::StatusCode::kUnauthenticated);
  CHECK(bp::ClassifyHttpError(old.status, old.body, bp::RequestKind::kQuery).retry ==
        bp::RetryClass::kRetryable);

  // Private subscribe with a bad signature: error frame, and no events for that account.
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  auto sig = sim.signer.SignWsSubscribe(sim.NowMs());
  REQUIRE(sig.ok());
  bp::WsSignature forged = *sig;
  forged.signature = other.SignWsSubscribe(sim.NowMs())->signature;
  ws.Send(bp::EncodePrivateSubscribe({std::string(bp::kOrderUpdateStream)}, forged));
  auto err = ws.ReadUntil("error");
  REQUIRE(err);
  auto info = sim.codec.ClassifyWsFrame(*err);
  REQUIRE(info.ok());
  CHECK(info->kind == bp::WsKind::kError);
  CHECK(info->error_message == "Invalid signature");
  // Expired subscribe signature.
  ws.Send(sim.PrivateSubscribeFrame(sim.signer, -120000));
  auto err2 = ws.ReadUntil("error");
  REQUIRE(err2);
  CHECK(Field(Field(*err2, "error"), "message") == "Request has expired");
  // Unsigned private subscribe.
  ws.Send(bp::EncodeSubscribe({std::string(bp::kOrderUpdateStream)}));
  CHECK(ws.ReadUntil("error"));
  REQUIRE(sim.Place(Limit("BTC", Side::kBuy, "100000.0", "0.001"), 9).status == 200);
  CHECK_FALSE(ws.ReadUntil("orderAccepted", 500ms));
}

TEST_CASE("backpack sim: batch orders (one signing segment per order)", "[backpack_sim]") {
  Sim sim;
  const int64_t bid = BestPrice(sim, "ETH_USDC_PERP", false);
  std::vector<std::vector<bp::SignParam>> items = {
      {{"orderType", "Limit"}, {"price", Fixed(bid - 100, 2)}, {"quantity", "0.01"},
       {"side", "Bid"}, {"symbol", "ETH_USDC_PERP"}, {"clientId", "77"}},
      {{"orderType", "Limit"}, {"price", Fixed(bid - 100, 2)}, {"quantity", "0.01"},
       {"side", "Buy"}, {"symbol", "ETH_USDC_PERP"}},
  };
  const std::string body =
      "[{\"clientId\":77,\"orderType\":\"Limit\",\"price\":\"" + Fixed(bid - 100, 2) +
      "\",\"quantity\":\"0.01\",\"side\":\"Bid\",\"symbol\":\"ETH_USDC_PERP\"},"
      "{\"orderType\":\"Limit\",\"price\":\"" + Fixed(bid - 100, 2) +
      "\",\"quantity\":\"0.01\",\"side\":\"Buy\",\"symbol\":\"ETH_USDC_PERP\"}]";
  auto headers = sim.signer.SignBatch("orderExecute", items, sim.NowMs());
  REQUIRE(headers.ok());
  auto r = Call(sim.port, http::verb::post, "/api/v1/orders", body,
                {{"X-API-Key", headers->api_key}, {"X-Signature", headers->signature},
                 {"X-Timestamp", headers->timestamp}, {"X-Window", headers->window}});
  REQUIRE(r.status == 200);
  auto parts = [&] {
    simdjson::dom::parser p;
    std::vector<std::string> out;
    for (auto e : p.parse(r.body).get_array()) out.push_back(simdjson::to_string(e));
    return out;
  }();
  REQUIRE(parts.size() == 2);
  auto first = sim.codec.ParseOrder(parts[0], sim.symbols, nullptr);
  REQUIRE(first.ok());
  CHECK(first->client_order_id == "77");
  CHECK(Field(parts[1], "code") == "INVALID_CLIENT_REQUEST");
  // The same body signed as a single request does not verify.
  auto single = sim.signer.Sign("orderExecute", items[0], sim.NowMs());
  auto bad = Call(sim.port, http::verb::post, "/api/v1/orders", body,
                  {{"X-API-Key", single->api_key}, {"X-Signature", single->signature},
                   {"X-Timestamp", single->timestamp}, {"X-Window", single->window}});
  CHECK(Field(bad.body, "message") == "Invalid signature");
}

TEST_CASE("backpack sim: skip_seq produces a U gap; expire_token is explained", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({bp::DepthStream("SOL_USDC_PERP")}));
  std::this_thread::sleep_for(100ms);
  const Instrument& inst = sim.Inst("SOL_USDC_PERP");
  BookSync sync(SeqRule::kContiguous, inst.price_scale, inst.size_scale);
  auto snap = sim.codec.ParseDepthSnapshot(sim.Get("/api/v1/depth?symbol=SOL_USDC_PERP").body, inst);
  REQUIRE(snap.ok());
  REQUIRE(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id) == BookSync::Result::kApplied);
  auto step = [&](int n) {
    REQUIRE(sim.Control(http::verb::post, "/step",
                        R"({"venue":"backpack","count":")" + std::to_string(n) +
                            R"(","symbol":"SOL_USDC_PERP"})").status == 200);
  };
  step(5);
  DeltaMsg msg;
  for (int k = 0; k < 5; ++k) {
    auto f = ws.Read();
    REQUIRE(f);
    REQUIRE(sim.codec.ParseDepthDelta(*f, inst, &msg).ok());
    REQUIRE(sync.OnDelta(msg) == BookSync::Result::kApplied);
  }
  const uint64_t last = sync.last_id();
  auto fault = sim.Control(http::verb::post, "/fault",
                           R"({"venue":"backpack","kind":"skip_seq","symbol":"SOL_USDC_PERP"})");
  REQUIRE(fault.status == 200);
  step(1);
  auto f = ws.Read();
  REQUIRE(f);
  REQUIRE(sim.codec.ParseDepthDelta(*f, inst, &msg).ok());
  CHECK(msg.first_id == last + 2);
  CHECK(sync.OnDelta(msg) == BookSync::Result::kGap);

  auto tok = sim.Control(http::verb::post, "/fault", R"({"venue":"backpack","kind":"expire_token"})");
  CHECK(tok.status == 400);
  CHECK(tok.body.find("no session token") != std::string::npos);
  // Injected HTTP errors use the venue's error body.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"backpack","kind":"http_error","status":"429","path_prefix":"/api/v1/depth"})")
              .status == 200);
  auto limited = sim.Get("/api/v1/depth?symbol=SOL_USDC_PERP");
  CHECK(limited.status == 429);
  CHECK(Field(limited.body, "code") == "TOO_MANY_REQUESTS");
}

namespace {

// A signed JSON-body call with the given string fields (signed raw, like the adapter does).
HttpResult SignedBody(Sim& sim, http::verb verb, const std::string& path, const std::string& instruction,
                      const std::vector<std::pair<std::string, std::string>>& fields) {
  bp::EncodedRequest enc;
  enc.body = "{";
  for (const auto& [k, v] : fields) {
    if (enc.body.size() > 1) enc.body += ',';
    enc.body += "\"" + k + "\":\"" + v + "\"";
    enc.params.push_back({k, v});
  }
  enc.body += "}";
  return sim.Signed(verb, path, instruction, enc);
}

// The generated book's levels (ground truth), best first.
std::vector<Level> BookSide(Sim& sim, const std::string& symbol, bool asks) {
  std::vector<Level> out;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    const OrderBook& b = m.book(m.Find(symbol)->index);
    out = asks ? b.Asks() : b.Bids();
  });
  return out;
}

}  // namespace

TEST_CASE("backpack sim: market order by quoteQuantity", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  // SOL: price scale 2, size scale 2 (step 0.01). A quote that spans more than the best level.
  auto asks = BookSide(sim, "SOL_USDC_PERP", true);
  REQUIRE(asks.size() >= 3);
  // Quote (1e-8 units; price x size is at scale 4) = the whole best level + half of the second
  // + 0.37 USDC.
  const int64_t half = asks[1].size / 2;
  const Money quote_units = (asks[0].price * asks[0].size + asks[1].price * half) * 10000 + 37000000;
  // Expected base: level 0 + floor(rest / price1) at step 0.01 (all in fixed point).
  const __int128 rest = quote_units - static_cast<__int128>(asks[0].price) * asks[0].size * 10000;
  const int64_t part = static_cast<int64_t>(rest / (static_cast<__int128>(asks[1].price) * 10000));
  const int64_t want_qty = asks[0].size + part;
  const std::string quote_text = MoneyText(quote_units);
  auto r = SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                      {{"orderType", "Market"}, {"quoteQuantity", quote_text}, {"side", "Bid"},
                       {"symbol", "SOL_USDC_PERP"}, {"clientId", "77"}});
  REQUIRE(r.status == 200);
  CHECK(Field(r.body, "status") == "Filled");
  CHECK(Field(r.body, "quantity") == Trimmed(want_qty, 2));
  CHECK(Field(r.body, "executedQuantity") == Trimmed(want_qty, 2));
  CHECK(Field(r.body, "quoteQuantity") == quote_text);  // the quote as sent
  auto executed = ParseScaled(Field(r.body, "executedQuoteQuantity"), 8);
  REQUIRE(executed.ok());
  CHECK(*executed <= quote_units);
  CHECK(*executed > quote_units - asks[1].price * 10000);  // within one step of the quote
  auto ack = sim.codec.ParseOrderExecuteResponse(r.status, r.body, sim.symbols, nullptr);
  CHECK(ack.outcome == AckOutcome::kAccepted);
  // The stream: q = derived base quantity, Q = the quote (ws_orderUpdate.json).
  auto acc = ws.ReadUntil("orderAccepted");
  REQUIRE(acc);
  const std::string data = Field(*acc, "data");
  CHECK(Field(data, "o") == "MARKET");
  CHECK(Field(data, "Q") == quote_text);
  CHECK(Field(data, "q") == Fixed(want_qty, 2));
  auto fill = ws.ReadUntil("orderFill");
  REQUIRE(fill);
  CHECK(Field(Field(*fill, "data"), "Q") == quote_text);
  REQUIRE(sim.codec.ParseOrderUpdate(*fill, sim.symbols, nullptr, 1).ok());
  // History keeps the requested quote too.
  auto hist = sim.Query("/wapi/v1/history/orders", "orderHistoryQueryAll", {{"limit", "1"}});
  CHECK(Field(hist.body.substr(1, hist.body.size() - 2), "quoteQuantity") == quote_text);
  // An order by quantity has no Q.
  auto byq = SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                        {{"orderType", "Market"}, {"quantity", "0.01"}, {"side", "Ask"},
                         {"symbol", "SOL_USDC_PERP"}});
  REQUIRE(byq.status == 200);
  auto acc2 = ws.ReadUntil("orderAccepted");
  REQUIRE(acc2);
  CHECK(Field(Field(*acc2, "data"), "Q").empty());

  // Too little quote for one step (BTC: 0.00001 at ~97k ≈ 0.97 USDC): refused cleanly.
  auto small = SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                          {{"orderType", "Market"}, {"quoteQuantity", "0.5"}, {"side", "Bid"},
                           {"symbol", "BTC_USDC_PERP"}});
  CHECK(small.status == 400);
  CHECK(Field(small.body, "code") == "INVALID_QUANTITY");
  // Limit with quoteQuantity, both quantity and quoteQuantity, too many decimals.
  CHECK(SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                   {{"orderType", "Limit"}, {"price", "100"}, {"quoteQuantity", "10"}, {"side", "Bid"},
                    {"symbol", "SOL_USDC_PERP"}}).status == 400);
  CHECK(SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                   {{"orderType", "Market"}, {"quantity", "1"}, {"quoteQuantity", "10"}, {"side", "Bid"},
                    {"symbol", "SOL_USDC_PERP"}}).status == 400);
  CHECK(SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                   {{"orderType", "Market"}, {"quoteQuantity", "10.123456789"}, {"side", "Bid"},
                    {"symbol", "SOL_USDC_PERP"}}).status == 400);
  // A sell by quote walks the bids.
  auto bids = BookSide(sim, "ETH_USDC_PERP", false);
  REQUIRE(!bids.empty());
  // ETH: price scale 2, size scale 4. A quote inside the best bid level: floor(quote / bid) at
  // step 0.0001.
  const Money eth_quote = static_cast<Money>(bids[0].price) * bids[0].size * 10000 / 2;  // half the level
  const int64_t eth_qty = static_cast<int64_t>(static_cast<__int128>(eth_quote) * 1000000 /
                                               (static_cast<__int128>(bids[0].price) * 100000000));
  REQUIRE(eth_qty > 0);
  auto sell = SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                         {{"orderType", "Market"}, {"quoteQuantity", MoneyText(eth_quote)}, {"side", "Ask"},
                          {"symbol", "ETH_USDC_PERP"}});
  REQUIRE(sell.status == 200);
  CHECK(Field(sell.body, "executedQuantity") == Trimmed(eth_qty, 4));
}

TEST_CASE("backpack sim: GET /api/v1/account/limits/order (maxOrderQuantity)", "[backpack_sim]") {
  Sim sim;
  auto q = sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                     {{"symbol", "SOL_USDC_PERP"}, {"side", "Bid"}, {"price", "100"}});
  REQUIRE(q.status == 200);
  CHECK(Field(q.body, "symbol") == "SOL_USDC_PERP");
  CHECK(Field(q.body, "side") == "Bid");
  CHECK(Field(q.body, "price") == "100");
  // 100 000 USDC at leverage 10 (account default), price 100 → 10 000 SOL.
  CHECK(Field(q.body, "maxOrderQuantity") == "10000");
  // The engine takes exactly that much at that price, and not one step more.
  auto over = sim.Place(Limit("SOL", Side::kBuy, "100", "10000.01"), 1);
  CHECK(over.status == 400);
  CHECK(Field(over.body, "code") == "INSUFFICIENT_MARGIN");
  auto ok = sim.Place(Limit("SOL", Side::kBuy, "100", "10000"), 2);
  CHECK(ok.status == 200);
  // That order now holds the margin: nothing left to buy, or to sell beyond it.
  auto none = sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                        {{"symbol", "SOL_USDC_PERP"}, {"side", "Bid"}, {"price", "100"}});
  CHECK(Field(none.body, "maxOrderQuantity") == "0");
  CHECK(sim.Signed(http::verb::delete_, "/api/v1/orders", "orderCancelAll",
                   bp::EncodeCancelAll("SOL_USDC_PERP")).status == 200);
  // Market (no price): at the best ask; and with a position, reduceOnly gives its size.
  const int64_t ask = BestPrice(sim, "SOL_USDC_PERP", true);
  auto mkt = sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                       {{"symbol", "SOL_USDC_PERP"}, {"side", "Bid"}});
  REQUIRE(mkt.status == 200);
  const int64_t want = static_cast<int64_t>(static_cast<__int128>(100000) * 10 * 10000 / ask);
  CHECK(Field(mkt.body, "maxOrderQuantity") == Trimmed(want, 2));
  CHECK(Field(mkt.body, "price").empty());
  OrderRequest buy;
  buy.account = kAccount1;
  buy.symbol = "SOL";
  buy.side = Side::kBuy;
  buy.type = OrderType::kMarket;
  buy.tif = TimeInForce::kIoc;
  buy.size = *Decimal::Parse("2");
  REQUIRE(sim.Place(buy, 3).status == 200);
  auto ro = sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                      {{"symbol", "SOL_USDC_PERP"}, {"side", "Ask"}, {"reduceOnly", "true"}});
  CHECK(Field(ro.body, "maxOrderQuantity") == "2");
  CHECK(Field(ro.body, "reduceOnly") == "true");
  auto ro_bid = sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                          {{"symbol", "SOL_USDC_PERP"}, {"side", "Bid"}, {"reduceOnly", "true"}});
  CHECK(Field(ro_bid.body, "maxOrderQuantity") == "0");
  // Errors.
  CHECK(sim.Query("/api/v1/account/limits/order", "maxOrderQuantity", {{"symbol", "SOL_USDC_PERP"}}).status == 400);
  CHECK(sim.Query("/api/v1/account/limits/order", "maxOrderQuantity",
                  {{"symbol", "NOPE_USDC_PERP"}, {"side", "Bid"}}).status == 400);
}

TEST_CASE("backpack sim: GET /wapi/v1/history/position", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  auto market = [&](Side side, const char* size) {
    OrderRequest r;
    r.account = kAccount1;
    r.symbol = "SOL";
    r.side = side;
    r.type = OrderType::kMarket;
    r.tif = TimeInForce::kIoc;
    r.size = *Decimal::Parse(size);
    auto res = sim.Place(r, 0);
    REQUIRE(res.status == 200);
  };
  market(Side::kBuy, "3");
  auto opened = ws.ReadUntil("positionOpened");
  REQUIRE(opened);
  const std::string pos_id = Field(Field(*opened, "data"), "i");
  market(Side::kSell, "1");
  market(Side::kSell, "2");
  REQUIRE(ws.ReadUntil("positionClosed"));
  market(Side::kBuy, "1");  // a second, still open position
  simdjson::dom::parser jp;
  auto all = sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll");
  REQUIRE(all.status == 200);
  simdjson::dom::array rows = jp.parse(all.body).get_array();
  REQUIRE(rows.size() == 2);
  simdjson::dom::element open = rows.at(0), closed = rows.at(1);  // newest first
  CHECK(std::string_view(open["state"]) == "Open");
  CHECK(std::string_view(open["netQuantity"]) == "1");
  CHECK(open["closedAt"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(std::string_view(closed["state"]) == "Closed");
  CHECK(std::string_view(closed["id"]) == pos_id);  // the stream's position id
  CHECK(std::string_view(closed["netQuantity"]) == "0");
  CHECK(std::string_view(closed["closedVolume"]) == "3");
  CHECK(std::string_view(closed["symbol"]) == "SOL_USDC_PERP");
  CHECK(std::string_view(closed["liquidated"]) == "0");
  CHECK(std::string_view(closed["accountLeverage"]) == "10");
  CHECK(!std::string_view(closed["closingPrice"]).empty());
  CHECK(!std::string_view(closed["closedAt"]).empty());
  CHECK(ParseScaled(std::string(std::string_view(closed["fees"])), 8).value() > 0);
  // Every required key of PositionHistoryRow.
  for (const char* k : {"id", "symbol", "netQuantity", "netExposureQuantity", "netExposureNotional",
                        "netCost", "markPrice", "entryPrice", "cumulativePnlRealized", "unrealizedPnl",
                        "fundingQuantity", "interest", "liquidated", "imf", "fees", "state",
                        "closedVolume", "liquidationFees", "openedAt"}) {
    CHECK(open[k].error() == simdjson::SUCCESS);
  }
  // Filters and paging.
  auto closed_only = sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll", {{"state", "Closed"}});
  CHECK(jp.parse(closed_only.body).get_array().size() == 1);
  auto asc = sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll",
                       {{"sortDirection", "Asc"}, {"limit", "1"}});
  simdjson::dom::array asc_rows = jp.parse(asc.body).get_array();
  REQUIRE(asc_rows.size() == 1);
  CHECK(std::string_view(asc_rows.at(0)["id"]) == pos_id);
  auto off = sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll", {{"offset", "1"}});
  simdjson::dom::array off_rows = jp.parse(off.body).get_array();
  REQUIRE(off_rows.size() == 1);
  CHECK(std::string_view(off_rows.at(0)["id"]) == pos_id);
  CHECK(sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll", {{"symbol", "ETH_USDC_PERP"}}).body == "[]");
  CHECK(sim.Query("/wapi/v1/history/position", "positionHistoryQueryAll", {{"state", "Nope"}}).status == 400);
}

TEST_CASE("backpack sim: public collateral and klines", "[backpack_sim]") {
  Sim sim;
  simdjson::dom::parser jp;
  auto col = sim.Get("/api/v1/collateral");
  REQUIRE(col.status == 200);
  simdjson::dom::array assets = jp.parse(col.body).get_array();
  REQUIRE(assets.size() == 1);
  simdjson::dom::element usdc = assets.at(0);
  CHECK(std::string_view(usdc["symbol"]) == "USDC");
  CHECK(std::string_view(usdc["imfFunction"]["type"]) == "sqrt");
  CHECK(std::string_view(usdc["mmfFunction"]["type"]) == "sqrt");
  CHECK(std::string_view(usdc["haircutFunction"]["weight"]) == "1");
  CHECK(std::string_view(usdc["haircutFunction"]["kind"]["type"]) == "identity");

  // Candles: the opening mid, then a price move in a later minute and a trade.
  const int64_t t0 = sim.clock.Now() / 1000000000;
  const int64_t m0 = t0 / 60 * 60;
  sim.clock.Advance(60LL * 1000000000);
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"backpack","symbol":"SOL_USDC_PERP","mid":"190"})").status == 200);
  const int64_t ask = BestPrice(sim, "SOL_USDC_PERP", true);
  auto r = sim.Place(Limit("SOL", Side::kBuy, Fixed(ask, 2).c_str(), "0.5", TimeInForce::kIoc), 9);
  REQUIRE(r.status == 200);
  auto k = sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1m&startTime=" + std::to_string(m0));
  REQUIRE(k.status == 200);
  simdjson::dom::array candles = jp.parse(k.body).get_array();
  REQUIRE(candles.size() == 2);
  simdjson::dom::element c0 = candles.at(0), c1 = candles.at(1);
  CHECK(std::string_view(c0["open"]) == "182.38");
  CHECK(std::string_view(c0["trades"]) == "0");
  CHECK(std::string_view(c0["volume"]) == "0");
  CHECK(std::string_view(c0["start"]).size() == 19);
  CHECK(std::string_view(c0["start"])[10] == ' ');  // "2025-07-19 13:09:00"
  CHECK(std::string_view(c0["end"]) == std::string_view(c1["start"]));
  CHECK(std::string_view(c1["open"]) == "190");
  CHECK(std::string_view(c1["close"]) == Trimmed(ask, 2));
  CHECK(std::string_view(c1["high"]) == Trimmed(ask, 2));
  CHECK(std::string_view(c1["volume"]) == Field(r.body, "executedQuantity"));
  CHECK(std::string_view(c1["trades"]) == "1");
  CHECK(std::string_view(c1["quoteVolume"]) == Field(r.body, "executedQuoteQuantity"));
  // A 1h candle merges both; startTime after both gives none; endTime bounds.
  auto h = sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1h&startTime=0");
  simdjson::dom::array hours = jp.parse(h.body).get_array();
  CHECK(hours.size() >= 1);
  CHECK(std::string_view(hours.at(hours.size() - 1)["close"]) == Trimmed(ask, 2));
  CHECK(sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1m&startTime=" + std::to_string(m0 + 120)).body == "[]");
  auto first = sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1m&startTime=" + std::to_string(m0) +
                       "&endTime=" + std::to_string(m0 + 60));
  CHECK(jp.parse(first.body).get_array().size() == 1);
  auto month = sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1month&startTime=0");
  REQUIRE(month.status == 200);
  simdjson::dom::array months = jp.parse(month.body).get_array();
  REQUIRE(months.size() >= 1);
  CHECK(std::string_view(months.at(0)["start"]).substr(8) == "01 00:00:00");
  // Errors.
  CHECK(sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=7m&startTime=0").status == 400);
  CHECK(sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&interval=1m").status == 400);
  CHECK(sim.Get("/api/v1/klines?interval=1m&startTime=0").status == 400);
}

TEST_CASE("backpack sim: klines leave quiet periods out; 1s and 1w from the core series",
          "[backpack_sim]") {
  Sim sim;  // rate 0: the generator does not move the mid, only /price and trades do
  simdjson::dom::parser jp;
  const int64_t t0 = sim.clock.Now() / 1000000000;
  const int64_t m0 = t0 / 60 * 60;
  // Three minutes and a bit with nothing priced, then a move.
  sim.clock.Advance((3 * 60 + 5) * 1000000000LL);
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"backpack","symbol":"SOL_USDC_PERP","mid":"190"})").status == 200);
  const int64_t t1 = t0 + 3 * 60 + 5;
  auto at = [](simdjson::dom::element c, const char* key) {  // "2025-07-19 13:09:00" → unix s
    std::tm tm{};
    std::string_view sv;
    REQUIRE(c.at_key(key).get(sv) == simdjson::SUCCESS);
    const std::string text(sv);
    REQUIRE(strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &tm) != nullptr);
    return static_cast<int64_t>(timegm(&tm));
  };
  auto get = [&](const std::string& query) {
    auto r = sim.Get("/api/v1/klines?symbol=SOL_USDC_PERP&" + query);
    REQUIRE(r.status == 200);
    return r.body;
  };
  // 1m: the opening minute and the minute of the move, no flat candles in between (module.h).
  simdjson::dom::array mins = jp.parse(get("interval=1m&startTime=" + std::to_string(m0))).get_array();
  REQUIRE(mins.size() == 2);
  CHECK(std::string_view(mins.at(0)["open"]) == "182.38");
  CHECK(at(mins.at(0), "start") == m0);
  CHECK(at(mins.at(0), "end") == m0 + 60);
  CHECK(std::string_view(mins.at(1)["open"]) == "190");
  // The move's own minute: m0 + 180, or m0 + 240 when the test started in a minute's last 5 s
  // (the full run failed once on exactly that).
  CHECK(at(mins.at(1), "start") == t1 / 60 * 60);
  // A quiet minute alone answers nothing.
  CHECK(get("interval=1m&startTime=" + std::to_string(m0 + 60) + "&endTime=" + std::to_string(m0 + 120)) ==
        "[]");
  // 1s: the opening second and the second of the move.
  simdjson::dom::array secs = jp.parse(get("interval=1s&startTime=" + std::to_string(t0))).get_array();
  REQUIRE(secs.size() == 2);
  CHECK(at(secs.at(0), "start") == t0);
  CHECK(std::string_view(secs.at(1)["open"]) == "190");
  CHECK(at(secs.at(1), "start") == t1);
  CHECK(at(secs.at(1), "end") == t1 + 1);
  // 1w: one candle over both, starting on a Monday 00:00 UTC and ending 7 days later; two
  // when the test started in a week's last 3 min 5 s (the clock starts at the real time: a
  // clean-clone run at Sunday 23:59 UTC failed on exactly that).
  auto week_of = [](int64_t t) { return (t / 86400 + 3) / 7; };  // 1970-01-05 was a Monday
  const bool split = week_of(t0) != week_of(t1);
  simdjson::dom::array weeks = jp.parse(get("interval=1w&startTime=0")).get_array();
  REQUIRE(weeks.size() == (split ? 2u : 1u));
  simdjson::dom::element last = weeks.at(weeks.size() - 1);
  CHECK(std::string_view(weeks.at(0)["open"]) == "182.38");
  CHECK(std::string_view(last["close"]) == "190");
  const int64_t week_start = at(weeks.at(0), "start");
  CHECK(week_start % 86400 == 0);
  CHECK((week_start / 86400 + 3) % 7 == 0);  // days since the epoch: 1970-01-05 was a Monday
  CHECK(week_start <= t0);
  CHECK(at(weeks.at(0), "end") == week_start + 7 * 86400);
  CHECK(t1 < at(last, "end"));
  if (split) CHECK(at(last, "start") == week_start + 7 * 86400);
}

TEST_CASE("backpack sim: public trade ids are sequential per symbol", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({bp::TradeStream("ETH_USDC_PERP"), bp::TradeStream("SOL_USDC_PERP")}));
  std::this_thread::sleep_for(100ms);
  // Interleave prints on two symbols (engine ids are shared), one taking two levels.
  auto take = [&](const char* ticker, const std::string& sym, int scale, const char* size) {
    const int64_t ask = BestPrice(sim, sym, true);
    auto r = sim.Place(Limit(ticker, Side::kBuy, Fixed(ask + 100, scale).c_str(), size, TimeInForce::kIoc), 0);
    REQUIRE(r.status == 200);
  };
  take("ETH", "ETH_USDC_PERP", 2, "0.0001");
  take("SOL", "SOL_USDC_PERP", 2, "0.01");
  auto asks = BookSide(sim, "ETH_USDC_PERP", true);
  take("ETH", "ETH_USDC_PERP", 2, Fixed(asks[0].size + 1, 4).c_str());  // two prints
  std::vector<int64_t> eth, sol;
  for (int n = 0; n < 4; ++n) {
    auto f = ws.ReadUntil("\"trade\"");
    REQUIRE(f);
    const std::string d = Field(*f, "data");
    (Field(d, "s") == "ETH_USDC_PERP" ? eth : sol).push_back(std::stoll(Field(d, "t")));
  }
  REQUIRE(eth.size() == 3);
  REQUIRE(sol.size() == 1);
  CHECK(eth[1] == eth[0] + 1);
  CHECK(eth[2] == eth[1] + 1);
  // REST lists carry the same ids.
  simdjson::dom::parser jp;
  simdjson::dom::array rest = jp.parse(sim.Get("/api/v1/trades?symbol=ETH_USDC_PERP").body).get_array();
  REQUIRE(rest.size() == 3);
  for (size_t k = 0; k < 3; ++k) CHECK(int64_t(rest.at(k)["id"]) == eth[k]);
}

TEST_CASE("backpack sim: kline stream", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({"kline.1m.SOL_USDC_PERP"}));
  // The open candle, once a second (the opening mid).
  auto open = ws.ReadUntil("\"kline\"", 3s);
  REQUIRE(open);
  std::string d = Field(*open, "data");
  CHECK(Field(*open, "stream") == "kline.1m.SOL_USDC_PERP");
  CHECK(Field(d, "s") == "SOL_USDC_PERP");
  CHECK(Field(d, "o") == "182.38");
  CHECK(Field(d, "X") == "false");
  CHECK(Field(d, "n") == "0");  // an integer
  const std::string t0 = Field(d, "t");
  REQUIRE(t0.size() == 19);
  CHECK(t0[10] == 'T');
  CHECK(t0.substr(17) == "00");
  // A move in the next minute: the finished candle once with X:true, then the new one.
  sim.clock.Advance(60LL * 1000000000);
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"backpack","symbol":"SOL_USDC_PERP","mid":"190"})").status == 200);
  auto closed = ws.ReadUntil("\"X\":true", 3s);
  REQUIRE(closed);
  CHECK(Field(Field(*closed, "data"), "t") == t0);
  auto next = ws.ReadUntil("\"X\":false", 3s);
  REQUIRE(next);
  CHECK(Field(Field(*next, "data"), "o") == "190");
  CHECK(Field(Field(*next, "data"), "t") == Field(Field(*closed, "data"), "T"));
}

// kline.1s.<symbol>: the 1s candles GET /api/v1/klines serves are streamed too (was 4006).
TEST_CASE("backpack sim: kline stream at 1s", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(bp::EncodeSubscribe({"kline.1s.SOL_USDC_PERP"}));
  auto open = ws.ReadUntil("\"kline\"", 3s);
  REQUIRE(open);
  CHECK(open->find("Invalid stream") == std::string::npos);
  std::string d = Field(*open, "data");
  CHECK(Field(*open, "stream") == "kline.1s.SOL_USDC_PERP");
  CHECK(Field(d, "X") == "false");
  const std::string t0 = Field(d, "t");
  REQUIRE(t0.size() == 19);
  // A second later with a move: the finished second (X:true), then the new one a second on.
  sim.clock.Advance(1000000000LL);
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"backpack","symbol":"SOL_USDC_PERP","mid":"190"})").status == 200);
  auto closed = ws.ReadUntil("\"X\":true", 3s);
  REQUIRE(closed);
  CHECK(Field(Field(*closed, "data"), "t") == t0);
  const std::string t1 = Field(Field(*closed, "data"), "T");
  CHECK(t1 != t0);
  auto next = ws.ReadUntil("\"X\":false", 3s);
  REQUIRE(next);
  CHECK(Field(Field(*next, "data"), "t") == t1);
  CHECK(Field(Field(*next, "data"), "o") == "190");
}

TEST_CASE("backpack sim: trigger orders park, list, fire on the mark and cancel", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  int64_t mark = 0;
  size_t sol = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    sol = m.Find("SOL_USDC_PERP")->index;
    mark = m.mark_price(sol);
  });
  auto place = [&](std::vector<std::pair<std::string, std::string>> fields) {
    fields.push_back({"symbol", "SOL_USDC_PERP"});
    return SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute", fields);
  };
  const std::string above = Fixed(mark + 200, 2), below = Fixed(mark - 300, 2);

  // 1. A market buy that fires when the mark rises 2 USDC: parked as TriggerPending, quantity
  //    "0" and the size in triggerQuantity (§10.1), on the stream as orderAccepted.
  auto buy = place({{"orderType", "Market"}, {"side", "Bid"}, {"triggerPrice", above},
                    {"triggerQuantity", "0.5"}, {"clientId", "501"}});
  REQUIRE(buy.status == 200);
  CHECK(Field(buy.body, "status") == "TriggerPending");
  CHECK(Field(buy.body, "quantity") == "0");
  CHECK(Field(buy.body, "triggerQuantity") == "0.5");
  CHECK(Field(buy.body, "triggerPrice") == Trimmed(mark + 200, 2));
  CHECK(Field(buy.body, "triggeredAt") == "null");
  auto ack = sim.codec.ParseOrderExecuteResponse(buy.status, buy.body, sim.symbols, nullptr);
  CHECK(ack.outcome == AckOutcome::kAccepted);
  CHECK(ack.order.status == OrderStatus::kOpen);  // the adapter reads TriggerPending as open
  const std::string buy_id = Field(buy.body, "id");
  auto parked = ws.ReadUntil("orderAccepted");
  REQUIRE(parked);
  const std::string pd = Field(*parked, "data");
  CHECK(Field(pd, "X") == "TriggerPending");
  CHECK(Field(pd, "P") == above);
  CHECK(Field(pd, "Y") == "0.50");
  CHECK(Field(pd, "o") == "MARKET");
  REQUIRE(sim.codec.ParseOrderUpdate(*parked, sim.symbols, nullptr, 1).ok());

  // 2. A stop-loss style limit sell below the mark (fires on a fall), with triggerBy echoed;
  //    one more above to cancel by id; a reduce-only buy above (fires right after the buy, which
  //    leaves a long it cannot reduce: refused when it fires).
  auto stop = place({{"orderType", "Limit"}, {"side", "Ask"}, {"price", below}, {"triggerPrice", below},
                     {"triggerQuantity", "0.3"}, {"triggerBy", "MarkPrice"}, {"clientId", "502"}});
  REQUIRE(stop.status == 200);
  CHECK(Field(stop.body, "status") == "TriggerPending");
  CHECK(Field(stop.body, "triggerBy") == "MarkPrice");
  CHECK(Field(stop.body, "price") == Trimmed(mark - 300, 2));
  auto other = place({{"orderType", "Limit"}, {"side", "Bid"}, {"price", Fixed(mark - 1000, 2)},
                      {"triggerPrice", above}, {"triggerQuantity", "0.2"}, {"clientId", "503"}});
  REQUIRE(other.status == 200);
  auto ro = place({{"orderType", "Market"}, {"side", "Bid"}, {"reduceOnly", "true"},
                   {"triggerPrice", above}, {"triggerQuantity", "0.1"}, {"clientId", "504"}});
  REQUIRE(ro.status == 200);
  CHECK(Field(ro.body, "status") == "TriggerPending");

  // 3. Listed among the open orders and found by clientId.
  auto open = sim.Query("/api/v1/orders", "orderQueryAll", {{"symbol", "SOL_USDC_PERP"}});
  REQUIRE(open.status == 200);
  auto listed = sim.codec.ParseOrders(open.body, sim.symbols, nullptr);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 4);
  auto one = sim.Query("/api/v1/order", "orderQuery", {{"symbol", "SOL_USDC_PERP"}, {"clientId", "502"}});
  REQUIRE(one.status == 200);
  CHECK(Field(one.body, "status") == "TriggerPending");
  auto account = sim.Query("/api/v1/account", "accountQuery");
  CHECK(Field(account.body, "triggerOrders") == "4");
  CHECK(Field(account.body, "limitOrders") == "0");

  // 4. Refusals: half a trigger, a TP limit price without its trigger, an unknown triggerBy,
  //    a trigger at the mark (attached TP/SL and LastPrice work: see the cases below).
  auto half = place({{"orderType", "Market"}, {"side", "Bid"}, {"triggerPrice", above}, {"quantity", "1"}});
  CHECK(half.status == 400);
  CHECK(Field(half.body, "message") == "Must specify both `triggerPrice` and `triggerQuantity` or neither");
  auto tpsl = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "0.1"},
                     {"takeProfitLimitPrice", above}});
  CHECK(tpsl.status == 400);
  CHECK(Field(tpsl.body, "message") == "`takeProfitLimitPrice` requires `takeProfitTriggerPrice`");
  auto now = place({{"orderType", "Market"}, {"side", "Bid"}, {"triggerPrice", Fixed(mark, 2)},
                    {"triggerQuantity", "0.1"}});
  CHECK(now.status == 400);
  CHECK(Field(now.body, "code") == "INVALID_PRICE");
  auto bogus = place({{"orderType", "Market"}, {"side", "Bid"}, {"triggerPrice", above},
                      {"triggerQuantity", "0.1"}, {"triggerBy", "Bogus"}});
  CHECK(bogus.status == 400);
  auto differ = place({{"orderType", "Market"}, {"side", "Bid"}, {"triggerPrice", above},
                       {"triggerQuantity", "0.1"}, {"quantity", "0.2"}});
  CHECK(differ.status == 400);

  // 5. Cancel a parked order by id: Cancelled, orderCancelled on the stream.
  bp::EncodedRequest cancel;
  cancel.params = {{"orderId", Field(other.body, "id")}, {"symbol", "SOL_USDC_PERP"}};
  cancel.body = "{\"orderId\":\"" + Field(other.body, "id") + "\",\"symbol\":\"SOL_USDC_PERP\"}";
  auto c = sim.Signed(http::verb::delete_, "/api/v1/order", "orderCancel", cancel);
  REQUIRE(c.status == 200);
  CHECK(Field(c.body, "status") == "Cancelled");
  auto cancelled = ws.ReadUntil("orderCancelled");
  REQUIRE(cancelled);
  CHECK(Field(Field(*cancelled, "data"), "c") == "503");

  // 6. The mark rises through the trigger: the market buy fires (triggerPlaced, orderAccepted,
  //    orderFill), then the reduce-only buy is refused (triggerFailed); the stop below waits.
  sim.server->Sync([&] { sim.venue().market().SetMid(sol, mark + 300); });
  auto placed = ws.ReadUntil("triggerPlaced");
  REQUIRE(placed);
  const std::string tp = Field(*placed, "data");
  CHECK(Field(tp, "i") == buy_id);
  CHECK(Field(tp, "X") == "New");
  CHECK(Field(tp, "c") == "501");
  REQUIRE(sim.codec.ParseOrderUpdate(*placed, sim.symbols, nullptr, 1).ok());
  auto accepted = ws.ReadUntil("orderAccepted");
  REQUIRE(accepted);
  CHECK(Field(Field(*accepted, "data"), "i") == buy_id);
  auto fill = ws.ReadUntil("orderFill");
  REQUIRE(fill);
  CHECK(Field(Field(*fill, "data"), "i") == buy_id);
  auto failed = ws.ReadUntil("triggerFailed");
  REQUIRE(failed);
  CHECK(Field(Field(*failed, "data"), "c") == "504");
  CHECK(Field(Field(*failed, "data"), "X") == "TriggerFailed");
  auto fu = sim.codec.ParseOrderUpdate(*failed, sim.symbols, nullptr, 1);
  REQUIRE(fu.ok());
  CHECK(fu->event.order.status == OrderStatus::kRejected);
  auto hist = sim.Query("/wapi/v1/history/orders", "orderHistoryQueryAll", {{"symbol", "SOL_USDC_PERP"}});
  REQUIRE(hist.status == 200);
  {
    simdjson::dom::parser p;
    std::map<std::string, std::string> status;
    for (auto e : p.parse(hist.body).get_array()) {
      status[std::string(std::string_view(e["id"]))] = std::string(std::string_view(e["status"]));
    }
    CHECK(status[buy_id] == "Filled");
    CHECK(status[Field(ro.body, "id")] == "TriggerFailed");
    CHECK(status[Field(stop.body, "id")] == "TriggerPending");
  }
  auto pos = sim.Query("/api/v1/position", "positionQuery");
  CHECK(Field(pos.body.substr(1, pos.body.size() - 2), "netQuantity") == "0.5");

  // 7. Cancel-all by kind: a plain resting bid stays when ConditionalOrder cancels the stop,
  //    and goes with RestingLimitOrder.
  auto plain = place({{"orderType", "Limit"}, {"side", "Bid"}, {"price", Fixed(mark - 1000, 2)},
                      {"quantity", "0.1"}, {"clientId", "505"}});
  REQUIRE(plain.status == 200);
  CHECK(Field(plain.body, "status") == "New");
  auto cancel_all = [&](const char* kind) {
    bp::EncodedRequest enc;
    enc.params = {{"orderType", kind}, {"symbol", "SOL_USDC_PERP"}};
    enc.body = std::string("{\"orderType\":\"") + kind + "\",\"symbol\":\"SOL_USDC_PERP\"}";
    return sim.Signed(http::verb::delete_, "/api/v1/orders", "orderCancelAll", enc);
  };
  auto cond = cancel_all("ConditionalOrder");
  REQUIRE(cond.status == 200);
  CHECK(cond.body.find(Field(stop.body, "id")) != std::string::npos);
  CHECK(cond.body.find(Field(plain.body, "id")) == std::string::npos);
  auto left = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK(left->front().order_id == Field(plain.body, "id"));
  auto resting = cancel_all("RestingLimitOrder");
  REQUIRE(resting.status == 200);
  CHECK(resting.body.find(Field(plain.body, "id")) != std::string::npos);
  CHECK(cancel_all("Bogus").status == 400);
}

TEST_CASE("backpack sim: trigger orders in a batch; a limit trigger rests when it fires", "[backpack_sim]") {
  Sim sim;
  int64_t mark = 0;
  size_t eth = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    eth = m.Find("ETH_USDC_PERP")->index;
    mark = m.mark_price(eth);
  });
  // ETH: price scale 2, size scale 4. A limit buy, triggered when the mark falls 5 USDC, that
  // rests 10 USDC below that mark.
  const std::string trig = Fixed(mark - 500, 2), px = Fixed(mark - 1500, 2);
  std::vector<std::vector<bp::SignParam>> items = {
      {{"orderType", "Limit"}, {"price", px}, {"side", "Bid"}, {"symbol", "ETH_USDC_PERP"},
       {"triggerPrice", trig}, {"triggerQuantity", "0.01"}},
  };
  const std::string body = "[{\"orderType\":\"Limit\",\"price\":\"" + px +
                           "\",\"side\":\"Bid\",\"symbol\":\"ETH_USDC_PERP\",\"triggerPrice\":\"" +
                           trig + "\",\"triggerQuantity\":\"0.01\"}]";
  auto headers = sim.signer.SignBatch("orderExecute", items, sim.NowMs());
  REQUIRE(headers.ok());
  auto r = Call(sim.port, http::verb::post, "/api/v1/orders", body,
                {{"X-API-Key", headers->api_key}, {"X-Signature", headers->signature},
                 {"X-Timestamp", headers->timestamp}, {"X-Window", headers->window}});
  REQUIRE(r.status == 200);
  const std::string item = r.body.substr(1, r.body.size() - 2);
  CHECK(Field(item, "status") == "TriggerPending");
  const std::string id = Field(item, "id");
  sim.server->Sync([&] { sim.venue().market().SetMid(eth, mark - 600); });
  auto q = sim.Query("/api/v1/order", "orderQuery", {{"symbol", "ETH_USDC_PERP"}, {"orderId", id}});
  REQUIRE(q.status == 200);
  CHECK(Field(q.body, "status") == "New");
  CHECK(Field(q.body, "quantity") == "0.01");
  CHECK(Field(q.body, "triggerQuantity") == "0.01");
  CHECK(Field(q.body, "triggeredAt") != "null");

  // A market trigger with a slippage bound measures it from triggerPrice (where it trades),
  // not from the book at placement: 3 USDC (300 ticks) above a trigger 5 USDC up still fills.
  int64_t mark2 = 0, ask = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark2 = m.mark_price(eth);
    ask = m.book(eth).BestAsk()->price;
  });
  REQUIRE(ask - mark2 < 300);
  auto slip = SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute",
                         {{"orderType", "Market"}, {"side", "Bid"}, {"symbol", "ETH_USDC_PERP"},
                          {"triggerPrice", Fixed(mark2 + 500, 2)}, {"triggerQuantity", "0.01"},
                          {"slippageTolerance", "300"}, {"slippageToleranceType", "TickSize"}});
  REQUIRE(slip.status == 200);
  sim.server->Sync([&] { sim.venue().market().SetMid(eth, mark2 + 500); });
  auto hist = sim.Query("/wapi/v1/history/orders", "orderHistoryQueryAll", {{"limit", "1"}});
  REQUIRE(hist.status == 200);
  const std::string last = hist.body.substr(1, hist.body.size() - 2);
  CHECK(Field(last, "id") == Field(slip.body, "id"));
  CHECK(Field(last, "status") == "Filled");
}

namespace {

// The open order of `body` (an array) with this id, as a JSON object text ("" when absent).
std::string OrderById(const std::string& body, const std::string& id) {
  simdjson::dom::parser p;
  for (auto e : p.parse(body).get_array()) {
    if (std::string_view(e["id"]) == id) return simdjson::minify(e);
  }
  return "";
}

// Frames until an orderUpdate event `ev` for order `id` (nullopt on timeout).
std::optional<std::string> ReadEventFor(WsClient& ws, const std::string& ev, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = ws.ReadUntil("\"" + ev + "\"");
    if (!f) return std::nullopt;
    if (Field(Field(*f, "data"), "i") == id) return f;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("backpack sim: attached take-profit / stop-loss (one cancels the other)", "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  int64_t mark = 0;
  size_t sol = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    sol = m.Find("SOL_USDC_PERP")->index;
    mark = m.mark_price(sol);
  });
  auto place = [&](std::vector<std::pair<std::string, std::string>> fields) {
    fields.push_back({"symbol", "SOL_USDC_PERP"});
    return SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute", fields);
  };
  const std::string tp_px = Fixed(mark + 200, 2), sl_px = Fixed(mark - 300, 2),
                    sl_limit = Fixed(mark - 310, 2);

  // Wrong sides (a buy's take-profit below its stop-loss) and a lone trigger-by: refused.
  auto wrong = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "0.5"},
                      {"takeProfitTriggerPrice", sl_px}, {"stopLossTriggerPrice", tp_px}});
  CHECK(wrong.status == 400);
  CHECK(Field(wrong.body, "code") == "INVALID_PRICE");
  auto lone = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "0.5"},
                     {"stopLossTriggerBy", "MarkPrice"}});
  CHECK(lone.status == 400);

  // A limit buy below the market with TP/SL, cancelled before it fills: nothing is created.
  auto unfilled = place({{"orderType", "Limit"}, {"side", "Bid"}, {"price", Fixed(mark - 1000, 2)},
                         {"quantity", "0.5"}, {"takeProfitTriggerPrice", tp_px}});
  REQUIRE(unfilled.status == 200);
  CHECK(Field(unfilled.body, "takeProfitTriggerPrice") == Trimmed(mark + 200, 2));
  bp::EncodedRequest cancel;
  cancel.params = {{"orderId", Field(unfilled.body, "id")}, {"symbol", "SOL_USDC_PERP"}};
  cancel.body = "{\"orderId\":\"" + Field(unfilled.body, "id") + "\",\"symbol\":\"SOL_USDC_PERP\"}";
  REQUIRE(sim.Signed(http::verb::delete_, "/api/v1/order", "orderCancel", cancel).status == 200);
  auto none = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(none.ok());
  CHECK(none->empty());

  // A market buy with both: filled, the fields echoed on REST and the stream (a/b/k/d/g).
  auto buy = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "0.5"}, {"clientId", "601"},
                    {"takeProfitTriggerPrice", tp_px}, {"takeProfitTriggerBy", "MarkPrice"},
                    {"stopLossTriggerPrice", sl_px}, {"stopLossLimitPrice", sl_limit},
                    {"stopLossTriggerBy", "LastPrice"}});
  REQUIRE(buy.status == 200);
  const std::string parent = Field(buy.body, "id");
  CHECK(Field(buy.body, "status") == "Filled");
  CHECK(Field(buy.body, "takeProfitTriggerPrice") == Trimmed(mark + 200, 2));
  CHECK(Field(buy.body, "takeProfitTriggerBy") == "MarkPrice");
  CHECK(Field(buy.body, "takeProfitLimitPrice") == "null");
  CHECK(Field(buy.body, "stopLossTriggerPrice") == Trimmed(mark - 300, 2));
  CHECK(Field(buy.body, "stopLossLimitPrice") == Trimmed(mark - 310, 2));
  CHECK(Field(buy.body, "stopLossTriggerBy") == "LastPrice");
  auto accepted = ReadEventFor(ws, "orderAccepted", parent);
  REQUIRE(accepted);
  const std::string ad = Field(*accepted, "data");
  CHECK(Field(ad, "a") == tp_px);
  CHECK(Field(ad, "b") == sl_px);
  CHECK(Field(ad, "k") == sl_limit);
  CHECK(Field(ad, "d") == "MarkPrice");
  CHECK(Field(ad, "g") == "LastPrice");
  REQUIRE(sim.codec.ParseOrderUpdate(*accepted, sim.symbols, nullptr, 1).ok());

  // Two reduce-only sells parked for the filled size, each naming the parent.
  auto open = sim.Query("/api/v1/orders", "orderQueryAll", {{"symbol", "SOL_USDC_PERP"}});
  REQUIRE(open.status == 200);
  auto listed = sim.codec.ParseOrders(open.body, sim.symbols, nullptr);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  std::string tp_id, sl_id;
  {
    simdjson::dom::parser p;
    for (auto e : p.parse(open.body).get_array()) {
      const std::string row = simdjson::minify(e);
      CHECK(Field(row, "relatedOrderId") == parent);
      CHECK(Field(row, "status") == "TriggerPending");
      CHECK(Field(row, "side") == "Ask");
      CHECK(Field(row, "reduceOnly") == "true");
      CHECK(Field(row, "triggerQuantity") == "0.5");
      (Field(row, "triggerPrice") == Trimmed(mark + 200, 2) ? tp_id : sl_id) =
          std::string(std::string_view(e["id"]));
    }
  }
  REQUIRE(!tp_id.empty());
  REQUIRE(!sl_id.empty());
  CHECK(Field(OrderById(open.body, sl_id), "price") == Trimmed(mark - 310, 2));
  CHECK(Field(OrderById(open.body, sl_id), "triggerBy") == "LastPrice");
  CHECK(Field(OrderById(open.body, tp_id), "orderType") == "Market");
  auto child = ReadEventFor(ws, "orderAccepted", tp_id);
  REQUIRE(child);
  CHECK(Field(Field(*child, "data"), "I") == parent);
  CHECK(Field(Field(*child, "data"), "X") == "TriggerPending");

  // The mark rises to the take-profit: it fires and closes the long, the stop-loss is cancelled.
  sim.server->Sync([&] { sim.venue().market().SetMid(sol, mark + 300); });
  REQUIRE(ReadEventFor(ws, "orderCancelled", sl_id));
  REQUIRE(ReadEventFor(ws, "triggerPlaced", tp_id));
  REQUIRE(ReadEventFor(ws, "orderFill", tp_id));
  auto pos = sim.Query("/api/v1/position", "positionQuery");
  CHECK(pos.body.find("\"netQuantity\":\"0.5\"") == std::string::npos);
  auto left = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(left.ok());
  CHECK(left->empty());
}

// The position an attached TP/SL pair guards is closed by hand (a plain market sell): both
// children go (orderCancelled), nothing stays armed on the flat position.
TEST_CASE("backpack sim: TP/SL children cancelled when the position is closed manually",
          "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("SOL_USDC_PERP")->index);
  });
  auto place = [&](std::vector<std::pair<std::string, std::string>> fields) {
    fields.push_back({"symbol", "SOL_USDC_PERP"});
    return SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute", fields);
  };
  auto buy = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "0.5"},
                    {"takeProfitTriggerPrice", Fixed(mark + 200, 2)},
                    {"stopLossTriggerPrice", Fixed(mark - 300, 2)}});
  REQUIRE(buy.status == 200);
  auto open = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 2);
  std::vector<std::string> ids;
  {
    simdjson::dom::parser p;
    for (auto e : p.parse(sim.Query("/api/v1/orders", "orderQueryAll").body).get_array()) {
      ids.emplace_back(std::string_view(e["id"]));
    }
  }
  // A partial manual close leaves them (the position still needs them).
  REQUIRE(place({{"orderType", "Market"}, {"side", "Ask"}, {"quantity", "0.2"}}).status == 200);
  std::this_thread::sleep_for(100ms);
  auto still = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(still.ok());
  CHECK(still->size() == 2);
  // Closing the rest: both children cancelled.
  REQUIRE(place({{"orderType", "Market"}, {"side", "Ask"}, {"quantity", "0.3"}}).status == 200);
  std::set<std::string> cancelled;
  while (cancelled.size() < 2) {
    auto f = ws.ReadUntil("\"orderCancelled\"");
    if (!f) break;
    cancelled.insert(Field(Field(*f, "data"), "i"));
  }
  CHECK(cancelled == std::set<std::string>(ids.begin(), ids.end()));
  REQUIRE(WaitUntil([&] {
    auto left = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
    return left.ok() && left->empty();
  }));
}

TEST_CASE("backpack sim: triggerBy LastPrice fires on the last trade, not the mark", "[backpack_sim]") {
  Sim sim;
  int64_t mark = 0;
  size_t sol = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    sol = m.Find("SOL_USDC_PERP")->index;
    mark = m.mark_price(sol);
  });
  auto place = [&](std::vector<std::pair<std::string, std::string>> fields) {
    fields.push_back({"symbol", "SOL_USDC_PERP"});
    return SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute", fields);
  };
  // The third ask level: a buy sweeping three levels prints there.
  const std::vector<Level> asks = BookSide(sim, "SOL_USDC_PERP", true);
  REQUIRE(asks.size() >= 3);
  REQUIRE(asks[2].price > mark);
  const std::string trigger = Fixed(asks[2].price, 2);
  const std::string far = Fixed(mark + 5000, 2);
  auto by_last = place({{"orderType", "Limit"}, {"side", "Ask"}, {"price", far}, {"triggerPrice", trigger},
                        {"triggerQuantity", "0.1"}, {"triggerBy", "LastPrice"}});
  auto by_mark = place({{"orderType", "Limit"}, {"side", "Ask"}, {"price", far}, {"triggerPrice", trigger},
                        {"triggerQuantity", "0.1"}, {"triggerBy", "MarkPrice"}});
  REQUIRE(by_last.status == 200);
  REQUIRE(by_mark.status == 200);
  CHECK(Field(by_last.body, "status") == "TriggerPending");
  CHECK(Field(by_last.body, "triggerBy") == "LastPrice");
  int64_t sweep = asks[0].size + asks[1].size + asks[2].size;
  int size_scale = 0;
  sim.server->Sync([&] { size_scale = sim.venue().market().instrument(sol).size_scale; });
  auto buy = place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", Fixed(sweep, size_scale)}});
  REQUIRE(buy.status == 200);
  int64_t mark_now = 0;
  sim.server->Sync([&] { mark_now = sim.venue().market().mark_price(sol); });
  REQUIRE(mark_now < asks[2].price);
  auto q = [&](const HttpResult& r) {
    return sim.Query("/api/v1/order", "orderQuery", {{"orderId", Field(r.body, "id")}, {"symbol", "SOL_USDC_PERP"}});
  };
  auto fired = q(by_last);
  CHECK(Field(fired.body, "status") == "New");  // fired; rests far above the market
  CHECK(Field(fired.body, "triggeredAt") != "null");
  CHECK(Field(q(by_mark).body, "status") == "TriggerPending");
}

TEST_CASE("backpack sim: a resting reduce-only order shrinks with the position (orderModified)",
          "[backpack_sim]") {
  Sim sim;
  WsClient ws(sim.port);
  sim.WaitConnections(1);
  ws.Send(sim.PrivateSubscribeFrame(sim.signer));
  std::this_thread::sleep_for(100ms);
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("SOL_USDC_PERP")->index);
  });
  auto place = [&](std::vector<std::pair<std::string, std::string>> fields) {
    fields.push_back({"symbol", "SOL_USDC_PERP"});
    return SignedBody(sim, http::verb::post, "/api/v1/order", "orderExecute", fields);
  };
  REQUIRE(place({{"orderType", "Market"}, {"side", "Bid"}, {"quantity", "1"}}).status == 200);
  auto ro = place({{"orderType", "Limit"}, {"side", "Ask"}, {"price", Fixed(mark + 1000, 2)},
                   {"quantity", "1"}, {"reduceOnly", "true"}, {"clientId", "701"}});
  REQUIRE(ro.status == 200);
  CHECK(Field(ro.body, "status") == "New");
  const std::string id = Field(ro.body, "id");

  // The long shrinks to 0.6: the order follows, same id, orderModified with the new q.
  REQUIRE(place({{"orderType", "Market"}, {"side", "Ask"}, {"quantity", "0.4"}}).status == 200);
  auto mod = ReadEventFor(ws, "orderModified", id);
  REQUIRE(mod);
  const std::string md = Field(*mod, "data");
  CHECK(Decimal::Parse(Field(md, "q"))->ToNormalizedString() == "0.6");
  CHECK(Field(md, "X") == "New");
  CHECK(Field(md, "c") == "701");
  CHECK(Field(md, "r") == "true");
  auto parsed = sim.codec.ParseOrderUpdate(*mod, sim.symbols, nullptr, 1);
  REQUIRE(parsed.ok());
  CHECK(parsed->event.order.status == OrderStatus::kOpen);
  auto rest = sim.Query("/api/v1/order", "orderQuery", {{"orderId", id}, {"symbol", "SOL_USDC_PERP"}});
  CHECK(Field(rest.body, "quantity") == "0.6");

  // Flat: the order goes (orderExpired, ReduceOnlyNotReduced).
  REQUIRE(place({{"orderType", "Market"}, {"side", "Ask"}, {"quantity", "0.6"}}).status == 200);
  auto gone = ReadEventFor(ws, "orderExpired", id);
  REQUIRE(gone);
  CHECK(Field(Field(*gone, "data"), "R") == "ReduceOnlyNotReduced");
  auto left = sim.codec.ParseOrders(sim.Query("/api/v1/orders", "orderQueryAll").body, sim.symbols, nullptr);
  REQUIRE(left.ok());
  CHECK(left->empty());
}

}  // namespace perpgw::sim::backpack
