// Lighter module account payloads (lighter.md §8): order, trade, position, account and
// user_stats objects as the REST endpoints and the account channels carry them. Amounts are
// decimal strings in human units; times are ms; order indexes >= 2^48.
#include <algorithm>
#include <cstdlib>
#include <set>

#include "sim/lighter/module.h"

namespace perpgw::sim::lighter {
namespace {

// a * 10^scale / b, truncated toward zero, as a decimal with `scale` (1..8) digits ("12.34").
std::string Ratio(__int128 a, __int128 b, int scale) {
  if (b == 0) return "0";
  __int128 p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  const __int128 q = a * p / b;
  constexpr __int128 kMax = int64_t{1} << 62;
  if (q > kMax || q < -kMax) return "0";  // out of any sensible range
  return Decimal::FromUnits(static_cast<int64_t>(q), scale).ToString();
}

const char* TifText(int tif) {
  return tif == 0 ? "immediate-or-cancel" : tif == 2 ? "post-only" : "good-till-time";
}

// lighter.md §7/§8 order types by their signed Type (-1: the engine's liquidation orders).
const char* TypeText(int type) {
  switch (type) {
    case 1: return "market";
    case 2: return "stop-loss";
    case 3: return "stop-loss-limit";
    case 4: return "take-profit";
    case 5: return "take-profit-limit";
    case -1: return "liquidation";
    default: return "limit";
  }
}

}  // namespace

LighterModule::OrderMeta& LighterModule::MetaFor(const SimOrder& o) {
  auto it = meta_.find(o.id);
  if (it != meta_.end()) return it->second;
  // An order the module did not place (the liquidation engine's).
  OrderMeta m;
  m.order_index = kOrderIndexBase + static_cast<int64_t>(o.id);
  m.account_index = AccountIndexOf(o.account);
  m.seq = next_seq_++;
  const bool liquidation =
      o.reason == CancelReason::kLiquidation || o.client_id.rfind("liquidation-", 0) == 0;
  m.type = liquidation ? -1 : o.type == OrderType::kMarket ? 1 : 0;
  m.tif = o.tif == TimeInForce::kIoc || o.type == OrderType::kMarket ? 0
          : o.tif == TimeInForce::kPostOnly                          ? 2
                                                                     : 1;
  m.price = o.price != 0 ? o.price : o.worst_price;
  if (o.conditional() && !liquidation) {
    // The engine's SL / TP child of a grouped order (OTO / OTOCO): a stop protects against the
    // price moving against its side (a sell stop fires at or below), a take-profit the other
    // way; market children are types 2 / 4, limit ones 3 / 5; the group's child expiry.
    const bool stop = (o.side == Side::kSell) == (o.trigger == TriggerWhen::kAtOrBelow);
    const bool market = o.type == OrderType::kMarket;
    m.type = stop ? (market ? 2 : 3) : (market ? 4 : 5);
    m.trigger_price = o.trigger_price;
    auto exp = child_expiry_.find(o.parent_id);
    if (exp != child_expiry_.end()) m.order_expiry = exp->second;
  }
  return meta_.emplace(o.id, m).first->second;
}

// The venue's order status strings (its "Data Structures" list, as the adapter's
// MapOrderStatus / MapCancelReason read them).
std::string LighterModule::OrderStatusText(const SimOrder& o, const OrderMeta& m) const {
  switch (o.status) {
    case OrderStatus::kPendingNew: return "pending";
    case OrderStatus::kOpen:
    case OrderStatus::kPartiallyFilled: return "open";
    case OrderStatus::kFilled: return "filled";
    case OrderStatus::kCanceled:
      if (!m.status_override.empty()) return m.status_override;
      switch (o.reason) {
        case CancelReason::kLiquidation: return "canceled-liquidation";
        case CancelReason::kReduceOnly: return "canceled-reduce-only";
        default: return "canceled";
      }
    case OrderStatus::kExpired:
      // An IOC / market remainder: market orders stopped by their worst price, limit IOC
      // orders expired at once.
      // Stop-loss / take-profit (types 2, 4) execute as market orders once triggered.
      return m.type == 1 || m.type == 2 || m.type == 4 ? "canceled-too-much-slippage"
                                                       : "canceled-expired";
    case OrderStatus::kRejected:
      switch (o.reject) {
        case RejectCode::kPostOnlyViolation: return "canceled-post-only";
        case RejectCode::kReduceOnly: return "canceled-reduce-only";
        case RejectCode::kInsufficientMargin: return "canceled-margin-not-allowed";
        default: return "canceled-invalid-balance";  // off-grid, below minimums, duplicate
      }
    default: return "canceled";
  }
}

std::string LighterModule::OrderJson(const SimOrder& o) {
  const SimInstrument& in = *o.instrument;
  const OrderMeta& m = MetaFor(o);
  const int64_t initial = m.carried_qty + o.qty;
  const int64_t filled = m.carried_qty + o.filled;
  const Money quote = m.carried_notional + o.filled_notional;
  const int64_t remaining = o.open() ? o.remaining() : 0;
  const std::string status = OrderStatusText(o, m);
  // trigger_status: lighter.md names the field only. The SDK's Order model lists na / ready /
  // mark-price / twap / parent-order; the reading picked: "mark-price" while an SL/TP order
  // waits for the mark, "ready" once it fired (trigger_time = when), "na" for other orders.
  const bool has_trigger = m.trigger_price != 0;
  const char* trigger_status = !has_trigger           ? "na"
                               : o.awaiting_trigger() ? "mark-price"
                                                      : "ready";
  const int64_t trigger_time =
      has_trigger && !o.awaiting_trigger() && o.status != OrderStatus::kCanceled
          ? o.updated / 1'000'000
          : 0;
  JsonWriter w;
  w.BeginObject()
      .Field("order_index", m.order_index)
      .Field("client_order_index", m.client_index)
      .Field("order_id", std::to_string(m.order_index))
      .Field("client_order_id", std::to_string(m.client_index))
      .Field("market_index", in.spec.market_id)
      .Field("owner_account_index", m.account_index)
      .Field("initial_base_amount", in.FormatQty(initial))
      .Field("price", in.FormatPrice(m.price))
      .Field("nonce", m.nonce)
      .Field("remaining_base_amount", in.FormatQty(remaining))
      .Field("is_ask", o.side == Side::kSell)
      .Field("base_size", initial)
      .Field("base_price", m.price)
      .Field("filled_base_amount", in.FormatQty(filled))
      .Field("filled_quote_amount", FormatMoney(quote))
      .Field("side", o.side == Side::kSell ? "sell" : "buy")
      .Field("type", TypeText(m.type))
      .Field("time_in_force", TifText(m.tif))
      .Field("reduce_only", o.reduce_only)
      .Field("trigger_price", m.trigger_price != 0 ? in.FormatPrice(m.trigger_price) : "0")
      .Field("order_expiry", m.order_expiry)
      .Field("status", status)
      .Field("trigger_status", trigger_status)
      .Field("trigger_time", trigger_time)
      .Field("parent_order_index",
             o.parent_id != 0 ? kOrderIndexBase + static_cast<int64_t>(o.parent_id) : int64_t{0})
      .Field("block_height", int64_t{0})
      .Field("timestamp", o.created / 1'000'000)
      .Field("created_at", o.created / 1'000'000)
      .Field("updated_at", o.updated / 1'000'000)
      .EndObject();
  return w.Take();
}

std::string LighterModule::TradeJson(const SimFill& f) {
  const SimInstrument& in = *f.instrument;
  const OrderMeta* m = nullptr;
  if (const SimOrder* o = ctx_->engine().FindOrder(f.order_id)) m = &MetaFor(*o);
  const int64_t ours = AccountIndexOf(f.account);
  const int64_t order_index =
      m != nullptr ? m->order_index : kOrderIndexBase + static_cast<int64_t>(f.order_id);
  const int64_t client_index = m != nullptr ? m->client_index : 0;
  const bool we_ask = f.side == Side::kSell;
  // The other side is the market maker behind the generated book (its order index: 0).
  const bool maker_is_ask = f.maker ? we_ask : !we_ask;
  const std::string fee = FormatMoney(f.fee);
  JsonWriter w;
  w.BeginObject()
      .Field("trade_id", static_cast<int64_t>(f.trade_id))
      .Field("tx_hash", "")
      .Field("type", f.liquidation ? "liquidation" : "trade")
      .Field("market_id", in.spec.market_id)
      .Field("size", in.FormatQty(f.qty))
      .Field("price", in.FormatPrice(f.price))
      .Field("usd_amount", FormatMoney(in.Notional(f.price, f.qty)))
      .Field("ask_id", we_ask ? order_index : int64_t{0})
      .Field("bid_id", we_ask ? int64_t{0} : order_index)
      .Field("ask_client_id", we_ask ? client_index : int64_t{0})
      .Field("bid_client_id", we_ask ? int64_t{0} : client_index)
      .Field("ask_account_id", we_ask ? ours : kMarketMakerAccount)
      .Field("bid_account_id", we_ask ? kMarketMakerAccount : ours)
      .Field("is_maker_ask", maker_is_ask)
      .Field("block_height", int64_t{0})
      .Field("timestamp", f.time / 1'000'000)
      // Fees in USDC for the role that paid them: ours, the market maker's are 0.
      .Field("taker_fee", f.maker ? "0" : fee)
      .Field("maker_fee", f.maker ? fee : "0")
      .EndObject();
  return w.Take();
}

std::string LighterModule::PositionJson(const SimPosition& p, const std::string& account) const {
  const SimInstrument& in = *p.instrument;
  const Engine& e = ctx_->engine();
  const int lev = std::max(1, p.leverage > 0 ? p.leverage : e.Leverage(account, in.index));
  const Money value = std::llabs(in.Notional(p.mark_price, p.size));
  int64_t open_orders = 0;
  for (const SimOrder* o : e.OpenOrders(account, in.symbol())) {
    (void)o;
    ++open_orders;
  }
  JsonWriter w;
  w.BeginObject()
      .Field("market_id", in.spec.market_id)
      .Field("symbol", in.symbol())
      .Field("initial_margin_fraction", Ratio(100, lev, 2))  // percent: 100 / leverage
      .Field("open_order_count", open_orders)
      .Field("pending_order_count", int64_t{0})
      .Field("position_tied_order_count", int64_t{0})
      .Field("sign", p.size < 0 ? int64_t{-1} : int64_t{1})
      .Field("position", in.FormatQty(std::llabs(p.size)))
      .Field("avg_entry_price", p.size == 0 ? "0" : p.EntryPrice().ToNormalizedString())
      .Field("position_value", FormatMoney(value))
      .Field("unrealized_pnl", FormatMoney(p.unrealized_pnl))
      .Field("realized_pnl", FormatMoney(p.realized_pnl))
      .Field("liquidation_price", "0")  // not computed by the sim (cross margin, many positions)
      .Field("total_funding_paid_out", FormatMoney(-p.funding))
      .Field("margin_mode", p.isolated ? int64_t{1} : int64_t{0})  // 0 cross, 1 isolated
      .Field("allocated_margin", p.isolated ? FormatMoney(p.isolated_margin) : "0")
      .EndObject();
  return w.Take();
}

std::string LighterModule::AccountJson(const std::string& account, int64_t account_index) const {
  const Engine& e = ctx_->engine();
  SimBalance b = e.Balance(account);
  JsonWriter w;
  w.BeginObject()
      .Field("code", int64_t{200})
      .Field("total", int64_t{1})
      .Key("accounts")
      .BeginArray()
      .BeginObject()
      .Field("account_type", int64_t{0})
      .Field("index", account_index)
      .Field("account_index", account_index)
      .Field("l1_address", L1Of(account_index))
      .Field("cancel_all_time",
             scheduled_.count(account_index) ? scheduled_.at(account_index) : int64_t{0})
      .Field("total_order_count", static_cast<int64_t>(e.OpenOrders(account).size()))
      .Field("pending_order_count", int64_t{0})
      .Field("status", int64_t{1})
      .Field("collateral", FormatMoney(b.wallet))
      .Field("available_balance", FormatMoney(b.available))
      .Field("total_asset_value", FormatMoney(b.equity))
      .Field("cross_asset_value", FormatMoney(b.equity))
      .Key("positions")
      .BeginArray();
  std::set<int64_t> shown;
  for (const SimPosition& p : e.Positions(account)) {
    shown.insert(p.instrument->spec.market_id);
    w.Raw(PositionJson(p, account));
  }
  if (auto it = leverage_markets_.find(account); it != leverage_markets_.end()) {
    for (int64_t id : it->second) {
      const SimInstrument* in = ByMarketId(id);
      if (in == nullptr || shown.count(id)) continue;
      SimPosition flat;
      flat.instrument = in;
      w.Raw(PositionJson(flat, account));
    }
  }
  w.EndArray().Key("shares").BeginArray().EndArray().EndObject().EndArray().EndObject();
  return w.Take();
}

std::string LighterModule::StatsJsonFor(const std::string& account) const {
  const Engine& e = ctx_->engine();
  SimBalance b = e.Balance(account);
  Money exposure = 0;
  for (const SimPosition& p : e.Positions(account)) {
    exposure += std::llabs(p.instrument->Notional(p.mark_price, p.size));
  }
  JsonWriter w;
  w.BeginObject()
      .Field("collateral", FormatMoney(b.wallet))
      .Field("portfolio_value", FormatMoney(b.equity))
      .Field("leverage", Ratio(exposure, b.equity, 2))
      .Field("available_balance", FormatMoney(b.available))
      .Field("margin_usage", Ratio(static_cast<__int128>(b.initial_margin) * 100, b.equity, 2))
      .EndObject();
  return w.Take();
}

std::string LighterModule::AssetsJson(const std::string& account) const {
  // Perps collateral is USDC (asset 3, lighter.md §8); the sim holds no spot assets. balance =
  // the collateral; locked_balance = the initial margin held by positions and open orders
  // (the docs leave "locked" undefined for perps collateral: this is the sim's reading).
  SimBalance b = ctx_->engine().Balance(account);
  const Money locked = std::clamp<Money>(b.initial_margin, 0, std::max<Money>(b.wallet, 0));
  JsonWriter w;
  w.BeginObject()
      .Key("3")
      .BeginObject()
      .Field("symbol", "USDC")
      .Field("asset_id", int64_t{3})
      .Field("balance", FormatMoney(b.wallet))
      .Field("locked_balance", FormatMoney(locked))
      .EndObject()
      .EndObject();
  return w.Take();
}

std::string LighterModule::FundingHistoryJson(const AccountFunding& f) const {
  JsonWriter w;
  w.BeginObject()
      .Field("timestamp", f.time_s)
      .Field("market_id", f.market_id)
      .Field("funding_id", f.id)
      .Field("change", FormatMoney(f.change))
      .Field("rate", FormatRate(f.rate))
      .Field("position_size", f.position_size)
      .Field("position_side", f.long_side ? "long" : "short")
      .EndObject();
  return w.Take();
}

std::string LighterModule::AccountAllBody(const std::string& account, int64_t account_index,
                                          const std::string& orders, const std::string& trades,
                                          const std::string& fundings) const {
  const Engine& e = ctx_->engine();
  // Trade counters over the account's fills: last 24 h, 7 d, 30 d and all; volumes in USDC
  // (JSON numbers, as the docs' example).
  const UnixNanos now = ctx_->Now();
  constexpr UnixNanos kDay = int64_t{86'400} * 1'000'000'000;
  int64_t count[4] = {0, 0, 0, 0};
  Money volume[4] = {0, 0, 0, 0};
  for (const SimFill& f : e.Fills(account)) {
    const Money n = std::llabs(f.instrument->Notional(f.price, f.qty));
    const UnixNanos age = now - f.time;
    const UnixNanos window[4] = {kDay, 7 * kDay, 30 * kDay, INT64_MAX};
    for (int k = 0; k < 4; ++k) {
      if (age < window[k]) {
        ++count[k];
        volume[k] += n;
      }
    }
  }
  std::string positions = "{";
  for (const SimPosition& p : e.Positions(account)) {
    if (positions.size() > 1) positions += ',';
    positions += '"' + std::to_string(p.instrument->spec.market_id) + "\":";
    positions += PositionJson(p, account);
  }
  positions += '}';
  JsonWriter w;
  w.BeginObject().Field("account", account_index);
  w.Key("assets").Raw(AssetsJson(account));
  const char* names[4] = {"daily", "weekly", "monthly", "total"};
  for (int k = 0; k < 4; ++k) {
    w.Field(std::string(names[k]) + "_trades_count", count[k]);
    w.Key(std::string(names[k]) + "_volume").Raw(FormatMoney(volume[k]));
  }
  w.Key("funding_histories").Raw(fundings);
  // funding_rates: lighter.md lists the key; no source gives its shape, so it stays empty.
  w.Key("funding_rates").Raw("{}");
  w.Key("orders").Raw(orders);
  w.Key("positions").Raw(positions);
  w.Key("shares").Raw("[]");
  w.Key("trades").Raw(trades);
  w.EndObject();
  std::string out = w.Take();
  return out.substr(1, out.size() - 2);  // members only
}

std::vector<SimOrder> LighterModule::AccountOrders(const std::string& account) {
  std::vector<SimOrder> out;
  for (const SimOrder* o : ctx_->engine().Orders(account)) {
    if (!suppressed_.count(o->id)) out.push_back(*o);
  }
  for (const auto& [id, o] : refused_) {
    if (o.account == account) out.push_back(o);
  }
  return out;
}

}  // namespace perpgw::sim::lighter
