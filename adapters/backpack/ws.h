// Backpack WebSocket sessions: one public connection carrying every market stream, and one
// private connection per account with the signed account.* subscription, both re-subscribed on
// every reconnect (the server sends no snapshot and keeps no state across connections).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/backpack/rest.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::backpack {

class StreamSession {
 public:
  struct Handlers {
    std::function<void()> on_connected;  // after the (re)subscribe frames were queued
    std::function<void(std::string_view frame)> on_message;
    std::function<void(const std::string& reason)> on_disconnected;
  };
  // Builds the SUBSCRIBE frame for a list of streams (public: plain; private: signed now).
  using FrameBuilder = std::function<absl::StatusOr<std::string>(const std::vector<std::string>&)>;

  StreamSession(boost::asio::io_context& ioc, std::string url, bool verify_tls,
                FrameBuilder subscribe, Handlers handlers);
  ~StreamSession();
  absl::Status Start();
  void Stop();
  // Adds streams (idempotent); subscribed immediately when connected, else on connect.
  void Add(const std::vector<std::string>& streams);
  bool is_open() const;
  uint64_t reconnects() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::backpack
