// Paradex codec implementation on the wire toolkit (simdjson On-Demand, one pass per object).
// Units: JSON times are ms (created_at, last_updated_at, server_time), SBE times µs.
#include "adapters/paradex/codec.h"

#include <algorithm>
#include <utility>

#include "adapters/common/url.h"
#include "adapters/wire/cat.h"
#include "adapters/wire/json_reader.h"
#include "adapters/wire/json_writer.h"

namespace perpgw::adapters::paradex {
namespace {

namespace od = simdjson::ondemand;
using wire::Fields;

// Every message names the venue: "paradex <what>: <detail>".
constexpr wire::Where W(std::string_view what) {
  return {"paradex", what};
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(wire::Cat("paradex: ", what));
}

std::string S(std::string_view v) {
  return std::string(v);
}
// Names echoed in errors are bounded (a hostile frame can carry a megabyte of "market").
std::string Short(std::string_view v) {
  return std::string(v.substr(0, 64));
}

// An optional text field: absent or null is "".
absl::Status GetText(const Fields& f, std::string_view key, std::string* out) {
  out->clear();
  return f.GetOpt(key, out);
}

// An optional decimal: absent, null or "" -> nullopt.
absl::Status GetOptional(const Fields& f, std::string_view key, std::optional<Decimal>* out) {
  out->reset();
  if (!f[key].has_text()) return absl::OkStatus();
  Decimal d;
  PERPGW_RETURN_IF_ERROR(f.Get(key, &d));
  *out = d;
  return absl::OkStatus();
}

// A decimal that may carry more fractional digits than Decimal holds (funding index/premium):
// checked to be a plain decimal number, kept as text.
absl::Status GetDecimalText(const Fields& f, std::string_view key, std::string* out) {
  out->clear();
  const wire::Scalar& s = f[key];
  if (!s.has_text()) return absl::OkStatus();
  std::string_view t = s.text;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < t.size(); ++i) {
    if (t[i] >= '0' && t[i] <= '9') {
      digits = true;
    } else if (t[i] == '.' && !dot) {
      dot = true;
    } else {
      return Bad(wire::Cat(key, " is not a decimal number"));
    }
  }
  if (!digits) return Bad(wire::Cat(key, " is not a decimal number"));
  *out = S(t);
  return absl::OkStatus();
}

absl::StatusOr<Side> ParseSide(std::string_view s) {
  if (s == "BUY") return Side::kBuy;
  if (s == "SELL") return Side::kSell;
  return Bad("unknown side '" + Short(s) + "'");
}

absl::StatusOr<OrderType> ParseOrderType(std::string_view s) {
  // Stop/TP-SL types execute as limit or market once triggered; the gateway places neither,
  // but an order placed elsewhere on the account is still reported (as its execution type).
  if (s == "LIMIT" || s == "STOP_LIMIT" || s == "TAKE_PROFIT_LIMIT" || s == "STOP_LOSS_LIMIT") {
    return OrderType::kLimit;
  }
  if (s == "MARKET" || s == "STOP_MARKET" || s == "TAKE_PROFIT_MARKET" || s == "STOP_LOSS_MARKET") {
    return OrderType::kMarket;
  }
  return Bad("unknown order type '" + Short(s) + "'");
}

TimeInForce ParseInstruction(std::string_view s) {
  if (s == "IOC") return TimeInForce::kIoc;
  if (s == "POST_ONLY") return TimeInForce::kPostOnly;
  return TimeInForce::kGtc;  // GTC (default) and RPI (resting, retail price improvement)
}

// Flags arrive as an array of strings (["REDUCE_ONLY"]).
absl::Status ReadFlags(od::value& v, std::string_view what, bool* reduce_only) {
  od::json_type t;
  PERPGW_JSON_TRY(v.type().get(t), W(what));
  if (t == od::json_type::null) return absl::OkStatus();
  return wire::ForEachInArray(v, W(what), [&](od::value& e) -> absl::Status {
    std::string_view s;
    PERPGW_JSON_TRY(e.get_string().get(s), W(what));
    if (s == "REDUCE_ONLY") *reduce_only = true;
    return absl::OkStatus();
  });
}

// [price, size] (best_bid_api etc.): skipped — the book's own levels are the truth.

}  // namespace

// ---------------------------------------------------------------------------------------------

const char* ToString(SystemStatus s) {
  switch (s) {
    case SystemStatus::kOk: return "ok";
    case SystemStatus::kMaintenance: return "maintenance";
    case SystemStatus::kPostOnly: return "post_only";
    case SystemStatus::kCancelOnly: return "cancel_only";
    case SystemStatus::kUnknown: return "unknown";
  }
  return "unknown";
}

SystemStatus ParseSystemStatus(std::string_view text) {
  if (wire::EqualsIgnoreCase(text, "ok")) return SystemStatus::kOk;
  if (wire::EqualsIgnoreCase(text, "maintenance")) return SystemStatus::kMaintenance;
  if (wire::EqualsIgnoreCase(text, "post_only")) return SystemStatus::kPostOnly;
  if (wire::EqualsIgnoreCase(text, "cancel_only")) return SystemStatus::kCancelOnly;
  return SystemStatus::kUnknown;
}

const char* ToString(ChannelKind k) {
  switch (k) {
    case ChannelKind::kOrderBook: return "order_book";
    case ChannelKind::kBbo: return "bbo";
    case ChannelKind::kTrades: return "trades";
    case ChannelKind::kFundingData: return "funding_data";
    case ChannelKind::kMarketsSummary: return "markets_summary";
    case ChannelKind::kOrders: return "orders";
    case ChannelKind::kFills: return "fills";
    case ChannelKind::kPositions: return "positions";
    case ChannelKind::kAccount: return "account";
    case ChannelKind::kOther: return "other";
  }
  return "other";
}

ChannelKind ClassifyChannel(std::string_view c) {
  std::string_view head = c.substr(0, c.find('.'));
  if (head == "order_book") return ChannelKind::kOrderBook;
  if (head == "bbo") return ChannelKind::kBbo;
  if (head == "trades") return ChannelKind::kTrades;
  if (head == "funding_data") return ChannelKind::kFundingData;
  if (head == "markets_summary") return ChannelKind::kMarketsSummary;
  if (head == "orders") return ChannelKind::kOrders;
  if (head == "fills") return ChannelKind::kFills;
  if (c == "positions") return ChannelKind::kPositions;
  if (c == "account") return ChannelKind::kAccount;
  return ChannelKind::kOther;
}

const char* ToString(WsKind k) {
  switch (k) {
    case WsKind::kSubscription: return "subscription";
    case WsKind::kResult: return "result";
    case WsKind::kError: return "error";
    case WsKind::kUnknown: return "unknown";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------

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

  // {"results":[{...},...], "next":..., "prev":...} (or a bare array): fn on each object.
  template <typename Fn>
  absl::Status Results(std::string_view in, std::string_view what, PageCursor* cursor, Fn&& fn) {
    od::document doc;
    PERPGW_RETURN_IF_ERROR(parser.Start(in, W(what), &doc));
    od::json_type t;
    PERPGW_JSON_TRY(doc.type().get(t), W(what));
    if (t == od::json_type::array) {
      PERPGW_RETURN_IF_ERROR(wire::ForEachObjectInArray(doc, W(what), fn));
      return wire::CheckEnd(doc, W(what));
    }
    od::object obj;
    PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, W(what), &obj));
    Fields top{"next", "prev"};
    bool have_results = false;
    PERPGW_RETURN_IF_ERROR(
        top.Read(obj, W(what), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "results") return absl::OkStatus();
          have_results = true;
          od::array arr;
          PERPGW_JSON_TRY(v.get_array().get(arr), W(what));
          for (auto el : arr) {
            od::object o;
            PERPGW_JSON_TRY(el.get_object().get(o), W(what));
            PERPGW_RETURN_IF_ERROR(fn(o));
          }
          return absl::OkStatus();
        }));
    if (!have_results) return wire::Invalid(W(what), "no results array");
    if (cursor != nullptr) {
      PERPGW_RETURN_IF_ERROR(GetText(top, "next", &cursor->next));
      PERPGW_RETURN_IF_ERROR(GetText(top, "prev", &cursor->prev));
    }
    return wire::CheckEnd(doc, W(what));
  }

  // A WS frame: the JSON-RPC envelope {"params":{"channel","data":{...}}} or the bare data
  // object; fn(od::object& data).
  template <typename Fn>
  absl::Status WsData(std::string_view in, std::string_view what, Fn&& fn) {
    return Object(in, what, [&](od::object& root) -> absl::Status {
      bool enveloped = false;
      bool found = false;
      // Peek: an envelope has "jsonrpc"/"method"/"params"; data objects have none of them.
      for (auto fr : root) {
        od::field f;
        PERPGW_JSON_TRY(std::move(fr).get(f), W(what));
        std::string_view key;
        PERPGW_JSON_TRY(f.unescaped_key().get(key), W(what));
        if (key == "jsonrpc" || key == "method") {
          enveloped = true;
          continue;
        }
        if (key != "params") continue;
        enveloped = true;
        od::object params;
        PERPGW_JSON_TRY(f.value().get_object().get(params), W(what));
        for (auto pr : params) {
          od::field pf;
          PERPGW_JSON_TRY(std::move(pr).get(pf), W(what));
          std::string_view pkey;
          PERPGW_JSON_TRY(pf.unescaped_key().get(pkey), W(what));
          if (pkey != "data") continue;
          od::object data;
          PERPGW_JSON_TRY(pf.value().get_object().get(data), W(what));
          found = true;
          PERPGW_RETURN_IF_ERROR(fn(data));
        }
      }
      if (found) return absl::OkStatus();
      if (enveloped) return wire::Invalid(W(what), "subscription frame has no params.data object");
      PERPGW_JSON_TRY(root.reset().error(), W(what));
      return fn(root);
    });
  }
};

Codec::Codec() : impl_(std::make_unique<Impl>()) {}
Codec::~Codec() = default;
Codec::Codec(Codec&&) noexcept = default;
Codec& Codec::operator=(Codec&&) noexcept = default;

// ---------------------------------------------------------------------------------------------
// Markets and system

absl::StatusOr<std::vector<MarketInfo>> Codec::ParseMarketInfos(std::string_view body) {
  std::vector<MarketInfo> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "markets", nullptr, [&](od::object& m) {
    MarketInfo info;
    Instrument& inst = info.instrument;
    Fields margin{"imf_base", "mmf_factor"};
    bool have_margin = false;
    Fields f{"symbol",          "base_currency",     "quote_currency", "settlement_currency",
             "asset_kind",      "market_kind",       "trading_mode",   "order_size_increment",
             "price_tick_size", "min_notional",      "max_order_size", "position_limit",
             "max_open_orders", "price_bands_width", "max_slippage",   "funding_period_hours",
             "open_at",         "expiry_at"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(m, W("markets"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "delta1_cross_margin_params") return absl::OkStatus();
          od::json_type t;
          PERPGW_JSON_TRY(v.type().get(t), W("markets"));
          if (t != od::json_type::object) return absl::OkStatus();
          od::object o;
          PERPGW_JSON_TRY(v.get_object().get(o), W("markets"));
          have_margin = true;
          return margin.Read(o, W("markets"));
        }));
    std::string_view symbol;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &symbol));
    PERPGW_RETURN_IF_ERROR(GetText(f, "asset_kind", &info.asset_kind));
    if (info.asset_kind != "PERP") return absl::OkStatus();  // options, spot, dated: skipped
    PERPGW_ASSIGN_OR_RETURN(SymbolParts parts, SplitVenueSymbol(symbol));
    if (!parts.perp) return absl::OkStatus();
    inst.venue = S(kVenueName);
    inst.venue_symbol = S(symbol);
    PERPGW_RETURN_IF_ERROR(GetText(f, "base_currency", &inst.base));
    PERPGW_RETURN_IF_ERROR(GetText(f, "quote_currency", &inst.quote));
    PERPGW_RETURN_IF_ERROR(GetText(f, "settlement_currency", &inst.settle));  // USDC for USD
    if (inst.base.empty()) inst.base = parts.base;
    if (inst.quote.empty()) inst.quote = parts.quote;
    TickerInfo t = NormalizeBase(inst.base);
    inst.symbol = t.ticker;
    inst.quantity_multiplier = t.multiplier;

    PERPGW_RETURN_IF_ERROR(f.Get("price_tick_size", &inst.tick_size));
    PERPGW_RETURN_IF_ERROR(f.Get("order_size_increment", &inst.step_size));
    if (!inst.tick_size.IsPositive() || !inst.step_size.IsPositive()) {
      return Bad("markets: " + Short(symbol) + " has a non-positive tick or size increment");
    }
    inst.tick_size = inst.tick_size.Normalized();
    inst.step_size = inst.step_size.Normalized();
    inst.min_size = inst.step_size;
    inst.price_scale = DecimalPlaces(inst.tick_size);
    inst.size_scale = DecimalPlaces(inst.step_size);
    PERPGW_RETURN_IF_ERROR(f.GetOpt("min_notional", &inst.min_notional));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("max_order_size", &inst.max_size));
    PERPGW_RETURN_IF_ERROR(GetText(f, "market_kind", &info.market_kind));
    PERPGW_RETURN_IF_ERROR(GetText(f, "trading_mode", &info.trading_mode));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("position_limit", &info.position_limit));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("max_open_orders", &info.max_open_orders));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("price_bands_width", &info.price_bands_width));
    if (info.price_bands_width.IsNegative()) return Bad("markets: negative price_bands_width");
    if (info.price_bands_width.IsPositive()) {
      auto up = Decimal::Add(Decimal::FromInt(1), info.price_bands_width);
      auto down = Decimal::Sub(Decimal::FromInt(1), info.price_bands_width);
      if (up.ok() && down.ok() && down->IsPositive()) {
        inst.price_band_up = *up;
        inst.price_band_down = *down;
      }
    }
    PERPGW_RETURN_IF_ERROR(f.GetOpt("max_slippage", &info.max_slippage));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("funding_period_hours", &info.funding_period_hours));
    if (info.funding_period_hours < 0) return Bad("markets: negative funding_period_hours");
    inst.funding_interval_hours = static_cast<double>(info.funding_period_hours);
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("open_at", wire::kNanosPerMilli, &info.open_at));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("expiry_at", wire::kNanosPerMilli, &info.expiry_at));
    if (have_margin) {
      PERPGW_RETURN_IF_ERROR(margin.GetOpt("imf_base", &info.imf_base));
      PERPGW_RETURN_IF_ERROR(margin.GetOpt("mmf_factor", &info.mmf_factor));
    }
    if (info.imf_base.IsPositive()) {
      // imf_factor / imf_shift are legacy (spec: always 0): max leverage = 1 / imf_base.
      auto lev = Decimal::Div(Decimal::FromInt(1), info.imf_base, 0, Rounding::kDown);
      if (lev.ok()) inst.max_leverage = *lev;
    }
    // RFQ_ONLY markets take no on-book orders.
    inst.tradeable = info.trading_mode.empty() || info.trading_mode == "STANDARD";
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

absl::StatusOr<SystemConfig> Codec::ParseSystemConfig(std::string_view body) {
  SystemConfig c;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "system config", [&](od::object& o) {
    Fields f{"starknet_chain_id",
             "l1_chain_id",
             "paraclear_address",
             "paraclear_account_hash",
             "paraclear_account_proxy_hash",
             "environment",
             "paraclear_decimals"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("system config")));
    PERPGW_RETURN_IF_ERROR(f.Get("starknet_chain_id", &c.starknet_chain_id));
    if (c.starknet_chain_id.empty()) return Bad("system config: empty starknet_chain_id");
    PERPGW_RETURN_IF_ERROR(GetText(f, "l1_chain_id", &c.l1_chain_id));
    PERPGW_RETURN_IF_ERROR(GetText(f, "paraclear_address", &c.paraclear_address));
    PERPGW_RETURN_IF_ERROR(GetText(f, "paraclear_account_hash", &c.paraclear_account_hash));
    PERPGW_RETURN_IF_ERROR(
        GetText(f, "paraclear_account_proxy_hash", &c.paraclear_account_proxy_hash));
    PERPGW_RETURN_IF_ERROR(GetText(f, "environment", &c.environment));
    return f.GetOpt("paraclear_decimals", &c.paraclear_decimals);
  }));
  return c;
}

absl::StatusOr<SystemState> Codec::ParseSystemState(std::string_view body) {
  SystemState s;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "system state", [&](od::object& o) {
    Fields f{"status"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("system state")));
    PERPGW_RETURN_IF_ERROR(f.Get("status", &s.text));
    s.status = ParseSystemStatus(s.text);
    return absl::OkStatus();
  }));
  return s;
}

absl::StatusOr<UnixNanos> Codec::ParseSystemTime(std::string_view body) {
  UnixNanos t = 0;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "system time", [&](od::object& o) {
    Fields f{"server_time"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("system time")));
    return f.GetTime("server_time", wire::kNanosPerMilli, &t);
  }));
  return t;
}

// ---------------------------------------------------------------------------------------------
// Summary and funding

namespace {

absl::Status ReadSummary(od::object& o, std::string_view what, MarketSummary* s) {
  Fields f{"symbol",
           "market",
           "mark_price",
           "underlying_price",
           "last_traded_price",
           "bid",
           "ask",
           "bid_size",
           "ask_size",
           "volume_24h",
           "total_volume",
           "open_interest",
           "funding_rate",
           "price_change_rate_24h",
           "created_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  PERPGW_RETURN_IF_ERROR(GetText(f, "symbol", &s->venue_symbol));
  if (s->venue_symbol.empty()) PERPGW_RETURN_IF_ERROR(GetText(f, "market", &s->venue_symbol));
  if (s->venue_symbol.empty()) return Bad(wire::Cat(what, ": no symbol"));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("mark_price", &s->mark_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("underlying_price", &s->index_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("last_traded_price", &s->last_price));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "bid", &s->bid));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "ask", &s->ask));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "bid_size", &s->bid_size));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "ask_size", &s->ask_size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("volume_24h", &s->volume_24h_usd));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("total_volume", &s->total_volume_usd));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("open_interest", &s->open_interest));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("funding_rate", &s->funding_rate));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "price_change_rate_24h", &s->price_change_rate_24h));
  return f.GetOptTime("created_at", wire::kNanosPerMilli, &s->exchange_time);
}

absl::Status ReadFunding(od::object& o, std::string_view what, FundingData* d) {
  Fields f{"market",        "funding_rate",    "funding_rate_8h",     "funding_period_hours",
           "funding_index", "funding_premium", "impact_premium_rate", "created_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  PERPGW_RETURN_IF_ERROR(f.Get("market", &d->venue_symbol));
  if (d->venue_symbol.empty()) return Bad(wire::Cat(what, ": empty market"));
  PERPGW_RETURN_IF_ERROR(f.Get("funding_rate", &d->funding_rate));
  d->has_rate_8h = f["funding_rate_8h"].has_text();
  PERPGW_RETURN_IF_ERROR(f.GetOpt("funding_rate_8h", &d->funding_rate_8h));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("funding_period_hours", &d->funding_period_hours));
  if (d->funding_period_hours < 0) return Bad(wire::Cat(what, ": negative funding period"));
  PERPGW_RETURN_IF_ERROR(GetDecimalText(f, "funding_index", &d->funding_index));
  PERPGW_RETURN_IF_ERROR(GetDecimalText(f, "funding_premium", &d->funding_premium));
  PERPGW_RETURN_IF_ERROR(GetOptional(f, "impact_premium_rate", &d->impact_premium_rate));
  return f.GetOptTime("created_at", wire::kNanosPerMilli, &d->exchange_time);
}

}  // namespace

absl::StatusOr<std::vector<MarketSummary>> Codec::ParseMarketsSummary(std::string_view body) {
  std::vector<MarketSummary> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "markets summary", nullptr, [&](od::object& o) {
    MarketSummary s;
    PERPGW_RETURN_IF_ERROR(ReadSummary(o, "markets summary", &s));
    out.push_back(std::move(s));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<FundingData>> Codec::ParseFundingData(std::string_view body,
                                                                 PageCursor* cursor) {
  std::vector<FundingData> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "funding data", cursor, [&](od::object& o) {
    FundingData d;
    PERPGW_RETURN_IF_ERROR(ReadFunding(o, "funding data", &d));
    out.push_back(std::move(d));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<MarketSummary> Codec::ParseWsMarketsSummary(std::string_view frame) {
  MarketSummary s;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "markets_summary", [&](od::object& o) {
    return ReadSummary(o, "markets_summary", &s);
  }));
  return s;
}

absl::StatusOr<FundingData> Codec::ParseWsFundingData(std::string_view frame) {
  FundingData d;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(
      frame, "funding_data", [&](od::object& o) { return ReadFunding(o, "funding_data", &d); }));
  return d;
}

// ---------------------------------------------------------------------------------------------
// Books, BBO, trades

absl::StatusOr<DepthSnapshot> Codec::ParseOrderbook(std::string_view body, const Instrument& inst) {
  DepthSnapshot snap;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "orderbook", [&](od::object& o) {
    Fields f{"market", "seq_no", "last_updated_at"};
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("orderbook"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key == "bids") {
            return wire::ReadLevels(v, inst.price_scale, inst.size_scale, &snap.bids,
                                    W("orderbook"));
          }
          if (key == "asks") {
            return wire::ReadLevels(v, inst.price_scale, inst.size_scale, &snap.asks,
                                    W("orderbook"));
          }
          return absl::OkStatus();
        }));
    PERPGW_RETURN_IF_ERROR(f.Get("market", &snap.venue_symbol));
    if (snap.venue_symbol != inst.venue_symbol) {
      return Bad("orderbook for " + Short(snap.venue_symbol) + ", asked " + inst.venue_symbol);
    }
    PERPGW_RETURN_IF_ERROR(f.Get("seq_no", &snap.seq_no));
    return f.GetOptTime("last_updated_at", wire::kNanosPerMilli, &snap.exchange_time);
  }));
  std::sort(snap.bids.begin(), snap.bids.end(),
            [](const Level& a, const Level& b) { return a.price > b.price; });
  std::sort(snap.asks.begin(), snap.asks.end(),
            [](const Level& a, const Level& b) { return a.price < b.price; });
  return snap;
}

namespace {

absl::Status ReadBbo(od::object& o, std::string_view what, const SymbolTable& symbols,
                     UnixNanos receive_time, Bbo* b) {
  Fields f{"market", "seq_no", "bid", "bid_size", "ask", "ask_size", "last_updated_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  std::string_view market;
  PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
  b->venue = S(kVenueName);
  b->symbol = symbols.TickerFor(market);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("seq_no", &b->venue_seq));
  // An empty side is absent or "" (no bids): zero price and size.
  PERPGW_RETURN_IF_ERROR(f.GetOpt("bid", &b->bid_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("bid_size", &b->bid_size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("ask", &b->ask_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("ask_size", &b->ask_size));
  if (b->bid_price.IsNegative() || b->ask_price.IsNegative() || b->bid_size.IsNegative() ||
      b->ask_size.IsNegative()) {
    return Bad(wire::Cat(what, ": negative price or size"));
  }
  b->receive_time = receive_time;
  return f.GetOptTime("last_updated_at", wire::kNanosPerMilli, &b->exchange_time);
}

}  // namespace

absl::StatusOr<Bbo> Codec::ParseBbo(std::string_view body, const SymbolTable& symbols,
                                    UnixNanos receive_time) {
  Bbo b;
  PERPGW_RETURN_IF_ERROR(impl_->Object(
      body, "bbo", [&](od::object& o) { return ReadBbo(o, "bbo", symbols, receive_time, &b); }));
  return b;
}

absl::StatusOr<Bbo> Codec::ParseWsBbo(std::string_view frame, const SymbolTable& symbols,
                                      UnixNanos receive_time) {
  Bbo b;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(
      frame, "bbo", [&](od::object& o) { return ReadBbo(o, "bbo", symbols, receive_time, &b); }));
  return b;
}

absl::StatusOr<Trade> Codec::ParseWsTrade(std::string_view frame, const SymbolTable& symbols,
                                          UnixNanos receive_time) {
  Trade t;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(frame, "trades", [&](od::object& o) -> absl::Status {
    Fields f{"id", "market", "side", "size", "price", "created_at", "trade_type"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("trades")));
    std::string_view market, side;
    PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
    t.venue = S(kVenueName);
    t.symbol = symbols.TickerFor(market);
    PERPGW_RETURN_IF_ERROR(f.Get("id", &t.trade_id));
    PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
    PERPGW_ASSIGN_OR_RETURN(t.taker_side, ParseSide(side));
    PERPGW_RETURN_IF_ERROR(f.Get("price", &t.price));
    PERPGW_RETURN_IF_ERROR(f.Get("size", &t.size));
    if (!t.price.IsPositive() || !t.size.IsPositive()) {
      return Bad("trades: non-positive price or size");
    }
    t.receive_time = receive_time;
    return f.GetOptTime("created_at", wire::kNanosPerMilli, &t.exchange_time);
  }));
  return t;
}

absl::Status Codec::ParseWsBook(std::string_view frame, const Instrument& inst, DeltaMsg* out,
                                bool* snapshot) {
  out->changes.clear();
  out->first_id = out->last_id = out->prev_id = 0;
  out->exchange_time = 0;
  return impl_->WsData(frame, "order_book", [&](od::object& o) -> absl::Status {
    std::string_view update_type;
    Fields f{"market", "seq_no", "last_updated_at", "update_type"};
    // Deletes are applied first, then updates and inserts (absolute sizes), so a level that is
    // deleted and re-inserted in one message ends with its new size. Arrays arrive in any key
    // order: collect each into its own run, then concatenate.
    std::vector<LevelChange> deletes, sets;
    PERPGW_RETURN_IF_ERROR(
        f.Read(o, W("order_book"), [&](std::string_view key, od::value& v) -> absl::Status {
          bool is_delete = key == "deletes";
          if (!is_delete && key != "inserts" && key != "updates") return absl::OkStatus();
          return wire::ForEachInArray(v, W("order_book"), [&](od::value& lv) -> absl::Status {
            od::object lo;
            PERPGW_JSON_TRY(lv.get_object().get(lo), W("order_book"));
            Fields l{"side", "price", "size"};
            PERPGW_RETURN_IF_ERROR(l.Read(lo, W("order_book")));
            std::string_view side, price, size;
            PERPGW_RETURN_IF_ERROR(l.Get("side", &side));
            PERPGW_RETURN_IF_ERROR(l.Get("price", &price));
            LevelChange c;
            PERPGW_ASSIGN_OR_RETURN(Side sd, ParseSide(side));
            c.side = sd == Side::kBuy ? BookSide::kBid : BookSide::kAsk;
            if (!ParseScaledAny(price, inst.price_scale, &c.level.price) || c.level.price <= 0) {
              return Bad("order_book: price '" + Short(price) + "' is not a positive value at " +
                         std::to_string(inst.price_scale) + " decimals");
            }
            if (is_delete) {
              c.level.size = 0;  // the size field of a delete is meaningless
              deletes.push_back(c);
              return absl::OkStatus();
            }
            PERPGW_RETURN_IF_ERROR(l.Get("size", &size));
            if (!ParseScaledAny(size, inst.size_scale, &c.level.size) || c.level.size <= 0) {
              return Bad("order_book: size '" + Short(size) + "' is not a positive value at " +
                         std::to_string(inst.size_scale) + " decimals");
            }
            sets.push_back(c);
            return absl::OkStatus();
          });
        }));
    std::string_view market;
    PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
    if (market != inst.venue_symbol) {
      return Bad("order_book for " + Short(market) + ", decoding " + inst.venue_symbol);
    }
    PERPGW_RETURN_IF_ERROR(f.Get("seq_no", &out->last_id));
    out->first_id = out->last_id;
    PERPGW_RETURN_IF_ERROR(
        f.GetOptTime("last_updated_at", wire::kNanosPerMilli, &out->exchange_time));
    PERPGW_RETURN_IF_ERROR(f.Get("update_type", &update_type));
    if (update_type == "s") {
      *snapshot = true;
      if (!deletes.empty()) return Bad("order_book: a snapshot with deletes");
    } else if (update_type == "d") {
      *snapshot = false;
    } else {
      return Bad("order_book: unknown update_type '" + Short(update_type) + "'");
    }
    out->changes = std::move(deletes);
    out->changes.insert(out->changes.end(), sets.begin(), sets.end());
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// WS classification

absl::Status Codec::ClassifyWsFrame(std::string_view frame, WsFrameInfo* out) {
  out->kind = WsKind::kUnknown;
  out->channel.clear();
  out->channel_kind = ChannelKind::kOther;
  out->id.reset();
  out->error_code = 0;
  out->error_message.clear();
  out->node_id.clear();
  return impl_->Object(frame, "ws frame", [&](od::object& root) -> absl::Status {
    Fields top{"method", "id"};
    Fields params{"channel"};
    Fields result{"channel", "node_id"};
    Fields error{"code", "message", "data"};
    bool have_params = false, have_result = false, have_error = false;
    PERPGW_RETURN_IF_ERROR(
        top.Read(root, W("ws frame"), [&](std::string_view key, od::value& v) -> absl::Status {
          Fields* target = key == "params"   ? &params
                           : key == "result" ? &result
                           : key == "error"  ? &error
                                             : nullptr;
          if (target == nullptr) return absl::OkStatus();
          od::json_type t;
          PERPGW_JSON_TRY(v.type().get(t), W("ws frame"));
          if (key == "result") have_result = true;  // any result value acknowledges
          if (t != od::json_type::object) return absl::OkStatus();
          od::object o;
          PERPGW_JSON_TRY(v.get_object().get(o), W("ws frame"));
          if (key == "params") have_params = true;
          if (key == "error") have_error = true;
          return target->Read(o, W("ws frame"));  // nested values (data) are skipped
        }));
    int64_t id = 0;
    if (top["id"].has_text() && top.GetOpt("id", &id).ok()) out->id = id;
    std::string_view method = top["method"].is_string ? top["method"].text : std::string_view();
    if (have_error) {
      out->kind = WsKind::kError;
      std::string code;
      PERPGW_RETURN_IF_ERROR(GetText(error, "code", &code));
      if (!wire::ParseInt64(code, &out->error_code)) out->error_code = 0;
      PERPGW_RETURN_IF_ERROR(GetText(error, "message", &out->error_message));
      std::string data;
      if (error["data"].is_string) data = S(error["data"].text);
      if (!data.empty()) wire::Append(&out->error_message, ": ", data);
      if (out->error_message.size() > 512) out->error_message.resize(512);
      return absl::OkStatus();
    }
    if (method == "subscription" && have_params) {
      out->kind = WsKind::kSubscription;
      PERPGW_RETURN_IF_ERROR(params.Get("channel", &out->channel));
      out->channel_kind = ClassifyChannel(out->channel);
      return absl::OkStatus();
    }
    if (have_result) {
      out->kind = WsKind::kResult;
      PERPGW_RETURN_IF_ERROR(GetText(result, "channel", &out->channel));
      out->channel_kind = ClassifyChannel(out->channel);
      return GetText(result, "node_id", &out->node_id);
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Private

namespace {

// request_info {id, message, request_type, status} of a modify answer (null or absent: left
// empty).
absl::Status ReadRequestInfo(od::value& v, std::string_view what, ModifyAnswer* out) {
  od::json_type t;
  PERPGW_JSON_TRY(v.type().get(t), W(what));
  if (t == od::json_type::null) return absl::OkStatus();
  od::object obj;
  PERPGW_JSON_TRY(v.get_object().get(obj), W(what));
  Fields f{"id", "message", "request_type", "status"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("status", &out->request_status));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("message", &out->request_message));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("request_type", &out->request_type));
  return absl::OkStatus();
}

absl::Status ReadOrder(od::object& o, std::string_view what, const SymbolTable& symbols,
                       Order* out, ModifyAnswer* modify = nullptr) {
  Fields f{"id",       "client_id",     "account",        "market",     "side",
           "type",     "size",          "remaining_size", "price",      "avg_fill_price",
           "status",   "cancel_reason", "instruction",    "created_at", "last_updated_at",
           "timestamp"};
  bool reduce_only = false;
  PERPGW_RETURN_IF_ERROR(
      f.Read(o, W(what), [&](std::string_view key, od::value& v) -> absl::Status {
        if (key == "flags") return ReadFlags(v, what, &reduce_only);
        if (key == "request_info" && modify != nullptr) return ReadRequestInfo(v, what, modify);
        return absl::OkStatus();
      }));
  Order& r = *out;
  r.venue = S(kVenueName);
  PERPGW_RETURN_IF_ERROR(f.Get("id", &r.order_id));
  if (r.order_id.empty()) return Bad(wire::Cat(what, ": empty order id"));
  PERPGW_RETURN_IF_ERROR(GetText(f, "client_id", &r.client_order_id));
  PERPGW_RETURN_IF_ERROR(GetText(f, "account", &r.account));
  std::string_view market, side, type, status;
  PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
  r.symbol = symbols.TickerFor(market);
  PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
  PERPGW_ASSIGN_OR_RETURN(r.side, ParseSide(side));
  PERPGW_RETURN_IF_ERROR(f.Get("type", &type));
  PERPGW_ASSIGN_OR_RETURN(r.type, ParseOrderType(type));
  std::string instruction;
  PERPGW_RETURN_IF_ERROR(GetText(f, "instruction", &instruction));
  r.tif = ParseInstruction(instruction);
  r.reduce_only = reduce_only;
  PERPGW_RETURN_IF_ERROR(f.Get("size", &r.size));
  if (!r.size.IsPositive()) return Bad(wire::Cat(what, ": non-positive size"));
  Decimal remaining = r.size;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("remaining_size", &remaining));
  if (remaining.IsNegative() || remaining > r.size) {
    return Bad(wire::Cat(what, ": remaining_size outside [0, size]"));
  }
  PERPGW_ASSIGN_OR_RETURN(r.filled_size, Decimal::Sub(r.size, remaining));
  r.filled_size = r.filled_size.Normalized();
  PERPGW_RETURN_IF_ERROR(f.GetOpt("price", &r.price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("avg_fill_price", &r.avg_fill_price));
  if (r.filled_size.IsZero()) r.avg_fill_price.reset();  // venue sends a placeholder
  PERPGW_RETURN_IF_ERROR(f.Get("status", &status));
  std::string cancel_reason;
  PERPGW_RETURN_IF_ERROR(GetText(f, "cancel_reason", &cancel_reason));
  r.status = MapOrderStatus(status, r.size, remaining, cancel_reason);
  if (r.status == OrderStatus::kCanceled || r.status == OrderStatus::kRejected ||
      r.status == OrderStatus::kExpired) {
    r.reason = MapCancelReason(cancel_reason);
    if (r.reason == CancelReason::kNone) r.reason = CancelReason::kUserCanceled;
  }
  r.reason_text = cancel_reason;
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("created_at", wire::kNanosPerMilli, &r.created_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("last_updated_at", wire::kNanosPerMilli, &r.updated_time));
  if (r.updated_time == 0) r.updated_time = r.created_time;
  return absl::OkStatus();
}

absl::Status ReadFill(od::object& o, std::string_view what, const SymbolTable& symbols, Fill* out) {
  Fields f{"id",   "order_id", "client_id",    "account",   "market",    "side",      "price",
           "size", "fee",      "fee_currency", "liquidity", "fill_type", "created_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  Fill& r = *out;
  r.venue = S(kVenueName);
  PERPGW_RETURN_IF_ERROR(f.Get("id", &r.trade_id));
  if (r.trade_id.empty()) return Bad(wire::Cat(what, ": empty fill id"));
  PERPGW_RETURN_IF_ERROR(GetText(f, "order_id", &r.order_id));
  PERPGW_RETURN_IF_ERROR(GetText(f, "client_id", &r.client_order_id));
  PERPGW_RETURN_IF_ERROR(GetText(f, "account", &r.account));
  std::string_view market, side;
  PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
  r.symbol = symbols.TickerFor(market);
  PERPGW_RETURN_IF_ERROR(f.Get("side", &side));
  PERPGW_ASSIGN_OR_RETURN(r.side, ParseSide(side));
  PERPGW_RETURN_IF_ERROR(f.Get("price", &r.price));
  PERPGW_RETURN_IF_ERROR(f.Get("size", &r.size));
  if (!r.price.IsPositive() || !r.size.IsPositive()) {
    return Bad(wire::Cat(what, ": non-positive price or size"));
  }
  PERPGW_RETURN_IF_ERROR(f.GetOpt("fee", &r.fee));  // negative = rebate
  PERPGW_RETURN_IF_ERROR(GetText(f, "fee_currency", &r.fee_asset));
  if (r.fee_asset.empty()) r.fee_asset = S(kSettlementAsset);
  std::string liquidity, fill_type;
  PERPGW_RETURN_IF_ERROR(GetText(f, "liquidity", &liquidity));
  r.maker = liquidity == "MAKER";
  PERPGW_RETURN_IF_ERROR(GetText(f, "fill_type", &fill_type));
  r.liquidation = fill_type == "LIQUIDATION";
  return f.GetOptTime("created_at", wire::kNanosPerMilli, &r.exchange_time);
}

absl::Status ReadPosition(od::object& o, std::string_view what, const SymbolTable& symbols,
                          Position* out, bool* closed) {
  Fields f{"account",
           "market",
           "status",
           "side",
           "size",
           "average_entry_price",
           "unrealized_pnl",
           "unrealized_funding_pnl",
           "realized_positional_pnl",
           "liquidation_price",
           "leverage",
           "cost_usd",
           "last_updated_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  Position& p = *out;
  p.venue = S(kVenueName);
  PERPGW_RETURN_IF_ERROR(GetText(f, "account", &p.account));
  std::string_view market;
  PERPGW_RETURN_IF_ERROR(f.Get("market", &market));
  p.symbol = symbols.TickerFor(market);
  std::string status, side;
  PERPGW_RETURN_IF_ERROR(GetText(f, "status", &status));
  PERPGW_RETURN_IF_ERROR(GetText(f, "side", &side));
  *closed = status == "CLOSED";
  PERPGW_RETURN_IF_ERROR(f.Get("size", &p.size));
  // Size is signed on the venue (negative = short); a SHORT with a positive size is normalized.
  if (side == "SHORT" && p.size.IsPositive()) p.size = p.size.Negated();
  if (side == "LONG" && p.size.IsNegative()) {
    return Bad(wire::Cat(what, ": LONG position with a negative size"));
  }
  if (*closed) p.size = Decimal();
  PERPGW_RETURN_IF_ERROR(f.GetOpt("average_entry_price", &p.entry_price));
  // unrealized_pnl includes unrealized funding; funding_accrued reports that part.
  PERPGW_RETURN_IF_ERROR(f.GetOpt("unrealized_pnl", &p.unrealized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("unrealized_funding_pnl", &p.funding_accrued));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("realized_positional_pnl", &p.realized_pnl));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("liquidation_price", &p.liquidation_price));  // "" = unknown
  PERPGW_RETURN_IF_ERROR(f.GetOpt("leverage", &p.leverage));
  Decimal cost_usd;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("cost_usd", &cost_usd));
  p.exposure_usd = cost_usd.Abs();
  return f.GetOptTime("last_updated_at", wire::kNanosPerMilli, &p.update_time);
}

absl::Status ReadAccount(od::object& o, std::string_view what, AccountSummary* a) {
  Fields f{"account",
           "account_value",
           "total_collateral",
           "free_collateral",
           "initial_margin_requirement",
           "maintenance_margin_requirement",
           "margin_cushion",
           "settlement_asset",
           "status",
           "updated_at"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(what)));
  PERPGW_RETURN_IF_ERROR(GetText(f, "account", &a->account));
  PERPGW_RETURN_IF_ERROR(f.Get("account_value", &a->account_value));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("total_collateral", &a->total_collateral));
  PERPGW_RETURN_IF_ERROR(f.Get("free_collateral", &a->free_collateral));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("initial_margin_requirement", &a->initial_margin_requirement));
  PERPGW_RETURN_IF_ERROR(
      f.GetOpt("maintenance_margin_requirement", &a->maintenance_margin_requirement));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("margin_cushion", &a->margin_cushion));
  PERPGW_RETURN_IF_ERROR(GetText(f, "settlement_asset", &a->settlement_asset));
  if (a->settlement_asset.empty()) a->settlement_asset = S(kSettlementAsset);
  PERPGW_RETURN_IF_ERROR(GetText(f, "status", &a->status));
  return f.GetOptTime("updated_at", wire::kNanosPerMilli, &a->update_time);
}

}  // namespace

absl::StatusOr<Order> Codec::ParseOrder(std::string_view body, const SymbolTable& symbols) {
  Order o;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(
      body, "order", [&](od::object& obj) { return ReadOrder(obj, "order", symbols, &o); }));
  return o;
}

absl::StatusOr<ModifyAnswer> Codec::ParseModifyResponse(std::string_view body,
                                                        const SymbolTable& symbols) {
  ModifyAnswer a;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(body, "modify", [&](od::object& obj) {
    return ReadOrder(obj, "modify", symbols, &a.order, &a);
  }));
  return a;
}

absl::StatusOr<std::vector<Order>> Codec::ParseOrders(std::string_view body,
                                                      const SymbolTable& symbols,
                                                      PageCursor* cursor) {
  std::vector<Order> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "orders", cursor, [&](od::object& obj) {
    Order o;
    PERPGW_RETURN_IF_ERROR(ReadOrder(obj, "orders", symbols, &o));
    out.push_back(std::move(o));
    return absl::OkStatus();
  }));
  return out;
}

OrderAck Codec::ParseOrderResponse(int http_status, std::string_view body,
                                   const SymbolTable& symbols) {
  OrderAck ack;
  if (http_status == 200 || http_status == 201) {
    auto o = ParseOrder(body, symbols);
    if (!o.ok()) {
      ack.outcome = AckOutcome::kOutcomeUnknown;
      ack.message = "unparseable order answer: " + std::string(o.status().message());
      return ack;
    }
    ack.order = std::move(*o);
    if (ack.order.status == OrderStatus::kRejected) {
      ack.outcome = AckOutcome::kRejected;
      ack.reason = ack.order.reason;
      ack.message = ack.order.reason_text;
    } else {
      ack.outcome = AckOutcome::kAccepted;
    }
    return ack;
  }
  ack.outcome = AckOutcome::kOutcomeUnknown;
  if (http_status >= 400 && http_status < 500 && http_status != 408) {
    if (std::optional<ErrorBody> e = ParseError(body)) {
      ack.message = e->code + ": " + e->message;
      if (http_status == 429) {
        ack.outcome = AckOutcome::kRejected;  // the rate limiter refused it before matching
        ack.retryable = true;
        ack.reason = CancelReason::kRejected;
        return ack;
      }
      ack.outcome = AckOutcome::kRejected;
      ack.reason = MapCancelReason(e->code);
      if (ack.reason == CancelReason::kNone || ack.reason == CancelReason::kUnknown) {
        ack.reason = CancelReason::kRejected;
      }
      return ack;
    }
  }
  ack.message = "HTTP " + std::to_string(http_status);
  return ack;
}

absl::StatusOr<Fill> Codec::ParseFill(std::string_view body, const SymbolTable& symbols) {
  Fill fl;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(
      body, "fill", [&](od::object& obj) { return ReadFill(obj, "fill", symbols, &fl); }));
  return fl;
}

absl::StatusOr<std::vector<Fill>> Codec::ParseFills(std::string_view body,
                                                    const SymbolTable& symbols,
                                                    PageCursor* cursor) {
  std::vector<Fill> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "fills", cursor, [&](od::object& obj) {
    Fill fl;
    PERPGW_RETURN_IF_ERROR(ReadFill(obj, "fills", symbols, &fl));
    out.push_back(std::move(fl));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Position>> Codec::ParsePositions(std::string_view body,
                                                            const SymbolTable& symbols) {
  std::vector<Position> out;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "positions", nullptr, [&](od::object& obj) {
    Position p;
    bool closed = false;
    PERPGW_RETURN_IF_ERROR(ReadPosition(obj, "positions", symbols, &p, &closed));
    if (!closed && !p.size.IsZero()) out.push_back(std::move(p));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Position> Codec::ParsePosition(std::string_view body, const SymbolTable& symbols) {
  Position p;
  bool closed = false;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(body, "position", [&](od::object& obj) {
    return ReadPosition(obj, "position", symbols, &p, &closed);
  }));
  return p;
}

absl::StatusOr<Decimal> Codec::ParseBalanceSize(std::string_view body, std::string_view asset) {
  std::optional<Decimal> size;
  PERPGW_RETURN_IF_ERROR(impl_->Results(body, "balance", nullptr, [&](od::object& obj) {
    Fields f{"token", "size"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W("balance")));
    std::string_view token;
    PERPGW_RETURN_IF_ERROR(f.Get("token", &token));
    if (token != asset) return absl::OkStatus();
    Decimal d;
    PERPGW_RETURN_IF_ERROR(f.Get("size", &d));
    size = d;
    return absl::OkStatus();
  }));
  return size.value_or(Decimal());  // no row: nothing deposited
}

absl::StatusOr<AccountSummary> Codec::ParseAccount(std::string_view body) {
  AccountSummary a;
  PERPGW_RETURN_IF_ERROR(impl_->WsData(
      body, "account", [&](od::object& obj) { return ReadAccount(obj, "account", &a); }));
  return a;
}

absl::StatusOr<std::vector<MarginSetting>> Codec::ParseAccountMargin(std::string_view body) {
  std::vector<MarginSetting> out;
  // {"account":"0x..","configs":[{"market","leverage","margin_type"}]} or a results list.
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "account margin", [&](od::object& o) {
    Fields top{"account"};
    return top.Read(
        o, W("account margin"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "configs" && key != "results") return absl::OkStatus();
          return wire::ForEachInArray(v, W("account margin"), [&](od::value& e) -> absl::Status {
            od::object eo;
            PERPGW_JSON_TRY(e.get_object().get(eo), W("account margin"));
            Fields f{"market", "leverage", "margin_type"};
            PERPGW_RETURN_IF_ERROR(f.Read(eo, W("account margin")));
            MarginSetting m;
            PERPGW_RETURN_IF_ERROR(f.Get("market", &m.venue_symbol));
            PERPGW_RETURN_IF_ERROR(f.GetOpt("leverage", &m.leverage));
            PERPGW_RETURN_IF_ERROR(GetText(f, "margin_type", &m.margin_type));
            out.push_back(std::move(m));
            return absl::OkStatus();
          });
        });
  }));
  return out;
}

absl::StatusOr<std::string> Codec::ParseAuth(std::string_view body) {
  std::string jwt;
  PERPGW_RETURN_IF_ERROR(impl_->Object(body, "auth", [&](od::object& o) {
    Fields f{"jwt_token"};
    PERPGW_RETURN_IF_ERROR(f.Read(o, W("auth")));
    PERPGW_RETURN_IF_ERROR(f.Get("jwt_token", &jwt));
    if (jwt.empty()) return Bad("auth: empty jwt_token");
    return absl::OkStatus();
  }));
  return jwt;
}

std::optional<ErrorBody> Codec::ParseError(std::string_view body) {
  ErrorBody e;
  bool any = false;
  absl::Status st = impl_->Object(body, "error body", [&](od::object& o) -> absl::Status {
    Fields top{"message"};
    Fields nested{"code", "message"};
    bool rest_shape = false;
    PERPGW_RETURN_IF_ERROR(
        top.Read(o, W("error body"), [&](std::string_view key, od::value& v) -> absl::Status {
          if (key != "error") return absl::OkStatus();
          od::json_type t;
          PERPGW_JSON_TRY(v.type().get(t), W("error body"));
          if (t == od::json_type::string) {  // REST {"error":"CODE","message":...}
            std::string_view code;
            PERPGW_JSON_TRY(v.get_string().get(code), W("error body"));
            e.code = S(code);
            rest_shape = any = true;
            return absl::OkStatus();
          }
          if (t != od::json_type::object) return absl::OkStatus();
          // JSON-RPC {"error":{"code":N,"message":...}}.
          od::object eo;
          PERPGW_JSON_TRY(v.get_object().get(eo), W("error body"));
          PERPGW_RETURN_IF_ERROR(nested.Read(eo, W("error body")));
          any = true;
          PERPGW_RETURN_IF_ERROR(GetText(nested, "code", &e.code));
          return GetText(nested, "message", &e.message);
        }));
    if (rest_shape) PERPGW_RETURN_IF_ERROR(GetText(top, "message", &e.message));
    return absl::OkStatus();
  });
  if (!st.ok() || !any) return std::nullopt;
  if (e.message.size() > 512) e.message.resize(512);
  if (e.code.size() > 64) e.code.resize(64);
  return e;
}

// ---------------------------------------------------------------------------------------------
// SBE -> normalized

std::optional<Decimal> FromSbe(sbe::Dec d, int scale) {
  if (d.null()) return std::nullopt;
  return d.value(scale).Normalized();
}

namespace {

absl::Status AppendGroup(const sbe::LevelGroup& g, BookSide side, bool snapshot,
                         const Instrument& inst, std::vector<LevelChange>* out) {
  for (size_t i = 0; i < g.size(); ++i) {
    int64_t p8 = g.price(i), q8 = g.qty(i);
    if (p8 <= 0 || q8 < 0) {
      return Bad("sbe book: level with a non-positive price or a negative size");
    }
    if (snapshot && q8 == 0) continue;
    LevelChange c;
    c.side = side;
    if (!sbe::RescaleMantissa(p8, inst.price_scale, &c.level.price) ||
        !sbe::RescaleMantissa(q8, inst.size_scale, &c.level.size)) {
      return Bad("sbe book: level out of range at the book's scale");
    }
    out->push_back(c);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BookEventToDelta(const sbe::BookEvent& e, const Instrument& inst, DeltaMsg* out) {
  out->changes.clear();
  if (e.market != inst.venue_symbol) {
    return Bad("sbe book for " + Short(e.market) + ", decoding " + inst.venue_symbol);
  }
  if (e.seq < 0) return Bad("sbe book: negative seq");
  bool snapshot = e.pkg_type == static_cast<uint8_t>(sbe::PkgType::kSnapshot);
  if (!snapshot && e.pkg_type != static_cast<uint8_t>(sbe::PkgType::kDelta)) {
    return Bad("sbe book: unknown pkgType " + std::to_string(e.pkg_type));
  }
  out->first_id = out->last_id = static_cast<uint64_t>(e.seq);
  out->prev_id = 0;
  UnixNanos t = 0;
  out->exchange_time = wire::ToNanos(e.ts_us, wire::kNanosPerMicro, &t) ? t : 0;
  PERPGW_RETURN_IF_ERROR(AppendGroup(e.bids, BookSide::kBid, snapshot, inst, &out->changes));
  return AppendGroup(e.asks, BookSide::kAsk, snapshot, inst, &out->changes);
}

absl::Status BboEventToBbo(const sbe::BboEvent& e, const Instrument& inst, UnixNanos receive_time,
                           Bbo* out) {
  if (e.market != inst.venue_symbol) {
    return Bad("sbe bbo for " + Short(e.market) + ", decoding " + inst.venue_symbol);
  }
  out->venue = S(kVenueName);
  out->symbol = inst.symbol;
  out->venue_seq = e.seq < 0 ? 0 : static_cast<uint64_t>(e.seq);
  // A null price is an empty side: zero price and size.
  auto side = [](sbe::Dec p, sbe::Dec q, Decimal* price, Decimal* size) -> absl::Status {
    *price = Decimal();
    *size = Decimal();
    if (p.null()) return absl::OkStatus();
    if (p.mantissa <= 0 || (!q.null() && q.mantissa < 0)) {
      return Bad("sbe bbo: non-positive price or negative size");
    }
    *price = p.value().Normalized();
    if (!q.null()) *size = q.value().Normalized();
    return absl::OkStatus();
  };
  PERPGW_RETURN_IF_ERROR(side(e.bid_price, e.bid_size, &out->bid_price, &out->bid_size));
  PERPGW_RETURN_IF_ERROR(side(e.ask_price, e.ask_size, &out->ask_price, &out->ask_size));
  out->status = BookStatus::kLive;
  UnixNanos t = 0;
  out->exchange_time = wire::ToNanos(e.ts_us, wire::kNanosPerMicro, &t) ? t : 0;
  out->receive_time = receive_time;
  return absl::OkStatus();
}

absl::Status TradeEventToTrade(const sbe::TradeEvent& e, const Instrument& inst,
                               UnixNanos receive_time, Trade* out) {
  if (e.market != inst.venue_symbol) {
    return Bad("sbe trade for " + Short(e.market) + ", decoding " + inst.venue_symbol);
  }
  if (e.price.null() || e.size.null() || e.price.mantissa <= 0 || e.size.mantissa <= 0) {
    return Bad("sbe trade: missing or non-positive price or size");
  }
  out->venue = S(kVenueName);
  out->symbol = inst.symbol;
  // The exact id (1:2) when present, else the low 64 bits as unsigned decimal (G3: the 28-digit
  // id cannot be recovered; the adapter documents that the two forms differ).
  out->trade_id = !e.trade_id_str.empty() ? S(e.trade_id_str)
                                          : std::to_string(static_cast<uint64_t>(e.trade_id));
  if (e.side == static_cast<uint8_t>(sbe::Side::kBuy)) {
    out->taker_side = Side::kBuy;
  } else if (e.side == static_cast<uint8_t>(sbe::Side::kSell)) {
    out->taker_side = Side::kSell;
  } else {
    return Bad("sbe trade: unknown aggressor side " + std::to_string(e.side));
  }
  out->price = e.price.value().Normalized();
  out->size = e.size.value().Normalized();
  UnixNanos t = 0;
  out->exchange_time = wire::ToNanos(e.created_at_us, wire::kNanosPerMicro, &t) ? t : 0;
  out->receive_time = receive_time;
  return absl::OkStatus();
}

MarketSummary SummaryFromSbe(const sbe::MarketSummaryEvent& e) {
  MarketSummary s;
  s.venue_symbol = S(e.market);
  auto v = [](sbe::Dec d) { return FromSbe(d).value_or(Decimal()); };
  s.mark_price = v(e.mark_price);
  s.index_price = v(e.index_price);
  s.last_price = v(e.last_price);
  s.bid = FromSbe(e.bid);
  s.ask = FromSbe(e.ask);
  s.bid_size = FromSbe(e.bid_size);
  s.ask_size = FromSbe(e.ask_size);
  s.volume_24h_usd = v(e.volume_usd_24h);
  s.total_volume_usd = v(e.total_volume);
  s.open_interest = v(e.open_interest);
  // fundingRatePrecise (12 dp, v1+) over the 8-dp truncation.
  std::optional<Decimal> precise = FromSbe(e.funding_rate_precise, sbe::kScale12);
  s.funding_rate = precise ? *precise : v(e.funding_rate);
  s.price_change_rate_24h = FromSbe(e.price_change_rate_24h);
  UnixNanos t = 0;
  s.exchange_time = wire::ToNanos(e.ts_us, wire::kNanosPerMicro, &t) ? t : 0;
  return s;
}

FundingData FundingFromSbe(const sbe::FundingDataEvent& e) {
  FundingData d;
  d.venue_symbol = S(e.market);
  d.funding_rate = FromSbe(e.funding_rate).value_or(Decimal());
  std::optional<Decimal> r8 = FromSbe(e.funding_rate_8h);
  d.has_rate_8h = r8.has_value();
  d.funding_rate_8h = r8.value_or(Decimal());
  d.funding_period_hours = e.funding_period_hours;
  if (std::optional<Decimal> idx = FromSbe(e.funding_index)) d.funding_index = idx->ToString();
  if (std::optional<Decimal> pr = FromSbe(e.funding_premium)) d.funding_premium = pr->ToString();
  d.impact_premium_rate = FromSbe(e.impact_premium_rate);
  UnixNanos t = 0;
  d.exchange_time = wire::ToNanos(e.created_at_us, wire::kNanosPerMicro, &t) ? t : 0;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Helpers

CancelReason MapCancelReason(std::string_view r) {
  if (r.empty()) return CancelReason::kNone;
  // The venue's cancel_reason vocabulary is not enumerated in the notes (only NOT_ENOUGH_MARGIN
  // is named); match on the words every spelling shares, keep the text for the client.
  auto has = [&](std::string_view w) { return r.find(w) != std::string_view::npos; };
  if (has("POST_ONLY")) return CancelReason::kPostOnlyViolation;
  if (has("REDUCE_ONLY")) return CancelReason::kReduceOnly;
  if (has("MARGIN") || has("BALANCE") || has("COLLATERAL")) {
    return CancelReason::kInsufficientBalance;
  }
  if (has("SELF_TRADE") || has("STP")) return CancelReason::kSelfTrade;
  if (has("LIQUIDAT")) return CancelReason::kLiquidation;
  if (has("EXPIRE") || has("IOC") || has("UNFILLED")) return CancelReason::kExpired;
  if (has("USER_CANCEL")) return CancelReason::kUserCanceled;
  if (has("INVALID") || has("REJECT") || has("NOT_") || has("SIGNATURE") || has("SIZE") ||
      has("PRICE") || has("DUPLICATE")) {
    return CancelReason::kRejected;
  }
  return CancelReason::kUnknown;
}

OrderStatus MapOrderStatus(std::string_view s, Decimal size, Decimal remaining,
                           std::string_view cancel_reason) {
  bool filled_any = remaining < size;
  if (s == "NEW" || s == "UNTRIGGERED") {
    return filled_any ? OrderStatus::kPartiallyFilled : OrderStatus::kOpen;
  }
  if (s == "OPEN") return filled_any ? OrderStatus::kPartiallyFilled : OrderStatus::kOpen;
  if (s == "CLOSED") {
    if (remaining.IsZero()) return OrderStatus::kFilled;
    CancelReason r = MapCancelReason(cancel_reason);
    if (!filled_any &&
        (r == CancelReason::kPostOnlyViolation || r == CancelReason::kInsufficientBalance ||
         r == CancelReason::kRejected || r == CancelReason::kReduceOnly)) {
      return OrderStatus::kRejected;
    }
    if (r == CancelReason::kExpired) return OrderStatus::kExpired;
    return OrderStatus::kCanceled;
  }
  return OrderStatus::kPendingNew;  // unknown status: not terminal, reconcile decides
}

absl::StatusOr<Funding> BuildFunding(const FundingData& fd, const MarketSummary* summary,
                                     std::string_view normalized_symbol, UnixNanos as_of) {
  Funding f;
  f.venue = S(kVenueName);
  f.symbol = S(normalized_symbol);
  f.rate = fd.funding_rate;
  if (fd.funding_period_hours <= 0) return Bad("funding: no funding period for " + fd.venue_symbol);
  f.interval_hours = Decimal::FromInt(fd.funding_period_hours);
  PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
  f.next_funding_time = 0;  // continuous accrual
  if (summary != nullptr) {
    f.mark_price = summary->mark_price;
    f.index_price = summary->index_price;
    f.volume_24h_usd = summary->volume_24h_usd;
    auto oi = Decimal::Mul(summary->open_interest, summary->mark_price, 2, Rounding::kHalfEven);
    if (oi.ok()) f.open_interest_usd = oi->Normalized();
  }
  f.as_of = fd.exchange_time != 0 ? fd.exchange_time : as_of;
  return f;
}

absl::StatusOr<Funding> BuildFundingFromSummary(const MarketSummary& s, int64_t period_hours,
                                                std::string_view normalized_symbol,
                                                UnixNanos as_of) {
  FundingData fd;
  fd.venue_symbol = s.venue_symbol;
  fd.funding_rate = s.funding_rate;
  fd.funding_period_hours = period_hours;
  fd.exchange_time = s.exchange_time;
  return BuildFunding(fd, &s, normalized_symbol, as_of);
}

absl::StatusOr<std::vector<Funding>> BuildFundingHistory(const std::vector<FundingData>& rows,
                                                         std::string_view venue_symbol,
                                                         int64_t market_period_hours,
                                                         std::string_view normalized_symbol) {
  std::vector<Funding> out;
  out.reserve(rows.size());
  for (const FundingData& row : rows) {
    if (row.venue_symbol != venue_symbol) {
      return Bad("funding data row for " + Short(row.venue_symbol) + ", asked " + S(venue_symbol));
    }
    if (row.exchange_time == 0) {
      return Bad("funding data row of " + S(venue_symbol) + " without created_at");
    }
    FundingData d = row;
    // The live path normalizes with the row's own period; a row without one takes the market's
    // (the summary fallback of the live path does the same).
    if (d.funding_period_hours <= 0) d.funding_period_hours = market_period_hours;
    PERPGW_ASSIGN_OR_RETURN(Funding f, BuildFunding(d, nullptr, normalized_symbol, 0));
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Funding& a, const Funding& b) { return a.as_of < b.as_of; });
  return out;
}

std::string EncodeFundingDataQuery(std::string_view market, const FundingHistoryQuery& q,
                                   std::string_view cursor) {
  constexpr int64_t kMs = wire::kNanosPerMilli;
  std::string s =
      wire::Cat("market=", market, "&page_size=", std::to_string(std::clamp(q.limit, 1, 5000)));
  if (q.from > 0) s += "&start_at=" + std::to_string((q.from + kMs - 1) / kMs);
  if (q.to > 0) s += "&end_at=" + std::to_string(q.to / kMs);
  if (!cursor.empty()) {
    s += "&cursor=";
    common::AppendPercentEncoded(&s, cursor);
  }
  return s;
}

bool FundingHistoryComplete(const std::vector<FundingData>& page, const PageCursor& cursor,
                            size_t have, int limit) {
  if (cursor.next.empty() || page.empty()) return true;
  const bool newest_first = page.front().exchange_time >= page.back().exchange_time;
  return newest_first && have >= static_cast<size_t>(std::max(limit, 1));
}

LeverageInfo BuildLeverageInfo(const MarketInfo& market, const MarginSetting* setting) {
  LeverageInfo l;
  l.venue = S(kVenueName);
  l.symbol = market.instrument.symbol;
  l.max_leverage = market.instrument.max_leverage;
  l.initial_margin_ratio = market.imf_base;
  auto mmr = Decimal::Mul(market.imf_base, market.mmf_factor, 12, Rounding::kHalfEven);
  if (mmr.ok()) l.maint_margin_ratio = mmr->Normalized();
  if (setting != nullptr) l.leverage = setting->leverage;
  return l;
}

BookUpdate MakeSnapshotUpdate(const DepthSnapshot& snap, const Instrument& inst,
                              UnixNanos receive_time) {
  BookUpdate u;
  u.venue = S(kVenueName);
  u.symbol = inst.symbol;
  u.snapshot = true;
  u.venue_seq = snap.seq_no;
  u.exchange_time = snap.exchange_time;
  u.receive_time = receive_time;
  u.price_scale = inst.price_scale;
  u.size_scale = inst.size_scale;
  u.bids = snap.bids;
  u.asks = snap.asks;
  return u;
}

absl::StatusOr<int64_t> JwtExpiry(std::string_view jwt) {
  size_t d1 = jwt.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return Bad("jwt: not three dot-separated parts");
  std::string_view b64 = jwt.substr(d1 + 1, d2 - d1 - 1);
  // base64url without padding.
  std::string payload;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : b64) {
    int v;
    if (ch >= 'A' && ch <= 'Z') {
      v = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      v = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      v = ch - '0' + 52;
    } else if (ch == '-' || ch == '+') {
      v = 62;
    } else if (ch == '_' || ch == '/') {
      v = 63;
    } else if (ch == '=') {
      break;
    } else {
      return Bad("jwt: payload is not base64url");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      payload.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  int64_t exp = 0;
  wire::JsonParser& parser = wire::JsonParser::ThreadLocal();
  od::document doc;
  PERPGW_RETURN_IF_ERROR(parser.Start(payload, W("jwt"), &doc));
  od::object o;
  PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, W("jwt"), &o));
  Fields f{"exp"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W("jwt")));
  PERPGW_RETURN_IF_ERROR(f.Get("exp", &exp));
  if (exp <= 0) return Bad("jwt: non-positive exp");
  return exp;
}

bool TradeIdLow64(std::string_view id, int64_t* out) {
  if (id.empty()) return false;
  uint64_t v = 0;  // arithmetic mod 2^64: unsigned wrap-around is exactly that
  for (char c : id) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = static_cast<int64_t>(v);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Encoders

absl::StatusOr<EncodedOrder> EncodeOrderFields(const OrderRequest& req, const Instrument& inst,
                                               std::string_view client_id, uint64_t timestamp_ms) {
  if (inst.venue_symbol.empty()) return Bad("order: instrument has no venue symbol");
  if (!req.size.IsPositive()) return Bad("order: size must be > 0");
  if (inst.step_size.IsPositive() && !req.size.IsMultipleOf(inst.step_size)) {
    return Bad("order: size " + req.size.ToString() + " is not a multiple of the size increment " +
               inst.step_size.ToString());
  }
  if (client_id.size() > 64) return Bad("order: client id longer than 64 characters");
  EncodedOrder e;
  OrderFields& s = e.signed_fields;
  s.timestamp_ms = timestamp_ms;
  s.market = inst.venue_symbol;
  s.side = req.side == Side::kBuy ? OrderSide::kBuy : OrderSide::kSell;
  s.size = req.size.ToNormalizedString();
  auto check_tick = [&](Decimal px) -> absl::Status {
    if (!px.IsPositive()) return Bad("order: price must be > 0");
    if (inst.tick_size.IsPositive() && !px.IsMultipleOf(inst.tick_size)) {
      return Bad("order: price " + px.ToString() + " is not a multiple of tick " +
                 inst.tick_size.ToString());
    }
    return absl::OkStatus();
  };
  if (req.tif == TimeInForce::kFok) {
    return Bad("order: Paradex has no FOK (instructions are GTC, IOC, POST_ONLY)");
  }
  if (req.type == OrderType::kLimit) {
    PERPGW_RETURN_IF_ERROR(check_tick(req.price));
    s.order_type = "LIMIT";
    s.price = req.price.ToNormalizedString();
  } else if (req.type == OrderType::kMarket) {
    if (req.tif == TimeInForce::kPostOnly) return Bad("order: a market order cannot be post-only");
    if (req.worst_price.IsPositive()) {
      // Exact price protection: LIMIT + IOC at the worst price, rounded inward (buys down, sells
      // up) so the bound is never loosened. A Paradex MARKET order only has the venue's own
      // max_slippage.
      Decimal px = req.worst_price;
      if (inst.tick_size.IsPositive()) {
        PERPGW_ASSIGN_OR_RETURN(
            px, req.worst_price.RoundToStep(
                    inst.tick_size, req.side == Side::kBuy ? Rounding::kFloor : Rounding::kCeil));
      }
      PERPGW_RETURN_IF_ERROR(check_tick(px));
      s.order_type = "LIMIT";
      s.price = px.ToNormalizedString();
    } else {
      s.order_type = "MARKET";
      s.price = "0";  // market orders sign price 0
    }
  } else {
    return Bad("order: unsupported order type");
  }
  // The exact-decimal scaling the signature needs must succeed now, not at signing time.
  PERPGW_RETURN_IF_ERROR(ScaleDecimal8(s.size).status());
  if (s.order_type != "MARKET") PERPGW_RETURN_IF_ERROR(ScaleDecimal8(s.price).status());
  return e;
}

std::string EncodeOrderBody(const OrderRequest& req, const Instrument& inst,
                            const EncodedOrder& fields, std::string_view client_id,
                            std::string_view signature_json, int64_t recv_window_ms) {
  const OrderFields& s = fields.signed_fields;
  bool market = s.order_type == "MARKET";
  std::string_view instruction = "GTC";
  if (req.tif == TimeInForce::kPostOnly) instruction = "POST_ONLY";
  if (req.tif == TimeInForce::kIoc || (req.type == OrderType::kMarket && !market)) {
    instruction = "IOC";
  }
  std::string b = "{\"market\":";
  wire::AppendJsonQuoted(&b, inst.venue_symbol);
  b += ",\"side\":";
  b += s.side == OrderSide::kBuy ? "\"BUY\"" : "\"SELL\"";
  b += ",\"type\":";
  wire::AppendJsonQuoted(&b, s.order_type);
  b += ",\"size\":";
  wire::AppendJsonQuoted(&b, s.size);
  if (!market) {
    b += ",\"price\":";
    wire::AppendJsonQuoted(&b, s.price);
  }
  b += ",\"instruction\":";
  wire::AppendJsonQuoted(&b, instruction);
  if (!client_id.empty()) {
    b += ",\"client_id\":";
    wire::AppendJsonQuoted(&b, client_id);
  }
  b += req.reduce_only ? ",\"flags\":[\"REDUCE_ONLY\"]" : ",\"flags\":[]";
  if (recv_window_ms > 0) wire::Append(&b, ",\"recv_window\":", recv_window_ms);
  b += ",\"signature\":";
  wire::AppendJsonQuoted(&b, signature_json);
  wire::Append(&b, ",\"signature_timestamp\":", s.timestamp_ms, "}");
  return b;
}

std::string EncodeBatchOrdersBody(const std::vector<std::string>& order_bodies) {
  std::string b = "[";
  for (size_t i = 0; i < order_bodies.size(); ++i) {
    if (i > 0) b += ',';
    b += order_bodies[i];
  }
  b += ']';
  return b;
}

absl::StatusOr<std::vector<BatchOrderEntry>> MatchBatchOrdersAnswer(
    std::string_view body, const std::vector<std::string>& client_ids) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return Bad("batch answer: not JSON");
  simdjson::dom::array orders, errors;
  if (doc.at_key("orders").get(orders)) return Bad("batch answer: no orders array");
  if (doc.at_key("errors").get(errors)) return Bad("batch answer: no errors array");
  const size_t n = client_ids.size();
  std::vector<BatchOrderEntry> out(n);
  for (simdjson::dom::element o : orders) {
    std::string_view cid;
    if (o.at_key("client_id").get(cid)) return Bad("batch answer: an order without client_id");
    size_t i = 0;
    while (i < n && (out[i].http_status != 0 || client_ids[i] != cid)) ++i;
    if (i == n) return Bad("batch answer: order " + std::string(cid) + " was not asked for");
    out[i] = {201, simdjson::to_string(o)};
  }
  std::vector<simdjson::dom::element> errs;
  for (simdjson::dom::element e : errors) errs.push_back(e);
  if (errs.size() == n && n > 0) {
    // Positional (nulls for the accepted ones).
    for (size_t i = 0; i < n; ++i) {
      if (errs[i].is_null()) continue;
      if (out[i].http_status != 0) return Bad("batch answer: an order both placed and refused");
      out[i] = {400, simdjson::to_string(errs[i])};
    }
    return out;
  }
  size_t next = 0;
  for (simdjson::dom::element e : errs) {
    if (e.is_null()) continue;
    while (next < n && out[next].http_status != 0) ++next;
    if (next == n) return Bad("batch answer: more entries than orders");
    out[next++] = {400, simdjson::to_string(e)};
  }
  return out;
}

std::string EncodeBatchCancelBody(const std::vector<std::string>& order_ids,
                                  const std::vector<std::string>& client_order_ids) {
  std::string b = "{\"order_ids\":[";
  for (size_t i = 0; i < order_ids.size(); ++i) {
    if (i > 0) b += ',';
    wire::AppendJsonQuoted(&b, order_ids[i]);
  }
  b += "],\"client_order_ids\":[";
  for (size_t i = 0; i < client_order_ids.size(); ++i) {
    if (i > 0) b += ',';
    wire::AppendJsonQuoted(&b, client_order_ids[i]);
  }
  b += "]}";
  return b;
}

absl::StatusOr<std::vector<BatchCancelEntry>> ParseBatchCancelAnswer(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return Bad("batch cancel: not JSON");
  simdjson::dom::array results;
  if (doc.at_key("results").get(results)) return Bad("batch cancel: no results array");
  std::vector<BatchCancelEntry> out;
  for (simdjson::dom::element r : results) {
    BatchCancelEntry e;
    std::string_view v;
    if (!r.at_key("id").get(v)) e.id = std::string(v);
    if (!r.at_key("client_id").get(v)) e.client_id = std::string(v);
    if (r.at_key("status").get(v)) return Bad("batch cancel: an entry without status");
    e.status = std::string(v);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<ModifyOrderFields> EncodeModifyOrderFields(const Instrument& inst,
                                                          std::string_view order_id, Side side,
                                                          Decimal size, Decimal price,
                                                          uint64_t timestamp_ms) {
  if (inst.venue_symbol.empty()) return Bad("modify: instrument has no venue symbol");
  if (order_id.empty() || order_id.find_first_not_of("0123456789") != std::string_view::npos) {
    return Bad("modify: paradex order ids are numeric, got '" +
               std::string(order_id.substr(0, 40)) + "'");
  }
  if (!size.IsPositive()) return Bad("modify: size must be > 0");
  if (inst.step_size.IsPositive() && !size.IsMultipleOf(inst.step_size)) {
    return Bad("modify: size " + size.ToString() + " is not a multiple of the size increment " +
               inst.step_size.ToString());
  }
  if (!price.IsPositive()) return Bad("modify: price must be > 0");
  if (inst.tick_size.IsPositive() && !price.IsMultipleOf(inst.tick_size)) {
    return Bad("modify: price " + price.ToString() + " is not a multiple of tick " +
               inst.tick_size.ToString());
  }
  ModifyOrderFields m;
  OrderFields& s = m.order;
  s.timestamp_ms = timestamp_ms;
  s.market = inst.venue_symbol;
  s.side = side == Side::kBuy ? OrderSide::kBuy : OrderSide::kSell;
  s.order_type = "LIMIT";  // only resting limit orders are amended (the gateway's rule)
  s.size = size.ToNormalizedString();
  s.price = price.ToNormalizedString();
  m.id = std::string(order_id);
  // The exact-decimal scaling the signature needs must succeed now, not at signing time.
  PERPGW_RETURN_IF_ERROR(ScaleDecimal8(s.size).status());
  PERPGW_RETURN_IF_ERROR(ScaleDecimal8(s.price).status());
  return m;
}

std::string EncodeModifyOrderBody(const ModifyOrderFields& fields, std::string_view signature_json,
                                  int64_t recv_window_ms) {
  const OrderFields& s = fields.order;
  std::string b = "{\"id\":";
  wire::AppendJsonQuoted(&b, fields.id);
  b += ",\"market\":";
  wire::AppendJsonQuoted(&b, s.market);
  b += ",\"side\":";
  b += s.side == OrderSide::kBuy ? "\"BUY\"" : "\"SELL\"";
  b += ",\"type\":";
  wire::AppendJsonQuoted(&b, s.order_type);
  b += ",\"size\":";
  wire::AppendJsonQuoted(&b, s.size);
  b += ",\"price\":";
  wire::AppendJsonQuoted(&b, s.price);
  if (recv_window_ms > 0) wire::Append(&b, ",\"recv_window\":", recv_window_ms);
  b += ",\"signature\":";
  wire::AppendJsonQuoted(&b, signature_json);
  wire::Append(&b, ",\"signature_timestamp\":", s.timestamp_ms, "}");
  return b;
}

absl::StatusOr<std::string> EncodeSetLeverage(Decimal leverage, std::string_view margin_type) {
  Decimal n = leverage.Normalized();
  if (!n.IsPositive() || n.scale() != 0) {
    return Bad("leverage must be a positive whole number, got " + leverage.ToString());
  }
  if (margin_type != "CROSS" && margin_type != "ISOLATED") {
    return Bad("margin type must be CROSS or ISOLATED");
  }
  return wire::Cat("{\"leverage\":", n.ToString(), ",\"margin_type\":\"", margin_type, "\"}");
}

std::string EncodeAuth(std::string_view jwt, int64_t id) {
  std::string b = "{\"jsonrpc\":\"2.0\",\"method\":\"auth\",\"params\":{\"bearer\":";
  wire::AppendJsonQuoted(&b, jwt);
  wire::Append(&b, "},\"id\":", id, "}");
  return b;
}

std::string EncodeCancelOnDisconnect(bool enabled, int64_t id) {
  return wire::Cat(
      "{\"jsonrpc\":\"2.0\",\"method\":\"order.cancel_on_disconnect\",\"params\":{\"enabled\":",
      enabled ? "true" : "false", "},\"id\":", id, "}");
}

namespace {
std::string ChannelRequest(std::string_view method, std::string_view channel, int64_t id) {
  std::string b =
      wire::Cat("{\"jsonrpc\":\"2.0\",\"method\":\"", method, "\",\"params\":{\"channel\":");
  wire::AppendJsonQuoted(&b, channel);
  wire::Append(&b, "},\"id\":", id, "}");
  return b;
}
}  // namespace

std::string EncodeSubscribe(std::string_view channel, int64_t id) {
  return ChannelRequest("subscribe", channel, id);
}
std::string EncodeUnsubscribe(std::string_view channel, int64_t id) {
  return ChannelRequest("unsubscribe", channel, id);
}

std::string OrderBookDeltasChannel(std::string_view market) {
  return wire::Cat("order_book.", market, ".deltas@15@50ms");
}
std::string BboChannel(std::string_view market) {
  return wire::Cat("bbo.", market);
}
std::string TradesChannel(std::string_view market) {
  return wire::Cat("trades.", market);
}
std::string FundingDataChannel(std::string_view market) {
  return wire::Cat("funding_data.", market);
}
std::string MarketsSummaryChannel(std::string_view market) {
  return wire::Cat("markets_summary.", market);
}

std::string SbeChannelFor(uint16_t template_id, std::string_view market) {
  switch (static_cast<sbe::TemplateId>(template_id)) {
    case sbe::TemplateId::kTrade: return TradesChannel(market);
    case sbe::TemplateId::kBbo: return BboChannel(market);
    case sbe::TemplateId::kBook: return wire::Cat("order_book.", market);
    case sbe::TemplateId::kMarketSummary: return MarketsSummaryChannel(market);
    case sbe::TemplateId::kFundingData: return FundingDataChannel(market);
    case sbe::TemplateId::kFundingRateComparison: return "funding_rate_comparison";
    case sbe::TemplateId::kPosition: return std::string(kPositionsChannel);
    case sbe::TemplateId::kAccount: return std::string(kAccountChannel);
    case sbe::TemplateId::kOrder: return wire::Cat("orders.", market);
    case sbe::TemplateId::kFill: return wire::Cat("fills.", market);
    default: return {};
  }
}

std::string WithSbeQuery(std::string_view ws_url, uint16_t version) {
  return wire::Cat(ws_url, ws_url.find('?') == std::string_view::npos ? "?" : "&",
                   "sbeSchemaId=", sbe::kSchemaId, "&sbeSchemaVersion=", version);
}

}  // namespace perpgw::adapters::paradex
