// perpgw-nats-book: a consumer of perpgwd's NATS subjects (publish.nats, gateway/publish/) that
// rebuilds one market's book with the same rules as a StreamOrderBooks client. Used by the NATS
// integration test and the bench; the program prints the book's state once a second.
//
// Rules (one pair's sequence is the gRPC stream's: +1 per message, a snapshot carries the
// sequence of the state it holds):
//   - a snapshot on ...book replaces the book and the sequence (initial, resync, status change);
//   - a periodic snapshot on ...snapshot (JetStream, also fetched once at start) is taken when
//     the book is not synced or when it is newer than the book (deltas were missed);
//   - a delta (or a status-only message) is applied when its sequence is the next one, ignored
//     when older (a snapshot already holds it); a jump is a gap: the book is unsynced and waits
//     for the next snapshot, buffering later deltas to apply after it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/publish/nats_security.h"
#include "perpgw/v1/market_data.pb.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::natsbook {

// TLS and login for every connection below (as publish.nats: gateway/publish/nats_security.h).
using NatsSecurity = gateway::publish::NatsSecurity;

// Normalized price → normalized size (decimal strings, trailing zeros removed).
using Side = std::map<std::string, std::string>;

class BookRebuilder {
 public:
  // `periodic`: from the ...snapshot subject (or the JetStream stream), not the book stream.
  void OnMessage(const v1::OrderBookUpdate& u, bool periodic);

  bool synced() const { return synced_; }
  bool live() const { return synced_ && status_ == v1::BOOK_STATUS_LIVE; }
  uint64_t sequence() const { return seq_; }
  v1::BookStatus status() const { return status_; }
  const Side& bids() const { return bids_; }
  const Side& asks() const { return asks_; }

  // gaps: a delta missing while synced (lost on the wire); waits: a snapshot older than the
  // deltas already seen (a late start), the next snapshot is needed.
  uint64_t messages = 0, snapshots = 0, periodic_used = 0, resyncs = 0, gaps = 0, waits = 0,
           ignored = 0;

 private:
  void Replace(const v1::OrderBookUpdate& u);
  void Apply(const v1::OrderBookUpdate& u);
  void Drain();
  bool synced_ = false;
  bool provisional_ = false;  // synced by a periodic snapshot, no delta chained to it yet
  uint64_t seq_ = 0;
  v1::BookStatus status_ = v1::BOOK_STATUS_UNSPECIFIED;
  Side bids_, asks_;
  std::deque<v1::OrderBookUpdate> buffered_;  // deltas seen while unsynced
};

// Follows perpgw.<venue>.<symbol>.{book,snapshot} on a NATS server (libnats; reconnects by
// itself). `url`: one server or a comma-separated list (publish.nats.url's syntax); the first
// reachable one is used. Thread-safe getters.
class NatsBookFollower {
 public:
  NatsBookFollower(const std::string& url, const std::string& venue, const std::string& symbol,
                   const std::string& stream_prefix = "PERPGW", const NatsSecurity& security = {});
  ~NatsBookFollower();
  // Empty when connected and subscribed; else why not.
  const std::string& error() const { return error_; }

  struct View {
    Side bids, asks;
    bool synced = false, live = false;
    uint64_t sequence = 0, messages = 0, snapshots = 0, periodic_used = 0, resyncs = 0, gaps = 0,
             waits = 0;
    uint64_t other = 0;  // bbo, trades, funding messages seen on the market's subjects
    // Gateway send (send_time_ns) to this consumer's callback, book subject, last 100000
    // messages; same-machine clocks only. -1 when nothing was received.
    int64_t latency_p50_us = -1, latency_p99_us = -1;
  };
  View Get();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// The same book and latency from perpgwd's StreamOrderBooks (the gRPC path), so the two
// transports can be compared with one consumer's code (bench only).
class GrpcBookFollower {
 public:
  GrpcBookFollower(const std::string& addr, const std::string& venue, const std::string& symbol);
  ~GrpcBookFollower();
  NatsBookFollower::View Get();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Per-epoch sequence continuity of one account's order events (StreamOrderEvents' rules: +1 per
// event within an epoch; a changed epoch with continuous sequences is a gateway restart). The
// first event this consumer sees sets the base (a durable consumer resumed after a restart
// starts where it acked, which this process cannot know). A jump within an epoch is a gap, a
// new epoch that does not start at 1 or continue the old sequence is one too; both counted and
// reported, never silent. An event at or below the last one of its epoch is a redelivery (not
// acknowledged before a crash): counted, not passed on twice.
class OrderSequenceCheck {
 public:
  enum Result { kFirst, kNext, kNewEpoch, kGap, kDuplicate };
  Result OnEvent(uint64_t epoch, uint64_t sequence);
  // After a kGap: the first missing sequence and how many are missing (0 when unknown: a new
  // epoch whose start was missed).
  uint64_t gap_from() const { return gap_from_; }
  uint64_t gap_count() const { return gap_count_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t sequence() const { return seq_; }
  uint64_t events = 0, gaps = 0, missing = 0, duplicates = 0, epochs = 0;

 private:
  bool started_ = false;
  uint64_t epoch_ = 0, seq_ = 0, gap_from_ = 0, gap_count_ = 0;
};

// One account's order events (OrderEvent, the StreamOrderEvents message) from JetStream:
// perpgw.account.<account>.orders in <prefix>_ORDERS through a pull consumer, durable when
// `durable` is set (a restarted follower with the same name resumes after what it acked; else
// an ephemeral consumer from the stream's start). Each message is acknowledged once decoded and
// checked. One JSON line per event (and per gap) is queued for TakeLines.
class OrderEventFollower {
 public:
  OrderEventFollower(const std::string& url, const std::string& account,
                     const std::string& durable = "", const std::string& stream_prefix = "PERPGW",
                     const NatsSecurity& security = {});
  ~OrderEventFollower();
  const std::string& error() const { return error_; }

  struct View {
    uint64_t events = 0, gaps = 0, missing = 0, duplicates = 0, undecodable = 0;
    uint64_t epoch = 0, sequence = 0;      // the last event's
    std::vector<v1::OrderEvent> received;  // in arrival order (duplicates left out)
  };
  View Get();
  // The lines queued since the last call ({"order_event":...} / {"order_gap":...}).
  std::vector<std::string> TakeLines();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// One order event as a JSON line (perpgw-nats-book --orders).
std::string OrderEventLine(const v1::OrderEvent& e);

// Every message JetStream holds on `subject` in stream `stream` (payloads, stream order); `url`
// as NatsBookFollower's.
// Empty with *error set when the server or the stream cannot be read.
std::vector<std::string> ReadStream(const std::string& url, const std::string& stream,
                                    const std::string& subject, std::string* error,
                                    const NatsSecurity& security = {});

}  // namespace perpgw::natsbook
