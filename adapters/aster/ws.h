// Aster WebSocket sessions: the market streams' options (a common::StreamSet) and the per-account
// user-data stream with its listenKey lifecycle.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/common/stream_set.h"
#include "adapters/aster/rest.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::aster {

// The market streams, a common::StreamSet: combined-stream connections (<ws_base>/stream) of at
// most kMaxStreamsPerConnection streams, SUBSCRIBE frames (EncodeSubscribe) of 50 streams 250 ms
// apart (10 client messages/s is the venue's hard limit), a reconnect before the 24 h cap. The
// venue pings every 5 min and Beast answers; our own pings keep NAT state fresh.
common::StreamSet::Options MarketStreamOptions(std::string ws_base, bool verify_tls);

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
