// Paradex codec: venue JSON (REST bodies, JSON-RPC WS frames) <-> normalized perpgw types, and
// the SBE public events (sbe.h) -> the same types. Pure: no I/O, no clock (receive/as-of times
// are parameters), no logging; malformed input -> error Status. Wire facts:
// ../shared/protocols/paradex.md (JSON timestamps are ms, SBE µs; decimals are strings that
// may carry up to 21 fractional digits on funding fields).
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
#include "adapters/api/venue.h"
#include "adapters/paradex/sbe.h"
#include "adapters/paradex/signing.h"
#include "adapters/paradex/symbols.h"

namespace perpgw::adapters::paradex {

// ---------------------------------------------------------------------------------------------
// Venue-side records.

// One market from GET /markets with the fields the adapter needs beyond Instrument.
struct MarketInfo {
  Instrument instrument;
  std::string asset_kind;            // PERP (the only kind kept)
  std::string market_kind;           // cross | isolated | isolated_margin
  std::string trading_mode;          // STANDARD | RFQ_ONLY (RFQ_ONLY is not tradeable on the book)
  int64_t funding_period_hours = 0;  // 0 = not reported
  Decimal imf_base, mmf_factor;      // max leverage = 1 / imf_base; MMF = imf_base * mmf_factor
  Decimal price_bands_width;         // 0.05 = orders within 5 % of mark
  Decimal max_slippage;
  Decimal position_limit;  // base units, 0 = none
  int64_t max_open_orders = 0;
  UnixNanos open_at = 0, expiry_at = 0;  // expiry 0 for perps
};

// GET /system/config (the fields signing and onboarding need).
struct SystemConfig {
  std::string starknet_chain_id;  // "PRIVATE_SN_PARACLEAR_MAINNET"
  std::string l1_chain_id;
  std::string paraclear_address, paraclear_account_hash, paraclear_account_proxy_hash;
  std::string environment;
  int64_t paraclear_decimals = 0;
};

// GET /system/state.
enum class SystemStatus : uint8_t {
  kOk,
  kMaintenance,
  kPostOnly,    // only post-only orders accepted
  kCancelOnly,  // only cancels accepted
  kUnknown,     // a value these notes do not know: treated as not tradeable
};
const char* ToString(SystemStatus s);
struct SystemState {
  SystemStatus status = SystemStatus::kUnknown;
  std::string text;  // as sent
};
SystemStatus ParseSystemStatus(std::string_view text);

// One GET /markets/summary result, WS markets_summary push or SBE MarketSummaryEvent.
struct MarketSummary {
  std::string venue_symbol;
  Decimal mark_price, index_price, last_price;
  std::optional<Decimal> bid, ask, bid_size, ask_size;
  Decimal volume_24h_usd, total_volume_usd;
  Decimal open_interest;  // base units
  Decimal funding_rate;   // per the market's own funding period (not 8 h normalized)
  std::optional<Decimal> price_change_rate_24h;  // "" on the venue = absent
  UnixNanos exchange_time = 0;
};

// One GET /funding/data row, WS funding_data push or SBE FundingDataEvent.
struct FundingData {
  std::string venue_symbol;
  Decimal funding_rate;     // for funding_period_hours
  Decimal funding_rate_8h;  // the server's 8 h normalization (0 when not sent)
  bool has_rate_8h = false;
  int64_t funding_period_hours = 0;
  // Index and premium: JSON carries up to 21 decimals (beyond Decimal's 18); kept as text.
  std::string funding_index, funding_premium;
  std::optional<Decimal> impact_premium_rate;
  UnixNanos exchange_time = 0;  // created_at
};

// GET /orderbook/{market}: levels at the instrument's scales, best first on each side.
struct DepthSnapshot {
  std::string venue_symbol;
  uint64_t seq_no = 0;
  UnixNanos exchange_time = 0;
  std::vector<Level> bids;  // descending price
  std::vector<Level> asks;  // ascending price
};

// One page of a cursor-paginated GET (opaque base64 cursors; empty = exhausted).
struct PageCursor {
  std::string next, prev;
};

// Account summary (GET /account, WS account, SBE AccountEvent).
struct AccountSummary {
  std::string account;
  Decimal account_value, total_collateral, free_collateral;
  Decimal initial_margin_requirement, maintenance_margin_requirement, margin_cushion;
  std::string settlement_asset;  // "USDC"
  std::string status;            // ACTIVE | LIQUIDATION | ...
  UnixNanos update_time = 0;
};

// GET /account/margin item: per-market leverage and margin type.
struct MarginSetting {
  std::string venue_symbol;
  Decimal leverage;
  std::string margin_type;  // CROSS | ISOLATED
};

// A venue error in a JSON body: REST {"error":"CODE","message":..} or WS JSON-RPC
// {"error":{"code":N,"message":..,"data":..}}.
struct ErrorBody {
  std::string code;  // "NOT_ONBOARDED", "-32600", "40111"
  std::string message;
};

// ---------------------------------------------------------------------------------------------
// WS JSON-RPC frames (text). Public channel data arrives as SBE (binary) once negotiated; the
// JSON parsers for it serve a connection without SBE (emulator, older servers) and replays.

enum class ChannelKind : uint8_t {
  kOrderBook,       // order_book.{m}.{feed}@15@{rate}[@{tick}]
  kBbo,             // bbo.{m}
  kTrades,          // trades.{m} / trades.ALL
  kFundingData,     // funding_data[.{m}]
  kMarketsSummary,  // markets_summary[.{m}]
  kOrders,          // orders.{m} / orders.ALL
  kFills,           // fills.{m} / fills.ALL
  kPositions,       // positions
  kAccount,         // account
  kOther,
};
const char* ToString(ChannelKind k);
ChannelKind ClassifyChannel(std::string_view channel);

enum class WsKind : uint8_t {
  kSubscription,  // {"method":"subscription","params":{"channel","data"}}
  kResult,        // {"result":{...},"id":N} (auth, subscribe, unsubscribe acks)
  kError,         // {"error":{"code","message","data"},"id":N}
  kUnknown,       // valid JSON of another shape
};
const char* ToString(WsKind k);

struct WsFrameInfo {
  WsKind kind = WsKind::kUnknown;
  std::string channel;  // kSubscription: params.channel; kResult: result.channel when present
  ChannelKind channel_kind = ChannelKind::kOther;
  std::optional<int64_t> id;  // request id of a result/error (absent or null: none)
  int64_t error_code = 0;     // kError
  std::string error_message;  // kError: message, then ": data" when data is present
  std::string node_id;        // auth result
};

// Encoded request body and the order signature inputs it carries.
struct EncodedOrder {
  std::string body;           // POST /orders JSON
  OrderFields signed_fields;  // what the signature covers (timestamp, market, side, type, ...)
};

// PUT /orders/{id} answer (paradex.md §10): the order after the modify (same id) and its
// request_info {id, message, request_type MODIFY_ORDER, status}.
struct ModifyAnswer {
  Order order;
  std::string request_status;   // "ACCEPTED"; "" when the answer has no request_info
  std::string request_message;  // the venue's text ("" on success)
  std::string request_type;     // "MODIFY_ORDER"
};

// ---------------------------------------------------------------------------------------------
// Decoders. One Codec per thread (it owns a reusable wire::JsonParser; one pass per object).
// WS decoders accept the full JSON-RPC envelope or the bare `data` object.
class Codec {
 public:
  Codec();
  ~Codec();
  Codec(Codec&&) noexcept;
  Codec& operator=(Codec&&) noexcept;
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // --- public REST
  // PERP markets only (options, spot and dated kinds are skipped, not an error).
  absl::StatusOr<std::vector<MarketInfo>> ParseMarketInfos(std::string_view body);
  absl::StatusOr<std::vector<Instrument>> ParseMarkets(std::string_view body);
  absl::StatusOr<SystemConfig> ParseSystemConfig(std::string_view body);
  absl::StatusOr<SystemState> ParseSystemState(std::string_view body);
  absl::StatusOr<UnixNanos> ParseSystemTime(std::string_view body);  // {"server_time":"ms"}
  absl::StatusOr<std::vector<MarketSummary>> ParseMarketsSummary(std::string_view body);
  absl::StatusOr<std::vector<FundingData>> ParseFundingData(std::string_view body,
                                                            PageCursor* cursor = nullptr);
  absl::StatusOr<DepthSnapshot> ParseOrderbook(std::string_view body, const Instrument& inst);
  absl::StatusOr<Bbo> ParseBbo(std::string_view body, const SymbolTable& symbols,
                               UnixNanos receive_time);

  // --- WS (text frames)
  absl::Status ClassifyWsFrame(std::string_view frame, WsFrameInfo* out);
  // order_book data: `s` -> *snapshot = true and out->changes the whole book; `d` -> deltas with
  // absolute sizes (deletes as size 0). last_id = seq_no. Levels at inst's scales; the frame's
  // market must be inst.venue_symbol. Inserts/updates with a size <= 0 are errors (loss rule).
  absl::Status ParseWsBook(std::string_view frame, const Instrument& inst, DeltaMsg* out,
                           bool* snapshot);
  absl::StatusOr<Bbo> ParseWsBbo(std::string_view frame, const SymbolTable& symbols,
                                 UnixNanos receive_time);
  absl::StatusOr<Trade> ParseWsTrade(std::string_view frame, const SymbolTable& symbols,
                                     UnixNanos receive_time);
  absl::StatusOr<MarketSummary> ParseWsMarketsSummary(std::string_view frame);
  absl::StatusOr<FundingData> ParseWsFundingData(std::string_view frame);

  // --- private (REST bodies and WS data share the object shapes)
  absl::StatusOr<Order> ParseOrder(std::string_view body, const SymbolTable& symbols);
  // GET /orders, /orders-history: {"results":[...]} (a bare array is accepted too).
  absl::StatusOr<std::vector<Order>> ParseOrders(std::string_view body, const SymbolTable& symbols,
                                                 PageCursor* cursor = nullptr);
  // POST /orders answer (any HTTP status) -> ack. Never an error: 201 with a parseable order is
  // accepted (NEW; the final state arrives on WS), 4xx with a venue code is rejected with its
  // reason, 5xx / 0 / unparseable 201 are kOutcomeUnknown.
  OrderAck ParseOrderResponse(int http_status, std::string_view body, const SymbolTable& symbols);
  // PUT /orders/{id} 200 answer: the order object with request_info inside it.
  absl::StatusOr<ModifyAnswer> ParseModifyResponse(std::string_view body,
                                                   const SymbolTable& symbols);
  absl::StatusOr<Fill> ParseFill(std::string_view body, const SymbolTable& symbols);
  absl::StatusOr<std::vector<Fill>> ParseFills(std::string_view body, const SymbolTable& symbols,
                                               PageCursor* cursor = nullptr);
  // Open positions only (CLOSED rows and size 0 skipped).
  absl::StatusOr<std::vector<Position>> ParsePositions(std::string_view body,
                                                       const SymbolTable& symbols);
  // One position object (WS positions push); CLOSED -> size 0.
  absl::StatusOr<Position> ParsePosition(std::string_view body, const SymbolTable& symbols);
  // GET /balance results: the row for `asset` (USDC).
  absl::StatusOr<Decimal> ParseBalanceSize(std::string_view body, std::string_view asset);
  absl::StatusOr<AccountSummary> ParseAccount(std::string_view body);
  absl::StatusOr<std::vector<MarginSetting>> ParseAccountMargin(std::string_view body);
  // POST /auth -> the JWT.
  absl::StatusOr<std::string> ParseAuth(std::string_view body);
  // A JSON error body (REST or WS shape); false-y (nullopt) when the body is not that shape.
  std::optional<ErrorBody> ParseError(std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// SBE events -> normalized types (pure; the feed uses them).

// Scale-8 decimal -> Decimal (trailing zeros trimmed); null -> nullopt.
std::optional<Decimal> FromSbe(sbe::Dec d, int scale = sbe::kScale8);
// A BookEvent's levels at inst's scales into *out (changes cleared first). Snapshot entries with
// size 0 are skipped; delta entries keep size 0 (= remove). Errors: a non-positive price or a
// negative size, a price/size beyond int64 at the book's scale, a market that is not inst's.
absl::Status BookEventToDelta(const sbe::BookEvent& e, const Instrument& inst, DeltaMsg* out);
absl::Status BboEventToBbo(const sbe::BboEvent& e, const Instrument& inst, UnixNanos receive_time,
                           Bbo* out);
absl::Status TradeEventToTrade(const sbe::TradeEvent& e, const Instrument& inst,
                               UnixNanos receive_time, Trade* out);
MarketSummary SummaryFromSbe(const sbe::MarketSummaryEvent& e);
FundingData FundingFromSbe(const sbe::FundingDataEvent& e);

// ---------------------------------------------------------------------------------------------
// Pure helpers.

// Venue order status (NEW, UNTRIGGERED, OPEN, CLOSED) + remaining/filled sizes + cancel_reason
// -> OrderStatus and CancelReason: CLOSED with everything filled is kFilled, CLOSED with a
// cancel reason is kCanceled (kRejected when nothing filled and the reason is a rejection).
OrderStatus MapOrderStatus(std::string_view venue_status, Decimal size, Decimal remaining,
                           std::string_view cancel_reason);
// cancel_reason vocabulary ("USER_CANCELED", "POST_ONLY_WOULD_CROSS", "NOT_ENOUGH_MARGIN",
// "REDUCE_ONLY_WOULD_INCREASE", "SELF_TRADE", "EXPIRED", "LIQUIDATION", ...) -> CancelReason.
CancelReason MapCancelReason(std::string_view cancel_reason);

// funding_data row (+ optional summary for mark, index, 24 h volume and open interest in USD)
// -> Funding, normalized with the row's own period (continuous funding: no next time).
absl::StatusOr<Funding> BuildFunding(const FundingData& fd, const MarketSummary* summary,
                                     std::string_view normalized_symbol, UnixNanos as_of);
// A summary alone (no funding_data yet): its funding_rate for `period_hours`.
absl::StatusOr<Funding> BuildFundingFromSummary(const MarketSummary& s, int64_t period_hours,
                                                std::string_view normalized_symbol,
                                                UnixNanos as_of);

// GET /funding/data rows -> ListFundingHistory rows, oldest first. Paradex funding is continuous
// (paradex.md §4): a row is a sample of the index, not a settlement, so `as_of` is its created_at
// and the rate is normalized exactly like live funding (BuildFunding: funding_rate for the row's
// funding_period_hours; the market's period from /markets when the row omits it). No mark or
// index (the rows carry none), no next funding time. Errors: a row of another market, a row
// without created_at, no period in the row nor the market.
absl::StatusOr<std::vector<Funding>> BuildFundingHistory(const std::vector<FundingData>& rows,
                                                         std::string_view venue_symbol,
                                                         int64_t market_period_hours,
                                                         std::string_view normalized_symbol);
// The GET /funding/data query for a history read: market, page_size = the limit (1..5000),
// start_at / end_at in ms inside [from, to] (from rounded up, to down; 0 = open-ended, not sent),
// and the `cursor` (percent-encoded) when paging on.
std::string EncodeFundingDataQuery(std::string_view market, const FundingHistoryQuery& q,
                                   std::string_view cursor);
// Whether a funding history read is complete after a page: no next cursor, or the venue pages
// newest first (the page's created_at descending; the spec does not say which way it pages) and
// `have` rows already cover the query's limit. A page in ascending order must be followed to the
// end (the newest rows come last).
bool FundingHistoryComplete(const std::vector<FundingData>& page, const PageCursor& cursor,
                            size_t have, int limit);

// Max leverage = floor(1 / imf_base); IMR = imf_base, MMR = imf_base * mmf_factor; current
// leverage from /account/margin when known (0 = unknown).
LeverageInfo BuildLeverageInfo(const MarketInfo& market, const MarginSetting* setting);

// Snapshot -> the fan-out's BookUpdate (snapshot = true, venue_seq = seq_no).
BookUpdate MakeSnapshotUpdate(const DepthSnapshot& snap, const Instrument& inst,
                              UnixNanos receive_time);

// A JWT's `exp` claim (unix seconds), read from its payload without verifying it (the venue
// verifies; the client only needs to know when to refresh).
absl::StatusOr<int64_t> JwtExpiry(std::string_view jwt);

// Trade ids: SBE carries the low 64 bits of the 28-digit decimal id as int64 (gotcha G3). The
// decimal id's value mod 2^64 as int64; false if `id` is not all digits.
bool TradeIdLow64(std::string_view id, int64_t* out);

// ---------------------------------------------------------------------------------------------
// Encoders.

// POST /orders body and the fields to sign. Validates side/type/tif, positive size on the step
// grid, limit price on the tick grid (never rounds silently); market orders sign price 0 and
// send no price. `client_id` is sent verbatim; `signature_json` is SignatureJson(sig) (embedded
// as a JSON string); `timestamp_ms` is the signature timestamp.
absl::StatusOr<EncodedOrder> EncodeOrderFields(const OrderRequest& req, const Instrument& inst,
                                               std::string_view client_id, uint64_t timestamp_ms);
std::string EncodeOrderBody(const OrderRequest& req, const Instrument& inst,
                            const EncodedOrder& fields, std::string_view client_id,
                            std::string_view signature_json, int64_t recv_window_ms);
// POST /orders/batch (paradex.md §10; 1..10 orders, each signed on its own): a JSON array of
// the single order bodies (EncodeOrderBody), in request order.
std::string EncodeBatchOrdersBody(const std::vector<std::string>& order_bodies);
// One request order's part of a POST /orders/batch 201 answer, in the shape the single POST
// /orders answer would have had, so it is classified the same way: http_status 201 and the
// order object, or 400 and its {"error","message"} entry; 0: the answer has nothing for it.
struct BatchOrderEntry {
  int http_status = 0;
  std::string body;
};
// The answer is {"orders":[accepted order objects], "errors":[refusals]}. The notes sketch
// `errors` positional with null entries (one per request order); the sim and the venue's docs
// example list only the refusals, in request order. Both are read: `errors` as long as the
// request with nulls is positional; otherwise an accepted order is matched by its client_id
// and the refusals go, in order, to the orders left. `client_ids`: the request's, in order.
absl::StatusOr<std::vector<BatchOrderEntry>> MatchBatchOrdersAnswer(
    std::string_view body, const std::vector<std::string>& client_ids);
// DELETE /orders/batch body: {"order_ids":[...],"client_order_ids":[...]} (either may be empty).
std::string EncodeBatchCancelBody(const std::vector<std::string>& order_ids,
                                  const std::vector<std::string>& client_order_ids);
// One entry of DELETE /orders/batch's 200 {"results":[...]} (order ids first, then client
// ids): status QUEUED_FOR_CANCELLATION, ALREADY_CLOSED or NOT_FOUND.
struct BatchCancelEntry {
  std::string id, client_id, status;
};
absl::StatusOr<std::vector<BatchCancelEntry>> ParseBatchCancelAnswer(std::string_view body);
// PUT /orders/{id} (paradex.md §10 "Modify"): what ModifyOrder{timestamp, market, side,
// orderType, size, price, id} signs. The order's own market and side, type LIMIT (only resting
// limit orders are amended), the new total size (what filled counts toward it; the venue's
// order `size` is the total) on the step grid and the new price on the tick grid (never
// rounded silently); `order_id` is the venue's numeric id.
absl::StatusOr<ModifyOrderFields> EncodeModifyOrderFields(const Instrument& inst,
                                                          std::string_view order_id, Side side,
                                                          Decimal size, Decimal price,
                                                          uint64_t timestamp_ms);
// The PUT body: id, market, side, type, size, price, recv_window (when > 0), signature (a JSON
// string) and signature_timestamp. client_id, instruction and flags are not sent (not part of
// a modify; the order keeps them).
std::string EncodeModifyOrderBody(const ModifyOrderFields& fields, std::string_view signature_json,
                                  int64_t recv_window_ms);
// POST /account/margin/{market} {"leverage":N,"margin_type":"CROSS"}.
absl::StatusOr<std::string> EncodeSetLeverage(Decimal leverage, std::string_view margin_type);

// WS JSON-RPC requests.
std::string EncodeAuth(std::string_view jwt, int64_t id);
// order.cancel_on_disconnect {enabled}: the venue cancels the account's open orders when this
// connection drops.
std::string EncodeCancelOnDisconnect(bool enabled, int64_t id);
std::string EncodeSubscribe(std::string_view channel, int64_t id);
std::string EncodeUnsubscribe(std::string_view channel, int64_t id);

// Channel names.
std::string OrderBookDeltasChannel(std::string_view market);  // order_book.{m}.deltas@15@50ms
std::string BboChannel(std::string_view market);
std::string TradesChannel(std::string_view market);
std::string FundingDataChannel(std::string_view market);
std::string MarketsSummaryChannel(std::string_view market);
inline constexpr std::string_view kOrdersAllChannel = "orders.ALL";
inline constexpr std::string_view kFillsAllChannel = "fills.ALL";
inline constexpr std::string_view kPositionsChannel = "positions";
inline constexpr std::string_view kAccountChannel = "account";
// The market an SBE frame routes to, as a channel name (frames name no channel):
// "bbo.BTC-USD-PERP".
std::string SbeChannelFor(uint16_t template_id, std::string_view market);

// "?sbeSchemaId=1&sbeSchemaVersion=1" appended to a WS URL (with '&' when it has a query).
std::string WithSbeQuery(std::string_view ws_url, uint16_t version = sbe::kNegotiatedVersion);

}  // namespace perpgw::adapters::paradex
