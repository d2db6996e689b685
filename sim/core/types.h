// perpgw-sim data model: instrument specs, accounts, orders, fills and the events the core hands
// to venue modules. Prices/sizes are int64 mantissas at the instrument's scales; money is int64
// at kMoneyScale; no doubles on the order path.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"
#include "adapters/api/types.h"

namespace perpgw::sim {

using Money = int64_t;                      // quote-asset amount in units of 1e-8
inline constexpr int kMoneyScale = 8;
inline constexpr int kRateScale = 10;        // fee/funding/margin ratios in units of 1e-10

// One instrument as a config file or a module's default catalogue spells it (decimal strings).
struct InstrumentSpec {
  std::string symbol;  // the venue's own symbol on the wire ("BTCUSDT", "BTC-USD-PERP")
  std::string base = "BTC";
  std::string quote = "USDT";
  std::string tick = "0.1";
  std::string step = "0.001";
  std::string min_qty = "0.001";
  std::string min_notional = "0";
  std::string mid = "100000";            // initial mid price
  std::string funding_rate = "0.0001";   // per funding interval
  std::string maint_margin_ratio;        // empty = 1 / (2 * max_leverage)
  int max_leverage = 20;
  int funding_interval_hours = 8;
  int64_t multiplier = 1;                // tokens per contract unit (1000 for 1000PEPE)
  int64_t market_id = 0;                 // numeric id for venues that use one (Lighter market index)
};

// A resolved instrument: every decimal turned into a mantissa at a fixed scale.
struct SimInstrument {
  InstrumentSpec spec;
  size_t index = 0;      // position in the venue's catalogue (stable)
  int price_scale = 0;   // fractional digits of tick
  int size_scale = 0;    // fractional digits of step
  int64_t tick = 1;      // at price_scale
  int64_t step = 1;      // at size_scale
  int64_t min_qty = 0;   // at size_scale
  Money min_notional = 0;
  int64_t initial_mid = 0;      // at price_scale, a multiple of tick
  int64_t funding_rate = 0;     // at kRateScale
  int64_t maint_margin_ratio = 0;  // at kRateScale

  const std::string& symbol() const { return spec.symbol; }
  Decimal Price(int64_t mantissa) const { return Decimal::FromUnits(mantissa, price_scale); }
  Decimal Qty(int64_t mantissa) const { return Decimal::FromUnits(mantissa, size_scale); }
  std::string FormatPrice(int64_t mantissa) const;  // trailing zeros trimmed
  std::string FormatQty(int64_t mantissa) const;
  // Wire text → mantissa; errors when the text has more digits than the scale allows.
  absl::StatusOr<int64_t> ParsePrice(std::string_view text) const;
  absl::StatusOr<int64_t> ParseQty(std::string_view text) const;
  // price * qty as money (rounded half-even to 1e-8); qty may be negative.
  Money Notional(int64_t price, int64_t qty) const;
};

absl::StatusOr<SimInstrument> ResolveInstrument(const InstrumentSpec& spec, size_t index);

// Money helpers (1e-8 units).
std::string FormatMoney(Money m);
absl::StatusOr<Money> ParseMoney(std::string_view text);
// Ratio (fee, funding, margin) text → units of 1e-10.
absl::StatusOr<int64_t> ParseRate(std::string_view text);
std::string FormatRate(int64_t rate);
// amount * rate (rate at kRateScale), rounded half-even.
Money ApplyRate(Money amount, int64_t rate);

// A test account: initial collateral, fee rates and the credentials a module checks.
struct AccountSpec {
  std::string id;
  std::string asset = "USDT";
  std::string balance = "100000";
  std::string maker_fee = "0.0002";
  std::string taker_fee = "0.0005";
  std::map<std::string, std::string> credentials;  // module-defined: api_key, api_secret, ...
};

// One market-data update from the generator (or from liquidity taken by a user order).
struct BookChange {
  const SimInstrument* instrument = nullptr;
  uint64_t first_update_id = 0;  // == update_id (one id per change)
  uint64_t update_id = 0;        // per-symbol, strictly increasing
  uint64_t prev_update_id = 0;   // the id before this one; != previously published id after skip_seq
  UnixNanos time = 0;            // sim clock at generation (wall ns by default): use as event time
  bool from_trade = false;       // liquidity consumed by a user order
  std::vector<LevelChange> changes;  // mantissas at instrument scales; size 0 = delete the level
};

// A public trade printed when a user order takes generated liquidity.
struct PublicTrade {
  const SimInstrument* instrument = nullptr;
  uint64_t trade_id = 0;
  int64_t price = 0;
  int64_t qty = 0;
  Side taker_side = Side::kBuy;
  UnixNanos time = 0;
};

// A funding settlement for one symbol (public) — modules publish mark/funding streams from it.
struct FundingEvent {
  const SimInstrument* instrument = nullptr;
  int64_t rate = 0;         // at kRateScale, for the symbol's interval
  int64_t mark_price = 0;   // at price_scale
  UnixNanos time = 0;
  UnixNanos next_time = 0;
};

enum class RejectCode : uint8_t {
  kNone = 0,
  kUnknownAccount,
  kUnknownSymbol,
  kInvalidPrice,       // not positive or not a multiple of tick
  kInvalidQty,         // not positive, not a multiple of step, or below min qty
  kMinNotional,
  kDuplicateClientId,  // an open order of the account already uses this client id
  kPostOnlyViolation,
  kReduceOnly,         // would not reduce the position
  kInsufficientMargin,
  kNotFound,
  kAlreadyClosed,      // cancel of a terminal order
  kInvalidLeverage,
  kPositionSide,       // hedge mode: the order's position side does not fit the account's mode,
                       // or reduce-only was asked (hedge orders close by their position side)
};
const char* ToString(RejectCode c);

// Which position an order / fill / position belongs to. kBoth is one-way mode (the default: one
// signed position per market). Hedge mode (Engine::SetHedgeMode) keeps a LONG (size >= 0) and a
// SHORT (size <= 0) position per market: BUY+LONG opens, SELL+LONG closes, SELL+SHORT opens,
// BUY+SHORT closes.
enum class PositionSide : uint8_t { kBoth = 0, kLong, kShort };
const char* ToString(PositionSide s);  // "BOTH", "LONG", "SHORT"

// When a conditional order fires: the mark at or above / at or below its trigger price.
enum class TriggerWhen : uint8_t { kNone = 0, kAtOrAbove, kAtOrBelow };
// The price a conditional order's trigger compares: the mark (the mid; the default) or the
// instrument's last trade price (public or user trade; the mark until the first trade).
enum class TriggerRef : uint8_t { kMark = 0, kLastPrice };

struct SimOrder {
  uint64_t id = 0;  // venue-wide, increasing; modules format it as the venue does
  std::string client_id;
  std::string account;
  const SimInstrument* instrument = nullptr;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  bool reduce_only = false;
  PositionSide position_side = PositionSide::kBoth;
  int64_t price = 0;        // limit price (0 for market)
  int64_t worst_price = 0;  // market orders: bound (0 = none)
  // Conditional (stop / take-profit) orders: parked until the mark reaches trigger_price from
  // the side `trigger` names, then executed as a new limit or market order. An untriggered
  // order is open (status kOpen, triggered false) but neither rests nor reserves margin.
  TriggerWhen trigger = TriggerWhen::kNone;
  int64_t trigger_price = 0;  // trailing stop: the current trigger (0 until activated)
  TriggerRef trigger_ref = TriggerRef::kMark;
  bool triggered = false;
  // Trailing stop (a conditional market order): trigger_price follows the best reference price
  // since activation (highest for a sell, lowest for a buy) at trailing_bps basis points behind.
  int64_t trailing_bps = 0;       // 0: not trailing
  int64_t activation_price = 0;   // 0: active from placement
  bool trailing_active = false;
  int64_t trailing_extreme = 0;   // best reference price since activation
  // Attached take-profit / stop-loss (on the parent; 0 = none). Each fill of the parent parks
  // reduce-only conditional children for the filled size, one-cancels-other.
  int64_t tp_trigger_price = 0, tp_limit_price = 0;  // limit 0: the child is a market order
  int64_t sl_trigger_price = 0, sl_limit_price = 0;
  TriggerRef tp_trigger_ref = TriggerRef::kMark, sl_trigger_ref = TriggerRef::kMark;
  uint64_t tp_child_id = 0, sl_child_id = 0;  // the parent's current children (0: none)
  uint64_t parent_id = 0;   // a child: the order it is attached to
  uint64_t oco_id = 0;      // a child: its sibling, cancelled when this one fires
  int64_t qty = 0;
  int64_t filled = 0;
  Money filled_notional = 0;  // for the average fill price
  OrderStatus status = OrderStatus::kPendingNew;
  CancelReason reason = CancelReason::kNone;
  RejectCode reject = RejectCode::kNone;
  std::string reason_text;
  UnixNanos created = 0;
  UnixNanos updated = 0;

  int64_t remaining() const { return qty - filled; }
  bool conditional() const { return trigger != TriggerWhen::kNone; }
  bool awaiting_trigger() const { return conditional() && !triggered && open(); }
  bool open() const { return status == OrderStatus::kOpen || status == OrderStatus::kPartiallyFilled; }
  // Hedge mode: SELL+LONG or BUY+SHORT (only shrinks its side's position, like reduce-only).
  bool closes_side() const {
    return (position_side == PositionSide::kLong && side == Side::kSell) ||
           (position_side == PositionSide::kShort && side == Side::kBuy);
  }
  // Volume-weighted average fill price at price_scale + 4 digits, 0 when nothing filled.
  Decimal AvgPrice() const;
};

struct SimFill {
  uint64_t trade_id = 0;
  uint64_t order_id = 0;
  std::string client_id;
  std::string account;
  const SimInstrument* instrument = nullptr;
  Side side = Side::kBuy;
  PositionSide position_side = PositionSide::kBoth;
  int64_t price = 0;
  int64_t qty = 0;
  Money fee = 0;  // positive = paid; negative = rebate
  bool maker = false;
  bool liquidation = false;
  UnixNanos time = 0;
};

struct SimPosition {
  const SimInstrument* instrument = nullptr;
  PositionSide side = PositionSide::kBoth;  // hedge mode: LONG (size >= 0) or SHORT (size <= 0)
  int64_t size = 0;          // signed, at size_scale: > 0 long
  Money entry_notional = 0;  // |cost| of the open size
  Money realized_pnl = 0;    // closed PnL, fees excluded
  Money funding = 0;         // cumulative funding received (negative = paid)
  int leverage = 0;
  int64_t mark_price = 0;    // at price_scale, when the snapshot was taken
  Money unrealized_pnl = 0;
  Money maint_margin = 0;
  // ISOLATED margin (Engine::SetIsolated; off = cross, the default): the margin the position
  // holds on its own (its isolated wallet), moved out of the account's cross wallet as it
  // opens/grows and back pro rata as it shrinks. 0 for cross positions.
  bool isolated = false;
  Money isolated_margin = 0;

  // entry_notional / |size| as a decimal with price_scale + 4 digits (0 when flat).
  Decimal EntryPrice() const;
};

struct SimBalance {
  std::string asset;
  Money wallet = 0;       // deposits + realized PnL - fees + funding (cross + isolated wallets)
  Money unrealized = 0;   // every position
  Money equity = 0;       // wallet + unrealized
  Money initial_margin = 0;  // positions + open orders
  Money maint_margin = 0;    // every position
  // Cross part (equal to the totals above when no market is isolated): the wallet outside the
  // isolated positions, the unrealized PnL and maintenance margin of the cross positions.
  Money cross_wallet = 0;
  Money cross_unrealized = 0;
  Money cross_maint_margin = 0;
  Money isolated_wallet = 0;  // sum of the isolated positions' margins
  // cross wallet + cross unrealized - cross positions' initial margin - open orders' margin
  // (isolated markets' orders included: they reserve from the cross wallet). May be negative.
  Money available = 0;
};

// What changed in an account; modules turn these into their private-stream messages.
struct AccountEvent {
  enum class Kind : uint8_t {
    kOrder,        // order state changed (accepted, rejected, canceled, expired) or, with
                   // has_fill, a fill happened (order holds the state after it)
    kPosition,     // position after a fill, funding or liquidation
    kBalance,      // balance after a fill, funding or liquidation
    kLiquidation,  // a position was closed at mark by the liquidation engine (fill holds it)
    kFunding,      // a funding payment (amount) for position.instrument
  };
  Kind kind = Kind::kOrder;
  std::string account;
  UnixNanos time = 0;
  SimOrder order;
  bool has_fill = false;
  SimFill fill;
  SimPosition position;
  SimBalance balance;
  Money amount = 0;  // kFunding: received (> 0) or paid (< 0)
  // kOrder without a fill: the engine changed an open order by itself — a resting reduce-only
  // order shrunk to a smaller position (order.qty is the new size), or a parked attached
  // child grown by a further fill of its parent. Only with Engine::SetReduceOnlyShrink (the
  // shrink) or attached TP/SL (the growth), so venues that use neither never see it.
  bool modified = false;
};

}  // namespace perpgw::sim
