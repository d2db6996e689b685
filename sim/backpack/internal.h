// Helpers shared by the Backpack module's files: venue error bodies, Ed25519 request
// authentication (crypto from adapters/backpack/signing.h), wire number/time formats and the
// venue's spelling of engine states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/candles.h"
#include "sim/core/json.h"
#include "sim/core/net.h"
#include "sim/core/types.h"

namespace perpgw::sim::backpack {

// A venue error: HTTP status + {"code":"<ApiErrorCode>","message":"..."}.
struct ApiError {
  int http = 400;
  std::string code = "INVALID_CLIENT_REQUEST";
  std::string message;
};
void WriteError(HttpResponse& resp, const ApiError& e);
void WriteJson(HttpResponse& resp, std::string body);

// Request parameters as the venue reads them: the decoded query for GET, the flat JSON body
// fields (strings unescaped, numbers/booleans as literal text) for POST/DELETE/PATCH.
struct Params {
  JsonFields kv;
  bool Has(std::string_view k) const { return kv.find(k) != kv.end(); }
  std::string Get(std::string_view k) const {
    auto it = kv.find(k);
    return it == kv.end() ? std::string() : it->second;
  }
};
// Query parameters (GET) or body fields (other methods). Error: a body that is not a flat JSON
// object.
bool ReadParams(const HttpRequest& req, Params* out, ApiError* err);

// Raw query string as sent (after '?', still percent-encoded).
std::string RawQuery(const HttpRequest& req);

// Verifies X-API-Key / X-Signature / X-Timestamp / X-Window over the instruction string the
// server rebuilds from the request (REST) and maps the result to the account whose credentials
// api_key is the header's key. nullptr + err on failure.
const AccountSpec* Authenticate(const std::vector<AccountSpec>& accounts, const HttpRequest& req,
                                std::string_view instruction, int64_t now_ms, ApiError* err);

// Number formats.
std::string Fixed(int64_t mantissa, int scale);  // exactly `scale` decimals ("117360.0")
std::string Trimmed(int64_t mantissa, int scale);  // trailing zeros trimmed ("4.29916")
std::string MoneyText(Money m);                    // 1e-8 units, trimmed
std::string RateText(int64_t rate);                // kRateScale, trimmed
// Naive UTC ISO-8601 without zone: "2025-09-11T12:00:00" (+ ".ffffff" when micros).
std::string IsoUtc(UnixNanos t, bool micros);
int64_t ToMs(UnixNanos t);
int64_t ToUs(UnixNanos t);

// Parses a canonical uint32 ("123", or a JSON number literal) → value.
std::optional<uint32_t> ParseUint32(std::string_view text);
std::optional<uint64_t> ParseUint64(std::string_view text);
bool ParseBool(std::string_view text, bool* out);  // "true"/"false"

// Per-market margin functions and synthetic volume baseline (known symbols get the recorded
// values; configured ones are derived from max leverage).
struct MarginFns {
  std::string imf_base, imf_factor, mmf_base, mmf_factor, oi_limit;
  Money daily_quote = 0;  // synthetic 24 h quote volume (USDC, 1e-8)
};
MarginFns MarginFor(const SimInstrument& in);

// Kline interval names ("1s" .. "3d" fixed from the epoch, "1w" from Monday 00:00 UTC,
// "1month" from the 1st, UTC) → core roll-up interval; nullopt for anything else. The venue's
// alignment of 3d/1w buckets is not documented; these are the usual exchange conventions.
std::optional<CandleInterval> KlineInterval(std::string_view interval);

// Venue spelling of engine states.
inline constexpr uint64_t kOrderIdBase = 8'000'000'000ULL;  // opaque 10-digit ids like the venue
std::string VenueOrderId(uint64_t engine_id);
std::optional<uint64_t> EngineOrderId(std::string_view venue_id);
const char* SideText(Side s);  // Bid / Ask
// REST "New"/"PartiallyFilled"/"Filled"/"Cancelled"/"Expired"; a post-only cross (engine
// rejection) and system terminations are "Expired". Trigger orders: "TriggerPending" until the
// trigger fires, "TriggerFailed" when the order it places is refused.
const char* OrderStatusText(const SimOrder& o);
// expiryReason / R for terminal orders the venue expired ("" when none).
const char* ExpiryReason(const SimOrder& o);
bool IsLiquidationOrder(const SimOrder& o);
// The numeric clientId of an order ("" client id or non-numeric → nullopt).
std::optional<uint32_t> ClientIdOf(const SimOrder& o);
const char* TifText(const SimOrder& o);  // GTC / IOC / FOK (post-only rests as GTC)

}  // namespace perpgw::sim::backpack
