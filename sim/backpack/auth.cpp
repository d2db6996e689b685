// Backpack module helpers: error bodies, parameter reading, Ed25519 request verification (the
// adapter's pure VerifyRequest/ParamsFrom* — no crypto here), number/time formats.
#include <charconv>
#include <cstdio>

#include "adapters/backpack/signing.h"
#include "sim/backpack/internal.h"

namespace perpgw::sim::backpack {

namespace bp = perpgw::adapters::backpack;

void WriteError(HttpResponse& resp, const ApiError& e) {
  JsonWriter w;
  w.BeginObject().Field("code", e.code).Field("message", e.message).EndObject();
  resp.Json(e.http, w.Take());
  resp.content_type = "application/json; charset=utf-8";
}

void WriteJson(HttpResponse& resp, std::string body) {
  resp.Json(200, std::move(body));
  // The venue declares the charset; clients that sniff it see the same header.
  resp.content_type = "application/json; charset=utf-8";
}

std::string RawQuery(const HttpRequest& req) {
  size_t q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

bool ReadParams(const HttpRequest& req, Params* out, ApiError* err) {
  out->kv.clear();
  for (const auto& [k, v] : req.query) out->kv.emplace(k, v);
  if (req.method == "GET" || req.body.empty()) return true;
  size_t first = req.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return true;
  if (req.body[first] == '[') return true;  // batch orders: read per element by the handler
  auto fields = ParseJsonObject(req.body);
  if (!fields.ok()) {
    err->http = 400;
    err->code = "INVALID_CLIENT_REQUEST";
    err->message = "Invalid request body: expected a JSON object";
    return false;
  }
  for (auto& [k, v] : *fields) {
    if (v == "null") continue;  // absent, like the venue's optional fields
    out->kv[k] = v;
  }
  return true;
}

const AccountSpec* Authenticate(const std::vector<AccountSpec>& accounts, const HttpRequest& req,
                                std::string_view instruction, int64_t now_ms, ApiError* err) {
  err->http = 400;
  err->code = "INVALID_CLIENT_REQUEST";
  const std::string key = req.Header("x-api-key");
  const std::string sig = req.Header("x-signature");
  const std::string ts = req.Header("x-timestamp");
  const std::string window = req.Header("x-window");
  if (key.empty()) {
    err->http = 401;
    err->code = "UNAUTHORIZED";
    err->message = "Missing X-API-Key header";
    return nullptr;
  }
  if (sig.empty()) {
    err->message = "Invalid X-Signature header";
    return nullptr;
  }
  if (ts.empty()) {
    err->message = "Invalid X-Timestamp header";
    return nullptr;
  }
  // Rebuild the signed parameters from the request as parsed (body layout need not match).
  absl::Status st;
  bp::SignedRequestView view{key, sig, ts, window};
  std::vector<bp::SignParam> params;
  const std::string raw_query = RawQuery(req);
  if (!raw_query.empty()) {
    auto q = bp::ParamsFromQueryString(raw_query);
    if (!q.ok()) {
      err->message = "Invalid query string";
      return nullptr;
    }
    params = std::move(*q);
  }
  size_t first = req.body.find_first_not_of(" \t\r\n");
  if (req.method != "GET" && first != std::string::npos && req.body[first] == '[') {
    auto items = bp::ParamsFromJsonArray(req.body);
    if (!items.ok()) {
      err->message = "Invalid request body";
      return nullptr;
    }
    st = bp::VerifyBatchRequest(view, instruction, *items, now_ms);
  } else {
    if (req.method != "GET" && first != std::string::npos) {
      auto b = bp::ParamsFromJsonObject(req.body);
      if (!b.ok()) {
        err->message = "Invalid request body";
        return nullptr;
      }
      for (auto& p : *b) params.push_back(std::move(p));
    }
    st = bp::VerifyRequest(view, instruction, params, now_ms);
  }
  if (!st.ok()) {
    err->message = std::string(st.message());
    return nullptr;
  }
  for (const auto& a : accounts) {
    auto it = a.credentials.find("api_key");
    if (it != a.credentials.end() && it->second == key) return &a;
  }
  // A valid signature by a key the venue does not know.
  err->http = 401;
  err->code = "UNAUTHORIZED";
  err->message = "Invalid API key";
  return nullptr;
}

// ------------------------------------------------------------------------------ formats

std::string Fixed(int64_t mantissa, int scale) {
  bool neg = mantissa < 0;
  uint64_t v = neg ? static_cast<uint64_t>(-(mantissa + 1)) + 1 : static_cast<uint64_t>(mantissa);
  std::string digits = std::to_string(v);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale + 1 - static_cast<int>(digits.size())), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  }
  if (neg && v != 0) digits.insert(0, 1, '-');
  return digits;
}

std::string Trimmed(int64_t mantissa, int scale) {
  std::string s = Fixed(mantissa, scale);
  if (scale > 0) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string MoneyText(Money m) { return Trimmed(m, kMoneyScale); }
std::string RateText(int64_t rate) { return Trimmed(rate, kRateScale); }

int64_t ToMs(UnixNanos t) { return t / 1'000'000; }
int64_t ToUs(UnixNanos t) { return t / 1'000; }

std::string IsoUtc(UnixNanos t, bool micros) {
  int64_t us = t / 1000;
  int64_t secs = us / 1'000'000;
  int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];
  if (micros) {
    std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lld",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60), static_cast<long long>(frac));
  } else {
    std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60));
  }
  return buf;
}

std::optional<uint64_t> ParseUint64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<uint32_t> ParseUint32(std::string_view text) {
  auto v = ParseUint64(text);
  if (!v || *v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "true") {
    *out = true;
    return true;
  }
  if (text == "false") {
    *out = false;
    return true;
  }
  return false;
}

// ------------------------------------------------------------------------- engine states

std::string VenueOrderId(uint64_t engine_id) { return std::to_string(kOrderIdBase + engine_id); }

std::optional<uint64_t> EngineOrderId(std::string_view venue_id) {
  auto v = ParseUint64(venue_id);
  if (!v || *v <= kOrderIdBase) return std::nullopt;
  return *v - kOrderIdBase;
}

const char* SideText(Side s) { return s == Side::kBuy ? "Bid" : "Ask"; }

bool IsLiquidationOrder(const SimOrder& o) { return o.client_id.rfind("liquidation-", 0) == 0; }

const char* ExpiryReason(const SimOrder& o) {
  if (o.status == OrderStatus::kRejected) {
    return o.reject == RejectCode::kPostOnlyViolation ? "PostOnlyTaker" : "";
  }
  if (o.status == OrderStatus::kCanceled) {
    if (o.reason == CancelReason::kReduceOnly) return "ReduceOnlyNotReduced";
    if (o.reason == CancelReason::kLiquidation) return "Liquidation";
    return "";
  }
  if (o.status != OrderStatus::kExpired) return "";
  if (o.type == OrderType::kMarket) {
    return o.worst_price > 0 ? "SlippageToleranceExceeded" : "InsufficientLiquidity";
  }
  if (o.tif == TimeInForce::kFok) return "FillOrKill";
  return "ImmediateOrCancel";
}

const char* OrderStatusText(const SimOrder& o) {
  if (o.awaiting_trigger()) return "TriggerPending";
  // A trigger order the engine refused when it fired (margin, reduce-only, size). A post-only
  // cross stays Expired (PostOnlyTaker), as for any new order.
  if (o.triggered && o.status == OrderStatus::kRejected &&
      o.reject != RejectCode::kPostOnlyViolation) {
    return "TriggerFailed";
  }
  switch (o.status) {
    case OrderStatus::kPendingNew:
    case OrderStatus::kOpen:
      return "New";
    case OrderStatus::kPartiallyFilled:
      return "PartiallyFilled";
    case OrderStatus::kFilled:
      return "Filled";
    case OrderStatus::kCanceled:
      // The venue expires orders it terminates itself; "Cancelled" is a user cancel.
      return ExpiryReason(o)[0] != '\0' ? "Expired" : "Cancelled";
    case OrderStatus::kRejected:
    case OrderStatus::kExpired:
      return "Expired";
  }
  return "New";
}

std::optional<uint32_t> ClientIdOf(const SimOrder& o) { return ParseUint32(o.client_id); }

const char* TifText(const SimOrder& o) {
  if (o.tif == TimeInForce::kIoc && o.type == OrderType::kLimit) return "IOC";
  if (o.tif == TimeInForce::kFok) return "FOK";
  return "GTC";
}

}  // namespace perpgw::sim::backpack
