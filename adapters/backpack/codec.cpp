// Backpack codec implementation: simdjson DOM for REST/private payloads, On-Demand for the
// depth-delta hot path. Units: WS E/T and REST depth timestamp are us; REST order createdAt,
// nextFundingTimestamp, openInterest timestamp are ms; history times are naive UTC strings.
#include "adapters/backpack/codec.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "adapters/backpack/errors.h"
#include "simdjson.h"

namespace perpgw::adapters::backpack {
namespace {

namespace dom = simdjson::dom;
namespace od = simdjson::ondemand;

#define BP_CONCAT_INNER(a, b) a##b
#define BP_CONCAT(a, b) BP_CONCAT_INNER(a, b)
#define BP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(*tmp)
#define BP_ASSIGN_OR_RETURN(lhs, expr) \
  BP_ASSIGN_OR_RETURN_IMPL(BP_CONCAT(bp_tmp_, __LINE__), lhs, expr)
#define BP_RETURN_IF_ERROR(expr)   \
  do {                             \
    absl::Status bp_st = (expr);   \
    if (!bp_st.ok()) return bp_st; \
  } while (0)

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("backpack: " + what);
}

std::string S(std::string_view v) { return std::string(v); }

// ----- DOM field access. Missing and JSON null are the same thing on this venue.

std::optional<dom::element> Field(dom::object o, std::string_view key) {
  dom::element e;
  if (o[key].get(e) || e.is_null()) return std::nullopt;
  return e;
}

absl::StatusOr<std::string_view> ReqStr(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  std::string_view s;
  if (!e || e->get_string().get(s)) return Bad("missing or non-string field '" + S(key) + "'");
  return s;
}

std::string OptStr(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  std::string_view s;
  if (!e || e->get_string().get(s)) return {};
  return S(s);
}

// Decimal from a JSON string (the norm) or a bare JSON number (doc samples).
absl::StatusOr<Decimal> ToDecimal(dom::element e, std::string_view key) {
  std::string_view s;
  if (!e.get_string().get(s)) {
    auto d = Decimal::Parse(s);
    if (!d.ok()) return Bad("bad decimal '" + S(s) + "' in '" + S(key) + "'");
    return *d;
  }
  int64_t i;
  if (!e.get_int64().get(i)) return Decimal::FromInt(i);
  if (e.is_number()) {
    std::string text = simdjson::to_string(e);
    auto d = Decimal::Parse(text);
    if (!d.ok()) return Bad("bad number '" + text + "' in '" + S(key) + "'");
    return *d;
  }
  return Bad("field '" + S(key) + "' is not a decimal");
}

absl::StatusOr<Decimal> ReqDecimal(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return Bad("missing field '" + S(key) + "'");
  return ToDecimal(*e, key);
}

absl::StatusOr<Decimal> OptDecimal(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return Decimal();
  return ToDecimal(*e, key);
}

// Integer from a JSON integer or a string of digits ("lastUpdateId": "1504999670").
absl::StatusOr<int64_t> ToInt64(dom::element e, std::string_view key) {
  int64_t i;
  if (!e.get_int64().get(i)) return i;
  std::string_view s;
  if (!e.get_string().get(s) && !s.empty()) {
    size_t p = 0;
    bool neg = s[0] == '-';
    if (neg) p = 1;
    if (p == s.size() || s.size() - p > 18) return Bad("bad integer in '" + S(key) + "'");
    int64_t v = 0;
    for (; p < s.size(); ++p) {
      if (s[p] < '0' || s[p] > '9') return Bad("bad integer in '" + S(key) + "'");
      v = v * 10 + (s[p] - '0');
    }
    return neg ? -v : v;
  }
  return Bad("field '" + S(key) + "' is not an integer");
}

absl::StatusOr<uint64_t> ToUint64(dom::element e, std::string_view key) {
  uint64_t u;
  if (!e.get_uint64().get(u)) return u;
  std::string_view s;
  if (!e.get_string().get(s) && !s.empty() && s.size() <= 20) {
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return Bad("bad id in '" + S(key) + "'");
      uint64_t nv = v * 10 + static_cast<uint64_t>(c - '0');
      if (nv / 10 != v) return Bad("id overflow in '" + S(key) + "'");
      v = nv;
    }
    return v;
  }
  return Bad("field '" + S(key) + "' is not an unsigned integer");
}

absl::StatusOr<int64_t> OptInt(dom::object o, std::string_view key, int64_t def = 0) {
  auto e = Field(o, key);
  if (!e) return def;
  return ToInt64(*e, key);
}

bool OptBool(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return false;
  bool b;
  if (!e->get_bool().get(b)) return b;
  std::string_view s;
  return !e->get_string().get(s) && s == "true";
}

// Id that may be a JSON string or integer, as text.
std::string OptIdText(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return {};
  std::string_view s;
  if (!e->get_string().get(s)) return S(s);
  uint64_t u;
  if (!e->get_uint64().get(u)) return std::to_string(u);
  int64_t i;
  if (!e->get_int64().get(i)) return std::to_string(i);
  return {};
}

absl::Status CheckedMul(int64_t v, int64_t factor, const char* what, UnixNanos* out) {
  if (v < 0 || v > INT64_MAX / factor) return Bad(std::string("timestamp out of range in ") + what);
  *out = v * factor;
  return absl::OkStatus();
}

absl::StatusOr<UnixNanos> OptMicros(dom::object o, std::string_view key) {
  BP_ASSIGN_OR_RETURN(int64_t us, OptInt(o, key));
  UnixNanos ns = 0;
  BP_RETURN_IF_ERROR(CheckedMul(us, 1000, "us field", &ns));
  return ns;
}

absl::StatusOr<UnixNanos> OptMillis(dom::object o, std::string_view key) {
  BP_ASSIGN_OR_RETURN(int64_t ms, OptInt(o, key));
  UnixNanos ns = 0;
  BP_RETURN_IF_ERROR(CheckedMul(ms, 1'000'000, "ms field", &ns));
  return ns;
}

// A time that may be an integer in ms or a naive UTC string (REST orders vs history).
absl::StatusOr<UnixNanos> OptMillisOrIso(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return UnixNanos{0};
  std::string_view s;
  if (!e->get_string().get(s)) {
    bool digits =
        !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return ParseNaiveUtc(s);
  }
  BP_ASSIGN_OR_RETURN(int64_t ms, ToInt64(*e, key));
  UnixNanos ns = 0;
  BP_RETURN_IF_ERROR(CheckedMul(ms, 1'000'000, "ms field", &ns));
  return ns;
}

// Engine time T, else emit time E (both us).
absl::StatusOr<UnixNanos> WsTime(dom::object o) {
  BP_ASSIGN_OR_RETURN(UnixNanos t, OptMicros(o, "T"));
  if (t != 0) return t;
  return OptMicros(o, "E");
}

absl::StatusOr<Side> ParseSide(std::string_view s) {
  if (s == "Bid" || s == "BID" || s == "bid" || s == "Buy") return Side::kBuy;
  if (s == "Ask" || s == "ASK" || s == "ask" || s == "Sell") return Side::kSell;
  return Bad("unknown side '" + S(s) + "'");
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

absl::StatusOr<OrderType> ParseOrderType(std::string_view s) {
  if (EqualsIgnoreCase(s, "Limit")) return OrderType::kLimit;
  if (EqualsIgnoreCase(s, "Market")) return OrderType::kMarket;
  return Bad("unknown order type '" + S(s) + "'");
}

TimeInForce ParseTif(std::string_view s, bool post_only) {
  if (post_only) return TimeInForce::kPostOnly;
  if (EqualsIgnoreCase(s, "IOC")) return TimeInForce::kIoc;
  if (EqualsIgnoreCase(s, "FOK")) return TimeInForce::kFok;
  return TimeInForce::kGtc;
}

// Avg fill price = quote filled / base filled (12 places, trailing zeros trimmed).
Decimal AvgPrice(Decimal quote, Decimal base) {
  if (!base.IsPositive() || quote.IsZero()) return Decimal();
  auto avg = Decimal::Div(quote, base, 12, Rounding::kHalfEven);
  return avg.ok() ? avg->Normalized() : Decimal();
}

std::string ClientText(std::optional<uint32_t> id, const ClientIdMapper* clients) {
  if (!id) return {};
  return clients ? clients->ResolveOrDecimal(*id) : std::to_string(*id);
}

// clientId as uint32 (integer, or a digit string as in fill history).
absl::StatusOr<std::optional<uint32_t>> OptClientId(dom::object o, std::string_view key) {
  auto e = Field(o, key);
  if (!e) return std::optional<uint32_t>();
  BP_ASSIGN_OR_RETURN(uint64_t v, ToUint64(*e, key));
  if (v > 0xFFFFFFFFull) return Bad("clientId out of uint32 range");
  return std::optional<uint32_t>(static_cast<uint32_t>(v));
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

absl::StatusOr<Order> OrderFromObject(dom::object o, const SymbolTable& symbols,
                                      const ClientIdMapper* clients) {
  Order ord;
  ord.venue = S(kVenueName);
  ord.order_id = OptIdText(o, "id");
  if (ord.order_id.empty()) return Bad("order without id");
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  ord.symbol = symbols.TickerFor(sym);
  BP_ASSIGN_OR_RETURN(std::string_view side, ReqStr(o, "side"));
  BP_ASSIGN_OR_RETURN(ord.side, ParseSide(side));
  BP_ASSIGN_OR_RETURN(std::string_view type, ReqStr(o, "orderType"));
  BP_ASSIGN_OR_RETURN(ord.type, ParseOrderType(type));
  BP_ASSIGN_OR_RETURN(std::string_view status, ReqStr(o, "status"));
  BP_ASSIGN_OR_RETURN(ord.status, MapOrderStatus(status));
  BP_ASSIGN_OR_RETURN(std::optional<uint32_t> cid, OptClientId(o, "clientId"));
  ord.client_order_id = ClientText(cid, clients);
  ord.tif = ParseTif(OptStr(o, "timeInForce"), OptBool(o, "postOnly"));
  BP_ASSIGN_OR_RETURN(ord.price, OptDecimal(o, "price"));
  BP_ASSIGN_OR_RETURN(ord.size, OptDecimal(o, "quantity"));
  BP_ASSIGN_OR_RETURN(ord.filled_size, OptDecimal(o, "executedQuantity"));
  BP_ASSIGN_OR_RETURN(Decimal filled_quote, OptDecimal(o, "executedQuoteQuantity"));
  ord.avg_fill_price = AvgPrice(filled_quote, ord.filled_size);
  ord.reduce_only = OptBool(o, "reduceOnly");
  BP_ASSIGN_OR_RETURN(ord.created_time, OptMillisOrIso(o, "createdAt"));
  ord.updated_time = ord.created_time;
  ApplyTerminalReason(&ord, OptStr(o, "expiryReason"));
  return ord;
}

absl::StatusOr<Position> PositionFromRest(dom::object o, const SymbolTable& symbols,
                                          UnixNanos as_of) {
  Position p;
  p.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  p.symbol = symbols.TickerFor(sym);
  BP_ASSIGN_OR_RETURN(p.size, ReqDecimal(o, "netQuantity"));
  BP_ASSIGN_OR_RETURN(p.entry_price, OptDecimal(o, "entryPrice"));
  BP_ASSIGN_OR_RETURN(p.mark_price, OptDecimal(o, "markPrice"));
  BP_ASSIGN_OR_RETURN(p.exposure_usd, OptDecimal(o, "netExposureNotional"));
  BP_ASSIGN_OR_RETURN(p.unrealized_pnl, OptDecimal(o, "pnlUnrealized"));
  BP_ASSIGN_OR_RETURN(p.realized_pnl, OptDecimal(o, "pnlRealized"));
  BP_ASSIGN_OR_RETURN(p.funding_accrued, OptDecimal(o, "cumulativeFundingPayment"));
  BP_ASSIGN_OR_RETURN(p.liquidation_price, OptDecimal(o, "estLiquidationPrice"));
  BP_ASSIGN_OR_RETURN(Decimal imf, OptDecimal(o, "imf"));
  // Initial margin in use = |exposure| * IMF (Backpack reports the fraction, not the amount).
  auto margin = Decimal::Mul(p.exposure_usd.Abs(), imf, 8, Rounding::kHalfEven);
  if (margin.ok()) p.margin = margin->Normalized();
  p.update_time = as_of;
  return p;
}

absl::StatusOr<Fill> FillFromHistory(dom::object o, const SymbolTable& symbols,
                                     const ClientIdMapper* clients) {
  Fill f;
  f.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  f.symbol = symbols.TickerFor(sym);
  f.order_id = OptIdText(o, "orderId");
  f.trade_id = OptIdText(o, "tradeId");
  BP_ASSIGN_OR_RETURN(std::optional<uint32_t> cid, OptClientId(o, "clientId"));
  f.client_order_id = ClientText(cid, clients);
  BP_ASSIGN_OR_RETURN(std::string_view side, ReqStr(o, "side"));
  BP_ASSIGN_OR_RETURN(f.side, ParseSide(side));
  BP_ASSIGN_OR_RETURN(f.price, ReqDecimal(o, "price"));
  BP_ASSIGN_OR_RETURN(f.size, ReqDecimal(o, "quantity"));
  BP_ASSIGN_OR_RETURN(f.fee, OptDecimal(o, "fee"));
  f.fee_asset = OptStr(o, "feeSymbol");
  f.maker = OptBool(o, "isMaker");
  // LiquidatePositionOnBook / OnAdl / OnBackstop: the engine closed our position.
  std::string sys = OptStr(o, "systemOrderType");
  f.liquidation = sys.rfind("LiquidatePosition", 0) == 0;
  BP_ASSIGN_OR_RETURN(f.exchange_time, OptMillisOrIso(o, "timestamp"));
  return f;
}

// ----- JSON writing for encoders (flat objects only).

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* kHex = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xF]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

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
    AppendJsonString(&r.body, fields[i].key);
    r.body.push_back(':');
    if (fields[i].quoted) {
      AppendJsonString(&r.body, fields[i].value);
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
  AppendJsonString(&out, method);
  out.append(",\"params\":[");
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(&out, streams[i]);
  }
  out.push_back(']');
  if (sig) {
    out.append(",\"signature\":[");
    AppendJsonString(&out, sig->api_key);
    out.push_back(',');
    AppendJsonString(&out, sig->signature);
    out.push_back(',');
    AppendJsonString(&out, sig->timestamp);
    out.push_back(',');
    AppendJsonString(&out, sig->window);
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

// Level list [[price, qty], ...] -> Levels at the instrument's scales.
absl::Status DomLevels(dom::object o, std::string_view key, const Instrument& inst,
                       std::vector<Level>* out) {
  auto e = Field(o, key);
  if (!e) return absl::OkStatus();
  dom::array arr;
  if (e->get_array().get(arr)) return Bad("depth '" + S(key) + "' is not an array");
  out->reserve(arr.size());
  for (dom::element lvl : arr) {
    dom::array pq;
    if (lvl.get_array().get(pq) || pq.size() < 2) return Bad("bad depth level");
    std::string_view ps, qs;
    if (pq.at(0).get_string().get(ps) || pq.at(1).get_string().get(qs)) {
      return Bad("depth level values must be strings");
    }
    Level l;
    if (!ParseScaledFast(ps, inst.price_scale, &l.price)) {
      auto v = ParseScaled(ps, inst.price_scale);
      if (!v.ok()) return Bad("depth price '" + S(ps) + "' does not fit the tick scale");
      l.price = *v;
    }
    if (!ParseScaledFast(qs, inst.size_scale, &l.size)) {
      auto v = ParseScaled(qs, inst.size_scale);
      if (!v.ok()) return Bad("depth size '" + S(qs) + "' does not fit the step scale");
      l.size = *v;
    }
    if (l.price <= 0 || l.size < 0) return Bad("non-positive depth price or negative size");
    out->push_back(l);
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Codec::Impl: parsers and a padded scratch copy (frames from the socket are not padded).

struct Codec::Impl {
  dom::parser dom_parser;
  od::parser od_parser;
  std::string scratch;

  // Copies `in` into the padded scratch buffer; returns its capacity-aware view.
  const char* Pad(std::string_view in) {
    size_t need = in.size() + simdjson::SIMDJSON_PADDING;
    if (scratch.size() < need) scratch.resize(std::max(need, scratch.size() * 2));
    if (!in.empty()) std::memcpy(scratch.data(), in.data(), in.size());
    std::memset(scratch.data() + in.size(), 0, simdjson::SIMDJSON_PADDING);
    return scratch.data();
  }

  absl::StatusOr<dom::element> Parse(std::string_view in, const char* what) {
    if (in.empty()) return Bad(std::string(what) + ": empty body");
    const char* buf = Pad(in);
    dom::element root;
    auto err = dom_parser.parse(buf, in.size(), false).get(root);
    if (err) {
      return Bad(std::string(what) + ": invalid JSON (" + simdjson::error_message(err) + ")");
    }
    return root;
  }

  // Parses a WS frame and returns its data object (envelope or bare).
  absl::StatusOr<dom::object> ParseWsData(std::string_view in, const char* what) {
    BP_ASSIGN_OR_RETURN(dom::element root, Parse(in, what));
    dom::object obj;
    if (root.get_object().get(obj)) return Bad(std::string(what) + ": frame is not an object");
    dom::object data;
    if (!obj["data"].get_object().get(data)) return data;
    return obj;
  }

  absl::StatusOr<dom::array> ParseArray(std::string_view in, const char* what) {
    BP_ASSIGN_OR_RETURN(dom::element root, Parse(in, what));
    dom::array arr;
    if (root.get_array().get(arr)) return Bad(std::string(what) + ": expected a JSON array");
    return arr;
  }

  absl::StatusOr<dom::object> ParseObject(std::string_view in, const char* what) {
    BP_ASSIGN_OR_RETURN(dom::element root, Parse(in, what));
    dom::object obj;
    if (root.get_object().get(obj)) return Bad(std::string(what) + ": expected a JSON object");
    return obj;
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

absl::StatusOr<std::vector<MarketInfo>> Codec::ParseMarketInfos(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::array arr, impl_->ParseArray(body, "markets"));
  std::vector<MarketInfo> out;
  for (dom::element el : arr) {
    dom::object m;
    if (el.get_object().get(m)) return Bad("markets: item is not an object");
    BP_ASSIGN_OR_RETURN(std::string_view symbol, ReqStr(m, "symbol"));
    std::string market_type = OptStr(m, "marketType");
    if (market_type != "PERP" || !IsUsdcPerpSymbol(symbol)) continue;
    MarketInfo info;
    info.market_type = market_type;
    Instrument& inst = info.instrument;
    inst.venue = S(kVenueName);
    inst.venue_symbol = S(symbol);
    inst.base = OptStr(m, "baseSymbol");
    inst.quote = OptStr(m, "quoteSymbol");
    if (inst.base.empty() || inst.quote.empty()) {
      BP_ASSIGN_OR_RETURN(SymbolParts parts, SplitVenueSymbol(symbol));
      if (inst.base.empty()) inst.base = parts.base;
      if (inst.quote.empty()) inst.quote = parts.quote;
    }
    TickerInfo t = NormalizeBase(inst.base);
    inst.symbol = t.ticker;
    inst.quantity_multiplier = t.multiplier;

    auto filters = Field(m, "filters");
    dom::object fo, price, qty;
    if (!filters || filters->get_object().get(fo) || fo["price"].get_object().get(price) ||
        fo["quantity"].get_object().get(qty)) {
      return Bad("markets: " + S(symbol) + " has no price/quantity filters");
    }
    BP_ASSIGN_OR_RETURN(inst.tick_size, ReqDecimal(price, "tickSize"));
    BP_ASSIGN_OR_RETURN(inst.step_size, ReqDecimal(qty, "stepSize"));
    BP_ASSIGN_OR_RETURN(inst.min_size, OptDecimal(qty, "minQuantity"));
    BP_ASSIGN_OR_RETURN(inst.max_size, OptDecimal(qty, "maxQuantity"));
    if (!inst.tick_size.IsPositive() || !inst.step_size.IsPositive()) {
      return Bad("markets: " + S(symbol) + " has a non-positive tick or step");
    }
    inst.tick_size = inst.tick_size.Normalized();
    inst.step_size = inst.step_size.Normalized();
    inst.price_scale = DecimalPlaces(inst.tick_size);
    inst.size_scale = DecimalPlaces(inst.step_size);

    info.order_book_state = OptStr(m, "orderBookState");
    bool visible = true;
    if (auto v = Field(m, "visible")) {
      bool b;
      if (!v->get_bool().get(b)) visible = b;
    }
    inst.tradeable = visible && info.order_book_state != "Closed" &&
                     info.order_book_state != "CancelOnly" && !info.order_book_state.empty();

    BP_ASSIGN_OR_RETURN(info.funding_interval_ms, OptInt(m, "fundingInterval"));
    if (info.funding_interval_ms < 0) return Bad("markets: negative fundingInterval");
    inst.funding_interval_hours = static_cast<double>(info.funding_interval_ms) / 3'600'000.0;
    BP_ASSIGN_OR_RETURN(info.funding_rate_upper_bps, OptDecimal(m, "fundingRateUpperBound"));
    BP_ASSIGN_OR_RETURN(info.funding_rate_lower_bps, OptDecimal(m, "fundingRateLowerBound"));
    BP_ASSIGN_OR_RETURN(info.open_interest_limit, OptDecimal(m, "openInterestLimit"));
    if (auto f = Field(m, "imfFunction")) {
      dom::object fo2;
      if (!f->get_object().get(fo2)) {
        BP_ASSIGN_OR_RETURN(info.imf_base, OptDecimal(fo2, "base"));
        BP_ASSIGN_OR_RETURN(info.imf_factor, OptDecimal(fo2, "factor"));
      }
    }
    if (auto f = Field(m, "mmfFunction")) {
      dom::object fo2;
      if (!f->get_object().get(fo2)) {
        BP_ASSIGN_OR_RETURN(info.mmf_base, OptDecimal(fo2, "base"));
        BP_ASSIGN_OR_RETURN(info.mmf_factor, OptDecimal(fo2, "factor"));
      }
    }
    if (info.imf_base.IsPositive()) {
      // Small-position max leverage = 1 / base IMF (0.02 -> 50x, 0.01333 -> 75x).
      auto lev = Decimal::Div(Decimal::FromInt(1), info.imf_base, 0, Rounding::kDown);
      if (lev.ok()) inst.max_leverage = *lev;
    }
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::vector<Instrument>> Codec::ParseMarkets(std::string_view body) {
  BP_ASSIGN_OR_RETURN(std::vector<MarketInfo> infos, ParseMarketInfos(body));
  std::vector<Instrument> out;
  out.reserve(infos.size());
  for (MarketInfo& i : infos) out.push_back(std::move(i.instrument));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Depth

absl::StatusOr<DepthSnapshot> Codec::ParseDepthSnapshot(std::string_view body,
                                                        const Instrument& inst) {
  BP_ASSIGN_OR_RETURN(dom::object o, impl_->ParseObject(body, "depth"));
  DepthSnapshot snap;
  auto id = Field(o, "lastUpdateId");
  if (!id) return Bad("depth: missing lastUpdateId");
  BP_ASSIGN_OR_RETURN(snap.last_update_id, ToUint64(*id, "lastUpdateId"));
  BP_ASSIGN_OR_RETURN(snap.exchange_time, OptMicros(o, "timestamp"));
  BP_RETURN_IF_ERROR(DomLevels(o, "bids", inst, &snap.bids));
  BP_RETURN_IF_ERROR(DomLevels(o, "asks", inst, &snap.asks));
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

absl::Status OdLevels(od::value v, BookSide side, const Instrument& inst, DeltaMsg* out) {
  od::array arr;
  if (v.get_array().get(arr)) return Bad("depth: side is not an array");
  for (auto lvl_r : arr) {
    od::array pq;
    if (lvl_r.get_array().get(pq)) return Bad("depth: level is not an array");
    std::string_view strs[2];
    int n = 0;
    for (auto x : pq) {
      std::string_view s;
      if (x.get_string().get(s)) return Bad("depth: level value is not a string");
      if (n < 2) strs[n] = s;
      ++n;
    }
    if (n < 2) return Bad("depth: level needs [price, size]");
    LevelChange c{side, {}};
    if (!ParseScaledFast(strs[0], inst.price_scale, &c.level.price)) {
      auto p = ParseScaled(strs[0], inst.price_scale);
      if (!p.ok()) return Bad("depth: price '" + S(strs[0]) + "' does not fit the tick scale");
      c.level.price = *p;
    }
    if (!ParseScaledFast(strs[1], inst.size_scale, &c.level.size)) {
      auto q = ParseScaled(strs[1], inst.size_scale);
      if (!q.ok()) return Bad("depth: size '" + S(strs[1]) + "' does not fit the step scale");
      c.level.size = *q;
    }
    out->changes.push_back(c);
  }
  return absl::OkStatus();
}

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
  if (frame.empty()) return Bad("depth: empty frame");
  const char* buf = impl_->Pad(frame);
  od::document doc;
  if (impl_->od_parser.iterate(buf, frame.size(), impl_->scratch.size()).get(doc)) {
    return Bad("depth: invalid JSON");
  }
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
        BP_RETURN_IF_ERROR(OdLevels(v, BookSide::kAsk, inst, out));
        break;
      case 'b':
        BP_RETURN_IF_ERROR(OdLevels(v, BookSide::kBid, inst, out));
        break;
      case 'U':
        BP_RETURN_IF_ERROR(OdUint(v, &out->first_id));
        have_first = true;
        break;
      case 'u':
        BP_RETURN_IF_ERROR(OdUint(v, &out->last_id));
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
  BP_RETURN_IF_ERROR(CheckedMul(us, 1000, "depth T", &out->exchange_time));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// WS classification and public streams

absl::StatusOr<WsFrameInfo> Codec::ClassifyWsFrame(std::string_view frame) {
  if (frame.empty()) return Bad("ws: empty frame");
  const char* buf = impl_->Pad(frame);
  od::document doc;
  if (impl_->od_parser.iterate(buf, frame.size(), impl_->scratch.size()).get(doc)) {
    return Bad("ws: invalid JSON");
  }
  od::object root;
  if (doc.get_object().get(root)) return Bad("ws: frame is not an object");
  WsFrameInfo info;
  std::string_view stream;
  auto serr = root.find_field_unordered("stream").get_string().get(stream);
  // Anything but found / absent leaves the on-demand iterator unusable (a syntax error further
  // in, found while scanning for the key): stop here. Using it again is undefined behaviour
  // (found by fuzz_backpack_codec).
  if (serr != simdjson::SUCCESS && serr != simdjson::NO_SUCH_FIELD) {
    return Bad(serr == simdjson::INCORRECT_TYPE ? "ws: stream is not a string" : "ws: invalid JSON");
  }
  if (serr == simdjson::SUCCESS) {
    info.stream = S(stream);
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
      if (tail.find('_') != std::string_view::npos) info.venue_symbol = S(tail);
    }
    return info;
  }
  // {"id":null,"error":{"code":4006,"message":"Invalid stream"}}
  od::object err;
  auto eerr = root.find_field_unordered("error").get_object().get(err);
  if (eerr == simdjson::NO_SUCH_FIELD || eerr == simdjson::INCORRECT_TYPE) return info;  // kUnknown
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
    info.error_message = S(msg);
  } else if (merr != simdjson::NO_SUCH_FIELD && merr != simdjson::INCORRECT_TYPE) {
    return Bad("ws: invalid JSON");
  }
  info.error_code = code;
  return info;
}

absl::StatusOr<Bbo> Codec::ParseBookTicker(std::string_view frame, const SymbolTable& symbols,
                                           UnixNanos receive_time) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "bookTicker"));
  Bbo b;
  b.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  b.symbol = symbols.TickerFor(sym);
  BP_ASSIGN_OR_RETURN(b.bid_price, ReqDecimal(d, "b"));
  BP_ASSIGN_OR_RETURN(b.bid_size, ReqDecimal(d, "B"));
  BP_ASSIGN_OR_RETURN(b.ask_price, ReqDecimal(d, "a"));
  BP_ASSIGN_OR_RETURN(b.ask_size, ReqDecimal(d, "A"));
  if (auto u = Field(d, "u")) {  // string in docs, integer live
    BP_ASSIGN_OR_RETURN(b.venue_seq, ToUint64(*u, "u"));
  }
  BP_ASSIGN_OR_RETURN(b.exchange_time, WsTime(d));
  b.receive_time = receive_time;
  return b;
}

absl::StatusOr<Trade> Codec::ParseTrade(std::string_view frame, const SymbolTable& symbols,
                                        UnixNanos receive_time) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "trade"));
  Trade t;
  t.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  t.symbol = symbols.TickerFor(sym);
  BP_ASSIGN_OR_RETURN(t.price, ReqDecimal(d, "p"));
  BP_ASSIGN_OR_RETURN(t.size, ReqDecimal(d, "q"));
  t.trade_id = OptIdText(d, "t");
  // m = buyer is maker, so the taker sold.
  t.taker_side = OptBool(d, "m") ? Side::kSell : Side::kBuy;
  BP_ASSIGN_OR_RETURN(t.exchange_time, WsTime(d));
  t.receive_time = receive_time;
  return t;
}

namespace {

absl::StatusOr<MarkPriceInfo> MarkFromRest(dom::object o) {
  MarkPriceInfo m;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  m.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(m.mark_price, ReqDecimal(o, "markPrice"));
  BP_ASSIGN_OR_RETURN(m.index_price, OptDecimal(o, "indexPrice"));
  if (Field(o, "fundingRate")) {
    m.has_funding = true;
    BP_ASSIGN_OR_RETURN(m.funding_rate, ReqDecimal(o, "fundingRate"));
  }
  BP_ASSIGN_OR_RETURN(m.next_funding_time, OptMillis(o, "nextFundingTimestamp"));
  return m;
}

absl::StatusOr<TickerStats> TickerFromRest(dom::object o) {
  TickerStats t;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  t.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(t.last_price, OptDecimal(o, "lastPrice"));
  BP_ASSIGN_OR_RETURN(t.volume, OptDecimal(o, "volume"));
  BP_ASSIGN_OR_RETURN(t.quote_volume, OptDecimal(o, "quoteVolume"));
  BP_ASSIGN_OR_RETURN(t.trades, OptInt(o, "trades"));  // a string on this venue
  return t;
}

absl::StatusOr<OpenInterestInfo> OiFromRest(dom::object o) {
  OpenInterestInfo oi;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
  oi.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(oi.open_interest, OptDecimal(o, "openInterest"));
  BP_ASSIGN_OR_RETURN(oi.time, OptMillis(o, "timestamp"));
  return oi;
}

}  // namespace

absl::StatusOr<std::vector<MarkPriceInfo>> Codec::ParseMarkPrices(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::element root, impl_->Parse(body, "markPrices"));
  std::vector<MarkPriceInfo> out;
  dom::array arr;
  dom::object one;
  if (!root.get_array().get(arr)) {
    for (dom::element el : arr) {
      dom::object o;
      if (el.get_object().get(o)) return Bad("markPrices: item is not an object");
      BP_ASSIGN_OR_RETURN(MarkPriceInfo m, MarkFromRest(o));
      out.push_back(std::move(m));
    }
  } else if (!root.get_object().get(one)) {
    BP_ASSIGN_OR_RETURN(MarkPriceInfo m, MarkFromRest(one));
    out.push_back(std::move(m));
  } else {
    return Bad("markPrices: expected an array");
  }
  return out;
}

absl::StatusOr<std::vector<TickerStats>> Codec::ParseTickers(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::element root, impl_->Parse(body, "ticker"));
  std::vector<TickerStats> out;
  dom::array arr;
  dom::object one;
  if (!root.get_array().get(arr)) {
    for (dom::element el : arr) {
      dom::object o;
      if (el.get_object().get(o)) return Bad("tickers: item is not an object");
      BP_ASSIGN_OR_RETURN(TickerStats t, TickerFromRest(o));
      out.push_back(std::move(t));
    }
  } else if (!root.get_object().get(one)) {
    BP_ASSIGN_OR_RETURN(TickerStats t, TickerFromRest(one));
    out.push_back(std::move(t));
  } else {
    return Bad("ticker: expected an object or array");
  }
  return out;
}

absl::StatusOr<std::vector<OpenInterestInfo>> Codec::ParseOpenInterest(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::element root, impl_->Parse(body, "openInterest"));
  std::vector<OpenInterestInfo> out;
  dom::array arr;
  dom::object one;
  if (!root.get_array().get(arr)) {
    for (dom::element el : arr) {
      dom::object o;
      if (el.get_object().get(o)) return Bad("openInterest: item is not an object");
      BP_ASSIGN_OR_RETURN(OpenInterestInfo oi, OiFromRest(o));
      out.push_back(std::move(oi));
    }
  } else if (!root.get_object().get(one)) {
    BP_ASSIGN_OR_RETURN(OpenInterestInfo oi, OiFromRest(one));
    out.push_back(std::move(oi));
  } else {
    return Bad("openInterest: expected an array");
  }
  return out;
}

absl::StatusOr<std::vector<FundingRateRecord>> Codec::ParseFundingRates(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::array arr, impl_->ParseArray(body, "fundingRates"));
  std::vector<FundingRateRecord> out;
  for (dom::element el : arr) {
    dom::object o;
    if (el.get_object().get(o)) return Bad("fundingRates: item is not an object");
    FundingRateRecord r;
    BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(o, "symbol"));
    r.venue_symbol = S(sym);
    BP_ASSIGN_OR_RETURN(r.rate, ReqDecimal(o, "fundingRate"));
    BP_ASSIGN_OR_RETURN(r.interval_end, OptMillisOrIso(o, "intervalEndTimestamp"));
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<MarkPriceInfo> Codec::ParseWsMarkPrice(std::string_view frame) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "markPrice"));
  MarkPriceInfo m;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  m.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(m.mark_price, ReqDecimal(d, "p"));
  BP_ASSIGN_OR_RETURN(m.index_price, OptDecimal(d, "i"));
  if (Field(d, "f")) {
    m.has_funding = true;
    BP_ASSIGN_OR_RETURN(m.funding_rate, ReqDecimal(d, "f"));
  }
  BP_ASSIGN_OR_RETURN(m.next_funding_time, OptMillis(d, "n"));  // ms, unlike E/T
  BP_ASSIGN_OR_RETURN(m.exchange_time, WsTime(d));
  return m;
}

absl::StatusOr<TickerStats> Codec::ParseWsTicker(std::string_view frame) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "ticker"));
  TickerStats t;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  t.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(t.last_price, OptDecimal(d, "c"));
  BP_ASSIGN_OR_RETURN(t.volume, OptDecimal(d, "v"));
  BP_ASSIGN_OR_RETURN(t.quote_volume, OptDecimal(d, "V"));
  BP_ASSIGN_OR_RETURN(t.trades, OptInt(d, "n"));
  BP_ASSIGN_OR_RETURN(t.exchange_time, WsTime(d));
  return t;
}

absl::StatusOr<OpenInterestInfo> Codec::ParseWsOpenInterest(std::string_view frame) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "openInterest"));
  OpenInterestInfo oi;
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  oi.venue_symbol = S(sym);
  BP_ASSIGN_OR_RETURN(oi.open_interest, ReqDecimal(d, "o"));
  BP_ASSIGN_OR_RETURN(oi.time, WsTime(d));
  return oi;
}

// ---------------------------------------------------------------------------------------------
// Private WS

absl::StatusOr<OrderUpdate> Codec::ParseOrderUpdate(std::string_view frame,
                                                    const SymbolTable& symbols,
                                                    const ClientIdMapper* clients,
                                                    UnixNanos receive_time) {
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "orderUpdate"));
  OrderUpdate u;
  BP_ASSIGN_OR_RETURN(std::string_view ev, ReqStr(d, "e"));
  u.event_type = S(ev);
  u.origin = OptStr(d, "O");
  u.expiry_reason = OptStr(d, "R");
  BP_ASSIGN_OR_RETURN(u.client_id, OptClientId(d, "c"));

  Order& o = u.event.order;
  o.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  o.symbol = symbols.TickerFor(sym);
  o.order_id = OptIdText(d, "i");
  if (o.order_id.empty()) return Bad("orderUpdate: missing order id");
  o.client_order_id = ClientText(u.client_id, clients);
  BP_ASSIGN_OR_RETURN(std::string_view side, ReqStr(d, "S"));
  BP_ASSIGN_OR_RETURN(o.side, ParseSide(side));
  std::string type = OptStr(d, "o");
  if (!type.empty()) {
    BP_ASSIGN_OR_RETURN(o.type, ParseOrderType(type));
  }
  o.tif = ParseTif(OptStr(d, "f"), OptBool(d, "y"));
  BP_ASSIGN_OR_RETURN(o.price, OptDecimal(d, "p"));
  BP_ASSIGN_OR_RETURN(o.size, OptDecimal(d, "q"));
  BP_ASSIGN_OR_RETURN(o.filled_size, OptDecimal(d, "z"));
  BP_ASSIGN_OR_RETURN(Decimal filled_quote, OptDecimal(d, "Z"));
  o.avg_fill_price = AvgPrice(filled_quote, o.filled_size);
  o.reduce_only = OptBool(d, "r");
  BP_ASSIGN_OR_RETURN(UnixNanos t, WsTime(d));
  o.updated_time = t;

  std::string status = OptStr(d, "X");
  if (!status.empty()) {
    BP_ASSIGN_OR_RETURN(o.status, MapOrderStatus(status));
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
    f.trade_id = OptIdText(d, "t");
    f.side = o.side;
    BP_ASSIGN_OR_RETURN(f.price, ReqDecimal(d, "L"));
    BP_ASSIGN_OR_RETURN(f.size, ReqDecimal(d, "l"));
    BP_ASSIGN_OR_RETURN(f.fee, OptDecimal(d, "n"));
    f.fee_asset = OptStr(d, "N");
    f.maker = OptBool(d, "m");
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
  BP_ASSIGN_OR_RETURN(dom::object d, impl_->ParseWsData(frame, "positionUpdate"));
  PositionUpdate u;
  u.event_type = OptStr(d, "e");
  u.snapshot = u.event_type.empty();
  u.position_id = OptIdText(d, "i");
  Position& p = u.position;
  p.venue = S(kVenueName);
  BP_ASSIGN_OR_RETURN(std::string_view sym, ReqStr(d, "s"));
  p.symbol = symbols.TickerFor(sym);
  BP_ASSIGN_OR_RETURN(p.size, ReqDecimal(d, "q"));
  BP_ASSIGN_OR_RETURN(p.entry_price, OptDecimal(d, "B"));
  BP_ASSIGN_OR_RETURN(p.mark_price, OptDecimal(d, "M"));
  BP_ASSIGN_OR_RETURN(p.exposure_usd, OptDecimal(d, "n"));
  BP_ASSIGN_OR_RETURN(p.realized_pnl, OptDecimal(d, "p"));
  BP_ASSIGN_OR_RETURN(p.unrealized_pnl, OptDecimal(d, "P"));
  BP_ASSIGN_OR_RETURN(p.liquidation_price, OptDecimal(d, "l"));
  BP_ASSIGN_OR_RETURN(Decimal imf, OptDecimal(d, "f"));
  auto margin = Decimal::Mul(p.exposure_usd.Abs(), imf, 8, Rounding::kHalfEven);
  if (margin.ok()) p.margin = margin->Normalized();
  BP_ASSIGN_OR_RETURN(p.update_time, WsTime(d));
  return u;
}

// ---------------------------------------------------------------------------------------------
// Private REST

absl::StatusOr<Order> Codec::ParseOrder(std::string_view body, const SymbolTable& symbols,
                                        const ClientIdMapper* clients) {
  BP_ASSIGN_OR_RETURN(dom::object o, impl_->ParseObject(body, "order"));
  return OrderFromObject(o, symbols, clients);
}

absl::StatusOr<std::vector<Order>> Codec::ParseOrders(std::string_view body,
                                                      const SymbolTable& symbols,
                                                      const ClientIdMapper* clients) {
  BP_ASSIGN_OR_RETURN(dom::array arr, impl_->ParseArray(body, "orders"));
  std::vector<Order> out;
  out.reserve(arr.size());
  for (dom::element el : arr) {
    dom::object o;
    if (el.get_object().get(o)) return Bad("orders: item is not an object");
    BP_ASSIGN_OR_RETURN(Order ord, OrderFromObject(o, symbols, clients));
    out.push_back(std::move(ord));
  }
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

absl::StatusOr<std::vector<Position>> Codec::ParsePositions(std::string_view body,
                                                            const SymbolTable& symbols,
                                                            UnixNanos as_of) {
  BP_ASSIGN_OR_RETURN(dom::array arr, impl_->ParseArray(body, "positions"));
  std::vector<Position> out;
  for (dom::element el : arr) {
    dom::object o;
    if (el.get_object().get(o)) return Bad("positions: item is not an object");
    BP_ASSIGN_OR_RETURN(Position p, PositionFromRest(o, symbols, as_of));
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<Balance> Codec::ParseCollateral(std::string_view body, UnixNanos as_of) {
  BP_ASSIGN_OR_RETURN(dom::object o, impl_->ParseObject(body, "collateral"));
  Balance b;
  b.venue = S(kVenueName);
  b.asset = S(kQuoteAsset);
  BP_ASSIGN_OR_RETURN(b.equity, ReqDecimal(o, "netEquity"));
  BP_ASSIGN_OR_RETURN(b.available, ReqDecimal(o, "netEquityAvailable"));
  BP_ASSIGN_OR_RETURN(b.margin_used, OptDecimal(o, "netEquityLocked"));
  BP_ASSIGN_OR_RETURN(b.unrealized_pnl, OptDecimal(o, "pnlUnrealized"));
  b.update_time = as_of;
  return b;
}

absl::StatusOr<Balance> Codec::ParseCapital(std::string_view body, std::string_view asset,
                                            UnixNanos as_of) {
  BP_ASSIGN_OR_RETURN(dom::object o, impl_->ParseObject(body, "capital"));
  Balance b;
  b.venue = S(kVenueName);
  b.asset = S(asset);
  b.update_time = as_of;
  auto e = Field(o, asset);
  if (!e) return b;  // no holdings of that asset
  dom::object a;
  if (e->get_object().get(a)) return Bad("capital: entry for " + S(asset) + " is not an object");
  BP_ASSIGN_OR_RETURN(b.available, ReqDecimal(a, "available"));
  BP_ASSIGN_OR_RETURN(Decimal locked, OptDecimal(a, "locked"));
  BP_ASSIGN_OR_RETURN(Decimal staked, OptDecimal(a, "staked"));
  BP_ASSIGN_OR_RETURN(Decimal sum, Decimal::Add(b.available, locked));
  BP_ASSIGN_OR_RETURN(b.equity, Decimal::Add(sum, staked));
  b.margin_used = locked;
  return b;
}

absl::StatusOr<AccountSettings> Codec::ParseAccount(std::string_view body) {
  BP_ASSIGN_OR_RETURN(dom::object o, impl_->ParseObject(body, "account"));
  AccountSettings a;
  BP_ASSIGN_OR_RETURN(a.leverage_limit, OptDecimal(o, "leverageLimit"));
  BP_ASSIGN_OR_RETURN(a.futures_maker_fee_bps, OptDecimal(o, "futuresMakerFee"));
  BP_ASSIGN_OR_RETURN(a.futures_taker_fee_bps, OptDecimal(o, "futuresTakerFee"));
  BP_ASSIGN_OR_RETURN(a.spot_maker_fee_bps, OptDecimal(o, "spotMakerFee"));
  BP_ASSIGN_OR_RETURN(a.spot_taker_fee_bps, OptDecimal(o, "spotTakerFee"));
  BP_ASSIGN_OR_RETURN(a.position_limit, OptDecimal(o, "positionLimit"));
  BP_ASSIGN_OR_RETURN(a.borrow_limit, OptDecimal(o, "borrowLimit"));
  a.liquidating = OptBool(o, "liquidating");
  BP_ASSIGN_OR_RETURN(a.limit_orders, OptInt(o, "limitOrders"));
  BP_ASSIGN_OR_RETURN(a.trigger_orders, OptInt(o, "triggerOrders"));
  return a;
}

absl::StatusOr<std::vector<Fill>> Codec::ParseFills(std::string_view body,
                                                    const SymbolTable& symbols,
                                                    const ClientIdMapper* clients) {
  BP_ASSIGN_OR_RETURN(dom::array arr, impl_->ParseArray(body, "fills"));
  std::vector<Fill> out;
  out.reserve(arr.size());
  for (dom::element el : arr) {
    dom::object o;
    if (el.get_object().get(o)) return Bad("fills: item is not an object");
    BP_ASSIGN_OR_RETURN(Fill f, FillFromHistory(o, symbols, clients));
    out.push_back(std::move(f));
  }
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
  if (EqualsIgnoreCase(s, "New")) return OrderStatus::kOpen;
  if (EqualsIgnoreCase(s, "PartiallyFilled")) return OrderStatus::kPartiallyFilled;
  if (EqualsIgnoreCase(s, "Filled")) return OrderStatus::kFilled;
  if (EqualsIgnoreCase(s, "Cancelled") || EqualsIgnoreCase(s, "Canceled")) {
    return OrderStatus::kCanceled;
  }
  if (EqualsIgnoreCase(s, "Expired")) return OrderStatus::kExpired;
  // Conditional orders waiting for their trigger are live from the client's point of view.
  if (EqualsIgnoreCase(s, "TriggerPending")) return OrderStatus::kOpen;
  if (EqualsIgnoreCase(s, "TriggerFailed")) return OrderStatus::kRejected;
  return Bad("unknown order status '" + S(s) + "'");
}

absl::StatusOr<Funding> BuildFunding(const MarkPriceInfo& mark, int64_t funding_interval_ms,
                                     const TickerStats* ticker, const OpenInterestInfo* oi,
                                     std::string_view normalized_symbol, UnixNanos as_of) {
  if (!mark.has_funding) {
    return absl::FailedPreconditionError("backpack: " + mark.venue_symbol + " has no funding rate");
  }
  if (funding_interval_ms <= 0) {
    return absl::FailedPreconditionError("backpack: funding interval unknown for " +
                                         mark.venue_symbol);
  }
  if ((ticker && ticker->venue_symbol != mark.venue_symbol) ||
      (oi && oi->venue_symbol != mark.venue_symbol)) {
    return absl::InvalidArgumentError("backpack: funding inputs are for different symbols");
  }
  Funding f;
  f.venue = S(kVenueName);
  f.symbol = S(normalized_symbol);
  f.rate = mark.funding_rate;
  BP_ASSIGN_OR_RETURN(Decimal hours,
                      Decimal::Div(Decimal::FromInt(funding_interval_ms),
                                   Decimal::FromInt(3'600'000), 12, Rounding::kHalfEven));
  f.interval_hours = hours.Normalized();
  f.next_funding_time = mark.next_funding_time;
  f.mark_price = mark.mark_price;
  f.index_price = mark.index_price;
  if (ticker) f.volume_24h_usd = ticker->quote_volume;
  if (oi) {
    BP_ASSIGN_OR_RETURN(Decimal usd,
                        Decimal::Mul(oi->open_interest, mark.mark_price, 6, Rounding::kHalfEven));
    f.open_interest_usd = usd.Normalized();
  }
  f.as_of = as_of;
  BP_RETURN_IF_ERROR(NormalizeFunding(&f));
  return f;
}

LeverageInfo BuildLeverageInfo(const AccountSettings& account, const MarketInfo* market,
                               std::string_view normalized_symbol) {
  LeverageInfo li;
  li.venue = S(kVenueName);
  li.symbol = S(normalized_symbol);
  li.leverage = account.leverage_limit;
  li.max_leverage = account.leverage_limit;
  if (market) {
    li.initial_margin_ratio = market->imf_base;
    li.maint_margin_ratio = market->mmf_base;
    Decimal venue_max = market->instrument.max_leverage;
    if (venue_max.IsPositive() && (li.max_leverage.IsZero() || venue_max < li.max_leverage)) {
      li.max_leverage = venue_max;
    }
  }
  return li;
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
    BP_RETURN_IF_ERROR(check_tick(req.price));
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
      BP_RETURN_IF_ERROR(check_tick(px));
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
  auto enc = [](std::string* out, std::string_view s) {
    static const char* kHex = "0123456789ABCDEF";
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      bool keep = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                  u == '-' || u == '_' || u == '.' || u == '~';
      if (keep) {
        out->push_back(c);
      } else {
        out->push_back('%');
        out->push_back(kHex[u >> 4]);
        out->push_back(kHex[u & 0xF]);
      }
    }
  };
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out.push_back('&');
    enc(&out, params[i].key);
    out.push_back('=');
    enc(&out, params[i].value);
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
