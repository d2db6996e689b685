// A WebSocket that re-creates its WsClient after every close, with capped jittered backoff;
// the adapter re-authenticates and resubscribes in on_connected.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "adapters/common/backoff.h"
#include "adapters/common/url.h"
#include "adapters/common/ws_client.h"

namespace perpgw::common {

struct ReconnectingWsOptions {
  WsOptions ws;
  Backoff::Options backoff;
  // A session that stayed open this long resets the backoff; shorter sessions (e.g. the venue
  // accepts then drops us) keep growing it so we do not hammer the venue.
  std::chrono::milliseconds stable_after{10000};
};

class ReconnectingWs {
 public:
  struct Handlers {
    // After every successful open (the first and each reconnect): authenticate and
    // resubscribe here. Frames sent from here go out in order before anything sent later.
    std::function<void()> on_connected;
    std::function<void(std::string_view payload, bool binary)> on_message;
    // Each time a session ends (or fails to connect); retry_in = delay before the next attempt.
    // Mark books resyncing / orders unknown here.
    std::function<void(const std::string& reason, std::chrono::milliseconds retry_in)>
        on_disconnected;
  };

  // All calls and callbacks on `ioc`'s thread.
  ReconnectingWs(boost::asio::io_context& ioc, Url url, ReconnectingWsOptions options,
                 Handlers handlers, Backoff::RandomFn random = {});
  static absl::StatusOr<std::unique_ptr<ReconnectingWs>> Create(
      boost::asio::io_context& ioc, std::string_view url, ReconnectingWsOptions options,
      Handlers handlers, Backoff::RandomFn random = {});
  // Calls Stop().
  ~ReconnectingWs();
  ReconnectingWs(const ReconnectingWs&) = delete;
  ReconnectingWs& operator=(const ReconnectingWs&) = delete;

  // Connects now; reconnects forever until Stop().
  void Start();
  // Closes the session and cancels any pending reconnect; no callback fires afterwards.
  void Stop();
  // Sends on the current session. Returns false when not open: nothing is queued across
  // sessions because the new session must authenticate/resubscribe first.
  bool Send(std::string text);
  // Drops the current session (e.g. sequence gap, missed app-level heartbeat) and reconnects
  // after the backoff; on_disconnected fires with `reason`.
  void ForceReconnect(const std::string& reason);

  bool is_open() const;
  uint64_t connects() const;    // sessions opened (on_connected calls)
  uint64_t reconnects() const;  // sessions opened after the first
  uint64_t attempts() const;    // connection attempts made

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace perpgw::common
