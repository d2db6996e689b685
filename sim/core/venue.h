// One running venue inside the sim: its module, market, engine, listener, WS connections and
// generic fault state. Implements SimContext for the module and HttpHandler for the listener.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/config.h"
#include "sim/core/venue_module.h"

namespace perpgw::sim {

class Venue final : public SimContext, public HttpHandler {
 public:
  Venue(std::unique_ptr<VenueModule> module, std::vector<SimInstrument> instruments,
        std::vector<AccountSpec> accounts, const SimConfig& config, const VenueConfig& vc,
        uint64_t seed, EventLoop& loop, const Clock& clock);
  ~Venue() override;

  absl::Status Init();   // accounts into the engine, module Attach
  absl::Status Listen(const std::string& host, size_t ws_queue_limit);
  void StartTimers(bool funding_timer);
  void Shutdown();

  VenueModule& module() { return *module_; }
  int port() const { return port_; }
  double rate() const { return rate_; }
  void set_rate(double r);
  // Applies a POST /fault body for this venue.
  FaultResult ApplyFault(const FaultRequest& f);

  // SimContext
  const std::string& venue() const override { return name_; }
  Market& market() override { return market_; }
  Engine& engine() override { return engine_; }
  const Clock& clock() const override { return clock_; }
  EventLoop& loop() override { return loop_; }
  const std::vector<AccountSpec>& accounts() const override { return accounts_; }
  std::vector<WsConnPtr> connections() const override;
  const VenueEndpoints& endpoints() const override { return endpoints_; }
  uint64_t seed() const override { return seed_; }
  void SettleFunding(size_t i) override;
  UnixNanos NextFundingTime(size_t i) const override { return next_funding_[i]; }
  const std::deque<PublicTrade>& RecentTrades(size_t i) const override {
    return recent_trades_[i];
  }
  const CandleSeries& Candles(size_t i) const override { return candles_[i]; }

  // REST requests served so far, by "METHOD /path" (the control API's /venues shows them, so
  // a test can tell one batch request from several single ones). At most kMaxRequestKeys
  // distinct paths are counted by name; the rest count under "other".
  static constexpr size_t kMaxRequestKeys = 256;
  const std::map<std::string, uint64_t>& requests() const { return requests_; }

  // HttpHandler
  void OnHttp(const HttpRequest& req, Respond respond) override;
  bool OnWsUpgrade(const HttpRequest& req, HttpResponse* reject) override;
  void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) override;
  void OnWsText(const WsConnPtr& conn, std::string_view text) override;
  void OnWsClose(const WsConnPtr& conn) override;

 private:
  struct HttpFault {
    int status = 0;
    int remaining = 0;
    std::string path_prefix;
    std::string method;       // empty: any method
    bool ws_upgrade = false;  // applies to WebSocket upgrade requests only (not to REST)
  };
  struct LatencyFault {
    int ms = 0;
    int remaining = 0;
    std::string path_prefix;
    std::string method;  // empty: any method
  };
  void GeneratorTick();
  void TradeTick();
  void FundingTick();
  std::vector<WsConnPtr> Matching(const FaultRequest& f) const;

  std::string name_;
  std::unique_ptr<VenueModule> module_;
  std::vector<std::deque<PublicTrade>> recent_trades_;  // per instrument, oldest first
  std::vector<CandleSeries> candles_;                    // per instrument
  std::vector<AccountSpec> accounts_;
  EventLoop& loop_;
  const Clock& clock_;
  uint64_t seed_;
  int config_port_;
  double rate_;
  Market market_;
  Engine engine_;
  std::unique_ptr<Listener> listener_;
  int port_ = 0;
  VenueEndpoints endpoints_;
  std::map<uint64_t, WsConnPtr> conns_;
  std::map<std::string, uint64_t> requests_;
  std::vector<HttpFault> http_faults_;
  std::vector<LatencyFault> latency_faults_;
  std::vector<UnixNanos> next_funding_;
  TimerId generator_timer_ = 0;
  TimerId funding_timer_ = 0;
  bool keepalive_ = true;  // SimConfig::ws_keepalive
  // Generated public trades (SimConfig::trade_rate prints/s across the venue's symbols).
  double trade_rate_ = 0;
  TimerId trade_timer_ = 0;
  Prng trade_rng_;
  std::chrono::steady_clock::time_point gen_start_;
  uint64_t gen_emitted_ = 0;
};

}  // namespace perpgw::sim
