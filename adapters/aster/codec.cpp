// Aster codec: simdjson on-demand decoders for REST/WS payloads and the request encoders.
#include "adapters/aster/codec.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "adapters/aster/errors.h"
#include "adapters/wire/json_reader.h"
#include "adapters/wire/json_writer.h"

namespace perpgw::adapters::aster {
namespace {
namespace od = simdjson::ondemand;

// Every message names the venue: "aster <what>: <detail>".
constexpr wire::Where W(std::string_view what) { return {"aster", what}; }

absl::Status Invalid(std::string_view what, std::string_view detail) {
  return wire::Invalid(W(what), detail);
}

// Decoders never nest: one thread-local parser; a document is valid until the next Start.
absl::Status Start(std::string_view json, std::string_view what, od::document* doc) {
  return wire::JsonParser::ThreadLocal().Start(json, W(what), doc);
}

std::string Ticker(const SymbolMap* symbols, std::string_view venue_symbol) {
  return symbols ? symbols->ToTicker(venue_symbol) : std::string(venue_symbol);
}

// Lenient for event times inside frames we decode anyway: a bad time is "unknown" (0).
UnixNanos MillisToNanos(int64_t ms) {
  UnixNanos ns = 0;
  return wire::ToNanos(ms, wire::kNanosPerMilli, &ns) ? ns : 0;
}

// Body of a depthUpdate object (keys e/s are skipped: the caller read them).
absl::Status ReadDepthBody(od::object& obj, int ps, int ss, DeltaMsg* out, bool need_prev,
                           std::string_view what) {
  out->changes.clear();
  out->first_id = out->last_id = out->prev_id = 0;
  out->exchange_time = 0;
  bool have_u = false, have_first = false, have_prev = false;
  int64_t event_ms = 0, tx_ms = 0;
  for (auto fr : obj) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(what));
    od::raw_json_string k = f.key();
    od::value v = f.value();
    if (k == "b") {
      PERPGW_RETURN_IF_ERROR(wire::ReadLevelChanges(v, BookSide::kBid, ps, ss, &out->changes, W(what)));
    } else if (k == "a") {
      PERPGW_RETURN_IF_ERROR(wire::ReadLevelChanges(v, BookSide::kAsk, ps, ss, &out->changes, W(what)));
    } else if (k == "U") {
      PERPGW_JSON_TRY(v.get_uint64().get(out->first_id), W(what));
      have_first = true;
    } else if (k == "u") {
      PERPGW_JSON_TRY(v.get_uint64().get(out->last_id), W(what));
      have_u = true;
    } else if (k == "pu") {
      PERPGW_JSON_TRY(v.get_uint64().get(out->prev_id), W(what));
      have_prev = true;
    } else if (k == "T") {
      PERPGW_JSON_TRY(v.get_int64().get(tx_ms), W(what));
    } else if (k == "E") {
      PERPGW_JSON_TRY(v.get_int64().get(event_ms), W(what));
    }
  }
  if (!have_u) return Invalid(what, "missing u");
  if (need_prev && (!have_prev || !have_first)) return Invalid(what, "missing U/pu");
  if (!have_first) out->first_id = out->last_id;
  if (out->first_id > out->last_id) return Invalid(what, "U > u");
  out->exchange_time = MillisToNanos(tx_ms != 0 ? tx_ms : event_ms);
  return absl::OkStatus();
}

// Consumes the remaining fields of an object we do not decode (so trailing checks still work).
}  // namespace

// ============================================================================================
// Generic bodies
absl::StatusOr<ErrorBody> ParseErrorBody(std::string_view json) {
  constexpr std::string_view kWhat = "error body";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  wire::Fields f{"code", "msg"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  int64_t code = 0;
  PERPGW_RETURN_IF_ERROR(f.Get("code", &code));
  if (code < INT32_MIN || code > INT32_MAX) return Invalid(kWhat, "code out of range");
  ErrorBody b;
  b.code = static_cast<int>(code);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("msg", &b.msg));
  return b;
}

// An answer carrying {"code","msg"} where an object was expected. A success code (200 / 0, as
// cancel-all answers carry) is not that object either: an error, never an OK status where a
// value is due (an OK status in a StatusOr<T> aborts the process; found by fuzz_aster_codec).
static absl::Status CodeInsteadOf(std::string_view what, int code, std::string_view msg) {
  absl::Status st = ToStatus(ClassifyError(200, code, msg, RequestKind::kQuery));
  if (st.ok()) {
    return Invalid(what, "answer has code " + std::to_string(code) + " and no " + std::string(what));
  }
  return st;
}

absl::Status ParseCodeAck(std::string_view json) {
  auto b = ParseErrorBody(json);
  if (!b.ok()) return b.status();
  if (b->code == 200 || b->code == 0) return absl::OkStatus();
  return ToStatus(ClassifyError(200, b->code, b->msg, RequestKind::kQuery));
}

absl::StatusOr<int64_t> ParseServerTimeMs(std::string_view json) {
  constexpr std::string_view kWhat = "server time";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  wire::Fields f{"serverTime"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  int64_t ms = 0;
  PERPGW_RETURN_IF_ERROR(f.Get("serverTime", &ms));
  if (ms <= 0) return Invalid(kWhat, "serverTime must be positive");
  return ms;
}

absl::StatusOr<std::string> ParseListenKey(std::string_view json) {
  constexpr std::string_view kWhat = "listenKey";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  wire::Fields f{"listenKey"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  std::string key;
  PERPGW_RETURN_IF_ERROR(f.Get("listenKey", &key));
  if (key.empty()) return Invalid(kWhat, "empty listenKey");
  // The key goes into a URL path: refuse anything but URL-safe characters.
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return Invalid(kWhat, "listenKey has characters unsafe in a URL path");
  }
  return key;
}

// ============================================================================================
// exchangeInfo
namespace {

absl::Status ReadFilter(od::value& v, InstrumentInfo* info, bool* have_tick, bool* have_step) {
  constexpr std::string_view kWhat = "exchangeInfo filter";
  od::object obj;
  PERPGW_JSON_TRY(v.get_object().get(obj), W(kWhat));
  wire::Fields f{"filterType", "tickSize", "minPrice", "maxPrice", "stepSize", "minQty", "maxQty",
           "notional", "multiplierUp", "multiplierDown"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  std::string_view type = f["filterType"].text;
  Instrument& in = info->instrument;
  if (type == "PRICE_FILTER") {
    PERPGW_RETURN_IF_ERROR(f.Get("tickSize", &in.tick_size));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("minPrice", &info->min_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("maxPrice", &info->max_price));
    *have_tick = true;
  } else if (type == "LOT_SIZE") {
    PERPGW_RETURN_IF_ERROR(f.Get("stepSize", &in.step_size));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("minQty", &in.min_size));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("maxQty", &in.max_size));
    *have_step = true;
  } else if (type == "MARKET_LOT_SIZE") {
    PERPGW_RETURN_IF_ERROR(f.GetOpt("stepSize", &info->market_step));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("minQty", &info->market_min_qty));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("maxQty", &info->market_max_qty));
  } else if (type == "MIN_NOTIONAL") {
    PERPGW_RETURN_IF_ERROR(f.GetOpt("notional", &in.min_notional));
  } else if (type == "PERCENT_PRICE") {
    PERPGW_RETURN_IF_ERROR(f.GetOpt("multiplierUp", &in.price_band_up));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("multiplierDown", &in.price_band_down));
  }
  return absl::OkStatus();
}

absl::Status ReadStringList(od::value& v, std::vector<std::string>* out, std::string_view what) {
  return wire::ForEachInArray(v, W(what), [&](od::value& e) {
    std::string_view s;
    PERPGW_JSON_TRY(e.get_string().get(s), W(what));
    out->emplace_back(s);
    return absl::OkStatus();
  });
}

// One symbols[] row. A row whose filters are unusable is reported via `skip_reason` (the rest
// of the catalogue still loads); malformed JSON is an error.
absl::Status ReadSymbol(od::object& obj, InstrumentInfo* info, std::string* skip_reason) {
  constexpr std::string_view kWhat = "exchangeInfo symbol";
  bool have_tick = false, have_step = false;
  absl::Status filter_error;
  wire::Fields f{"symbol", "status", "contractType", "baseAsset", "quoteAsset"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat), [&](std::string_view key, od::value& v) {
    if (key == "filters") {
      return wire::ForEachInArray(v, W(kWhat), [&](od::value& fv) {
        absl::Status s = ReadFilter(fv, info, &have_tick, &have_step);
        // Bad numbers in one filter disqualify the symbol, not the whole catalogue; broken
        // JSON still fails the parse.
        if (!s.ok() && filter_error.ok()) filter_error = s;
        return s.message().find("malformed JSON") != std::string_view::npos ? s
                                                                             : absl::OkStatus();
      });
    }
    if (key == "orderTypes") return ReadStringList(v, &info->order_types, kWhat);
    if (key == "timeInForce") return ReadStringList(v, &info->time_in_force, kWhat);
    return absl::OkStatus();
  }));
  Instrument& in = info->instrument;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &in.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("status", &info->status));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("contractType", &info->contract_type));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("baseAsset", &in.base));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("quoteAsset", &in.quote));
  in.venue = kVenue;
  in.tradeable = info->status == "TRADING";
  if (!filter_error.ok()) {
    *skip_reason = std::string(filter_error.message());
  } else if (in.base.empty() || in.quote.empty()) {
    *skip_reason = "missing baseAsset/quoteAsset";
  } else if (!have_tick || !in.tick_size.IsPositive()) {
    *skip_reason = "missing or non-positive PRICE_FILTER tickSize";
  } else if (!have_step || !in.step_size.IsPositive()) {
    *skip_reason = "missing or non-positive LOT_SIZE stepSize";
  }
  if (!skip_reason->empty()) return absl::OkStatus();
  in.tick_size = in.tick_size.Normalized();
  in.step_size = in.step_size.Normalized();
  in.min_size = in.min_size.Normalized();
  if (in.max_size) in.max_size = in.max_size->Normalized();
  if (in.min_notional) in.min_notional = in.min_notional->Normalized();
  // Scales come from the tick/step strings (never from pricePrecision, per the venue docs); the
  // size scale also covers the market-order step.
  in.price_scale = DecimalPlaces(in.tick_size);
  in.size_scale = std::max(DecimalPlaces(in.step_size),
                           info->market_step.IsPositive() ? DecimalPlaces(info->market_step) : 0);
  in.quantity_multiplier = NormalizeBaseAsset(in.base).multiplier;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExchangeInfo> ParseExchangeInfoDetailed(std::string_view json,
                                                       const ExchangeInfoOptions& options) {
  constexpr std::string_view kWhat = "exchangeInfo";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object top;
  PERPGW_JSON_TRY(doc.get_object().get(top), W(kWhat));
  ExchangeInfo out;
  bool have_symbols = false;
  for (auto fr : top) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(kWhat));
    od::raw_json_string k = f.key();
    od::value v = f.value();
    if (k == "serverTime") {
      PERPGW_JSON_TRY(v.get_int64().get(out.server_time_ms), W(kWhat));
    } else if (k == "symbols") {
      have_symbols = true;
      PERPGW_RETURN_IF_ERROR(wire::ForEachInArray(v, W(kWhat), [&](od::value& sv) {
        od::object so;
        PERPGW_JSON_TRY(sv.get_object().get(so), W(kWhat));
        InstrumentInfo info;
        std::string skip;
        PERPGW_RETURN_IF_ERROR(ReadSymbol(so, &info, &skip));
        bool perp = info.contract_type == "PERPETUAL";
        if (!perp && !options.include_non_perpetual) return absl::OkStatus();
        if (options.tradeable_only && !info.instrument.tradeable) return absl::OkStatus();
        if (!skip.empty()) {
          out.skipped.push_back(info.instrument.venue_symbol + ": " + skip);
          return absl::OkStatus();
        }
        out.instruments.push_back(std::move(info));
        return absl::OkStatus();
      }));
    }
  }
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  if (!have_symbols) return Invalid(kWhat, "missing symbols[]");
  std::vector<Instrument> list;
  list.reserve(out.instruments.size());
  for (const InstrumentInfo& i : out.instruments) list.push_back(i.instrument);
  AssignTickers(&list, options.ticker_overrides);
  for (size_t i = 0; i < list.size(); ++i) out.instruments[i].instrument.symbol = list[i].symbol;
  return out;
}

absl::StatusOr<std::vector<Instrument>> ParseExchangeInfo(std::string_view json,
                                                          const ExchangeInfoOptions& options) {
  auto info = ParseExchangeInfoDetailed(json, options);
  if (!info.ok()) return info.status();
  std::vector<Instrument> out;
  out.reserve(info->instruments.size());
  for (InstrumentInfo& i : info->instruments) out.push_back(std::move(i.instrument));
  return out;
}

// ============================================================================================
// Funding info / history
absl::StatusOr<std::vector<FundingIntervalInfo>> ParseFundingInfo(std::string_view json) {
  constexpr std::string_view kWhat = "fundingInfo";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<FundingIntervalInfo> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "interestRate", "time", "fundingIntervalHours", "fundingFeeCap",
             "fundingFeeFloor"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    FundingIntervalInfo r;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &r.venue_symbol));
    int64_t hours = 0;
    PERPGW_RETURN_IF_ERROR(f.Get("fundingIntervalHours", &hours));
    if (hours <= 0 || hours > 24 * 7) return Invalid(kWhat, "fundingIntervalHours out of range");
    r.interval_hours = static_cast<int>(hours);
    PERPGW_RETURN_IF_ERROR(f.GetOpt("interestRate", &r.interest_rate));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("fundingFeeCap", &r.fee_cap));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("fundingFeeFloor", &r.fee_floor));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &r.time));
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

FundingIntervals ToFundingIntervals(const std::vector<FundingIntervalInfo>& rows) {
  FundingIntervals m;
  for (const FundingIntervalInfo& r : rows) m[r.venue_symbol] = r.interval_hours;
  return m;
}

int IntervalHoursFor(const FundingIntervals* intervals, std::string_view venue_symbol) {
  if (intervals) {
    auto it = intervals->find(venue_symbol);
    if (it != intervals->end() && it->second > 0) return it->second;
  }
  return kDefaultFundingIntervalHours;
}

void ApplyFundingIntervals(const FundingIntervals& intervals, std::vector<Instrument>* instruments) {
  for (Instrument& i : *instruments) {
    i.funding_interval_hours = IntervalHoursFor(&intervals, i.venue_symbol);
  }
}

absl::StatusOr<std::vector<FundingRateRow>> ParseFundingRateHistory(std::string_view json) {
  constexpr std::string_view kWhat = "fundingRate";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<FundingRateRow> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "fundingRate", "fundingTime", "markPrice"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    FundingRateRow r;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &r.venue_symbol));
    PERPGW_RETURN_IF_ERROR(f.Get("fundingRate", &r.rate));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("fundingTime", wire::kNanosPerMilli, &r.funding_time));
    // The docs' sample has no markPrice; Binance-shaped answers carry it (optional here).
    PERPGW_RETURN_IF_ERROR(f.GetOpt("markPrice", &r.mark_price));
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

std::optional<int> InferIntervalHours(const std::vector<FundingRateRow>& rows) {
  constexpr int64_t kHour = 3600LL * 1'000'000'000LL;
  std::optional<int64_t> best;
  for (size_t i = 1; i < rows.size(); ++i) {
    int64_t gap = rows[i].funding_time - rows[i - 1].funding_time;
    if (gap < 0) gap = -gap;
    if (gap == 0) continue;
    if (!best || gap < *best) best = gap;
  }
  if (!best || *best % kHour != 0) return std::nullopt;
  int64_t hours = *best / kHour;
  if (hours <= 0 || hours > 24 * 7) return std::nullopt;
  return static_cast<int>(hours);
}

int HistoryIntervalHours(const FundingIntervals* intervals, std::string_view venue_symbol,
                         const std::vector<FundingRateRow>& rows) {
  if (intervals) {
    auto it = intervals->find(venue_symbol);
    if (it != intervals->end() && it->second > 0) return it->second;
  }
  // Spec unsure about symbols fundingInfo lacks: it says infer from the settlement gaps, else 8.
  // The whole answer is one symbol's rows (checked by the caller), so the gaps are its own.
  return InferIntervalHours(rows).value_or(kDefaultFundingIntervalHours);
}

absl::StatusOr<std::vector<Funding>> ParseFundingHistory(std::string_view json,
                                                         std::string_view venue_symbol,
                                                         std::string_view ticker,
                                                         const FundingIntervals* intervals) {
  constexpr std::string_view kWhat = "fundingRate";
  auto rows = ParseFundingRateHistory(json);
  if (!rows.ok()) return rows.status();
  for (size_t i = 0; i < rows->size(); ++i) {
    const FundingRateRow& r = (*rows)[i];
    if (r.venue_symbol != venue_symbol) {
      return Invalid(kWhat, "row " + std::to_string(i) + " is for " + r.venue_symbol +
                                ", asked for " + std::string(venue_symbol));
    }
    if (r.funding_time <= 0) {
      return Invalid(kWhat, "row " + std::to_string(i) + " has no fundingTime");
    }
  }
  const Decimal hours = Decimal::FromInt(HistoryIntervalHours(intervals, venue_symbol, *rows));
  std::vector<Funding> out;
  out.reserve(rows->size());
  for (const FundingRateRow& r : *rows) {
    Funding f;
    f.venue = kVenue;
    f.symbol = std::string(ticker);
    f.rate = r.rate;
    f.interval_hours = hours;
    f.as_of = r.funding_time;
    f.mark_price = r.mark_price;
    PERPGW_RETURN_IF_ERROR(NormalizeFunding(&f));
    out.push_back(std::move(f));
  }
  return out;
}

// ============================================================================================
// Depth
absl::StatusOr<DepthSnapshot> ParseDepthSnapshot(std::string_view json, int price_scale,
                                                 int size_scale) {
  constexpr std::string_view kWhat = "depth snapshot";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  DepthSnapshot out;
  bool have_id = false, have_bids = false, have_asks = false;
  std::vector<LevelChange> tmp;
  for (auto fr : obj) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(kWhat));
    od::raw_json_string k = f.key();
    od::value v = f.value();
    if (k == "lastUpdateId") {
      PERPGW_JSON_TRY(v.get_uint64().get(out.last_update_id), W(kWhat));
      have_id = true;
    } else if (k == "E" || k == "T") {
      int64_t ms = 0;
      PERPGW_JSON_TRY(v.get_int64().get(ms), W(kWhat));
      (k == "E" ? out.event_time : out.transaction_time) = MillisToNanos(ms);
    } else if (k == "bids" || k == "asks") {
      bool bids = k == "bids";
      tmp.clear();
      PERPGW_RETURN_IF_ERROR(wire::ReadLevelChanges(v, bids ? BookSide::kBid : BookSide::kAsk,
                                                    price_scale, size_scale, &tmp, W(kWhat)));
      std::vector<Level>& side = bids ? out.bids : out.asks;
      side.clear();
      side.reserve(tmp.size());
      for (const LevelChange& c : tmp) side.push_back(c.level);
      (bids ? have_bids : have_asks) = true;
    }
  }
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  if (!have_id || !have_bids || !have_asks) return Invalid(kWhat, "missing lastUpdateId/bids/asks");
  return out;
}

absl::Status ParseDepthUpdate(std::string_view frame, int price_scale, int size_scale,
                              DeltaMsg* out) {
  constexpr std::string_view kWhat = "depthUpdate";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(frame, kWhat, &doc));
  od::object top;
  PERPGW_JSON_TRY(doc.get_object().get(top), W(kWhat));
  // Either {"stream":..,"data":{...}} or the bare event.
  bool wrapped = false;
  for (auto fr : top) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(kWhat));
    od::raw_json_string k = f.key();
    if (k == "data") {
      od::object data;
      PERPGW_JSON_TRY(f.value().get_object().get(data), W(kWhat));
      std::string e, s;
      PERPGW_RETURN_IF_ERROR(wire::PeekStrings(data, W(kWhat), {{"e", &e}, {"s", &s}}));
      if (e != "depthUpdate") return Invalid(kWhat, "not a depthUpdate event: " + e);
      PERPGW_RETURN_IF_ERROR(ReadDepthBody(data, price_scale, size_scale, out, true, kWhat));
      wrapped = true;
    } else if (k != "stream") {
      break;  // a bare event
    }
  }
  if (!wrapped) {
    PERPGW_JSON_TRY(top.reset().error(), W(kWhat));
    std::string e, s;
    PERPGW_RETURN_IF_ERROR(wire::PeekStrings(top, W(kWhat), {{"e", &e}, {"s", &s}}));
    if (e != "depthUpdate") return Invalid(kWhat, "not a depthUpdate event: " + e);
    PERPGW_RETURN_IF_ERROR(ReadDepthBody(top, price_scale, size_scale, out, true, kWhat));
  }
  return wire::CheckEnd(doc, W(kWhat));
}

DepthSnapshot PartialDepthToSnapshot(const DeltaMsg& msg) {
  DepthSnapshot s;
  s.last_update_id = msg.last_id;
  s.transaction_time = msg.exchange_time;
  SplitSnapshotLevels(msg, &s.bids, &s.asks);
  return s;
}

BookUpdate MakeSnapshotUpdate(const Instrument& instrument, const DepthSnapshot& snapshot,
                              UnixNanos receive_time) {
  BookUpdate u;
  u.venue = kVenue;
  u.symbol = instrument.symbol;
  u.snapshot = true;
  u.status = BookStatus::kLive;
  u.venue_seq = snapshot.last_update_id;
  u.exchange_time = snapshot.transaction_time != 0 ? snapshot.transaction_time : snapshot.event_time;
  u.receive_time = receive_time;
  u.price_scale = instrument.price_scale;
  u.size_scale = instrument.size_scale;
  u.bids = snapshot.bids;
  u.asks = snapshot.asks;
  return u;
}

// ============================================================================================
// Market frames
const char* ToString(MarketEventKind k) {
  switch (k) {
    case MarketEventKind::kUnknown: return "unknown";
    case MarketEventKind::kDepthDiff: return "depth_diff";
    case MarketEventKind::kDepthPartial: return "depth_partial";
    case MarketEventKind::kBookTicker: return "book_ticker";
    case MarketEventKind::kTrade: return "trade";
    case MarketEventKind::kMarkPrice: return "mark_price";
    case MarketEventKind::kLiquidation: return "liquidation";
    case MarketEventKind::kTicker: return "ticker";
    case MarketEventKind::kControlReply: return "control_reply";
    case MarketEventKind::kControlError: return "control_error";
  }
  return "?";
}

namespace {

// "<sym>@depth<rest>": rest "" or "@100ms" → diff; rest starting with a digit → partial.
std::string_view DepthSuffix(std::string_view stream, bool* found) {
  size_t at = stream.find("@depth");
  *found = at != std::string_view::npos;
  return *found ? stream.substr(at + 6) : std::string_view();
}

absl::Status FundingFromMark(const wire::Fields& f, std::string_view venue_symbol,
                             const MarketContext& ctx, Funding* out) {
  out->venue = kVenue;
  out->symbol = Ticker(ctx.symbols, venue_symbol);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("p", &out->mark_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("i", &out->index_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("r", &out->rate));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &out->next_funding_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &out->as_of));
  out->interval_hours = Decimal::FromInt(IntervalHoursFor(ctx.intervals, venue_symbol));
  return NormalizeFunding(out);
}

absl::Status LiquidationFromOrder(od::value& v, const SymbolMap* symbols, Liquidation* out,
                                  std::string* venue_symbol) {
  constexpr std::string_view kWhat = "forceOrder";
  od::object o;
  PERPGW_JSON_TRY(v.get_object().get(o), W(kWhat));
  wire::Fields f{"s", "S", "p", "ap", "q", "z", "l", "T"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(kWhat)));
  PERPGW_RETURN_IF_ERROR(f.Get("s", venue_symbol));
  out->venue = kVenue;
  out->symbol = Ticker(symbols, *venue_symbol);
  auto side = ParseSide(f["S"].text);
  if (!side.ok()) return side.status();
  out->side = *side;
  // Average fill price and filled size when the venue has them, else the order's own.
  Decimal avg, filled;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("ap", &avg));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("p", &out->price));
  if (avg.IsPositive()) out->price = avg;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("z", &filled));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("q", &out->size));
  if (filled.IsPositive()) out->size = filled;
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &out->exchange_time));
  return absl::OkStatus();
}

// One event object (header already peeked into out->event_type / out->venue_symbol).
absl::Status DecodeMarketEvent(od::object& obj, const MarketContext& ctx, UnixNanos recv,
                               MarketFrame* out) {
  const std::string& e = out->event_type;
  std::string_view what = e.empty() ? std::string_view("market event") : std::string_view(e);
  if (e == "depthUpdate") {
    bool found = false;
    std::string_view suffix = DepthSuffix(out->stream, &found);
    bool partial = found ? (!suffix.empty() && suffix[0] >= '0' && suffix[0] <= '9')
                         : ctx.raw_depth_is_partial;
    out->kind = partial ? MarketEventKind::kDepthPartial : MarketEventKind::kDepthDiff;
    const Instrument* in = ctx.symbols ? ctx.symbols->ByVenueSymbol(out->venue_symbol) : nullptr;
    if (!in) return absl::NotFoundError("aster depthUpdate: unknown symbol " + out->venue_symbol);
    out->instrument = in;
    return ReadDepthBody(obj, in->price_scale, in->size_scale, &out->delta, !partial, what);
  }
  if (e == "bookTicker") {
    out->kind = MarketEventKind::kBookTicker;
    wire::Fields f{"u", "E", "T", "b", "B", "a", "A"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
    Bbo& b = out->bbo;
    b = Bbo();
    b.venue = kVenue;
    b.symbol = Ticker(ctx.symbols, out->venue_symbol);
    PERPGW_RETURN_IF_ERROR(f.Get("b", &b.bid_price));
    PERPGW_RETURN_IF_ERROR(f.Get("B", &b.bid_size));
    PERPGW_RETURN_IF_ERROR(f.Get("a", &b.ask_price));
    PERPGW_RETURN_IF_ERROR(f.Get("A", &b.ask_size));
    int64_t u = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("u", &u));
    b.venue_seq = static_cast<uint64_t>(std::max<int64_t>(u, 0));
    UnixNanos ev = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &ev));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &b.exchange_time));
    if (b.exchange_time == 0) b.exchange_time = ev;
    b.receive_time = recv;
    return absl::OkStatus();
  }
  if (e == "aggTrade" || e == "trade") {
    out->kind = MarketEventKind::kTrade;
    wire::Fields f{"a", "t", "p", "q", "T", "E", "m"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
    Trade& t = out->trade;
    t = Trade();
    t.venue = kVenue;
    t.symbol = Ticker(ctx.symbols, out->venue_symbol);
    int64_t id = 0;
    PERPGW_RETURN_IF_ERROR(f.Get(e == "aggTrade" ? "a" : "t", &id));
    t.trade_id = std::to_string(id);
    PERPGW_RETURN_IF_ERROR(f.Get("p", &t.price));
    PERPGW_RETURN_IF_ERROR(f.Get("q", &t.size));
    bool buyer_maker = false;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("m", &buyer_maker));
    if (!f["m"].present) return Invalid(what, "missing m");
    t.taker_side = buyer_maker ? Side::kSell : Side::kBuy;  // buyer is maker → seller took
    UnixNanos ev = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &ev));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &t.exchange_time));
    if (t.exchange_time == 0) t.exchange_time = ev;
    t.receive_time = recv;
    return absl::OkStatus();
  }
  if (e == "markPriceUpdate") {
    out->kind = MarketEventKind::kMarkPrice;
    wire::Fields f{"p", "i", "P", "r", "T", "E"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
    Funding fu;
    PERPGW_RETURN_IF_ERROR(FundingFromMark(f, out->venue_symbol, ctx, &fu));
    out->funding.push_back(std::move(fu));
    return absl::OkStatus();
  }
  if (e == "forceOrder") {
    out->kind = MarketEventKind::kLiquidation;
    out->liquidation = Liquidation();
    bool have = false;
    wire::Fields f{"E"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what), [&](std::string_view key, od::value& v) {
      if (key != "o") return absl::OkStatus();
      have = true;
      return LiquidationFromOrder(v, ctx.symbols, &out->liquidation, &out->venue_symbol);
    }));
    if (!have) return Invalid(what, "missing o");
    if (out->liquidation.exchange_time == 0) {
      PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &out->liquidation.exchange_time));
    }
    return absl::OkStatus();
  }
  if (e == "24hrTicker") {
    out->kind = MarketEventKind::kTicker;
    wire::Fields f{"c", "v", "q", "E"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what)));
    TickerStats& t = out->ticker;
    t = TickerStats();
    t.venue_symbol = out->venue_symbol;
    t.symbol = Ticker(ctx.symbols, out->venue_symbol);
    PERPGW_RETURN_IF_ERROR(f.GetOpt("c", &t.last_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("v", &t.volume));
    PERPGW_RETURN_IF_ERROR(f.Get("q", &t.quote_volume));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &t.time));
    return absl::OkStatus();
  }
  out->kind = MarketEventKind::kUnknown;
  return wire::SkipRest(obj, W(what));
}

absl::Status DecodeMarketValue(od::value& v, const MarketContext& ctx, UnixNanos recv,
                               MarketFrame* out) {
  od::json_type t;
  PERPGW_JSON_TRY(v.type().get(t), W("market data"));
  if (t == od::json_type::array) {  // !markPrice@arr and friends
    bool any = false;
    PERPGW_RETURN_IF_ERROR(wire::ForEachInArray(v, W("market data"), [&](od::value& ev) {
      od::object o;
      PERPGW_JSON_TRY(ev.get_object().get(o), W("market data"));
      PERPGW_RETURN_IF_ERROR(wire::PeekStrings(o, W("market data"), {{"e", &out->event_type}, {"s", &out->venue_symbol}}));
      if (out->event_type != "markPriceUpdate") {
        // Only mark prices come as arrays among the streams we decode.
        out->kind = MarketEventKind::kUnknown;
        return absl::OkStatus();
      }
      any = true;
      return DecodeMarketEvent(o, ctx, recv, out);
    }));
    out->venue_symbol.clear();
    if (!any) out->kind = MarketEventKind::kUnknown;
    return absl::OkStatus();
  }
  od::object o;
  PERPGW_JSON_TRY(v.get_object().get(o), W("market data"));
  PERPGW_RETURN_IF_ERROR(wire::PeekStrings(o, W("market data"), {{"e", &out->event_type}, {"s", &out->venue_symbol}}));
  return DecodeMarketEvent(o, ctx, recv, out);
}

void ResetFrame(MarketFrame* out) {
  out->kind = MarketEventKind::kUnknown;
  out->stream.clear();
  out->event_type.clear();
  out->venue_symbol.clear();
  out->instrument = nullptr;
  out->delta.changes.clear();
  out->funding.clear();
  out->control = ControlReply();
}

}  // namespace

bool IsPartialDepthStream(std::string_view stream) {
  bool found = false;
  std::string_view s = DepthSuffix(stream, &found);
  return found && !s.empty() && s[0] >= '0' && s[0] <= '9';
}

bool IsDiffDepthStream(std::string_view stream) {
  bool found = false;
  std::string_view s = DepthSuffix(stream, &found);
  return found && (s.empty() || s[0] == '@');
}

absl::Status DecodeMarketFrame(std::string_view frame, const MarketContext& ctx,
                               UnixNanos receive_time, MarketFrame* out) {
  constexpr std::string_view kWhat = "market frame";
  ResetFrame(out);
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(frame, kWhat, &doc));
  od::json_type t;
  PERPGW_JSON_TRY(doc.type().get(t), W(kWhat));
  if (t == od::json_type::array) {
    // A raw /ws/!markPrice@arr frame: the document itself is the array.
    od::array arr;
    PERPGW_JSON_TRY(doc.get_array().get(arr), W(kWhat));
    bool any = false;
    for (auto el : arr) {
      od::object o;
      PERPGW_JSON_TRY(el.get_object().get(o), W(kWhat));
      PERPGW_RETURN_IF_ERROR(wire::PeekStrings(o, W(kWhat), {{"e", &out->event_type}, {"s", &out->venue_symbol}}));
      if (out->event_type != "markPriceUpdate") continue;
      any = true;
      PERPGW_RETURN_IF_ERROR(DecodeMarketEvent(o, ctx, receive_time, out));
    }
    out->venue_symbol.clear();
    if (!any) out->kind = MarketEventKind::kUnknown;
    return wire::CheckEnd(doc, W(kWhat));
  }
  od::object top;
  PERPGW_JSON_TRY(doc.get_object().get(top), W(kWhat));
  bool bare = false, control = false, error = false;
  for (auto fr : top) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(kWhat));
    od::raw_json_string k = f.key();
    od::value v = f.value();
    if (k == "stream") {
      std::string_view s;
      PERPGW_JSON_TRY(v.get_string().get(s), W(kWhat));
      out->stream.assign(s);
    } else if (k == "data") {
      PERPGW_RETURN_IF_ERROR(DecodeMarketValue(v, ctx, receive_time, out));
    } else if (k == "result") {
      control = true;
      od::json_type rt;
      PERPGW_JSON_TRY(v.type().get(rt), W(kWhat));
      if (rt == od::json_type::null) {
        out->control.result_null = true;
      } else if (rt == od::json_type::boolean) {
        bool b = false;
        PERPGW_JSON_TRY(v.get_bool().get(b), W(kWhat));
        out->control.result_bool = b;
      } else if (rt == od::json_type::array) {
        PERPGW_RETURN_IF_ERROR(ReadStringList(v, &out->control.result_list, kWhat));
      }
    } else if (k == "id") {
      control = true;
      int64_t id = -1;
      PERPGW_JSON_TRY(v.get_int64().get(id), W(kWhat));
      out->control.id = id;
    } else if (k == "code") {
      error = true;
      int64_t code = 0;
      PERPGW_JSON_TRY(v.get_int64().get(code), W(kWhat));
      out->control.code = static_cast<int>(std::clamp<int64_t>(code, INT32_MIN, INT32_MAX));
    } else if (k == "msg") {
      std::string_view m;
      PERPGW_JSON_TRY(v.get_string().get(m), W(kWhat));
      out->control.msg.assign(m);
    } else if (k == "e") {
      bare = true;
      break;
    }
  }
  if (bare) {
    PERPGW_JSON_TRY(top.reset().error(), W(kWhat));
    PERPGW_RETURN_IF_ERROR(wire::PeekStrings(top, W(kWhat), {{"e", &out->event_type}, {"s", &out->venue_symbol}}));
    PERPGW_RETURN_IF_ERROR(DecodeMarketEvent(top, ctx, receive_time, out));
  } else if (error) {
    out->kind = MarketEventKind::kControlError;
  } else if (control) {
    out->kind = MarketEventKind::kControlReply;
  }
  return wire::CheckEnd(doc, W(kWhat));
}

// ---- REST market data
absl::StatusOr<std::vector<Bbo>> ParseRestBookTicker(std::string_view json,
                                                     const SymbolMap* symbols,
                                                     UnixNanos receive_time) {
  constexpr std::string_view kWhat = "bookTicker";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<Bbo> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "bidPrice", "bidQty", "askPrice", "askQty", "time", "lastUpdateId"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    Bbo b;
    b.venue = kVenue;
    std::string vs;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
    b.symbol = Ticker(symbols, vs);
    PERPGW_RETURN_IF_ERROR(f.Get("bidPrice", &b.bid_price));
    PERPGW_RETURN_IF_ERROR(f.Get("bidQty", &b.bid_size));
    PERPGW_RETURN_IF_ERROR(f.Get("askPrice", &b.ask_price));
    PERPGW_RETURN_IF_ERROR(f.Get("askQty", &b.ask_size));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &b.exchange_time));
    int64_t id = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("lastUpdateId", &id));
    b.venue_seq = static_cast<uint64_t>(std::max<int64_t>(id, 0));
    b.receive_time = receive_time;
    out.push_back(std::move(b));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<Funding>> ParsePremiumIndex(std::string_view json,
                                                       const SymbolMap* symbols,
                                                       const FundingIntervals* intervals) {
  constexpr std::string_view kWhat = "premiumIndex";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<Funding> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "markPrice", "indexPrice", "lastFundingRate", "nextFundingTime", "time"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    Funding fu;
    fu.venue = kVenue;
    std::string vs;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
    fu.symbol = Ticker(symbols, vs);
    PERPGW_RETURN_IF_ERROR(f.GetOpt("markPrice", &fu.mark_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("indexPrice", &fu.index_price));
    PERPGW_RETURN_IF_ERROR(f.Get("lastFundingRate", &fu.rate));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("nextFundingTime", wire::kNanosPerMilli, &fu.next_funding_time));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &fu.as_of));
    fu.interval_hours = Decimal::FromInt(IntervalHoursFor(intervals, vs));
    PERPGW_RETURN_IF_ERROR(NormalizeFunding(&fu));
    out.push_back(std::move(fu));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<TickerStats>> ParseTicker24h(std::string_view json,
                                                        const SymbolMap* symbols) {
  constexpr std::string_view kWhat = "ticker/24hr";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<TickerStats> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "lastPrice", "volume", "quoteVolume", "closeTime"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    TickerStats t;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &t.venue_symbol));
    t.symbol = Ticker(symbols, t.venue_symbol);
    PERPGW_RETURN_IF_ERROR(f.GetOpt("lastPrice", &t.last_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("volume", &t.volume));
    PERPGW_RETURN_IF_ERROR(f.Get("quoteVolume", &t.quote_volume));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("closeTime", wire::kNanosPerMilli, &t.time));
    out.push_back(std::move(t));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<OpenInterest> ParseOpenInterest(std::string_view json) {
  constexpr std::string_view kWhat = "openInterest";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  wire::Fields f{"symbol", "openInterest", "time"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  OpenInterest oi;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &oi.venue_symbol));
  PERPGW_RETURN_IF_ERROR(f.Get("openInterest", &oi.open_interest));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &oi.time));
  if (oi.open_interest.IsNegative()) return Invalid(kWhat, "negative open interest");
  return oi;
}

absl::StatusOr<Decimal> OpenInterestUsd(Decimal open_interest, Decimal mark_price) {
  auto r = Decimal::Mul(open_interest, mark_price, 6, Rounding::kHalfEven);
  if (!r.ok()) return r.status();
  return r->Normalized();
}

absl::StatusOr<Liquidation> ParseForceOrder(std::string_view json, const SymbolMap* symbols) {
  MarketContext ctx;
  ctx.symbols = symbols;
  MarketFrame frame;
  PERPGW_RETURN_IF_ERROR(DecodeMarketFrame(json, ctx, 0, &frame));
  if (frame.kind != MarketEventKind::kLiquidation) {
    return Invalid("forceOrder", "not a forceOrder event");
  }
  return frame.liquidation;
}

// ============================================================================================
// Orders and account
absl::StatusOr<Side> ParseSide(std::string_view s) {
  if (s == "BUY") return Side::kBuy;
  if (s == "SELL") return Side::kSell;
  return Invalid("side", "unknown \"" + std::string(s.substr(0, 20)) + "\"");
}

absl::StatusOr<OrderType> ParseOrderType(std::string_view s) {
  if (s == "LIMIT" || s == "STOP" || s == "TAKE_PROFIT") return OrderType::kLimit;
  if (s == "MARKET" || s == "STOP_MARKET" || s == "TAKE_PROFIT_MARKET" ||
      s == "TRAILING_STOP_MARKET" || s == "LIQUIDATION") {
    return OrderType::kMarket;
  }
  return Invalid("order type", "unknown \"" + std::string(s.substr(0, 30)) + "\"");
}

absl::StatusOr<TimeInForce> ParseTimeInForce(std::string_view s) {
  if (s == "GTC" || s == "HIDDEN" || s == "RPI" || s == "GTE_GTC" || s == "GTD") {
    return TimeInForce::kGtc;
  }
  if (s == "IOC") return TimeInForce::kIoc;
  if (s == "FOK") return TimeInForce::kFok;
  if (s == "GTX") return TimeInForce::kPostOnly;
  return Invalid("timeInForce", "unknown \"" + std::string(s.substr(0, 20)) + "\"");
}

namespace {
bool IsLiquidationId(std::string_view client_order_id) {
  return client_order_id.rfind("autoclose-", 0) == 0 ||
         client_order_id.rfind("adl_autoclose", 0) == 0;
}
}  // namespace

absl::Status MapOrderStatus(std::string_view status, std::string_view tif,
                            std::string_view exec_type, std::string_view client_order_id,
                            Decimal filled, Order* order) {
  bool liquidation = exec_type == "CALCULATED" || IsLiquidationId(client_order_id);
  order->reason = CancelReason::kNone;
  order->reason_text.clear();
  if (status == "NEW") {
    order->status = OrderStatus::kOpen;
  } else if (status == "PARTIALLY_FILLED") {
    order->status = OrderStatus::kPartiallyFilled;
  } else if (status == "FILLED") {
    order->status = OrderStatus::kFilled;
  } else if (status == "CANCELED") {
    order->status = OrderStatus::kCanceled;
    order->reason = liquidation ? CancelReason::kLiquidation : CancelReason::kUserCanceled;
  } else if (status == "EXPIRED") {
    if (tif == "GTX" && filled.IsZero()) {
      // Post-only that would have taken liquidity: the venue expires it instead of resting it.
      order->status = OrderStatus::kRejected;
      order->reason = CancelReason::kPostOnlyViolation;
      order->reason_text = "post-only order would have crossed the book";
    } else {
      order->status = OrderStatus::kExpired;
      order->reason = liquidation ? CancelReason::kLiquidation : CancelReason::kExpired;
    }
  } else if (status == "REJECTED") {
    order->status = OrderStatus::kRejected;
    order->reason = CancelReason::kRejected;
  } else if (status == "NEW_INSURANCE" || status == "NEW_ADL") {
    // Liquidation orders taken over by the insurance fund / auto-deleveraging.
    order->status = OrderStatus::kOpen;
    order->reason = CancelReason::kLiquidation;
  } else {
    return Invalid("order status", "unknown \"" + std::string(status.substr(0, 30)) + "\"");
  }
  if (liquidation && order->reason == CancelReason::kNone) order->reason = CancelReason::kLiquidation;
  return absl::OkStatus();
}

namespace {

// A REST order object (new / query / cancel / openOrders / batch rows).
absl::Status ReadOrderObject(od::object& obj, const AccountContext& ctx, Order* o,
                             std::optional<ErrorBody>* error) {
  constexpr std::string_view kWhat = "order";
  wire::Fields f{"orderId", "clientOrderId", "symbol", "status", "price", "avgPrice", "origQty",
           "executedQty", "timeInForce", "type", "side", "reduceOnly", "updateTime", "time",
           "code", "msg"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  if (f["code"].present && !f["orderId"].present) {
    ErrorBody b;
    int64_t code = 0;
    PERPGW_RETURN_IF_ERROR(f.Get("code", &code));
    b.code = static_cast<int>(std::clamp<int64_t>(code, INT32_MIN, INT32_MAX));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("msg", &b.msg));
    *error = b;
    return absl::OkStatus();
  }
  o->venue = kVenue;
  o->account = ctx.account;
  int64_t id = 0;
  PERPGW_RETURN_IF_ERROR(f.Get("orderId", &id));
  o->order_id = std::to_string(id);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("clientOrderId", &o->client_order_id));
  std::string vs;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
  o->symbol = Ticker(ctx.symbols, vs);
  auto side = ParseSide(f["side"].text);
  if (!side.ok()) return side.status();
  o->side = *side;
  auto type = ParseOrderType(f["type"].text);
  if (!type.ok()) return type.status();
  o->type = *type;
  if (f["timeInForce"].present) {
    auto tif = ParseTimeInForce(f["timeInForce"].text);
    if (!tif.ok()) return tif.status();
    o->tif = *tif;
  }
  PERPGW_RETURN_IF_ERROR(f.GetOpt("price", &o->price));
  PERPGW_RETURN_IF_ERROR(f.Get("origQty", &o->size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("executedQty", &o->filled_size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("avgPrice", &o->avg_fill_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("reduceOnly", &o->reduce_only));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("updateTime", wire::kNanosPerMilli, &o->updated_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &o->created_time));
  if (o->created_time == 0) o->created_time = o->updated_time;
  std::string status;
  PERPGW_RETURN_IF_ERROR(f.Get("status", &status));
  return MapOrderStatus(status, f["timeInForce"].text, "", o->client_order_id, o->filled_size, o);
}

}  // namespace

absl::StatusOr<Order> ParseOrder(std::string_view json, const AccountContext& ctx) {
  constexpr std::string_view kWhat = "order";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  Order o;
  std::optional<ErrorBody> err;
  PERPGW_RETURN_IF_ERROR(ReadOrderObject(obj, ctx, &o, &err));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  if (err) return CodeInsteadOf(kWhat, err->code, err->msg);
  return o;
}

absl::StatusOr<std::vector<Order>> ParseOrders(std::string_view json, const AccountContext& ctx) {
  constexpr std::string_view kWhat = "orders";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::array arr;
  PERPGW_JSON_TRY(doc.get_array().get(arr), W(kWhat));
  std::vector<Order> out;
  for (auto el : arr) {
    od::object obj;
    PERPGW_JSON_TRY(el.get_object().get(obj), W(kWhat));
    Order o;
    std::optional<ErrorBody> err;
    PERPGW_RETURN_IF_ERROR(ReadOrderObject(obj, ctx, &o, &err));
    if (err) return CodeInsteadOf(kWhat, err->code, err->msg);
    out.push_back(std::move(o));
  }
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<BatchEntry>> ParseBatchAnswer(std::string_view json,
                                                         const AccountContext& ctx) {
  constexpr std::string_view kWhat = "batchOrders";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::array arr;
  PERPGW_JSON_TRY(doc.get_array().get(arr), W(kWhat));
  std::vector<BatchEntry> out;
  for (auto el : arr) {
    od::object obj;
    PERPGW_JSON_TRY(el.get_object().get(obj), W(kWhat));
    Order o;
    std::optional<ErrorBody> err;
    PERPGW_RETURN_IF_ERROR(ReadOrderObject(obj, ctx, &o, &err));
    BatchEntry& e = out.emplace_back();
    if (err) {
      e.error = std::move(*err);
    } else {
      e.order = std::move(o);
    }
  }
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<Order>>> ParseBatchOrders(std::string_view json,
                                                                    const AccountContext& ctx) {
  auto entries = ParseBatchAnswer(json, ctx);
  if (!entries.ok()) return entries.status();
  std::vector<absl::StatusOr<Order>> out;
  for (BatchEntry& e : *entries) {
    if (e.order) {
      out.emplace_back(std::move(*e.order));
    } else {
      out.emplace_back(CodeInsteadOf("batchOrders", e.error.code, e.error.msg));
    }
  }
  return out;
}

bool IsCrossMargin(std::string_view margin_type) {
  std::string t(margin_type);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t == "cross" || t == "crossed";
}

void FillCrossMargin(std::vector<Position>* rows, const std::vector<Position>& account) {
  for (Position& p : *rows) {
    if (p.margin) continue;
    for (const Position& a : account) {
      if (a.symbol == p.symbol && a.size == p.size && a.margin) {
        p.margin = a.margin;
        break;
      }
    }
  }
}

bool MergeStreamPosition(const Position* last, const OptDecimal& live_mark, Position* update) {
  Position& u = *update;
  if (last && !u.leverage) u.leverage = last->leverage;
  if (!u.mark_price) u.mark_price = live_mark ? live_mark : (last ? last->mark_price : u.mark_price);
  if (u.mark_price && !u.exposure_usd) {
    auto exposure = Decimal::Mul(u.size.Abs(), *u.mark_price, 8, Rounding::kHalfEven);
    if (exposure.ok()) u.exposure_usd = exposure->Normalized();
  }
  const bool resized = !last || !(last->size == u.size);
  if (!last || last->size.IsZero() || u.size.IsZero() ||
      last->size.IsNegative() != u.size.IsNegative()) {
    return resized;  // flat, new or flipped: nothing of the old position carries over
  }
  if (!u.funding_accrued) u.funding_accrued = last->funding_accrued;
  if (resized) return true;
  if (!u.liquidation_price) u.liquidation_price = last->liquidation_price;
  if (!u.margin) u.margin = last->margin;
  return false;
}

absl::StatusOr<std::vector<Position>> ParsePositionRisk(std::string_view json,
                                                        const AccountContext& ctx,
                                                        bool include_flat) {
  constexpr std::string_view kWhat = "positionRisk";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<Position> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "positionAmt", "entryPrice", "markPrice", "unRealizedProfit",
             "liquidationPrice", "leverage", "isolatedMargin", "marginType", "updateTime"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    Position p;
    p.venue = kVenue;
    p.account = ctx.account;
    std::string vs;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
    p.symbol = Ticker(ctx.symbols, vs);
    PERPGW_RETURN_IF_ERROR(f.Get("positionAmt", &p.size));
    if (p.size.IsZero() && !include_flat) return absl::OkStatus();
    PERPGW_RETURN_IF_ERROR(f.GetOpt("entryPrice", &p.entry_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("markPrice", &p.mark_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("unRealizedProfit", &p.unrealized_pnl));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("liquidationPrice", &p.liquidation_price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("leverage", &p.leverage));
    // isolatedMargin is the isolated wallet (+ unrealized PnL): "0" on a cross position, which
    // has no per-position margin in these rows. A cross row keeps margin absent; the account
    // endpoint's per-position initialMargin fills it (FillCrossMargin). A row without marginType
    // (the docs' older samples) is read as isolated, as those samples are.
    std::string margin_type;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("marginType", &margin_type));
    if (!IsCrossMargin(margin_type)) {
      PERPGW_RETURN_IF_ERROR(f.GetOpt("isolatedMargin", &p.margin));
    }
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("updateTime", wire::kNanosPerMilli, &p.update_time));
    if (p.mark_price) {
      auto exposure = Decimal::Mul(p.size.Abs(), *p.mark_price, 8, Rounding::kHalfEven);
      if (exposure.ok()) p.exposure_usd = exposure->Normalized();
    }
    out.push_back(std::move(p));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<Balance>> ParseBalances(std::string_view json,
                                                   const AccountContext& ctx) {
  constexpr std::string_view kWhat = "balance";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<Balance> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"asset", "balance", "crossUnPnl", "availableBalance", "updateTime"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    Balance b;
    b.venue = kVenue;
    b.account = ctx.account;
    PERPGW_RETURN_IF_ERROR(f.Get("asset", &b.asset));
    Decimal wallet;
    PERPGW_RETURN_IF_ERROR(f.Get("balance", &wallet));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("crossUnPnl", &b.unrealized_pnl));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("availableBalance", &b.available));
    auto eq = Decimal::Add(wallet, b.unrealized_pnl.value_or(Decimal()));
    if (!eq.ok()) return eq.status();
    b.equity = eq->Normalized();  // wallet balance + unrealized PnL
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("updateTime", wire::kNanosPerMilli, &b.update_time));
    out.push_back(std::move(b));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<AccountSnapshot> ParseAccount(std::string_view json, const AccountContext& ctx) {
  constexpr std::string_view kWhat = "account";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  AccountSnapshot out;
  wire::Fields top{"availableBalance"};
  PERPGW_RETURN_IF_ERROR(top.Read(obj, W(kWhat), [&](std::string_view key, od::value& v) {
    if (key == "assets") {
      return wire::ForEachInArray(v, W(kWhat), [&](od::value& av) {
        od::object a;
        PERPGW_JSON_TRY(av.get_object().get(a), W(kWhat));
        wire::Fields f{"asset", "marginBalance", "unrealizedProfit", "availableBalance", "initialMargin",
                 "updateTime"};
        PERPGW_RETURN_IF_ERROR(f.Read(a, W(kWhat)));
        Balance b;
        b.venue = kVenue;
        b.account = ctx.account;
        PERPGW_RETURN_IF_ERROR(f.Get("asset", &b.asset));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("marginBalance", &b.equity));
        PERPGW_RETURN_IF_ERROR(
            f.GetOpt("unrealizedProfit", &b.unrealized_pnl));
        PERPGW_RETURN_IF_ERROR(
            f.GetOpt("availableBalance", &b.available));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("initialMargin", &b.margin_used));
        PERPGW_RETURN_IF_ERROR(f.GetOptTime("updateTime", wire::kNanosPerMilli, &b.update_time));
        out.balances.push_back(std::move(b));
        return absl::OkStatus();
      });
    }
    if (key == "positions") {
      return wire::ForEachInArray(v, W(kWhat), [&](od::value& pv) {
        od::object po;
        PERPGW_JSON_TRY(pv.get_object().get(po), W(kWhat));
        wire::Fields f{"symbol", "positionAmt", "entryPrice", "unrealizedProfit", "leverage",
                 "isolatedWallet", "initialMargin", "notional", "updateTime"};
        PERPGW_RETURN_IF_ERROR(f.Read(po, W(kWhat)));
        Position p;
        p.venue = kVenue;
        p.account = ctx.account;
        std::string vs;
        PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
        p.symbol = Ticker(ctx.symbols, vs);
        PERPGW_RETURN_IF_ERROR(f.Get("positionAmt", &p.size));
        if (p.size.IsZero()) return absl::OkStatus();
        PERPGW_RETURN_IF_ERROR(f.GetOpt("entryPrice", &p.entry_price));
        PERPGW_RETURN_IF_ERROR(
            f.GetOpt("unrealizedProfit", &p.unrealized_pnl));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("leverage", &p.leverage));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("initialMargin", &p.margin));
        Decimal notional;
        PERPGW_RETURN_IF_ERROR(f.GetOpt("notional", &notional));
        p.exposure_usd = notional.Abs();
        PERPGW_RETURN_IF_ERROR(f.GetOptTime("updateTime", wire::kNanosPerMilli, &p.update_time));
        out.positions.push_back(std::move(p));
        return absl::OkStatus();
      });
    }
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  PERPGW_RETURN_IF_ERROR(
      top.GetOpt("availableBalance", &out.available_balance));
  return out;
}

absl::StatusOr<std::vector<LeverageInfo>> ParseLeverageBrackets(std::string_view json,
                                                                const AccountContext& ctx) {
  constexpr std::string_view kWhat = "leverageBracket";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<LeverageInfo> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    LeverageInfo li;
    li.venue = kVenue;
    li.account = ctx.account;
    wire::Fields f{"symbol"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat), [&](std::string_view key, od::value& v) {
      if (key != "brackets") return absl::OkStatus();
      return wire::ForEachInArray(v, W(kWhat), [&](od::value& bv) {
        od::object bo;
        PERPGW_JSON_TRY(bv.get_object().get(bo), W(kWhat));
        wire::Fields b{"initialLeverage", "notionalCap", "notionalFloor", "maintMarginRatio"};
        PERPGW_RETURN_IF_ERROR(b.Read(bo, W(kWhat)));
        LeverageBracket br;
        PERPGW_RETURN_IF_ERROR(b.Get("initialLeverage", &br.max_leverage));
        PERPGW_RETURN_IF_ERROR(b.GetOpt("notionalCap", &br.notional_cap));
        PERPGW_RETURN_IF_ERROR(
            b.GetOpt("notionalFloor", &br.notional_floor));
        PERPGW_RETURN_IF_ERROR(b.GetOpt("maintMarginRatio", &br.maint_margin_ratio));
        li.brackets.push_back(br);
        return absl::OkStatus();
      });
    }));
    std::string vs;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
    li.symbol = Ticker(ctx.symbols, vs);
    const LeverageBracket* best = nullptr;
    for (const LeverageBracket& br : li.brackets) {
      if (!best || br.max_leverage > best->max_leverage) best = &br;
    }
    if (best) {
      li.max_leverage = best->max_leverage.Normalized();
      li.max_notional = best->notional_cap.Normalized();
      li.maint_margin_ratio = best->maint_margin_ratio.Normalized();
      if (best->max_leverage.IsPositive()) {
        auto imr = Decimal::Div(Decimal::FromInt(1), best->max_leverage, 8, Rounding::kHalfEven);
        if (imr.ok()) li.initial_margin_ratio = imr->Normalized();
      }
    }
    out.push_back(std::move(li));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

void AtLeverage(LeverageInfo* li) {
  if (!li->leverage || !li->leverage->IsPositive()) return;
  auto imr = Decimal::Div(Decimal::FromInt(1), *li->leverage, 8, Rounding::kHalfEven);
  if (imr.ok()) li->initial_margin_ratio = imr->Normalized();
  std::optional<Decimal> cap;
  for (const LeverageBracket& br : li->brackets) {
    if (br.max_leverage < *li->leverage) continue;
    if (!cap || br.notional_cap > *cap) cap = br.notional_cap;
  }
  if (cap && cap->IsPositive()) li->max_notional = cap->Normalized();
}

absl::StatusOr<LeverageInfo> ParseLeverageResponse(std::string_view json,
                                                   const AccountContext& ctx) {
  constexpr std::string_view kWhat = "leverage";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  od::object obj;
  PERPGW_JSON_TRY(doc.get_object().get(obj), W(kWhat));
  wire::Fields f{"leverage", "maxNotionalValue", "symbol", "code", "msg"};
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  if (f["code"].present && !f["leverage"].present) {
    int64_t code = 0;
    PERPGW_RETURN_IF_ERROR(f.Get("code", &code));
    return CodeInsteadOf(kWhat, static_cast<int>(std::clamp<int64_t>(code, INT32_MIN, INT32_MAX)),
                         f["msg"].text);
  }
  LeverageInfo li;
  li.venue = kVenue;
  li.account = ctx.account;
  std::string vs;
  PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
  li.symbol = Ticker(ctx.symbols, vs);
  PERPGW_RETURN_IF_ERROR(f.Get("leverage", &li.leverage));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("maxNotionalValue", &li.max_notional));
  return li;
}

absl::StatusOr<std::vector<Fill>> ParseUserTrades(std::string_view json, const AccountContext& ctx) {
  constexpr std::string_view kWhat = "userTrades";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<Fill> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "id", "orderId", "side", "price", "qty", "commission", "commissionAsset",
             "maker", "time"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    Fill fi;
    fi.venue = kVenue;
    fi.account = ctx.account;
    std::string vs;
    PERPGW_RETURN_IF_ERROR(f.Get("symbol", &vs));
    fi.symbol = Ticker(ctx.symbols, vs);
    int64_t id = 0;
    PERPGW_RETURN_IF_ERROR(f.Get("id", &id));
    fi.trade_id = std::to_string(id);
    PERPGW_RETURN_IF_ERROR(f.Get("orderId", &id));
    fi.order_id = std::to_string(id);
    auto side = ParseSide(f["side"].text);
    if (!side.ok()) return side.status();
    fi.side = *side;
    PERPGW_RETURN_IF_ERROR(f.Get("price", &fi.price));
    PERPGW_RETURN_IF_ERROR(f.Get("qty", &fi.size));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("commission", &fi.fee));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("commissionAsset", &fi.fee_asset));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("maker", &fi.maker));
    PERPGW_RETURN_IF_ERROR(f.GetOptTime("time", wire::kNanosPerMilli, &fi.exchange_time));
    out.push_back(std::move(fi));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

absl::StatusOr<std::vector<IncomeRow>> ParseIncome(std::string_view json, const AccountContext& ctx) {
  constexpr std::string_view kWhat = "income";
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(json, kWhat, &doc));
  std::vector<IncomeRow> out;
  PERPGW_RETURN_IF_ERROR(wire::ForEachObject(doc, W(kWhat), [&](od::object& obj) {
    wire::Fields f{"symbol", "incomeType", "income", "asset", "time", "tranId"};
    PERPGW_RETURN_IF_ERROR(f.Read(obj, W(kWhat)));
    IncomeRow r;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("symbol", &r.venue_symbol));  // "" for transfers
    r.symbol = r.venue_symbol.empty() ? std::string() : Ticker(ctx.symbols, r.venue_symbol);
    PERPGW_RETURN_IF_ERROR(f.Get("incomeType", &r.income_type));
    PERPGW_RETURN_IF_ERROR(f.Get("income", &r.income));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("asset", &r.asset));
    PERPGW_RETURN_IF_ERROR(f.Get("time", &r.time_ms));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("tranId", &r.tran_id));
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, W(kWhat)));
  return out;
}

namespace {
// Numeric trade ids compare by value (shorter is smaller), others as text.
bool TradeIdLess(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}
}  // namespace

std::optional<PositionOpening> FindPositionOpening(std::vector<Fill> fills, Decimal current_size) {
  if (current_size.IsZero()) return std::nullopt;
  std::sort(fills.begin(), fills.end(), [](const Fill& a, const Fill& b) {
    if (a.exchange_time != b.exchange_time) return a.exchange_time > b.exchange_time;
    return TradeIdLess(b.trade_id, a.trade_id);
  });
  Decimal before = current_size;  // the position before the fills walked so far
  for (const Fill& f : fills) {
    auto undone = f.side == Side::kBuy ? Decimal::Sub(before, f.size) : Decimal::Add(before, f.size);
    if (!undone.ok()) return std::nullopt;
    before = *undone;
    if (before.IsZero() || before.IsNegative() != current_size.IsNegative()) {
      return PositionOpening{f.exchange_time / wire::kNanosPerMilli, f.trade_id};
    }
  }
  return std::nullopt;
}

absl::Status FundingAccrual::Add(const std::vector<IncomeRow>& rows, std::string_view venue_symbol) {
  // Rows of an earlier page are recognized by time and tranId (the next page starts at the
  // newest counted row's millisecond, so that millisecond comes again).
  const int64_t seen_ms = last_time_ms, seen_tran = last_tran_id;
  for (const IncomeRow& r : rows) {
    if (r.income_type != "FUNDING_FEE" || r.venue_symbol != venue_symbol) continue;
    if (r.time_ms < opening.time_ms) continue;
    if (r.time_ms < seen_ms || (r.time_ms == seen_ms && r.tran_id <= seen_tran)) continue;
    PERPGW_ASSIGN_OR_RETURN(sum, Decimal::Add(sum, r.income));
    if (r.time_ms > last_time_ms) last_tran_id = 0;
    last_time_ms = std::max(last_time_ms, r.time_ms);
    if (r.time_ms == last_time_ms) last_tran_id = std::max(last_tran_id, r.tran_id);
  }
  return absl::OkStatus();
}

// ============================================================================================
// User-data stream
const char* ToString(UserEventKind k) {
  switch (k) {
    case UserEventKind::kUnknown: return "unknown";
    case UserEventKind::kOrderTradeUpdate: return "order_trade_update";
    case UserEventKind::kAccountUpdate: return "account_update";
    case UserEventKind::kAccountConfigUpdate: return "account_config_update";
    case UserEventKind::kListenKeyExpired: return "listen_key_expired";
    case UserEventKind::kMarginCall: return "margin_call";
  }
  return "?";
}

namespace {

absl::Status ReadOrderUpdate(od::value& v, const AccountContext& ctx, UserFrame* out) {
  constexpr std::string_view kWhat = "ORDER_TRADE_UPDATE";
  od::object o;
  PERPGW_JSON_TRY(v.get_object().get(o), W(kWhat));
  wire::Fields f{"s", "c", "S", "o", "f", "q", "p", "ap", "x", "X", "i", "l", "z", "L", "N", "n", "T",
           "t", "m", "R"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(kWhat)));
  Order& ord = out->order.order;
  ord.venue = kVenue;
  ord.account = ctx.account;
  std::string vs;
  PERPGW_RETURN_IF_ERROR(f.Get("s", &vs));
  ord.symbol = Ticker(ctx.symbols, vs);
  PERPGW_RETURN_IF_ERROR(f.GetOpt("c", &ord.client_order_id));
  int64_t id = 0;
  PERPGW_RETURN_IF_ERROR(f.Get("i", &id));
  ord.order_id = std::to_string(id);
  auto side = ParseSide(f["S"].text);
  if (!side.ok()) return side.status();
  ord.side = *side;
  auto type = ParseOrderType(f["o"].text);
  if (!type.ok()) return type.status();
  ord.type = *type;
  if (f["f"].present) {
    auto tif = ParseTimeInForce(f["f"].text);
    if (!tif.ok()) return tif.status();
    ord.tif = *tif;
  }
  PERPGW_RETURN_IF_ERROR(f.Get("q", &ord.size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("p", &ord.price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("ap", &ord.avg_fill_price));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("z", &ord.filled_size));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("R", &ord.reduce_only));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &ord.updated_time));
  PERPGW_RETURN_IF_ERROR(f.GetOpt("x", &out->execution_type));
  std::string status;
  PERPGW_RETURN_IF_ERROR(f.Get("X", &status));
  PERPGW_RETURN_IF_ERROR(MapOrderStatus(status, f["f"].text, out->execution_type,
                                       ord.client_order_id, ord.filled_size, &ord));
  Decimal last_qty;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("l", &last_qty));
  bool trade = out->execution_type == "TRADE" || out->execution_type == "CALCULATED";
  if (trade && last_qty.IsPositive()) {
    Fill fi;
    fi.venue = kVenue;
    fi.account = ctx.account;
    fi.symbol = ord.symbol;
    fi.order_id = ord.order_id;
    fi.client_order_id = ord.client_order_id;
    fi.side = ord.side;
    fi.size = last_qty;
    PERPGW_RETURN_IF_ERROR(f.Get("L", &fi.price));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("n", &fi.fee));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("N", &fi.fee_asset));
    PERPGW_RETURN_IF_ERROR(f.GetOpt("m", &fi.maker));
    int64_t tid = 0;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("t", &tid));
    fi.trade_id = std::to_string(tid);
    fi.liquidation = out->execution_type == "CALCULATED" || IsLiquidationId(ord.client_order_id);
    fi.exchange_time = ord.updated_time;
    out->order.fill = std::move(fi);
  }
  return absl::OkStatus();
}

absl::Status ReadAccountUpdate(od::value& v, const AccountContext& ctx, UnixNanos tx_time,
                               AccountUpdate* out) {
  constexpr std::string_view kWhat = "ACCOUNT_UPDATE";
  od::object a;
  PERPGW_JSON_TRY(v.get_object().get(a), W(kWhat));
  wire::Fields top{"m"};
  PERPGW_RETURN_IF_ERROR(top.Read(a, W(kWhat), [&](std::string_view key, od::value& iv) {
    if (key == "B") {
      return wire::ForEachInArray(iv, W(kWhat), [&](od::value& bv) {
        od::object bo;
        PERPGW_JSON_TRY(bv.get_object().get(bo), W(kWhat));
        wire::Fields f{"a", "wb", "cw", "bc"};
        PERPGW_RETURN_IF_ERROR(f.Read(bo, W(kWhat)));
        BalanceChange b;
        PERPGW_RETURN_IF_ERROR(f.Get("a", &b.asset));
        PERPGW_RETURN_IF_ERROR(f.Get("wb", &b.wallet_balance));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("cw", &b.cross_wallet_balance));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("bc", &b.balance_change));
        out->balances.push_back(std::move(b));
        return absl::OkStatus();
      });
    }
    if (key == "P") {
      return wire::ForEachInArray(iv, W(kWhat), [&](od::value& pv) {
        od::object po;
        PERPGW_JSON_TRY(pv.get_object().get(po), W(kWhat));
        wire::Fields f{"s", "pa", "ep", "cr", "up", "mt", "iw", "ps"};
        PERPGW_RETURN_IF_ERROR(f.Read(po, W(kWhat)));
        Position p;
        p.venue = kVenue;
        p.account = ctx.account;
        std::string vs;
        PERPGW_RETURN_IF_ERROR(f.Get("s", &vs));
        p.symbol = Ticker(ctx.symbols, vs);
        PERPGW_RETURN_IF_ERROR(f.Get("pa", &p.size));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("ep", &p.entry_price));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("cr", &p.realized_pnl));
        PERPGW_RETURN_IF_ERROR(f.GetOpt("up", &p.unrealized_pnl));
        // iw is the isolated wallet: "0" on a cross position (mt "cross"/"CROSSED"), whose
        // margin this event does not carry: absent there, never that "0".
        std::string mt;
        PERPGW_RETURN_IF_ERROR(f.GetOpt("mt", &mt));
        if (!IsCrossMargin(mt)) PERPGW_RETURN_IF_ERROR(f.GetOpt("iw", &p.margin));
        p.update_time = tx_time;
        std::string ps = "BOTH";
        PERPGW_RETURN_IF_ERROR(f.GetOpt("ps", &ps));
        out->positions.push_back(std::move(p));
        out->position_sides.push_back(std::move(ps));
        return absl::OkStatus();
      });
    }
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(top.GetOpt("m", &out->reason));
  return absl::OkStatus();
}

absl::Status ReadConfigUpdate(od::value& v, bool leverage_part, const AccountContext& ctx,
                              AccountConfigUpdate* out) {
  constexpr std::string_view kWhat = "ACCOUNT_CONFIG_UPDATE";
  od::object o;
  PERPGW_JSON_TRY(v.get_object().get(o), W(kWhat));
  wire::Fields f{"s", "l", "j"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, W(kWhat)));
  if (leverage_part) {
    PERPGW_RETURN_IF_ERROR(f.Get("s", &out->venue_symbol));
    out->symbol = Ticker(ctx.symbols, out->venue_symbol);
    int64_t lev = 0;
    PERPGW_RETURN_IF_ERROR(f.Get("l", &lev));
    out->leverage = lev;
  } else if (f["j"].present) {
    bool j = false;
    PERPGW_RETURN_IF_ERROR(f.GetOpt("j", &j));
    out->multi_assets = j;
  }
  return absl::OkStatus();
}

absl::Status DecodeUserEvent(od::object& obj, const AccountContext& ctx, UserFrame* out) {
  std::string e, s;
  PERPGW_RETURN_IF_ERROR(wire::PeekStrings(obj, W("user event"), {{"e", &e}, {"s", &s}}));
  out->event_type = e;
  std::string_view what = e.empty() ? std::string_view("user event") : std::string_view(e);
  if (e == "ORDER_TRADE_UPDATE") {
    out->kind = UserEventKind::kOrderTradeUpdate;
  } else if (e == "ACCOUNT_UPDATE") {
    out->kind = UserEventKind::kAccountUpdate;
  } else if (e == "ACCOUNT_CONFIG_UPDATE") {
    out->kind = UserEventKind::kAccountConfigUpdate;
  } else if (e == "listenKeyExpired") {
    out->kind = UserEventKind::kListenKeyExpired;
  } else if (e == "MARGIN_CALL") {
    out->kind = UserEventKind::kMarginCall;
  } else {
    out->kind = UserEventKind::kUnknown;
  }
  bool have_body = false;
  wire::Fields f{"E", "T"};
  // Times first (they are before the bodies in every sample, but do not rely on it): bodies are
  // read into the frame and times patched afterwards.
  PERPGW_RETURN_IF_ERROR(f.Read(obj, W(what), [&](std::string_view key, od::value& v) {
    if (out->kind == UserEventKind::kOrderTradeUpdate && key == "o") {
      have_body = true;
      return ReadOrderUpdate(v, ctx, out);
    }
    if (out->kind == UserEventKind::kAccountUpdate && key == "a") {
      have_body = true;
      return ReadAccountUpdate(v, ctx, 0, &out->account);
    }
    if (out->kind == UserEventKind::kAccountConfigUpdate && (key == "ac" || key == "ai")) {
      have_body = true;
      return ReadConfigUpdate(v, key == "ac", ctx, &out->config);
    }
    return absl::OkStatus();
  }));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("E", wire::kNanosPerMilli, &out->event_time));
  PERPGW_RETURN_IF_ERROR(f.GetOptTime("T", wire::kNanosPerMilli, &out->transaction_time));
  bool needs_body = out->kind == UserEventKind::kOrderTradeUpdate ||
                    out->kind == UserEventKind::kAccountUpdate ||
                    out->kind == UserEventKind::kAccountConfigUpdate;
  if (needs_body && !have_body) return Invalid(what, "missing event body");
  if (out->kind == UserEventKind::kAccountUpdate) {
    UnixNanos t = out->transaction_time != 0 ? out->transaction_time : out->event_time;
    for (Position& p : out->account.positions) p.update_time = t;
  }
  if (out->kind == UserEventKind::kOrderTradeUpdate) {
    out->order.exchange_time =
        out->transaction_time != 0 ? out->transaction_time : out->event_time;
    if (out->order.order.updated_time == 0) out->order.order.updated_time = out->order.exchange_time;
    if (out->order.fill && out->order.fill->exchange_time == 0) {
      out->order.fill->exchange_time = out->order.exchange_time;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeUserFrame(std::string_view frame, const AccountContext& ctx,
                             UnixNanos receive_time, UserFrame* out) {
  constexpr std::string_view kWhat = "user frame";
  *out = UserFrame();
  out->order.receive_time = receive_time;
  od::document doc;
  PERPGW_RETURN_IF_ERROR(Start(frame, kWhat, &doc));
  od::object top;
  PERPGW_JSON_TRY(doc.get_object().get(top), W(kWhat));
  bool wrapped = false;
  for (auto fr : top) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), W(kWhat));
    od::raw_json_string k = f.key();
    if (k == "data") {
      od::object data;
      PERPGW_JSON_TRY(f.value().get_object().get(data), W(kWhat));
      PERPGW_RETURN_IF_ERROR(DecodeUserEvent(data, ctx, out));
      wrapped = true;
    } else if (k != "stream") {
      break;
    }
  }
  if (!wrapped) {
    PERPGW_JSON_TRY(top.reset().error(), W(kWhat));
    PERPGW_RETURN_IF_ERROR(DecodeUserEvent(top, ctx, out));
  }
  out->order.receive_time = receive_time;
  return wire::CheckEnd(doc, W(kWhat));
}

// ============================================================================================
// Encoders
bool IsValidClientOrderId(std::string_view id) {
  if (id.empty() || id.size() > 36) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == ':' || c == '/' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

struct OrderFieldsText {
  std::string side, type, quantity, price, tif;
};

absl::StatusOr<OrderFieldsText> OrderText(const OrderRequest& req, const Instrument& in) {
  OrderFieldsText t;
  t.side = req.side == Side::kBuy ? "BUY" : "SELL";
  if (!req.size.IsPositive()) return Invalid("order", "size must be positive");
  if (in.step_size.IsPositive() && !req.size.IsMultipleOf(in.step_size)) {
    return Invalid("order", "size " + req.size.ToNormalizedString() + " is not a multiple of step " +
                                in.step_size.ToNormalizedString());
  }
  t.quantity = req.size.ToNormalizedString();
  if (req.type == OrderType::kMarket) {
    t.type = "MARKET";
    return t;
  }
  t.type = "LIMIT";
  if (!req.price.IsPositive()) return Invalid("order", "limit price must be positive");
  if (in.tick_size.IsPositive() && !req.price.IsMultipleOf(in.tick_size)) {
    return Invalid("order", "price " + req.price.ToNormalizedString() +
                                " is not a multiple of tick " + in.tick_size.ToNormalizedString());
  }
  t.price = req.price.ToNormalizedString();
  switch (req.tif) {
    case TimeInForce::kGtc: t.tif = "GTC"; break;
    case TimeInForce::kIoc: t.tif = "IOC"; break;
    case TimeInForce::kFok: t.tif = "FOK"; break;
    case TimeInForce::kPostOnly: t.tif = "GTX"; break;
    default: return Invalid("order", "unsupported time in force");
  }
  return t;
}

}  // namespace

absl::StatusOr<std::string> EncodeNewOrder(const OrderRequest& req, const Instrument& instrument,
                                           const NewOrderOptions& options) {
  if (instrument.venue_symbol.empty()) return Invalid("order", "instrument has no venue symbol");
  if (!req.client_order_id.empty() && !IsValidClientOrderId(req.client_order_id)) {
    return Invalid("order", "client order id must match ^[.A-Z:/a-z0-9_-]{1,36}$");
  }
  auto t = OrderText(req, instrument);
  if (!t.ok()) return t.status();
  QueryBuilder q;
  q.Add("symbol", instrument.venue_symbol).Add("side", t->side);
  if (!options.position_side.empty()) q.Add("positionSide", options.position_side);
  q.Add("type", t->type).Add("quantity", t->quantity);
  if (req.type == OrderType::kLimit) q.Add("price", t->price).Add("timeInForce", t->tif);
  if (req.reduce_only) q.Add("reduceOnly", "true");
  if (!req.client_order_id.empty()) q.Add("newClientOrderId", req.client_order_id);
  if (options.result_response) q.Add("newOrderRespType", "RESULT");
  return q.Build();
}

absl::StatusOr<std::string> EncodeBatchOrders(const std::vector<OrderRequest>& reqs,
                                              const std::vector<const Instrument*>& instruments,
                                              const NewOrderOptions& options) {
  if (reqs.empty() || reqs.size() > kMaxBatchOrders) {
    return Invalid("batchOrders", "needs 1..5 orders");
  }
  if (instruments.size() != reqs.size()) return Invalid("batchOrders", "one instrument per order");
  std::string json = "[";
  for (size_t i = 0; i < reqs.size(); ++i) {
    const OrderRequest& r = reqs[i];
    const Instrument* in = instruments[i];
    if (!in || in->venue_symbol.empty()) return Invalid("batchOrders", "missing instrument");
    if (!r.client_order_id.empty() && !IsValidClientOrderId(r.client_order_id)) {
      return Invalid("batchOrders", "client order id must match ^[.A-Z:/a-z0-9_-]{1,36}$");
    }
    auto t = OrderText(r, *in);
    if (!t.ok()) return t.status();
    if (i) json += ',';
    // Same field order as the single-order form; every value is a JSON string.
    std::pair<std::string_view, std::string_view> kv[] = {
        {"symbol", in->venue_symbol}, {"side", t->side}, {"positionSide", options.position_side},
        {"type", t->type},
        {"quantity", t->quantity},    {"price", t->price}, {"timeInForce", t->tif},
        {"reduceOnly", r.reduce_only ? "true" : ""},
        {"newClientOrderId", r.client_order_id},
        {"newOrderRespType", options.result_response ? "RESULT" : ""}};
    json += '{';
    bool first = true;
    for (const auto& [k, v] : kv) {
      if (v.empty()) continue;
      if (!first) json += ',';
      first = false;
      wire::AppendJsonQuoted(&json, k);
      json += ':';
      wire::AppendJsonQuoted(&json, v);
    }
    json += '}';
  }
  json += ']';
  return QueryBuilder().Add("batchOrders", json).Build();
}

absl::StatusOr<std::string> EncodeModifyOrder(const Instrument& instrument,
                                              std::string_view order_id,
                                              std::string_view client_order_id, Side side,
                                              const Decimal& size, const Decimal& price) {
  // The order reference first (same rules as query/cancel), then the new values.
  auto ref = EncodeOrderRef(instrument.venue_symbol, order_id, client_order_id);
  if (!ref.ok()) return ref.status();
  OrderRequest as_limit;
  as_limit.side = side;
  as_limit.type = OrderType::kLimit;
  as_limit.tif = TimeInForce::kGtc;  // not sent: a modify keeps the order's time in force
  as_limit.size = size;
  as_limit.price = price;
  auto t = OrderText(as_limit, instrument);
  if (!t.ok()) return t.status();
  QueryBuilder q;
  q.Add("side", t->side).Add("quantity", t->quantity).Add("price", t->price);
  return *ref + "&" + q.Build();
}

absl::StatusOr<std::string> EncodeBatchCancel(std::string_view venue_symbol, bool by_order_id,
                                              const std::vector<std::string>& ids) {
  if (venue_symbol.empty()) return Invalid("batch cancel", "symbol is empty");
  if (ids.empty() || ids.size() > kMaxBatchCancels) {
    return Invalid("batch cancel", "needs 1.." + std::to_string(kMaxBatchCancels) + " ids");
  }
  std::string list = "[";
  for (const std::string& id : ids) {
    if (list.size() > 1) list += ',';
    if (by_order_id) {
      if (id.empty() || id.size() > 19 ||
          !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Invalid("batch cancel", "orderId must be numeric");
      }
      list += id;
    } else {
      if (!IsValidClientOrderId(id)) return Invalid("batch cancel", "bad client order id");
      wire::AppendJsonQuoted(&list, id);
    }
  }
  list += ']';
  QueryBuilder q;
  q.Add("symbol", venue_symbol).Add(by_order_id ? "orderIdList" : "origClientOrderIdList", list);
  return q.Build();
}

absl::StatusOr<std::string> EncodeOrderRef(std::string_view venue_symbol, std::string_view order_id,
                                           std::string_view client_order_id) {
  if (venue_symbol.empty()) return Invalid("order ref", "symbol is empty");
  QueryBuilder q;
  q.Add("symbol", venue_symbol);
  if (!order_id.empty()) {
    for (char c : order_id) {
      if (c < '0' || c > '9') return Invalid("order ref", "orderId must be numeric");
    }
    q.Add("orderId", order_id);
  } else if (!client_order_id.empty()) {
    if (!IsValidClientOrderId(client_order_id)) return Invalid("order ref", "bad client order id");
    q.Add("origClientOrderId", client_order_id);
  } else {
    return Invalid("order ref", "needs an order id or a client order id");
  }
  return q.Build();
}

std::string EncodeSymbolOnly(std::string_view venue_symbol) {
  return QueryBuilder().Add("symbol", venue_symbol).Build();
}

absl::StatusOr<std::string> EncodeSetLeverage(std::string_view venue_symbol, int64_t leverage) {
  if (venue_symbol.empty()) return Invalid("leverage", "symbol is empty");
  if (leverage < 1 || leverage > 125) return Invalid("leverage", "must be an integer in 1..125");
  return QueryBuilder().Add("symbol", venue_symbol).Add("leverage", leverage).Build();
}

std::string DepthDiffStream(std::string_view venue_symbol, int speed_ms) {
  std::string s = StreamSymbol(venue_symbol) + "@depth";
  if (speed_ms == 100 || speed_ms == 500) s += "@" + std::to_string(speed_ms) + "ms";
  return s;  // 250 ms is the default (no suffix)
}

std::string PartialDepthStream(std::string_view venue_symbol, int levels, int speed_ms) {
  int n = levels <= 5 ? 5 : (levels <= 10 ? 10 : 20);
  std::string s = StreamSymbol(venue_symbol) + "@depth" + std::to_string(n);
  if (speed_ms == 100 || speed_ms == 500) s += "@" + std::to_string(speed_ms) + "ms";
  return s;
}

std::string BookTickerStream(std::string_view venue_symbol) {
  return StreamSymbol(venue_symbol) + "@bookTicker";
}
std::string AggTradeStream(std::string_view venue_symbol) {
  return StreamSymbol(venue_symbol) + "@aggTrade";
}
std::string MarkPriceStream(std::string_view venue_symbol, bool every_second) {
  return StreamSymbol(venue_symbol) + (every_second ? "@markPrice@1s" : "@markPrice");
}
std::string ForceOrderStream(std::string_view venue_symbol) {
  return venue_symbol.empty() ? "!forceOrder@arr" : StreamSymbol(venue_symbol) + "@forceOrder";
}
std::string TickerStream(std::string_view venue_symbol) {
  return StreamSymbol(venue_symbol) + "@ticker";
}

namespace {
absl::StatusOr<std::string> ControlFrame(std::string_view method,
                                         const std::vector<std::string>& streams, uint64_t id) {
  if (streams.empty()) return Invalid("subscribe", "no streams");
  if (streams.size() > kMaxStreamsPerConnection) {
    return Invalid("subscribe", "more than 200 streams for one connection");
  }
  std::string out = "{\"method\":\"";
  out.append(method);
  out += "\",\"params\":[";
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].empty()) return Invalid("subscribe", "empty stream name");
    if (i) out += ',';
    wire::AppendJsonQuoted(&out, streams[i]);
  }
  out += "],\"id\":" + std::to_string(id) + "}";
  return out;
}
}  // namespace

absl::StatusOr<std::string> EncodeSubscribe(const std::vector<std::string>& streams, uint64_t id) {
  return ControlFrame("SUBSCRIBE", streams, id);
}
absl::StatusOr<std::string> EncodeUnsubscribe(const std::vector<std::string>& streams,
                                              uint64_t id) {
  return ControlFrame("UNSUBSCRIBE", streams, id);
}
std::string EncodeListSubscriptions(uint64_t id) {
  return "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":" + std::to_string(id) + "}";
}

absl::StatusOr<std::string> CombinedStreamPath(const std::vector<std::string>& streams) {
  if (streams.empty()) return Invalid("stream path", "no streams");
  if (streams.size() > kMaxStreamsPerConnection) {
    return Invalid("stream path", "more than 200 streams for one connection");
  }
  std::string out = "/stream?streams=";
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out += '/';
    for (unsigned char c : streams[i]) {
      // Stream names are ASCII except non-ASCII symbols; '@', '!' are fine in a query.
      if (c >= 0x80 || c <= 0x20 || c == '&' || c == '#' || c == '%' || c == '/' || c == '?') {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out;
}

}  // namespace perpgw::adapters::aster
