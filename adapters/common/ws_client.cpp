// WebSocket session over plain TCP or TLS with Boost.Beast; all work on one io_context.
#include "adapters/common/ws_client.h"
#include "adapters/wire/json_reader.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "adapters/common/tls_internal.h"

namespace perpgw::common {

static_assert(kWsReadPadding >= wire::kJsonPadding,
              "WsClient must pad messages enough for simdjson to parse in place");

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {
// The message being delivered by on_message on this thread: its kernel receive time.
thread_local int64_t tls_message_rx_ns = 0;

// The TCP layer under the WebSocket (and TLS): beast's tcp_stream for connect and writes, but
// reads through recvmsg(2) so the kernel's receive timestamp of each read (SO_TIMESTAMPNS,
// CLOCK_REALTIME: when the last segment the read returns reached the socket) comes with the
// bytes. Time spent queued in the socket before this thread read it is then counted.
class RxStampedStream {
 public:
  using next_layer_type = beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit RxStampedStream(net::io_context& ioc) : next_(ioc) {}
  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  // What asio's ssl::stream asks of the layer under it.
  using lowest_layer_type = tcp::socket::lowest_layer_type;
  lowest_layer_type& lowest_layer() noexcept { return next_.socket().lowest_layer(); }
  const lowest_layer_type& lowest_layer() const noexcept { return next_.socket().lowest_layer(); }
  // After connect: ask the kernel for receive timestamps (best effort; 0 stamps without).
  void EnableRxTimestamps() {
    int one = 1;
    stamping_ = ::setsockopt(next_.socket().native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &one,
                             sizeof one) == 0;
  }
  // The kernel receive time of the last read, ns since the epoch; 0 when unknown.
  int64_t last_rx_ns() const { return last_rx_ns_; }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
  }
  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return net::async_initiate<ReadHandler, void(beast::error_code, std::size_t)>(
        [this](auto h, const MutableBufferSequence& b) { WaitThenRead(std::move(h), b); },
        handler, buffers);
  }

 private:
  template <class Handler, class MutableBufferSequence>
  void WaitThenRead(Handler h, const MutableBufferSequence& buffers) {
    auto ex = net::get_associated_executor(h, get_executor());
    next_.socket().async_wait(
        tcp::socket::wait_read,
        net::bind_executor(ex, [this, h = std::move(h), buffers](beast::error_code ec) mutable {
          if (ec) return std::move(h)(ec, 0);
          std::size_t n = 0;
          ec = ReadNow(buffers, &n);
          if (ec == net::error::would_block) return WaitThenRead(std::move(h), buffers);
          std::move(h)(ec, n);
        }));
  }

  template <class MutableBufferSequence>
  beast::error_code ReadNow(const MutableBufferSequence& buffers, std::size_t* n) {
    iovec iov[16];
    std::size_t count = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < 16; ++it) {
      net::mutable_buffer b(*it);
      if (b.size() == 0) continue;
      iov[count].iov_base = b.data();
      iov[count].iov_len = b.size();
      ++count;
    }
    if (count == 0) return {};  // a zero-size read completes at once
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    msg.msg_control = stamping_ ? control : nullptr;
    msg.msg_controllen = stamping_ ? sizeof control : 0;
    const ssize_t r = ::recvmsg(next_.socket().native_handle(), &msg, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return net::error::would_block;
      return beast::error_code(errno, boost::system::system_category());
    }
    if (r == 0) return net::error::eof;
    *n = static_cast<std::size_t>(r);
    if (stamping_) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
            c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          last_rx_ns_ = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
        }
      }
    }
    return {};
  }

  next_layer_type next_;
  bool stamping_ = false;
  int64_t last_rx_ns_ = 0;
};

// The WebSocket close handshake ends with the TCP layer's teardown (async only: WsClient never
// closes synchronously).
template <class TeardownHandler>
void async_teardown(beast::role_type role, RxStampedStream& s, TeardownHandler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}
}  // namespace

int64_t CurrentMessageRxTime() { return tls_message_rx_ns; }

class WsClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using PlainWs = websocket::stream<RxStampedStream>;
  using TlsWs = websocket::stream<beast::ssl_stream<RxStampedStream>>;

  Impl(net::io_context& ioc, Url url, WsOptions options, Handlers handlers)
      : ioc_(ioc),
        url_(std::move(url)),
        options_(std::move(options)),
        handlers_(std::move(handlers)),
        resolver_(ioc),
        connect_timer_(ioc),
        ping_timer_(ioc),
        idle_timer_(ioc),
        close_timer_(ioc),
        tls_ctx_(net::ssl::context::tls_client) {}

  void Connect() {
    if (state_ != State::kIdle) return;
    state_ = State::kConnecting;
    if (url_.tls) {
      absl::Status st = internal::InitClientTlsContext(
          tls_ctx_, internal::TlsSettings{options_.verify_tls, options_.ca_pem});
      if (!st.ok()) {
        PostFail("tls setup: " + std::string(st.message()));
        return;
      }
      stream_ = std::make_unique<TlsWs>(ioc_, tls_ctx_);
    } else {
      stream_ = std::make_unique<PlainWs>(ioc_);
    }
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->state_ == State::kConnecting) self->Fail("connect timeout");
    });
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          self->OnResolve(ec, std::move(results));
        });
  }

  bool Send(std::string text) {
    if (state_ == State::kClosed) return false;
    queue_.push_back(std::move(text));
    if (state_ == State::kOpen && !writing_) DoWrite();
    return true;
  }

  void Close() {
    if (state_ == State::kClosed) return;
    bool was_open = state_ == State::kOpen;
    state_ = State::kClosed;
    CancelTimersAndResolve();
    queue_.clear();
    if (!was_open || !HasStream()) {
      DropSocket();
      return;
    }
    // Best-effort close handshake; the timer guarantees the socket goes away.
    close_timer_.expires_after(options_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->DropSocket();
    });
    Visit([&](auto& ws) {
      ws.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
        self->close_timer_.cancel();
        self->DropSocket();
      });
    });
  }

  State state() const { return state_; }
  size_t queued() const { return queue_.size(); }
  Stats stats() const { return stats_; }
  const Url& url() const { return url_; }

 private:
  bool HasStream() const {
    return std::visit([](const auto& p) { return p != nullptr; }, stream_);
  }

  template <typename F>
  void Visit(F&& f) {
    std::visit([&](auto& p) { f(*p); }, stream_);
  }

  RxStampedStream& Stamped() {
    if (auto* tls = std::get_if<std::unique_ptr<TlsWs>>(&stream_)) {
      return (*tls)->next_layer().next_layer();
    }
    return std::get<std::unique_ptr<PlainWs>>(stream_)->next_layer();
  }

  void OnResolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("resolve " + url_.host + ": " + ec.message());
    Visit([&](auto& ws) {
      beast::get_lowest_layer(ws).async_connect(
          results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
            self->OnTcpConnect(ec);
          });
    });
  }

  void OnTcpConnect(beast::error_code ec) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("connect " + url_.HostHeader() + ": " + ec.message());
    beast::error_code ignored;
    Visit([&](auto& ws) {
      beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ignored);
    });
    Stamped().EnableRxTimestamps();
    if (auto* tls = std::get_if<std::unique_ptr<TlsWs>>(&stream_)) {
      auto& ssl_stream = (*tls)->next_layer();
      absl::Status st =
          internal::ConfigureTlsHost(ssl_stream.native_handle(), url_.host, options_.verify_tls);
      if (!st.ok()) return Fail(std::string(st.message()));
      ssl_stream.async_handshake(net::ssl::stream_base::client,
                                 [self = shared_from_this()](beast::error_code ec) {
                                   if (self->state_ != State::kConnecting) return;
                                   if (ec) return self->Fail("tls handshake: " + ec.message());
                                   self->DoWsHandshake();
                                 });
      return;
    }
    DoWsHandshake();
  }

  void DoWsHandshake() {
    Visit([&](auto& ws) {
      beast::get_lowest_layer(ws).expires_never();  // our own timers govern every phase
      websocket::stream_base::timeout to{};
      to.handshake_timeout = options_.connect_timeout;
      to.idle_timeout = websocket::stream_base::none();
      to.keep_alive_pings = false;
      ws.set_option(to);
      websocket::permessage_deflate pmd;
      pmd.client_enable = false;
      pmd.server_enable = false;
      ws.set_option(pmd);
      ws.read_message_max(options_.max_message_bytes);
      ws.set_option(websocket::stream_base::decorator(
          [headers = options_.headers, ua = options_.user_agent](websocket::request_type& req) {
            if (!ua.empty()) req.set(beast::http::field::user_agent, ua);
            for (const auto& [k, v] : headers) req.set(k, v);
          }));
      ws.async_handshake(url_.HostHeader(), url_.target,
                         [self = shared_from_this()](beast::error_code ec) {
                           self->OnWsHandshake(ec);
                         });
    });
  }

  void OnWsHandshake(beast::error_code ec) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("websocket upgrade: " + ec.message());
    state_ = State::kOpen;
    connect_timer_.cancel();
    last_rx_ = SteadyClock::now();
    Visit([&](auto& ws) {
      ws.text(true);
      ws.control_callback([this](websocket::frame_type, beast::string_view) {
        last_rx_ = SteadyClock::now();
      });
    });
    DoRead();
    ArmPing();
    ArmIdle(options_.idle_timeout);
    if (handlers_.on_open) handlers_.on_open();
    if (state_ == State::kOpen && !writing_ && !queue_.empty()) DoWrite();
  }

  void DoRead() {
    Visit([&](auto& ws) {
      ws.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->OnRead(ec, n);
      });
    });
  }

  void OnRead(beast::error_code ec, size_t) {
    if (state_ != State::kOpen) return;
    if (ec == websocket::error::closed) {
      std::string reason = "closed by server";
      Visit([&](auto& ws) {
        const websocket::close_reason& cr = ws.reason();
        reason += " (code " + std::to_string(cr.code);
        if (!cr.reason.empty()) reason += ": " + std::string(cr.reason.data(), cr.reason.size());
        reason += ")";
      });
      return Fail(reason);
    }
    if (ec) return Fail("read: " + ec.message());
    last_rx_ = SteadyClock::now();
    bool binary = false;
    Visit([&](auto& ws) { binary = !ws.got_text(); });
    size_t size = buffer_.size();
    buffer_.prepare(kWsReadPadding);  // may move the data: take data() afterwards
    auto data = buffer_.data();
    ++stats_.messages_received;
    stats_.bytes_received += size;
    if (handlers_.on_message) {
      tls_message_rx_ns = Stamped().last_rx_ns();
      handlers_.on_message(std::string_view(static_cast<const char*>(data.data()), size), binary);
      tls_message_rx_ns = 0;
    }
    buffer_.consume(buffer_.size());
    if (state_ == State::kOpen) DoRead();
  }

  void DoWrite() {
    writing_ = true;
    Visit([&](auto& ws) {
      ws.async_write(net::buffer(queue_.front()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (self->state_ != State::kOpen) return;
                       if (ec) return self->Fail("write: " + ec.message());
                       ++self->stats_.messages_sent;
                       self->queue_.pop_front();
                       if (!self->queue_.empty()) self->DoWrite();
                     });
    });
  }

  void ArmPing() {
    if (options_.ping_interval.count() <= 0) return;
    ping_timer_.expires_after(options_.ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ != State::kOpen) return;
      if (!self->pinging_) {
        self->pinging_ = true;
        ++self->stats_.pings_sent;
        self->Visit([&](auto& ws) {
          ws.async_ping({}, [self](beast::error_code ec) {
            self->pinging_ = false;
            if (ec && self->state_ == State::kOpen) self->Fail("ping: " + ec.message());
          });
        });
      }
      self->ArmPing();
    });
  }

  void ArmIdle(SteadyClock::duration after) {
    if (options_.idle_timeout.count() <= 0) return;
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ != State::kOpen) return;
      auto quiet = SteadyClock::now() - self->last_rx_;
      if (quiet >= self->options_.idle_timeout) return self->Fail("idle timeout");
      self->ArmIdle(self->options_.idle_timeout - quiet);
    });
  }

  void CancelTimersAndResolve() {
    connect_timer_.cancel();
    ping_timer_.cancel();
    idle_timer_.cancel();
    resolver_.cancel();
  }

  void DropSocket() {
    if (!HasStream()) return;
    beast::error_code ignored;
    Visit([&](auto& ws) {
      auto& sock = beast::get_lowest_layer(ws).socket();
      if (sock.is_open()) {
        sock.shutdown(tcp::socket::shutdown_both, ignored);
        sock.close(ignored);
      }
    });
  }

  void PostFail(std::string reason) {
    net::post(ioc_, [self = shared_from_this(), reason = std::move(reason)] {
      self->Fail(reason);
    });
  }

  // Ends the session because of the network/peer; reports once via on_close.
  void Fail(const std::string& reason) {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    CancelTimersAndResolve();
    close_timer_.cancel();
    queue_.clear();
    DropSocket();
    if (handlers_.on_close) handlers_.on_close(reason);
  }

  net::io_context& ioc_;
  Url url_;
  WsOptions options_;
  Handlers handlers_;
  tcp::resolver resolver_;
  net::steady_timer connect_timer_;
  net::steady_timer ping_timer_;
  net::steady_timer idle_timer_;
  net::steady_timer close_timer_;
  net::ssl::context tls_ctx_;
  std::variant<std::unique_ptr<PlainWs>, std::unique_ptr<TlsWs>> stream_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  State state_ = State::kIdle;
  bool writing_ = false;
  bool pinging_ = false;
  SteadyClock::time_point last_rx_{};
  Stats stats_;
};

WsClient::WsClient(net::io_context& ioc, Url url, WsOptions options, Handlers handlers)
    : impl_(std::make_shared<Impl>(ioc, std::move(url), std::move(options), std::move(handlers))) {}

absl::StatusOr<std::unique_ptr<WsClient>> WsClient::Create(net::io_context& ioc,
                                                           std::string_view url, WsOptions options,
                                                           Handlers handlers) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme != "ws" && parsed->scheme != "wss") {
    return absl::InvalidArgumentError("websocket url must be ws:// or wss://: " + std::string(url));
  }
  return std::make_unique<WsClient>(ioc, *std::move(parsed), std::move(options),
                                    std::move(handlers));
}

WsClient::~WsClient() { impl_->Close(); }
void WsClient::Connect() { impl_->Connect(); }
bool WsClient::Send(std::string text) { return impl_->Send(std::move(text)); }
void WsClient::Close() { impl_->Close(); }
WsClient::State WsClient::state() const { return impl_->state(); }
size_t WsClient::queued_writes() const { return impl_->queued(); }
WsClient::Stats WsClient::stats() const { return impl_->stats(); }
const Url& WsClient::url() const { return impl_->url(); }

}  // namespace perpgw::common
