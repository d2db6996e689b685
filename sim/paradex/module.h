// perpgw-sim's Paradex module: the /v1 REST API (Stark-signed auth and orders, ES384 JWTs) and
// the JSON-RPC WebSocket (/v1) with public channels in SBE when the connection negotiates it
// (?sbeSchemaId=1&sbeSchemaVersion=0|1|2) and JSON otherwise, on top of the sim core's market and
// engine. Wire facts: ../shared/protocols/paradex.md and paradex-sbe.md.
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

#include "adapters/paradex/signing.h"
#include "sim/core/venue_module.h"
#include "sim/paradex/internal.h"

namespace perpgw::sim::paradex {

std::unique_ptr<VenueModule> MakeModule();

// Test accounts: throwaway Stark keys from the signing vectors. Credentials in the endpoints
// file: account (L2 address), stark_private_key, public_key. paradex-3 trades with a subkey (a
// trading-only key registered to the account): its stark_private_key / public_key are the
// subkey's; the account's own key (kMainKey3) is never published.
inline constexpr char kAccount1[] = "paradex-1";
inline constexpr char kAccount2[] = "paradex-2";
inline constexpr char kAccount3[] = "paradex-3";
inline constexpr char kAddress1[] =
    "0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a";  // vectors' account
inline constexpr char kKey1[] = "0x3c1e9550e66958296d11b60f8e8e7a7ad990d07fa65d5f7652c4a6c87d4e3cc";
inline constexpr char kAddress2[] =
    "0x5a2a4e0c6f3e96f4b0e1b2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f";  // made up (< 2^251)
inline constexpr char kKey2[] = "0x2dccce1da22003777062ee0870e9881b460a8b7eca276870f57c601f182136c";
inline constexpr char kAddress3[] =
    "0x3b9f6a1e5d2c4b8a7f6e5d4c3b2a19081726354453627180f9e8d7c6b5a4938";  // made up (< 2^251)
inline constexpr char kMainKey3[] = "0x51a7c0ffee5eed0d15ea5e0b57ac1e5bad5eed0ff1ce0fab1e5ca1ab1e0000f";
inline constexpr char kSubkey3[] = "0x6b1d2c3a4f5e60718293a4b5c6d7e8f9012345678a9bcdef0123456789abcd1";
// The chain id the sim signs for (testnet's: these keys must never sign for mainnet).
inline constexpr char kChainId[] = "PRIVATE_SN_POTC_SEPOLIA";
inline constexpr int kBookDepth = 15;  // every WS book feed is top-15
// funding_index fixed point: USD per unit of size at 1e-12 (kBONK accrues ~1e-10 USD/s).
inline constexpr int kIndexScale = 12;
inline constexpr size_t kMaxIndexSamples = 100000;  // per market (> 1 day of 1 s samples)
inline constexpr char kMaxOrderSize[] = "1000000";  // GET /markets max_order_size, every market
inline constexpr size_t kMaxBatch = 10;             // POST/DELETE /orders/batch (OpenAPI: 1-10)

// A market's synthetic activity beyond the sim's own accounts, so that 24 h volume and open
// interest look like a live venue's (the gateway's funding ranking filters on both). Published
// everywhere the venue shows them (GET /markets/summary, WS markets_summary in JSON and SBE):
// volume_24h = daily_volume + the sim's trades since start, total_volume = 100 days of it + those
// trades, open_interest = oi_usd at the current mark + the sim accounts' longs.
struct MarketBaseline {
  Money daily_volume = 0;  // USD, 1e-8
  Money oi_usd = 0;        // USD, 1e-8
};
MarketBaseline BaselineFor(const SimInstrument& in);

class ParadexModule final : public VenueModule {
 public:
  ParadexModule();
  ~ParadexModule() override;

  std::string name() const override { return "paradex"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override;
  std::vector<AccountSpec> DefaultAccounts() const override;
  void Attach(SimContext& ctx) override;
  void DescribeEndpoints(VenueEndpoints& out) const override;
  // paradex.md: a ping frame every 55 s; no pong within 5 s closes the connection.
  WsKeepalive Keepalive() const override {
    return {std::chrono::seconds(55), std::chrono::seconds(5), {}};
  }

  void HandleHttp(const HttpRequest& req, HttpResponse& resp) override;

  bool AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) override;
  void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) override;
  void OnWsText(const WsConnPtr& conn, std::string_view text) override;
  void OnWsClose(const WsConnPtr& conn) override;

  void OnBookChange(const BookChange& change) override;
  void OnTrade(const PublicTrade& trade) override;
  void OnAccountEvent(const AccountEvent& event) override;

  bool OnFault(const FaultRequest& fault, FaultResult& result) override;
  void FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) override;
  std::string VenueOrderId(uint64_t engine_id) const override;

 private:
  // ---- WebSocket
  enum class Feed : uint8_t { kDeltas, kSnapshot };
  struct BookSub {
    size_t market = 0;  // instrument index
    int64_t group = 0;  // @price_tick bucket at the market's price scale (0 = ungrouped)
    Feed feed = Feed::kDeltas;
    int every = 1;  // flush ticks (50 ms each) between messages: 1 = 50ms, 2 = 100ms
    bool need_snapshot = true;
    std::map<int64_t, int64_t> bids, asks;  // the top-15 last sent: price → size
    uint64_t seq = 0;                       // the book's update id when last sent
  };
  struct ConnState {
    int sbe_version = -1;  // -1: JSON public channels (no SBE negotiated)
    std::string account;   // after auth
    std::set<std::string> channels;
    // channel name → its book view. JSON pushes name their channel, so a market may have several
    // (grouped and ungrouped are separate subscriptions); an SBE connection keeps one per market
    // (its frames name no channel).
    std::map<std::string, BookSub> books;
    // order.cancel_on_disconnect: when this connection closes, the account's open orders are
    // cancelled (connection-scoped, off by default, not kept across reconnects).
    bool cancel_on_disconnect = false;
  };
  // A funding-index sample: the index (USD per unit of size, at kIndexScale) at `t`, and the
  // rate/mark it accrues at from there.
  struct IndexSample {
    UnixNanos t = 0;
    int64_t index = 0;
    int64_t rate = 0;  // kRateScale, per funding period
    int64_t mark = 0;  // price_scale
  };
  struct MarketState {
    std::array<int64_t, 4> bbo{};    // bid px, bid qty, ask px, ask qty last pushed
    std::deque<std::string> trades;  // recent public trades (JSON objects), newest last
    Money volume_24h = 0;
    int64_t last_price = 0;
    uint64_t summary_seq = 0;
    std::deque<IndexSample> index_samples;  // oldest first, at most kMaxIndexSamples
  };
  // What a fill carries beyond the engine's SimFill, captured when the engine emits it.
  struct FillExtra {
    Money realized_pnl = 0;     // the position's realized pnl change on this fill (fees excluded)
    uint64_t book_seq = 0;      // orderbook_seq_no: the market's update id after the execution
    Money wallet_after = 0;     // the account's settlement balance right after the fill
  };
  // A settled funding payment (GET /funding/payments, funding_payments.* pushes).
  struct FundingPayment {
    uint64_t id = 0;
    std::string account;
    size_t market = 0;
    Money payment = 0;  // received (> 0) or paid (< 0)
    int64_t index = 0;  // the market's funding index at settlement (kIndexScale)
    UnixNanos time = 0;
    Money wallet_after = 0;  // the account's settlement balance right after it
  };
  struct OrderMeta {
    std::string type = "LIMIT";  // as sent
    std::string instruction = "GTC";
    std::string stp = "EXPIRE_TAKER";
    int64_t signature_ms = 0;
    // A conditional order accepted untriggered, whose firing has not been pushed yet: the first
    // orders.* update after it fires goes out as NEW before its OPEN/CLOSED state.
    bool parked = false;
    // A position TP/SL (STOP_LOSS_* / TAKE_PROFIT_* sent with size "0" and REDUCE_ONLY): sized
    // to the whole position when it fires; shown with size "0" until then, as it was sent.
    bool whole_position = false;
    // Set when the sim cancels the order itself for a position TP/SL link (CancelTpSlLinked):
    // the cancel_reason its CLOSED update carries instead of the engine's USER_CANCELED.
    std::string cancel_reason;
  };

  // module.cpp
  const AccountSpec* AccountByAddress(std::string_view address) const;
  static std::vector<adapters::paradex::Felt> RegisteredKeys(const AccountSpec& a);
  // The L2 address the venue's payloads show for an account id (its `account` credential).
  std::string AddressOf(const std::string& account_id) const;
  int64_t NowMs() const;
  // rest.cpp
  void Route(const HttpRequest& req, HttpResponse& resp);
  bool Public(const std::string& path, const HttpRequest& req, HttpResponse& resp);
  void Private(const std::string& path, const AccountSpec& acct, const HttpRequest& req,
               HttpResponse& resp);
  void Auth(const HttpRequest& req, std::string_view pubkey, HttpResponse& resp);
  const AccountSpec* Bearer(const HttpRequest& req, ApiError* err) const;
  void PlaceOrder(const AccountSpec& acct, const HttpRequest& req, HttpResponse& resp);
  // ---- order entry shared by REST and the WS JSON-RPC order.* methods (rest.cpp). Each either
  // refuses with *err (the venue's REST error code; err->http the REST status) and acts on
  // nothing, or acts with the engine's events held in deferred_: the caller answers first, then
  // calls FlushDeferred (the venue's acks precede the orders.* / fills.* updates).
  // One signed order (POST /orders, order.create).
  std::optional<SimOrder> CreateOrder(const AccountSpec& acct, const JsonFields& f,
                                      ApiError* err);
  // A batch given as JSON array text (POST /orders/batch, order.create_batch): a whole-batch
  // refusal (size, binding, a signature or validation failure) is nullopt; otherwise one
  // outcome per order, in request order.
  struct BatchOutcome {
    std::optional<SimOrder> order;
    ApiError err;  // when !order
  };
  std::optional<std::vector<BatchOutcome>> CreateBatch(const AccountSpec& acct,
                                                       std::string_view orders_json,
                                                       ApiError* err);
  // Modify (PUT /orders/{id}, order.modify): `id_text` is the order addressed; f["id"] must
  // name the same one.
  std::optional<SimOrder> AmendOrder(const AccountSpec& acct, std::string_view id_text,
                                     const JsonFields& f, ApiError* err);
  // Cancel one (DELETE /orders/{id}, /by_client_id/{cid}, order.cancel); o may be null.
  bool CancelOne(const AccountSpec& acct, const SimOrder* o, bool by_client_id, ApiError* err);
  // Cancel by ids (DELETE /orders/batch, order.cancel_batch): f's order_ids /
  // client_order_ids → the {"results":[...]} object text.
  std::optional<std::string> CancelMany(const AccountSpec& acct, const JsonFields& f,
                                        ApiError* err);
  // Cancel all (DELETE /orders, order.cancel_all); market "" or "ALL" = every market.
  bool CancelEvery(const AccountSpec& acct, const std::string& market, ApiError* err);
  // A signed order body checked (signature, grid, fields) into an engine request; nullopt with
  // *err set when it is refused before reaching the engine.
  struct CheckedOrder {
    PlaceRequest req;
    OrderMeta meta;
  };
  std::optional<CheckedOrder> CheckOrder(const AccountSpec& acct, const JsonFields& f,
                                         ApiError* err) const;
  // Places a checked order with the engine's events held; on a synchronous engine refusal
  // returns the error (events dropped), else the accepted order (events to flush).
  std::optional<SimOrder> Submit(const CheckedOrder& c, ApiError* err);
  void FlushDeferred();
  void CancelOrder(const AccountSpec& acct, const SimOrder* o, bool by_client_id,
                   HttpResponse& resp);
  std::string MarketJson(const SimInstrument& in) const;
  std::string SummaryJson(size_t i) const;
  std::string FundingJson(size_t i, UnixNanos t) const;
  // group: price-tick bucket at the market's price scale (0 = ungrouped).
  std::string OrderbookJson(size_t i, size_t depth, int64_t group = 0) const;
  std::string BboJson(size_t i) const;
  // request_info: the object a modify answer carries ("" = the empty one every order shows).
  std::string OrderJson(const SimOrder& o, bool as_new = false,
                        std::string_view request_info = {}) const;
  std::string FillJson(const SimFill& f) const;
  std::string FundingPaymentJson(const FundingPayment& p) const;
  std::string BalanceEventJson(const std::string& account, const char* type, const SimFill* fill,
                               const FundingPayment* funding) const;
  // Funding index of market i at time t (kIndexScale): the nearest sample at or before t
  // accrued at its rate and mark (the oldest sample extrapolated backward before it).
  int64_t FundingIndexAt(size_t i, UnixNanos t) const;
  void SampleFundingIndex(size_t i);
  void RecordFill(const AccountEvent& e);
  void PlaceBatch(const AccountSpec& acct, const HttpRequest& req, HttpResponse& resp);
  void ModifyOrder(const AccountSpec& acct, std::string_view id_text, const HttpRequest& req,
                   HttpResponse& resp);
  void CancelBatch(const AccountSpec& acct, const HttpRequest& req, HttpResponse& resp);
  std::string PositionJson(const std::string& account, const SimPosition& p) const;
  std::string AccountJson(const AccountSpec& acct) const;
  std::string BalanceJson(const AccountSpec& acct) const;
  // Base units at size_scale: the baseline's (BaselineFor) at the mark + the sim accounts' longs.
  int64_t OpenInterest(size_t i) const;
  Money Volume24h(size_t i) const;    // baseline daily volume + the sim's trades (USD, 1e-8)
  Money TotalVolume(size_t i) const;  // lifetime: 100 baseline days + the sim's trades
  // ws.cpp
  void HandleRpc(const WsConnPtr& conn, ConnState& st, std::string_view text);
  // order.* methods (authenticated connections only).
  void HandleOrderRpc(const WsConnPtr& conn, ConnState& st, const std::string& id,
                      const std::string& method, const JsonFields& params);
  // A refusal of an order.* method as a JSON-RPC error (see ws.cpp for the mapping).
  void ReplyApiError(const WsConnPtr& conn, const std::string& id, const ApiError& e);
  std::string Subscribe(const WsConnPtr& conn, ConnState& st, const std::string& channel);
  void Reply(const WsConnPtr& conn, const std::string& id, const std::string& result_json);
  void ReplyError(const WsConnPtr& conn, const std::string& id, int code,
                  const std::string& message, const std::string& data = {});
  void PushChannel(const std::string& channel, const std::string& data_json);
  void PushPublic(size_t i, const char* kind, const std::string& json, const std::string& sbe_v0,
                  const std::string& sbe_v1, const std::string& sbe_v2);
  void FlushBooks();
  void PushSummaries();
  void PushFunding();
  void PushBbo(size_t i, UnixNanos t);
  void DispatchAccountEvent(const AccountEvent& e);
  // Position TP/SL links (ws.cpp): after a TP/SL leg's fill or a position going flat/reversed,
  // the account's other reduce-only trigger orders on that market are cancelled (see ws.cpp).
  void NoteTpSlEvent(const AccountEvent& e);
  void CancelTpSlLinked(const std::string& account, size_t market, uint64_t filled_leg);
  bool Subscribed(const ConnState& st, const std::string& channel) const;

  SimContext* ctx_ = nullptr;
  JwtIssuer jwt_;
  int64_t jwt_ttl_s_ = 300;      // the venue's 5 minutes; the jwt_ttl fault shortens it
  int64_t first_valid_jti_ = 0;  // expire_token: tokens issued before the fault are refused
  int sbe_refusals_ = 0;         // sbe_refuse fault: upgrades to refuse with HTTP 400
  std::vector<MarketState> markets_;
  std::map<uint64_t, std::weak_ptr<WsConn>> conns_;
  std::unordered_map<uint64_t, OrderMeta> order_meta_;
  std::map<std::string, uint64_t> account_seq_;  // per-account private feed seq_no
  bool deferring_ = false;  // inside POST /orders: account events wait for the response
  std::vector<AccountEvent> deferred_;
  std::unordered_map<uint64_t, FillExtra> fill_extra_;  // by trade id * 2 + maker
  // Taker fills whose book consumption the market publishes right after the fill: their
  // orderbook_seq_no is the update id of that next book change (per market).
  std::map<size_t, std::vector<uint64_t>> seq_pending_;
  std::map<std::pair<std::string, size_t>, Money> last_realized_;  // (account, market) → pnl
  // (account, market) → the signed position size last dispatched (flat/reversal detection).
  std::map<std::pair<std::string, size_t>, int64_t> last_position_;
  std::vector<FundingPayment> funding_payments_;
  // Liquidations (GET /liquidations): one per liquidation of an account (its fills at one
  // time), oldest first; id a tx-hash-like 0x + 64 hex digits.
  struct LiquidationRecord {
    std::string account;
    std::string id;
    UnixNanos time = 0;
  };
  std::deque<LiquidationRecord> liquidations_;
  uint64_t next_funding_payment_id_ = 1;
  uint64_t flush_tick_ = 0;
  UnixNanos started_ = 0;
};

}  // namespace perpgw::sim::paradex
