// Aster module: default catalogue and test accounts, timers, endpoints, faults and injected
// error bodies. REST lives in rest.cpp, WebSocket and event fan-out in ws.cpp.
#include "sim/aster/module.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "adapters/aster/signing.h"
#include "sim/aster/internal.h"

namespace perpgw::sim::aster {
namespace {

constexpr UnixNanos kHourNs = 3600LL * 1000 * 1000 * 1000;

InstrumentSpec Spec(const char* symbol, const char* base, const char* tick, const char* step,
                    const char* min_qty, const char* mid, const char* rate, int hours,
                    int max_leverage, int64_t multiplier = 1) {
  InstrumentSpec s;
  s.symbol = symbol;
  s.base = base;
  s.quote = "USDT";
  s.tick = tick;
  s.step = step;
  s.min_qty = min_qty;
  s.min_notional = "5";
  s.mid = mid;
  s.funding_rate = rate;
  s.funding_interval_hours = hours;
  s.max_leverage = max_leverage;
  s.multiplier = multiplier;
  return s;
}

Money Usdt(int64_t units) { return units * 100000000LL; }

}  // namespace

SymbolExtra ExtraFor(const SimInstrument& in) {
  SymbolExtra e;
  const std::string& s = in.symbol();
  e.name = in.spec.base;
  e.price_precision = in.price_scale;
  e.qty_precision = in.size_scale;
  e.min_price = in.spec.tick;
  e.max_price = "1000000";
  e.max_qty = "1000000";
  e.market_max_qty = "100000";
  e.max_notional = "1000000";
  e.daily_quote_volume = Usdt(5000000);
  if (s == "BTCUSDT") {
    e = {"Bitcoin", 1, 3, "1", "1000000", "1000", "120", "10000000", Usdt(920000000),
         1627628400000};
  } else if (s == "ETHUSDT") {
    e = {"Ethereum", 2, 3, "0.01", "100000", "10000", "2000", "5000000", Usdt(410000000),
         1627628400000};
  } else if (s == "SOLUSDT") {
    // pricePrecision 4 with a 0.01 tick (as on the real venue): 182.351 is a tick error
    // (-4014), 182.35001 a precision error (-1111).
    e = {"Solana", 4, 2, "0.01", "20000", "1000000", "50000", "2000000", Usdt(120000000),
         1630045468108};
  } else if (s == "1000PEPEUSDT") {
    e = {"Pepe", 7, 0, "0.0000010", "200", "35000000", "1000000", "500000", Usdt(35000000),
         1683158400000, "1.0300", "0.9700"};
  } else if (s == "SUSHIUSDT") {
    e = {"Sushi", 4, 0, "0.0001", "2000", "5000000", "500000", "200000", Usdt(1800000),
         1700000000000, "1.1000", "0.9000"};
  }
  e.price_precision = std::max(e.price_precision, in.price_scale);
  e.qty_precision = std::max(e.qty_precision, in.size_scale);
  return e;
}

std::string DecimalAt(Decimal d, int scale) {
  auto v = d.ToScaled(scale, Rounding::kHalfEven);
  return Fixed(v.ok() ? *v : 0, scale);
}

AsterModule::AsterModule() = default;
AsterModule::~AsterModule() = default;

std::unique_ptr<VenueModule> MakeModule() { return std::make_unique<AsterModule>(); }

std::vector<InstrumentSpec> AsterModule::DefaultInstruments() const {
  return {
      Spec("BTCUSDT", "BTC", "0.1", "0.001", "0.001", "97250.0", "0.0001", 8, 125),
      Spec("ETHUSDT", "ETH", "0.01", "0.001", "0.001", "3420.50", "0.0001", 8, 100),
      Spec("SOLUSDT", "SOL", "0.01", "0.01", "0.01", "182.35", "0.00005", 4, 75),
      // Price per 1000 PEPE, size in lots of 1000; tick keeps the venue's trailing zero.
      Spec("1000PEPEUSDT", "1000PEPE", "0.0000010", "1", "1", "0.011234", "0.0000125", 1, 50,
           1000),
      // Small caps settle hourly at the prorated baseline (0.01 % / 8 h).
      Spec("SUSHIUSDT", "SUSHI", "0.0001", "1", "1", "0.2394", "0.0000125", 1, 20),
  };
}

std::vector<AccountSpec> AsterModule::DefaultAccounts() const {
  // Both key sets are the worked examples printed in the Aster docs: throwaway, public.
  AccountSpec v1;
  v1.id = kV1Account;
  v1.credentials = {
      {"auth_scheme", "v1"},
      {"api_key", "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"},
      {"api_secret", "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"},
  };
  AccountSpec v3;
  v3.id = kV3Account;
  const std::string agent_key = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1";
  std::string signer = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0";
  if (auto k = adapters::aster::EvmSigner::FromPrivateKeyHex(agent_key); k.ok()) {
    signer = k->address();
  }
  v3.credentials = {
      {"auth_scheme", "v3"},
      {"user", "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"},
      {"signer", signer},
      {"private_key", agent_key},
  };
  // A V3 account whose key signs for itself (user == signer == the key's address): what a
  // standard V3 client (ccxt) does with one private key. The key is the public Hardhat/Foundry
  // test account #1: throwaway, never funded anywhere that matters.
  AccountSpec main;
  main.id = kV3MainAccount;
  const std::string main_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
  std::string main_address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  if (auto k = adapters::aster::EvmSigner::FromPrivateKeyHex(main_key); k.ok()) {
    main_address = k->address();
  }
  main.credentials = {
      {"auth_scheme", "v3"},
      {"user", main_address},
      {"signer", main_address},
      {"private_key", main_key},
  };
  return {v1, v3, main};
}

void AsterModule::Attach(SimContext& ctx) {
  ctx_ = &ctx;
  auth_ = std::make_unique<Authenticator>(ctx.accounts(), kChainId);
  started_ = ctx.Now();
  const Market& m = ctx.market();
  symbols_.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    const SimInstrument& in = m.instrument(i);
    SymbolState& s = symbols_[i];
    s.stream = LowerAscii(in.symbol());
    stream_symbol_[s.stream] = static_cast<int>(i);
    s.last_change = started_;
    s.stats.open = s.stats.high = s.stats.low = m.mid(i);
    // Ten past settlements on the symbol's grid so clients can infer the interval from history.
    const UnixNanos interval = in.spec.funding_interval_hours * kHourNs;
    for (int k = 10; k >= 1; --k) {
      s.funding.push_back({in.funding_rate, ToMs(ctx.NextFundingTime(i) - k * interval)});
    }
  }
  EventLoop& loop = ctx.loop();
  using std::chrono::milliseconds;
  loop.RunEvery(milliseconds(100), [this] { FlushDepth(0); });
  loop.RunEvery(milliseconds(250), [this] {
    FlushDepth(1);
    PushKlines();
    CheckMarginCalls();
  });
  loop.RunEvery(milliseconds(500), [this] {
    FlushDepth(2);
    PushTickers(true);
  });
  loop.RunEvery(milliseconds(1000), [this] {
    PushMarkPrices(0);
    PushTickers(false);
    CheckListenKeys();
  });
  loop.RunEvery(milliseconds(3000), [this] { PushMarkPrices(1); });
}

void AsterModule::DescribeEndpoints(VenueEndpoints& out) const {
  out.urls["rest"] = out.rest_url;
  out.urls["ws_market"] = out.ws_url + "/stream";
  out.urls["ws_raw"] = out.ws_url + "/ws";
  out.urls["ws_user"] = out.ws_url + "/ws/<listenKey>";
  out.extra["chain_id"] = std::to_string(kChainId);
  out.extra["auth"] =
      "v1: X-MBX-APIKEY + HMAC-SHA256 on /fapi/v1|v2|v4; v3: nonce/user/signer + EIP-712 on "
      "/fapi/v3";
}

int64_t AsterModule::NowMs() const { return ToMs(ctx_->Now()); }

int AsterModule::SymbolIndex(std::string_view symbol) const {
  const SimInstrument* in = ctx_->market().Find(symbol);
  return in == nullptr ? -1 : static_cast<int>(in->index);
}

void AsterModule::HandleHttp(const HttpRequest& req, HttpResponse& resp) {
  Route(req, resp);
  // Request weight per minute (reported like the venue; not enforced so benchmarks can push).
  const int64_t minute = NowMs() / 60000;
  if (minute != weight_minute_) {
    weight_minute_ = minute;
    weight_used_ = 0;
  }
  int weight = 1;
  if (req.path.find("depth") != std::string::npos) {
    int limit = std::atoi(req.Query("limit").c_str());
    weight = limit <= 50 && limit > 0 ? 2 : limit <= 100 && limit > 0 ? 5 : limit <= 500 ? 10 : 20;
  } else if (req.path.find("balance") != std::string::npos ||
             req.path.find("account") != std::string::npos ||
             req.path.find("positionRisk") != std::string::npos ||
             req.path.find("userTrades") != std::string::npos) {
    weight = 5;
  } else if (req.path.find("ticker/24hr") != std::string::npos && !req.HasQuery("symbol")) {
    weight = 40;
  }
  weight_used_ += weight;
  resp.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(weight_used_));
}

bool AsterModule::OnFault(const FaultRequest& fault, FaultResult& result) {
  if (fault.kind == "jump_seq" || fault.kind == "crossed_bbo") {
    const std::string sym = fault.Get("symbol");
    const SimInstrument* in = ctx_->market().Find(sym);
    if (in == nullptr || in->index >= symbols_.size()) {
      result.error = "unknown symbol '" + sym + "'";
      return true;
    }
    SymbolState& s = symbols_[in->index];
    if (fault.kind == "jump_seq") {
      const int64_t by = fault.GetInt("by", 1000000);
      if (by <= 0) {
        result.error = "jump_seq needs by > 0";
        return true;
      }
      s.jump_next = static_cast<uint64_t>(by);
    } else {
      s.cross_next_bbo = true;
    }
    result.affected = 1;
    return true;
  }
  if (fault.kind != "expire_token") return false;
  const std::string account = fault.Get("account");
  for (auto& [key, k] : keys_) {
    if (!k.active || (!account.empty() && k.account != account)) continue;
    ExpireKey(k);
    ++result.affected;
  }
  return true;
}

void AsterModule::FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
  ApiError e{status, -1000, "An unknown error occured while processing the request."};
  if (status == 429) {
    e.code = -1003;
    e.msg = "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.";
    resp.headers.emplace_back("Retry-After", "1");
  } else if (status == 418) {
    e.code = -1003;
    e.msg = "Way too many requests; IP(127.0.0.1) banned for 120 seconds.";
    resp.headers.emplace_back("Retry-After", "120");
  } else if (status == 401 || status == 403) {
    e.code = -2015;
    e.msg = "Invalid API-key, IP, or permissions for action.";
  } else if (status >= 500) {
    e.code = -1001;
    e.msg = "Internal error; unable to process your request. Please try again.";
  }
  WriteError(resp, e);
}

size_t AsterModule::active_listen_keys() const {
  size_t n = 0;
  for (const auto& [key, k] : keys_) n += k.active ? 1 : 0;
  return n;
}

}  // namespace perpgw::sim::aster
