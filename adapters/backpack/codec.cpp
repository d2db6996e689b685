// Backpack codec implementation on the wire toolkit (simdjson On-Demand, one pass per object).
// Units: WS E/T and REST depth timestamp are us; REST order createdAt, nextFundingTimestamp,
// openInterest timestamp are ms; history times are naive UTC strings.
#include "adapters/backpack/codec.h"

#include <algorithm>
#include <utility>

#include "adapters/backpack/errors.h"
#include "adapters/common/url.h"
#include "adapters/wire/json_reader.h"
#include "adapters/wire/json_writer.h"

namespace perpgw::adapters::backpack {
namespace {

namespace od = simdjson::ondemand;
using wire::Fields;

// Every message names the venue: "backpack <what>: <detail>".
constexpr wire::Where W(std::string_view what) { return {"backpack", what}; }

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("backpack: " + what);
}

std::string S(std::string_view v) { return std::string(v); }

// ----- field conversions beyond the toolkit's. Missing and JSON null are the same thing here.

// A time that may be an integer in ms or a naive UTC string (REST orders vs history).
absl::Status GetOptMillisOrIso(const Fields& f, std::string_view key, UnixNanos* out) {
  const wire::Scalar& s = f[key];
  if (s.is_string && !s.text.empty() &&
      !std::all_of(s.text.begin(), s.text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    PERPGW_ASSIGN_OR_RETURN(*out, ParseNaiveUtc(s.text));
    return absl::OkStatus();
  }
  return f.GetOptTime(key, wire::kNanosPerMilli, out);
}

// Engine time T, else emit time E (both us).
absl::Status GetWsTime(const Fields& f, UnixNanos* out) {
  UnixNanos t = 0;
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMicro, &t));
  if (t == 0) PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMicro, &t));
  *out = t;
  return absl::OkStatus();
}

// A boolean flag: absent or null is false.
absl::Status GetFlag(const Fields& f, std::string_view key, bool* out) {
  *out = false;
  return f.GetOpt(key, out);
}

// An optional text field: absent or null is "".
absl::Status GetText(const Fields& f, std::string_view key, std::string* out) {
  out->clear();
  return f.GetOpt(key, out);
}

absl::StatusOr<Side> ParseSide(std::string_view s) {
  if (s == "Bid" || s == "BID" || s == "bid" || s == "Buy") return Side::kBuy;
  if (s == "Ask" || s == "ASK" || s == "ask" || s == "Sell") return Side::kSell;
  return Bad("unknown side '" + S(s) + "'");
}

absl::StatusOr<OrderType> ParseOrderType(std::string_view s) {
  if (wire::EqualsIgnoreCase(s, "Limit")) return OrderType::kLimit;
  if (wire::EqualsIgnoreCase(s, "Market")) return OrderType::kMarket;
  return Bad("unknown order type '" + S(s) + "'");
}

TimeInForce ParseTif(std::string_view s, bool post_only) {
  if (post_only) return TimeInForce::kPostOnly;
  if (wire::EqualsIgnoreCase(s, "IOC")) return TimeInForce::kIoc;
  if (wire::EqualsIgnoreCase(s, "FOK")) return TimeInForce::kFok;
  return TimeInForce::kGtc;
}

// Avg fill price = quote filled / base filled (12 places, trailing zeros trimmed).
// Absent when nothing filled (never a made-up 0).
OptDecimal AvgPrice(Decimal quote, Decimal base) {
  if (!base.IsPositive() || quote.IsZero()) return std::nullopt;
  auto avg = Decimal::Div(quote, base, 12, Rounding::kHalfEven);
  return avg.ok() ? OptDecimal(avg->Normalized()) : std::nullopt;
}

std::string ClientText(std::optional<uint32_t> id, const ClientIdMapper* clients) {
  if (!id) return {};
  return clients ? clients->ResolveOrDecimal(*id) : std::to_string(*id);
}

// clientId as uint32 (integer, or a digit string as in fill history).
absl::Status GetOptClientId(const Fields& f, std::string_view key, std::optional<uint32_t>* out) {
  out->reset();
  uint64_t v = 0;
  PERPGW_RETURN_IF_ERROR(f.GetOpt(key, &v));  // also refuses an undeclared key
  if (!f[key].has_text()) return absl::OkStatus();
  if (v > 0xFFFFFFFFull) return Bad("clientId out of uint32 range");
  *out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}
// Applies Backpack's terminal-status rules: a post-only order that would have crossed expires
// with PostOnlyTaker; nothing rested and nothing filled, so report it as rejected.
void ApplyTerminalReason(Order* o, std::string_view expiry_reason) {
  if (o->status == OrderStatus::kCanceled) {
    o->reason =
        expiry_reason.empty() ? CancelReason::kUserCanceled : CancelReasonFromExpiry(expiry_reason);
  } else if (o->status == OrderStatus::kExpired) {
    o->reason =
        expiry_reason.empty() ? CancelReason::kExpired : CancelReasonFromExpiry(expiry_reason);
    if (o->reason == CancelReason::kPostOnlyViolation && o->filled_size.IsZero()) {
      o->status = OrderStatus::kRejected;
    }
  } else if (o->status == OrderStatus::kRejected && o->reason == CancelReason::kNone) {
    o->reason =
        expiry_reason.empty() ? CancelReason::kRejected : CancelReasonFromExpiry(expiry_reason);
  }
  if (!expiry_reason.empty()) o->reason_text = S(expiry_reason);
}

absl::StatusOr<Order> OrderFromObject(od::object& obj, std::string_view what,
                                      const SymbolTable& symbols, const ClientIdMapper* clients) {
  Fields f{"id",       "symbol",           "side",                  "orderType",  "status",
           "clientId", "timeInForce",      "postOnly",              "price",      "quantity",
           "executedQuantity", "executedQuoteQuantity", "reduceOnly", "createdAt", "expiryReason"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
  Order ord;
  ord.venue = S(kVenueName);
  PERPGW_RETURN_IF_ERROR(f.GetOptId("id", &ord.order_id));
  if (ord.order_id.empty()) return Bad("order without id");
  std::string_view sym, side, type, status;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &sym));
  ord.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
  PERPGW_ASSIGN_OR_RETURN(ord.side, ParseSide(side));
  PERPGW_RETURN_IF_ERROR(f.Get("orderType", &type));
  PERPGW_ASSIGN_OR_RETURN(ord.type, ParseOrderType(type));
  PERPGW_RETURN_IF_ERROR(f.Get("status", &status));
  PERPGW_ASSIGN_OR_RETURN(ord.status, MapOrderStatus(status));
  std::optional<uint32_t> cid;
  PERPGW_RETURN_IF_ERROR(GetOptClientId(f, "clientId", &cid));
  ord.client_order_id = ClientText(cid, clients);
  std::string tif, expiry;
  bool post_only = false;
  PERPGW_RETURN_IF_ERROR(GetText(f, "timeInForce", &tif));
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "postOnly", &post_only));
  ord.tif = ParseTif(tif, post_only);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("price", &ord.price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("quantity", &ord.size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("executedQuantity", &ord.filled_size));
  Decimal filled_quote;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("executedQuoteQuantity", &filled_quote));
  ord.avg_fill_price = AvgPrice(filled_quote, ord.filled_size);
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "reduceOnly", &ord.reduce_only));
  PERPGW_RETURN_IF_ERROR(GetOptMillisOrIso(f, "createdAt", &ord.created_time));
  ord.updated_time = ord.created_time;
  PERPGW_RETURN_IF_ERROR(GetText(f, "expiryReason", &expiry));
  ApplyTerminalReason(&ord, expiry);
  return ord;
}

absl::StatusOr<Position> PositionFromRest(od::object& obj, const SymbolTable& symbols,
                                          UnixNanos as_of) {
  Fields f{"symbol",        "netQuantity",   "entryPrice",          "markPrice",
           "netExposureNotional", "pnlUnrealized", "pnlRealized", "cumulativeFundingPayment",
           "estLiquidationPrice", "imf"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W("positions")));
  Position p;
  p.venue = S(kVenueName);
  std::string_view sym;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &sym));
  p.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(f.Get("netQuantity", &p.size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("entryPrice", &p.entry_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("markPrice", &p.mark_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("netExposureNotional", &p.exposure_usd));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("pnlUnrealized", &p.unrealized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("pnlRealized", &p.realized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("cumulativeFundingPayment", &p.funding_accrued));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("estLiquidationPrice", &p.liquidation_price));
  OptDecimal imf;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("imf", &imf));
  // Initial margin in use = |exposure| * IMF (Backpack reports the fraction, not the amount).
  if (p.exposure_usd && imf) {
    auto margin = Decimal::Mul(p.exposure_usd->Abs(), *imf, 8, Rounding::kHalfEven);
    if (margin.ok()) p.margin = margin->Normalized();
  }
  p.update_time = as_of;
  return p;
}

absl::StatusOr<Fill> FillFromHistory(od::object& obj, const SymbolTable& symbols,
                                     const ClientIdMapper* clients) {
  Fields f{"symbol", "orderId", "tradeId", "clientId", "side", "price", "quantity", "fee",
           "feeSymbol", "isMaker", "systemOrderType", "timestamp"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W("fills")));
  Fill fl;
  fl.venue = S(kVenueName);
  std::string_view sym, side;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &sym));
  fl.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(f.GetOptId("orderId", &fl.order_id));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("tradeId", &fl.trade_id));
  std::optional<uint32_t> cid;
  PERPGW_RETURN_IF_ERROR(GetOptClientId(f, "clientId", &cid));
  fl.client_order_id = ClientText(cid, clients);
  PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
  PERPGW_ASSIGN_OR_RETURN(fl.side, ParseSide(side));
  PERPGW_RETURN_IF_ERROR(f.Get("price", &fl.price));
  PERPGW_RETURN_IF_ERROR(f.Get("quantity", &fl.size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("fee", &fl.fee));
  PERPGW_RETURN_IF_ERROR(GetText(f, "feeSymbol", &fl.fee_asset));
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "isMaker", &fl.maker));
  // LiquidatePositionOnBook / OnAdl / OnBackstop: the engine closed our position.
  std::string sys;
  PERPGW_RETURN_IF_ERROR(GetText(f, "systemOrderType", &sys));
  fl.liquidation = sys.rfind("LiquidatePosition", 0) == 0;
  PERPGW_RETURN_IF_ERROR(GetOptMillisOrIso(f, "timestamp", &fl.exchange_time));
  return fl;
}

// ----- JSON writing for encoders (flat objects only).

struct BodyField {
  std::string key, value;
  bool quoted;  // JSON string (true) or literal number/bool (false)
};

EncodedRequest BuildBody(std::vector<BodyField> fields) {
  std::sort(fields.begin(), fields.end(),
            [](const BodyField& a, const BodyField& b) { return a.key < b.key; });
  EncodedRequest r;
  r.body.push_back('{');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) r.body.push_back(',');
    wire::AppendJsonQuoted(&r.body, fields[i].key);
    r.body.push_back(':');
    if (fields[i].quoted) {
      wire::AppendJsonQuoted(&r.body, fields[i].value);
    } else {
      r.body.append(fields[i].value);
    }
    r.params.push_back({fields[i].key, fields[i].value});
  }
  r.body.push_back('}');
  return r;
}

std::string StreamsFrame(std::string_view method, const std::vector<std::string>& streams,
                         const WsSignature* sig) {
  std::string out = "{\"method\":";
  wire::AppendJsonQuoted(&out, method);
  out.append(",\"params\":[");
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out.push_back(',');
    wire::AppendJsonQuoted(&out, streams[i]);
  }
  out.push_back(']');
  if (sig) {
    out.append(",\"signature\":[");
    wire::AppendJsonQuoted(&out, sig->api_key);
    out.push_back(',');
    wire::AppendJsonQuoted(&out, sig->signature);
    out.push_back(',');
    wire::AppendJsonQuoted(&out, sig->timestamp);
    out.push_back(',');
    wire::AppendJsonQuoted(&out, sig->window);
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

// An object, or nothing (kept as `present = false`) when the value is null; anything else is
// an error naming `key`.
absl::Status OptObject(od::value& v, std::string_view key, std::string_view what, od::object* out,
                       bool* present) {
  *present = false;
  od::json_type t;
  PERPGW_JSON_TRY(v.type().get(t), W(what));
  if (t == od::json_type::null) return absl::OkStatus();
  if (t != od::json_type::object) return wire::Invalid(W(what), "'" + S(key) + "' is not an object");
  PERPGW_JSON_TRY(v.get_object().get(*out), W(what));
  *present = true;
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Codec::Impl: one reusable parser (frames from the socket are copied into its padded buffer
// unless the caller passes padding).

struct Codec::Impl {
  wire::JsonParser parser;

  absl::Status Start(std::string_view in, std::string_view what, od::document* doc) {
    return parser.Start(in, W(what), doc);
  }

  // A document that must be one object; runs fn(od::object&) then checks nothing trails it.
  template <typename Fn>
  absl::Status Object(std::string_view in, std::string_view what, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(Start(in, what, &doc));
    od::object obj;
    PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, W(what), &obj));
    PERPGW_RETURN_IF_ERROR(fn(obj));
    return wire::CheckEnd(doc, W(what));
  }

  // A document that must be an array of objects.
  template <typename Fn>
  absl::Status Array(std::string_view in, std::string_view what, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(Start(in, what, &doc));
    PERPGW_RETURN_IF_ERROR(wire::ForEachObjectInArray(doc, W(what), fn));
    return wire::CheckEnd(doc, W(what));
  }

  // One object or an array of them.
  template <typename Fn>
  absl::Status ObjectOrArray(std::string_view in, std::string_view what, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(Start(in, what, &doc));
    PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(what), fn));
    return wire::CheckEnd(doc, W(what));
  }

  // A WS frame: the {"stream","data"} envelope or the bare data object, read into `f`.
  absl::Status WsData(std::string_view in, std::string_view what, Fields* f) {
    return Object(in, what, [&](od::object& root) {
      return f->Read(root, W(what), [&](std::string_view key, od::value& v) -> absl::Status {
        if (key != "data") return absl::OkStatus();
        od::json_type t;
        PERPGW_JSON_TRY(v.type().get(t), W(what));
        if (t != od::json_type::object) return absl::OkStatus();
        od::object data;
        PERPGW_JSON_TRY(v.get_object().get(data), W(what));
        return f->Read(data, W(what));
      });
    });
  }
};

Codec::Codec() : impl_(std::make_unique<Impl>()) {}
Codec::~Codec() = default;
Codec::Codec(Codec&&) noexcept = default;
Codec& Codec::operator=(Codec&&) noexcept = default;

const char* ToString(WsKind k) {
  switch (k) {
    case WsKind::kDepth:
      return "depth";
    case WsKind::kBookTicker:
      return "bookTicker";
    case WsKind::kTrade:
      return "trade";
    case WsKind::kMarkPrice:
      return "markPrice";
    case WsKind::kTicker:
      return "ticker";
    case WsKind::kOpenInterest:
      return "openInterest";
    case WsKind::kLiquidation:
      return "liquidation";
    case WsKind::kKline:
      return "kline";
    case WsKind::kOrderUpdate:
      return "orderUpdate";
    case WsKind::kPositionUpdate:
      return "positionUpdate";
    case WsKind::kRfqUpdate:
      return "rfqUpdate";
    case WsKind::kError:
      return "error";
    case WsKind::kUnknown:
      return "unknown";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Markets


namespace {

// Keeps the first value error; structural (JSON) errors are returned at once instead. Markets
// we skip (spot, other quotes) must not fail the whole list over a field we never use.
void Defer(absl::Status st, absl::Status* deferred) {
  if (!st.ok() && deferred->ok()) *deferred = std::move(st);
}

// {"base": "...", "factor": "..."} (imfFunction / mmfFunction); null is "absent".
absl::Status ReadMarginFunction(od::value& v, std::string_view key, Decimal* base,
                                Decimal* factor, absl::Status* deferred) {
  od::object o;
  bool present = false;
  PERPGW_RETURN_IF_ERROR(OptObject(v, key, "markets", &o, &present));
  if (!present) return absl::OkStatus();
  Fields f{"base", "factor"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("markets")));
  Defer(f.GetOpt("base", base), deferred);
  Defer(f.GetOpt("factor", factor), deferred);
  return absl::OkStatus();
}

// "filters": {"price": {"tickSize", ...}, "quantity": {"stepSize", "minQuantity", ...}}.
absl::Status ReadFilters(od::value& v, Instrument* inst, bool* have_price, bool* have_qty,
                         absl::Status* deferred) {
  od::object fo;
  bool present = false;
  PERPGW_RETURN_IF_ERROR(OptObject(v, "filters", "markets", &fo, &present));
  if (!present) return absl::OkStatus();
  return Fields{}.Read(fo, W("markets"), [&](std::string_view key, od::value& fv) -> absl::Status {
    od::object o;
    bool here = false;
    if (key == "price") {
      PERPGW_RETURN_IF_ERROR(OptObject(fv, key, "markets", &o, &here));
      if (!here) return absl::OkStatus();
      Fields f{"tickSize", "maxMultiplier", "minMultiplier"};
      PERPGW_RETURN_IF_ERROR(f.Read(o, W("markets")));
      Defer(f.Get("tickSize", &inst->tick_size), deferred);
      // The limit-price band vs the last price (may be absent or null: no band known).
      Defer(f.GetOpt("maxMultiplier", &inst->price_band_up), deferred);
      Defer(f.GetOpt("minMultiplier", &inst->price_band_down), deferred);
      *have_price = true;
    } else if (key == "quantity") {
      PERPGW_RETURN_IF_ERROR(OptObject(fv, key, "markets", &o, &here));
      if (!here) return absl::OkStatus();
      Fields f{"stepSize", "minQuantity", "maxQuantity"};
      PERPGW_RETURN_IF_ERROR(f.Read(o, W("markets")));
      Defer(f.Get("stepSize", &inst->step_size), deferred);
      Defer(f.GetOpt("minQuantity", &inst->min_size), deferred);
      Defer(f.GetOpt("maxQuantity", &inst->max_size), deferred);
      *have_qty = true;
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<std::vector<MarketInfo>> Codec::ParseMarketInfos(std::string_view body) {
  std::vector<MarketInfo> out;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, "markets", [&](od::object& m) -> absl::Status {
    MarketInfo info;
    Instrument& inst = info.instrument;
    bool have_price = false, have_qty = false;
    absl::Status deferred;  // value errors in nested objects, reported for perps only
    Fields f{"symbol", "marketType", "baseSymbol", "quoteSymbol", "orderBookState", "visible",
             "fundingInterval", "fundingRateUpperBound", "fundingRateLowerBound",
             "openInterestLimit"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(m, W("markets"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key == "filters") return ReadFilters(v, &inst, &have_price, &have_qty, &deferred);
          if (key == "imfFunction") {
            return ReadMarginFunction(v, key, &info.imf_base, &info.imf_factor, &deferred);
          }
          if (key == "mmfFunction") {
            return ReadMarginFunction(v, key, &info.mmf_base, &info.mmf_factor, &deferred);
          }
          return absl::OkStatus();
        }));
    std::string_view symbol;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &symbol));
    PERPGW_RETURN_IF_ERROR(GetText(f, "marketType", &info.market_type));
    if (info.market_type != "PERP" || !IsUsdcPerpSymbol(symbol)) return absl::OkStatus();
    inst.venue = S(kVenueName);
    inst.venue_symbol = S(symbol);
    PERPGW_RETURN_IF_ERROR(GetText(f, "baseSymbol", &inst.base));
    PERPGW_RETURN_IF_ERROR(GetText(f, "quoteSymbol", &inst.quote));
    if (inst.base.empty() || inst.quote.empty()) {
      PERPGW_ASSIGN_OR_RETURN(SymbolParts parts, SplitVenueSymbol(symbol));
      if (inst.base.empty()) inst.base = parts.base;
      if (inst.quote.empty()) inst.quote = parts.quote;
    }
    TickerInfo t = NormalizeBase(inst.base);
    inst.symbol = t.ticker;
    inst.quantity_multiplier = t.multiplier;

    PERPGW_RETURN_IF_ERROR(deferred);
    if (!have_price || !have_qty) {
      return Bad("markets: " + S(symbol) + " has no price/quantity filters");
    }
    if (!inst.tick_size.IsPositive() || !inst.step_size.IsPositive()) {
      return Bad("markets: " + S(symbol) + " has a non-positive tick or step");
    }
    inst.tick_size = inst.tick_size.Normalized();
    inst.step_size = inst.step_size.Normalized();
    inst.price_scale = DecimalPlaces(inst.tick_size);
    inst.size_scale = DecimalPlaces(inst.step_size);

    PERPGW_RETURN_IF_ERROR(GetText(f, "orderBookState", &info.order_book_state));
    bool visible = true;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("visible", &visible));
    inst.tradeable = visible && info.order_book_state != "Closed" &&
                     info.order_book_state != "CancelOnly" && !info.order_book_state.empty();

    PERPGW_RETURN_IF_ERROR(f.GetOpt("fundingInterval", &info.funding_interval_ms));
    if (info.funding_interval_ms < 0) return Bad("markets: negative fundingInterval");
    inst.funding_interval_hours = static_cast<double>(info.funding_interval_ms) / 3'600'000.0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("fundingRateUpperBound", &info.funding_rate_upper_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("fundingRateLowerBound", &info.funding_rate_lower_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("openInterestLimit", &info.open_interest_limit));
    if (info.imf_base.IsPositive()) {
      // Small-position max leverage = 1 / base IMF (0.02 -> 50x, 0.01333 -> 75x).
      auto lev = Decimal::Div(Decimal::FromInt(1), info.imf_base, 0, Rounding::kDown);
      if (lev.ok()) inst.max_leverage = *lev;
    }
    out.push_back(std::move(info));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Instrument>> Codec::ParseMarkets(std::string_view body) {
  PERPGW_ASSIGN_OR_RETURN(std::vector<MarketInfo> infos, ParseMarketInfos(body));
  std::vector<Instrument> out;
  out.reserve(infos.size());
  for (MarketInfo& i : infos) out.push_back(std::move(i.instrument));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Depth

absl::StatusOr<DepthSnapshot> Codec::ParseDepthSnapshot(std::string_view body,
                                                        const Instrument& inst) {
  DepthSnapshot snap;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "depth", [&](od::object& o) -> absl::Status {
    Fields f{"lastUpdateId", "timestamp"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("depth"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key == "bids") {
            return wire::ReadLevels(v, inst.price_scale, inst.size_scale, &snap.bids, W("depth"));
          }
          if (key == "asks") {
            return wire::ReadLevels(v, inst.price_scale, inst.size_scale, &snap.asks, W("depth"));
          }
          return absl::OkStatus();
        }));
    PERPGW_RETURN_IF_ERROR(f.Get("lastUpdateId", &snap.last_update_id));
    return f.GetOptTime("timestamp", wire::kNanosPerMicro, &snap.exchange_time);
  }));
  // Captures show both sides ascending (best bid last); sort rather than trust the order.
  std::sort(snap.bids.begin(), snap.bids.end(),
            [](const Level& a, const Level& b) { return a.price > b.price; });
  std::sort(snap.asks.begin(), snap.asks.end(),
            [](const Level& a, const Level& b) { return a.price < b.price; });
  return snap;
}

BookUpdate MakeSnapshotUpdate(const DepthSnapshot& snap, const Instrument& inst,
                              UnixNanos receive_time) {
  BookUpdate u;
  u.venue = S(kVenueName);
  u.symbol = inst.symbol;
  u.snapshot = true;
  u.venue_seq = snap.last_update_id;
  u.exchange_time = snap.exchange_time;
  u.receive_time = receive_time;
  u.price_scale = inst.price_scale;
  u.size_scale = inst.size_scale;
  u.bids = snap.bids;
  u.asks = snap.asks;
  return u;
}


namespace {

absl::Status OdUint(od::value v, uint64_t* out) {
  if (!v.get_uint64().get(*out)) return absl::OkStatus();
  if (!v.get_uint64_in_string().get(*out)) return absl::OkStatus();
  return Bad("depth: id is not an unsigned integer");
}


}  // namespace

absl::Status Codec::ParseDepthDelta(std::string_view frame, const Instrument& inst, DeltaMsg* out) {
  out->changes.clear();
  out->first_id = out->last_id = out->prev_id = 0;
  out->exchange_time = 0;
  od::document doc;
  PERPGW_RETURN_IF_ERROR(impl_->Start(frame, "depth", &doc));
  od::object root;
  if (doc.get_object().get(root)) return Bad("depth: frame is not an object");
  od::object data;
  od::value dv;
  auto derr = root.find_field_unordered("data").get(dv);
  if (derr == simdjson::SUCCESS) {
    if (dv.get_object().get(data)) return Bad("depth: data is not an object");
  } else if (derr == simdjson::NO_SUCH_FIELD) {
    // Bare data object: the search consumed the root, so iterate it again from the start.
    doc.rewind();
    if (doc.get_object().get(data)) return Bad("depth: frame is not an object");
  } else {
    return Bad("depth: invalid JSON");
  }
  bool have_first = false, have_last = false;
  int64_t t_us = 0, e_us = 0;
  for (auto field_r : data) {
    od::field field;
    if (std::move(field_r).get(field)) return Bad("depth: bad key");
    // Only one-character keys matter. Compared as written unless escaped (which needs the
    // unescaped text; never seen live): a raw key of one plain character is that character.
    const char* raw = field.key().raw();
    char key;
    if (raw[0] != '\\') {
      if (raw[0] == '"' || raw[1] != '"') continue;
      key = raw[0];
    } else {
      std::string_view unescaped;
      if (field.unescaped_key().get(unescaped)) return Bad("depth: bad key");
      if (unescaped.size() != 1) continue;
      key = unescaped[0];
    }
    od::value& v = field.value();
    switch (key) {
      case 'e': {
        std::string_view e;
        if (v.get_string().get(e) || e != "depth") return Bad("depth: not a depth event");
        break;
      }
      case 's': {
        std::string_view s;
        if (v.get_string().get(s)) return Bad("depth: bad symbol");
        if (s != inst.venue_symbol) {
          return Bad("depth: symbol " + S(s) + " is not " + inst.venue_symbol);
        }
        break;
      }
      case 'a':
        PERPGW_RETURN_IF_ERROR(wire::ReadLevelChanges(v, BookSide::kAsk, inst.price_scale,
                                                      inst.size_scale, &out->changes, W("depth")));
        break;
      case 'b':
        PERPGW_RETURN_IF_ERROR(wire::ReadLevelChanges(v, BookSide::kBid, inst.price_scale,
                                                      inst.size_scale, &out->changes, W("depth")));
        break;
      case 'U':
        PERPGW_RETURN_IF_ERROR(OdUint(v, &out->first_id));
        have_first = true;
        break;
      case 'u':
        PERPGW_RETURN_IF_ERROR(OdUint(v, &out->last_id));
        have_last = true;
        break;
      case 'T':
        if (v.get_int64().get(t_us)) return Bad("depth: bad T");
        break;
      case 'E':
        if (v.get_int64().get(e_us)) return Bad("depth: bad E");
        break;
      default:
        break;
    }
  }
  if (!have_first || !have_last) return Bad("depth: missing U/u");
  if (out->last_id < out->first_id) return Bad("depth: u < U");
  int64_t us = t_us ? t_us : e_us;
  if (!wire::ToNanos(us, wire::kNanosPerMicro, &out->exchange_time)) {
    return Bad("depth: timestamp out of range");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// WS classification and public streams

namespace {

// The stream name alone classifies a frame: "depth.SOL_USDC" → depth of SOL_USDC.
void ClassifyStream(std::string_view stream, WsFrameInfo* out) {
  WsFrameInfo& info = *out;
  info.stream.assign(stream);
  size_t dot = stream.find('.');
  std::string_view head = stream.substr(0, dot);
  std::string_view rest =
      dot == std::string_view::npos ? std::string_view() : stream.substr(dot + 1);
  if (head == "depth")
    info.kind = WsKind::kDepth;
  else if (head == "bookTicker")
    info.kind = WsKind::kBookTicker;
  else if (head == "trade")
    info.kind = WsKind::kTrade;
  else if (head == "markPrice")
    info.kind = WsKind::kMarkPrice;
  else if (head == "ticker")
    info.kind = WsKind::kTicker;
  else if (head == "openInterest")
    info.kind = WsKind::kOpenInterest;
  else if (head == "liquidation")
    info.kind = WsKind::kLiquidation;
  else if (head == "kline")
    info.kind = WsKind::kKline;
  else if (head == "account") {
    std::string_view sub = rest.substr(0, rest.find('.'));
    if (sub == "orderUpdate")
      info.kind = WsKind::kOrderUpdate;
    else if (sub == "positionUpdate")
      info.kind = WsKind::kPositionUpdate;
    else if (sub == "rfqUpdate")
      info.kind = WsKind::kRfqUpdate;
  }
  size_t last = stream.rfind('.');
  if (last != std::string_view::npos) {
    std::string_view tail = stream.substr(last + 1);
    if (tail.find('_') != std::string_view::npos) info.venue_symbol.assign(tail);
  }
}

}  // namespace

absl::StatusOr<WsFrameInfo> Codec::ClassifyWsFrame(std::string_view frame) {
  WsFrameInfo info;
  PERPGW_RETURN_IF_ERROR(ClassifyWsFrame(frame, &info));
  return info;
}

absl::Status Codec::ClassifyWsFrame(std::string_view frame, WsFrameInfo* out) {
  out->kind = WsKind::kUnknown;
  out->stream.clear();
  out->venue_symbol.clear();
  out->error_code = 0;
  out->error_message.clear();
  // Fast path: the venue writes {"stream":"<name>","data":...}. A name with no escape is read
  // straight from the text, without a parse of its own: the kind's parser then reads (and
  // validates) the whole frame once. Anything else takes the parse below.
  constexpr std::string_view kLead = R"({"stream":")";
  if (frame.substr(0, kLead.size()) == kLead) {
    size_t end = kLead.size();
    while (end < frame.size() && frame[end] != '"' && frame[end] != '\\') ++end;
    if (end < frame.size() && frame[end] == '"') {
      ClassifyStream(frame.substr(kLead.size(), end - kLead.size()), out);
      return absl::OkStatus();
    }
  }
  od::document doc;
  PERPGW_RETURN_IF_ERROR(impl_->Start(frame, "ws", &doc));
  od::object root;
  if (doc.get_object().get(root)) return Bad("ws: frame is not an object");
  WsFrameInfo& info = *out;
  std::string_view stream;
  auto serr = root.find_field_unordered("stream").get_string().get(stream);
  // Anything but found / absent leaves the on-demand iterator unusable (a syntax error further
  // in, found while scanning for the key): stop here. Using it again is undefined behaviour
  // (found by fuzz_backpack_codec).
  if (serr != simdjson::SUCCESS && serr != simdjson::NO_SUCH_FIELD) {
    return Bad(serr == simdjson::INCORRECT_TYPE ? "ws: stream is not a string" : "ws: invalid JSON");
  }
  if (serr == simdjson::SUCCESS) {
    ClassifyStream(stream, out);
    return absl::OkStatus();
  }
  // {"id":null,"error":{"code":4006,"message":"Invalid stream"}}
  od::object err;
  auto eerr = root.find_field_unordered("error").get_object().get(err);
  if (eerr == simdjson::NO_SUCH_FIELD || eerr == simdjson::INCORRECT_TYPE) {
    return absl::OkStatus();  // kUnknown
  }
  if (eerr != simdjson::SUCCESS) return Bad("ws: invalid JSON");
  info.kind = WsKind::kError;
  int64_t code = 0;
  std::string_view msg;
  od::value cv;
  auto cerr = err.find_field_unordered("code").get(cv);
  if (cerr == simdjson::SUCCESS) {
    if (cv.get_int64().get(code)) code = 0;
  } else if (cerr != simdjson::NO_SUCH_FIELD) {
    return Bad("ws: invalid JSON");
  }
  auto merr = err.find_field_unordered("message").get_string().get(msg);
  if (merr == simdjson::SUCCESS) {
    info.error_message.assign(msg);
  } else if (merr != simdjson::NO_SUCH_FIELD && merr != simdjson::INCORRECT_TYPE) {
    return Bad("ws: invalid JSON");
  }
  info.error_code = code;
  return absl::OkStatus();
}

absl::StatusOr<Bbo> Codec::ParseBookTicker(std::string_view frame, const SymbolTable& symbols,
                                           UnixNanos receive_time) {
  Fields f{"s", "b", "B", "a", "A", "u", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "bookTicker", &f));
  Bbo b;
  b.venue = S(kVenueName);
  std::string_view sym;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &sym));
  b.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(f.Get("b", &b.bid_price));
  PERPGW_RETURN_IF_ERROR(f.Get("B", &b.bid_size));
  PERPGW_RETURN_IF_ERROR(f.Get("a", &b.ask_price));
  PERPGW_RETURN_IF_ERROR(f.Get("A", &b.ask_size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("u", &b.venue_seq));  // string in docs, integer live
  PERPGW_RETURN_IF_ERROR(GetWsTime(f, &b.exchange_time));
  b.receive_time = receive_time;
  return b;
}

absl::StatusOr<Trade> Codec::ParseTrade(std::string_view frame, const SymbolTable& symbols,
                                        UnixNanos receive_time) {
  Fields f{"s", "p", "q", "t", "m", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "trade", &f));
  Trade t;
  t.venue = S(kVenueName);
  std::string_view sym;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &sym));
  t.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(f.Get("p", &t.price));
  PERPGW_RETURN_IF_ERROR(f.Get("q", &t.size));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("t", &t.trade_id));
  // m = buyer is maker, so the taker sold.
  bool buyer_maker = false;
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "m", &buyer_maker));
  t.taker_side = buyer_maker ? Side::kSell : Side::kBuy;
  PERPGW_RETURN_IF_ERROR(GetWsTime(f, &t.exchange_time));
  t.receive_time = receive_time;
  return t;
}

namespace {

absl::StatusOr<MarkPriceInfo> MarkFromRest(od::object& obj) {
  Fields f{"symbol", "markPrice", "indexPrice", "fundingRate", "nextFundingTimestamp"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W("markPrices")));
  MarkPriceInfo m;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &m.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.Get("markPrice", &m.mark_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("indexPrice", &m.index_price));
  if (f.Has("fundingRate")) {
    m.has_funding = true;
    PERPGW_RETURN_IF_ERROR(f.Get("fundingRate", &m.funding_rate));
  }
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("nextFundingTimestamp", wire::kNanosPerMilli,
                                      &m.next_funding_time));
  return m;
}

absl::StatusOr<TickerStats> TickerFromRest(od::object& obj) {
  Fields f{"symbol", "lastPrice", "volume", "quoteVolume", "trades"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W("ticker")));
  TickerStats t;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &t.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("lastPrice", &t.last_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("volume", &t.volume));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("quoteVolume", &t.quote_volume));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("trades", &t.trades));  // a string on this venue
  return t;
}

absl::StatusOr<OpenInterestInfo> OiFromRest(od::object& obj) {
  Fields f{"symbol", "openInterest", "timestamp"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W("openInterest")));
  OpenInterestInfo oi;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &oi.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("openInterest", &oi.open_interest));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("timestamp", wire::kNanosPerMilli, &oi.time));
  return oi;
}

}  // namespace

absl::StatusOr<std::vector<MarkPriceInfo>> Codec::ParseMarkPrices(std::string_view body) {
  std::vector<MarkPriceInfo> out;
  PERPGW_RETURN_IF_ERROR(impl_->ObjectOrArray(body, "markPrices", [&](od::object& o) {
    PERPGW_ASSIGN_OR_RETURN(MarkPriceInfo m, MarkFromRest(o));
    out.push_back(std::move(m));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<TickerStats>> Codec::ParseTickers(std::string_view body) {
  std::vector<TickerStats> out;
  PERPGW_RETURN_IF_ERROR(impl_->ObjectOrArray(body, "ticker", [&](od::object& o) {
    PERPGW_ASSIGN_OR_RETURN(TickerStats t, TickerFromRest(o));
    out.push_back(std::move(t));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<OpenInterestInfo>> Codec::ParseOpenInterest(std::string_view body) {
  std::vector<OpenInterestInfo> out;
  PERPGW_RETURN_IF_ERROR(impl_->ObjectOrArray(body, "openInterest", [&](od::object& o) {
    PERPGW_ASSIGN_OR_RETURN(OpenInterestInfo oi, OiFromRest(o));
    out.push_back(std::move(oi));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<FundingRateRecord>> Codec::ParseFundingRates(std::string_view body) {
  std::vector<FundingRateRecord> out;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, "fundingRates", [&](od::object& o) -> absl::Status {
    Fields f{"symbol", "fundingRate", "intervalEndTimestamp"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("fundingRates")));
    FundingRateRecord r;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &r.venue_symbol));
    PERPGW_RETURN_IF_ERROR(f.Get("fundingRate", &r.rate));
    PERPGW_RETURN_IF_ERROR(GetOptMillisOrIso(f, "intervalEndTimestamp", &r.interval_end));
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  return out;
}

namespace {
// fundingInterval (ms) → hours, exact to 12 places (3600000 → 1, 28800000 → 8).
absl::StatusOr<Decimal> IntervalHours(int64_t funding_interval_ms, std::string_view venue_symbol) {
  if (funding_interval_ms <= 0) {
    return absl::FailedPreconditionError("backpack: funding interval unknown for " +
                                         S(venue_symbol));
  }
  PERPGW_ASSIGN_OR_RETURN(Decimal hours,
                          Decimal::Div(Decimal::FromInt(funding_interval_ms),
                                       Decimal::FromInt(3'600'000), 12, Rounding::kHalfEven));
  return hours.Normalized();
}
}  // namespace

absl::StatusOr<std::vector<Funding>> Codec::ParseFundingHistory(std::string_view body,
                                                                std::string_view venue_symbol,
                                                                std::string_view normalized_symbol,
                                                                int64_t funding_interval_ms) {
  // The market's current interval for every row here. Spec: perps moved from 8 h to 1 h funding
  // on 2025-08-20 08:00 UTC and the venue marks no row with its interval: the pager's Take
  // corrects each row from the row spacing (InferFundingIntervals).
  PERPGW_ASSIGN_OR_RETURN(Decimal hours, IntervalHours(funding_interval_ms, venue_symbol));
  PERPGW_ASSIGN_OR_RETURN(std::vector<FundingRateRecord> rows, ParseFundingRates(body));
  std::vector<Funding> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const FundingRateRecord& r = rows[i];
    if (r.venue_symbol != venue_symbol) {
      return Bad("fundingRates: row " + std::to_string(i) + " is for " + r.venue_symbol +
                 ", asked for " + S(venue_symbol));
    }
    if (r.interval_end <= 0) {
      return Bad("fundingRates: row " + std::to_string(i) + " has no intervalEndTimestamp");
    }
    Funding f;
    f.venue = S(kVenueName);
    f.symbol = S(normalized_symbol);
    f.rate = r.rate;
    f.interval_hours = hours;
    f.as_of = r.interval_end;
    PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<MarkPriceInfo> Codec::ParseWsMarkPrice(std::string_view frame) {
  Fields f{"s", "p", "i", "f", "n", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "markPrice", &f));
  MarkPriceInfo m;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &m.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.Get("p", &m.mark_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("i", &m.index_price));
  if (f.Has("f")) {
    m.has_funding = true;
    PERPGW_RETURN_IF_ERROR(f.Get("f", &m.funding_rate));
  }
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("n", wire::kNanosPerMilli, &m.next_funding_time));  // ms
  PERPGW_RETURN_IF_ERROR(GetWsTime(f, &m.exchange_time));
  return m;
}

absl::StatusOr<TickerStats> Codec::ParseWsTicker(std::string_view frame) {
  Fields f{"s", "c", "v", "V", "n", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "ticker", &f));
  TickerStats t;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &t.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("c", &t.last_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("v", &t.volume));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("V", &t.quote_volume));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("n", &t.trades));
  PERPGW_RETURN_IF_ERROR(GetWsTime(f, &t.exchange_time));
  return t;
}

absl::StatusOr<OpenInterestInfo> Codec::ParseWsOpenInterest(std::string_view frame) {
  Fields f{"s", "o", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "openInterest", &f));
  OpenInterestInfo oi;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &oi.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.Get("o", &oi.open_interest));
  PERPGW_RETURN_IF_ERROR(GetWsTime(f, &oi.time));
  return oi;
}

// ---------------------------------------------------------------------------------------------
// Private WS

absl::StatusOr<OrderUpdate> Codec::ParseOrderUpdate(std::string_view frame,
                                                    const SymbolTable& symbols,
                                                    const ClientIdMapper* clients,
                                                    UnixNanos receive_time) {
  Fields d{"e", "O", "R", "c", "s", "i", "S", "o", "f", "y", "p", "q", "z", "Z",
           "r", "X", "t", "L", "l", "n", "N", "m", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "orderUpdate", &d));
  OrderUpdate u;
  PERPGW_RETURN_IF_ERROR(d.Get("e", &u.event_type));
  const std::string& ev = u.event_type;
  PERPGW_RETURN_IF_ERROR(GetText(d, "O", &u.origin));
  PERPGW_RETURN_IF_ERROR(GetText(d, "R", &u.expiry_reason));
  PERPGW_RETURN_IF_ERROR(GetOptClientId(d, "c", &u.client_id));

  Order& o = u.event.order;
  o.venue = S(kVenueName);
  std::string_view sym, side;
  PERPGW_RETURN_IF_ERROR(d.Get("s", &sym));
  o.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(d.GetOptId("i", &o.order_id));
  if (o.order_id.empty()) return Bad("orderUpdate: missing order id");
  o.client_order_id = ClientText(u.client_id, clients);
  PERPGW_RETURN_IF_ERROR(d.Get("S", &side));
  PERPGW_ASSIGN_OR_RETURN(o.side, ParseSide(side));
  std::string type, tif, status;
  PERPGW_RETURN_IF_ERROR(GetText(d, "o", &type));
  if (!type.empty()) {
    PERPGW_ASSIGN_OR_RETURN(o.type, ParseOrderType(type));
  }
  bool post_only = false;
  PERPGW_RETURN_IF_ERROR(GetText(d, "f", &tif));
  PERPGW_RETURN_IF_ERROR(GetFlag(d, "y", &post_only));
  o.tif = ParseTif(tif, post_only);
  PERPGW_RETURN_IF_ERROR(d.GetOpt("p", &o.price));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("q", &o.size));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("z", &o.filled_size));
  Decimal filled_quote;
  PERPGW_RETURN_IF_ERROR(d.GetOpt("Z", &filled_quote));
  o.avg_fill_price = AvgPrice(filled_quote, o.filled_size);
  PERPGW_RETURN_IF_ERROR(GetFlag(d, "r", &o.reduce_only));
  UnixNanos t = 0;
  PERPGW_RETURN_IF_ERROR(GetWsTime(d, &t));
  o.updated_time = t;

  PERPGW_RETURN_IF_ERROR(GetText(d, "X", &status));
  if (!status.empty()) {
    PERPGW_ASSIGN_OR_RETURN(o.status, MapOrderStatus(status));
  } else {
    o.status = OrderStatus::kOpen;
  }
  // The event type is authoritative for terminal transitions.
  if (ev == "orderCancelled") {
    o.status = OrderStatus::kCanceled;
  } else if (ev == "orderExpired") {
    o.status = OrderStatus::kExpired;
  } else if (ev == "triggerFailed") {
    o.status = OrderStatus::kRejected;
  } else if (ev == "orderAccepted" && status.empty()) {
    o.status = OrderStatus::kOpen;
  }
  ApplyTerminalReason(&o, u.expiry_reason);

  u.event.exchange_time = t;
  u.event.receive_time = receive_time;

  if (ev == "orderFill") {
    Fill f;
    f.venue = o.venue;
    f.symbol = o.symbol;
    f.order_id = o.order_id;
    f.client_order_id = o.client_order_id;
    PERPGW_RETURN_IF_ERROR(d.GetOptId("t", &f.trade_id));
    f.side = o.side;
    PERPGW_RETURN_IF_ERROR(d.Get("L", &f.price));
    PERPGW_RETURN_IF_ERROR(d.Get("l", &f.size));
    PERPGW_RETURN_IF_ERROR(d.GetOpt("n", &f.fee));
    PERPGW_RETURN_IF_ERROR(GetText(d, "N", &f.fee_asset));
    PERPGW_RETURN_IF_ERROR(GetFlag(d, "m", &f.maker));
    // Forced closes: the engine liquidated or auto-deleveraged this account's position.
    f.liquidation = u.origin == "LIQUIDATION_AUTOCLOSE" || u.origin == "ADL_AUTOCLOSE";
    f.exchange_time = t;
    if (f.liquidation) {
      Liquidation l;
      l.venue = f.venue;
      l.symbol = f.symbol;
      l.side = f.side;
      l.price = f.price;
      l.size = f.size;
      l.order_id = f.order_id;
      l.exchange_time = t;
      u.liquidation = std::move(l);
    }
    u.event.fill = std::move(f);
  }
  return u;
}

absl::StatusOr<PositionUpdate> Codec::ParsePositionUpdate(std::string_view frame,
                                                          const SymbolTable& symbols) {
  Fields d{"e", "i", "s", "q", "B", "M", "n", "p", "P", "l", "f", "T", "E"};
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "positionUpdate", &d));
  PositionUpdate u;
  PERPGW_RETURN_IF_ERROR(GetText(d, "e", &u.event_type));
  u.snapshot = u.event_type.empty();
  PERPGW_RETURN_IF_ERROR(d.GetOptId("i", &u.position_id));
  Position& p = u.position;
  p.venue = S(kVenueName);
  std::string_view sym;
  PERPGW_RETURN_IF_ERROR(d.Get("s", &sym));
  p.symbol = symbols.TickerFor(sym);
  PERPGW_RETURN_IF_ERROR(d.Get("q", &p.size));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("B", &p.entry_price));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("M", &p.mark_price));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("n", &p.exposure_usd));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("p", &p.realized_pnl));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("P", &p.unrealized_pnl));
  PERPGW_RETURN_IF_ERROR(d.GetOpt("l", &p.liquidation_price));
  OptDecimal imf;
  PERPGW_RETURN_IF_ERROR(d.GetOpt("f", &imf));
  if (p.exposure_usd && imf) {
    auto margin = Decimal::Mul(p.exposure_usd->Abs(), *imf, 8, Rounding::kHalfEven);
    if (margin.ok()) p.margin = margin->Normalized();
  }
  PERPGW_RETURN_IF_ERROR(GetWsTime(d, &p.update_time));
  return u;
}

// ---------------------------------------------------------------------------------------------
// Private REST

absl::StatusOr<Order> Codec::ParseOrder(std::string_view body, const SymbolTable& symbols,
                                        const ClientIdMapper* clients) {
  Order ord;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "order", [&](od::object& o) -> absl::Status {
    PERPGW_ASSIGN_OR_RETURN(ord, OrderFromObject(o, "order", symbols, clients));
    return absl::OkStatus();
  }));
  return ord;
}

absl::StatusOr<std::vector<Order>> Codec::ParseOrders(std::string_view body,
                                                      const SymbolTable& symbols,
                                                      const ClientIdMapper* clients) {
  std::vector<Order> out;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, "orders", [&](od::object& o) -> absl::Status {
    PERPGW_ASSIGN_OR_RETURN(Order ord, OrderFromObject(o, "orders", symbols, clients));
    out.push_back(std::move(ord));
    return absl::OkStatus();
  }));
  return out;
}

OrderAck Codec::ParseOrderExecuteResponse(int http_status, std::string_view body,
                                          const SymbolTable& symbols,
                                          const ClientIdMapper* clients) {
  OrderAck ack;
  if (http_status == 200 || http_status == 201) {
    auto o = ParseOrder(body, symbols, clients);
    if (!o.ok()) {
      // The venue answered 200 but we cannot read it: the order may well exist.
      ack.outcome = AckOutcome::kOutcomeUnknown;
      ack.reason = CancelReason::kUnknown;
      ack.message = "unreadable order response: " + std::string(o.status().message());
      return ack;
    }
    ack.order = std::move(*o);
    if (ack.order.status == OrderStatus::kRejected) {
      ack.outcome = AckOutcome::kRejected;
      ack.reason = ack.order.reason;
      ack.message = ack.order.reason == CancelReason::kPostOnlyViolation
                        ? "post-only order would have crossed (PostOnlyTaker)"
                        : "order rejected: " + ack.order.reason_text;
    } else {
      ack.outcome = AckOutcome::kAccepted;
      ack.reason = ack.order.reason;
    }
    return ack;
  }
  VenueError e = ClassifyHttpError(http_status, body, RequestKind::kOrderEntry);
  // A duplicate live clientId means an earlier attempt of ours got through: reconcile.
  bool unknown = e.retry == RetryClass::kUnknownOutcome || e.duplicate_client_id;
  ack.outcome = unknown ? AckOutcome::kOutcomeUnknown : AckOutcome::kRejected;
  ack.reason = e.reason;
  ack.retryable = e.retry == RetryClass::kRetryable;
  ack.message = std::string(ToStatus(e).message());
  ack.order.venue = S(kVenueName);
  ack.order.status = unknown ? OrderStatus::kPendingNew : OrderStatus::kRejected;
  ack.order.reason = e.reason;
  ack.order.reason_text = e.message;
  return ack;
}


absl::StatusOr<std::vector<BatchOrderEntry>> Codec::ParseOrderExecuteBatchResponse(
    std::string_view body, const SymbolTable& symbols, const ClientIdMapper* clients) {
  constexpr std::string_view kWhat = "orderExecute batch";
  // First each entry's own text (the parser is reused per entry afterwards).
  std::vector<std::string> raw;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, kWhat, [&](od::object& o) -> absl::Status {
    std::string_view text;
    PERPGW_JSON_TRY(o.raw_json().get(text), W(kWhat));
    raw.emplace_back(text);
    return absl::OkStatus();
  }));
  std::vector<BatchOrderEntry> out;
  out.reserve(raw.size());
  for (std::string& text : raw) {
    BatchOrderEntry& e = out.emplace_back();
    Fields f{"id", "code", "message"};
    const bool read = impl_->Object(text, kWhat, [&](od::object& o) {
                              return f.Read(o, W(kWhat));
                            }).ok();
    const bool error = read && !f.Has("id") && (f.Has("code") || f.Has("message"));
    e.http_status = error ? 400 : 200;
    e.body = std::move(text);
    e.ack = ParseOrderExecuteResponse(e.http_status, e.body, symbols, clients);
  }
  return out;
}


absl::StatusOr<std::vector<Position>> Codec::ParsePositions(std::string_view body,
                                                            const SymbolTable& symbols,
                                                            UnixNanos as_of) {
  std::vector<Position> out;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, "positions", [&](od::object& o) -> absl::Status {
    PERPGW_ASSIGN_OR_RETURN(Position p, PositionFromRest(o, symbols, as_of));
    out.push_back(std::move(p));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Balance> Codec::ParseCollateral(std::string_view body, UnixNanos as_of) {
  Balance b;
  b.venue = S(kVenueName);
  b.asset = S(kQuoteAsset);
  b.update_time = as_of;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "collateral", [&](od::object& o) -> absl::Status {
    Fields f{"netEquity", "netEquityAvailable", "netEquityLocked", "pnlUnrealized"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("collateral")));
    PERPGW_RETURN_IF_ERROR(f.Get("netEquity", &b.equity));
    PERPGW_RETURN_IF_ERROR(f.Get("netEquityAvailable", &b.available));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("netEquityLocked", &b.margin_used));
    return f.GetOpt("pnlUnrealized", &b.unrealized_pnl);
  }));
  return b;
}

absl::StatusOr<Balance> Codec::ParseCapital(std::string_view body, std::string_view asset,
                                            UnixNanos as_of) {
  Balance b;
  b.venue = S(kVenueName);
  b.asset = S(asset);
  b.update_time = as_of;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "capital", [&](od::object& o) -> absl::Status {
    return Fields{}.Read(o, W("capital"), [&](std::string_view key, od::value& v) -> absl::Status {
      if (key != asset) return absl::OkStatus();
      od::object a;
      bool present = false;
      PERPGW_RETURN_IF_ERROR(OptObject(v, key, "capital", &a, &present));
      if (!present) return absl::OkStatus();  // no holdings of that asset
      Fields f{"available", "locked", "staked"};
      PERPGW_RETURN_IF_ERROR(f.Read(a, W("capital")));
      Decimal locked, staked;
      PERPGW_RETURN_IF_ERROR(f.Get("available", &b.available));
      PERPGW_RETURN_IF_ERROR(f.GetOpt("locked", &locked));
      PERPGW_RETURN_IF_ERROR(f.GetOpt("staked", &staked));
      PERPGW_ASSIGN_OR_RETURN(Decimal sum, Decimal::Add(b.available, locked));
      PERPGW_ASSIGN_OR_RETURN(b.equity, Decimal::Add(sum, staked));
      b.margin_used = locked;
      return absl::OkStatus();
    });
  }));
  return b;
}

absl::StatusOr<AccountSettings> Codec::ParseAccount(std::string_view body) {
  AccountSettings a;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "account", [&](od::object& o) -> absl::Status {
    Fields f{"leverageLimit", "futuresMakerFee", "futuresTakerFee", "spotMakerFee",
             "spotTakerFee", "positionLimit", "borrowLimit", "liquidating", "limitOrders",
             "triggerOrders"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("account")));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("leverageLimit", &a.leverage_limit));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("futuresMakerFee", &a.futures_maker_fee_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("futuresTakerFee", &a.futures_taker_fee_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("spotMakerFee", &a.spot_maker_fee_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("spotTakerFee", &a.spot_taker_fee_bps));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("positionLimit", &a.position_limit));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("borrowLimit", &a.borrow_limit));
    PERPGW_RETURN_IF_ERROR(GetFlag(f, "liquidating", &a.liquidating));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("limitOrders", &a.limit_orders));
    return f.GetOpt("triggerOrders", &a.trigger_orders);
  }));
  return a;
}

absl::StatusOr<std::vector<Fill>> Codec::ParseFills(std::string_view body,
                                                    const SymbolTable& symbols,
                                                    const ClientIdMapper* clients) {
  std::vector<Fill> out;
  PERPGW_RETURN_IF_ERROR(impl_->Array(body, "fills", [&](od::object& o) -> absl::Status {
    PERPGW_ASSIGN_OR_RETURN(Fill f, FillFromHistory(o, symbols, clients));
    out.push_back(std::move(f));
    return absl::OkStatus();
  }));
  return out;
}


// ---------------------------------------------------------------------------------------------
// Pure helpers

absl::StatusOr<UnixNanos> ParseNaiveUtc(std::string_view s) {
  auto num = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || !num(0, 4, &y) || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' ||
      !num(8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !num(11, 2, &h) || s[13] != ':' ||
      !num(14, 2, &mi) || s[16] != ':' || !num(17, 2, &sec)) {
    return Bad("bad naive UTC datetime '" + S(s) + "'");
  }
  // Nanoseconds since 1970 in int64 end in April 2262: later years are out of range, not an
  // overflow (found by fuzz_backpack_codec).
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 ||
      y > 2261) {
    return Bad("naive UTC datetime out of range '" + S(s) + "'");
  }
  size_t i = 19;
  int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) frac_ns = frac_ns * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return Bad("bad fraction in datetime '" + S(s) + "'");
    for (int k = std::min(digits, 9); k < 9; ++k) frac_ns *= 10;
  }
  if (i < s.size() && s[i] == 'Z') ++i;
  if (i != s.size()) return Bad("trailing text in datetime '" + S(s) + "'");
  // Days from 1970-01-01 in the proleptic Gregorian calendar (civil-from-days inverse).
  int64_t yy = y - (mo <= 2 ? 1 : 0);
  int64_t era = yy / 400;
  int64_t yoe = yy - era * 400;
  int64_t mp = (mo + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
  return secs * 1'000'000'000 + frac_ns;
}

absl::StatusOr<OrderStatus> MapOrderStatus(std::string_view s) {
  if (wire::EqualsIgnoreCase(s, "New")) return OrderStatus::kOpen;
  if (wire::EqualsIgnoreCase(s, "PartiallyFilled")) return OrderStatus::kPartiallyFilled;
  if (wire::EqualsIgnoreCase(s, "Filled")) return OrderStatus::kFilled;
  if (wire::EqualsIgnoreCase(s, "Cancelled") || wire::EqualsIgnoreCase(s, "Canceled")) {
    return OrderStatus::kCanceled;
  }
  if (wire::EqualsIgnoreCase(s, "Expired")) return OrderStatus::kExpired;
  // Conditional orders waiting for their trigger are live from the client's point of view.
  if (wire::EqualsIgnoreCase(s, "TriggerPending")) return OrderStatus::kOpen;
  if (wire::EqualsIgnoreCase(s, "TriggerFailed")) return OrderStatus::kRejected;
  return Bad("unknown order status '" + S(s) + "'");
}

absl::StatusOr<Funding> BuildFunding(const MarkPriceInfo& mark, int64_t funding_interval_ms,
                                     const TickerStats* ticker, const OpenInterestInfo* oi,
                                     std::string_view normalized_symbol, UnixNanos as_of) {
  if (!mark.has_funding) {
    return absl::FailedPreconditionError("backpack: " + mark.venue_symbol + " has no funding rate");
  }
  PERPGW_ASSIGN_OR_RETURN(Decimal hours, IntervalHours(funding_interval_ms, mark.venue_symbol));
  if ((ticker && ticker->venue_symbol != mark.venue_symbol) ||
      (oi && oi->venue_symbol != mark.venue_symbol)) {
    return absl::InvalidArgumentError("backpack: funding inputs are for different symbols");
  }
  Funding f;
  f.venue = S(kVenueName);
  f.symbol = S(normalized_symbol);
  f.rate = mark.funding_rate;
  f.interval_hours = hours;
  f.next_funding_time = mark.next_funding_time;
  f.mark_price = mark.mark_price;
  f.index_price = mark.index_price;
  if (ticker) f.volume_24h_usd = ticker->quote_volume;
  if (oi) {
    PERPGW_ASSIGN_OR_RETURN(Decimal usd,
                        Decimal::Mul(oi->open_interest, mark.mark_price, 6, Rounding::kHalfEven));
    f.open_interest_usd = usd.Normalized();
  }
  f.as_of = as_of;
  PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
  return f;
}

FundingHistoryPager::FundingHistoryPager(UnixNanos from, UnixNanos to, int limit)
    : from_(from), to_(to), limit_(std::clamp(limit, 1, kMaxPageSize)) {
  page_size_ = to_ > 0 ? kMaxPageSize : limit_;
}

FundingHistoryPager::Step FundingHistoryPager::Add(std::vector<Funding> page) {
  ++pages_;
  offset_ += static_cast<int64_t>(page.size());
  const bool history_end = page.size() < static_cast<size_t>(page_size_);
  bool before_range = false;
  UnixNanos page_oldest = oldest_;
  for (Funding& f : page) {
    if (oldest_ != 0 && f.as_of >= oldest_) continue;  // shifted in from the previous page
    if (page_oldest == 0 || f.as_of < page_oldest) page_oldest = f.as_of;
    seen_.push_back(f.as_of);
    if (to_ != 0 && f.as_of > to_) continue;
    if (from_ != 0 && f.as_of < from_) {
      before_range = true;
      continue;
    }
    kept_.push_back(std::move(f));
  }
  oldest_ = page_oldest;
  if (static_cast<int>(kept_.size()) >= limit_ || before_range || history_end) return Step::kDone;
  return pages_ >= kMaxPages ? Step::kTooDeep : Step::kFetchMore;
}

absl::StatusOr<std::vector<Funding>> FundingHistoryPager::Take() {
  if (kept_.size() > static_cast<size_t>(limit_)) kept_.resize(limit_);
  std::reverse(kept_.begin(), kept_.end());
  if (!kept_.empty()) {
    // The rows were parsed with the market's current interval (whole hours: IntervalHours).
    auto current = kept_.front().interval_hours.ToScaled(0, Rounding::kExact);
    if (current.ok() && *current > 0) {
      PERPGW_RETURN_IF_ERROR(InferFundingIntervals(&kept_, std::move(seen_), *current));
    }
  }
  return std::move(kept_);
}

absl::Status InferFundingIntervals(std::vector<Funding>* rows, std::vector<UnixNanos> times,
                                   int64_t current_hours) {
  constexpr UnixNanos kHour = 3600LL * 1000000000;
  constexpr UnixNanos kSlack = 60LL * 1000000000;  // timestamps are whole seconds
  for (const Funding& f : *rows) times.push_back(f.as_of);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  // hours[i]: the interval that ended at times[i] (0: not trusted).
  std::vector<int64_t> hours(times.size(), 0);
  for (size_t i = 1; i < times.size(); ++i) {
    const UnixNanos gap = times[i] - times[i - 1];
    const int64_t h = (gap + kHour / 2) / kHour;
    const UnixNanos off = gap - h * kHour;
    if (off > kSlack || off < -kSlack) continue;
    if (h == 1 || h == 8 || h == current_hours) hours[i] = h;
  }
  // Untrusted gaps and the oldest row take the nearest newer settlement's interval.
  int64_t newer = current_hours;
  for (size_t i = times.size(); i-- > 0;) {
    if (hours[i] == 0) {
      hours[i] = newer;
    } else {
      newer = hours[i];
    }
  }
  for (Funding& f : *rows) {
    const auto it = std::lower_bound(times.begin(), times.end(), f.as_of);
    const int64_t h = hours[static_cast<size_t>(it - times.begin())];
    const Decimal want = Decimal::FromInt(h);
    if (f.interval_hours == want) continue;
    f.interval_hours = want;
    PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
  }
  return absl::OkStatus();
}

LeverageInfo BuildLeverageInfo(const AccountSettings& account, const MarketInfo* market,
                               std::string_view normalized_symbol) {
  LeverageInfo li;
  li.venue = S(kVenueName);
  li.symbol = S(normalized_symbol);
  li.leverage = AccountLeverage(account);
  li.max_leverage = li.leverage;
  if (market) {
    li.initial_margin_ratio = market->imf_base;
    li.maint_margin_ratio = market->mmf_base;
    const OptDecimal& venue_max = market->instrument.max_leverage;
    if (venue_max && venue_max->IsPositive() &&
        (!li.max_leverage || li.max_leverage->IsZero() || *venue_max < *li.max_leverage)) {
      li.max_leverage = venue_max;
    }
  }
  return li;
}

OptDecimal AccountLeverage(const AccountSettings& account) {
  if (!account.leverage_limit.IsPositive()) return std::nullopt;  // 0: not reported
  return account.leverage_limit;
}

void ApplyAccountLeverage(const OptDecimal& leverage, std::vector<Position>* positions) {
  for (Position& p : *positions) p.leverage = leverage;
}

// ---------------------------------------------------------------------------------------------
// Encoders

absl::StatusOr<EncodedRequest> EncodeOrderExecute(const OrderRequest& req, const Instrument& inst,
                                                  uint32_t client_id,
                                                  const OrderEncodeOptions& options) {
  if (inst.venue_symbol.empty()) return Bad("order: instrument has no venue symbol");
  if (!req.size.IsPositive()) return Bad("order: size must be > 0");
  if (inst.step_size.IsPositive() && !req.size.IsMultipleOf(inst.step_size)) {
    return Bad("order: size " + req.size.ToString() + " is not a multiple of step " +
               inst.step_size.ToString());
  }
  std::vector<BodyField> f;
  f.push_back({"symbol", inst.venue_symbol, true});
  f.push_back({"side", req.side == Side::kBuy ? "Bid" : "Ask", true});
  f.push_back({"quantity", req.size.ToNormalizedString(), true});
  if (req.reduce_only) f.push_back({"reduceOnly", "true", false});
  if (client_id != 0) f.push_back({"clientId", std::to_string(client_id), false});

  auto check_tick = [&](Decimal px) -> absl::Status {
    if (!px.IsPositive()) return Bad("order: price must be > 0");
    if (inst.tick_size.IsPositive() && !px.IsMultipleOf(inst.tick_size)) {
      return Bad("order: price " + px.ToString() + " is not a multiple of tick " +
                 inst.tick_size.ToString());
    }
    return absl::OkStatus();
  };

  if (req.type == OrderType::kLimit) {
    PERPGW_RETURN_IF_ERROR(check_tick(req.price));
    f.push_back({"orderType", "Limit", true});
    f.push_back({"price", req.price.ToNormalizedString(), true});
    switch (req.tif) {
      case TimeInForce::kGtc:
        break;  // venue default
      case TimeInForce::kPostOnly:
        f.push_back({"postOnly", "true", false});
        break;
      case TimeInForce::kIoc:
        f.push_back({"timeInForce", "IOC", true});
        break;
      case TimeInForce::kFok:
        f.push_back({"timeInForce", "FOK", true});
        break;
    }
  } else if (req.type == OrderType::kMarket) {
    if (req.tif == TimeInForce::kPostOnly) return Bad("order: a market order cannot be post-only");
    if (options.market_style == OrderEncodeOptions::MarketStyle::kLimitIoc) {
      if (!req.worst_price.IsPositive()) {
        return Bad("order: market-as-limit-IOC needs a worst price");
      }
      // Round inward so the bound is never loosened: buys down, sells up.
      Decimal px = req.worst_price;
      if (inst.tick_size.IsPositive()) {
        auto r = req.worst_price.RoundToStep(
            inst.tick_size, req.side == Side::kBuy ? Rounding::kFloor : Rounding::kCeil);
        if (!r.ok()) return r.status();
        px = *r;
      }
      PERPGW_RETURN_IF_ERROR(check_tick(px));
      f.push_back({"orderType", "Limit", true});
      f.push_back({"price", px.ToNormalizedString(), true});
      f.push_back({"timeInForce", "IOC", true});
    } else {
      f.push_back({"orderType", "Market", true});
      if (req.max_slippage_bps.IsNegative()) return Bad("order: negative slippage bound");
      if (req.max_slippage_bps.IsPositive()) {
        // bps -> percent (50 bps -> "0.5"); exact decimal division by 100.
        int scale = std::min(req.max_slippage_bps.scale() + 2, Decimal::kMaxScale);
        auto pct =
            Decimal::Div(req.max_slippage_bps, Decimal::FromInt(100), scale, Rounding::kHalfEven);
        if (!pct.ok()) return pct.status();
        f.push_back({"slippageTolerance", pct->ToNormalizedString(), true});
        f.push_back({"slippageToleranceType", "Percent", true});
      }
    }
  } else {
    return Bad("order: unsupported order type");
  }
  return BuildBody(std::move(f));
}

absl::StatusOr<EncodedBatch> EncodeOrderExecuteBatch(std::vector<EncodedRequest> orders) {
  if (orders.empty() || orders.size() > kMaxBatchOrders) {
    return Bad("order batch: needs 1.." + std::to_string(kMaxBatchOrders) + " orders");
  }
  EncodedBatch b;
  b.body.push_back('[');
  for (size_t i = 0; i < orders.size(); ++i) {
    if (i) b.body.push_back(',');
    b.body.append(orders[i].body);
    b.items.push_back(std::move(orders[i].params));
  }
  b.body.push_back(']');
  return b;
}

EncodedRequest EncodeCancelOrder(std::string_view venue_symbol, std::string_view order_id) {
  return BuildBody({{"orderId", S(order_id), true}, {"symbol", S(venue_symbol), true}});
}

EncodedRequest EncodeCancelOrderByClientId(std::string_view venue_symbol, uint32_t client_id) {
  return BuildBody(
      {{"clientId", std::to_string(client_id), false}, {"symbol", S(venue_symbol), true}});
}

EncodedRequest EncodeCancelAll(std::string_view venue_symbol) {
  return BuildBody({{"symbol", S(venue_symbol), true}});
}

absl::StatusOr<EncodedRequest> EncodeSetLeverage(Decimal leverage_limit) {
  if (!leverage_limit.IsPositive()) return Bad("leverage must be > 0");
  return BuildBody({{"leverageLimit", leverage_limit.ToNormalizedString(), true}});
}

std::string EncodeQueryString(std::vector<SignParam> params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const SignParam& a, const SignParam& b) { return a.key < b.key; });
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out.push_back('&');
    common::AppendPercentEncoded(&out, params[i].key);
    out.push_back('=');
    common::AppendPercentEncoded(&out, params[i].value);
  }
  return out;
}

std::string EncodeSubscribe(const std::vector<std::string>& streams) {
  return StreamsFrame("SUBSCRIBE", streams, nullptr);
}
std::string EncodeUnsubscribe(const std::vector<std::string>& streams) {
  return StreamsFrame("UNSUBSCRIBE", streams, nullptr);
}
std::string EncodePrivateSubscribe(const std::vector<std::string>& streams,
                                   const WsSignature& signature) {
  return StreamsFrame("SUBSCRIBE", streams, &signature);
}
std::string EncodePrivateUnsubscribe(const std::vector<std::string>& streams) {
  return StreamsFrame("UNSUBSCRIBE", streams, nullptr);
}

std::string DepthStream(std::string_view s) { return "depth." + S(s); }
std::string BookTickerStream(std::string_view s) { return "bookTicker." + S(s); }
std::string TradeStream(std::string_view s) { return "trade." + S(s); }
std::string MarkPriceStream(std::string_view s) { return "markPrice." + S(s); }
std::string TickerStream(std::string_view s) { return "ticker." + S(s); }
std::string OpenInterestStream(std::string_view s) { return "openInterest." + S(s); }

}  // namespace perpgw::adapters::backpack
