// Lighter codec: venue JSON (REST bodies, WS frames) <-> normalized perpgw types, and the order
// request -> signed-transaction fields. Pure: no I/O, no clock (receive/as-of times and the
// "now" of expiries are parameters), no logging; malformed input -> error Status. Wire facts:
// ../shared/protocols/lighter.md. Amounts on the wire are decimal strings in human units (a few
// stats are JSON numbers, funding rates may use exponents: both read exactly, never through
// double); WS timestamps are ms.
//
// Where the notes have no recorded payload (private channels, trades history, order objects)
// the field list is the documented one (lighter.md §8) and the reading is the safe one: unknown
// statuses are not terminal, a fill names our side only when our account is on it, maps keyed
// by market index and plain arrays are both accepted.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "adapters/lighter/signing.h"
#include "adapters/lighter/symbols.h"

namespace perpgw::adapters::lighter {

// ---------------------------------------------------------------------------------------------
// Venue-side records.

// One perp market from GET /api/v1/orderBookDetails.
struct MarketInfo {
  Instrument instrument;  // venue_symbol = `symbol`; scales = size/price decimals (not widened)
  int64_t market_index = 0;
  int size_decimals = 0, price_decimals = 0;
  std::string status;  // "active" is tradeable
  Decimal min_base_amount, min_quote_amount;
  // Margin fractions in units of 1/10 000 (MarginFractionTick): max leverage = 10000 / min_imf.
  int64_t default_imf = 0, min_imf = 0, maintenance_mf = 0, closeout_mf = 0;
  Decimal taker_fee, maker_fee;  // as sent (unit not verified: percent or fraction)
};

// Per-market statistics: orderBookDetails rows, WS market_stats/{id|all}.
struct MarketStats {
  int64_t market_index = -1;
  std::string symbol;
  std::optional<Decimal> mark_price, index_price, last_trade_price;
  std::optional<Decimal> open_interest;       // base units, one side
  std::optional<Decimal> daily_quote_volume;  // USDC, 24 h rolling
  std::optional<Decimal> current_funding_rate, funding_rate;
  UnixNanos funding_time = 0;  // funding_timestamp (next settlement) when present
  UnixNanos exchange_time = 0;
};

// One GET /api/v1/funding-rates row of exchange "lighter" (the other venues' reference rows
// are skipped).
struct FundingRateRow {
  int64_t market_index = -1;
  std::string symbol;
  Decimal rate;
};

// GET /api/v1/account?by=index&value=N: the account's collateral and positions.
struct AccountState {
  int64_t account_index = -1;
  Decimal collateral, available_balance;
  std::optional<Decimal> total_asset_value;
  std::vector<Position> positions;  // open positions only (size != 0); symbol = ticker
  // Every position row, flat ones included: the account's own setting on that market (the
  // venue keeps a row per market the account has set or traded). By ticker.
  struct MarketSetting {
    std::optional<Decimal> leverage;  // 100 / initial_margin_fraction (percent), floor 2 dp
    int64_t margin_mode = 0;          // 0 cross, 1 isolated
  };
  std::map<std::string, MarketSetting> settings;
};

// WS user_stats/{a} `stats`.
struct UserStats {
  std::optional<Decimal> collateral, portfolio_value, available_balance, leverage, margin_usage,
      buying_power;
};

// sendTx / sendTxBatch answers.
struct SendTxResult {
  int64_t code = 0;
  std::string message;
  std::vector<std::string> tx_hashes;  // one for sendTx
  UnixNanos predicted_execution_time = 0;
};

// GET /api/v1/tx?by=hash: a transaction's fate (acceptance is not execution).
struct TxStatus {
  enum : int64_t { kFailed = 0, kPending = 1, kExecuted = 2, kFinal = 3 };
  std::string hash;
  int64_t status = -1;
  int64_t type = 0;
  int64_t nonce = -1;
};

// A venue error body {"code":N,"message":...} (REST) or a WS {"type":"error",...} frame.
struct ErrorBody {
  int64_t code = 0;  // 0 when the frame has none
  std::string message;
};

// ---------------------------------------------------------------------------------------------
// WS frames.

enum class WsType : uint8_t {
  kConnected,   // {"type":"connected"}
  kSubscribed,  // subscribed/<channel>: the channel's snapshot
  kUpdate,      // update/<channel>
  kPing,        // answer {"type":"pong"}
  kPong,
  kError,   // {"type":"error","code"?,"message"}
  kSendTx,  // jsonapi/sendtx / jsonapi/sendtxbatch replies
  kUnsubscribed,
  kUnknown,  // valid JSON of another shape
};
const char* ToString(WsType t);

enum class ChannelKind : uint8_t {
  kOrderBook,    // order_book:{m}
  kTicker,       // ticker:{m}
  kMarketStats,  // market_stats:{m} / market_stats:all
  kTrade,        // trade:{m}
  kAccountAll,   // account_all:{a}
  kAccountAllOrders,
  kAccountAllTrades,
  kAccountAllPositions,
  kAccountOrders,  // account_orders:{m}:{a}
  kAccountTx,
  kUserStats,
  kNotification,
  kHeight,
  kOther,
};
const char* ToString(ChannelKind k);
// Frames echo channels with ':' ("order_book:0"); subscriptions use '/'. Either is accepted.
ChannelKind ClassifyChannel(std::string_view channel);

struct WsFrameInfo {
  WsType type = WsType::kUnknown;
  std::string channel;  // as echoed ("order_book:0")
  ChannelKind channel_kind = ChannelKind::kOther;
  // The id after the channel name: market index for market channels, account index for
  // account channels (-1: "all" or none). account_orders:{m}:{a} sets both.
  int64_t market_index = -1;
  int64_t account_index = -1;
  int64_t error_code = 0;
  std::string error_message;
};

// ---------------------------------------------------------------------------------------------
// Decoders. One Codec per thread (it owns a reusable JSON parser).
class Codec {
 public:
  Codec();
  ~Codec();
  Codec(Codec&&) noexcept;
  Codec& operator=(Codec&&) noexcept;
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // --- public REST
  // Perps only (spot_order_book_details is skipped; a perp row with a market index outside
  // 0..254 is an error). Inactive markets are kept with tradeable = false.
  absl::StatusOr<std::vector<MarketInfo>> ParseOrderBookDetails(std::string_view body,
                                                                std::vector<MarketStats>* stats);
  absl::StatusOr<std::vector<FundingRateRow>> ParseFundingRates(std::string_view body);
  // GET /api/v1/orderBookOrders: individual resting orders aggregated by price into a
  // snapshot BookUpdate at inst's scales (bids best first, asks ascending; remaining sizes).
  absl::StatusOr<BookUpdate> ParseOrderBookOrders(std::string_view body, const Instrument& inst,
                                                  UnixNanos receive_time);
  // GET /api/v1/nextNonce -> nonce.
  absl::StatusOr<int64_t> ParseNextNonce(std::string_view body);
  // GET /api/v1/tx?by=hash&value= -> status (0 failed, 1 pending, 2 executed, 3 final).
  absl::StatusOr<TxStatus> ParseTx(std::string_view body);

  // --- WS
  absl::Status ClassifyWsFrame(std::string_view frame, WsFrameInfo* out);
  // subscribed/order_book: *snapshot = true, out->changes the whole book (size 0 rows skipped),
  // last_id = nonce. update/order_book: absolute sizes (0 deletes), first_id = prev_id =
  // begin_nonce, last_id = nonce (BookSync kPrevLink: begin_nonce must equal the last nonce).
  // An update without begin_nonce cannot prove continuity: first_id = prev_id = nonce, so the
  // continuity check fails and the book resyncs (the notes: live frames always carry it).
  // Levels at inst's scales; the frame's market must be `market_index`.
  absl::Status ParseWsBook(std::string_view frame, const Instrument& inst, int64_t market_index,
                           DeltaMsg* out, bool* snapshot);
  absl::StatusOr<Bbo> ParseWsTicker(std::string_view frame, const SymbolTable& symbols,
                                    UnixNanos receive_time);
  // trade:{m}: trades and liquidation_trades (both also published as trades; liquidations
  // additionally as Liquidation events with the liquidated side when the frame says it).
  absl::Status ParseWsTrades(std::string_view frame, const SymbolTable& symbols,
                             UnixNanos receive_time, std::vector<Trade>* trades,
                             std::vector<Liquidation>* liquidations);
  // market_stats:{m} (one object) or market_stats:all (a map id -> object).
  absl::Status ParseWsMarketStats(std::string_view frame, std::vector<MarketStats>* out);

  // --- private (REST bodies and WS data share the object shapes)
  // One order object.
  absl::StatusOr<Order> ParseOrder(std::string_view body, const SymbolTable& symbols);
  // {"orders":[...]} or {"orders":{"<market>":[...]}} (REST accountActiveOrders /
  // accountInactiveOrders, WS account_all_orders / account_orders); a bare array too.
  absl::StatusOr<std::vector<Order>> ParseOrders(std::string_view body, const SymbolTable& symbols,
                                                 std::string* next_cursor = nullptr);
  // {"trades":[...]} or {"trades":{"<market>":[...]}}: the rows where `account_index` is the
  // taker or the maker, as fills of that side.
  absl::StatusOr<std::vector<Fill>> ParseFills(std::string_view body, const SymbolTable& symbols,
                                               int64_t account_index,
                                               std::string* next_cursor = nullptr);
  // GET /api/v1/account (accounts[] of one) and WS account_all (positions keyed by market).
  absl::StatusOr<AccountState> ParseAccount(std::string_view body, const SymbolTable& symbols,
                                            int64_t account_index);
  // WS account_all_positions: {"positions":{"<market>":{...}}} or [...]; closed rows (size 0)
  // are kept (size 0) so the caller can clear them.
  absl::StatusOr<std::vector<Position>> ParsePositions(std::string_view body,
                                                       const SymbolTable& symbols);
  absl::StatusOr<UserStats> ParseUserStats(std::string_view body);
  // sendTx / sendTxBatch (any HTTP status): the venue's code and hashes; a body that is not
  // the answer's shape is an error (the caller decides the outcome from the HTTP status).
  absl::StatusOr<SendTxResult> ParseSendTx(std::string_view body);
  // {"code":N,"message":...} with N != 200, or a WS error frame; nullopt otherwise.
  std::optional<ErrorBody> ParseError(std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Pure helpers.

// Venue order status ("open", "filled", "canceled-post-only", ...) + sizes -> status and reason.
// "canceled-*" with nothing filled and a refusal reason (post-only, reduce-only, margin) is
// kRejected; unknown statuses are kPendingNew (not terminal: the reconcile decides).
OrderStatus MapOrderStatus(std::string_view venue_status, Decimal size, Decimal filled,
                           CancelReason* reason);
CancelReason MapCancelReason(std::string_view venue_status);

// Funding from the funding-rates row (+ stats for mark, index, OI, volume). Lighter settles
// every hour on the hour; `rate_is_8h` selects the reading of the bare `rate` (the notes leave
// it unresolved: one SDK says 8-hour equivalent, others hourly). next funding = next full hour
// after `as_of`, or the stats' funding_timestamp when it is later than as_of.
absl::StatusOr<Funding> BuildFunding(const FundingRateRow& row, const MarketStats* stats,
                                     std::string_view ticker, bool rate_is_8h, UnixNanos as_of);

// Max leverage 10000 / min_imf; IMR = min_imf / 10000; MMR = maintenance / 10000.
LeverageInfo BuildLeverageInfo(const MarketInfo& market);

// ---------------------------------------------------------------------------------------------
// Encoders.

// What the gateway's order becomes: a CreateOrderTx without the envelope (account, api key,
// nonce, expired_at are the caller's). Checks: size on the lot grid and > 0, limit price on the
// tick grid, BaseAmount <= 2^48-1, Price in [1, 2^32-1]. GTC and post-only are GTT with
// `order_expiry_ms` (the SDKs use now + 28 days); IOC has expiry 0; a market order is type
// market + IOC at `worst_price` (required: Lighter market orders carry their slippage bound).
// FOK is unsupported (InvalidArgument naming it).
absl::StatusOr<CreateOrderTx> EncodeCreateOrder(const OrderRequest& req, const MarketInfo& market,
                                                int64_t client_order_index,
                                                int64_t order_expiry_ms);
// A modify (ModifyOrder, tx type 17) without the envelope: the order's `index` (exchange
// order index >= 2^48, or client order index), the new `remaining` size and the new limit
// price. BaseAmount is read as the size left to rest, not the order's total: the notes do not
// say which (lighter.md §7 names only the fields), the venue's order rows keep initial /
// remaining / filled base amounts apart and perpgw-sim reads it as the remaining size; the
// caller subtracts what already filled. Checks as EncodeCreateOrder: size > 0 on the lot grid,
// price > 0 on the tick grid, BaseAmount <= 2^48-1, Price in [1, 2^32-1]; TriggerPrice 0.
absl::StatusOr<ModifyOrderTx> EncodeModifyOrder(const MarketInfo& market, int64_t index,
                                                Decimal remaining, Decimal price);
// A leverage as an UpdateLeverageTx without the envelope: initial margin fraction =
// ceil(10 000 / leverage) in 1/10 000 (so the leverage set is never above the one asked; a
// leverage that does not divide 10 000 lands slightly below it), refused (InvalidArgument) when
// below 1x or above the market's maximum (IMF under min_initial_margin_fraction). `margin_mode`
// is kept as the account has it on that market.
absl::StatusOr<UpdateLeverageTx> EncodeUpdateLeverage(Decimal leverage, const MarketInfo& market,
                                                      MarginMode margin_mode);
// The leverage an initial margin fraction (1/10 000) gives: 10 000 / imf, floor at 2 decimals.
Decimal LeverageOfImf(int64_t imf);
// 28 days in ms: the SDKs' GTT expiry.
inline constexpr int64_t kDefaultGttExpiryMs = int64_t{28} * 24 * 3600 * 1000;
// ExpiredAt default: now + 10 min - 1 s (the SDK's).
inline constexpr int64_t kDefaultTxExpiryMs = 10 * 60 * 1000 - 1000;

// Client order index (1 .. 2^48-1) from a client order id: a decimal id in range is used as is,
// anything else is hashed (SHA-256, 48 bits, never 0) so the same id always maps to the same
// index. The journal keeps the pair; collisions between live orders are refused by the venue.
int64_t ClientOrderIndexFor(std::string_view client_order_id);
inline constexpr int64_t kMaxClientOrderIndex = (int64_t{1} << 48) - 1;

// POST /api/v1/sendTx form body (application/x-www-form-urlencoded): tx_type, tx_info,
// price_protection (market orders: false keeps the signed worst price as the only bound).
std::string EncodeSendTxForm(TxType type, std::string_view tx_info,
                             std::optional<bool> price_protection = std::nullopt);

// POST /api/v1/sendTxBatch form body: tx_types = JSON array of ints, tx_infos = JSON array of
// the tx_info strings (double-encoded, lighter.md §7 "Submitting"); at most 15 per batch.
std::string EncodeSendTxBatchForm(const std::vector<TxType>& types,
                                  const std::vector<std::string>& tx_infos);

// Fill history (ListFills) walks GET /trades oldest first (sort_dir=asc, from = the window's
// start, cursor = the page's next_cursor). TakeFillPage adds one page's rows inside [from, to]
// (to 0: open-ended) to *out, at most `limit` rows in all, and answers whether to fetch the next
// page: the venue has one (next_cursor), no row passed `to` and `limit` is not reached. A page
// whose rows are not oldest first is an error (a venue ignoring sort_dir=asc would otherwise
// make the walk silently incomplete).
absl::StatusOr<bool> TakeFillPage(std::vector<Fill> page, std::string_view next_cursor,
                                  UnixNanos from, UnixNanos to, size_t limit,
                                  std::vector<Fill>* out);

// WS requests.
std::string EncodeSubscribe(std::string_view channel, std::string_view auth_token = {});
std::string EncodeUnsubscribe(std::string_view channel);
std::string EncodePing();
std::string EncodePong();

// Channel names for subscribing (with '/').
std::string OrderBookChannel(int64_t market_index);
std::string TickerChannel(int64_t market_index);
std::string TradeChannel(int64_t market_index);
std::string MarketStatsChannel(int64_t market_index);  // market_stats/{m}
inline constexpr std::string_view kMarketStatsAllChannel = "market_stats/all";
std::string AccountAllOrdersChannel(int64_t account_index);
std::string AccountAllTradesChannel(int64_t account_index);
std::string AccountAllPositionsChannel(int64_t account_index);
std::string UserStatsChannel(int64_t account_index);
std::string NotificationChannel(int64_t account_index);

}  // namespace perpgw::adapters::lighter
