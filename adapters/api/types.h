// Normalized domain types shared by adapters, the gateway and the sim (no Boost, no gRPC here).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api/decimal.h"

namespace perpgw {

// Transparent hashing for unordered maps keyed by std::string: lookups by string_view (with
// std::equal_to<>) do not allocate.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using UnixNanos = int64_t;  // nanoseconds since the Unix epoch; 0 = unknown

// A value the venue may not publish: absent (nullopt) is "unknown", never zero. The gateway
// sends an absent value as an empty string (README "Semantics worth knowing").
using OptDecimal = std::optional<Decimal>;

enum class Side : uint8_t { kBuy = 1, kSell = 2 };
enum class BookSide : uint8_t { kBid = 0, kAsk = 1 };
enum class BookStatus : uint8_t { kLive = 1, kResyncing = 2, kStale = 3 };

const char* ToString(Side s);
const char* ToString(BookStatus s);

// One tradeable contract, normalized. `symbol` is the base-asset ticker ("BTC", "PEPE").
struct Instrument {
  std::string venue;
  std::string symbol;        // normalized ticker (base asset without multiplier prefix)
  std::string venue_symbol;  // the venue's own id ("BTCUSDT", "BTC_USDC_PERP", "1")
  std::string base;          // base asset as the venue names it ("1000PEPE", "kPEPE")
  std::string quote;
  std::string settle;  // settlement asset when it differs from the quote (Paradex: USD / USDC)
  std::string venue_market_id;  // the venue's numeric market id where it has one (Lighter)
  Decimal tick_size;
  Decimal step_size;
  Decimal min_size;
  OptDecimal max_size;      // absent: the venue reports no maximum
  OptDecimal min_notional;  // absent: the venue reports no minimum
  int64_t quantity_multiplier = 1;  // tokens per contract unit (1000 for 1000PEPE)
  OptDecimal max_leverage;          // absent: unknown
  bool tradeable = true;
  int price_scale = 0;  // fractional digits used for book prices (>= tick decimals)
  int size_scale = 0;   // fractional digits used for book sizes (>= step decimals)
  double funding_interval_hours = 0;  // 0 = unknown (display only)
  // The venue's own limit-price band as multipliers of its reference price (0 = none known): the
  // venue refuses a buy above reference × price_band_up or a sell below reference ×
  // price_band_down. Aster PERCENT_PRICE (reference: mark), Backpack filters.price
  // maxMultiplier/minMultiplier (reference: last price), Paradex 1 ± price_bands_width (mark).
  Decimal price_band_up, price_band_down;
};

// BASE/QUOTE:SETTLE, ccxt's unified symbol for a linear perp (BASE as the venue names it).
std::string UnifiedSymbol(const Instrument& in);

struct Level {
  int64_t price = 0;  // mantissa at the book's price scale
  int64_t size = 0;   // mantissa at the book's size scale (absolute size; 0 = delete)
};

struct LevelChange {
  BookSide side;
  Level level;
};

// Book snapshot or delta for one (venue, symbol), as the fan-out consumes it.
struct BookUpdate {
  std::string venue;
  std::string symbol;
  bool snapshot = false;       // true: bids/asks are the whole book (replace)
  BookStatus status = BookStatus::kLive;
  std::string status_reason;   // why resyncing/stale ("gap", "crossed", "reconnect", ...)
  uint64_t venue_seq = 0;      // venue's own sequence id after this update (u / nonce / seq_no)
  UnixNanos exchange_time = 0;
  UnixNanos receive_time = 0;
  int price_scale = 0;
  int size_scale = 0;
  std::vector<Level> bids;     // snapshot: best first; delta: changed levels (size 0 = delete)
  std::vector<Level> asks;
};

struct Bbo {
  std::string venue, symbol;
  Decimal bid_price, bid_size, ask_price, ask_size;
  BookStatus status = BookStatus::kLive;
  uint64_t venue_seq = 0;
  UnixNanos exchange_time = 0, receive_time = 0;
};
// Both sides quoted and bid >= ask: a top of book no market can have. Such a BBO is never
// published as LIVE (the adapter base flags it STALE and counts it).
bool IsCrossed(const Bbo& b);

struct Trade {
  std::string venue, symbol;
  std::string trade_id;
  Decimal price, size;
  Side taker_side = Side::kBuy;
  UnixNanos exchange_time = 0, receive_time = 0;
};

struct Funding {
  std::string venue, symbol;
  Decimal rate;                 // raw rate for the venue's own interval
  Decimal interval_hours;       // the venue's interval for this symbol, as reported
  Decimal rate_8h;              // rate * 8 / interval_hours
  Decimal rate_1h;
  Decimal apr;                  // rate_1h * 24 * 365
  UnixNanos next_funding_time = 0;  // 0 = venue has none (continuous accrual)
  OptDecimal mark_price, index_price;  // absent: not in the venue's message
  OptDecimal volume_24h_usd;
  OptDecimal open_interest_usd;
  UnixNanos as_of = 0;
};

// Book scales default to the tick/step decimals, but venues publish levels with more decimals
// than the step (aggregated sizes, older steps): a book that rejects such a level would resync
// forever. Widening to at least 8 fractional digits keeps every real value exact and in range
// (1e10 * 1e8 < 2^63).
inline constexpr int kMinBookScale = 8;
void WidenBookScales(Instrument* in);

// Fills rate_8h, rate_1h and apr from rate and interval_hours (exact decimals, 12 places).
absl::Status NormalizeFunding(Funding* f);

enum class OrderType : uint8_t { kLimit = 1, kMarket = 2 };
enum class TimeInForce : uint8_t { kGtc = 1, kIoc = 2, kPostOnly = 3, kFok = 4 };
enum class OrderStatus : uint8_t {
  kPendingNew = 0,  // sent, not yet acknowledged
  kOpen = 1,
  kPartiallyFilled = 2,
  kFilled = 3,
  kCanceled = 4,
  kRejected = 5,
  kExpired = 6,
};
enum class CancelReason : uint8_t {
  kNone = 0,
  kUserCanceled,
  kTimeout,
  kExpired,
  kPostOnlyViolation,
  kInsufficientBalance,
  kRejected,
  kReduceOnly,
  kSelfTrade,
  kLiquidation,
  kUnknown,
  // The gateway's own refusals (appended: the order journal stores the numeric value).
  kRiskLimit,   // a pre-trade risk limit (gateway/risk)
  kKillSwitch,  // the kill switch is engaged
  kRateLimited, // a rate limit (the venue's 429, or the gateway's own order-rate limit)
};
const char* ToString(OrderStatus s);
const char* ToString(CancelReason r);
bool IsTerminal(OrderStatus s);

struct OrderRequest {
  std::string account;
  std::string symbol;
  std::string client_order_id;  // required; makes placement idempotent
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  Decimal price;           // limit price (rounded to tick by the gateway)
  Decimal size;            // base units in contract terms (rounded to step)
  bool reduce_only = false;
  Decimal max_slippage_bps;  // market orders: worst price = reference * (1 ± bps)
  Decimal worst_price;       // market orders: computed by the gateway from the book
  // Not 0: the order belongs to a batch opened with VenueAdapter::OpenBatch (one venue batch
  // request where the venue has one). Not part of the order's identity (never journaled or
  // compared for idempotency).
  uint64_t batch_id = 0;
};

struct Order {
  std::string venue, account, symbol;
  std::string order_id;         // venue order id
  std::string client_order_id;  // ours
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  Decimal price, size, filled_size;
  OptDecimal avg_fill_price;  // absent: nothing filled yet, or the venue does not say
  bool reduce_only = false;
  OrderStatus status = OrderStatus::kPendingNew;
  CancelReason reason = CancelReason::kNone;
  std::string reason_text;
  UnixNanos created_time = 0, updated_time = 0;
};

enum class AckOutcome : uint8_t { kAccepted = 1, kRejected = 2, kOutcomeUnknown = 3 };

// The order a request describes, before the venue has it: venue, account, symbol, client id,
// side, type, time in force, price, size and reduce-only from `r`; `status` and both times `now`.
Order OrderOf(const OrderRequest& r, const std::string& venue, OrderStatus status, UnixNanos now);

struct OrderAck {
  AckOutcome outcome = AckOutcome::kOutcomeUnknown;
  Order order;
  CancelReason reason = CancelReason::kNone;
  std::string message;  // venue's message (never contains secrets)
  bool retryable = false;
};

struct Fill {
  std::string venue, account, symbol;
  std::string order_id, client_order_id, trade_id;
  Side side = Side::kBuy;
  Decimal price, size, fee;
  std::string fee_asset;
  bool maker = false;
  bool liquidation = false;
  UnixNanos exchange_time = 0;
};

// An order state change, optionally carrying one incremental fill.
struct OrderEvent {
  Order order;
  std::optional<Fill> fill;
  UnixNanos exchange_time = 0, receive_time = 0;
};

struct Position {
  std::string venue, account, symbol;
  Decimal size;  // signed: > 0 long, < 0 short
  Decimal entry_price;
  // Absent when the venue's message does not carry them (never a made-up zero).
  OptDecimal mark_price, exposure_usd;
  OptDecimal unrealized_pnl, realized_pnl, funding_accrued, margin, leverage, liquidation_price;
  UnixNanos update_time = 0;
};

struct Balance {
  std::string venue, account;
  std::string asset;  // collateral asset (USDT, USDC)
  Decimal available, equity;
  OptDecimal unrealized_pnl, margin_used;  // absent: the venue does not publish them
  UnixNanos update_time = 0;
};

struct LeverageBracket {
  Decimal notional_floor, notional_cap, max_leverage, maint_margin_ratio;
};

struct LeverageInfo {
  std::string venue, account, symbol;
  OptDecimal leverage;      // current setting (absent: unknown)
  OptDecimal max_leverage;
  OptDecimal max_notional;  // absent: unknown
  OptDecimal initial_margin_ratio, maint_margin_ratio;
  std::vector<LeverageBracket> brackets;
};

struct Liquidation {
  std::string venue, account, symbol;
  Side side = Side::kSell;
  Decimal price, size;
  std::string order_id;
  UnixNanos exchange_time = 0;
};

enum class ConnState : uint8_t { kDisconnected = 0, kConnecting = 1, kConnected = 2, kDegraded = 3 };
const char* ToString(ConnState s);

struct Capabilities {
  bool market_data = true;
  bool trading = false;
  bool set_leverage = false;
  bool liquidation_stream = false;
  bool fill_history = false;
  bool market_orders = false;  // true market orders (else aggressive limit with worst price)
  bool post_only = false;
  bool reduce_only = false;
  bool balance_stream = false;
  bool funding_history = false;  // ListFundingHistory from the venue's history endpoint
  bool native_amend = false;     // VenueAdapter::AmendOrder modifies in place (else cancel-replace)
  // ListFills answers a [from, to] window completely when it returns fewer rows than this (the
  // venue's page cap, honouring from and to); 0: it does not (the gateway offers no cursor).
  int fill_page_size = 0;
  // Orders per venue batch request (the venue's own cap) when PlaceOrders uses the venue's
  // batch endpoint; 0: a batch goes out one request per order.
  int native_batch = 0;
  // Cancels per venue batch request when CancelOrders uses the venue's batch cancel; 0: none.
  int native_cancel_batch = 0;
  // The adapter publishes no BBO events of its own (it subscribes no ticker stream): the
  // gateway derives the BBO from its copy of the book, one update per change of the top.
  bool bbo_from_book = false;
};

struct VenueHealth {
  std::string venue;
  ConnState state = ConnState::kDisconnected;
  UnixNanos last_message_time = 0;
  uint64_t reconnects = 0;
  std::string last_error;
};

}  // namespace perpgw
