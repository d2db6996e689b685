// Lighter codec implementation on the wire toolkit (simdjson On-Demand, one pass per object).
// Units: WS `timestamp` and order/trade timestamps are ms; amounts are decimal strings in human
// units (some stats JSON numbers, funding rates possibly with exponents: exact either way).
#include "adapters/lighter/codec.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <utility>

#include "adapters/lighter/codec_funding.h"
#include "adapters/wire/cat.h"
#include "adapters/wire/json_reader.h"
#include "adapters/wire/json_writer.h"

namespace perpgw::adapters::lighter {
namespace {

namespace od = simdjson::ondemand;
using wire::Fields;

constexpr wire::Where W(std::string_view what) {
  return {"lighter", what};
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(wire::Cat("lighter: ", what));
}

std::string S(std::string_view v) {
  return std::string(v);
}
// Names echoed in errors are bounded (a hostile frame can carry a megabyte of "symbol").
std::string Short(std::string_view v) {
  return std::string(v.substr(0, 64));
}

absl::Status GetOptional(const Fields& f, std::string_view key, std::optional<Decimal>* out) {
  out->reset();
  if (!f[key].has_text()) return absl::OkStatus();
  Decimal d;
  PERPGW_RETURN_IF_ERROR(f.Get(key, &d));
  *out = d;
  return absl::OkStatus();
}

// A flag sent as true/false or 0/1.
absl::Status GetFlag(const Fields& f, std::string_view key, bool* out) {
  *out = false;
  const wire::Scalar& s = f[key];
  if (!s.has_text()) return absl::OkStatus();
  if (s.text == "1" || s.text == "true") {
    *out = true;
  } else if (s.text != "0" && s.text != "false") {
    return Bad(wire::Cat(key, " is not a flag (true/false/0/1)"));
  }
  return absl::OkStatus();
}

// A level value at `scale`: plain decimal fast path, exact slow path for other forms.
absl::Status Scaled(std::string_view text, int scale, std::string_view what, int64_t* out) {
  if (ParseScaledAny(text, scale, out)) return absl::OkStatus();
  return Bad(wire::Cat(what, " '", Short(text), "' is not a value at ", std::to_string(scale),
                       " decimals"));
}

// The id after the last ':' (or '/') of a channel name; -1 for "all" or none.
int64_t TrailingId(std::string_view channel) {
  size_t p = channel.find_last_of(":/");
  if (p == std::string_view::npos) return -1;
  int64_t id = -1;
  return wire::ParseInt64(channel.substr(p + 1), &id) ? id : -1;
}

// The channel name before its first ':' or '/'.
std::string_view ChannelHead(std::string_view channel) {
  size_t p = channel.find_first_of(":/");
  return p == std::string_view::npos ? channel : channel.substr(0, p);
}

// Runs fn(od::value&) on each element of an array, or of each array in an object keyed by
// market index ({"0":[...],"1":[...]}), or on each value of an object of objects
// ({"0":{...}}). `key` receives the market key ("" for plain arrays).
template <typename Fn>
absl::Status ForEachRow(od::value& v, wire::Where where, Fn&& fn) {
  od::json_type t;
  PERPGW_JSON_TRY(v.type().get(t), where);
  if (t == od::json_type::null) return absl::OkStatus();
  if (t == od::json_type::array) {
    return wire::ForEachInArray(v, where, [&](od::value& e) { return fn(std::string_view(), e); });
  }
  if (t != od::json_type::object) return wire::Invalid(where, "expected an array or an object");
  od::object obj;
  PERPGW_JSON_TRY(v.get_object().get(obj), where);
  for (auto fr : obj) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), where);
    std::string_view key;
    PERPGW_JSON_TRY(f.unescaped_key().get(key), where);
    od::value inner = f.value();
    od::json_type it;
    PERPGW_JSON_TRY(inner.type().get(it), where);
    if (it == od::json_type::array) {
      PERPGW_RETURN_IF_ERROR(
          wire::ForEachInArray(inner, where, [&](od::value& e) { return fn(key, e); }));
    } else if (it == od::json_type::object) {
      PERPGW_RETURN_IF_ERROR(fn(key, inner));
    } else if (it != od::json_type::null) {
      return wire::Invalid(where, "rows keyed by market must be arrays or objects");
    }
  }
  return absl::OkStatus();
}

// {"price":"..","size":".."} levels into `out` at inst's scales.
absl::Status ReadLevelObjects(od::value& v, BookSide side, const Instrument& inst,
                              std::vector<LevelChange>* out) {
  return wire::ForEachInArray(v, W("order_book"), [&](od::value& lv) -> absl::Status {
    od::object lo;
    PERPGW_JSON_TRY(lv.get_object().get(lo), W("order_book"));
    // The hot path of every book frame: the two keys read by hand (no Fields tables per level),
    // keys compared as written and values read in place (no unescape copies; an escaped key or
    // value takes the unescaping path). Other keys are skipped; a repeated key's last value
    // wins, as Fields does.
    const char* price = nullptr;
    const char* size = nullptr;
    for (auto fr : lo) {
      od::field f;
      PERPGW_JSON_TRY(std::move(fr).get(f), W("order_book"));
      const od::raw_json_string raw_key = f.key();
      bool is_price = raw_key == "price";
      bool is_size = !is_price && raw_key == "size";
      if (!is_price && !is_size && wire::RawHasEscape(raw_key.raw())) {
        std::string_view key;
        PERPGW_JSON_TRY(f.unescaped_key().get(key), W("order_book"));
        is_price = key == "price";
        is_size = key == "size";
      }
      if (!is_price && !is_size) continue;
      od::raw_json_string text;
      if (f.value().get_raw_json_string().get(text) != simdjson::SUCCESS) {
        return Bad(wire::Cat("order_book level: `", is_price ? "price" : "size",
                             "` must be a decimal string"));
      }
      (is_price ? price : size) = text.raw();
    }
    if (price == nullptr || size == nullptr) return Bad("order_book level without price or size");
    LevelChange c{side, {}};
    PERPGW_RETURN_IF_ERROR(
        wire::ReadLevelValue(price, inst.price_scale, &c.level.price, true, W("order_book")));
    PERPGW_RETURN_IF_ERROR(
        wire::ReadLevelValue(size, inst.size_scale, &c.level.size, false, W("order_book")));
    if (c.level.price <= 0 || c.level.size < 0) {
      return Bad("order_book: level with a non-positive price or a negative size");
    }
    out->push_back(c);
    return absl::OkStatus();
  });
}

absl::StatusOr<Side> SideOf(std::string_view side, bool is_ask, bool has_is_ask) {
  if (has_is_ask) return is_ask ? Side::kSell : Side::kBuy;
  if (wire::EqualsIgnoreCase(side, "buy") || wire::EqualsIgnoreCase(side, "bid")) return Side::kBuy;
  if (wire::EqualsIgnoreCase(side, "sell") || wire::EqualsIgnoreCase(side, "ask")) {
    return Side::kSell;
  }
  return Bad("order without is_ask or a known side");
}

perpgw::OrderType MapOrderType(std::string_view t) {
  // limit | market | stop-loss | stop-loss-limit | take-profit | take-profit-limit | twap |
  // liquidation: reported as the type they execute as.
  if (t == "market" || t == "stop-loss" || t == "take-profit" || t == "liquidation") {
    return perpgw::OrderType::kMarket;
  }
  return perpgw::OrderType::kLimit;
}

perpgw::TimeInForce MapTif(std::string_view t) {
  if (t == "immediate-or-cancel") return perpgw::TimeInForce::kIoc;
  if (t == "post-only") return perpgw::TimeInForce::kPostOnly;
  return perpgw::TimeInForce::kGtc;  // good-till-time
}

// One order object (fields of lighter.md §8).
absl::Status ReadOrder(od::object& o, const SymbolTable& symbols, Order* out) {
  Fields f{"order_index",
           "client_order_index",
           "order_id",
           "client_order_id",
           "market_index",
           "owner_account_index",
           "initial_base_amount",
           "remaining_base_amount",
           "filled_base_amount",
           "filled_quote_amount",
           "price",
           "is_ask",
           "side",
           "type",
           "time_in_force",
           "reduce_only",
           "status",
           "timestamp",
           "updated_at",
           "created_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("order")));
  Order& r = *out;
  r = Order();
  r.venue = S(kVenueName);
  std::string order_index, client_index;
  PERPGW_RETURN_IF_ERROR(f.GetOptId("order_index", &order_index));
  if (order_index.empty()) PERPGW_RETURN_IF_ERROR(f.GetOptId("order_id", &order_index));
  if (order_index.empty()) return Bad("order without order_index");
  r.order_id = order_index;
  PERPGW_RETURN_IF_ERROR(f.GetOptId("client_order_index", &client_index));
  if (client_index.empty()) PERPGW_RETURN_IF_ERROR(f.GetOptId("client_order_id", &client_index));
  if (client_index != "0") r.client_order_id = client_index;  // 0 = none
  int64_t market = -1;
  PERPGW_RETURN_IF_ERROR(f.Get("market_index", &market));
  const Instrument* in = symbols.ByMarketIndex(market);
  if (in == nullptr)
    return absl::NotFoundError(
        wire::Cat("lighter: order for unknown market ", std::to_string(market)));
  r.symbol = in->symbol;
  PERPGW_RETURN_IF_ERROR(f.Get("initial_base_amount", &r.size));
  Decimal remaining;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("remaining_base_amount", &remaining));
  if (f["filled_base_amount"].has_text()) {
    PERPGW_RETURN_IF_ERROR(f.Get("filled_base_amount", &r.filled_size));
  } else if (f["remaining_base_amount"].has_text()) {
    PERPGW_ASSIGN_OR_RETURN(r.filled_size, Decimal::Sub(r.size, remaining));
  }
  if (r.size.IsNegative() || r.filled_size.IsNegative() || r.filled_size > r.size) {
    return Bad("order with a negative size or more filled than its size");
  }
  Decimal filled_quote;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("filled_quote_amount", &filled_quote));
  if (r.filled_size.IsPositive() && filled_quote.IsPositive()) {
    PERPGW_ASSIGN_OR_RETURN(Decimal avg, Decimal::Div(filled_quote, r.filled_size,
                                                      in->price_scale + 4, Rounding::kHalfEven));
    r.avg_fill_price = avg.Normalized();
  }
  PERPGW_RETURN_IF_ERROR(f.GetOpt("price", &r.price));
  bool is_ask = false;
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "is_ask", &is_ask));
  std::string_view side;
  if (f["side"].has_text()) PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
  PERPGW_ASSIGN_OR_RETURN(r.side, SideOf(side, is_ask, f["is_ask"].has_text()));
  std::string_view type, tif, status;
  if (f["type"].has_text()) PERPGW_RETURN_IF_ERROR(f.Get("type", &type));
  if (f["time_in_force"].has_text()) PERPGW_RETURN_IF_ERROR(f.Get("time_in_force", &tif));
  r.type = MapOrderType(type);
  r.tif = MapTif(tif);
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "reduce_only", &r.reduce_only));
  PERPGW_RETURN_IF_ERROR(f.Get("status", &status));
  r.status = MapOrderStatus(status, r.size, r.filled_size, &r.reason);
  if (r.reason != CancelReason::kNone) r.reason_text = Short(status);
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("timestamp", wire::kNanosPerMilli, &r.updated_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("updated_at", wire::kNanosPerMilli, &r.updated_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("created_at", wire::kNanosPerMilli, &r.created_time));
  if (r.created_time == 0) r.created_time = r.updated_time;
  return absl::OkStatus();
}

// One position object.
absl::Status ReadPosition(od::object& o, const SymbolTable& symbols, Position* out,
                          int64_t* margin_mode = nullptr) {
  Fields f{"market_id",
           "symbol",
           "sign",
           "position",
           "avg_entry_price",
           "position_value",
           "unrealized_pnl",
           "realized_pnl",
           "liquidation_price",
           "allocated_margin",
           "margin_mode",
           "initial_margin_fraction",
           "total_funding_paid_out"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("position")));
  Position& p = *out;
  p = Position();
  p.venue = S(kVenueName);
  int64_t market = -1;
  PERPGW_RETURN_IF_ERROR(f.Get("market_id", &market));
  const Instrument* in = symbols.ByMarketIndex(market);
  if (in == nullptr) {
    return absl::NotFoundError(
        wire::Cat("lighter: position for unknown market ", std::to_string(market)));
  }
  p.symbol = in->symbol;
  int64_t sign = 0;
  PERPGW_RETURN_IF_ERROR(f.Get("sign", &sign));
  Decimal size;
  PERPGW_RETURN_IF_ERROR(f.Get("position", &size));
  if (size.IsNegative()) return Bad("position: `position` is an absolute size, got a negative");
  if (sign != 1 && sign != -1 && sign != 0) return Bad("position: sign must be 1, -1 or 0");
  p.size = sign < 0 ? size.Negated() : (sign == 0 ? Decimal() : size);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("avg_entry_price", &p.entry_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("position_value", &p.exposure_usd));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("unrealized_pnl", &p.unrealized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("realized_pnl", &p.realized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("liquidation_price", &p.liquidation_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("allocated_margin", &p.margin));
  Decimal funding_paid;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("total_funding_paid_out", &funding_paid));
  p.funding_accrued = funding_paid.Negated();
  if (margin_mode != nullptr) {
    *margin_mode = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("margin_mode", margin_mode));
  }
  Decimal imf;  // percent ("20.00" = 20 % = 5x)
  PERPGW_RETURN_IF_ERROR(f.GetOpt("initial_margin_fraction", &imf));
  if (imf.IsPositive()) {
    auto lev = Decimal::Div(Decimal::FromInt(100), imf, 2, Rounding::kFloor);
    if (lev.ok()) p.leverage = lev->Normalized();
  }
  return absl::OkStatus();
}

// One trade row: price, size, ids, sides and accounts.
struct TradeRow {
  std::string trade_id, type;
  int64_t market = -1;
  Decimal price, size;
  bool is_maker_ask = false;
  std::string ask_id, bid_id;                  // order indexes
  int64_t ask_account = -1, bid_account = -1;  // account indexes
  std::string ask_client_id, bid_client_id;
  std::optional<Decimal> taker_fee, maker_fee;
  UnixNanos time = 0;
};

absl::Status ReadTradeRow(od::object& o, TradeRow* t) {
  Fields f{"trade_id",      "type",          "market_id",   "size",           "price",
           "is_maker_ask",  "ask_id",        "bid_id",      "ask_account_id", "bid_account_id",
           "ask_client_id", "bid_client_id", "taker_fee",   "maker_fee",      "timestamp",
           "usd_amount",    "tx_hash",       "block_height"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("trade")));
  *t = TradeRow();
  PERPGW_RETURN_IF_ERROR(f.GetOptId("trade_id", &t->trade_id));
  if (t->trade_id.empty()) return Bad("trade without trade_id");
  std::string type;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("type", &type));
  t->type = type;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("market_id", &t->market));
  PERPGW_RETURN_IF_ERROR(f.Get("price", &t->price));
  PERPGW_RETURN_IF_ERROR(f.Get("size", &t->size));
  if (!t->price.IsPositive() || !t->size.IsPositive()) {
    return Bad("trade with a non-positive price or size");
  }
  PERPGW_RETURN_IF_ERROR(GetFlag(f, "is_maker_ask", &t->is_maker_ask));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("ask_id", &t->ask_id));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("bid_id", &t->bid_id));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("ask_account_id", &t->ask_account));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("bid_account_id", &t->bid_account));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("ask_client_id", &t->ask_client_id));
  PERPGW_RETURN_IF_ERROR(f.GetOptId("bid_client_id", &t->bid_client_id));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "taker_fee", &t->taker_fee));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "maker_fee", &t->maker_fee));
  return f.GetOptTime("timestamp", wire::kNanosPerMilli, &t->time);
}

absl::Status ReadStats(od::object& o, MarketStats* s) {
  Fields f{"market_id",
           "symbol",
           "mark_price",
           "index_price",
           "last_trade_price",
           "open_interest",
           "daily_quote_token_volume",
           "current_funding_rate",
           "funding_rate",
           "funding_timestamp"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("market_stats")));
  *s = MarketStats();
  PERPGW_RETURN_IF_ERROR(f.Get("market_id", &s->market_index));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("symbol", &s->symbol));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "mark_price", &s->mark_price));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "index_price", &s->index_price));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "last_trade_price", &s->last_trade_price));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "open_interest", &s->open_interest));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "daily_quote_token_volume", &s->daily_quote_volume));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "current_funding_rate", &s->current_funding_rate));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "funding_rate", &s->funding_rate));
  // funding_timestamp: ms (a seconds value would be before 2001 read as ms: taken as seconds).
  int64_t ft = 0;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("funding_timestamp", &ft));
  if (ft > 0) {
    const int64_t unit = ft < 100'000'000'000 ? wire::kNanosPerSecond : wire::kNanosPerMilli;
    if (!wire::ToNanos(ft, unit, &s->funding_time)) return Bad("funding_timestamp out of range");
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

const char* ToString(WsType t) {
  switch (t) {
    case WsType::kConnected: return "connected";
    case WsType::kSubscribed: return "subscribed";
    case WsType::kUpdate: return "update";
    case WsType::kPing: return "ping";
    case WsType::kPong: return "pong";
    case WsType::kError: return "error";
    case WsType::kSendTx: return "sendtx";
    case WsType::kUnsubscribed: return "unsubscribed";
    case WsType::kUnknown: return "unknown";
  }
  return "unknown";
}

const char* ToString(ChannelKind k) {
  switch (k) {
    case ChannelKind::kOrderBook: return "order_book";
    case ChannelKind::kTicker: return "ticker";
    case ChannelKind::kMarketStats: return "market_stats";
    case ChannelKind::kTrade: return "trade";
    case ChannelKind::kAccountAll: return "account_all";
    case ChannelKind::kAccountAllOrders: return "account_all_orders";
    case ChannelKind::kAccountAllTrades: return "account_all_trades";
    case ChannelKind::kAccountAllPositions: return "account_all_positions";
    case ChannelKind::kAccountOrders: return "account_orders";
    case ChannelKind::kAccountTx: return "account_tx";
    case ChannelKind::kUserStats: return "user_stats";
    case ChannelKind::kNotification: return "notification";
    case ChannelKind::kHeight: return "height";
    case ChannelKind::kOther: return "other";
  }
  return "other";
}

ChannelKind ClassifyChannel(std::string_view channel) {
  std::string_view h = ChannelHead(channel);
  if (h == "order_book") return ChannelKind::kOrderBook;
  if (h == "ticker") return ChannelKind::kTicker;
  if (h == "market_stats") return ChannelKind::kMarketStats;
  if (h == "trade") return ChannelKind::kTrade;
  if (h == "account_all") return ChannelKind::kAccountAll;
  if (h == "account_all_orders") return ChannelKind::kAccountAllOrders;
  if (h == "account_all_trades") return ChannelKind::kAccountAllTrades;
  if (h == "account_all_positions") return ChannelKind::kAccountAllPositions;
  if (h == "account_orders") return ChannelKind::kAccountOrders;
  if (h == "account_tx") return ChannelKind::kAccountTx;
  if (h == "user_stats") return ChannelKind::kUserStats;
  if (h == "notification") return ChannelKind::kNotification;
  if (h == "height") return ChannelKind::kHeight;
  return ChannelKind::kOther;
}

struct Codec::Impl {
  wire::JsonParser parser;

  // A document that must be one object; runs fn(od::object&) then checks nothing trails it.
  template <typename Fn>
  absl::Status Object(std::string_view in, std::string_view what, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(parser.Start(in, W(what), &doc));
    od::object obj;
    PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, W(what), &obj));
    PERPGW_RETURN_IF_ERROR(fn(obj));
    return wire::CheckEnd(doc, W(what));
  }

  // A REST answer {"code":200,...}: a code other than 200 is the venue's error.
  template <typename Nested>
  absl::Status Answer(std::string_view in, std::string_view what, Fields* f, Nested&& nested) {
    return Object(in, what, [&](od::object& o) -> absl::Status {
      PERPGW_RETURN_IF_ERROR(f->Read(o, W(what), nested));
      int64_t code = 200;
      PERPGW_RETURN_IF_ERROR(f->GetOpt("code", &code));
      if (code != 200) {
        std::string msg;
        PERPGW_RETURN_IF_ERROR(f->GetOpt("message", &msg));
        return absl::FailedPreconditionError(
            wire::Cat("lighter ", what, ": code ", std::to_string(code), ": ", Short(msg)));
      }
      return absl::OkStatus();
    });
  }

  // Rows of `key` inside a top-level object ({"orders":...}) or a bare top-level array.
  template <typename Fn>
  absl::Status Rows(std::string_view in, std::string_view what, std::string_view key,
                    std::string* next_cursor, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(parser.Start(in, W(what), &doc));
    od::json_type t;
    PERPGW_JSON_TRY(doc.type().get(t), W(what));
    if (t == od::json_type::array) {
      od::value v;
      PERPGW_JSON_TRY(doc.get_value().get(v), W(what));
      PERPGW_RETURN_IF_ERROR(ForEachRow(v, W(what), fn));
      return wire::CheckEnd(doc, W(what));
    }
    od::object obj;
    PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, W(what), &obj));
    Fields f{"code", "message", "next_cursor", "type", "channel", "timestamp"};
    bool seen = false;
    PERPGW_RETURN_IF_ERROR(
        f.Read(obj, W(what), [&](std::string_view k, od::value& v) -> absl::Status {
          if (k != key) return absl::OkStatus();
          seen = true;
          return ForEachRow(v, W(what), fn);
        }));
    int64_t code = 200;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("code", &code));
    if (code != 200) {
      std::string msg;
      PERPGW_RETURN_IF_ERROR(f.GetOpt("message", &msg));
      return absl::FailedPreconditionError(
          wire::Cat("lighter ", what, ": code ", std::to_string(code), ": ", Short(msg)));
    }
    if (!seen) return Bad(wire::Cat(what, ": no '", key, "'"));
    if (next_cursor != nullptr) {
      next_cursor->clear();
      PERPGW_RETURN_IF_ERROR(f.GetOpt("next_cursor", next_cursor));
    }
    return wire::CheckEnd(doc, W(what));
  }
};

Codec::Codec() : impl_(std::make_unique<Impl>()) {}
Codec::~Codec() = default;
Codec::Codec(Codec&&) noexcept = default;
Codec& Codec::operator=(Codec&&) noexcept = default;

// ---------------------------------------------------------------------------------------------
// Public REST

absl::StatusOr<std::vector<MarketInfo>> Codec::ParseOrderBookDetails(
    std::string_view body, std::vector<MarketStats>* stats) {
  std::vector<MarketInfo> out;
  if (stats != nullptr) stats->clear();
  Fields top{"code", "message"};
  PERPGW_RETURN_IF_ERROR(impl_->Answer(
      body, "orderBookDetails", &top, [&](std::string_view key, od::value& v) -> absl::Status {
        if (key != "order_book_details") return absl::OkStatus();  // spot rows: not traded
        return wire::ForEachInArray(v, W("orderBookDetails"), [&](od::value& rv) -> absl::Status {
          od::object o;
          PERPGW_JSON_TRY(rv.get_object().get(o), W("orderBookDetails"));
          Fields f{"symbol",
                   "market_id",
                   "market_type",
                   "status",
                   "size_decimals",
                   "price_decimals",
                   "min_base_amount",
                   "min_quote_amount",
                   "default_initial_margin_fraction",
                   "min_initial_margin_fraction",
                   "maintenance_margin_fraction",
                   "closeout_margin_fraction",
                   "taker_fee",
                   "maker_fee",
                   "mark_price",
                   "index_price",
                   "last_trade_price",
                   "open_interest",
                   "daily_quote_token_volume"};
          PERPGW_RETURN_IF_ERROR(f.Read(o, W("orderBookDetails")));
          MarketInfo m;
          Instrument& in = m.instrument;
          in.venue = S(kVenueName);
          PERPGW_RETURN_IF_ERROR(f.Get("symbol", &in.venue_symbol));
          if (in.venue_symbol.empty() || in.venue_symbol.size() > 32) {
            return Bad("orderBookDetails: empty or over-long symbol");
          }
          PERPGW_RETURN_IF_ERROR(f.Get("market_id", &m.market_index));
          if (!IsPerpMarketIndex(m.market_index)) {
            return Bad(wire::Cat("orderBookDetails: perp market index ",
                                 std::to_string(m.market_index), " outside 0..254"));
          }
          std::string market_type;
          PERPGW_RETURN_IF_ERROR(f.GetOpt("market_type", &market_type));
          if (!market_type.empty() && market_type != "perp") return absl::OkStatus();
          int64_t sd = 0, pd = 0;
          PERPGW_RETURN_IF_ERROR(f.Get("size_decimals", &sd));
          PERPGW_RETURN_IF_ERROR(f.Get("price_decimals", &pd));
          if (sd < 0 || sd > 8 || pd < 0 || pd > 8) {
            return Bad("orderBookDetails: size/price decimals outside 0..8");
          }
          m.size_decimals = static_cast<int>(sd);
          m.price_decimals = static_cast<int>(pd);
          PERPGW_RETURN_IF_ERROR(f.GetOpt("status", &m.status));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("min_base_amount", &m.min_base_amount));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("min_quote_amount", &m.min_quote_amount));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("default_initial_margin_fraction", &m.default_imf));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("min_initial_margin_fraction", &m.min_imf));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("maintenance_margin_fraction", &m.maintenance_mf));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("closeout_margin_fraction", &m.closeout_mf));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("taker_fee", &m.taker_fee));
          PERPGW_RETURN_IF_ERROR(f.GetOpt("maker_fee", &m.maker_fee));
          TickerInfo t = NormalizeBase(in.venue_symbol);
          in.symbol = t.ticker;
          in.quantity_multiplier = t.multiplier;
          in.base = in.venue_symbol;
          in.quote = S(kQuoteAsset);
          in.venue_market_id = std::to_string(m.market_index);
          in.tick_size = Decimal::FromUnits(1, m.price_decimals);
          in.step_size = Decimal::FromUnits(1, m.size_decimals);
          in.min_size = m.min_base_amount.IsPositive() ? m.min_base_amount : in.step_size;
          in.min_notional = m.min_quote_amount;
          in.price_scale = m.price_decimals;
          in.size_scale = m.size_decimals;
          in.funding_interval_hours = 1;
          in.tradeable = m.status.empty() || m.status == "active";
          if (m.min_imf > 0) in.max_leverage = LeverageOfImf(m.min_imf);
          if (stats != nullptr) {
            MarketStats s;
            s.market_index = m.market_index;
            s.symbol = in.venue_symbol;
            PERPGW_RETURN_IF_ERROR(GetOptional(f, "mark_price", &s.mark_price));
            PERPGW_RETURN_IF_ERROR(GetOptional(f, "index_price", &s.index_price));
            PERPGW_RETURN_IF_ERROR(GetOptional(f, "last_trade_price", &s.last_trade_price));
            PERPGW_RETURN_IF_ERROR(GetOptional(f, "open_interest", &s.open_interest));
            PERPGW_RETURN_IF_ERROR(
                GetOptional(f, "daily_quote_token_volume", &s.daily_quote_volume));
            stats->push_back(std::move(s));
          }
          out.push_back(std::move(m));
          return absl::OkStatus();
        });
      }));
  return out;
}

absl::StatusOr<std::vector<FundingRateRow>> Codec::ParseFundingRates(std::string_view body) {
  std::vector<FundingRateRow> out;
  PERPGW_RETURN_IF_ERROR(impl_->Rows(body, "funding-rates", "funding_rates", nullptr,
                                     [&](std::string_view, od::value& v) -> absl::Status {
                                       od::object o;
                                       PERPGW_JSON_TRY(v.get_object().get(o), W("funding-rates"));
                                       Fields f{"market_id", "exchange", "symbol", "rate"};
                                       PERPGW_RETURN_IF_ERROR(f.Read(o, W("funding-rates")));
                                       std::string exchange;
                                       PERPGW_RETURN_IF_ERROR(f.Get("exchange", &exchange));
                                       if (exchange != "lighter")
                                         return absl::OkStatus();  // reference rows of other venues
                                       FundingRateRow r;
                                       PERPGW_RETURN_IF_ERROR(f.Get("market_id", &r.market_index));
                                       PERPGW_RETURN_IF_ERROR(f.GetOpt("symbol", &r.symbol));
                                       PERPGW_RETURN_IF_ERROR(f.Get("rate", &r.rate));
                                       out.push_back(std::move(r));
                                       return absl::OkStatus();
                                     }));
  return out;
}

absl::StatusOr<BookUpdate> Codec::ParseOrderBookOrders(std::string_view body,
                                                       const Instrument& inst,
                                                       UnixNanos receive_time) {
  std::map<int64_t, int64_t> bids, asks;  // price -> summed remaining size
  Fields top{"code", "message", "total_asks", "total_bids"};
  PERPGW_RETURN_IF_ERROR(impl_->Answer(
      body, "orderBookOrders", &top, [&](std::string_view key, od::value& v) -> absl::Status {
        std::map<int64_t, int64_t>* side = key == "bids" ? &bids : key == "asks" ? &asks : nullptr;
        if (side == nullptr) return absl::OkStatus();
        return wire::ForEachInArray(v, W("orderBookOrders"), [&](od::value& ov) -> absl::Status {
          od::object o;
          PERPGW_JSON_TRY(ov.get_object().get(o), W("orderBookOrders"));
          Fields f{"price",    "remaining_base_amount", "initial_base_amount", "order_index",
                   "order_id", "owner_account_index",   "order_expiry"};
          PERPGW_RETURN_IF_ERROR(f.Read(o, W("orderBookOrders")));
          std::string_view price, size;
          PERPGW_RETURN_IF_ERROR(f.Get("price", &price));
          PERPGW_RETURN_IF_ERROR(f.Get("remaining_base_amount", &size));
          int64_t px = 0, sz = 0;
          PERPGW_RETURN_IF_ERROR(Scaled(price, inst.price_scale, "order price", &px));
          PERPGW_RETURN_IF_ERROR(Scaled(size, inst.size_scale, "order size", &sz));
          if (px <= 0 || sz < 0) return Bad("orderBookOrders: non-positive price or negative size");
          int64_t& level = (*side)[px];
          if (__builtin_add_overflow(level, sz, &level))
            return Bad("orderBookOrders: size overflow");
          return absl::OkStatus();
        });
      }));
  BookUpdate u;
  u.venue = S(kVenueName);
  u.symbol = inst.symbol;
  u.snapshot = true;
  u.receive_time = receive_time;
  u.price_scale = inst.price_scale;
  u.size_scale = inst.size_scale;
  for (auto it = bids.rbegin(); it != bids.rend(); ++it) {
    if (it->second > 0) u.bids.push_back({it->first, it->second});
  }
  for (const auto& [p, q] : asks) {
    if (q > 0) u.asks.push_back({p, q});
  }
  if (!u.bids.empty() && !u.asks.empty() && u.bids.front().price >= u.asks.front().price) {
    return Bad("orderBookOrders: crossed book");
  }
  return u;
}

absl::StatusOr<int64_t> Codec::ParseNextNonce(std::string_view body) {
  int64_t nonce = -1;
  Fields f{"code", "message", "nonce"};
  PERPGW_RETURN_IF_ERROR(impl_->Answer(
      body, "nextNonce", &f, [](std::string_view, od::value&) { return absl::OkStatus(); }));
  PERPGW_RETURN_IF_ERROR(f.Get("nonce", &nonce));
  if (nonce < 0) return Bad("nextNonce: negative nonce");
  return nonce;
}

absl::StatusOr<TxStatus> Codec::ParseTx(std::string_view body) {
  TxStatus t;
  Fields f{"code", "message", "hash", "type", "status", "account_index", "nonce",
           "block_height"};
  PERPGW_RETURN_IF_ERROR(impl_->Answer(
      body, "tx", &f, [](std::string_view, od::value&) { return absl::OkStatus(); }));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("hash", &t.hash));
  PERPGW_RETURN_IF_ERROR(f.Get("status", &t.status));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("type", &t.type));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("nonce", &t.nonce));
  if (t.status < 0 || t.status > 3) return Bad("tx: status outside 0..3");
  return t;
}

// ---------------------------------------------------------------------------------------------
// WS

absl::Status Codec::ClassifyWsFrame(std::string_view frame, WsFrameInfo* out) {
  *out = WsFrameInfo();
  return impl_->Object(frame, "ws", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "code", "message"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("ws"), [&](std::string_view key, od::value& v) -> absl::Status {
          // An error object nested as {"error":{"code","message"}}.
          if (key != "error") return absl::OkStatus();
          od::object eo;
          if (v.get_object().get(eo)) return absl::OkStatus();
          Fields e{"code", "message"};
          PERPGW_RETURN_IF_ERROR(e.Read(eo, W("ws")));
          PERPGW_RETURN_IF_ERROR(e.GetOpt("code", &out->error_code));
          PERPGW_RETURN_IF_ERROR(e.GetOpt("message", &out->error_message));
          out->type = WsType::kError;
          return absl::OkStatus();
        }));
    std::string type;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("type", &type));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("channel", &out->channel));
    if (out->channel.size() > 128) return Bad("ws: over-long channel name");
    std::string_view t = type;
    if (out->type == WsType::kError) {
      // set from the nested error object
    } else if (t == "connected") {
      out->type = WsType::kConnected;
    } else if (t == "ping") {
      out->type = WsType::kPing;
    } else if (t == "pong") {
      out->type = WsType::kPong;
    } else if (t == "error") {
      out->type = WsType::kError;
    } else if (t.rfind("subscribed/", 0) == 0) {
      out->type = WsType::kSubscribed;
    } else if (t.rfind("update/", 0) == 0) {
      out->type = WsType::kUpdate;
    } else if (t.rfind("unsubscribed", 0) == 0) {
      out->type = WsType::kUnsubscribed;
    } else if (t.rfind("jsonapi/", 0) == 0) {
      out->type = WsType::kSendTx;
    }
    if (out->type == WsType::kError && out->error_message.empty()) {
      PERPGW_RETURN_IF_ERROR(f.GetOpt("code", &out->error_code));
      PERPGW_RETURN_IF_ERROR(f.GetOpt("message", &out->error_message));
      if (out->error_message.size() > 512) out->error_message.resize(512);
    }
    if (out->type == WsType::kSendTx) PERPGW_RETURN_IF_ERROR(f.GetOpt("code", &out->error_code));
    out->channel_kind = ClassifyChannel(out->channel);
    switch (out->channel_kind) {
      case ChannelKind::kOrderBook:
      case ChannelKind::kTicker:
      case ChannelKind::kMarketStats:
      case ChannelKind::kTrade: out->market_index = TrailingId(out->channel); break;
      case ChannelKind::kAccountOrders: {
        // account_orders:{m}:{a}
        out->account_index = TrailingId(out->channel);
        std::string_view c = out->channel;
        size_t last = c.find_last_of(":/");
        if (last != std::string_view::npos) out->market_index = TrailingId(c.substr(0, last));
        break;
      }
      case ChannelKind::kOther:
      case ChannelKind::kHeight: break;
      default: out->account_index = TrailingId(out->channel); break;
    }
    return absl::OkStatus();
  });
}

absl::Status Codec::ParseWsBook(std::string_view frame, const Instrument& inst,
                                int64_t market_index, DeltaMsg* out, bool* snapshot) {
  out->changes.clear();
  out->first_id = out->last_id = out->prev_id = 0;
  out->exchange_time = 0;
  *snapshot = false;
  bool seen_book = false;
  uint64_t nonce = 0, begin = 0;
  bool has_nonce = false, has_begin = false;
  PERPGW_RETURN_IF_ERROR(impl_->Object(frame, "order_book", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "timestamp", "offset"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("order_book"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "order_book") return absl::OkStatus();
          seen_book = true;
          od::object bo;
          PERPGW_JSON_TRY(v.get_object().get(bo), W("order_book"));
          Fields b{"code", "nonce", "begin_nonce", "offset"};
          PERPGW_RETURN_IF_ERROR(
              b.Read(bo, W("order_book"), [&](std::string_view k, od::value& lv) -> absl::Status {
                if (k == "bids") return ReadLevelObjects(lv, BookSide::kBid, inst, &out->changes);
                if (k == "asks") return ReadLevelObjects(lv, BookSide::kAsk, inst, &out->changes);
                return absl::OkStatus();
              }));
          int64_t code = 0;
          PERPGW_RETURN_IF_ERROR(b.GetOpt("code", &code));
          if (code != 0) return Bad(wire::Cat("order_book: code ", std::to_string(code)));
          has_nonce = b["nonce"].has_text();
          has_begin = b["begin_nonce"].has_text();
          if (has_nonce) PERPGW_RETURN_IF_ERROR(b.Get("nonce", &nonce));
          if (has_begin) PERPGW_RETURN_IF_ERROR(b.Get("begin_nonce", &begin));
          return absl::OkStatus();
        }));
    if (!seen_book) return Bad("order_book frame without order_book");
    std::string_view type, channel;
    PERPGW_RETURN_IF_ERROR(f.Get("type", &type));
    PERPGW_RETURN_IF_ERROR(f.Get("channel", &channel));
    if (ClassifyChannel(channel) != ChannelKind::kOrderBook ||
        TrailingId(channel) != market_index) {
      return Bad(wire::Cat("order_book frame for ", Short(channel), ", decoding market ",
                           std::to_string(market_index)));
    }
    if (type == "subscribed/order_book") {
      *snapshot = true;
    } else if (type != "update/order_book") {
      return Bad(wire::Cat("order_book: unexpected type '", Short(type), "'"));
    }
    return f.GetOptTime("timestamp", wire::kNanosPerMilli, &out->exchange_time);
  }));
  if (!has_nonce) return Bad("order_book without nonce");
  out->last_id = nonce;
  if (*snapshot) {
    out->first_id = out->prev_id = has_begin ? begin : nonce;
    // A snapshot is the whole book: zero rows are nothing.
    out->changes.erase(std::remove_if(out->changes.begin(), out->changes.end(),
                                      [](const LevelChange& c) { return c.level.size == 0; }),
                       out->changes.end());
  } else {
    if (has_begin && begin > nonce) return Bad("order_book: begin_nonce after nonce");
    // Without begin_nonce the continuity cannot be shown: first = prev = nonce fails the check.
    out->first_id = out->prev_id = has_begin ? begin : nonce;
  }
  return absl::OkStatus();
}

absl::StatusOr<Bbo> Codec::ParseWsTicker(std::string_view frame, const SymbolTable& symbols,
                                         UnixNanos receive_time) {
  Bbo b;
  b.venue = S(kVenueName);
  b.receive_time = receive_time;
  bool seen = false;
  std::string sym;
  PERPGW_RETURN_IF_ERROR(impl_->Object(frame, "ticker", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "timestamp", "nonce"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("ticker"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "ticker") return absl::OkStatus();
          seen = true;
          od::object to;
          PERPGW_JSON_TRY(v.get_object().get(to), W("ticker"));
          Fields t{"s"};
          return t.Read(to, W("ticker"), [&](std::string_view k, od::value& sv) -> absl::Status {
            if (k != "a" && k != "b") return absl::OkStatus();
            od::json_type jt;
            PERPGW_JSON_TRY(sv.type().get(jt), W("ticker"));
            if (jt == od::json_type::null) return absl::OkStatus();  // empty side
            od::object so;
            PERPGW_JSON_TRY(sv.get_object().get(so), W("ticker"));
            Fields l{"price", "size"};
            PERPGW_RETURN_IF_ERROR(l.Read(so, W("ticker")));
            Decimal px, sz;
            PERPGW_RETURN_IF_ERROR(l.GetOpt("price", &px));
            PERPGW_RETURN_IF_ERROR(l.GetOpt("size", &sz));
            if (px.IsNegative() || sz.IsNegative()) return Bad("ticker: negative price or size");
            if (k == "a") {
              b.ask_price = px.Normalized();
              b.ask_size = sz.Normalized();
            } else {
              b.bid_price = px.Normalized();
              b.bid_size = sz.Normalized();
            }
            return absl::OkStatus();
          });
        }));
    if (!seen) return Bad("ticker frame without ticker");
    std::string_view channel;
    PERPGW_RETURN_IF_ERROR(f.Get("channel", &channel));
    const Instrument* in = symbols.ByMarketIndex(TrailingId(channel));
    if (in == nullptr) {
      return absl::NotFoundError(wire::Cat("lighter ticker: unknown market in ", Short(channel)));
    }
    b.symbol = in->symbol;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("nonce", &b.venue_seq));
    return f.GetOptTime("timestamp", wire::kNanosPerMilli, &b.exchange_time);
  }));
  return b;
}

absl::Status Codec::ParseWsTrades(std::string_view frame, const SymbolTable& symbols,
                                  UnixNanos receive_time, std::vector<Trade>* trades,
                                  std::vector<Liquidation>* liquidations) {
  trades->clear();
  liquidations->clear();
  std::vector<TradeRow> rows, liq_rows;
  PERPGW_RETURN_IF_ERROR(impl_->Object(frame, "trade", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "timestamp", "nonce"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("trade"), [&](std::string_view key, od::value& v) -> absl::Status {
          std::vector<TradeRow>* into = key == "trades"               ? &rows
                                        : key == "liquidation_trades" ? &liq_rows
                                                                      : nullptr;
          if (into == nullptr) return absl::OkStatus();
          return ForEachRow(v, W("trade"), [&](std::string_view, od::value& rv) -> absl::Status {
            od::object ro;
            PERPGW_JSON_TRY(rv.get_object().get(ro), W("trade"));
            TradeRow t;
            PERPGW_RETURN_IF_ERROR(ReadTradeRow(ro, &t));
            into->push_back(std::move(t));
            return absl::OkStatus();
          });
        }));
    std::string_view channel;
    PERPGW_RETURN_IF_ERROR(f.Get("channel", &channel));
    const int64_t market = TrailingId(channel);
    auto build = [&](const TradeRow& t, std::vector<Trade>* out) -> absl::Status {
      const int64_t m = t.market >= 0 ? t.market : market;
      if (m != market) return Bad("trade row for another market than its channel");
      const Instrument* in = symbols.ByMarketIndex(m);
      if (in == nullptr) {
        return absl::NotFoundError(wire::Cat("lighter trade: unknown market ", std::to_string(m)));
      }
      Trade tr;
      tr.venue = S(kVenueName);
      tr.symbol = in->symbol;
      tr.trade_id = t.trade_id;
      tr.price = t.price.Normalized();
      tr.size = t.size.Normalized();
      // The maker was the ask: the taker bought.
      tr.taker_side = t.is_maker_ask ? Side::kBuy : Side::kSell;
      tr.exchange_time = t.time;
      tr.receive_time = receive_time;
      out->push_back(std::move(tr));
      return absl::OkStatus();
    };
    for (const TradeRow& t : rows) PERPGW_RETURN_IF_ERROR(build(t, trades));
    for (const TradeRow& t : liq_rows) {
      PERPGW_RETURN_IF_ERROR(build(t, trades));
      Liquidation l;
      l.venue = S(kVenueName);
      l.symbol = trades->back().symbol;
      // The liquidated account's order takes liquidity: its side is the taker side.
      l.side = trades->back().taker_side;
      l.price = t.price.Normalized();
      l.size = t.size.Normalized();
      l.order_id = l.side == Side::kSell ? t.ask_id : t.bid_id;
      l.exchange_time = t.time;
      liquidations->push_back(std::move(l));
    }
    return absl::OkStatus();
  }));
  return absl::OkStatus();
}

absl::Status Codec::ParseWsMarketStats(std::string_view frame, std::vector<MarketStats>* out) {
  out->clear();
  bool seen = false;
  return impl_->Object(frame, "market_stats", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "timestamp"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("market_stats"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "market_stats") return absl::OkStatus();
          seen = true;
          od::object so;
          PERPGW_JSON_TRY(v.get_object().get(so), W("market_stats"));
          // One market's object, or a map "<id>" -> object (market_stats/all): a market's
          // object has market_id, a map does not. Probe, then rewind for the real pass.
          bool single = false;
          {
            od::value probe;
            single = !so.find_field_unordered("market_id").get(probe);
            bool unused = false;
            PERPGW_JSON_TRY(so.reset().get(unused), W("market_stats"));
          }
          if (single) {
            MarketStats s;
            PERPGW_RETURN_IF_ERROR(ReadStats(so, &s));
            out->push_back(std::move(s));
            return absl::OkStatus();
          }
          for (auto fr : so) {
            od::field fd;
            PERPGW_JSON_TRY(std::move(fr).get(fd), W("market_stats"));
            od::object mo;
            PERPGW_JSON_TRY(fd.value().get_object().get(mo), W("market_stats"));
            MarketStats s;
            PERPGW_RETURN_IF_ERROR(ReadStats(mo, &s));
            out->push_back(std::move(s));
          }
          return absl::OkStatus();
        }));
    if (!seen) return Bad("market_stats frame without market_stats");
    UnixNanos t = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("timestamp", wire::kNanosPerMilli, &t));
    for (MarketStats& s : *out) s.exchange_time = t;
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Private

absl::StatusOr<Order> Codec::ParseOrder(std::string_view body, const SymbolTable& symbols) {
  Order o;
  PERPGW_RETURN_IF_ERROR(
      impl_->Object(body, "order", [&](od::object& obj) { return ReadOrder(obj, symbols, &o); }));
  return o;
}

absl::StatusOr<bool> TakeFillPage(std::vector<Fill> page, std::string_view next_cursor,
                                  UnixNanos from, UnixNanos to, size_t limit,
                                  std::vector<Fill>* out) {
  UnixNanos prev = 0;
  for (Fill& f : page) {
    if (f.exchange_time != 0 && f.exchange_time < prev) {
      return absl::InternalError(
          "lighter trades: page not oldest first (sort_dir=asc ignored?): fill history would be "
          "incomplete");
    }
    if (f.exchange_time != 0) prev = f.exchange_time;
    if (from > 0 && f.exchange_time != 0 && f.exchange_time < from) continue;  // `from` is in ms
    if (to > 0 && f.exchange_time > to) return false;  // past the window: the rest is too
    if (out->size() >= limit) return false;
    out->push_back(std::move(f));
  }
  return !next_cursor.empty() && out->size() < limit;
}

absl::StatusOr<std::vector<Order>> Codec::ParseOrders(std::string_view body,
                                                      const SymbolTable& symbols,
                                                      std::string* next_cursor) {
  std::vector<Order> out;
  PERPGW_RETURN_IF_ERROR(impl_->Rows(body, "orders", "orders", next_cursor,
                                     [&](std::string_view, od::value& v) -> absl::Status {
                                       od::object o;
                                       PERPGW_JSON_TRY(v.get_object().get(o), W("orders"));
                                       Order r;
                                       PERPGW_RETURN_IF_ERROR(ReadOrder(o, symbols, &r));
                                       out.push_back(std::move(r));
                                       return absl::OkStatus();
                                     }));
  return out;
}

absl::StatusOr<std::vector<Fill>> Codec::ParseFills(std::string_view body,
                                                    const SymbolTable& symbols,
                                                    int64_t account_index,
                                                    std::string* next_cursor) {
  std::vector<Fill> out;
  PERPGW_RETURN_IF_ERROR(
      impl_->Rows(body, "trades", "trades", next_cursor,
                  [&](std::string_view key, od::value& v) -> absl::Status {
                    od::object o;
                    PERPGW_JSON_TRY(v.get_object().get(o), W("trades"));
                    TradeRow t;
                    PERPGW_RETURN_IF_ERROR(ReadTradeRow(o, &t));
                    int64_t market = t.market;
                    if (market < 0 && !key.empty() && !wire::ParseInt64(key, &market)) {
                      return Bad("trades keyed by a non-numeric market");
                    }
                    const Instrument* in = symbols.ByMarketIndex(market);
                    if (in == nullptr) {
                      return absl::NotFoundError(
                          wire::Cat("lighter fill: unknown market ", std::to_string(market)));
                    }
                    // Our side(s): a self-trade names the account on both (two fills).
                    for (int pass = 0; pass < 2; ++pass) {
                      const bool ask = pass == 0;
                      if ((ask ? t.ask_account : t.bid_account) != account_index) continue;
                      Fill fl;
                      fl.venue = S(kVenueName);
                      fl.symbol = in->symbol;
                      fl.trade_id = t.trade_id;
                      fl.side = ask ? Side::kSell : Side::kBuy;
                      fl.order_id = ask ? t.ask_id : t.bid_id;
                      fl.client_order_id = ask ? t.ask_client_id : t.bid_client_id;
                      if (fl.client_order_id == "0") fl.client_order_id.clear();
                      fl.price = t.price.Normalized();
                      fl.size = t.size.Normalized();
                      fl.maker = ask == t.is_maker_ask;
                      fl.liquidation = t.type == "liquidation" || t.type == "deleverage";
                      // Fees are not verified in the notes (standard accounts trade fee-free): the
                      // row's own fee for our role when it carries one, else 0.
                      const std::optional<Decimal>& fee = fl.maker ? t.maker_fee : t.taker_fee;
                      if (fee) fl.fee = fee->Normalized();
                      fl.fee_asset = S(kQuoteAsset);
                      fl.exchange_time = t.time;
                      out.push_back(std::move(fl));
                    }
                    return absl::OkStatus();
                  }));
  return out;
}

absl::StatusOr<AccountState> Codec::ParseAccount(std::string_view body, const SymbolTable& symbols,
                                                 int64_t account_index) {
  AccountState st;
  bool found = false;
  auto read_account = [&](od::object& a) -> absl::Status {
    Fields f{"account_index",     "index",      "collateral", "available_balance",
             "total_asset_value", "l1_address", "status"};
    AccountState s;
    PERPGW_RETURN_IF_ERROR(
        f.Read(a, W("account"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "positions") return absl::OkStatus();
          return ForEachRow(v, W("account"), [&](std::string_view, od::value& pv) -> absl::Status {
            od::object po;
            PERPGW_JSON_TRY(pv.get_object().get(po), W("account"));
            Position p;
            int64_t mode = 0;
            PERPGW_RETURN_IF_ERROR(ReadPosition(po, symbols, &p, &mode));
            s.settings[p.symbol] = {p.leverage && p.leverage->IsPositive() ? p.leverage : std::nullopt, mode};
            if (!p.size.IsZero()) s.positions.push_back(std::move(p));
            return absl::OkStatus();
          });
        }));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("account_index", &s.account_index));
    if (s.account_index < 0) PERPGW_RETURN_IF_ERROR(f.GetOpt("index", &s.account_index));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("collateral", &s.collateral));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("available_balance", &s.available_balance));
    PERPGW_RETURN_IF_ERROR(GetOptional(f, "total_asset_value", &s.total_asset_value));
    if (s.account_index == account_index || (account_index < 0 && !found)) {
      st = std::move(s);
      found = true;
    }
    return absl::OkStatus();
  };
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "account", [&](od::object& o) -> absl::Status {
    Fields top{"code", "message", "total",    "account_index", "collateral", "available_balance",
               "type", "channel", "timestamp"};
    bool has_accounts = false;
    AccountState direct;
    PERPGW_RETURN_IF_ERROR(
        top.Read(o, W("account"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key == "accounts") {
            has_accounts = true;
            return wire::ForEachInArray(v, W("account"), [&](od::value& av) -> absl::Status {
              od::object ao;
              PERPGW_JSON_TRY(av.get_object().get(ao), W("account"));
              return read_account(ao);
            });
          }
          if (key == "positions") {  // WS account_all: positions at the top level
            return ForEachRow(v, W("account"), [&](std::string_view, od::value& pv) {
              od::object po;
              PERPGW_JSON_TRY(pv.get_object().get(po), W("account"));
              Position p;
              int64_t mode = 0;
              PERPGW_RETURN_IF_ERROR(ReadPosition(po, symbols, &p, &mode));
              direct.settings[p.symbol] = {
                  p.leverage && p.leverage->IsPositive() ? p.leverage : std::nullopt, mode};
              if (!p.size.IsZero()) direct.positions.push_back(std::move(p));
              return absl::OkStatus();
            });
          }
          return absl::OkStatus();
        }));
    int64_t code = 200;
    PERPGW_RETURN_IF_ERROR(top.GetOpt("code", &code));
    if (code != 200) {
      std::string msg;
      PERPGW_RETURN_IF_ERROR(top.GetOpt("message", &msg));
      return absl::FailedPreconditionError(
          wire::Cat("lighter account: code ", std::to_string(code), ": ", Short(msg)));
    }
    if (!has_accounts) {
      PERPGW_RETURN_IF_ERROR(top.GetOpt("account_index", &direct.account_index));
      PERPGW_RETURN_IF_ERROR(top.GetOpt("collateral", &direct.collateral));
      PERPGW_RETURN_IF_ERROR(top.GetOpt("available_balance", &direct.available_balance));
      st = std::move(direct);
      found = true;
    }
    return absl::OkStatus();
  }));
  if (!found) {
    return absl::NotFoundError(
        wire::Cat("lighter account: no account ", std::to_string(account_index), " in the answer"));
  }
  for (Position& p : st.positions) p.account.clear();
  return st;
}

absl::StatusOr<std::vector<Position>> Codec::ParsePositions(std::string_view body,
                                                            const SymbolTable& symbols) {
  std::vector<Position> out;
  PERPGW_RETURN_IF_ERROR(impl_->Rows(body, "positions", "positions", nullptr,
                                     [&](std::string_view, od::value& v) -> absl::Status {
                                       od::object o;
                                       PERPGW_JSON_TRY(v.get_object().get(o), W("positions"));
                                       Position p;
                                       PERPGW_RETURN_IF_ERROR(ReadPosition(o, symbols, &p));
                                       out.push_back(std::move(p));
                                       return absl::OkStatus();
                                     }));
  return out;
}

absl::StatusOr<UserStats> Codec::ParseUserStats(std::string_view body) {
  UserStats u;
  bool seen = false;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "user_stats", [&](od::object& o) -> absl::Status {
    Fields f{"type", "channel", "timestamp"};
    return f.Read(o, W("user_stats"), [&](std::string_view key, od::value& v) -> absl::Status {
      if (key != "stats") return absl::OkStatus();
      seen = true;
      od::object so;
      PERPGW_JSON_TRY(v.get_object().get(so), W("user_stats"));
      Fields s{"collateral", "portfolio_value", "available_balance",
               "leverage",   "margin_usage",    "buying_power"};
      PERPGW_RETURN_IF_ERROR(s.Read(so, W("user_stats")));
      PERPGW_RETURN_IF_ERROR(GetOptional(s, "collateral", &u.collateral));
      PERPGW_RETURN_IF_ERROR(GetOptional(s, "portfolio_value", &u.portfolio_value));
      PERPGW_RETURN_IF_ERROR(GetOptional(s, "available_balance", &u.available_balance));
      PERPGW_RETURN_IF_ERROR(GetOptional(s, "leverage", &u.leverage));
      PERPGW_RETURN_IF_ERROR(GetOptional(s, "margin_usage", &u.margin_usage));
      return GetOptional(s, "buying_power", &u.buying_power);
    });
  }));
  if (!seen) return Bad("user_stats frame without stats");
  return u;
}

absl::StatusOr<SendTxResult> Codec::ParseSendTx(std::string_view body) {
  SendTxResult r;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "sendTx", [&](od::object& o) -> absl::Status {
    Fields f{"code", "message", "predicted_execution_time_ms", "volume_quota_remaining",
             "id",   "type"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("sendTx"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key == "data") {  // WS jsonapi/sendtx replies nest the answer
            od::object d;
            PERPGW_JSON_TRY(v.get_object().get(d), W("sendTx"));
            Fields df{"code", "message", "tx_hash", "predicted_execution_time_ms"};
            PERPGW_RETURN_IF_ERROR(df.Read(d, W("sendTx")));
            PERPGW_RETURN_IF_ERROR(df.GetOpt("code", &r.code));
            PERPGW_RETURN_IF_ERROR(df.GetOpt("message", &r.message));
            std::string h;
            PERPGW_RETURN_IF_ERROR(df.GetOpt("tx_hash", &h));
            if (!h.empty()) r.tx_hashes.push_back(h);
            return absl::OkStatus();
          }
          if (key != "tx_hash") return absl::OkStatus();
          od::json_type t;
          PERPGW_JSON_TRY(v.type().get(t), W("sendTx"));
          if (t == od::json_type::string) {
            std::string_view h;
            PERPGW_JSON_TRY(v.get_string().get(h), W("sendTx"));
            r.tx_hashes.push_back(S(h));
            return absl::OkStatus();
          }
          if (t == od::json_type::null) return absl::OkStatus();
          return wire::ForEachInArray(v, W("sendTx"), [&](od::value& e) -> absl::Status {
            std::string_view h;
            PERPGW_JSON_TRY(e.get_string().get(h), W("sendTx"));
            r.tx_hashes.push_back(S(h));
            return absl::OkStatus();
          });
        }));
    if (f["code"].has_text()) PERPGW_RETURN_IF_ERROR(f.Get("code", &r.code));
    if (r.code == 0 && !f["code"].has_text() && r.tx_hashes.empty()) {
      return Bad("sendTx answer without code or tx_hash");
    }
    if (r.message.empty()) PERPGW_RETURN_IF_ERROR(f.GetOpt("message", &r.message));
    if (r.message.size() > 512) r.message.resize(512);
    int64_t predicted = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("predicted_execution_time_ms", &predicted));
    if (predicted > 0 &&
        !wire::ToNanos(predicted, wire::kNanosPerMilli, &r.predicted_execution_time)) {
      return Bad("predicted_execution_time_ms out of range");
    }
    for (const std::string& h : r.tx_hashes) {
      if (h.size() != 2 * kTxHashSize) return Bad("sendTx: tx_hash is not 80 hex characters");
    }
    return absl::OkStatus();
  }));
  return r;
}

std::optional<ErrorBody> Codec::ParseError(std::string_view body) {
  ErrorBody e;
  bool is_error = false;
  absl::Status st = impl_->Object(body, "error", [&](od::object& o) -> absl::Status {
    Fields f{"code", "message", "type"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("error")));
    std::string type;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("type", &type));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("code", &e.code));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("message", &e.message));
    is_error = type == "error" || (f["code"].has_text() && e.code != 200);
    return absl::OkStatus();
  });
  if (!st.ok() || !is_error) return std::nullopt;
  if (e.message.size() > 512) e.message.resize(512);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Helpers

CancelReason MapCancelReason(std::string_view s) {
  if (s.rfind("canceled", 0) != 0 && s.rfind("cancelled", 0) != 0) return CancelReason::kNone;
  auto has = [&](std::string_view n) { return s.find(n) != std::string_view::npos; };
  if (has("post-only") || has("post_only")) return CancelReason::kPostOnlyViolation;
  if (has("reduce-only") || has("reduce_only")) return CancelReason::kReduceOnly;
  if (has("margin") || has("position-not-allowed")) return CancelReason::kInsufficientBalance;
  if (has("self-trade")) return CancelReason::kSelfTrade;
  if (has("expired")) return CancelReason::kExpired;
  if (has("liquidation")) return CancelReason::kLiquidation;
  if (has("slippage") || has("not-enough-liquidity") || has("invalid-balance")) {
    return CancelReason::kRejected;
  }
  if (s == "canceled" || s == "cancelled" || has("oco") || has("child")) {
    return CancelReason::kUserCanceled;
  }
  return CancelReason::kUnknown;
}

OrderStatus MapOrderStatus(std::string_view s, Decimal size, Decimal filled, CancelReason* reason) {
  *reason = CancelReason::kNone;
  const bool filled_any = filled.IsPositive();
  if (s == "open" || s == "in-progress" || s == "pending") {
    if (filled_any) return OrderStatus::kPartiallyFilled;
    return s == "open" ? OrderStatus::kOpen : OrderStatus::kPendingNew;
  }
  if (s == "filled") return OrderStatus::kFilled;
  if (s.rfind("canceled", 0) == 0 || s.rfind("cancelled", 0) == 0) {
    if (size.IsPositive() && filled == size) return OrderStatus::kFilled;
    *reason = MapCancelReason(s);
    if (!filled_any &&
        (*reason == CancelReason::kPostOnlyViolation || *reason == CancelReason::kReduceOnly ||
         *reason == CancelReason::kInsufficientBalance)) {
      return OrderStatus::kRejected;
    }
    if (*reason == CancelReason::kExpired) return OrderStatus::kExpired;
    return OrderStatus::kCanceled;
  }
  return OrderStatus::kPendingNew;  // unknown status: not terminal, the reconcile decides
}

absl::StatusOr<Funding> BuildFunding(const FundingRateRow& row, const MarketStats* stats,
                                     std::string_view ticker, bool rate_is_8h, UnixNanos as_of) {
  Funding f;
  f.venue = S(kVenueName);
  f.symbol = S(ticker);
  if (rate_is_8h) {
    // An 8-hour-equivalent rate: the hourly settlement rate is rate / 8.
    PERPGW_ASSIGN_OR_RETURN(Decimal r,
                            Decimal::Div(row.rate, Decimal::FromInt(8), 12, Rounding::kHalfEven));
    f.rate = r.Normalized();
  } else {
    f.rate = row.rate.Normalized();
  }
  f.interval_hours = Decimal::FromInt(kFundingIntervalHours);
  constexpr UnixNanos kPeriod = kFundingIntervalHours * 3600 * 1'000'000'000;
  if (as_of > 0) f.next_funding_time = (as_of / kPeriod + 1) * kPeriod;
  if (stats != nullptr) {
    if (stats->funding_time > as_of) f.next_funding_time = stats->funding_time;
    if (stats->mark_price) f.mark_price = *stats->mark_price;
    if (stats->index_price) f.index_price = *stats->index_price;
    if (stats->daily_quote_volume) f.volume_24h_usd = *stats->daily_quote_volume;
    if (stats->open_interest && stats->mark_price) {
      // One side's base units x mark (lighter.md §2: OI is one side).
      auto oi = Decimal::Mul(*stats->open_interest, *stats->mark_price, 2, Rounding::kHalfEven);
      if (oi.ok()) f.open_interest_usd = oi->Normalized();
    }
  }
  f.as_of = as_of;
  PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
  return f;
}

LeverageInfo BuildLeverageInfo(const MarketInfo& m) {
  LeverageInfo li;
  li.venue = S(kVenueName);
  li.symbol = m.instrument.symbol;
  li.max_leverage = m.instrument.max_leverage;
  li.initial_margin_ratio = Decimal::FromUnits(m.min_imf, 4).Normalized();
  li.maint_margin_ratio = Decimal::FromUnits(m.maintenance_mf, 4).Normalized();
  if (m.default_imf > 0) li.leverage = LeverageOfImf(m.default_imf);  // the default until set
  return li;
}

// ---------------------------------------------------------------------------------------------
// Encoders

Decimal LeverageOfImf(int64_t imf) {
  if (imf <= 0) return Decimal();
  auto lev = Decimal::Div(Decimal::FromInt(kMarginFractionTick), Decimal::FromInt(imf), 2,
                          Rounding::kFloor);
  return lev.ok() ? lev->Normalized() : Decimal();
}

absl::StatusOr<UpdateLeverageTx> EncodeUpdateLeverage(Decimal leverage, const MarketInfo& market,
                                                      MarginMode margin_mode) {
  const std::string sym = market.instrument.symbol;
  if (!leverage.IsPositive() || leverage < Decimal::FromInt(1)) {
    return absl::InvalidArgumentError(
        wire::Cat("lighter: leverage must be at least 1, got ", leverage.ToNormalizedString()));
  }
  auto imf = Decimal::Div(Decimal::FromInt(kMarginFractionTick), leverage, 0, Rounding::kCeil);
  if (!imf.ok()) return imf.status();
  const int64_t units = imf->mantissa();
  if (units < 1 || units > kMarginFractionTick) {
    return absl::InvalidArgumentError(
        wire::Cat("lighter: leverage ", leverage.ToNormalizedString(), " is out of range"));
  }
  if (market.min_imf > 0 && units < market.min_imf) {
    return absl::InvalidArgumentError(wire::Cat(
        "lighter: leverage ", leverage.ToNormalizedString(), " is above ", sym, "'s maximum ",
        LeverageOfImf(market.min_imf).ToNormalizedString(), " (min initial margin fraction ",
        std::to_string(market.min_imf), "/10000)"));
  }
  UpdateLeverageTx tx;
  tx.market_index = static_cast<int16_t>(market.market_index);
  tx.initial_margin_fraction = static_cast<uint16_t>(units);
  tx.margin_mode = margin_mode;
  return tx;
}

absl::StatusOr<CreateOrderTx> EncodeCreateOrder(const OrderRequest& req, const MarketInfo& market,
                                                int64_t client_order_index,
                                                int64_t order_expiry_ms) {
  const Instrument& in = market.instrument;
  if (client_order_index < 1 || client_order_index > kMaxClientOrderIndex) {
    return Bad("order: client order index outside 1..2^48-1");
  }
  if (!req.size.IsPositive()) return Bad("order: size must be > 0");
  if (!req.size.IsMultipleOf(in.step_size)) {
    return Bad(wire::Cat("order: size ", req.size.ToString(), " is not a multiple of the lot ",
                         in.step_size.ToString()));
  }
  CreateOrderTx tx;
  tx.market_index = static_cast<int16_t>(market.market_index);
  tx.client_order_index = client_order_index;
  PERPGW_ASSIGN_OR_RETURN(tx.base_amount,
                          ScaleBaseAmount(req.size.ToNormalizedString(), market.size_decimals));
  if (tx.base_amount <= 0) return Bad("order: size rounds to zero lots");
  tx.is_ask = req.side == Side::kSell;
  tx.reduce_only = req.reduce_only;
  Decimal px;
  if (req.type == perpgw::OrderType::kLimit) {
    if (!req.price.IsPositive()) return Bad("order: price must be > 0");
    if (!req.price.IsMultipleOf(in.tick_size)) {
      return Bad(wire::Cat("order: price ", req.price.ToString(), " is not a multiple of tick ",
                           in.tick_size.ToString()));
    }
    px = req.price;
    tx.type = lighter::OrderType::kLimit;
    switch (req.tif) {
      case perpgw::TimeInForce::kGtc:
        tx.time_in_force = lighter::TimeInForce::kGoodTillTime;
        tx.order_expiry = order_expiry_ms;
        break;
      case perpgw::TimeInForce::kPostOnly:
        tx.time_in_force = lighter::TimeInForce::kPostOnly;
        tx.order_expiry = order_expiry_ms;
        break;
      case perpgw::TimeInForce::kIoc:
        tx.time_in_force = lighter::TimeInForce::kImmediateOrCancel;
        tx.order_expiry = 0;
        break;
      case perpgw::TimeInForce::kFok:
        return Bad("order: Lighter has no FOK (time in force is GTT, IOC or post-only)");
    }
    if (tx.time_in_force != lighter::TimeInForce::kImmediateOrCancel && order_expiry_ms <= 0) {
      return Bad("order: a resting order needs an expiry (GTT)");
    }
  } else if (req.type == perpgw::OrderType::kMarket) {
    if (req.tif == perpgw::TimeInForce::kPostOnly)
      return Bad("order: a market order cannot be post-only");
    if (!req.worst_price.IsPositive()) {
      return Bad("order: a Lighter market order needs a worst price (slippage bound)");
    }
    // Rounded inward (buys down, sells up): the bound is never loosened.
    PERPGW_ASSIGN_OR_RETURN(px, req.worst_price.RoundToStep(
                                    in.tick_size, tx.is_ask ? Rounding::kCeil : Rounding::kFloor));
    tx.type = lighter::OrderType::kMarket;
    tx.time_in_force = lighter::TimeInForce::kImmediateOrCancel;
    tx.order_expiry = 0;
  } else {
    return Bad("order: unsupported order type");
  }
  PERPGW_ASSIGN_OR_RETURN(tx.price, ScalePrice(px.ToNormalizedString(), market.price_decimals));
  return tx;
}

absl::StatusOr<ModifyOrderTx> EncodeModifyOrder(const MarketInfo& market, int64_t index,
                                                Decimal remaining, Decimal price) {
  const Instrument& in = market.instrument;
  if (index < 1) return Bad("modify: order index must be > 0");
  if (!remaining.IsPositive()) return Bad("modify: the size left must be > 0");
  if (!remaining.IsMultipleOf(in.step_size)) {
    return Bad(wire::Cat("modify: size ", remaining.ToString(), " is not a multiple of the lot ",
                         in.step_size.ToString()));
  }
  if (!price.IsPositive()) return Bad("modify: price must be > 0");
  if (!price.IsMultipleOf(in.tick_size)) {
    return Bad(wire::Cat("modify: price ", price.ToString(), " is not a multiple of tick ",
                         in.tick_size.ToString()));
  }
  ModifyOrderTx tx;
  tx.market_index = static_cast<int16_t>(market.market_index);
  tx.index = index;
  PERPGW_ASSIGN_OR_RETURN(tx.base_amount,
                          ScaleBaseAmount(remaining.ToNormalizedString(), market.size_decimals));
  if (tx.base_amount <= 0) return Bad("modify: size rounds to zero lots");
  PERPGW_ASSIGN_OR_RETURN(tx.price, ScalePrice(price.ToNormalizedString(), market.price_decimals));
  tx.trigger_price = 0;
  return tx;
}

int64_t ClientOrderIndexFor(std::string_view id) {
  int64_t v = 0;
  if (wire::ParseInt64(id, &v) && v >= 1 && v <= kMaxClientOrderIndex &&
      (id.size() == 1 || id[0] != '0')) {
    return v;
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), md);
  uint64_t h = 0;
  for (int i = 0; i < 6; ++i) h = (h << 8) | md[i];
  h &= static_cast<uint64_t>(kMaxClientOrderIndex);
  return h == 0 ? 1 : static_cast<int64_t>(h);
}

namespace {

std::string FormEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string IdChannel(std::string_view name, int64_t id) {
  return wire::Cat(name, "/", std::to_string(id));
}

}  // namespace

std::string EncodeSendTxForm(TxType type, std::string_view tx_info,
                             std::optional<bool> price_protection) {
  std::string out = wire::Cat("tx_type=", std::to_string(static_cast<int>(type)),
                              "&tx_info=", FormEscape(tx_info));
  if (price_protection)
    out += *price_protection ? "&price_protection=true" : "&price_protection=false";
  return out;
}

std::string EncodeSendTxBatchForm(const std::vector<TxType>& types,
                                  const std::vector<std::string>& tx_infos) {
  std::string type_list = "[";
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) type_list += ',';
    type_list += std::to_string(static_cast<int>(types[i]));
  }
  type_list += ']';
  std::string info_list = "[";
  for (size_t i = 0; i < tx_infos.size(); ++i) {
    if (i) info_list += ',';
    wire::AppendJsonQuoted(&info_list, tx_infos[i]);  // a JSON array of tx_info strings
  }
  info_list += ']';
  return wire::Cat("tx_types=", FormEscape(type_list), "&tx_infos=", FormEscape(info_list));
}

std::string EncodeSubscribe(std::string_view channel, std::string_view auth_token) {
  std::string b = R"({"type":"subscribe","channel":)";
  wire::AppendJsonQuoted(&b, channel);
  if (!auth_token.empty()) {
    b += R"(,"auth":)";
    wire::AppendJsonQuoted(&b, auth_token);
  }
  b += '}';
  return b;
}

std::string EncodeUnsubscribe(std::string_view channel) {
  std::string b = R"({"type":"unsubscribe","channel":)";
  wire::AppendJsonQuoted(&b, channel);
  b += '}';
  return b;
}

std::string EncodePing() {
  return R"({"type":"ping"})";
}
std::string EncodePong() {
  return R"({"type":"pong"})";
}

std::string OrderBookChannel(int64_t m) {
  return IdChannel("order_book", m);
}
std::string TickerChannel(int64_t m) {
  return IdChannel("ticker", m);
}
std::string TradeChannel(int64_t m) {
  return IdChannel("trade", m);
}
std::string MarketStatsChannel(int64_t m) {
  return IdChannel("market_stats", m);
}
std::string AccountAllOrdersChannel(int64_t a) {
  return IdChannel("account_all_orders", a);
}
std::string AccountAllTradesChannel(int64_t a) {
  return IdChannel("account_all_trades", a);
}
std::string AccountAllPositionsChannel(int64_t a) {
  return IdChannel("account_all_positions", a);
}
std::string UserStatsChannel(int64_t a) {
  return IdChannel("user_stats", a);
}
std::string NotificationChannel(int64_t a) {
  return IdChannel("notification", a);
}

}  // namespace perpgw::adapters::lighter
