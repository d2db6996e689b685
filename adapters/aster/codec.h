// Aster JSON ↔ normalized types: REST and WS payload decoders (simdjson on-demand) and the
// request/subscription encoders. Pure: receive time, instruments and intervals are parameters.
//
// Units: prices and sizes stay in the venue's contract terms (a 1000PEPEUSDT price is per 1000
// PEPE, sizes are lots of 1000); Instrument::quantity_multiplier tells the consumer. Symbols in
// the normalized outputs are tickers from the SymbolMap (unknown venue symbols pass verbatim).
//
// Decoders keep one simdjson parser and padded buffer per thread, so they are cheap to call on a
// venue thread; string outputs are owned copies (nothing points into the input).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "adapters/common/url.h"
#include "adapters/aster/symbols.h"

namespace perpgw::adapters::aster {

// Per-connection WS limits (notes §7.1 / §11): at most 200 streams and 10 client messages/s per
// connection (more → disconnect, repeated → IP ban); connections last at most 24 h.
inline constexpr size_t kMaxStreamsPerConnection = 200;
inline constexpr int kMaxClientMessagesPerSecond = 10;
inline constexpr int64_t kMaxConnectionLifetimeSeconds = 24 * 3600;
inline constexpr int kDefaultFundingIntervalHours = 8;
inline constexpr size_t kMaxBatchOrders = 5;
// REST depth limits the venue accepts (anything else is rounded up by the caller).
inline constexpr int kDepthLimits[] = {5, 10, 20, 50, 100, 500, 1000};

// ------------------------------------------------------------------------------------------
// Generic bodies
struct ErrorBody {
  int code = 0;  // "code" as a number or numeric string
  std::string msg;
};
// {"code":..,"msg":..}; an error Status when the text is not such an object.
absl::StatusOr<ErrorBody> ParseErrorBody(std::string_view json);
// Bodies that answer with a code only (cancel-all, margin type): OK for 200/"200", else an
// error Status carrying the venue code and message.
absl::Status ParseCodeAck(std::string_view json);
absl::StatusOr<int64_t> ParseServerTimeMs(std::string_view json);  // {"serverTime":ms}
absl::StatusOr<std::string> ParseListenKey(std::string_view json);   // {"listenKey":".."}

// ------------------------------------------------------------------------------------------
// Instruments (exchangeInfo) and funding intervals (fundingInfo)
struct InstrumentInfo {
  Instrument instrument;
  std::string status;         // TRADING, SETTLING, PENDING_TRADING, ...
  std::string contract_type;  // PERPETUAL
  Decimal min_price, max_price;
  Decimal market_min_qty, market_max_qty, market_step;  // MARKET_LOT_SIZE
  std::vector<std::string> order_types;   // "orderTypes"
  std::vector<std::string> time_in_force; // per symbol: FOK disappeared in 2026 captures
};
struct ExchangeInfo {
  int64_t server_time_ms = 0;
  std::vector<InstrumentInfo> instruments;
  std::vector<std::string> skipped;  // "SYMBOL: reason" for perps with unusable filters
};
struct ExchangeInfoOptions {
  bool include_non_perpetual = false;  // keep contractType != PERPETUAL (e.g. "" while pending)
  bool tradeable_only = false;         // drop status != TRADING
  std::map<std::string, std::string, std::less<>> ticker_overrides;  // venue symbol → ticker
};
absl::StatusOr<ExchangeInfo> ParseExchangeInfoDetailed(std::string_view json,
                                                       const ExchangeInfoOptions& options = {});
absl::StatusOr<std::vector<Instrument>> ParseExchangeInfo(std::string_view json,
                                                          const ExchangeInfoOptions& options = {});

struct FundingIntervalInfo {
  std::string venue_symbol;
  int interval_hours = kDefaultFundingIntervalHours;
  Decimal interest_rate, fee_cap, fee_floor;  // cap/floor are JSON numbers, parsed exactly
  UnixNanos time = 0;
};
absl::StatusOr<std::vector<FundingIntervalInfo>> ParseFundingInfo(std::string_view json);
using FundingIntervals = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;
FundingIntervals ToFundingIntervals(const std::vector<FundingIntervalInfo>& rows);
// The symbol's interval, or kDefaultFundingIntervalHours when fundingInfo lacks it.
int IntervalHoursFor(const FundingIntervals* intervals, std::string_view venue_symbol);
// Sets Instrument::funding_interval_hours for every instrument (default 8).
void ApplyFundingIntervals(const FundingIntervals& intervals, std::vector<Instrument>* instruments);

struct FundingRateRow {
  std::string venue_symbol;
  Decimal rate;
  UnixNanos funding_time = 0;
  OptDecimal mark_price;  // "markPrice" of the settlement when the venue sends it
};
absl::StatusOr<std::vector<FundingRateRow>> ParseFundingRateHistory(std::string_view json);
// Interval from the smallest gap between consecutive settlements (whole hours); nullopt when
// fewer than two rows or the gap is not a whole number of hours.
std::optional<int> InferIntervalHours(const std::vector<FundingRateRow>& rows);
// The interval a symbol's history is normalized with (aster.md §5): fundingInfo's when it lists
// the symbol (the interval live funding uses), else inferred from the rows' settlement gaps, else
// kDefaultFundingIntervalHours.
int HistoryIntervalHours(const FundingIntervals* intervals, std::string_view venue_symbol,
                         const std::vector<FundingRateRow>& rows);
// GET /fapi/v1/fundingRate of one symbol → settled funding (ListFundingHistory), in the venue's
// order: venue "aster", symbol `ticker`, rate for the interval, interval_hours from
// HistoryIntervalHours, as_of = fundingTime, mark_price when sent, then NormalizeFunding. A row
// of another symbol or without a fundingTime is an error (never skipped: that would hide data).
absl::StatusOr<std::vector<Funding>> ParseFundingHistory(std::string_view json,
                                                         std::string_view venue_symbol,
                                                         std::string_view ticker,
                                                         const FundingIntervals* intervals);

// ------------------------------------------------------------------------------------------
// Order book
struct DepthSnapshot {
  uint64_t last_update_id = 0;
  UnixNanos event_time = 0;        // "E"
  UnixNanos transaction_time = 0;  // "T"
  std::vector<Level> bids, asks;   // as received (best first)
};
// REST GET /fapi/v1/depth at the instrument's scales.
absl::StatusOr<DepthSnapshot> ParseDepthSnapshot(std::string_view json, int price_scale,
                                                 int size_scale);
// One WS depthUpdate (bare or {"stream","data"}) → first_id=U, last_id=u, prev_id=pu,
// exchange_time=T (E when T is absent); sizes absolute, 0 = delete.
absl::Status ParseDepthUpdate(std::string_view frame, int price_scale, int size_scale,
                              DeltaMsg* out);
// A partial-depth delta (replace-the-book semantics) split into best-first sides.
DepthSnapshot PartialDepthToSnapshot(const DeltaMsg& msg);
// Publishes a snapshot as a BookUpdate (snapshot=true, status live).
BookUpdate MakeSnapshotUpdate(const Instrument& instrument, const DepthSnapshot& snapshot,
                              UnixNanos receive_time);

// ------------------------------------------------------------------------------------------
// Market-data frames (fstream): one decoder for every market stream.
enum class MarketEventKind : uint8_t {
  kUnknown = 0,      // an event type we do not handle (event_type says which)
  kDepthDiff,        // <s>@depth[@100ms|@500ms]: delta
  kDepthPartial,     // <s>@depth5|10|20[@..]: replace the book with delta.changes
  kBookTicker,
  kTrade,            // aggTrade / trade
  kMarkPrice,        // markPriceUpdate (one, or an array for !markPrice@arr)
  kLiquidation,      // forceOrder
  kTicker,           // 24hrTicker
  kControlReply,     // {"result":..,"id":..}
  kControlError,     // {"code":..,"msg":..}
};
const char* ToString(MarketEventKind k);

struct TickerStats {
  std::string venue_symbol, symbol;
  Decimal last_price, volume, quote_volume;  // volume: base units; quote_volume ≈ USD
  UnixNanos time = 0;
};

struct ControlReply {
  int64_t id = -1;           // -1 when absent
  bool result_null = false;  // SUBSCRIBE/UNSUBSCRIBE success
  std::vector<std::string> result_list;  // LIST_SUBSCRIPTIONS
  std::optional<bool> result_bool;       // GET_PROPERTY
  int code = 0;                          // kControlError
  std::string msg;
};

struct MarketFrame {
  MarketEventKind kind = MarketEventKind::kUnknown;
  std::string stream;        // combined-stream name; empty for raw /ws frames
  std::string event_type;    // "e" as received
  std::string venue_symbol;  // "s" (forceOrder: o.s); empty for arrays and control
  const Instrument* instrument = nullptr;  // depth kinds: venue_symbol's, from ctx.symbols
  DeltaMsg delta;                          // depth kinds
  Bbo bbo;
  Trade trade;
  std::vector<Funding> funding;  // kMarkPrice
  Liquidation liquidation;
  TickerStats ticker;
  ControlReply control;
};

struct MarketContext {
  const SymbolMap* symbols = nullptr;           // instruments (scales, tickers); required for depth
  const FundingIntervals* intervals = nullptr;  // per-symbol funding interval (null → 8 h)
  bool raw_depth_is_partial = false;  // raw /ws/<s>@depthN connection (no stream name to key on)
};

// Decodes one market WS text frame. Depth frames of an unknown symbol are NotFound; malformed
// frames are InvalidArgument. `out` is reused across calls (vectors keep their capacity).
absl::Status DecodeMarketFrame(std::string_view frame, const MarketContext& ctx,
                               UnixNanos receive_time, MarketFrame* out);
// Stream-name classification: "btcusdt@depth20@100ms" → partial, "btcusdt@depth" → diff.
bool IsPartialDepthStream(std::string_view stream);
bool IsDiffDepthStream(std::string_view stream);

// REST market data
absl::StatusOr<std::vector<Bbo>> ParseRestBookTicker(std::string_view json, const SymbolMap* symbols,
                                                     UnixNanos receive_time);
// premiumIndex (object or array) → Funding, normalized with the symbol's interval.
absl::StatusOr<std::vector<Funding>> ParsePremiumIndex(std::string_view json,
                                                       const SymbolMap* symbols,
                                                       const FundingIntervals* intervals);
absl::StatusOr<std::vector<TickerStats>> ParseTicker24h(std::string_view json,
                                                        const SymbolMap* symbols);
struct OpenInterest {
  std::string venue_symbol;
  Decimal open_interest;  // contract units of the symbol as quoted (lots for 1000PEPE)
  UnixNanos time = 0;
};
absl::StatusOr<OpenInterest> ParseOpenInterest(std::string_view json);
// open interest × mark price (both in the symbol's own units, so the multiplier cancels), at 6
// decimals, half-even.
absl::StatusOr<Decimal> OpenInterestUsd(Decimal open_interest, Decimal mark_price);

// ------------------------------------------------------------------------------------------
// Orders, account (REST and user-data stream)
struct AccountContext {
  const SymbolMap* symbols = nullptr;
  std::string account;  // our account name, copied into the outputs
};

// Venue enums → normalized. Unknown strings are errors (never guessed).
absl::StatusOr<Side> ParseSide(std::string_view s);
absl::StatusOr<OrderType> ParseOrderType(std::string_view s);  // STOP/TAKE_PROFIT → limit, *_MARKET → market
absl::StatusOr<TimeInForce> ParseTimeInForce(std::string_view s);  // GTX → post-only; HIDDEN/RPI → GTC
// Status and reason from X (status), f (TIF), x (execution type; empty for REST), c (client id)
// and the filled size: a GTX order that EXPIREs unfilled is REJECTED with kPostOnlyViolation;
// "autoclose-"/"adl_autoclose" ids and x=CALCULATED are liquidations.
absl::Status MapOrderStatus(std::string_view status, std::string_view tif,
                            std::string_view exec_type, std::string_view client_order_id,
                            Decimal filled, Order* order);

absl::StatusOr<Order> ParseOrder(std::string_view json, const AccountContext& ctx);
absl::StatusOr<std::vector<Order>> ParseOrders(std::string_view json, const AccountContext& ctx);
// Batch place/cancel: one entry per request, in order: the order, or the venue's {code,msg}
// for that entry.
struct BatchEntry {
  std::optional<Order> order;
  ErrorBody error;  // when !order
};
absl::StatusOr<std::vector<BatchEntry>> ParseBatchAnswer(std::string_view json,
                                                         const AccountContext& ctx);
// The same, venue errors as error Statuses (ToStatus of the classified {code,msg}).
absl::StatusOr<std::vector<absl::StatusOr<Order>>> ParseBatchOrders(std::string_view json,
                                                                    const AccountContext& ctx);
// "cross"/"CROSSED" (any case): the marginType of positionRisk, the mt of ACCOUNT_UPDATE.
bool IsCrossMargin(std::string_view margin_type);
// positionRisk rows; flat rows (positionAmt == 0) are dropped unless include_flat. A cross row's
// margin is absent (its isolatedMargin is the isolated wallet, "0"): see FillCrossMargin.
absl::StatusOr<std::vector<Position>> ParsePositionRisk(std::string_view json,
                                                        const AccountContext& ctx,
                                                        bool include_flat = false);
// /fapi/v2|v3/balance rows.
absl::StatusOr<std::vector<Balance>> ParseBalances(std::string_view json, const AccountContext& ctx);
struct AccountSnapshot {
  std::vector<Balance> balances;
  std::vector<Position> positions;  // non-flat only
  Decimal available_balance;        // account-wide availableBalance
};
// /fapi/v4/account (also /fapi/v3/account).
absl::StatusOr<AccountSnapshot> ParseAccount(std::string_view json, const AccountContext& ctx);
// Rows without a margin take the per-position initialMargin of the account endpoint's row of the
// same symbol and size (cross positions); a row with no such match keeps it absent.
void FillCrossMargin(std::vector<Position>* rows, const std::vector<Position>& account);
// ACCOUNT_UPDATE positions carry size, entry, PnLs and an isolated margin only, while a Position
// message is the position's whole state. MergeStreamPosition completes `update` from `last`, the
// last full state of the same symbol (REST, then each merged update; null: none):
// - leverage (a per-symbol setting) whenever the update has none;
// - mark_price from `live_mark` (the market feed's), else last's; exposure_usd = |size| x mark;
// - same side, not flat: funding_accrued (it moves only at settlements, and a same-side resize
//   keeps the opening fill FundingAccrual counts from);
// - same size as well: liquidation_price and a cross position's margin (both depend on size).
// Answers true when the size differs from last's (or there is no last): the fields that depend on
// it stay absent, and the caller re-reads the position over REST to publish it whole.
bool MergeStreamPosition(const Position* last, const OptDecimal& live_mark, Position* update);
// With the account's current leverage known: initial margin ratio 1/leverage and max notional
// the largest bracket cap that allows it (the market-wide maximums until then).
void AtLeverage(LeverageInfo* li);
// leverageBracket: array of {symbol, brackets[]} or one such object. Numbers may be JSON numbers
// or strings. max_leverage = highest initialLeverage, max_notional = cap of that bracket.
absl::StatusOr<std::vector<LeverageInfo>> ParseLeverageBrackets(std::string_view json,
                                                                const AccountContext& ctx);
// POST leverage → {leverage, maxNotionalValue, symbol}.
absl::StatusOr<LeverageInfo> ParseLeverageResponse(std::string_view json, const AccountContext& ctx);
// userTrades rows → Fill.
absl::StatusOr<std::vector<Fill>> ParseUserTrades(std::string_view json, const AccountContext& ctx);

// ------------------------------------------------------------------------------------------
// Funding accrued by the current position (Position.funding_accrued). Aster publishes funding
// only as account income rows (GET /fapi/v1/income, incomeType=FUNDING_FEE, per symbol; aster.md
// §9), never per position. Our definition: the sum of the symbol's FUNDING_FEE income since the
// fill that opened the current position from flat (or flipped it). Sign as the venue's income
// and as Position.funding_accrued documents it: > 0 received, < 0 paid.

// One GET /fapi/v1/income row: {symbol, incomeType, income, asset, info, time, tranId, tradeId}.
struct IncomeRow {
  std::string venue_symbol;
  std::string symbol;       // ticker (unknown venue symbols verbatim)
  std::string income_type;  // FUNDING_FEE, REALIZED_PNL, COMMISSION, ...
  Decimal income;           // signed: > 0 received, < 0 paid
  std::string asset;
  int64_t time_ms = 0;
  int64_t tran_id = 0;      // increasing with time (Binance family); 0 when absent
};
absl::StatusOr<std::vector<IncomeRow>> ParseIncome(std::string_view json, const AccountContext& ctx);

// The fill that opened the current position: walking back from the newest fill, undoing each
// (buy +qty, sell -qty) from `current_size`, the first whose undo leaves the position flat or of
// the other sign opened it. nullopt when the walk runs out of fills first (the venue returns
// userTrades of a limited window: 7 days, 1000 rows) or current_size is 0: the open time is then
// unknown and funding_accrued stays absent (never a partial sum presented as the total).
// `fills` may come in any order (sorted here by time, then numeric trade id).
struct PositionOpening {
  int64_t time_ms = 0;
  std::string trade_id;
  bool operator==(const PositionOpening&) const = default;
};
std::optional<PositionOpening> FindPositionOpening(std::vector<Fill> fills, Decimal current_size);

// The running sum for one (account, symbol) position, fed with income pages as they arrive.
struct FundingAccrual {
  PositionOpening opening;
  Decimal size;          // the position size it was built for (re-checked when it changes)
  Decimal sum;           // FUNDING_FEE income counted so far
  int64_t last_time_ms = -1;  // newest counted row (-1: none yet)
  int64_t last_tran_id = 0;
  // startTime for the next income request: the newest counted row's time (rows at that ms
  // already counted are skipped by tranId), else the opening fill's time. Inclusive: funding
  // stamped in the same millisecond as the opening fill is counted (from flat it can only be
  // this position's; on a flip at that very ms the venue's rows cannot tell which side paid).
  int64_t NextStartMs() const { return last_time_ms >= 0 ? last_time_ms : opening.time_ms; }
  // Adds the FUNDING_FEE rows of `venue_symbol` at or after the opening not counted yet.
  absl::Status Add(const std::vector<IncomeRow>& rows, std::string_view venue_symbol);
};

enum class UserEventKind : uint8_t {
  kUnknown = 0,
  kOrderTradeUpdate,
  kAccountUpdate,
  kAccountConfigUpdate,
  kListenKeyExpired,  // reconnect with a new key, then re-snapshot over REST
  kMarginCall,
};
const char* ToString(UserEventKind k);

// ACCOUNT_UPDATE balance rows carry wallet balances only (no available balance: poll REST).
struct BalanceChange {
  std::string asset;
  Decimal wallet_balance, cross_wallet_balance, balance_change;
};
struct AccountUpdate {
  std::string reason;  // "m": ORDER, FUNDING_FEE, DEPOSIT, ...
  std::vector<BalanceChange> balances;
  std::vector<Position> positions;  // as pushed (flat rows included: they mean "now flat")
  std::vector<std::string> position_sides;  // "ps" per position row (BOTH/LONG/SHORT)
};
struct AccountConfigUpdate {
  std::string venue_symbol, symbol;
  std::optional<int64_t> leverage;     // ac.l
  std::optional<bool> multi_assets;    // ai.j
};

struct UserFrame {
  UserEventKind kind = UserEventKind::kUnknown;
  std::string event_type;
  UnixNanos event_time = 0, transaction_time = 0;
  OrderEvent order;  // kOrderTradeUpdate (order.fill set for TRADE / CALCULATED with l > 0)
  std::string execution_type;  // "x"
  AccountUpdate account;
  AccountConfigUpdate config;
};
// Decodes one user-data WS frame (bare or wrapped).
absl::Status DecodeUserFrame(std::string_view frame, const AccountContext& ctx,
                             UnixNanos receive_time, UserFrame* out);
// forceOrder (market-wide liquidation) → Liquidation; also used by DecodeMarketFrame.
absl::StatusOr<Liquidation> ParseForceOrder(std::string_view json, const SymbolMap* symbols);

// ------------------------------------------------------------------------------------------
// Encoders
// Builds k=v&k=v with RFC 3986 percent-encoded values (keys are ASCII identifiers).
using common::QueryBuilder;  // query strings are signed exactly as built

struct NewOrderOptions {
  bool result_response = false;  // newOrderRespType=RESULT (full order back instead of ACK)
  std::string position_side;     // "" = one-way mode (BOTH); LONG/SHORT in hedge mode
};
// symbol, side, type, quantity, [price], [timeInForce], [reduceOnly], [newClientOrderId], ...
// (the order the signing vectors use). Validates sizes/prices against the instrument's step and
// tick (never rounds) and the client id against ^[.A-Z:/a-z0-9_-]{1,36}$.
absl::StatusOr<std::string> EncodeNewOrder(const OrderRequest& req, const Instrument& instrument,
                                           const NewOrderOptions& options = {});
// batchOrders=<percent-encoded JSON list of order objects> (at most kMaxBatchOrders).
// Each entry is EncodeNewOrder's fields as JSON strings (options.result_response adds
// newOrderRespType RESULT to each).
absl::StatusOr<std::string> EncodeBatchOrders(const std::vector<OrderRequest>& reqs,
                                              const std::vector<const Instrument*>& instruments,
                                              const NewOrderOptions& options = {});
// Modify one resting LIMIT order in place (PUT /fapi/v3/order; aster.md §9: V3 only, LIMIT only,
// quantity and price both required): symbol, orderId (or origClientOrderId when order_id is
// empty), side, quantity (the new total size), price. `side` must be the order's own (the venue
// checks it). No positionSide: the adapter trades one-way mode only (as EncodeNewOrder is
// called). Validates price/size against tick and step like a new order (never rounds).
absl::StatusOr<std::string> EncodeModifyOrder(const Instrument& instrument,
                                              std::string_view order_id,
                                              std::string_view client_order_id, Side side,
                                              const Decimal& size, const Decimal& price);
// Cancel up to kMaxBatchCancels orders of one symbol (DELETE batchOrders): symbol +
// orderIdList (a JSON array of numbers) when `by_order_id`, else origClientOrderIdList (a JSON
// array of strings). Each id is validated as for EncodeOrderRef.
inline constexpr size_t kMaxBatchCancels = 10;
absl::StatusOr<std::string> EncodeBatchCancel(std::string_view venue_symbol, bool by_order_id,
                                              const std::vector<std::string>& ids);
// Query / cancel one order: symbol + orderId, or origClientOrderId when order_id is empty.
absl::StatusOr<std::string> EncodeOrderRef(std::string_view venue_symbol, std::string_view order_id,
                                           std::string_view client_order_id);
std::string EncodeSymbolOnly(std::string_view venue_symbol);  // cancel-all, openOrders, ...
absl::StatusOr<std::string> EncodeSetLeverage(std::string_view venue_symbol, int64_t leverage);
bool IsValidClientOrderId(std::string_view id);

// WS stream names (lower-case symbol).
std::string DepthDiffStream(std::string_view venue_symbol, int speed_ms = 100);  // 100/250/500
std::string PartialDepthStream(std::string_view venue_symbol, int levels, int speed_ms = 0);
std::string BookTickerStream(std::string_view venue_symbol);
std::string AggTradeStream(std::string_view venue_symbol);
std::string MarkPriceStream(std::string_view venue_symbol, bool every_second = true);
std::string ForceOrderStream(std::string_view venue_symbol);  // "" → !forceOrder@arr
std::string TickerStream(std::string_view venue_symbol);
// Control frames; error when more than kMaxStreamsPerConnection streams are given.
absl::StatusOr<std::string> EncodeSubscribe(const std::vector<std::string>& streams, uint64_t id);
absl::StatusOr<std::string> EncodeUnsubscribe(const std::vector<std::string>& streams, uint64_t id);
std::string EncodeListSubscriptions(uint64_t id);
// "/stream?streams=a/b/c" (non-ASCII bytes percent-encoded).
absl::StatusOr<std::string> CombinedStreamPath(const std::vector<std::string>& streams);

}  // namespace perpgw::adapters::aster
