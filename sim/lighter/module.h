// perpgw-sim's Lighter module (lighter.md): REST under /api/v1 and the WebSocket /stream with
// the venue's JSON frames, on the sim core's market and engine.
// Market data: orderBookDetails, orderBooks, funding-rates, orderBookOrders, recentTrades,
// fundings, exchangeStats, the root status; WS order_book/{m} (snapshot, then absolute-size
// updates batched every 50 ms on the begin_nonce == last nonce chain), ticker/{m}, trade/{m},
// market_stats/{m} and /all, ping/pong, the 2-minute idle close, and the venue's error frames.
// Trading: L2 transactions (create / cancel / cancel-all / modify order) sent with sendTx,
// sendTxBatch or WS jsonapi/sendtx[batch], verified with the adapter's signing library (Poseidon2
// tx hash for the sim's chain id, Schnorr signature against the registered API key, ExpiredAt,
// the per-key sequential nonce), accepted, then executed on the engine right after the answer
// ("acceptance is not execution": a refused order shows up canceled-*). Auth tokens guard the
// private REST endpoints and the account channels. See README.md for every wire choice.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/lighter/signing.h"
#include "sim/core/venue_module.h"

namespace perpgw::sim::lighter {

std::unique_ptr<VenueModule> MakeModule();

inline constexpr int kBookFlushMs = 50;           // update/order_book batching
inline constexpr int64_t kIdleCloseMs = 120'000;  // "send something at least every 2 minutes"
// Funding clamps (orderBookDetails and market_stats) and market_stats' open_interest_limit
// (USD; not in the notes' samples: a cap no sim position reaches).
inline constexpr char kFundingClampSmall[] = "0.0500";
inline constexpr char kFundingClampBig[] = "4.0000";
inline constexpr char kOpenInterestLimit[] = "1000000000.000000";

// A market's synthetic activity beyond the sim's own accounts, so that 24 h volume and open
// interest look like a live venue's (the gateway's funding ranking filters on both). Published
// everywhere the venue shows them (orderBookDetails, exchangeStats, WS market_stats):
// daily_quote_token_volume = daily_volume + the sim's trades since start,
// daily_base_token_volume = daily_volume at the mark + the sim's traded size, open_interest
// (one side, lighter.md §3) = oi_usd at the mark + the sim accounts' longs.
struct MarketBaseline {
  Money daily_volume = 0;  // USDC, 1e-8
  Money oi_usd = 0;        // USDC, 1e-8
};
MarketBaseline BaselineFor(const SimInstrument& in);

// "2026-12-06T02:53:12Z" (orderBookDetails created_at).
std::string IsoUtc(UnixNanos t);

// Test accounts. Credentials in the endpoints file: account_index, api_key_index,
// api_private_key (40 bytes LE, hex) and public_key (derived). Throwaway keys: never use them on
// the venue.
inline constexpr char kAccount1[] = "lighter-1";
inline constexpr char kAccountIndex1[] = "12345";
inline constexpr char kApiKeyIndex1[] = "2";
inline constexpr char kApiKey1[] =
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262700";
inline constexpr char kAccount2[] = "lighter-2";
inline constexpr char kAccountIndex2[] = "12346";
inline constexpr char kApiKeyIndex2[] = "3";
inline constexpr char kApiKey2[] =
    "213f363b0f4e5391fa190f50cfb616abaac317675b928f949c4c215a5718bb48c2d34d23a4f06571";

// The chain id signed into every tx hash: mainnet's by default (a client pointed at the sim with
// only its URLs changed signs for 304); the chain_id fault switches it (300 = testnet).
inline constexpr uint32_t kDefaultChainId = adapters::lighter::kMainnetChainId;

// Exchange order indexes are >= 2^48 (a cancel's Index below that is a client order index).
inline constexpr int64_t kOrderIndexBase = int64_t{1} << 48;
// Auth tokens: the deadline must be in the future and at most 8 h (+ 60 s of clock skew) ahead.
inline constexpr int64_t kMaxAuthLifetimeS = 8 * 3600 + 60;
// Txs per batch. lighter.md §7: "50 per docs page, 15 per asyncapi". The docs page governs REST
// sendTxBatch (50); the asyncapi describes the WS protocol, so jsonapi/sendtxbatch keeps 15.
inline constexpr size_t kMaxBatchRest = 50;  // sendTxBatch
inline constexpr size_t kMaxBatchWs = 15;    // jsonapi/sendtxbatch
inline constexpr size_t kTxsKept = 100'000;  // GET tx answers for the latest txs
// The market maker behind the generated book, as trades and orderBookOrders name it.
inline constexpr int64_t kMarketMakerAccount = 1;
// Settled funding kept per market (GET fundings) and per account (account_all funding_histories).
inline constexpr size_t kFundingsKept = 5000;
inline constexpr size_t kAccountFundingsKept = 1000;

// The sim's L1 (Ethereum) address of an account index: "0x" + 40 lowercase hex digits, a fixed
// function of the index (the sim bridges nothing, so any well-formed address will do), unless
// the account's credentials name an l1_address. Published in the endpoints file's
// extra.l1_addresses (not as a credential: the gateway refuses unknown credential keys).
std::string L1AddressOf(int64_t account_index);

// Venue error codes (lighter.md §9: 20xxx request validation, 21xxx tx processing, 30xxx WS).
inline constexpr int64_t kErrInvalidParam = 20001;
inline constexpr int64_t kErrBatchTooLarge = 20003;
inline constexpr int64_t kErrAuthMissing = 20010;
inline constexpr int64_t kErrAuthInvalid = 20011;
inline constexpr int64_t kErrAuthExpired = 20012;
inline constexpr int64_t kErrAccountNotFound = 21100;
inline constexpr int64_t kErrInvalidTxInfo = 21102;
inline constexpr int64_t kErrTxExpired = 21103;
inline constexpr int64_t kErrInvalidNonce = 21104;
inline constexpr int64_t kErrInvalidSignature = 21105;
inline constexpr int64_t kErrApiKeyNotFound = 21106;
inline constexpr int64_t kErrNotModelled = 21107;
inline constexpr int64_t kErrTxNotFound = 21500;
inline constexpr int64_t kWsErrInvalidMessage = 30000;
inline constexpr int64_t kWsErrInvalidChannel = 30001;
inline constexpr int64_t kWsErrNotSubscribed = 30002;
inline constexpr int64_t kWsErrAlreadySubscribed = 30003;
inline constexpr int64_t kWsErrAuth = 30004;

class LighterModule final : public VenueModule {
 public:
  LighterModule();
  ~LighterModule() override;

  std::string name() const override { return "lighter"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override;
  std::vector<AccountSpec> DefaultAccounts() const override;
  void Attach(SimContext& ctx) override;
  void DescribeEndpoints(VenueEndpoints& out) const override;
  // lighter.md §4: the server closes a connection that has sent nothing (message or ping) for
  // 2 minutes; it sends no pings of its own that the spec relies on.
  WsKeepalive Keepalive() const override { return {{}, {}, std::chrono::minutes(2)}; }

  void HandleHttp(const HttpRequest& req, HttpResponse& resp) override;

  bool AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) override;
  void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) override;
  void OnWsText(const WsConnPtr& conn, std::string_view text) override;
  void OnWsClose(const WsConnPtr& conn) override;

  void OnBookChange(const BookChange& change) override;
  void OnTrade(const PublicTrade& trade) override;
  void OnAccountEvent(const AccountEvent& event) override;
  void OnFunding(const FundingEvent& event) override;

  bool OnFault(const FaultRequest& fault, FaultResult& result) override;
  void FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) override;
  std::string VenueOrderId(uint64_t engine_id) const override;

  // A venue error: code + message (HTTP 400 on REST, an error frame or reply on WS).
  struct VenueError {
    int64_t code = 0;
    std::string message;
  };

 private:
  // ---- WebSocket
  struct BookSub {
    bool need_snapshot = true;
    std::map<int64_t, int64_t> bids, asks;  // the levels last sent: price → size
    uint64_t nonce = 0;                     // the nonce last sent
  };
  struct ConnState {
    std::set<std::string> channels;   // as subscribed ("order_book/0", "account_all_orders/1")
    std::map<size_t, BookSub> books;  // instrument index → book subscription
    uint64_t offset = 0;              // per-connection message counter (frames carry it)
  };
  struct MarketState {
    std::array<int64_t, 4> bbo{};     // bid px, bid qty, ask px, ask qty last pushed
    bool gap = false;                 // skip_seq: the next update's begin_nonce skips one
    std::vector<std::string> trades;  // recent public trades (JSON objects), newest last
    Money volume_24h = 0;             // quote notional
    Money volume_base = 0;
    int64_t last_price = 0;
    uint64_t last_id = 0;  // the book's update id last seen (gap detection)
    std::string created_at;  // orderBookDetails created_at: the listing time (ISO 8601 UTC)
    // Settled funding (OnFunding), oldest first: GET fundings.
    struct Settled {
      int64_t time_s = 0;
      int64_t rate = 0;  // kRateScale, per hour
      int64_t mark = 0;  // price mantissa
    };
    std::deque<Settled> fundings;
  };
  // One funding payment of an account (account_all funding_histories).
  struct AccountFunding {
    int64_t id = 0;
    int64_t time_s = 0;
    int64_t market_id = 0;
    Money change = 0;  // received (> 0) or paid (< 0)
    int64_t rate = 0;  // kRateScale
    std::string position_size;
    bool long_side = true;
  };

  // ---- accounts, keys, orders, txs
  struct ApiKey {
    std::string account_id;  // engine account (AccountSpec id)
    int64_t account_index = 0;
    int api_key_index = 0;
    std::string public_key_hex;
    std::optional<adapters::lighter::PublicKey> key;  // with precomputation
    int64_t nonce = 0;                                // the next nonce the sequencer expects
  };
  using KeyId = std::pair<int64_t, int>;  // (account_index, api_key_index)

  // What the venue shows of an order beyond the engine's state. Keyed by engine order id; a
  // modify replaces the engine order and copies this (same order_index, fills carried).
  struct OrderMeta {
    int64_t order_index = 0;   // >= 2^48, stable across modifies
    int64_t client_index = 0;  // 0 = none
    int64_t account_index = 0;
    int64_t seq = 0;    // listing order (creation), newest = largest
    int type = 0;       // lighter.md §7 order type (0 limit .. 5 take-profit-limit), -1 liquidation
    int64_t trigger_price = 0;  // the signed TriggerPrice (types 2..5), price mantissa
    int tif = 1;        // 0 IOC, 1 GTT, 2 post-only
    int64_t price = 0;  // the signed Price (worst price for market orders)
    int64_t order_expiry = 0;
    int64_t nonce = 0;
    std::string status_override;  // "canceled-expired" (GTT expiry)
    int64_t carried_qty = 0;      // filled by the incarnations a modify replaced
    Money carried_notional = 0;
  };

  struct TxRecord {
    std::string hash;
    int type = 0;
    std::string info;        // tx_info JSON as received
    std::string event_info;  // JSON text: what executing it did
    int status = 1;          // 0 failed, 1 pending, 2 executed, 3 final
    int64_t account_index = 0;
    int api_key_index = 0;
    int64_t nonce = 0;
    int64_t expire_at = 0;
    int64_t queued_at = 0;
    int64_t executed_at = 0;
    int64_t block_height = 0;
    int64_t transaction_index = 0;
  };

  // CreateGroupedOrders (tx 28) and UpdateMargin (tx 29): the adapter's signing library has no
  // structs for them, so the sim keeps its own (fields and hash as in the official Go signer's
  // L2CreateGroupedOrdersTxInfo / L2UpdateMarginTxInfo).
  struct GroupedOrdersTx {
    int grouping = 0;  // 1 OTO, 2 OCO, 3 OTOCO
    std::vector<adapters::lighter::CreateOrderTx> orders;  // only the order fields are set
  };
  struct UpdateMarginTx {
    int16_t market_index = 0;
    int64_t usdc_amount = 0;  // USDC in units of 1e-6
    int direction = 0;        // 0 remove from the isolated margin, 1 add to it
  };

  // A verified transaction (signing.h structs), ready to execute.
  struct ParsedTx {
    int type = 0;
    adapters::lighter::CreateOrderTx create;
    adapters::lighter::CancelOrderTx cancel;
    adapters::lighter::CancelAllOrdersTx cancel_all;
    adapters::lighter::ModifyOrderTx modify;
    adapters::lighter::UpdateLeverageTx leverage;
    GroupedOrdersTx grouped;
    UpdateMarginTx margin;
    int64_t account_index = 0;
    int api_key_index = 0;
    int64_t nonce = 0;
    int64_t expired_at = 0;
    std::string hash;  // hex
    std::string info;
  };
  struct SubmitResult {
    VenueError error;                 // code 0: accepted
    std::vector<std::string> hashes;  // accepted tx hashes, in order
  };

  // module.cpp
  int64_t NowMs() const;
  const SimInstrument* ByMarketId(int64_t id) const;
  ApiKey* FindKey(int64_t account_index, int api_key_index);
  const std::string* AccountIdOf(int64_t account_index) const;
  int64_t AccountIndexOf(std::string_view account_id) const;
  void Housekeeping();  // GTT expiry, scheduled cancel-all
  // rest.cpp
  void Route(const HttpRequest& req, HttpResponse& resp);
  std::string DetailJson(const SimInstrument& in) const;
  std::string CandleJson(const SimInstrument& in, const Candle& c) const;
  // Resolution (1m 5m 15m 30m 1h 4h 12h 1d) → ms; 0 when unknown.
  static int64_t CandleStepMs(std::string_view resolution);
  std::string CurrentCandleJson(const SimInstrument& in, int64_t step) const;
  void PushCandles();  // candle/{m}/{res}: update/candle when the current candle changed
  // account_market/{m}/{a}: account, orders, positions (the market's), trades - no braces.
  std::string AccountMarketBody(const std::string& account, int64_t account_index,
                                const SimInstrument& in, const std::string& orders,
                                const std::string& trades) const;
  std::string LevelsJson(const std::vector<Level>& levels, const SimInstrument& in) const;
  std::string StatsJson(const SimInstrument& in) const;
  // Baseline (BaselineFor) + the sim's own activity; sizes at size_scale, quote in 1e-8.
  Money DailyQuoteVolume(const SimInstrument& in) const;
  int64_t DailyBaseVolume(const SimInstrument& in) const;
  int64_t OpenInterest(const SimInstrument& in) const;
  bool PrivateRoute(const std::string& path, const HttpRequest& req, HttpResponse& resp);
  void SendTxRest(const HttpRequest& req, HttpResponse& resp, bool batch);
  // tx.cpp
  // Checks a token for `account_index` (any key of the account); nullopt when good.
  std::optional<VenueError> CheckAuth(std::string_view token, int64_t account_index, bool ws);
  SubmitResult Submit(const std::vector<std::pair<int64_t, std::string>>& txs);
  // tx_types / tx_infos of a batch: JSON arrays (or strings holding them) of ints and of tx_info
  // strings or objects; 1..max of each (REST 50, WS 15), same count.
  static bool ParseBatch(const std::string& types, const std::string& infos, size_t max,
                         std::vector<std::pair<int64_t, std::string>>* out, VenueError* err);
  std::optional<VenueError> VerifyTx(int64_t type, const std::string& info, ParsedTx* out);
  void Execute(const ParsedTx& tx);
  // Each returns false when the tx fails on execution; *event_info says what happened (JSON).
  bool ExecCreate(const ParsedTx& tx, const std::string& account, std::string* event_info);
  // One order of a create (or of a group): its engine id (a refused order's record id) after
  // placement. `children` (OTO / OTOCO) attach their SL / TP to it as the engine's children.
  uint64_t PlaceCreate(const adapters::lighter::CreateOrderTx& c, int64_t account_index,
                       const std::string& account,
                       const std::vector<adapters::lighter::CreateOrderTx>& children);
  bool ExecGrouped(const ParsedTx& tx, const std::string& account, std::string* event_info);
  bool ExecUpdateMargin(const ParsedTx& tx, const std::string& account, std::string* event_info);
  // OCO groups: when one order of a pair stops waiting for its trigger (fired or ended), the
  // other, if still waiting, is cancelled.
  void ResolveOco(const SimOrder& o);
  bool ExecCancel(const ParsedTx& tx, const std::string& account, std::string* event_info);
  bool ExecCancelAll(const ParsedTx& tx, const std::string& account, std::string* event_info);
  bool ExecModify(const ParsedTx& tx, const std::string& account, std::string* event_info);
  bool ExecUpdateLeverage(const ParsedTx& tx, const std::string& account, std::string* event_info);
  // Engine order state → a refused order record (never stored by the engine).
  void RecordRefused(SimOrder o, OrderMeta meta);
  // The engine order an Index names (client < 2^48, else exchange) on the account; nullptr if
  // none is open there on that market.
  const SimOrder* ResolveOpen(const std::string& account, int64_t market, int64_t index) const;
  void FlushDeferred();
  std::string TxJson(const TxRecord& t) const;
  std::string SendTxAnswer(const SubmitResult& r, bool batch) const;
  // account.cpp
  OrderMeta& MetaFor(const SimOrder& o);
  std::string OrderStatusText(const SimOrder& o, const OrderMeta& m) const;
  std::string OrderJson(const SimOrder& o);
  std::string TradeJson(const SimFill& f);
  std::string PositionJson(const SimPosition& p, const std::string& account) const;
  std::string AccountJson(const std::string& account, int64_t account_index) const;
  std::string StatsJsonFor(const std::string& account) const;
  const std::string& L1Of(int64_t account_index) const;
  // account_all_assets `assets`: {"3":{symbol,asset_id,balance,locked_balance}} (USDC only).
  std::string AssetsJson(const std::string& account) const;
  // account_all/{a}: every key of the frame but channel/type/timestamp, as a JSON object's
  // members (no braces). `orders`, `trades` and `funding_histories` hold the given rows (the
  // snapshot: the current ones; an update: the new ones); positions, assets and the trade
  // counters are always the whole current state.
  std::string AccountAllBody(const std::string& account, int64_t account_index,
                             const std::string& orders, const std::string& trades,
                             const std::string& fundings) const;
  std::string FundingHistoryJson(const AccountFunding& f) const;
  std::vector<SimOrder> AccountOrders(const std::string& account);  // engine + refused
  // ws.cpp
  void HandleText(const WsConnPtr& conn, ConnState& st, std::string_view text);
  void SendError(const WsConnPtr& conn, int64_t code, const std::string& message);
  std::optional<VenueError> Subscribe(const WsConnPtr& conn, ConnState& st,
                                      const std::string& channel, const std::string& auth);
  std::optional<VenueError> SubscribeAccount(const WsConnPtr& conn, ConnState& st,
                                             const std::string& channel, const std::string& auth);
  // `id_json`: the request's id as JSON text (its type kept), empty when it sent none.
  void WsSendTx(const WsConnPtr& conn, const JsonFields& frame, const std::string& id_json,
                bool batch);
  // Sends update/<channel head> with `body` (object members) to the channel's subscribers.
  void PushBody(const std::string& channel, const std::string& body);
  std::string Frame(ConnState& st, std::string_view type, std::string_view channel,
                    std::string_view payload_key, const std::string& payload_json);
  // Sends `payload` as update/<head> to every connection subscribed to `channel`.
  void Push(const std::string& channel, std::string_view payload_key, const std::string& payload);
  void DispatchAccountEvent(const AccountEvent& e);
  void PushTx(const TxRecord& t);
  std::string NotificationJson(const AccountEvent& e) const;
  void FlushBooks();
  void PushBbo(size_t i);
  void PushStats();
  void CloseIdle();

  SimContext* ctx_ = nullptr;
  std::map<uint64_t, std::weak_ptr<WsConn>> conns_;
  std::vector<MarketState> markets_;
  int64_t idle_close_ms_ = kIdleCloseMs;

  uint32_t chain_id_ = kDefaultChainId;
  std::map<KeyId, ApiKey> keys_;
  std::map<int64_t, std::string> account_by_index_;  // account_index → engine account id
  std::unordered_map<uint64_t, OrderMeta> meta_;     // engine (or refused) order id → meta
  std::map<int64_t, uint64_t> engine_by_index_;      // order index → current engine order id
  std::set<uint64_t> suppressed_;                    // replaced by a modify: events hidden
  std::map<std::string, std::string> candles_sent_;  // candle channel → the candle last sent
  std::map<uint64_t, uint64_t> oco_sibling_;         // OCO pairs (tx 28 type 2), both ways
  std::map<uint64_t, int64_t> child_expiry_;         // OTO/OTOCO parent id → children's expiry
  std::map<uint64_t, SimOrder> refused_;             // duplicate client index: never in engine
  uint64_t next_refused_id_ = uint64_t{1} << 40;     // ids beyond the engine's
  int64_t next_seq_ = 1;
  std::unordered_map<std::string, TxRecord> txs_;  // by hash, the latest kTxsKept
  std::deque<std::string> tx_order_;               // hashes, oldest first (eviction)
  int64_t block_height_ = 1000;
  int64_t tx_index_ = 0;
  int sequencer_rejects_ = 0;             // sequencer_reject fault: txs to drop
  std::map<int64_t, int64_t> scheduled_;  // account_index → scheduled cancel-all time (ms)
  // Markets each account has set leverage on (UpdateLeverage): their rows stay in `positions`
  // when flat, as the venue keeps a row per market the account has set or traded.
  std::map<std::string, std::set<int64_t>> leverage_markets_;  // account id → market ids
  bool deferring_ = false;                // inside an engine call: events wait for the meta
  std::vector<AccountEvent> deferred_;
  std::deque<AccountEvent> notifications_;  // liquidations, newest last (notification/{a})
  std::map<int64_t, std::string> l1_by_index_;  // account_index → L1 address (lowercase)
  std::map<std::string, std::deque<AccountFunding>> account_fundings_;  // account id → payments
  int64_t next_funding_id_ = 1;
};

}  // namespace perpgw::sim::lighter
