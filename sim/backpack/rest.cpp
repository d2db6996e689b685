// Backpack REST: public market data under /api/v1 and the Ed25519-signed account/trading calls
// (/api/v1/order(s), position, capital, account; /wapi/v1/history/*). Shapes follow the recorded
// payloads field for field: decimals as strings, ids as strings, ms/µs/ISO times per the notes.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#include "adapters/backpack/signing.h"
#include "sim/backpack/internal.h"
#include "sim/backpack/module.h"

namespace perpgw::sim::backpack {
namespace {

namespace bp = perpgw::adapters::backpack;

constexpr Money kUsdc = 100000000LL;

}  // namespace

MarginFns MarginFor(const SimInstrument& in) {
  const std::string& s = in.symbol();
  if (s == "BTC_USDC_PERP") return {"0.01333", "0.00006", "0.0066", "0.000036", "500", 250000000 * kUsdc};
  if (s == "ETH_USDC_PERP") {
    return {"0.02", "0.0000935", "0.0125", "0.0000561", "5000", 120000000 * kUsdc};
  }
  if (s == "SOL_USDC_PERP") {
    return {"0.02", "0.0001275", "0.0125", "0.0000765", "4000000", 40000000 * kUsdc};
  }
  if (s == "kPEPE_USDC_PERP") {
    return {"0.05", "0.0005", "0.025", "0.0003", "100000000000", 2000000 * kUsdc};
  }
  // Other (configured) symbols: base IMF = 1 / max leverage (truncated to 5 places), MMF half.
  int64_t lev = std::max(1, in.spec.max_leverage);
  return {Trimmed(100000 / lev, 5), "0.0001", Trimmed(50000 / lev, 5), "0.00006", "1000000",
          5000000 * kUsdc};
}

namespace {

// quote (1e-8) / price (price_scale) → qty at size_scale.
int64_t QtyForQuote(const SimInstrument& in, Money quote, int64_t price) {
  if (price <= 0) return 0;
  __int128 num = static_cast<__int128>(quote);
  for (int k = 0; k < in.size_scale + in.price_scale; ++k) num *= 10;
  return static_cast<int64_t>(num / (static_cast<__int128>(price) * kUsdc));
}

std::string Ratio(Money num, Money den, int scale) {
  if (den == 0) return "0";
  auto d = Decimal::Div(Decimal::FromUnits(num, 0), Decimal::FromUnits(den, 0), scale,
                        Rounding::kHalfEven);
  return d.ok() ? d->ToNormalizedString() : "0";
}

void WriteMarginFn(JsonWriter& w, const char* key, const std::string& base,
                   const std::string& factor) {
  w.Key(key).BeginObject().Field("base", base).Field("factor", factor).Field("type", "sqrt");
  w.EndObject();
}

void Nulls(JsonWriter& w, std::initializer_list<const char*> keys) {
  for (const char* k : keys) w.Key(k).Null();
}

// A stable numeric userId per test account (the venue reports an integer).
int64_t UserId(const std::vector<AccountSpec>& accounts, const std::string& account) {
  for (size_t k = 0; k < accounts.size(); ++k) {
    if (accounts[k].id == account) return 1813870 + static_cast<int64_t>(k);
  }
  return 1813870;
}

ApiError Invalid(std::string message) { return {400, "INVALID_CLIENT_REQUEST", std::move(message)}; }

// "limit"/"offset" query values with the venue's defaults and caps.
bool Paging(const Params& p, int64_t def, int64_t max, int64_t* limit, int64_t* offset,
            ApiError* err) {
  *limit = def;
  *offset = 0;
  if (p.Has("limit")) {
    auto v = ParseUint64(p.Get("limit"));
    if (!v) {
      *err = Invalid("Invalid limit");
      return false;
    }
    *limit = static_cast<int64_t>(std::min<uint64_t>(*v, static_cast<uint64_t>(max)));
  }
  if (p.Has("offset")) {
    auto v = ParseUint64(p.Get("offset"));
    if (!v) {
      *err = Invalid("Invalid offset");
      return false;
    }
    *offset = static_cast<int64_t>(std::min<uint64_t>(*v, 1ULL << 40));
  }
  return true;
}

// A decimal order field at an instrument scale: distinguishes garbage from too many decimals.
bool ParseField(const std::string& text, int scale, const char* name, int64_t* out,
                ApiError* err) {
  auto d = Decimal::Parse(text);
  if (!d.ok()) {
    *err = Invalid(std::string("Invalid ") + name);
    return false;
  }
  auto v = ParseScaled(text, scale);
  if (!v.ok()) {
    // Backpack: "quantity decimal too long" style messages.
    *err = Invalid(std::string(name) + " decimal too long");
    (*err).message[0] = static_cast<char>(std::toupper((*err).message[0]));
    return false;
  }
  *out = *v;
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------- routing

void BackpackModule::Route(const HttpRequest& req, HttpResponse& resp) {
  std::string path = req.path;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  Params p;
  ApiError err;
  if (!ReadParams(req, &p, &err)) return WriteError(resp, err);
  static const char* kPublic[] = {"/api/v1/markets",      "/api/v1/market",  "/api/v1/depth",
                                  "/api/v1/markPrices",   "/api/v1/fundingRates",
                                  "/api/v1/tickers",      "/api/v1/ticker",  "/api/v1/openInterest",
                                  "/api/v1/time",         "/api/v1/ping",    "/api/v1/status",
                                  "/api/v1/trades",       "/api/v1/trades/history",
                                  "/api/v1/assets",       "/api/v1/collateral",
                                  "/api/v1/klines"};
  for (const char* pub : kPublic) {
    if (path == pub) {
      if (req.method != "GET") return WriteError(resp, {405, "INVALID_CLIENT_REQUEST", "Method not allowed"});
      return Public(path, req, p, resp);
    }
  }
  auto instruction = bp::InstructionFor(req.method, path);
  if (!instruction.ok()) {
    return WriteError(resp, {404, "RESOURCE_NOT_FOUND", "Not found: " + req.method + " " + path});
  }
  const AccountSpec* acct = Authenticate(ctx_->accounts(), req, *instruction, NowMs(), &err);
  if (acct == nullptr) return WriteError(resp, err);
  Private(*instruction, *acct, req, p, resp);
}

// -------------------------------------------------------------------------------- public

void BackpackModule::Public(const std::string& path, const HttpRequest& req, const Params& p,
                            HttpResponse& resp) {
  const Market& m = ctx_->market();
  auto symbol_arg = [&](bool required, const SimInstrument** out) -> bool {
    *out = nullptr;
    if (!p.Has("symbol")) {
      if (required) WriteError(resp, Invalid("Missing symbol"));
      return !required;
    }
    *out = m.Find(p.Get("symbol"));
    if (*out == nullptr) {
      WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
      return false;
    }
    return true;
  };
  const SimInstrument* in = nullptr;
  if (path == "/api/v1/time") {
    resp.status = 200;
    resp.content_type = "text/plain; charset=utf-8";
    resp.body = std::to_string(NowMs());
    return;
  }
  if (path == "/api/v1/ping") {
    resp.status = 200;
    resp.content_type = "text/plain; charset=utf-8";
    resp.body = "pong";
    return;
  }
  if (path == "/api/v1/status") return WriteJson(resp, R"({"status":"Ok","message":null})");
  if (path == "/api/v1/markets") {
    std::string type = p.Get("marketType");
    std::string out = "[";
    if (type.empty() || type == "PERP") {
      for (const auto& i : m.instruments()) {
        if (out.size() > 1) out += ',';
        out += MarketJson(i);
      }
    }
    return WriteJson(resp, out + "]");
  }
  if (path == "/api/v1/market") {
    if (!symbol_arg(true, &in)) return;
    return WriteJson(resp, MarketJson(*in));
  }
  if (path == "/api/v1/depth") {
    if (!symbol_arg(true, &in)) return;
    size_t limit = 1000;
    if (p.Has("limit")) {
      std::string l = p.Get("limit");
      static const char* kLimits[] = {"5", "10", "20", "50", "100", "500", "1000"};
      bool ok = false;
      for (const char* k : kLimits) ok = ok || l == k;
      if (!ok) return WriteError(resp, Invalid("Invalid limit: expected one of 5, 10, 20, 50, 100, 500, 1000"));
      limit = static_cast<size_t>(std::atoi(l.c_str()));
    }
    return WriteJson(resp, DepthJson(in->index, limit));
  }
  if (path == "/api/v1/markPrices" || path == "/api/v1/tickers" || path == "/api/v1/openInterest") {
    if (!symbol_arg(false, &in)) return;
    if (path == "/api/v1/tickers" && p.Has("interval") && p.Get("interval") != "1d" &&
        p.Get("interval") != "1w") {
      return WriteError(resp, Invalid("Invalid interval"));
    }
    std::string out = "[";
    for (size_t i = 0; i < m.size(); ++i) {
      if (in != nullptr && in->index != i) continue;
      if (out.size() > 1) out += ',';
      out += path == "/api/v1/markPrices" ? MarkPriceJson(i)
             : path == "/api/v1/tickers"  ? TickerJson(i)
                                          : OpenInterestJson(i);
    }
    return WriteJson(resp, out + "]");
  }
  if (path == "/api/v1/ticker") {
    if (!symbol_arg(true, &in)) return;
    if (p.Has("interval") && p.Get("interval") != "1d" && p.Get("interval") != "1w") {
      return WriteError(resp, Invalid("Invalid interval"));
    }
    return WriteJson(resp, TickerJson(in->index));
  }
  if (path == "/api/v1/fundingRates") {
    if (!symbol_arg(true, &in)) return;
    int64_t limit = 0, offset = 0;
    ApiError err;
    if (!Paging(p, 100, 10000, &limit, &offset, &err)) return WriteError(resp, err);
    const auto& rows = symbols_[in->index].funding;
    JsonWriter w;
    w.BeginArray();
    int64_t skipped = 0, n = 0;
    for (auto it = rows.rbegin(); it != rows.rend() && n < limit; ++it) {  // newest first
      if (skipped++ < offset) continue;
      w.BeginObject()
          .Field("fundingRate", RateText(it->rate))
          .Field("intervalEndTimestamp", IsoUtc(it->time, false))
          .Field("symbol", in->symbol())
          .EndObject();
      ++n;
    }
    w.EndArray();
    WriteJson(resp, w.Take());
    const int64_t total = static_cast<int64_t>(rows.size());
    resp.headers.emplace_back("X-PAGE-COUNT", std::to_string(limit ? (total + limit - 1) / limit : 0));
    resp.headers.emplace_back("X-CURRENT-PAGE", std::to_string(limit ? offset / limit + 1 : 1));
    resp.headers.emplace_back("X-PAGE-SIZE", std::to_string(limit));
    resp.headers.emplace_back("X-TOTAL", std::to_string(total));
    return;
  }
  if (path == "/api/v1/trades" || path == "/api/v1/trades/history") {
    // Recent public trades, oldest first (ccxt sorts anyway); /history pages back from the
    // newest by `offset`. The sim prints a public trade when a user order takes liquidity.
    if (!symbol_arg(true, &in)) return;
    int64_t limit = 0, offset = 0;
    ApiError err;
    if (!Paging(p, 100, 1000, &limit, &offset, &err)) return WriteError(resp, err);
    if (path == "/api/v1/trades") offset = 0;
    const auto& kept = ctx_->RecentTrades(in->index);
    const int64_t n = static_cast<int64_t>(kept.size());
    const int64_t end = std::max<int64_t>(0, n - offset);
    const int64_t begin = std::max<int64_t>(0, end - limit);
    JsonWriter w;
    w.BeginArray();
    for (int64_t k = begin; k < end; ++k) {
      const PublicTrade& t = kept[static_cast<size_t>(k)];
      w.BeginObject()
          .Field("id", VenueTradeId(in->index, t.trade_id))  // the stream's `t`
          .Field("isBuyerMaker", t.taker_side == Side::kSell)
          .Field("price", Fixed(t.price, in->price_scale))
          .Field("quantity", Fixed(t.qty, in->size_scale))
          .Field("quoteQuantity", FormatMoney(in->Notional(t.price, t.qty)))
          .Field("timestamp", t.time / 1'000'000)
          .EndObject();
    }
    w.EndArray();
    return WriteJson(resp, w.Take());
  }
  if (path == "/api/v1/assets") {
    // Every asset the catalogue trades (bases and quotes), one token each. The sim moves no
    // funds on chain: deposits and withdrawals are shown disabled, limits and fees as zero.
    std::vector<std::string> assets;
    for (const auto& i : m.instruments()) {
      for (const std::string& a : {i.spec.base, i.spec.quote}) {
        if (std::find(assets.begin(), assets.end(), a) == assets.end()) assets.push_back(a);
      }
    }
    JsonWriter w;
    w.BeginArray();
    for (const std::string& a : assets) {
      const char* chain = a == "BTC" ? "Bitcoin" : a == "ETH" ? "Ethereum" : "Solana";
      w.BeginObject()
          .Key("coingeckoId").Null()
          .Field("displayName", a)
          .Field("symbol", a)
          .Key("tokens")
          .BeginArray()
          .BeginObject()
          .Field("blockchain", chain)
          .Key("contractAddress").Null()
          .Field("depositEnabled", false)
          .Field("displayName", a)
          .Key("maximumWithdrawal").Null()
          .Field("minimumDeposit", "0")
          .Field("minimumWithdrawal", "0")
          .Field("withdrawEnabled", false)
          .Field("withdrawalFee", "0")
          .EndObject()
          .EndArray()
          .EndObject();
    }
    w.EndArray();
    return WriteJson(resp, w.Take());
  }
  if (path == "/api/v1/collateral") {
    // Collateral parameters per asset. The sim's accounts hold USDC only, so USDC is the one
    // collateral asset: full weight (identity haircut). Its imf/mmf functions (the borrow side
    // of the asset) are synthetic: the sim has no borrowing.
    JsonWriter w;
    w.BeginArray().BeginObject().Field("symbol", "USDC");
    WriteMarginFn(w, "imfFunction", "1", "0");
    WriteMarginFn(w, "mmfFunction", "0.5", "0");
    w.Key("haircutFunction").BeginObject().Field("weight", "1");
    w.Key("kind").BeginObject().Field("type", "identity").EndObject();
    w.EndObject().EndObject().EndArray();
    return WriteJson(resp, w.Take());
  }
  if (path == "/api/v1/klines") {
    if (!symbol_arg(true, &in)) return;
    return Klines(*in, p, resp);
  }
  WriteError(resp, {404, "RESOURCE_NOT_FOUND", "Not found"});
}

std::optional<CandleInterval> KlineInterval(std::string_view interval) {
  constexpr int64_t kMin = CandleSeries::kMinuteMs, kHour = 60 * kMin, kDay = 24 * kHour;
  static const std::pair<const char*, int64_t> kFixed[] = {
      {"1s", CandleSeries::kSecondMs}, {"1m", kMin},       {"3m", 3 * kMin},  {"5m", 5 * kMin},
      {"15m", 15 * kMin},              {"30m", 30 * kMin}, {"1h", kHour},     {"2h", 2 * kHour},
      {"4h", 4 * kHour},               {"6h", 6 * kHour},  {"8h", 8 * kHour}, {"12h", 12 * kHour},
      {"1d", kDay},                    {"3d", 3 * kDay}};
  for (const auto& [name, ms] : kFixed) {
    if (interval == name) return CandleInterval::Fixed(ms);
  }
  if (interval == "1w") return CandleInterval::Week();
  if (interval == "1month") return CandleInterval::Month();
  return std::nullopt;
}

namespace {

// "2025-07-19 13:09:00": kline start/end as the venue prints them (naive UTC, a space).
std::string KlineTime(int64_t unix_seconds) {
  std::string s = IsoUtc(unix_seconds * 1'000'000'000, false);
  if (s.size() > 10 && s[10] == 'T') s[10] = ' ';
  return s;
}

}  // namespace

const CandleSeries& BackpackModule::KlineSeries(size_t i, const CandleInterval& iv) const {
  const SymbolState& s = symbols_[i];
  const bool seconds = iv.kind == CandleInterval::Kind::kFixed && iv.ms < CandleSeries::kMinuteMs;
  return seconds ? s.candles_1s : s.candles_1m;
}

void BackpackModule::Klines(const SimInstrument& in, const Params& p, HttpResponse& resp) {
  // Candles come from what the sim prices: every generated mid and every public trade moves
  // open/high/low/close; volume, quoteVolume and trades count the public trades only. 1s candles
  // cover the last hour, the others are rolled up from 1m candles (kept ~69 days). Buckets
  // nothing was priced in are left out (see kMinuteCandles in module.h). priceType
  // Last/Mark/Index give the same candles (mark = index = mid in the sim).
  const std::string interval = p.Get("interval");
  if (!p.Has("interval")) return WriteError(resp, Invalid("Missing interval"));
  const std::optional<CandleInterval> iv = KlineInterval(interval);
  if (!iv) return WriteError(resp, Invalid("Invalid interval"));
  if (!p.Has("startTime")) return WriteError(resp, Invalid("Missing startTime"));
  auto start = ParseUint64(p.Get("startTime"));
  if (!start) return WriteError(resp, Invalid("Invalid startTime"));
  const int64_t now_s = ctx_->Now() / 1'000'000'000;
  int64_t end = now_s + 1;  // exclusive; defaults to now
  if (p.Has("endTime")) {
    auto e = ParseUint64(p.Get("endTime"));
    if (!e) return WriteError(resp, Invalid("Invalid endTime"));
    end = static_cast<int64_t>(*e);
  }
  if (p.Has("priceType")) {
    std::string t = p.Get("priceType");
    if (t != "Last" && t != "Mark" && t != "Index" && t != "last" && t != "mark" && t != "index") {
      return WriteError(resp, Invalid("Invalid priceType"));
    }
  }
  constexpr size_t kMaxCandles = 1000;  // the earliest from startTime
  // Bucket starts in [startTime, endTime) seconds (clamped where ms would overflow).
  constexpr uint64_t kMaxSeconds = INT64_MAX / 1000;
  const int64_t start_ms = static_cast<int64_t>(std::min<uint64_t>(*start, kMaxSeconds)) * 1000;
  end = std::min<int64_t>(end, static_cast<int64_t>(kMaxSeconds));
  const std::vector<Candle> out =
      end <= 0 ? std::vector<Candle>()
               : KlineSeries(in.index, *iv).Range(*iv, start_ms, end * 1000 - 1, kMaxCandles);
  JsonWriter w;
  w.BeginArray();
  for (const Candle& c : out) {
    w.BeginObject()
        .Field("close", Trimmed(c.close, in.price_scale))
        .Field("end", KlineTime(iv->BucketEnd(c.open_ms) / 1000))
        .Field("high", Trimmed(c.high, in.price_scale))
        .Field("low", Trimmed(c.low, in.price_scale))
        .Field("open", Trimmed(c.open, in.price_scale))
        .Field("quoteVolume", MoneyText(c.quote_volume))
        .Field("start", KlineTime(c.open_ms / 1000))
        .Field("trades", std::to_string(c.trades))
        .Field("volume", Trimmed(c.volume, in.size_scale))
        .EndObject();
  }
  w.EndArray();
  WriteJson(resp, w.Take());
}

std::string BackpackModule::MarketJson(const SimInstrument& in) const {
  MarginFns f = MarginFor(in);
  const std::string tick = Fixed(in.tick, in.price_scale);
  const std::string step = Fixed(in.step, in.size_scale);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("baseSymbol", in.spec.base)
      .Field("quoteSymbol", in.spec.quote)
      .Field("marketType", "PERP");
  w.Key("filters").BeginObject();
  w.Key("price").BeginObject().Field("minPrice", tick);
  w.Key("maxPrice").Null();
  w.Field("tickSize", tick)
      .Field("maxMultiplier", "1.25")
      .Field("minMultiplier", "0.75")
      .Field("maxImpactMultiplier", "1.03")
      .Field("minImpactMultiplier", "0.97");
  w.Key("meanMarkPriceBand").BeginObject().Field("maxMultiplier", "1.1").Field("minMultiplier", "0.9");
  w.EndObject();
  w.Key("meanPremiumBand").BeginObject().Field("tolerancePct", "0.05").EndObject();
  Nulls(w, {"borrowEntryFeeMaxMultiplier", "borrowEntryFeeMinMultiplier"});
  w.EndObject();
  w.Key("quantity").BeginObject().Field("minQuantity", Fixed(std::max(in.min_qty, in.step), in.size_scale));
  w.Key("maxQuantity").Null();
  w.Field("stepSize", step).EndObject();
  w.EndObject();  // filters
  WriteMarginFn(w, "imfFunction", f.imf_base, f.imf_factor);
  WriteMarginFn(w, "mmfFunction", f.mmf_base, f.mmf_factor);
  w.Field("fundingInterval", static_cast<int64_t>(in.spec.funding_interval_hours) * 3600000)
      .Field("fundingRateUpperBound", "100")
      .Field("fundingRateLowerBound", "-100")
      .Field("openInterestLimit", f.oi_limit)
      .Field("orderBookState", "Open")
      .Field("createdAt", "2025-01-21T06:34:54.691858")
      .Field("visible", true)
      .Field("positionLimitWeight", "1")
      .EndObject();
  return w.Take();
}

std::string BackpackModule::DepthJson(size_t i, size_t limit) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const OrderBook& book = m.book(i);
  std::vector<Level> bids = book.Bids(limit), asks = book.Asks(limit);
  std::reverse(bids.begin(), bids.end());  // captures: both sides ascending (best bid last)
  JsonWriter w;
  w.BeginObject();
  w.Key("asks").BeginArray();
  for (const Level& l : asks) {
    w.BeginArray().String(Fixed(l.price, in.price_scale)).String(Fixed(l.size, in.size_scale));
    w.EndArray();
  }
  w.EndArray();
  w.Key("bids").BeginArray();
  for (const Level& l : bids) {
    w.BeginArray().String(Fixed(l.price, in.price_scale)).String(Fixed(l.size, in.size_scale));
    w.EndArray();
  }
  w.EndArray();
  // The snapshot id is the generator's id: WS depth U/u continue from it (U == lastUpdateId + 1).
  w.Field("lastUpdateId", std::to_string(m.update_id(i)))
      .Field("timestamp", ToUs(ctx_->Now()))
      .EndObject();
  return w.Take();
}

std::string BackpackModule::MarkPriceJson(size_t i) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const std::string mark = Fixed(m.mark_price(i), in.price_scale);
  JsonWriter w;
  w.BeginObject()
      .Field("fundingRate", RateText(m.funding_rate(i)))
      .Field("indexPrice", mark)
      .Field("markPrice", mark)
      .Field("nextFundingTimestamp", ToMs(ctx_->NextFundingTime(i)))
      .Field("symbol", in.symbol())
      .EndObject();
  return w.Take();
}

std::string BackpackModule::TickerJson(size_t i) const {
  const SimInstrument& in = ctx_->market().instrument(i);
  const Stats& s = symbols_[i].stats;
  MarginFns f = MarginFor(in);
  const Money quote = f.daily_quote + s.quote_volume;
  const int64_t volume = QtyForQuote(in, f.daily_quote, s.open) + s.volume;
  const int64_t change = s.last - s.open;
  JsonWriter w;
  w.BeginObject()
      .Field("firstPrice", Fixed(s.open, in.price_scale))
      .Field("high", Fixed(s.high, in.price_scale))
      .Field("lastPrice", Fixed(s.last, in.price_scale))
      .Field("low", Fixed(s.low, in.price_scale))
      .Field("priceChange", Trimmed(change, in.price_scale))
      .Field("priceChangePercent", Ratio(change, s.open, 6))
      .Field("quoteVolume", MoneyText(quote))
      .Field("symbol", in.symbol())
      .Field("trades", std::to_string(20000 + s.trades))  // a string on this venue
      .Field("volume", Trimmed(volume, in.size_scale))
      .EndObject();
  return w.Take();
}

Money BackpackModule::OpenInterest(size_t i) const {
  const SimInstrument& in = ctx_->market().instrument(i);
  // Synthetic baseline (a fortieth of the daily volume) + the test accounts' positions.
  int64_t oi = QtyForQuote(in, MarginFor(in).daily_quote / 40, symbols_[i].stats.open);
  for (const auto& a : ctx_->accounts()) {
    int64_t size = ctx_->engine().Position(a.id, i).size;
    oi += size < 0 ? -size : size;
  }
  return oi;
}

std::string BackpackModule::OpenInterestJson(size_t i) const {
  const SimInstrument& in = ctx_->market().instrument(i);
  JsonWriter w;
  w.BeginObject()
      .Field("openInterest", Trimmed(OpenInterest(i), in.size_scale))
      .Field("symbol", in.symbol())
      .Field("timestamp", NowMs())
      .EndObject();
  return w.Take();
}

// ------------------------------------------------------------------------------- private

void BackpackModule::Private(const std::string& instruction, const AccountSpec& acct,
                             const HttpRequest& req, const Params& p, HttpResponse& resp) {
  Engine& engine = ctx_->engine();
  const Market& m = ctx_->market();
  const SimInstrument* filter = nullptr;
  if (p.Has("symbol")) {
    filter = m.Find(p.Get("symbol"));
    if (filter == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  }
  const std::string market_type = p.Get("marketType");
  const bool perp = market_type.empty() || market_type == "PERP";
  auto array_of = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) out += ',';
      out += items[k];
    }
    return out + "]";
  };

  if (instruction == "orderExecute") {
    if (req.path.rfind("/api/v1/orders", 0) != 0) return OrderExecute(acct, p, resp);
    // Batch: one result per element, in order (an order object, or the error body).
    auto items = ParseJsonObjectArray(req.body);
    if (!items.ok()) return WriteError(resp, Invalid("Invalid request body: expected a JSON array"));
    std::vector<std::string> out;
    for (auto& fields : *items) {
      Params one;
      for (auto& [k, v] : fields) {
        if (v != "null") one.kv[k] = v;
      }
      HttpResponse r;
      OrderExecute(acct, one, r);
      out.push_back(r.body);
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "orderCancel") return OrderCancel(acct, p, resp);
  if (instruction == "orderQuery") return OrderQuery(acct, p, resp);
  if (instruction == "orderQueryAll") {
    std::vector<std::string> out;
    if (perp) {
      for (const SimOrder* o : engine.OpenOrders(acct.id, filter ? filter->symbol() : "")) {
        out.push_back(OrderJson(*o));
      }
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "orderCancelAll") {
    if (filter == nullptr) return WriteError(resp, Invalid("Missing symbol"));
    // orderType (§10.2): RestingLimitOrder = orders on the book (and triggered ones),
    // ConditionalOrder = trigger orders still waiting for their trigger; absent = both.
    const std::string kind = p.Get("orderType");
    if (p.Has("orderType") && kind != "RestingLimitOrder" && kind != "ConditionalOrder") {
      return WriteError(resp, Invalid("Invalid orderType: expected RestingLimitOrder or ConditionalOrder"));
    }
    std::vector<std::string> out;
    if (!p.Has("orderType")) {
      for (const SimOrder& o : engine.CancelAll(acct.id, filter->symbol())) out.push_back(OrderJson(o));
      return WriteJson(resp, array_of(out));
    }
    const bool conditional = kind == "ConditionalOrder";
    std::vector<uint64_t> ids;  // collected first: cancelling changes the open-order set
    for (const SimOrder* o : engine.OpenOrders(acct.id, filter->symbol())) {
      if (o->awaiting_trigger() == conditional) ids.push_back(o->id);
    }
    for (uint64_t id : ids) {
      CancelResult c = engine.Cancel(acct.id, id);
      if (c.code == RejectCode::kNone) out.push_back(OrderJson(c.order));
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "orderHistoryQueryAll") {
    int64_t limit = 0, offset = 0;
    ApiError err;
    if (!Paging(p, 100, 1000, &limit, &offset, &err)) return WriteError(resp, err);
    std::optional<uint64_t> want;
    if (p.Has("orderId")) {
      want = EngineOrderId(p.Get("orderId"));
      if (!want) return WriteJson(resp, "[]");
    }
    std::vector<std::string> out;
    if (perp) {
      auto orders = engine.Orders(acct.id);
      int64_t skipped = 0;
      for (auto it = orders.rbegin(); it != orders.rend() && static_cast<int64_t>(out.size()) < limit;
           ++it) {  // newest first
        const SimOrder& o = **it;
        // Engine rejections other than a post-only cross never became venue orders.
        // A trigger order refused when it fired stays (TriggerFailed).
        if (o.status == OrderStatus::kRejected && o.reject != RejectCode::kPostOnlyViolation &&
            !o.triggered) {
          continue;
        }
        if (filter && o.instrument != filter) continue;
        if (want && o.id != *want) continue;
        if (skipped++ < offset) continue;
        out.push_back(HistoryOrderJson(o));
      }
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "fillHistoryQueryAll") {
    int64_t limit = 0, offset = 0;
    ApiError err;
    if (!Paging(p, 100, 1000, &limit, &offset, &err)) return WriteError(resp, err);
    auto from = p.Has("from") ? ParseUint64(p.Get("from")) : std::optional<uint64_t>(0);
    auto to = p.Has("to") ? ParseUint64(p.Get("to")) : std::optional<uint64_t>(0);
    if (!from || !to) return WriteError(resp, Invalid("Invalid time range"));
    std::optional<uint64_t> want;
    if (p.Has("orderId")) {
      want = EngineOrderId(p.Get("orderId"));
      if (!want) return WriteJson(resp, "[]");
    }
    auto fills = engine.Fills(acct.id);
    std::vector<std::string> out;
    int64_t skipped = 0;
    for (auto it = fills.rbegin(); it != fills.rend() && static_cast<int64_t>(out.size()) < limit;
         ++it) {
      const SimFill& f = *it;
      if (filter && f.instrument != filter) continue;
      if (want && f.order_id != *want) continue;
      const auto ms = static_cast<uint64_t>(ToMs(f.time));
      if ((*from && ms < *from) || (*to && ms > *to)) continue;
      if (skipped++ < offset) continue;
      out.push_back(FillJson(f));
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "fundingHistoryQueryAll") {
    int64_t limit = 0, offset = 0;
    ApiError err;
    if (!Paging(p, 100, 1000, &limit, &offset, &err)) return WriteError(resp, err);
    JsonWriter w;
    w.BeginArray();
    int64_t skipped = 0, n = 0;
    for (auto it = funding_payments_.rbegin(); it != funding_payments_.rend() && n < limit; ++it) {
      if (it->account != acct.id || (filter && it->symbol != filter->symbol())) continue;
      if (skipped++ < offset) continue;
      w.BeginObject()
          .Field("fundingRate", RateText(it->rate))
          .Field("intervalEndTimestamp", IsoUtc(it->time, false))
          .Field("quantity", MoneyText(it->amount))
          .Key("subaccountId").Null();
      w.Field("symbol", it->symbol).Field("userId", UserId(ctx_->accounts(), acct.id)).EndObject();
      ++n;
    }
    w.EndArray();
    return WriteJson(resp, w.Take());
  }
  if (instruction == "positionQuery") {
    std::vector<std::string> out;
    if (perp) {
      for (const SimPosition& pos : engine.Positions(acct.id)) {
        if (filter && pos.instrument != filter) continue;
        out.push_back(PositionJson(acct.id, pos));
      }
    }
    return WriteJson(resp, array_of(out));
  }
  if (instruction == "balanceQuery") {
    SimBalance b = engine.Balance(acct.id);
    JsonWriter w;
    w.BeginObject().Key(b.asset.empty() ? "USDC" : b.asset).BeginObject();
    w.Field("available", MoneyText(b.wallet)).Field("locked", "0").Field("staked", "0");
    w.EndObject().EndObject();
    return WriteJson(resp, w.Take());
  }
  if (instruction == "collateralQuery") return WriteJson(resp, CollateralJson(acct.id));
  if (instruction == "accountQuery") return WriteJson(resp, AccountJson(acct));
  if (instruction == "accountUpdate") {
    if (p.Has("leverageLimit")) {
      auto lev = ParseUint32(p.Get("leverageLimit"));
      if (!lev || *lev < 1 || *lev > 100) return WriteError(resp, Invalid("Invalid leverage limit"));
      ApplyLeverageLimit(acct.id, static_cast<int>(*lev));
    }
    for (const char* flag : {"autoBorrowSettlements", "autoLend", "autoRealizePnl", "autoRepayBorrows"}) {
      bool b = false;
      if (p.Has(flag) && !ParseBool(p.Get(flag), &b)) {
        return WriteError(resp, Invalid(std::string("Invalid ") + flag));
      }
    }
    resp.status = 200;
    resp.content_type = "application/json; charset=utf-8";
    resp.body.clear();
    return;
  }
  if (instruction == "maxOrderQuantity") return MaxOrderQuantity(acct, p, resp);
  if (instruction == "positionHistoryQueryAll") return PositionHistory(acct, p, resp);
  WriteError(resp, {400, "NOT_IMPLEMENTED", "Not implemented by perpgw-sim: " + instruction});
}

void BackpackModule::MaxOrderQuantity(const AccountSpec& acct, const Params& p,
                                      HttpResponse& resp) {
  // The largest quantity the engine would accept right now for symbol/side at `price` (limit)
  // or at the best opposite price (market, no price): the part that reduces the position needs
  // no margin, the rest needs notional / leverage of the available margin (equity minus the
  // margin of positions and open orders), leverage = min(leverageLimit, market max). Rounded
  // down to the step. reduceOnly: the position size on the reducing side, else 0.
  // The auto-borrow/lend flags are spot-margin options and do not change a perp answer.
  if (!p.Has("symbol")) return WriteError(resp, Invalid("Missing symbol"));
  const SimInstrument* in = ctx_->market().Find(p.Get("symbol"));
  if (in == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  const std::string side = p.Get("side");
  if (side != "Bid" && side != "Ask") return WriteError(resp, Invalid("Invalid side: expected Bid or Ask"));
  const bool buy = side == "Bid";
  ApiError err;
  int64_t price = 0;
  if (p.Has("price")) {
    if (!ParseField(p.Get("price"), in->price_scale, "price", &price, &err)) return WriteError(resp, err);
    if (price <= 0) return WriteError(resp, Invalid("Invalid price"));
  }
  bool reduce_only = false;
  if (p.Has("reduceOnly") && !ParseBool(p.Get("reduceOnly"), &reduce_only)) {
    return WriteError(resp, Invalid("Invalid reduceOnly: expected a boolean"));
  }
  for (const char* flag : {"autoBorrow", "autoBorrowRepay", "autoLendRedeem"}) {
    bool b = false;
    if (p.Has(flag) && !ParseBool(p.Get(flag), &b)) {
      return WriteError(resp, Invalid(std::string("Invalid ") + flag + ": expected a boolean"));
    }
  }
  const Engine& engine = ctx_->engine();
  const int64_t pos = engine.Position(acct.id, in->index).size;
  const int64_t reducing = buy ? std::max<int64_t>(0, -pos) : std::max<int64_t>(0, pos);
  int64_t max_qty = reducing;
  if (!reduce_only) {
    int64_t ref = price;
    if (ref == 0) {
      const OrderBook& book = ctx_->market().book(in->index);
      auto best = buy ? book.BestAsk() : book.BestBid();
      ref = best ? best->price : ctx_->market().mid(in->index);
    }
    const int64_t lev = std::max(1, engine.Leverage(acct.id, in->index));
    const Money avail = std::max<Money>(0, engine.Balance(acct.id).available);
    // The engine refuses when notional / leverage (integer division) > available.
    int64_t growing = QtyForQuote(*in, (avail + 1) * lev - 1, ref);
    growing -= growing % in->step;
    while (growing > 0 && in->Notional(ref, growing) / lev > avail) growing -= in->step;
    max_qty += growing;
  }
  JsonWriter w;
  w.BeginObject().Field("maxOrderQuantity", Trimmed(max_qty, in->size_scale));
  if (p.Has("price")) w.Field("price", Trimmed(price, in->price_scale));
  if (p.Has("reduceOnly")) w.Field("reduceOnly", reduce_only);
  w.Field("side", side).Field("symbol", in->symbol()).EndObject();
  WriteJson(resp, w.Take());
}

void BackpackModule::PositionHistory(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  // One row per position the account held, from its opening fill to flat (a flip through zero
  // stays one position, as on the position stream). Open rows read the engine's live position;
  // closed rows keep the values they closed with. closedVolume and liquidated are base
  // quantities (the spec gives no unit; volume is base on this venue's tickers).
  int64_t limit = 0, offset = 0;
  ApiError err;
  if (!Paging(p, 100, 1000, &limit, &offset, &err)) return WriteError(resp, err);
  const SimInstrument* filter = nullptr;
  if (p.Has("symbol")) {
    filter = ctx_->market().Find(p.Get("symbol"));
    if (filter == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  }
  const std::string state = p.Get("state");
  if (p.Has("state") && state != "Open" && state != "Closed") {
    return WriteError(resp, Invalid("Invalid state: expected Open or Closed"));
  }
  const std::string dir = p.Has("sortDirection") ? p.Get("sortDirection") : "Desc";
  if (dir != "Asc" && dir != "Desc") return WriteError(resp, Invalid("Invalid sortDirection: expected Asc or Desc"));
  // marketType: perps only in the sim; any other type has no positions.
  const std::string mt = p.Get("marketType");
  const bool perp = mt.empty() || mt.find("PERP") != std::string::npos;

  const Engine& engine = ctx_->engine();
  auto lev = leverage_limit_.find(acct.id);
  const std::string leverage = std::to_string(lev == leverage_limit_.end() ? 10 : lev->second);
  std::vector<const PositionRecord*> rows;
  for (const PositionRecord& r : position_history_) {
    if (!perp || r.account != acct.id) continue;
    if (filter && r.symbol != filter->index) continue;
    const bool open = r.closed == 0;
    if (!state.empty() && (state == "Open") != open) continue;
    rows.push_back(&r);
  }
  if (dir == "Desc") std::reverse(rows.begin(), rows.end());  // newest first by default
  JsonWriter w;
  w.BeginArray();
  int64_t n = 0;
  for (size_t k = static_cast<size_t>(std::min<int64_t>(offset, static_cast<int64_t>(rows.size())));
       k < rows.size() && n < limit; ++k, ++n) {
    const PositionRecord& r = *rows[k];
    const SimInstrument& in = ctx_->market().instrument(r.symbol);
    const bool open = r.closed == 0;
    SimPosition live;
    if (open) live = engine.Position(acct.id, r.symbol);
    const int64_t size = open ? live.size : 0;
    const int64_t abs_size = size < 0 ? -size : size;
    const int64_t mark = open ? live.mark_price : r.mark;
    w.BeginObject()
        .Field("id", std::to_string(r.id))
        .Field("symbol", in.symbol())
        .Field("netQuantity", Trimmed(size, in.size_scale))
        .Field("netExposureQuantity", Trimmed(abs_size, in.size_scale))
        .Field("netExposureNotional", MoneyText(in.Notional(mark, abs_size)))
        .Field("netCost", MoneyText(!open ? 0 : size < 0 ? -live.entry_notional : live.entry_notional))
        .Field("markPrice", Trimmed(mark, in.price_scale))
        .Field("entryPrice", open ? live.EntryPrice().ToNormalizedString() : r.entry)
        .Field("cumulativePnlRealized", MoneyText(open ? live.realized_pnl - r.pnl_base : r.realized))
        .Field("unrealizedPnl", MoneyText(open ? live.unrealized_pnl : 0))
        .Field("fundingQuantity", MoneyText(open ? live.funding - r.funding_base : r.funding))
        .Field("interest", "0")
        .Field("liquidated", Trimmed(r.liquidated, in.size_scale))
        .Field("imf", MarginFor(in).imf_base)
        .Field("fees", MoneyText(r.fees))
        .Field("state", open ? "Open" : "Closed")
        .Field("closedVolume", Trimmed(r.closed_volume, in.size_scale))
        .Field("liquidationFees", "0");
    if (!open) w.Field("closingPrice", Trimmed(r.last_price, in.price_scale));
    w.Field("accountLeverage", leverage).Field("openedAt", IsoUtc(r.opened, true));
    if (!open) w.Field("closedAt", IsoUtc(r.closed, true));
    w.EndObject();
  }
  w.EndArray();
  WriteJson(resp, w.Take());
}

void BackpackModule::OrderExecute(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  const SimInstrument* in = ctx_->market().Find(p.Get("symbol"));
  if (!p.Has("symbol")) return WriteError(resp, Invalid("Missing symbol"));
  if (in == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  PlaceRequest req;
  req.account = acct.id;
  req.symbol = in->symbol();
  const std::string side = p.Get("side");
  if (side == "Bid") {
    req.side = Side::kBuy;
  } else if (side == "Ask") {
    req.side = Side::kSell;
  } else {
    return WriteError(resp, Invalid("Invalid side: expected Bid or Ask"));
  }
  const std::string type = p.Get("orderType");
  if (type == "Limit") {
    req.type = OrderType::kLimit;
  } else if (type == "Market") {
    req.type = OrderType::kMarket;
  } else {
    return WriteError(resp, Invalid("Invalid orderType: expected Limit or Market"));
  }
  if (p.Has("triggerPrice") != p.Has("triggerQuantity")) {
    return WriteError(resp, Invalid("Must specify both `triggerPrice` and `triggerQuantity` or neither"));
  }
  ApiError err;
  // triggerBy values (§10.1): LastPrice compares the symbol's last trade (the engine's last
  // public or user trade price; the mark before the first); IndexPrice is the mark in the sim.
  auto trigger_ref = [](const std::string& by, TriggerRef* ref) {
    if (by == "MarkPrice" || by == "IndexPrice") {
      *ref = TriggerRef::kMark;
    } else if (by == "LastPrice") {
      *ref = TriggerRef::kLastPrice;
    } else {
      return false;
    }
    return true;
  };
  // Attached take-profit / stop-loss (§10.1 takeProfit* / stopLoss*): each fill of this order
  // parks reduce-only trigger orders on the other side for the filled size (a limit at
  // *LimitPrice, else a market order), one cancelling the other when it fires; cancelling this
  // order before it fills creates none. The spec gives no direction, so a buy's take-profit
  // fires on a rise to its trigger and its stop-loss on a fall (a sell's the reverse), the
  // reading every venue with these fields uses; triggers on the wrong sides of each other are
  // refused (INVALID_PRICE). One already reached when the fill comes fires at the next tick.
  std::string tp_by, sl_by;
  for (bool tp : {true, false}) {
    const std::string pre = tp ? "takeProfit" : "stopLoss";
    int64_t* trigger = tp ? &req.tp_trigger_price : &req.sl_trigger_price;
    int64_t* limit = tp ? &req.tp_limit_price : &req.sl_limit_price;
    TriggerRef* ref = tp ? &req.tp_trigger_ref : &req.sl_trigger_ref;
    std::string& by = tp ? tp_by : sl_by;
    const std::string tk = pre + "TriggerPrice", lk = pre + "LimitPrice", bk = pre + "TriggerBy";
    if (!p.Has(tk)) {
      if (p.Has(lk) || p.Has(bk)) {
        return WriteError(resp, Invalid("`" + (p.Has(lk) ? lk : bk) + "` requires `" + tk + "`"));
      }
      continue;
    }
    if (!ParseField(p.Get(tk), in->price_scale, tk.c_str(), trigger, &err)) return WriteError(resp, err);
    if (*trigger <= 0) return WriteError(resp, {400, "INVALID_PRICE", "Invalid " + tk});
    if (p.Has(lk)) {
      if (!ParseField(p.Get(lk), in->price_scale, lk.c_str(), limit, &err)) return WriteError(resp, err);
      if (*limit <= 0) return WriteError(resp, {400, "INVALID_PRICE", "Invalid " + lk});
    }
    if (p.Has(bk)) {
      by = p.Get(bk);
      if (!trigger_ref(by, ref)) {
        return WriteError(resp, Invalid("Invalid " + bk + ": expected MarkPrice, LastPrice or IndexPrice"));
      }
    }
  }
  // Trigger order (§10.1 triggerPrice + triggerQuantity): parked as TriggerPending until the
  // mark reaches triggerPrice, then executed as the Limit / Market order it carries, with
  // triggerQuantity as its quantity (what ccxt sends in place of `quantity`).
  const bool conditional = p.Has("triggerPrice");
  std::string trigger_by;
  if (conditional) {
    if (p.Has("quoteQuantity")) {
      // The quote-to-base conversion walks the book at placement, which is not the book the
      // order meets when it fires; the venue's answer is not documented.
      return WriteError(resp, Invalid("Trigger orders must specify their size with `triggerQuantity`, "
                                      "not `quoteQuantity`"));
    }
    if (!ParseField(p.Get("triggerQuantity"), in->size_scale, "triggerQuantity", &req.qty, &err)) {
      return WriteError(resp, err);
    }
    if (p.Has("quantity")) {
      // Both sent: accepted when they agree (the spec does not say; a client that follows the
      // "quantity is required" line sends both).
      int64_t q = 0;
      if (!ParseField(p.Get("quantity"), in->size_scale, "quantity", &q, &err)) return WriteError(resp, err);
      if (q != req.qty) return WriteError(resp, Invalid("`quantity` and `triggerQuantity` differ"));
    }
    if (!ParseField(p.Get("triggerPrice"), in->price_scale, "triggerPrice", &req.trigger_price, &err)) {
      return WriteError(resp, err);
    }
    if (req.trigger_price <= 0) return WriteError(resp, {400, "INVALID_PRICE", "Invalid trigger price"});
    if (p.Has("triggerBy")) {
      trigger_by = p.Get("triggerBy");
      if (!trigger_ref(trigger_by, &req.trigger_ref)) {
        return WriteError(resp, Invalid("Invalid triggerBy: expected MarkPrice, LastPrice or IndexPrice"));
      }
    }
    // Direction: the spec names no direction field (no "above/below"), so the order fires when
    // its reference price crosses triggerPrice from the side it is on at placement: a trigger
    // above it fires when it rises to it, one below when it falls to it (stop-loss and
    // take-profit alike). A trigger equal to it would fire at once: the engine refuses it
    // ("order would immediately trigger"). The reference is the mark (MarkPrice, not sent, or
    // IndexPrice, which equals the mark in the sim) or, for LastPrice, the symbol's last trade
    // price; triggerBy is echoed as sent.
    const int64_t ref = req.trigger_ref == TriggerRef::kLastPrice
                            ? ctx_->engine().LastPrice(in->index)
                            : ctx_->market().mark_price(in->index);
    req.trigger = req.trigger_price >= ref ? TriggerWhen::kAtOrAbove : TriggerWhen::kAtOrBelow;
  } else if (p.Has("triggerBy")) {
    return WriteError(resp, Invalid("`triggerBy` requires `triggerPrice` and `triggerQuantity`"));
  }
  const bool by_quote = !conditional && p.Has("quoteQuantity");
  Money quote = 0;
  if (by_quote) {
    if (req.type == OrderType::kLimit) {
      return WriteError(resp, Invalid("Limit orders cannot specify a `quoteQuantity`"));
    }
    // One of the two (spec §10.1: quantity is "required except market-by-quote"); the venue's
    // answer to both at once is not documented, the sim refuses it rather than guess.
    if (p.Has("quantity")) {
      return WriteError(resp, Invalid("Market orders must specify either `quantity` or `quoteQuantity`"));
    }
    if (!ParseField(p.Get("quoteQuantity"), 8, "quoteQuantity", &quote, &err)) {
      return WriteError(resp, err);
    }
    if (quote <= 0) return WriteError(resp, Invalid("Invalid quoteQuantity"));
  } else if (!conditional && !p.Has("quantity")) {  // a trigger order's size: triggerQuantity
    return WriteError(resp, Invalid(req.type == OrderType::kMarket
                                        ? "Market orders must specify a `quantity` or `quoteQuantity`"
                                        : "Limit orders must specify a `quantity`"));
  }
  if (!by_quote && !conditional &&
      !ParseField(p.Get("quantity"), in->size_scale, "quantity", &req.qty, &err)) {
    return WriteError(resp, err);
  }
  if (req.type == OrderType::kLimit) {
    if (!p.Has("price")) return WriteError(resp, Invalid("Limit orders must specify a `price`"));
    if (!ParseField(p.Get("price"), in->price_scale, "price", &req.price, &err)) {
      return WriteError(resp, err);
    }
  }
  const std::string tif = p.Has("timeInForce") ? p.Get("timeInForce") : "GTC";
  if (tif == "GTC") {
    req.tif = TimeInForce::kGtc;
  } else if (tif == "IOC") {
    req.tif = TimeInForce::kIoc;
  } else if (tif == "FOK") {
    req.tif = TimeInForce::kFok;
  } else {
    return WriteError(resp, Invalid("Invalid timeInForce: expected GTC, IOC or FOK"));
  }
  bool post_only = false, reduce_only = false;
  if (p.Has("postOnly") && !ParseBool(p.Get("postOnly"), &post_only)) {
    return WriteError(resp, Invalid("Invalid postOnly: expected a boolean"));
  }
  if (p.Has("reduceOnly") && !ParseBool(p.Get("reduceOnly"), &reduce_only)) {
    return WriteError(resp, Invalid("Invalid reduceOnly: expected a boolean"));
  }
  if (post_only) {
    if (req.type == OrderType::kMarket) return WriteError(resp, {400, "INVALID_ORDER", "Market orders cannot be post only"});
    if (req.tif != TimeInForce::kGtc) {
      return WriteError(resp, {400, "INVALID_ORDER", "Post only orders must be GTC"});
    }
    req.tif = TimeInForce::kPostOnly;
  }
  req.reduce_only = reduce_only;
  if (p.Has("clientId")) {
    auto cid = ParseUint32(p.Get("clientId"));
    if (!cid) return WriteError(resp, Invalid("Invalid clientId: expected an unsigned 32-bit integer"));
    req.client_id = std::to_string(*cid);
  }
  std::string stp = p.Has("selfTradePrevention") ? p.Get("selfTradePrevention") : "RejectTaker";
  if (stp != "RejectTaker" && stp != "RejectMaker" && stp != "RejectBoth") {
    return WriteError(resp, Invalid("Invalid selfTradePrevention"));
  }
  if (req.type == OrderType::kMarket && p.Has("slippageTolerance")) {
    // Worst acceptable price from the best opposite price: "Percent" (0.5 = 0.5 %) or a number
    // of ticks ("TickSize").
    auto tol = Decimal::Parse(p.Get("slippageTolerance"));
    if (!tol.ok() || tol->IsNegative()) return WriteError(resp, Invalid("Invalid slippageTolerance"));
    const std::string kind = p.Has("slippageToleranceType") ? p.Get("slippageToleranceType") : "Percent";
    const OrderBook& book = ctx_->market().book(in->index);
    auto best = req.side == Side::kBuy ? book.BestAsk() : book.BestBid();
    int64_t ref = best ? best->price : ctx_->market().mid(in->index);
    // A trigger order trades later, near its trigger: the bound is taken from triggerPrice
    // (the spec does not say which price the venue measures it from then).
    if (conditional) ref = req.trigger_price;
    const int64_t dir = req.side == Side::kBuy ? 1 : -1;
    if (kind == "TickSize") {
      auto ticks = tol->ToScaled(0, Rounding::kDown);
      if (!ticks.ok()) return WriteError(resp, Invalid("Invalid slippageTolerance"));
      req.worst_price = ref + dir * *ticks * in->tick;
    } else if (kind == "Percent") {
      auto frac = Decimal::Div(*tol, Decimal::FromInt(100), 12, Rounding::kDown);
      auto move = frac.ok() ? Decimal::Mul(Decimal::FromUnits(ref, in->price_scale), *frac,
                                           in->price_scale, Rounding::kDown)
                            : frac;
      if (!move.ok()) return WriteError(resp, Invalid("Invalid slippageTolerance"));
      int64_t ticks = move->mantissa() / in->tick;  // inward to the tick grid
      req.worst_price = ref + dir * ticks * in->tick;
    } else {
      return WriteError(resp, Invalid("Invalid slippageToleranceType: expected TickSize or Percent"));
    }
    if (req.worst_price <= 0) req.worst_price = in->tick;
  }
  if (by_quote) {
    // Market by quote: the base quantity the quote buys (sells) walking the opposite side of
    // the book best-first, within the slippage bound, in fixed point; the last level is taken
    // in part, rounded down to the step, so the executed quote never exceeds quoteQuantity
    // (fees excluded: perp fees are charged to the collateral, not taken from the quote).
    // The engine then walks the same levels with that quantity.
    const OrderBook& book = ctx_->market().book(in->index);
    const std::vector<Level> levels = req.side == Side::kBuy ? book.Asks() : book.Bids();
    Money left = quote;
    int64_t qty = 0;
    for (const Level& l : levels) {
      if (req.worst_price > 0 &&
          (req.side == Side::kBuy ? l.price > req.worst_price : l.price < req.worst_price)) {
        break;
      }
      const Money full = in->Notional(l.price, l.size);
      if (full <= left) {
        qty += l.size;
        left -= full;
        continue;
      }
      int64_t part = QtyForQuote(*in, left, l.price);
      part -= part % in->step;
      while (part > 0 && in->Notional(l.price, part) > left) part -= in->step;
      qty += part;
      break;
    }
    qty -= qty % in->step;
    if (qty <= 0 || qty < in->min_qty) {
      // Not enough quote (or book) for one minimum quantity: refused before it becomes an order.
      return WriteError(resp, {400, "INVALID_QUANTITY", "Quantity is below the minimum allowed value"});
    }
    req.qty = qty;
  }
  pending_stp_ = stp;
  pending_quote_ = by_quote ? p.Get("quoteQuantity") : std::string();
  pending_trigger_by_ = trigger_by;
  pending_tp_by_ = tp_by;
  pending_sl_by_ = sl_by;
  PlaceResult res = ctx_->engine().Place(req);
  pending_stp_.clear();
  pending_quote_.clear();
  pending_trigger_by_.clear();
  pending_tp_by_.clear();
  pending_sl_by_.clear();
  if (res.order.id != 0) {
    OrderMeta& meta = order_meta_[res.order.id];
    meta.stp = stp;
    meta.quote_qty = by_quote ? p.Get("quoteQuantity") : std::string();
    meta.trigger_by = trigger_by;
    meta.tp_trigger_by = tp_by;
    meta.sl_trigger_by = sl_by;
    if (conditional) meta.trigger_qty = req.qty;
  }
  if (res.code == RejectCode::kInvalidPrice &&
      res.message == "take-profit and stop-loss triggers are on the wrong sides") {
    // The venue's wording is not in the spec.
    return WriteError(resp, {400, "INVALID_PRICE",
                             req.side == Side::kBuy
                                 ? "Take profit trigger price must be above the stop loss trigger price"
                                 : "Take profit trigger price must be below the stop loss trigger price"});
  }
  if (res.code == RejectCode::kInvalidPrice && conditional &&
      res.message == "order would immediately trigger") {
    // The venue's wording is not in the spec.
    return WriteError(resp, {400, "INVALID_PRICE", "Trigger price would trigger immediately"});
  }
  switch (res.code) {
    case RejectCode::kNone:
    case RejectCode::kPostOnlyViolation:  // an Expired order with expiryReason PostOnlyTaker
      return WriteJson(resp, OrderJson(res.order));
    case RejectCode::kDuplicateClientId:
      return WriteError(resp, {400, "INVALID_ORDER", "Order with client ID already exists: " + req.client_id});
    case RejectCode::kInvalidQty:
      return WriteError(resp, {400, "INVALID_QUANTITY",
                               req.qty < in->min_qty ? "Quantity is below the minimum allowed value"
                                                     : "Invalid quantity"});
    case RejectCode::kMinNotional:
      return WriteError(resp, {400, "INVALID_QUANTITY", "Order value is below the minimum allowed value"});
    case RejectCode::kInvalidPrice:
      return WriteError(resp, {400, "INVALID_PRICE", "Invalid price"});
    case RejectCode::kReduceOnly:
      return WriteError(resp, {400, "INVALID_ORDER", "Reduce only order not reduced"});
    case RejectCode::kInsufficientMargin:
      return WriteError(resp, {400, "INSUFFICIENT_MARGIN", "Insufficient margin"});
    case RejectCode::kUnknownSymbol:
      return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
    default:
      return WriteError(resp, {400, "INVALID_ORDER", "Invalid order"});
  }
}

namespace {

// The account's order named by orderId (string or number) or clientId; nullptr + err.
const SimOrder* FindOrderArg(const Engine& engine, const std::string& account,
                             const SimInstrument& in, const Params& p, ApiError* err) {
  const SimOrder* o = nullptr;
  if (p.Has("orderId")) {
    auto id = EngineOrderId(p.Get("orderId"));
    if (id) o = engine.FindOrder(*id);
  } else if (p.Has("clientId")) {
    auto cid = ParseUint32(p.Get("clientId"));
    if (!cid) {
      *err = Invalid("Invalid clientId: expected an unsigned 32-bit integer");
      return nullptr;
    }
    o = engine.FindByClientId(account, std::to_string(*cid));
  } else {
    *err = Invalid("Must specify either `clientId` or `orderId`");
    return nullptr;
  }
  // Only resting orders are visible here; anything else lives in the order history.
  if (o == nullptr || o->account != account || o->instrument != &in || !o->open()) {
    *err = {404, "RESOURCE_NOT_FOUND", "Order not found"};
    return nullptr;
  }
  return o;
}

}  // namespace

void BackpackModule::OrderCancel(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  if (!p.Has("symbol")) return WriteError(resp, Invalid("Missing symbol"));
  const SimInstrument* in = ctx_->market().Find(p.Get("symbol"));
  if (in == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  ApiError err;
  const SimOrder* o = FindOrderArg(ctx_->engine(), acct.id, *in, p, &err);
  if (o == nullptr) return WriteError(resp, err);
  CancelResult r = ctx_->engine().Cancel(acct.id, o->id);
  if (r.code != RejectCode::kNone) return WriteError(resp, {404, "RESOURCE_NOT_FOUND", "Order not found"});
  WriteJson(resp, OrderJson(r.order));
}

void BackpackModule::OrderQuery(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  if (!p.Has("symbol")) return WriteError(resp, Invalid("Missing symbol"));
  const SimInstrument* in = ctx_->market().Find(p.Get("symbol"));
  if (in == nullptr) return WriteError(resp, {400, "INVALID_MARKET", "Invalid market symbol"});
  ApiError err;
  const SimOrder* o = FindOrderArg(ctx_->engine(), acct.id, *in, p, &err);
  if (o == nullptr) return WriteError(resp, err);
  WriteJson(resp, OrderJson(*o));
}

// --------------------------------------------------------------------------- JSON shapes

std::string BackpackModule::OrderJson(const SimOrder& o) const {
  const SimInstrument& in = *o.instrument;
  auto meta = order_meta_.find(o.id);
  const std::string stp = meta == order_meta_.end() ? "RejectTaker" : meta->second.stp;
  const bool market = o.type == OrderType::kMarket;
  const char* expiry = ExpiryReason(o);
  JsonWriter w;
  w.BeginObject();
  auto cid = ClientIdOf(o);
  if (cid) {
    w.Field("clientId", static_cast<int64_t>(*cid));
  } else {
    w.Key("clientId").Null();
  }
  w.Field("createdAt", ToMs(o.created))
      .Field("executedQuantity", Trimmed(o.filled, in.size_scale))
      .Field("executedQuoteQuantity", MoneyText(o.filled_notional));
  if (expiry[0] != '\0') w.Field("expiryReason", expiry);
  w.Field("id", VenueOrderId(o.id)).Field("orderType", market ? "Market" : "Limit");
  if (!market) {
    w.Field("postOnly", o.tif == TimeInForce::kPostOnly).Field("price", Trimmed(o.price, in.price_scale));
  }
  // A trigger order waiting for its trigger: quantity "0", its size in triggerQuantity (§10.1).
  w.Field("quantity", o.awaiting_trigger() ? "0" : Trimmed(o.qty, in.size_scale));
  // By-quote orders: quantity is the derived base quantity, quoteQuantity the quote as sent
  // (ccxt's capture: quantity "0.001", quoteQuantity "3.82", executedQuoteQuantity "3.81428").
  if (meta != order_meta_.end() && !meta->second.quote_qty.empty()) {
    w.Field("quoteQuantity", meta->second.quote_qty);
  } else if (market) {
    w.Field("quoteQuantity", MoneyText(o.filled_notional));
  }
  if (o.reduce_only) {
    w.Field("reduceOnly", true);
  } else {
    w.Key("reduceOnly").Null();
  }
  // An attached take-profit / stop-loss order names its parent (the spec lists the field
  // without saying what it links; this is the reading its name gives).
  if (o.parent_id != 0) {
    w.Field("relatedOrderId", VenueOrderId(o.parent_id));
  } else {
    w.Key("relatedOrderId").Null();
  }
  w.Field("selfTradePrevention", stp)
      .Field("side", SideText(o.side))
      .Field("status", OrderStatusText(o));
  WriteTpSlFields(w, o, /*take_profit=*/false);
  w.Key("strategyId").Null();
  w.Field("symbol", in.symbol());
  WriteTpSlFields(w, o, /*take_profit=*/true);
  w.Field("timeInForce", TifText(o));
  WriteTriggerFields(w, o, /*with_triggered_at=*/true);
  w.EndObject();
  return w.Take();
}

void BackpackModule::WriteTpSlFields(JsonWriter& w, const SimOrder& o, bool take_profit) const {
  const char* pre = take_profit ? "takeProfit" : "stopLoss";
  const std::string limit_key = std::string(pre) + "LimitPrice";
  const std::string by_key = std::string(pre) + "TriggerBy";
  const std::string trigger_key = std::string(pre) + "TriggerPrice";
  const int64_t trigger = take_profit ? o.tp_trigger_price : o.sl_trigger_price;
  const int64_t limit = take_profit ? o.tp_limit_price : o.sl_limit_price;
  if (trigger == 0) {
    Nulls(w, {limit_key.c_str(), by_key.c_str(), trigger_key.c_str()});
    return;
  }
  const SimInstrument& in = *o.instrument;
  auto meta = order_meta_.find(o.id);
  const std::string by = meta == order_meta_.end()
                             ? std::string()
                             : (take_profit ? meta->second.tp_trigger_by : meta->second.sl_trigger_by);
  if (limit != 0) {
    w.Field(limit_key, Trimmed(limit, in.price_scale));
  } else {
    w.Key(limit_key).Null();
  }
  if (!by.empty()) {
    w.Field(by_key, by);
  } else {
    w.Key(by_key).Null();
  }
  w.Field(trigger_key, Trimmed(trigger, in.price_scale));
}

void BackpackModule::WriteTriggerFields(JsonWriter& w, const SimOrder& o,
                                        bool with_triggered_at) const {
  if (!o.conditional()) {
    Nulls(w, {"triggerBy", "triggerPrice", "triggerQuantity"});
    if (with_triggered_at) w.Key("triggeredAt").Null();
    return;
  }
  const SimInstrument& in = *o.instrument;
  auto meta = order_meta_.find(o.id);
  const bool known = meta != order_meta_.end();
  if (known && !meta->second.trigger_by.empty()) {
    w.Field("triggerBy", meta->second.trigger_by);
  } else {
    w.Key("triggerBy").Null();  // not sent (the venue's default is not in the spec)
  }
  w.Field("triggerPrice", Trimmed(o.trigger_price, in.price_scale))
      .Field("triggerQuantity",
             Trimmed(known && meta->second.trigger_qty > 0 ? meta->second.trigger_qty : o.qty,
                     in.size_scale));
  if (!with_triggered_at) return;
  // ms, like createdAt on these order objects.
  if (known && meta->second.triggered_at != 0) {
    w.Field("triggeredAt", ToMs(meta->second.triggered_at));
  } else {
    w.Key("triggeredAt").Null();
  }
}

std::string BackpackModule::HistoryOrderJson(const SimOrder& o) const {
  const SimInstrument& in = *o.instrument;
  auto meta = order_meta_.find(o.id);
  const std::string stp = meta == order_meta_.end() ? "RejectTaker" : meta->second.stp;
  const bool market = o.type == OrderType::kMarket;
  const char* expiry = ExpiryReason(o);
  JsonWriter w;
  w.BeginObject();
  auto cid = ClientIdOf(o);
  if (cid) {
    w.Field("clientId", static_cast<int64_t>(*cid));
  } else {
    w.Key("clientId").Null();
  }
  w.Field("createdAt", IsoUtc(o.created, true))
      .Field("executedQuantity", Trimmed(o.filled, in.size_scale))
      .Field("executedQuoteQuantity", MoneyText(o.filled_notional));
  if (expiry[0] != '\0') {
    w.Field("expiryReason", expiry);
  } else {
    w.Key("expiryReason").Null();
  }
  w.Field("id", VenueOrderId(o.id))
      .Field("orderType", market ? "Market" : "Limit")
      .Field("postOnly", o.tif == TimeInForce::kPostOnly);
  if (market) {
    w.Key("price").Null();
  } else {
    w.Field("price", Trimmed(o.price, in.price_scale));
  }
  w.Field("quantity", o.awaiting_trigger() ? "0" : Trimmed(o.qty, in.size_scale));
  if (meta != order_meta_.end() && !meta->second.quote_qty.empty()) {
    w.Field("quoteQuantity", meta->second.quote_qty);
  } else {
    w.Field("quoteQuantity", MoneyText(o.filled_notional));
  }
  w.Field("reduceOnly", o.reduce_only)
      .Field("selfTradePrevention", stp)
      .Field("side", SideText(o.side))
      .Field("status", OrderStatusText(o));
  WriteTpSlFields(w, o, /*take_profit=*/false);
  w.Key("strategyId").Null();
  w.Field("symbol", in.symbol());
  if (IsLiquidationOrder(o)) {
    w.Field("systemOrderType", "LiquidatePositionOnBook");
  } else {
    w.Key("systemOrderType").Null();
  }
  WriteTpSlFields(w, o, /*take_profit=*/true);
  w.Field("timeInForce", TifText(o));
  WriteTriggerFields(w, o, /*with_triggered_at=*/false);  // history items have no triggeredAt
  w.EndObject();
  return w.Take();
}

std::string BackpackModule::FillJson(const SimFill& f) const {
  const SimInstrument& in = *f.instrument;
  JsonWriter w;
  w.BeginObject();
  auto cid = ParseUint32(f.client_id);
  if (cid) {
    w.Field("clientId", std::to_string(*cid));  // a digit string in fill history
  } else {
    w.Key("clientId").Null();
  }
  w.Field("fee", MoneyText(f.fee))
      .Field("feeSymbol", "USDC")
      .Field("isMaker", f.maker)
      .Field("orderId", VenueOrderId(f.order_id))
      .Field("price", Trimmed(f.price, in.price_scale))
      .Field("quantity", Trimmed(f.qty, in.size_scale))
      .Field("side", SideText(f.side))
      .Field("symbol", in.symbol());
  if (f.liquidation) {
    w.Field("systemOrderType", "LiquidatePositionOnBook");
  } else {
    w.Key("systemOrderType").Null();
  }
  w.Field("timestamp", IsoUtc(f.time, true))
      .Field("tradeId", static_cast<int64_t>(f.trade_id))  // account-wide, as the stream's `t`
      .EndObject();
  return w.Take();
}

std::string BackpackModule::PositionJson(const std::string& account, const SimPosition& p) const {
  const SimInstrument& in = *p.instrument;
  MarginFns f = MarginFor(in);
  auto track = positions_.find(account + '\x1f' + in.symbol());
  const uint64_t position_id = track == positions_.end() ? 0 : track->second.id;
  const int64_t abs_size = p.size < 0 ? -p.size : p.size;
  const Money exposure = in.Notional(p.mark_price, abs_size);
  const std::string entry = p.EntryPrice().ToNormalizedString();
  const int64_t user_id = UserId(ctx_->accounts(), account);
  JsonWriter w;
  w.BeginObject()
      .Field("breakEvenPrice", entry)
      .Field("cumulativeFundingPayment", MoneyText(p.funding))
      .Field("cumulativeInterest", "0")
      .Field("entryPrice", entry)
      .Field("estLiquidationPrice", "0")  // deprecated, always 0 since 2025-09-01
      .Field("imf", f.imf_base);
  WriteMarginFn(w, "imfFunction", f.imf_base, f.imf_factor);
  w.Field("markPrice", Trimmed(p.mark_price, in.price_scale)).Field("mmf", f.mmf_base);
  WriteMarginFn(w, "mmfFunction", f.mmf_base, f.mmf_factor);
  w.Field("netCost", MoneyText(p.size < 0 ? -p.entry_notional : p.entry_notional))
      .Field("netExposureNotional", MoneyText(exposure))
      .Field("netExposureQuantity", Trimmed(abs_size, in.size_scale))
      .Field("netQuantity", Trimmed(p.size, in.size_scale))
      .Field("pnlRealized", MoneyText(p.realized_pnl))
      .Field("pnlUnrealized", MoneyText(p.unrealized_pnl))
      .Field("positionId", std::to_string(position_id));
  w.Key("subaccountId").Null();
  w.Field("symbol", in.symbol()).Field("userId", user_id).EndObject();
  return w.Take();
}

std::string BackpackModule::CollateralJson(const std::string& account) const {
  const Engine& engine = ctx_->engine();
  SimBalance b = engine.Balance(account);
  Money exposure = 0;
  for (const SimPosition& p : engine.Positions(account)) {
    Money n = p.instrument->Notional(p.mark_price, p.size);
    exposure += n < 0 ? -n : n;
  }
  const std::string wallet = MoneyText(b.wallet);
  JsonWriter w;
  w.BeginObject().Field("assetsValue", MoneyText(b.equity)).Field("borrowLiability", "0");
  w.Key("collateral").BeginArray().BeginObject()
      .Field("symbol", b.asset.empty() ? "USDC" : b.asset)
      .Field("assetMarkPrice", "1")
      .Field("totalQuantity", wallet)
      .Field("balanceNotional", wallet)
      .Field("collateralWeight", "1")
      .Field("collateralValue", wallet)
      .Field("openOrderQuantity", "0")
      .Field("lendQuantity", "0")
      .Field("availableQuantity", wallet)
      .EndObject().EndArray();
  w.Field("imf", Ratio(b.initial_margin, exposure, 8))
      .Field("unsettledEquity", MoneyText(b.unrealized))
      .Field("liabilitiesValue", "0");
  if (exposure > 0) {
    w.Field("marginFraction", Ratio(b.equity, exposure, 8));
  } else {
    w.Key("marginFraction").Null();
  }
  w.Field("mmf", Ratio(b.maint_margin, exposure, 8))
      .Field("netEquity", MoneyText(b.equity))
      .Field("netEquityAvailable", MoneyText(std::max<Money>(0, b.available)))
      .Field("netEquityLocked", MoneyText(b.initial_margin))
      .Field("netExposureFutures", MoneyText(exposure))
      .Field("pnlUnrealized", MoneyText(b.unrealized))
      .EndObject();
  return w.Take();
}

std::string BackpackModule::AccountJson(const AccountSpec& acct) const {
  const SimAccount* a = ctx_->engine().account(acct.id);
  auto bps = [](int64_t rate) { return Trimmed(rate, 6); };  // 1e-10 fraction → bps
  auto lev = leverage_limit_.find(acct.id);
  // Open orders by kind: trigger orders still waiting vs the rest (read as counts, as the
  // sample's limitOrders: 1 suggests).
  int64_t limit_orders = 0, trigger_orders = 0;
  for (const SimOrder* o : ctx_->engine().OpenOrders(acct.id)) {
    ++(o->awaiting_trigger() ? trigger_orders : limit_orders);
  }
  JsonWriter w;
  w.BeginObject()
      .Field("autoBorrowSettlements", true)
      .Field("autoLend", false)
      .Field("autoRealizePnl", true)
      .Field("autoRepayBorrows", true)
      .Field("borrowLimit", "1000000")
      .Field("futuresMakerFee", bps(a ? a->maker_fee : 0))
      .Field("futuresTakerFee", bps(a ? a->taker_fee : 0))
      .Field("leverageLimit", std::to_string(lev == leverage_limit_.end() ? 10 : lev->second))
      .Field("limitOrders", limit_orders)
      .Field("liquidating", false)
      .Field("positionLimit", "1000000")
      .Field("spotMakerFee", "8")
      .Field("spotTakerFee", "10")
      .Field("triggerOrders", trigger_orders)
      .EndObject();
  return w.Take();
}

}  // namespace perpgw::sim::backpack
