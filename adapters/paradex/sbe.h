// Paradex WebSocket SBE (schema id 1) decoder: binary public frames → plain structs. Pure: no I/O,
// clock or logging. The wire description is ../shared/protocols/paradex-sbe.md; the rules it
// states and this file follows:
//   - little endian, no alignment padding (every load is a memcpy);
//   - header {blockLength, templateId, schemaId, version}; a fixed field is read only when it
//     fits inside blockLength (fields past it are *absent*, from an older acting version), and
//     decoding always continues at 8 + blockLength (unknown trailing fields of a newer version
//     are skipped);
//   - groups step by the group's own entry blockLength;
//   - var data: uint8 length + bytes, in schema order; a field missing at the very end of the
//     frame is absent (the 1:2 "in place" additions), a length running past the end is a
//     malformed frame;
//   - decimals are int64 mantissas at a fixed exponent (-8; Rate12: -12), INT64_MIN = null;
//     timestamps are microseconds.
// Every error is InvalidArgument naming the template and what was wrong; nothing reads past
// the frame, whatever its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "adapters/api/decimal.h"

namespace perpgw::adapters::paradex::sbe {

inline constexpr uint16_t kSchemaId = 1;
// The version the gateway negotiates (`?sbeSchemaId=1&sbeSchemaVersion=1`): the docs say "use
// 1"; the schema text says no environment serves 2 yet. The decoder accepts every acting version.
inline constexpr uint16_t kNegotiatedVersion = 1;
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kGroupHeaderSize = 4;
inline constexpr int64_t kNull = INT64_MIN;
inline constexpr int kScale8 = 8;    // Price8, Qty8, Value8, Rate8
inline constexpr int kScale12 = 12;  // Rate12

enum class TemplateId : uint16_t {
  kTrade = 1,
  kBbo = 2,
  kBook = 3,
  kMarketSummary = 4,
  kFundingData = 5,
  kFundingRateComparison = 6,
  kOrder = 20,
  kFill = 21,
  kPosition = 22,
  kAccount = 23,
  kHeartbeat = 40,
  kSubscribed = 41,
};
// "TradeEvent", ...; "unknown" for ids the schema does not name.
const char* TemplateName(uint16_t template_id);
// The root-block length of the oldest version (0) of a template, 0 for unknown ids. A frame whose
// block is shorter lacks fields every version has: it is malformed.
uint16_t MinBlockLength(uint16_t template_id);

// Enum values on the wire (uint8). 254 = NON_REPRESENTABLE in every business enum: the server had
// a value the schema cannot name. Unknown values are never fatal to the decoder; the mapping to
// gateway types decides.
inline constexpr uint8_t kNonRepresentable = 254;
enum class Side : uint8_t { kBuy = 1, kSell = 2 };
enum class FillType : uint8_t {
  kFill = 1,
  kLiquidation = 2,
  kUnwindTransfer = 3,
  kSettleMarket = 4,
  kRpi = 5,
  kBlockTrade = 6,
};
enum class PkgType : uint8_t { kSnapshot = 0, kDelta = 1 };

struct Header {
  uint16_t block_length = 0;
  uint16_t template_id = 0;
  uint16_t schema_id = 0;
  uint16_t version = 0;
};

// Checks the header: at least 8 bytes, schema id 1, 8 + blockLength within the frame. The
// template may be unknown (the caller drops such frames and keeps the connection).
absl::Status ReadHeader(std::string_view frame, Header* out);

// A decimal field: mantissa at `scale`, or null (INT64_MIN on the wire; also used for a field
// the acting version does not carry).
struct Dec {
  int64_t mantissa = kNull;
  bool null() const { return mantissa == kNull; }
  // The value (scale 8 unless stated); callers check null() first.
  Decimal value(int scale = kScale8) const { return Decimal::FromUnits(mantissa, scale); }
};

struct TradeEvent {
  int64_t ts_us = 0;
  int64_t seq = 0;
  int64_t trade_id = 0;  // low 64 bits of the venue's 28-digit id, as signed int64 (gotcha G3)
  uint8_t side = 0;      // aggressor (taker) side
  Dec price, size;
  int64_t created_at_us = 0;
  uint8_t trade_type = 0;  // FillType
  std::string_view market;
  std::string_view trade_id_str;  // exact decimal id (1:2 in place); empty when absent
};

struct BboEvent {
  int64_t ts_us = 0;
  int64_t seq = 0;
  Dec bid_price, bid_size, ask_price, ask_size;  // null price = empty side
  std::string_view market;
};

// One book group: entries read in place (no copy, no allocation).
class LevelGroup {
 public:
  LevelGroup() = default;
  LevelGroup(const char* entries, uint16_t entry_length, uint16_t count)
      : entries_(entries), entry_length_(entry_length), count_(count) {}
  uint16_t size() const { return count_; }
  // Entry i's price and size mantissas (scale 8). i < size().
  int64_t price(size_t i) const;
  int64_t qty(size_t i) const;

 private:
  const char* entries_ = nullptr;
  uint16_t entry_length_ = 0;
  uint16_t count_ = 0;
};

struct BookEvent {
  int64_t ts_us = 0;
  int64_t seq = 0;
  uint8_t pkg_type = 0;  // PkgType
  // Interactive feed only (null otherwise).
  Dec best_bid_price, best_bid_size, best_ask_price, best_ask_size, relative_spread;
  // API (non-RPI) top of book; null when not available.
  Dec best_bid_api_price, best_bid_api_size, best_ask_api_price, best_ask_api_size;
  LevelGroup bids, asks;  // absolute size per price; size 0 removes the level (deltas)
  std::string_view market;
};

struct MarketSummaryEvent {
  int64_t ts_us = 0;
  int64_t seq = 0;
  Dec mark_price, index_price, last_price;
  Dec volume_usd_24h;  // USD
  Dec open_interest;   // base units
  Dec funding_rate;    // per the market's own period, truncated to 8 dp
  Dec bid, ask;
  Dec total_volume;  // lifetime USD
  Dec price_change_rate_24h;
  // Option greeks/IVs (markIv .. vanna) are skipped: this gateway serves perps only.
  Dec future_funding_rate, external_fair_price, bid_size, ask_size;
  // v1+ (null at version 0).
  Dec forward_rate, risk_free_rate;
  Dec funding_rate_precise;  // Rate12: prefer it over funding_rate when not null
  std::string_view market;
};

struct FundingDataEvent {
  int64_t ts_us = 0;
  int64_t seq = 0;
  Dec funding_rate, funding_index;
  int64_t created_at_us = 0;
  Dec funding_premium, funding_rate_8h;
  int16_t funding_period_hours = 0;
  Dec impact_premium_rate;  // v1+; null when absent
  std::string_view market;
};

struct FundingRateComparisonEvent {
  int64_t ts_us = 0;
  int64_t last_updated_at_us = 0;
  Dec hourly_funding_rate;  // Rate12
  uint8_t asset_kind = 0;
  uint8_t source = 0;
  std::string_view market;
};

// Private templates (docs: private channels stay JSON; the schema and the SDK's tests also know
// binary ones, so a binary private frame is decoded rather than dropped).
struct OrderEvent {
  int64_t ts_us = 0, seq = 0;
  uint8_t status = 0, side = 0, order_type = 0, time_in_force = 0;
  Dec price, trigger_price, size, size_open, avg_fill_price;
  int64_t created_at_us = 0, updated_at_us = 0;
  std::string_view account;  // 32 raw bytes, big-endian field element
  int64_t received_at_us = 0, published_at_us = 0;
  uint8_t stp = 0, flags = 0;
  std::optional<uint8_t> request_status, request_type;  // 1:2 in place
  std::string_view order_id, client_order_id, market, cancel_reason;
  std::string_view request_id, request_message;  // 1:2 in place
};

struct FillEvent {
  int64_t ts_us = 0;
  int64_t seq = kNull;  // null for transfers
  uint8_t fill_type = 0, side = 0, liquidity = 0;
  Dec price, size, fee, realized_pnl;
  int64_t created_at_us = 0;
  std::string_view account;
  Dec underlying_price, realized_funding;
  std::optional<uint8_t> flags;              // v2
  std::optional<uint64_t> orderbook_seq_no;  // v2
  std::string_view fill_id, order_id, client_order_id, trade_id, market;
  std::string_view fee_currency;  // v2
};

struct PositionEvent {
  int64_t ts_us = 0, seq = 0;
  uint8_t side = 0;  // 1 long, 2 short
  Dec size, avg_entry_price, unrealized_pnl, realized_pnl, mark_price, liquidation_price, leverage;
  int64_t updated_at_us = 0;
  std::string_view account;
  Dec avg_entry_price_usd, cost, cost_usd, cached_funding_index, unrealized_funding_pnl;
  uint8_t status = 0;
  std::string_view market, last_fill_id;
};

struct AccountEvent {
  int64_t ts_us = 0, seq = 0;
  Dec total_collateral, free_collateral, initial_margin_req, maintenance_margin_req, account_value,
      unrealized_pnl;
  int64_t updated_at_us = 0;
  std::string_view account;
  Dec margin_cushion;
  uint8_t status = 0;
  std::optional<int64_t> last_seen_notification_us;  // 1:2 in place
  std::string_view settlement_asset;
};

struct HeartbeatEvent {
  int64_t ts_us = 0, seq = 0;
};

struct SubscribedEvent {
  int64_t ts_us = 0, seq = 0;
  uint8_t status = 0;  // 0 ok, 1 error
  std::string_view channel;
};

// Decoders: `frame` is the whole WS binary message; `h` its ReadHeader result and must name the
// decoder's template. String views point into `frame`. Public templates require a non-empty
// market (frames are routed by it).
absl::Status Decode(std::string_view frame, const Header& h, TradeEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, BboEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, BookEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, MarketSummaryEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, FundingDataEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, FundingRateComparisonEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, OrderEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, FillEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, PositionEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, AccountEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, HeartbeatEvent* out);
absl::Status Decode(std::string_view frame, const Header& h, SubscribedEvent* out);

// A 32-byte AccountAddress as JSON writes it: "0x" + lowercase hex, leading zeros stripped
// ("0x0" for zero).
std::string AccountHex(std::string_view raw32);

// Converts a scale-8 book mantissa to `scale` (>= 8 for every book: kMinBookScale); false on
// overflow or a scale below 8 that would lose digits.
bool RescaleMantissa(int64_t m8, int scale, int64_t* out);

}  // namespace perpgw::adapters::paradex::sbe
