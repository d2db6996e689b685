// Reconnecting WebSocket wrapper: WsClient per session + Backoff between sessions.
#include "adapters/common/reconnecting_ws.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

namespace perpgw::common {

namespace net = boost::asio;
using SteadyClock = std::chrono::steady_clock;

class ReconnectingWs::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(net::io_context& ioc, Url url, ReconnectingWsOptions options, Handlers handlers,
       Backoff::RandomFn random)
      : ioc_(ioc),
        url_(std::move(url)),
        options_(std::move(options)),
        handlers_(std::move(handlers)),
        backoff_(options_.backoff, std::move(random)),
        timer_(ioc) {}

  void Start() {
    if (started_ || stopped_) return;
    started_ = true;
    Attempt();
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    if (client_) client_->Close();
    client_.reset();
  }

  bool Send(std::string text) {
    if (stopped_ || !client_ || !client_->is_open()) return false;
    return client_->Send(std::move(text));
  }

  void ForceReconnect(const std::string& reason) {
    if (stopped_ || !started_ || !client_) return;  // already waiting for a retry
    client_->Close();  // no on_close from a Close(): report it ourselves
    OnSessionEnd(reason);
  }

  bool is_open() const { return client_ && client_->is_open(); }
  uint64_t connects() const { return connects_; }
  uint64_t reconnects() const { return connects_ > 0 ? connects_ - 1 : 0; }
  uint64_t attempts() const { return attempts_; }

 private:
  void Attempt() {
    if (stopped_) return;
    ++attempts_;
    std::weak_ptr<Impl> weak = weak_from_this();
    WsClient::Handlers h;
    h.on_open = [weak] {
      if (auto self = weak.lock()) self->OnOpen();
    };
    h.on_message = [weak](std::string_view payload, bool binary) {
      auto self = weak.lock();
      if (self && !self->stopped_ && self->handlers_.on_message) {
        self->handlers_.on_message(payload, binary);
      }
    };
    h.on_close = [weak](const std::string& reason) {
      if (auto self = weak.lock()) self->OnSessionEnd(reason);
    };
    client_ = std::make_unique<WsClient>(ioc_, url_, options_.ws, std::move(h));
    opened_at_.reset();
    client_->Connect();
  }

  void OnOpen() {
    if (stopped_) return;
    ++connects_;
    opened_at_ = SteadyClock::now();
    if (handlers_.on_connected) handlers_.on_connected();
  }

  void OnSessionEnd(const std::string& reason) {
    if (stopped_) return;
    if (opened_at_ && SteadyClock::now() - *opened_at_ >= options_.stable_after) backoff_.Reset();
    opened_at_.reset();
    // The WsClient is inside its own callback here; it stays alive until that returns.
    client_.reset();
    std::chrono::milliseconds delay = backoff_.Next();
    timer_.expires_after(delay);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self && !self->stopped_) self->Attempt();
    });
    if (handlers_.on_disconnected) handlers_.on_disconnected(reason, delay);
  }

  net::io_context& ioc_;
  Url url_;
  ReconnectingWsOptions options_;
  Handlers handlers_;
  Backoff backoff_;
  net::steady_timer timer_;
  std::unique_ptr<WsClient> client_;
  std::optional<SteadyClock::time_point> opened_at_;
  bool started_ = false;
  bool stopped_ = false;
  uint64_t connects_ = 0;
  uint64_t attempts_ = 0;
};

ReconnectingWs::ReconnectingWs(net::io_context& ioc, Url url, ReconnectingWsOptions options,
                               Handlers handlers, Backoff::RandomFn random)
    : impl_(std::make_shared<Impl>(ioc, std::move(url), std::move(options), std::move(handlers),
                                   std::move(random))) {}

absl::StatusOr<std::unique_ptr<ReconnectingWs>> ReconnectingWs::Create(
    net::io_context& ioc, std::string_view url, ReconnectingWsOptions options, Handlers handlers,
    Backoff::RandomFn random) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme != "ws" && parsed->scheme != "wss") {
    return absl::InvalidArgumentError("websocket url must be ws:// or wss://: " + std::string(url));
  }
  return std::make_unique<ReconnectingWs>(ioc, *std::move(parsed), std::move(options),
                                          std::move(handlers), std::move(random));
}

ReconnectingWs::~ReconnectingWs() { impl_->Stop(); }
void ReconnectingWs::Start() { impl_->Start(); }
void ReconnectingWs::Stop() { impl_->Stop(); }
bool ReconnectingWs::Send(std::string text) { return impl_->Send(std::move(text)); }
void ReconnectingWs::ForceReconnect(const std::string& reason) { impl_->ForceReconnect(reason); }
bool ReconnectingWs::is_open() const { return impl_->is_open(); }
uint64_t ReconnectingWs::connects() const { return impl_->connects(); }
uint64_t ReconnectingWs::reconnects() const { return impl_->reconnects(); }
uint64_t ReconnectingWs::attempts() const { return impl_->attempts(); }

}  // namespace perpgw::common
