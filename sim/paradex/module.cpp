// Paradex module: default catalogue and test accounts, timers, endpoints, faults and injected
// error bodies. REST lives in rest.cpp, WebSocket and event fan-out in ws.cpp.
#include "sim/paradex/module.h"

#include "adapters/paradex/signing.h"

namespace perpgw::sim::paradex {
namespace {

namespace px = perpgw::adapters::paradex;

InstrumentSpec Spec(const char* symbol, const char* base, const char* tick, const char* step,
                    const char* mid, int max_leverage) {
  InstrumentSpec s;
  s.symbol = symbol;
  s.base = base;
  s.quote = "USD";  // quoted in USD, settled in USDC
  s.tick = tick;
  s.step = step;
  s.min_qty = s.step;
  s.min_notional = "10";  // /markets min_notional (USD)
  s.mid = mid;
  s.funding_rate = "0.0001";      // per 8 h period
  s.funding_interval_hours = 8;   // funding_period_hours (accrual is continuous on the venue)
  s.max_leverage = max_leverage;  // 1 / imf_base
  return s;
}

AccountSpec Account(const char* id, const char* address, const char* key) {
  AccountSpec a;
  a.id = id;
  a.asset = "USDC";
  a.balance = "100000";
  a.maker_fee = "0.0000";  // API maker fee 0 bps (the venue's retail schedule)
  a.taker_fee = "0.0002";  // 2 bps
  a.credentials["account"] = address;
  a.credentials["stark_private_key"] = key;
  auto k = px::StarkKey::FromPrivateHex(key);
  a.credentials["public_key"] = k.ok() ? k->public_key().ToHex() : "";
  return a;
}

}  // namespace

ParadexModule::ParadexModule() = default;
ParadexModule::~ParadexModule() = default;

std::unique_ptr<VenueModule> MakeModule() {
  return std::make_unique<ParadexModule>();
}

std::vector<InstrumentSpec> ParadexModule::DefaultInstruments() const {
  return {
      Spec("BTC-USD-PERP", "BTC", "0.1", "0.001", "97250.0", 50),
      Spec("ETH-USD-PERP", "ETH", "0.01", "0.001", "3419.87", 50),
      Spec("SOL-USD-PERP", "SOL", "0.001", "0.01", "182.331", 20),
      // One contract unit = 1000 BONK ("k" prefix).
      [] {
        InstrumentSpec s = Spec("kBONK-USD-PERP", "kBONK", "0.000001", "1", "0.028776", 10);
        s.multiplier = 1000;
        return s;
      }(),
  };
}

// The one table of synthetic per-market activity. Illustrative sizes, not the venue's figures,
// except BTC: the spec's rest_markets_summary.json capture (volume_24h 5815541.40 USD,
// open_interest 162.272 BTC at mark 68465.17 = 11.11M USD, total_volume 584M USD) gives the
// scale. Its ratios are kept for every market: open interest ~1.9 days of volume, lifetime
// volume ~100 days. Markets from a config (not listed here) get 1M USD a day.
MarketBaseline BaselineFor(const SimInstrument& in) {
  const std::string& base = in.spec.base;
  int64_t usd = 1'000'000;
  if (base == "BTC") {
    usd = 5'815'541;
  } else if (base == "ETH") {
    usd = 3'000'000;
  } else if (base == "SOL") {
    usd = 1'500'000;
  } else if (base == "kBONK") {
    usd = 400'000;
  }
  MarketBaseline b;
  b.daily_volume = usd * int64_t{100'000'000};
  b.oi_usd = b.daily_volume / 10 * 19;
  return b;
}

std::vector<AccountSpec> ParadexModule::DefaultAccounts() const {
  return {Account(kAccount1, kAddress1, kKey1), Account(kAccount2, kAddress2, kKey2),
          Account(kAccount3, kAddress3, kSubkey3)};
}

// Every key registered to the account, its own key first: plain /auth must be signed by that
// one, /auth/{key} and orders by any. paradex-3's credentials carry a subkey; the account's own
// key (kMainKey3) stays inside the sim, as a main key would with a trading-only subkey. Accounts
// from a config have the one key of their credentials.
std::vector<px::Felt> ParadexModule::RegisteredKeys(const AccountSpec& a) {
  std::vector<px::Felt> keys;
  auto addr = a.credentials.find("account");
  if (addr != a.credentials.end() && addr->second == kAddress3) {
    static const absl::StatusOr<px::StarkKey> main_key = px::StarkKey::FromPrivateHex(kMainKey3);
    if (main_key.ok()) keys.push_back(main_key->public_key());
  }
  auto it = a.credentials.find("public_key");
  if (it != a.credentials.end()) {
    auto k = px::ParseFelt(it->second);
    if (k.ok()) keys.push_back(*k);
  }
  return keys;
}

void ParadexModule::Attach(SimContext& ctx) {
  ctx_ = &ctx;
  started_ = ctx.Now();
  const Market& m = ctx.market();
  markets_.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    markets_[i].last_price = m.mid(i);
    SampleFundingIndex(i);  // funding_index 0 at start, accruing at the start rate and mark
  }
  EventLoop& loop = ctx.loop();
  using std::chrono::milliseconds;
  // Book feeds are throttled: one message per 50 ms (or 100 ms) per market.
  loop.RunEvery(milliseconds(50), [this] { FlushBooks(); });
  loop.RunEvery(milliseconds(1000), [this] {
    PushSummaries();
    PushFunding();
  });
}

void ParadexModule::DescribeEndpoints(VenueEndpoints& out) const {
  out.urls["rest"] = out.rest_url + "/v1";
  out.urls["ws"] = out.ws_url + "/v1";
  out.extra["starknet_chain_id"] = kChainId;
  out.extra["auth"] =
      "POST /v1/auth with PARADEX-STARKNET-ACCOUNT / -SIGNATURE / -TIMESTAMP / "
      "-SIGNATURE-EXPIRATION (Stark typed data rev 0) -> ES384 JWT, 300 s; Bearer on private "
      "REST, WS auth {bearer}";
  out.extra["sbe"] = "ws /v1?sbeSchemaId=1&sbeSchemaVersion=0|1|2 (public channels binary)";
}

const AccountSpec* ParadexModule::AccountByAddress(std::string_view address) const {
  auto want = px::ParseFelt(address);
  if (!want.ok()) return nullptr;
  for (const AccountSpec& a : ctx_->accounts()) {
    auto it = a.credentials.find("account");
    if (it == a.credentials.end()) continue;
    auto have = px::ParseFelt(it->second);
    if (have.ok() && *have == *want) return &a;
  }
  return nullptr;
}

std::string ParadexModule::AddressOf(const std::string& account_id) const {
  for (const AccountSpec& a : ctx_->accounts()) {
    if (a.id == account_id) return a.credentials.at("account");
  }
  return account_id;  // not one of the module's accounts (a config without addresses)
}

int64_t ParadexModule::NowMs() const {
  return ToMs(ctx_->Now());
}

void ParadexModule::HandleHttp(const HttpRequest& req, HttpResponse& resp) {
  Route(req, resp);
}

bool ParadexModule::OnFault(const FaultRequest& fault, FaultResult& result) {
  if (fault.kind == "expire_token") {
    // Every JWT issued so far is refused from now on (401 on REST). Open WS connections stay
    // authenticated: the venue checks the bearer once per connection.
    first_valid_jti_ = jwt_.next_jti();
    result.affected = 1;
    return true;
  }
  if (fault.kind == "jwt_ttl") {
    int64_t s = fault.GetInt("seconds", -1);
    if (s <= 0 || s > 86400) {
      result.error = "jwt_ttl needs seconds in [1, 86400]";
      return true;
    }
    jwt_ttl_s_ = s;
    result.affected = 1;
    return true;
  }
  if (fault.kind == "sbe_refuse") {
    int64_t n = fault.GetInt("count", 1);
    if (n <= 0) {
      result.error = "sbe_refuse needs count > 0";
      return true;
    }
    sbe_refusals_ = static_cast<int>(n);
    result.affected = static_cast<int>(n);
    return true;
  }
  return false;
}

void ParadexModule::FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
  ApiError e{status, "INTERNAL_ERROR", "internal error"};
  if (status == 429) {
    e = {status, "RATE_LIMIT_EXCEEDED", "rate limit exceeded"};
  } else if (status == 401) {
    e = {status, "UNAUTHORIZED_ERROR", "missing or malformed jwt"};
  } else if (status == 404) {
    e = {status, "NOT_FOUND", "not found"};
  } else if (status == 503) {
    e = {status, "SERVICE_UNAVAILABLE", "service unavailable"};
  } else if (status < 500) {
    e = {status, "VALIDATION_ERROR", "invalid request"};
  }
  WriteError(resp, e);
}

std::string ParadexModule::VenueOrderId(uint64_t engine_id) const {
  return paradex::VenueOrderId(engine_id);
}

}  // namespace perpgw::sim::paradex
