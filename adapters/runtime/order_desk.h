// The order desk: the one owner of client-order-id idempotency for a venue. Every venue adapter
// routes PlaceOrder through it and feeds it its order events; the venue supplies only two hooks
// (submit one order, look one order up by client id). Runs on the venue thread (not
// thread-safe by design: the adapter's io_context serializes every call).
//
// Rules (stated in README "Order path guarantees"):
// - An entry is journaled (fsync per policy) BEFORE its request leaves; a journal failure
//   refuses the order (nothing is sent).
// - Same client id, different side/price/size/type/tif/reduce-only/slippage → ALREADY_EXISTS
//   naming the first mismatching field; never the old ack.
// - Same client id, same request: a known ack (accepted/rejected) is returned with the order's
//   latest known state; an in-flight one answers ABORTED (retry later); an unknown one is
//   resolved by querying the venue first.
// - "Not found" resolves an unknown outcome only once the earlier request can no longer execute
//   (its own expiry: recvWindow / X-Window / nonce window, plus clock slack); before that the
//   answer stays OUTCOME_UNKNOWN, retryable, with the time to retry after.
// - A duplicate-client-id answer from the venue means the order exists: it is looked up and
//   returned as accepted.
// - Rate limits (429/418) and other pre-engine refusals are reported as OUTCOME_UNKNOWN with
//   retryable=true like every unknown outcome; because the venue answered, the entry's window
//   ends at the answer, so the retry's query settles it at once.
// - Market orders are sent as IOC limits at a worst price: the desk remembers the requested
//   type and every ack, event and lookup it sees says MARKET.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_error.h"
#include "adapters/runtime/order_journal.h"

namespace perpgw::runtime {

class OrderDesk {
 public:
  struct Options {
    std::string venue;
    std::string journal_path;  // empty: in memory only (idempotency ends with the process)
    bool fsync = true;
    int64_t retention_ns = 24LL * 3600 * 1000000000;  // final entries kept this long
    size_t max_entries = 200000;  // beyond this, the oldest final entries are evicted first
    int64_t clock_slack_ns = 2LL * 1000000000;  // added to every request's own expiry
  };

  // What the venue answered to one order request.
  struct SubmitResult {
    OrderAck ack;                        // kAccepted / kRejected / kOutcomeUnknown
    bool duplicate_client_id = false;    // the venue says this client id already exists
    bool venue_answered = false;         // an answer arrived (a 429/5xx), not a timeout/reset
    bool refused_before_engine = false;  // e.g. 429/418: the venue did not run the request
    // Not OK: nothing reached the venue (encoding failed, unknown symbol); the error is
    // returned as is and the client id may be used again for the same request.
    absl::Status error;

    // The one rule, for every venue, from a classified failed order-entry answer: rate limited
    // → unknown outcome refused before the engine (the retry's lookup settles it at once, never
    // a stored REJECTED); could have executed → unknown outcome; otherwise REJECTED with the
    // venue's reason (a duplicate client id flagged for the desk to reconcile).
    static SubmitResult FromVenueError(const VenueError& e);
    // The same rule applied to an answer already read from the venue's body: outcome,
    // retryable, reason (when REJECTED), refused-before-engine and duplicate flags are the
    // rule's; the order and the message read from the body are kept.
    void ApplyVenueError(const VenueError& e);
  };
  enum class Found : uint8_t { kFound, kNotFound, kError };
  struct QueryResult {
    Found found = Found::kError;
    Order order;        // kFound
    std::string error;  // kError
  };
  using SubmitDone = std::function<void(SubmitResult)>;
  using QueryDone = std::function<void(QueryResult)>;
  // One order of a venue batch request.
  struct BatchItem {
    OrderRequest wire;
    JournalEntry entry;
    SubmitDone done;
  };
  struct Hooks {
    // Sends `req` (a market order arrives as the IOC limit to send; `entry` has the venue
    // client id and times). Must call done exactly once.
    std::function<void(const OrderRequest& req, const JournalEntry& entry, SubmitDone done)> submit;
    // Looks the order up by client order id (open orders and history). kNotFound only when the
    // venue says so; transport trouble is kError.
    std::function<void(const JournalEntry& entry, QueryDone done)> query;
    // Optional: sends 2..max_batch orders of one account in one venue request (in the order
    // given). Must call every item's done exactly once, in any order; an answer for the whole
    // request (a timeout, a 5xx, a refusal of the batch) is every item's answer, classified as
    // for one order.
    std::function<void(std::vector<BatchItem> items)> submit_batch;
    size_t max_batch = 0;
    // Optional: assigns the venue's own client id (Backpack uint32) for a new entry.
    std::function<absl::StatusOr<uint64_t>(const std::string& account, const std::string& cid)>
        assign_venue_id;
    // Optional: the account's fills on `symbol` since a time (reconcile publishes the ones it
    // missed while the private stream or the process was down).
    std::function<void(const std::string& account, const std::string& symbol, UnixNanos since,
                       Callback<std::vector<Fill>> done)>
        fills;
    // Publishes an order event (acks and reconciled changes go out as events).
    std::function<void(OrderEvent)> publish;
    // Optional: what StreamOrderEvents clients had been told about an entry when the process
    // started (the gateway's order-event log). The first reconcile starts from it, so a state
    // or fill that was journaled but never reached the clients before a kill -9 goes out.
    std::function<PublishedOrder(const JournalEntry&)> published;
  };

  static absl::StatusOr<std::unique_ptr<OrderDesk>> Open(Options opts, const Clock& clock);

  void SetHooks(Hooks hooks) { hooks_ = std::move(hooks); }
  // Entries loaded from the journal (to restore venue id mappings before trading).
  std::vector<const JournalEntry*> Entries() const;
  size_t size() const { return entries_.size(); }
  bool ready() const { return ready_; }
  const OrderJournal* journal() const { return journal_.get(); }

  // The idempotent place flow. `req` is what the strategy asked for (its identity and the
  // reported type); what is sent is WireRequest(req). `window_ns`: how long a request signed
  // now can still execute at the venue.
  void Place(const OrderRequest& req, int64_t window_ns, Callback<OrderAck> done);

  // Batches (VenueAdapter::OpenBatch): between OpenBatch(id) and CloseBatch(id), a Place whose
  // request carries batch_id == id and is sent now (a new order, or a retry of one proven not
  // executed) is journaled as usual and held; CloseBatch sends the held ones through
  // submit_batch in chunks of max_batch (a chunk of one through submit). Everything else about
  // the order (answers, unknown outcomes, lookups) is as for a single order.
  bool batches() const { return hooks_.submit_batch && hooks_.max_batch > 1; }
  void OpenBatch(uint64_t id);
  void CloseBatch(uint64_t id);

  // A venue order event for this venue: updates the entry (a known client id settles an
  // unknown outcome), fixes the reported type, and returns false for an event that repeats a
  // state the desk already published (so the adapter can drop it). Fills always pass.
  bool OnOrderEvent(OrderEvent& ev);
  // Fixes the reported type of an order looked up at the venue.
  void Annotate(Order& o) const;
  // The desk's view of an order it tracks (ids, side, price, size, state), if any.
  std::optional<Order> Known(const std::string& account, const std::string& cid) const;
  // A native amend the venue confirmed (its answer to the modify, or its stream event for it):
  // the order keeps its client id and the entry takes the venue's new price and size, so
  // reconciles, duplicate acks and the journal agree with the venue; the state is folded in
  // as for any venue view (never backwards). A change is journaled and goes out as an order
  // event like an ack (a stream event repeating it is then dropped by OnOrderEvent). Returns
  // the order as the desk reports it; nullopt when the desk does not track this client id.
  // After an amend, a PlaceOrder retry with the original price/size no longer matches the
  // entry (ALREADY_EXISTS naming the field): the order is no longer what that request asked.
  std::optional<Order> RecordAmend(const Order& amended);

  // After a restart (journal replayed) or a private-stream reconnect: queries every entry
  // that is unknown or open (and, after a restart, every entry whose clients were told less
  // than the journal knows) and publishes exactly the changes they missed. `done` runs when all
  // queries answered; the desk accepts orders (ready) after the first pass. A call during a
  // pass runs one more pass after it.
  void Reconcile(std::function<void()> done = nullptr);

 private:
  // Compacts the journal when it has grown past twice its live entries (cheap to call often).
  void MaybeCompact();
  OrderDesk(Options opts, const Clock& clock) : opts_(std::move(opts)), clock_(clock) {}
  JournalEntry* Find(const std::string& account, const std::string& cid);
  absl::Status Persist(JournalEntry& e, bool sync);
  void Send(JournalEntry* e, const OrderRequest& req, const OrderRequest& wire, int64_t window_ns,
            Callback<OrderAck> done);
  // hooks_.submit, or held for the open batch `wire.batch_id`.
  void Submit(const OrderRequest& wire, const JournalEntry& e, SubmitDone done);
  std::unordered_map<uint64_t, std::vector<BatchItem>> open_batches_;
  // `resend`: a proven-absent order is sent again (a client's retry); false right after the
  // venue's own answer (no automatic resend behind the strategy's back, e.g. after a 429).
  void Resolve(JournalEntry* e, const OrderRequest& req, const OrderRequest& wire,
               int64_t window_ns, bool resend, Callback<OrderAck> done);
  // Marks `e` accepted with the venue's view folded in (never backwards); true on a change.
  bool MarkAccepted(JournalEntry& e, const Order& venue_order);
  // The venue's view of the order as the desk reports it (its ids, type and merged state).
  Order Reported(const JournalEntry& e, Order venue_order) const;
  void PublishState(const Order& o);
  void PublishMissedFills(const Order& o, Decimal known_filled, std::vector<Fill> fills);
  void Accept(JournalEntry& e, const Order& venue_order, const std::string& message,
              OrderAck* ack_out);
  OrderAck AckFrom(const JournalEntry& e, AckOutcome outcome) const;
  Order OrderFrom(const JournalEntry& e) const;
  void Evict();

  Options opts_;
  const Clock& clock_;
  Hooks hooks_;
  std::unique_ptr<OrderJournal> journal_;
  std::unordered_map<std::string, JournalEntry> entries_;  // by JournalEntry::Key
  bool ready_ = true;
  bool start_pass_ = false;  // the next Reconcile is the first after a journal replay
  // Entries whose clients were told less than the journal knows (from `published` at start):
  // the state and fills clients last saw. Kept until a lookup lets the desk publish the rest.
  struct Told {
    bool found = false;
    OrderStatus status = OrderStatus::kPendingNew;
    Decimal filled;
  };
  std::unordered_map<std::string, Told> untold_;
  // Per entry: the total of the fill messages clients got (through OnOrderEvent, a reconcile's
  // missed fills, or, after a restart, the order-event log). An ack can say FILLED before any
  // fill message; if the private stream was down then, the next reconcile owes the fills.
  std::unordered_map<std::string, Decimal> fills_told_;
  void AddFillTold(const std::string& key, const Decimal& size);
  Decimal FillsTold(const std::string& key) const;
  bool FillsOwed(const std::string& key, const JournalEntry& e) const;
  bool reconcile_running_ = false, reconcile_again_ = false;
  std::vector<std::function<void()>> reconcile_waiters_;
};

// What goes to the venue for `req`: a market order becomes an IOC limit at req.worst_price
// (a true MARKET order has no price bound; this gives the same immediacy with the slippage
// bound the strategy asked for). Other orders go as they are.
OrderRequest WireRequest(const OrderRequest& req);

// Canonical comparison of two requests for the same client order id: empty when they match,
// else "field: old → new" for the first difference.
std::string RequestMismatch(const JournalEntry& e, const OrderRequest& r);

}  // namespace perpgw::runtime
