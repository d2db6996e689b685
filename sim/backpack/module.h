// perpgw-sim's Backpack module: the /api/v1 + /wapi/v1 REST API (Ed25519-signed private calls)
// and the single-endpoint WebSocket (SUBSCRIBE frames, public and signed account streams) on top
// of the sim core's market and engine.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/core/candles.h"
#include "sim/core/venue_module.h"

namespace perpgw::sim {
class JsonWriter;
}  // namespace perpgw::sim

namespace perpgw::sim::backpack {

std::unique_ptr<VenueModule> MakeModule();

// Test accounts (throwaway Ed25519 seeds from the signing vectors; published in the endpoints
// file as credentials api_key = base64 public key, api_secret = base64 32-byte seed).
inline constexpr char kAccount1[] = "backpack-1";
inline constexpr char kAccount2[] = "backpack-2";
inline constexpr char kSeed1[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";  // bytes 0..31
inline constexpr char kSeed2[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";  // RFC 8032 T1

struct ApiError;
struct Params;

class BackpackModule final : public VenueModule {
 public:
  BackpackModule();
  ~BackpackModule() override;

  std::string name() const override { return "backpack"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override;
  std::vector<AccountSpec> DefaultAccounts() const override;
  void Attach(SimContext& ctx) override;
  void DescribeEndpoints(VenueEndpoints& out) const override;
  // backpack.md: the server pings every 60 s and the client must pong; the spec gives no
  // deadline, so a missing pong is not punished here.
  WsKeepalive Keepalive() const override { return {std::chrono::seconds(60), {}, {}}; }

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

 private:
  // ---- per-symbol market state
  static constexpr int kCadences = 3;  // aggregated depth: 200, 600, 1000 ms
  struct Batch {                       // depth changes merged for one cadence
    bool open = false;
    uint64_t first = 0, last = 0;
    UnixNanos last_time = 0;
    std::map<int64_t, int64_t> bids, asks;  // price → absolute size (0 = delete)
  };
  struct Stats {  // rolling "24 h" ticker: synthetic baseline + sim trades
    int64_t open = 0, high = 0, low = 0, last = 0;
    int64_t volume = 0;  // at size_scale
    Money quote_volume = 0;
    int64_t trades = 0;
  };
  struct FundingRow {
    int64_t rate = 0;
    UnixNanos time = 0;
  };
  // Klines are built from what the sim prices (every generated mid and every public trade) on
  // their own series rather than SimContext::Candles, which is one-minute only, keeps a week and
  // carries quiet minutes. Quiet periods: a second/minute in which nothing was priced gets no
  // candle here (QuietPeriods::kSkip), where the core's default carries the close forward. The
  // spec (backpack.md) and its samples say nothing on quiet periods; the venue's OpenAPI Kline
  // makes open/high/low/close optional while start/end/volume/quoteVolume/trades are required,
  // i.e. the venue does not put a carried-forward price into a bucket without prints. Of the two
  // readings the core offers, no candle is the one that invents no price (and the one this
  // module always had); a priceless row (volume "0", no open/high/low/close) would be a third
  // reading the spec does not confirm and clients (ccxt parseOHLCV) would read as NaN prices.
  static constexpr CandleSeries::Options kSecondCandles{
      CandleSeries::kSecondMs, 3600, CandleSeries::QuietPeriods::kSkip};  // the last hour
  static constexpr CandleSeries::Options kMinuteCandles{
      CandleSeries::kMinuteMs, 100000, CandleSeries::QuietPeriods::kSkip};  // ~69 days
  struct SymbolState {
    std::array<Batch, kCadences> batch;
    std::array<int, kCadences> agg_listeners{};
    uint64_t last_id = 0;            // last update id seen from the generator
    std::array<int64_t, 4> bbo{};    // bid px, bid qty, ask px, ask qty last pushed
    Stats stats;
    std::vector<FundingRow> funding;  // ascending
    // Kline candles (core CandleSeries): 1s for interval 1s, 1m rolled up for all others.
    CandleSeries candles_1s{kSecondCandles};
    CandleSeries candles_1m{kMinuteCandles};
    // Trade ids are handed out on first sight, from const JSON builders too (mutable).
    mutable uint64_t trade_seq = 0;  // last public trade id handed out on this symbol
    // engine trade id → this symbol's sequential public trade id (stream `t`, REST `id`)
    mutable std::map<uint64_t, uint64_t> trade_ids;
  };

  // ---- WebSocket
  struct ConnState {
    std::set<std::string> streams;                      // public stream names
    std::map<std::string, std::string> private_streams;  // account.* name → account
  };
  using ConnMap = std::map<uint64_t, std::weak_ptr<WsConn>>;

  // ---- account-side state the engine does not keep
  struct PositionTrack {
    uint64_t id = 0;   // position id, new each time a position opens from flat
    int64_t size = 0;  // last size seen
    int64_t record = -1;  // index of the open row in position_history_ (-1: none)
  };
  // One row of /wapi/v1/history/position: a position from its opening fill to flat.
  struct PositionRecord {
    uint64_t id = 0;
    std::string account;
    size_t symbol = 0;
    UnixNanos opened = 0, closed = 0;  // closed == 0: still open
    int64_t run_size = 0;              // size after the fills seen so far
    Money fees = 0;
    int64_t closed_volume = 0;  // base quantity closed (at size_scale)
    int64_t liquidated = 0;     // base quantity closed by the liquidation engine
    Money pnl_base = 0, funding_base = 0;  // engine's cumulative values when it opened
    int64_t last_price = 0;                // last fill price (closingPrice once closed)
    // frozen when it closes (open rows read the engine's live position)
    Money realized = 0, funding = 0;
    int64_t mark = 0;
    std::string entry = "0";
  };
  struct OrderMeta {
    std::string stp = "RejectTaker";  // selfTradePrevention as sent
    std::string quote_qty;            // quoteQuantity as sent (market-by-quote orders only)
    // Trigger orders (triggerPrice + triggerQuantity): triggerBy as sent ("" = not sent), the
    // quantity as sent (the engine may trim a reduce-only order when it fires), and when the
    // trigger fired (0 = not yet; also marks that triggerPlaced / triggerFailed went out).
    std::string trigger_by;
    int64_t trigger_qty = 0;
    UnixNanos triggered_at = 0;
    // Attached take-profit / stop-loss (§10.1 takeProfit* / stopLoss*): their triggerBy as sent
    // ("" = not sent), echoed on the parent (REST takeProfitTriggerBy, stream d / g).
    std::string tp_trigger_by, sl_trigger_by;
  };
  struct FundingPayment {
    std::string account, symbol;
    Money amount = 0;
    int64_t rate = 0;
    UnixNanos time = 0;
  };

  // module.cpp
  int64_t NowMs() const;
  int64_t MaxLeverage(const SimInstrument& in) const;
  void ApplyLeverageLimit(const std::string& account, int limit);
  // rest.cpp
  void Route(const HttpRequest& req, HttpResponse& resp);
  void Public(const std::string& path, const HttpRequest& req, const Params& p,
              HttpResponse& resp);
  void Private(const std::string& instruction, const AccountSpec& acct, const HttpRequest& req,
               const Params& p, HttpResponse& resp);
  void OrderExecute(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void OrderCancel(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void OrderQuery(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  std::string MarketJson(const SimInstrument& in) const;
  std::string DepthJson(size_t i, size_t limit) const;
  std::string MarkPriceJson(size_t i) const;
  std::string TickerJson(size_t i) const;
  std::string OpenInterestJson(size_t i) const;
  std::string OrderJson(const SimOrder& o) const;
  std::string HistoryOrderJson(const SimOrder& o) const;
  // triggerBy / triggerPrice / triggerQuantity (+ triggeredAt): null unless a trigger order.
  void WriteTriggerFields(JsonWriter& w, const SimOrder& o, bool with_triggered_at) const;
  // stopLoss* (take_profit false) or takeProfit* {LimitPrice, TriggerBy, TriggerPrice}: null
  // unless the order carries that attached order.
  void WriteTpSlFields(JsonWriter& w, const SimOrder& o, bool take_profit) const;
  std::string FillJson(const SimFill& f) const;
  std::string PositionJson(const std::string& account, const SimPosition& p) const;
  std::string CollateralJson(const std::string& account) const;
  std::string AccountJson(const AccountSpec& acct) const;
  void MaxOrderQuantity(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void PositionHistory(const AccountSpec& acct, const Params& p, HttpResponse& resp);
  void Klines(const SimInstrument& in, const Params& p, HttpResponse& resp);
  // The series a kline interval rolls up from: 1s candles for 1s, 1m candles otherwise.
  const CandleSeries& KlineSeries(size_t i, const CandleInterval& iv) const;
  void PushKlines();
  // This symbol's sequential public trade id for an engine trade id (assigned on first sight:
  // the engine's ids are global and increasing, the venue's count per symbol).
  uint64_t VenueTradeId(size_t i, uint64_t engine_trade_id) const;
  void TrackFill(const std::string& account, const SimFill& f);
  // Cancels the account's parked take-profit / stop-loss children on symbol i once the position
  // they would close is flat (or on their own side): see OnAccountEvent.
  void CancelOrphanTpSl(const std::string& account, size_t i);
  Money OpenInterest(size_t i) const;  // base units at size_scale, across accounts
  // ws.cpp
  struct StreamRef {
    enum Kind : uint8_t {
      kInvalid, kDepth, kAggDepth, kBookTicker, kTrade, kMarkPrice, kTicker, kOpenInterest,
      kKline,   // kline.<interval>.<symbol>: the open candle every second, X:true on close
      kSilent,  // accepted, never sent (liquidation, rfqUpdate)
      kOrderUpdate, kPositionUpdate,
    } kind = kInvalid;
    int symbol = -1;  // -1: all symbols (private streams without a symbol suffix)
    int cadence = 0;  // kAggDepth
  };
  StreamRef ParseStream(std::string_view name) const;
  void HandleSubscribe(const WsConnPtr& conn, ConnState& st, const std::vector<std::string>& names,
                       const std::vector<std::string>* signature);
  void Subscribe(const WsConnPtr& conn, ConnState& st, const std::string& name,
                 const StreamRef& ref);
  void Unsubscribe(const WsConnPtr& conn, ConnState& st, const std::string& name);
  void SendError(const WsConnPtr& conn, int code, const std::string& message);
  void Publish(const std::string& stream, const std::string& data);
  bool HasListeners(const std::string& stream) const;
  void PublishPrivate(const std::string& account, const char* kind, const std::string& symbol,
                      const std::string& data);
  void FlushAggregated(int cadence);
  void FlushBatch(size_t i, int cadence);
  void PushMarkPrices();
  void PushTickers();
  void PushOpenInterest();
  void PushBookTicker(size_t i, uint64_t update_id, UnixNanos t);
  std::string WsMarkPrice(size_t i, UnixNanos t) const;
  std::string OrderUpdateJson(const char* event, const SimOrder& o, const SimFill* fill,
                              UnixNanos t) const;
  std::string PositionUpdateJson(const char* event, const std::string& account,
                                 const SimPosition& p, UnixNanos t) const;
  void SendPositionSnapshot(const WsConnPtr& conn, const std::string& account,
                            const std::string& stream, int symbol);

  SimContext* ctx_ = nullptr;
  std::vector<SymbolState> symbols_;
  std::unordered_map<std::string, ConnMap> subs_;                 // public stream → conns
  std::map<std::string, std::map<std::string, ConnMap>> private_;  // account → stream → conns
  std::map<std::string, int64_t> kline_last_;  // kline stream → bucket start last pushed
  std::map<std::string, int> leverage_limit_;                     // account → leverageLimit
  std::map<std::string, PositionTrack> positions_;                // account\x1fsymbol
  std::unordered_map<uint64_t, OrderMeta> order_meta_;            // engine order id
  std::vector<FundingPayment> funding_payments_;
  std::string pending_stp_;  // selfTradePrevention of the order being placed (events fire inside)
  std::string pending_quote_;  // quoteQuantity of the order being placed ("" when by quantity)
  std::string pending_trigger_by_;  // triggerBy of the order being placed ("" when not sent)
  std::string pending_tp_by_, pending_sl_by_;  // its takeProfitTriggerBy / stopLossTriggerBy
  std::vector<PositionRecord> position_history_;  // in opening order
  uint64_t next_position_id_ = 5400000001ULL;
  UnixNanos started_ = 0;
};

}  // namespace perpgw::sim::backpack
