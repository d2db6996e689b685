// Fan-out bus (gateway/fanout/): one thread at a time owns book mirrors, caches and subscriber
// lists (the bus thread, or a venue thread fanning out its own market data while the bus is
// idle); serializes each update once and pushes it into per-subscriber mailboxes with
// per-stream slow-consumer policies.
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "adapters/api/clock.h"
#include "adapters/api/mutex.h"
#include "adapters/api/order_book.h"
#include "adapters/api/venue.h"
#include "adapters/runtime/record_log.h"
#include "gateway/config.h"
#include "gateway/fanout/subscriber.h"
#include "perpgw/v1/market_data.pb.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::gateway {

struct MarketKey {
  std::string venue;
  std::string symbol;
};

class Bus final : public EventSink {
 public:
  Bus(const LimitsConfig& limits, std::map<std::string, int64_t> stale_after_ms,
      const Clock& clock);
  ~Bus() override;

  // Before Start(): opens (or creates) the order-event log at `path`, replays it (sequences,
  // replay buffers, the published view of every order, trade ids already sent) and appends
  // every later order event to it. Without it, order events live in memory only.
  absl::Status OpenOrderLog(const std::string& path, bool fsync);
  // Changes at every process start; set on every order event.
  uint64_t epoch() const { return epoch_; }
  PublishedOrder PublishedBeforeStart(const std::string& account,
                                      const std::string& client_order_id,
                                      UnixNanos updated) const override;

  void Start();
  // Ends every stream with `status` (UNAVAILABLE on shutdown) and joins the thread.
  void Stop(const grpc::Status& status);

  // EventSink: from venue threads; O(1).
  void Publish(EventPtr event) override;
  // One lock and one wake-up for the lot (the tap still sees each event first).
  void PublishBatch(std::vector<EventPtr>& events) override;
  // Sees every event on the publishing (adapter) thread before it is queued; set before Start.
  // Must be cheap (the risk engine's order and position feed).
  void SetTap(std::function<void(const Event&)> tap) { tap_ = std::move(tap); }
  // Runs `fn` on the fan-out thread (queries and subscriptions).
  void Post(std::function<void()> fn);
  // BBOs of `venue` come from the bus's own book (Capabilities::bbo_from_book: the venue's
  // adapter publishes none): one BboUpdate per change of the top level or of the book's status,
  // a new StreamBbo subscriber gets the current one first. Call before Start.
  void DeriveBboFromBook(const std::string& venue) { derived_bbo_venues_.insert(venue); }

  BusStats& stats() { return stats_; }
  // Nothing queued and no thread fanning out (tests wait on it).
  bool idle() const {
    perpgw::MutexLock lock(&mu_);
    return !busy_ && queue_.empty();
  }
  const LimitsConfig& limits() const { return limits_; }

  // Subscriptions. The initial snapshot/state is sent before any live update (same thread).
  void SubscribeBooks(SubscriberPtr sub, std::vector<MarketKey> markets, int depth);
  void SubscribeBbo(SubscriberPtr sub, std::vector<MarketKey> markets);
  void SubscribeTrades(SubscriberPtr sub, std::vector<MarketKey> markets);
  void SubscribeFunding(SubscriberPtr sub, std::vector<MarketKey> markets);  // empty = all
  // from_sequence 0 = live only; OUT_OF_RANGE finish when the replay buffer no longer has it;
  // FAILED_PRECONDITION when `epoch` names an earlier process and sequences restarted (no log).
  void SubscribeOrders(SubscriberPtr sub, std::string account, uint64_t from_sequence,
                       uint64_t epoch = 0);
  void SubscribePositions(SubscriberPtr sub, std::string account);
  // The account's positions as the venue listed them after `sub` subscribed: each one the
  // stream has not had a live update for since (a live one is at least as new) goes out first.
  void SeedPositions(SubscriberPtr sub, std::string account, std::vector<Position> positions);
  void SubscribeLiquidations(SubscriberPtr sub, std::string account);

  // Queries, answered on the fan-out thread.
  void GetBook(MarketKey key, int depth, std::function<void(std::optional<v1::OrderBook>)> done);
  void GetBestPrices(MarketKey key,
                     std::function<void(std::optional<Level> bid, std::optional<Level> ask,
                                        int price_scale, BookStatus status)>
                         done);
  void GetOrder(std::string account, std::string order_id, std::string client_order_id,
                std::function<void(std::optional<Order>)> done);
  void ListOrders(std::string account, std::string symbol, bool open_only,
                  std::function<void(std::vector<Order>)> done);

  // Thread-safe caches for unary reads.
  std::vector<Funding> FundingSnapshot() const;
  struct BookStatusRow {
    std::string venue, symbol;
    BookStatus status;
    UnixNanos last_update;
  };
  std::vector<BookStatusRow> BookStatuses() const;

  // Metrics forwarding (EventSink): set once before Start().
  void set_metrics(class Metrics* m) { metrics_ = m; }
  void Count(const std::string& venue, VenueCounter c, uint64_t n) override;
  void Observe(const std::string& venue, VenueLatency l, int64_t nanos) override;

 private:
  std::function<void(const Event&)> tap_;
  // Post for subscribe tasks: skipped when the stream ended before the task ran.
  void PostSubscribe(SubscriberPtr sub, std::function<void()> task);
  struct BookSub {
    SubscriberPtr sub;
    int depth;
  };
  struct PairState {
    std::string venue, symbol;
    OrderBook book;
    bool have_book = false;
    BookStatus status = BookStatus::kResyncing;
    std::string reason = "awaiting first snapshot";
    uint64_t seq = 0, venue_seq = 0;
    UnixNanos exchange_time = 0, receive_time = 0, last_update_mono = 0;
    int64_t stale_after_ms = 10000;
    std::vector<BookSub> book_subs;
    std::vector<SubscriberPtr> bbo_subs, trade_subs, funding_subs;
    BookStatusRow* status_row = nullptr;  // this pair's entry in book_status_
    // Live deltas applied to `book` but not yet sent: the changed levels in arrival order (a
    // price may repeat; the last one wins). Sent as one delta at the end of the bus batch or
    // before anything that must observe them, so a backlog shrinks instead of growing.
    std::vector<Level> pending_bids, pending_asks;
    bool dirty = false;
    // DeriveBboFromBook: the top and status last sent as a BBO.
    bool derived_bbo = false, bbo_sent = false;
    std::optional<Level> bbo_bid, bbo_ask;
    BookStatus bbo_status = BookStatus::kResyncing;
  };
  struct AccountState {
    uint64_t seq = 0;
    std::deque<std::pair<uint64_t, grpc::ByteBuffer>> replay;
    std::vector<SubscriberPtr> order_subs, position_subs, liquidation_subs;
    std::map<std::string, Order> orders;  // by order id (or client id until the venue assigns)
    // Fills already published, by TradeKey (a fill is sent once even when a reconcile and the
    // venue's stream both report it); bounded, oldest forgotten first.
    std::unordered_set<std::string> trade_ids;
    std::deque<std::string> trade_order;
    // Live position updates: a counter, the last one's value per symbol, and where each
    // position stream stood when it subscribed (for SeedPositions).
    uint64_t position_seq = 0;
    std::unordered_map<std::string, uint64_t> position_seq_of;
    std::unordered_map<const Subscriber*, uint64_t> position_sub_at;
  };
  // The last state published for one order (by account + client id).
  struct Published {
    OrderStatus status = OrderStatus::kPendingNew;
    Decimal filled;  // the order's filled size as last published (its state)
    // The sizes of the fill messages published for it: a state can say FILLED (an IOC's ack)
    // before any fill went out, and a restart must publish the fills, not only the state.
    Decimal fills;
    UnixNanos at = 0;  // bus clock when published
  };
  // Order-event log: append one event; compacts when the file has grown well past what the
  // replay buffers and the published view need.
  void LogOrderEvent(const std::string& bytes);
  void CompactOrderLog();
  void NotePublished(const v1::OrderEvent& m, UnixNanos at);
  // False when this fill (key: market, side, venue trade id) was published already.
  bool RememberTrade(AccountState& a, const std::string& trade_key);

  void Run();
  void Handle(const Event& e);
  void OnBook(const BookUpdate& u);
  // Sends every pair's pending live delta (one message per pair).
  void FlushBooks();
  void FlushPair(PairState& p);
  void UpdateBookStatus(PairState& p);
  // One update to every book subscriber of `p`: a full snapshot (`snapshot`), else a delta of
  // `bids`/`asks` (depth-limited subscribers always get their top-N snapshot).
  void FanOutBook(PairState& p, bool snapshot, const std::vector<Level>& bids,
                  const std::vector<Level>& asks);
  void OnBbo(const Bbo& b);
  void SendBbo(PairState& p, const Bbo& b);
  // DeriveBboFromBook venues: the book's top as a BBO.
  Bbo BookBbo(const PairState& p) const;
  // Sends BookBbo when the top or the status changed since the last one sent.
  void MaybeBookBbo(PairState& p);
  void OnTrade(const Trade& t);
  void OnFunding(const Funding& f);
  void OnOrder(const OrderEvent& o);
  void OnPosition(const Position& p);
  void OnLiquidation(const Liquidation& l);
  void CheckStale();
  // Drops ended streams from every list (their memory and gauge go with the last reference).
  void SweepEnded();
  PairState& Pair(const std::string& venue, const std::string& symbol);
  grpc::ByteBuffer SnapshotMessage(const PairState& p, int depth, bool resync);
  // The book status a message carries: the pair's own, or STALE ("late: ...") when the venue's
  // frame arrived longer ago than limits.book_max_lag_ms.
  template <typename Msg>
  void SetStatus(const PairState& p, Msg* m) const;
  void SendBook(PairState& p, BookSub& s, const grpc::ByteBuffer& msg);
  template <typename Msg>
  static grpc::ByteBuffer Serialize(const Msg& m) {
    grpc::ByteBuffer bb;
    bool own = false;
    grpc::SerializationTraits<Msg>::Serialize(m, &bb, &own);
    return bb;
  }
  static void Prune(std::vector<SubscriberPtr>& v);
  static void Prune(std::vector<BookSub>& v);

  const LimitsConfig limits_;
  const std::map<std::string, int64_t> stale_after_ms_;
  std::set<std::string> derived_bbo_venues_;  // fixed before Start
  const Clock& clock_;
  BusStats stats_;

  mutable perpgw::Mutex mu_;
  perpgw::CondVar cv_;
  struct Item {
    EventPtr event;              // either an event...
    std::function<void()> task;  // ...or a task; one queue keeps them in posting order
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
  };
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Some thread is fanning out: the bus thread, or a publishing thread in DrainInline. Whoever
  // set it owns every "fan-out thread only" member below until it clears it (under mu_).
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  // A publishing thread that finds the bus idle fans its market data out itself (Publish /
  // PublishBatch), at most this many queue takes, then leaves the rest to the bus thread.
  static constexpr int kMaxInlineRounds = 4;
  void DrainInline();
  void ProcessBatch(std::deque<Item>& batch);
  std::deque<Item> inline_batch_;  // DrainInline's, owned with busy_
  std::thread thread_;

  // Fan-out thread only.
  std::unordered_map<std::string, PairState> pairs_;
  std::vector<PairState*> dirty_pairs_;
  PairState* last_pair_ = nullptr;  // venues send runs of one pair: skips the key build
  std::unordered_map<std::string, AccountState> accounts_;
  std::vector<SubscriberPtr> funding_all_subs_;
  std::vector<SubscriberPtr> all_subs_;
  uint64_t swept_ = 0;  // stats_.ended at the last sweep

  uint64_t epoch_ = 0;
  std::unique_ptr<runtime::RecordLog> order_log_;
  UnixNanos order_log_since_ = 0;      // the log has covered every order event since then
  uint64_t order_log_compact_at_ = 0;  // bytes
  std::unordered_map<std::string, Published> published_;           // fan-out thread
  std::unordered_map<std::string, Published> published_at_start_;  // fixed before Start()

  mutable perpgw::Mutex funding_mu_;
  std::map<std::string, Funding> funding_cache_ ABSL_GUARDED_BY(funding_mu_);
  std::map<std::string, BookStatusRow> book_status_ ABSL_GUARDED_BY(funding_mu_);
  class Metrics* metrics_ = nullptr;
};

}  // namespace perpgw::gateway
