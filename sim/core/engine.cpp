// Matching engine implementation: taker fills walk the generated book, maker fills happen when
// the generated market trades through a resting price; positions use average-cost accounting.
#include "sim/core/engine.h"

#include <algorithm>
#include <cstdlib>

namespace perpgw::sim {
namespace {

int64_t Sign(int64_t v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }
Money MulDiv(Money a, int64_t b, int64_t c) {
  return c == 0 ? 0 : static_cast<Money>(static_cast<__int128>(a) * b / c);
}
BookSide Opposite(Side s) { return s == Side::kBuy ? BookSide::kAsk : BookSide::kBid; }

}  // namespace

Engine::Engine(Market& market, const Clock& clock) : market_(market), clock_(clock) {
  resting_.resize(market.size());
  last_mid_.resize(market.size());
  last_trade_.resize(market.size());
  for (size_t i = 0; i < market.size(); ++i) last_mid_[i] = market.mid(i);
}

absl::Status Engine::AddAccount(const AccountSpec& spec) {
  if (spec.id.empty()) return absl::InvalidArgumentError("account without id");
  if (accounts_.count(spec.id)) return absl::AlreadyExistsError("duplicate account " + spec.id);
  SimAccount a;
  a.spec = spec;
  auto wallet = ParseMoney(spec.balance);
  auto maker = ParseRate(spec.maker_fee);
  auto taker = ParseRate(spec.taker_fee);
  if (!wallet.ok()) return absl::InvalidArgumentError("account " + spec.id + " key balance: bad decimal");
  if (!maker.ok()) return absl::InvalidArgumentError("account " + spec.id + " key maker_fee: bad decimal");
  if (!taker.ok()) return absl::InvalidArgumentError("account " + spec.id + " key taker_fee: bad decimal");
  a.wallet = *wallet;
  a.maker_fee = *maker;
  a.taker_fee = *taker;
  accounts_.emplace(spec.id, std::move(a));
  return absl::OkStatus();
}

const SimAccount* Engine::account(std::string_view id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}
SimAccount* Engine::MutableAccount(std::string_view id) {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}
std::vector<std::string> Engine::account_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, a] : accounts_) out.push_back(id);
  return out;
}

int Engine::Leverage(std::string_view account, size_t i) const {
  const SimAccount* a = this->account(account);
  int max_lev = market_.instrument(i).spec.max_leverage;
  if (a != nullptr) {
    auto it = a->leverage.find(i);
    if (it != a->leverage.end()) return it->second;
  }
  return std::min(20, max_lev);
}

Money Engine::OpenOrderMargin(std::string_view account, size_t i) const {
  const SimAccount* a = this->account(account);
  return a == nullptr ? 0 : OpenOrderMargin(*a, i);
}

bool Engine::Isolated(std::string_view account, size_t i) const {
  const SimAccount* a = this->account(account);
  return a != nullptr && a->isolated.count(i) > 0;
}

MarginResult Engine::SetIsolated(std::string_view account, std::string_view symbol, bool isolated) {
  SimAccount* a = MutableAccount(account);
  const SimInstrument* in = market_.Find(symbol);
  if (a == nullptr || in == nullptr) return MarginResult::kUnknown;
  const size_t i = in->index;
  if ((a->isolated.count(i) > 0) == isolated) return MarginResult::kNoChange;
  // Open orders are looked at first (the docs give no order between the two refusals).
  if (!OpenOrders(account, symbol).empty()) return MarginResult::kHasOpenOrders;
  for (const auto& [k, p] : a->positions) {  // either side in hedge mode
    if (k.first == i && p.size != 0) return MarginResult::kHasPosition;
  }
  if (isolated) {
    a->isolated.insert(i);
  } else {
    a->isolated.erase(i);
  }
  for (auto& [k, p] : a->positions) {
    if (k.first != i) continue;
    p.isolated = isolated;
    a->wallet += p.isolated_margin;  // 0: a flat position holds none
    p.isolated_margin = 0;
  }
  return MarginResult::kOk;
}

PositionModeResult Engine::SetHedgeMode(std::string_view account, bool hedge) {
  SimAccount* a = MutableAccount(account);
  if (a == nullptr) return PositionModeResult::kUnknown;
  if (a->hedge == hedge) return PositionModeResult::kNoChange;
  // Open orders first, as SetIsolated (Binance: -4067 open orders, -4068 position; the docs
  // give no order between the two).
  if (!OpenOrders(account).empty()) return PositionModeResult::kHasOpenOrders;
  for (const auto& [k, p] : a->positions) {
    if (p.size != 0) return PositionModeResult::kHasPosition;
  }
  // Flat positions of the old mode (kept as history) stay under their old keys; a flat
  // isolated one holds no margin.
  a->hedge = hedge;
  return PositionModeResult::kOk;
}

bool Engine::HedgeMode(std::string_view account) const {
  const SimAccount* a = this->account(account);
  return a != nullptr && a->hedge;
}

MarginResult Engine::AdjustIsolatedMargin(std::string_view account, std::string_view symbol,
                                          Money delta, PositionSide side) {
  SimAccount* a = MutableAccount(account);
  const SimInstrument* in = market_.Find(symbol);
  if (a == nullptr || in == nullptr) return MarginResult::kUnknown;
  if (delta == 0) return MarginResult::kBadAmount;
  const size_t i = in->index;
  if (a->isolated.count(i) == 0) return MarginResult::kNotIsolated;
  auto it = a->positions.find({i, side});
  if (it == a->positions.end() || it->second.size == 0) return MarginResult::kNoPosition;
  SimPosition& p = it->second;
  if (delta > 0) {
    if (delta > Balance(account).available) return MarginResult::kInsufficient;
  } else {
    const SimPosition m = Marked(*a, p);
    const Money im = std::llabs(in->Notional(m.mark_price, p.size)) / m.leverage;
    const Money removable = p.isolated_margin + std::min<Money>(0, m.unrealized_pnl) - im;
    if (-delta > removable) return MarginResult::kInsufficient;
  }
  a->wallet -= delta;
  p.isolated_margin += delta;
  EmitAccount(*a, i, side);
  return MarginResult::kOk;
}

absl::Status Engine::SetLeverage(std::string_view account, std::string_view symbol, int leverage) {
  SimAccount* a = MutableAccount(account);
  if (a == nullptr) return absl::NotFoundError("unknown account " + std::string(account));
  const SimInstrument* in = market_.Find(symbol);
  if (in == nullptr) return absl::NotFoundError("unknown symbol " + std::string(symbol));
  if (leverage < 1 || leverage > in->spec.max_leverage) {
    return absl::InvalidArgumentError("leverage must be in [1, " +
                                      std::to_string(in->spec.max_leverage) + "]");
  }
  a->leverage[in->index] = leverage;
  return absl::OkStatus();
}

std::string Engine::CidKey(std::string_view account, std::string_view cid) {
  std::string k(account);
  k.push_back('\x1f');
  k.append(cid);
  return k;
}

SimOrder& Engine::NewOrder(const PlaceRequest& req, const SimInstrument& in) {
  auto o = std::make_unique<SimOrder>();
  o->id = next_order_id_++;
  o->client_id = req.client_id;
  o->account = req.account;
  o->instrument = &in;
  o->side = req.side;
  o->type = req.type;
  o->tif = req.type == OrderType::kMarket ? TimeInForce::kIoc : req.tif;
  o->reduce_only = req.reduce_only;
  o->position_side = req.position_side;
  o->price = req.type == OrderType::kMarket ? 0 : req.price;
  o->worst_price = req.type == OrderType::kMarket ? req.worst_price : 0;
  o->qty = req.qty;
  o->trigger_ref = req.trigger_ref;
  o->tp_trigger_price = req.tp_trigger_price;
  o->tp_limit_price = req.tp_trigger_price != 0 ? req.tp_limit_price : 0;
  o->tp_trigger_ref = req.tp_trigger_ref;
  o->sl_trigger_price = req.sl_trigger_price;
  o->sl_limit_price = req.sl_trigger_price != 0 ? req.sl_limit_price : 0;
  o->sl_trigger_ref = req.sl_trigger_ref;
  o->created = o->updated = clock_.Now();
  SimOrder& ref = *o;
  if (!o->client_id.empty()) cid_latest_[CidKey(o->account, o->client_id)] = o->id;
  order_seq_.push_back(o->id);
  orders_.emplace(o->id, std::move(o));
  return ref;
}

PlaceResult Engine::Reject(SimOrder& o, RejectCode code, std::string message) {
  o.status = OrderStatus::kRejected;
  o.reject = code;
  o.reason = code == RejectCode::kPostOnlyViolation ? CancelReason::kPostOnlyViolation
             : code == RejectCode::kReduceOnly      ? CancelReason::kReduceOnly
             : code == RejectCode::kInsufficientMargin ? CancelReason::kInsufficientBalance
                                                       : CancelReason::kRejected;
  o.reason_text = message;
  EmitOrder(o, nullptr);
  PlaceResult r;
  r.code = code;
  r.message = std::move(message);
  r.order = o;
  return r;
}

int64_t Engine::ReduceOnlyCap(const SimAccount& a, const SimOrder& o) const {
  // Hedge mode: the order's own side (a LONG is never < 0 nor a SHORT > 0, so an opening order
  // gets 0 and a closing one the side's size).
  auto it = a.positions.find({o.instrument->index, o.position_side});
  int64_t pos = it == a.positions.end() ? 0 : it->second.size;
  if (o.side == Side::kBuy && pos < 0) return -pos;
  if (o.side == Side::kSell && pos > 0) return pos;
  return 0;
}

Money Engine::OpenOrderMargin(const SimAccount& a, size_t only) const {
  Money m = 0;
  for (const auto& [id, o] : open_orders_) {
    if (o->account != a.spec.id || Reduces(*o) || o->awaiting_trigger()) continue;
    const auto& in = *o->instrument;
    if (only != SIZE_MAX && in.index != only) continue;
    m += in.Notional(o->price, o->remaining()) / Leverage(a.spec.id, in.index);
  }
  return m;
}

PlaceResult Engine::Place(const PlaceRequest& req) {
  PlaceResult bad;
  bad.order.account = req.account;
  bad.order.client_id = req.client_id;
  bad.order.status = OrderStatus::kRejected;
  SimAccount* a = MutableAccount(req.account);
  if (a == nullptr) {
    bad.code = bad.order.reject = RejectCode::kUnknownAccount;
    bad.message = "unknown account";
    return bad;
  }
  const SimInstrument* inp = market_.Find(req.symbol);
  if (inp == nullptr) {
    bad.code = bad.order.reject = RejectCode::kUnknownSymbol;
    bad.message = "unknown symbol " + req.symbol;
    return bad;
  }
  const SimInstrument& in = *inp;
  const size_t i = in.index;
  if (!req.client_id.empty() && cid_open_.count(CidKey(req.account, req.client_id))) {
    // Not stored: the existing order keeps the id.
    bad.code = bad.order.reject = RejectCode::kDuplicateClientId;
    bad.message = "duplicate client order id " + req.client_id;
    bad.order.instrument = inp;
    return bad;
  }
  SimOrder& o = NewOrder(req, in);
  const bool market = req.type == OrderType::kMarket;
  if (a->hedge ? req.position_side == PositionSide::kBoth
               : req.position_side != PositionSide::kBoth) {
    return Reject(o, RejectCode::kPositionSide, "order's position side does not match the account's position mode");
  }
  if (a->hedge && req.reduce_only) {
    return Reject(o, RejectCode::kPositionSide, "reduce-only is not allowed in hedge mode");
  }
  if (req.qty <= 0 || req.qty % in.step != 0 || req.qty < in.min_qty) {
    return Reject(o, RejectCode::kInvalidQty, "quantity must be a positive multiple of step, >= min qty");
  }
  if (!market && (req.price <= 0 || req.price % in.tick != 0)) {
    return Reject(o, RejectCode::kInvalidPrice, "price must be a positive multiple of tick");
  }
  if (market && req.worst_price < 0) return Reject(o, RejectCode::kInvalidPrice, "negative worst price");
  auto bad_price = [&](int64_t p) { return p < 0 || p % in.tick != 0; };
  if (bad_price(req.tp_trigger_price) || bad_price(req.tp_limit_price) ||
      bad_price(req.sl_trigger_price) || bad_price(req.sl_limit_price)) {
    return Reject(o, RejectCode::kInvalidPrice, "take-profit / stop-loss prices must be multiples of tick");
  }
  if ((req.tp_limit_price != 0 && req.tp_trigger_price == 0) ||
      (req.sl_limit_price != 0 && req.sl_trigger_price == 0)) {
    return Reject(o, RejectCode::kInvalidPrice, "a take-profit / stop-loss limit price needs its trigger price");
  }
  if (req.tp_trigger_price != 0 && req.sl_trigger_price != 0 &&
      (req.side == Side::kBuy ? req.tp_trigger_price <= req.sl_trigger_price
                              : req.tp_trigger_price >= req.sl_trigger_price)) {
    return Reject(o, RejectCode::kInvalidPrice, "take-profit and stop-loss triggers are on the wrong sides");
  }

  if (req.trailing_bps != 0) {
    if (!market || req.trigger != TriggerWhen::kNone) {
      return Reject(o, RejectCode::kInvalidPrice, "a trailing stop is a market order without a trigger price");
    }
    if (req.trailing_bps < 1 || req.trailing_bps > 9999) {
      return Reject(o, RejectCode::kInvalidPrice, "trailing callback must be 1..9999 basis points");
    }
    if (bad_price(req.activation_price)) {
      return Reject(o, RejectCode::kInvalidPrice, "activation price must be a multiple of tick");
    }
    // A sell trails below the highest price (a stop: fires on the way down); a buy above the
    // lowest.
    o.trigger = req.side == Side::kSell ? TriggerWhen::kAtOrBelow : TriggerWhen::kAtOrAbove;
    o.trailing_bps = req.trailing_bps;
    o.activation_price = req.activation_price;
    Trail(o, RefPrice(i, o.trigger_ref));
    Park(o);
    PlaceResult parked;
    parked.order = o;
    return parked;
  }
  if (req.trigger != TriggerWhen::kNone) {
    if (req.trigger_price <= 0 || req.trigger_price % in.tick != 0) {
      return Reject(o, RejectCode::kInvalidPrice, "trigger price must be a positive multiple of tick");
    }
    const int64_t ref = RefPrice(i, req.trigger_ref);
    const bool holds = req.trigger == TriggerWhen::kAtOrAbove ? ref >= req.trigger_price
                                                              : ref <= req.trigger_price;
    if (holds) return Reject(o, RejectCode::kInvalidPrice, "order would immediately trigger");
    o.trigger = req.trigger;
    o.trigger_price = req.trigger_price;
    Park(o);
    PlaceResult parked;
    parked.order = o;
    return parked;
  }
  return Execute(*a, o);
}

void Engine::Park(SimOrder& o) {
  const size_t i = o.instrument->index;
  o.status = OrderStatus::kOpen;
  open_orders_[o.id] = &o;
  if (!o.client_id.empty()) cid_open_[CidKey(o.account, o.client_id)] = o.id;
  if (awaiting_trigger_.size() < market_.size()) awaiting_trigger_.resize(market_.size());
  awaiting_trigger_[i].insert(o.id);
  EmitOrder(o, nullptr);
}

int64_t Engine::LastPrice(size_t i) const {
  if (i < last_trade_.size() && last_trade_[i] != 0) return last_trade_[i];
  return market_.mark_price(i);
}

int64_t Engine::RefPrice(size_t i, TriggerRef ref) const {
  return ref == TriggerRef::kLastPrice ? LastPrice(i) : market_.mark_price(i);
}

void Engine::Trail(SimOrder& o, int64_t ref) const {
  const bool sell = o.side == Side::kSell;
  if (!o.trailing_active) {
    if (o.activation_price != 0 && (sell ? ref < o.activation_price : ref > o.activation_price)) {
      return;  // not activated yet: no trigger
    }
    o.trailing_active = true;
    o.trailing_extreme = ref;
  } else {
    o.trailing_extreme = sell ? std::max(o.trailing_extreme, ref) : std::min(o.trailing_extreme, ref);
  }
  const int64_t tick = o.instrument->tick;
  const __int128 x = o.trailing_extreme;
  int64_t t;
  if (sell) {
    t = static_cast<int64_t>(x * (10000 - o.trailing_bps) / 10000);
    t -= t % tick;  // down: never nearer than the rate
  } else {
    t = static_cast<int64_t>((x * (10000 + o.trailing_bps) + 9999) / 10000);
    if (t % tick != 0) t += tick - t % tick;  // up
  }
  o.trigger_price = t;
}

PlaceResult Engine::Execute(SimAccount& acct, SimOrder& o) {
  SimAccount* a = &acct;
  const SimInstrument& in = *o.instrument;
  const size_t i = in.index;
  const bool market = o.type == OrderType::kMarket;
  const OrderBook& book = market_.book(i);
  auto best_opp = o.side == Side::kBuy ? book.BestAsk() : book.BestBid();
  if (o.reduce_only) {
    int64_t cap = ReduceOnlyCap(*a, o);
    if (cap == 0) return Reject(o, RejectCode::kReduceOnly, "reduce-only order would not reduce the position");
    o.qty = std::min(o.qty, cap);  // trimmed to the position
  }
  if (o.closes_side()) {
    // Hedge-mode close larger than the side's position: refused whole, not trimmed (Binance
    // answers -2022 "ReduceOnly Order is rejected"; our reading: other open closing orders of
    // the side are not counted against the position).
    // A triggered conditional close (closePosition, TP/SL child) is trimmed to the side's size
    // instead, as a reduce-only one is.
    const int64_t cap = ReduceOnlyCap(*a, o);
    if (cap == 0 || (o.qty > cap && !o.triggered)) {
      return Reject(o, RejectCode::kReduceOnly, "closing order exceeds the position side's size");
    }
    o.qty = std::min(o.qty, cap);
  }
  int64_t ref_price = market ? (o.worst_price > 0 ? o.worst_price
                                                 : (best_opp ? best_opp->price : market_.mid(i)))
                             : o.price;
  Money notional = in.Notional(ref_price, o.qty);
  if (!Reduces(o) && notional < in.min_notional) {
    return Reject(o, RejectCode::kMinNotional, "order notional below minimum");
  }
  const bool crosses =
      best_opp && (market || (o.side == Side::kBuy ? o.price >= best_opp->price
                                                   : o.price <= best_opp->price));
  if (o.tif == TimeInForce::kPostOnly && crosses) {
    return Reject(o, RejectCode::kPostOnlyViolation, "post-only order would take liquidity");
  }
  if (!Reduces(o)) {
    // Only the part that grows exposure needs margin.
    int64_t reducing = ReduceOnlyCap(*a, o);
    int64_t growing = std::max<int64_t>(0, o.qty - reducing);
    Money required = in.Notional(ref_price, growing) / Leverage(o.account, i);
    SimBalance bal = Balance(o.account);
    if (required > bal.available) {
      return Reject(o, RejectCode::kInsufficientMargin, "insufficient margin");
    }
  }

  o.status = OrderStatus::kOpen;
  EmitOrder(o, nullptr);
  PlaceResult result;
  if (crosses) TakeLiquidity(*a, o, market ? o.worst_price : o.price, &result.fills);
  if (o.remaining() > 0) {
    if (o.tif == TimeInForce::kGtc || o.tif == TimeInForce::kPostOnly) {
      Rest(o);
    } else {
      Finish(o, OrderStatus::kExpired, CancelReason::kExpired);
    }
  }
  if (!result.fills.empty()) EmitAccount(*a, i, o.position_side);
  result.order = o;
  return result;
}

void Engine::TakeLiquidity(SimAccount& a, SimOrder& o, int64_t bound,
                           std::vector<SimFill>* fills) {
  // Walk the opposite side best-first within the bound (0: none).
  const size_t i = o.instrument->index;
  const OrderBook& book = market_.book(i);
  std::vector<Level> levels = o.side == Side::kBuy ? book.Asks() : book.Bids();
  auto acceptable = [&](int64_t p) {
    if (bound == 0) return true;
    return o.side == Side::kBuy ? p <= bound : p >= bound;
  };
  std::vector<Level> takes;
  int64_t want = o.remaining();
  for (const auto& l : levels) {
    if (want == 0 || !acceptable(l.price)) break;
    int64_t q = std::min(want, l.size);
    takes.push_back({l.price, q});
    want -= q;
  }
  if (o.tif == TimeInForce::kFok && want > 0) takes.clear();  // all or nothing
  for (const auto& t : takes) {
    ApplyFill(a, o, t.price, t.size, /*maker=*/false, fills);
    market_.Consume(i, Opposite(o.side), t.price, t.size);
  }
  if (!takes.empty()) market_.FlushTrades(i);
}

void Engine::ApplyFill(SimAccount& a, SimOrder& o, int64_t price, int64_t qty, bool maker,
                       std::vector<SimFill>* out) {
  const SimInstrument& in = *o.instrument;
  Money notional = in.Notional(price, qty);
  SimFill f;
  f.trade_id = next_trade_id_++;
  f.order_id = o.id;
  f.client_id = o.client_id;
  f.account = a.spec.id;
  f.instrument = &in;
  f.side = o.side;
  f.position_side = o.position_side;
  f.price = price;
  f.qty = qty;
  f.fee = ApplyRate(notional, maker ? a.maker_fee : a.taker_fee);
  f.maker = maker;
  f.time = clock_.Now();
  SettleFill(a, in, o.side, o.position_side, price, qty, f.fee);
  o.filled += qty;
  o.filled_notional += notional;
  o.updated = f.time;
  o.status = o.filled == o.qty ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  if (o.status == OrderStatus::kFilled) Unrest(o);
  last_trade_[in.index] = price;
  account_fills_[a.spec.id].push_back(f);
  if (out) out->push_back(f);
  EmitOrder(o, &f);
  if (o.tp_trigger_price != 0 || o.sl_trigger_price != 0) AttachChildren(o, qty);
  if (reduce_only_shrink_) ShrinkReduceOnly(a, in.index);
  if (trades_) {
    PublicTrade t;
    t.instrument = &in;
    t.trade_id = f.trade_id;
    t.price = price;
    t.qty = qty;
    t.taker_side = maker ? (o.side == Side::kBuy ? Side::kSell : Side::kBuy) : o.side;
    t.time = f.time;
    trades_(t);
  }
}

void Engine::SettleFill(SimAccount& a, const SimInstrument& in, Side side, PositionSide ps,
                        int64_t price, int64_t qty, Money fee) {
  SimPosition& p = a.positions[{in.index, ps}];
  p.instrument = &in;
  p.side = ps;
  p.isolated = a.isolated.count(in.index) > 0;
  // Isolated: what opens takes its initial margin (at the fill price) from the cross wallet.
  auto lock_margin = [&](int64_t opened) {
    if (!p.isolated) return;
    const Money im = in.Notional(price, opened) / Leverage(a.spec.id, in.index);
    a.wallet -= im;
    p.isolated_margin += im;
  };
  int64_t delta = side == Side::kBuy ? qty : -qty;
  if (p.size == 0 || Sign(p.size) == Sign(delta)) {
    p.entry_notional += in.Notional(price, qty);
    p.size += delta;
    lock_margin(qty);
  } else {
    int64_t closed = std::min(std::llabs(delta), std::llabs(p.size));
    Money cost = MulDiv(p.entry_notional, closed, std::llabs(p.size));
    Money value = in.Notional(price, closed);
    Money pnl = p.size > 0 ? value - cost : cost - value;
    p.realized_pnl += pnl;
    a.wallet += pnl;
    if (p.isolated) {  // the closed share of the isolated margin goes back to the cross wallet
      const Money released = MulDiv(p.isolated_margin, closed, std::llabs(p.size));
      a.wallet += released;
      p.isolated_margin -= released;
    }
    p.entry_notional -= cost;
    p.size += Sign(delta) * closed;
    int64_t opened = std::llabs(delta) - closed;
    if (opened > 0) {  // flipped through zero
      p.size = Sign(delta) * opened;
      p.entry_notional = in.Notional(price, opened);
      lock_margin(opened);
    }
    if (p.size == 0) p.entry_notional = 0;
  }
  a.wallet -= fee;
  a.fees_paid += fee;
}

void Engine::Finish(SimOrder& o, OrderStatus status, CancelReason reason) {
  Unrest(o);
  o.status = status;
  o.reason = reason;
  o.updated = clock_.Now();
  EmitOrder(o, nullptr);
}

void Engine::Rest(SimOrder& o) {
  auto& r = resting_[o.instrument->index];
  (o.side == Side::kBuy ? r.buys : r.sells).emplace(o.price, o.id);
  open_orders_[o.id] = &o;
  if (!o.client_id.empty()) cid_open_[CidKey(o.account, o.client_id)] = o.id;
}

void Engine::Unrest(const SimOrder& o) {
  if (o.instrument == nullptr || open_orders_.erase(o.id) == 0) return;
  if (!o.client_id.empty()) cid_open_.erase(CidKey(o.account, o.client_id));
  if (o.instrument->index < awaiting_trigger_.size()) {
    awaiting_trigger_[o.instrument->index].erase(o.id);
  }
  auto& r = resting_[o.instrument->index];
  auto& m = o.side == Side::kBuy ? r.buys : r.sells;
  auto [lo, hi] = m.equal_range(o.price);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == o.id) {
      m.erase(it);
      return;
    }
  }
}

CancelResult Engine::Cancel(std::string_view account, uint64_t order_id) {
  CancelResult r;
  auto it = orders_.find(order_id);
  if (it == orders_.end() || it->second->account != account) {
    r.code = RejectCode::kNotFound;
    r.message = "order not found";
    return r;
  }
  SimOrder& o = *it->second;
  if (!o.open()) {
    r.code = RejectCode::kAlreadyClosed;
    r.message = "order already closed";
    r.order = o;
    return r;
  }
  Finish(o, OrderStatus::kCanceled, CancelReason::kUserCanceled);
  r.order = o;
  return r;
}

AmendResult Engine::Amend(const AmendRequest& req) {
  AmendResult r;
  auto it = orders_.find(req.order_id);
  if (it == orders_.end() || it->second->account != req.account) {
    r.code = RejectCode::kNotFound;
    r.message = "order not found";
    return r;
  }
  SimOrder& o = *it->second;
  r.order = o;
  auto refuse = [&](RejectCode code, std::string message) {
    r.code = code;
    r.message = std::move(message);
    return r;
  };
  if (!o.open()) return refuse(RejectCode::kAlreadyClosed, "order already closed");
  const SimInstrument& in = *o.instrument;
  const size_t i = in.index;
  if (o.awaiting_trigger() && !req.allow_parked) {
    return refuse(RejectCode::kInvalidPrice, "a conditional order cannot be amended before it triggers");
  }
  if (o.awaiting_trigger()) {
    // Parked: nothing rests, trades or holds margin; the new values are checked and stored.
    if (req.trigger_price < 0 || req.price < 0 || req.qty < 0) {
      return refuse(RejectCode::kInvalidPrice, "negative price or size");
    }
    if (o.trailing_bps != 0 && req.trigger_price != 0) {
      return refuse(RejectCode::kInvalidPrice, "a trailing stop's trigger follows the market");
    }
    if (o.type == OrderType::kMarket && req.price != 0) {
      return refuse(RejectCode::kInvalidPrice, "a market order has no limit price");
    }
    const int64_t trigger = req.trigger_price != 0 ? req.trigger_price : o.trigger_price;
    const int64_t price = req.price != 0 ? req.price : o.price;
    const int64_t qty = req.qty != 0 ? req.qty : o.qty;
    if (trigger % in.tick != 0 || price % in.tick != 0) {
      return refuse(RejectCode::kInvalidPrice, "price must be a positive multiple of tick");
    }
    if (qty % in.step != 0 || qty < in.min_qty || qty <= o.filled) {
      return refuse(RejectCode::kInvalidQty, "quantity must be a positive multiple of step, >= min qty");
    }
    if (o.trailing_bps == 0) {
      const int64_t ref = RefPrice(i, o.trigger_ref);
      if (o.trigger == TriggerWhen::kAtOrAbove ? ref >= trigger : ref <= trigger) {
        return refuse(RejectCode::kInvalidPrice, "order would immediately trigger");
      }
    }
    o.trigger_price = trigger;
    o.price = price;
    o.qty = qty;
    o.updated = clock_.Now();
    EmitOrder(o, nullptr);
    r.order = o;
    return r;
  }
  SimAccount* a = MutableAccount(o.account);
  const int64_t price = req.price != 0 ? req.price : o.price;
  int64_t qty = req.qty != 0 ? req.qty : o.qty;
  if (req.price < 0 || price <= 0 || price % in.tick != 0) {
    return refuse(RejectCode::kInvalidPrice, "price must be a positive multiple of tick");
  }
  if (req.qty < 0 || qty % in.step != 0 || qty < in.min_qty) {
    return refuse(RejectCode::kInvalidQty, "quantity must be a positive multiple of step, >= min qty");
  }
  if (qty <= o.filled) return refuse(RejectCode::kInvalidQty, "new size must exceed the filled size");
  if (o.reduce_only) {
    const int64_t cap = ReduceOnlyCap(*a, o);
    if (cap == 0) return refuse(RejectCode::kReduceOnly, "reduce-only order would not reduce the position");
    qty = std::min(qty, o.filled + cap);
  }
  if (o.closes_side()) {  // as at placement: refused, not trimmed
    const int64_t cap = ReduceOnlyCap(*a, o);
    if (qty - o.filled > cap) {
      return refuse(RejectCode::kReduceOnly, "closing order exceeds the position side's size");
    }
  }
  const OrderBook& book = market_.book(i);
  auto best_opp = o.side == Side::kBuy ? book.BestAsk() : book.BestBid();
  const bool crosses =
      best_opp && (o.side == Side::kBuy ? price >= best_opp->price : price <= best_opp->price);
  if (o.tif == TimeInForce::kPostOnly && crosses) {
    return refuse(RejectCode::kPostOnlyViolation, "post-only order would take liquidity");
  }
  if (!Reduces(o)) {
    // Margin for the amended remainder, with this order's current reservation given back.
    const int lev = Leverage(o.account, i);
    const int64_t remaining = qty - o.filled;
    const int64_t growing = std::max<int64_t>(0, remaining - ReduceOnlyCap(*a, o));
    const Money required = in.Notional(price, growing) / lev;
    const Money held = in.Notional(o.price, o.remaining()) / lev;
    if (required > Balance(o.account).available + held) {
      return refuse(RejectCode::kInsufficientMargin, "insufficient margin");
    }
  }
  Unrest(o);
  o.price = price;
  o.qty = qty;
  o.updated = clock_.Now();
  EmitOrder(o, nullptr);
  if (crosses) TakeLiquidity(*a, o, price, &r.fills);
  if (o.remaining() > 0) Rest(o);
  if (!r.fills.empty()) EmitAccount(*a, i, o.position_side);
  r.order = o;
  return r;
}

CancelResult Engine::CancelByClientId(std::string_view account, std::string_view client_id) {
  const SimOrder* o = FindByClientId(account, client_id);
  if (o == nullptr) {
    CancelResult r;
    r.code = RejectCode::kNotFound;
    r.message = "order not found";
    return r;
  }
  return Cancel(account, o->id);
}

std::vector<SimOrder> Engine::CancelAll(std::string_view account, std::string_view symbol) {
  std::vector<SimOrder> out;
  for (const SimOrder* o : OpenOrders(account, symbol)) {
    SimOrder& m = *orders_[o->id];
    Finish(m, OrderStatus::kCanceled, CancelReason::kUserCanceled);
    out.push_back(m);
  }
  return out;
}

const SimOrder* Engine::FindOrder(uint64_t id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : it->second.get();
}

const SimOrder* Engine::FindByClientId(std::string_view account,
                                       std::string_view client_id) const {
  if (client_id.empty()) return nullptr;
  std::string key = CidKey(account, client_id);
  if (auto it = cid_open_.find(key); it != cid_open_.end()) return FindOrder(it->second);
  auto it = cid_latest_.find(key);
  return it == cid_latest_.end() ? nullptr : FindOrder(it->second);
}

std::vector<const SimOrder*> Engine::OpenOrders(std::string_view account,
                                                std::string_view symbol) const {
  std::vector<const SimOrder*> out;
  for (const auto& [id, o] : open_orders_) {
    if (o->account == account && (symbol.empty() || o->instrument->symbol() == symbol)) {
      out.push_back(o);
    }
  }
  return out;
}

std::vector<const SimOrder*> Engine::Orders(std::string_view account) const {
  std::vector<const SimOrder*> out;
  for (uint64_t id : order_seq_) {
    const SimOrder* o = orders_.at(id).get();
    if (o->account == account) out.push_back(o);
  }
  return out;
}

std::vector<SimFill> Engine::Fills(std::string_view account) const {
  auto it = account_fills_.find(account);
  return it == account_fills_.end() ? std::vector<SimFill>{} : it->second;
}

SimPosition Engine::Marked(const SimAccount& a, const SimPosition& p) const {
  SimPosition m = p;
  const SimInstrument& in = *p.instrument;
  m.mark_price = market_.mark_price(in.index);
  m.leverage = Leverage(a.spec.id, in.index);
  Money value = in.Notional(m.mark_price, p.size);  // signed
  m.unrealized_pnl = value - Sign(p.size) * p.entry_notional;
  m.maint_margin = ApplyRate(std::llabs(value), in.maint_margin_ratio);
  m.isolated = a.isolated.count(in.index) > 0;
  return m;
}

SimPosition Engine::Position(std::string_view account, size_t i, PositionSide side) const {
  const SimAccount* a = this->account(account);
  SimPosition p;
  p.instrument = &market_.instrument(i);
  p.side = side;
  if (a == nullptr) return p;
  auto it = a->positions.find({i, side});
  if (it != a->positions.end()) p = it->second;
  return Marked(*a, p);
}

std::vector<SimPosition> Engine::Positions(std::string_view account) const {
  std::vector<SimPosition> out;
  const SimAccount* a = this->account(account);
  if (a == nullptr) return out;
  for (const auto& [i, p] : a->positions) {
    if (p.size != 0) out.push_back(Marked(*a, p));
  }
  return out;
}

SimBalance Engine::Balance(std::string_view account) const {
  SimBalance b;
  const SimAccount* a = this->account(account);
  if (a == nullptr) return b;
  b.asset = a->spec.asset;
  b.cross_wallet = a->wallet;
  Money cross_im = 0;
  for (const auto& [i, p] : a->positions) {
    b.isolated_wallet += p.isolated_margin;  // 0 unless isolated (and none left when flat)
    if (p.size == 0) continue;
    SimPosition m = Marked(*a, p);
    const Money im = std::llabs(p.instrument->Notional(m.mark_price, p.size)) / m.leverage;
    b.unrealized += m.unrealized_pnl;
    b.maint_margin += m.maint_margin;
    b.initial_margin += im;
    if (!p.isolated) {
      b.cross_unrealized += m.unrealized_pnl;
      b.cross_maint_margin += m.maint_margin;
      cross_im += im;
    }
  }
  const Money orders = OpenOrderMargin(*a);
  b.initial_margin += orders;
  b.wallet = b.cross_wallet + b.isolated_wallet;
  b.equity = b.wallet + b.unrealized;
  // Cross only: the isolated positions' margin left the cross wallet and their PnL is theirs.
  b.available = b.cross_wallet + b.cross_unrealized - cross_im - orders;
  return b;
}

void Engine::EmitOrder(const SimOrder& o, const SimFill* fill) {
  if (!events_) return;
  AccountEvent e;
  e.kind = AccountEvent::Kind::kOrder;
  e.account = o.account;
  e.time = clock_.Now();
  e.order = o;
  if (fill) {
    e.has_fill = true;
    e.fill = *fill;
  }
  events_(e);
}

void Engine::EmitAccount(const SimAccount& a, size_t i, PositionSide side) {
  if (!events_) return;
  AccountEvent e;
  e.account = a.spec.id;
  e.time = clock_.Now();
  e.kind = AccountEvent::Kind::kPosition;
  e.position = Position(a.spec.id, i, side);
  events_(e);
  e.kind = AccountEvent::Kind::kBalance;
  e.balance = Balance(a.spec.id);
  events_(e);
}

bool Engine::PrintMarketTrade(size_t i, Side taker_side, int64_t qty) {
  if (i >= market_.size() || qty <= 0) return false;
  const OrderBook& book = market_.book(i);
  auto best = taker_side == Side::kBuy ? book.BestAsk() : book.BestBid();
  if (!best || best->size <= 0) return false;
  PublicTrade t;
  t.instrument = &market_.instrument(i);
  t.trade_id = next_trade_id_++;
  t.price = best->price;
  t.qty = std::min(qty, best->size);
  t.taker_side = taker_side;
  t.time = clock_.Now();
  last_trade_[i] = t.price;
  if (trades_) trades_(t);
  market_.Consume(i, taker_side == Side::kBuy ? BookSide::kAsk : BookSide::kBid, t.price, t.qty);
  market_.FlushTrades(i);
  return true;
}

void Engine::CheckTriggers(size_t i, bool last_price_only) {
  if (in_triggers_ || i >= awaiting_trigger_.size() || awaiting_trigger_[i].empty()) return;
  std::vector<uint64_t> fire;
  for (uint64_t id : awaiting_trigger_[i]) {
    SimOrder& o = *orders_.at(id);
    if (last_price_only && o.trigger_ref != TriggerRef::kLastPrice) continue;
    const int64_t ref = RefPrice(i, o.trigger_ref);
    if (o.trailing_bps != 0) {
      Trail(o, ref);
      if (!o.trailing_active) continue;
    }
    if (o.trigger == TriggerWhen::kAtOrAbove ? ref >= o.trigger_price : ref <= o.trigger_price) {
      fire.push_back(id);
    }
  }
  if (fire.empty()) return;
  // The fills of one triggered order move the book; the orders they would trigger in turn wait
  // for the next change (no re-entry while this batch runs).
  in_triggers_ = true;
  for (uint64_t id : fire) {
    SimOrder& o = *orders_.at(id);
    if (!o.awaiting_trigger()) continue;
    Unrest(o);  // parked no more; Execute re-indexes it if it rests
    o.triggered = true;
    o.updated = clock_.Now();
    if (o.oco_id != 0) {  // one-cancels-other: the sibling goes before this one trades
      SimOrder& sib = *orders_.at(o.oco_id);
      // No OCO reason in the shared enum: kUserCanceled (venues print a plain cancel).
      if (sib.awaiting_trigger()) Finish(sib, OrderStatus::kCanceled, CancelReason::kUserCanceled);
    }
    SimAccount* a = MutableAccount(o.account);
    if (a == nullptr) continue;
    Execute(*a, o);  // rests (re-indexed as open), fills, expires or is rejected from here
  }
  in_triggers_ = false;
}

void Engine::OnBookChange(size_t i, bool from_trade) {
  CheckTriggers(i);
  const int64_t last_before = i < last_trade_.size() ? last_trade_[i] : 0;
  if (i >= resting_.size()) return;
  Resting& r = resting_[i];
  const OrderBook& book = market_.book(i);
  if (!from_trade && (!r.buys.empty() || !r.sells.empty())) {
    // Collect crossed resting orders first: fills mutate the maps.
    std::vector<std::pair<uint64_t, int64_t>> todo;  // id, crossing liquidity
    auto best_ask = book.BestAsk();
    if (best_ask && !r.buys.empty() && r.buys.rbegin()->first >= best_ask->price) {
      int64_t used = 0;
      for (auto it = r.buys.rbegin(); it != r.buys.rend() && it->first >= best_ask->price; ++it) {
        int64_t liq = 0;
        const int64_t limit = it->first;
        book.ForEachAsk([&](const Level& l) {
          if (l.price > limit) return false;
          liq += l.size;
          return true;
        });
        int64_t avail = std::max<int64_t>(0, liq - used);
        todo.emplace_back(it->second, avail);
        used += std::min(avail, orders_[it->second]->remaining());
      }
    }
    auto best_bid = book.BestBid();
    if (best_bid && !r.sells.empty() && r.sells.begin()->first <= best_bid->price) {
      int64_t used = 0;
      for (auto it = r.sells.begin(); it != r.sells.end() && it->first <= best_bid->price; ++it) {
        int64_t liq = 0;
        const int64_t limit = it->first;
        book.ForEachBid([&](const Level& l) {
          if (l.price < limit) return false;
          liq += l.size;
          return true;
        });
        int64_t avail = std::max<int64_t>(0, liq - used);
        todo.emplace_back(it->second, avail);
        used += std::min(avail, orders_[it->second]->remaining());
      }
    }
    for (auto [id, liq] : todo) {
      SimOrder& o = *orders_[id];
      SimAccount* a = MutableAccount(o.account);
      if (a == nullptr || !o.open() || liq <= 0) continue;
      int64_t q = std::min(o.remaining(), liq);
      if (Reduces(o)) {
        q = std::min(q, ReduceOnlyCap(*a, o));
        if (q == 0) {
          Finish(o, OrderStatus::kCanceled, CancelReason::kReduceOnly);
          continue;
        }
      }
      ApplyFill(*a, o, o.price, q, /*maker=*/true, nullptr);
      EmitAccount(*a, i, o.position_side);
    }
  }
  // Maker fills above printed new last prices: last-price triggers look again (mark ones
  // already did, at this mark).
  if (last_trade_[i] != last_before) CheckTriggers(i, /*last_price_only=*/true);
  int64_t mid = market_.mid(i);
  if (mid != last_mid_[i]) {
    last_mid_[i] = mid;
    CheckLiquidation(i);
  }
}

void Engine::ShrinkReduceOnly(SimAccount& a, size_t i) {
  std::vector<SimOrder*> todo;
  for (const auto& [id, o] : open_orders_) {
    if (o->account == a.spec.id && o->instrument->index == i && o->reduce_only &&
        !o->awaiting_trigger()) {
      todo.push_back(o);
    }
  }
  for (SimOrder* o : todo) {
    if (!o->open()) continue;
    const int64_t cap = ReduceOnlyCap(a, *o);
    if (cap == 0) {  // flat, or the position is now on the order's own side
      Finish(*o, OrderStatus::kCanceled, CancelReason::kReduceOnly);
    } else if (o->remaining() > cap) {
      o->qty = o->filled + cap;  // same price and time priority: the resting entry stays
      o->updated = clock_.Now();
      if (!events_) continue;
      AccountEvent e;
      e.kind = AccountEvent::Kind::kOrder;
      e.account = o->account;
      e.time = o->updated;
      e.order = *o;
      e.modified = true;
      events_(e);
    }
  }
}

void Engine::AttachChildren(SimOrder& parent, int64_t qty) {
  // One pair per parent, grown by later fills while both are still parked; a new pair when the
  // earlier one fired or was cancelled (the spec of no venue says otherwise; our reading).
  auto parked = [&](uint64_t id) {
    if (id == 0) return false;
    const SimOrder* c = FindOrder(id);
    return c != nullptr && c->awaiting_trigger();
  };
  const bool has_tp = parent.tp_trigger_price != 0, has_sl = parent.sl_trigger_price != 0;
  if ((!has_tp || parked(parent.tp_child_id)) && (!has_sl || parked(parent.sl_child_id))) {
    for (uint64_t id : {parent.tp_child_id, parent.sl_child_id}) {
      if (id == 0) continue;
      SimOrder& c = *orders_.at(id);
      c.qty += qty;
      c.updated = clock_.Now();
      if (!events_) continue;
      AccountEvent e;
      e.kind = AccountEvent::Kind::kOrder;
      e.account = c.account;
      e.time = c.updated;
      e.order = c;
      e.modified = true;
      events_(e);
    }
    return;
  }
  const bool buy = parent.side == Side::kBuy;
  auto make = [&](int64_t trigger, int64_t limit, TriggerRef ref, bool take_profit) -> SimOrder& {
    PlaceRequest req;
    req.account = parent.account;
    req.side = buy ? Side::kSell : Side::kBuy;
    req.type = limit != 0 ? OrderType::kLimit : OrderType::kMarket;
    req.tif = TimeInForce::kGtc;
    // Hedge mode: a close of the parent's side (reduce-only is not allowed there).
    req.position_side = parent.position_side;
    req.reduce_only = parent.position_side == PositionSide::kBoth;
    req.price = limit;
    req.qty = qty;
    req.trigger_ref = ref;
    SimOrder& c = NewOrder(req, *parent.instrument);
    // A long's take-profit sells on a rise and its stop-loss on a fall; a short's the reverse.
    c.trigger = (take_profit == buy) ? TriggerWhen::kAtOrAbove : TriggerWhen::kAtOrBelow;
    c.trigger_price = trigger;
    c.parent_id = parent.id;
    return c;
  };
  SimOrder* tp = has_tp ? &make(parent.tp_trigger_price, parent.tp_limit_price,
                                parent.tp_trigger_ref, true)
                        : nullptr;
  SimOrder* sl = has_sl ? &make(parent.sl_trigger_price, parent.sl_limit_price,
                                parent.sl_trigger_ref, false)
                        : nullptr;
  if (tp && sl) {
    tp->oco_id = sl->id;
    sl->oco_id = tp->id;
  }
  parent.tp_child_id = tp ? tp->id : 0;
  parent.sl_child_id = sl ? sl->id : 0;
  if (tp) Park(*tp);
  if (sl) Park(*sl);
}

void Engine::CheckLiquidation(size_t i) {
  // (account, symbol): an isolated position alone, or every cross position of the account.
  std::vector<std::pair<std::string, std::string>> victims;
  // Hedge mode: each side of an isolated market on its own; the cross check once per account.
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& id, const std::string& symbol) {
    if (seen.emplace(id, symbol).second) victims.emplace_back(id, symbol);
  };
  for (const auto& [id, a] : accounts_) {
    bool cross = false;
    for (const auto& [k, p] : a.positions) {
      if (k.first != i || p.size == 0) continue;
      if (p.isolated) {
        // Its own margin only: isolated margin + unrealized PnL against its maintenance margin.
        // (Liquidate closes the market's positions: in hedge mode both sides; our reading.)
        const SimPosition m = Marked(a, p);
        if (p.isolated_margin + m.unrealized_pnl < m.maint_margin) add(id, m.instrument->symbol());
      } else {
        cross = true;
      }
    }
    if (!cross) continue;
    SimBalance b = Balance(id);
    if (b.cross_wallet + b.cross_unrealized >= b.cross_maint_margin) continue;
    for (const auto& [k, p] : a.positions) {
      if (p.size != 0 && !p.isolated) add(id, p.instrument->symbol());
    }
  }
  for (const auto& [id, symbol] : victims) Liquidate(id, symbol);
}

int Engine::Liquidate(std::string_view account, std::string_view symbol) {
  SimAccount* a = MutableAccount(account);
  if (a == nullptr) return 0;
  int closed = 0;
  std::vector<std::pair<size_t, PositionSide>> targets;
  for (const auto& [k, p] : a->positions) {
    if (p.size != 0 && (symbol.empty() || p.instrument->symbol() == symbol)) targets.push_back(k);
  }
  for (const auto& [i, ps] : targets) {
    const SimInstrument& in = market_.instrument(i);
    for (const SimOrder* o : OpenOrders(account, in.symbol())) {
      Finish(*orders_[o->id], OrderStatus::kCanceled, CancelReason::kLiquidation);
    }
    int64_t size = a->positions[{i, ps}].size;
    PlaceRequest req;
    req.account = std::string(account);
    req.symbol = in.symbol();
    req.side = size > 0 ? Side::kSell : Side::kBuy;
    req.type = OrderType::kMarket;
    req.tif = TimeInForce::kIoc;
    req.position_side = ps;
    req.reduce_only = ps == PositionSide::kBoth;
    req.qty = std::llabs(size);
    SimOrder& o = NewOrder(req, in);
    o.client_id = "liquidation-" + std::to_string(o.id);
    o.price = market_.mark_price(i);
    o.status = OrderStatus::kOpen;
    EmitOrder(o, nullptr);
    // Closed at mark with no fee; the fill is flagged so modules can print it as a liquidation.
    SimFill f;
    f.trade_id = next_trade_id_++;
    f.order_id = o.id;
    f.client_id = o.client_id;
    f.account = a->spec.id;
    f.instrument = &in;
    f.side = o.side;
    f.position_side = ps;
    f.price = o.price;
    f.qty = o.qty;
    f.liquidation = true;
    f.time = clock_.Now();
    SettleFill(*a, in, o.side, ps, f.price, f.qty, 0);
    o.filled = o.qty;
    o.filled_notional = in.Notional(f.price, f.qty);
    o.status = OrderStatus::kFilled;
    o.reason = CancelReason::kLiquidation;
    o.updated = f.time;
    account_fills_[a->spec.id].push_back(f);
    EmitOrder(o, &f);
    if (events_) {
      AccountEvent e;
      e.kind = AccountEvent::Kind::kLiquidation;
      e.account = a->spec.id;
      e.time = f.time;
      e.order = o;
      e.has_fill = true;
      e.fill = f;
      e.position = Position(account, i, ps);
      events_(e);
    }
    EmitAccount(*a, i, ps);
    ++closed;
  }
  return closed;
}

void Engine::ApplyFunding(size_t i, int64_t rate) {
  const SimInstrument& in = market_.instrument(i);
  int64_t mark = market_.mark_price(i);
  for (auto& [id, a] : accounts_) {
    for (auto& [k, p] : a.positions) {  // hedge mode: each side pays / receives on its own
      if (k.first != i || p.size == 0) continue;
      // Longs pay shorts when the rate is positive.
      Money payment = -ApplyRate(in.Notional(mark, p.size), rate);
      // Isolated: funding is paid from / into the position's own margin (Binance-family docs:
      // an isolated funding fee pushes that position's isolated wallet).
      (p.isolated ? p.isolated_margin : a.wallet) += payment;
      p.funding += payment;
      if (events_) {
        AccountEvent e;
        e.kind = AccountEvent::Kind::kFunding;
        e.account = id;
        e.time = clock_.Now();
        e.amount = payment;
        e.position = Position(id, i, k.second);
        events_(e);
      }
      EmitAccount(a, i, k.second);
    }
  }
}

}  // namespace perpgw::sim
