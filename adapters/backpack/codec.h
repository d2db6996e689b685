// Backpack codec: venue JSON (REST bodies, WS frames) <-> normalized perpgw types. Pure: no I/O,
// no clock (receive/as-of times are parameters), no logging; malformed input -> error Status.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "adapters/backpack/signing.h"
#include "adapters/backpack/symbols.h"

namespace perpgw::adapters::backpack {

// ---------------------------------------------------------------------------------------------
// Venue-side records that have no single normalized counterpart.

// One perp from /api/v1/markets with the fields the adapter needs beyond Instrument.
struct MarketInfo {
  Instrument instrument;
  std::string market_type;          // "PERP"
  std::string order_book_state;     // Open | Closed | CancelOnly | LimitOnly | PostOnly
  int64_t funding_interval_ms = 0;  // 0 = not reported
  Decimal imf_base, imf_factor, mmf_base, mmf_factor;      // sqrt margin functions (0 = absent)
  Decimal funding_rate_upper_bps, funding_rate_lower_bps;  // bps: 100 = 1 % per interval
  Decimal open_interest_limit;                             // base units, 0 = none
};

// REST /api/v1/depth, levels at the instrument's scales, sorted best first on each side.
struct DepthSnapshot {
  uint64_t last_update_id = 0;
  UnixNanos exchange_time = 0;
  std::vector<Level> bids;  // descending price
  std::vector<Level> asks;  // ascending price
};

// markPrices item (REST) or markPrice stream (WS). Funding fields absent on prediction markets.
struct MarkPriceInfo {
  std::string venue_symbol;
  Decimal mark_price, index_price;
  bool has_funding = false;
  Decimal funding_rate;             // fraction per funding interval
  UnixNanos next_funding_time = 0;  // from ms
  UnixNanos exchange_time = 0;      // WS only (engine time)
};

// ticker (REST, object or array) / ticker stream (WS): 24 h rolling stats.
struct TickerStats {
  std::string venue_symbol;
  Decimal last_price, volume, quote_volume;  // volume in base, quote_volume in USDC
  int64_t trades = 0;
  UnixNanos exchange_time = 0;
};

// openInterest (REST array) / openInterest stream. In base units (contracts).
struct OpenInterestInfo {
  std::string venue_symbol;
  Decimal open_interest;
  UnixNanos time = 0;
};

// fundingRates history item.
struct FundingRateRecord {
  std::string venue_symbol;
  Decimal rate;  // fraction per interval
  UnixNanos interval_end = 0;
};

// Account settings (GET /api/v1/account). Leverage is account-wide on Backpack.
struct AccountSettings {
  Decimal leverage_limit;  // 0 = not reported
  Decimal futures_maker_fee_bps, futures_taker_fee_bps, spot_maker_fee_bps, spot_taker_fee_bps;
  Decimal position_limit, borrow_limit;
  bool liquidating = false;
  int64_t limit_orders = 0, trigger_orders = 0;
};

// account.orderUpdate event, normalized.
struct OrderUpdate {
  std::string event_type;             // orderAccepted, orderFill, orderCancelled, orderExpired, ...
  std::string origin;                 // O: USER, LIQUIDATION_AUTOCLOSE, ADL_AUTOCLOSE, ...
  std::string expiry_reason;          // R, as sent
  std::optional<uint32_t> client_id;  // c, as sent
  OrderEvent event;                   // event.fill set on orderFill
  std::optional<Liquidation> liquidation;  // liquidation/ADL-origin fills
};

// account.positionUpdate message. The per-position snapshot sent on subscribe has no "e".
struct PositionUpdate {
  std::string event_type;  // positionOpened | positionAdjusted | positionClosed | "" (snapshot)
  bool snapshot = false;
  std::string position_id;
  Position position;
};

enum class WsKind : uint8_t {
  kDepth,
  kBookTicker,
  kTrade,
  kMarkPrice,
  kTicker,
  kOpenInterest,
  kLiquidation,
  kKline,
  kOrderUpdate,
  kPositionUpdate,
  kRfqUpdate,
  kError,    // {"id":null,"error":{"code":4006,"message":"Invalid stream"}}
  kUnknown,  // valid JSON we do not handle
};
const char* ToString(WsKind k);

struct WsFrameInfo {
  WsKind kind = WsKind::kUnknown;
  std::string stream;        // "depth.BTC_USDC_PERP", "account.orderUpdate"
  std::string venue_symbol;  // last dotted part for per-symbol streams, else empty
  int64_t error_code = 0;    // kError only
  std::string error_message;
};

// Encoded request: the JSON body to send (empty for GET) and the exact params to sign.
struct EncodedRequest {
  std::string body;
  std::vector<SignParam> params;
};

// Batch orderExecute (POST /api/v1/orders): the JSON array body and, per order in the same
// order, the params its signing segment is built from (Signer::SignBatch).
struct EncodedBatch {
  std::string body;
  std::vector<std::vector<SignParam>> items;
};

// Orders per batch request. Neither backpack.md nor the sim (sim/backpack/rest.cpp) names a
// cap for POST /api/v1/orders; we send at most PlaceOrders' own limit (20), so one call's
// orders of one account go out in one request. A venue refusing a larger batch would refuse
// the whole request (every order's answer), never split it silently.
inline constexpr size_t kMaxBatchOrders = 20;

// One entry of a batch orderExecute answer, in request order: the order object (http_status
// 200) or the venue's error body for that order. The answer carries no status per entry: an
// error entry is read as a single order's 400 answer with that body (a TIMEOUT/SERVER_ERROR
// code still makes it an unknown outcome). `ack` is ParseOrderExecuteResponse(http_status,
// body); `body` is the entry's own JSON text.
struct BatchOrderEntry {
  int http_status = 0;
  std::string body;
  OrderAck ack;
};

// ---------------------------------------------------------------------------------------------
// Decoders. One Codec per thread (it owns a reusable wire::JsonParser; one pass per object).
// WS decoders accept the full {"stream","data"} envelope or the bare data object.
class Codec {
 public:
  Codec();
  ~Codec();
  Codec(Codec&&) noexcept;
  Codec& operator=(Codec&&) noexcept;
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // --- public REST
  // Only marketType PERP with a *_USDC_PERP symbol; others are skipped (not an error).
  absl::StatusOr<std::vector<MarketInfo>> ParseMarketInfos(std::string_view body);
  absl::StatusOr<std::vector<Instrument>> ParseMarkets(std::string_view body);
  absl::StatusOr<DepthSnapshot> ParseDepthSnapshot(std::string_view body, const Instrument& inst);
  absl::StatusOr<std::vector<MarkPriceInfo>> ParseMarkPrices(std::string_view body);
  absl::StatusOr<std::vector<TickerStats>> ParseTickers(std::string_view body);  // obj or array
  absl::StatusOr<std::vector<OpenInterestInfo>> ParseOpenInterest(std::string_view body);
  absl::StatusOr<std::vector<FundingRateRecord>> ParseFundingRates(std::string_view body);
  // One page of GET /api/v1/fundingRates for `venue_symbol` → settled funding (ListFundingHistory),
  // in the venue's order (newest first): venue "backpack", symbol `normalized_symbol`, rate for
  // the interval, interval_hours from the market's fundingInterval (ms; the one live funding
  // uses, > 0), as_of = intervalEndTimestamp (naive UTC), then NormalizeFunding. A row of another
  // symbol or without intervalEndTimestamp is an error (never skipped: that would hide data).
  absl::StatusOr<std::vector<Funding>> ParseFundingHistory(std::string_view body,
                                                           std::string_view venue_symbol,
                                                           std::string_view normalized_symbol,
                                                           int64_t funding_interval_ms);

  // --- WS
  // Cheap look at a frame: which stream, which symbol, or a server error frame.
  absl::StatusOr<WsFrameInfo> ClassifyWsFrame(std::string_view frame);
  // The same into a reused *out (its strings keep their capacity).
  absl::Status ClassifyWsFrame(std::string_view frame, WsFrameInfo* out);
  // Hot path: depth delta -> DeltaMsg {U, u, T (us -> ns), changes at inst's scales}. `out` is
  // reused (changes cleared first). Fails if the frame's symbol is not inst.venue_symbol.
  absl::Status ParseDepthDelta(std::string_view frame, const Instrument& inst, DeltaMsg* out);
  absl::StatusOr<Bbo> ParseBookTicker(std::string_view frame, const SymbolTable& symbols,
                                      UnixNanos receive_time);
  absl::StatusOr<Trade> ParseTrade(std::string_view frame, const SymbolTable& symbols,
                                   UnixNanos receive_time);
  absl::StatusOr<MarkPriceInfo> ParseWsMarkPrice(std::string_view frame);
  absl::StatusOr<TickerStats> ParseWsTicker(std::string_view frame);
  absl::StatusOr<OpenInterestInfo> ParseWsOpenInterest(std::string_view frame);
  // account.orderUpdate. `clients` (nullable) resolves c -> our client order id; unknown ids
  // become their decimal text.
  absl::StatusOr<OrderUpdate> ParseOrderUpdate(std::string_view frame, const SymbolTable& symbols,
                                               const ClientIdMapper* clients,
                                               UnixNanos receive_time);
  absl::StatusOr<PositionUpdate> ParsePositionUpdate(std::string_view frame,
                                                     const SymbolTable& symbols);

  // --- private REST
  // One order object (execute / cancel / GET /order responses).
  absl::StatusOr<Order> ParseOrder(std::string_view body, const SymbolTable& symbols,
                                   const ClientIdMapper* clients);
  // Arrays: open orders, cancel-all result, order history (ISO createdAt + expiryReason).
  absl::StatusOr<std::vector<Order>> ParseOrders(std::string_view body, const SymbolTable& symbols,
                                                 const ClientIdMapper* clients);
  // POST /api/v1/order answer (any HTTP status) -> ack. Never an error: a 202, 5xx, timeout-code
  // or an unparseable 200 body is kOutcomeUnknown; a post-only cross is kRejected with
  // kPostOnlyViolation.
  OrderAck ParseOrderExecuteResponse(int http_status, std::string_view body,
                                     const SymbolTable& symbols, const ClientIdMapper* clients);
  // POST /api/v1/orders 200 answer: a JSON array with one entry per order sent (BatchOrderEntry).
  // An entry with an "id" is an order object, one with "code"/"message" and no id an error
  // body; anything else is read as an order object (an unreadable one: kOutcomeUnknown). An
  // answer that is not an array of objects is an error (the caller: unknown for every order).
  absl::StatusOr<std::vector<BatchOrderEntry>> ParseOrderExecuteBatchResponse(
      std::string_view body, const SymbolTable& symbols, const ClientIdMapper* clients);
  absl::StatusOr<std::vector<Position>> ParsePositions(std::string_view body,
                                                       const SymbolTable& symbols, UnixNanos as_of);
  // /api/v1/capital/collateral -> USDC balance: available = netEquityAvailable,
  // equity = netEquity, margin_used = netEquityLocked, unrealized = pnlUnrealized.
  absl::StatusOr<Balance> ParseCollateral(std::string_view body, UnixNanos as_of);
  // /api/v1/capital (spot-style per-asset map): available, equity = available+locked+staked.
  absl::StatusOr<Balance> ParseCapital(std::string_view body, std::string_view asset,
                                       UnixNanos as_of);
  absl::StatusOr<AccountSettings> ParseAccount(std::string_view body);
  // /wapi/v1/history/fills.
  absl::StatusOr<std::vector<Fill>> ParseFills(std::string_view body, const SymbolTable& symbols,
                                               const ClientIdMapper* clients);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Pure helpers (no parsing).

// Backpack's naive UTC datetimes: "2025-09-11T12:00:00[.ffffff]" (a trailing 'Z' is tolerated).
absl::StatusOr<UnixNanos> ParseNaiveUtc(std::string_view text);

// Venue order status (REST "New"/"PartiallyFilled"/..., case-insensitive) -> OrderStatus.
absl::StatusOr<OrderStatus> MapOrderStatus(std::string_view venue_status);

// markPrice + optional ticker (quote volume) + optional open interest (base units, converted to
// USD with the mark) -> Funding, normalized with the market's own funding interval (ms).
absl::StatusOr<Funding> BuildFunding(const MarkPriceInfo& mark, int64_t funding_interval_ms,
                                     const TickerStats* ticker, const OpenInterestInfo* oi,
                                     std::string_view normalized_symbol, UnixNanos as_of);

// Backpack marks no fundingRates row with its interval, and perps moved from 8 h to 1 h funding
// on 2025-08-20 08:00 UTC (backpack.md §2): each settlement's interval is read from the row
// spacing, the time since the settlement before it (`times`: every settlement time read, any
// order). A gap of 1 h, 8 h or the market's current interval (`current_hours`, what the rows were
// parsed with) is taken; any other gap (a missing row, a pause) is not trusted, nor is the oldest
// row read (its predecessor unseen): those take the interval of the nearest newer settlement that
// has one, else keep `current_hours`. The rows are normalized again with what they get.
absl::Status InferFundingIntervals(std::vector<Funding>* rows, std::vector<UnixNanos> times,
                                   int64_t current_hours);

// ListFundingHistory over GET /api/v1/fundingRates, which pages newest first by offset with no
// time filter: pages are read from the newest until the query is answered — `limit` settlements
// in [from, to], or one older than `from` (everything after it is older), or a short page (the
// end of the history). Without `to` the first page (size `limit`) always answers it.
class FundingHistoryPager {
 public:
  static constexpr int kMaxPageSize = 1000;  // the venue allows 10000
  // Historical routes may sit in a 30/min bucket (backpack.md §13, unverified): at most this
  // many requests, 10000 settlements (over a year of hourly funding).
  static constexpr int kMaxPages = 10;
  enum class Step : uint8_t { kFetchMore, kDone, kTooDeep };

  FundingHistoryPager(UnixNanos from, UnixNanos to, int limit);
  int page_size() const { return page_size_; }
  int64_t offset() const { return offset_; }  // of the next page
  // One page as ParseFundingHistory returned it (newest first). A settlement landing between two
  // pages shifts the offsets by one: rows an earlier page had (as_of >= its oldest) are dropped.
  Step Add(std::vector<Funding> page);
  // The newest `limit` kept, oldest first, each with the interval its row spacing shows
  // (InferFundingIntervals over every settlement the pages held).
  absl::StatusOr<std::vector<Funding>> Take();

 private:
  UnixNanos from_, to_;
  int limit_, page_size_, pages_ = 0;
  int64_t offset_ = 0;
  UnixNanos oldest_ = 0;       // of the pages read so far (0 = none)
  std::vector<Funding> kept_;  // newest first
  std::vector<UnixNanos> seen_;  // every settlement time read (kept or not)
};

// leverage = account leverageLimit; max = min(leverageLimit, floor(1 / imf base)); IMF/MMF
// ratios are the market's base fractions. `market` may be null (ratios then 0).
LeverageInfo BuildLeverageInfo(const AccountSettings& account, const MarketInfo* market,
                               std::string_view normalized_symbol);

// Position.leverage on Backpack: the account's leverageLimit (GET /api/v1/account). Leverage is
// account-wide there (backpack.md §10.5: no per-market setting), so it is the account's setting
// applied to every position. Absent when the account does not report it (never "0").
OptDecimal AccountLeverage(const AccountSettings& account);
void ApplyAccountLeverage(const OptDecimal& leverage, std::vector<Position>* positions);

// Snapshot -> the fan-out's BookUpdate (snapshot = true, venue_seq = lastUpdateId).
BookUpdate MakeSnapshotUpdate(const DepthSnapshot& snap, const Instrument& inst,
                              UnixNanos receive_time);

// ---------------------------------------------------------------------------------------------
// Encoders.

struct OrderEncodeOptions {
  enum class MarketStyle : uint8_t {
    // orderType Market; a slippage bound (req.max_slippage_bps > 0) is sent as
    // slippageTolerance = bps / 100 with slippageToleranceType "Percent" (0.5 = 0.5 %).
    kMarketWithSlippage,
    // Limit + IOC at req.worst_price (rounded inward to the tick): exact price protection.
    kLimitIoc,
  };
  MarketStyle market_style = MarketStyle::kMarketWithSlippage;
};

// POST /api/v1/order body + signing params. Validates side/type/tif, positive size on the step
// grid, limit price on the tick grid; never rounds silently. client_id 0 = none.
absl::StatusOr<EncodedRequest> EncodeOrderExecute(const OrderRequest& req, const Instrument& inst,
                                                  uint32_t client_id,
                                                  const OrderEncodeOptions& options = {});
// POST /api/v1/orders: orders encoded one by one by EncodeOrderExecute (each with its own
// clientId), 1..kMaxBatchOrders of them -> the JSON array of their bodies, in order, and their
// params (one signing segment each).
absl::StatusOr<EncodedBatch> EncodeOrderExecuteBatch(std::vector<EncodedRequest> orders);
// DELETE /api/v1/order by venue order id (sent as a string) or by clientId.
EncodedRequest EncodeCancelOrder(std::string_view venue_symbol, std::string_view order_id);
EncodedRequest EncodeCancelOrderByClientId(std::string_view venue_symbol, uint32_t client_id);
// DELETE /api/v1/orders.
EncodedRequest EncodeCancelAll(std::string_view venue_symbol);
// PATCH /api/v1/account {"leverageLimit":"10"}.
absl::StatusOr<EncodedRequest> EncodeSetLeverage(Decimal leverage_limit);
// GET query string: keys sorted, values percent-encoded (RFC 3986 unreserved kept). Sign the
// same params un-encoded.
std::string EncodeQueryString(std::vector<SignParam> params);

// WS control frames.
std::string EncodeSubscribe(const std::vector<std::string>& streams);
std::string EncodeUnsubscribe(const std::vector<std::string>& streams);
std::string EncodePrivateSubscribe(const std::vector<std::string>& streams,
                                   const WsSignature& signature);
std::string EncodePrivateUnsubscribe(const std::vector<std::string>& streams);

// Stream names.
std::string DepthStream(std::string_view venue_symbol);  // "depth.<sym>" (real time)
std::string BookTickerStream(std::string_view venue_symbol);
std::string TradeStream(std::string_view venue_symbol);
std::string MarkPriceStream(std::string_view venue_symbol);
std::string TickerStream(std::string_view venue_symbol);
std::string OpenInterestStream(std::string_view venue_symbol);
inline constexpr std::string_view kOrderUpdateStream = "account.orderUpdate";
inline constexpr std::string_view kPositionUpdateStream = "account.positionUpdate";

}  // namespace perpgw::adapters::backpack
