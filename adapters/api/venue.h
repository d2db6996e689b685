// The venue adapter interface the gateway drives, and the event sink adapters publish into.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/types.h"

namespace perpgw {

struct VenueStatusEvent {
  VenueHealth health;
};

// Everything an adapter publishes. Immutable once posted; shared by all subscribers.
using Event = std::variant<BookUpdate, Bbo, Trade, Funding, OrderEvent, Position, Balance,
                           Liquidation, VenueStatusEvent>;
using EventPtr = std::shared_ptr<const Event>;

// Public market data (books, BBOs, trades): what an adapter may hold until its thread has run
// every ready handler, and what a publishing thread may fan out itself on an idle bus. Order
// events, positions, balances, funding, liquidations and venue status go one by one.
inline bool IsMarketData(const Event& e) {
  return std::holds_alternative<BookUpdate>(e) || std::holds_alternative<Bbo>(e) ||
         std::holds_alternative<Trade>(e);
}

// Operational counters and latencies adapters report (exported as Prometheus metrics).
enum class VenueCounter : uint8_t {
  kMessagesIn,      // WS frames received
  kBytesIn,         // WS + REST bytes received
  kParseErrors,     // frames/bodies that failed to parse (dropped, counted, never fatal)
  kReconnects,
  kResyncGap,       // book resync causes
  kResyncCrossed,
  kResyncReconnect,
  kResyncStale,
  kResyncBadInput,
  kRateLimitWaits,  // requests delayed by the local limiter or a venue 429/418
  kRestErrors,
  kBboCrossed,      // BBO messages with bid >= ask (published flagged STALE)
  kCount_,
};
enum class VenueLatency : uint8_t { kSigning, kRestRoundTrip, kCount_ };

// What StreamOrderEvents clients had been told about one order when this process started
// (from the gateway's order-event log). A restart's reconcile starts from it, so an event that
// was decided but never reached the log before a kill -9 is published again, not lost.
struct PublishedOrder {
  bool covered = false;  // the log covers this order: `found` and the fields below are exact
  bool found = false;    // at least one event for this order was published
  OrderStatus status = OrderStatus::kPendingNew;
  Decimal filled_size;  // the total of the fill messages published (not the state's filled size)
};

// Implemented by the gateway. Adapters call these from their own thread; they must be cheap
// (O(1), no waiting on subscribers).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Publish(EventPtr event) = 0;
  // Several events of one publishing thread, in order: one hand-off for all of them (an adapter
  // collects what one wake-up of its thread decoded). Leaves `events` empty.
  virtual void PublishBatch(std::vector<EventPtr>& events) {
    for (auto& e : events) Publish(std::move(e));
    events.clear();
  }
  virtual void Count(const std::string& venue, VenueCounter counter, uint64_t n = 1) {}
  virtual void Observe(const std::string& venue, VenueLatency what, int64_t nanos) {}
  // Thread-safe (fixed before adapters start). `updated`: when the order last changed in the
  // venue's journal; orders older than the log are not covered.
  virtual PublishedOrder PublishedBeforeStart(const std::string& account,
                                              const std::string& client_order_id,
                                              UnixNanos updated) const {
    return {};
  }
};

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

struct CancelRequest {
  std::string account;
  std::string symbol;
  std::string order_id;         // one of order_id / client_order_id
  std::string client_order_id;
  uint64_t batch_id = 0;  // not 0: part of a batch opened with VenueAdapter::OpenBatch
};

struct AmendRequest {
  std::string account;
  std::string symbol;
  std::string order_id;  // one of order_id / client_order_id
  std::string client_order_id;
  std::optional<Decimal> price;  // new limit price (on tick)
  std::optional<Decimal> size;   // new total size (on step)
};

struct CancelResult {
  Order order;  // final known state; filled_size = size already filled
};

struct FillQuery {
  std::string account;
  std::string symbol;  // empty = all
  UnixNanos from = 0, to = 0;
  int limit = 500;
};

// Past funding settlements of one market (ListFundingHistory).
struct FundingHistoryQuery {
  std::string symbol;
  UnixNanos from = 0, to = 0;  // settlement times, inclusive; 0 = open-ended
  int limit = 100;             // newest `limit` settlements in the range
};

struct MarketSubscription {
  std::string symbol;
  bool book = true, bbo = true, trades = true, funding = true;
};

// One venue (all its accounts). Every method is non-blocking: work is posted to the adapter's
// own thread and callbacks run there. Implementations must be thread-safe for these calls.
class VenueAdapter {
 public:
  virtual ~VenueAdapter() = default;

  virtual const std::string& name() const = 0;
  virtual Capabilities capabilities() const = 0;

  virtual void Start(EventSink* sink) = 0;
  virtual void Stop() = 0;  // joins the venue thread; no callbacks after it returns

  virtual VenueHealth Health() const = 0;
  // A problem found while constructing the adapter that must stop the daemon from starting
  // (e.g. its order journal is locked by another process). OK by default.
  virtual absl::Status StartupError() const { return absl::OkStatus(); }
  // Instrument catalogue (empty until loaded). Thread-safe copy.
  virtual std::vector<Instrument> Instruments() const = 0;
  virtual bool InstrumentsReady() const = 0;

  // Adds market-data subscriptions (idempotent); replayed after reconnects.
  virtual void Subscribe(std::vector<MarketSubscription> subs) = 0;

  // Book snapshot straight from the venue's REST API (bootstrap/fallback, deeper than WS).
  virtual void FetchBook(std::string symbol, int depth, Callback<BookUpdate> done);
  virtual void FetchFunding(std::string symbol, Callback<Funding> done);
  // Settled funding from the venue's history endpoint, oldest first, normalized like live funding
  // (NormalizeFunding): `as_of` is the settlement time, `rate` the rate paid for the venue's
  // interval then, mark/index when the venue reports them; next_funding_time, volume and open
  // interest stay 0.
  virtual void ListFundingHistory(FundingHistoryQuery q, Callback<std::vector<Funding>> done);

  // Trading and account (per account configured for this venue).
  virtual void PlaceOrder(OrderRequest req, Callback<OrderAck> done);
  // A batch of orders or cancels (PlaceOrders, CancelOrders): OpenBatch returns an id (0: the
  // venue has no batch request); PlaceOrder / CancelOrder calls whose request carries it and
  // that arrive before CloseBatch(id) go out together in the venue's batch requests (each still
  // answered through its own callback, with the same idempotency and outcome rules as a single
  // one). Those that miss the batch go out alone. Every OpenBatch must be followed by one
  // CloseBatch.
  virtual uint64_t OpenBatch() { return 0; }
  virtual void CloseBatch(uint64_t /*id*/) {}
  virtual void CancelOrder(CancelRequest req, Callback<CancelResult> done);
  // Native modify (Capabilities::native_amend): the order keeps its ids; `ack.order` is the
  // order as amended. UNIMPLEMENTED by default: the gateway then cancel-replaces.
  virtual void AmendOrder(AmendRequest req, Callback<OrderAck> done);
  virtual void CancelAll(std::string account, std::string symbol, Callback<std::vector<Order>> done);
  virtual void GetOrder(CancelRequest ref, bool refresh, Callback<Order> done);
  virtual void ListOpenOrders(std::string account, std::string symbol,
                              Callback<std::vector<Order>> done);
  virtual void ListFills(FillQuery q, Callback<std::vector<Fill>> done);
  virtual void GetBalance(std::string account, Callback<Balance> done);
  virtual void GetPositions(std::string account, Callback<std::vector<Position>> done);
  virtual void GetLeverageInfo(std::string account, std::string symbol,
                               Callback<LeverageInfo> done);
  virtual void SetLeverage(std::string account, std::string symbol, Decimal leverage,
                           Callback<LeverageInfo> done);
};

}  // namespace perpgw
