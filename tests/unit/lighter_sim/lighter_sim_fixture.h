// Shared fixture of the Lighter sim loopback tests: the sim with only the Lighter module on
// 127.0.0.1:0 (generator off, manual clock), the adapter's codec and symbol table for reading
// payloads back, a form POST helper, and a trader that signs txs and auth tokens with the
// adapter's signing library for one (account_index, api_key_index).
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/lighter/codec.h"
#include "adapters/lighter/signing.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"
#include "sim/lighter/module.h"
#include "tests/unit/sim_loopback.h"

namespace perpgw::sim::lighter::testing {

namespace lt = perpgw::adapters::lighter;
using namespace perpgw::testing::loopback;

// The sim with only the Lighter module, generator off until a test turns it on.
struct Sim {
  ManualClock clock{SystemClock::Instance().Now()};
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0, control = 0;
  lt::Codec codec;
  lt::SymbolTable symbols;
  std::vector<lt::MarketInfo> markets;

  explicit Sim(VenueConfig venue = {}) {
    SimConfig c;
    c.seed = 13;
    c.rate = 0;
    c.depth = 25;
    c.funding_timer = false;
    server = std::make_unique<Server>(c, &clock);
    REQUIRE(server->AddVenue(MakeModule(), venue).ok());
    REQUIRE(server->Start().ok());
    thread = std::thread([this] { server->Run(); });
    server->Sync([&] {
      port = server->venue("lighter")->port();
      control = server->control_port();
    });
    auto m = codec.ParseOrderBookDetails(Get("/api/v1/orderBookDetails").body, nullptr);
    REQUIRE(m.ok());
    markets = *m;
    for (const lt::MarketInfo& mi : markets) {
      Instrument in = mi.instrument;
      WidenBookScales(&in);
      symbols.Add(in, mi.market_index);
    }
  }
  ~Sim() {
    server->Stop();
    thread.join();
  }
  int64_t NowMs() const { return clock.Now() / 1'000'000; }
  HttpResult Get(const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Call(port, http::verb::get, target, "", headers);
  }
  HttpResult Control(http::verb verb, const std::string& target, const std::string& body = "") {
    return Call(control, verb, target, body);
  }
  void WaitConnections(size_t n) {
    REQUIRE(WaitUntil([&] {
      size_t k = 0;
      server->Sync([&] { k = server->venue("lighter")->connections().size(); });
      return k >= n;
    }));
  }
  // POST with an explicit Content-Type (sim_loopback's Call always sends application/json).
  HttpResult Post(const std::string& target, const std::string& body,
                  const std::string& content_type = "application/x-www-form-urlencoded") {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    http::request<http::string_body> req(http::verb::post, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return {static_cast<int>(res.result_int()), res.body()};
  }
  // The venue code of an error answer (0 when the body is not one).
  int64_t ErrorCode(const std::string& body) {
    auto e = codec.ParseError(body);
    return e ? e->code : 0;
  }
};

// The next text frame whose classification matches (others skipped).
inline std::optional<std::string> NextOf(WsClient& ws, lt::Codec& codec, lt::WsType type,
                                         lt::ChannelKind kind,
                                         std::chrono::milliseconds limit = 3s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = ws.Read(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now() + 1ms));
    if (!f) return std::nullopt;
    lt::WsFrameInfo info;
    REQUIRE(codec.ClassifyWsFrame(f->bytes, &info).ok());
    if (info.type == type && info.channel_kind == kind) return f->bytes;
  }
  return std::nullopt;
}

// Signs for one API key of one account; the caller passes nonces (the sim's nextNonce).
struct Trader {
  lt::PrivateKey key;
  int64_t account = 0;
  uint8_t api_key = 0;
  uint32_t chain = lt::kMainnetChainId;
  const Sim* sim = nullptr;

  static Trader Make(const Sim& s, const char* private_key, int64_t account, uint8_t api_key) {
    auto k = lt::PrivateKey::FromHex(private_key);
    REQUIRE(k.ok());
    return Trader{std::move(*k), account, api_key, lt::kMainnetChainId, &s};
  }

  // A limit order (GTT / post-only get a 28-day expiry, IOC none) or a market order.
  lt::CreateOrderTx Order(int64_t nonce, int16_t market, int64_t client_index, int64_t base,
                          uint32_t price, bool ask,
                          lt::TimeInForce tif = lt::TimeInForce::kGoodTillTime,
                          lt::OrderType type = lt::OrderType::kLimit) const {
    lt::CreateOrderTx tx;
    tx.account_index = account;
    tx.api_key_index = api_key;
    tx.market_index = market;
    tx.client_order_index = client_index;
    tx.base_amount = base;
    tx.price = price;
    tx.is_ask = ask;
    tx.type = type;
    tx.time_in_force = type == lt::OrderType::kMarket ? lt::TimeInForce::kImmediateOrCancel : tif;
    tx.order_expiry = tx.time_in_force == lt::TimeInForce::kImmediateOrCancel
                          ? 0
                          : sim->NowMs() + lt::kDefaultGttExpiryMs;
    tx.expired_at = sim->NowMs() + lt::kDefaultTxExpiryMs;
    tx.nonce = nonce;
    return tx;
  }
  lt::CancelOrderTx Cancel(int64_t nonce, int16_t market, int64_t index) const {
    lt::CancelOrderTx tx;
    tx.account_index = account;
    tx.api_key_index = api_key;
    tx.market_index = market;
    tx.index = index;
    tx.expired_at = sim->NowMs() + lt::kDefaultTxExpiryMs;
    tx.nonce = nonce;
    return tx;
  }
  lt::CancelAllOrdersTx CancelAll(int64_t nonce) const {
    lt::CancelAllOrdersTx tx;
    tx.account_index = account;
    tx.api_key_index = api_key;
    tx.expired_at = sim->NowMs() + lt::kDefaultTxExpiryMs;
    tx.nonce = nonce;
    return tx;
  }
  lt::ModifyOrderTx Modify(int64_t nonce, int16_t market, int64_t index, int64_t base,
                           uint32_t price) const {
    lt::ModifyOrderTx tx;
    tx.account_index = account;
    tx.api_key_index = api_key;
    tx.market_index = market;
    tx.index = index;
    tx.base_amount = base;
    tx.price = price;
    tx.expired_at = sim->NowMs() + lt::kDefaultTxExpiryMs;
    tx.nonce = nonce;
    return tx;
  }
  template <typename Tx>
  lt::SignedTx Sign(const Tx& tx) const {
    auto s = lt::SignTx(tx, chain, key);
    REQUIRE(s.ok());
    return *s;
  }
  std::string Token(int64_t lifetime_s = 3600) const {
    auto t = lt::MakeAuthToken(sim->NowMs() / 1000 + lifetime_s, account, api_key, key);
    REQUIRE(t.ok());
    return *t;
  }
  std::vector<std::pair<std::string, std::string>> Auth() const {
    return {{"Authorization", Token()}};
  }
};

}  // namespace perpgw::sim::lighter::testing
