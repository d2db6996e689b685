// Paradex module REST: /v1 public market data, POST /v1/auth (Stark-signed request → JWT) and
// the Bearer-authenticated private API (orders, fills, positions, balance, account, margin).
// Shapes as in ../shared/protocols/paradex.md §3-§12 and the recorded payloads.
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include <simdjson.h>

#include "adapters/paradex/signing.h"
#include "sim/paradex/module.h"

namespace perpgw::sim::paradex {
namespace {

namespace px = perpgw::adapters::paradex;

ApiError Invalid(std::string message) {
  return {400, "VALIDATION_ERROR", std::move(message)};
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// page_size: default, capped.
size_t PageSize(const HttpRequest& req, size_t def, size_t max) {
  int64_t n = 0;
  if (!ParseInt(req.Query("page_size"), &n) || n <= 0) return def;
  return std::min<size_t>(static_cast<size_t>(n), max);
}

std::string Results(const std::vector<std::string>& items, bool cursors,
                    const std::string& next = {}, const std::string& prev = {}) {
  std::string out = "{";
  if (cursors) {
    auto cursor = [](const std::string& c) { return c.empty() ? std::string("null") : "\"" + c + "\""; };
    out += "\"next\":" + cursor(next) + ",\"prev\":" + cursor(prev) + ",";
  }
  out += "\"results\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  out += "]}";
  return out;
}

// ---- cursor pagination -----------------------------------------------------------------------
// The venue's cursors are opaque base64 (paradex.md §11); the sim's encode a direction and a
// position key of the listing: "n<key>" = the page after (older than) key, "p<key>" = the page
// before (newer than) key. Keys are positions in an append-only history (fills, orders, funding
// payments) or the second of a funding sample, so a cursor stays valid while new rows arrive.
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = acc << 8 | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (c == 0 || p == nullptr) return std::nullopt;
    acc = acc << 6 | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

struct Cursor {
  bool prev = false;  // true: the page newer than key
  int64_t key = 0;
};

std::string CursorText(bool prev, int64_t key) {
  return Base64((prev ? "p" : "n") + std::to_string(key));
}

// The request's cursor: nullopt when absent; *bad set when present but not one of ours.
std::optional<Cursor> ReadCursor(const HttpRequest& req, bool* bad) {
  *bad = false;
  const std::string text = req.Query("cursor");
  if (text.empty()) return std::nullopt;
  auto raw = Unbase64(text);
  Cursor c;
  bool neg = raw && raw->size() > 2 && (*raw)[1] == '-';
  if (!raw || raw->size() < 2 || ((*raw)[0] != 'n' && (*raw)[0] != 'p') ||
      !ParseInt(std::string_view(*raw).substr(neg ? 2 : 1), &c.key)) {
    *bad = true;
    return std::nullopt;
  }
  if (neg) c.key = -c.key;
  c.prev = (*raw)[0] == 'p';
  return c;
}

struct Page {
  std::vector<int64_t> keys;  // newest first
  std::string next, prev;     // cursors ("" = null)
};

// One page of the keys in [lo, hi] that `match`, newest (highest key) first. `next` is set when
// older matches remain, `prev` when newer ones exist (never on the first page).
Page Paginate(int64_t lo, int64_t hi, const std::function<bool(int64_t)>& match, size_t n,
              const std::optional<Cursor>& c) {
  Page out;
  auto any = [&](int64_t from, int64_t to) {  // a match in [from, to]
    for (int64_t k = from; k <= to; ++k) {
      if (match(k)) return true;
    }
    return false;
  };
  if (c && c->prev) {
    for (int64_t k = std::max(lo, c->key + 1); k <= hi && out.keys.size() < n; ++k) {
      if (match(k)) out.keys.push_back(k);
    }
    std::reverse(out.keys.begin(), out.keys.end());
  } else {
    for (int64_t k = c ? std::min(hi, c->key - 1) : hi; k >= lo && out.keys.size() < n; --k) {
      if (match(k)) out.keys.push_back(k);
    }
  }
  if (out.keys.empty()) return out;
  if (any(lo, out.keys.back() - 1)) out.next = CursorText(false, out.keys.back());
  if (c && any(out.keys.front() + 1, hi)) out.prev = CursorText(true, out.keys.front());
  return out;
}

// A JSON array of strings (raw JSON text from ParseJsonObject); nullopt when it is not one.
std::optional<std::vector<std::string>> StringArray(const std::string& json) {
  std::vector<std::string> out;
  if (json.empty() || json == "null") return out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(arr)) return std::nullopt;
  for (auto el : arr) {
    std::string_view v;
    if (el.get_string().get(v)) return std::nullopt;
    out.emplace_back(v);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void ParadexModule::Route(const HttpRequest& req, HttpResponse& resp) {
  std::string path = req.path;
  if (!StartsWith(path, "/v1/")) {
    return WriteError(resp, {404, "NOT_FOUND", "unknown path " + path.substr(0, 64)});
  }
  path = path.substr(3);  // "/markets", ...
  if (req.method == "POST" && (path == "/auth" || StartsWith(path, "/auth/"))) {
    return Auth(req, path.size() > 6 ? std::string_view(path).substr(6) : std::string_view(), resp);
  }
  if (req.method == "GET" && Public(path, req, resp)) return;
  // A GET that is neither public nor one of the venue's private paths is unknown: 404 without
  // asking for a JWT (a 401 there would send clients into auth-retry logic).
  static constexpr std::string_view kPrivateGet[] = {
      "/account",   "/balance",      "/fills",     "/funding/payments", "/liquidations",
      "/orders",    "/orders-history", "/positions", "/tradebusts",     "/transactions",
      "/transfers", "/subaccounts",  "/algo/orders", "/points_data",    "/referrals"};
  if (req.method == "GET" &&
      std::none_of(std::begin(kPrivateGet), std::end(kPrivateGet), [&](std::string_view p) {
        return path == p || (StartsWith(path, p) && path[p.size()] == '/');
      })) {
    return WriteError(resp, {404, "NOT_FOUND", "unknown endpoint GET /v1" + path.substr(0, 64)});
  }
  ApiError err;
  const AccountSpec* acct = Bearer(req, &err);
  if (acct == nullptr) return WriteError(resp, err);
  Private(path, *acct, req, resp);
}

// ---- public ---------------------------------------------------------------------------------

bool ParadexModule::Public(const std::string& path, const HttpRequest& req, HttpResponse& resp) {
  const Market& m = ctx_->market();
  if (path == "/system/config") {
    JsonWriter w;
    w.BeginObject()
        .Field("starknet_chain_id", kChainId)
        .Field("l1_chain_id", "11155111")
        .Field("environment", "perpgw-sim")
        .Field("paraclear_decimals", 8)
        .Field("paraclear_address",
               "0x286003f7c7bfc3f94e8f0af48b48302e7aee2fb13c23b141479ba00832ef2c6")
        .Field("paraclear_account_hash",
               "0x41cb0280ebadaa75f996d8d92c6f265f6d040bb3ba442e5f86a554f1765244e")
        .Field("paraclear_account_proxy_hash",
               "0x3530cc4759d78042f1b543bf797f5f3d647cde0388c33734cf91b7f7b9314a9")
        .EndObject();
    WriteJson(resp, 200, w.Take());
    return true;
  }
  if (path == "/system/state") {
    WriteJson(resp, 200, R"({"status":"ok"})");
    return true;
  }
  if (path == "/system/time") {
    WriteJson(resp, 200, "{\"server_time\":\"" + std::to_string(NowMs()) + "\"}");
    return true;
  }
  if (path == "/jwks.json") {
    WriteJson(resp, 200, jwt_.JwksJson());
    return true;
  }
  if (path == "/markets") {
    std::string want = req.Query("market");
    std::vector<std::string> items;
    for (const SimInstrument& in : m.instruments()) {
      if (want.empty() || want == in.symbol()) items.push_back(MarketJson(in));
    }
    if (!want.empty() && items.empty()) {
      WriteError(resp, {404, "MARKET_NOT_FOUND", "market not found: " + want.substr(0, 64)});
    } else {
      WriteJson(resp, 200, Results(items, false));
    }
    return true;
  }
  if (path == "/markets/summary") {
    std::string want = req.Query("market");
    if (want.empty()) {
      WriteError(resp, Invalid("market is required (a symbol or ALL)"));
      return true;
    }
    std::vector<std::string> items;
    for (size_t i = 0; i < m.size(); ++i) {
      if (want == "ALL" || want == m.instrument(i).symbol()) items.push_back(SummaryJson(i));
    }
    if (items.empty()) {
      WriteError(resp, {404, "MARKET_NOT_FOUND", "market not found: " + want.substr(0, 64)});
    } else {
      WriteJson(resp, 200, Results(items, false));
    }
    return true;
  }
  if (path == "/markets/klines") {
    // symbol, resolution (minutes: 1, 3, 5, 15, 30, 60), start_at/end_at (ms) → {"results":
    // [[start ms, open, high, low, close, volume], ...]} oldest first, numbers as JSON numbers
    // (ccxt's sample). The sim's candles follow the mid (price_kind last/mark/index alike) and
    // count base volume from public trades.
    const SimInstrument* in = m.Find(req.Query("symbol"));
    if (in == nullptr) {
      WriteError(resp, Invalid("symbol is required"));
      return true;
    }
    int64_t minutes = 0;
    const std::string res = req.Query("resolution");
    if (!ParseInt(res, &minutes) ||
        (minutes != 1 && minutes != 3 && minutes != 5 && minutes != 15 && minutes != 30 &&
         minutes != 60)) {
      WriteError(resp, Invalid("resolution must be one of 1, 3, 5, 15, 30, 60"));
      return true;
    }
    int64_t start = -1, end = NowMs();
    int64_t q = 0;
    if (ParseInt(req.Query("start_at"), &q)) start = q;
    if (ParseInt(req.Query("end_at"), &q)) end = q;
    JsonWriter w;
    w.BeginObject().Key("results").BeginArray();
    for (const Candle& c :
         ctx_->Candles(in->index).Range(minutes * CandleSeries::kMinuteMs, start, end, 5000)) {
      w.BeginArray()
          .Int(c.open_ms)
          .Raw(Trimmed(c.open, in->price_scale))
          .Raw(Trimmed(c.high, in->price_scale))
          .Raw(Trimmed(c.low, in->price_scale))
          .Raw(Trimmed(c.close, in->price_scale))
          .Raw(Trimmed(c.volume, in->size_scale))
          .EndArray();
    }
    w.EndArray().EndObject();
    WriteJson(resp, 200, w.Take());
    return true;
  }
  if (path == "/funding/data") {
    const SimInstrument* in = m.Find(req.Query("market"));
    if (in == nullptr) {
      WriteError(resp, Invalid("market is required"));
      return true;
    }
    // Continuous funding: one sample per second (created_at on whole seconds), newest first,
    // from 1 h before the sim started up to now; start_at/end_at (ms) narrow it, cursor pages.
    bool bad = false;
    std::optional<Cursor> cursor = ReadCursor(req, &bad);
    if (bad) {
      WriteError(resp, Invalid("invalid cursor"));
      return true;
    }
    size_t n = PageSize(req, 100, 5000);
    int64_t hi = NowMs() / 1000;
    int64_t q = 0;
    if (ParseInt(req.Query("end_at"), &q)) hi = std::min(hi, q / 1000);
    int64_t lo = ToMs(started_) / 1000 - 3600;
    if (ParseInt(req.Query("start_at"), &q)) lo = std::max(lo, (q + 999) / 1000);
    Page page = Paginate(lo, hi, [](int64_t) { return true; }, n, cursor);
    std::vector<std::string> items;
    for (int64_t k : page.keys) items.push_back(FundingJson(in->index, k * 1'000'000'000));
    WriteJson(resp, 200, Results(items, true, page.next, page.prev));
    return true;
  }
  // /orderbook/{m}/interactive and /bbo/{m}/interactive (paradex.md §5: the book "including
  // RPI orders", what the UI sees): the sim has no RPI liquidity (RPI orders are refused
  // RPI_ACCOUNT_NOT_WHITELISTED), so the interactive book is the API book, same shapes.
  // /orderbook/{m}/impact-price: the spec gives no shape, so it stays unknown (404 NOT_FOUND in
  // the venue's error shape), as does any other suffix - not a market named "BTC-USD-PERP/x".
  std::string_view book_path = path;
  if (StartsWith(path, "/orderbook/") || StartsWith(path, "/bbo/")) {
    const size_t head = StartsWith(path, "/bbo/") ? 5 : 11;
    const size_t slash = path.find('/', head);
    if (slash != std::string::npos) {
      if (std::string_view(path).substr(slash) != "/interactive") return false;
      book_path = std::string_view(path).substr(0, slash);
    }
  }
  if (StartsWith(book_path, "/orderbook/")) {
    const SimInstrument* in = m.Find(book_path.substr(11));
    if (in == nullptr) {
      WriteError(resp, {404, "MARKET_NOT_FOUND", "market not found"});
      return true;
    }
    int64_t depth = 20;
    if (req.HasQuery("depth") && (!ParseInt(req.Query("depth"), &depth) || depth <= 0)) {
      WriteError(resp, Invalid("depth must be a positive integer"));
      return true;
    }
    // price_tick (paradex-docs: "Price tick for aggregation", a string): one of the venue's WS
    // tokens, underscore or dot, a multiple of the market's tick; anything else is refused with
    // VALIDATION_ERROR (the venue documents no code for it: the sim's choice, like depth's).
    int64_t group = 0;
    if (req.HasQuery("price_tick")) {
      auto g = ParsePriceTick(*in, req.Query("price_tick"));
      if (!g) {
        WriteError(resp, Invalid("invalid price_tick " + req.Query("price_tick").substr(0, 32)));
        return true;
      }
      group = *g;
    }
    WriteJson(resp, 200,
              OrderbookJson(in->index, static_cast<size_t>(std::min<int64_t>(depth, 500)), group));
    return true;
  }
  if (StartsWith(book_path, "/bbo/")) {
    const SimInstrument* in = m.Find(book_path.substr(5));
    if (in == nullptr) {
      WriteError(resp, {404, "MARKET_NOT_FOUND", "market not found"});
      return true;
    }
    WriteJson(resp, 200, BboJson(in->index));
    return true;
  }
  if (path == "/trades") {
    const SimInstrument* in = m.Find(req.Query("market"));
    if (in == nullptr) {
      WriteError(resp, Invalid("market is required"));
      return true;
    }
    const auto& trades = markets_[in->index].trades;
    size_t n = PageSize(req, 100, 1000);
    std::vector<std::string> items;
    for (auto it = trades.rbegin(); it != trades.rend() && items.size() < n; ++it) {
      items.push_back(*it);
    }
    WriteJson(resp, 200, Results(items, true));
    return true;
  }
  return false;
}

std::string ParadexModule::MarketJson(const SimInstrument& in) const {
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("base_currency", in.spec.base)
      .Field("quote_currency", "USD")
      .Field("settlement_currency", "USDC")
      .Field("asset_kind", "PERP")
      .Field("market_kind", "cross")
      .Field("trading_mode", "STANDARD")
      .Field("order_size_increment", in.spec.step)
      .Field("price_tick_size", in.spec.tick)
      .Field("min_notional", in.spec.min_notional)
      .Field("open_at", int64_t{0})
      .Field("expiry_at", int64_t{0})
      .Field("position_limit", "1000000")
      .Field("max_order_size", kMaxOrderSize)
      .Field("max_open_orders", 100)
      .Field("price_bands_width", "0.05")
      .Field("max_slippage", "0.05")
      .Field("funding_period_hours", in.spec.funding_interval_hours)
      .Field("max_funding_rate", "0.05")
      .Field("interest_rate", "0.0001")
      // The rest of the funding parameters (paradex.md §3, rest_markets.json): the sample's
      // perp values. The sim's funding does not use them (it quotes its own rates).
      .Field("funding_multiplier", 1)
      .Field("clamp_rate", "0.05")
      .Field("max_funding_rate_change", "0.0005")
      .Field("max_tob_spread", "0.2")
      .Field("oracle_ewma_factor", "0.2")
      // The oracle feed id: the sim has no oracle, so no id ("" keeps the field a string).
      .Field("price_feed_id", "");
  w.Key("tags").BeginArray().EndArray();
  // max leverage = 1 / imf_base.
  std::string imf = Trimmed(int64_t{10000000000} / std::max(1, in.spec.max_leverage), kRateScale);
  w.Key("delta1_cross_margin_params")
      .BeginObject()
      .Field("imf_base", imf)
      .Field("imf_factor", "0")
      .Field("imf_shift", "0")
      .Field("mmf_factor", "0.5")
      .EndObject();
  w.EndObject();
  return w.Take();
}

int64_t ParadexModule::OpenInterest(size_t i) const {
  const Engine& e = ctx_->engine();
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  int64_t longs = 0;
  for (const std::string& a : e.account_ids()) {
    SimPosition p = e.Position(a, i);
    if (p.size > 0) longs += p.size;
  }
  // The baseline in whole steps at the current mark (a step's notional, at least 1e-8).
  const Money unit = std::max<Money>(1, in.Notional(m.mark_price(i), in.step));
  return BaselineFor(in).oi_usd / unit * in.step + longs;
}

Money ParadexModule::Volume24h(size_t i) const {
  return BaselineFor(ctx_->market().instrument(i)).daily_volume + markets_[i].volume_24h;
}

Money ParadexModule::TotalVolume(size_t i) const {
  return BaselineFor(ctx_->market().instrument(i)).daily_volume * 100 + markets_[i].volume_24h;
}

std::string ParadexModule::SummaryJson(size_t i) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const MarketState& ms = markets_[i];
  auto bid = m.book(i).BestBid();
  auto ask = m.book(i).BestAsk();
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("mark_price", in.FormatPrice(m.mark_price(i)))
      .Field("last_traded_price", in.FormatPrice(ms.last_price))
      .Field("bid", bid ? in.FormatPrice(bid->price) : "")
      .Field("bid_size", bid ? in.FormatQty(bid->size) : "")
      .Field("ask", ask ? in.FormatPrice(ask->price) : "")
      .Field("ask_size", ask ? in.FormatQty(ask->size) : "")
      .Field("volume_24h", MoneyText(Volume24h(i)))
      .Field("total_volume", MoneyText(TotalVolume(i)))
      .Field("created_at", NowMs())
      .Field("underlying_price", in.FormatPrice(m.mid(i)))
      .Field("open_interest", in.FormatQty(OpenInterest(i)))
      .Field("funding_rate", RateText(m.funding_rate(i)))
      .Field("price_change_rate_24h", "0")
      // paradex.md §4: external_fair_price is current, oracle_price is in older captures (and
      // in ws_markets_summary.json): both served, the oracle at the mark (as the sample shows
      // them equal), the external fair price at the mid. A perp's greeks are delta 1
      // (rest_markets_summary.json's newer shape).
      .Field("oracle_price", in.FormatPrice(m.mark_price(i)))
      .Field("external_fair_price", in.FormatPrice(m.mid(i)));
  w.Key("greeks")
      .BeginObject()
      .Field("delta", "1")
      .Field("gamma", "0")
      .Field("vega", "0")
      .EndObject()
      .EndObject();
  return w.Take();
}

std::string ParadexModule::FundingJson(size_t i, UnixNanos t) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  int64_t rate = m.funding_rate(i);  // per funding_period_hours
  int64_t rate_8h = rate * 8 / std::max(1, in.spec.funding_interval_hours);
  JsonWriter w;
  w.BeginObject()
      .Field("market", in.symbol())
      .Field("funding_index", Trimmed(FundingIndexAt(i, t), kIndexScale))
      .Field("funding_premium", RateText(rate))
      .Field("funding_rate", RateText(rate))
      .Field("funding_rate_8h", RateText(rate_8h))
      .Field("funding_period_hours", in.spec.funding_interval_hours)
      .Field("created_at", ToMs(t))
      .EndObject();
  return w.Take();
}

// funding_index in price units (paradex.md §4: accrued funding per position = −size ×
// Δfunding_index, in USD): it grows by rate × mark per funding period, continuously. The sim
// samples rate and mark once a second (PushFunding) and accrues linearly between samples.
// Samples before the sim started do not exist: the first sample (index 0 at start) is
// extrapolated backward, so the index is negative there, as real indices can be.
namespace {
int64_t Accrue(const SimInstrument& in, int64_t rate, int64_t mark, UnixNanos dt) {
  const __int128 period_ns =
      static_cast<__int128>(std::max(1, in.spec.funding_interval_hours)) * 3600 * 1'000'000'000;
  __int128 v = static_cast<__int128>(rate) * mark * dt;  // at kRateScale + price_scale
  int shift = kIndexScale - kRateScale - in.price_scale;
  for (; shift > 0; --shift) v *= 10;
  for (; shift < 0; ++shift) v /= 10;
  return static_cast<int64_t>(v / period_ns);
}
}  // namespace

int64_t ParadexModule::FundingIndexAt(size_t i, UnixNanos t) const {
  const SimInstrument& in = ctx_->market().instrument(i);
  const std::deque<IndexSample>& s = markets_[i].index_samples;
  if (s.empty()) {
    return Accrue(in, ctx_->market().funding_rate(i), ctx_->market().mark_price(i), t - started_);
  }
  auto it = std::upper_bound(s.begin(), s.end(), t,
                             [](UnixNanos v, const IndexSample& x) { return v < x.t; });
  const IndexSample& base = it == s.begin() ? s.front() : *std::prev(it);
  return base.index + Accrue(in, base.rate, base.mark, t - base.t);
}

void ParadexModule::SampleFundingIndex(size_t i) {
  const UnixNanos now = ctx_->Now();
  std::deque<IndexSample>& s = markets_[i].index_samples;
  if (!s.empty() && now <= s.back().t) return;
  IndexSample x;
  x.t = now;
  x.index = s.empty() ? 0 : FundingIndexAt(i, now);
  x.rate = ctx_->market().funding_rate(i);
  x.mark = ctx_->market().mark_price(i);
  s.push_back(x);
  if (s.size() > kMaxIndexSamples) s.pop_front();
}

std::optional<int64_t> ParsePriceTick(const SimInstrument& in, std::string_view token) {
  static constexpr std::string_view kTicks[] = {"0.0000001", "0.0000005", "0.000001", "0.00001",
                                                "0.0001",    "0.001",     "0.01",     "0.1",
                                                "1",         "10",        "100"};
  std::string text(token);
  std::replace(text.begin(), text.end(), '_', '.');
  if (std::find(std::begin(kTicks), std::end(kTicks), text) == std::end(kTicks)) {
    return std::nullopt;
  }
  auto g = in.ParsePrice(text);  // fails when finer than the market's price scale
  if (!g.ok() || *g <= 0 || *g % in.tick != 0) return std::nullopt;
  return *g;
}

std::vector<Level> GroupedLevels(const OrderBook& book, bool bids, int64_t group, size_t depth) {
  if (group <= 0) return bids ? book.Bids(depth) : book.Asks(depth);
  std::vector<Level> out;
  auto add = [&](const Level& l) {
    const int64_t bucket = bids ? l.price - l.price % group : (l.price + group - 1) / group * group;
    if (!out.empty() && out.back().price == bucket) {
      out.back().size += l.size;
      return true;
    }
    if (depth != 0 && out.size() == depth) return false;  // the last bucket is complete
    out.push_back({bucket, l.size});
    return true;
  };
  if (bids) {
    book.ForEachBid(add);
  } else {
    book.ForEachAsk(add);
  }
  return out;
}

std::string ParadexModule::OrderbookJson(size_t i, size_t depth, int64_t group) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const OrderBook& b = m.book(i);
  JsonWriter w;
  w.BeginObject()
      .Field("market", in.symbol())
      .Field("seq_no", m.update_id(i))
      .Field("last_updated_at", NowMs());
  auto side = [&](const char* key, const std::vector<Level>& levels) {
    w.Key(key).BeginArray();
    for (const Level& l : levels) {
      w.BeginArray().String(in.FormatPrice(l.price)).String(in.FormatQty(l.size)).EndArray();
    }
    w.EndArray();
  };
  // Grouped or not, best_*_api / _interactive stay the exact top of book (the venue documents
  // them as "size on the best bid/ask"; the sim has no RPI orders, so api == interactive).
  side("bids", GroupedLevels(b, true, group, depth));
  side("asks", GroupedLevels(b, false, group, depth));
  auto best = [&](const char* key, std::optional<Level> l) {
    w.Key(key).BeginArray();
    if (l) w.String(in.FormatPrice(l->price)).String(in.FormatQty(l->size));
    w.EndArray();
  };
  best("best_bid_api", b.BestBid());
  best("best_ask_api", b.BestAsk());
  best("best_bid_interactive", b.BestBid());
  best("best_ask_interactive", b.BestAsk());
  w.EndObject();
  return w.Take();
}

std::string ParadexModule::BboJson(size_t i) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  auto bid = m.book(i).BestBid();
  auto ask = m.book(i).BestAsk();
  JsonWriter w;
  w.BeginObject()
      .Field("market", in.symbol())
      .Field("seq_no", m.update_id(i))
      .Field("bid", bid ? in.FormatPrice(bid->price) : "")
      .Field("bid_size", bid ? in.FormatQty(bid->size) : "")
      .Field("ask", ask ? in.FormatPrice(ask->price) : "")
      .Field("ask_size", ask ? in.FormatQty(ask->size) : "")
      .Field("last_updated_at", NowMs())
      .EndObject();
  return w.Take();
}

// ---- auth -----------------------------------------------------------------------------------

void ParadexModule::Auth(const HttpRequest& req, std::string_view pubkey, HttpResponse& resp) {
  const std::string account = req.Header("paradex-starknet-account");
  const std::string sig_text = req.Header("paradex-starknet-signature");
  const std::string ts_text = req.Header("paradex-timestamp");
  std::string exp_text = req.Header("paradex-signature-expiration");
  if (account.empty() || sig_text.empty() || ts_text.empty()) {
    return WriteError(resp, {400, "BINDING_ERROR",
                             "PARADEX-STARKNET-ACCOUNT, PARADEX-STARKNET-SIGNATURE and "
                             "PARADEX-TIMESTAMP are required"});
  }
  const AccountSpec* acct = AccountByAddress(account);
  if (acct == nullptr) {
    return WriteError(resp, {400, "NOT_ONBOARDED", "User has never called /onboarding endpoint"});
  }
  int64_t ts = 0, exp = 0;
  const int64_t now_s = NowMs() / 1000;
  if (!ParseInt(ts_text, &ts) || ts > now_s + 60 || ts < now_s - 600) {
    return WriteError(resp, {400, "INVALID_TIMESTAMP", "timestamp out of range (unix seconds)"});
  }
  if (exp_text.empty()) {
    exp = ts + 1800;  // default +30 min
  } else if (!ParseInt(exp_text, &exp) || exp <= now_s || exp > ts + 7 * 86400) {
    return WriteError(resp, {400, "INVALID_SIGNATURE_EXPIRATION",
                             "signature expiration must be in the future and within a week"});
  }
  // Plain /auth: signed by the account's own key. /auth/{public key} (what paradex-py always
  // uses; required for subkeys): that key must be registered to the account and signs. Either
  // way the signed message names the main account and the path /v1/auth.
  const std::vector<px::Felt> keys = RegisteredKeys(*acct);
  absl::StatusOr<px::Felt> public_key =
      keys.empty() ? absl::StatusOr<px::Felt>(absl::NotFoundError("no key")) : keys.front();
  if (!pubkey.empty()) {
    auto want = px::ParseFelt(pubkey);
    if (!want.ok() || std::find(keys.begin(), keys.end(), *want) == keys.end()) {
      return WriteError(resp, {400, "INVALID_SUBKEY", "public key is not registered"});
    }
    public_key = *want;
  }
  auto sig = px::ParseSignatureJson(sig_text);
  auto addr = px::ParseFelt(account);
  auto hash = addr.ok() ? px::AuthMessageHash(kChainId, *addr, "POST", "/v1/auth", "",
                                              static_cast<uint64_t>(ts),
                                              exp_text.empty() ? 0 : static_cast<uint64_t>(exp))
                        : addr.status();
  if (!sig.ok() || !hash.ok() || !public_key.ok() || !px::Verify(*public_key, *hash, *sig)) {
    return WriteError(resp, {400, "STARKNET_SIGNATURE_VERIFICATION_FAILED",
                             "starknet signature verification failed"});
  }
  const int64_t token_exp = now_s + jwt_ttl_s_;
  WriteJson(
      resp, 200,
      "{\"jwt_token\":\"" + jwt_.Issue(acct->credentials.at("account"), now_s, token_exp) + "\"}");
}

const AccountSpec* ParadexModule::Bearer(const HttpRequest& req, ApiError* err) const {
  std::string h = req.Header("authorization");
  if (!StartsWith(h, "Bearer ") || h.size() <= 7) {
    *err = {401, "UNAUTHORIZED_ERROR", "missing or malformed jwt"};
    return nullptr;
  }
  std::string sub;
  int64_t jti = 0, exp = 0;
  if (!jwt_.Verify(std::string_view(h).substr(7), &sub, &jti, &exp)) {
    *err = {401, "INVALID_TOKEN", "invalid bearer jwt"};
    return nullptr;
  }
  // Expired, or issued before an expire_token fault.
  if (exp <= NowMs() / 1000 || jti < first_valid_jti_) {
    *err = {401, "INVALID_TOKEN", "invalid bearer jwt: token is expired"};
    return nullptr;
  }
  const AccountSpec* a = AccountByAddress(sub);
  if (a == nullptr) *err = {401, "ACCOUNT_NOT_FOUND", "account not found"};
  return a;
}

// ---- private --------------------------------------------------------------------------------

void ParadexModule::Private(const std::string& path, const AccountSpec& acct,
                            const HttpRequest& req, HttpResponse& resp) {
  Engine& e = ctx_->engine();
  const Market& m = ctx_->market();
  const std::string& account = acct.id;
  const std::string market = req.Query("market");
  if (!market.empty() && market != "ALL" && m.Find(market) == nullptr) {
    return WriteError(resp, {400, "MARKET_NOT_FOUND", "market not found: " + market.substr(0, 64)});
  }
  const std::string sym = market == "ALL" ? std::string() : market;
  if (path == "/orders" && req.method == "POST") return PlaceOrder(acct, req, resp);
  if (path == "/orders" && req.method == "GET") {
    std::vector<std::string> items;
    for (const SimOrder* o : e.OpenOrders(account, sym)) items.push_back(OrderJson(*o));
    return WriteJson(resp, 200, Results(items, false));
  }
  if (path == "/orders" && req.method == "DELETE") {
    ApiError err;
    if (!CancelEvery(acct, market, &err)) return WriteError(resp, err);
    resp.status = 204;
    resp.body.clear();
    return;
  }
  if (path == "/orders/batch") {
    if (req.method == "POST") return PlaceBatch(acct, req, resp);
    if (req.method == "DELETE") return CancelBatch(acct, req, resp);
    return WriteError(resp, {404, "NOT_FOUND", "unknown endpoint " + req.method + " /v1" + path});
  }
  if (StartsWith(path, "/orders/by_client_id/")) {
    std::string cid = path.substr(21);
    const SimOrder* o = e.FindByClientId(account, cid);
    if (req.method == "DELETE") return CancelOrder(acct, o, true, resp);
    if (req.method == "GET") {
      if (o == nullptr || !o->open()) {
        return WriteError(resp, {404, "CLIENT_ORDER_ID_NOT_FOUND", "client order id not found"});
      }
      return WriteJson(resp, 200, OrderJson(*o));
    }
  }
  if (StartsWith(path, "/orders/") && path.find('/', 8) == std::string::npos) {
    auto id = EngineOrderId(std::string_view(path).substr(8));
    const SimOrder* o = id ? e.FindOrder(*id) : nullptr;
    if (o != nullptr && o->account != account) o = nullptr;
    if (req.method == "DELETE") return CancelOrder(acct, o, false, resp);
    if (req.method == "PUT") return ModifyOrder(acct, std::string_view(path).substr(8), req, resp);
    if (req.method == "GET") {
      // GET /orders/{id} returns NEW/OPEN orders only; closed ones are in /orders-history.
      if (o == nullptr || !o->open()) {
        return WriteError(resp, {404, "ORDER_ID_NOT_FOUND", "order not found"});
      }
      return WriteJson(resp, 200, OrderJson(*o));
    }
  }
  // History listings page newest first with the venue's next/prev cursors (see Paginate).
  bool bad_cursor = false;
  const std::optional<Cursor> cursor = ReadCursor(req, &bad_cursor);
  const bool listing = req.method == "GET" && (path == "/orders-history" || path == "/fills" ||
                                               path == "/funding/payments");
  if (listing && bad_cursor) return WriteError(resp, Invalid("invalid cursor"));
  int64_t start_ms = 0, end_ms = INT64_MAX;
  if (listing) {
    (void)ParseInt(req.Query("start_at"), &start_ms);
    if (req.HasQuery("end_at")) (void)ParseInt(req.Query("end_at"), &end_ms);
  }
  if (path == "/orders-history" && req.method == "GET") {
    const std::string cid = req.Query("client_id");
    size_t n = PageSize(req, 100, 5000);
    std::vector<const SimOrder*> all = e.Orders(account);
    Page page = Paginate(
        0, static_cast<int64_t>(all.size()) - 1,
        [&](int64_t k) {
          const SimOrder& o = *all[static_cast<size_t>(k)];
          int64_t t = ToMs(o.created);
          return (sym.empty() || o.instrument->symbol() == sym) &&
                 (cid.empty() || o.client_id == cid) && t >= start_ms && t <= end_ms;
        },
        n, cursor);
    std::vector<std::string> items;
    for (int64_t k : page.keys) items.push_back(OrderJson(*all[static_cast<size_t>(k)]));
    return WriteJson(resp, 200, Results(items, true, page.next, page.prev));
  }
  if (path == "/fills" && req.method == "GET") {
    size_t n = PageSize(req, 100, 5000);
    std::vector<SimFill> fills = e.Fills(account);
    Page page = Paginate(
        0, static_cast<int64_t>(fills.size()) - 1,
        [&](int64_t k) {
          const SimFill& f = fills[static_cast<size_t>(k)];
          int64_t t = ToMs(f.time);
          return (sym.empty() || f.instrument->symbol() == sym) && t >= start_ms && t <= end_ms;
        },
        n, cursor);
    std::vector<std::string> items;
    for (int64_t k : page.keys) items.push_back(FillJson(fills[static_cast<size_t>(k)]));
    return WriteJson(resp, 200, Results(items, true, page.next, page.prev));
  }
  if (path == "/funding/payments" && req.method == "GET") {
    // `market` is required by the venue; the sim also takes ALL (every market).
    if (market.empty()) return WriteError(resp, Invalid("market is required"));
    size_t n = PageSize(req, 100, 5000);
    Page page = Paginate(
        0, static_cast<int64_t>(funding_payments_.size()) - 1,
        [&](int64_t k) {
          const FundingPayment& p = funding_payments_[static_cast<size_t>(k)];
          int64_t t = ToMs(p.time);
          return p.account == account &&
                 (sym.empty() || m.instrument(p.market).symbol() == sym) && t >= start_ms &&
                 t <= end_ms;
        },
        n, cursor);
    std::vector<std::string> items;
    for (int64_t k : page.keys) {
      items.push_back(FundingPaymentJson(funding_payments_[static_cast<size_t>(k)]));
    }
    return WriteJson(resp, 200, Results(items, true, page.next, page.prev));
  }
  if (path == "/positions" && req.method == "GET") {
    std::vector<std::string> items;
    for (const SimPosition& p : e.Positions(account)) items.push_back(PositionJson(account, p));
    return WriteJson(resp, 200, Results(items, false));
  }
  if (path == "/balance" && req.method == "GET") return WriteJson(resp, 200, BalanceJson(acct));
  if (path == "/account" && req.method == "GET") return WriteJson(resp, 200, AccountJson(acct));
  if (path == "/liquidations" && req.method == "GET") {
    // paradex.md §11: from / to (ms, both optional, inclusive) → {results:[{id, created_at}]},
    // newest first like the venue's other lists.
    int64_t from = 0, to = std::numeric_limits<int64_t>::max();
    if ((req.HasQuery("from") && !ParseInt(req.Query("from"), &from)) ||
        (req.HasQuery("to") && !ParseInt(req.Query("to"), &to))) {
      return WriteError(resp, Invalid("from and to must be integers (ms)"));
    }
    JsonWriter w;
    w.BeginObject().Key("results").BeginArray();
    for (auto it = liquidations_.rbegin(); it != liquidations_.rend(); ++it) {
      const int64_t at = it->time / 1'000'000;
      if (it->account != account || at < from || at > to) continue;
      w.BeginObject().Field("id", it->id).Field("created_at", at).EndObject();
    }
    w.EndArray().EndObject();
    return WriteJson(resp, 200, w.Take());
  }
  if (path == "/account/margin" && req.method == "GET") {
    JsonWriter w;
    w.BeginObject().Field("account", acct.credentials.at("account")).Key("configs").BeginArray();
    for (const SimInstrument& in : m.instruments()) {
      if (!sym.empty() && in.symbol() != sym) continue;
      w.BeginObject()
          .Field("market", in.symbol())
          .Field("leverage", e.Leverage(account, in.index))
          .Field("margin_type", e.Isolated(account, in.index) ? "ISOLATED" : "CROSS")
          .EndObject();
    }
    w.EndArray().EndObject();
    return WriteJson(resp, 200, w.Take());
  }
  if (StartsWith(path, "/account/margin/") && req.method == "POST") {
    const SimInstrument* in = m.Find(std::string_view(path).substr(16));
    if (in == nullptr) return WriteError(resp, {400, "MARKET_NOT_FOUND", "market not found"});
    auto f = ParseJsonObject(req.body);
    int64_t lev = 0;
    if (!f.ok() || !f->count("leverage") || !ParseInt(f->at("leverage"), &lev) || lev <= 0 ||
        lev > in->spec.max_leverage) {
      return WriteError(resp, Invalid("leverage must be an integer in [1, " +
                                      std::to_string(in->spec.max_leverage) + "]"));
    }
    // margin_type CROSS or ISOLATED (absent: unchanged). The venue runs isolated margin as an
    // isolated-market sub-account (on_behalf_of_account, paradex.md §9/§10); the sim keeps it
    // on the same account with the engine's per-market isolated margin - the safe reading for
    // a client that only sets and reads the margin type. Refused while the market has a
    // position or open orders (the engine's rule; the spec names no error for it).
    bool isolated = e.Isolated(account, in->index);
    if (f->count("margin_type")) {
      const std::string& mt = f->at("margin_type");
      if (mt != "CROSS" && mt != "ISOLATED") {
        return WriteError(resp, Invalid("margin_type must be CROSS or ISOLATED"));
      }
      isolated = mt == "ISOLATED";
      const MarginResult mr = e.SetIsolated(account, in->symbol(), isolated);
      if (mr == MarginResult::kHasPosition || mr == MarginResult::kHasOpenOrders) {
        return WriteError(resp, Invalid(mr == MarginResult::kHasPosition
                                            ? "cannot change margin_type with an open position"
                                            : "cannot change margin_type with open orders"));
      }
    }
    absl::Status st = e.SetLeverage(account, in->symbol(), static_cast<int>(lev));
    if (!st.ok()) return WriteError(resp, Invalid(std::string(st.message())));
    JsonWriter w;
    w.BeginObject()
        .Field("account", acct.credentials.at("account"))
        .Field("market", in->symbol())
        .Field("leverage", lev)
        .Field("margin_type", isolated ? "ISOLATED" : "CROSS")
        .EndObject();
    return WriteJson(resp, 200, w.Take());
  }
  WriteError(resp,
             {404, "NOT_FOUND", "unknown endpoint " + req.method + " /v1" + path.substr(0, 64)});
}

std::optional<ParadexModule::CheckedOrder> ParadexModule::CheckOrder(const AccountSpec& acct,
                                                                     const JsonFields& f,
                                                                     ApiError* err) const {
  auto fail = [&](ApiError e) -> std::optional<CheckedOrder> {
    *err = std::move(e);
    return std::nullopt;
  };
  auto get = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() || it->second == "null" ? std::string() : it->second;
  };
  const SimInstrument* in = ctx_->market().Find(get("market"));
  if (in == nullptr) return fail({400, "MARKET_NOT_FOUND", "market not found"});
  const std::string side = get("side"), type = get("type"), size = get("size");
  std::string instruction = get("instruction");
  if (instruction.empty()) instruction = "GTC";
  if (side != "BUY" && side != "SELL") return fail(Invalid("side must be BUY or SELL"));
  // Conditional types (paradex.md §10): STOP_* and STOP_LOSS_* fire when the mark moves against
  // the order's side (a buy when it rises to trigger_price, a sell when it falls to it),
  // TAKE_PROFIT_* the other way round; *_LIMIT then executes as a limit at `price`, *_MARKET as a
  // market order. STOP_LOSS_* is read as a stop (the notes list it with no other meaning).
  const bool stop_type = type == "STOP_LIMIT" || type == "STOP_MARKET" ||
                         type == "STOP_LOSS_LIMIT" || type == "STOP_LOSS_MARKET";
  const bool tp_type = type == "TAKE_PROFIT_LIMIT" || type == "TAKE_PROFIT_MARKET";
  const bool conditional = stop_type || tp_type;
  if (type != "LIMIT" && type != "MARKET" && !conditional) {
    return fail(Invalid("type must be LIMIT, MARKET, STOP_LIMIT, STOP_MARKET, TAKE_PROFIT_LIMIT, "
                        "TAKE_PROFIT_MARKET, STOP_LOSS_LIMIT or STOP_LOSS_MARKET"));
  }
  const bool market_type = px::IsMarketOrderType(type);
  if (instruction != "GTC" && instruction != "IOC" && instruction != "POST_ONLY" &&
      instruction != "RPI") {
    return fail(Invalid("instruction must be GTC, IOC, POST_ONLY or RPI"));
  }
  int64_t sig_ms = 0;
  if (!ParseInt(get("signature_timestamp"), &sig_ms)) {
    return fail(Invalid("signature_timestamp (ms) is required"));
  }
  int64_t recv_window = 0;
  if (!get("recv_window").empty() &&
      (!ParseInt(get("recv_window"), &recv_window) || recv_window < 10)) {
    return fail(Invalid("recv_window must be >= 10 ms"));
  }
  if (recv_window > 0 && NowMs() > sig_ms + recv_window) {
    return fail({400, "INVALID_REQUEST_PARAMETER",
                 "order arrived after signature_timestamp + recv_window"});
  }
  // The signature covers timestamp, market, side, type, size and price (0 for every *MARKET
  // type). The signed orderType is the API type as sent — "STOP_LIMIT", not the "LIMIT" it
  // executes as: paradex.md §10 lists the conditional names among the orderType values, and ccxt
  // signs request['type'] the same way. trigger_price is not signed (§10), so a conditional's
  // trigger is checked only for the grid.
  px::OrderFields signed_fields;
  signed_fields.timestamp_ms = static_cast<uint64_t>(sig_ms);
  signed_fields.market = in->symbol();
  signed_fields.side = side == "BUY" ? px::OrderSide::kBuy : px::OrderSide::kSell;
  signed_fields.order_type = type;
  signed_fields.size = size;
  signed_fields.price = market_type ? "0" : get("price");
  auto sig = px::ParseSignatureJson(get("signature"));
  auto addr = px::ParseFelt(acct.credentials.at("account"));
  auto hash = addr.ok() ? px::OrderMessageHash(kChainId, *addr, signed_fields) : addr.status();
  // Signed for the main account's address by its own key or any registered subkey.
  bool verified = false;
  if (sig.ok() && hash.ok()) {
    for (const px::Felt& k : RegisteredKeys(acct)) {
      if ((verified = px::Verify(k, *hash, *sig))) break;
    }
  }
  if (!verified) return fail({400, "INVALID_ORDER_SIGNATURE", "invalid order signature"});
  CheckedOrder c;
  PlaceRequest& pr = c.req;
  pr.account = acct.id;
  pr.symbol = in->symbol();
  pr.client_id = get("client_id");
  if (pr.client_id.size() > 64) return fail(Invalid("client_id longer than 64"));
  pr.side = side == "BUY" ? Side::kBuy : Side::kSell;
  pr.type = market_type ? OrderType::kMarket : OrderType::kLimit;
  pr.tif = instruction == "IOC"         ? TimeInForce::kIoc
           : instruction == "POST_ONLY" ? TimeInForce::kPostOnly
                                        : TimeInForce::kGtc;
  pr.reduce_only = get("flags").find("REDUCE_ONLY") != std::string::npos;
  auto qty = in->ParseQty(size);
  // Position TP/SL: a STOP_LOSS_* / TAKE_PROFIT_* with size "0" closes the whole position when
  // it fires — what ccxt 4.5 sends for stopLossPrice / takeProfitPrice (size "0", flags
  // ["REDUCE_ONLY"], the signature over size 0). The venue documents no separate "position"
  // flag (OrderFlag has none), so the sim reads size 0 + REDUCE_ONLY on these four types as
  // "whole position"; size 0 without REDUCE_ONLY stays INVALID_ORDER_SIZE (ccxt: REDUCE_ONLY
  // "must be provided for TPSL orders"). The engine trims a reduce-only order to the position
  // when it executes, so it is placed at the market's max_order_size. No position when it
  // fires: it closes with REDUCE_ONLY_WOULD_INCREASE like any reduce-only order.
  const bool tpsl_type = type == "STOP_LOSS_MARKET" || type == "STOP_LOSS_LIMIT" ||
                         type == "TAKE_PROFIT_MARKET" || type == "TAKE_PROFIT_LIMIT";
  bool whole_position = false;
  if (qty.ok() && *qty == 0 && tpsl_type && pr.reduce_only) {
    auto cap = in->ParseQty(kMaxOrderSize);
    if (!cap.ok()) return fail({500, "INTERNAL_ERROR", "max_order_size does not parse"});
    qty = *cap - *cap % in->step;
    whole_position = true;
  }
  if (!qty.ok() || *qty <= 0 || *qty % in->step != 0) {
    return fail(
        {400, "INVALID_ORDER_SIZE", "size must be a positive multiple of " + in->spec.step});
  }
  pr.qty = *qty;
  if (pr.type == OrderType::kLimit) {
    auto px_ = in->ParsePrice(get("price"));
    if (!px_.ok() || *px_ <= 0 || *px_ % in->tick != 0) {
      return fail({400, "INVALID_PRICE_PRECISION",
                   "price must be a positive multiple of " + in->spec.tick});
    }
    pr.price = *px_;
  }
  if (conditional) {
    auto trig = in->ParsePrice(get("trigger_price"));
    if (get("trigger_price").empty()) return fail(Invalid("trigger_price is required for " + type));
    if (!trig.ok() || *trig <= 0 || *trig % in->tick != 0) {
      return fail({400, "INVALID_PRICE_PRECISION",
                   "trigger_price must be a positive multiple of " + in->spec.tick});
    }
    pr.trigger_price = *trig;
    const bool above = stop_type == (pr.side == Side::kBuy);
    pr.trigger = above ? TriggerWhen::kAtOrAbove : TriggerWhen::kAtOrBelow;
  }
  if (pr.type == OrderType::kMarket) {
    // MARKET: bounded by the market's max_slippage (5 %) around the mark — for a conditional
    // one around its trigger price, the mark when it fires (the sim's reading: the bound is
    // fixed at placement, and the placement mark may be far from where it fires).
    int64_t mark = conditional ? pr.trigger_price : ctx_->market().mark_price(in->index);
    int64_t band = mark / 20;
    pr.worst_price = pr.side == Side::kBuy ? mark + band : std::max<int64_t>(in->tick, mark - band);
  }
  c.meta.type = type;
  c.meta.instruction = instruction;
  c.meta.stp = get("stp").empty() ? "EXPIRE_TAKER" : get("stp");
  c.meta.signature_ms = sig_ms;
  c.meta.whole_position = whole_position;
  return c;
}

std::optional<SimOrder> ParadexModule::Submit(const CheckedOrder& c, ApiError* err) {
  // instruction RPI (retail price improvement): paradex-docs trading/rpi says RPI orders are in
  // beta "only available for selected market-making partners" — post-only, placed inside the
  // lit spread, hidden from the API book, matched only by retail (interactive-token) orders at
  // the lowest priority. No sim account is such a partner, so every RPI order gets the venue's
  // own refusal for a non-partner, RPI_ACCOUNT_NOT_WHITELISTED (in the error enum, paradex.md
  // §12; HTTP 400 and the message are the sim's choice). An account-level check, so after the
  // signature/validation pass: in a batch it is that order's entry in `errors`.
  if (c.meta.instruction == "RPI") {
    *err = {400, "RPI_ACCOUNT_NOT_WHITELISTED", "account is not whitelisted for RPI orders"};
    return std::nullopt;
  }
  if (!c.req.client_id.empty()) {
    const SimOrder* dup = ctx_->engine().FindByClientId(c.req.account, c.req.client_id);
    if (dup != nullptr && dup->open()) {
      *err = {400, "DUPLICATED_CLIENT_ID", "client id already in use"};
      return std::nullopt;
    }
  }
  // Matching is asynchronous on the venue: the 201 says NEW, the outcome arrives on orders.* /
  // fills.*. Events the engine emits while placing wait until the response is out.
  const size_t held = deferred_.size();
  deferring_ = true;
  PlaceResult r = ctx_->engine().Place(c.req);
  deferring_ = false;
  if (r.code == RejectCode::kInvalidPrice || r.code == RejectCode::kInvalidQty ||
      r.code == RejectCode::kMinNotional || r.code == RejectCode::kDuplicateClientId ||
      r.code == RejectCode::kUnknownSymbol) {
    // Synchronous validation failure: nothing was accepted (this order's events are dropped).
    deferred_.resize(held);
    if (r.message == "order would immediately trigger") {
      // The venue documents no code for a trigger the mark has already reached; the sim
      // answers INVALID_REQUEST_PARAMETER (in the venue's enum; ccxt reads it as BadRequest).
      *err = {400, "INVALID_REQUEST_PARAMETER",
              "trigger_price would trigger immediately: the mark is already at or beyond it"};
      return std::nullopt;
    }
    const char* code = r.code == RejectCode::kDuplicateClientId ? "DUPLICATED_CLIENT_ID"
                       : r.code == RejectCode::kInvalidPrice    ? "INVALID_PRICE_PRECISION"
                                                                : "INVALID_ORDER_SIZE";
    *err = {400, code, r.message};
    return std::nullopt;
  }
  order_meta_[r.order.id] = c.meta;
  order_meta_[r.order.id].parked = r.order.awaiting_trigger();
  return r.order;
}

void ParadexModule::FlushDeferred() {
  if (deferred_.empty()) return;
  auto events = std::move(deferred_);
  deferred_.clear();
  ctx_->loop().Post([this, events = std::move(events)] {
    for (const AccountEvent& ev : events) DispatchAccountEvent(ev);
  });
}

std::optional<SimOrder> ParadexModule::CreateOrder(const AccountSpec& acct, const JsonFields& f,
                                                   ApiError* err) {
  std::optional<CheckedOrder> c = CheckOrder(acct, f, err);
  if (!c) return std::nullopt;
  return Submit(*c, err);
}

void ParadexModule::PlaceOrder(const AccountSpec& acct, const HttpRequest& req,
                               HttpResponse& resp) {
  auto f = ParseJsonObject(req.body);
  if (!f.ok()) return WriteError(resp, {400, "BINDING_ERROR", "body is not a JSON object"});
  ApiError err;
  std::optional<SimOrder> placed = CreateOrder(acct, *f, &err);
  if (!placed) return WriteError(resp, err);
  WriteJson(resp, 201, OrderJson(*placed, /*as_new=*/true));
  FlushDeferred();
}

// POST /orders/batch: a JSON array of 1..kMaxBatch signed orders (the OpenAPI bound; a
// best-practices page says 50 — the sim takes the documented 10). A signature or basic
// validation failure rejects the whole batch (that order's error, HTTP 400), as the notes say;
// otherwise each order goes to the engine in turn and the 201 body is
// {"orders":[accepted orders, request order], "errors":[refusals, request order]}. The notes
// sketch `errors` with null entries; the sim lists only real errors, as the venue's docs
// example does and as ccxt reads it (ccxt 4.5 turns every `errors` element, null included,
// into a rejected order).
std::optional<std::vector<ParadexModule::BatchOutcome>> ParadexModule::CreateBatch(
    const AccountSpec& acct, std::string_view orders_json, ApiError* err) {
  auto items = ParseJsonObjectArray(orders_json);
  if (!items.ok()) {
    *err = {400, "BINDING_ERROR", "orders must be a JSON array of order objects"};
    return std::nullopt;
  }
  if (items->empty() || items->size() > kMaxBatch) {
    *err = {400, "BATCH_SIZE_OUT_OF_RANGE",
            "batch size must be between 1 and " + std::to_string(kMaxBatch)};
    return std::nullopt;
  }
  // Every order is checked (signature included) before any reaches the engine.
  std::vector<CheckedOrder> checked;
  for (const JsonFields& f : *items) {
    std::optional<CheckedOrder> c = CheckOrder(acct, f, err);
    if (!c) return std::nullopt;
    checked.push_back(std::move(*c));
  }
  std::vector<BatchOutcome> out;
  for (const CheckedOrder& c : checked) {
    BatchOutcome o;
    o.order = Submit(c, &o.err);
    out.push_back(std::move(o));
  }
  return out;
}

void ParadexModule::PlaceBatch(const AccountSpec& acct, const HttpRequest& req,
                               HttpResponse& resp) {
  ApiError err;
  auto outcomes = CreateBatch(acct, req.body, &err);
  if (!outcomes) return WriteError(resp, err);
  JsonWriter orders, errors;
  orders.BeginArray();
  errors.BeginArray();
  for (const BatchOutcome& o : *outcomes) {
    if (o.order) {
      orders.Raw(OrderJson(*o.order, /*as_new=*/true));
    } else {
      errors.BeginObject().Field("error", o.err.code).Field("message", o.err.message).EndObject();
    }
  }
  orders.EndArray();
  errors.EndArray();
  WriteJson(resp, 201, "{\"orders\":" + orders.Take() + ",\"errors\":" + errors.Take() + "}");
  FlushDeferred();
}

// PUT /orders/{id}: modify price and/or size of an open LIMIT order (same id). Body as the
// venue documents it: id (= the path's), market, side and type (the order's own), size,
// price, signature over ModifyOrder{timestamp, market, side, orderType, size, price, id},
// signature_timestamp, optional recv_window. The engine amends in place (a crossing price
// trades first; a crossing post-only modify is refused with the order unchanged). 200 with the
// order after the modify plus request_info {id, request_type MODIFY_ORDER, status ACCEPTED,
// message ""}; the new state also goes out on orders.* (fills, if it crossed, on fills.*).
// Refusals the notes do not name codes for (post-only would cross, reduce-only, margin) are
// VALIDATION_ERROR with the engine's message: the sim's choice.
std::optional<SimOrder> ParadexModule::AmendOrder(const AccountSpec& acct,
                                                  std::string_view id_text, const JsonFields& f,
                                                  ApiError* err) {
  auto fail = [&](ApiError e) -> std::optional<SimOrder> {
    *err = std::move(e);
    return std::nullopt;
  };
  auto get = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() || it->second == "null" ? std::string() : it->second;
  };
  Engine& e = ctx_->engine();
  auto engine_id = EngineOrderId(id_text);
  const SimOrder* o = engine_id ? e.FindOrder(*engine_id) : nullptr;
  if (o == nullptr || o->account != acct.id) {
    return fail({404, "ORDER_ID_NOT_FOUND", "order not found"});
  }
  if (get("id") != id_text) return fail(Invalid("id must be the path's order id"));
  if (!o->open()) return fail({400, "ORDER_IS_CLOSED", "order is closed"});
  const SimInstrument& in = *o->instrument;
  auto meta_it = order_meta_.find(o->id);
  const std::string type = get("type");
  if (get("market") != in.symbol() || get("side") != SideText(o->side)) {
    return fail(Invalid("market and side must be the order's own"));
  }
  // The type is the order's own, as sent (signed that way too). Modifiable: an open LIMIT (a
  // fired *_LIMIT conditional rests as one) and a conditional still UNTRIGGERED — its
  // trigger_price, limit price (for *_LIMIT) and size (paradex.md §10: "modify
  // price/size/trigger_price of open limit or TPSL orders").
  const std::string own_type = meta_it != order_meta_.end() ? meta_it->second.type
                               : o->type == OrderType::kMarket ? "MARKET"
                                                               : "LIMIT";
  if (type != own_type) return fail(Invalid("type must be the order's own (" + own_type + ")"));
  const bool parked = o->awaiting_trigger();
  if (!parked && o->type != OrderType::kLimit) {
    return fail(Invalid("only open LIMIT orders and untriggered conditional orders can be "
                        "modified"));
  }
  const bool market_type = px::IsMarketOrderType(type);
  const bool whole_position = meta_it != order_meta_.end() && meta_it->second.whole_position;
  int64_t sig_ms = 0;
  if (!ParseInt(get("signature_timestamp"), &sig_ms)) {
    return fail(Invalid("signature_timestamp (ms) is required"));
  }
  int64_t recv_window = 0;
  if (!get("recv_window").empty() &&
      (!ParseInt(get("recv_window"), &recv_window) || recv_window < 10)) {
    return fail(Invalid("recv_window must be >= 10 ms"));
  }
  if (recv_window > 0 && NowMs() > sig_ms + recv_window) {
    return fail({400, "INVALID_REQUEST_PARAMETER",
                 "order arrived after signature_timestamp + recv_window"});
  }
  px::ModifyOrderFields signed_fields;
  signed_fields.order.timestamp_ms = static_cast<uint64_t>(sig_ms);
  signed_fields.order.market = in.symbol();
  signed_fields.order.side = o->side == Side::kBuy ? px::OrderSide::kBuy : px::OrderSide::kSell;
  signed_fields.order.order_type = type;
  signed_fields.order.size = get("size");
  // As at placement: price 0 for every *_MARKET type (ccxt's editOrder signs it so).
  signed_fields.order.price = market_type ? "0" : get("price");
  signed_fields.id = std::string(id_text);
  auto sig = px::ParseSignatureJson(get("signature"));
  auto addr = px::ParseFelt(acct.credentials.at("account"));
  auto hash =
      addr.ok() ? px::ModifyOrderMessageHash(kChainId, *addr, signed_fields) : addr.status();
  bool verified = false;
  if (sig.ok() && hash.ok()) {
    for (const px::Felt& k : RegisteredKeys(acct)) {
      if ((verified = px::Verify(k, *hash, *sig))) break;
    }
  }
  if (!verified) return fail({400, "INVALID_ORDER_SIGNATURE", "invalid order signature"});
  auto qty = in.ParseQty(get("size"));
  // A position TP/SL modified with size "0" stays sized to the whole position (qty kept); a
  // real size makes it an ordinary sized order.
  const bool keep_whole = parked && whole_position && qty.ok() && *qty == 0;
  if (!keep_whole && (!qty.ok() || *qty <= 0 || *qty % in.step != 0)) {
    return fail({400, "INVALID_ORDER_SIZE", "size must be a positive multiple of " + in.spec.step});
  }
  int64_t new_price = 0;  // *_MARKET: no limit price (0 keeps none)
  if (!market_type) {
    auto price = in.ParsePrice(get("price"));
    if (!price.ok() || *price <= 0 || *price % in.tick != 0) {
      return fail({400, "INVALID_PRICE_PRECISION",
                   "price must be a positive multiple of " + in.spec.tick});
    }
    new_price = *price;
  }
  // trigger_price (unsigned, like at placement): absent or "0" keeps it. Only an untriggered
  // conditional takes a new one; once fired, the same value is tolerated (clients echo it).
  int64_t new_trigger = 0;
  if (!get("trigger_price").empty()) {
    auto trig = in.ParsePrice(get("trigger_price"));
    if (!trig.ok() || *trig < 0 || *trig % in.tick != 0) {
      return fail({400, "INVALID_PRICE_PRECISION",
                   "trigger_price must be a positive multiple of " + in.spec.tick});
    }
    if (*trig != 0 && !parked && *trig != o->trigger_price) {
      return fail(Invalid("trigger_price can be modified only while the order is UNTRIGGERED"));
    }
    if (parked) new_trigger = *trig;
  }
  AmendRequest ar;
  ar.account = acct.id;
  ar.order_id = o->id;
  ar.price = new_price;
  ar.qty = keep_whole ? 0 : *qty;
  ar.trigger_price = new_trigger;
  // The engine's parked amend: new trigger / price / size stored, nothing trades, same id.
  // Limitation (not a venue reading): a *_MARKET keeps the ±5 % bound it was placed with,
  // measured from its first trigger (the engine's amend does not move worst_price), so moving a
  // stop-market's trigger far from where it was placed narrows what it can fill when it fires.
  ar.allow_parked = parked;
  const size_t held = deferred_.size();
  deferring_ = true;
  AmendResult r = e.Amend(ar);
  deferring_ = false;
  if (r.code != RejectCode::kNone) {
    deferred_.resize(held);  // a refused amend emits nothing; keep it that way
    ApiError refused = Invalid(r.message);
    if (r.code == RejectCode::kAlreadyClosed) refused = {400, "ORDER_IS_CLOSED", r.message};
    if (r.code == RejectCode::kNotFound) refused = {404, "ORDER_ID_NOT_FOUND", r.message};
    if (r.code == RejectCode::kInvalidQty || r.code == RejectCode::kMinNotional) {
      refused = {400, "INVALID_ORDER_SIZE", r.message};
    }
    if (r.code == RejectCode::kInvalidPrice) refused = {400, "INVALID_PRICE_PRECISION", r.message};
    if (r.message == "order would immediately trigger") {
      // As at placement (no documented code: the sim's choice).
      refused = {400, "INVALID_REQUEST_PARAMETER",
                 "trigger_price would trigger immediately: the mark is already at or beyond it"};
    }
    return fail(refused);
  }
  if (meta_it != order_meta_.end()) {
    meta_it->second.signature_ms = sig_ms;
    if (parked && !keep_whole) meta_it->second.whole_position = false;
  }
  return r.order;
}

void ParadexModule::ModifyOrder(const AccountSpec& acct, std::string_view id_text,
                                const HttpRequest& req, HttpResponse& resp) {
  auto f = ParseJsonObject(req.body);
  if (!f.ok()) return WriteError(resp, {400, "BINDING_ERROR", "body is not a JSON object"});
  ApiError err;
  std::optional<SimOrder> amended = AmendOrder(acct, id_text, *f, &err);
  if (!amended) return WriteError(resp, err);
  JsonWriter info;
  info.BeginObject()
      .Field("id", std::string(id_text))
      .Field("message", "")
      .Field("request_type", "MODIFY_ORDER")
      .Field("status", "ACCEPTED")
      .EndObject();
  WriteJson(resp, 200, OrderJson(*amended, /*as_new=*/false, info.Take()));
  FlushDeferred();
}

// DELETE /orders/batch {"order_ids":[...], "client_order_ids":[...]} (either or both): 200
// {"results":[...]} with one entry per id, order ids first, each {id, client_id, account,
// market, status}: QUEUED_FOR_CANCELLATION (the CLOSED state follows on orders.*),
// ALREADY_CLOSED, or NOT_FOUND (then only the id that was asked for) — the venue's documented
// shape. The venue documents no bound for this batch; the sim takes up to 100 ids.
std::optional<std::string> ParadexModule::CancelMany(const AccountSpec& acct, const JsonFields& f,
                                                     ApiError* err) {
  auto ids = StringArray(f.count("order_ids") ? f.at("order_ids") : "");
  auto cids = StringArray(f.count("client_order_ids") ? f.at("client_order_ids") : "");
  if (!ids || !cids) {
    *err = {400, "BINDING_ERROR", "order_ids and client_order_ids must be arrays of strings"};
    return std::nullopt;
  }
  const size_t total = ids->size() + cids->size();
  if (total == 0) {
    *err = Invalid("order_ids or client_order_ids is required");
    return std::nullopt;
  }
  if (total > 100) {
    *err = {400, "BATCH_SIZE_OUT_OF_RANGE", "at most 100 ids per batch"};
    return std::nullopt;
  }
  Engine& e = ctx_->engine();
  const std::string address = acct.credentials.at("account");
  JsonWriter w;
  w.BeginObject().Key("results").BeginArray();
  auto result = [&](const SimOrder* o, const char* key, const std::string& asked) {
    w.BeginObject();
    if (o == nullptr) {
      w.Field(key, asked).Field("status", "NOT_FOUND").EndObject();
      return;
    }
    const char* status = "ALREADY_CLOSED";
    if (o->open() && e.Cancel(acct.id, o->id).code == RejectCode::kNone) {
      status = "QUEUED_FOR_CANCELLATION";
    }
    w.Field("id", paradex::VenueOrderId(o->id))
        .Field("client_id", o->client_id)
        .Field("account", address)
        .Field("market", o->instrument->symbol())
        .Field("status", status)
        .EndObject();
  };
  for (const std::string& id : *ids) {
    auto engine_id = EngineOrderId(id);
    const SimOrder* o = engine_id ? e.FindOrder(*engine_id) : nullptr;
    if (o != nullptr && o->account != acct.id) o = nullptr;
    result(o, "id", id);
  }
  for (const std::string& cid : *cids) {
    const SimOrder* o = cid.empty() ? nullptr : e.FindByClientId(acct.id, cid);
    result(o, "client_id", cid);
  }
  w.EndArray().EndObject();
  return w.Take();
}

void ParadexModule::CancelBatch(const AccountSpec& acct, const HttpRequest& req,
                                HttpResponse& resp) {
  auto f = ParseJsonObject(req.body);
  if (!f.ok()) return WriteError(resp, {400, "BINDING_ERROR", "body is not a JSON object"});
  ApiError err;
  std::optional<std::string> results = CancelMany(acct, *f, &err);
  if (!results) return WriteError(resp, err);
  WriteJson(resp, 200, *results);
}

bool ParadexModule::CancelOne(const AccountSpec& acct, const SimOrder* o, bool by_client_id,
                              ApiError* err) {
  if (o == nullptr) {
    *err = by_client_id ? ApiError{404, "CLIENT_ORDER_ID_NOT_FOUND", "client order id not found"}
                        : ApiError{404, "ORDER_ID_NOT_FOUND", "order not found"};
    return false;
  }
  if (!o->open()) {
    *err = {400, "ORDER_IS_CLOSED", "order is closed"};
    return false;
  }
  CancelResult r = ctx_->engine().Cancel(acct.id, o->id);
  if (r.code != RejectCode::kNone) {
    *err = {400, "ORDER_IS_CLOSED", r.message};
    return false;
  }
  return true;
}

void ParadexModule::CancelOrder(const AccountSpec& acct, const SimOrder* o, bool by_client_id,
                                HttpResponse& resp) {
  ApiError err;
  if (!CancelOne(acct, o, by_client_id, &err)) return WriteError(resp, err);
  resp.status = 204;  // queued; the CLOSED state arrives on orders.*
  resp.body.clear();
}

bool ParadexModule::CancelEvery(const AccountSpec& acct, const std::string& market,
                                ApiError* err) {
  if (!market.empty() && market != "ALL" && ctx_->market().Find(market) == nullptr) {
    *err = {400, "MARKET_NOT_FOUND", "market not found: " + market.substr(0, 64)};
    return false;
  }
  ctx_->engine().CancelAll(acct.id, market == "ALL" ? std::string() : market);
  return true;
}

// ---- private payloads ------------------------------------------------------------------------

std::string ParadexModule::OrderJson(const SimOrder& o, bool as_new,
                                     std::string_view request_info) const {
  const SimInstrument& in = *o.instrument;
  auto meta_it = order_meta_.find(o.id);
  OrderMeta meta = meta_it == order_meta_.end() ? OrderMeta{} : meta_it->second;
  if (meta_it == order_meta_.end()) {
    meta.type = o.type == OrderType::kMarket ? "MARKET" : "LIMIT";
    meta.instruction = o.tif == TimeInForce::kIoc        ? "IOC"
                       : o.tif == TimeInForce::kPostOnly ? "POST_ONLY"
                                                         : "GTC";
  }
  const std::string acct_addr = AddressOf(o.account);
  Decimal avg = o.AvgPrice();
  // A position TP/SL shows the size it was sent with ("0") until it fires and is sized to the
  // position (the sim's reading: the venue's echo of such an order is not in the notes).
  // A refused one (no position to reduce when it fired) keeps "0": it was never sized.
  const bool sent_size_zero =
      meta.whole_position && (as_new || !o.triggered || o.status == OrderStatus::kRejected);
  JsonWriter w;
  w.BeginObject()
      .Field("id", paradex::VenueOrderId(o.id))
      .Field("client_id", o.client_id)
      .Field("account", acct_addr)
      .Field("market", in.symbol())
      .Field("side", SideText(o.side))
      .Field("type", meta.type)
      .Field("size", sent_size_zero ? std::string("0") : in.FormatQty(o.qty))
      .Field("remaining_size", sent_size_zero ? std::string("0")
                               : in.FormatQty(as_new ? o.qty : o.remaining()))
      .Field("price", o.type == OrderType::kMarket ? "0" : in.FormatPrice(o.price))
      .Field("avg_fill_price", as_new || o.filled == 0 ? "" : avg.ToNormalizedString())
      .Field("status", as_new ? "NEW" : OrderStatusText(o))
      .Field("cancel_reason", as_new                                             ? ""
                              : o.status == OrderStatus::kCanceled && !meta.cancel_reason.empty()
                                  ? meta.cancel_reason
                                  : CancelReasonText(o))
      .Field("instruction", meta.instruction)
      .Key("flags")
      .BeginArray();
  if (o.reduce_only) w.String("REDUCE_ONLY");
  w.EndArray()
      .Field("stp", meta.stp)
      .Field("trigger_price", o.conditional() ? in.FormatPrice(o.trigger_price) : "")
      .Field("timestamp", meta.signature_ms)
      .Field("created_at", ToMs(o.created))
      .Field("last_updated_at", ToMs(as_new ? o.created : o.updated))
      .Field("received_at", ToMs(o.created))
      .Field("published_at", ToMs(o.updated))
      .Field("seq_no", static_cast<int64_t>(ToUs(o.updated)));
  // request_info (paradex.md §10: "modify status"): on every order object, its four members
  // empty as in rest_order_response.json; a modify answer passes its own (ModifyOrder).
  w.Key("request_info");
  if (!request_info.empty()) {
    w.Raw(request_info);
  } else {
    w.BeginObject()
        .Field("id", "")
        .Field("message", "")
        .Field("request_type", "")
        .Field("status", "")
        .EndObject();
  }
  w.EndObject();
  return w.Take();
}

std::string ParadexModule::FillJson(const SimFill& f) const {
  const SimInstrument& in = *f.instrument;
  const SimOrder* o = ctx_->engine().FindOrder(f.order_id);
  const std::string acct_addr = AddressOf(f.account);
  auto extra_it = fill_extra_.find(f.trade_id * 2 + (f.maker ? 1 : 0));
  const FillExtra* extra = extra_it == fill_extra_.end() ? nullptr : &extra_it->second;
  JsonWriter w;
  w.BeginObject()
      .Field("id", VenueTradeId(f.trade_id) + (f.maker ? "1" : "0"))
      .Field("account", acct_addr)
      .Field("market", in.symbol())
      .Field("side", SideText(f.side))
      .Field("size", in.FormatQty(f.qty))
      .Field("price", in.FormatPrice(f.price))
      .Field("fee", MoneyText(f.fee))
      .Field("fee_currency", "USDC")
      .Field("liquidity", f.maker ? "MAKER" : "TAKER")
      .Field("fill_type", f.liquidation ? "LIQUIDATION" : "FILL")
      .Field("order_id", f.liquidation ? std::string() : paradex::VenueOrderId(f.order_id))
      // The book's update id after the execution; 0 for liquidations (paradex.md §5).
      .Field("orderbook_seq_no", f.liquidation || extra == nullptr ? uint64_t{0} : extra->book_seq)
      .Field("client_id", f.client_id)
      .Field("remaining_size", o != nullptr ? in.FormatQty(o->remaining()) : "0")
      // The position's realized pnl change on this fill (the engine's, fees excluded).
      .Field("realized_pnl", MoneyText(extra != nullptr ? extra->realized_pnl : 0))
      .Field("realized_funding", "0")
      .Field("underlying_price", in.FormatPrice(ctx_->market().mid(in.index)))
      .Key("flags")
      .BeginArray()
      .EndArray()
      .Field("created_at", ToMs(f.time))
      .EndObject();
  return w.Take();
}

// A funding payment as GET /funding/payments and funding_payments.* carry it (the venue's
// FundingPayment: id, account, market, payment, index, fill_id, created_at). fill_id is "" —
// the sim's payments settle positions, not fills.
std::string ParadexModule::FundingPaymentJson(const FundingPayment& p) const {
  JsonWriter w;
  w.BeginObject()
      .Field("id", std::to_string(p.id))
      .Field("account", AddressOf(p.account))
      .Field("market", ctx_->market().instrument(p.market).symbol())
      .Field("payment", MoneyText(p.payment))
      .Field("index", Trimmed(p.index, kIndexScale))
      .Field("fill_id", "")
      .Field("created_at", ToMs(p.time))
      .EndObject();
  return w.Take();
}

// balance_events: one per settlement-asset change (a fill or a funding payment). The notes name
// the channel only; the field set follows the venue's docs as far as known (type, market,
// fill_id, status, settlement_asset_balance_before/_after, settlement_asset_price,
// funding_index, realized_pnl, realized_funding, fees, created_at) — unverified against a
// capture. Balances are the engine's wallet (USDC) when the engine emitted the change;
// "before" is that minus the change.
std::string ParadexModule::BalanceEventJson(const std::string& account, const char* type,
                                            const SimFill* fill,
                                            const FundingPayment* funding) const {
  Money after = ctx_->engine().Balance(account).wallet;
  Money pnl = 0, fees = 0, realized_funding = 0;
  size_t market = 0;
  std::string fill_id;
  UnixNanos t = ctx_->Now();
  if (fill != nullptr) {
    auto it = fill_extra_.find(fill->trade_id * 2 + (fill->maker ? 1 : 0));
    if (it != fill_extra_.end()) {
      pnl = it->second.realized_pnl;
      after = it->second.wallet_after;
    }
    fees = fill->fee;
    market = fill->instrument->index;
    fill_id = VenueTradeId(fill->trade_id) + (fill->maker ? "1" : "0");
    t = fill->time;
  } else if (funding != nullptr) {
    realized_funding = funding->payment;
    after = funding->wallet_after;
    market = funding->market;
    t = funding->time;
  }
  JsonWriter w;
  w.BeginObject()
      .Field("type", type)
      .Field("market", ctx_->market().instrument(market).symbol())
      .Field("fill_id", fill_id)
      .Field("status", "COMPLETED")
      .Field("settlement_asset_balance_before", MoneyText(after - (pnl - fees + realized_funding)))
      .Field("settlement_asset_balance_after", MoneyText(after))
      .Field("settlement_asset_price", "1")
      .Field("funding_index", Trimmed(FundingIndexAt(market, t), kIndexScale))
      .Field("realized_pnl", MoneyText(pnl))
      .Field("realized_funding", MoneyText(realized_funding))
      .Field("fees", MoneyText(fees))
      .Field("created_at", ToMs(t))
      .EndObject();
  return w.Take();
}

std::string ParadexModule::PositionJson(const std::string& account, const SimPosition& p) const {
  const SimInstrument& in = *p.instrument;
  const std::string acct_addr = AddressOf(account);
  Money cost = p.size >= 0 ? p.entry_notional : -p.entry_notional;
  JsonWriter w;
  w.BeginObject()
      .Field("id", acct_addr + "-" + in.symbol())
      .Field("account", acct_addr)
      .Field("market", in.symbol())
      .Field("status", p.size == 0 ? "CLOSED" : "OPEN")
      .Field("side", p.size < 0 ? "SHORT" : "LONG")
      .Field("size", in.FormatQty(p.size))
      .Field("average_entry_price", p.size == 0 ? "0" : p.EntryPrice().ToNormalizedString())
      .Field("average_entry_price_usd", p.size == 0 ? "0" : p.EntryPrice().ToNormalizedString())
      .Field("average_exit_price", "0")
      .Field("cost", MoneyText(cost))
      .Field("cost_usd", MoneyText(cost))
      .Field("unrealized_pnl", MoneyText(p.unrealized_pnl + p.funding))
      .Field("unrealized_funding_pnl", MoneyText(p.funding))
      .Field("realized_positional_pnl", MoneyText(p.realized_pnl))
      .Field("realized_positional_funding_pnl", "0")
      .Field("cached_funding_index", "0")
      .Field("liquidation_price", "")
      .Field("leverage", std::to_string(p.leverage))
      .Field("last_fill_id", "")
      .Field("seq_no", static_cast<int64_t>(ToUs(ctx_->Now())))
      .Field("created_at", ToMs(started_))
      .Field("last_updated_at", NowMs())
      .Field("closed_at", int64_t{0})
      .EndObject();
  return w.Take();
}

std::string ParadexModule::AccountJson(const AccountSpec& acct) const {
  SimBalance b = ctx_->engine().Balance(acct.id);
  JsonWriter w;
  w.BeginObject()
      .Field("account", acct.credentials.at("account"))
      .Field("account_value", MoneyText(b.equity))
      .Field("total_collateral", MoneyText(b.wallet))
      .Field("free_collateral", MoneyText(b.available))
      .Field("initial_margin_requirement", MoneyText(b.initial_margin))
      .Field("maintenance_margin_requirement", MoneyText(b.maint_margin))
      .Field("margin_cushion", MoneyText(b.equity - b.maint_margin))
      .Field("settlement_asset", "USDC")
      .Field("status", "ACTIVE")
      .Field("seq_no", static_cast<int64_t>(ToUs(ctx_->Now())))
      .Field("updated_at", NowMs())
      .EndObject();
  return w.Take();
}

std::string ParadexModule::BalanceJson(const AccountSpec& acct) const {
  SimBalance b = ctx_->engine().Balance(acct.id);
  JsonWriter w;
  w.BeginObject().Key("results").BeginArray().BeginObject();
  w.Field("token", "USDC")
      .Field("size", MoneyText(b.wallet))
      .Field("last_updated_at", NowMs())
      .Field("cost", MoneyText(b.wallet))
      .Field("cost_usd", MoneyText(b.wallet))
      .Field("average_entry_price", "1")
      .Field("average_entry_price_usd", "1");
  w.EndObject().EndArray().EndObject();
  return w.Take();
}

}  // namespace perpgw::sim::paradex
