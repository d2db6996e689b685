// Pre-trade risk: per-account limits, the kill switch, and the state they are checked against.
// Pure (no I/O, clock or logging: times are passed in); thread-safe (one mutex; every call is
// O(orders or positions of one account)).
//
// What is checked, in this order (the first failing check names itself in the verdict):
//   1. kill switch (account or global): only reduce-only orders pass, and only when the switch
//      was engaged with allow_reduce_only;
//   2. reduce-only mode: only reduce-only orders pass;
//   3. order rate (per second, per minute: orders that passed every check in the window);
//   4. open orders (open at the venue + in flight, incl. this one) <= max_open_orders;
//   5. order notional (price × size; a market order at its worst price) <= max_order_notional;
//   6. price band (limit orders): at most N bps through the opposite touch, at most M bps away
//      from the mark; a band with no reference price rejects (the safe reading);
//   7. position notional (not for reduce-only orders): the worst case if every open order on the
//      order's side fills, plus this order, valued at the mark (else the order's price), per
//      market and summed over the account's markets.
// A passing order is reserved (counted as in flight) until its ack says it was rejected or its
// events say it is done, so two concurrent orders cannot both pass a limit only one fits in.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/mutex.h"
#include "adapters/api/types.h"
#include "adapters/api/venue.h"

namespace perpgw::gateway::risk {

// Absent = not checked.
struct Limits {
  std::optional<Decimal> max_order_notional;
  std::optional<int64_t> max_open_orders;
  std::optional<Decimal> max_position_notional;        // per market
  std::optional<Decimal> max_total_position_notional;  // all markets of the account
  std::optional<int64_t> max_orders_per_second, max_orders_per_minute;
  std::optional<int64_t> max_cancels_per_second, max_cancels_per_minute;
  std::optional<Decimal> price_band_touch_bps;  // limit price through the opposite touch
  std::optional<Decimal> price_band_mark_bps;   // limit price away from the mark
  std::optional<bool> reduce_only;              // only reduce-only orders

  // `over`'s set fields replace this one's.
  Limits Merged(const Limits& over) const;
  bool operator==(const Limits&) const = default;
};

// Validates ranges (non-negative amounts, positive counts): INVALID_ARGUMENT naming the field.
absl::Status Validate(const Limits& l);

// Prices an order's band check needs (absent = unknown).
struct Reference {
  std::optional<Decimal> bid, ask, mark;
};

struct Verdict {
  std::string limit;    // empty: allowed; else the limit's name ("max_order_notional")
  std::string message;  // "order notional 12000.5 exceeds max_order_notional 10000"
  bool ok() const { return limit.empty(); }
};

struct KillSwitch {
  bool engaged = false;
  bool allow_reduce_only = false;
  std::string reason;
  std::string by;  // who engaged it (token name)
  UnixNanos since = 0;
  bool operator==(const KillSwitch&) const = default;
};

// One account's state as the checks see it.
struct AccountState {
  std::string account;
  Limits limits;  // effective (defaults merged with the account's own)
  int64_t open_orders = 0;
  int64_t in_flight = 0;
  int64_t orders_last_second = 0, orders_last_minute = 0;
  int64_t cancels_last_second = 0, cancels_last_minute = 0;
  Decimal total_position_notional;
  std::map<std::string, Decimal> position_notional;  // by symbol
  KillSwitch kill;  // the account's own switch (the global one is separate)
};

class RiskEngine {
 public:
  // Limits for every account, then per-account ones on top (field by field).
  void SetDefaultLimits(const Limits& l);
  void SetAccountLimits(const std::string& account, const Limits& l);
  Limits AccountLimits(const std::string& account) const;  // the account's own (unmerged)
  Limits DefaultLimits() const;
  Limits Effective(const std::string& account) const;
  // Limits of one auth token (a strategy) on top of its accounts' own: order notional, open
  // orders (the token's own), order/cancel rates, price bands and reduce-only. Position limits
  // stay per account (a position is the account's, whoever traded it).
  void SetTokenLimits(const std::string& token, const Limits& l);
  Limits TokenLimits(const std::string& token) const;

  // The pre-trade check; on success the order is reserved under (account, client id). A client
  // id that is already reserved or open passes unchecked (a retry: the order desk answers it).
  // `reserved` (optional) says whether this call reserved the order (false for a retry).
  // `token`: the auth token's name ("" without auth); its limits apply after the account's.
  Verdict CheckOrder(const OrderRequest& r, const Reference& ref, UnixNanos now,
                     bool* reserved = nullptr, const std::string& token = "");
  // The venue's answer to a reserved order. Rejected: the reservation is dropped. Accepted:
  // the order is open until its events end it. Unknown: it stays counted (the safe reading).
  void OnAck(const std::string& account, const std::string& cid, const OrderAck& ack);
  // The order never left (an error before the venue): drop the reservation.
  void Release(const std::string& account, const std::string& cid);
  // A cancel request; counted when allowed. Kill-switch cancels are not checked.
  Verdict CheckCancel(const std::string& account, UnixNanos now, const std::string& token = "");

  // State feeds (from the adapters' events).
  void OnOrder(const Order& o);
  void OnPosition(const Position& p);
  // Mark prices per (venue, symbol), from funding/mark events: the price band's reference.
  void OnMark(const std::string& venue, const std::string& symbol, Decimal mark);
  std::optional<Decimal> Mark(const std::string& venue, const std::string& symbol) const;

  // Kill switch: account "" = global (every account).
  void SetKill(const std::string& account, const KillSwitch& k);
  KillSwitch Kill(const std::string& account) const;
  std::map<std::string, KillSwitch> Kills() const;  // engaged ones, "" = global
  // Persisted form of the engaged switches (one line each; no secrets) and its reader.
  std::string SerializeKills() const;
  absl::Status LoadKills(const std::string& text);

  AccountState State(const std::string& account, UnixNanos now) const;

 private:
  struct Open {
    std::string symbol;
    Side side = Side::kBuy;
    Decimal price, remaining;
    bool reduce_only = false;
    bool in_flight = true;  // reserved, no ack or event yet
  };
  struct Pos {
    Decimal size, mark;
  };
  struct Account {
    Limits limits;
    std::map<std::string, Open> open;  // by client id (venue order id when it has none)
    std::map<std::string, Pos> positions;
    std::deque<UnixNanos> orders, cancels;  // send times within the last minute
    KillSwitch kill;
    std::map<std::string, std::string> owner;  // client id → the token with limits that placed it
  };
  struct Token {
    Limits limits;
    std::deque<UnixNanos> orders, cancels;
    std::map<std::pair<std::string, std::string>, Open> open;  // (account, client id)
  };
  // Drops an order from its account (and its token's) open set.
  void Forget(const std::string& account, Account& a, const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static Verdict CheckRate(std::deque<UnixNanos>& q, UnixNanos now,
                           const std::optional<int64_t>& per_second,
                           const std::optional<int64_t>& per_minute, const char* what,
                           const std::string& scope);
  static void Trim(std::deque<UnixNanos>& q, UnixNanos now);
  static int64_t CountSince(const std::deque<UnixNanos>& q, UnixNanos since);
  Verdict CheckLocked(Account& a, const Limits& l, const OrderRequest& r, const Reference& ref,
                      UnixNanos now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // |position + open orders on `side` (+ extra)| valued at the mark (else `fallback`).
  static absl::StatusOr<Decimal> WorstCase(const Account& a, const std::string& symbol, Side side,
                                           Decimal extra, Decimal fallback);
  static absl::StatusOr<Decimal> Exposure(const Account& a, const std::string& symbol);

  mutable perpgw::Mutex mu_;
  Limits defaults_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Account> accounts_ ABSL_GUARDED_BY(mu_);
  KillSwitch global_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Decimal> marks_ ABSL_GUARDED_BY(mu_);  // "venue/symbol"
  std::map<std::string, Token> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace perpgw::gateway::risk
