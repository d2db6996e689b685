// Helpers shared by the Paradex module's files: venue error bodies, the SBE encoder (written from
// the schema, independently of the adapter's decoder: tests/unit/paradex_sim checks it
// reproduces ../shared/protocols/paradex/sbe/*.hex byte for byte), JWT issuance, number formats
// and the venue's spelling of engine states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api/order_book.h"
#include "sim/core/json.h"
#include "sim/core/net.h"
#include "sim/core/types.h"

namespace perpgw::sim::paradex {

// A venue error: HTTP status + {"error":"<CODE>","message":"..."}.
struct ApiError {
  int http = 400;
  std::string code = "VALIDATION_ERROR";
  std::string message;
};
void WriteError(HttpResponse& resp, const ApiError& e);
void WriteJson(HttpResponse& resp, int status, std::string body);

// ---- SBE (schema id 1) ----------------------------------------------------------------------
inline constexpr int64_t kSbeNull = INT64_MIN;
inline constexpr uint16_t kSbeSchemaId = 1;

// A mantissa at `scale` as a scale-8 (or 12) SBE decimal, truncated toward zero beyond it.
int64_t ToSbe(int64_t mantissa, int scale, int sbe_scale = 8);
// Decimal text ("-0.00014969570582") -> SBE mantissa at sbe_scale, truncated; nullopt on junk.
std::optional<int64_t> SbeFromText(std::string_view text, int sbe_scale = 8);

struct SbeLevel {
  int64_t price = 0;  // scale 8
  int64_t size = 0;   // scale 8 (0 = remove)
};
std::string SbeBook(int version, int64_t ts_us, int64_t seq, bool snapshot,
                    const std::vector<SbeLevel>& bids, const std::vector<SbeLevel>& asks,
                    std::string_view market);
// Null prices/sizes (kSbeNull) for an empty side.
std::string SbeBbo(int version, int64_t ts_us, int64_t seq, int64_t bid_px, int64_t bid_sz,
                   int64_t ask_px, int64_t ask_sz, std::string_view market);
// `trade_id`: the venue's decimal id; the int64 field carries its low 64 bits, version 2 appends
// the exact text.
std::string SbeTrade(int version, int64_t ts_us, int64_t seq, std::string_view trade_id,
                     uint8_t side, int64_t price, int64_t size, int64_t created_us,
                     uint8_t trade_type, std::string_view market);
struct SbeSummary {
  int64_t ts_us = 0, seq = 0;
  int64_t mark = 0, index = 0, last = 0, volume_24h = 0, open_interest = 0, funding_rate = 0;
  int64_t bid = kSbeNull, ask = kSbeNull, total_volume = 0, price_change_24h = 0;
  int64_t bid_size = kSbeNull, ask_size = kSbeNull;
  int64_t funding_rate_precise = kSbeNull;  // scale 12, v1+
};
std::string SbeMarketSummary(int version, const SbeSummary& s, std::string_view market);
struct SbeFunding {
  int64_t ts_us = 0, seq = 0;
  int64_t rate = 0, index = 0, created_us = 0, premium = 0, rate_8h = 0;
  int16_t period_hours = 8;
  int64_t impact_premium = kSbeNull;  // v1+
};
std::string SbeFundingData(int version, const SbeFunding& f, std::string_view market);
std::string SbeFundingRateComparison(int version, int64_t ts_us, int64_t last_updated_us,
                                     int64_t hourly_rate12, uint8_t asset_kind, uint8_t source,
                                     std::string_view market);
std::string SbeHeartbeat(int version, int64_t ts_us, int64_t seq);

// ---- JWT (ES384) -------------------------------------------------------------------------------
// The sim's token issuer: a P-384 key made at start; tokens {"alg":"ES384","typ":"JWT"} /
// {"typ":"at+JWT","exp","iat","iss","sub":<account>} signed as JOSE (r || s, base64url).
class JwtIssuer {
 public:
  JwtIssuer();
  ~JwtIssuer();
  JwtIssuer(const JwtIssuer&) = delete;
  JwtIssuer& operator=(const JwtIssuer&) = delete;
  std::string Issue(std::string_view account, int64_t iat_s, int64_t exp_s) const;
  // Verifies the signature with the issuer's key and returns the payload's sub, jti (issue
  // counter: 1, 2, ...) and exp.
  bool Verify(std::string_view token, std::string* sub, int64_t* jti, int64_t* exp_s) const;
  // The jti the next token gets.
  int64_t next_jti() const { return next_jti_; }
  // The public key as a JWK set (GET /v1/jwks.json).
  std::string JwksJson() const;

 private:
  struct Key;
  Key* key_;
  mutable int64_t next_jti_ = 1;
};

// ---- formats --------------------------------------------------------------------------------
std::string Trimmed(int64_t mantissa, int scale);  // "4.29916"
std::string MoneyText(Money m);                    // 1e-8 units, trimmed
std::string RateText(int64_t rate);                // kRateScale, trimmed
int64_t ToMs(UnixNanos t);
int64_t ToUs(UnixNanos t);

// ---- price-tick grouping (order_book.{m}.{feed}@15@{rate}@{price_tick}, GET /orderbook)
// A price_tick token → the bucket width at the market's price scale. The venue's tokens are
// 0_0000001, 0_0000005, 0_000001, 0_00001, 0_0001, 0_001, 0_01, 0_1, 1, 10, 100 (paradex.md §6,
// dot written as underscore); "0.1" is read like "0_1" (REST names the parameter a string and
// gives no format: the sim takes both). nullopt when the token is not one of those or is not a
// whole multiple of the market's tick (finer than the tick — the notes say it "should be ≥ the
// market's price_tick_size"; the sim refuses it).
std::optional<int64_t> ParsePriceTick(const SimInstrument& in, std::string_view token);
// The best `depth` levels of one side grouped into buckets of `group` (0 = ungrouped): a bid
// lands on its price rounded down to the bucket, an ask on its price rounded up, sizes summed
// (paradex.md §17 leaves the rounding open: this is the usual reading — a bucket never shows a
// better price than any order in it). Best first.
std::vector<Level> GroupedLevels(const OrderBook& book, bool bids, int64_t group, size_t depth);

// Venue spelling of engine states.
const char* SideText(Side s);  // BUY / SELL
// UNTRIGGERED (a conditional order waiting for its trigger) / NEW / OPEN / CLOSED.
const char* OrderStatusText(const SimOrder& o);
// cancel_reason for a CLOSED order ("" otherwise).
std::string CancelReasonText(const SimOrder& o);
// The venue's order id: a 28-digit decimal like the real ids ("1681462103821101699438490000").
std::string VenueOrderId(uint64_t engine_id);
std::optional<uint64_t> EngineOrderId(std::string_view venue_id);
// The venue's fill / trade id for an engine trade id.
std::string VenueTradeId(uint64_t engine_trade_id);

}  // namespace perpgw::sim::paradex
