// Loopback tests of perpgw-sim's Paradex module: the sim's SBE encoder reproduces the recorded
// frames byte for byte; every payload is read back with the Paradex adapter's codec, feed and
// signing (the fidelity check); an SBE book (deltas feed) kept with BookSync(kMonotonic) equals
// the ground truth's top 15; Stark-signed auth gives a JWT, signed orders round trip through
// 201 NEW and the orders/fills channels; bad signatures, missing or expired JWTs and bad SBE
// negotiation are refused. Real sockets on 127.0.0.1:0.
#include <catch2/catch.hpp>

#include <simdjson.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "adapters/api/order_book.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/feed.h"
#include "adapters/paradex/sbe.h"
#include "adapters/paradex/signing.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"
#include "sim/paradex/internal.h"
#include "sim/paradex/module.h"

namespace perpgw::sim::paradex {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace px = perpgw::adapters::paradex;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;
  std::string body;
};

HttpResult Call(int port, http::verb verb, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

struct Frame {
  std::string bytes;
  bool binary = false;
};

class WsClient {
 public:
  WsClient(int port, const std::string& target) : ws_(io_) {
    ws_.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    beast::error_code ec;
    ws_.handshake("127.0.0.1", target, ec);
    handshake_error_ = ec;
  }
  bool ok() const { return !handshake_error_; }
  std::optional<Frame> Read(std::chrono::milliseconds timeout = 3000ms) {
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
    Frame f{beast::buffers_to_string(buf_.data()), ws_.got_binary()};
    buf_.consume(buf_.size());
    return f;
  }
  // First text frame containing `needle` (others skipped).
  std::optional<std::string> ReadText(const std::string& needle,
                                      std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto f = Read(std::max(left, 1ms));
      if (f && !f->binary && f->bytes.find(needle) != std::string::npos) return f->bytes;
    }
    return std::nullopt;
  }
  void Send(const std::string& s) {
    ws_.text(true);
    ws_.write(asio::buffer(s));
  }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  bool pending_ = false, done_ = false, closed_ = false;
  beast::error_code ec_, handshake_error_;
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

// The elements of the array at `key` of a JSON object, each as JSON text ("null" for nulls).
std::vector<std::string> Elements(const std::string& json, const char* key = "results") {
  simdjson::dom::parser p;
  simdjson::dom::array a;
  std::vector<std::string> out;
  if (p.parse(json)[key].get(a)) return out;
  for (simdjson::dom::element e : a) out.push_back(simdjson::to_string(e));
  return out;
}

// The channel of a subscription push ("" otherwise).
std::string PushChannel(const std::string& frame) {
  simdjson::dom::parser p;
  std::string_view ch;
  if (p.parse(frame)["params"]["channel"].get(ch)) return {};
  return std::string(ch);
}

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(PERPGW_TEST_DATA) + "/paradex/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FromHex(std::string_view hex) {
  std::string out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nib(hex[i]) << 4 | nib(hex[i + 1])));
  }
  return out;
}

// The sim with only the Paradex module, generator off until a test turns it on.
struct Sim {
  ManualClock clock{SystemClock::Instance().Now()};
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0, control = 0;
  px::Codec codec;
  px::SymbolTable symbols;
  px::StarkKey key = *px::StarkKey::FromPrivateHex(kKey1);

  Sim() {
    SimConfig c;
    c.seed = 11;
    c.rate = 0;
    c.depth = 30;
    c.funding_timer = false;
    server = std::make_unique<Server>(c, &clock);
    REQUIRE(server->AddVenue(MakeModule(), VenueConfig{}).ok());
    REQUIRE(server->Start().ok());
    thread = std::thread([this] { server->Run(); });
    server->Sync([&] {
      port = server->venue("paradex")->port();
      control = server->control_port();
    });
    auto m = codec.ParseMarkets(Get("/v1/markets").body);
    REQUIRE(m.ok());
    for (Instrument i : *m) {
      WidenBookScales(&i);
      symbols.Add(i);
    }
  }
  ~Sim() {
    server->Stop();
    thread.join();
  }
  Venue& venue() { return *server->venue("paradex"); }
  const Instrument& Inst(const std::string& venue_symbol) {
    const Instrument* in = symbols.ByVenueSymbol(venue_symbol);
    REQUIRE(in != nullptr);
    return *in;
  }
  HttpResult Get(const std::string& target, const std::string& jwt = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!jwt.empty()) h.push_back({"Authorization", "Bearer " + jwt});
    return Call(port, http::verb::get, target, "", h);
  }
  HttpResult Control(http::verb verb, const std::string& target, const std::string& body = "") {
    return Call(control, verb, target, body);
  }
  int64_t NowS() const { return clock.Now() / 1'000'000'000; }
  int64_t NowMs() const { return clock.Now() / 1'000'000; }

  // POST /v1/auth the way the adapter will: headers from the signing stack.
  HttpResult AuthCall(const px::StarkKey& k, const std::string& account, int64_t ts_offset = 0,
                      const std::string& path = "/v1/auth") {
    auto h = px::AuthHeaders(k, kChainId, account, NowS() + ts_offset, NowS() + ts_offset + 180);
    REQUIRE(h.ok());
    return Call(port, http::verb::post, path, "", *h);
  }
  std::string Jwt() {
    HttpResult r = AuthCall(key, kAddress1);
    REQUIRE(r.status == 200);
    auto jwt = codec.ParseAuth(r.body);
    REQUIRE(jwt.ok());
    return *jwt;
  }
  // A signed POST /v1/orders body, as the adapter builds it.
  std::string SignedBody(const OrderRequest& req, const std::string& cid,
                         const px::StarkKey* signer = nullptr, const char* address = kAddress1) {
    const Instrument& in = Inst(symbols.VenueSymbolFor(req.symbol));
    auto enc = px::EncodeOrderFields(req, in, cid, static_cast<uint64_t>(NowMs()));
    REQUIRE(enc.ok());
    auto hash = px::OrderMessageHash(kChainId, *px::ParseFelt(address), enc->signed_fields);
    REQUIRE(hash.ok());
    auto sig = (signer ? *signer : key).Sign(*hash);
    REQUIRE(sig.ok());
    return px::EncodeOrderBody(req, in, *enc, cid, px::SignatureJson(*sig), 0);
  }
  HttpResult Place(const std::string& jwt, const OrderRequest& req, const std::string& cid,
                   const px::StarkKey* signer = nullptr, const char* address = kAddress1) {
    return Call(port, http::verb::post, "/v1/orders", SignedBody(req, cid, signer, address),
                {{"Authorization", "Bearer " + jwt}});
  }
  HttpResult Send(http::verb verb, const std::string& target, const std::string& body,
                  const std::string& jwt) {
    return Call(port, verb, target, body, {{"Authorization", "Bearer " + jwt}});
  }
  void WaitConnections(size_t n) {
    REQUIRE(WaitUntil([&] {
      size_t c = 0;
      server->Sync([&] { c = venue().connections().size(); });
      return c >= n;
    }));
  }
};

OrderRequest Limit(const std::string& ticker, Side side, const std::string& price, const char* size,
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

int64_t BestPrice(Sim& sim, const std::string& symbol, bool ask) {
  int64_t p = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    const OrderBook& b = m.book(m.Find(symbol)->index);
    p = ask ? b.BestAsk()->price : b.BestBid()->price;
  });
  return p;
}

}  // namespace

TEST_CASE("paradex sim: the SBE encoder reproduces every recorded frame", "[paradex_sim]") {
  simdjson::dom::parser parser;
  std::string json = ReadData("sbe/frames.json");
  simdjson::dom::array frames = parser.parse(json)["frames"].get_array().value();
  auto dec = [](simdjson::dom::element d, const char* k) -> int64_t {
    simdjson::dom::element v = d[k].value();
    if (v.is_null()) return kSbeNull;
    return *SbeFromText(std::string_view(v.get_string().value()));
  };
  auto num = [](simdjson::dom::element d, const char* k) { return d[k].get_int64().value(); };
  int checked = 0;
  for (simdjson::dom::element f : frames) {
    std::string name(f["name"].get_string().value());
    INFO(name);
    std::string want = FromHex(std::string_view(f["hex"].get_string().value()));
    simdjson::dom::element d = f["decoded"].value();
    int v = static_cast<int>(f["acting_version"].get_int64().value());
    std::string msg(f["message"].get_string().value());
    std::string got;
    std::string market = d["market"].error() ? "" : std::string(d["market"].get_string().value());
    if (msg == "BookEvent") {
      std::vector<SbeLevel> bids, asks;
      for (auto l : d["bids"].get_array()) bids.push_back({dec(l, "price"), dec(l, "size")});
      for (auto l : d["asks"].get_array()) asks.push_back({dec(l, "price"), dec(l, "size")});
      got = SbeBook(v, num(d, "ts"), num(d, "seq"),
                    std::string_view(d["pkgType"].get_string().value()) == "SNAPSHOT", bids, asks,
                    market);
    } else if (msg == "BboEvent") {
      got = SbeBbo(v, num(d, "ts"), num(d, "seq"), dec(d, "bidPrice"), dec(d, "bidSize"),
                   dec(d, "askPrice"), dec(d, "askSize"), market);
    } else if (msg == "TradeEvent") {
      // The recorded id is the 28-digit one from ws_trades.json.
      got = SbeTrade(v, num(d, "ts"), num(d, "seq"), "1718179273230201709233240002", 1,
                     dec(d, "price"), dec(d, "size"), num(d, "createdAt"), 1, market);
    } else if (msg == "MarketSummaryEvent") {
      SbeSummary s;
      s.ts_us = num(d, "ts");
      s.seq = num(d, "seq");
      s.mark = dec(d, "markPrice");
      s.index = dec(d, "indexPrice");
      s.last = dec(d, "lastPrice");
      s.volume_24h = dec(d, "volumeUsd24h");
      s.open_interest = dec(d, "openInterest");
      s.funding_rate = dec(d, "fundingRate");
      s.bid = dec(d, "bid");
      s.ask = dec(d, "ask");
      s.total_volume = dec(d, "totalVolume");
      s.price_change_24h = dec(d, "priceChangeRate24h");
      s.bid_size = dec(d, "bidSize");
      s.ask_size = dec(d, "askSize");
      if (v >= 1) {
        s.funding_rate_precise =
            *SbeFromText(std::string_view(d["fundingRatePrecise"].get_string().value()), 12);
      }
      got = SbeMarketSummary(v, s, market);
    } else if (msg == "FundingDataEvent") {
      SbeFunding fd;
      fd.ts_us = num(d, "ts");
      fd.seq = num(d, "seq");
      fd.rate = dec(d, "fundingRate");
      fd.index = dec(d, "fundingIndex");
      fd.created_us = num(d, "createdAt");
      fd.premium = dec(d, "fundingPremium");
      fd.rate_8h = dec(d, "fundingRate8h");
      fd.period_hours = static_cast<int16_t>(num(d, "fundingPeriodHours"));
      got = SbeFundingData(v, fd, market);
    } else if (msg == "HeartbeatEvent") {
      got = SbeHeartbeat(v, num(d, "ts"), num(d, "seq"));
    } else if (msg == "FundingRateComparisonEvent") {
      // The server-produced golden frame from paradex-py's tests.
      got = SbeFundingRateComparison(v, num(d, "ts"), num(d, "lastUpdatedAt"), 100000000, 1, 1,
                                     market);
    }
    CHECK(got == want);
    ++checked;
  }
  CHECK(checked == 12);
  // Text → SBE mantissa: truncation toward zero beyond 8 places.
  CHECK(*SbeFromText("-0.00014969570582") == -14969);
  CHECK(*SbeFromText("42000.50") == 4200050000000);
  CHECK_FALSE(SbeFromText("1e5").has_value());
  CHECK(ToSbe(123, 1) == 1230000000);
  CHECK(ToSbe(123456789, 10) == 1234567);
}

namespace {
// The member names of a JSON object ("_"-prefixed sample annotations left out).
std::set<std::string> Keys(simdjson::dom::element e) {
  std::set<std::string> out;
  simdjson::dom::object o;
  if (e.get(o)) return out;
  for (auto [k, v] : o) {
    if (!k.empty() && k[0] != '_') out.insert(std::string(k));
  }
  return out;
}
bool Has(simdjson::dom::element e, const char* key) {
  simdjson::dom::element v;
  return e[key].get(v) == simdjson::SUCCESS;
}
std::set<std::string> Missing(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::set<std::string> m;
  for (const auto& k : want) {
    if (!got.count(k)) m.insert(k);
  }
  return m;
}
}  // namespace

TEST_CASE("paradex sim: markets and markets_summary carry every field of the samples",
          "[paradex_sim]") {
  Sim sim;
  simdjson::dom::parser ps, pg;
  // GET /markets: every member of the sample's perp rows (option-only members aside).
  std::set<std::string> want;
  const std::string markets_sample = ReadData("rest_markets.json");
  // The array is a named local: a range over `get_array().value()` of a temporary result
  // dangles (ASan: stack-use-after-scope).
  simdjson::dom::array market_rows;
  REQUIRE(!ps.parse(markets_sample)["results"].get_array().get(market_rows));
  for (simdjson::dom::element r : market_rows) {
    if (std::string_view(r["asset_kind"]) != "PERP") continue;
    for (const auto& k : Keys(r)) want.insert(k);
  }
  REQUIRE(want.count("price_feed_id"));
  const std::string markets = sim.Get("/v1/markets").body;
  simdjson::dom::element got = pg.parse(markets)["results"].at(0);
  CHECK(Missing(want, Keys(got)).empty());
  for (const auto& k : Missing(want, Keys(got))) UNSCOPED_INFO("markets: " << k);
  CHECK(got["tags"].is_array());
  CHECK(got["funding_multiplier"].is_int64());

  // GET /markets/summary: the members of both sample rows (the older capture's oracle_price
  // and the newer one's external_fair_price / greeks).
  want.clear();
  simdjson::dom::parser ps2, pg2;
  const std::string summary_sample = ReadData("rest_markets_summary.json");
  simdjson::dom::array summary_rows;
  REQUIRE(!ps2.parse(summary_sample)["results"].get_array().get(summary_rows));
  for (simdjson::dom::element r : summary_rows) {
    for (const auto& k : Keys(r)) want.insert(k);
  }
  const std::string summary = sim.Get("/v1/markets/summary?market=BTC-USD-PERP").body;
  simdjson::dom::element row = pg2.parse(summary)["results"].at(0);
  for (const auto& k : Missing(want, Keys(row))) UNSCOPED_INFO("summary: " << k);
  CHECK(Missing(want, Keys(row)).empty());
  CHECK(std::string(std::string_view(row["greeks"]["delta"])) == "1");
  CHECK(std::string(std::string_view(row["oracle_price"])) ==
        std::string(std::string_view(row["mark_price"])));

  // WS markets_summary (JSON mode): the sample push's members.
  simdjson::dom::parser ps3, pg3;
  const std::string ws_sample = ReadData("ws_markets_summary.json");
  simdjson::dom::element sample_doc = ps3.parse(ws_sample);
  simdjson::dom::element sample_push = sample_doc;
  simdjson::dom::array frames;
  if (!sample_doc["frames"].get(frames)) sample_push = frames.at(0);
  want = Keys(sample_push["params"]["data"]);
  REQUIRE(want.count("oracle_price"));
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  ws.Send(px::EncodeSubscribe("markets_summary", 1));
  auto push = ws.ReadText("\"channel\":\"markets_summary\",\"data\"");
  REQUIRE(push);
  simdjson::dom::element data = pg3.parse(*push)["params"]["data"];
  for (const auto& k : Missing(want, Keys(data))) UNSCOPED_INFO("ws summary: " << k);
  CHECK(Missing(want, Keys(data)).empty());
}

TEST_CASE("paradex sim: volume and open interest carry the market baseline, REST and WS agree",
          "[paradex_sim]") {
  Sim sim;
  // No sim account holds a position: open interest is the baseline alone, still > 0 (the
  // gateway's min_open_interest_usd filter), and the 24 h volume is at least the baseline's.
  const std::vector<InstrumentSpec> specs = ParadexModule().DefaultInstruments();
  auto btc = ResolveInstrument(specs[0], 0);
  REQUIRE(btc.ok());
  REQUIRE(btc->symbol() == "BTC-USD-PERP");
  const MarketBaseline base = BaselineFor(*btc);
  CHECK(base.daily_volume == int64_t{5'815'541} * 100'000'000);  // the spec sample's scale
  auto rest = sim.codec.ParseMarketsSummary(sim.Get("/v1/markets/summary?market=BTC-USD-PERP").body);
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 1);
  const px::MarketSummary& r = rest->at(0);
  CHECK(r.open_interest > Decimal());
  // Open interest in USD is the baseline's (to one step: it is whole steps at the mark).
  const double oi_usd = r.open_interest.ToDouble() * r.mark_price.ToDouble();
  CHECK(oi_usd > 1e6);
  CHECK(oi_usd <= base.oi_usd / 1e8);
  CHECK(oi_usd > base.oi_usd / 1e8 - r.mark_price.ToDouble() * 0.001);
  CHECK(r.volume_24h_usd >= Decimal::FromUnits(base.daily_volume, 8));
  CHECK(r.total_volume_usd >= r.volume_24h_usd);

  // WS markets_summary in JSON and in SBE: the same figures (rate 0, manual clock: the mark and
  // the volume do not move).
  WsClient json(sim.port, "/v1");
  REQUIRE(json.ok());
  json.Send(px::EncodeSubscribe("markets_summary", 1));
  std::optional<px::MarketSummary> from_json;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!from_json && std::chrono::steady_clock::now() < deadline) {
    auto push = json.ReadText("\"channel\":\"markets_summary\",\"data\"");
    REQUIRE(push);
    auto s = sim.codec.ParseWsMarketsSummary(*push);
    REQUIRE(s.ok());
    if (s->venue_symbol == "BTC-USD-PERP") from_json = *s;
  }
  REQUIRE(from_json);
  CHECK(from_json->volume_24h_usd == r.volume_24h_usd);
  CHECK(from_json->total_volume_usd == r.total_volume_usd);
  CHECK(from_json->open_interest == r.open_interest);

  WsClient sbe(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  REQUIRE(sbe.ok());
  sbe.Send(px::EncodeSubscribe("markets_summary", 1));
  std::optional<px::MarketSummary> from_sbe;
  deadline = std::chrono::steady_clock::now() + 5s;
  while (!from_sbe && std::chrono::steady_clock::now() < deadline) {
    auto f = sbe.Read();
    REQUIRE(f);
    if (!f->binary) continue;
    px::sbe::Header h;
    REQUIRE(px::sbe::ReadHeader(f->bytes, &h).ok());
    if (h.template_id != static_cast<uint16_t>(px::sbe::TemplateId::kMarketSummary)) continue;
    px::sbe::MarketSummaryEvent e;
    REQUIRE(px::sbe::Decode(f->bytes, h, &e).ok());
    if (e.market == "BTC-USD-PERP") from_sbe = px::SummaryFromSbe(e);
  }
  REQUIRE(from_sbe);
  CHECK(from_sbe->volume_24h_usd == r.volume_24h_usd);
  CHECK(from_sbe->total_volume_usd == r.total_volume_usd);
  CHECK(from_sbe->open_interest == r.open_interest);
}

TEST_CASE("paradex sim: order objects carry every field of the samples", "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  simdjson::dom::parser ps, pg, ps2, pg2;
  // POST /orders' 201 answer: rest_order_response.json's members (request_info included, its
  // four members empty as there).
  const std::set<std::string> want = Keys(ps.parse(ReadData("rest_order_response.json")));
  REQUIRE(want.count("request_info"));
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  HttpResult placed = sim.Place(
      jwt, Limit("BTC", Side::kBuy, Decimal::FromUnits(bid - 1000, 1).ToNormalizedString(), "0.01"),
      "fields-1");
  REQUIRE(placed.status == 201);
  simdjson::dom::element got = pg.parse(placed.body);
  for (const auto& k : Missing(want, Keys(got))) UNSCOPED_INFO("order: " << k);
  CHECK(Missing(want, Keys(got)).empty());
  CHECK(Keys(got["request_info"]) ==
        std::set<std::string>{"id", "message", "request_type", "status"});
  CHECK(std::string(std::string_view(got["request_info"]["status"])).empty());
  // The orders.* push: ws_orders_update.json's members.
  simdjson::dom::element sample = ps2.parse(ReadData("ws_orders_update.json"));
  simdjson::dom::array frames;
  if (!sample["frames"].get(frames)) sample = frames.at(0);
  const std::set<std::string> want_ws = Keys(sample["params"]["data"]);
  REQUIRE(want_ws.count("cancel_reason"));
  auto push = ws.ReadText("fields-1");
  REQUIRE(push);
  simdjson::dom::element data = pg2.parse(*push)["params"]["data"];
  for (const auto& k : Missing(want_ws, Keys(data))) UNSCOPED_INFO("ws order: " << k);
  CHECK(Missing(want_ws, Keys(data)).empty());
  CHECK(Has(data, "request_info"));
}

TEST_CASE("paradex sim: public REST parses with the adapter codec", "[paradex_sim]") {
  Sim sim;
  CHECK(sim.symbols.size() == 4);
  const Instrument& bonk = sim.Inst("kBONK-USD-PERP");
  CHECK(bonk.symbol == "BONK");
  CHECK(bonk.quantity_multiplier == 1000);
  CHECK(sim.Inst("BTC-USD-PERP").max_leverage == *Decimal::Parse("50"));

  auto cfg = sim.codec.ParseSystemConfig(sim.Get("/v1/system/config").body);
  REQUIRE(cfg.ok());
  CHECK(cfg->starknet_chain_id == kChainId);
  auto st = sim.codec.ParseSystemState(sim.Get("/v1/system/state").body);
  REQUIRE(st.ok());
  CHECK(st->status == px::SystemStatus::kOk);
  auto t = sim.codec.ParseSystemTime(sim.Get("/v1/system/time").body);
  REQUIRE(t.ok());
  CHECK(*t / 1'000'000 == sim.NowMs());

  auto sum = sim.codec.ParseMarketsSummary(sim.Get("/v1/markets/summary?market=ALL").body);
  REQUIRE(sum.ok());
  CHECK(sum->size() == 4);
  HttpResult no_market = sim.Get("/v1/markets/summary");
  CHECK(no_market.status == 400);
  auto err = sim.codec.ParseError(no_market.body);
  REQUIRE(err.has_value());
  CHECK(err->code == "VALIDATION_ERROR");

  px::PageCursor cursor;
  auto fd = sim.codec.ParseFundingData(
      sim.Get("/v1/funding/data?market=BTC-USD-PERP&page_size=5").body, &cursor);
  REQUIRE(fd.ok());
  REQUIRE(!fd->empty());
  CHECK((*fd)[0].funding_period_hours == 8);
  CHECK((*fd)[0].funding_rate == *Decimal::Parse("0.0001"));
  auto f = px::BuildFunding((*fd)[0], &(*sum)[0], "BTC", 1);
  REQUIRE(f.ok());
  CHECK(f->rate_8h == *Decimal::Parse("0.0001"));

  const Instrument& btc = sim.Inst("BTC-USD-PERP");
  auto ob = sim.codec.ParseOrderbook(sim.Get("/v1/orderbook/BTC-USD-PERP?depth=5").body, btc);
  REQUIRE(ob.ok());
  CHECK(ob->bids.size() == 5);
  CHECK(ob->asks.size() == 5);
  CHECK(ob->bids[0].price < ob->asks[0].price);
  auto bbo = sim.codec.ParseBbo(sim.Get("/v1/bbo/BTC-USD-PERP").body, sim.symbols, 0);
  REQUIRE(bbo.ok());
  CHECK(bbo->bid_price.ToScaled(btc.price_scale).value() == ob->bids[0].price);
  CHECK(sim.Get("/v1/orderbook/NOPE-USD-PERP").status == 404);
  CHECK(sim.Get("/v1/orders").status == 401);  // private without a JWT
}

TEST_CASE("paradex sim: SBE deltas feed keeps a book equal to the ground truth", "[paradex_sim]") {
  Sim sim;
  WsClient ws(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeSubscribe(px::OrderBookDeltasChannel("BTC-USD-PERP"), 1));
  auto ack = ws.ReadText("\"result\"");
  REQUIRE(ack);
  px::WsFrameInfo info;
  REQUIRE(sim.codec.ClassifyWsFrame(*ack, &info).ok());
  CHECK(info.kind == px::WsKind::kResult);
  CHECK(info.channel == "order_book.BTC-USD-PERP.deltas@15@50ms");

  px::Feed feed(&sim.codec, &sim.symbols);
  const Instrument& btc = sim.Inst("BTC-USD-PERP");
  BookSync sync(feed.seq_rule(), btc.price_scale, btc.size_scale);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"paradex","rate":"2000"})").status ==
          200);
  MarketMsg m;
  int deltas = 0, snapshots = 0;
  uint64_t last_seq = 0;
  auto apply = [&](const Frame& f) {
    REQUIRE(f.binary);  // public data is SBE on this connection
    REQUIRE(feed.DecodeBinary(f.bytes, 0, &m).ok());
    REQUIRE(feed.sbe_header().version == 1);
    if (m.kind == FeedKind::kDepthSnapshot) {
      std::vector<Level> bids, asks;
      SplitSnapshotLevels(*m.delta, &bids, &asks);
      sync.OnSnapshot(bids, asks, m.delta->last_id);
      ++snapshots;
    } else {
      REQUIRE(m.kind == FeedKind::kDepthDelta);
      CHECK(m.delta->last_id > last_seq);  // strictly increasing, gaps allowed
      CHECK(sync.OnDelta(*m.delta) == BookSync::Result::kApplied);
      ++deltas;
    }
    last_seq = m.delta->last_id;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (deltas < 60 && std::chrono::steady_clock::now() < deadline) {
    auto f = ws.Read();
    REQUIRE(f);
    apply(*f);
  }
  CHECK(snapshots == 1);
  REQUIRE(deltas >= 60);
  REQUIRE(sim.Control(http::verb::post, "/rate", R"({"venue":"paradex","rate":"0"})").status ==
          200);
  while (auto f = ws.Read(400ms)) apply(*f);
  auto truth = sim.Control(http::verb::get, "/book?venue=paradex&symbol=BTC-USD-PERP&depth=15");
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
}

TEST_CASE("paradex sim: JSON mode, channels and negotiation errors", "[paradex_sim]") {
  Sim sim;
  // No SBE parameters: public channels are JSON (what ccxt 4.5.84 expects).
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(
      R"({"jsonrpc":"2.0","method":"subscribe","params":{"channel":"order_book.ETH-USD-PERP.snapshot@15@100ms"}})");
  auto ack = ws.ReadText("\"result\"");
  REQUIRE(ack);
  CHECK(Field(*ack, "id") == "null");  // id-less subscribe (as ccxt sends it) is accepted
  auto snap = ws.ReadText("order_book.ETH-USD-PERP");
  REQUIRE(snap);
  px::Feed feed(&sim.codec, &sim.symbols);
  MarketMsg m;
  REQUIRE(feed.Decode(*snap, 0, &m).ok());
  CHECK(m.kind == FeedKind::kDepthSnapshot);
  CHECK(m.delta->changes.size() == 30);  // 15 a side

  ws.Send(px::EncodeSubscribe("bbo.NOPE-USD-PERP", 7));
  auto err = ws.ReadText("\"error\"");
  REQUIRE(err);
  px::WsFrameInfo info;
  REQUIRE(sim.codec.ClassifyWsFrame(*err, &info).ok());
  CHECK(info.kind == px::WsKind::kError);
  CHECK(info.error_code == -32600);
  CHECK(*info.id == 7);
  ws.Send(px::EncodeSubscribe("orders.ALL", 8));  // private before auth
  err = ws.ReadText("\"error\"");
  REQUIRE(err);
  CHECK(err->find("authentication required") != std::string::npos);
  ws.Send(px::EncodeAuth("garbage", 9));
  err = ws.ReadText("\"error\"");
  REQUIRE(err);
  REQUIRE(sim.codec.ClassifyWsFrame(*err, &info).ok());
  CHECK(info.error_code == 40111);
  ws.Send(R"({"jsonrpc":"2.0","method":"nope","id":10})");
  err = ws.ReadText("\"error\"");
  REQUIRE(err);
  CHECK(err->find("-32601") != std::string::npos);

  // SBE negotiation: an unknown version is refused at the upgrade (HTTP 400).
  WsClient bad(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=9");
  CHECK_FALSE(bad.ok());
  WsClient wrong_path(sim.port, "/v2");
  CHECK_FALSE(wrong_path.ok());
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"paradex","kind":"sbe_refuse","count":"1"})")
              .status == 200);
  WsClient refused(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  CHECK_FALSE(refused.ok());
  WsClient accepted(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  CHECK(accepted.ok());
}

TEST_CASE("paradex sim: Stark auth, JWT and signed orders round trip", "[paradex_sim]") {
  Sim sim;
  // Auth: a good signature gets an ES384 JWT; a wrong key, an unknown account and a stale
  // timestamp are refused with the venue's codes.
  std::string jwt = sim.Jwt();
  CHECK(jwt.rfind("eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.", 0) == 0);
  px::StarkKey other = *px::StarkKey::FromPrivateHex(kKey2);
  auto bad = sim.AuthCall(other, kAddress1);
  CHECK(bad.status == 400);
  CHECK(sim.codec.ParseError(bad.body)->code == "STARKNET_SIGNATURE_VERIFICATION_FAILED");
  CHECK(sim.codec.ParseError(sim.AuthCall(sim.key, "0x1234").body)->code == "NOT_ONBOARDED");
  CHECK(sim.codec.ParseError(sim.AuthCall(sim.key, kAddress1, -3600).body)->code ==
        "INVALID_TIMESTAMP");
  CHECK(sim.AuthCall(sim.key, kAddress1, 0, "/v1/auth/" + sim.key.public_key().ToHex()).status ==
        200);

  // WS: auth, then the private channels.
  WsClient ws(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  auto auth = ws.ReadText("node_id");
  REQUIRE(auth);
  for (std::string ch : {"orders.ALL", "fills.ALL", "positions", "account"}) {
    ws.Send(px::EncodeSubscribe(ch, 2));
    REQUIRE(ws.ReadText("\"result\""));
  }

  // A resting limit buy below the market: 201 NEW, then OPEN on orders.ALL.
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  const Instrument& btc = sim.Inst("BTC-USD-PERP");
  std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();  // 1000 below
  (void)btc;
  HttpResult placed = sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "cid-rest-1");
  REQUIRE(placed.status == 201);
  auto ack = sim.codec.ParseOrderResponse(placed.status, placed.body, sim.symbols);
  CHECK(ack.outcome == AckOutcome::kAccepted);
  CHECK(ack.order.client_order_id == "cid-rest-1");
  CHECK(Field(placed.body, "status") == "NEW");
  auto open = ws.ReadText("\"OPEN\"");
  REQUIRE(open);
  auto order = sim.codec.ParseOrder(*open, sim.symbols);
  REQUIRE(order.ok());
  CHECK(order->status == OrderStatus::kOpen);
  CHECK(order->order_id == ack.order.order_id);

  // Duplicate client id while open: refused synchronously.
  HttpResult dup = sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "cid-rest-1");
  CHECK(dup.status == 400);
  CHECK(sim.codec.ParseError(dup.body)->code == "DUPLICATED_CLIENT_ID");
  // Open orders and GET by id / client id see it.
  auto opens =
      sim.codec.ParseOrders(sim.Get("/v1/orders?market=BTC-USD-PERP", jwt).body, sim.symbols);
  REQUIRE(opens.ok());
  CHECK(opens->size() == 1);
  CHECK(sim.Get("/v1/orders/" + order->order_id, jwt).status == 200);
  CHECK(sim.Get("/v1/orders/by_client_id/cid-rest-1", jwt).status == 200);

  // Cancel by client id: 204, then CLOSED USER_CANCELED on the stream.
  HttpResult cancel = Call(sim.port, http::verb::delete_, "/v1/orders/by_client_id/cid-rest-1", "",
                           {{"Authorization", "Bearer " + jwt}});
  CHECK(cancel.status == 204);
  auto closed = ws.ReadText("\"CLOSED\"");
  REQUIRE(closed);
  auto c = sim.codec.ParseOrder(*closed, sim.symbols);
  REQUIRE(c.ok());
  CHECK(c->status == OrderStatus::kCanceled);
  CHECK(c->reason == CancelReason::kUserCanceled);
  CHECK(sim.Get("/v1/orders/" + order->order_id, jwt).status == 404);  // closed: not served
  auto hist = sim.codec.ParseOrders(sim.Get("/v1/orders-history?client_id=cid-rest-1", jwt).body,
                                    sim.symbols);
  REQUIRE(hist.ok());
  REQUIRE(hist->size() == 1);
  CHECK((*hist)[0].status == OrderStatus::kCanceled);
  HttpResult again = Call(sim.port, http::verb::delete_, "/v1/orders/" + order->order_id, "",
                          {{"Authorization", "Bearer " + jwt}});
  CHECK(sim.codec.ParseError(again.body)->code == "ORDER_IS_CLOSED");

  // A post-only buy at the ask crosses: 201 NEW, then CLOSED with the post-only reason.
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  HttpResult po =
      sim.Place(jwt,
                Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(), "0.01",
                      TimeInForce::kPostOnly),
                "cid-po");
  REQUIRE(po.status == 201);
  auto po_closed = ws.ReadText("POST_ONLY_WOULD_CROSS");
  REQUIRE(po_closed);
  auto pc = sim.codec.ParseOrder(*po_closed, sim.symbols);
  REQUIRE(pc.ok());
  CHECK(pc->status == OrderStatus::kRejected);
  CHECK(pc->reason == CancelReason::kPostOnlyViolation);

  // An IOC buy at the ask fills: fill then order on the streams; positions and balance follow.
  HttpResult ioc =
      sim.Place(jwt,
                Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(), "0.002",
                      TimeInForce::kIoc),
                "cid-ioc");
  REQUIRE(ioc.status == 201);
  auto fill_frame = ws.ReadText("fills.ALL");
  REQUIRE(fill_frame);
  auto fill = sim.codec.ParseFill(*fill_frame, sim.symbols);
  REQUIRE(fill.ok());
  CHECK(fill->client_order_id == "cid-ioc");
  CHECK(fill->size == *Decimal::Parse("0.002"));
  CHECK_FALSE(fill->maker);
  auto filled = ws.ReadText("cid-ioc");
  REQUIRE(filled);
  auto positions = sim.codec.ParsePositions(sim.Get("/v1/positions", jwt).body, sim.symbols);
  REQUIRE(positions.ok());
  REQUIRE(positions->size() == 1);
  CHECK((*positions)[0].size == *Decimal::Parse("0.002"));
  auto fills =
      sim.codec.ParseFills(sim.Get("/v1/fills?market=BTC-USD-PERP", jwt).body, sim.symbols);
  REQUIRE(fills.ok());
  CHECK(fills->size() == 1);
  auto bal = sim.codec.ParseBalanceSize(sim.Get("/v1/balance", jwt).body, "USDC");
  REQUIRE(bal.ok());
  CHECK(*bal < *Decimal::Parse("100000"));  // the taker fee
  auto acct = sim.codec.ParseAccount(sim.Get("/v1/account", jwt).body);
  REQUIRE(acct.ok());
  CHECK(acct->status == "ACTIVE");

  // A signature by another key is refused; leverage set and read back.
  HttpResult forged = sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "cid-f", &other);
  CHECK(forged.status == 400);
  CHECK(sim.codec.ParseError(forged.body)->code == "INVALID_ORDER_SIGNATURE");
  auto lev = px::EncodeSetLeverage(*Decimal::Parse("7"), "CROSS");
  REQUIRE(lev.ok());
  CHECK(Call(sim.port, http::verb::post, "/v1/account/margin/BTC-USD-PERP", *lev,
             {{"Authorization", "Bearer " + jwt}})
            .status == 200);
  auto margin =
      sim.codec.ParseAccountMargin(sim.Get("/v1/account/margin?market=BTC-USD-PERP", jwt).body);
  REQUIRE(margin.ok());
  REQUIRE(margin->size() == 1);
  CHECK((*margin)[0].leverage == *Decimal::Parse("7"));

  // expire_token: every JWT issued so far is refused; a fresh one works.
  REQUIRE(sim.Control(http::verb::post, "/fault", R"({"venue":"paradex","kind":"expire_token"})")
              .status == 200);
  HttpResult expired = sim.Get("/v1/orders", jwt);
  CHECK(expired.status == 401);
  CHECK(sim.Get("/v1/orders", sim.Jwt()).status == 200);
  // jwt_ttl: short-lived tokens expire on the sim clock.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"paradex","kind":"jwt_ttl","seconds":"2"})")
              .status == 200);
  std::string short_jwt = sim.Jwt();
  CHECK(sim.Get("/v1/orders", short_jwt).status == 200);
  sim.clock.Advance(3'000'000'000LL);
  CHECK(sim.Get("/v1/orders", short_jwt).status == 401);
}

TEST_CASE("paradex sim: a subkey authenticates with /auth/{key} and signs orders for its account",
          "[paradex_sim]") {
  Sim sim;
  const px::StarkKey sub = *px::StarkKey::FromPrivateHex(kSubkey3);
  const px::StarkKey main_key = *px::StarkKey::FromPrivateHex(kMainKey3);
  const px::StarkKey stranger = *px::StarkKey::FromPrivateHex(kKey2);
  const std::string sub_path = "/v1/auth/" + sub.public_key().ToHex();
  // Plain /auth takes only the account's own key; a subkey must name itself.
  CHECK(sim.codec.ParseError(sim.AuthCall(sub, kAddress3).body)->code ==
        "STARKNET_SIGNATURE_VERIFICATION_FAILED");
  CHECK(sim.AuthCall(main_key, kAddress3).status == 200);
  CHECK(sim.codec
            .ParseError(
                sim.AuthCall(stranger, kAddress3, 0, "/v1/auth/" + stranger.public_key().ToHex())
                    .body)
            ->code == "INVALID_SUBKEY");
  // The path names the subkey but another key signed.
  CHECK(sim.codec.ParseError(sim.AuthCall(main_key, kAddress3, 0, sub_path).body)->code ==
        "STARKNET_SIGNATURE_VERIFICATION_FAILED");
  HttpResult auth = sim.AuthCall(sub, kAddress3, 0, sub_path);
  REQUIRE(auth.status == 200);
  auto jwt = sim.codec.ParseAuth(auth.body);
  REQUIRE(jwt.ok());
  // Orders: signed for the main account's address by the subkey; a stranger's signature fails.
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  const std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();
  OrderRequest req = Limit("BTC", Side::kBuy, far, "0.01");
  req.account = kAccount3;
  HttpResult ok = sim.Place(*jwt, req, "sub-1", &sub, kAddress3);
  CHECK(ok.status == 201);
  HttpResult bad = sim.Place(*jwt, req, "sub-2", &stranger, kAddress3);
  CHECK(bad.status == 400);
  CHECK(sim.codec.ParseError(bad.body)->code == "INVALID_ORDER_SIGNATURE");
}

TEST_CASE("paradex sim: an event reaches every matching subscription of a connection",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  for (std::string ch : {"orders.ALL", "orders.BTC-USD-PERP", "markets_summary",
                         "markets_summary.ALL", "markets_summary.ETH-USD-PERP"}) {
    ws.Send(px::EncodeSubscribe(ch, 2));
    REQUIRE(ws.ReadText("\"result\""));
  }
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "fan-1").status == 201);
  std::map<std::string, int> seen;
  auto deadline = std::chrono::steady_clock::now() + 2500ms;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = ws.Read(100ms);
    if (f && !f->binary) ++seen[PushChannel(f->bytes)];
  }
  // The order's OPEN state on both order channels; summaries on the bare, ALL and per-market
  // subscriptions alike (the bare and ALL ones for every market).
  CHECK(seen["orders.ALL"] == 1);
  CHECK(seen["orders.BTC-USD-PERP"] == 1);
  CHECK(seen["markets_summary"] >= 4);
  CHECK(seen["markets_summary.ALL"] >= 4);
  CHECK(seen["markets_summary.ETH-USD-PERP"] >= 1);
}

TEST_CASE("paradex sim: POST and DELETE /orders/batch", "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();
  std::string b1 = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "batch-1");
  std::string b2 = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.02"), "batch-2");
  // Below the 10 USD minimum notional: passes basic validation, refused by the engine.
  std::string small = sim.SignedBody(Limit("BTC", Side::kBuy, "5000", "0.001"), "batch-small");
  HttpResult r =
      sim.Send(http::verb::post, "/v1/orders/batch", "[" + b1 + "," + small + "," + b2 + "]", jwt);
  REQUIRE(r.status == 201);
  auto orders = Elements(r.body, "orders");
  auto errors = Elements(r.body, "errors");
  REQUIRE(orders.size() == 2);
  REQUIRE(errors.size() == 1);  // only the refusals (ccxt reads each element as a rejection)
  CHECK(Field(errors[0], "error") == "INVALID_ORDER_SIZE");
  CHECK(Field(orders[0], "client_id") == "batch-1");
  CHECK(Field(orders[0], "status") == "NEW");
  CHECK(Field(orders[1], "client_id") == "batch-2");
  const std::string id1 = Field(orders[0], "id");
  auto open = sim.codec.ParseOrders(sim.Get("/v1/orders", jwt).body, sim.symbols);
  REQUIRE(open.ok());
  CHECK(open->size() == 2);

  // A bad signature anywhere rejects the whole batch; more than 10 orders is out of range.
  px::StarkKey other = *px::StarkKey::FromPrivateHex(kKey2);
  std::string forged = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "batch-f", &other);
  HttpResult bad = sim.Send(http::verb::post, "/v1/orders/batch", "[" + b1 + "," + forged + "]", jwt);
  CHECK(bad.status == 400);
  CHECK(Field(bad.body, "error") == "INVALID_ORDER_SIGNATURE");
  std::string eleven = "[" + b1;
  for (int i = 0; i < 10; ++i) eleven += "," + b1;
  eleven += "]";
  HttpResult big = sim.Send(http::verb::post, "/v1/orders/batch", eleven, jwt);
  CHECK(big.status == 400);
  CHECK(Field(big.body, "error") == "BATCH_SIZE_OUT_OF_RANGE");
  CHECK(Field(sim.Send(http::verb::post, "/v1/orders/batch", "[]", jwt).body, "error") ==
        "BATCH_SIZE_OUT_OF_RANGE");
  open = sim.codec.ParseOrders(sim.Get("/v1/orders", jwt).body, sim.symbols);
  REQUIRE(open.ok());
  CHECK(open->size() == 2);  // nothing from the refused batches

  // DELETE /orders/batch: per-id results, order ids first.
  HttpResult del = sim.Send(
      http::verb::delete_, "/v1/orders/batch",
      R"({"order_ids":[")" + id1 + R"(","1234"],"client_order_ids":["batch-2","nope"]})", jwt);
  REQUIRE(del.status == 200);
  auto res = Elements(del.body);
  REQUIRE(res.size() == 4);
  CHECK(Field(res[0], "id") == id1);
  CHECK(Field(res[0], "status") == "QUEUED_FOR_CANCELLATION");
  CHECK(Field(res[0], "market") == "BTC-USD-PERP");
  CHECK(Field(res[0], "account") == kAddress1);
  CHECK(Field(res[1], "id") == "1234");
  CHECK(Field(res[1], "status") == "NOT_FOUND");
  CHECK(Field(res[2], "client_id") == "batch-2");
  CHECK(Field(res[2], "status") == "QUEUED_FOR_CANCELLATION");
  CHECK(Field(res[3], "client_id") == "nope");
  CHECK(Field(res[3], "status") == "NOT_FOUND");
  open = sim.codec.ParseOrders(sim.Get("/v1/orders", jwt).body, sim.symbols);
  REQUIRE(open.ok());
  CHECK(open->empty());
  HttpResult again = sim.Send(http::verb::delete_, "/v1/orders/batch",
                              R"({"order_ids":[")" + id1 + R"("]})", jwt);
  CHECK(Field(Elements(again.body)[0], "status") == "ALREADY_CLOSED");
}

TEST_CASE("paradex sim: funding payments on REST, funding_payments.* and balance_events",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  for (std::string ch : {"funding_payments.BTC-USD-PERP", "funding_payments.ALL",
                         "balance_events"}) {
    ws.Send(px::EncodeSubscribe(ch, 2));
    REQUIRE(ws.ReadText("\"result\""));
  }
  // A long of 0.01 BTC.
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt,
                    Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(),
                          "0.01", TimeInForce::kIoc),
                    "fp-long")
              .status == 201);
  auto fill_event = ws.ReadText("TRANSACTION_FILL");
  REQUIRE(fill_event);
  CHECK(PushChannel(*fill_event) == "balance_events");
  // Settle funding at 0.001: longs pay.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"paradex","kind":"funding_tick","symbol":"BTC-USD-PERP","rate":"0.001"})")
              .status == 200);
  auto push = ws.ReadText("funding_payments.BTC-USD-PERP");
  REQUIRE(push);
  auto push_all = ws.ReadText("funding_payments.ALL");
  REQUIRE(push_all);
  auto bal = ws.ReadText("\"FUNDING\"");
  REQUIRE(bal);

  HttpResult r = sim.Get("/v1/funding/payments?market=BTC-USD-PERP", jwt);
  REQUIRE(r.status == 200);
  auto items = Elements(r.body);
  REQUIRE(items.size() == 1);
  const std::string payment = Field(items[0], "payment");
  REQUIRE(payment.size() > 1);
  CHECK(payment[0] == '-');
  // About 0.001 x 0.01 x mark.
  double expect = 0.001 * 0.01 * static_cast<double>(ask) / 10;
  CHECK(std::abs(-std::stod(payment) - expect) < expect * 0.05);
  CHECK(Field(items[0], "market") == "BTC-USD-PERP");
  CHECK(Field(items[0], "account") == kAddress1);
  CHECK(!Field(items[0], "index").empty());
  CHECK(Field(items[0], "created_at") == std::to_string(sim.NowMs()));
  simdjson::dom::parser p;
  std::string_view ws_payment;
  REQUIRE_FALSE(p.parse(*push)["params"]["data"]["payment"].get(ws_payment));
  CHECK(ws_payment == payment);
  // balance_events: the wallet moved by the payment.
  std::string_view before, after, realized_funding;
  simdjson::dom::element data = p.parse(*bal)["params"]["data"];
  REQUIRE_FALSE(data["settlement_asset_balance_before"].get(before));
  REQUIRE_FALSE(data["settlement_asset_balance_after"].get(after));
  REQUIRE_FALSE(data["realized_funding"].get(realized_funding));
  CHECK(realized_funding == payment);
  CHECK(std::abs(std::stod(std::string(after)) - std::stod(std::string(before)) -
                 std::stod(payment)) < 1e-7);
  // Filters: another market, a window before the payment, a missing market.
  CHECK(Elements(sim.Get("/v1/funding/payments?market=ETH-USD-PERP", jwt).body).empty());
  CHECK(Elements(sim.Get("/v1/funding/payments?market=BTC-USD-PERP&end_at=" +
                             std::to_string(sim.NowMs() - 1),
                         jwt)
                     .body)
            .empty());
  CHECK(sim.Get("/v1/funding/payments", jwt).status == 400);
  // Private: needs the JWT.
  CHECK(sim.Get("/v1/funding/payments?market=BTC-USD-PERP").status == 401);
}

TEST_CASE("paradex sim: next/prev cursors on fills, orders-history and funding/data",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  const std::string at_ask = Decimal::FromUnits(ask, 1).ToNormalizedString();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, at_ask, "0.001", TimeInForce::kIoc),
                      "page-" + std::to_string(i))
                .status == 201);
  }
  REQUIRE(WaitUntil([&] { return Elements(sim.Get("/v1/fills", jwt).body).size() >= 3; }));
  for (std::string what : {"/v1/fills?page_size=2", "/v1/orders-history?page_size=2"}) {
    INFO(what);
    HttpResult p1 = sim.Get(what, jwt);
    auto r1 = Elements(p1.body);
    REQUIRE(r1.size() == 2);
    CHECK(Field(r1[0], "client_id") == "page-2");  // newest first
    CHECK(Field(r1[1], "client_id") == "page-1");
    CHECK(Field(p1.body, "prev") == "null");
    const std::string next = Field(p1.body, "next");
    REQUIRE(next != "null");
    HttpResult p2 = sim.Get(what + "&cursor=" + next, jwt);
    auto r2 = Elements(p2.body);
    REQUIRE(r2.size() == 1);
    CHECK(Field(r2[0], "client_id") == "page-0");
    CHECK(Field(p2.body, "next") == "null");
    const std::string prev = Field(p2.body, "prev");
    REQUIRE(prev != "null");
    auto back = Elements(sim.Get(what + "&cursor=" + prev, jwt).body);
    REQUIRE(back.size() == 2);
    CHECK(Field(back[0], "client_id") == "page-2");
    CHECK(sim.Get(what + "&cursor=%21%21", jwt).status == 400);
  }
  // funding/data: one-second samples, pages continue where the last one stopped.
  HttpResult f1 = sim.Get("/v1/funding/data?market=BTC-USD-PERP&page_size=3");
  auto s1 = Elements(f1.body);
  REQUIRE(s1.size() == 3);
  const std::string fnext = Field(f1.body, "next");
  REQUIRE(fnext != "null");
  auto s2 = Elements(sim.Get("/v1/funding/data?market=BTC-USD-PERP&page_size=3&cursor=" + fnext).body);
  REQUIRE(s2.size() == 3);
  CHECK(std::stoll(Field(s1[2], "created_at")) - std::stoll(Field(s2[0], "created_at")) == 1000);
}

TEST_CASE("paradex sim: unknown public paths are 404 without a JWT, private ones 401",
          "[paradex_sim]") {
  Sim sim;
  for (std::string path : {"/v1/markets/history", "/v1/nope", "/v1/onboarding",
                           "/v1/orderbook/BTC-USD-PERP/impact-price",
                           "/v1/orderbook/BTC-USD-PERP/other", "/v1/bbo/BTC-USD-PERP/other"}) {
    INFO(path);
    HttpResult r = sim.Get(path);
    CHECK(r.status == 404);
    CHECK(Field(r.body, "error") == "NOT_FOUND");
  }
  for (std::string path : {"/v1/fills", "/v1/orders", "/v1/orders/123", "/v1/funding/payments",
                           "/v1/account/margin", "/v1/positions", "/v1/liquidations"}) {
    INFO(path);
    HttpResult r = sim.Get(path);
    CHECK(r.status == 401);
    CHECK(Field(r.body, "error") == "UNAUTHORIZED_ERROR");
  }
}

TEST_CASE("paradex sim: fills carry orderbook_seq_no and the fill's realized pnl",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt,
                    Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(),
                          "0.01", TimeInForce::kIoc),
                    "pnl-open")
              .status == 201);
  REQUIRE(WaitUntil([&] { return Elements(sim.Get("/v1/fills", jwt).body).size() == 1; }));
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  REQUIRE(sim.Place(jwt,
                    Limit("BTC", Side::kSell, Decimal::FromUnits(bid, 1).ToNormalizedString(),
                          "0.01", TimeInForce::kIoc),
                    "pnl-close")
              .status == 201);
  REQUIRE(WaitUntil([&] { return Elements(sim.Get("/v1/fills", jwt).body).size() == 2; }));
  auto fills = Elements(sim.Get("/v1/fills", jwt).body);
  // Newest first: the closing sell realizes (bid - ask) x 0.01; the opening buy nothing.
  CHECK(Field(fills[0], "client_id") == "pnl-close");
  // (sell price - buy price) x the size the sell closed (the IOC may take part of a level).
  auto num = [&](const std::string& f, const char* k) { return std::stod(Field(f, k)); };
  const double expect =
      (num(fills[0], "price") - num(fills[1], "price")) * num(fills[0], "size");
  CHECK(expect < 0);  // sold at the bid what was bought at the ask
  CHECK(std::abs(num(fills[0], "realized_pnl") - expect) < 1e-9);
  CHECK(Field(fills[1], "realized_pnl") == "0");
  // orderbook_seq_no: the book's sequence after the execution (each taker fill consumed a
  // generated level; the generator is off, so the last one is the book's seq_no now).
  const std::string book_seq = Field(sim.Get("/v1/orderbook/BTC-USD-PERP").body, "seq_no");
  REQUIRE_FALSE(Field(fills[0], "orderbook_seq_no").empty());
  CHECK(Field(fills[0], "orderbook_seq_no") == book_seq);
  CHECK(std::stoll(Field(fills[1], "orderbook_seq_no")) > 0);
  CHECK(std::stoll(Field(fills[1], "orderbook_seq_no")) <
        std::stoll(Field(fills[0], "orderbook_seq_no")));
}

TEST_CASE("paradex sim: funding_index is in price units (accrued = size x its change)",
          "[paradex_sim]") {
  Sim sim;
  auto index_now = [&] {
    auto rows = Elements(sim.Get("/v1/funding/data?market=BTC-USD-PERP&page_size=1").body);
    REQUIRE(rows.size() == 1);
    return std::stod(Field(rows[0], "funding_index"));
  };
  auto summary = Elements(sim.Get("/v1/markets/summary?market=BTC-USD-PERP").body);
  REQUIRE(summary.size() == 1);
  const double mark = std::stod(Field(summary[0], "mark_price"));
  const double rate = std::stod(Field(summary[0], "funding_rate"));  // per 8 h
  const double i0 = index_now();
  sim.clock.Advance(3600LL * 1'000'000'000);
  const double i1 = index_now();
  // One hour: rate x mark / 8 USD per BTC (0.0001 x ~97250 / 8 ~ 1.2 USD).
  const double expect = rate * mark / 8;
  CHECK(expect > 1.0);
  CHECK(std::abs((i1 - i0) - expect) < expect * 1e-6);
}

TEST_CASE("paradex sim: PUT /orders/{id} modifies an open limit order in place",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  const std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();
  const std::string nearer = Decimal::FromUnits(bid - 500 * 10, 1).ToNormalizedString();
  HttpResult placed = sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "mod-1");
  REQUIRE(placed.status == 201);
  const std::string id = Field(placed.body, "id");
  REQUIRE(ws.ReadText("\"OPEN\""));
  // ModifyOrder{timestamp, market, side, orderType, size, price, id}, signed by `signer`.
  auto modify = [&](const std::string& order_id, const std::string& price, const std::string& size,
                    const px::StarkKey& signer) {
    px::ModifyOrderFields mf;
    mf.order.timestamp_ms = static_cast<uint64_t>(sim.NowMs());
    mf.order.market = "BTC-USD-PERP";
    mf.order.side = px::OrderSide::kBuy;
    mf.order.order_type = "LIMIT";
    mf.order.size = size;
    mf.order.price = price;
    mf.id = order_id;
    auto hash = px::ModifyOrderMessageHash(kChainId, *px::ParseFelt(kAddress1), mf);
    REQUIRE(hash.ok());
    auto sig = signer.Sign(*hash);
    REQUIRE(sig.ok());
    JsonWriter w;
    w.BeginObject()
        .Field("id", order_id)
        .Field("market", "BTC-USD-PERP")
        .Field("side", "BUY")
        .Field("type", "LIMIT")
        .Field("size", size)
        .Field("price", price)
        .Field("signature", px::SignatureJson(*sig))
        .Field("signature_timestamp", sim.NowMs())
        .EndObject();
    return sim.Send(http::verb::put, "/v1/orders/" + order_id, w.Take(), jwt);
  };
  HttpResult r = modify(id, nearer, "0.02", sim.key);
  REQUIRE(r.status == 200);
  CHECK(Field(r.body, "id") == id);
  CHECK(Field(r.body, "price") == nearer);
  CHECK(Field(r.body, "size") == "0.02");
  CHECK(Field(r.body, "status") == "OPEN");
  simdjson::dom::parser p;
  std::string_view req_status;
  REQUIRE_FALSE(p.parse(r.body)["request_info"]["status"].get(req_status));
  CHECK(req_status == "ACCEPTED");
  auto pushed = ws.ReadText(nearer);
  REQUIRE(pushed);
  CHECK(PushChannel(*pushed) == "orders.ALL");
  HttpResult now = sim.Get("/v1/orders/" + id, jwt);
  CHECK(Field(now.body, "price") == nearer);
  CHECK(Field(now.body, "remaining_size") == "0.02");

  // Another key's signature, an unknown id, a closed order.
  px::StarkKey other = *px::StarkKey::FromPrivateHex(kKey2);
  HttpResult forged = modify(id, far, "0.01", other);
  CHECK(forged.status == 400);
  CHECK(Field(forged.body, "error") == "INVALID_ORDER_SIGNATURE");
  HttpResult unknown = modify("1234", far, "0.01", sim.key);
  CHECK(unknown.status == 404);
  CHECK(Field(unknown.body, "error") == "ORDER_ID_NOT_FOUND");
  REQUIRE(sim.Send(http::verb::delete_, "/v1/orders/" + id, "", jwt).status == 204);
  HttpResult closed = modify(id, far, "0.01", sim.key);
  CHECK(closed.status == 400);
  CHECK(Field(closed.body, "error") == "ORDER_IS_CLOSED");
}

TEST_CASE("paradex sim: GET /markets/klines serves the core's candles", "[paradex_sim]") {
  Sim sim;
  // A book change (an IOC taking the best ask) gives the candles their first observation.
  std::string jwt = sim.Jwt();
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt,
                    Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(),
                          "0.001", TimeInForce::kIoc),
                    "kl")
              .status == 201);
  const int64_t now = sim.NowMs();
  HttpResult r = sim.Get("/v1/markets/klines?symbol=BTC-USD-PERP&resolution=1&start_at=" +
                         std::to_string(now - 600'000) + "&end_at=" + std::to_string(now));
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  simdjson::dom::array rows;
  REQUIRE_FALSE(p.parse(r.body)["results"].get(rows));
  REQUIRE(rows.size() >= 1);
  simdjson::dom::array last;
  REQUIRE_FALSE(rows.at(rows.size() - 1).get(last));
  REQUIRE(last.size() == 6);
  int64_t t = 0;
  double close = 0;
  REQUIRE_FALSE(last.at(0).get(t));
  REQUIRE_FALSE(last.at(4).get(close));
  CHECK(t % 60'000 == 0);
  CHECK(t <= now);
  CHECK(close > 90000);
  CHECK(sim.Get("/v1/markets/klines?symbol=BTC-USD-PERP&resolution=7").status == 400);
  CHECK(sim.Get("/v1/markets/klines?symbol=NOPE&resolution=1").status == 400);
}


namespace {

// A signed POST /v1/orders body for a conditional type, built by hand (the adapter places no
// conditional orders): the signature covers the API type as sent (`signed_type` overrides it to
// test that reading) and price 0 for *_MARKET types; trigger_price is unsigned.
std::string ConditionalBody(Sim& sim, const std::string& market, const char* side,
                            const std::string& type, const std::string& size,
                            const std::string& price, const std::string& trigger,
                            const std::string& cid, const std::string& signed_type = "") {
  const int64_t ts = sim.NowMs();
  px::OrderFields f;
  f.timestamp_ms = static_cast<uint64_t>(ts);
  f.market = market;
  f.side = std::string(side) == "BUY" ? px::OrderSide::kBuy : px::OrderSide::kSell;
  f.order_type = signed_type.empty() ? type : signed_type;
  f.size = size;
  f.price = price.empty() ? "0" : price;
  auto hash = px::OrderMessageHash(kChainId, *px::ParseFelt(kAddress1), f);
  REQUIRE(hash.ok());
  auto sig = sim.key.Sign(*hash);
  REQUIRE(sig.ok());
  std::string sig_json = px::SignatureJson(*sig);
  std::string escaped;
  for (char c : sig_json) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  std::string body = R"({"market":")" + market + R"(","side":")" + side + R"(","type":")" + type +
                     R"(","size":")" + size + R"(","trigger_price":")" + trigger +
                     R"(","instruction":"GTC","client_id":")" + cid + R"(","signature":")" +
                     escaped + R"(","signature_timestamp":)" + std::to_string(ts);
  if (!price.empty()) body += R"(,"price":")" + price + "\"";
  return body + "}";
}

// A field of a subscription push's data object.
std::string DataField(const std::string& frame, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(frame)["params"]["data"][key].get(e)) return {};
  if (e.is_string()) return std::string(std::string_view(e.get_string().value()));
  return simdjson::to_string(e);
}

}  // namespace

TEST_CASE("paradex sim: conditional orders park UNTRIGGERED until the mark reaches the trigger",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));

  int64_t mark = 0;  // BTC: tick 0.1, price_scale 1
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  auto post = [&](const std::string& body) {
    return sim.Send(http::verb::post, "/v1/orders", body, jwt);
  };

  // A stop-market buy 10 USD above the mark parks: 201 NEW with its type and trigger, then
  // UNTRIGGERED on orders.*; listed, served by id, no fill.
  const std::string stop_trigger = px_text(mark + 100);
  HttpResult stop = post(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                                         stop_trigger, "stop-1"));
  REQUIRE(stop.status == 201);
  CHECK(Field(stop.body, "status") == "NEW");
  CHECK(Field(stop.body, "type") == "STOP_MARKET");
  CHECK(Field(stop.body, "trigger_price") == stop_trigger);
  CHECK(Field(stop.body, "price") == "0");
  const std::string stop_id = Field(stop.body, "id");
  auto parked = ws.ReadText("UNTRIGGERED");
  REQUIRE(parked);
  CHECK(DataField(*parked, "id") == stop_id);
  CHECK(DataField(*parked, "type") == "STOP_MARKET");
  CHECK(DataField(*parked, "trigger_price") == stop_trigger);
  auto parsed = sim.codec.ParseOrder(*parked, sim.symbols);
  REQUIRE(parsed.ok());
  CHECK(parsed->status == OrderStatus::kOpen);  // the adapter reads UNTRIGGERED as open
  auto listed = Elements(sim.Get("/v1/orders?market=BTC-USD-PERP", jwt).body);
  REQUIRE(listed.size() == 1);
  CHECK(Field(listed[0], "status") == "UNTRIGGERED");
  CHECK(Field(listed[0], "trigger_price") == stop_trigger);
  HttpResult by_id = sim.Get("/v1/orders/" + stop_id, jwt);
  REQUIRE(by_id.status == 200);
  CHECK(Field(by_id.body, "status") == "UNTRIGGERED");
  CHECK(sim.Get("/v1/orders/by_client_id/stop-1", jwt).status == 200);

  // Already reached: a stop buy below the mark, a take-profit sell below it (take-profit sells
  // fire on a rise) — refused, nothing listed.
  HttpResult late = post(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                                         px_text(mark - 100), "stop-late"));
  CHECK(late.status == 400);
  CHECK(Field(late.body, "error") == "INVALID_REQUEST_PARAMETER");
  HttpResult tp_late =
      post(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "TAKE_PROFIT_LIMIT", "0.01",
                           px_text(mark - 200), px_text(mark - 100), "tp-late"));
  CHECK(tp_late.status == 400);
  CHECK(Field(tp_late.body, "error") == "INVALID_REQUEST_PARAMETER");
  // No trigger_price, or one off the tick grid; a conditional signed as its base type.
  std::string no_trigger = ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                                           "", "stop-nt");
  CHECK(Field(post(no_trigger).body, "error") == "VALIDATION_ERROR");
  CHECK(Field(post(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                                   std::to_string(mark / 10 + 10) + ".05", "stop-grid"))
                   .body,
              "error") == "INVALID_PRICE_PRECISION");
  CHECK(Field(post(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_LIMIT", "0.01",
                                   px_text(mark + 200), px_text(mark + 100), "stop-sig", "LIMIT"))
                   .body,
              "error") == "INVALID_ORDER_SIGNATURE");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).size() == 1);

  // A take-profit-limit buy (fires on a fall) parks, and DELETE /orders/{id} cancels it.
  HttpResult tp = post(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "TAKE_PROFIT_LIMIT", "0.01",
                                       px_text(mark - 300), px_text(mark - 200), "tp-1"));
  REQUIRE(tp.status == 201);
  CHECK(Field(tp.body, "price") == px_text(mark - 300));
  const std::string tp_id = Field(tp.body, "id");
  REQUIRE(ws.ReadText("tp-1"));
  CHECK(sim.Send(http::verb::delete_, "/v1/orders/" + tp_id, "", jwt).status == 204);
  auto tp_closed = ws.ReadText("USER_CANCELED");
  REQUIRE(tp_closed);
  CHECK(DataField(*tp_closed, "id") == tp_id);
  CHECK(DataField(*tp_closed, "status") == "CLOSED");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).size() == 1);

  // The mark rises through the stop: it fires (NEW), executes as a market buy, and the
  // position appears.
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark + 150);
  });
  auto fired = ws.ReadText("\"NEW\"");
  REQUIRE(fired);
  CHECK(DataField(*fired, "id") == stop_id);
  CHECK(DataField(*fired, "type") == "STOP_MARKET");
  auto done = ws.ReadText("\"CLOSED\"");
  REQUIRE(done);
  CHECK(DataField(*done, "id") == stop_id);
  CHECK(DataField(*done, "remaining_size") == "0");
  auto positions = sim.codec.ParsePositions(sim.Get("/v1/positions", jwt).body, sim.symbols);
  REQUIRE(positions.ok());
  REQUIRE(positions->size() == 1);
  CHECK((*positions)[0].size == *Decimal::Parse("0.01"));
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());
  auto hist = Elements(sim.Get("/v1/orders-history?client_id=stop-1", jwt).body);
  REQUIRE(hist.size() == 1);
  CHECK(Field(hist[0], "status") == "CLOSED");
  CHECK(Field(hist[0], "trigger_price") == stop_trigger);

  // Batch: a stop-limit sell parks, an immediate one is refused in `errors`; cancel-all takes
  // the parked one.
  int64_t now_mark = mark + 150;
  std::string sl = ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_LIMIT", "0.01",
                                   px_text(now_mark - 600), px_text(now_mark - 500), "sl-1");
  std::string sl_late = ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_LIMIT", "0.01",
                                        px_text(now_mark - 600), px_text(now_mark + 500), "sl-2");
  HttpResult batch = sim.Send(http::verb::post, "/v1/orders/batch", "[" + sl + "," + sl_late + "]",
                              jwt);
  REQUIRE(batch.status == 201);
  auto orders = Elements(batch.body, "orders");
  auto errors = Elements(batch.body, "errors");
  REQUIRE(orders.size() == 1);
  REQUIRE(errors.size() == 1);
  CHECK(Field(orders[0], "type") == "STOP_LIMIT");
  CHECK(Field(errors[0], "error") == "INVALID_REQUEST_PARAMETER");
  auto open = Elements(sim.Get("/v1/orders", jwt).body);
  REQUIRE(open.size() == 1);
  CHECK(Field(open[0], "status") == "UNTRIGGERED");
  CHECK(sim.Send(http::verb::delete_, "/v1/orders?market=BTC-USD-PERP", "", jwt).status == 204);
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());
}


namespace {

// A JSON-RPC call on the socket, as the venue's OpenRPC spec frames it.
std::string Rpc(int id, const std::string& method, const std::string& params) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
         R"(","params":)" + params + "}";
}

// The reply to call `id` (pushes in between skipped).
std::string RpcReply(WsClient& ws, int id) {
  auto r = ws.ReadText("\"id\":" + std::to_string(id) + ",\"usIn\"");
  REQUIRE(r);
  return *r;
}

// A JSON-RPC error's code ("" when the reply is a result).
std::string ErrorCode(const std::string& reply) { return Field(Field(reply, "error"), "code"); }

// A signed ModifyOrder for a BTC buy limit order (the same payload as PUT /orders/{id}).
std::string ModifyParams(Sim& sim, const std::string& order_id, const std::string& price,
                         const std::string& size) {
  px::ModifyOrderFields mf;
  mf.order.timestamp_ms = static_cast<uint64_t>(sim.NowMs());
  mf.order.market = "BTC-USD-PERP";
  mf.order.side = px::OrderSide::kBuy;
  mf.order.order_type = "LIMIT";
  mf.order.size = size;
  mf.order.price = price;
  mf.id = order_id;
  auto hash = px::ModifyOrderMessageHash(kChainId, *px::ParseFelt(kAddress1), mf);
  REQUIRE(hash.ok());
  auto sig = sim.key.Sign(*hash);
  REQUIRE(sig.ok());
  JsonWriter w;
  w.BeginObject()
      .Field("id", order_id)
      .Field("market", "BTC-USD-PERP")
      .Field("side", "BUY")
      .Field("type", "LIMIT")
      .Field("size", size)
      .Field("price", price)
      .Field("signature", px::SignatureJson(*sig))
      .Field("signature_timestamp", sim.NowMs())
      .EndObject();
  return w.Take();
}

}  // namespace

TEST_CASE("paradex sim: WS order entry (order.create ... order.cancel_all) over JSON-RPC",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  const std::string far = px_text(bid - 10000), nearer = px_text(bid - 5000);

  // Before auth: refused (40300), nothing placed; an unknown order.* method is -32601.
  ws.Send(Rpc(1, "order.create", sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-0")));
  CHECK(ErrorCode(RpcReply(ws, 1)) == "40300");
  ws.Send(Rpc(2, "order.cancel_all", "{}"));
  CHECK(ErrorCode(RpcReply(ws, 2)) == "40300");
  ws.Send(px::EncodeAuth(jwt, 3));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 4));
  REQUIRE(ws.ReadText("\"result\""));
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());
  ws.Send(Rpc(5, "order.explode", "{}"));
  CHECK(ErrorCode(RpcReply(ws, 5)) == "-32601");

  // order.create: {order (NEW), created_at, received_at}; then OPEN on orders.ALL.
  ws.Send(Rpc(10, "order.create",
              sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-1")));
  std::string created = RpcReply(ws, 10);
  REQUIRE(ErrorCode(created).empty());
  std::string result = Field(created, "result");
  std::string order = Field(result, "order");
  CHECK(Field(order, "status") == "NEW");
  CHECK(Field(order, "client_id") == "ws-1");
  CHECK(Field(order, "price") == far);
  CHECK_FALSE(Field(result, "created_at").empty());
  CHECK_FALSE(Field(result, "received_at").empty());
  const std::string id1 = Field(order, "id");
  auto open = ws.ReadText("\"OPEN\"");
  REQUIRE(open);
  CHECK(DataField(*open, "id") == id1);
  auto listed = Elements(sim.Get("/v1/orders", jwt).body);
  REQUIRE(listed.size() == 1);
  CHECK(Field(listed[0], "id") == id1);

  // The REST checks apply: another key's signature, a duplicate client id.
  px::StarkKey other = *px::StarkKey::FromPrivateHex(kKey2);
  ws.Send(Rpc(11, "order.create",
              sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-forged", &other)));
  std::string forged = RpcReply(ws, 11);
  CHECK(ErrorCode(forged) == "100");
  CHECK(Field(Field(forged, "error"), "message") == "INVALID_ORDER_SIGNATURE");
  ws.Send(Rpc(12, "order.create",
              sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-1")));
  CHECK(Field(Field(RpcReply(ws, 12), "error"), "message") == "DUPLICATED_CLIENT_ID");
  ws.Send(Rpc(13, "order.create", R"({"market":"BTC-USD-PERP"})"));
  CHECK(Field(Field(RpcReply(ws, 13), "error"), "message") == "VALIDATION_ERROR");

  // order.create_batch: per-order results in request order; a bad signature refuses the whole
  // batch (nothing placed).
  std::string b1 = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.02"), "ws-2");
  std::string b_dup = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-1");
  ws.Send(Rpc(20, "order.create_batch", R"({"orders":[)" + b1 + "," + b_dup + "]}"));
  std::string batch = RpcReply(ws, 20);
  REQUIRE(ErrorCode(batch).empty());
  auto results = Elements(Field(batch, "result"), "results");
  REQUIRE(results.size() == 2);
  CHECK(Field(Field(results[0], "order"), "client_id") == "ws-2");
  CHECK(Field(Field(results[0], "order"), "status") == "NEW");
  CHECK(Field(results[1], "error") == "DUPLICATED_CLIENT_ID");
  const std::string id2 = Field(Field(results[0], "order"), "id");
  std::string b_forged =
      sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-3", &other);
  std::string b_ok = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-4");
  ws.Send(Rpc(21, "order.create_batch", R"({"orders":[)" + b_ok + "," + b_forged + "]}"));
  CHECK(Field(Field(RpcReply(ws, 21), "error"), "message") == "INVALID_ORDER_SIGNATURE");
  ws.Send(Rpc(22, "order.create_batch", R"({"orders":[]})"));
  CHECK(Field(Field(RpcReply(ws, 22), "error"), "message") == "BATCH_SIZE_OUT_OF_RANGE");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).size() == 2);

  // order.modify: the signed ModifyOrder payload; {order} after the amend.
  ws.Send(Rpc(30, "order.modify", ModifyParams(sim, id1, nearer, "0.03")));
  std::string modified = RpcReply(ws, 30);
  REQUIRE(ErrorCode(modified).empty());
  std::string mod_order = Field(Field(modified, "result"), "order");
  CHECK(Field(mod_order, "id") == id1);
  CHECK(Field(mod_order, "price") == nearer);
  CHECK(Field(mod_order, "size") == "0.03");
  CHECK(Field(sim.Get("/v1/orders/" + id1, jwt).body, "price") == nearer);
  ws.Send(Rpc(31, "order.modify", ModifyParams(sim, "1234", far, "0.01")));
  CHECK(Field(Field(RpcReply(ws, 31), "error"), "message") == "ORDER_ID_NOT_FOUND");

  // order.cancel by id: {order_id, status: QUEUED_FOR_CANCELLATION}, CLOSED follows.
  ws.Send(Rpc(40, "order.cancel", R"({"id":")" + id1 + R"("})"));
  std::string cancelled = RpcReply(ws, 40);
  REQUIRE(ErrorCode(cancelled).empty());
  CHECK(Field(Field(cancelled, "result"), "order_id") == id1);
  CHECK(Field(Field(cancelled, "result"), "status") == "QUEUED_FOR_CANCELLATION");
  auto closed = ws.ReadText("USER_CANCELED");
  REQUIRE(closed);
  CHECK(DataField(*closed, "id") == id1);
  ws.Send(Rpc(41, "order.cancel", R"({"id":")" + id1 + R"("})"));
  CHECK(Field(Field(RpcReply(ws, 41), "error"), "message") == "ORDER_IS_CLOSED");
  // By client_id: market is required, and must be the order's.
  ws.Send(Rpc(42, "order.cancel", R"({"client_id":"ws-2"})"));
  CHECK(ErrorCode(RpcReply(ws, 42)) == "-32602");
  ws.Send(Rpc(43, "order.cancel", R"({"client_id":"ws-2","market":"ETH-USD-PERP"})"));
  CHECK(Field(Field(RpcReply(ws, 43), "error"), "message") == "CLIENT_ORDER_ID_NOT_FOUND");
  ws.Send(Rpc(44, "order.cancel", R"({"client_id":"ws-2","market":"BTC-USD-PERP"})"));
  CHECK(Field(Field(RpcReply(ws, 44), "result"), "order_id") == id2);
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());

  // order.cancel_batch: per-id outcomes in order.
  ws.Send(Rpc(50, "order.create",
              sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "ws-5")));
  const std::string id5 = Field(Field(Field(RpcReply(ws, 50), "result"), "order"), "id");
  ws.Send(Rpc(51, "order.cancel_batch",
              R"({"order_ids":[")" + id5 + R"(",")" + id1 + R"(","999"]})"));
  std::string cb = RpcReply(ws, 51);
  REQUIRE(ErrorCode(cb).empty());
  auto outcomes = Elements(Field(cb, "result"), "results");
  REQUIRE(outcomes.size() == 3);
  CHECK(Field(outcomes[0], "status") == "QUEUED_FOR_CANCELLATION");
  CHECK(Field(outcomes[0], "market") == "BTC-USD-PERP");
  CHECK(Field(outcomes[1], "status") == "ALREADY_CLOSED");
  CHECK(Field(outcomes[2], "status") == "NOT_FOUND");
  ws.Send(Rpc(52, "order.cancel_batch", "{}"));
  CHECK(ErrorCode(RpcReply(ws, 52)) == "-32602");

  // order.cancel_all: {"status":"ok"}, by market or all; an unknown market is refused.
  for (const char* cid : {"ws-6", "ws-7"}) {
    REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), cid).status == 201);
  }
  ws.Send(Rpc(60, "order.cancel_all", R"({"market":"NOPE-USD-PERP"})"));
  CHECK(Field(Field(RpcReply(ws, 60), "error"), "message") == "MARKET_NOT_FOUND");
  ws.Send(Rpc(61, "order.cancel_all", R"({"market":"ETH-USD-PERP"})"));
  CHECK(Field(Field(RpcReply(ws, 61), "result"), "status") == "ok");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).size() == 2);
  ws.Send(Rpc(62, "order.cancel_all", "{}"));
  CHECK(Field(Field(RpcReply(ws, 62), "result"), "status") == "ok");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());
}

TEST_CASE("paradex sim: order.cancel_on_disconnect cancels the account's orders on close",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  const std::string far = Decimal::FromUnits(bid - 10000, 1).ToNormalizedString();
  auto open_count = [&] { return Elements(sim.Get("/v1/orders", jwt).body).size(); };
  auto connect = [&](int n) {
    auto ws = std::make_unique<WsClient>(sim.port, "/v1");
    REQUIRE(ws->ok());
    sim.WaitConnections(static_cast<size_t>(n));
    ws->Send(px::EncodeAuth(jwt, 1));
    REQUIRE(ws->ReadText("node_id"));
    return ws;
  };
  // An observer connection sees the CLOSED states.
  auto observer = connect(1);
  observer->Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(observer->ReadText("\"result\""));

  // Not enabled (never, or enabled then disabled): dropping the socket leaves the orders.
  {
    auto ws = connect(2);
    ws->Send(Rpc(3, "order.create",
                 sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "keep-1")));
    REQUIRE(ErrorCode(RpcReply(*ws, 3)).empty());
    ws->Send(Rpc(4, "order.cancel_on_disconnect", R"({"enabled":true})"));
    CHECK(Field(Field(RpcReply(*ws, 4), "result"), "enabled") == "true");
    ws->Send(Rpc(5, "order.cancel_on_disconnect", R"({"enabled":false})"));
    CHECK(Field(Field(RpcReply(*ws, 5), "result"), "enabled") == "false");
    ws->Send(Rpc(6, "order.cancel_on_disconnect", R"({"enabled":"yes"})"));
    CHECK(ErrorCode(RpcReply(*ws, 6)) == "-32602");
  }
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, far, "0.01"), "keep-2").status == 201);
  REQUIRE(WaitUntil([&] {
    size_t c = 0;
    sim.server->Sync([&] { c = sim.venue().connections().size(); });
    return c == 1;
  }));
  std::this_thread::sleep_for(200ms);
  CHECK(open_count() == 2);

  // Before auth it is refused like every order.* method.
  {
    WsClient anon(sim.port, "/v1");
    REQUIRE(anon.ok());
    anon.Send(Rpc(7, "order.cancel_on_disconnect", R"({"enabled":true})"));
    CHECK(ErrorCode(RpcReply(anon, 7)) == "40300");
  }
  std::this_thread::sleep_for(200ms);
  CHECK(open_count() == 2);

  // Enabled: dropping the socket (no close handshake) cancels every open order of the account
  // — placed on it, on REST before, and a parked trigger.
  auto ws = connect(2);
  ws->Send(Rpc(8, "order.cancel_on_disconnect", R"({"enabled":true})"));
  CHECK(Field(Field(RpcReply(*ws, 8), "result"), "enabled") == "true");
  ws->Send(Rpc(9, "order.create",
               sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "gone-1")));
  REQUIRE(ErrorCode(RpcReply(*ws, 9)).empty());
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  REQUIRE(sim.Send(http::verb::post, "/v1/orders",
                   ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                                   Decimal::FromUnits(mark + 500, 1).ToNormalizedString(),
                                   "gone-2"),
                   jwt)
              .status == 201);
  CHECK(open_count() == 4);
  ws.reset();
  REQUIRE(WaitUntil([&] { return open_count() == 0; }));
  auto hist = Elements(sim.Get("/v1/orders-history?client_id=keep-1", jwt).body);
  REQUIRE(hist.size() == 1);
  CHECK(Field(hist[0], "status") == "CLOSED");
  CHECK(Field(hist[0], "cancel_reason") == "USER_CANCELED");
  REQUIRE(observer->ReadText("gone-2"));
}


TEST_CASE("paradex sim: a position TP/SL (size 0, REDUCE_ONLY) closes the whole position",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  auto post = [&](const std::string& body) {
    return sim.Send(http::verb::post, "/v1/orders", body, jwt);
  };
  // ccxt's stopLossPrice / takeProfitPrice order: size "0", flags ["REDUCE_ONLY"].
  auto reduce_only = [](std::string body) {
    body.pop_back();
    return body + R"(,"flags":["REDUCE_ONLY"]})";
  };
  auto position = [&]() -> std::optional<Decimal> {
    auto p = sim.codec.ParsePositions(sim.Get("/v1/positions", jwt).body, sim.symbols);
    REQUIRE(p.ok());
    for (const auto& x : *p) {
      if (x.size != Decimal()) return x.size;
    }
    return std::nullopt;
  };

  // Long 0.03 BTC: an IOC buy through the ask.
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, px_text(ask + 500), "0.03", TimeInForce::kIoc),
                    "open-long")
              .status == 201);
  REQUIRE(WaitUntil([&] { return position() == *Decimal::Parse("0.03"); }));
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });

  // Refused: size 0 without REDUCE_ONLY, size 0 on a plain stop type.
  HttpResult no_flag = post(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_LOSS_MARKET", "0",
                                            "", px_text(mark - 300), "sl-noflag"));
  CHECK(no_flag.status == 400);
  CHECK(Field(no_flag.body, "error") == "INVALID_ORDER_SIZE");
  HttpResult plain = post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_MARKET",
                                                      "0", "", px_text(mark - 300), "sm-0")));
  CHECK(Field(plain.body, "error") == "INVALID_ORDER_SIZE");

  // Accepted: the stop-loss below the mark and a take-profit above it, both parked with the
  // size they were sent with.
  HttpResult sl = post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL",
                                                   "STOP_LOSS_MARKET", "0", "",
                                                   px_text(mark - 300), "sl-pos")));
  REQUIRE(sl.status == 201);
  CHECK(Field(sl.body, "type") == "STOP_LOSS_MARKET");
  CHECK(Field(sl.body, "size") == "0");
  CHECK(Field(sl.body, "flags") == R"(["REDUCE_ONLY"])");
  const std::string sl_id = Field(sl.body, "id");
  HttpResult tp = post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL",
                                                   "TAKE_PROFIT_MARKET", "0", "",
                                                   px_text(mark + 300), "tp-pos")));
  REQUIRE(tp.status == 201);
  const std::string tp_id = Field(tp.body, "id");
  auto listed = Elements(sim.Get("/v1/orders", jwt).body);
  REQUIRE(listed.size() == 2);
  for (const std::string& o : listed) {
    CHECK(Field(o, "status") == "UNTRIGGERED");
    CHECK(Field(o, "size") == "0");
  }

  // The mark falls through the stop: it fires and sells the whole position.
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark - 400);
  });
  std::optional<std::string> done;
  for (int k = 0; k < 20 && !done; ++k) {
    auto f = ws.ReadText("\"CLOSED\"");
    REQUIRE(f);
    if (DataField(*f, "id") == sl_id) done = f;  // (the IOC that opened the long came first)
  }
  REQUIRE(done);
  CHECK(DataField(*done, "size") == "0.03");
  CHECK(DataField(*done, "remaining_size") == "0");
  REQUIRE(WaitUntil([&] { return !position().has_value(); }));
  // The take-profit leg is cancelled with it (one-cancels-other; the position is flat), pushed
  // on orders.* like any cancel.
  std::optional<std::string> tp_done;
  for (int k = 0; k < 20 && !tp_done; ++k) {
    auto f = ws.ReadText("\"CLOSED\"");
    REQUIRE(f);
    if (DataField(*f, "id") == tp_id) tp_done = f;
  }
  REQUIRE(tp_done);
  CHECK(DataField(*tp_done, "cancel_reason") == "POSITION_CLOSED");
  CHECK(DataField(*tp_done, "type") == "TAKE_PROFIT_MARKET");
  CHECK(Elements(sim.Get("/v1/orders", jwt).body).empty());
  auto hist = Elements(sim.Get("/v1/orders-history?client_id=tp-pos", jwt).body);
  REQUIRE(hist.size() == 1);
  CHECK(Field(hist[0], "status") == "CLOSED");
  CHECK(Field(hist[0], "cancel_reason") == "POSITION_CLOSED");
  CHECK(sim.Send(http::verb::delete_, "/v1/orders/" + tp_id, "", jwt).status == 400);
}

TEST_CASE("paradex sim: a position TP/SL leg's partial fill cancels its sibling leg",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  auto post = [&](const std::string& body) {
    return sim.Send(http::verb::post, "/v1/orders", body, jwt);
  };
  auto reduce_only = [](std::string body) {
    body.pop_back();
    return body + R"(,"flags":["REDUCE_ONLY"]})";
  };
  auto position = [&]() -> Decimal {
    auto p = sim.codec.ParsePositions(sim.Get("/v1/positions", jwt).body, sim.symbols);
    REQUIRE(p.ok());
    for (const auto& x : *p) {
      if (x.size != Decimal()) return x.size;
    }
    return Decimal();
  };
  // A long of ~2 BTC, more than the few bid levels next to the mark hold.
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, px_text(ask + 500), "2", TimeInForce::kIoc),
                    "open-long")
              .status == 201);
  REQUIRE(WaitUntil([&] { return position() > Decimal(); }));
  const Decimal opened = position();
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  // Whole-position legs: a stop-loss limit whose limit sits just under where the bids will be
  // when it fires (it sells only the top levels, then rests), and a take-profit.
  HttpResult sl = post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_LOSS_LIMIT",
                                                   "0", px_text(mark - 403),
                                                   px_text(mark - 300), "sl-leg")));
  REQUIRE(sl.status == 201);
  HttpResult tp = post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL",
                                                   "TAKE_PROFIT_MARKET", "0", "",
                                                   px_text(mark + 300), "tp-leg")));
  REQUIRE(tp.status == 201);
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark - 400);
  });
  // The stop-loss fills part of the position: the take-profit leg goes (one-cancels-other)
  // although the position is still open.
  auto f = ws.ReadText("POSITION_CLOSED");
  REQUIRE(f);
  CHECK(DataField(*f, "client_id") == "tp-leg");
  const Decimal left = position();
  INFO("opened " << opened.ToNormalizedString() << ", left " << left.ToNormalizedString());
  REQUIRE(left > Decimal());
  REQUIRE(left < opened);
  auto open = Elements(sim.Get("/v1/orders", jwt).body);
  REQUIRE(open.size() == 1);
  CHECK(Field(open[0], "client_id") == "sl-leg");
  CHECK(Field(open[0], "status") == "OPEN");
}

TEST_CASE("paradex sim: reduce-only triggers go when the position goes flat or reverses",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  auto post = [&](const std::string& body) {
    return sim.Send(http::verb::post, "/v1/orders", body, jwt);
  };
  auto reduce_only = [](std::string body) {
    body.pop_back();
    return body + R"(,"flags":["REDUCE_ONLY"]})";
  };
  auto position = [&]() -> Decimal {
    auto p = sim.codec.ParsePositions(sim.Get("/v1/positions", jwt).body, sim.symbols);
    REQUIRE(p.ok());
    for (const auto& x : *p) {
      if (x.size != Decimal()) return x.size;
    }
    return Decimal();
  };
  auto open_ids = [&] {
    std::set<std::string> ids;
    for (const std::string& o : Elements(sim.Get("/v1/orders", jwt).body)) {
      ids.insert(Field(o, "client_id"));
    }
    return ids;
  };
  auto history_reason = [&](const std::string& cid) {
    auto h = Elements(sim.Get("/v1/orders-history?client_id=" + cid, jwt).body);
    return h.size() == 1 ? Field(h[0], "cancel_reason") : std::string("?");
  };

  // Long 0.03 BTC, then sized reduce-only legs: a stop-loss for all of it, a take-profit for a
  // third, another for the rest further up.
  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, px_text(ask + 500), "0.03", TimeInForce::kIoc),
                    "open-long")
              .status == 201);
  REQUIRE(WaitUntil([&] { return position() == *Decimal::Parse("0.03"); }));
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  REQUIRE(post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_LOSS_MARKET",
                                           "0.03", "", px_text(mark - 300), "sl")))
              .status == 201);
  REQUIRE(post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "TAKE_PROFIT_MARKET",
                                           "0.01", "", px_text(mark + 300), "tp1")))
              .status == 201);
  REQUIRE(post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "TAKE_PROFIT_MARKET",
                                           "0.02", "", px_text(mark + 900), "tp2")))
              .status == 201);
  // A plain (not reduce-only) stop is no TP/SL: it stays whatever the position does.
  REQUIRE(post(ConditionalBody(sim, "BTC-USD-PERP", "SELL", "STOP_MARKET", "0.01", "",
                               px_text(mark - 600), "plain"))
              .status == 201);
  CHECK(open_ids() == std::set<std::string>{"sl", "tp1", "tp2", "plain"});

  // tp1 fires and takes a third: the position is still long, the stop-loss and tp2 stay.
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark + 400);
  });
  REQUIRE(WaitUntil([&] { return position() == *Decimal::Parse("0.02"); }));
  sim.server->Sync([] {});
  sim.server->Sync([] {});
  CHECK(open_ids() == std::set<std::string>{"sl", "tp2", "plain"});

  // A sell of 0.05 reverses the long into a short 0.03: the stop-loss and tp2 (sells, which can
  // no longer reduce) are cancelled and pushed as CLOSED, the plain stop stays.
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kSell, px_text(bid - 500), "0.05", TimeInForce::kIoc),
                    "reverse")
              .status == 201);
  REQUIRE(WaitUntil([&] { return position() == *Decimal::Parse("-0.03"); }));
  std::set<std::string> pushed;
  for (int k = 0; k < 20 && pushed.size() < 2; ++k) {
    auto f = ws.ReadText("POSITION_CLOSED");
    REQUIRE(f);
    CHECK(DataField(*f, "status") == "CLOSED");
    pushed.insert(DataField(*f, "client_id"));
  }
  CHECK(pushed == std::set<std::string>{"sl", "tp2"});
  CHECK(open_ids() == std::set<std::string>{"plain"});
  CHECK(history_reason("sl") == "POSITION_CLOSED");
  CHECK(history_reason("tp2") == "POSITION_CLOSED");

  // A reduce-only buy stop for the short, then a buy that flattens it: the stop goes too.
  REQUIRE(post(reduce_only(ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_LOSS_MARKET",
                                           "0.03", "", px_text(mark + 1500), "sl-short")))
              .status == 201);
  ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt, Limit("BTC", Side::kBuy, px_text(ask + 500), "0.03", TimeInForce::kIoc),
                    "flatten")
              .status == 201);
  REQUIRE(WaitUntil([&] { return position() == Decimal(); }));
  REQUIRE(WaitUntil([&] { return open_ids() == std::set<std::string>{"plain"}; }));
  CHECK(history_reason("sl-short") == "POSITION_CLOSED");
}


TEST_CASE("paradex sim: PUT /orders/{id} moves an UNTRIGGERED order's trigger_price",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(px::EncodeSubscribe("orders.ALL", 2));
  REQUIRE(ws.ReadText("\"result\""));
  int64_t mark = 0;
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  auto px_text = [](int64_t units) { return Decimal::FromUnits(units, 1).ToNormalizedString(); };
  // A signed ModifyOrder body for a BTC buy of `type` (price signed 0 for *_MARKET).
  auto modify_body = [&](const std::string& id, const std::string& type, const std::string& price,
                         const std::string& size, const std::string& trigger) {
    px::ModifyOrderFields mf;
    mf.order.timestamp_ms = static_cast<uint64_t>(sim.NowMs());
    mf.order.market = "BTC-USD-PERP";
    mf.order.side = px::OrderSide::kBuy;
    mf.order.order_type = type;
    mf.order.size = size;
    mf.order.price = price.empty() ? "0" : price;
    mf.id = id;
    auto hash = px::ModifyOrderMessageHash(kChainId, *px::ParseFelt(kAddress1), mf);
    REQUIRE(hash.ok());
    auto sig = sim.key.Sign(*hash);
    REQUIRE(sig.ok());
    JsonWriter w;
    w.BeginObject()
        .Field("id", id)
        .Field("market", "BTC-USD-PERP")
        .Field("side", "BUY")
        .Field("type", type)
        .Field("size", size)
        .Field("price", price.empty() ? "0" : price)
        .Field("trigger_price", trigger)
        .Field("signature", px::SignatureJson(*sig))
        .Field("signature_timestamp", sim.NowMs())
        .EndObject();
    return w.Take();
  };
  auto put = [&](const std::string& id, const std::string& body) {
    return sim.Send(http::verb::put, "/v1/orders/" + id, body, jwt);
  };

  // A stop-limit buy 20 above the mark parks; PUT moves its trigger to 40 above and its price.
  HttpResult placed =
      sim.Send(http::verb::post, "/v1/orders",
               ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_LIMIT", "0.01",
                               px_text(mark + 300), px_text(mark + 200), "amend-stop"),
               jwt);
  REQUIRE(placed.status == 201);
  const std::string id = Field(placed.body, "id");
  REQUIRE(ws.ReadText("UNTRIGGERED"));
  HttpResult moved = put(id, modify_body(id, "STOP_LIMIT", px_text(mark + 500), "0.02",
                                         px_text(mark + 400)));
  REQUIRE(moved.status == 200);
  CHECK(Field(moved.body, "id") == id);
  CHECK(Field(moved.body, "status") == "UNTRIGGERED");
  CHECK(Field(moved.body, "trigger_price") == px_text(mark + 400));
  CHECK(Field(moved.body, "price") == px_text(mark + 500));
  CHECK(Field(moved.body, "size") == "0.02");
  auto pushed = ws.ReadText(px_text(mark + 400));
  REQUIRE(pushed);
  CHECK(DataField(*pushed, "status") == "UNTRIGGERED");
  CHECK(Field(sim.Get("/v1/orders/" + id, jwt).body, "trigger_price") == px_text(mark + 400));

  // Refused, order unchanged: a trigger the mark has reached, its base type, another key.
  HttpResult late = put(id, modify_body(id, "STOP_LIMIT", px_text(mark + 500), "0.02",
                                        px_text(mark - 100)));
  CHECK(late.status == 400);
  CHECK(Field(late.body, "error") == "INVALID_REQUEST_PARAMETER");
  HttpResult as_limit = put(id, modify_body(id, "LIMIT", px_text(mark + 500), "0.02",
                                            px_text(mark + 400)));
  CHECK(Field(as_limit.body, "error") == "VALIDATION_ERROR");
  CHECK(Field(sim.Get("/v1/orders/" + id, jwt).body, "trigger_price") == px_text(mark + 400));

  // The mark passes the old trigger but not the new one: still parked. Then past the new one:
  // it fires.
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark + 300);
  });
  std::this_thread::sleep_for(200ms);
  CHECK(Field(sim.Get("/v1/orders/" + id, jwt).body, "status") == "UNTRIGGERED");

  // order.modify on the socket does the same for a stop-market (price signed 0).
  sim.server->Sync([&] {
    const Market& m = sim.venue().market();
    mark = m.mark_price(m.Find("BTC-USD-PERP")->index);
  });
  HttpResult sm =
      sim.Send(http::verb::post, "/v1/orders",
               ConditionalBody(sim, "BTC-USD-PERP", "BUY", "STOP_MARKET", "0.01", "",
                               px_text(mark + 600), "amend-sm"),
               jwt);
  REQUIRE(sm.status == 201);
  const std::string sm_id = Field(sm.body, "id");
  ws.Send(Rpc(9, "order.modify",
              modify_body(sm_id, "STOP_MARKET", "", "0.01", px_text(mark + 700))));
  std::string reply = RpcReply(ws, 9);
  REQUIRE(ErrorCode(reply).empty());
  CHECK(Field(Field(Field(reply, "result"), "order"), "trigger_price") == px_text(mark + 700));

  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(m.Find("BTC-USD-PERP")->index, mark + 250);
  });
  REQUIRE(WaitUntil([&] {
    return Field(sim.Get("/v1/orders/" + id, jwt).body, "status") != "UNTRIGGERED";
  }));
  CHECK(Field(sim.Get("/v1/orders/" + sm_id, jwt).body, "status") == "UNTRIGGERED");
}

namespace {

// [price, size] rows of a REST book side at the instrument's scales.
std::vector<Level> RestSide(const std::string& body, const char* side, int price_scale,
                            int size_scale) {
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  std::vector<Level> out;
  for (auto lv : doc[side].get_array()) {
    auto arr = lv.get_array().value();
    out.push_back({*ParseScaled(std::string_view(arr.at(0).get_string().value()), price_scale),
                   *ParseScaled(std::string_view(arr.at(1).get_string().value()), size_scale)});
  }
  return out;
}

// The grouping the venue's notes describe, written out independently: bids rounded down, asks
// up, sizes summed, best first, at most `depth` buckets.
std::vector<Level> Bucketed(const std::vector<Level>& levels, bool bids, int64_t g, size_t depth) {
  std::map<int64_t, int64_t> sums;
  for (const Level& l : levels) {
    int64_t b = bids ? (l.price / g) * g : ((l.price + g - 1) / g) * g;
    sums[b] += l.size;
  }
  std::vector<Level> out;
  for (const auto& [p, q] : sums) out.push_back({p, q});
  if (bids) std::reverse(out.begin(), out.end());
  if (out.size() > depth) out.resize(depth);
  return out;
}

// A JSON book push's levels of one side ("BUY"/"SELL") from inserts (snapshots).
std::map<int64_t, int64_t> PushLevels(const std::string& frame, const char* side, int ps, int ss,
                                      const char* list = "inserts") {
  simdjson::dom::parser p;
  auto doc = p.parse(frame);
  std::map<int64_t, int64_t> out;
  for (auto lv : doc["params"]["data"][list].get_array()) {
    if (std::string_view(lv["side"].get_string().value()) != side) continue;
    out[*ParseScaled(std::string_view(lv["price"].get_string().value()), ps)] =
        *ParseScaled(std::string_view(lv["size"].get_string().value()), ss);
  }
  return out;
}

}  // namespace

TEST_CASE("paradex sim: GET /orderbook?price_tick= groups levels into buckets", "[paradex_sim]") {
  Sim sim;
  int ps = 0, ss = 0;
  sim.server->Sync([&] {
    const SimInstrument* in = sim.venue().market().Find("BTC-USD-PERP");
    ps = in->price_scale;
    ss = in->size_scale;
  });
  const std::string full = sim.Get("/v1/orderbook/BTC-USD-PERP?depth=500").body;
  for (const char* tick : {"1", "10", "0_1", "0.1", "100"}) {
    INFO(tick);
    HttpResult r = sim.Get(std::string("/v1/orderbook/BTC-USD-PERP?depth=5&price_tick=") + tick);
    REQUIRE(r.status == 200);
    CHECK(Field(r.body, "seq_no") == Field(full, "seq_no"));  // the same book (generator off)
    auto g = ParseScaled(std::string(tick[1] == '_' ? "0.1" : tick), ps);
    REQUIRE(g.ok());
    for (bool bids : {true, false}) {
      auto want = Bucketed(RestSide(full, bids ? "bids" : "asks", ps, ss), bids, *g, 5);
      auto got = RestSide(r.body, bids ? "bids" : "asks", ps, ss);
      REQUIRE(got.size() == want.size());
      for (size_t k = 0; k < got.size(); ++k) {
        CHECK(got[k].price == want[k].price);
        CHECK(got[k].size == want[k].size);
      }
    }
  }
  // Best bid 100 USD bucket is the floor, best ask the ceiling: never better than the real top.
  HttpResult h = sim.Get("/v1/orderbook/BTC-USD-PERP?depth=1&price_tick=100");
  auto hb = RestSide(h.body, "bids", ps, ss), ha = RestSide(h.body, "asks", ps, ss);
  REQUIRE((hb.size() == 1 && ha.size() == 1));
  CHECK(hb[0].price <= BestPrice(sim, "BTC-USD-PERP", false));
  CHECK(ha[0].price >= BestPrice(sim, "BTC-USD-PERP", true));
  CHECK(ha[0].price > hb[0].price);
  // Not a venue token, finer than the market's tick, or junk: VALIDATION_ERROR.
  for (const char* bad : {"0_01", "0.0000001", "0_5", "5", "abc", "", "-1", "0.10"}) {
    INFO(bad);
    HttpResult r = sim.Get(std::string("/v1/orderbook/BTC-USD-PERP?price_tick=") + bad);
    CHECK(r.status == 400);
    CHECK(Field(r.body, "error") == "VALIDATION_ERROR");
  }
  // kBONK's tick is 0.000001: 0_000001 is its own grid, 0_0000005 is finer.
  CHECK(sim.Get("/v1/orderbook/kBONK-USD-PERP?price_tick=0_000001").status == 200);
  CHECK(sim.Get("/v1/orderbook/kBONK-USD-PERP?price_tick=0_0000005").status == 400);
}

TEST_CASE("paradex sim: order_book.{m}.{feed}@15@{rate}@{price_tick} streams grouped books",
          "[paradex_sim]") {
  Sim sim;
  int ps = 0, ss = 0;
  sim.server->Sync([&] {
    const SimInstrument* in = sim.venue().market().Find("BTC-USD-PERP");
    ps = in->price_scale;
    ss = in->size_scale;
  });
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  // Invalid ticks are invalid channels (-32600).
  int id = 1;
  for (const char* bad : {"0_01", "0.1", "5", "0_5", "x", ""}) {
    INFO(bad);
    ws.Send(px::EncodeSubscribe(std::string("order_book.BTC-USD-PERP.deltas@15@50ms@") + bad, id));
    auto err = ws.ReadText("\"error\"");
    REQUIRE(err);
    CHECK(ErrorCode(*err) == "-32600");
    ++id;
  }
  // A grouped and an ungrouped book of one market are separate subscriptions on JSON.
  // 1 USD buckets: the test book is 30 levels a side, 0.1 apart, so a few buckets a side.
  const std::string grouped = "order_book.BTC-USD-PERP.deltas@15@50ms@1";
  const std::string plain = "order_book.BTC-USD-PERP.snapshot@15@50ms";
  ws.Send(px::EncodeSubscribe(grouped, 100));
  ws.Send(px::EncodeSubscribe(plain, 101));
  // Each subscription gets its own first message (pushes start with "method":"subscription").
  std::optional<std::string> first, plain_snap;
  auto push_of = [](const std::string& ch) {
    return R"("method":"subscription","params":{"channel":")" + ch + "\"";
  };
  REQUIRE(WaitUntil([&] {
    auto f = ws.Read(200ms);
    if (f && f->bytes.find(push_of(grouped)) != std::string::npos && !first) first = f->bytes;
    if (f && f->bytes.find(push_of(plain)) != std::string::npos && !plain_snap) {
      plain_snap = f->bytes;
    }
    return first && plain_snap;
  }));
  CHECK(DataField(*first, "update_type") == "s");
  auto rest = sim.Get("/v1/orderbook/BTC-USD-PERP?depth=15&price_tick=1").body;
  REQUIRE(DataField(*first, "seq_no") == Field(rest, "seq_no"));
  std::map<int64_t, int64_t> bids = PushLevels(*first, "BUY", ps, ss);
  std::map<int64_t, int64_t> asks = PushLevels(*first, "SELL", ps, ss);
  CHECK(bids.size() >= 3);
  CHECK(asks.size() >= 3);
  auto same = [&](const std::string& body) {
    for (bool b : {true, false}) {
      const auto& mine = b ? bids : asks;
      auto want = RestSide(body, b ? "bids" : "asks", ps, ss);
      REQUIRE(mine.size() == want.size());
      for (const Level& l : want) {
        auto it = mine.find(l.price);
        REQUIRE(it != mine.end());
        CHECK(it->second == l.size);
      }
    }
  };
  same(rest);
  CHECK(DataField(*plain_snap, "seq_no") == Field(rest, "seq_no"));
  CHECK(PushLevels(*plain_snap, "BUY", ps, ss).rbegin()->first ==
        BestPrice(sim, "BTC-USD-PERP", false));  // the plain one is exact

  // Generator on: grouped deltas (absolute bucket sizes; deletes when a bucket empties or
  // leaves the window), seq_no strictly increasing; with it off again the applied book equals
  // the grouped REST book.
  auto rate = [&](const char* r) {
    REQUIRE(sim.Control(http::verb::post, "/rate",
                        std::string(R"({"venue":"paradex","rate":")") + r + "\"}")
                .status == 200);
  };
  uint64_t last_seq = std::stoull(DataField(*first, "seq_no"));
  int deltas = 0;
  auto apply = [&](const std::string& f) {
    CHECK(DataField(f, "update_type") == "d");
    uint64_t seq = std::stoull(DataField(f, "seq_no"));
    CHECK(seq > last_seq);
    last_seq = seq;
    for (const char* side : {"BUY", "SELL"}) {
      auto& book = std::string(side) == "BUY" ? bids : asks;
      for (const auto& [p, q] : PushLevels(f, side, ps, ss, "deletes")) book.erase(p);
      for (const auto& [p, q] : PushLevels(f, side, ps, ss, "updates")) {
        CHECK(book.count(p) == 1);
        CHECK(q > 0);
        book[p] = q;
      }
      for (const auto& [p, q] : PushLevels(f, side, ps, ss, "inserts")) {
        CHECK(book.count(p) == 0);
        CHECK(q > 0);
        book[p] = q;
      }
      for (const auto& [p, q] : book) CHECK(p % 10 == 0);  // 1 USD buckets at scale 1
    }
    ++deltas;
  };
  rate("2000");
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (deltas < 40 && std::chrono::steady_clock::now() < deadline) {
    if (auto f = ws.ReadText(push_of(grouped), 1s)) apply(*f);
  }
  CHECK(deltas >= 40);
  rate("0");
  while (auto f = ws.ReadText(push_of(grouped), 400ms)) apply(*f);
  rest = sim.Get("/v1/orderbook/BTC-USD-PERP?depth=15&price_tick=1").body;
  CHECK(Field(rest, "seq_no") == std::to_string(last_seq));
  same(rest);

  // Unsubscribing the grouped channel leaves the plain one streaming.
  ws.Send(R"({"jsonrpc":"2.0","method":"unsubscribe","params":{"channel":")" + grouped +
          R"("},"id":200})");
  REQUIRE(ws.ReadText("\"id\":200"));
  rate("200");
  CHECK(ws.ReadText(push_of(plain)));
  CHECK_FALSE(ws.ReadText(push_of(grouped), 300ms));
  rate("0");

  // SBE frames name no channel: still one book per market there.
  WsClient sbe(sim.port, "/v1?sbeSchemaId=1&sbeSchemaVersion=1");
  REQUIRE(sbe.ok());
  sim.WaitConnections(2);
  sbe.Send(px::EncodeSubscribe("order_book.BTC-USD-PERP.snapshot@15@50ms@1", 1));
  REQUIRE(sbe.ReadText("\"result\""));
  sbe.Send(px::EncodeSubscribe("order_book.BTC-USD-PERP.snapshot@15@50ms", 2));
  auto sbe_err = sbe.ReadText("\"error\"");
  REQUIRE(sbe_err);
  CHECK(sbe_err->find("already subscribed") != std::string::npos);
}

TEST_CASE("paradex sim: RPI orders are refused RPI_ACCOUNT_NOT_WHITELISTED", "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  int64_t bid = BestPrice(sim, "BTC-USD-PERP", false);
  std::string far = Decimal::FromUnits(bid - 1000 * 10, 1).ToNormalizedString();
  auto rpi = [&](const std::string& cid) {
    std::string body = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), cid);
    size_t at = body.find("\"instruction\":\"GTC\"");
    REQUIRE(at != std::string::npos);
    return body.replace(at, 19, "\"instruction\":\"RPI\"");  // instruction is not signed
  };
  HttpResult r = sim.Send(http::verb::post, "/v1/orders", rpi("rpi-1"), jwt);
  CHECK(r.status == 400);
  CHECK(Field(r.body, "error") == "RPI_ACCOUNT_NOT_WHITELISTED");
  auto err = sim.codec.ParseError(r.body);
  REQUIRE(err.has_value());
  CHECK(err->code == "RPI_ACCOUNT_NOT_WHITELISTED");
  // In a batch it is that order's refusal; the others go ahead.
  std::string ok = sim.SignedBody(Limit("BTC", Side::kBuy, far, "0.01"), "rpi-ok");
  HttpResult b =
      sim.Send(http::verb::post, "/v1/orders/batch", "[" + rpi("rpi-2") + "," + ok + "]", jwt);
  REQUIRE(b.status == 201);
  REQUIRE(Elements(b.body, "orders").size() == 1);
  auto errors = Elements(b.body, "errors");
  REQUIRE(errors.size() == 1);
  CHECK(Field(errors[0], "error") == "RPI_ACCOUNT_NOT_WHITELISTED");
  auto open = sim.codec.ParseOrders(sim.Get("/v1/orders", jwt).body, sim.symbols);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK((*open)[0].client_order_id == "rpi-ok");
  // WS order.create answers the same code (method error 100, the REST code as message).
  WsClient ws(sim.port, "/v1");
  REQUIRE(ws.ok());
  sim.WaitConnections(1);
  ws.Send(px::EncodeAuth(jwt, 1));
  REQUIRE(ws.ReadText("node_id"));
  ws.Send(Rpc(2, "order.create", rpi("rpi-3")));
  std::string reply = RpcReply(ws, 2);
  CHECK(ErrorCode(reply) == "100");
  CHECK(reply.find("RPI_ACCOUNT_NOT_WHITELISTED") != std::string::npos);
}

TEST_CASE("paradex sim: interactive book and bbo, GET /liquidations, ISOLATED margin_type",
          "[paradex_sim]") {
  Sim sim;
  std::string jwt = sim.Jwt();
  // The interactive book / bbo: the API ones (the sim has no RPI liquidity).
  auto book = sim.Get("/v1/orderbook/BTC-USD-PERP");
  auto ibook = sim.Get("/v1/orderbook/BTC-USD-PERP/interactive");
  REQUIRE(ibook.status == 200);
  CHECK(Field(ibook.body, "market") == "BTC-USD-PERP");
  CHECK(Field(ibook.body, "bids") == Field(book.body, "bids"));
  CHECK(Field(ibook.body, "asks") == Field(book.body, "asks"));
  auto ibbo = sim.Get("/v1/bbo/BTC-USD-PERP/interactive");
  REQUIRE(ibbo.status == 200);
  CHECK(Field(ibbo.body, "bid") == Field(sim.Get("/v1/bbo/BTC-USD-PERP").body, "bid"));
  CHECK(sim.Get("/v1/bbo/NOPE-USD-PERP/interactive").status == 404);

  // ISOLATED margin on ETH, read back; BTC with a position cannot switch.
  auto iso = sim.Send(http::verb::post, "/v1/account/margin/ETH-USD-PERP",
                      R"({"leverage":5,"margin_type":"ISOLATED"})", jwt);
  INFO(iso.body);
  REQUIRE(iso.status == 200);
  CHECK(Field(iso.body, "margin_type") == "ISOLATED");
  auto margin = sim.Get("/v1/account/margin?market=ETH-USD-PERP", jwt);
  CHECK(margin.body.find(R"("margin_type":"ISOLATED")") != std::string::npos);
  CHECK(sim.Send(http::verb::post, "/v1/account/margin/ETH-USD-PERP",
                 R"({"leverage":5,"margin_type":"PORTFOLIO"})", jwt)
            .status == 400);

  int64_t ask = BestPrice(sim, "BTC-USD-PERP", true);
  REQUIRE(sim.Place(jwt,
                    Limit("BTC", Side::kBuy, Decimal::FromUnits(ask, 1).ToNormalizedString(),
                          "0.01", TimeInForce::kIoc),
                    "liq-open")
              .status == 201);
  REQUIRE(WaitUntil([&] { return Elements(sim.Get("/v1/fills", jwt).body).size() == 1; }));
  CHECK(sim.Send(http::verb::post, "/v1/account/margin/BTC-USD-PERP",
                 R"({"leverage":5,"margin_type":"ISOLATED"})", jwt)
            .status == 400);

  // No liquidation yet; then the liquidate fault closes the position: one record.
  CHECK(Elements(sim.Get("/v1/liquidations", jwt).body).empty());
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"paradex","kind":"liquidate","account":"paradex-1"})")
              .status == 200);
  std::vector<std::string> liq;
  REQUIRE(WaitUntil([&] {
    liq = Elements(sim.Get("/v1/liquidations", jwt).body);
    return liq.size() == 1;
  }));
  const std::string id = Field(liq[0], "id");
  CHECK(id.size() == 66);
  CHECK(id.rfind("0x", 0) == 0);
  const int64_t at = std::stoll(Field(liq[0], "created_at"));
  CHECK(at > 0);
  CHECK(Elements(sim.Get("/v1/liquidations?from=" + std::to_string(at + 1), jwt).body).empty());
  CHECK(Elements(sim.Get("/v1/liquidations?from=" + std::to_string(at) + "&to=" +
                             std::to_string(at), jwt)
                     .body)
            .size() == 1);
  CHECK(sim.Get("/v1/liquidations?from=x", jwt).status == 400);
}

}  // namespace perpgw::sim::paradex
