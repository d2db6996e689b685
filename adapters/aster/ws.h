// Aster WebSocket sessions: market streams sharded over combined-stream connections (at most 200
// streams each, SUBSCRIBE batches paced under 10 client messages/s) and the per-account user-data
// stream with its listenKey lifecycle.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/aster/rest.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::aster {

class MarketStreams {
 public:
  struct Handlers {
    std::function<void(int shard)> on_connected;  // streams were (re)subscribed
    std::function<void(std::string_view frame)> on_message;
    std::function<void(int shard, const std::string& reason)> on_disconnected;
  };
  MarketStreams(boost::asio::io_context& ioc, std::string ws_base, bool verify_tls,
                Handlers handlers);
  ~MarketStreams();

  // Adds streams (idempotent). New shards connect on demand.
  absl::Status Add(const std::vector<std::string>& streams);
  void Stop();
  // Streams of a shard, e.g. to know which books a disconnect invalidated.
  std::vector<std::string> StreamsOf(int shard) const;
  int ShardOf(const std::string& stream) const;
  bool AnyOpen() const;
  uint64_t reconnects() const;
  void ForceReconnect(int shard, const std::string& reason);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// One account's user-data stream: POST listenKey → /ws/<key>, keepalive every 30 min, a new
// key on listenKeyExpired or after any disconnect, proactive reconnect before the 24 h cap.
class UserStream {
 public:
  struct Handlers {
    std::function<void()> on_connected;  // re-snapshot orders/positions over REST here
    std::function<void(std::string_view frame)> on_message;
    std::function<void(const std::string& reason)> on_disconnected;
  };
  UserStream(boost::asio::io_context& ioc, AsterRest& rest, const Credentials& creds,
             std::string ws_base, bool verify_tls, Handlers handlers);
  ~UserStream();
  void Start();
  void Stop();
  // The venue said the key expired (listenKeyExpired event): new key, reconnect.
  void Renew(const std::string& reason);
  bool is_open() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::aster
