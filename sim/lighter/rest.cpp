// Lighter module REST: /api/v1 public market data in the venue's shapes (lighter.md §2-§4,
// recorded payloads in ../shared/protocols/lighter/), nextNonce / apikeys / tx / account, the
// auth-token endpoints (accountActiveOrders, accountInactiveOrders, trades) and sendTx /
// sendTxBatch (form bodies: urlencoded, multipart or JSON). Successful answers carry code 200;
// errors are {"code":N,"message":...} with HTTP 400 (404 / 405: unknown paths and methods).
#include <algorithm>
#include <cctype>
#include <ctime>

#include "sim/lighter/module.h"

namespace perpgw::sim::lighter {
namespace {

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

void Error(HttpResponse& resp, int http, int64_t code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Field("code", code).Field("message", message).EndObject();
  resp.Json(http, w.Take());
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

using Form = std::map<std::string, std::string, std::less<>>;

// multipart/form-data: each part's Content-Disposition name and its value.
bool ParseMultipart(std::string_view body, std::string_view content_type, Form* out) {
  const std::string ct = Lower(std::string(content_type));
  size_t b = ct.find("boundary=");
  if (b == std::string::npos) return false;
  std::string boundary(content_type.substr(b + 9));
  if (size_t semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
    boundary = boundary.substr(1, boundary.size() - 2);
  }
  if (boundary.empty() || boundary.size() > 200) return false;
  const std::string delim = "--" + boundary;
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) return false;
  for (int parts = 0; parts < 64; ++parts) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return true;  // closing delimiter
    if (body.substr(pos, 2) == "\r\n") pos += 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return false;
    const std::string headers = Lower(std::string(body.substr(pos, head_end - pos)));
    const size_t value_start = head_end + 4;
    const size_t next = body.find("\r\n" + delim, value_start);
    if (next == std::string_view::npos) return false;
    const size_t n = headers.find("name=\"");
    if (n != std::string::npos) {
      // The name's case as sent: read it from the original bytes at the same offset.
      const std::string_view raw = body.substr(pos, head_end - pos);
      const size_t end = raw.find('"', n + 6);
      if (end == std::string_view::npos) return false;
      (*out)[std::string(raw.substr(n + 6, end - n - 6))] =
          std::string(body.substr(value_start, next - value_start));
    }
    pos = next + 2;
  }
  return false;
}

// A POST body's fields: application/x-www-form-urlencoded (default), multipart/form-data, or a
// JSON object.
bool ParseForm(const HttpRequest& req, Form* out) {
  const std::string ct = req.Header("content-type");
  const std::string lower = Lower(ct);
  if (lower.rfind("multipart/form-data", 0) == 0) return ParseMultipart(req.body, ct, out);
  if (lower.rfind("application/json", 0) == 0) {
    auto f = ParseJsonObject(req.body);
    if (!f.ok()) return false;
    for (auto& [k, v] : *f) (*out)[k] = v;
    return true;
  }
  for (auto& [k, v] : ParseQuery(req.body)) out->emplace(k, v);
  return true;
}

int Decimals(int64_t unit_mantissa, int scale) {
  // tick/step are 10^-decimals: the scale itself when the mantissa is 1.
  (void)unit_mantissa;
  return scale;
}

}  // namespace

std::string LighterModule::LevelsJson(const std::vector<Level>& levels,
                                      const SimInstrument& in) const {
  JsonWriter w;
  w.BeginArray();
  for (const Level& l : levels) {
    w.BeginObject()
        .Field("price", in.FormatPrice(l.price))
        .Field("size", in.FormatQty(l.size))
        .EndObject();
  }
  w.EndArray();
  return w.Take();
}

std::string IsoUtc(UnixNanos t) {
  const std::time_t s = static_cast<std::time_t>(t / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
// A USDC amount in whole steps of `in` at `price` (a step's notional, at least 1e-8).
int64_t QtyForQuote(const SimInstrument& in, Money quote, int64_t price) {
  const Money unit = std::max<Money>(1, in.Notional(price, in.step));
  return quote / unit * in.step;
}
}  // namespace

Money LighterModule::DailyQuoteVolume(const SimInstrument& in) const {
  return BaselineFor(in).daily_volume + markets_[in.index].volume_24h;
}

int64_t LighterModule::DailyBaseVolume(const SimInstrument& in) const {
  const int64_t mark = ctx_->market().mark_price(in.index);
  return QtyForQuote(in, BaselineFor(in).daily_volume, mark) + markets_[in.index].volume_base;
}

int64_t LighterModule::OpenInterest(const SimInstrument& in) const {
  const Engine& e = ctx_->engine();
  int64_t longs = 0;  // one side: the longs equal the shorts across all holders
  for (const std::string& a : e.account_ids()) {
    SimPosition p = e.Position(a, in.index);
    if (p.size > 0) longs += p.size;
  }
  return QtyForQuote(in, BaselineFor(in).oi_usd, ctx_->market().mark_price(in.index)) + longs;
}

std::string LighterModule::StatsJson(const SimInstrument& in) const {
  const Market& m = ctx_->market();
  const MarketState& ms = markets_[in.index];
  const int64_t mark = m.mark_price(in.index);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("market_id", in.spec.market_id)
      .Field("index_price", in.FormatPrice(mark))
      .Field("mark_price", in.FormatPrice(mark))
      .Field("open_interest", in.FormatQty(OpenInterest(in)))
      .Field("last_trade_price", in.FormatPrice(ms.last_price))
      .Field("current_funding_rate", FormatRate(m.funding_rate(in.index)))
      .Field("funding_rate", FormatRate(m.funding_rate(in.index)))
      .Field("funding_timestamp", ctx_->NextFundingTime(in.index) / 1'000'000)
      .Field("daily_base_token_volume", in.FormatQty(DailyBaseVolume(in)))
      .Field("daily_quote_token_volume", FormatMoney(DailyQuoteVolume(in)))
      // [3p] fields (lighter.md §3: "daily volume fields [fixtures, 3p]"; the venue's
      // MarketInfo model and third-party market_stats schemas list these too), strings on this
      // channel. Values as orderBookDetails gives them: the day's low/high at the mark and no
      // change (the sim keeps no 24 h price history), the same funding clamps.
      // open_interest_limit is not in the notes' samples: the sim's reading is a cap no
      // position reaches (USD).
      .Field("daily_price_low", in.FormatPrice(mark))
      .Field("daily_price_high", in.FormatPrice(mark))
      .Field("daily_price_change", "0")
      .Field("open_interest_limit", kOpenInterestLimit)
      .Field("funding_clamp_small", kFundingClampSmall)
      .Field("funding_clamp_big", kFundingClampBig)
      .EndObject();
  return w.Take();
}

// One candle as GET candles and the candle channel show it: {t,o,h,l,c,v,V}, JSON numbers.
std::string LighterModule::CandleJson(const SimInstrument& in, const Candle& c) const {
  JsonWriter w;
  w.BeginObject().Field("t", c.open_ms);
  w.Key("o").Raw(in.FormatPrice(c.open));
  w.Key("h").Raw(in.FormatPrice(c.high));
  w.Key("l").Raw(in.FormatPrice(c.low));
  w.Key("c").Raw(in.FormatPrice(c.close));
  w.Key("v").Raw(c.volume == 0 ? std::string("0") : in.FormatQty(c.volume));
  w.Key("V").Raw(FormatMoney(c.quote_volume));
  w.EndObject();
  return w.Take();
}

std::string LighterModule::DetailJson(const SimInstrument& in) const {
  const Market& m = ctx_->market();
  const MarketState& ms = markets_[in.index];
  const int sd = Decimals(in.step, in.size_scale), pd = Decimals(in.tick, in.price_scale);
  // Margin fractions in 1/10 000: min IMF from the max leverage, maintenance from the ratio.
  const int64_t min_imf = in.spec.max_leverage > 0 ? 10000 / in.spec.max_leverage : 10000;
  const int64_t mmf = in.maint_margin_ratio / (int64_t{10000000000} / 10000);
  const int64_t mark = m.mark_price(in.index);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("market_id", in.spec.market_id)
      .Field("market_type", "perp")
      .Field("base_asset_id", static_cast<int64_t>(in.index) + 10)
      .Field("quote_asset_id", int64_t{3})
      .Field("status", "active")
      // The sample's created_at is an ISO 8601 string (values illustrative): the sim's
      // listing time, when it started.
      .Field("created_at", ms.created_at)
      .Field("taker_fee", "0.0000")
      .Field("maker_fee", "0.0000")
      .Field("liquidation_fee", "1.0000")
      .Field("min_base_amount", in.FormatQty(in.min_qty))
      .Field("min_quote_amount", FormatMoney(in.min_notional))
      .Field("supported_size_decimals", sd)
      .Field("supported_price_decimals", pd)
      .Field("supported_quote_decimals", 6)
      .Field("order_quote_limit", "")
      .Field("size_decimals", sd)
      .Field("price_decimals", pd)
      .Field("quote_multiplier", 1)
      .Field("default_initial_margin_fraction", std::max<int64_t>(min_imf, 500))
      .Field("min_initial_margin_fraction", min_imf)
      .Field("maintenance_margin_fraction", std::max<int64_t>(mmf, 1))
      .Field("closeout_margin_fraction", std::max<int64_t>(mmf * 2 / 3, 1));
  // Stats are JSON numbers on this endpoint (strings on the WS channel), as the venue sends.
  w.Key("last_trade_price").Raw(in.FormatPrice(ms.last_price));
  w.Field("daily_trades_count", static_cast<int64_t>(ms.trades.size()));
  w.Key("daily_base_token_volume").Raw(in.FormatQty(DailyBaseVolume(in)));
  w.Key("daily_quote_token_volume").Raw(FormatMoney(DailyQuoteVolume(in)));
  w.Key("daily_price_low").Raw(in.FormatPrice(mark));
  w.Key("daily_price_high").Raw(in.FormatPrice(mark));
  w.Key("daily_price_change").Raw("0");
  w.Key("open_interest").Raw(in.FormatQty(OpenInterest(in)));
  w.Key("daily_chart").Raw("{}");
  w.Key("market_config").Raw("{}");
  w.Field("strategy_index", int64_t{0})
      .Field("is_maker_fee_enabled", false)
      .Field("is_taker_fee_enabled", false)
      .Field("funding_clamp_small", kFundingClampSmall)
      .Field("funding_clamp_big", kFundingClampBig)
      .Field("base_interest_rate", "0.0100")
      .Field("mark_price", in.FormatPrice(mark))
      .Field("index_price", in.FormatPrice(mark))
      .EndObject();
  return w.Take();
}

void LighterModule::Route(const HttpRequest& req, HttpResponse& resp) {
  if ((req.path == "/" || req.path.empty()) && req.method == "GET") {
    // The host root is the venue's status (the SDK's Status model: status, network_id,
    // timestamp in seconds); ccxt's fetchTime reads it. Not in lighter.md.
    JsonWriter w;
    w.BeginObject()
        .Field("status", int64_t{1})
        .Field("network_id", int64_t{1})
        .Field("timestamp", NowMs() / 1000)
        .EndObject();
    return resp.Json(200, w.Take());
  }
  if (!StartsWith(req.path, "/api/v1/")) return Error(resp, 404, 404, "not found");
  const std::string path = req.path.substr(7);  // "/orderBookDetails"
  const Market& m = ctx_->market();
  auto market_filter = [&](const SimInstrument** one, bool* bad) {
    *one = nullptr;
    *bad = false;
    if (!req.HasQuery("market_id")) return;
    int64_t id = -1;
    if (!ParseInt(req.Query("market_id"), &id) || (*one = ByMarketId(id)) == nullptr) *bad = true;
  };
  const bool post_path = path == "/sendTx" || path == "/sendTxBatch";
  if (req.method != (post_path ? "POST" : "GET")) {
    return Error(resp, 405, 405, "method not allowed");
  }
  if (post_path) return SendTxRest(req, resp, path == "/sendTxBatch");
  if (PrivateRoute(path, req, resp)) return;
  if (path == "/orderBookDetails" || path == "/orderBooks") {
    const SimInstrument* one = nullptr;
    bool bad = false;
    market_filter(&one, &bad);
    if (bad) return Error(resp, 400, 20001, "invalid param: market_id");
    const bool details = path == "/orderBookDetails";
    std::string out =
        details ? R"({"code":200,"order_book_details":[)" : R"({"code":200,"order_books":[)";
    bool first = true;
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      if (one != nullptr && one != &in) continue;
      if (!first) out += ',';
      first = false;
      if (details) {
        out += DetailJson(in);
      } else {
        JsonWriter w;
        w.BeginObject()
            .Field("symbol", in.symbol())
            .Field("market_id", in.spec.market_id)
            .Field("status", "active")
            .Field("taker_fee", "0.0000")
            .Field("maker_fee", "0.0000")
            .Field("min_base_amount", in.FormatQty(in.min_qty))
            .Field("min_quote_amount", FormatMoney(in.min_notional))
            .Field("supported_size_decimals", in.size_scale)
            .Field("supported_price_decimals", in.price_scale)
            .Field("supported_quote_decimals", 6)
            .EndObject();
        out += w.Take();
      }
    }
    out += details ? R"(],"spot_order_book_details":[]})" : "]}";
    return resp.Json(200, out);
  }
  if (path == "/assetDetails") {
    // Assets: USDC (id 3, the collateral) and each market's base (id 10 + index, as in
    // orderBookDetails' base_asset_id). Optional asset_id filter. The sim bridges nothing to
    // L1, so l1_address is the zero address; ccxt's fetchCurrencies reads this.
    int64_t only = -1;
    if (req.HasQuery("asset_id") && (!ParseInt(req.Query("asset_id"), &only) || only < 0)) {
      return Error(resp, 400, 20001, "invalid param: asset_id");
    }
    std::string out = R"({"code":200,"asset_details":[)";
    auto row = [&](int64_t id, const std::string& symbol, int decimals, const std::string& index) {
      if (only >= 0 && only != id) return;
      JsonWriter w;
      w.BeginObject()
          .Field("asset_id", id)
          .Field("symbol", symbol)
          .Field("l1_decimals", decimals)
          .Field("decimals", decimals)
          .Field("min_transfer_amount", id == 3 ? "1.000000" : "0")
          .Field("min_withdrawal_amount", id == 3 ? "1.000000" : "0")
          .Field("margin_mode", id == 3 ? "enabled" : "disabled")
          .Field("index_price", index)
          .Field("l1_address", "0x0000000000000000000000000000000000000000")
          .EndObject();
      if (out.back() != '[') out += ',';
      out += w.Take();
    };
    row(3, "USDC", 6, "1.000000");
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      row(static_cast<int64_t>(in.index) + 10, in.symbol(), in.size_scale,
          in.FormatPrice(m.mark_price(i)));
    }
    if (only >= 0 && out.back() == '[') return Error(resp, 400, 20001, "asset not found");
    return resp.Json(200, out + "]}");
  }
  if (path == "/funding-rates") {
    // The venue also publishes reference rates of other exchanges: one binance row each.
    std::string out = R"({"code":200,"funding_rates":[)";
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      for (const char* ex : {"lighter", "binance"}) {
        JsonWriter w;
        int64_t rate = m.funding_rate(i);
        if (std::string_view(ex) == "binance") rate = rate * 8 + 1000;  // an 8 h reference
        w.BeginObject()
            .Field("market_id", in.spec.market_id)
            .Field("exchange", ex)
            .Field("symbol", in.symbol());
        w.Key("rate").Raw(FormatRate(rate));  // a bare JSON number, as the venue sends
        w.EndObject();
        if (out.back() != '[') out += ',';
        out += w.Take();
      }
    }
    return resp.Json(200, out + "]}");
  }
  if (path == "/orderBookOrders") {
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, 20001, "invalid param: market_id");
    int64_t limit = 20;
    if (req.HasQuery("limit") &&
        (!ParseInt(req.Query("limit"), &limit) || limit < 1 || limit > 250)) {
      return Error(resp, 400, 20001, "invalid param: limit");
    }
    // Resting orders: the generated levels, one order per level (owner: the market maker).
    const OrderBook& b = m.book(in->index);
    auto side = [&](const std::vector<Level>& levels, int64_t base_index) {
      std::string s = "[";
      int64_t k = 0;
      for (const Level& l : levels) {
        if (k > 0) s += ',';
        JsonWriter w;
        // order_index an integer, order_id its string form (lighter.md §8, SDK SimpleOrder).
        const int64_t idx = kOrderIndexBase + base_index + k++;
        w.BeginObject()
            .Field("order_index", idx)
            .Field("order_id", std::to_string(idx))
            .Field("owner_account_index", kMarketMakerAccount)
            .Field("initial_base_amount", in->FormatQty(l.size))
            .Field("remaining_base_amount", in->FormatQty(l.size))
            .Field("price", in->FormatPrice(l.price))
            .Field("order_expiry", int64_t{0})
            .EndObject();
        s += w.Take();
      }
      return s + "]";
    };
    auto asks = b.Asks(static_cast<size_t>(limit));
    auto bids = b.Bids(static_cast<size_t>(limit));
    return resp.Json(200, R"({"code":200,"total_asks":)" + std::to_string(asks.size()) +
                              R"(,"asks":)" + side(asks, 1'000'000) + R"(,"total_bids":)" +
                              std::to_string(bids.size()) + R"(,"bids":)" + side(bids, 2'000'000) +
                              "}");
  }
  if (path == "/recentTrades") {
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, 20001, "invalid param: market_id");
    // limit: 1..100 (lighter.md §4 names it; the bounds are the official SDK's). The sim keeps
    // the latest 100, so no limit lists them all.
    int64_t limit = 100;
    if (req.HasQuery("limit") &&
        (!ParseInt(req.Query("limit"), &limit) || limit < 1 || limit > 100)) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: limit (1..100)");
    }
    const auto& t = markets_[in->index].trades;
    const size_t first = t.size() > static_cast<size_t>(limit) ? t.size() - limit : 0;
    std::string out = R"({"code":200,"trades":[)";
    for (size_t k = t.size(); k-- > first;) {  // newest first
      if (out.back() != '[') out += ',';
      out += t[k];
    }
    return resp.Json(200, out + "]}");
  }
  if (path == "/candles") {
    // OHLCV candles (not in lighter.md; shape as ccxt, a client of the real venue, reads it):
    // market_id, resolution 1m 5m 15m 30m 1h 4h 12h 1d, start_timestamp / end_timestamp in ms,
    // count_back = the latest N candles of the range (0: all, at most 500). Answer
    // {"code":200,"r":<resolution>,"c":[{t,o,h,l,c,v,V}]} with JSON numbers, oldest first
    // (t ms; v base volume, V quote volume). The venue's other per-candle keys ("i", and the
    // string forms "O","H","L","C") are left out: no source says what they hold.
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, kErrInvalidParam, "invalid param: market_id");
    const std::string resolution = req.Query("resolution");
    const int64_t step = CandleStepMs(resolution);
    if (step == 0) return Error(resp, 400, kErrInvalidParam, "invalid param: resolution");
    int64_t start = 0, end = NowMs(), count_back = 0;
    auto opt = [&](const char* name, int64_t* v) {
      return !req.HasQuery(name) || ParseInt(req.Query(name), v);
    };
    if (!opt("start_timestamp", &start) || start < 0) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: start_timestamp");
    }
    if (!opt("end_timestamp", &end) || end < start) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: end_timestamp");
    }
    if (!opt("count_back", &count_back) || count_back < 0) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: count_back");
    }
    const size_t limit = count_back == 0 ? 500 : static_cast<size_t>(std::min<int64_t>(count_back, 500));
    // The latest `limit` candles whose bucket lies in the range (from the start's bucket on).
    std::vector<Candle> cs =
        ctx_->Candles(in->index).Range(step, start - start % step, end, SIZE_MAX);
    if (cs.size() > limit) cs.erase(cs.begin(), cs.end() - static_cast<std::ptrdiff_t>(limit));
    JsonWriter w;
    w.BeginObject().Field("code", int64_t{200}).Field("r", resolution).Key("c").BeginArray();
    for (const Candle& c : cs) w.Raw(CandleJson(*in, c));
    w.EndArray().EndObject();
    return resp.Json(200, w.Take());
  }
  if (path == "/fundings") {
    // Settled funding history (lighter.md §3): market_id, resolution 1h | 1d, start_timestamp /
    // end_timestamp (s, inclusive), count_back = the latest N rows of the range. Rows oldest
    // first: timestamp (s), rate in percent for the period, direction = the side that paid
    // ("long" when the rate is positive), value = the payment per unit of base (USDC).
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, kErrInvalidParam, "invalid param: market_id");
    const std::string resolution = req.Query("resolution");
    if (resolution != "1h" && resolution != "1d") {
      return Error(resp, 400, kErrInvalidParam, "invalid param: resolution (1h or 1d)");
    }
    int64_t start = 0, end = NowMs() / 1000, count_back = 750;
    auto opt = [&](const char* name, int64_t* v) {
      return !req.HasQuery(name) || ParseInt(req.Query(name), v);
    };
    if (!opt("start_timestamp", &start)) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: start_timestamp");
    }
    if (!opt("end_timestamp", &end) || end < start) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: end_timestamp");
    }
    if (!opt("count_back", &count_back) || count_back < 1 || count_back > 750) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: count_back (1..750)");
    }
    const int64_t bucket = resolution == "1h" ? 3600 : 86400;
    struct Row {
      int64_t time_s = 0;
      int64_t rate = 0;
      Money value = 0;
    };
    std::vector<Row> rows;  // one per period: the hourly settlements in it summed
    for (const MarketState::Settled& f : markets_[in->index].fundings) {
      if (f.time_s < start || f.time_s > end) continue;
      const int64_t t = f.time_s / bucket * bucket;
      if (rows.empty() || rows.back().time_s != t) rows.push_back({t, 0, 0});
      rows.back().rate += f.rate;
      // Per unit of base: the notional of one whole base unit at the mark, times the rate.
      int64_t unit = 1;
      for (int k = 0; k < in->size_scale; ++k) unit *= 10;
      rows.back().value += ApplyRate(in->Notional(f.mark, unit), f.rate);
    }
    const size_t first =
        rows.size() > static_cast<size_t>(count_back) ? rows.size() - count_back : 0;
    JsonWriter w;
    w.BeginObject()
        .Field("code", int64_t{200})
        .Field("resolution", resolution)
        .Key("fundings")
        .BeginArray();
    for (size_t k = first; k < rows.size(); ++k) {
      w.BeginObject()
          .Field("timestamp", rows[k].time_s)
          .Field("value", FormatMoney(std::llabs(rows[k].value)))
          .Field("rate", FormatRate(std::llabs(rows[k].rate) * 100))
          .Field("direction", rows[k].rate >= 0 ? "long" : "short")
          .EndObject();
    }
    w.EndArray().EndObject();
    return resp.Json(200, w.Take());
  }
  if (path == "/exchangeStats") {
    // Per market: the baseline (BaselineFor) plus the sim's running stats (volumes since
    // start, the trades it keeps); totals over all markets. Numbers, as the SDK's ExchangeStats / OrderBookStats declare them.
    JsonWriter w;
    w.BeginObject()
        .Field("code", int64_t{200})
        .Field("total", static_cast<int64_t>(m.size()))
        .Key("order_book_stats")
        .BeginArray();
    Money usd = 0;
    int64_t count = 0;
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      const MarketState& ms = markets_[i];
      usd += DailyQuoteVolume(in);
      count += static_cast<int64_t>(ms.trades.size());
      w.BeginObject().Field("symbol", in.symbol());
      w.Key("last_trade_price").Raw(in.FormatPrice(ms.last_price));
      w.Field("daily_trades_count", static_cast<int64_t>(ms.trades.size()));
      w.Key("daily_base_token_volume").Raw(in.FormatQty(DailyBaseVolume(in)));
      w.Key("daily_quote_token_volume").Raw(FormatMoney(DailyQuoteVolume(in)));
      w.Key("daily_price_change").Raw("0");
      w.EndObject();
    }
    w.EndArray();
    w.Key("daily_usd_volume").Raw(FormatMoney(usd));
    w.Field("daily_trades_count", count).EndObject();
    return resp.Json(200, w.Take());
  }
  if (path == "/pnl" || path == "/accountTxs") {
    return Error(resp, 501, 501, "perpgw-sim: " + path.substr(1) + " is not modelled");
  }
  return Error(resp, 404, 404, "not found");
}

// ---- accounts, nonces, txs ----------------------------------------------------------------------

bool LighterModule::PrivateRoute(const std::string& path, const HttpRequest& req,
                                 HttpResponse& resp) {
  auto param = [&](const char* name, int64_t* out) {
    return req.HasQuery(name) && ParseInt(req.Query(name), out);
  };
  auto invalid = [&](const std::string& name) {
    Error(resp, 400, kErrInvalidParam, "invalid param: " + name);
    return true;
  };
  auto venue_error = [&](const VenueError& e) {
    Error(resp, 400, e.code, e.message);
    return true;
  };
  const Engine& e = ctx_->engine();
  if (path == "/nextNonce") {
    int64_t account = 0, key_index = 0;
    if (!param("account_index", &account)) return invalid("account_index");
    if (!param("api_key_index", &key_index) || key_index > 254) return invalid("api_key_index");
    ApiKey* key = FindKey(account, static_cast<int>(key_index));
    if (key == nullptr) return venue_error({kErrApiKeyNotFound, "api key not found"});
    resp.Json(200, R"({"code":200,"nonce":)" + std::to_string(key->nonce) + "}");
    return true;
  }
  if (path == "/apikeys") {
    int64_t account = 0, key_index = 255;
    if (!param("account_index", &account)) return invalid("account_index");
    if (req.HasQuery("api_key_index") && (!param("api_key_index", &key_index) || key_index > 255)) {
      return invalid("api_key_index");
    }
    if (AccountIdOf(account) == nullptr) {
      return venue_error({kErrAccountNotFound, "account not found"});
    }
    JsonWriter w;
    w.BeginObject().Field("code", int64_t{200}).Key("api_keys").BeginArray();
    for (const auto& [id, k] : keys_) {
      if (id.first != account || (key_index != 255 && id.second != key_index)) continue;
      w.BeginObject()
          .Field("account_index", k.account_index)
          .Field("api_key_index", int64_t{k.api_key_index})
          .Field("nonce", k.nonce)
          .Field("public_key", k.public_key_hex)
          .EndObject();
    }
    w.EndArray().EndObject();
    resp.Json(200, w.Take());
    return true;
  }
  if (path == "/tx") {
    if (req.Query("by") != "hash") return invalid("by (the sim looks txs up by=hash)");
    auto it = txs_.find(req.Query("value"));
    if (it == txs_.end()) return venue_error({kErrTxNotFound, "transaction not found"});
    resp.Json(200, R"({"code":200,)" + TxJson(it->second).substr(1));
    return true;
  }
  auto by_l1 = [&](const std::string& address) {
    std::vector<int64_t> out;
    const std::string want = Lower(address);
    for (const auto& [index, l1] : l1_by_index_) {
      if (l1 == want) out.push_back(index);
    }
    return out;
  };
  if (path == "/accountsByL1Address") {
    const std::string address = req.Query("l1_address");
    if (address.empty()) return invalid("l1_address");
    const std::vector<int64_t> found = by_l1(address);
    if (found.empty()) return venue_error({kErrAccountNotFound, "account not found"});
    JsonWriter w;
    w.BeginObject()
        .Field("code", int64_t{200})
        .Field("l1_address", Lower(address))
        .Key("sub_accounts")
        .BeginArray();
    for (int64_t index : found) {
      const std::string& id = *AccountIdOf(index);
      const SimBalance b = e.Balance(id);
      w.BeginObject()
          .Field("code", int64_t{0})
          .Field("account_type", int64_t{0})
          .Field("index", index)
          .Field("l1_address", L1Of(index))
          .Field("cancel_all_time", scheduled_.count(index) ? scheduled_.at(index) : int64_t{0})
          .Field("total_order_count", static_cast<int64_t>(e.OpenOrders(id).size()))
          .Field("total_isolated_order_count", int64_t{0})
          .Field("pending_order_count", int64_t{0})
          .Field("available_balance", FormatMoney(b.available))
          .Field("status", int64_t{1})
          .Field("collateral", FormatMoney(b.wallet))
          .EndObject();
    }
    w.EndArray().EndObject();
    resp.Json(200, w.Take());
    return true;
  }
  if (path == "/account") {
    int64_t account = 0;
    const std::string by = req.Query("by");
    if (by == "l1_address") {
      // One sim account per L1 address: the venue's envelope with that account.
      const std::vector<int64_t> found = by_l1(req.Query("value"));
      if (found.empty()) return venue_error({kErrAccountNotFound, "account not found"});
      resp.Json(200, AccountJson(*AccountIdOf(found.front()), found.front()));
      return true;
    }
    if (by != "index") return invalid("by (index or l1_address)");
    if (!param("value", &account)) return invalid("value");
    const std::string* id = AccountIdOf(account);
    if (id == nullptr) return venue_error({kErrAccountNotFound, "account not found"});
    resp.Json(200, AccountJson(*id, account));
    return true;
  }
  const bool active = path == "/accountActiveOrders";
  const bool inactive = path == "/accountInactiveOrders";
  const bool trades = path == "/trades";
  if (!active && !inactive && !trades) return false;
  // Auth-token endpoints: the token must be for the account asked about.
  int64_t account = 0;
  if (!param("account_index", &account)) return invalid("account_index");
  std::string token = req.Header("authorization");
  if (token.empty()) token = req.Query("auth");
  if (auto err = CheckAuth(token, account, /*ws=*/false)) return venue_error(*err);
  const std::string* id = AccountIdOf(account);
  if (id == nullptr) return venue_error({kErrAccountNotFound, "account not found"});
  int64_t market = -1;
  if (req.HasQuery("market_id") && (!param("market_id", &market) || !ByMarketId(market))) {
    return invalid("market_id");
  }
  int64_t limit = 100;
  if (req.HasQuery("limit") && (!param("limit", &limit) || limit < 1 || limit > 100)) {
    return invalid("limit (1..100)");
  }
  int64_t cursor = -1;
  if (!req.Query("cursor").empty() && !param("cursor", &cursor)) return invalid("cursor");
  auto in_market = [&](const SimInstrument* in) {
    return market < 0 || (in != nullptr && in->spec.market_id == market);
  };
  if (active || inactive) {
    std::vector<SimOrder> orders = AccountOrders(*id);
    std::vector<std::pair<int64_t, const SimOrder*>> rows;  // (seq, order)
    for (const SimOrder& o : orders) {
      if (o.open() != active || !in_market(o.instrument)) continue;
      const int64_t seq = MetaFor(o).seq;
      if (inactive && cursor >= 0 && seq >= cursor) continue;
      rows.emplace_back(seq, &o);
    }
    // Active: oldest first; inactive: newest first, paged by the cursor.
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      return active ? a.first < b.first : a.first > b.first;
    });
    std::string next;
    if (inactive && rows.size() > static_cast<size_t>(limit)) {
      rows.resize(static_cast<size_t>(limit));
      next = std::to_string(rows.back().first);
    }
    std::string out = R"({"code":200,)";
    if (inactive) out += R"("next_cursor":")" + next + "\",";
    out += R"("orders":[)";
    for (size_t k = 0; k < rows.size(); ++k) {
      if (k > 0) out += ',';
      out += OrderJson(*rows[k].second);
    }
    resp.Json(200, out + "]}");
    return true;
  }
  // trades: the account's fills; sort_by timestamp (trade ids grow with time), sort_dir desc by
  // default, `from` = the earliest timestamp (ms) wanted, cursor = the last trade id returned.
  const std::string sort_by = req.Query("sort_by");
  if (!sort_by.empty() && sort_by != "timestamp" && sort_by != "trade_id" &&
      sort_by != "block_height") {
    return invalid("sort_by");
  }
  const std::string dir = req.Query("sort_dir");
  if (!dir.empty() && dir != "asc" && dir != "desc") return invalid("sort_dir");
  const bool asc = dir == "asc";
  int64_t from = 0;
  if (req.HasQuery("from") && !param("from", &from)) return invalid("from");
  std::vector<SimFill> fills;
  for (const SimFill& f : e.Fills(*id)) {
    if (!in_market(f.instrument) || f.time / 1'000'000 < from) continue;
    const auto tid = static_cast<int64_t>(f.trade_id);
    if (cursor >= 0 && (asc ? tid <= cursor : tid >= cursor)) continue;
    fills.push_back(f);
  }
  std::sort(fills.begin(), fills.end(), [&](const SimFill& a, const SimFill& b) {
    return asc ? a.trade_id < b.trade_id : a.trade_id > b.trade_id;
  });
  std::string next;
  if (fills.size() > static_cast<size_t>(limit)) {
    fills.resize(static_cast<size_t>(limit));
    next = std::to_string(fills.back().trade_id);
  }
  std::string out = R"({"code":200,"next_cursor":")" + next + R"(","trades":[)";
  for (size_t k = 0; k < fills.size(); ++k) {
    if (k > 0) out += ',';
    out += TradeJson(fills[k]);
  }
  resp.Json(200, out + "]}");
  return true;
}

void LighterModule::SendTxRest(const HttpRequest& req, HttpResponse& resp, bool batch) {
  Form form;
  if (!ParseForm(req, &form)) {
    return Error(resp, 400, kErrInvalidParam, "invalid param: body (a form is expected)");
  }
  auto field = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string pp = field("price_protection");
  if (!pp.empty() && pp != "true" && pp != "false") {
    return Error(resp, 400, kErrInvalidParam, "invalid param: price_protection");
  }
  std::vector<std::pair<int64_t, std::string>> txs;
  if (!batch) {
    int64_t type = 0;
    if (!ParseInt(field("tx_type"), &type)) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: tx_type");
    }
    if (field("tx_info").empty()) {
      return Error(resp, 400, kErrInvalidParam, "invalid param: tx_info");
    }
    txs.emplace_back(type, field("tx_info"));
  } else {
    VenueError err;
    if (!ParseBatch(field("tx_types"), field("tx_infos"), kMaxBatchRest, &txs, &err)) {
      return Error(resp, 400, err.code, err.message);
    }
  }
  SubmitResult r = Submit(txs);
  resp.Json(r.error.code == 0 ? 200 : 400, SendTxAnswer(r, batch));
}

}  // namespace perpgw::sim::lighter
