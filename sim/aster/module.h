// perpgw-sim's Aster module: the /fapi REST API (V1 HMAC and V3 EIP-712 auth), the fstream
// WebSocket (raw, combined and user-data streams) and Aster-specific faults on top of the core.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/core/venue_module.h"

namespace perpgw::sim::aster {

std::unique_ptr<VenueModule> MakeModule();

// Test accounts (throwaway keys from the Aster docs' worked examples; published in the endpoints
// file). V1: api_key + api_secret. V3: user (main wallet) + signer (agent) + the agent's key.
inline constexpr char kV1Account[] = "aster-v1";
inline constexpr char kV3Account[] = "aster-v3";
inline constexpr char kV3MainAccount[] = "aster-v3-main";  // signs as its own main wallet
inline constexpr uint64_t kChainId = 1666;  // mainnet EIP-712 chainId (the adapter's default)
// Listen keys live 60 min from creation / last keepalive; a little grace for clients that renew
// exactly every 60 min (ccxt).
inline constexpr int64_t kListenKeyLifetimeMs = 60LL * 60 * 1000;
inline constexpr int64_t kListenKeyGraceMs = 2LL * 60 * 1000;
// MARGIN_CALL level. Margin ratio = maintenance margin / margin balance (wallet + unrealized
// PnL), the Binance-family ratio whose 100 % is liquidation (as in the sim's engine: equity below
// maintenance margin). Neither aster.md nor the Aster docs give the level ("when the user's
// position risk ratio is too high", Binance's docs say the same) and no public source found
// documents one; the sim warns at 80 %, its own choice of a level well before the 100 %
// liquidation line. Change it here if the venue's level becomes known.
inline constexpr int64_t kMarginCallRatioPct = 80;

struct Params;
struct ApiError;
class Authenticator;

class AsterModule final : public VenueModule {
 public:
  AsterModule();
  ~AsterModule() override;

  std::string name() const override { return "aster"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override;
  std::vector<AccountSpec> DefaultAccounts() const override;
  void Attach(SimContext& ctx) override;
  void DescribeEndpoints(VenueEndpoints& out) const override;
  // aster.md §6: a ping frame every 5 minutes; no pong within 15 minutes closes the connection.
  WsKeepalive Keepalive() const override {
    return {std::chrono::minutes(5), std::chrono::minutes(15), {}};
  }

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

  // Introspection for tests (loop thread).
  size_t active_listen_keys() const;

 private:
  // ---- per-symbol market state
  static constexpr int kSpeeds = 3;  // diff/partial depth cadences: 100, 250, 500 ms
  struct Batch {                     // depth changes merged for one cadence
    bool open = false;
    uint64_t first = 0, last = 0, prev = 0;
    UnixNanos last_time = 0;
    std::map<int64_t, int64_t> bids, asks;  // price → absolute size (0 = delete)
  };
  struct Stats {  // rolling "24 h" ticker (synthetic baseline + sim trades)
    int64_t open = 0, high = 0, low = 0;
    int64_t traded_qty = 0;
    Money traded_quote = 0;
    uint64_t first_trade = 0, last_trade = 0, count = 0;
    int64_t last_qty = 0;
  };
  struct FundingRow {
    int64_t rate = 0;
    int64_t time_ms = 0;
  };
  struct SymbolState {
    std::string stream;  // lower-case symbol
    std::array<Batch, kSpeeds> batch;
    std::array<int, kSpeeds> depth_listeners{};  // diff + partial subscriptions per cadence
    int bbo_listeners = 0;
    std::array<int64_t, 4> last_bbo{};  // bid px, bid qty, ask px, ask qty last pushed
    UnixNanos last_change = 0;
    // Faults (test only): the next depth event's u jumps this far ahead while its pu still
    // links (later events continue from the real ids); the next bookTicker is crossed.
    uint64_t jump_next = 0;
    bool cross_next_bbo = false;
    Stats stats;
    std::vector<FundingRow> funding;  // ascending
    // The venue numbers trades per symbol (trades, aggTrades, userTrades, the user stream's `t`
    // alike): venue id = 1, 2, ... in engine order. Engine id → venue id of the recent public
    // prints (REST lists the core's last kRecentTradesKept only; older ones are dropped here).
    uint64_t trade_seq = 0;
    std::map<uint64_t, uint64_t> trade_ids;
    // First and last venue trade id of each minute with prints (a week, like the candles): the
    // kline stream's `f` / `L`.
    struct TradeMinute {
      int64_t minute_ms = 0;
      uint64_t first = 0, last = 0;
    };
    std::deque<TradeMinute> trade_minutes;
  };

  // ---- streams
  enum class StreamKind : uint8_t {
    kDiff, kPartial, kBookTicker, kAllBookTicker, kAggTrade, kMarkPrice, kAllMarkPrice,
    kForceOrder, kAllForceOrder, kKline, kOther
  };
  struct StreamInfo {
    StreamKind kind = StreamKind::kOther;
    int symbol = -1;  // instrument index, -1 for "!" streams / unknown symbols
    int speed = 1;    // cadence index (diff/partial), or 0 = 1 s / 1 = 3 s (mark price)
    int levels = 0;   // partial depth
    CandleInterval kline{};  // kline interval
  };
  // A subscribed <s>@kline_<interval> stream: the interval it pushed last and that candle.
  struct KlineSub {
    size_t symbol = 0;
    std::string interval;  // as named in the stream ("1m", "4h", "1w", "1M", ...)
    CandleInterval iv;
    int64_t open_ms = -1;  // -1: nothing pushed yet
    Candle last;
  };
  struct ConnState {
    bool combined = false;
    bool user = false;
    bool dead = false;  // user stream after listenKeyExpired: nothing more is sent
    std::string listen_key;
    std::set<std::string> streams;
    std::deque<std::chrono::steady_clock::time_point> recent;  // client messages, last second
  };
  struct ListenKey {
    std::string key, account;
    int64_t expires_ms = 0;
    bool active = true;
  };

  // module.cpp
  int64_t NowMs() const;
  int SymbolIndex(std::string_view symbol) const;  // -1 when unknown
  StreamInfo ParseStream(std::string_view name) const;
  // rest.cpp
  void Route(const HttpRequest& req, HttpResponse& resp);
  void Public(std::string_view name, const HttpRequest& req, const Params& p, HttpResponse& resp);
  void Private(std::string_view name, const AccountSpec& acct, const HttpRequest& req,
               const Params& p, HttpResponse& resp);
  void NewOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void QueryOrder(const AccountSpec& acct, const Params& p, bool open_only, HttpResponse& resp);
  void CancelOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void ModifyOrder(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void ListenKeyCall(const std::string& method, const AccountSpec& acct, HttpResponse& resp);
  void Leverage(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  // POST/DELETE batchOrders: one NewOrder/CancelOrder per element, answered as an array of
  // order objects and {code,msg} error objects in request order.
  void BatchNew(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void BatchCancel(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void MarginType(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  // POST positionMargin (type 1 add / 2 reduce an isolated position's margin) and GET
  // positionMargin/history (what those calls moved, by symbol).
  void PositionMargin(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void PositionMarginHistory(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void CountdownCancelAll(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void Income(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  std::string PositionRow(const AccountSpec& acct, size_t i, bool v4,
                          PositionSide side = PositionSide::kBoth) const;
  std::string BalanceRows(const AccountSpec& acct) const;
  std::string AccountJson(const AccountSpec& acct) const;
  // The rolling 24 h ticker: REST row (event=false) or the `24hrTicker` / `24hrMiniTicker`
  // stream event (event=true; mini drops the change, weighted average, last qty and ids).
  std::string TickerJson(size_t i, bool event = false, bool mini = false) const;
  std::string PremiumJson(size_t i) const;
  // ws.cpp
  void Subscribe(const WsConnPtr& conn, ConnState& st, const std::string& stream);
  void Unsubscribe(const WsConnPtr& conn, ConnState& st, const std::string& stream);
  void HandleControl(const WsConnPtr& conn, ConnState& st, std::string_view text);
  void Publish(const std::string& stream, const std::string& payload);
  bool HasListeners(const std::string& stream) const;
  void FlushDepth(int speed);
  void FlushBatch(size_t i, int speed);
  void PushMarkPrices(int cadence);
  // <s>@ticker / <s>@miniTicker every 500 ms (per_symbol) and !ticker@arr / !miniTicker@arr
  // every 1000 ms, as the venue pushes them.
  void PushTickers(bool per_symbol);
  // <s>@kline_<interval> every 250 ms: the current candle when it changed; when its interval
  // ended, the finished one once more with x = true, then the new one.
  void PushKlines();
  std::string KlineEvent(const KlineSub& k, const Candle& c, bool closed) const;
  void PushUser(const std::string& account, const std::string& payload);
  // MARGIN_CALL when a margin ratio crosses kMarginCallRatioPct upward (once per crossing;
  // re-armed when it falls back below): the account's cross positions against the cross margin
  // balance, each isolated position against its own isolated margin.
  void CheckMarginCalls();
  void ExpireKey(ListenKey& k);
  void CheckListenKeys();
  std::string OrderUpdateJson(const AccountEvent& e, const SimOrder& o, const char* exec,
                              const char* status);
  // The venue's (per-symbol) id of an engine trade on instrument i, assigned on first sight
  // (engine ids rise, so per-symbol ids do too). account_fill: a sim account's fill, whose id
  // must stay answerable for as long as userTrades lists it.
  uint64_t VenueTradeId(size_t i, uint64_t engine_trade_id, bool account_fill = false);

  SimContext* ctx_ = nullptr;
  std::unique_ptr<Authenticator> auth_;
  std::vector<SymbolState> symbols_;
  std::unordered_map<std::string, int> stream_symbol_;  // lower-case symbol → index
  // stream name → subscribed connections
  std::unordered_map<std::string, std::map<uint64_t, std::weak_ptr<WsConn>>> subs_;
  std::map<std::string, KlineSub> klines_;  // subscribed kline streams by name
  std::map<std::string, std::string> stp_mode_;  // account id → POST /fapi/v3/stpMode value
  std::map<std::string, std::set<std::string>> approved_builders_;  // account → builders
  std::map<std::string, ListenKey> keys_;                     // by key
  std::map<std::string, std::string> account_key_;            // account → active key
  std::map<std::string, std::map<uint64_t, std::weak_ptr<WsConn>>> user_conns_;  // by key
  // ACCOUNT_UPDATE assembly: the engine emits position then balance after each fill/funding.
  struct PendingAccount {
    bool has_position = false;
    SimPosition position;
    bool funding = false;
    Money funding_amount = 0;
    bool margin_transfer = false;  // POST positionMargin: ACCOUNT_UPDATE reason MARGIN_TRANSFER
  };
  std::map<std::string, PendingAccount> pending_account_;
  // At or above the margin-call ratio: account ids (cross), "account\x1fsymbol\x1fside"
  // (isolated positions).
  std::set<std::string> margin_called_;
  std::map<std::string, Money> realized_seen_;           // account\x1fsymbol → cum realized pnl
  std::unordered_map<uint64_t, Money> trade_realized_;   // trade id → realized pnl of that fill
  // Engine trade id → venue trade id of the sim accounts' fills (kept like the engine's fills).
  std::unordered_map<uint64_t, uint64_t> fill_trade_ids_;
  std::set<uint64_t> close_position_;  // order ids placed with closePosition=true
  // The order a PUT /fapi/v3/order is amending while Engine::Amend runs (0 otherwise): its
  // fill-less order event is the modify's ORDER_TRADE_UPDATE, sent as x AMENDMENT.
  uint64_t amending_order_ = 0;
  // GET income: what the account was paid/charged, journaled as the engine reports it (fills'
  // commission and realized PnL, funding settlements), oldest first.
  enum class IncomeType : uint8_t { kRealizedPnl, kCommission, kFundingFee };
  struct IncomeRow {
    std::string account;
    size_t symbol = 0;
    IncomeType type = IncomeType::kCommission;
    Money amount = 0;  // > 0 received, < 0 paid
    int64_t time_ms = 0;
    uint64_t tran_id = 0;
    uint64_t trade_id = 0;  // 0 for funding
  };
  void AddIncome(const std::string& account, size_t symbol, IncomeType type, Money amount,
                 UnixNanos time, uint64_t trade_id);
  std::vector<IncomeRow> income_;
  struct MarginChange {  // one successful POST positionMargin, oldest first
    std::string account;
    size_t symbol = 0;
    int type = 1;  // 1 add, 2 reduce
    PositionSide side = PositionSide::kBoth;  // LONG / SHORT in hedge mode
    Money amount = 0;
    int64_t time_ms = 0;
  };
  std::vector<MarginChange> margin_changes_;
  uint64_t next_tran_id_ = 9000000001;
  // countdownCancelAll: armed timers by account\x1fsymbol.
  std::map<std::string, uint64_t> countdowns_;
  uint64_t key_counter_ = 0;
  int64_t weight_minute_ = -1;
  int64_t weight_used_ = 0;
  UnixNanos started_ = 0;
};

}  // namespace perpgw::sim::aster
