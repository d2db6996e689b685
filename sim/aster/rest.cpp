// Aster /fapi REST endpoints, named as in the venue docs: public market data (v1 and v3 paths),
// and signed trading/account calls (V1 HMAC on v1/v2/v4 paths, V3 EIP-712 on v3 paths).
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <regex>

#include <simdjson.h>

#include "sim/aster/internal.h"
#include "sim/aster/module.h"
#include "sim/core/json.h"

namespace perpgw::sim::aster {
namespace {

bool ValidStpMode(std::string_view v) {
  return v == "EXPIRE_TAKER" || v == "EXPIRE_MAKER" || v == "EXPIRE_BOTH" || v == "NONE";
}

constexpr int kMaxOpenOrdersPerSymbol = 200;
constexpr int kDepthLimits[] = {5, 10, 20, 50, 100, 500, 1000};

bool ParseI64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

int64_t Pow10(int n) {
  int64_t r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

ApiError Err(int code, std::string msg) { return {400, code, std::move(msg)}; }
ApiError UnknownSymbol() { return Err(-1121, "Invalid symbol."); }

// Wire decimal → mantissa at `scale`, with the venue's error codes: not a number -1100, more
// digits than the published precision -1111, between precision and grid -4014 / -4023.
bool ParseWire(std::string_view param, const std::string& text, int precision, int scale,
               int64_t grid, int grid_code, const char* grid_msg, int64_t* out, ApiError* err) {
  auto d = Decimal::Parse(text);
  if (!d.ok()) {
    *err = Err(-1100, "Illegal characters found in parameter '" + std::string(param) +
                          "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.");
    return false;
  }
  auto v = d->ToScaled(precision);
  if (!v.ok()) {
    *err = Err(-1111, "Precision is over the maximum defined for this asset.");
    return false;
  }
  int64_t m = *v;
  if (precision > scale) {
    const int64_t f = Pow10(precision - scale);
    if (m % f != 0) {
      *err = Err(grid_code, grid_msg);
      return false;
    }
    m /= f;
  }
  if (m > 0 && grid > 1 && m % grid != 0) {
    *err = Err(grid_code, grid_msg);
    return false;
  }
  *out = m;
  return true;
}

bool ParseBool(const std::string& s, bool* out) {
  std::string l = LowerAscii(s);
  if (l == "true") *out = true;
  else if (l == "false") *out = false;
  else return false;
  return true;
}

const char* SideText(Side s) { return s == Side::kBuy ? "BUY" : "SELL"; }
const char* TifText(const SimOrder& o) {
  if (o.type == OrderType::kMarket) return "GTC";  // the venue prints GTC on market orders
  switch (o.tif) {
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kFok: return "FOK";
    case TimeInForce::kPostOnly: return "GTX";
    default: return "GTC";
  }
}

}  // namespace

std::optional<CandleInterval> KlineInterval(std::string_view interval) {
  static const std::map<std::string, int64_t, std::less<>> kMinutes = {
      {"1m", 1},    {"3m", 3},    {"5m", 5},    {"15m", 15},  {"30m", 30},   {"1h", 60},
      {"2h", 120},  {"4h", 240},  {"6h", 360},  {"8h", 480},  {"12h", 720},  {"1d", 1440},
      {"3d", 4320}};
  auto it = kMinutes.find(interval);
  if (it != kMinutes.end()) return CandleInterval::Fixed(it->second * CandleSeries::kMinuteMs);
  if (interval == "1w") return CandleInterval::Week();
  if (interval == "1M") return CandleInterval::Month();
  return std::nullopt;
}

const char* ExecTypeText(const SimOrder& o) { return o.type == OrderType::kMarket ? "MARKET" : "LIMIT"; }
// Binance-family conditional names: a stop buys above / sells below the mark, a take-profit the
// other way round; _MARKET when it executes as a market order.
const char* TypeText(const SimOrder& o) {
  if (o.trailing_bps != 0) return "TRAILING_STOP_MARKET";
  if (!o.conditional()) return ExecTypeText(o);
  const bool stop = (o.side == Side::kBuy) == (o.trigger == TriggerWhen::kAtOrAbove);
  const bool market = o.type == OrderType::kMarket;
  if (stop) return market ? "STOP_MARKET" : "STOP";
  return market ? "TAKE_PROFIT_MARKET" : "TAKE_PROFIT";
}

const char* WorkingTypeText(const SimOrder& o) {
  return o.trigger_ref == TriggerRef::kMark ? "MARK_PRICE" : "CONTRACT_PRICE";
}

std::string CallbackRateText(int64_t bps) {
  // Percent as the docs print it ("0.3", "5.0"): one decimal, two when the rate needs them.
  return bps % 10 == 0 ? Fixed(bps / 10, 1) : Fixed(bps, 2);
}

std::string VenueClientId(const SimOrder& o) {
  static constexpr std::string_view kEngine = "liquidation-";
  if (o.client_id.size() > kEngine.size() && o.client_id.compare(0, kEngine.size(), kEngine) == 0 &&
      o.client_id.substr(kEngine.size()) == std::to_string(o.id)) {
    return "autoclose-" + o.client_id.substr(kEngine.size());
  }
  return o.client_id;
}

const char* OrderStatusText(const SimOrder& o) {
  switch (o.status) {
    case OrderStatus::kOpen: return "NEW";
    case OrderStatus::kPartiallyFilled: return "PARTIALLY_FILLED";
    case OrderStatus::kFilled: return "FILLED";
    case OrderStatus::kCanceled:
      // A resting reduce-only order that can no longer reduce expires on the venue.
      return o.reason == CancelReason::kReduceOnly ? "EXPIRED" : "CANCELED";
    case OrderStatus::kExpired: return "EXPIRED";
    case OrderStatus::kRejected:
      // A GTX order that would take liquidity is accepted and expires at once.
      return o.reject == RejectCode::kPostOnlyViolation ? "EXPIRED" : "REJECTED";
    default: return "NEW";
  }
}

namespace {

bool Visible(const SimOrder& o) {
  return o.status != OrderStatus::kRejected || o.reject == RejectCode::kPostOnlyViolation;
}

std::string AvgPriceText(const SimOrder& o) {
  if (o.filled == 0) return "0.00000";
  return DecimalAt(o.AvgPrice(), o.instrument->price_scale + 4);
}

std::string QtyOrZero(const SimInstrument& in, int64_t q) {
  return q == 0 ? "0" : Fixed(q, in.size_scale);
}

// An order by the client id a venue client knows: its own, or a liquidation's "autoclose-<id>".
const SimOrder* FindByVenueClientId(const Engine& eng, const std::string& account,
                                    const std::string& cid) {
  if (const SimOrder* o = eng.FindByClientId(account, cid)) return o;
  static constexpr std::string_view kVenue = "autoclose-";
  if (cid.rfind(kVenue, 0) != 0) return nullptr;
  int64_t id = 0;
  if (!ParseI64(std::string_view(cid).substr(kVenue.size()), &id) || id <= 0) return nullptr;
  const SimOrder* o = eng.FindOrder(static_cast<uint64_t>(id));
  return o != nullptr && o->account == account && VenueClientId(*o) == cid ? o : nullptr;
}

// The order a request names by orderId, or else by origClientOrderId (nullptr: none; the
// caller checks account, symbol and state).
const SimOrder* FindNamedOrder(const Engine& eng, const std::string& account, const Params& p) {
  if (p.Has("orderId")) {
    int64_t id = 0;
    return ParseI64(p.Get("orderId"), &id) && id > 0 ? eng.FindOrder(static_cast<uint64_t>(id))
                                                     : nullptr;
  }
  return FindByVenueClientId(eng, account, p.Get("origClientOrderId"));
}

// The rows a history query pages through (ascending): from `forward` on, the first `limit`
// (Binance: orderId/fromId/startTime read forward); otherwise the most recent `limit`.
std::pair<size_t, size_t> Page(size_t n, int64_t limit, bool forward) {
  const size_t lim = static_cast<size_t>(std::max<int64_t>(limit, 0));
  if (forward || n <= lim) return {0, std::min(n, lim)};
  return {n - lim, n};
}

enum class OrderView { kAck, kResult, kQuery };

// close_position: a STOP_MARKET / TAKE_PROFIT_MARKET placed with closePosition=true.
void WriteOrder(JsonWriter& w, const SimOrder& o, OrderView view, bool close_position = false) {
  const SimInstrument& in = *o.instrument;
  const bool ack = view == OrderView::kAck;
  w.BeginObject();
  w.Field("orderId", o.id).Field("symbol", in.symbol());
  w.Field("status", ack ? "NEW" : OrderStatusText(o));
  w.Field("clientOrderId", VenueClientId(o));
  w.Field("price", o.type == OrderType::kMarket ? std::string("0") : Fixed(o.price, in.price_scale));
  w.Field("avgPrice", ack ? std::string("0.00000") : AvgPriceText(o));
  w.Field("origQty", Fixed(o.qty, in.size_scale));
  w.Field("executedQty", ack ? std::string("0") : QtyOrZero(in, o.filled));
  if (view != OrderView::kQuery) w.Field("cumQty", ack ? std::string("0") : QtyOrZero(in, o.filled));
  w.Field("cumQuote", ack || o.filled == 0 ? std::string("0") : Money8(o.filled_notional));
  w.Field("timeInForce", TifText(o)).Field("type", TypeText(o));
  // closePosition orders print reduceOnly true, as the venue does.
  w.Field("reduceOnly", o.reduce_only).Field("closePosition", close_position);
  w.Field("side", SideText(o.side)).Field("positionSide", ToString(o.position_side));
  w.Field("stopPrice", o.conditional() ? Fixed(o.trigger_price, in.price_scale) : std::string("0"));
  w.Field("workingType", WorkingTypeText(o)).Field("priceProtect", false);
  w.Field("origType", TypeText(o));
  if (o.trailing_bps != 0) {
    w.Field("activatePrice", Fixed(o.activation_price, in.price_scale));
    w.Field("priceRate", CallbackRateText(o.trailing_bps));
  }
  if (view == OrderView::kQuery) w.Field("time", ToMs(o.created));
  w.Field("updateTime", ToMs(ack ? o.created : o.updated));
  w.EndObject();
}

std::string OrderJson(const SimOrder& o, OrderView view, bool close_position = false) {
  JsonWriter w;
  WriteOrder(w, o, view, close_position);
  return w.Take();
}

}  // namespace

// ------------------------------------------------------------------------------------ routing

void AsterModule::Route(const HttpRequest& req, HttpResponse& resp) {
  const Params p = Params::From(req);
  const std::string& path = req.path;
  if (path == "/api/v3/exchangeInfo") {  // spot catalogue ccxt loads too: no spot markets here
    JsonWriter w;
    w.BeginObject().Field("timezone", "UTC").Field("serverTime", NowMs());
    w.Key("symbols").BeginArray().EndArray().EndObject();
    return resp.Json(200, w.Take());
  }
  auto not_found = [&] {
    WriteError(resp, {404, -1000, "Unknown endpoint: " + req.method + " " + path});
  };
  if (path.rfind("/fapi/v", 0) != 0 || path.size() < 10 || path[8] != '/') return not_found();
  const char version = path[7];
  const std::string name = path.substr(9);
  static const std::map<std::string, std::string, std::less<>> kPublic = {
      {"ping", "13"}, {"time", "13"}, {"exchangeInfo", "13"}, {"depth", "13"},
      {"premiumIndex", "13"}, {"fundingInfo", "13"}, {"fundingRate", "13"},
      {"ticker/24hr", "13"}, {"ticker/price", "13"}, {"ticker/bookTicker", "13"},
      {"openInterest", "13"}, {"trades", "13"}, {"aggTrades", "13"}, {"klines", "13"},
      {"markPriceKlines", "13"}, {"indexPriceKlines", "13"}, {"historicalTrades", "1"}};
  static const std::map<std::string, std::string, std::less<>> kPrivate = {
      {"order", "13"}, {"order/test", "13"}, {"allOpenOrders", "13"}, {"openOrders", "13"},
      {"openOrder", "13"}, {"allOrders", "13"}, {"balance", "23"}, {"positionRisk", "23"},
      {"account", "43"}, {"leverage", "13"}, {"leverageBracket", "13"}, {"userTrades", "13"},
      {"commissionRate", "13"}, {"positionSide/dual", "13"}, {"listenKey", "13"},
      {"batchOrders", "13"}, {"marginType", "13"}, {"countdownCancelAll", "13"},
      {"income", "13"}, {"builder", "3"}, {"positionMargin", "13"},
      {"positionMargin/history", "13"}, {"stpMode", "3"}, {"noop", "3"},
      {"approveBuilder", "3"}};
  if (auto it = kPublic.find(name); it != kPublic.end()) {
    if (it->second.find(version) == std::string::npos || req.method != "GET") return not_found();
    return Public(name, req, p, resp);
  }
  auto it = kPrivate.find(name);
  if (it == kPrivate.end() || it->second.find(version) == std::string::npos) return not_found();
  ApiError err;
  const AccountSpec* acct =
      version == '3' ? auth_->VerifyV3(req, p, ctx_->Now() / 1000, &err, name == "approveBuilder")
                     : auth_->VerifyV1(req, p, name != "listenKey", NowMs(), &err);
  if (acct == nullptr) return WriteError(resp, err);
  Private(name, *acct, req, p, resp);
}

// ------------------------------------------------------------------------------- public data

std::string AsterModule::PremiumJson(size_t i) const {
  const SimInstrument& in = ctx_->market().instrument(i);
  const int64_t mark = ctx_->market().mark_price(i);
  // Mark/index print with 8 decimals; the sim's index is its mid (no basis).
  const std::string px = Fixed(mark * Pow10(8 - std::min(8, in.price_scale)), 8);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("markPrice", px)
      .Field("indexPrice", px)
      .Field("estimatedSettlePrice", px)
      .Field("lastFundingRate", Rate8(ctx_->market().funding_rate(i)))
      .Field("interestRate", "0.00010000")
      .Field("nextFundingTime", ToMs(ctx_->NextFundingTime(i)))
      .Field("time", NowMs())
      .EndObject();
  return w.Take();
}

std::string AsterModule::TickerJson(size_t i, bool event, bool mini) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const Stats& s = symbols_[i].stats;
  const SymbolExtra x = ExtraFor(in);
  const int64_t last = m.mid(i);
  // Synthetic baseline volume at the current mid plus what sim users traded.
  const int64_t base_qty =
      x.daily_quote_volume / std::max<Money>(1, in.Notional(last, in.step)) * in.step;
  const int64_t volume = std::max<int64_t>(0, base_qty) + s.traded_qty;
  const Money quote = in.Notional(last, std::max<int64_t>(0, base_qty)) + s.traded_quote;
  const int64_t change = last - s.open;
  // priceChangePercent with 3 decimals: change / open * 100.
  const int64_t pct = s.open == 0 ? 0 : change * 100000 / s.open;
  const int64_t now = NowMs();
  JsonWriter w;
  if (event) {
    // Stream form: one-letter keys (Binance futures 24hrTicker / 24hrMiniTicker).
    w.BeginObject().Field("e", mini ? "24hrMiniTicker" : "24hrTicker").Field("E", now);
    w.Field("s", in.symbol());
    if (!mini) {
      w.Field("p", Fixed(change, in.price_scale))
          .Field("P", Fixed(pct, 3))
          .Field("w", Fixed(last, in.price_scale));
    }
    w.Field("c", Fixed(last, in.price_scale));
    if (!mini) w.Field("Q", QtyOrZero(in, s.last_qty));
    w.Field("o", Fixed(s.open, in.price_scale))
        .Field("h", Fixed(s.high, in.price_scale))
        .Field("l", Fixed(s.low, in.price_scale))
        .Field("v", Fixed(volume, in.size_scale))
        .Field("q", Fixed(quote / 1000000, 2));
    if (!mini) {
      w.Field("O", now - 24 * 3600 * 1000)
          .Field("C", now)
          .Field("F", s.first_trade)
          .Field("L", s.last_trade)
          .Field("n", s.count);
    }
    w.EndObject();
    return w.Take();
  }
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("priceChange", Fixed(change, in.price_scale))
      .Field("priceChangePercent", Fixed(pct, 3))
      .Field("weightedAvgPrice", Fixed(last, in.price_scale))
      .Field("lastPrice", Fixed(last, in.price_scale))
      .Field("lastQty", QtyOrZero(in, s.last_qty))
      .Field("openPrice", Fixed(s.open, in.price_scale))
      .Field("highPrice", Fixed(s.high, in.price_scale))
      .Field("lowPrice", Fixed(s.low, in.price_scale))
      .Field("volume", Fixed(volume, in.size_scale))
      .Field("quoteVolume", Fixed(quote / 1000000, 2))
      .Field("openTime", now - 24 * 3600 * 1000)
      .Field("closeTime", now)
      .Field("firstId", s.first_trade)
      .Field("lastId", s.last_trade)
      .Field("count", s.count)
      .EndObject();
  return w.Take();
}

void AsterModule::Public(std::string_view name, const HttpRequest& req, const Params& p,
                         HttpResponse& resp) {
  Market& m = ctx_->market();
  const std::string symbol = p.Get("symbol");
  const int si = symbol.empty() ? -1 : SymbolIndex(symbol);
  if (!symbol.empty() && si < 0) return WriteError(resp, UnknownSymbol());
  auto each = [&](auto&& row) {
    if (si >= 0) return resp.Json(200, row(static_cast<size_t>(si)));
    std::string out = "[";
    for (size_t i = 0; i < m.size(); ++i) {
      if (i) out += ',';
      out += row(i);
    }
    resp.Json(200, out + "]");
  };
  if (name == "ping") return resp.Json(200, "{}");
  if (name == "time") {
    return resp.Json(200, "{\"serverTime\":" + std::to_string(NowMs()) + "}");
  }
  if (name == "exchangeInfo") {
    JsonWriter w;
    w.BeginObject().Field("timezone", "UTC").Field("serverTime", NowMs());
    w.Field("futuresType", "U_MARGINED");
    w.Key("rateLimits").BeginArray();
    auto limit = [&](const char* type, const char* iv, int n, int lim) {
      w.BeginObject().Field("rateLimitType", type).Field("interval", iv);
      w.Field("intervalNum", n).Field("limit", lim).EndObject();
    };
    limit("REQUEST_WEIGHT", "MINUTE", 1, 2400);
    limit("ORDERS", "MINUTE", 1, 1200);
    limit("ORDERS", "SECOND", 10, 300);
    w.EndArray().Key("exchangeFilters").BeginArray().EndArray();
    w.Key("assets").BeginArray();
    w.BeginObject().Field("asset", "USDT").Field("marginAvailable", true);
    w.Field("autoAssetExchange", "-10000").EndObject();
    w.BeginObject().Field("asset", "BTC").Field("marginAvailable", true);
    w.Field("autoAssetExchange", "0").EndObject();
    w.EndArray().Key("symbols").BeginArray();
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      const SymbolExtra x = ExtraFor(in);
      w.BeginObject()
          .Field("symbol", in.symbol())
          .Field("pair", in.symbol())
          .Field("contractType", "PERPETUAL")
          .Field("deliveryDate", int64_t{4133404800000})
          .Field("onboardDate", x.onboard_ms)
          .Field("status", "TRADING")
          .Field("maintMarginPercent", "2.5000")
          .Field("requiredMarginPercent", "5.0000")
          .Field("baseAsset", in.spec.base)
          .Field("quoteAsset", in.spec.quote)
          .Field("marginAsset", in.spec.quote)
          .Field("pricePrecision", x.price_precision)
          .Field("quantityPrecision", x.qty_precision)
          .Field("baseAssetPrecision", 8)
          .Field("quotePrecision", 8)
          .Field("underlyingType", "COIN");
      w.Key("underlyingSubType").BeginArray().EndArray();
      w.Field("symbolType", 0)
          .Field("tradingMode", 0)
          .Field("name", x.name)
          .Field("channel", "")
          .Field("sequenceNo", static_cast<int64_t>(i))
          .Field("twapMinNotional", "1000")
          .Field("settlePlan", 0)
          .Field("triggerProtect", "0.0500")
          .Field("liquidationFee", "0.025000")
          .Field("marketTakeBound", "0.05")
          .Field("createTime", x.onboard_ms + 3600000);
      w.Key("filters").BeginArray();
      w.BeginObject().Field("minPrice", x.min_price).Field("maxPrice", x.max_price);
      w.Field("filterType", "PRICE_FILTER").Field("tickSize", in.spec.tick).EndObject();
      w.BeginObject().Field("stepSize", in.spec.step).Field("filterType", "LOT_SIZE");
      w.Field("maxQty", x.max_qty).Field("minQty", in.spec.min_qty).EndObject();
      w.BeginObject().Field("stepSize", in.spec.step).Field("filterType", "MARKET_LOT_SIZE");
      w.Field("maxQty", x.market_max_qty).Field("minQty", in.spec.min_qty).EndObject();
      w.BeginObject().Field("limit", kMaxOpenOrdersPerSymbol);
      w.Field("filterType", "MAX_NUM_ORDERS").EndObject();
      w.BeginObject().Field("limit", 10).Field("filterType", "MAX_NUM_ALGO_ORDERS").EndObject();
      w.BeginObject().Field("notional", FormatMoney(in.min_notional));
      w.Field("filterType", "MIN_NOTIONAL").EndObject();
      w.BeginObject().Field("multiplierDown", x.down).Field("multiplierUp", x.up);
      w.Field("ltMultiplierDown", "0").Field("multiplierDecimal", "4");
      w.Field("filterType", "PERCENT_PRICE").Field("ltMultiplierUp", "0").EndObject();
      w.EndArray();
      // Every type the venue lists, all executed by the sim's engine.
      w.Key("orderTypes").BeginArray().String("LIMIT").String("MARKET").String("STOP");
      w.String("STOP_MARKET").String("TAKE_PROFIT").String("TAKE_PROFIT_MARKET");
      w.String("TRAILING_STOP_MARKET").EndArray();
      w.Key("timeInForce").BeginArray().String("GTC").String("IOC").String("FOK").String("GTX");
      w.EndArray().EndObject();
    }
    w.EndArray().EndObject();
    return resp.Json(200, w.Take());
  }
  if (name == "depth") {
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    int64_t limit = 500;
    if (p.Has("limit")) {
      bool ok = ParseI64(p.Get("limit"), &limit) &&
                std::find(std::begin(kDepthLimits), std::end(kDepthLimits), limit) !=
                    std::end(kDepthLimits);
      if (!ok) return WriteError(resp, Err(-1130, "Data sent for parameter 'limit' is not valid."));
    }
    const SimInstrument& in = m.instrument(si);
    const OrderBook& book = m.book(si);
    JsonWriter w;
    w.BeginObject().Field("lastUpdateId", m.update_id(si)).Field("E", NowMs());
    w.Field("T", ToMs(symbols_[si].last_change));
    for (auto side : {BookSide::kBid, BookSide::kAsk}) {
      w.Key(side == BookSide::kBid ? "bids" : "asks").BeginArray();
      auto levels = side == BookSide::kBid ? book.Bids(limit) : book.Asks(limit);
      for (const Level& l : levels) {
        w.BeginArray().String(Fixed(l.price, in.price_scale)).String(Fixed(l.size, in.size_scale));
        w.EndArray();
      }
      w.EndArray();
    }
    w.EndObject();
    return resp.Json(200, w.Take());
  }
  if (name == "premiumIndex") return each([&](size_t i) { return PremiumJson(i); });
  if (name == "fundingInfo") {
    std::string out = "[";
    for (size_t i = 0; i < m.size(); ++i) {
      if (si >= 0 && static_cast<size_t>(si) != i) continue;
      const SimInstrument& in = m.instrument(i);
      const bool major = in.spec.funding_interval_hours >= 8;
      JsonWriter w;
      w.BeginObject().Field("symbol", in.symbol()).Field("interestRate", "0.00010000");
      w.Field("time", ToMs(started_)).Field("fundingIntervalHours", in.spec.funding_interval_hours);
      w.Key("fundingFeeCap").Raw(major ? "0.03" : "0.02");
      w.Key("fundingFeeFloor").Raw(major ? "-0.03" : "-0.02").EndObject();
      if (out.size() > 1) out += ',';
      out += w.str();
    }
    return resp.Json(200, out + "]");
  }
  if (name == "fundingRate") {
    int64_t limit = 100, start = -1, end = -1;
    if (p.Has("limit") && (!ParseI64(p.Get("limit"), &limit) || limit <= 0)) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'limit' is not valid."));
    }
    limit = std::min<int64_t>(limit, 1000);
    if (p.Has("startTime")) ParseI64(p.Get("startTime"), &start);
    if (p.Has("endTime")) ParseI64(p.Get("endTime"), &end);
    struct Row {
      size_t i;
      FundingRow f;
    };
    std::vector<Row> rows;
    for (size_t i = 0; i < m.size(); ++i) {
      if (si >= 0 && static_cast<size_t>(si) != i) continue;
      for (const auto& f : symbols_[i].funding) {
        if ((start < 0 || f.time_ms >= start) && (end < 0 || f.time_ms <= end)) rows.push_back({i, f});
      }
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.f.time_ms < b.f.time_ms; });
    // With a start time: the first `limit` from it; otherwise the most recent `limit`.
    size_t from = 0, n = rows.size();
    if (start < 0 && n > static_cast<size_t>(limit)) from = n - limit;
    n = std::min(n, from + static_cast<size_t>(limit));
    JsonWriter w;
    w.BeginArray();
    for (size_t k = from; k < n; ++k) {
      w.BeginObject().Field("symbol", m.instrument(rows[k].i).symbol());
      w.Field("fundingRate", Rate8(rows[k].f.rate)).Field("fundingTime", rows[k].f.time_ms);
      w.EndObject();
    }
    w.EndArray();
    return resp.Json(200, w.Take());
  }
  if (name == "ticker/24hr") return each([&](size_t i) { return TickerJson(i); });
  if (name == "ticker/price") {
    return each([&](size_t i) {
      JsonWriter w;
      w.BeginObject().Field("symbol", m.instrument(i).symbol());
      w.Field("price", Fixed(m.mid(i), m.instrument(i).price_scale)).Field("time", NowMs());
      w.EndObject();
      return w.Take();
    });
  }
  if (name == "ticker/bookTicker") {
    return each([&](size_t i) {
      const SimInstrument& in = m.instrument(i);
      auto bid = m.book(i).BestBid();
      auto ask = m.book(i).BestAsk();
      JsonWriter w;
      w.BeginObject().Field("symbol", in.symbol());
      w.Field("bidPrice", Fixed(bid ? bid->price : 0, in.price_scale));
      w.Field("bidQty", Fixed(bid ? bid->size : 0, in.size_scale));
      w.Field("askPrice", Fixed(ask ? ask->price : 0, in.price_scale));
      w.Field("askQty", Fixed(ask ? ask->size : 0, in.size_scale));
      w.Field("time", NowMs()).Field("lastUpdateId", m.update_id(i)).EndObject();
      return w.Take();
    });
  }
  if (name == "klines" || name == "markPriceKlines" || name == "indexPriceKlines") {
    // Binance-family candles from the sim's one-minute series. indexPriceKlines names the
    // market by `pair`. The sim's mark and index are its mid, so those two carry the same
    // OHLC as klines with zero volumes. 1w / 1M are calendar buckets (internal.h); a week of
    // minutes is kept, so older candles are absent.
    std::string sym = name == "indexPriceKlines" ? p.Get("pair") : symbol;
    const int ki = sym.empty() ? -1 : SymbolIndex(sym);
    if (sym.empty()) return WriteError(resp, Mandatory(name == "indexPriceKlines" ? "pair" : "symbol"));
    if (ki < 0) return WriteError(resp, UnknownSymbol());
    const std::string interval = p.Get("interval");
    if (interval.empty()) return WriteError(resp, Mandatory("interval"));
    const std::optional<CandleInterval> iv = KlineInterval(interval);
    if (!iv) return WriteError(resp, Err(-1120, "Invalid interval."));
    int64_t limit = 500, start = -1, end = NowMs();
    if ((p.Has("limit") && (!ParseI64(p.Get("limit"), &limit) || limit < 1)) ||
        (p.Has("startTime") && !ParseI64(p.Get("startTime"), &start)) ||
        (p.Has("endTime") && !ParseI64(p.Get("endTime"), &end))) {
      return WriteError(resp, Err(-1100, "Illegal characters found in a parameter."));
    }
    limit = std::min<int64_t>(limit, 1500);
    const SimInstrument& kin = m.instrument(static_cast<size_t>(ki));
    const bool trades_too = name == "klines";
    JsonWriter w;
    w.BeginArray();
    for (const Candle& c : ctx_->Candles(static_cast<size_t>(ki))
                               .Range(*iv, start, end, static_cast<size_t>(limit))) {
      w.BeginArray()
          .Int(c.open_ms)
          .String(Fixed(c.open, kin.price_scale))
          .String(Fixed(c.high, kin.price_scale))
          .String(Fixed(c.low, kin.price_scale))
          .String(Fixed(c.close, kin.price_scale))
          .String(trades_too ? Fixed(c.volume, kin.size_scale) : "0")
          .Int(iv->BucketEnd(c.open_ms) - 1)
          .String(trades_too ? FormatMoney(c.quote_volume) : "0")
          .Int(trades_too ? c.trades : 0)
          .String(trades_too ? Fixed(c.buy_volume, kin.size_scale) : "0")
          .String(trades_too ? FormatMoney(c.buy_quote_volume) : "0")
          .String("0")
          .EndArray();
    }
    w.EndArray();
    return resp.Json(200, w.Take());
  }
  if (name == "trades" || name == "aggTrades" || name == "historicalTrades") {
    // historicalTrades: MARKET_DATA, the API key header only (no signature); reads forward from
    // fromId; limit default 100, at most 500 (Binance-family defaults).
    const bool historical = name == "historicalTrades";
    if (historical) {
      ApiError kerr;
      if (auth_->VerifyV1(req, p, /*is_signed=*/false, NowMs(), &kerr) == nullptr) {
        return WriteError(resp, kerr);
      }
    }
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    int64_t limit = historical ? 100 : 500;
    if (p.Has("limit") && (!ParseI64(p.Get("limit"), &limit) || limit < 1)) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'limit' is not valid."));
    }
    limit = std::min<int64_t>(limit, historical ? 500 : 1000);
    // aggTrades filters: fromId, or startTime/endTime (ms, at most one hour apart).
    int64_t from_id = -1, start = -1, end = -1;
    if (historical && p.Has("fromId") && !ParseI64(p.Get("fromId"), &from_id)) {
      return WriteError(resp, Err(-1100, "Illegal characters found in a parameter."));
    }
    if (name == "aggTrades") {
      if ((p.Has("fromId") && !ParseI64(p.Get("fromId"), &from_id)) ||
          (p.Has("startTime") && !ParseI64(p.Get("startTime"), &start)) ||
          (p.Has("endTime") && !ParseI64(p.Get("endTime"), &end))) {
        return WriteError(resp, Err(-1100, "Illegal characters found in a parameter."));
      }
      if (start >= 0 && end >= 0 && (end < start || end - start > 3'600'000)) {
        return WriteError(resp, Err(-1127, "More than 1 hours between startTime and endTime."));
      }
    }
    const SimInstrument& in = m.instrument(static_cast<size_t>(si));
    std::vector<const PublicTrade*> rows;
    std::vector<uint64_t> ids;  // per-symbol venue ids of `rows`
    for (const PublicTrade& t : ctx_->RecentTrades(static_cast<size_t>(si))) {
      const int64_t ms = ToMs(t.time);
      const uint64_t id = VenueTradeId(static_cast<size_t>(si), t.trade_id);
      if (from_id >= 0 && static_cast<int64_t>(id) < from_id) continue;
      if (start >= 0 && ms < start) continue;
      if (end >= 0 && ms > end) continue;
      rows.push_back(&t);
      ids.push_back(id);
    }
    // fromId/startTime read forward from the first match; otherwise the latest `limit`.
    size_t first = 0;
    if (from_id < 0 && start < 0 && rows.size() > static_cast<size_t>(limit)) {
      first = rows.size() - static_cast<size_t>(limit);
    }
    const size_t last = std::min(rows.size(), first + static_cast<size_t>(limit));
    JsonWriter w;
    w.BeginArray();
    for (size_t k = first; k < last; ++k) {
      const PublicTrade& t = *rows[k];
      const uint64_t id = ids[k];
      const bool buyer_maker = t.taker_side == Side::kSell;
      w.BeginObject();
      if (name != "aggTrades") {
        w.Field("id", id)
            .Field("price", Fixed(t.price, in.price_scale))
            .Field("qty", Fixed(t.qty, in.size_scale))
            .Field("quoteQty", FormatMoney(in.Notional(t.price, t.qty)))
            .Field("time", ToMs(t.time))
            .Field("isBuyerMaker", buyer_maker);
      } else {
        w.Field("a", id)
            .Field("p", Fixed(t.price, in.price_scale))
            .Field("q", Fixed(t.qty, in.size_scale))
            .Field("f", id)
            .Field("l", id)
            .Field("T", ToMs(t.time))
            .Field("m", buyer_maker);
      }
      w.EndObject();
    }
    w.EndArray();
    return resp.Json(200, w.Take());
  }
  if (name == "openInterest") {
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    const SimInstrument& in = m.instrument(si);
    // Longs of sim accounts plus a synthetic baseline (~ a third of a day's volume).
    int64_t oi = 0;
    for (const auto& id : ctx_->engine().account_ids()) {
      for (const SimPosition& pos : ctx_->engine().Positions(id)) {  // BOTH or LONG
        if (pos.instrument->index == static_cast<size_t>(si) && pos.size > 0) oi += pos.size;
      }
    }
    const Money unit = std::max<Money>(1, in.Notional(m.mid(si), in.step));
    oi += ExtraFor(in).daily_quote_volume / 3 / unit * in.step;
    JsonWriter w;
    w.BeginObject().Field("symbol", in.symbol()).Field("openInterest", Fixed(oi, in.size_scale));
    w.Field("time", NowMs()).EndObject();
    return resp.Json(200, w.Take());
  }
  WriteError(resp, {404, -1000, "Unknown endpoint: " + req.method + " " + req.path});
}

// ----------------------------------------------------------------------------- private calls

void AsterModule::Private(std::string_view name, const AccountSpec& acct, const HttpRequest& req,
                          const Params& p, HttpResponse& resp) {
  const std::string& method = req.method;
  Engine& eng = ctx_->engine();
  Market& m = ctx_->market();
  auto bad_method = [&] {
    WriteError(resp, {404, -1000, "Unknown endpoint: " + method + " " + req.path});
  };
  const std::string symbol = p.Get("symbol");
  const int si = symbol.empty() ? -1 : SymbolIndex(symbol);
  if (!symbol.empty() && si < 0 && name != "listenKey") return WriteError(resp, UnknownSymbol());

  if (name == "listenKey") {
    if (method != "POST" && method != "PUT" && method != "DELETE") return bad_method();
    return ListenKeyCall(method, acct, resp);
  }
  if (name == "order") {
    if (method == "POST") return NewOrder(acct, p, resp);
    if (method == "GET") return QueryOrder(acct, p, false, resp);
    if (method == "DELETE") return CancelOrder(acct, p, resp);
    // Modify exists on V3 only (aster.md: "PUT /fapi/v3/order", no V1 form).
    if (method == "PUT" && req.path.find("/v3/") != std::string::npos) {
      return ModifyOrder(acct, p, resp);
    }
    return bad_method();
  }
  if (name == "order/test") {
    if (method != "POST") return bad_method();
    Params q = p;
    q.kv.emplace_back("__test", "1");
    return NewOrder(acct, q, resp);
  }
  if (name == "openOrder") {
    if (method != "GET") return bad_method();
    return QueryOrder(acct, p, true, resp);
  }
  if (name == "allOpenOrders") {
    if (method != "DELETE") return bad_method();
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    eng.CancelAll(acct.id, symbol);
    return resp.Json(200,
                     R"({"code":"200","msg":"The operation of cancel all open order is done."})");
  }
  if (name == "openOrders" || name == "allOrders") {
    if (method != "GET") return bad_method();
    const bool all = name == "allOrders";
    if (all && si < 0) return WriteError(resp, Mandatory("symbol"));
    int64_t from_id = 0, limit = 500, start = -1, end = -1;
    ParseI64(p.Get("orderId"), &from_id);
    if (p.Has("limit")) ParseI64(p.Get("limit"), &limit);
    limit = std::clamp<int64_t>(limit, 1, 1000);
    if (all && p.Has("startTime")) ParseI64(p.Get("startTime"), &start);
    if (all && p.Has("endTime")) ParseI64(p.Get("endTime"), &end);
    std::vector<const SimOrder*> list = all ? eng.Orders(acct.id) : eng.OpenOrders(acct.id, symbol);
    std::vector<const SimOrder*> rows;
    for (const SimOrder* o : list) {
      if (!Visible(*o) || (!symbol.empty() && o->instrument->symbol() != symbol)) continue;
      if (o->id < static_cast<uint64_t>(from_id)) continue;
      const int64_t t = ToMs(o->created);  // allOrders' time window is on the creation time
      if ((start >= 0 && t < start) || (end >= 0 && t > end)) continue;
      rows.push_back(o);
    }
    // allOrders: orderId/startTime page forward, otherwise the most recent `limit` (Binance
    // family; aster.md does not spell it out). openOrders keeps the oldest `limit`.
    auto [first, last] = Page(rows.size(), limit, !all || from_id > 0 || start >= 0);
    JsonWriter w;
    w.BeginArray();
    for (size_t k = first; k < last; ++k) {
      WriteOrder(w, *rows[k], OrderView::kQuery, close_position_.count(rows[k]->id) > 0);
    }
    w.EndArray();
    return resp.Json(200, w.Take());
  }
  if (name == "balance") {
    if (method != "GET") return bad_method();
    return resp.Json(200, BalanceRows(acct));
  }
  if (name == "account") {
    if (method != "GET") return bad_method();
    return resp.Json(200, AccountJson(acct));
  }
  if (name == "positionRisk") {
    if (method != "GET") return bad_method();
    std::string out = "[";
    // Hedge mode: a LONG and a SHORT row per symbol (flat ones too), as Binance lists them.
    const bool hedge = eng.HedgeMode(acct.id);
    for (size_t i = 0; i < m.size(); ++i) {
      if (si >= 0 && static_cast<size_t>(si) != i) continue;
      for (PositionSide side : hedge ? std::vector{PositionSide::kLong, PositionSide::kShort}
                                     : std::vector{PositionSide::kBoth}) {
        if (out.size() > 1) out += ',';
        out += PositionRow(acct, i, false, side);
      }
    }
    return resp.Json(200, out + "]");
  }
  if (name == "leverage") {
    if (method != "POST") return bad_method();
    return Leverage(acct, p, resp);
  }
  if (name == "leverageBracket") {
    if (method != "GET") return bad_method();
    auto row = [&](size_t i) {
      const SimInstrument& in = m.instrument(i);
      JsonWriter w;
      w.BeginObject().Field("symbol", in.symbol()).Key("brackets").BeginArray();
      w.BeginObject().Field("bracket", 1).Field("initialLeverage", in.spec.max_leverage);
      w.Key("notionalCap").Raw(ExtraFor(in).max_notional).Key("notionalFloor").Raw("0");
      w.Key("maintMarginRatio").Raw(FormatRate(in.maint_margin_ratio)).Key("cum").Raw("0");
      w.EndObject().EndArray().EndObject();
      return w.Take();
    };
    if (si >= 0) return resp.Json(200, row(si));
    std::string out = "[";
    for (size_t i = 0; i < m.size(); ++i) out += (i ? "," : "") + row(i);
    return resp.Json(200, out + "]");
  }
  if (name == "userTrades") {
    if (method != "GET") return bad_method();
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    int64_t from_id = 0, start = -1, end = -1, limit = 500;
    ParseI64(p.Get("fromId"), &from_id);
    if (p.Has("startTime")) ParseI64(p.Get("startTime"), &start);
    if (p.Has("endTime")) ParseI64(p.Get("endTime"), &end);
    if (p.Has("limit")) ParseI64(p.Get("limit"), &limit);
    limit = std::clamp<int64_t>(limit, 1, 1000);
    const std::vector<SimFill> fills = eng.Fills(acct.id);
    std::vector<const SimFill*> rows;
    std::vector<uint64_t> ids;  // per-symbol venue ids of `rows` (fromId reads them)
    for (const SimFill& f : fills) {
      const int64_t t = ToMs(f.time);
      if (f.instrument->symbol() != symbol) continue;
      const uint64_t id = VenueTradeId(f.instrument->index, f.trade_id, true);
      if (id < static_cast<uint64_t>(from_id)) continue;
      if ((start >= 0 && t < start) || (end >= 0 && t > end)) continue;
      rows.push_back(&f);
      ids.push_back(id);
    }
    // fromId/startTime read forward; otherwise the most recent `limit` (Binance family).
    auto [first, last] = Page(rows.size(), limit, from_id > 0 || start >= 0);
    JsonWriter w;
    w.BeginArray();
    for (size_t k = first; k < last; ++k) {
      const SimFill& f = *rows[k];
      const SimInstrument& in = *f.instrument;
      const int64_t t = ToMs(f.time);
      auto rp = trade_realized_.find(f.trade_id);
      w.BeginObject()
          .Field("buyer", f.side == Side::kBuy)
          .Field("commission", Money8(f.fee))
          .Field("commissionAsset", "USDT")
          .Field("id", ids[k])
          .Field("maker", f.maker)
          .Field("orderId", f.order_id)
          .Field("price", Fixed(f.price, in.price_scale))
          .Field("qty", Fixed(f.qty, in.size_scale))
          .Field("quoteQty", Money8(in.Notional(f.price, f.qty)))
          .Field("realizedPnl", Money8(rp == trade_realized_.end() ? 0 : rp->second))
          .Field("side", SideText(f.side))
          .Field("positionSide", ToString(f.position_side))
          .Field("symbol", in.symbol())
          .Field("time", t)
          .EndObject();
    }
    w.EndArray();
    return resp.Json(200, w.Take());
  }
  if (name == "commissionRate") {
    if (method != "GET") return bad_method();
    if (si < 0) return WriteError(resp, Mandatory("symbol"));
    JsonWriter w;
    w.BeginObject().Field("symbol", symbol).Field("makerCommissionRate", acct.maker_fee);
    w.Field("takerCommissionRate", acct.taker_fee).EndObject();
    return resp.Json(200, w.Take());
  }
  if (name == "positionSide/dual") {
    if (method == "GET") {
      return resp.Json(200, eng.HedgeMode(acct.id) ? R"({"dualSidePosition":true})"
                                                   : R"({"dualSidePosition":false})");
    }
    if (method != "POST") return bad_method();
    bool dual = false;
    if (!ParseBool(p.Get("dualSidePosition"), &dual)) return WriteError(resp, Mandatory("dualSidePosition"));
    // Account-wide, refused with any open order or position (Binance-family codes; the spec
    // lists -4059 only, -4067 / -4068 are Binance's, checked in that order: our reading).
    switch (eng.SetHedgeMode(acct.id, dual)) {
      case PositionModeResult::kOk: {
        resp.Json(200, R"({"code":200,"msg":"success"})");
        // The user stream's account-config event (aster.md §7.4: `ai{j, f, d}`, d = hedge mode).
        // The spec lists the three keys without saying whether all come each time; we send all
        // three (the venue's `ai` reads as a snapshot of the account's settings): j (multi-asset
        // margin) and f (fee token) false — neither exists in the sim.
        JsonWriter e;
        const int64_t now = NowMs();
        e.BeginObject().Field("e", "ACCOUNT_CONFIG_UPDATE").Field("E", now).Field("T", now);
        e.Key("ai").BeginObject().Field("j", false).Field("f", false).Field("d", dual).EndObject();
        e.EndObject();
        PushUser(acct.id, e.Take());
        return;
      }
      case PositionModeResult::kNoChange:
        return WriteError(resp, Err(-4059, "No need to change position side."));
      case PositionModeResult::kHasOpenOrders:
        return WriteError(resp, Err(-4067, "Position side cannot be changed if there exists open orders."));
      case PositionModeResult::kHasPosition:
        return WriteError(resp, Err(-4068, "Position side cannot be changed if there exists position."));
      default:
        return WriteError(resp, Err(-1000, "An unknown error occured while processing the request."));
    }
  }
  if (name == "batchOrders") {
    if (method == "POST") return BatchNew(acct, p, resp);
    if (method == "DELETE") return BatchCancel(acct, p, resp);
    return bad_method();
  }
  if (name == "marginType") {
    if (method != "POST") return bad_method();
    return MarginType(acct, p, resp);
  }
  if (name == "positionMargin") {
    if (method != "POST") return bad_method();
    return PositionMargin(acct, p, resp);
  }
  if (name == "positionMargin/history") {
    if (method != "GET") return bad_method();
    return PositionMarginHistory(acct, p, resp);
  }
  if (name == "countdownCancelAll") {
    if (method != "POST") return bad_method();
    return CountdownCancelAll(acct, p, resp);
  }
  if (name == "income") {
    if (method != "GET") return bad_method();
    return Income(acct, p, resp);
  }
  if (name == "builder") {  // ccxt's builder-fee check: no builders approved here
    // approveBuilder is accepted (below), but aster.md gives no shape for a listed builder, so
    // the list stays empty: a client re-approves, which succeeds again.
    if (method != "GET") return bad_method();
    return resp.Json(200, "[]");
  }
  if (name == "approveBuilder") {
    // aster.md (ccxt): builder, builderName, maxFeeRate, asterChain (+ signatureChainId), the
    // ApproveBuilder signature checked by VerifyV3; answer {"code":200,"msg":"success"}. The
    // sim charges no builder fees, so the approval is recorded and has no further effect.
    if (method != "POST") return bad_method();
    for (const char* k : {"builder", "maxFeeRate"}) {
      if (p.Get(k).empty()) return WriteError(resp, Mandatory(k));
    }
    if (!Decimal::Parse(p.Get("maxFeeRate")).ok()) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'maxFeeRate' is not valid."));
    }
    approved_builders_[acct.id].insert(LowerAscii(p.Get("builder")));
    return resp.Json(200, R"({"code":200,"msg":"success"})");
  }
  if (name == "noop") {
    // aster.md §8.2: a signed noop with a given nonce cancels a still-queued request carrying
    // that nonce. The sim queues nothing (every request runs before it is answered): a nonce
    // that was used is refused by VerifyV3 (-4225, too late), a fresh one is consumed here.
    if (method != "POST") return bad_method();
    return resp.Json(200, R"({"code":200,"msg":"success"})");
  }
  if (name == "stpMode") {
    // The account's self-trade-prevention mode (aster.md: POST/GET /fapi/v3/stpMode, V3 only;
    // values as the V3 order param: EXPIRE_TAKER / EXPIRE_MAKER / EXPIRE_BOTH, and NONE, the
    // mode reported before any is set - the spec names no default, NONE is the safe reading).
    // Stored and reported; it changes nothing in the sim, where accounts trade against the
    // generated book only and never against each other (no self-trade can happen).
    if (method == "GET") {
      auto it = stp_mode_.find(acct.id);
      JsonWriter w;
      w.BeginObject().Field("stpMode", it == stp_mode_.end() ? "NONE" : it->second).EndObject();
      return resp.Json(200, w.Take());
    }
    if (method != "POST") return bad_method();
    const std::string v = p.Get("stpMode");
    if (v.empty()) return WriteError(resp, Mandatory("stpMode"));
    if (!ValidStpMode(v)) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'stpMode' is not valid."));
    }
    stp_mode_[acct.id] = v;
    return resp.Json(200, R"({"code":200,"msg":"success"})");
  }
  bad_method();
}

void AsterModule::NewOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  Market& m = ctx_->market();
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  const int si = SymbolIndex(symbol);
  if (si < 0) return WriteError(resp, UnknownSymbol());
  const SimInstrument& in = m.instrument(si);
  const SymbolExtra x = ExtraFor(in);
  PlaceRequest r;
  r.account = acct.id;
  r.symbol = symbol;
  const std::string side = p.Get("side"), type = p.Get("type");
  if (side.empty()) return WriteError(resp, Mandatory("side"));
  if (side == "BUY") r.side = Side::kBuy;
  else if (side == "SELL") r.side = Side::kSell;
  else return WriteError(resp, Err(-1117, "Invalid side."));
  if (type.empty()) return WriteError(resp, Mandatory("type"));
  // STOP / TAKE_PROFIT (limit), their _MARKET forms and TRAILING_STOP_MARKET trigger on
  // `workingType` (aster.md §9): MARK_PRICE the mark, CONTRACT_PRICE (the default) the last
  // trade price (the engine's LastPrice: the latest print, the mark before any). Any other value
  // -1130 (no documented code; the invalid-parameter one is our reading). Echoed on every order.
  TriggerRef ref = TriggerRef::kLastPrice;
  if (p.Has("workingType")) {
    const std::string wt = p.Get("workingType");
    if (wt == "MARK_PRICE") ref = TriggerRef::kMark;
    else if (wt != "CONTRACT_PRICE") {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'workingType' is not valid."));
    }
  }
  r.trigger_ref = ref;
  const int64_t now_ref =
      ref == TriggerRef::kMark ? m.mark_price(si) : ctx_->engine().LastPrice(static_cast<size_t>(si));
  const bool stop_type = type == "STOP" || type == "STOP_MARKET";
  const bool tp_type = type == "TAKE_PROFIT" || type == "TAKE_PROFIT_MARKET";
  const bool trailing = type == "TRAILING_STOP_MARKET";
  if (type == "LIMIT" || type == "STOP" || type == "TAKE_PROFIT") r.type = OrderType::kLimit;
  else if (type == "MARKET" || type == "STOP_MARKET" || type == "TAKE_PROFIT_MARKET" || trailing) r.type = OrderType::kMarket;
  else return WriteError(resp, Err(-1116, "Invalid orderType."));
  if (trailing) {
    // callbackRate: percent, 0.1 .. 5 (aster.md §9; "1 for 1%"), to the engine's basis points
    // (so at most two decimals: more is -1111). Out of range: no documented code, -1130 (the
    // invalid-parameter code) is the sim's reading.
    if (!p.Has("callbackRate")) return WriteError(resp, Mandatory("callbackRate"));
    auto cr = Decimal::Parse(p.Get("callbackRate"));
    if (!cr.ok()) {
      return WriteError(resp, Err(-1100, "Illegal characters found in parameter 'callbackRate'."));
    }
    auto bps = cr->ToScaled(2);
    if (!bps.ok()) return WriteError(resp, Err(-1111, "Precision is over the maximum defined for this asset."));
    if (*bps < 10 || *bps > 500) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'callbackRate' is not valid."));
    }
    r.trailing_bps = *bps;
    // activationPrice defaults to the latest price (of workingType: active from placement). A
    // sent one must leave room to activate (docs: buy below, sell above the latest price;
    // otherwise -2021).
    const int64_t now_mark = now_ref;
    r.activation_price = now_mark;
    if (p.Has("activationPrice")) {
      ApiError aerr;
      if (!ParseWire("activationPrice", p.Get("activationPrice"), x.price_precision,
                     in.price_scale, in.tick, -4014, "Price not increased by tick size.",
                     &r.activation_price, &aerr)) {
        return WriteError(resp, aerr);
      }
      if (r.activation_price <= 0) {
        return WriteError(resp, Err(-4135, "Invalid activation price."));
      }
      if (r.side == Side::kBuy ? r.activation_price >= now_mark : r.activation_price <= now_mark) {
        return WriteError(resp, Err(-2021, "Order would immediately trigger."));
      }
    }
  }
  bool close_position = false;
  if (p.Has("closePosition") && !ParseBool(p.Get("closePosition"), &close_position)) {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'closePosition' is not valid."));
  }
  if (close_position && type != "STOP_MARKET" && type != "TAKE_PROFIT_MARKET") {
    return WriteError(resp, Err(-1106, "Parameter 'closePosition' sent when not required."));
  }
  if (stop_type || tp_type) {
    if (!p.Has("stopPrice")) return WriteError(resp, Mandatory("stopPrice"));
    ApiError serr;
    if (!ParseWire("stopPrice", p.Get("stopPrice"), x.price_precision, in.price_scale, in.tick,
                   -4014, "Price not increased by tick size.", &r.trigger_price, &serr)) {
      return WriteError(resp, serr);
    }
    if (r.trigger_price <= 0) return WriteError(resp, Err(-4006, "Stop price less than zero."));
    const bool above = stop_type == (r.side == Side::kBuy);
    r.trigger = above ? TriggerWhen::kAtOrAbove : TriggerWhen::kAtOrBelow;
    if (above ? now_ref >= r.trigger_price : now_ref <= r.trigger_price) {
      return WriteError(resp, Err(-2021, "Order would immediately trigger."));
    }
  } else if (p.Has("stopPrice")) {
    return WriteError(resp, Err(-1106, "Parameter 'stopPrice' sent when not required."));
  }
  if (close_position) {
    // Closes whatever position there is when it fires: no quantity; reduce-only, sized to the
    // position at execution (the engine trims a reduce-only order to the position).
    if (p.Has("quantity")) {
      return WriteError(resp, Err(-1106, "Parameter 'quantity' sent when not required."));
    }
    if (p.Has("reduceOnly")) {
      return WriteError(resp, Err(-1106, "Parameter 'reduceOnly' sent when not required."));
    }
    auto cap = in.ParseQty(x.market_max_qty);
    r.qty = cap.ok() ? *cap : in.step;
    r.qty -= r.qty % in.step;
    r.reduce_only = true;
  }
  // One-way: BOTH or absent. Hedge: LONG or SHORT, required; reduceOnly may not be sent
  // (docs: "cannot be sent in Hedge Mode"); closePosition closes the named side.
  const std::string ps = p.Get("positionSide");
  const bool hedge = ctx_->engine().HedgeMode(acct.id);
  if (hedge ? (ps != "LONG" && ps != "SHORT") : (!ps.empty() && ps != "BOTH")) {
    return WriteError(resp, Err(-4061, "Order's position side does not match user's setting."));
  }
  if (hedge) {
    if (p.Has("reduceOnly")) {
      return WriteError(resp, Err(-1106, "Parameter 'reduceOnly' sent when not required."));
    }
    r.position_side = ps == "LONG" ? PositionSide::kLong : PositionSide::kShort;
    r.reduce_only = false;  // a closePosition order closes by its side
  }
  const bool closes = (r.position_side == PositionSide::kLong && r.side == Side::kSell) ||
                      (r.position_side == PositionSide::kShort && r.side == Side::kBuy);
  if (hedge && close_position && !closes) {  // closePosition must close its side (our reading)
    return WriteError(resp, Err(-2022, "ReduceOnly Order is rejected."));
  }
  ApiError err;
  if (!close_position) {
    if (!p.Has("quantity")) return WriteError(resp, Mandatory("quantity"));
    if (!ParseWire("quantity", p.Get("quantity"), x.qty_precision, in.size_scale, in.step, -4023,
                   "Quantity not increased by step size.", &r.qty, &err)) {
      return WriteError(resp, err);
    }
  }
  if (r.qty <= 0) return WriteError(resp, Err(-4003, "Quantity less than or equal to zero."));
  if (r.qty < in.min_qty) return WriteError(resp, Err(-4004, "Quantity less than min quantity."));
  auto max_qty = in.ParseQty(r.type == OrderType::kMarket ? x.market_max_qty : x.max_qty);
  if (max_qty.ok() && r.qty > *max_qty) {
    return WriteError(resp, Err(-4005, "Quantity greater than max quantity."));
  }
  // V3 order params (aster.md §9): stpMode EXPIRE_TAKER / EXPIRE_MAKER / EXPIRE_BOTH (NONE
  // too) - validated, then without effect: sim accounts never trade against each other.
  // pegPriceType COUNTERPARTY_1 (the best price on the other side) / QUEUE_1 (the best on the
  // order's own side), LIMIT only: the order's price is that level at placement (like Binance's
  // priceMatch: not re-pegged later; a sent price is overridden). pegOffset: the spec gives no
  // unit (ticks? price? bps?), so only 0 is accepted; anything else is refused -1130 rather
  // than guessed.
  if (p.Has("stpMode") && !ValidStpMode(p.Get("stpMode"))) {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'stpMode' is not valid."));
  }
  int64_t peg_price = 0;
  if (p.Has("pegPriceType")) {
    const std::string peg = p.Get("pegPriceType");
    if (r.type != OrderType::kLimit) {
      return WriteError(resp, Err(-1106, "Parameter 'pegPriceType' sent when not required."));
    }
    if (peg != "COUNTERPARTY_1" && peg != "QUEUE_1") {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'pegPriceType' is not valid."));
    }
    const bool other_side = peg == "COUNTERPARTY_1";
    const OrderBook& book = m.book(si);
    const bool want_ask = (r.side == Side::kBuy) == other_side;
    auto level = want_ask ? book.BestAsk() : book.BestBid();
    if (!level) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'pegPriceType' is not valid."));
    }
    peg_price = level->price;
  }
  if (p.Has("pegOffset")) {
    if (peg_price == 0) {
      return WriteError(resp, Err(-1106, "Parameter 'pegOffset' sent when not required."));
    }
    auto off = Decimal::Parse(p.Get("pegOffset"));
    if (!off.ok() || !off->IsZero()) {
      return WriteError(resp, Err(-1130, "Data sent for parameter 'pegOffset' is not valid."));
    }
  }
  const int64_t mark = m.mark_price(si);
  if (r.type == OrderType::kLimit) {
    const std::string tif = p.Get("timeInForce");
    if (tif.empty()) return WriteError(resp, Mandatory("timeInForce"));
    if (tif == "GTC" || tif == "HIDDEN" || tif == "RPI") r.tif = TimeInForce::kGtc;
    else if (tif == "IOC") r.tif = TimeInForce::kIoc;
    else if (tif == "FOK") r.tif = TimeInForce::kFok;
    else if (tif == "GTX") r.tif = TimeInForce::kPostOnly;
    else return WriteError(resp, Err(-1115, "Invalid timeInForce."));
    if (peg_price != 0) {
      r.price = peg_price;
    } else {
      if (!p.Has("price")) return WriteError(resp, Mandatory("price"));
      if (!ParseWire("price", p.Get("price"), x.price_precision, in.price_scale, in.tick, -4014,
                     "Price not increased by tick size.", &r.price, &err)) {
        return WriteError(resp, err);
      }
    }
    if (r.price <= 0) return WriteError(resp, Err(-4001, "Price less than 0."));
    auto min_p = in.ParsePrice(x.min_price);
    auto max_p = in.ParsePrice(x.max_price);
    if (min_p.ok() && r.price < *min_p) return WriteError(resp, Err(-4013, "Price less than min price."));
    if (max_p.ok() && r.price > *max_p) return WriteError(resp, Err(-4002, "Price greater than max price."));
    // PERCENT_PRICE against the mark: buys at most mark × up, sells at least mark × down.
    auto bound = [&](const std::string& mult, bool up) {
      auto d = ParseScaled(mult, 4);
      int64_t f = d.ok() ? *d : 10000;
      __int128 b = static_cast<__int128>(mark) * f;
      return static_cast<int64_t>(up ? (b + 9999) / 10000 : b / 10000);
    };
    if (r.side == Side::kBuy && r.price > bound(x.up, true)) {
      return WriteError(resp, Err(-4016, "Limit price can't be higher than " +
                                             FormatScaled(bound(x.up, true), in.price_scale) + "."));
    }
    if (r.side == Side::kSell && r.price < bound(x.down, false)) {
      return WriteError(resp, Err(-4024, "Limit price can't be lower than " +
                                             FormatScaled(bound(x.down, false), in.price_scale) +
                                             "."));
    }
  } else if (p.Has("price")) {
    return WriteError(resp, Err(-1106, "Parameter 'price' sent when not required."));
  }
  if (!close_position && p.Has("reduceOnly") && !ParseBool(p.Get("reduceOnly"), &r.reduce_only)) {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'reduceOnly' is not valid."));
  }
  const std::string resp_type = p.Has("newOrderRespType") ? p.Get("newOrderRespType") : "ACK";
  if (resp_type != "ACK" && resp_type != "RESULT") {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'newOrderRespType' is not valid."));
  }
  if (p.Has("newClientOrderId")) {
    static const std::regex kCid("^[.A-Z:/a-z0-9_-]{1,36}$");
    r.client_id = p.Get("newClientOrderId");
    if (!std::regex_match(r.client_id, kCid)) {
      return WriteError(resp, Err(-4015, "Client order id is not valid."));
    }
  }
  if (!r.reduce_only && !closes) {
    const int64_t ref = r.type == OrderType::kMarket ? mark : r.price;
    if (in.Notional(ref, r.qty) < in.min_notional) {
      std::string floor = FormatMoney(in.min_notional);
      if (floor.find('.') == std::string::npos) floor += ".0";
      return WriteError(resp, Err(-4164, "Order's notional must be no smaller than " + floor +
                                             " (unless you choose reduce only)"));
    }
  }
  if (ctx_->engine().OpenOrders(acct.id, symbol).size() >= kMaxOpenOrdersPerSymbol) {
    return WriteError(resp, Err(-2025, "Reach max open order limit."));
  }
  if (p.Has("__test")) return resp.Json(200, "{}");
  if (r.client_id.empty()) {
    // The venue generates a 22-character id when none is sent.
    std::string id = std::to_string(++key_counter_);
    r.client_id = "sim" + std::string(19 - std::min<size_t>(19, id.size()), '0') + id;
  }
  PlaceResult res = ctx_->engine().Place(r);
  if (res.code == RejectCode::kNone && close_position) close_position_.insert(res.order.id);
  switch (res.code) {
    case RejectCode::kNone:
    case RejectCode::kPostOnlyViolation:  // accepted, then EXPIRED (GTX would take liquidity)
      return resp.Json(200, OrderJson(res.order,
                                      resp_type == "ACK" ? OrderView::kAck : OrderView::kResult,
                                      close_position));
    case RejectCode::kDuplicateClientId:
      return WriteError(resp, Err(-4116, "ClientOrderId is duplicated."));
    case RejectCode::kReduceOnly:
      return WriteError(resp, Err(-2022, "ReduceOnly Order is rejected."));
    case RejectCode::kInsufficientMargin:
      return WriteError(resp, Err(-2019, "Margin is insufficient."));
    case RejectCode::kMinNotional:
      return WriteError(resp, Err(-4164, "Order's notional must be no smaller than 5.0 (unless you "
                                         "choose reduce only)"));
    case RejectCode::kInvalidQty:
      return WriteError(resp, Err(-4023, "Quantity not increased by step size."));
    case RejectCode::kInvalidPrice:
      if (res.message == "order would immediately trigger") {
        return WriteError(resp, Err(-2021, "Order would immediately trigger."));
      }
      return WriteError(resp, Err(-4014, "Price not increased by tick size."));
    case RejectCode::kUnknownSymbol:
      return WriteError(resp, UnknownSymbol());
    default:
      return WriteError(resp, Err(-2010, "New order rejected: " + res.message));
  }
}

void AsterModule::QueryOrder(const AccountSpec& acct, const Params& p, bool open_only,
                             HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("orderId") && !p.Has("origClientOrderId")) {
    return WriteError(resp, Err(-1102, "Either orderId or origClientOrderId must be sent."));
  }
  const SimOrder* o = FindNamedOrder(ctx_->engine(), acct.id, p);
  if (o == nullptr || o->account != acct.id || o->instrument->symbol() != symbol || !Visible(*o) ||
      (open_only && !o->open())) {
    return WriteError(resp, Err(-2013, "Order does not exist."));
  }
  resp.Json(200, OrderJson(*o, OrderView::kQuery, close_position_.count(o->id) > 0));
}

void AsterModule::CancelOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("orderId") && !p.Has("origClientOrderId")) {
    return WriteError(resp, Err(-1102, "Either orderId or origClientOrderId must be sent."));
  }
  Engine& eng = ctx_->engine();
  const SimOrder* o = FindNamedOrder(eng, acct.id, p);
  if (o == nullptr || o->account != acct.id || o->instrument->symbol() != symbol || !o->open()) {
    return WriteError(resp, Err(-2011, "Unknown order sent."));
  }
  CancelResult c = eng.Cancel(acct.id, o->id);
  if (c.code != RejectCode::kNone) return WriteError(resp, Err(-2011, "Unknown order sent."));
  resp.Json(200, OrderJson(c.order, OrderView::kResult, close_position_.count(c.order.id) > 0));
}

void AsterModule::ModifyOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  // LIMIT orders only; side, quantity and price all required (aster.md §9). The order keeps
  // its id; a crossing price trades at once, except GTX which is refused (order unchanged).
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  for (const char* k : {"side", "quantity", "price"}) {
    if (!p.Has(k)) return WriteError(resp, Mandatory(k));
  }
  if (!p.Has("orderId") && !p.Has("origClientOrderId")) {
    return WriteError(resp, Err(-1102, "Either orderId or origClientOrderId must be sent."));
  }
  const int si = SymbolIndex(symbol);
  if (si < 0) return WriteError(resp, UnknownSymbol());
  Engine& eng = ctx_->engine();
  const SimOrder* o = FindNamedOrder(eng, acct.id, p);
  if (o == nullptr || o->account != acct.id || o->instrument->symbol() != symbol || !o->open()) {
    return WriteError(resp, Err(-2013, "Order does not exist."));
  }
  if (o->type != OrderType::kLimit || o->conditional()) {
    return WriteError(resp, Err(-4026, "Only LIMIT orders can be modified."));
  }
  if (p.Get("side") != SideText(o->side)) return WriteError(resp, Err(-1117, "Invalid side."));
  // positionSide as on a new order (Binance-family modify: "must be sent in Hedge Mode"): hedge
  // mode needs LONG / SHORT, one-way BOTH or none (else -4061); it names the order's own side —
  // a modify never moves an order to the other side, so a different one is -4061 too (our
  // reading: the docs give no code for that case).
  const std::string ps = p.Get("positionSide");
  if (eng.HedgeMode(acct.id) ? (ps != "LONG" && ps != "SHORT") : (!ps.empty() && ps != "BOTH")) {
    return WriteError(resp, Err(-4061, "Order's position side does not match user's setting."));
  }
  if (!ps.empty() && ps != ToString(o->position_side)) {
    return WriteError(resp, Err(-4061, "Order's position side does not match user's setting."));
  }
  const SimInstrument& in = ctx_->market().instrument(si);
  const SymbolExtra x = ExtraFor(in);
  AmendRequest a;
  a.account = acct.id;
  a.order_id = o->id;
  ApiError err;
  if (!ParseWire("quantity", p.Get("quantity"), x.qty_precision, in.size_scale, in.step, -4023,
                 "Quantity not increased by step size.", &a.qty, &err) ||
      !ParseWire("price", p.Get("price"), x.price_precision, in.price_scale, in.tick, -4014,
                 "Price not increased by tick size.", &a.price, &err)) {
    return WriteError(resp, err);
  }
  if (a.qty <= 0) return WriteError(resp, Err(-4003, "Quantity less than or equal to zero."));
  if (a.price <= 0) return WriteError(resp, Err(-4001, "Price less than 0."));
  // The engine reports the amend synchronously (OnAccountEvent): mark it so that event goes
  // out as x AMENDMENT; fills of a crossing price follow as TRADE.
  amending_order_ = o->id;
  AmendResult r = eng.Amend(a);
  amending_order_ = 0;
  switch (r.code) {
    case RejectCode::kNone:
      return resp.Json(200, OrderJson(r.order, OrderView::kResult));
    case RejectCode::kPostOnlyViolation:
      return WriteError(resp, Err(-5022, "Due to the order could not be executed as maker, the "
                                         "Post Only order will be rejected."));
    case RejectCode::kInvalidQty:
      return WriteError(resp, Err(-4023, "Quantity not increased by step size."));
    case RejectCode::kInsufficientMargin:
      return WriteError(resp, Err(-2019, "Margin is insufficient."));
    case RejectCode::kReduceOnly:
      return WriteError(resp, Err(-2022, "ReduceOnly Order is rejected."));
    default:
      return WriteError(resp, Err(-2013, "Order does not exist."));
  }
}

void AsterModule::Leverage(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("leverage")) return WriteError(resp, Mandatory("leverage"));
  int64_t lev = 0;
  if (!ParseI64(p.Get("leverage"), &lev) || lev < 1 || lev > 125 ||
      !ctx_->engine().SetLeverage(acct.id, symbol, static_cast<int>(lev)).ok()) {
    return WriteError(resp, Err(-4028, "Leverage " + p.Get("leverage") + " is not valid"));
  }
  const SimInstrument& in = ctx_->market().instrument(SymbolIndex(symbol));
  JsonWriter w;
  w.BeginObject().Field("leverage", lev).Field("maxNotionalValue", ExtraFor(in).max_notional);
  w.Field("symbol", symbol).EndObject();
  resp.Json(200, w.Take());
  JsonWriter e;
  const int64_t now = NowMs();
  e.BeginObject().Field("e", "ACCOUNT_CONFIG_UPDATE").Field("E", now).Field("T", now);
  e.Key("ac").BeginObject().Field("s", symbol).Field("l", lev).EndObject().EndObject();
  PushUser(acct.id, e.Take());
}

void AsterModule::ListenKeyCall(const std::string& method, const AccountSpec& acct,
                                HttpResponse& resp) {
  const int64_t now = NowMs();
  auto it = account_key_.find(acct.id);
  ListenKey* active = nullptr;
  if (it != account_key_.end()) {
    auto k = keys_.find(it->second);
    if (k != keys_.end() && k->second.active) active = &k->second;
  }
  if (method == "POST") {
    if (active == nullptr) {
      // 64 hex-ish characters, unique per sim run and seed.
      uint64_t x = ctx_->seed() * 0x9e3779b97f4a7c15ULL + (++key_counter_) * 0xbf58476d1ce4e5b9ULL;
      std::string key;
      Prng rng(x ^ static_cast<uint64_t>(ctx_->Now()));
      static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
      for (int i = 0; i < 64; ++i) key.push_back(kAlphabet[rng.Below(36)]);
      ListenKey k{key, acct.id, 0, true};
      active = &(keys_[key] = k);
      account_key_[acct.id] = key;
    }
    active->expires_ms = now + kListenKeyLifetimeMs;
    return resp.Json(200, "{\"listenKey\":\"" + active->key + "\"}");
  }
  if (active == nullptr) {
    if (method == "DELETE") return resp.Json(200, "{}");
    return WriteError(resp, Err(-1125, "This listenKey does not exist."));
  }
  if (method == "PUT") {
    active->expires_ms = now + kListenKeyLifetimeMs;
    return resp.Json(200, "{}");
  }
  // DELETE: the stream closes (no listenKeyExpired push).
  active->active = false;
  auto conns = user_conns_.find(active->key);
  if (conns != user_conns_.end()) {
    for (auto& [id, weak] : conns->second) {
      if (auto c = weak.lock()) c->Close(true, "listenKey closed");
    }
    user_conns_.erase(conns);
  }
  resp.Json(200, "{}");
}

// ------------------------------------------------------------- batches, margin type, countdown

namespace {

constexpr size_t kMaxBatchOrders = 5;   // aster.md §9
constexpr size_t kMaxBatchCancels = 10;

// A JSON array of order ids (numbers, or strings of digits) or of client ids (strings).
bool ParseIdList(const std::string& json, bool numeric, std::vector<std::string>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(json).get_array().get(arr) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element el : arr) {
    std::string_view sv;
    int64_t n = 0;
    uint64_t u = 0;
    if (el.get_string().get(sv) == simdjson::SUCCESS) {
      if (numeric && (!ParseI64(sv, &n) || n <= 0)) return false;
      out->emplace_back(sv);
    } else if (numeric && el.get_int64().get(n) == simdjson::SUCCESS && n > 0) {
      out->push_back(std::to_string(n));
    } else if (numeric && el.get_uint64().get(u) == simdjson::SUCCESS) {
      out->push_back(std::to_string(u));
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

void AsterModule::BatchNew(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  if (!p.Has("batchOrders")) return WriteError(resp, Mandatory("batchOrders"));
  // Not JSON, empty or more than 5 orders: the whole request fails. The venue's code for the
  // size limit is not documented; -1130 (invalid parameter data) is the Binance-family reading.
  const ApiError invalid = Err(-1130, "Data sent for parameter 'batchOrders' is not valid.");
  auto orders = ParseJsonObjectArray(p.Get("batchOrders"));
  if (!orders.ok() || orders->empty() || orders->size() > kMaxBatchOrders) {
    return WriteError(resp, invalid);
  }
  // Each element is placed exactly as a single POST order with those parameters (in order, so
  // an early one's margin counts for the later ones); its answer or error takes its slot.
  std::string out = "[";
  for (const JsonFields& fields : *orders) {
    Params q;
    for (const auto& [k, v] : fields) {
      if (k != "__test") q.kv.emplace_back(k, v);
    }
    HttpResponse one;
    NewOrder(acct, q, one);
    if (out.size() > 1) out += ',';
    out += one.body;
  }
  resp.Json(200, out + "]");
}

void AsterModule::BatchCancel(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  const bool by_id = p.Has("orderIdList");
  if (!by_id && !p.Has("origClientOrderIdList")) {
    return WriteError(resp, Err(-1102, "Param 'orderIdList' or 'origClientOrderIdList' must be "
                                       "sent, but both were empty/null!"));
  }
  const std::string param = by_id ? "orderIdList" : "origClientOrderIdList";
  std::vector<std::string> ids;
  if (!ParseIdList(p.Get(param), by_id, &ids) || ids.empty() || ids.size() > kMaxBatchCancels) {
    return WriteError(resp, Err(-1130, "Data sent for parameter '" + param + "' is not valid."));
  }
  std::string out = "[";
  for (const std::string& id : ids) {
    Params q;
    q.kv.emplace_back("symbol", symbol);
    q.kv.emplace_back(by_id ? "orderId" : "origClientOrderId", id);
    HttpResponse one;
    CancelOrder(acct, q, one);
    if (out.size() > 1) out += ',';
    out += one.body;
  }
  resp.Json(200, out + "]");
}

void AsterModule::MarginType(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("marginType")) return WriteError(resp, Mandatory("marginType"));
  if (SymbolIndex(symbol) < 0) return WriteError(resp, Err(-1121, "Invalid symbol."));
  std::string type = p.Get("marginType");
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (type != "CROSSED" && type != "ISOLATED") {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'marginType' is not valid."));
  }
  // Per symbol, both ways; refused while the symbol has open orders (-4047) or a position
  // (-4048): Binance-family codes (the spec lists -4046 only; Aster's docs mirror Binance's).
  switch (ctx_->engine().SetIsolated(acct.id, symbol, type == "ISOLATED")) {
    case MarginResult::kOk:
      return resp.Json(200, R"({"code":200,"msg":"success"})");
    case MarginResult::kNoChange:
      return WriteError(resp, Err(-4046, "No need to change margin type."));
    case MarginResult::kHasOpenOrders:
      return WriteError(resp, Err(-4047, "Margin type cannot be changed if there exists open orders."));
    case MarginResult::kHasPosition:
      return WriteError(resp, Err(-4048, "Margin type cannot be changed if there exists position."));
    default:
      return WriteError(resp, Err(-1121, "Invalid symbol."));
  }
}

void AsterModule::PositionMargin(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  // Not in the spec's endpoint table: the shape is Aster's / Binance's public docs (symbol,
  // positionSide, amount, type 1 add / 2 reduce; answer {amount, code 200, msg, type}).
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("amount")) return WriteError(resp, Mandatory("amount"));
  if (!p.Has("type")) return WriteError(resp, Mandatory("type"));
  const int si = SymbolIndex(symbol);
  if (si < 0) return WriteError(resp, Err(-1121, "Invalid symbol."));
  const std::string type = p.Get("type");
  if (type != "1" && type != "2") {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'type' is not valid."));
  }
  // One-way: BOTH or absent; hedge: LONG or SHORT names the position.
  const std::string ps = p.Get("positionSide");
  const bool hedge = ctx_->engine().HedgeMode(acct.id);
  if (hedge ? (ps != "LONG" && ps != "SHORT") : (p.Has("positionSide") && ps != "BOTH")) {
    return WriteError(resp, Err(-4061, "Order's position side does not match user's setting."));
  }
  const PositionSide side = !hedge ? PositionSide::kBoth
                            : ps == "LONG" ? PositionSide::kLong
                                           : PositionSide::kShort;
  auto amount = ParseMoney(p.Get("amount"));
  if (!amount.ok()) {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'amount' is not valid."));
  }
  // Binance-family codes (ccxt's Aster error map lists them too): -4055 amount, -4049 not
  // isolated (ADD_ISOLATED_MARGIN_REJECT), -4054 flat, -4050 / -4051 cross / isolated balance.
  if (*amount <= 0) return WriteError(resp, Err(-4055, "Amount must be positive."));
  const bool add = type == "1";
  PendingAccount& pending = pending_account_[acct.id];
  pending.margin_transfer = true;  // the engine's position + balance events follow at once
  const MarginResult r =
      ctx_->engine().AdjustIsolatedMargin(acct.id, symbol, add ? *amount : -*amount, side);
  if (r != MarginResult::kOk) pending_account_[acct.id].margin_transfer = false;
  switch (r) {
    case MarginResult::kOk:
      break;
    case MarginResult::kNotIsolated:
      return WriteError(resp, Err(-4049, "Add margin only support for isolated position."));
    case MarginResult::kNoPosition:
      return WriteError(resp, Err(-4054, "Cannot add position margin: position is 0."));
    case MarginResult::kInsufficient:
      return add ? WriteError(resp, Err(-4050, "Cross balance insufficient."))
                 : WriteError(resp, Err(-4051, "Isolated balance insufficient."));
    default:
      return WriteError(resp, Err(-1000, "An unknown error occured while processing the request."));
  }
  margin_changes_.push_back({acct.id, static_cast<size_t>(si), add ? 1 : 2, side, *amount, NowMs()});
  // amount is a JSON number in the docs' example (100.0).
  std::string num = Money8(*amount);
  while (num.back() == '0') num.pop_back();
  if (num.back() == '.') num.push_back('0');
  JsonWriter w;
  w.BeginObject().Key("amount").Raw(num).Field("code", 200)
      .Field("msg", "Successfully modify position margin.").Field("type", add ? 1 : 2).EndObject();
  resp.Json(200, w.Take());
}

void AsterModule::PositionMarginHistory(const AccountSpec& acct, const Params& p,
                                        HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  const int si = SymbolIndex(symbol);
  if (si < 0) return WriteError(resp, Err(-1121, "Invalid symbol."));
  int64_t type = 0, start = -1, end = -1, limit = 500;
  if ((p.Has("type") && !ParseI64(p.Get("type"), &type)) ||
      (p.Has("startTime") && !ParseI64(p.Get("startTime"), &start)) ||
      (p.Has("endTime") && !ParseI64(p.Get("endTime"), &end)) ||
      (p.Has("limit") && !ParseI64(p.Get("limit"), &limit))) {
    return WriteError(resp, Err(-1100, "Illegal characters found in a parameter."));
  }
  limit = std::clamp<int64_t>(limit, 1, 1000);
  std::vector<const MarginChange*> rows;
  for (const MarginChange& c : margin_changes_) {
    if (c.account != acct.id || c.symbol != static_cast<size_t>(si)) continue;
    if (type != 0 && c.type != type) continue;
    if ((start >= 0 && c.time_ms < start) || (end >= 0 && c.time_ms > end)) continue;
    rows.push_back(&c);
  }
  // startTime reads forward from it; otherwise the most recent `limit` (the income rule).
  auto [first, last] = Page(rows.size(), limit, start >= 0);
  JsonWriter w;
  w.BeginArray();
  for (size_t k = first; k < last; ++k) {
    const MarginChange& c = *rows[k];
    w.BeginObject()
        .Field("amount", Money8(c.amount))
        .Field("asset", "USDT")
        .Field("symbol", symbol)
        .Field("time", c.time_ms)
        .Field("type", c.type)
        .Field("positionSide", ToString(c.side))  // the side the change was made on
        .EndObject();
  }
  w.EndArray();
  resp.Json(200, w.Take());
}

void AsterModule::CountdownCancelAll(const AccountSpec& acct, const Params& p,
                                     HttpResponse& resp) {
  const std::string symbol = p.Get("symbol");
  if (symbol.empty()) return WriteError(resp, Mandatory("symbol"));
  if (!p.Has("countdownTime")) return WriteError(resp, Mandatory("countdownTime"));
  int64_t ms = 0;
  if (!ParseI64(p.Get("countdownTime"), &ms) || ms < 0) {
    return WriteError(resp, Err(-1130, "Data sent for parameter 'countdownTime' is not valid."));
  }
  // One switch per account and symbol: every call re-arms it (heartbeat), 0 disarms it. On
  // expiry the symbol's open orders are canceled as by DELETE allOpenOrders (user-stream
  // CANCELED events included). Loop timers run on real (steady) time.
  const std::string key = acct.id + '\x1f' + symbol;
  EventLoop& loop = ctx_->loop();
  if (auto it = countdowns_.find(key); it != countdowns_.end()) {
    loop.Cancel(it->second);
    countdowns_.erase(it);
  }
  if (ms > 0) {
    countdowns_[key] = loop.RunAfter(std::chrono::milliseconds(ms), [this, key, account = acct.id,
                                                                     symbol] {
      countdowns_.erase(key);
      ctx_->engine().CancelAll(account, symbol);
    });
  }
  JsonWriter w;
  w.BeginObject().Field("symbol", symbol).Field("countdownTime", std::to_string(ms)).EndObject();
  resp.Json(200, w.Take());
}

// ------------------------------------------------------------------------------------ income

void AsterModule::AddIncome(const std::string& account, size_t symbol, IncomeType type,
                            Money amount, UnixNanos time, uint64_t trade_id) {
  income_.push_back({account, symbol, type, amount, ToMs(time), next_tran_id_++, trade_id});
}

void AsterModule::Income(const AccountSpec& acct, const Params& p, HttpResponse& resp) {
  static constexpr const char* kTypeText[] = {"REALIZED_PNL", "COMMISSION", "FUNDING_FEE"};
  const std::string symbol = p.Get("symbol");
  const int si = symbol.empty() ? -1 : SymbolIndex(symbol);
  const std::string type = p.Get("incomeType");
  int64_t start = -1, end = -1, limit = 100;
  if ((p.Has("startTime") && !ParseI64(p.Get("startTime"), &start)) ||
      (p.Has("endTime") && !ParseI64(p.Get("endTime"), &end)) ||
      (p.Has("limit") && !ParseI64(p.Get("limit"), &limit))) {
    return WriteError(resp, Err(-1100, "Illegal characters found in a parameter."));
  }
  limit = std::clamp<int64_t>(limit, 1, 1000);
  // Neither bound: the last 7 days (Binance family). startTime pages forward from it; otherwise
  // the most recent `limit` rows. Rows ascending by time either way. Only the types the sim
  // produces exist (REALIZED_PNL, COMMISSION, FUNDING_FEE); other types match nothing.
  const bool forward = start >= 0;
  if (start < 0 && end < 0) start = NowMs() - 7LL * 24 * 3600 * 1000;
  std::vector<const IncomeRow*> rows;
  for (const IncomeRow& r : income_) {
    if (r.account != acct.id || (si >= 0 && r.symbol != static_cast<size_t>(si))) continue;
    if (!type.empty() && type != kTypeText[static_cast<int>(r.type)]) continue;
    if ((start >= 0 && r.time_ms < start) || (end >= 0 && r.time_ms > end)) continue;
    rows.push_back(&r);
  }
  auto [first, last] = Page(rows.size(), limit, forward);
  const Market& m = ctx_->market();
  JsonWriter w;
  w.BeginArray();
  for (size_t k = first; k < last; ++k) {
    const IncomeRow& r = *rows[k];
    const char* t = kTypeText[static_cast<int>(r.type)];
    w.BeginObject()
        .Field("symbol", m.instrument(r.symbol).symbol())
        .Field("incomeType", t)
        .Field("income", Money8(r.amount))
        .Field("asset", "USDT")
        .Field("info", t)
        .Field("time", r.time_ms)
        .Field("tranId", r.tran_id)
        .Field("tradeId", r.trade_id == 0 ? std::string() : std::to_string(r.trade_id))
        .EndObject();
  }
  w.EndArray();
  resp.Json(200, w.Take());
}

// ------------------------------------------------------------------------- account snapshots

std::string AsterModule::BalanceRows(const AccountSpec& acct) const {
  const SimBalance b = ctx_->engine().Balance(acct.id);
  JsonWriter w;
  w.BeginArray().BeginObject()
      .Field("accountAlias", "SgsR")
      .Field("asset", b.asset)
      .Field("balance", Money8(b.wallet))  // cross + isolated wallets
      .Field("crossWalletBalance", Money8(b.cross_wallet))
      .Field("crossUnPnl", Money8(b.cross_unrealized))
      .Field("availableBalance", Money8(b.available))
      .Field("maxWithdrawAmount", Money8(std::max<Money>(0, std::min(b.cross_wallet, b.available))))
      .Field("marginAvailable", true)
      .Field("updateTime", NowMs())
      .EndObject().EndArray();
  return w.Take();
}

std::string AsterModule::PositionRow(const AccountSpec& acct, size_t i, bool v4,
                                     PositionSide side) const {
  const Engine& eng = ctx_->engine();
  const SimInstrument& in = ctx_->market().instrument(i);
  const SimPosition pos = eng.Position(acct.id, i, side);
  const int lev = eng.Leverage(acct.id, i);
  const Money notional = in.Notional(pos.mark_price, pos.size);
  const Money im = notional < 0 ? -notional / lev : notional / lev;
  std::string liq = "0";
  if (pos.size != 0) {
    // Cross margin: the mark at which the cross equity falls to the cross maintenance margin,
    // the other cross positions fixed. Isolated: at which the position's own margin + its
    // unrealized PnL falls to its maintenance margin.
    const SimBalance b = eng.Balance(acct.id);
    const __int128 w =
        pos.isolated ? static_cast<__int128>(pos.isolated_margin)
                     : static_cast<__int128>(b.cross_wallet) +
                           (b.cross_unrealized - pos.unrealized_pnl) -
                           (b.cross_maint_margin - pos.maint_margin);
    const __int128 e = pos.entry_notional;
    const int64_t mmr = in.maint_margin_ratio;
    const __int128 one = 10000000000LL;  // 1 at kRateScale
    __int128 num, den;
    if (pos.size > 0) {
      num = (e - w);
      den = static_cast<__int128>(pos.size) * (one - mmr);
    } else {
      num = (e + w);
      den = static_cast<__int128>(-pos.size) * (one + mmr);
    }
    // price mantissa = num[1e-8] * 10^(size_scale + price_scale) * 1e10 / (1e8 * den)
    __int128 scale = one;
    for (int k = 0; k < in.size_scale + in.price_scale; ++k) scale *= 10;
    if (den > 0 && num > 0) {
      __int128 px = num * scale / 100000000 / den;
      liq = Fixed(static_cast<int64_t>(px), in.price_scale);
    }
  }
  const std::string entry =
      pos.size == 0 ? Fixed(0, in.price_scale + 4) : DecimalAt(pos.EntryPrice(), in.price_scale + 4);
  const std::string mark = Fixed(pos.mark_price * Pow10(8 - std::min(8, in.price_scale)), 8);
  JsonWriter w;
  w.BeginObject();
  if (v4) {
    w.Field("symbol", in.symbol())
        .Field("initialMargin", Money8(im))
        .Field("maintMargin", Money8(pos.maint_margin))
        .Field("unrealizedProfit", Money8(pos.unrealized_pnl))
        .Field("positionInitialMargin", Money8(im))
        .Field("openOrderInitialMargin", Money8(eng.OpenOrderMargin(acct.id, i)))
        .Field("leverage", std::to_string(lev))
        .Field("isolated", pos.isolated)
        .Field("entryPrice", entry)
        .Field("maxNotional", ExtraFor(in).max_notional)
        .Field("positionSide", ToString(side))
        .Field("positionAmt", Fixed(pos.size, in.size_scale))
        .Field("notional", Money8(notional))
        .Field("isolatedWallet", pos.isolated ? Money8(pos.isolated_margin) : std::string("0"))
        .Field("updateTime", NowMs());
  } else {
    w.Field("entryPrice", entry)
        .Field("marginType", pos.isolated ? "isolated" : "cross")
        .Field("isAutoAddMargin", "false")
        // Isolated: the isolated wallet + unrealized PnL (the docs' samples add up so).
        .Field("isolatedMargin",
               Money8(pos.isolated ? pos.isolated_margin + pos.unrealized_pnl : 0))
        .Field("leverage", std::to_string(lev))
        .Field("liquidationPrice", liq)
        .Field("markPrice", mark)
        .Field("maxNotionalValue", ExtraFor(in).max_notional)
        .Field("positionAmt", Fixed(pos.size, in.size_scale))
        // Binance-family V2/V3 rows also carry the signed notional and isolatedWallet (the
        // docs' sample predates them; ccxt reads the position's side from `notional`).
        .Field("notional", Money8(notional))
        .Field("isolatedWallet", pos.isolated ? Money8(pos.isolated_margin) : std::string("0"))
        .Field("symbol", in.symbol())
        .Field("unRealizedProfit", Money8(pos.unrealized_pnl))
        .Field("positionSide", ToString(side))
        .Field("updateTime", pos.size == 0 ? int64_t{0} : NowMs());
  }
  w.EndObject();
  return w.Take();
}

std::string AsterModule::AccountJson(const AccountSpec& acct) const {
  const Engine& eng = ctx_->engine();
  const Market& m = ctx_->market();
  const SimBalance b = eng.Balance(acct.id);
  Money pos_im = 0;
  for (const SimPosition& pos : eng.Positions(acct.id)) {
    Money n = pos.instrument->Notional(pos.mark_price, pos.size);
    pos_im += (n < 0 ? -n : n) / std::max(1, pos.leverage);
  }
  const Money order_im = b.initial_margin - pos_im;
  const Money max_withdraw = std::max<Money>(0, std::min(b.cross_wallet, b.available));
  const int64_t now = NowMs();
  JsonWriter w;
  w.BeginObject()
      .Field("feeTier", 0).Field("canTrade", true).Field("canDeposit", true)
      .Field("canWithdraw", true).Field("updateTime", 0)
      .Field("totalInitialMargin", Money8(b.initial_margin))
      .Field("totalMaintMargin", Money8(b.maint_margin))
      .Field("totalWalletBalance", Money8(b.wallet))
      .Field("totalUnrealizedProfit", Money8(b.unrealized))
      .Field("totalMarginBalance", Money8(b.equity))
      .Field("totalPositionInitialMargin", Money8(pos_im))
      .Field("totalOpenOrderInitialMargin", Money8(order_im))
      .Field("totalCrossWalletBalance", Money8(b.cross_wallet))
      .Field("totalCrossUnPnl", Money8(b.cross_unrealized))
      .Field("availableBalance", Money8(b.available))
      .Field("maxWithdrawAmount", Money8(max_withdraw));
  w.Key("assets").BeginArray().BeginObject()
      .Field("asset", b.asset)
      .Field("walletBalance", Money8(b.wallet))
      .Field("unrealizedProfit", Money8(b.unrealized))
      .Field("marginBalance", Money8(b.equity))
      .Field("maintMargin", Money8(b.maint_margin))
      .Field("initialMargin", Money8(b.initial_margin))
      .Field("positionInitialMargin", Money8(pos_im))
      .Field("openOrderInitialMargin", Money8(order_im))
      .Field("maxWithdrawAmount", Money8(max_withdraw))
      .Field("crossWalletBalance", Money8(b.cross_wallet))
      .Field("crossUnPnl", Money8(b.cross_unrealized))
      .Field("availableBalance", Money8(b.available))
      .Field("marginAvailable", true)
      .Field("updateTime", now)
      .EndObject().EndArray();
  w.Key("positions").BeginArray();
  const bool hedge = eng.HedgeMode(acct.id);
  for (size_t i = 0; i < m.size(); ++i) {
    if (!hedge) {
      w.Raw(PositionRow(acct, i, true));
      continue;
    }
    w.Raw(PositionRow(acct, i, true, PositionSide::kLong));
    w.Raw(PositionRow(acct, i, true, PositionSide::kShort));
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace perpgw::sim::aster
