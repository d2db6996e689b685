// Lighter module: default catalogue, timers, endpoints, faults and injected error bodies. REST
// lives in rest.cpp, WebSocket and event fan-out in ws.cpp.
#include "sim/lighter/module.h"

#include <chrono>

namespace perpgw::sim::lighter {
namespace {

InstrumentSpec Spec(const char* symbol, int64_t market_id, const char* tick, const char* step,
                    const char* min_qty, const char* mid, int max_leverage) {
  InstrumentSpec s;
  s.symbol = symbol;  // the venue's `symbol` is the bare base asset
  s.base = symbol;
  s.quote = "USDC";
  s.tick = tick;  // 10^-price_decimals
  s.step = step;  // 10^-size_decimals
  s.min_qty = min_qty;
  s.min_notional = "10";  // min_quote_amount
  s.mid = mid;
  s.funding_rate = "0.00001";    // per hour
  s.funding_interval_hours = 1;  // settled every hour on the hour
  s.max_leverage = max_leverage;
  s.market_id = market_id;
  return s;
}

}  // namespace

LighterModule::LighterModule() = default;
LighterModule::~LighterModule() = default;

std::unique_ptr<VenueModule> MakeModule() {
  return std::make_unique<LighterModule>();
}

std::vector<InstrumentSpec> LighterModule::DefaultInstruments() const {
  // Market indexes as on the venue (ETH 0, BTC 1, SOL 2); decimals like its listings.
  return {
      Spec("ETH", 0, "0.01", "0.0001", "0.005", "3327.46", 50),
      Spec("BTC", 1, "0.1", "0.00001", "0.0002", "97250.0", 50),
      Spec("SOL", 2, "0.001", "0.001", "0.05", "181.905", 20),
  };
}

std::vector<AccountSpec> LighterModule::DefaultAccounts() const {
  // Step 1 serves market data only: accounts arrive with transactions (issue 15).
  return {};
}

void LighterModule::Attach(SimContext& ctx) {
  ctx_ = &ctx;
  const Market& m = ctx.market();
  markets_.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    markets_[i].last_price = m.mid(i);
    markets_[i].last_id = m.update_id(i);
  }
  using std::chrono::milliseconds;
  ctx.loop().RunEvery(milliseconds(kBookFlushMs), [this] { FlushBooks(); });
  ctx.loop().RunEvery(milliseconds(1000), [this] { PushStats(); });
  ctx.loop().RunEvery(milliseconds(1000), [this] { CloseIdle(); });
}

void LighterModule::DescribeEndpoints(VenueEndpoints& out) const {
  out.urls["rest"] = out.rest_url + "/api/v1";
  out.urls["ws"] = out.ws_url + "/stream";
  out.extra["markets"] = "market index = the instrument's market_id (ETH 0, BTC 1, SOL 2)";
  out.extra["not_modelled_yet"] =
      "transactions (sendTx), auth tokens, account endpoints and channels";
}

int64_t LighterModule::NowMs() const {
  return ctx_->Now() / 1'000'000;
}

const SimInstrument* LighterModule::ByMarketId(int64_t id) const {
  const Market& m = ctx_->market();
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.instrument(i).spec.market_id == id) return &m.instrument(i);
  }
  return nullptr;
}

void LighterModule::HandleHttp(const HttpRequest& req, HttpResponse& resp) {
  Route(req, resp);
}

bool LighterModule::OnFault(const FaultRequest& fault, FaultResult& result) {
  if (fault.kind == "idle_timeout") {
    // The venue closes connections that send nothing for 2 minutes; tests shorten it.
    int64_t ms = fault.GetInt("ms", -1);
    if (ms <= 0) {
      result.error = "idle_timeout needs ms > 0";
      return true;
    }
    idle_close_ms_ = ms;
    result.affected = 1;
    return true;
  }
  return false;
}

void LighterModule::FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
  (void)req;
  const char* msg = status == 429   ? "Too Many Requests"
                    : status == 405 ? "Not Allowed"
                    : status >= 500 ? "internal server error"
                                    : "invalid request";
  JsonWriter w;
  w.BeginObject().Field("code", status).Field("message", msg).EndObject();
  resp.Json(status, w.Take());
}

}  // namespace perpgw::sim::lighter
