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

#include "perpgw/v1/market_data.pb.h"

namespace perpgw::natsbook {

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
                   const std::string& stream_prefix = "PERPGW");
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

// Every message JetStream holds on `subject` in stream `stream` (payloads, stream order); `url`
// as NatsBookFollower's.
// Empty with *error set when the server or the stream cannot be read.
std::vector<std::string> ReadStream(const std::string& url, const std::string& stream,
                                    const std::string& subject, std::string* error);

}  // namespace perpgw::natsbook
