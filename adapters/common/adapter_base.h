// Skeleton every venue adapter shares: one io_context on its own thread, the health and
// instrument views other threads read, and event publishing. A venue adapter derives from it and
// keeps only venue logic (Init on the adapter thread, OnStop to close its sessions and timers).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "adapters/api/mutex.h"
#include "adapters/api/clock.h"
#include "adapters/api/feed.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/runtime/book_keeper.h"
#include "adapters/runtime/order_desk.h"

namespace spdlog {
class logger;
}

namespace perpgw::common {

class AdapterBase : public VenueAdapter {
 public:
  // `log_name`: the spdlog logger to use (created from the default logger if not registered).
  AdapterBase(const VenueConfig& cfg, const Clock& clock, const std::string& log_name);
  // Derived classes call Stop() in their own destructor, while their members still exist.
  ~AdapterBase() override;

  const std::string& name() const override { return cfg_.name; }
  // Starts the adapter thread and posts Init() to it.
  void Start(EventSink* sink) override;
  // On the adapter thread: stopped_ = true, OnStop(), then the loop ends; joins the thread.
  void Stop() override;
  VenueHealth Health() const override;
  std::vector<Instrument> Instruments() const override;
  bool InstrumentsReady() const override { return ready_.load(); }
  absl::Status StartupError() const override { return desk_error_; }
  // Batches: orders through the order desk (capabilities().native_batch > 1; the venue
  // installs the desk's submit_batch hook), cancels held here (native_cancel_batch > 1; the
  // venue's CancelOrder handler calls HoldCancel first). Opening and closing are posted to the
  // adapter thread, in order with the PlaceOrder / CancelOrder calls between them.
  uint64_t OpenBatch() override;
  void CloseBatch(uint64_t id) override;

 protected:
  virtual void OnStart(EventSink*) {}  // before the thread starts
  virtual void Init() = 0;             // first handler on the adapter thread
  virtual void OnStop() = 0;           // on the adapter thread: close sessions, cancel timers

  void SetState(ConnState s, const std::string& err = "");
  // Market data (books, BBOs, trades) published on the adapter thread is held until the thread
  // has run every handler that is ready (every frame already received), then handed to the sink
  // in one PublishBatch: one wake-up of the fan-out per burst instead of one per frame, and the
  // fan-out merges a pair's deltas of the burst into one message. Anything else (orders, fills,
  // positions, status, ...) first sends what is held, then goes alone, at once: the order of
  // events is kept and an order event is queued before the call that reported it returns.
  void Publish(Event e);
  // Runs fn on the adapter thread after `delay`, unless the adapter stopped meanwhile.
  void After(std::chrono::milliseconds delay, std::function<void()> fn);
  // The book keeper's hooks this base can fill (timer, publish, counters, clock, log notes);
  // the venue supplies how a snapshot is asked for.
  runtime::BookKeeper::Hooks BookHooks(
      std::function<void(const Instrument&)> request_snapshot);
  // One public market frame, the same dispatch for every venue (perpgw-replay and bench_ingest
  // run it too, through the same MarketFeed): counters, decode, then depth deltas to `books`,
  // BBOs (flagged while their book resyncs) and trades published, venue errors logged; the
  // kinds a venue completes itself (funding, liquidations, kVenue) go to OnFeedMessage.
  // `binary`: a binary WebSocket frame (MarketFeed::DecodeBinary). A stream snapshot
  // (kDepthSnapshot) also goes to OnFeedMessage: the venue knows whether it answers a request.
  void OnMarketFrame(MarketFeed& feed, runtime::BookKeeper& books, std::string_view frame,
                     bool binary = false);
  virtual void OnFeedMessage(const MarketMsg& /*m*/, UnixNanos /*now*/) {}
  // A frame the feed could not decode (already counted as a parse error). A venue whose books
  // cannot tell a lost frame from its ids (Paradex) resyncs here.
  virtual void OnMarketFrameError(const absl::Status& /*why*/) {}
  // Replaces the instrument list; true the first time (the adapter is then ready).
  bool SetInstruments(std::vector<Instrument> list);

  const VenueConfig cfg_;
  const Clock& clock_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  EventSink* sink_ = nullptr;
  // Held market data (adapter thread only; see Publish), and its bound: a feed that keeps the
  // thread busy still hands off every kMaxHeldEvents events.
  std::vector<EventPtr> held_;
  static constexpr size_t kMaxHeldEvents = 128;
  void FlushHeld();
  void RunLoop();
  std::shared_ptr<spdlog::logger> log_;
  std::atomic<bool> ready_{false};
  std::atomic<UnixNanos> last_message_{0};
  std::atomic<uint64_t> reconnects_{0};
  bool stopped_ = false;  // adapter thread only
  // The order desk (venues with accounts): idempotency, journal, unknown outcomes. Venue
  // thread only once started. Null when it could not open (desk_error_ says why).
  std::unique_ptr<runtime::OrderDesk> desk_;
  absl::Status desk_error_;
  // Order desk availability as a status for PlaceOrder.
  absl::Status DeskStatus() const;
  // Installs the venue's desk hooks; acks and reconciled changes are published like every
  // other event of this adapter.
  void SetDeskHooks(runtime::OrderDesk::Hooks hooks);

  // Cancel batches (venues with native_cancel_batch > 1). The venue's CancelOrder handler, on
  // the adapter thread, first calls HoldCancel: true when the cancel was taken for its open
  // batch. CloseBatch then groups the held cancels by CancelBatchKey (first-seen order) and
  // sends chunks of at most native_cancel_batch through SendCancelBatch, a chunk of one through
  // CancelNow (the venue's single cancel).
  bool HoldCancel(CancelRequest& req, Callback<CancelResult>& done);
  virtual std::string CancelBatchKey(const CancelRequest& r) const {
    return r.account + '\n' + r.symbol;
  }
  virtual void CancelNow(CancelRequest req, Callback<CancelResult> done) {
    done(absl::UnimplementedError("CancelNow is not implemented for " + cfg_.name));
  }
  virtual void SendCancelBatch(std::vector<CancelRequest> reqs,
                               std::vector<Callback<CancelResult>> dones) {
    for (size_t i = 0; i < reqs.size(); ++i) CancelNow(std::move(reqs[i]), std::move(dones[i]));
  }

 private:
  std::thread thread_;
  std::atomic<uint64_t> last_batch_{0};
  // Open cancel batches (adapter thread only).
  std::unordered_map<uint64_t, std::vector<std::pair<CancelRequest, Callback<CancelResult>>>>
      open_cancels_;
  MarketMsg market_msg_;   // adapter thread only; reused per frame
  mutable perpgw::Mutex mu_;  // the views gRPC threads read while the adapter thread writes
  std::vector<Instrument> instruments_ ABSL_GUARDED_BY(mu_);
  ConnState state_ ABSL_GUARDED_BY(mu_) = ConnState::kDisconnected;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace perpgw::common
