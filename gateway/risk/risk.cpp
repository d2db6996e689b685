#include "gateway/risk/risk.h"

#include <sstream>

#include "absl/strings/str_split.h"

namespace perpgw::gateway::risk {
namespace {

constexpr int kNotionalScale = 8;  // notionals rounded up (never under-counted) to 1e-8
constexpr int kRatioScale = 12;
constexpr UnixNanos kSecond = 1000000000LL;
constexpr UnixNanos kMinute = 60 * kSecond;

std::string S(const Decimal& d) {
  return d.ToNormalizedString();
}

template <typename T>
void Over(std::optional<T>& mine, const std::optional<T>& theirs) {
  if (theirs) mine = theirs;
}

bool Terminal(OrderStatus s) {
  return s == OrderStatus::kFilled || s == OrderStatus::kCanceled || s == OrderStatus::kRejected ||
         s == OrderStatus::kExpired;
}

Verdict Deny(std::string limit, std::string message) {
  return {std::move(limit), std::move(message)};
}

// (a - b) / b, rounded away from zero (a deviation is never under-stated).
absl::StatusOr<Decimal> Deviation(Decimal a, Decimal b) {
  auto d = Decimal::Sub(a, b);
  if (!d.ok()) return d.status();
  return Decimal::Div(*d, b, kRatioScale, Rounding::kUp);
}

absl::StatusOr<Decimal> BpsFraction(Decimal bps) {
  return Decimal::Div(bps, Decimal::FromInt(10000), kRatioScale, Rounding::kDown);
}

}  // namespace

Limits Limits::Merged(const Limits& o) const {
  Limits l = *this;
  Over(l.max_order_notional, o.max_order_notional);
  Over(l.max_open_orders, o.max_open_orders);
  Over(l.max_position_notional, o.max_position_notional);
  Over(l.max_total_position_notional, o.max_total_position_notional);
  Over(l.max_orders_per_second, o.max_orders_per_second);
  Over(l.max_orders_per_minute, o.max_orders_per_minute);
  Over(l.max_cancels_per_second, o.max_cancels_per_second);
  Over(l.max_cancels_per_minute, o.max_cancels_per_minute);
  Over(l.price_band_touch_bps, o.price_band_touch_bps);
  Over(l.price_band_mark_bps, o.price_band_mark_bps);
  Over(l.reduce_only, o.reduce_only);
  return l;
}

absl::Status Validate(const Limits& l) {
  auto dec = [](const char* name, const std::optional<Decimal>& v) -> absl::Status {
    if (v && v->IsNegative())
      return absl::InvalidArgumentError(std::string(name) + " must not be negative");
    return absl::OkStatus();
  };
  auto count = [](const char* name, const std::optional<int64_t>& v) -> absl::Status {
    if (v && *v < 0) return absl::InvalidArgumentError(std::string(name) + " must not be negative");
    return absl::OkStatus();
  };
  for (auto st : {dec("max_order_notional", l.max_order_notional),
                  count("max_open_orders", l.max_open_orders),
                  dec("max_position_notional", l.max_position_notional),
                  dec("max_total_position_notional", l.max_total_position_notional),
                  count("max_orders_per_second", l.max_orders_per_second),
                  count("max_orders_per_minute", l.max_orders_per_minute),
                  count("max_cancels_per_second", l.max_cancels_per_second),
                  count("max_cancels_per_minute", l.max_cancels_per_minute),
                  dec("price_band_touch_bps", l.price_band_touch_bps),
                  dec("price_band_mark_bps", l.price_band_mark_bps)}) {
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

void RiskEngine::SetDefaultLimits(const Limits& l) {
  MutexLock lock(&mu_);
  defaults_ = l;
}

void RiskEngine::SetAccountLimits(const std::string& account, const Limits& l) {
  MutexLock lock(&mu_);
  accounts_[account].limits = l;
}

Limits RiskEngine::AccountLimits(const std::string& account) const {
  MutexLock lock(&mu_);
  auto it = accounts_.find(account);
  return it == accounts_.end() ? Limits{} : it->second.limits;
}

Limits RiskEngine::DefaultLimits() const {
  MutexLock lock(&mu_);
  return defaults_;
}

void RiskEngine::SetTokenLimits(const std::string& token, const Limits& l) {
  MutexLock lock(&mu_);
  tokens_[token].limits = l;
}

Limits RiskEngine::TokenLimits(const std::string& token) const {
  MutexLock lock(&mu_);
  auto it = tokens_.find(token);
  return it == tokens_.end() ? Limits{} : it->second.limits;
}

void RiskEngine::Forget(const std::string& account, Account& a, const std::string& key) {
  a.open.erase(key);
  auto o = a.owner.find(key);
  if (o == a.owner.end()) return;
  if (auto t = tokens_.find(o->second); t != tokens_.end()) t->second.open.erase({account, key});
  a.owner.erase(o);
}

Verdict RiskEngine::CheckRate(std::deque<UnixNanos>& q, UnixNanos now,
                              const std::optional<int64_t>& per_second,
                              const std::optional<int64_t>& per_minute, const char* what,
                              const std::string& scope) {
  Trim(q, now);
  const std::string w(what);
  if (per_second) {
    const int64_t n = CountSince(q, now - kSecond);
    if (n + 1 > *per_second) {
      return Deny("max_" + w + "_per_second", std::to_string(n) + " " + w + scope +
                                                  " in the last second; max_" + w + "_per_second " +
                                                  std::to_string(*per_second));
    }
  }
  if (per_minute) {
    const int64_t n = static_cast<int64_t>(q.size());
    if (n + 1 > *per_minute) {
      return Deny("max_" + w + "_per_minute", std::to_string(n) + " " + w + scope +
                                                  " in the last minute; max_" + w + "_per_minute " +
                                                  std::to_string(*per_minute));
    }
  }
  return {};
}

Limits RiskEngine::Effective(const std::string& account) const {
  MutexLock lock(&mu_);
  auto it = accounts_.find(account);
  return it == accounts_.end() ? defaults_ : defaults_.Merged(it->second.limits);
}

void RiskEngine::Trim(std::deque<UnixNanos>& q, UnixNanos now) {
  while (!q.empty() && q.front() <= now - kMinute) q.pop_front();
}

int64_t RiskEngine::CountSince(const std::deque<UnixNanos>& q, UnixNanos since) {
  int64_t n = 0;
  for (auto it = q.rbegin(); it != q.rend() && *it > since; ++it) ++n;
  return n;
}

absl::StatusOr<Decimal> RiskEngine::WorstCase(const Account& a, const std::string& symbol,
                                              Side side, Decimal extra, Decimal fallback) {
  Decimal size, mark = fallback;
  if (auto p = a.positions.find(symbol); p != a.positions.end()) {
    size = p->second.size;
    if (p->second.mark.IsPositive()) mark = p->second.mark;
  }
  Decimal pending = extra;
  for (const auto& [cid, o] : a.open) {
    if (o.symbol != symbol || o.side != side || o.reduce_only) continue;
    auto s = Decimal::Add(pending, o.remaining);
    if (!s.ok()) return s.status();
    pending = *s;
  }
  auto worst = side == Side::kBuy ? Decimal::Add(size, pending) : Decimal::Sub(size, pending);
  if (!worst.ok()) return worst.status();
  return Decimal::Mul(worst->Abs(), mark, kNotionalScale, Rounding::kUp);
}

// The larger of the two sides' worst cases on one market (no order added).
absl::StatusOr<Decimal> RiskEngine::Exposure(const Account& a, const std::string& symbol) {
  Decimal fallback;
  // With no mark, the open orders' own prices value them (the first one found).
  for (const auto& [cid, o] : a.open) {
    if (o.symbol == symbol && o.price.IsPositive()) {
      fallback = o.price;
      break;
    }
  }
  auto b = WorstCase(a, symbol, Side::kBuy, Decimal(), fallback);
  if (!b.ok()) return b.status();
  auto s = WorstCase(a, symbol, Side::kSell, Decimal(), fallback);
  if (!s.ok()) return s.status();
  return *b > *s ? *b : *s;
}

Verdict RiskEngine::CheckLocked(Account& a, const Limits& l, const OrderRequest& r,
                                const Reference& ref, UnixNanos now) const {
  // 1. Kill switch.
  for (const KillSwitch* k :
       {static_cast<const KillSwitch*>(&global_), static_cast<const KillSwitch*>(&a.kill)}) {
    if (!k->engaged) continue;
    if (r.reduce_only && k->allow_reduce_only) continue;
    std::string scope = k == &global_ ? "kill switch (all accounts)" : "kill switch (account)";
    return Deny("kill_switch",
                scope + " engaged" + (k->reason.empty() ? "" : ": " + k->reason) +
                    (k->allow_reduce_only ? "; only reduce-only orders pass" : "; no new orders"));
  }
  // 2. Reduce-only mode.
  if (l.reduce_only.value_or(false) && !r.reduce_only) {
    return Deny("reduce_only", "account is in reduce-only mode (reduce_only true)");
  }
  // 3. Order rate.
  if (Verdict v =
          CheckRate(a.orders, now, l.max_orders_per_second, l.max_orders_per_minute, "orders", "");
      !v.ok()) {
    return v;
  }
  // 4. Open orders (open + in flight + this one).
  if (l.max_open_orders) {
    const int64_t n = static_cast<int64_t>(a.open.size());
    if (n + 1 > *l.max_open_orders) {
      return Deny("max_open_orders", std::to_string(n) + " orders open or in flight; " +
                                         "max_open_orders " + std::to_string(*l.max_open_orders));
    }
  }
  // 5. Order notional.
  const Decimal px = r.type == OrderType::kMarket ? r.worst_price : r.price;
  auto notional = Decimal::Mul(px, r.size.Abs(), kNotionalScale, Rounding::kUp);
  if (!notional.ok())
    return Deny("overflow",
                "order notional overflows: " + std::string(notional.status().message()));
  if (l.max_order_notional && *notional > *l.max_order_notional) {
    return Deny("max_order_notional", "order notional " + S(*notional) +
                                          " exceeds max_order_notional " +
                                          S(*l.max_order_notional));
  }
  // 6. Price band (limit orders; a market order's worst price is the gateway's own bound).
  if (r.type == OrderType::kLimit && l.price_band_touch_bps) {
    const std::optional<Decimal>& touch = r.side == Side::kBuy ? ref.ask : ref.bid;
    if (!touch || !touch->IsPositive()) {
      return Deny("price_band_touch_bps", "no live opposite touch to check price_band_touch_bps " +
                                              S(*l.price_band_touch_bps) + " against; retry");
    }
    // Buy: (price − ask) / ask; sell: (bid − price) / bid.
    auto diff =
        r.side == Side::kBuy ? Decimal::Sub(r.price, *touch) : Decimal::Sub(*touch, r.price);
    if (!diff.ok()) return Deny("overflow", "price band arithmetic overflows");
    auto dev = Decimal::Div(*diff, *touch, kRatioScale, Rounding::kUp);
    auto lim = BpsFraction(*l.price_band_touch_bps);
    if (!dev.ok() || !lim.ok()) return Deny("overflow", "price band arithmetic overflows");
    if (*dev > *lim) {
      return Deny("price_band_touch_bps",
                  std::string(r.side == Side::kBuy ? "buy" : "sell") + " price " + S(r.price) +
                      " is more than " + S(*l.price_band_touch_bps) + " bps through the " +
                      (r.side == Side::kBuy ? "best ask " : "best bid ") + S(*touch) +
                      " (price_band_touch_bps " + S(*l.price_band_touch_bps) + ")");
    }
  }
  if (r.type == OrderType::kLimit && l.price_band_mark_bps) {
    if (!ref.mark || !ref.mark->IsPositive()) {
      return Deny("price_band_mark_bps", "no mark price to check price_band_mark_bps " +
                                             S(*l.price_band_mark_bps) + " against; retry");
    }
    auto dev = Deviation(r.price, *ref.mark);
    auto lim = BpsFraction(*l.price_band_mark_bps);
    if (!dev.ok() || !lim.ok()) return Deny("overflow", "price band arithmetic overflows");
    if (dev->Abs() > *lim) {
      return Deny("price_band_mark_bps", "price " + S(r.price) + " is more than " +
                                             S(*l.price_band_mark_bps) + " bps from the mark " +
                                             S(*ref.mark) + " (price_band_mark_bps " +
                                             S(*l.price_band_mark_bps) + ")");
    }
  }
  // 7. Position notional (reduce-only orders cannot grow a position).
  if (!r.reduce_only && (l.max_position_notional || l.max_total_position_notional)) {
    const Decimal fallback = ref.mark && ref.mark->IsPositive() ? *ref.mark : px;
    auto mine = WorstCase(a, r.symbol, r.side, r.size.Abs(), fallback);
    if (!mine.ok()) return Deny("overflow", "position notional overflows");
    if (l.max_position_notional && *mine > *l.max_position_notional) {
      return Deny("max_position_notional", "worst-case position notional on " + r.symbol + " " +
                                               S(*mine) + " (position + open " +
                                               (r.side == Side::kBuy ? "buys" : "sells") +
                                               " + this order) exceeds max_position_notional " +
                                               S(*l.max_position_notional));
    }
    if (l.max_total_position_notional) {
      Decimal total = *mine;
      std::map<std::string, bool> seen{{r.symbol, true}};
      auto add = [&](const std::string& sym) -> bool {
        if (seen.count(sym)) return true;
        seen[sym] = true;
        auto e = Exposure(a, sym);
        if (!e.ok()) return false;
        auto t = Decimal::Add(total, *e);
        if (!t.ok()) return false;
        total = *t;
        return true;
      };
      bool ok = true;
      for (const auto& [sym, p] : a.positions) ok = ok && add(sym);
      for (const auto& [cid, o] : a.open) ok = ok && add(o.symbol);
      if (!ok) return Deny("overflow", "total position notional overflows");
      if (total > *l.max_total_position_notional) {
        return Deny("max_total_position_notional",
                    "worst-case position notional over all markets " + S(total) +
                        " exceeds max_total_position_notional " +
                        S(*l.max_total_position_notional));
      }
    }
  }
  return {};
}

Verdict RiskEngine::CheckOrder(const OrderRequest& r, const Reference& ref, UnixNanos now,
                               bool* reserved, const std::string& token) {
  if (reserved) *reserved = false;
  MutexLock lock(&mu_);
  Account& a = accounts_[r.account];
  if (a.open.count(r.client_order_id)) return {};  // a retry: the desk answers it
  const Limits l = defaults_.Merged(a.limits);
  Verdict v = CheckLocked(a, l, r, ref, now);
  if (!v.ok()) return v;
  // The token's own limits, checked against the token's own orders and rates (a view of the
  // account that holds only them; position limits stay the account's).
  Token* t = nullptr;
  if (auto it = tokens_.find(token); !token.empty() && it != tokens_.end()) t = &it->second;
  if (t) {
    Trim(t->orders, now);
    Account view;  // no positions: the token's position limits are reset below
    for (const auto& [key, o] : t->open)
      if (key.first == r.account) view.open[key.second] = o;
    view.orders = t->orders;
    Limits tl = t->limits;
    tl.max_position_notional.reset();
    tl.max_total_position_notional.reset();
    Verdict tv = CheckLocked(view, tl, r, ref, now);
    if (!tv.ok()) {
      tv.message = "token '" + token + "': " + tv.message;
      return tv;
    }
    // Open orders across all the token's accounts.
    if (tl.max_open_orders && static_cast<int64_t>(t->open.size()) + 1 > *tl.max_open_orders) {
      return Deny("max_open_orders", "token '" + token + "': " + std::to_string(t->open.size()) +
                                         " orders open or in flight; max_open_orders " +
                                         std::to_string(*tl.max_open_orders));
    }
  }
  Open o;
  o.symbol = r.symbol;
  o.side = r.side;
  o.price = r.type == OrderType::kMarket ? r.worst_price : r.price;
  o.remaining = r.size.Abs();
  o.reduce_only = r.reduce_only;
  a.open[r.client_order_id] = o;
  a.orders.push_back(now);
  if (t) {
    t->open[{r.account, r.client_order_id}] = o;
    t->orders.push_back(now);
    a.owner[r.client_order_id] = token;
  }
  if (reserved) *reserved = true;
  return {};
}

void RiskEngine::OnAck(const std::string& account, const std::string& cid, const OrderAck& ack) {
  MutexLock lock(&mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return;
  auto o = it->second.open.find(cid);
  if (o == it->second.open.end()) return;
  if (ack.outcome == AckOutcome::kRejected || Terminal(ack.order.status)) {
    // Terminal here is final (an IOC that filled or expired); its fills reached the
    // position through the account stream.
    if (ack.outcome != AckOutcome::kOutcomeUnknown) Forget(account, it->second, cid);
    return;
  }
  if (ack.outcome == AckOutcome::kAccepted) {
    o->second.in_flight = false;
    auto rem = Decimal::Sub(ack.order.size, ack.order.filled_size);
    if (rem.ok() && ack.order.size.IsPositive()) o->second.remaining = rem->Abs();
  }
}

void RiskEngine::Release(const std::string& account, const std::string& cid) {
  MutexLock lock(&mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return;
  auto o = it->second.open.find(cid);
  if (o == it->second.open.end() || !o->second.in_flight) return;
  Forget(account, it->second, cid);
  // The rate window keeps the attempt: it was allowed, and a loop of failing sends is still
  // a loop the limit is there to slow.
}

Verdict RiskEngine::CheckCancel(const std::string& account, UnixNanos now,
                                const std::string& token) {
  MutexLock lock(&mu_);
  Account& a = accounts_[account];
  const Limits l = defaults_.Merged(a.limits);
  if (Verdict v = CheckRate(a.cancels, now, l.max_cancels_per_second, l.max_cancels_per_minute,
                            "cancels", "");
      !v.ok()) {
    return v;
  }
  Token* t = nullptr;
  if (auto it = tokens_.find(token); !token.empty() && it != tokens_.end()) t = &it->second;
  if (t) {
    if (Verdict v =
            CheckRate(t->cancels, now, t->limits.max_cancels_per_second,
                      t->limits.max_cancels_per_minute, "cancels", " of token '" + token + "'");
        !v.ok()) {
      return v;
    }
    t->cancels.push_back(now);
  }
  a.cancels.push_back(now);
  return {};
}

void RiskEngine::OnOrder(const Order& o) {
  const std::string& key = o.client_order_id.empty() ? o.order_id : o.client_order_id;
  if (key.empty() || o.account.empty()) return;
  MutexLock lock(&mu_);
  Account& a = accounts_[o.account];
  if (Terminal(o.status)) {
    Forget(o.account, a, key);
    return;
  }
  if (o.status == OrderStatus::kPendingNew) return;  // not at the venue yet
  Open& e = a.open[key];
  e.symbol = o.symbol;
  e.side = o.side;
  if (o.price.IsPositive()) e.price = o.price;
  e.reduce_only = o.reduce_only;
  e.in_flight = false;
  auto rem = Decimal::Sub(o.size, o.filled_size);
  if (rem.ok()) e.remaining = rem->Abs();
}

void RiskEngine::OnPosition(const Position& p) {
  if (p.account.empty()) return;
  MutexLock lock(&mu_);
  Account& a = accounts_[p.account];
  if (p.size.IsZero()) {
    a.positions.erase(p.symbol);
    return;
  }
  Pos& e = a.positions[p.symbol];
  e.size = p.size;
  if (p.mark_price && p.mark_price->IsPositive()) e.mark = *p.mark_price;
}

void RiskEngine::OnMark(const std::string& venue, const std::string& symbol, Decimal mark) {
  if (!mark.IsPositive()) return;
  MutexLock lock(&mu_);
  marks_[venue + "/" + symbol] = mark;
}

std::optional<Decimal> RiskEngine::Mark(const std::string& venue, const std::string& symbol) const {
  MutexLock lock(&mu_);
  auto it = marks_.find(venue + "/" + symbol);
  if (it == marks_.end()) return std::nullopt;
  return it->second;
}

void RiskEngine::SetKill(const std::string& account, const KillSwitch& k) {
  MutexLock lock(&mu_);
  if (account.empty())
    global_ = k;
  else
    accounts_[account].kill = k;
}

KillSwitch RiskEngine::Kill(const std::string& account) const {
  MutexLock lock(&mu_);
  if (account.empty()) return global_;
  auto it = accounts_.find(account);
  return it == accounts_.end() ? KillSwitch{} : it->second.kill;
}

std::map<std::string, KillSwitch> RiskEngine::Kills() const {
  MutexLock lock(&mu_);
  std::map<std::string, KillSwitch> out;
  if (global_.engaged) out[""] = global_;
  for (const auto& [id, a] : accounts_)
    if (a.kill.engaged) out[id] = a.kill;
  return out;
}

// One line per engaged switch: "kill\t<account or *>\t<allow_reduce_only 0|1>\t<since ns>\t
// <by>\t<reason>" (tabs and newlines in by/reason replaced by spaces).
std::string RiskEngine::SerializeKills() const {
  auto clean = [](std::string s) {
    for (char& c : s)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
  };
  std::ostringstream out;
  out << "perpgw-risk 1\n";
  for (const auto& [id, k] : Kills()) {
    out << "kill\t" << (id.empty() ? "*" : clean(id)) << '\t' << (k.allow_reduce_only ? 1 : 0)
        << '\t' << k.since << '\t' << clean(k.by) << '\t' << clean(k.reason) << '\n';
  }
  return out.str();
}

absl::Status RiskEngine::LoadKills(const std::string& text) {
  std::vector<std::pair<std::string, KillSwitch>> parsed;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++line_no;
    if (line_no == 1) {
      if (line != "perpgw-risk 1")
        return absl::DataLossError("risk state: unknown header '" + std::string(line) + "'");
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 6 || f[0] != "kill" || (f[2] != "0" && f[2] != "1")) {
      return absl::DataLossError("risk state line " + std::to_string(line_no) + " is malformed");
    }
    KillSwitch k;
    k.engaged = true;
    k.allow_reduce_only = f[2] == "1";
    try {
      k.since = std::stoll(f[3]);
    } catch (...) {
      return absl::DataLossError("risk state line " + std::to_string(line_no) + ": bad time '" +
                                 f[3] + "'");
    }
    k.by = f[4];
    k.reason = f[5];
    parsed.emplace_back(f[1] == "*" ? "" : f[1], k);
  }
  if (line_no == 0 && !text.empty()) return absl::DataLossError("risk state: no header");
  for (auto& [id, k] : parsed) SetKill(id, k);
  return absl::OkStatus();
}

AccountState RiskEngine::State(const std::string& account, UnixNanos now) const {
  MutexLock lock(&mu_);
  AccountState s;
  s.account = account;
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    s.limits = defaults_;
    return s;
  }
  const Account& a = it->second;
  s.limits = defaults_.Merged(a.limits);
  for (const auto& [cid, o] : a.open) (o.in_flight ? s.in_flight : s.open_orders)++;
  s.orders_last_second = CountSince(a.orders, now - kSecond);
  s.orders_last_minute = CountSince(a.orders, now - kMinute);
  s.cancels_last_second = CountSince(a.cancels, now - kSecond);
  s.cancels_last_minute = CountSince(a.cancels, now - kMinute);
  std::map<std::string, bool> syms;
  for (const auto& [sym, p] : a.positions) syms[sym] = true;
  for (const auto& [cid, o] : a.open) syms[o.symbol] = true;
  for (const auto& [sym, _] : syms) {
    auto e = Exposure(a, sym);
    if (!e.ok()) continue;
    s.position_notional[sym] = *e;
    auto t = Decimal::Add(s.total_position_notional, *e);
    if (t.ok()) s.total_position_notional = *t;
  }
  s.kill = a.kill;
  return s;
}

}  // namespace perpgw::gateway::risk
