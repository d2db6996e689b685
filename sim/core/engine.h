// Matching engine and account state for one venue: user orders trade against the generated book,
// positions/balances/fees/funding/liquidations update, and every change is emitted as an
// AccountEvent. Single-threaded (the sim's io thread); no locks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/clock.h"
#include "sim/core/market.h"
#include "sim/core/types.h"

namespace perpgw::sim {

struct PlaceRequest {
  std::string account;
  std::string symbol;
  std::string client_id;  // optional; unique among the account's open orders
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  bool reduce_only = false;
  // kBoth in one-way mode (the default); LONG or SHORT in hedge mode (SetHedgeMode), where a
  // closing order (SELL+LONG, BUY+SHORT) is refused (kReduceOnly) when its size exceeds the
  // side's position, and reduce_only is refused (kPositionSide).
  PositionSide position_side = PositionSide::kBoth;
  int64_t price = 0;        // limit price at price_scale (ignored for market)
  int64_t qty = 0;          // at size_scale
  int64_t worst_price = 0;  // market: never trade beyond this price (0 = no bound)
  // Conditional order: parked until the mark (the mid) is at or above / at or below
  // trigger_price, then placed as above (limit at `price`, or market within worst_price).
  // Refused when the condition already holds ("would immediately trigger").
  TriggerWhen trigger = TriggerWhen::kNone;
  int64_t trigger_price = 0;
  TriggerRef trigger_ref = TriggerRef::kMark;  // what the trigger compares (mark by default)
  // Trailing stop: a conditional market order (type kMarket, trigger/trigger_price unset)
  // whose trigger follows the best reference price since placement, or since the reference
  // first reached activation_price (sell: at or above it; buy: at or below), by trailing_bps
  // basis points (1..9999): sell trigger = highest x (1 - bps/1e4) rounded down to tick,
  // buy = lowest x (1 + bps/1e4) rounded up (never nearer than the rate). Fires like a stop.
  int64_t trailing_bps = 0;
  int64_t activation_price = 0;
  // Attached take-profit / stop-loss (0 = none): each fill parks reduce-only children on the
  // opposite side for the filled size (limit at *_limit_price, or market when 0), which cancel
  // each other when one fires. A buy's take-profit fires at or above its trigger and its
  // stop-loss at or below (a sell's the other way); refused when on the wrong side of each
  // other. A child whose condition already holds when parked fires at the next book change.
  int64_t tp_trigger_price = 0, tp_limit_price = 0;
  int64_t sl_trigger_price = 0, sl_limit_price = 0;
  TriggerRef tp_trigger_ref = TriggerRef::kMark, sl_trigger_ref = TriggerRef::kMark;
};

// code == kNone: accepted; `order` holds its state after immediate matching (open, filled,
// expired for an IOC/FOK/market remainder). Otherwise rejected and order.status == kRejected.
struct PlaceResult {
  RejectCode code = RejectCode::kNone;
  std::string message;
  SimOrder order;
  std::vector<SimFill> fills;
};

// Amend an open order in place (same id): new limit price and/or new total size (0 = keep).
struct AmendRequest {
  std::string account;
  uint64_t order_id = 0;
  int64_t price = 0;  // at price_scale; 0 keeps the price
  int64_t qty = 0;    // new total size at size_scale (must exceed what is filled); 0 keeps it
  // A parked conditional order only (one awaiting its trigger): new trigger price, 0 keeps it.
  // Refused ("would immediately trigger") when the new trigger already holds. Not for
  // trailing stops (their trigger is the engine's).
  int64_t trigger_price = 0;
  // Opt-in, so venues that never asked keep the old refusal ("a conditional order cannot be
  // amended before it triggers"): true lets a parked conditional order be amended (trigger
  // price, limit price, size; same id, no margin, nothing trades).
  bool allow_parked = false;
};

// code == kNone: the order has the new price/size and the same id; at a crossing price it
// traded first (fills), a post-only one is refused instead. Rejected: the order is unchanged
// (order holds its state) and nothing was emitted.
struct AmendResult {
  RejectCode code = RejectCode::kNone;
  std::string message;
  SimOrder order;
  std::vector<SimFill> fills;
};

struct CancelResult {
  RejectCode code = RejectCode::kNone;
  std::string message;
  SimOrder order;
};

struct SimAccount {
  AccountSpec spec;
  Money wallet = 0;
  Money fees_paid = 0;
  int64_t maker_fee = 0;  // at kRateScale
  int64_t taker_fee = 0;
  // By (instrument index, side): side kBoth in one-way mode, kLong / kShort in hedge mode.
  // Flat positions kept (history).
  std::map<std::pair<size_t, PositionSide>, SimPosition> positions;
  bool hedge = false;                       // dual-side positions (Engine::SetHedgeMode)
  std::map<size_t, int> leverage;           // by instrument index; default min(10, max)
  std::set<size_t> isolated;                // instrument indexes in ISOLATED margin mode
};

// Outcome of a margin-type switch or an isolated-margin transfer.
enum class MarginResult : uint8_t {
  kOk = 0,
  kUnknown,          // unknown account or symbol
  kNoChange,         // already in that margin mode
  kHasPosition,      // switch refused: the market has a position
  kHasOpenOrders,    // switch refused: the market has open orders (parked conditionals too)
  kNotIsolated,      // transfer on a cross market
  kNoPosition,       // transfer on a flat isolated market
  kBadAmount,        // zero amount
  kInsufficient,     // add: more than the cross available balance; reduce: more than removable
};

// Outcome of a position-mode (one-way / hedge) switch.
enum class PositionModeResult : uint8_t {
  kOk = 0,
  kUnknown,        // unknown account
  kNoChange,       // already in that mode
  kHasOpenOrders,  // refused: the account has open orders (any market, parked conditionals too)
  kHasPosition,    // refused: the account has a position (any market)
};

class Engine {
 public:
  using EventSink = std::function<void(const AccountEvent&)>;
  using TradeSink = std::function<void(const PublicTrade&)>;

  Engine(Market& market, const Clock& clock);

  void SetEventSink(EventSink s) { events_ = std::move(s); }
  void SetTradeSink(TradeSink s) { trades_ = std::move(s); }
  // Opt-in (off by default, so venues that never asked keep their behaviour): after every
  // position change, a resting reduce-only order whose remaining size exceeds what it can still
  // reduce shrinks to it (an order event with `modified`), and is cancelled (reason
  // kReduceOnly) when the position is flat or on its own side. Backpack's orderModified.
  void SetReduceOnlyShrink(bool on) { reduce_only_shrink_ = on; }
  // The instrument's last trade price (public print or user fill); the mark before any trade.
  int64_t LastPrice(size_t i) const;

  absl::Status AddAccount(const AccountSpec& spec);
  const SimAccount* account(std::string_view id) const;
  std::vector<std::string> account_ids() const;

  PlaceResult Place(const PlaceRequest& req);
  CancelResult Cancel(std::string_view account, uint64_t order_id);
  AmendResult Amend(const AmendRequest& req);
  CancelResult CancelByClientId(std::string_view account, std::string_view client_id);
  // Cancels every open order of the account (on `symbol` only when non-empty).
  std::vector<SimOrder> CancelAll(std::string_view account, std::string_view symbol = {});

  const SimOrder* FindOrder(uint64_t order_id) const;
  // Open order first, else the most recent order with that client id.
  const SimOrder* FindByClientId(std::string_view account, std::string_view client_id) const;
  std::vector<const SimOrder*> OpenOrders(std::string_view account,
                                          std::string_view symbol = {}) const;
  std::vector<const SimOrder*> Orders(std::string_view account) const;  // incl. terminal
  std::vector<SimFill> Fills(std::string_view account) const;

  SimBalance Balance(std::string_view account) const;
  // Non-flat positions, marked to the current mid.
  std::vector<SimPosition> Positions(std::string_view account) const;
  // One-way: side kBoth. Hedge: the LONG or SHORT position (kBoth there: flat).
  SimPosition Position(std::string_view account, size_t instrument,
                       PositionSide side = PositionSide::kBoth) const;
  // Hedge mode (dual-side positions), opt-in per account; one-way is the default, so venues
  // that never call this are unchanged. Account-wide (Binance-family): refused while the
  // account has any open order or any position.
  PositionModeResult SetHedgeMode(std::string_view account, bool hedge);
  bool HedgeMode(std::string_view account) const;
  int Leverage(std::string_view account, size_t instrument) const;
  absl::Status SetLeverage(std::string_view account, std::string_view symbol, int leverage);
  // ISOLATED margin, opt-in per account and instrument (cross by default, so venues that never
  // call this are unchanged). An isolated position holds its own margin: the initial margin of
  // what it opens (fill notional / leverage) moves from the cross wallet into it, a reduction
  // gives back its share pro rata (all of it when flat), realized PnL and fees settle in the
  // cross wallet, funding in the isolated margin. It liquidates on its own when isolated margin
  // + unrealized PnL falls below its maintenance margin; the cross account ignores it (and it
  // ignores the cross account). Refused while the market has a position or open orders.
  MarginResult SetIsolated(std::string_view account, std::string_view symbol, bool isolated);
  bool Isolated(std::string_view account, size_t instrument) const;
  // Moves `delta` (> 0 add, < 0 reduce) between the cross wallet and the isolated position of
  // `symbol`. Add: at most the available balance. Reduce: at most what leaves isolated margin +
  // min(0, unrealized PnL) >= the position's initial margin at mark (Binance-family rule).
  // Hedge mode: `side` names the LONG or SHORT position.
  MarginResult AdjustIsolatedMargin(std::string_view account, std::string_view symbol, Money delta,
                                    PositionSide side = PositionSide::kBoth);
  // Margin reserved by the account's open orders on one instrument (every instrument: SIZE_MAX).
  Money OpenOrderMargin(std::string_view account, size_t instrument) const;

  // Called after every generated change on instrument i: resting orders the market moved
  // through fill as maker; when the mid moved, accounts below maintenance margin liquidate.
  void OnBookChange(size_t i, bool from_trade);
  // The generated flow's own print: a taker from outside the sim's accounts takes up to `qty`
  // of the generated book's best level on the side it hits (never a user order: those rest
  // outside the generated book), publishes the trade and the consumed level. False when that
  // side is empty.
  bool PrintMarketTrade(size_t i, Side taker_side, int64_t qty);
  // Settles funding on instrument i at `rate` (kRateScale) and the current mark.
  void ApplyFunding(size_t i, int64_t rate);
  // Closes the account's positions (on one instrument, or all when symbol is empty) at mark.
  // Returns the number of positions closed.
  int Liquidate(std::string_view account, std::string_view symbol = {});

 private:
  SimAccount* MutableAccount(std::string_view id);
  SimOrder& NewOrder(const PlaceRequest& req, const SimInstrument& in);
  PlaceResult Reject(SimOrder& o, RejectCode code, std::string message);
  // Margin, crossing, matching and resting of an order that is being placed now (a fresh one,
  // or a conditional one whose trigger fired).
  PlaceResult Execute(SimAccount& a, SimOrder& o);
  // Takes the opposite side for the order's remaining size, best price first, up to `bound`
  // (0: none); FOK takes all or nothing. Fills applied, the book consumed and published.
  void TakeLiquidity(SimAccount& a, SimOrder& o, int64_t bound, std::vector<SimFill>* fills);
  // Fires the conditional orders of instrument i whose trigger the mark has reached.
  void CheckTriggers(size_t i, bool last_price_only = false);
  int64_t RefPrice(size_t i, TriggerRef ref) const;
  // Trailing stop: moves the extreme / trigger with the reference price `ref`.
  void Trail(SimOrder& o, int64_t ref) const;
  // After a position change: resting reduce-only orders shrink / cancel (SetReduceOnlyShrink).
  void ShrinkReduceOnly(SimAccount& a, size_t i);
  // After a fill of `parent` carrying TP/SL: park or grow its children by `qty`.
  void AttachChildren(SimOrder& parent, int64_t qty);
  void Park(SimOrder& o);
  // Qty of a fill for `o` after reduce-only trimming.
  int64_t ReduceOnlyCap(const SimAccount& a, const SimOrder& o) const;
  void ApplyFill(SimAccount& a, SimOrder& o, int64_t price, int64_t qty, bool maker,
                 std::vector<SimFill>* out);
  void SettleFill(SimAccount& a, const SimInstrument& in, Side side, PositionSide ps,
                  int64_t price, int64_t qty, Money fee);
  // True when the order only shrinks a position: reduce-only, or a hedge-mode close.
  static bool Reduces(const SimOrder& o) { return o.reduce_only || o.closes_side(); }
  void Finish(SimOrder& o, OrderStatus status, CancelReason reason);
  void Rest(SimOrder& o);
  void Unrest(const SimOrder& o);
  void EmitOrder(const SimOrder& o, const SimFill* fill);
  void EmitAccount(const SimAccount& a, size_t instrument, PositionSide side = PositionSide::kBoth);
  SimPosition Marked(const SimAccount& a, const SimPosition& p) const;
  Money OpenOrderMargin(const SimAccount& a, size_t only = SIZE_MAX) const;
  void CheckLiquidation(size_t i);

  Market& market_;
  const Clock& clock_;
  EventSink events_;
  TradeSink trades_;
  std::map<std::string, SimAccount, std::less<>> accounts_;
  std::unordered_map<uint64_t, std::unique_ptr<SimOrder>> orders_;
  std::map<std::string, std::vector<SimFill>, std::less<>> account_fills_;
  std::vector<uint64_t> order_seq_;          // order ids in creation order
  // Indexes so the order path never scans history: open orders by id, and client ids
  // ("account\x1fcid") of open / most recent orders.
  std::map<uint64_t, SimOrder*> open_orders_;
  std::unordered_map<std::string, uint64_t> cid_open_, cid_latest_;
  static std::string CidKey(std::string_view account, std::string_view cid);
  // Resting orders per instrument: price → ids in time priority.
  struct Resting {
    std::multimap<int64_t, uint64_t> buys, sells;
  };
  std::vector<Resting> resting_;
  std::vector<std::set<uint64_t>> awaiting_trigger_;  // per instrument: parked conditional ids
  bool in_triggers_ = false;
  std::vector<int64_t> last_mid_;  // per instrument: mid at the last liquidation check
  std::vector<int64_t> last_trade_;  // per instrument: last trade price (0: none yet)
  bool reduce_only_shrink_ = false;
  uint64_t next_order_id_ = 1000001;
  uint64_t next_trade_id_ = 5000001;
};

}  // namespace perpgw::sim
