// A venue's set of subscribed topics spread over WebSocket connections: at most
// `max_topics_per_connection` each (a new connection opens when one is full), SUBSCRIBE frames
// chunked and paced to the venue's message rate, everything re-subscribed on every reconnect
// (re-signed: the frame builder runs again), and a proactive reconnect before a venue's session
// age cap. Every venue's public and private streams are one of these; what differs is Options and
// the frame builder (the venue's subscribe encoding, signed for private streams).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::common {

class StreamSet {
 public:
  struct Options {
    std::string url;  // every connection's URL
    bool verify_tls = true;
    size_t max_topics_per_connection = std::numeric_limits<size_t>::max();
    size_t topics_per_frame = 50;
    std::chrono::milliseconds frame_spacing{0};  // between a connection's frames (0: no pacing)
    std::chrono::milliseconds max_age{0};        // reconnect before this session age (0: never)
    std::chrono::seconds ping_interval{30};
    std::chrono::seconds idle_timeout{90};
    // true: a connection opens only once it has topics; false: Start() opens one at once.
    bool lazy = false;
  };
  // One subscribe frame for `topics`; `seq` counts the connection's frames from 1 (request ids).
  using FrameBuilder = std::function<absl::StatusOr<std::string>(
      const std::vector<std::string>& topics, uint64_t seq)>;
  struct Handlers {
    std::function<void(int conn)> on_connected;  // its topics' frames are queued
    std::function<void(std::string_view frame)> on_message;  // text frames
    // Binary frames (Paradex's SBE public data). Unset: binary frames are dropped.
    std::function<void(std::string_view frame)> on_binary;
    std::function<void(int conn, const std::string& reason)> on_disconnected;
    // A frame could not be built (e.g. signing failed): nothing was sent for those topics.
    std::function<void(int conn, const absl::Status& why)> on_frame_error;
  };

  // All calls and callbacks on `ioc`'s thread.
  StreamSet(boost::asio::io_context& ioc, Options options, FrameBuilder frames, Handlers handlers);
  ~StreamSet();  // Stop()
  StreamSet(const StreamSet&) = delete;
  StreamSet& operator=(const StreamSet&) = delete;

  // Connects (the connections that have topics; one at least unless lazy). Idempotent.
  absl::Status Start();
  // Adds topics (idempotent); subscribed at once on an open connection, else on its connect.
  absl::Status Add(const std::vector<std::string>& topics);
  void Stop();
  // Sends `before` (e.g. the venue's unsubscribe frame) on the topic's connection, then the
  // topic's subscribe frame again: a venue that starts every subscription with a snapshot sends a
  // fresh one. FailedPrecondition when the topic's connection is not open (its reconnect
  // re-subscribes everything anyway); NotFound for a topic never added.
  absl::Status Resubscribe(const std::string& topic, std::string before);
  // Queues `frame` on every open connection (a venue's application-level pong, Lighter's
  // {"type":"pong"}). Returns how many connections got it.
  size_t SendAll(const std::string& frame);

  std::vector<std::string> TopicsOf(int conn) const;
  int ConnectionOf(const std::string& topic) const;  // -1: not added
  bool AnyOpen() const;
  uint64_t reconnects() const;
  void ForceReconnect(int conn, const std::string& reason);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::common
