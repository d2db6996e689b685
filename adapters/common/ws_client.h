// One WebSocket session (ws:// or wss://) on the venue's io_context: connect with a deadline,
// one write in flight, client pings, idle timeout. Beast stays in the .cpp (pimpl).
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
#include "adapters/common/url.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::common {

// Every payload passed to on_message is followed by at least this many readable bytes, so
// wire::JsonParser::Start(payload, where, &doc, kWsReadPadding) parses it in place, no copy.
inline constexpr size_t kWsReadPadding = 64;

struct WsOptions {
  // Covers resolve + TCP connect + TLS handshake + WebSocket upgrade.
  std::chrono::milliseconds connect_timeout{10000};
  // Client-initiated WS ping frames; 0 disables (for venues that want app-level pings instead).
  std::chrono::milliseconds ping_interval{15000};
  // No frame of any kind (data, ping, pong) received for this long → on_close("idle timeout").
  // 0 disables.
  std::chrono::milliseconds idle_timeout{60000};
  // Close(): how long to wait for the close handshake before dropping the socket.
  std::chrono::milliseconds close_timeout{2000};
  size_t max_message_bytes = 16u << 20;
  bool verify_tls = true;  // chain (system store + ca_pem) and host name; off only for tests
  std::string ca_pem;      // extra trusted CA certificates, PEM
  std::vector<std::pair<std::string, std::string>> headers;  // extra upgrade-request headers
  std::string user_agent = "perpgw/0.1";
};

// During a WsClient on_message callback: the kernel's receive time (SO_TIMESTAMPNS, ns since the
// epoch) of the socket read that completed the message, i.e. when its last bytes reached the
// socket, before any wait for this thread; 0 outside a callback or when the kernel gave none.
// Frames decoded from one read share its stamp (that of the read's last segment).
int64_t CurrentMessageRxTime();

class WsClient {
 public:
  enum class State { kIdle, kConnecting, kOpen, kClosed };

  struct Handlers {
    std::function<void()> on_open;
    // payload is valid only during the call; binary = the frame was a binary frame.
    std::function<void(std::string_view payload, bool binary)> on_message;
    // Fires exactly once when the session ends for any reason other than Close(): connect
    // failure/timeout, TLS/upgrade failure, server close, read/write error, idle timeout.
    std::function<void(const std::string& reason)> on_close;
  };

  struct Stats {
    uint64_t messages_received = 0;
    uint64_t bytes_received = 0;
    uint64_t messages_sent = 0;
    uint64_t pings_sent = 0;
  };

  // Everything (constructor, Connect, Send, Close, destructor) must run on `ioc`'s thread;
  // callbacks are invoked there too. ioc must outlive the client's pending operations.
  WsClient(boost::asio::io_context& ioc, Url url, WsOptions options, Handlers handlers);
  static absl::StatusOr<std::unique_ptr<WsClient>> Create(boost::asio::io_context& ioc,
                                                          std::string_view url,
                                                          WsOptions options, Handlers handlers);
  // Calls Close(); no callback fires afterwards.
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Starts connecting (once per client; later calls are ignored). Failures arrive via on_close.
  void Connect();
  // Queues a text frame; frames go out in order, one write in flight. Frames queued before
  // the session opens are sent right after on_open. Returns false once closed.
  bool Send(std::string text);
  // Graceful close (close frame, then socket drop after close_timeout). Safe at any time,
  // including from inside a callback; after it returns no callback fires.
  void Close();

  State state() const;
  bool is_open() const { return state() == State::kOpen; }
  size_t queued_writes() const;  // including the one in flight
  Stats stats() const;
  const Url& url() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace perpgw::common
