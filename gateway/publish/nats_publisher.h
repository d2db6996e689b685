// publish.nats: market data and order events to NATS (core) and NATS JetStream, as the same
// protobuf messages as the gRPC API (issue 18).
//
// Subjects (venue, symbol and account are single tokens: '.', '*', '>' and whitespace in them
// become '_'; SubjectToken):
//   perpgw.<venue>.<symbol>.book      OrderBookUpdate, core NATS: snapshot + deltas, the same
//                                     per-pair sequence/resync/status as StreamOrderBooks
//   perpgw.<venue>.<symbol>.snapshot  OrderBookUpdate (is_snapshot), every
//                                     book_snapshot_interval_ms, JetStream <prefix>_BOOKS (the
//                                     last one per subject kept): a late consumer starts here
//   perpgw.<venue>.<symbol>.bbo       BboUpdate, core (conflated when the publisher is behind)
//   perpgw.<venue>.<symbol>.trades    TradeUpdate, core
//   perpgw.<venue>.<symbol>.funding   FundingRate, core (conflated)
//   perpgw.<venue>.status             VenueInfo, core, every second: ListVenues' fields but
//                                     rest_url/ws_url, and only for venues whose adapter runs
//   perpgw.account.<account>.orders   OrderEvent, JetStream <prefix>_ORDERS: lossless, the
//                                     sequence/epoch of StreamOrderEvents, Nats-Msg-Id
//                                     "<account>:<epoch>:<sequence>" (duplicates dropped)
//
// publish.nats.market_data: false (sharding by account): only the order-event subjects and the
// <prefix>_ORDERS stream; a venue's market data then comes from its one market-data gateway.
//
// Each (pair, kind) and each account is one bus Subscriber (the sink a gRPC stream uses), so the
// bus's slow-consumer policies apply unchanged: a publisher that falls behind gets a resync
// snapshot, conflated BBO/funding, dropped trades, and for orders a finished stream that is
// resumed from the last sequence taken (the replay buffer). The venue threads and the fan-out
// never wait on NATS: the sinks hand messages to one publisher thread (one in flight per sink,
// so its queue is bounded by the number of sinks plus a capped number of snapshots).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gateway/config.h"
#include "gateway/fanout/subscriber.h"

namespace perpgw::gateway {
class Gateway;
}

namespace perpgw::gateway::publish {

// One subject token: '.', '*', '>' and ASCII whitespace/control become '_'.
std::string SubjectToken(std::string_view s);
std::string MarketSubject(std::string_view venue, std::string_view symbol, std::string_view kind);
std::string StatusSubject(std::string_view venue);
std::string OrdersSubject(std::string_view account);
std::string OrdersStream(std::string_view prefix);  // <prefix>_ORDERS
std::string BooksStream(std::string_view prefix);   // <prefix>_BOOKS

// A JetStream stream the publisher creates (or updates to its config's limits).
struct StreamSpec {
  std::string name, subjects;
  int64_t max_msgs_per_subject;  // -1: unlimited
};
// What a publisher with `cfg` creates: <prefix>_ORDERS always; <prefix>_BOOKS (the last
// snapshot per subject) only when it publishes market data with periodic snapshots.
std::vector<StreamSpec> StreamsFor(const NatsPublishConfig& cfg);

// Counters (also exported as perpgw_nats_* metrics).
struct NatsStats {
  std::atomic<uint64_t> published{0};  // messages handed to the client library
  std::atomic<uint64_t> dropped{0};    // publish errors, capped snapshots, resync snapshots
  std::atomic<uint64_t> resyncs{0};    // book resync snapshots (the publisher fell behind)
  std::atomic<uint64_t> disconnects{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> orders_acked{0};  // order events JetStream acknowledged
  std::atomic<uint64_t> orders_retried{0};
  std::atomic<uint64_t> orders_lost{0};  // no longer in the replay buffer when resumed
  std::atomic<bool> connected{false};
};

class NatsPublisher {
 public:
  NatsPublisher(Gateway& gw, NatsPublishConfig cfg);
  ~NatsPublisher();
  NatsPublisher(const NatsPublisher&) = delete;
  NatsPublisher& operator=(const NatsPublisher&) = delete;

  // Starts the publisher thread (it connects, creates the streams and subscribes its sinks;
  // an unreachable server is retried forever, never an error here).
  absl::Status Start();
  // Ends the sinks, flushes what the library holds (bounded wait) and joins the thread.
  void Stop();
  const NatsStats& stats() const;

  struct Impl;

 private:
  // Shared: a book-snapshot callback still queued on the bus holds it weakly.
  std::shared_ptr<Impl> impl_;
};

}  // namespace perpgw::gateway::publish
