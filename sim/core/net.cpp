// Beast HTTP/1.1 + WebSocket sessions for the sim listeners: keep-alive REST and WS upgrades on
// one port, one write in flight per WS connection with a bounded queue, fault hooks.
#include "sim/core/net.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <deque>
#include <optional>
#include <unordered_map>

namespace perpgw::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(UrlDecode(part), "");
      } else {
        out.emplace_back(UrlDecode(part.substr(0, eq)), UrlDecode(part.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string HttpRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}
bool HttpRequest::HasQuery(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}
std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}
bool HttpRequest::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

namespace {

using BeastRequest = http::request<http::string_body>;

HttpRequest Convert(const BeastRequest& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  std::string_view t(req.target().data(), req.target().size());
  size_t qm = t.find('?');
  r.path = UrlDecode(t.substr(0, qm));
  if (qm != std::string_view::npos) r.query = ParseQuery(t.substr(qm + 1));
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = req.body();
  return r;
}

struct Closable {
  virtual ~Closable() = default;
  virtual void ForceClose() = 0;
};

// Shared by a listener and its sessions so sessions never outlive what they point at.
struct ListenerState {
  HttpHandler* handler = nullptr;
  ListenerOptions options;
  bool closed = false;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::weak_ptr<Closable>> sessions;
};

class WsSession final : public WsConn, public Closable,
                        public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, std::shared_ptr<ListenerState> state, uint64_t id)
      : ws_(std::move(socket)), stall_timer_(ws_.get_executor()),
        ping_timer_(ws_.get_executor()), pong_timer_(ws_.get_executor()),
        state_(std::move(state)), id_(id) {}

  void Run(BeastRequest req) {
    upgrade_ = Convert(req);
    // No idle timeout: many venue clients only listen and never send.
    websocket::stream_base::timeout to{};
    to.handshake_timeout = std::chrono::seconds(30);
    to.idle_timeout = websocket::stream_base::none();
    to.keep_alive_pings = false;
    ws_.set_option(to);
    ws_.read_message_max(1 << 20);
    last_activity_ = std::chrono::steady_clock::now();
    // Beast answers pings itself; the callback only records that the client was there.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      last_activity_ = std::chrono::steady_clock::now();
      if (kind == websocket::frame_type::pong) {
        awaiting_pong_ = false;
        pong_timer_.cancel();
      }
    });
    auto self = shared_from_this();
    ws_.async_accept(req, [self](beast::error_code ec) {
      if (ec) return self->Closed();
      self->open_ = true;
      if (!self->state_->closed) self->state_->handler->OnWsOpen(self, self->upgrade_);
      self->DoRead();
      self->MaybeWrite();
      self->ScheduleKeepalive();
    });
  }

  uint64_t id() const override { return id_; }
  const std::string& path() const override { return upgrade_.path; }
  const std::string& target() const override { return upgrade_.target; }
  bool open() const override { return open_ && !closing_; }
  size_t queued() const override { return queue_.size(); }
  uint64_t messages_sent() const override { return sent_; }
  std::chrono::steady_clock::time_point last_activity() const override { return last_activity_; }

  bool Send(std::string text) override { return Queue(std::move(text), false); }
  bool SendBinary(std::string bytes) override { return Queue(std::move(bytes), true); }

  bool Queue(std::string text, bool binary) {
    if (!open_ || closing_) return false;
    if (queue_.size() >= state_->options.ws_queue_limit) {
      spdlog::warn("ws conn {} {}: write queue full ({}), dropping slow consumer", id_,
                   upgrade_.path, queue_.size());
      Close(false, {});
      return false;
    }
    if (corrupt_next_) {
      corrupt_next_ = false;
      // Truncated JSON (or a truncated binary message) followed by bytes no parser accepts.
      text = text.substr(0, text.size() / 2) + "\x01\x02}{garbage";
    }
    queue_.push_back(Message{std::move(text), binary});
    MaybeWrite();
    return true;
  }

  void Close(bool graceful, std::string_view reason) override {
    if (!open_ || closing_) return;
    closing_ = true;
    if (!graceful) return Abort();
    close_reason_ = std::string(reason);
    if (!writing_) DoClose();
  }

  void CorruptNext() override { corrupt_next_ = true; }

  void Stall(std::chrono::milliseconds ms) override {
    stalled_ = true;
    stall_timer_.expires_after(ms);
    auto self = shared_from_this();
    stall_timer_.async_wait([self](beast::error_code ec) {
      if (ec) return;
      self->stalled_ = false;
      self->MaybeWrite();
    });
  }

  void ForceClose() override {
    closing_ = true;
    Abort();
  }

 private:
  void Abort() {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.set_option(asio::socket_base::linger(true, 0), ec);  // RST, like a dropped link
    sock.close(ec);
    stall_timer_.cancel();
    ping_timer_.cancel();
    pong_timer_.cancel();
  }

  // One tick per ping interval (or per idle check when only the idle timeout is set): close an
  // idle connection, else queue a ping (sent ahead of queued messages, never during a write).
  void ScheduleKeepalive() {
    const auto& o = state_->options;
    using std::chrono::milliseconds;
    milliseconds every = o.ping_interval;
    if (every.count() == 0) every = o.idle_timeout / 4;
    if (every.count() <= 0) return;
    ping_timer_.expires_after(every);
    auto self = shared_from_this();
    ping_timer_.async_wait([self](beast::error_code ec) {
      if (ec || !self->open()) return;
      const auto& opt = self->state_->options;
      if (opt.idle_timeout.count() > 0 &&
          std::chrono::steady_clock::now() - self->last_activity_ > opt.idle_timeout) {
        // Dropped, not closed with a handshake: a silent peer would never finish one.
        spdlog::info("ws conn {} {}: idle for {} ms, dropping", self->id_, self->upgrade_.path,
                     opt.idle_timeout.count());
        return self->Close(false, {});
      }
      if (opt.ping_interval.count() > 0) {
        self->ping_due_ = true;
        self->MaybeWrite();
      }
      self->ScheduleKeepalive();
    });
  }

  void StartPongDeadline() {
    const auto timeout = state_->options.pong_timeout;
    if (timeout.count() <= 0) return;
    pong_timer_.expires_after(timeout);
    auto self = shared_from_this();
    pong_timer_.async_wait([self](beast::error_code ec) {
      if (ec || !self->open() || !self->awaiting_pong_) return;
      spdlog::info("ws conn {} {}: no pong within {} ms, closing", self->id_, self->upgrade_.path,
                   self->state_->options.pong_timeout.count());
      self->Close(false, {});  // a peer that does not pong would not finish a close handshake
    });
  }

  void DoRead() {
    auto self = shared_from_this();
    ws_.async_read(buf_, [self](beast::error_code ec, size_t) {
      if (ec) return self->Closed();
      self->last_activity_ = std::chrono::steady_clock::now();
      std::string text = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      if (!self->state_->closed && !self->closing_) self->state_->handler->OnWsText(self, text);
      self->DoRead();
    });
  }

  void MaybeWrite() {
    if (writing_ || stalled_ || !open_ || closing_) return;
    if (ping_due_) {
      ping_due_ = false;
      writing_ = true;
      auto self = shared_from_this();
      ws_.async_ping({}, [self](beast::error_code ec) {
        self->writing_ = false;
        if (ec) return self->Closed();
        if (!self->awaiting_pong_) {
          self->awaiting_pong_ = true;
          self->StartPongDeadline();
        }
        if (self->closing_) return self->DoClose();
        self->MaybeWrite();
      });
      return;
    }
    if (queue_.empty()) return;
    writing_ = true;
    ws_.binary(queue_.front().binary);
    auto self = shared_from_this();
    ws_.async_write(asio::buffer(queue_.front().bytes), [self](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->Closed();
      self->queue_.pop_front();
      ++self->sent_;
      if (self->closing_) return self->DoClose();
      self->MaybeWrite();
    });
  }

  void DoClose() {
    auto self = shared_from_this();
    websocket::close_reason cr(websocket::close_code::normal);
    cr.reason = close_reason_;
    ws_.async_close(cr, [self](beast::error_code) { self->Abort(); });
  }

  void Closed() {
    if (notified_) return;
    notified_ = true;
    bool was_open = open_;
    open_ = false;
    stall_timer_.cancel();
    ping_timer_.cancel();
    pong_timer_.cancel();
    state_->sessions.erase(id_);
    if (was_open && !state_->closed) state_->handler->OnWsClose(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer stall_timer_;
  asio::steady_timer ping_timer_, pong_timer_;
  std::shared_ptr<ListenerState> state_;
  uint64_t id_;
  HttpRequest upgrade_;
  beast::flat_buffer buf_;
  struct Message {
    std::string bytes;
    bool binary = false;
  };
  std::deque<Message> queue_;
  std::string close_reason_;
  uint64_t sent_ = 0;
  std::chrono::steady_clock::time_point last_activity_{};
  bool open_ = false, closing_ = false, writing_ = false, stalled_ = false;
  bool corrupt_next_ = false, notified_ = false;
  bool ping_due_ = false, awaiting_pong_ = false;
};

class HttpSession final : public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<ListenerState> state, uint64_t id)
      : stream_(std::move(socket)), state_(std::move(state)), id_(id) {}

  void Run() { DoRead(); }

  void ForceClose() override {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(state_->options.max_body);
    stream_.expires_never();
    auto self = shared_from_this();
    http::async_read(stream_, buf_, *parser_, [self](beast::error_code ec, size_t) {
      if (ec) return self->Done();
      self->OnRequest(self->parser_->release());
    });
  }

  void OnRequest(BeastRequest req) {
    if (state_->closed) return Done();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest hreq = Convert(req);
    if (websocket::is_upgrade(req)) {
      HttpResponse reject;
      reject.Json(404, R"({"error":"no websocket endpoint here"})");
      if (state_->handler->OnWsUpgrade(hreq, &reject)) {
        state_->sessions.erase(id_);
        uint64_t ws_id = state_->next_id++;
        auto ws = std::make_shared<WsSession>(stream_.release_socket(), state_, ws_id);
        state_->sessions[ws_id] = ws;
        ws->Run(std::move(req));
        return;
      }
      keep_alive_ = false;
      return Write(std::move(reject));
    }
    auto self = shared_from_this();
    auto answered = std::make_shared<bool>(false);
    state_->handler->OnHttp(hreq, [self, answered](HttpResponse r) {
      if (*answered) return;
      *answered = true;
      self->Write(std::move(r));
    });
  }

  void Write(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "perpgw-sim");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    auto self = shared_from_this();
    http::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Done();
      self->DoRead();
    });
  }

  void Done() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    state_->sessions.erase(id_);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ListenerState> state_;
  uint64_t id_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

class ListenerImpl final : public Listener {
 public:
  ListenerImpl(EventLoop& loop, std::shared_ptr<ListenerState> state)
      : acceptor_(loop.io()), state_(std::move(state)) {}
  ~ListenerImpl() override { Close(); }

  absl::Status Open() {
    beast::error_code ec;
    auto addr = asio::ip::make_address(state_->options.host, ec);
    if (ec) return absl::InvalidArgumentError("bad bind address " + state_->options.host);
    tcp::endpoint ep(addr, static_cast<unsigned short>(state_->options.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError("cannot listen on " + state_->options.host + ":" +
                                    std::to_string(state_->options.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Close() override {
    if (state_->closed) return;
    state_->closed = true;
    beast::error_code ec;
    acceptor_.close(ec);
    auto sessions = state_->sessions;
    for (auto& [id, w] : sessions) {
      if (auto s = w.lock()) s->ForceClose();
    }
    state_->sessions.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept([this, state = state_](beast::error_code ec, tcp::socket socket) {
      if (state->closed) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        uint64_t id = state->next_id++;
        auto s = std::make_shared<HttpSession>(std::move(socket), state, id);
        state->sessions[id] = s;
        s->Run();
      }
      Accept();
    });
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<ListenerState> state_;
  int port_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> StartListener(EventLoop& loop,
                                                        const ListenerOptions& options,
                                                        HttpHandler* handler) {
  auto state = std::make_shared<ListenerState>();
  state->handler = handler;
  state->options = options;
  auto l = std::make_unique<ListenerImpl>(loop, state);
  if (auto st = l->Open(); !st.ok()) return st;
  return std::unique_ptr<Listener>(std::move(l));
}

}  // namespace perpgw::sim
