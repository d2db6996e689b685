// Loopback HTTP/1.1 keep-alive + WebSocket server pieces used by every sim listener (Beast lives
// in net.cpp only): request/response values, the WS connection handle and the listener.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/core/loop.h"

namespace perpgw::sim {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path + "?" + query
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // First value, or "" (has_* tells absent from empty).
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  std::string Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void Json(int s, std::string b) {
    status = s;
    content_type = "application/json";
    body = std::move(b);
  }
};

// Parses "a=1&b=x%20y" (form/query encoding; '+' is a space).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view q);
std::string UrlDecode(std::string_view s);

// A server-side WebSocket connection. Loop thread only. Text frames; Beast answers pings.
class WsConn {
 public:
  virtual ~WsConn() = default;
  virtual uint64_t id() const = 0;
  virtual const std::string& path() const = 0;    // upgrade request path (no query)
  virtual const std::string& target() const = 0;  // upgrade request target (with query)
  virtual bool open() const = 0;
  // Queues one text message; at most one write is in flight. A full queue means a slow
  // consumer: the connection is dropped (as real venues do). Returns false when not queued.
  virtual bool Send(std::string text) = 0;
  // The same for a binary message (opcode 2), e.g. Paradex's SBE frames. Shares the queue (and
  // its order) with text messages.
  virtual bool SendBinary(std::string bytes) = 0;
  // graceful: WS close frame (code 1000, reason); else the TCP socket is reset without one.
  virtual void Close(bool graceful = true, std::string_view reason = {}) = 0;
  virtual size_t queued() const = 0;
  virtual uint64_t messages_sent() const = 0;
  // When the client last sent anything: a message or a control frame (ping, pong). Venues that
  // close idle connections count both (Lighter: "WS-level pings or {"type":"ping"} count").
  virtual std::chrono::steady_clock::time_point last_activity() const = 0;

  // Fault hooks (applied by the core's /fault handler, usable by modules too).
  virtual void CorruptNext() = 0;                            // next message goes out as garbage
  virtual void Stall(std::chrono::milliseconds ms) = 0;      // hold writes (they queue) for ms

  // One slot for the module's per-connection state (subscriptions, auth). The module must use a
  // single type T per connection.
  template <class T>
  T& Data() {
    if (!user_) user_ = std::make_shared<T>();
    return *static_cast<T*>(user_.get());
  }
  bool HasData() const { return user_ != nullptr; }

 private:
  std::shared_ptr<void> user_;
};
using WsConnPtr = std::shared_ptr<WsConn>;

// What a listener serves. Called on the loop thread.
class HttpHandler {
 public:
  using Respond = std::function<void(HttpResponse)>;
  virtual ~HttpHandler() = default;
  // Must call respond exactly once (now or later, e.g. after an injected delay).
  virtual void OnHttp(const HttpRequest& req, Respond respond) = 0;
  // Upgrade requests: return false and fill `reject` to refuse (404 by default).
  virtual bool OnWsUpgrade(const HttpRequest& req, HttpResponse* reject) { return false; }
  virtual void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {}
  virtual void OnWsText(const WsConnPtr& conn, std::string_view text) {}
  virtual void OnWsClose(const WsConnPtr& conn) {}
};

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = ephemeral
  size_t ws_queue_limit = 1 << 16;  // queued messages per WS connection before it is dropped
  size_t max_body = 1 << 20;
  // The venue's WebSocket keepalive: a ping frame every `ping_interval` (0: none); a connection
  // that has not answered a ping within `pong_timeout` is closed (0: not enforced); one that has
  // sent nothing (message, ping or pong) for `idle_timeout` is closed (0: never).
  std::chrono::milliseconds ping_interval{0};
  std::chrono::milliseconds pong_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual int port() const = 0;
  virtual void Close() = 0;  // stops accepting and closes every session
};

absl::StatusOr<std::unique_ptr<Listener>> StartListener(EventLoop& loop,
                                                        const ListenerOptions& options,
                                                        HttpHandler* handler);

}  // namespace perpgw::sim
