// Backpack module: default catalogue and test accounts, timers, endpoints, faults and injected
// error bodies. REST lives in rest.cpp, WebSocket and event fan-out in ws.cpp.
#include "sim/backpack/module.h"

#include <algorithm>

#include "adapters/backpack/signing.h"
#include "sim/backpack/internal.h"

namespace perpgw::sim::backpack {
namespace {

constexpr UnixNanos kHourNs = 3600LL * 1000 * 1000 * 1000;

InstrumentSpec Spec(const char* symbol, const char* base, const char* tick, const char* step,
                    const char* mid, int max_leverage) {
  InstrumentSpec s;
  s.symbol = symbol;
  s.base = base;
  s.quote = "USDC";
  s.tick = tick;
  s.step = step;
  s.min_qty = s.step;  // Backpack's minQuantity equals the step on its perps
  // min_notional stays "0": the venue publishes no min-notional filter.
  s.mid = mid;
  s.funding_rate = "0.0000125";  // the venue's hourly baseline (0.01 % / 8 h)
  s.funding_interval_hours = 1;  // hourly since 2025-08-20 (fundingInterval 3600000)
  s.max_leverage = max_leverage;
  return s;
}

AccountSpec Account(const char* id, const char* seed) {
  AccountSpec a;
  a.id = id;
  a.asset = "USDC";
  a.balance = "100000";
  a.maker_fee = "0.0002";  // futuresMakerFee 2 bps
  a.taker_fee = "0.0005";  // futuresTakerFee 5 bps
  auto signer = adapters::backpack::Signer::FromSecretBase64(seed);
  a.credentials["api_secret"] = seed;
  a.credentials["api_key"] = signer.ok() ? signer->api_key() : "";
  return a;
}

}  // namespace

BackpackModule::BackpackModule() = default;
BackpackModule::~BackpackModule() = default;

std::unique_ptr<VenueModule> MakeModule() { return std::make_unique<BackpackModule>(); }

std::vector<InstrumentSpec> BackpackModule::DefaultInstruments() const {
  return {
      // Max leverage = 1 / imfFunction.base (BTC 0.01333 → 75x, 0.02 → 50x, 0.05 → 20x).
      Spec("BTC_USDC_PERP", "BTC", "0.1", "0.00001", "97268.3", 75),
      Spec("ETH_USDC_PERP", "ETH", "0.01", "0.0001", "3421.12", 50),
      Spec("SOL_USDC_PERP", "SOL", "0.01", "0.01", "182.38", 50),
      // Priced per 1000 PEPE ("k" prefix): one unit = 1000 tokens.
      [] {
        InstrumentSpec s = Spec("kPEPE_USDC_PERP", "kPEPE", "0.000001", "1", "0.011236", 20);
        s.multiplier = 1000;
        return s;
      }(),
  };
}

std::vector<AccountSpec> BackpackModule::DefaultAccounts() const {
  return {Account(kAccount1, kSeed1), Account(kAccount2, kSeed2)};
}

void BackpackModule::Attach(SimContext& ctx) {
  ctx_ = &ctx;
  started_ = ctx.Now();
  const Market& m = ctx.market();
  symbols_.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    const SimInstrument& in = m.instrument(i);
    SymbolState& s = symbols_[i];
    s.last_id = m.update_id(i);
    s.stats.open = s.stats.high = s.stats.low = s.stats.last = m.mid(i);
    s.candles_1s.OnPrice(ctx.Now() / 1'000'000, m.mid(i));  // klines start with the opening mid
    s.candles_1m.OnPrice(ctx.Now() / 1'000'000, m.mid(i));
    // Ten past settlements on the symbol's grid so /fundingRates has history from the start.
    const UnixNanos interval = in.spec.funding_interval_hours * kHourNs;
    for (int k = 10; k >= 1; --k) {
      s.funding.push_back({in.funding_rate, ctx.NextFundingTime(i) - k * interval});
    }
  }
  for (const auto& a : ctx.accounts()) ApplyLeverageLimit(a.id, 10);  // account.json default
  // §8.1: a resting reduce-only order shrinks when the position shrinks below it (orderModified)
  // and goes when the position is flat or flips (orderExpired, ReduceOnlyNotReduced — the
  // expiry reason the venue gives a reduce-only order it cannot fill; the spec does not say
  // which the venue sends for this case).
  ctx.engine().SetReduceOnlyShrink(true);
  EventLoop& loop = ctx.loop();
  using std::chrono::milliseconds;
  loop.RunEvery(milliseconds(200), [this] { FlushAggregated(0); });
  loop.RunEvery(milliseconds(600), [this] { FlushAggregated(1); });
  loop.RunEvery(milliseconds(1000), [this] {
    FlushAggregated(2);
    PushMarkPrices();
    PushTickers();
    PushKlines();
  });
  // The venue pushes openInterest.<symbol> every 60 s.
  loop.RunEvery(milliseconds(60000), [this] { PushOpenInterest(); });
}

void BackpackModule::DescribeEndpoints(VenueEndpoints& out) const {
  out.urls["rest"] = out.rest_url;
  out.urls["ws"] = out.ws_url;  // one endpoint, no path; streams via SUBSCRIBE frames
  out.extra["auth"] =
      "Ed25519: X-API-Key (base64 public key), X-Signature over "
      "instruction=<name>&<sorted params>&timestamp=&window=, X-Timestamp, X-Window (<= 60000)";
  out.extra["funding_interval_ms"] = "3600000";
}

int64_t BackpackModule::NowMs() const { return ToMs(ctx_->Now()); }

int64_t BackpackModule::MaxLeverage(const SimInstrument& in) const { return in.spec.max_leverage; }

void BackpackModule::ApplyLeverageLimit(const std::string& account, int limit) {
  leverage_limit_[account] = limit;
  // Backpack's leverage is account-wide; the engine keeps it per symbol, capped by each market.
  for (const auto& in : ctx_->market().instruments()) {
    int lev = static_cast<int>(std::min<int64_t>(limit, MaxLeverage(in)));
    (void)ctx_->engine().SetLeverage(account, in.symbol(), std::max(1, lev));
  }
}

void BackpackModule::HandleHttp(const HttpRequest& req, HttpResponse& resp) { Route(req, resp); }

bool BackpackModule::OnFault(const FaultRequest& fault, FaultResult& result) {
  if (fault.kind != "expire_token") return false;
  // Every Backpack request is signed on its own (Ed25519 over the request + timestamp/window):
  // there is no session token, listen key or JWT that could expire.
  result.error =
      "expire_token does not apply to backpack: there is no session token (every request and "
      "private subscribe is Ed25519-signed with its own timestamp/window); use a stale "
      "X-Timestamp to exercise 'Request has expired'";
  return true;
}

std::string BackpackModule::VenueOrderId(uint64_t engine_id) const {
  return backpack::VenueOrderId(engine_id);
}

void BackpackModule::FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
  ApiError e{status, "SERVER_ERROR", "Internal server error"};
  if (status == 429) {
    e = {status, "TOO_MANY_REQUESTS", "Too many requests"};
  } else if (status == 401) {
    e = {status, "UNAUTHORIZED", "Unauthorized"};
  } else if (status == 403) {
    e = {status, "FORBIDDEN", "Forbidden"};
  } else if (status == 404) {
    e = {status, "RESOURCE_NOT_FOUND", "Not found"};
  } else if (status == 408 || status == 504) {
    e = {status, "TIMEOUT", "Request timed out"};
  } else if (status == 503) {
    e = {status, "MAINTENANCE", "Service is under maintenance"};
  } else if (status < 500) {
    e = {status, "INVALID_CLIENT_REQUEST", "Invalid request"};
  }
  WriteError(resp, e);
}

}  // namespace perpgw::sim::backpack
