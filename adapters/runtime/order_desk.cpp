// Order desk: idempotent placement, unknown-outcome resolution, journal and reconcile.
#include "adapters/runtime/order_desk.h"

#include <utility>

#include <algorithm>
#include <map>

namespace perpgw::runtime {

OrderDesk::SubmitResult OrderDesk::SubmitResult::FromVenueError(const VenueError& e) {
  SubmitResult res;
  res.venue_answered = e.http_status != 0;
  res.ack.message = e.message;
  if (e.rate_limited()) {
    res.ack.outcome = AckOutcome::kOutcomeUnknown;
    res.refused_before_engine = true;
    return res;
  }
  if (e.retry == RetryClass::kUnknownOutcome) {
    res.ack.outcome = AckOutcome::kOutcomeUnknown;
    return res;
  }
  res.ack.outcome = AckOutcome::kRejected;
  res.ack.reason = e.reason == CancelReason::kNone ? CancelReason::kRejected : e.reason;
  res.ack.retryable = e.retry == RetryClass::kRetryable;
  res.duplicate_client_id = e.duplicate_client_id;
  return res;
}
void OrderDesk::SubmitResult::ApplyVenueError(const VenueError& e) {
  const SubmitResult rule = FromVenueError(e);
  ack.outcome = rule.ack.outcome;
  ack.retryable = rule.ack.retryable;
  if (rule.ack.outcome == AckOutcome::kRejected) ack.reason = rule.ack.reason;
  refused_before_engine = rule.refused_before_engine;
  duplicate_client_id = rule.duplicate_client_id;
}

namespace {

std::string Trunc(const std::string& s, size_t n = 64) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

int Rank(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPendingNew: return 0;
    case OrderStatus::kOpen: return 1;
    case OrderStatus::kPartiallyFilled: return 2;
    default: return 3;  // terminal
  }
}

// Folds a venue view of the order into the entry without ever moving backwards (a late REST
// answer must not undo a newer stream event). True when anything changed.
bool Merge(JournalEntry& e, const Order& o) {
  bool changed = false;
  if (!o.order_id.empty() && e.venue_order_id != o.order_id) {
    e.venue_order_id = o.order_id;
    changed = true;
  }
  const bool terminal = IsTerminal(e.status);
  if (!terminal && o.status != e.status && Rank(o.status) >= Rank(e.status)) {
    e.status = o.status;
    if (o.reason != CancelReason::kNone) e.reason = o.reason;
    changed = true;
  }
  if (o.filled_size > e.filled_size) {
    e.filled_size = o.filled_size;
    if (o.avg_fill_price && o.avg_fill_price->IsPositive()) e.avg_fill_price = *o.avg_fill_price;
    changed = true;
  }
  return changed;
}

}  // namespace

OrderRequest WireRequest(const OrderRequest& req) {
  OrderRequest wire = req;
  if (req.type == OrderType::kMarket) {
    wire.type = OrderType::kLimit;
    wire.tif = TimeInForce::kIoc;
    wire.price = req.worst_price;
  }
  return wire;
}

std::string RequestMismatch(const JournalEntry& e, const OrderRequest& r) {
  auto diff = [](const char* field, const std::string& a, const std::string& b) {
    return std::string(field) + ": first " + Trunc(a) + ", now " + Trunc(b);
  };
  if (e.symbol != r.symbol) return diff("symbol", e.symbol, r.symbol);
  if (e.side != r.side) return diff("side", ToString(e.side), ToString(r.side));
  if (e.type != r.type) {
    return diff("type", e.type == OrderType::kMarket ? "market" : "limit",
                r.type == OrderType::kMarket ? "market" : "limit");
  }
  if (e.tif != r.tif) {
    return diff("time_in_force", std::to_string(static_cast<int>(e.tif)),
                std::to_string(static_cast<int>(r.tif)));
  }
  if (e.type == OrderType::kLimit && e.price != r.price) {
    return diff("price", e.price.ToNormalizedString(), r.price.ToNormalizedString());
  }
  if (e.size != r.size)
    return diff("size", e.size.ToNormalizedString(), r.size.ToNormalizedString());
  if (e.reduce_only != r.reduce_only) {
    return diff("reduce_only", e.reduce_only ? "true" : "false", r.reduce_only ? "true" : "false");
  }
  if (e.type == OrderType::kMarket && e.max_slippage_bps != r.max_slippage_bps) {
    return diff("max_slippage_bps", e.max_slippage_bps.ToNormalizedString(),
                r.max_slippage_bps.ToNormalizedString());
  }
  return "";
}

absl::StatusOr<std::unique_ptr<OrderDesk>> OrderDesk::Open(Options opts, const Clock& clock) {
  auto desk = std::unique_ptr<OrderDesk>(new OrderDesk(std::move(opts), clock));
  if (!desk->opts_.journal_path.empty()) {
    OrderJournal::Replay replay;
    auto j = OrderJournal::Open({desk->opts_.journal_path, desk->opts_.fsync}, &replay);
    if (!j.ok()) return j.status();
    desk->journal_ = std::move(*j);
    for (auto& e : replay.entries) {
      // A request that was in flight when the process died may or may not have executed.
      if (e.state == EntryState::kInFlight) e.state = EntryState::kUnknown;
      const bool open = e.state == EntryState::kUnknown ||
                        (e.state == EntryState::kAccepted && !IsTerminal(e.status));
      if (open) desk->ready_ = false;  // Reconcile() first
      desk->start_pass_ = true;
      std::string key = e.Key();
      desk->entries_[key] = std::move(e);
    }
    desk->Evict();
    desk->MaybeCompact();
  }
  return desk;
}

std::vector<const JournalEntry*> OrderDesk::Entries() const {
  std::vector<const JournalEntry*> v;
  v.reserve(entries_.size());
  for (const auto& [k, e] : entries_) v.push_back(&e);
  return v;
}

JournalEntry* OrderDesk::Find(const std::string& account, const std::string& cid) {
  auto it = entries_.find(JournalEntry::Key(account, cid));
  return it == entries_.end() ? nullptr : &it->second;
}

absl::Status OrderDesk::Persist(JournalEntry& e, bool sync) {
  e.updated = clock_.Now();
  if (!journal_) return absl::OkStatus();
  return journal_->Append(e, sync);
}

Order OrderDesk::OrderFrom(const JournalEntry& e) const {
  Order o;
  o.venue = opts_.venue;
  o.account = e.account;
  o.symbol = e.symbol;
  o.order_id = e.venue_order_id;
  o.client_order_id = e.client_order_id;
  o.side = e.side;
  o.type = e.type;
  o.tif = e.tif;
  o.price = e.price;
  o.size = e.size;
  o.filled_size = e.filled_size;
  if (e.avg_fill_price.IsPositive()) o.avg_fill_price = e.avg_fill_price;  // 0: none known
  o.reduce_only = e.reduce_only;
  o.status = e.status;
  o.reason = e.reason;
  o.reason_text = e.message;
  o.updated_time = e.updated;
  return o;
}

OrderAck OrderDesk::AckFrom(const JournalEntry& e, AckOutcome outcome) const {
  OrderAck ack;
  ack.outcome = outcome;
  ack.order = OrderFrom(e);
  ack.reason = outcome == AckOutcome::kRejected ? e.reason : CancelReason::kNone;
  ack.message = e.message;
  ack.retryable = outcome == AckOutcome::kOutcomeUnknown;
  return ack;
}

void OrderDesk::Annotate(Order& o) const {
  if (o.client_order_id.empty()) return;
  auto it = entries_.find(JournalEntry::Key(o.account, o.client_order_id));
  if (it != entries_.end() && it->second.type == OrderType::kMarket) o.type = OrderType::kMarket;
}

std::optional<Order> OrderDesk::Known(const std::string& account, const std::string& cid) const {
  auto it = entries_.find(JournalEntry::Key(account, cid));
  if (it == entries_.end()) return std::nullopt;
  return OrderFrom(it->second);
}

std::optional<Order> OrderDesk::RecordAmend(const Order& amended) {
  if (amended.client_order_id.empty()) return std::nullopt;
  JournalEntry* e = Find(amended.account, amended.client_order_id);
  if (!e) return std::nullopt;
  bool changed = false;
  // Only a limit order is amended (a market order's entry price is its worst price, never
  // the venue's); a zero from the venue means "not given", never a new value.
  if (e->type == OrderType::kLimit && amended.price.IsPositive() && e->price != amended.price) {
    e->price = amended.price;
    changed = true;
  }
  if (amended.size.IsPositive() && e->size != amended.size) {
    e->size = amended.size;
    changed = true;
  }
  if (e->state != EntryState::kAccepted) {
    // The venue amended it, so it has it: settles an in-flight or unknown place.
    changed = MarkAccepted(*e, amended) || changed;
  } else {
    changed = Merge(*e, amended) || changed;
  }
  Order o = Reported(*e, amended);
  o.price = e->price;
  o.size = e->size;
  if (changed) {
    (void)Persist(*e, false);
    PublishState(o);
    MaybeCompact();
  }
  return o;
}

void OrderDesk::Place(const OrderRequest& req, int64_t window_ns, Callback<OrderAck> done) {
  const OrderRequest wire = WireRequest(req);
  if (!ready_) {
    return done(absl::UnavailableError("the order desk is reconciling its journal with " +
                                       opts_.venue + " after a restart; retry shortly"));
  }
  if (JournalEntry* e = Find(req.account, req.client_order_id)) {
    if (auto mm = RequestMismatch(*e, req); !mm.empty()) {
      return done(absl::AlreadyExistsError("client_order_id '" + Trunc(req.client_order_id) +
                                           "' was already used for a different order (" + mm +
                                           "); use a new client_order_id"));
    }
    switch (e->state) {
      case EntryState::kInFlight:
        return done(absl::AbortedError("an order with client_order_id '" +
                                       Trunc(req.client_order_id) +
                                       "' is in flight; retry after it is acknowledged"));
      case EntryState::kAccepted: {
        OrderAck ack = AckFrom(*e, AckOutcome::kAccepted);
        ack.message =
            "duplicate client_order_id: returning the original order (state as last known)";
        return done(ack);
      }
      case EntryState::kRejected: {
        OrderAck ack = AckFrom(*e, AckOutcome::kRejected);
        ack.message = "duplicate client_order_id: the original was rejected: " + e->message;
        return done(ack);
      }
      case EntryState::kUnknown:
        return Resolve(e, req, wire, window_ns, /*resend=*/true, std::move(done));
      case EntryState::kNotExecuted: return Send(e, req, wire, window_ns, std::move(done));
    }
  }
  if (entries_.size() >= opts_.max_entries) Evict();
  if (entries_.size() >= opts_.max_entries) {
    return done(
        absl::ResourceExhaustedError("order desk holds " + std::to_string(entries_.size()) +
                                     " orders that are not final; no room to track a new one"));
  }
  JournalEntry ne;
  ne.account = req.account;
  ne.client_order_id = req.client_order_id;
  ne.symbol = req.symbol;
  ne.side = req.side;
  ne.type = req.type;
  ne.tif = req.tif;
  ne.price = req.type == OrderType::kMarket ? wire.price : req.price;
  ne.size = req.size;
  ne.max_slippage_bps = req.max_slippage_bps;
  ne.reduce_only = req.reduce_only;
  if (hooks_.assign_venue_id) {
    auto id = hooks_.assign_venue_id(req.account, req.client_order_id);
    if (!id.ok()) return done(id.status());
    ne.venue_client_id = *id;
  }
  std::string key = ne.Key();
  JournalEntry* e = &(entries_[key] = std::move(ne));
  Send(e, req, wire, window_ns, std::move(done));
}

void OrderDesk::Submit(const OrderRequest& wire, const JournalEntry& e, SubmitDone done) {
  if (wire.batch_id != 0 && batches()) {
    if (auto it = open_batches_.find(wire.batch_id); it != open_batches_.end()) {
      it->second.push_back(BatchItem{wire, e, std::move(done)});
      return;
    }
  }
  hooks_.submit(wire, e, std::move(done));
}

void OrderDesk::OpenBatch(uint64_t id) {
  if (id != 0) open_batches_.try_emplace(id);
}

void OrderDesk::CloseBatch(uint64_t id) {
  auto it = open_batches_.find(id);
  if (it == open_batches_.end()) return;
  std::vector<BatchItem> held = std::move(it->second);
  open_batches_.erase(it);
  // A venue batch request is signed by one account: group by account (first-seen order), then
  // chunks of at most max_batch in the order the orders arrived.
  std::vector<std::vector<BatchItem>> by_account;
  for (BatchItem& item : held) {
    auto group = std::find_if(by_account.begin(), by_account.end(), [&](const auto& g) {
      return g.front().wire.account == item.wire.account;
    });
    if (group == by_account.end()) group = by_account.emplace(by_account.end());
    group->push_back(std::move(item));
  }
  const size_t cap = std::max<size_t>(hooks_.max_batch, 1);
  for (auto& group : by_account) {
    for (size_t i = 0; i < group.size(); i += cap) {
      const size_t n = std::min(cap, group.size() - i);
      if (n == 1) {
        BatchItem& one = group[i];
        hooks_.submit(one.wire, one.entry, std::move(one.done));
        continue;
      }
      std::vector<BatchItem> chunk;
      chunk.reserve(n);
      for (size_t j = i; j < i + n; ++j) chunk.push_back(std::move(group[j]));
      hooks_.submit_batch(std::move(chunk));
    }
  }
}

void OrderDesk::Send(JournalEntry* e, const OrderRequest& req, const OrderRequest& wire,
                     int64_t window_ns, Callback<OrderAck> done) {
  const EntryState before = e->state;
  const UnixNanos now = clock_.Now();
  e->state = EntryState::kInFlight;
  e->sent_time = now;
  e->expires = now + window_ns + opts_.clock_slack_ns;
  if (auto st = Persist(*e, /*sync=*/true); !st.ok()) {
    // Nothing left: the order must not go out unless it is on disk first.
    if (before == EntryState::kInFlight) {
      entries_.erase(e->Key());
    } else {
      e->state = before;
    }
    return done(absl::UnavailableError("order not sent: " + std::string(st.message())));
  }
  const std::string key = e->Key();
  Submit(wire, *e, [this, key, req, wire, window_ns, done](SubmitResult r) mutable {
    auto it = entries_.find(key);
    if (it == entries_.end()) return done(absl::InternalError("order desk entry vanished"));
    JournalEntry& e = it->second;
    if (!r.error.ok()) {
      e.state = EntryState::kNotExecuted;
      e.message = std::string(r.error.message());
      (void)Persist(e, false);
      return done(r.error);
    }
    switch (r.ack.outcome) {
      case AckOutcome::kAccepted: {
        OrderAck ack;
        Accept(e, r.ack.order, r.ack.message, &ack);
        return done(ack);
      }
      case AckOutcome::kRejected:
        if (!r.duplicate_client_id) {
          e.state = EntryState::kRejected;
          e.status = OrderStatus::kRejected;
          e.reason = r.ack.reason == CancelReason::kNone ? CancelReason::kRejected : r.ack.reason;
          e.message = r.ack.message;
          (void)Persist(e, false);
          OrderAck ack = AckFrom(e, AckOutcome::kRejected);
          ack.retryable = r.ack.retryable;
          if (hooks_.publish) hooks_.publish(OrderEvent{ack.order, std::nullopt, 0, clock_.Now()});
          return done(ack);
        }
        // The venue already has this client id: it is our order. Look it up.
        e.state = EntryState::kUnknown;
        e.message = "venue reports the client id exists: " + r.ack.message;
        (void)Persist(e, false);
        break;
      case AckOutcome::kOutcomeUnknown:
        e.state = EntryState::kUnknown;
        e.message = r.ack.message;
        // The venue answered without running it (429/418): nothing of it is left in flight.
        if (r.refused_before_engine) e.expires = clock_.Now();
        (void)Persist(e, false);
        break;
    }
    Resolve(&e, req, wire, window_ns, /*resend=*/false, std::move(done));
  });
}

void OrderDesk::Resolve(JournalEntry* entry, const OrderRequest& req, const OrderRequest& wire,
                        int64_t window_ns, bool resend, Callback<OrderAck> done) {
  const std::string key = entry->Key();
  hooks_.query(*entry, [this, key, req, wire, window_ns, resend, done](QueryResult q) mutable {
    auto it = entries_.find(key);
    if (it == entries_.end()) return done(absl::InternalError("order desk entry vanished"));
    JournalEntry& e = it->second;
    if (e.state == EntryState::kAccepted) {  // an order event settled it meanwhile
      OrderAck ack = AckFrom(e, AckOutcome::kAccepted);
      ack.message = "accepted (the venue reported the order)";
      return done(ack);
    }
    if (q.found == Found::kFound) {
      OrderAck ack;
      Accept(e, q.order, "accepted (confirmed by query after an unknown outcome)", &ack);
      return done(ack);
    }
    const UnixNanos now = clock_.Now();
    if (q.found == Found::kNotFound && now >= e.expires) {
      // Its request can no longer execute and the venue does not have it: never executed.
      e.state = EntryState::kNotExecuted;
      (void)Persist(e, false);
      if (resend) return Send(&e, req, wire, window_ns, std::move(done));
      OrderAck ack = AckFrom(e, AckOutcome::kOutcomeUnknown);
      ack.message = "not executed (" + Trunc(e.message, 200) +
                    "); retry the same client_order_id to send it again";
      return done(ack);
    }
    OrderAck ack = AckFrom(e, AckOutcome::kOutcomeUnknown);
    if (q.found == Found::kNotFound) {
      const int64_t wait_ms = (e.expires - now) / 1000000 + 1;
      ack.message = "outcome unknown (" + Trunc(e.message, 200) +
                    "): not at the venue yet, but the request can still execute for " +
                    std::to_string(wait_ms) + " ms; retry the same client_order_id after that";
    } else {
      ack.message = "outcome unknown (" + Trunc(e.message, 200) + "); lookup failed (" +
                    Trunc(q.error, 200) + "); retry the same client_order_id";
    }
    done(ack);
  });
}

bool OrderDesk::MarkAccepted(JournalEntry& e, const Order& venue_order) {
  const bool was_accepted = e.state == EntryState::kAccepted;
  e.state = EntryState::kAccepted;
  const bool changed = Merge(e, venue_order) || !was_accepted;
  // An accepted order rests unless the venue says it is still pending: Lighter's sequencer
  // accepts a tx before executing it, and the ack must not claim the order is open.
  if (e.status == OrderStatus::kPendingNew && venue_order.status != OrderStatus::kPendingNew) {
    e.status = OrderStatus::kOpen;
  }
  return changed;
}

Order OrderDesk::Reported(const JournalEntry& e, Order venue_order) const {
  Order& o = venue_order;
  o.venue = opts_.venue;
  o.account = e.account;
  o.client_order_id = e.client_order_id;
  o.symbol = e.symbol;
  o.type = e.type;
  o.status = e.status;
  o.filled_size = e.filled_size;
  if (e.avg_fill_price.IsPositive()) o.avg_fill_price = e.avg_fill_price;  // 0: none known
  if (o.order_id.empty()) o.order_id = e.venue_order_id;
  return o;
}

void OrderDesk::PublishState(const Order& o) {
  if (hooks_.publish) hooks_.publish(OrderEvent{o, std::nullopt, o.updated_time, clock_.Now()});
}

void OrderDesk::Accept(JournalEntry& e, const Order& venue_order, const std::string& message,
                       OrderAck* ack_out) {
  const bool changed = MarkAccepted(e, venue_order);
  e.message = message;
  (void)Persist(e, false);
  OrderAck ack;
  ack.outcome = AckOutcome::kAccepted;
  ack.order = Reported(e, venue_order);
  ack.message = message;
  // The ack goes out as an order event too, so GetOrder and the stream never lag it; a state
  // the stream already carried is not repeated.
  if (changed) PublishState(ack.order);
  *ack_out = std::move(ack);
}

bool OrderDesk::OnOrderEvent(OrderEvent& ev) {
  Order& o = ev.order;
  if (o.client_order_id.empty()) return true;
  JournalEntry* e = Find(o.account, o.client_order_id);
  if (!e) return true;
  if (e->type == OrderType::kMarket) o.type = OrderType::kMarket;
  bool changed = false;
  if (e->state != EntryState::kAccepted) {
    // The venue has it: this settles an in-flight or unknown outcome.
    e->state = EntryState::kAccepted;
    changed = true;
  }
  changed = Merge(*e, o) || changed;
  if (ev.fill.has_value()) AddFillTold(e->Key(), ev.fill->size);
  // Not fsync'ed: durability is owed before an order leaves (Send); a later state lost to a
  // power cut is looked up again by Reconcile after the restart.
  if (changed) {
    (void)Persist(*e, false);
    MaybeCompact();
  }
  return changed || ev.fill.has_value();
}

void OrderDesk::Reconcile(std::function<void()> done) {
  if (done) reconcile_waiters_.push_back(std::move(done));
  if (reconcile_running_) {
    // A reconnect during a pass: its answers may predate what was missed, so run once more
    // after it (never two passes at once: each costs one venue lookup per open order).
    reconcile_again_ = true;
    return;
  }
  reconcile_running_ = true;
  if (std::exchange(start_pass_, false)) {
    // What did clients hear before the restart? An accepted entry whose state or fills never
    // reached them (decided, journaled, then killed before the event was logged) is looked up
    // and published from what they last saw, even when the journal says it is final. Without
    // the order-event log, the journal's state is taken as told (what the gateway did before).
    for (auto& [k, e] : entries_) {
      if (e.state != EntryState::kAccepted) continue;
      fills_told_[k] = e.filled_size;
      if (!hooks_.published) continue;
      const PublishedOrder p = hooks_.published(e);
      if (!p.covered) continue;
      fills_told_[k] = p.found ? p.filled_size : Decimal();
      if (!p.found || p.status != e.status || p.filled_size < e.filled_size) {
        untold_[k] = Told{p.found, p.status, p.found ? p.filled_size : Decimal()};
      }
    }
  }
  std::vector<std::string> keys;
  if (hooks_.query) {
    for (auto& [k, e] : entries_) {
      // In-flight entries are settled by their own Place flow.
      if (e.state == EntryState::kUnknown ||
          (e.state == EntryState::kAccepted && !IsTerminal(e.status)) || untold_.count(k) ||
          (e.state == EntryState::kAccepted && FillsOwed(k, e))) {
        keys.push_back(k);
      }
    }
  }
  // One count per lookup plus one for this function, so an empty pass ends the same way.
  auto remaining = std::make_shared<size_t>(keys.size() + 1);
  auto finish = [this, remaining] {
    if (--*remaining > 0) return;
    reconcile_running_ = false;
    ready_ = true;
    MaybeCompact();
    if (reconcile_again_) {
      reconcile_again_ = false;
      return Reconcile();
    }
    auto waiters = std::move(reconcile_waiters_);
    reconcile_waiters_.clear();
    for (auto& w : waiters) w();
  };
  for (const auto& key : keys) {
    hooks_.query(entries_[key], [this, key, finish](QueryResult q) {
      auto it = entries_.find(key);
      if (it == entries_.end()) return finish();
      JournalEntry& e = it->second;
      if (q.found == Found::kNotFound && e.state == EntryState::kUnknown &&
          clock_.Now() >= e.expires) {
        e.state = EntryState::kNotExecuted;
        (void)Persist(e, false);
        return finish();
      }
      if (q.found != Found::kFound) return finish();
      auto told = untold_.find(key);
      const bool untold = told != untold_.end();
      // The fills clients got: what the log says they saw (restart), else what went out since.
      const Decimal known_filled =
          std::min(untold ? told->second.filled : FillsTold(key), e.filled_size);
      if (untold) untold_.erase(told);
      const bool changed = MarkAccepted(e, q.order);
      if (changed) (void)Persist(e, false);
      const bool fills_owed = e.filled_size > known_filled && hooks_.fills;
      if (!changed && !untold && !fills_owed) return finish();
      const Order o = Reported(e, q.order);
      const bool state_news = changed || untold;
      if (!fills_owed) {
        if (state_news) PublishState(o);
        return finish();
      }
      // Fills missed while away: the venue's fills for this order beyond what clients got,
      // oldest first, then the order's state if it is news.
      hooks_.fills(
          e.account, e.symbol, e.sent_time - 60LL * 1000000000,
          [this, o, known_filled, state_news, finish](absl::StatusOr<std::vector<Fill>> fills) {
            if (fills.ok()) PublishMissedFills(o, known_filled, std::move(*fills));
            if (state_news) PublishState(o);
            finish();
          });
    });
  }
  finish();
}

void OrderDesk::AddFillTold(const std::string& key, const Decimal& size) {
  auto sum = Decimal::Add(fills_told_[key], size);
  if (sum.ok()) fills_told_[key] = *sum;
}

Decimal OrderDesk::FillsTold(const std::string& key) const {
  auto it = fills_told_.find(key);
  return it == fills_told_.end() ? Decimal() : it->second;
}

bool OrderDesk::FillsOwed(const std::string& key, const JournalEntry& e) const {
  return hooks_.fills && FillsTold(key) < e.filled_size;
}

void OrderDesk::PublishMissedFills(const Order& o, Decimal known_filled, std::vector<Fill> fills) {
  std::vector<Fill> mine;
  for (auto& f : fills) {
    if ((!o.order_id.empty() && f.order_id == o.order_id) ||
        f.client_order_id == o.client_order_id) {
      mine.push_back(std::move(f));
    }
  }
  std::stable_sort(mine.begin(), mine.end(),
                   [](const Fill& a, const Fill& b) { return a.exchange_time < b.exchange_time; });
  const UnixNanos now = clock_.Now();
  Decimal cum;
  for (auto& f : mine) {
    auto next = Decimal::Add(cum, f.size);
    if (!next.ok()) break;
    const bool missed = *next > known_filled;
    cum = *next;
    if (!missed || !hooks_.publish) continue;
    f.client_order_id = o.client_order_id;
    AddFillTold(JournalEntry::Key(o.account, o.client_order_id), f.size);
    hooks_.publish(OrderEvent{o, f, f.exchange_time, now});
  }
}

void OrderDesk::Evict() {
  const UnixNanos now = clock_.Now();
  auto final_state = [](const JournalEntry& e) {
    return e.state == EntryState::kRejected || e.state == EntryState::kNotExecuted ||
           (e.state == EntryState::kAccepted && IsTerminal(e.status));
  };
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (final_state(it->second) && now - it->second.updated > opts_.retention_ns) {
      fills_told_.erase(it->first);
      untold_.erase(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (entries_.size() < opts_.max_entries) return;
  // Still full: drop the oldest final entries down to 90 %.
  std::vector<std::pair<UnixNanos, std::string>> finals;
  for (const auto& [k, e] : entries_) {
    if (final_state(e)) finals.emplace_back(e.updated, k);
  }
  std::sort(finals.begin(), finals.end());
  const size_t target = opts_.max_entries - opts_.max_entries / 10;
  for (const auto& [t, k] : finals) {
    if (entries_.size() <= target) break;
    fills_told_.erase(k);
    untold_.erase(k);
    entries_.erase(k);
  }
}

void OrderDesk::MaybeCompact() {
  if (!journal_) return;
  if (journal_->lines_written() < 2 * entries_.size() + 1024) return;
  Evict();
  std::vector<const JournalEntry*> live;
  live.reserve(entries_.size());
  for (const auto& [k, e] : entries_) live.push_back(&e);
  std::sort(live.begin(), live.end(),
            [](const JournalEntry* a, const JournalEntry* b) { return a->updated < b->updated; });
  (void)journal_->Compact(live);
}

}  // namespace perpgw::runtime
