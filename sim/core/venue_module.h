// The contract between the sim core and a venue protocol module (sim/<venue>/): the module speaks
// the venue's REST/WS wire format; the core owns sockets, the market, the engine and faults.
#pragma once

#include <chrono>
#include <deque>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api/clock.h"
#include "sim/core/candles.h"
#include "sim/core/engine.h"
#include "sim/core/json.h"
#include "sim/core/loop.h"
#include "sim/core/market.h"
#include "sim/core/net.h"
#include "sim/core/types.h"

namespace perpgw::sim {

// What the endpoints file says about one venue. The core fills rest_url/ws_url
// ("http://127.0.0.1:PORT", "ws://127.0.0.1:PORT"); a module adds named URLs (e.g.
// {"ws_public": ws_url + "/stream"}) and free-form extra fields (chain id, ...).
struct VenueEndpoints {
  std::string rest_url;
  std::string ws_url;
  std::map<std::string, std::string> urls;
  std::map<std::string, std::string> extra;
};

// A POST /fault body: kind plus every other field as text (see ParseJsonObject).
struct FaultRequest {
  std::string kind;
  JsonFields params;
  std::string Get(std::string_view key, std::string_view fallback = {}) const;
  int64_t GetInt(std::string_view key, int64_t fallback) const;
};

struct FaultResult {
  int affected = 0;      // connections / symbols / requests the fault touched
  std::string error;     // non-empty: the request was bad (HTTP 400 with this message)
};

// Handed to a module in Attach(); valid for the module's lifetime. Loop thread only.
class SimContext {
 public:
  virtual ~SimContext() = default;
  virtual const std::string& venue() const = 0;
  virtual Market& market() = 0;
  virtual Engine& engine() = 0;
  virtual const Clock& clock() const = 0;
  UnixNanos Now() const { return clock().Now(); }
  // Timers and Post for modules (listen-key expiry, heartbeats, deferred work).
  virtual EventLoop& loop() = 0;
  // The venue's test accounts (also registered in engine()).
  virtual const std::vector<AccountSpec>& accounts() const = 0;
  // The account whose credentials[key] == value (api key → account), or nullptr.
  const AccountSpec* FindAccountByCredential(std::string_view key, std::string_view value) const;
  // Open WebSocket connections of this venue, in id order.
  virtual std::vector<WsConnPtr> connections() const = 0;
  // Filled once the listener is bound (before the endpoints file is written).
  virtual const VenueEndpoints& endpoints() const = 0;
  // Deterministic per-venue seed for module-side randomness.
  virtual uint64_t seed() const = 0;
  // Settles funding on instrument i now (engine + OnFunding) at the market's current rate.
  virtual void SettleFunding(size_t i) = 0;
  // Next scheduled funding time of instrument i (aligned to its interval since the epoch).
  virtual UnixNanos NextFundingTime(size_t i) const = 0;
  // The latest public trades of instrument i (at most kRecentTradesKept), oldest first: what the
  // venues' recent-trades REST endpoints list.
  static constexpr size_t kRecentTradesKept = 1000;
  virtual const std::deque<PublicTrade>& RecentTrades(size_t i) const = 0;
  // One-minute candles of instrument i since the venue started (mid + public trades).
  virtual const CandleSeries& Candles(size_t i) const = 0;
};

// One venue's wire protocol. All calls happen on the sim's single loop thread.
class VenueModule {
 public:
  virtual ~VenueModule() = default;
  // Registry name ("aster"); also the venue key in the control API and endpoints file.
  virtual std::string name() const = 0;
  // Default catalogue and accounts (a config file may replace either).
  virtual std::vector<InstrumentSpec> DefaultInstruments() const = 0;
  virtual std::vector<AccountSpec> DefaultAccounts() const = 0;

  // Called once, after the market/engine exist and before the listener accepts connections.
  virtual void Attach(SimContext& ctx) = 0;
  // Adds module URLs/fields to the endpoints file (ctx.endpoints() already has the base URLs).
  virtual void DescribeEndpoints(VenueEndpoints& out) const {}
  // The venue's WebSocket keepalive (server pings, pong deadline, idle close); none by default.
  struct WsKeepalive {
    std::chrono::milliseconds ping_interval{0}, pong_timeout{0}, idle_timeout{0};
  };
  virtual WsKeepalive Keepalive() const { return {}; }

  // REST. Synchronous; injected latency / HTTP errors are applied by the core around it.
  virtual void HandleHttp(const HttpRequest& req, HttpResponse& resp) = 0;

  // WebSocket. Return false (and fill reject) to refuse an upgrade (wrong path, bad auth).
  virtual bool AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) { return true; }
  virtual void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {}
  virtual void OnWsText(const WsConnPtr& conn, std::string_view text) {}
  virtual void OnWsClose(const WsConnPtr& conn) {}

  // Market and account events. Do not place orders from inside these callbacks.
  virtual void OnBookChange(const BookChange& change) {}
  virtual void OnTrade(const PublicTrade& trade) {}
  virtual void OnAccountEvent(const AccountEvent& event) {}
  virtual void OnFunding(const FundingEvent& event) {}

  // Faults. Called first for every POST /fault on this venue: return true when the module
  // handled the kind itself (e.g. "expire_token", or its own take on a generic kind); false lets
  // the core apply its generic handling (unknown kinds are then a 400).
  virtual bool OnFault(const FaultRequest& fault, FaultResult& result) { return false; }
  // Body of an injected http_error response, in the venue's error format.
  // The order id as the venue's own API shows it (the control API lists both), e.g. Backpack
  // offsets engine ids into its 64-bit id space.
  virtual std::string VenueOrderId(uint64_t engine_id) const { return std::to_string(engine_id); }
  virtual void FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
    resp.Json(status, R"({"code":)" + std::to_string(status) + R"(,"msg":"injected fault"})");
  }
};

}  // namespace perpgw::sim
