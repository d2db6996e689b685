// Loopback tests of perpgw-sim's Aster module: every payload is read back with the Aster
// adapter's own codec (the fidelity check), a book is bridged from REST depth + WS diff events
// and compared with the sim's ground truth, V1/V3 signed order round trips with user-stream
// events, auth failures, listenKey expiry and the skip_seq fault. Real sockets on 127.0.0.1:0.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>
#include <atomic>
#include <cmath>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "adapters/api/order_book.h"
#include "adapters/aster/codec.h"
#include "adapters/aster/signing.h"
#include "adapters/aster/symbols.h"
#include "sim/aster/internal.h"
#include "sim/aster/module.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"

namespace perpgw::sim::aster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ad = perpgw::adapters::aster;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr char kApiKey[] = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
constexpr char kSecret[] = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
constexpr char kAgentKey[] = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1";
constexpr char kUser[] = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e";
// Any other valid key (not registered for the user).
constexpr char kStrangerKey[] = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

struct HttpResult {
  int status = 0;
  std::string body;
};

HttpResult Call(int port, http::verb verb, const std::string& target, const std::string& body = "",
                const std::string& api_key = "") {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!api_key.empty()) req.set("X-MBX-APIKEY", api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

// Blocking WS client with per-read deadlines: one async read stays pending across calls and the
// private io_context runs until it completes or the deadline passes (SO_RCVTIMEO does not bound
// Asio's blocking reads).
class WsClient {
 public:
  WsClient(int port, const std::string& target) : ws_(io_) {
    ws_.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws_.handshake("127.0.0.1", target);
  }
  void SetTimeout(int ms) { timeout_ = std::chrono::milliseconds(ms); }
  std::optional<std::string> Read() {
    if (closed_) return std::nullopt;
    if (!pending_) {
      pending_ = true;
      done_ = false;
      ws_.async_read(buf_, [this](beast::error_code ec, size_t) {
        done_ = true;
        ec_ = ec;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
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
      auto f = Read();
      if (f && f->find(needle) != std::string::npos) return f;
    }
    return std::nullopt;
  }
  void Send(const std::string& s) { ws_.write(asio::buffer(s)); }
  bool closed() const { return closed_; }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  std::chrono::milliseconds timeout_{3000};
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

// The sim with only the Aster module, generator off (updates are stepped), a manual clock.
struct Sim {
  ManualClock clock{SystemClock::Instance().Now()};
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;
  ad::SymbolMap symbols;
  ad::FundingIntervals intervals;

  // accounts: empty = the module's defaults.
  explicit Sim(std::vector<AccountSpec> accounts = {}) {
    SimConfig c;
    c.seed = 11;
    c.rate = 0;
    c.depth = 20;
    c.funding_timer = false;
    server = std::make_unique<Server>(c, &clock);
    VenueConfig vc;
    vc.accounts = std::move(accounts);
    REQUIRE(server->AddVenue(MakeModule(), vc).ok());
    REQUIRE(server->Start().ok());
    thread = std::thread([this] { server->Run(); });
    server->Sync([&] { port = server->venue("aster")->port(); });
    auto info = ad::ParseExchangeInfo(Get("/fapi/v1/exchangeInfo").body);
    REQUIRE(info.ok());
    symbols.Reset(*info);
  }
  ~Sim() {
    server->Stop();
    thread.join();
  }
  Venue& venue() { return *server->venue("aster"); }
  HttpResult Get(const std::string& target) { return Call(port, http::verb::get, target); }
  void Step(size_t symbol, int n) {
    server->Sync([&] {
      for (int k = 0; k < n; ++k) venue().market().StepSymbol(symbol);
    });
  }
  int64_t NowMs() const { return clock.Now() / 1000000; }
  // The server registers a WS connection a moment after the client's handshake returns.
  void WaitConnections(size_t n) {
    REQUIRE(WaitUntil([&] {
      size_t c = 0;
      server->Sync([&] { c = venue().connections().size(); });
      return c >= n;
    }));
  }

  // V1: params + timestamp, HMAC over query+body, signature last.
  HttpResult V1(http::verb verb, const std::string& path, const std::string& params,
                int64_t ts_offset_ms = 0, const std::string& secret = kSecret) {
    std::string p = params + (params.empty() ? "" : "&") + "timestamp=" +
                    std::to_string(NowMs() + ts_offset_ms);
    p += "&signature=" + ad::HmacSignatureV1(secret, p, "");
    if (verb == http::verb::get) return Call(port, verb, path + "?" + p, "", kApiKey);
    return Call(port, verb, path, p, kApiKey);
  }
  // V3: business params + nonce/user/signer, EIP-712 signed by the agent key.
  HttpResult V3(http::verb verb, const std::string& path, const std::string& params,
                uint64_t nonce = 0, const char* key = kAgentKey,
                ad::AuthPlacement placement = ad::AuthPlacement::kLast, bool strip_0x = false,
                std::string signer_override = "") {
    auto signer = ad::EvmSigner::FromPrivateKeyHex(key);
    REQUIRE(signer.ok());
    ad::V3Auth auth;
    auth.user = kUser;
    auth.signer = signer_override.empty() ? signer->address() : signer_override;
    auth.chain_id = kChainId;
    auth.placement = placement;
    if (nonce == 0) nonce = static_cast<uint64_t>(clock.Now() / 1000) + (++nonce_seq_);
    auto s = ad::SignV3Params(*signer, auth, params, nonce);
    REQUIRE(s.ok());
    std::string body = *s;
    if (strip_0x) {
      size_t at = body.find("signature=0x");
      body.erase(at + 10, 2);
    }
    if (verb == http::verb::get) return Call(port, verb, path + "?" + body);
    return Call(port, verb, path, body);
  }
  uint64_t nonce_seq_ = 0;
};

bool Same(const std::vector<Level>& a, const std::vector<Level>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].price != b[i].price || a[i].size != b[i].size) return false;
  }
  return true;
}

int ErrorCode(const HttpResult& r) {
  auto e = ad::ParseErrorBody(r.body);
  return e.ok() ? e->code : 0;
}

ad::AccountContext Ctx(const Sim& sim) { return {&sim.symbols, "acct"}; }

}  // namespace

TEST_CASE("aster sim: public REST parses with the adapter codec", "[aster_sim]") {
  Sim sim;
  auto info = ad::ParseExchangeInfoDetailed(sim.Get("/fapi/v3/exchangeInfo").body);
  REQUIRE(info.ok());
  REQUIRE(info->instruments.size() == 5);
  CHECK(info->skipped.empty());
  const Instrument* pepe = sim.symbols.ByVenueSymbol("1000PEPEUSDT");
  REQUIRE(pepe != nullptr);
  CHECK(pepe->symbol == "PEPE");
  CHECK(pepe->quantity_multiplier == 1000);
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  REQUIRE(btc != nullptr);
  CHECK(btc->tick_size.ToNormalizedString() == "0.1");
  for (const auto& ii : info->instruments) {
    CHECK(ii.status == "TRADING");
    CHECK(ii.contract_type == "PERPETUAL");
  }

  auto rows = ad::ParseFundingInfo(sim.Get("/fapi/v1/fundingInfo").body);
  REQUIRE(rows.ok());
  sim.intervals = ad::ToFundingIntervals(*rows);
  CHECK(ad::IntervalHoursFor(&sim.intervals, "BTCUSDT") == 8);
  CHECK(ad::IntervalHoursFor(&sim.intervals, "ETHUSDT") == 8);
  CHECK(ad::IntervalHoursFor(&sim.intervals, "SOLUSDT") == 4);
  CHECK(ad::IntervalHoursFor(&sim.intervals, "1000PEPEUSDT") == 1);
  CHECK(ad::IntervalHoursFor(&sim.intervals, "SUSHIUSDT") == 1);

  auto premium = ad::ParsePremiumIndex(sim.Get("/fapi/v1/premiumIndex").body, &sim.symbols,
                                       &sim.intervals);
  REQUIRE(premium.ok());
  REQUIRE(premium->size() == 5);
  for (const Funding& f : *premium) {
    CHECK((f.mark_price.has_value() && f.mark_price->IsPositive()));
    CHECK(f.next_funding_time > sim.clock.Now());
  }
  auto one = ad::ParsePremiumIndex(sim.Get("/fapi/v3/premiumIndex?symbol=SOLUSDT").body,
                                   &sim.symbols, &sim.intervals);
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK(one->front().rate_8h.ToNormalizedString() == "0.0001");  // 0.00005 per 4 h

  auto hist = ad::ParseFundingRateHistory(sim.Get("/fapi/v1/fundingRate?symbol=SOLUSDT&limit=5").body);
  REQUIRE(hist.ok());
  CHECK(hist->size() == 5);
  CHECK(ad::InferIntervalHours(*hist) == 4);

  auto depth = sim.Get("/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
  REQUIRE(depth.status == 200);
  auto snap = ad::ParseDepthSnapshot(depth.body, btc->price_scale, btc->size_scale);
  REQUIRE(snap.ok());
  CHECK(snap->bids.size() == 20);
  CHECK(snap->asks.size() == 20);
  sim.server->Sync([&] { CHECK(snap->last_update_id == sim.venue().market().update_id(0)); });
  auto five = ad::ParseDepthSnapshot(sim.Get("/fapi/v3/depth?symbol=BTCUSDT&limit=5").body,
                                     btc->price_scale, btc->size_scale);
  REQUIRE(five.ok());
  CHECK(five->bids.size() == 5);

  CHECK(ErrorCode(sim.Get("/fapi/v1/depth?symbol=BTCUSDT&limit=7")) == -1130);
  auto bad = sim.Get("/fapi/v1/depth?symbol=NOPEUSDT");
  CHECK(bad.status == 400);
  CHECK(ErrorCode(bad) == -1121);

  auto tick = ad::ParseTicker24h(sim.Get("/fapi/v1/ticker/24hr").body, &sim.symbols);
  REQUIRE(tick.ok());
  CHECK(tick->size() == 5);
  auto oi = ad::ParseOpenInterest(sim.Get("/fapi/v1/openInterest?symbol=ETHUSDT").body);
  REQUIRE(oi.ok());
  CHECK(oi->open_interest.IsPositive());
  auto bbo = ad::ParseRestBookTicker(sim.Get("/fapi/v1/ticker/bookTicker").body, &sim.symbols, 0);
  REQUIRE(bbo.ok());
  CHECK(bbo->size() == 5);
  CHECK(sim.Get("/fapi/v1/ping").body == "{}");
  CHECK(ad::ParseServerTimeMs(sim.Get("/fapi/v3/time").body).value() == sim.NowMs());
}

TEST_CASE("aster sim: signed account endpoints (V1 and V3) parse with the codec", "[aster_sim]") {
  Sim sim;
  auto pr = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "");
  REQUIRE(pr.status == 200);
  auto rows = ad::ParsePositionRisk(pr.body, Ctx(sim), /*include_flat=*/true);
  REQUIRE(rows.ok());
  CHECK(rows->size() == 5);  // a row for every symbol
  auto bal = sim.V1(http::verb::get, "/fapi/v2/balance", "");
  auto balances = ad::ParseBalances(bal.body, Ctx(sim));
  REQUIRE(balances.ok());
  REQUIRE(balances->size() == 1);
  CHECK(balances->front().asset == "USDT");
  CHECK(balances->front().available.ToNormalizedString() == "100000");
  auto acct = ad::ParseAccount(sim.V1(http::verb::get, "/fapi/v4/account", "").body, Ctx(sim));
  REQUIRE(acct.ok());
  CHECK(acct->available_balance.ToNormalizedString() == "100000");

  auto pr3 = sim.V3(http::verb::get, "/fapi/v3/positionRisk", "");
  REQUIRE(pr3.status == 200);
  CHECK(ad::ParsePositionRisk(pr3.body, Ctx(sim), true)->size() == 5);
  auto bal3 = sim.V3(http::verb::get, "/fapi/v3/balance", "");
  REQUIRE(bal3.status == 200);
  CHECK(ad::ParseBalances(bal3.body, Ctx(sim)).ok());
  auto acct3 = sim.V3(http::verb::get, "/fapi/v3/account", "");
  REQUIRE(acct3.status == 200);
  CHECK(ad::ParseAccount(acct3.body, Ctx(sim)).ok());
  auto brackets = ad::ParseLeverageBrackets(
      sim.V3(http::verb::get, "/fapi/v3/leverageBracket", "").body, Ctx(sim));
  REQUIRE(brackets.ok());
  CHECK(brackets->size() == 5);
  auto lev = sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=25");
  auto li = ad::ParseLeverageResponse(lev.body, Ctx(sim));
  REQUIRE(li.ok());
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=500")) ==
        -4028);
}

TEST_CASE("aster sim: diff depth bridged to REST depth equals the ground truth", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  REQUIRE(btc != nullptr);
  WsClient ws(sim.port, "/stream?streams=btcusdt@depth@100ms");
  sim.WaitConnections(1);
  std::mutex mu;
  std::vector<std::string> frames;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    ws.SetTimeout(200);
    while (!stop) {
      if (auto f = ws.Read()) {
        std::lock_guard lock(mu);
        frames.push_back(*f);
      }
    }
  });
  auto count = [&] {
    std::lock_guard lock(mu);
    return frames.size();
  };
  sim.Step(0, 50);
  REQUIRE(WaitUntil([&] { return count() >= 1; }));
  std::string snapshot_body;
  size_t before_snapshot = 0;
  for (int round = 0; round < 60; ++round) {
    sim.Step(0, 50);
    if (round == 10) {
      snapshot_body = sim.Get("/fapi/v1/depth?symbol=BTCUSDT&limit=1000").body;
      before_snapshot = count();
    }
    std::this_thread::sleep_for(15ms);
  }
  // Every update published: the last event carries the final id.
  uint64_t final_id = 0;
  std::vector<Level> truth_bids, truth_asks;
  sim.server->Sync([&] {
    final_id = sim.venue().market().update_id(0);
    truth_bids = sim.venue().market().book(0).Bids();
    truth_asks = sim.venue().market().book(0).Asks();
  });
  CHECK(final_id >= 3000);
  REQUIRE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return !frames.empty() && frames.back().find("\"u\":" + std::to_string(final_id) + ",") !=
                                  std::string::npos;
  }));
  stop = true;
  reader.join();

  BookSync sync(SeqRule::kPrevLink, btc->price_scale, btc->size_scale);
  ad::MarketContext ctx;
  ctx.symbols = &sim.symbols;
  ad::MarketFrame mf;
  auto feed = [&](const std::string& f) {
    REQUIRE(ad::DecodeMarketFrame(f, ctx, 0, &mf).ok());
    REQUIRE(mf.kind == ad::MarketEventKind::kDepthDiff);
    return sync.OnDelta(mf.delta);
  };
  for (size_t k = 0; k < before_snapshot; ++k) feed(frames[k]);
  auto snap = ad::ParseDepthSnapshot(snapshot_body, btc->price_scale, btc->size_scale);
  REQUIRE(snap.ok());
  REQUIRE(sync.OnSnapshot(snap->bids, snap->asks, snap->last_update_id) ==
          BookSync::Result::kApplied);
  size_t applied = 0;
  for (size_t k = before_snapshot; k < frames.size(); ++k) {
    auto r = feed(frames[k]);
    REQUIRE((r == BookSync::Result::kApplied || r == BookSync::Result::kStale));
    applied += r == BookSync::Result::kApplied;
  }
  CHECK(applied >= 5);  // ~100 ms events over the stepping window
  CHECK(sync.live());
  CHECK(sync.last_id() == final_id);
  CHECK(Same(sync.book().Bids(), truth_bids));
  CHECK(Same(sync.book().Asks(), truth_asks));
}

TEST_CASE("aster sim: V1 order round trip with user-stream events", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  REQUIRE(lk.status == 200);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  CHECK(key->size() == 64);
  // Posting again while active returns the same key.
  CHECK(ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body)
            .value() == *key);
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  ad::UserFrame uf;
  auto next_user = [&](const std::string& needle) {
    auto f = user.ReadUntil(needle);
    REQUIRE(f.has_value());
    REQUIRE(ad::DecodeUserFrame(*f, Ctx(sim), 0, &uf).ok());
    return *f;
  };

  int64_t bid = 0, ask = 0;
  sim.server->Sync([&] {
    bid = sim.venue().market().book(0).BestBid()->price;
    ask = sim.venue().market().book(0).BestAsk()->price;
  });
  auto px = [&](int64_t m) { return FormatScaled(m, btc->price_scale); };

  // Resting GTC buy two ticks under the bid.
  auto placed = sim.V1(http::verb::post, "/fapi/v1/order",
                       "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&price=" + px(bid - 2) +
                           "&timeInForce=GTC&newClientOrderId=rest-1&newOrderRespType=RESULT");
  REQUIRE(placed.status == 200);
  auto o = ad::ParseOrder(placed.body, Ctx(sim));
  REQUIRE(o.ok());
  CHECK(o->status == OrderStatus::kOpen);
  CHECK(o->client_order_id == "rest-1");
  next_user("ORDER_TRADE_UPDATE");
  CHECK(uf.execution_type == "NEW");
  CHECK(uf.order.order.status == OrderStatus::kOpen);
  // The same client id while it is open is refused.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&price=" + px(bid - 2) +
                             "&timeInForce=GTC&newClientOrderId=rest-1")) == -4116);

  // Post-only crossing the ask: accepted then EXPIRED; the codec reads it as a post-only reject.
  auto gtx = sim.V1(http::verb::post, "/fapi/v1/order",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" + px(ask) +
                        "&timeInForce=GTX&newClientOrderId=gtx-1&newOrderRespType=RESULT");
  REQUIRE(gtx.status == 200);
  auto g = ad::ParseOrder(gtx.body, Ctx(sim));
  REQUIRE(g.ok());
  CHECK(g->status == OrderStatus::kRejected);
  CHECK(g->reason == CancelReason::kPostOnlyViolation);
  next_user("gtx-1");
  CHECK(uf.execution_type == "NEW");
  next_user("gtx-1");
  CHECK(uf.execution_type == "EXPIRED");
  CHECK(uf.order.order.reason == CancelReason::kPostOnlyViolation);

  // The market trades down through the resting buy: TRADE event(s), then ACCOUNT_UPDATE.
  sim.server->Sync([&] { sim.venue().market().SetMid(0, bid - 30); });
  next_user("rest-1");
  CHECK(uf.execution_type == "TRADE");
  REQUIRE(uf.order.fill.has_value());
  CHECK(uf.order.fill->maker);
  CHECK(uf.order.fill->price == Decimal::FromUnits(bid - 2, btc->price_scale));
  Decimal filled = uf.order.order.filled_size;
  while (uf.order.order.status != OrderStatus::kFilled) {
    next_user("ORDER_TRADE_UPDATE");
    filled = uf.order.order.filled_size;
  }
  CHECK(filled.ToNormalizedString() == "0.002");
  next_user("ACCOUNT_UPDATE");
  REQUIRE(uf.kind == ad::UserEventKind::kAccountUpdate);
  REQUIRE(!uf.account.positions.empty());
  CHECK(uf.account.positions.back().size.ToNormalizedString() == "0.002");

  auto pos = ad::ParsePositionRisk(sim.V1(http::verb::get, "/fapi/v2/positionRisk", "").body,
                                   Ctx(sim));
  REQUIRE(pos.ok());
  REQUIRE(pos->size() == 1);
  CHECK(pos->front().size.ToNormalizedString() == "0.002");
  auto fills = ad::ParseUserTrades(
      sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT").body, Ctx(sim));
  REQUIRE(fills.ok());
  CHECK(!fills->empty());

  // Cancel a resting order: the response carries executedQty; a second cancel is unknown.
  int64_t bid2 = 0;
  sim.server->Sync([&] { bid2 = sim.venue().market().book(0).BestBid()->price; });
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" + px(bid2 - 5) +
                     "&timeInForce=GTC&newClientOrderId=c-1")
              .status == 200);
  auto canceled = sim.V1(http::verb::delete_, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=c-1");
  REQUIRE(canceled.status == 200);
  CHECK(canceled.body.find("\"executedQty\":\"0\"") != std::string::npos);
  auto c = ad::ParseOrder(canceled.body, Ctx(sim));
  REQUIRE(c.ok());
  CHECK(c->status == OrderStatus::kCanceled);
  next_user("CANCELED");
  CHECK(ErrorCode(sim.V1(http::verb::delete_, "/fapi/v1/order",
                         "symbol=BTCUSDT&origClientOrderId=c-1")) == -2011);
  CHECK(ErrorCode(sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=42")) == -2013);
  auto q = ad::ParseOrder(
      sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=c-1").body,
      Ctx(sim));
  REQUIRE(q.ok());
  CHECK(q->status == OrderStatus::kCanceled);

  // Filters and validation codes.
  auto order = [&](const std::string& p) {
    return ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order", p));
  };
  CHECK(order("symbol=SOLUSDT&side=BUY&type=LIMIT&quantity=1&price=150.001&timeInForce=GTC") == -4014);
  CHECK(order("symbol=SOLUSDT&side=BUY&type=LIMIT&quantity=1&price=150.00001&timeInForce=GTC") == -1111);
  CHECK(order("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.0001&price=90000&timeInForce=GTC") == -1111);
  CHECK(order("symbol=1000PEPEUSDT&side=BUY&type=LIMIT&quantity=1&price=0.011&timeInForce=GTC") == -4164);
  CHECK(order("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&timeInForce=GTC") == -1102);
  CHECK(order("symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.001&price=99000&timeInForce=GTC&newClientOrderId=bad*id") == -4015);
  CHECK(order("symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.001&price=90000&timeInForce=GTC") == -4024);
  CHECK(order("symbol=ETHUSDT&side=SELL&type=MARKET&quantity=0.01&reduceOnly=true") == -2022);

  // ACCOUNT_CONFIG_UPDATE on a leverage change.
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=ETHUSDT&leverage=7").status == 200);
  next_user("ACCOUNT_CONFIG_UPDATE");
  CHECK(uf.kind == ad::UserEventKind::kAccountConfigUpdate);
  CHECK(uf.config.leverage == 7);
}

// ccxt's fetchTrades (GET /fapi/v1/trades) and aggTrades: a taker order's print, Binance shapes.
TEST_CASE("aster sim: public trades and aggTrades list the prints", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t ask = 0;
  sim.server->Sync([&] { ask = sim.venue().market().book(0).BestAsk()->price; });
  const std::string px = FormatScaled(ask, btc->price_scale);
  CHECK(sim.Get("/fapi/v1/trades?symbol=BTCUSDT").body == "[]");
  auto placed = sim.V1(http::verb::post, "/fapi/v1/order",
                       "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" + px +
                           "&timeInForce=IOC&newClientOrderId=taker-1");
  REQUIRE(placed.status == 200);
  simdjson::dom::parser jp;
  auto trades = sim.Get("/fapi/v1/trades?symbol=BTCUSDT&limit=10");
  REQUIRE(trades.status == 200);
  simdjson::dom::element t = jp.parse(trades.body);
  REQUIRE(t.get_array().size() == 1);
  const int64_t id = int64_t(t.at(0)["id"]);
  CHECK(std::string_view(t.at(0)["price"]) == px);
  CHECK(std::string_view(t.at(0)["qty"]) == "0.001");
  CHECK(bool(t.at(0)["isBuyerMaker"]) == false);  // the taker bought
  auto agg = sim.Get("/fapi/v1/aggTrades?symbol=BTCUSDT");
  REQUIRE(agg.status == 200);
  simdjson::dom::element a = jp.parse(agg.body);
  REQUIRE(a.get_array().size() == 1);
  CHECK(int64_t(a.at(0)["a"]) == id);
  CHECK(int64_t(a.at(0)["f"]) == id);
  CHECK(std::string_view(a.at(0)["q"]) == "0.001");
  CHECK(sim.Get("/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(id + 1)).body == "[]");
  CHECK(ErrorCode(sim.Get("/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=0&endTime=3600001")) ==
        -1127);
  CHECK(ErrorCode(sim.Get("/fapi/v1/trades?symbol=BTCUSDT&limit=0")) == -1130);
  // historicalTrades: the API key header is required (MARKET_DATA); reads forward from fromId.
  CHECK(ErrorCode(sim.Get("/fapi/v1/historicalTrades?symbol=BTCUSDT")) == -2014);
  auto hist = Call(sim.port, http::verb::get,
                   "/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=" + std::to_string(id), "",
                   kApiKey);
  REQUIRE(hist.status == 200);
  CHECK(int64_t(jp.parse(hist.body).at(0)["id"]) == id);
  CHECK(sim.Get("/fapi/v1/trades").status == 400);  // symbol is mandatory

  // The rolling ticker is pushed (<s>@ticker every 500 ms, the arrays every second), and it
  // counts the print above.
  WsClient ws(sim.port, "/stream?streams=btcusdt@ticker/!miniTicker@arr");
  auto tick = ws.ReadUntil("\"24hrTicker\"", 3s);
  REQUIRE(tick.has_value());
  simdjson::dom::element ev = jp.parse(*tick)["data"];
  CHECK(std::string_view(ev["s"]) == "BTCUSDT");
  CHECK(int64_t(ev["n"]) == 1);
  CHECK(int64_t(ev["L"]) == id);
  CHECK(std::string_view(ev["Q"]) == "0.001");
  auto mini = ws.ReadUntil("\"24hrMiniTicker\"", 3s);
  REQUIRE(mini.has_value());
  simdjson::dom::element arr = jp.parse(*mini)["data"];
  CHECK(arr.get_array().size() == 5);
  CHECK(arr.at(0)["n"].error() == simdjson::NO_SUCH_FIELD);  // the mini form has no counts
}

TEST_CASE("aster sim: V1 auth failures", "[aster_sim]") {
  Sim sim;
  CHECK(ErrorCode(sim.V1(http::verb::get, "/fapi/v2/balance", "", 0, "not-the-secret")) == -1022);
  auto stale = sim.V1(http::verb::get, "/fapi/v2/balance", "", -6000);
  CHECK(stale.status == 400);
  CHECK(ErrorCode(stale) == -1021);
  CHECK(ErrorCode(sim.V1(http::verb::get, "/fapi/v2/balance", "", +2000)) == -1021);
  CHECK(ErrorCode(sim.V1(http::verb::get, "/fapi/v2/balance", "recvWindow=10000", -6000)) == 0);
  auto nokey = Call(sim.port, http::verb::get, "/fapi/v2/balance?timestamp=1&signature=00");
  CHECK(nokey.status == 401);
  CHECK(ErrorCode(nokey) == -2014);
  CHECK(ErrorCode(Call(sim.port, http::verb::get, "/fapi/v2/balance?timestamp=1&signature=00", "",
                       "unknown-key")) == -2015);
  // Query + body split: HMAC over query immediately followed by the body (no separator).
  std::string q = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001";
  std::string b = "price=90000&timeInForce=GTC&timestamp=" + std::to_string(sim.NowMs());
  b += "&signature=" + ad::HmacSignatureV1(kSecret, q, b);
  auto mixed = Call(sim.port, http::verb::post, "/fapi/v1/order?" + q, b, kApiKey);
  CHECK(mixed.status == 200);
}

TEST_CASE("aster sim: V3 EIP-712 orders, nonces and agents", "[aster_sim]") {
  Sim sim;
  auto lk = sim.V3(http::verb::post, "/fapi/v3/listenKey", "");
  REQUIRE(lk.status == 200);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  const Instrument* eth = sim.symbols.ByVenueSymbol("ETHUSDT");
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(1).BestBid()->price; });
  const std::string params = "symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.01&price=" +
                             FormatScaled(bid - 3, eth->price_scale) +
                             "&timeInForce=GTC&newClientOrderId=v3-1&newOrderRespType=RESULT";
  auto placed = sim.V3(http::verb::post, "/fapi/v3/order", params);
  REQUIRE(placed.status == 200);
  auto o = ad::ParseOrder(placed.body, Ctx(sim));
  REQUIRE(o.ok());
  CHECK(o->status == OrderStatus::kOpen);
  auto f = user.ReadUntil("v3-1");
  REQUIRE(f.has_value());
  ad::UserFrame uf;
  REQUIRE(ad::DecodeUserFrame(*f, Ctx(sim), 0, &uf).ok());
  CHECK(uf.execution_type == "NEW");

  // ccxt ordering (auth params first) and a signature without 0x are accepted.
  auto q = sim.V3(http::verb::get, "/fapi/v3/order", "symbol=ETHUSDT&origClientOrderId=v3-1", 0,
                  kAgentKey, ad::AuthPlacement::kFirst, /*strip_0x=*/true);
  REQUIRE(q.status == 200);
  CHECK(ad::ParseOrder(q.body, Ctx(sim)).ok());
  auto open = ad::ParseOrders(sim.V3(http::verb::get, "/fapi/v3/openOrders", "symbol=ETHUSDT").body,
                              Ctx(sim));
  REQUIRE(open.ok());
  CHECK(open->size() == 1);

  // Reused nonce, stale nonce, wrong signer, unregistered agent.
  const uint64_t nonce = static_cast<uint64_t>(sim.clock.Now() / 1000) + 777;
  CHECK(sim.V3(http::verb::get, "/fapi/v3/balance", "", nonce).status == 200);
  auto reused = sim.V3(http::verb::get, "/fapi/v3/balance", "", nonce);
  CHECK(reused.status == 400);
  CHECK(ErrorCode(reused) == -4225);
  CHECK(ErrorCode(sim.V3(http::verb::get, "/fapi/v3/balance", "",
                         static_cast<uint64_t>(sim.clock.Now() / 1000) - 11000000)) == -4225);
  auto agent = ad::EvmSigner::FromPrivateKeyHex(kAgentKey);
  REQUIRE(agent.ok());
  // Signed by a stranger while claiming the registered agent as signer: signature mismatch.
  CHECK(ErrorCode(sim.V3(http::verb::get, "/fapi/v3/balance", "", 0, kStrangerKey,
                         ad::AuthPlacement::kLast, false, agent->address())) == -1022);
  // A stranger signing for itself is a valid signature but not an agent of the user.
  CHECK(ErrorCode(sim.V3(http::verb::get, "/fapi/v3/balance", "", 0, kStrangerKey)) == -2015);
  // Tampered business parameter after signing.
  auto signer = ad::EvmSigner::FromPrivateKeyHex(kAgentKey);
  ad::V3Auth auth{kUser, agent->address(), kChainId};
  auto s = ad::SignV3Params(*signer, auth, "symbol=ETHUSDT&orderId=1",
                            static_cast<uint64_t>(sim.clock.Now() / 1000) + 999);
  REQUIRE(s.ok());
  std::string tampered = *s;
  tampered.replace(tampered.find("orderId=1"), 9, "orderId=2");
  CHECK(ErrorCode(Call(sim.port, http::verb::get, "/fapi/v3/order?" + tampered)) == -1022);

  // Cancel through V3 (form body on DELETE).
  auto c = sim.V3(http::verb::delete_, "/fapi/v3/order", "symbol=ETHUSDT&origClientOrderId=v3-1");
  REQUIRE(c.status == 200);
  CHECK(ad::ParseOrder(c.body, Ctx(sim))->status == OrderStatus::kCanceled);
}

TEST_CASE("aster sim: listenKey expiry and the expire_token fault", "[aster_sim]") {
  Sim sim;
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  {
    WsClient user(sim.port, "/ws/" + *key);
    sim.WaitConnections(1);
    REQUIRE(Call(sim.port, http::verb::put, "/fapi/v1/listenKey", "", kApiKey).status == 200);
    sim.clock.Advance(63LL * 60 * 1000000000);  // past 60 min + grace since the keepalive
    auto f = user.ReadUntil("listenKeyExpired", 4s);
    REQUIRE(f.has_value());
    ad::UserFrame uf;
    REQUIRE(ad::DecodeUserFrame(*f, Ctx(sim), 0, &uf).ok());
    CHECK(uf.kind == ad::UserEventKind::kListenKeyExpired);
  }
  CHECK(ErrorCode(Call(sim.port, http::verb::put, "/fapi/v1/listenKey", "", kApiKey)) == -1125);
  auto key2 = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key2.ok());
  CHECK(*key2 != *key);
  WsClient user2(sim.port, "/ws/" + *key2);
  sim.WaitConnections(1);
  FaultRequest fault;
  fault.kind = "expire_token";
  FaultResult fr;
  sim.server->Sync([&] { fr = sim.venue().ApplyFault(fault); });
  CHECK(fr.error.empty());
  CHECK(fr.affected == 1);
  REQUIRE(user2.ReadUntil("listenKeyExpired").has_value());
  // Nothing more arrives on the expired stream, even for new orders.
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=90000&timeInForce=GTC")
              .status == 200);
  user2.SetTimeout(300);
  CHECK(!user2.ReadUntil("ORDER_TRADE_UPDATE", 600ms).has_value());
}

TEST_CASE("aster sim: skip_seq makes a pu gap on the diff stream", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  WsClient ws(sim.port, "/ws/btcusdt@depth@100ms");
  sim.WaitConnections(1);
  sim.Step(0, 5);
  auto first = ws.ReadUntil("depthUpdate");
  REQUIRE(first.has_value());
  FaultRequest fault;
  fault.kind = "skip_seq";
  fault.params["symbol"] = "BTCUSDT";
  sim.server->Sync([&] { CHECK(sim.venue().ApplyFault(fault).affected == 1); });
  sim.Step(0, 5);
  auto second = ws.ReadUntil("depthUpdate");
  REQUIRE(second.has_value());
  ad::MarketContext ctx;
  ctx.symbols = &sim.symbols;
  ctx.raw_depth_is_partial = false;
  ad::MarketFrame a, b;
  REQUIRE(ad::DecodeMarketFrame(*first, ctx, 0, &a).ok());
  REQUIRE(ad::DecodeMarketFrame(*second, ctx, 0, &b).ok());
  CHECK(a.delta.last_id == 5);
  CHECK(b.delta.prev_id != a.delta.last_id);  // the gap a client must detect
  BookSync sync(SeqRule::kPrevLink, btc->price_scale, btc->size_scale);
  sync.OnDelta(a.delta);
  auto snap = ad::ParseDepthSnapshot(sim.Get("/fapi/v1/depth?symbol=BTCUSDT&limit=5").body,
                                     btc->price_scale, btc->size_scale);
  (void)snap;
  BookSync live(SeqRule::kPrevLink, btc->price_scale, btc->size_scale);
  std::vector<Level> none;
  REQUIRE(live.OnSnapshot(none, none, a.delta.last_id) == BookSync::Result::kApplied);
  CHECK(live.OnDelta(b.delta) == BookSync::Result::kGap);
}

TEST_CASE("aster sim: WS control messages, partial depth, bookTicker, markPrice, limits",
          "[aster_sim]") {
  Sim sim;
  WsClient ws(sim.port, "/stream");
  ws.Send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth5","btcusdt@bookTicker","ethusdt@markPrice@1s"],"id":1})");
  auto r = ws.ReadUntil("\"id\":1");
  REQUIRE(r.has_value());
  CHECK(*r == R"({"result":null,"id":1})");
  ws.Send(R"({"method":"LIST_SUBSCRIPTIONS","id":2})");
  auto list = ws.ReadUntil("\"id\":2");
  REQUIRE(list.has_value());
  CHECK(list->find("btcusdt@depth5") != std::string::npos);
  ws.Send(R"({"method":"GET_PROPERTY","params":["combined"],"id":3})");
  CHECK(ws.ReadUntil("\"id\":3").value() == R"({"result":true,"id":3})");
  ws.Send(R"({"method":"SET_PROPERTY","params":["combined","yes"],"id":4})");
  CHECK(ws.ReadUntil("\"code\"").value().find("\"code\":1") != std::string::npos);
  ws.Send(R"({"method":"GET_PROPERTY","params":["nope"],"id":5})");
  CHECK(ws.ReadUntil("\"code\"").value().find("\"code\":0") != std::string::npos);
  ws.Send("{not json");
  CHECK(ws.ReadUntil("\"code\"").value().find("\"code\":3") != std::string::npos);
  ws.Send(R"({"method":"FLY","id":6})");
  CHECK(ws.ReadUntil("\"code\"").value().find("\"code\":2") != std::string::npos);

  ad::MarketContext ctx;
  ctx.symbols = &sim.symbols;
  ad::MarketFrame mf;
  sim.Step(0, 20);
  auto bt = ws.ReadUntil("btcusdt@bookTicker");
  REQUIRE(bt.has_value());
  REQUIRE(ad::DecodeMarketFrame(*bt, ctx, 0, &mf).ok());
  CHECK(mf.kind == ad::MarketEventKind::kBookTicker);
  auto partial = ws.ReadUntil("btcusdt@depth5");
  REQUIRE(partial.has_value());
  REQUIRE(ad::DecodeMarketFrame(*partial, ctx, 0, &mf).ok());
  CHECK(mf.kind == ad::MarketEventKind::kDepthPartial);
  CHECK(mf.delta.changes.size() == 10);
  auto mark = ws.ReadUntil("markPriceUpdate", 3s);
  REQUIRE(mark.has_value());
  REQUIRE(ad::DecodeMarketFrame(*mark, ctx, 0, &mf).ok());
  CHECK(mf.kind == ad::MarketEventKind::kMarkPrice);
  REQUIRE(mf.funding.size() == 1);
  CHECK((mf.funding[0].mark_price.has_value() && mf.funding[0].mark_price->IsPositive()));

  // 201 streams on one connection are refused.
  std::string many = R"({"method":"SUBSCRIBE","params":[)";
  for (int k = 0; k < 201; ++k) many += (k ? ",\"" : "\"") + std::string("x") + std::to_string(k) + "@aggTrade\"";
  many += R"(],"id":9})";
  ws.Send(many);
  CHECK(ws.ReadUntil("\"code\"").value().find("\"code\":2") != std::string::npos);

  // More than 10 messages in a second: disconnected.
  WsClient flood(sim.port, "/ws");
  for (int k = 0; k < 12; ++k) flood.Send(R"({"method":"LIST_SUBSCRIPTIONS","id":)" + std::to_string(k) + "}");
  bool closed = false;
  for (int k = 0; k < 20 && !closed; ++k) {
    if (!flood.Read()) closed = flood.closed();
  }
  CHECK(closed);
}


// ---------------------------------------------------------------------------------------------
// Batches, margin type, dead-man switch, liquidation ids, history paging, income.

namespace {

// Fields of one element of a JSON array answer.
simdjson::dom::element At(simdjson::dom::parser& jp, const std::string& body, size_t k) {
  simdjson::dom::element root = jp.parse(body);
  return root.at(k);
}

std::string Px(const Instrument* in, int64_t m) { return FormatScaled(m, in->price_scale); }

}  // namespace

TEST_CASE("aster sim: batchOrders place and cancel, answers mixed in request order",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  const Instrument* eth = sim.symbols.ByVenueSymbol("ETHUSDT");
  int64_t bid = 0, eth_bid = 0;
  sim.server->Sync([&] {
    bid = sim.venue().market().book(0).BestBid()->price;
    eth_bid = sim.venue().market().book(1).BestBid()->price;
  });
  const std::string orders =
      R"([{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.001","price":")" +
      Px(btc, bid - 2) + R"(","timeInForce":"GTC","newClientOrderId":"b-1"},)" +
      R"({"symbol":"SOLUSDT","side":"BUY","type":"LIMIT","quantity":"1","price":"150.001","timeInForce":"GTC","newClientOrderId":"b-2"},)" +
      R"({"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","quantity":"0.01","price":")" +
      Px(eth, eth_bid - 3) +
      R"(","timeInForce":"GTC","newClientOrderId":"b-3","newOrderRespType":"RESULT"}])";
  auto placed = sim.V1(http::verb::post, "/fapi/v1/batchOrders",
                       "batchOrders=" + ad::PercentEncode(orders));
  REQUIRE(placed.status == 200);
  auto parsed = ad::ParseBatchOrders(placed.body, Ctx(sim));
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 3);
  REQUIRE((*parsed)[0].ok());
  CHECK((*parsed)[0]->client_order_id == "b-1");
  CHECK(!(*parsed)[1].ok());  // tick error in its slot, the others still placed
  REQUIRE((*parsed)[2].ok());
  CHECK((*parsed)[2]->client_order_id == "b-3");
  CHECK((*parsed)[2]->status == OrderStatus::kOpen);
  simdjson::dom::parser jp;
  CHECK(int64_t(At(jp, placed.body, 1)["code"]) == -4014);
  const int64_t id1 = int64_t(At(jp, placed.body, 0)["orderId"]);
  CHECK(std::string_view(At(jp, placed.body, 2)["status"]) == "NEW");

  // Whole-request failures: missing, not JSON, more than 5 orders.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/batchOrders", "")) == -1102);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/batchOrders", "batchOrders=nope")) == -1130);
  std::string six = "[";
  for (int k = 0; k < 6; ++k) six += std::string(k ? "," : "") + R"({"symbol":"BTCUSDT"})";
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/batchOrders",
                         "batchOrders=" + ad::PercentEncode(six + "]"))) == -1130);

  // V3 path, signed over the encoded list.
  const std::string one =
      R"([{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.001","price":")" +
      Px(btc, bid - 4) + R"(","timeInForce":"GTC","newClientOrderId":"b3-1"}])";
  auto v3 = sim.V3(http::verb::post, "/fapi/v3/batchOrders", "batchOrders=" + ad::PercentEncode(one));
  REQUIRE(v3.status == 200);
  auto v3p = ad::ParseBatchOrders(v3.body, Ctx(sim));
  REQUIRE(v3p.ok());
  REQUIRE(v3p->size() == 1);
  CHECK((*v3p)[0].ok());

  // Cancel by ids: one canceled, one unknown (-2011) in its slot.
  auto canceled = sim.V1(http::verb::delete_, "/fapi/v1/batchOrders",
                         "symbol=BTCUSDT&orderIdList=" +
                             ad::PercentEncode("[" + std::to_string(id1) + ",42]"));
  REQUIRE(canceled.status == 200);
  auto cp = ad::ParseBatchOrders(canceled.body, Ctx(sim));
  REQUIRE(cp.ok());
  REQUIRE(cp->size() == 2);
  REQUIRE((*cp)[0].ok());
  CHECK((*cp)[0]->status == OrderStatus::kCanceled);
  CHECK(int64_t(At(jp, canceled.body, 1)["code"]) == -2011);
  // By client ids (V1 and V3; each account sees only its own orders).
  auto by_cid = sim.V1(http::verb::delete_, "/fapi/v1/batchOrders",
                       "symbol=ETHUSDT&origClientOrderIdList=" + ad::PercentEncode(R"(["b-3"])"));
  REQUIRE(by_cid.status == 200);
  CHECK(std::string_view(At(jp, by_cid.body, 0)["status"]) == "CANCELED");
  CHECK(std::string_view(At(jp, by_cid.body, 0)["clientOrderId"]) == "b-3");
  auto v3_cid = sim.V3(http::verb::delete_, "/fapi/v3/batchOrders",
                       "symbol=BTCUSDT&origClientOrderIdList=" +
                           ad::PercentEncode(R"(["b3-1","b-1"])"));
  REQUIRE(v3_cid.status == 200);
  CHECK(std::string_view(At(jp, v3_cid.body, 0)["status"]) == "CANCELED");
  CHECK(int64_t(At(jp, v3_cid.body, 1)["code"]) == -2011);
  CHECK(ErrorCode(sim.V1(http::verb::delete_, "/fapi/v1/batchOrders", "symbol=BTCUSDT")) == -1102);
  CHECK(ErrorCode(sim.V1(http::verb::delete_, "/fapi/v1/batchOrders",
                         "symbol=BTCUSDT&orderIdList=" + ad::PercentEncode(R"(["x"])"))) == -1130);
}

TEST_CASE("aster sim: marginType switches to ISOLATED and back, refused with orders or a position",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  auto crossed = sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=CROSSED");
  CHECK(crossed.status == 400);
  CHECK(ErrorCode(crossed) == -4046);  // cross by default
  CHECK(crossed.body.find("No need to change margin type.") != std::string::npos);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=X")) ==
        -1130);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT")) == -1102);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=NOPE&marginType=CROSSED")) ==
        -1121);
  // Open orders on the symbol: -4047.
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  auto rest = sim.V1(http::verb::post, "/fapi/v1/order",
                     "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" + Px(btc, bid - 20) +
                         "&timeInForce=GTC&newClientOrderId=mt-1");
  REQUIRE(rest.status == 200);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType",
                         "symbol=BTCUSDT&marginType=ISOLATED")) == -4047);
  REQUIRE(sim.V1(http::verb::delete_, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=mt-1")
              .status == 200);
  auto ok = sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED");
  REQUIRE(ok.status == 200);
  CHECK(ok.body == R"({"code":200,"msg":"success"})");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType",
                         "symbol=BTCUSDT&marginType=ISOLATED")) == -4046);
  // Per account: the V3 test user is still cross.
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/marginType",
                         "symbol=BTCUSDT&marginType=CROSSED")) == -4046);
  simdjson::dom::parser jp;
  auto flat = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  CHECK(std::string_view(At(jp, flat.body, 0)["marginType"]) == "isolated");
  // A position: its margin is its own; the switch back is refused (-4048).
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=10").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01").status == 200);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/marginType",
                         "symbol=BTCUSDT&marginType=CROSSED")) == -4048);
  SimPosition pos;
  SimBalance b;
  sim.server->Sync([&] {
    pos = sim.venue().engine().Position(kV1Account, 0);
    b = sim.venue().engine().Balance(kV1Account);
  });
  REQUIRE(pos.isolated);
  REQUIRE(pos.isolated_margin > 0);
  auto pr = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  REQUIRE(pr.status == 200);
  auto rows = ad::ParsePositionRisk(pr.body, Ctx(sim), false);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  simdjson::dom::element row = At(jp, pr.body, 0);
  CHECK(std::string_view(row["marginType"]) == "isolated");
  CHECK(std::string_view(row["isolatedWallet"]) == Money8(pos.isolated_margin));
  CHECK(std::string_view(row["isolatedMargin"]) == Money8(pos.isolated_margin + pos.unrealized_pnl));
  // Isolated liquidation price, 10x long: about entry x (1 - 1/10) / (1 - mmr), below entry.
  const Decimal liq = Decimal::Parse(std::string(std::string_view(row["liquidationPrice"]))).value();
  const Decimal entry = Decimal::Parse(std::string(std::string_view(row["entryPrice"]))).value();
  CHECK(liq < entry);
  CHECK(liq > Decimal::Parse("0").value());
  auto acct = sim.V1(http::verb::get, "/fapi/v4/account", "");
  REQUIRE(ad::ParseAccount(acct.body, Ctx(sim)).ok());
  simdjson::dom::element a = jp.parse(acct.body);
  CHECK(std::string_view(a["totalCrossWalletBalance"]) == Money8(b.cross_wallet));
  CHECK(std::string_view(a["totalWalletBalance"]) == Money8(b.wallet));
  CHECK(b.wallet == b.cross_wallet + pos.isolated_margin);
  for (simdjson::dom::element r : a["positions"].get_array()) {
    if (std::string_view(r["symbol"]) != "BTCUSDT") continue;
    CHECK(bool(r["isolated"]));
    CHECK(std::string_view(r["isolatedWallet"]) == Money8(pos.isolated_margin));
  }
  auto bal = sim.V1(http::verb::get, "/fapi/v2/balance", "");
  REQUIRE(ad::ParseBalances(bal.body, Ctx(sim)).ok());
  CHECK(std::string_view(At(jp, bal.body, 0)["crossWalletBalance"]) == Money8(b.cross_wallet));
  CHECK(std::string_view(At(jp, bal.body, 0)["balance"]) == Money8(b.wallet));
  // ACCOUNT_UPDATE of the fill: mt isolated, iw the isolated wallet, cw the cross wallet.
  auto upd = user.ReadUntil("ACCOUNT_UPDATE");
  REQUIRE(upd.has_value());
  ad::UserFrame uf;
  REQUIRE(ad::DecodeUserFrame(*upd, Ctx(sim), 0, &uf).ok());
  simdjson::dom::element ev = jp.parse(*upd);
  CHECK(std::string_view(ev["a"]["B"].at(0)["cw"]) == Money8(b.cross_wallet));
  CHECK(std::string_view(ev["a"]["B"].at(0)["wb"]) == Money8(b.wallet));
  CHECK(std::string_view(ev["a"]["P"].at(0)["mt"]) == "isolated");
  CHECK(std::string_view(ev["a"]["P"].at(0)["iw"]) == Money8(pos.isolated_margin));
  // Flat again: the switch back is allowed and the symbol prints cross.
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.01&reduceOnly=true").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=CROSSED")
              .status == 200);
  auto back = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  CHECK(std::string_view(At(jp, back.body, 0)["marginType"]) == "cross");
}

TEST_CASE("aster sim: positionMargin adds / reduces isolated margin, history lists it",
          "[aster_sim]") {
  Sim sim;
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  const std::string path = "/fapi/v1/positionMargin";
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=10&type=1")) == -4049);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED")
              .status == 200);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=10&type=1")) == -4054);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=10").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01").status == 200);
  REQUIRE(user.ReadUntil("ACCOUNT_UPDATE").has_value());  // the fill's
  Money before = 0;
  sim.server->Sync([&] { before = sim.venue().engine().Position(kV1Account, 0).isolated_margin; });
  auto add = sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=10&type=1");
  REQUIRE(add.status == 200);
  CHECK(add.body == R"({"amount":10.0,"code":200,"msg":"Successfully modify position margin.","type":1})");
  auto upd = user.ReadUntil("ACCOUNT_UPDATE");
  REQUIRE(upd.has_value());
  simdjson::dom::parser jp;
  simdjson::dom::element ev = jp.parse(*upd);
  CHECK(std::string_view(ev["a"]["m"]) == "MARGIN_TRANSFER");
  CHECK(std::string_view(ev["a"]["P"].at(0)["iw"]) == Money8(before + 10 * 100'000'000LL));
  // The V3 test user (another account) is cross on BTCUSDT.
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/positionMargin",
                         "symbol=BTCUSDT&amount=1&type=1")) == -4049);
  auto red = sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=2.5&type=2");
  REQUIRE(red.status == 200);
  CHECK(red.body == R"({"amount":2.5,"code":200,"msg":"Successfully modify position margin.","type":2})");
  Money after = 0;
  sim.server->Sync([&] { after = sim.venue().engine().Position(kV1Account, 0).isolated_margin; });
  CHECK(after == before + 750'000'000);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=1000000&type=2")) == -4051);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=100000000&type=1")) == -4050);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=0&type=1")) == -4055);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=1&type=3")) == -1130);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&type=1")) == -1102);
  CHECK(ErrorCode(sim.V1(http::verb::post, path, "symbol=BTCUSDT&amount=1&type=1&positionSide=LONG")) ==
        -4061);
  // History: both transfers, oldest first; filtered by type; symbol mandatory.
  auto h = sim.V1(http::verb::get, "/fapi/v1/positionMargin/history", "symbol=BTCUSDT");
  REQUIRE(h.status == 200);
  simdjson::dom::array rows = jp.parse(h.body).get_array();
  REQUIRE(rows.size() == 2);
  CHECK(std::string_view(rows.at(0)["amount"]) == "10.00000000");
  CHECK(int64_t(rows.at(0)["type"]) == 1);
  CHECK(std::string_view(rows.at(0)["asset"]) == "USDT");
  CHECK(std::string_view(rows.at(0)["symbol"]) == "BTCUSDT");
  CHECK(std::string_view(rows.at(0)["positionSide"]) == "BOTH");
  CHECK(int64_t(rows.at(0)["time"]) > 0);
  CHECK(std::string_view(rows.at(1)["amount"]) == "2.50000000");
  CHECK(int64_t(rows.at(1)["type"]) == 2);
  auto h2 = sim.V1(http::verb::get, "/fapi/v1/positionMargin/history", "symbol=BTCUSDT&type=2");
  REQUIRE(h2.status == 200);
  CHECK(jp.parse(h2.body).get_array().size() == 1);
  auto h3 = sim.V3(http::verb::get, "/fapi/v3/positionMargin/history", "symbol=BTCUSDT");
  REQUIRE(h3.status == 200);
  CHECK(h3.body == "[]");  // the other account's
  CHECK(sim.V1(http::verb::get, "/fapi/v1/positionMargin/history", "symbol=ETHUSDT").body == "[]");
  CHECK(ErrorCode(sim.V1(http::verb::get, "/fapi/v1/positionMargin/history", "")) == -1102);
}

TEST_CASE("aster sim: an isolated position liquidates alone, the cross account untouched",
          "[aster_sim]") {
  Sim sim;
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED")
              .status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=20").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=ETHUSDT&side=BUY&type=MARKET&quantity=0.1").status == 200);  // cross
  simdjson::dom::parser jp;
  auto pr = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  const Decimal liq = Decimal::Parse(std::string(std::string_view(At(jp, pr.body, 0)["liquidationPrice"]))).value();
  const SimInstrument& in = sim.venue().market().instrument(0);
  // Ten ticks above the printed liquidation price: alive; ten below: closed, ETH stays.
  const int64_t liq_px = liq.ToScaled(in.price_scale, Rounding::kDown).value();
  REQUIRE(liq_px > 0);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, liq_px + 10 * in.tick); });
  SimPosition btc_pos, eth_pos;
  sim.server->Sync([&] { btc_pos = sim.venue().engine().Position(kV1Account, 0); });
  CHECK(btc_pos.size != 0);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, liq_px - 10 * in.tick); });
  sim.server->Sync([&] {
    btc_pos = sim.venue().engine().Position(kV1Account, 0);
    eth_pos = sim.venue().engine().Position(kV1Account, 1);
  });
  CHECK(btc_pos.size == 0);
  CHECK(eth_pos.size != 0);
}

TEST_CASE("aster sim: countdownCancelAll cancels the symbol's orders on expiry", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  const Instrument* eth = sim.symbols.ByVenueSymbol("ETHUSDT");
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  int64_t bid = 0, eth_bid = 0;
  sim.server->Sync([&] {
    bid = sim.venue().market().book(0).BestBid()->price;
    eth_bid = sim.venue().market().book(1).BestBid()->price;
  });
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" + Px(btc, bid - 2) +
                     "&timeInForce=GTC&newClientOrderId=dm-1").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.01&price=" + Px(eth, eth_bid - 2) +
                     "&timeInForce=GTC&newClientOrderId=dm-2").status == 200);
  // ETH armed then disarmed (0); BTC armed for 300 ms.
  auto eth_arm = sim.V1(http::verb::post, "/fapi/v1/countdownCancelAll",
                        "symbol=ETHUSDT&countdownTime=300");
  REQUIRE(eth_arm.status == 200);
  auto eth_off = sim.V1(http::verb::post, "/fapi/v1/countdownCancelAll",
                        "symbol=ETHUSDT&countdownTime=0");
  REQUIRE(eth_off.status == 200);
  CHECK(eth_off.body == R"({"symbol":"ETHUSDT","countdownTime":"0"})");
  auto arm = sim.V1(http::verb::post, "/fapi/v1/countdownCancelAll", "symbol=BTCUSDT&countdownTime=300");
  REQUIRE(arm.status == 200);
  CHECK(arm.body == R"({"symbol":"BTCUSDT","countdownTime":"300"})");
  auto canceled = user.ReadUntil("\"X\":\"CANCELED\"", 3s);
  REQUIRE(canceled.has_value());
  CHECK(canceled->find("dm-1") != std::string::npos);
  std::this_thread::sleep_for(300ms);
  auto open = ad::ParseOrders(sim.V1(http::verb::get, "/fapi/v1/openOrders", "").body, Ctx(sim));
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK(open->front().client_order_id == "dm-2");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/countdownCancelAll", "symbol=BTCUSDT")) == -1102);
  auto v3 = sim.V3(http::verb::post, "/fapi/v3/countdownCancelAll", "symbol=SOLUSDT&countdownTime=60000");
  REQUIRE(v3.status == 200);
  CHECK(v3.body == R"({"symbol":"SOLUSDT","countdownTime":"60000"})");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/countdownCancelAll",
                         "symbol=BTCUSDT&countdownTime=-1")) == -1130);
}

TEST_CASE("aster sim: a liquidation order is autoclose-<id> on REST and the user stream",
          "[aster_sim]") {
  Sim sim;
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01").status == 200);
  int closed = 0;
  sim.server->Sync([&] { closed = sim.venue().engine().Liquidate(kV1Account); });
  REQUIRE(closed == 1);
  auto f = user.ReadUntil("\"x\":\"CALCULATED\"");
  REQUIRE(f.has_value());
  ad::UserFrame uf;
  REQUIRE(ad::DecodeUserFrame(*f, Ctx(sim), 0, &uf).ok());
  const std::string cid = uf.order.order.client_order_id;
  REQUIRE(cid.rfind("autoclose-", 0) == 0);
  simdjson::dom::parser jp;
  auto all = sim.V1(http::verb::get, "/fapi/v1/allOrders", "symbol=BTCUSDT");
  REQUIRE(all.status == 200);
  simdjson::dom::element rows = jp.parse(all.body);
  REQUIRE(rows.get_array().size() == 2);
  CHECK(std::string_view(rows.at(1)["clientOrderId"]) == cid);
  auto q = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=" + cid);
  REQUIRE(q.status == 200);
  CHECK(std::string_view(jp.parse(q.body)["clientOrderId"]) == cid);
  CHECK(std::string_view(jp.parse(q.body)["status"]) == "FILLED");
}

TEST_CASE("aster sim: allOrders and userTrades page the most recent rows by default",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  std::vector<int64_t> ids;
  simdjson::dom::parser jp;
  for (int k = 0; k < 3; ++k) {
    auto r = sim.V1(http::verb::post, "/fapi/v1/order",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=" +
                        Px(btc, bid - 2 - k) + "&timeInForce=GTC");
    REQUIRE(r.status == 200);
    ids.push_back(int64_t(jp.parse(r.body)["orderId"]));
    sim.clock.Advance(1000000000);  // 1 s apart
  }
  auto ids_of = [&](const std::string& body) {
    std::vector<int64_t> out;
    for (simdjson::dom::element e : jp.parse(body).get_array()) out.push_back(int64_t(e["orderId"]));
    return out;
  };
  auto all = [&](const std::string& p) {
    auto r = sim.V1(http::verb::get, "/fapi/v1/allOrders", "symbol=BTCUSDT" + p);
    REQUIRE(r.status == 200);
    return ids_of(r.body);
  };
  CHECK(all("&limit=2") == std::vector<int64_t>{ids[1], ids[2]});
  CHECK(all("&orderId=" + std::to_string(ids[0]) + "&limit=2") ==
        std::vector<int64_t>{ids[0], ids[1]});
  const int64_t now = sim.NowMs();
  CHECK(all("&startTime=" + std::to_string(now - 2500) + "&limit=1") == std::vector<int64_t>{ids[1]});
  CHECK(all("&startTime=" + std::to_string(now + 1000)).empty());
  CHECK(all("&endTime=" + std::to_string(now - 1500)) == std::vector<int64_t>{ids[0], ids[1]});

  // Two taker fills; limit=1 is the second.
  for (int k = 0; k < 2; ++k) {
    REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                   "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001").status == 200);
    sim.clock.Advance(1000000000);
  }
  auto fills = sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT");
  simdjson::dom::element f = jp.parse(fills.body);
  REQUIRE(f.get_array().size() == 2);
  const int64_t second = int64_t(f.at(1)["id"]);
  const int64_t first = int64_t(f.at(0)["id"]);
  auto last = sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT&limit=1");
  simdjson::dom::element l = jp.parse(last.body);
  REQUIRE(l.get_array().size() == 1);
  CHECK(int64_t(l.at(0)["id"]) == second);
  auto from = sim.V1(http::verb::get, "/fapi/v1/userTrades",
                     "symbol=BTCUSDT&limit=1&fromId=" + std::to_string(first));
  CHECK(int64_t(jp.parse(from.body).at(0)["id"]) == first);
}

TEST_CASE("aster sim: income lists commission, realized PnL and funding fees", "[aster_sim]") {
  Sim sim;
  simdjson::dom::parser jp;
  // Open, move the market up, fund, close: 2 commissions, 1 realized PnL, 1 funding fee.
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001").status == 200);
  sim.clock.Advance(1000000000);
  Money wallet_before = 0, wallet_after = 0;
  sim.server->Sync([&] {
    Market& m = sim.venue().market();
    m.SetMid(0, m.mid(0) + 5000);  // +500 USDT per BTC
    wallet_before = sim.venue().engine().Balance(kV1Account).wallet;
    sim.venue().engine().ApplyFunding(0, 1000000);  // 0.01 %: the long pays
    wallet_after = sim.venue().engine().Balance(kV1Account).wallet;
  });
  REQUIRE(wallet_after < wallet_before);
  sim.clock.Advance(1000000000);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001").status == 200);

  auto all = sim.V1(http::verb::get, "/fapi/v1/income", "");
  REQUIRE(all.status == 200);
  simdjson::dom::element rows = jp.parse(all.body);
  REQUIRE(rows.get_array().size() == 4);
  CHECK(std::string_view(rows.at(0)["incomeType"]) == "COMMISSION");
  CHECK(std::string_view(rows.at(0)["income"]).front() == '-');
  CHECK(std::string_view(rows.at(0)["asset"]) == "USDT");
  CHECK(std::string_view(rows.at(0)["symbol"]) == "BTCUSDT");
  CHECK(!std::string_view(rows.at(0)["tradeId"]).empty());
  CHECK(std::string_view(rows.at(1)["incomeType"]) == "FUNDING_FEE");
  CHECK(std::string_view(rows.at(1)["income"]) == Money8(wallet_after - wallet_before));
  CHECK(std::string_view(rows.at(1)["tradeId"]).empty());
  CHECK(std::string_view(rows.at(2)["incomeType"]) == "REALIZED_PNL");
  CHECK(std::string_view(rows.at(2)["income"]).front() != '-');  // closed above the entry
  CHECK(std::string_view(rows.at(3)["incomeType"]) == "COMMISSION");
  CHECK(int64_t(rows.at(3)["tranId"]) > int64_t(rows.at(0)["tranId"]));
  CHECK(int64_t(rows.at(3)["time"]) >= int64_t(rows.at(0)["time"]));
  const int64_t last_tran = int64_t(rows.at(3)["tranId"]);  // before the parser is reused

  auto count = [&](const std::string& p) {
    auto r = sim.V1(http::verb::get, "/fapi/v1/income", p);
    REQUIRE(r.status == 200);
    return jp.parse(r.body).get_array().size();
  };
  CHECK(count("incomeType=COMMISSION") == 2);
  CHECK(count("incomeType=FUNDING_FEE&symbol=BTCUSDT") == 1);
  CHECK(count("symbol=ETHUSDT") == 0);
  CHECK(count("startTime=" + std::to_string(sim.NowMs() + 1)) == 0);
  auto v3 = sim.V3(http::verb::get, "/fapi/v3/income", "limit=1");
  REQUIRE(v3.status == 200);
  CHECK(jp.parse(v3.body).get_array().size() == 0);  // the V3 account has no income
  auto last = sim.V1(http::verb::get, "/fapi/v1/income", "limit=1");
  CHECK(std::string_view(jp.parse(last.body).at(0)["incomeType"]) == "COMMISSION");
  CHECK(int64_t(jp.parse(last.body).at(0)["tranId"]) == last_tran);
}

TEST_CASE("aster sim: klines, markPriceKlines and indexPriceKlines from the candles",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t ask = 0, mid = 0;
  sim.server->Sync([&] {
    ask = sim.venue().market().book(0).BestAsk()->price;
  });
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&price=" +
                     FormatScaled(ask, btc->price_scale) + "&timeInForce=IOC")
              .status == 200);
  sim.Step(0, 5);
  sim.server->Sync([&] { mid = sim.venue().market().mid(0); });
  simdjson::dom::parser jp;
  auto k = sim.Get("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=5");
  REQUIRE(k.status == 200);
  simdjson::dom::array rows = jp.parse(k.body).get_array();
  REQUIRE(rows.size() == 1);  // the sim's clock stands still in this test: one minute
  simdjson::dom::array row = rows.at(0).get_array();
  REQUIRE(row.size() == 12);
  CHECK(int64_t(row.at(0)) % 60000 == 0);
  CHECK(int64_t(row.at(6)) == int64_t(row.at(0)) + 59999);
  CHECK(std::string_view(row.at(4)) == Fixed(mid, btc->price_scale));  // close = mid now
  CHECK(std::string_view(row.at(5)) == "0.002");  // the print's volume
  CHECK(int64_t(row.at(8)) == 1);
  CHECK(std::string_view(row.at(9)) == "0.002");  // bought by the taker
  // v3 path, mark and index forms (no volume), and errors.
  CHECK(sim.Get("/fapi/v3/klines?symbol=BTCUSDT&interval=1h").status == 200);
  auto mk = sim.Get("/fapi/v1/markPriceKlines?symbol=BTCUSDT&interval=5m");
  REQUIRE(mk.status == 200);
  CHECK(std::string_view(jp.parse(mk.body).at(0).at(5)) == "0");
  CHECK(sim.Get("/fapi/v1/indexPriceKlines?pair=BTCUSDT&interval=1m").status == 200);
  CHECK(ErrorCode(sim.Get("/fapi/v1/klines?symbol=BTCUSDT")) == -1102);
  CHECK(ErrorCode(sim.Get("/fapi/v1/klines?symbol=BTCUSDT&interval=7m")) == -1120);
  CHECK(ErrorCode(sim.Get("/fapi/v1/indexPriceKlines?interval=1m")) == -1102);
}

TEST_CASE("aster sim: STOP_MARKET / TAKE_PROFIT park, refuse an immediate trigger, fire",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t mark = 0;
  sim.server->Sync([&] { mark = sim.venue().market().mark_price(0); });
  auto px = [&](int64_t v) { return FormatScaled(v, btc->price_scale); };
  // Buy stop above the mark: parked.
  auto stop = sim.V1(http::verb::post, "/fapi/v1/order",
                     "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                         px(mark + 50) +
                         "&workingType=MARK_PRICE&newClientOrderId=stop-1&newOrderRespType=RESULT");
  REQUIRE(stop.status == 200);
  simdjson::dom::parser jp;
  simdjson::dom::element o = jp.parse(stop.body);
  CHECK(std::string_view(o["type"]) == "STOP_MARKET");
  CHECK(std::string_view(o["origType"]) == "STOP_MARKET");
  CHECK(std::string_view(o["status"]) == "NEW");
  CHECK(std::string_view(o["stopPrice"]) == Fixed(mark + 50, btc->price_scale));
  CHECK(std::string_view(o["workingType"]) == "MARK_PRICE");
  const int64_t id = int64_t(o["orderId"]);
  auto open = sim.V1(http::verb::get, "/fapi/v1/openOrders", "symbol=BTCUSDT");
  CHECK(open.body.find("stop-1") != std::string::npos);
  // A buy stop at or below the mark would fire at once: -2021. Take-profit below: parked.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                             px(mark - 50) + "&workingType=MARK_PRICE")) == -2021);
  auto tp = sim.V1(http::verb::post, "/fapi/v1/order",
                   "symbol=BTCUSDT&side=BUY&type=TAKE_PROFIT&quantity=0.002&timeInForce=GTC"
                   "&price=" + px(mark - 60) + "&stopPrice=" + px(mark - 50) +
                   "&workingType=MARK_PRICE");
  REQUIRE(tp.status == 200);
  CHECK(std::string_view(jp.parse(tp.body)["type"]) == "TAKE_PROFIT");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002")) == -1102);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=TRAILING_STOP_MARKET&quantity=0.002")) ==
        -1102);  // callbackRate is mandatory
  // The market moves through the stop: it buys.
  sim.server->Sync([&] { sim.venue().market().SetMid(0, mark + 100); });
  auto q = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  REQUIRE(q.status == 200);
  simdjson::dom::element f = jp.parse(q.body);
  CHECK(std::string_view(f["status"]) == "FILLED");
  CHECK(std::string_view(f["type"]) == "STOP_MARKET");
  CHECK(std::string_view(f["executedQty"]) == "0.002");
  // A closePosition stop sells the whole position when it fires.
  int64_t now_mark = 0;
  sim.server->Sync([&] { now_mark = sim.venue().market().mark_price(0); });
  auto close = sim.V1(http::verb::post, "/fapi/v1/order",
                      "symbol=BTCUSDT&side=SELL&type=STOP_MARKET&closePosition=true&stopPrice=" +
                          px(now_mark - 50) + "&workingType=MARK_PRICE");
  REQUIRE(close.status == 200);
  CHECK(bool(jp.parse(close.body)["closePosition"]) == true);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, now_mark - 100); });
  auto pos = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  REQUIRE(pos.status == 200);
  CHECK(std::string_view(jp.parse(pos.body).at(0)["positionAmt"]) == "0.000");
}

// workingType: CONTRACT_PRICE (the default) triggers on the last trade price, not the mark —
// a mark move without a print leaves the stop parked, a print through it fires it; the value is
// echoed on REST (workingType) and the user stream (wt); anything else is refused.
TEST_CASE("aster sim: workingType CONTRACT_PRICE triggers on the last price, echoed",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  auto px = [&](int64_t v) { return FormatScaled(v, btc->price_scale); };
  auto buy_market = [&] {
    return sim.V1(http::verb::post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002");
  };
  REQUIRE(buy_market().status == 200);  // a print: the last price is now that ask
  int64_t last = 0;
  sim.server->Sync([&] { last = sim.venue().engine().LastPrice(0); });
  simdjson::dom::parser jp;
  auto c = sim.V1(http::verb::post, "/fapi/v1/order",
                  "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                      px(last + 1000) + "&newClientOrderId=wt-c&newOrderRespType=RESULT");
  REQUIRE(c.status == 200);
  CHECK(std::string_view(jp.parse(c.body)["workingType"]) == "CONTRACT_PRICE");
  const int64_t id = int64_t(jp.parse(c.body)["orderId"]);
  auto ev = user.ReadUntil("wt-c");
  REQUIRE(ev.has_value());
  CHECK(std::string_view(jp.parse(*ev)["o"]["wt"]) == "CONTRACT_PRICE");
  auto m = sim.V1(http::verb::post, "/fapi/v1/order",
                  "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                      px(last + 100000) + "&workingType=MARK_PRICE&newClientOrderId=wt-m");
  REQUIRE(m.status == 200);
  CHECK(std::string_view(jp.parse(m.body)["workingType"]) == "MARK_PRICE");
  auto mev = user.ReadUntil("wt-m");
  REQUIRE(mev.has_value());
  CHECK(std::string_view(jp.parse(*mev)["o"]["wt"]) == "MARK_PRICE");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                             px(last + 1000) + "&workingType=INDEX_PRICE")) == -1130);
  // Against the last price: a stop at or below it would fire at once.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.002&stopPrice=" +
                             px(last))) == -2021);
  // The mark passes the stop without a print: parked still.
  sim.server->Sync([&] { sim.venue().market().SetMid(0, last + 3000); });
  auto q = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  CHECK(std::string_view(jp.parse(q.body)["status"]) == "NEW");
  // A print above it: it fires.
  REQUIRE(buy_market().status == 200);
  REQUIRE(WaitUntil([&] {
    auto f = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
    return f.body.find("\"status\":\"FILLED\"") != std::string::npos;
  }, 2000ms));
}

TEST_CASE("aster sim: PUT /fapi/v3/order modifies a LIMIT order in place", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  auto px = [&](int64_t v) { return FormatScaled(v, btc->price_scale); };
  auto placed = sim.V3(http::verb::post, "/fapi/v3/order",
                       "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTX&price=" +
                           px(bid - 50) + "&newClientOrderId=mod-1");
  REQUIRE(placed.status == 200);
  simdjson::dom::parser jp;
  const int64_t id = int64_t(jp.parse(placed.body)["orderId"]);
  auto mod = sim.V3(http::verb::put, "/fapi/v3/order",
                    "symbol=BTCUSDT&origClientOrderId=mod-1&side=BUY&quantity=0.003&price=" +
                        px(bid - 30));
  REQUIRE(mod.status == 200);
  simdjson::dom::element o = jp.parse(mod.body);
  CHECK(int64_t(o["orderId"]) == id);
  CHECK(std::string_view(o["price"]) == Fixed(bid - 30, btc->price_scale));
  CHECK(std::string_view(o["origQty"]) == "0.003");
  CHECK(std::string_view(o["status"]) == "NEW");
  // GTX through the ask: refused, unchanged; wrong side; no V1 form; quantity required.
  int64_t ask = 0;
  sim.server->Sync([&] { ask = sim.venue().market().book(0).BestAsk()->price; });
  CHECK(ErrorCode(sim.V3(http::verb::put, "/fapi/v3/order",
                         "symbol=BTCUSDT&orderId=" + std::to_string(id) +
                             "&side=BUY&quantity=0.003&price=" + px(ask))) == -5022);
  CHECK(ErrorCode(sim.V3(http::verb::put, "/fapi/v3/order",
                         "symbol=BTCUSDT&orderId=" + std::to_string(id) +
                             "&side=SELL&quantity=0.003&price=" + px(bid - 30))) == -1117);
  CHECK(ErrorCode(sim.V3(http::verb::put, "/fapi/v3/order",
                         "symbol=BTCUSDT&orderId=" + std::to_string(id) + "&side=BUY&price=" +
                             px(bid - 30))) == -1102);
  CHECK(sim.V1(http::verb::put, "/fapi/v1/order",
               "symbol=BTCUSDT&orderId=" + std::to_string(id) + "&side=BUY&quantity=0.003&price=" +
                   px(bid - 30))
            .status == 404);
  auto q = sim.V3(http::verb::get, "/fapi/v3/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  CHECK(std::string_view(jp.parse(q.body)["price"]) == Fixed(bid - 30, btc->price_scale));
}

// The modify's ORDER_TRADE_UPDATE is x AMENDMENT (aster.md: "ccxt also sees AMENDMENT"), not
// NEW: X keeps the order's status, p/q carry the new values, the trade fields are empty.
TEST_CASE("aster sim: a PUT modify pushes ORDER_TRADE_UPDATE x AMENDMENT", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto key = ad::ParseListenKey(sim.V3(http::verb::post, "/fapi/v3/listenKey", "").body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  auto px = [&](int64_t v) { return FormatScaled(v, btc->price_scale); };
  auto placed = sim.V3(http::verb::post, "/fapi/v3/order",
                       "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC&price=" +
                           px(bid - 50) + "&newClientOrderId=amend-1");
  REQUIRE(placed.status == 200);
  simdjson::dom::parser jp;
  const int64_t id = int64_t(jp.parse(placed.body)["orderId"]);
  auto first = user.ReadUntil("amend-1");
  REQUIRE(first.has_value());
  CHECK(std::string_view(jp.parse(*first)["o"]["x"]) == "NEW");

  REQUIRE(sim.V3(http::verb::put, "/fapi/v3/order",
                 "symbol=BTCUSDT&origClientOrderId=amend-1&side=BUY&quantity=0.003&price=" +
                     px(bid - 30))
              .status == 200);
  auto pushed = user.ReadUntil("amend-1");
  REQUIRE(pushed.has_value());
  simdjson::dom::element e = jp.parse(*pushed);
  CHECK(std::string_view(e["e"]) == "ORDER_TRADE_UPDATE");
  simdjson::dom::element o = e["o"];
  CHECK(std::string_view(o["x"]) == "AMENDMENT");
  CHECK(std::string_view(o["X"]) == "NEW");
  CHECK(int64_t(o["i"]) == id);
  CHECK(std::string_view(o["p"]) == Fixed(bid - 30, btc->price_scale));
  CHECK(std::string_view(o["q"]) == "0.003");
  CHECK(std::string_view(o["z"]) == "0");
  CHECK(std::string_view(o["l"]) == "0");
  CHECK(std::string_view(o["L"]) == "0");
  CHECK(std::string_view(o["n"]) == "0");
  CHECK(int64_t(o["t"]) == 0);
  // The adapter's codec reads it as an amend of the open order with the new price/size.
  ad::UserFrame uf;
  REQUIRE(ad::DecodeUserFrame(*pushed, Ctx(sim), 0, &uf).ok());
  CHECK(uf.execution_type == "AMENDMENT");
  CHECK(uf.order.order.status == OrderStatus::kOpen);
  CHECK(!uf.order.fill.has_value());
  CHECK(uf.order.order.price == Decimal::FromUnits(bid - 30, btc->price_scale));
  CHECK(uf.order.order.size.ToNormalizedString() == "0.003");
  // Nothing else follows for the modify (no NEW repeat, no trade).
  CHECK(!user.ReadUntil("amend-1", 300ms).has_value());
}

// The venue numbers trades per symbol: the first print on ETH after two on BTC is ETH's id 1,
// and a fill keeps one id across trades, aggTrades, the aggTrade stream, userTrades and the
// user stream's `t`.
TEST_CASE("aster sim: trade ids are per symbol and the same in every view", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  const Instrument* eth = sim.symbols.ByVenueSymbol("ETHUSDT");
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  WsClient agg(sim.port, "/stream?streams=ethusdt@aggTrade");
  sim.WaitConnections(2);
  auto take = [&](size_t i, const Instrument* in, const std::string& symbol,
                  const std::string& qty, const std::string& cid) {
    int64_t ask = 0;
    sim.server->Sync([&] { ask = sim.venue().market().book(i).BestAsk()->price; });
    REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                   "symbol=" + symbol + "&side=BUY&type=LIMIT&quantity=" + qty + "&price=" +
                       Px(in, ask) + "&timeInForce=IOC&newClientOrderId=" + cid)
                .status == 200);
  };
  take(0, btc, "BTCUSDT", "0.001", "btc-1");
  take(0, btc, "BTCUSDT", "0.001", "btc-2");
  take(1, eth, "ETHUSDT", "0.002", "eth-1");
  simdjson::dom::parser jp;
  auto ids = [&](const std::string& body, const char* key) {
    std::vector<int64_t> out;
    for (simdjson::dom::element e : jp.parse(body).get_array()) {
      int64_t v = 0;
      REQUIRE(e.at_key(key).get(v) == simdjson::SUCCESS);
      out.push_back(v);
    }
    return out;
  };
  CHECK(ids(sim.Get("/fapi/v1/trades?symbol=BTCUSDT").body, "id") == std::vector<int64_t>{1, 2});
  CHECK(ids(sim.Get("/fapi/v1/trades?symbol=ETHUSDT").body, "id") == std::vector<int64_t>{1});
  CHECK(ids(sim.Get("/fapi/v1/aggTrades?symbol=ETHUSDT").body, "a") == std::vector<int64_t>{1});
  CHECK(ids(sim.Get("/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=2").body, "a") ==
        std::vector<int64_t>{2});
  CHECK(ids(sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT").body, "id") ==
        std::vector<int64_t>{1, 2});
  CHECK(ids(sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT&fromId=2").body,
            "id") == std::vector<int64_t>{2});
  CHECK(ids(sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=ETHUSDT").body, "id") ==
        std::vector<int64_t>{1});
  auto stream = agg.ReadUntil("aggTrade");
  REQUIRE(stream.has_value());
  CHECK(int64_t(jp.parse(*stream)["data"]["a"]) == 1);
  std::optional<std::string> eth_fill;
  for (int k = 0; k < 6 && !eth_fill; ++k) {
    auto f = user.ReadUntil("\"x\":\"TRADE\"");
    if (f && f->find("eth-1") != std::string::npos) eth_fill = f;
  }
  REQUIRE(eth_fill.has_value());
  CHECK(int64_t(jp.parse(*eth_fill)["o"]["t"]) == 1);
  auto ticker = jp.parse(sim.Get("/fapi/v1/ticker/24hr?symbol=BTCUSDT").body);
  CHECK(int64_t(ticker["firstId"]) == 1);
  CHECK(int64_t(ticker["lastId"]) == 2);
  auto income = sim.V1(http::verb::get, "/fapi/v1/income", "symbol=ETHUSDT&incomeType=COMMISSION");
  CHECK(std::string_view(jp.parse(income.body).at(0)["tradeId"]) == "1");
}

// <s>@kline_<interval>: the current candle (the REST klines' numbers) pushed as the venue's
// `kline` event; when the interval ends, the finished candle once more with x = true.
TEST_CASE("aster sim: kline streams push the current candle and close it", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  WsClient ws(sim.port, "/stream?streams=btcusdt@kline_1m/btcusdt@kline_5m/btcusdt@kline_1w");
  sim.WaitConnections(1);
  int64_t ask = 0;
  sim.server->Sync([&] { ask = sim.venue().market().book(0).BestAsk()->price; });
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&price=" + Px(btc, ask) +
                     "&timeInForce=IOC")
              .status == 200);
  sim.Step(0, 5);
  simdjson::dom::parser jp;
  // The next frame of `stream` whose candle satisfies `pred`.
  auto next = [&](const std::string& stream, auto pred) -> std::optional<std::string> {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = ws.ReadUntil("\"stream\":\"" + stream + "\"", 3s);
      if (!f) return std::nullopt;
      simdjson::dom::element k = jp.parse(*f)["data"]["k"];
      if (pred(k)) return f;
    }
    return std::nullopt;
  };
  simdjson::dom::parser rp;  // `rest` stays valid while jp parses frames
  auto rest = rp.parse(sim.Get("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1").body);
  const std::string rest_close(std::string_view(rest.at(0).at(4)));
  const int64_t open_ms = int64_t(rest.at(0).at(0));
  auto f = next("btcusdt@kline_1m", [&](simdjson::dom::element k) {
    return std::string_view(k["c"]) == rest_close;
  });
  REQUIRE(f.has_value());
  simdjson::dom::element ev = jp.parse(*f)["data"];
  CHECK(std::string_view(ev["e"]) == "kline");
  CHECK(std::string_view(ev["s"]) == "BTCUSDT");
  simdjson::dom::element k = ev["k"];
  CHECK(int64_t(k["t"]) == open_ms);
  CHECK(int64_t(k["T"]) == open_ms + 59999);
  CHECK(std::string_view(k["s"]) == "BTCUSDT");
  CHECK(std::string_view(k["i"]) == "1m");
  CHECK(int64_t(k["f"]) == 1);
  CHECK(int64_t(k["L"]) == 1);
  CHECK(std::string_view(k["o"]) == std::string_view(rest.at(0).at(1)));
  CHECK(std::string_view(k["h"]) == std::string_view(rest.at(0).at(2)));
  CHECK(std::string_view(k["l"]) == std::string_view(rest.at(0).at(3)));
  CHECK(std::string_view(k["v"]) == "0.002");
  CHECK(int64_t(k["n"]) == 1);
  CHECK(bool(k["x"]) == false);
  CHECK(std::string_view(k["q"]) == std::string_view(rest.at(0).at(7)));
  CHECK(std::string_view(k["V"]) == "0.002");
  CHECK(std::string_view(k["Q"]) == std::string_view(rest.at(0).at(10)));
  CHECK(std::string_view(k["B"]) == "0");
  auto five = next("btcusdt@kline_5m", [](simdjson::dom::element) { return true; });
  REQUIRE(five.has_value());
  CHECK(int64_t(jp.parse(*five)["data"]["k"]["t"]) % 300000 == 0);
  CHECK(std::string_view(jp.parse(*five)["data"]["k"]["i"]) == "5m");

  // A minute later the market moves: the finished minute once more (closed), then the new one.
  sim.clock.Advance(int64_t{60} * 1000 * 1000 * 1000);
  sim.Step(0, 3);
  auto closed = next("btcusdt@kline_1m", [](simdjson::dom::element k) { return bool(k["x"]); });
  REQUIRE(closed.has_value());
  simdjson::dom::element ck = jp.parse(*closed)["data"]["k"];
  CHECK(int64_t(ck["t"]) == open_ms);
  CHECK(int64_t(ck["n"]) == 1);
  auto fresh = next("btcusdt@kline_1m", [&](simdjson::dom::element k) {
    return int64_t(k["t"]) == open_ms + 60000;
  });
  REQUIRE(fresh.has_value());
  simdjson::dom::element nk = jp.parse(*fresh)["data"]["k"];
  CHECK(bool(nk["x"]) == false);
  CHECK(int64_t(nk["n"]) == 0);
  CHECK(int64_t(nk["f"]) == -1);
  CHECK(std::string_view(nk["v"]) == "0.000");
}

// 1w / 1M: calendar buckets (Monday 00:00 UTC, the 1st 00:00 UTC) on REST klines and the kline
// streams; the week closes when the clock passes the next Monday.
TEST_CASE("aster sim: 1w and 1M klines in calendar buckets", "[aster_sim]") {
  Sim sim;
  constexpr int64_t kDay = 86'400'000;
  const int64_t now = sim.NowMs();
  const int64_t days = now / kDay;
  const int64_t week = (days - (days + 3) % 7) * kDay;  // 1970-01-01 was a Thursday
  std::time_t secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const int64_t month = (days - (tm.tm_mday - 1)) * kDay;
  std::tm next_tm = tm;
  next_tm.tm_mon += 1;
  next_tm.tm_mday = 1;
  next_tm.tm_hour = next_tm.tm_min = next_tm.tm_sec = 0;
  const int64_t next_month = static_cast<int64_t>(timegm(&next_tm)) * 1000;
  sim.Step(0, 3);
  simdjson::dom::parser rp;
  auto w = sim.Get("/fapi/v1/klines?symbol=BTCUSDT&interval=1w&limit=1");
  REQUIRE(w.status == 200);
  auto wrow = rp.parse(w.body).at(0);
  CHECK(int64_t(wrow.at(0)) == week);
  CHECK(int64_t(wrow.at(6)) == week + 7 * kDay - 1);
  auto mo = sim.Get("/fapi/v1/klines?symbol=BTCUSDT&interval=1M&limit=1");
  REQUIRE(mo.status == 200);
  auto mrow = rp.parse(mo.body).at(0);
  CHECK(int64_t(mrow.at(0)) == month);
  CHECK(int64_t(mrow.at(6)) == next_month - 1);

  WsClient ws(sim.port, "/stream?streams=btcusdt@kline_1w/btcusdt@kline_1M");
  sim.WaitConnections(1);
  sim.Step(0, 3);
  simdjson::dom::parser jp;
  auto next = [&](const std::string& stream, auto pred) -> std::optional<std::string> {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = ws.ReadUntil("\"stream\":\"" + stream + "\"", 3s);
      if (!f) return std::nullopt;
      if (pred(jp.parse(*f)["data"]["k"])) return f;
    }
    return std::nullopt;
  };
  // The first frame of each (both push in the same tick, in either order).
  std::map<std::string, std::string> first;
  while (first.size() < 2) {
    auto f = ws.ReadUntil("\"kline\"", 3s);
    if (!f) break;
    first.emplace(std::string(std::string_view(jp.parse(*f)["stream"])), *f);
  }
  REQUIRE(first.count("btcusdt@kline_1w") == 1);
  REQUIRE(first.count("btcusdt@kline_1M") == 1);
  simdjson::dom::parser wp, mp;
  simdjson::dom::element wk = wp.parse(first["btcusdt@kline_1w"])["data"]["k"];
  CHECK(int64_t(wk["t"]) == week);
  CHECK(int64_t(wk["T"]) == week + 7 * kDay - 1);
  CHECK(std::string_view(wk["i"]) == "1w");
  CHECK(bool(wk["x"]) == false);
  simdjson::dom::element mk = mp.parse(first["btcusdt@kline_1M"])["data"]["k"];
  CHECK(int64_t(mk["t"]) == month);
  CHECK(int64_t(mk["T"]) == next_month - 1);
  CHECK(std::string_view(mk["i"]) == "1M");

  // Past the next Monday: the finished week once more (closed), then the new one.
  sim.clock.Advance((week + 7 * kDay - now + 1000) * 1'000'000);
  sim.Step(0, 3);
  auto closed = next("btcusdt@kline_1w", [](simdjson::dom::element k) { return bool(k["x"]); });
  REQUIRE(closed.has_value());
  CHECK(int64_t(jp.parse(*closed)["data"]["k"]["t"]) == week);
  auto fresh = next("btcusdt@kline_1w", [&](simdjson::dom::element k) {
    return int64_t(k["t"]) == week + 7 * kDay;
  });
  REQUIRE(fresh.has_value());
  CHECK(bool(jp.parse(*fresh)["data"]["k"]["x"]) == false);
}

// MARGIN_CALL when the margin ratio (maintenance margin / margin balance) crosses 80 %: once per
// crossing, again after it fell back below; the docs' payload.
TEST_CASE("aster sim: MARGIN_CALL when the margin ratio crosses the warning level",
          "[aster_sim]") {
  std::vector<AccountSpec> accounts = MakeModule()->DefaultAccounts();
  for (AccountSpec& a : accounts) {
    if (a.id == kV1Account) a.balance = "1000";
  }
  Sim sim(accounts);
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=20").status ==
          200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.2")
              .status == 200);
  // The mark at which the ratio is `r`, from the account as the engine holds it:
  // r = q·p·mmr / (wallet + q·(p − entry))  →  p = r·(q·entry − wallet) / (q·(r − mmr)).
  auto price_at = [&](double r) {
    int64_t px = 0;
    sim.server->Sync([&] {
      Engine& eng = sim.venue().engine();
      const SimPosition pos = eng.Position(kV1Account, 0);
      const SimInstrument& in = *pos.instrument;
      const double q = static_cast<double>(pos.size) / std::pow(10.0, in.size_scale);
      const double entry = static_cast<double>(pos.entry_notional) / 1e8 / q;
      const double wallet = static_cast<double>(eng.Balance(kV1Account).wallet) / 1e8;
      const double mmr = static_cast<double>(in.maint_margin_ratio) / 1e10;
      const double p = r * (q * entry - wallet) / (q * (r - mmr));
      px = static_cast<int64_t>(p * std::pow(10.0, in.price_scale));
    });
    return px;
  };
  auto ratio = [&] {
    double r = 0;
    sim.server->Sync([&] {
      const SimBalance b = sim.venue().engine().Balance(kV1Account);
      r = static_cast<double>(b.maint_margin) / static_cast<double>(b.equity);
    });
    return r;
  };
  CHECK(ratio() < 0.8);
  CHECK(!user.ReadUntil("MARGIN_CALL", 600ms).has_value());
  const int64_t px_0_9 = price_at(0.9);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, px_0_9); });
  REQUIRE(ratio() > 0.8);
  REQUIRE(ratio() < 1.0);  // not liquidated
  auto call = user.ReadUntil("MARGIN_CALL", 2s);
  REQUIRE(call.has_value());
  simdjson::dom::parser jp;
  ad::UserFrame uf;  // the gateway's codec reads it
  REQUIRE(ad::DecodeUserFrame(*call, Ctx(sim), 0, &uf).ok());
  CHECK(uf.kind == ad::UserEventKind::kMarginCall);
  simdjson::dom::element ev = jp.parse(*call);
  CHECK(std::string_view(ev["e"]) == "MARGIN_CALL");
  CHECK(int64_t(ev["E"]) > 0);
  SimBalance b;
  SimPosition pos;
  sim.server->Sync([&] {
    b = sim.venue().engine().Balance(kV1Account);
    pos = sim.venue().engine().Position(kV1Account, 0);
  });
  CHECK(std::string_view(ev["cw"]) == Money8(b.wallet));
  simdjson::dom::array ps = ev["p"].get_array();
  REQUIRE(ps.size() == 1);
  simdjson::dom::element p = ps.at(0);
  CHECK(std::string_view(p["s"]) == "BTCUSDT");
  CHECK(std::string_view(p["ps"]) == "BOTH");
  CHECK(std::string_view(p["pa"]) == "0.200");
  CHECK(std::string_view(p["mt"]) == "CROSSED");
  CHECK(std::string_view(p["iw"]) == "0");
  CHECK(std::string_view(p["up"]) == Money8(pos.unrealized_pnl));
  CHECK(std::string_view(p["mm"]) == Money8(pos.maint_margin));
  CHECK(Decimal::Parse(std::string(std::string_view(p["mp"]))).value() ==
        Decimal::FromUnits(pos.mark_price, btc->price_scale));
  // Still above: no repeat. Back below and above again: a second call.
  CHECK(!user.ReadUntil("MARGIN_CALL", 700ms).has_value());
  const int64_t px_0_5 = price_at(0.5);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, px_0_5); });
  REQUIRE(ratio() < 0.8);
  CHECK(!user.ReadUntil("MARGIN_CALL", 700ms).has_value());
  const int64_t px_0_95 = price_at(0.95);
  sim.server->Sync([&] { sim.venue().market().SetMid(0, px_0_95); });
  REQUIRE(ratio() > 0.8);
  CHECK(user.ReadUntil("MARGIN_CALL", 2s).has_value());
}

// An isolated position is margin-called on its own margin: with a large cross wallet the
// account's ratio stays low, yet the isolated BTC position crossing 80 % of its isolated margin
// + PnL gets a MARGIN_CALL listing that position alone (ISOLATED, its iw, no cw).
TEST_CASE("aster sim: MARGIN_CALL per isolated position", "[aster_sim]") {
  std::vector<AccountSpec> accounts = MakeModule()->DefaultAccounts();
  for (AccountSpec& a : accounts) {
    if (a.id == kV1Account) a.balance = "100000";
  }
  Sim sim(accounts);
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED")
              .status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=20").status ==
          200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.2")
              .status == 200);
  // r = q·p·mmr / (iw + q·(p − entry))  →  p = r·(q·entry − iw) / (q·(r − mmr)).
  int64_t px = 0;
  sim.server->Sync([&] {
    Engine& eng = sim.venue().engine();
    const SimPosition pos = eng.Position(kV1Account, 0);
    const SimInstrument& in = *pos.instrument;
    REQUIRE(pos.isolated);
    const double q = static_cast<double>(pos.size) / std::pow(10.0, in.size_scale);
    const double entry = static_cast<double>(pos.entry_notional) / 1e8 / q;
    const double iw = static_cast<double>(pos.isolated_margin) / 1e8;
    const double mmr = static_cast<double>(in.maint_margin_ratio) / 1e10;
    px = static_cast<int64_t>(0.9 * (q * entry - iw) / (q * (0.9 - mmr)) *
                              std::pow(10.0, in.price_scale));
  });
  CHECK(!user.ReadUntil("MARGIN_CALL", 600ms).has_value());
  sim.server->Sync([&] { sim.venue().market().SetMid(0, px); });
  SimBalance b;
  SimPosition pos;
  sim.server->Sync([&] {
    b = sim.venue().engine().Balance(kV1Account);
    pos = sim.venue().engine().Position(kV1Account, 0);
  });
  REQUIRE(pos.size != 0);  // not liquidated
  CHECK(static_cast<double>(b.maint_margin) / static_cast<double>(b.equity) < 0.1);  // account
  auto call = user.ReadUntil("MARGIN_CALL", 2s);
  REQUIRE(call.has_value());
  simdjson::dom::parser jp;
  simdjson::dom::element ev = jp.parse(*call);
  CHECK(ev["cw"].error() == simdjson::NO_SUCH_FIELD);
  simdjson::dom::array ps = ev["p"].get_array();
  REQUIRE(ps.size() == 1);
  CHECK(std::string_view(ps.at(0)["s"]) == "BTCUSDT");
  CHECK(std::string_view(ps.at(0)["mt"]) == "ISOLATED");
  CHECK(std::string_view(ps.at(0)["iw"]) == Money8(pos.isolated_margin));
  CHECK(std::string_view(ps.at(0)["mm"]) == Money8(pos.maint_margin));
  // Once per crossing.
  CHECK(!user.ReadUntil("MARGIN_CALL", 700ms).has_value());
}

// TRAILING_STOP_MARKET on the engine's trailing stops: callbackRate (percent) and
// activationPrice (default: the latest price), activatePrice / priceRate on REST, AP / cr on the
// user stream; a sell fires when the mark falls callbackRate below its highest since activation.
TEST_CASE("aster sim: TRAILING_STOP_MARKET trails the mark and fires", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  auto lk = Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey);
  auto key = ad::ParseListenKey(lk.body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  const std::string info = sim.Get("/fapi/v1/exchangeInfo").body;
  CHECK(info.find("\"TRAILING_STOP_MARKET\"") != std::string::npos);
  int64_t mark = 0;
  sim.server->Sync([&] { mark = sim.venue().market().mark_price(0); });
  auto px = [&](int64_t v) { return Px(btc, v); };
  auto order = [&](const std::string& p) {
    return sim.V1(http::verb::post, "/fapi/v1/order",
                  "symbol=BTCUSDT&type=TRAILING_STOP_MARKET&quantity=0.002&workingType=MARK_PRICE&" + p);
  };
  simdjson::dom::parser jp;
  // Active from placement (no activationPrice): the trigger trails 1 % under the mark.
  auto placed = order("side=SELL&callbackRate=1&newClientOrderId=trail-1&newOrderRespType=RESULT");
  REQUIRE(placed.status == 200);
  simdjson::dom::element o = jp.parse(placed.body);
  CHECK(std::string_view(o["type"]) == "TRAILING_STOP_MARKET");
  CHECK(std::string_view(o["origType"]) == "TRAILING_STOP_MARKET");
  CHECK(std::string_view(o["status"]) == "NEW");
  CHECK(std::string_view(o["activatePrice"]) == Fixed(mark, btc->price_scale));
  CHECK(std::string_view(o["priceRate"]) == "1.0");
  CHECK(std::string_view(o["stopPrice"]) == Fixed(mark * 99 / 100, btc->price_scale));
  const int64_t id = int64_t(o["orderId"]);
  auto ev = user.ReadUntil("trail-1");
  REQUIRE(ev.has_value());
  simdjson::dom::element u = jp.parse(*ev)["o"];
  CHECK(std::string_view(u["o"]) == "TRAILING_STOP_MARKET");
  CHECK(std::string_view(u["ot"]) == "TRAILING_STOP_MARKET");
  CHECK(std::string_view(u["AP"]) == Fixed(mark, btc->price_scale));
  CHECK(std::string_view(u["cr"]) == "1.0");
  // With an activation price above the mark: parked, not trailing yet.
  auto later = order("side=SELL&callbackRate=0.25&activationPrice=" + px(mark + 20000) +
                     "&newClientOrderId=trail-2&newOrderRespType=RESULT");
  REQUIRE(later.status == 200);
  simdjson::dom::element l = jp.parse(later.body);
  CHECK(std::string_view(l["activatePrice"]) == Fixed(mark + 20000, btc->price_scale));
  CHECK(std::string_view(l["priceRate"]) == "0.25");
  // Refusals: activation on the wrong side of the mark, rate out of 0.1..5, rate missing.
  CHECK(ErrorCode(order("side=SELL&callbackRate=1&activationPrice=" + px(mark - 10))) == -2021);
  CHECK(ErrorCode(order("side=BUY&callbackRate=1&activationPrice=" + px(mark + 10))) == -2021);
  CHECK(ErrorCode(order("side=SELL&callbackRate=6")) == -1130);
  CHECK(ErrorCode(order("side=SELL&callbackRate=0.05")) == -1130);
  CHECK(ErrorCode(order("side=SELL&callbackRate=0.123")) == -1111);
  CHECK(ErrorCode(order("side=SELL")) == -1102);
  // The mark rises 500 (the trigger follows), then falls 1.5 % from there: the first one sells.
  const int64_t high = mark + 5000;
  sim.server->Sync([&] { sim.venue().market().SetMid(0, high); });
  auto q = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  CHECK(std::string_view(jp.parse(q.body)["stopPrice"]) == Fixed(high * 99 / 100, btc->price_scale));
  CHECK(std::string_view(jp.parse(q.body)["status"]) == "NEW");
  sim.server->Sync([&] { sim.venue().market().SetMid(0, high * 985 / 1000); });
  q = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  simdjson::dom::element f = jp.parse(q.body);
  CHECK(std::string_view(f["status"]) == "FILLED");
  CHECK(std::string_view(f["type"]) == "TRAILING_STOP_MARKET");
  CHECK(std::string_view(f["executedQty"]) == "0.002");
  auto q2 = sim.V1(http::verb::get, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=trail-2");
  CHECK(std::string_view(jp.parse(q2.body)["status"]) == "NEW");  // never activated
  CHECK(sim.V1(http::verb::delete_, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=trail-2")
            .status == 200);
}

// A position-mode switch pushes ACCOUNT_CONFIG_UPDATE with ai.d (aster.md §7.4), which the
// gateway's codec reads as a config update; a refused switch pushes nothing.
TEST_CASE("aster sim: ACCOUNT_CONFIG_UPDATE ai.d on a position-mode switch", "[aster_sim]") {
  Sim sim;
  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=true").status == 200);
  auto ev = user.ReadUntil("ACCOUNT_CONFIG_UPDATE", 2s);
  REQUIRE(ev.has_value());
  simdjson::dom::parser jp;
  simdjson::dom::element e = jp.parse(*ev);
  CHECK(int64_t(e["E"]) > 0);
  CHECK(bool(e["ai"]["d"]) == true);
  CHECK(bool(e["ai"]["j"]) == false);
  ad::UserFrame uf;
  REQUIRE(ad::DecodeUserFrame(*ev, Ctx(sim), 0, &uf).ok());
  CHECK(uf.kind == ad::UserEventKind::kAccountConfigUpdate);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=true")) == -4059);
  CHECK(!user.ReadUntil("ACCOUNT_CONFIG_UPDATE", 500ms).has_value());
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=false").status == 200);
  auto off = user.ReadUntil("ACCOUNT_CONFIG_UPDATE", 2s);
  REQUIRE(off.has_value());
  CHECK(bool(jp.parse(*off)["ai"]["d"]) == false);
}

// PUT /fapi/v3/order honours positionSide: one-way takes BOTH or none; hedge mode needs the
// order's own LONG / SHORT (missing or the other side -4061).
TEST_CASE("aster sim: modify checks positionSide", "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  auto px = [&](int64_t v) { return FormatScaled(v, btc->price_scale); };
  auto modify = [&](const std::string& cid, const std::string& extra) {
    return sim.V3(http::verb::put, "/fapi/v3/order",
                  "symbol=BTCUSDT&origClientOrderId=" + cid + "&side=BUY&quantity=0.003&price=" +
                      px(bid - 40) + extra);
  };
  REQUIRE(sim.V3(http::verb::post, "/fapi/v3/order",
                 "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC&price=" +
                     px(bid - 50) + "&newClientOrderId=ow-1")
              .status == 200);
  CHECK(ErrorCode(modify("ow-1", "&positionSide=LONG")) == -4061);
  CHECK(modify("ow-1", "&positionSide=BOTH").status == 200);
  CHECK(modify("ow-1", "").status == 200);
  REQUIRE(sim.V3(http::verb::delete_, "/fapi/v3/order", "symbol=BTCUSDT&origClientOrderId=ow-1").status == 200);
  REQUIRE(sim.V3(http::verb::post, "/fapi/v3/positionSide/dual", "dualSidePosition=true").status == 200);
  REQUIRE(sim.V3(http::verb::post, "/fapi/v3/order",
                 "symbol=BTCUSDT&side=BUY&positionSide=LONG&type=LIMIT&quantity=0.002&timeInForce=GTC"
                 "&price=" + px(bid - 50) + "&newClientOrderId=hg-1")
              .status == 200);
  CHECK(ErrorCode(modify("hg-1", "")) == -4061);
  CHECK(ErrorCode(modify("hg-1", "&positionSide=BOTH")) == -4061);
  CHECK(ErrorCode(modify("hg-1", "&positionSide=SHORT")) == -4061);
  auto ok = modify("hg-1", "&positionSide=LONG");
  REQUIRE(ok.status == 200);
  simdjson::dom::parser jp;
  CHECK(std::string_view(jp.parse(ok.body)["positionSide"]) == "LONG");
  CHECK(std::string_view(jp.parse(ok.body)["origQty"]) == "0.003");
}

// Hedge mode: a positionMargin change on the LONG side is listed with positionSide LONG.
TEST_CASE("aster sim: margin history names the hedge side", "[aster_sim]") {
  Sim sim;
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=true").status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED")
              .status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&positionSide=LONG&type=MARKET&quantity=0.002")
              .status == 200);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/positionMargin",
                 "symbol=BTCUSDT&positionSide=LONG&amount=10&type=1")
              .status == 200);
  auto h = sim.V1(http::verb::get, "/fapi/v1/positionMargin/history", "symbol=BTCUSDT");
  REQUIRE(h.status == 200);
  simdjson::dom::parser jp;
  simdjson::dom::array rows = jp.parse(h.body).get_array();
  REQUIRE(rows.size() == 1);
  CHECK(std::string_view(rows.at(0)["positionSide"]) == "LONG");
  CHECK(int64_t(rows.at(0)["type"]) == 1);
}

// One net position per market: hedge mode is reported off and refused (never a fake success).
TEST_CASE("aster sim: positionSide/dual switches hedge mode per account, refused with orders or a position",
          "[aster_sim]") {
  Sim sim;
  CHECK(sim.V1(http::verb::get, "/fapi/v1/positionSide/dual", "").body ==
        R"({"dualSidePosition":false})");
  // One-way (the default): LONG / SHORT orders mismatch the setting.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&positionSide=LONG&type=MARKET&quantity=0.001")) ==
        -4061);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual",
                         "dualSidePosition=false")) == -4059);
  auto on = sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=true");
  REQUIRE(on.status == 200);
  CHECK(on.body == R"({"code":200,"msg":"success"})");
  CHECK(sim.V1(http::verb::get, "/fapi/v1/positionSide/dual", "").body ==
        R"({"dualSidePosition":true})");
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual",
                         "dualSidePosition=true")) == -4059);
  // Per account: the V3 test user is still one-way.
  CHECK(sim.V3(http::verb::get, "/fapi/v3/positionSide/dual", "").body ==
        R"({"dualSidePosition":false})");
  // Hedge: positionSide LONG / SHORT required, reduceOnly may not be sent.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001")) == -4061);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=BUY&positionSide=BOTH&type=MARKET&quantity=0.001")) ==
        -4061);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=SELL&positionSide=LONG&type=MARKET&quantity=0.001&"
                         "reduceOnly=false")) == -1106);

  auto key = ad::ParseListenKey(Call(sim.port, http::verb::post, "/fapi/v1/listenKey", "", kApiKey).body);
  REQUIRE(key.ok());
  WsClient user(sim.port, "/ws/" + *key);
  sim.WaitConnections(1);
  // A long and a short on BTCUSDT at once.
  auto l = sim.V1(http::verb::post, "/fapi/v1/order",
                  "symbol=BTCUSDT&side=BUY&positionSide=LONG&type=MARKET&quantity=0.01&"
                  "newOrderRespType=RESULT");
  REQUIRE(l.status == 200);
  simdjson::dom::parser jp;
  CHECK(std::string_view(jp.parse(l.body)["positionSide"]) == "LONG");
  auto s = sim.V1(http::verb::post, "/fapi/v1/order",
                  "symbol=BTCUSDT&side=SELL&positionSide=SHORT&type=MARKET&quantity=0.02");
  REQUIRE(s.status == 200);
  auto otu = user.ReadUntil(R"("ps":"SHORT","cp")");
  REQUIRE(otu);
  CHECK(otu->find("ORDER_TRADE_UPDATE") != std::string::npos);
  auto au = user.ReadUntil("ACCOUNT_UPDATE");
  REQUIRE(au);
  while (au && au->find(R"("ps":"SHORT")") == std::string::npos) au = user.ReadUntil("ACCOUNT_UPDATE");
  REQUIRE(au);
  CHECK(au->find(R"("pa":"-0.020")") != std::string::npos);
  auto pr = sim.V1(http::verb::get, "/fapi/v2/positionRisk", "symbol=BTCUSDT");
  REQUIRE(pr.status == 200);
  simdjson::dom::array rows = jp.parse(pr.body).get_array();
  REQUIRE(rows.size() == 2);
  CHECK(std::string_view(At(jp, pr.body, 0)["positionSide"]) == "LONG");
  CHECK(std::string_view(At(jp, pr.body, 0)["positionAmt"]) == "0.010");
  CHECK(std::string_view(At(jp, pr.body, 1)["positionSide"]) == "SHORT");
  CHECK(std::string_view(At(jp, pr.body, 1)["positionAmt"]) == "-0.020");
  // Switching back: refused with an open order (-4067) first, then with a position (-4068).
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&positionSide=LONG&type=LIMIT&quantity=0.001&price=" +
                     Px(btc, bid - 20) + "&timeInForce=GTC&newClientOrderId=hg-1")
              .status == 200);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual",
                         "dualSidePosition=false")) == -4067);
  REQUIRE(sim.V1(http::verb::delete_, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=hg-1")
              .status == 200);
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual",
                         "dualSidePosition=false")) == -4068);
  // Closing more than the side holds is refused (-2022); closing the long leaves the short.
  CHECK(ErrorCode(sim.V1(http::verb::post, "/fapi/v1/order",
                         "symbol=BTCUSDT&side=SELL&positionSide=LONG&type=MARKET&quantity=0.02")) ==
        -2022);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=SELL&positionSide=LONG&type=MARKET&quantity=0.01")
              .status == 200);
  SimPosition lp, sp;
  sim.server->Sync([&] {
    lp = sim.venue().engine().Position(kV1Account, 0, PositionSide::kLong);
    sp = sim.venue().engine().Position(kV1Account, 0, PositionSide::kShort);
  });
  CHECK(lp.size == 0);
  CHECK(sp.size == -20);
  auto trades = sim.V1(http::verb::get, "/fapi/v1/userTrades", "symbol=BTCUSDT");
  REQUIRE(trades.status == 200);
  CHECK(trades.body.find(R"("positionSide":"LONG")") != std::string::npos);
  CHECK(trades.body.find(R"("positionSide":"SHORT")") != std::string::npos);
  REQUIRE(sim.V1(http::verb::post, "/fapi/v1/order",
                 "symbol=BTCUSDT&side=BUY&positionSide=SHORT&type=MARKET&quantity=0.02")
              .status == 200);
  CHECK(sim.V1(http::verb::post, "/fapi/v1/positionSide/dual", "dualSidePosition=false").status ==
        200);
  CHECK(sim.V1(http::verb::get, "/fapi/v1/positionSide/dual", "").body ==
        R"({"dualSidePosition":false})");
}

TEST_CASE("aster sim: V3 stpMode, noop, approveBuilder and the stpMode / peg order params",
          "[aster_sim]") {
  Sim sim;
  const Instrument* btc = sim.symbols.ByVenueSymbol("BTCUSDT");
  simdjson::dom::parser jp;
  // stpMode: NONE until set; the three modes; anything else -1130; V3 only.
  auto get_stp = sim.V3(http::verb::get, "/fapi/v3/stpMode", "");
  REQUIRE(get_stp.status == 200);
  CHECK(std::string_view(jp.parse(get_stp.body)["stpMode"]) == "NONE");
  auto set_stp = sim.V3(http::verb::post, "/fapi/v3/stpMode", "stpMode=EXPIRE_BOTH");
  REQUIRE(set_stp.status == 200);
  CHECK(int64_t(jp.parse(set_stp.body)["code"]) == 200);
  CHECK(std::string_view(jp.parse(sim.V3(http::verb::get, "/fapi/v3/stpMode", "").body)["stpMode"]) ==
        "EXPIRE_BOTH");
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/stpMode", "stpMode=SOMETIMES")) == -1130);
  CHECK(sim.V1(http::verb::get, "/fapi/v1/stpMode", "").status == 404);

  // noop: a fresh nonce is consumed (success); the same nonce again is too late (-4225).
  const uint64_t nonce = static_cast<uint64_t>(sim.clock.Now() / 1000) + 777;
  auto noop = sim.V3(http::verb::post, "/fapi/v3/noop", "", nonce);
  REQUIRE(noop.status == 200);
  CHECK(int64_t(jp.parse(noop.body)["code"]) == 200);
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/noop", "", nonce)) == -4225);

  // pegPriceType: QUEUE_1 buys at the best bid, COUNTERPARTY_1 sells at it; no price needed.
  int64_t bid = 0;
  sim.server->Sync([&] { bid = sim.venue().market().book(0).BestBid()->price; });
  auto queue = sim.V3(http::verb::post, "/fapi/v3/order",
                      "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC"
                      "&pegPriceType=QUEUE_1&stpMode=EXPIRE_MAKER");
  INFO(queue.body);
  REQUIRE(queue.status == 200);
  CHECK(std::string_view(jp.parse(queue.body)["price"]) == Fixed(bid, btc->price_scale));
  auto counter = sim.V3(http::verb::post, "/fapi/v3/order",
                        "symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.002&timeInForce=IOC"
                        "&pegPriceType=COUNTERPARTY_1&pegOffset=0");
  REQUIRE(counter.status == 200);
  CHECK(std::string_view(jp.parse(counter.body)["price"]) == Fixed(bid, btc->price_scale));
  // Refused instead of ignored: unknown peg, a non-zero offset, peg on MARKET, bad stpMode.
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/order",
                         "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC"
                         "&pegPriceType=OPPONENT_5")) == -1130);
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/order",
                         "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC"
                         "&pegPriceType=QUEUE_1&pegOffset=2")) == -1130);
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/order",
                         "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002"
                         "&pegPriceType=QUEUE_1")) == -1106);
  CHECK(ErrorCode(sim.V3(http::verb::post, "/fapi/v3/order",
                         "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.002&timeInForce=GTC&price=" +
                             Fixed(bid - 100, btc->price_scale) + "&stpMode=WHATEVER")) == -1130);
}

TEST_CASE("aster sim: POST /fapi/v3/approveBuilder verifies ccxt's ApproveBuilder signature",
          "[aster_sim]") {
  // vectors/eip712_v3_ccxt_requests.json approveBuilder_post: ccxt 4.5.84 with the clock frozen
  // at 1748310859508 ms, signed by the key of 0x21cf…bb0 for itself.
  AccountSpec a;
  a.id = "ccxt-main";
  a.credentials = {{"auth_scheme", "v3"},
                   {"user", "0x21cf8ae13bb72632562c6fff438652ba1a151bb0"},
                   {"signer", "0x21cf8ae13bb72632562c6fff438652ba1a151bb0"},
                   {"private_key", kAgentKey}};
  Sim sim({a});
  sim.clock.Set(int64_t{1748310859508} * 1'000'000);
  const std::string sent =
      "nonce=1748310859508000&user=0x21cf8ae13bb72632562c6fff438652ba1a151bb0&builder="
      "0x1F5877C19e3777Cfd15F9d57253eA4aA5254Ec39&builderName=ccxt&maxFeeRate=0.001&"
      "signatureChainId=1666&asterChain=Mainnet&signature=0x1ed408400c2c0ddaa66477b8f0974530b80f7"
      "d6816f7234393f8191b9e5aa372014bdb4519a4c239c0009fa3a35522f092830c78c92fe61b5da3a6879a452b"
      "351b";
  auto r = Call(sim.port, http::verb::post, "/fapi/v3/approveBuilder", sent);
  INFO(r.body);
  REQUIRE(r.status == 200);
  simdjson::dom::parser jp;
  CHECK(int64_t(jp.parse(r.body)["code"]) == 200);
  CHECK(std::string_view(jp.parse(r.body)["msg"]) == "success");
  // Another builder name under the same signature: refused; the nonce is not consumed by it.
  std::string tampered = sent;
  tampered.replace(tampered.find("builderName=ccxt"), 16, "builderName=cxxt");
  auto bad = Call(sim.port, http::verb::post, "/fapi/v3/approveBuilder", tampered);
  CHECK(bad.status != 200);
  CHECK(ErrorCode(bad) == -1022);
}

}  // namespace perpgw::sim::aster
