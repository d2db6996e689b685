// The market streams' options and the user-data stream (listenKey lifecycle).
#include "adapters/aster/ws.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/aster/codec.h"
#include "adapters/common/backoff.h"
#include "adapters/common/ws_client.h"

namespace perpgw::adapters::aster {

namespace asio = boost::asio;

namespace {
// Every connection (market and user-data) reconnects an hour before the venue's 24 h cap.
constexpr auto kMaxSessionAge =
    std::chrono::seconds(kMaxConnectionLifetimeSeconds) - std::chrono::hours(1);
}  // namespace

common::StreamSet::Options MarketStreamOptions(std::string ws_base, bool verify_tls) {
  while (!ws_base.empty() && ws_base.back() == '/') ws_base.pop_back();
  common::StreamSet::Options o;
  o.url = ws_base + "/stream";
  o.verify_tls = verify_tls;
  o.max_topics_per_connection = kMaxStreamsPerConnection;
  o.topics_per_frame = 50;
  o.frame_spacing = std::chrono::milliseconds(250);
  o.max_age = kMaxSessionAge;  // the venue closes connections at 24 h
  o.ping_interval = std::chrono::seconds(30);
  o.idle_timeout = std::chrono::seconds(90);
  o.lazy = true;  // a connection per 200 streams, opened when it has some
  return o;
}

// ------------------------------------------------------------------ UserStream

class UserStream::Impl : public std::enable_shared_from_this<UserStream::Impl> {
 public:
  Impl(asio::io_context& ioc, AsterRest& rest, const Credentials& creds, std::string base,
       bool verify, Handlers h)
      : ioc_(ioc),
        rest_(rest),
        creds_(creds),
        base_(std::move(base)),
        verify_(verify),
        h_(std::move(h)),
        keepalive_(ioc),
        retry_(ioc),
        backoff_(common::Backoff::Options{std::chrono::milliseconds(500), std::chrono::seconds(30),
                                          std::chrono::milliseconds(0), 2.0}) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  void Start() {
    stopped_ = false;
    Connect();
  }

  void Connect() {
    if (stopped_) return;
    std::weak_ptr<Impl> weak = shared_from_this();
    // POST returns the active key (extended) or a new one.
    rest_.ListenKeyCreate(creds_, [weak](RestResult r) {
      auto self = weak.lock();
      if (!self || self->stopped_) return;
      if (!r.ok()) return self->Retry("listenKey: " + r.error.message);
      auto key = ParseListenKey(r.body);
      if (!key.ok()) return self->Retry("listenKey: " + std::string(key.status().message()));
      self->Open(*key);
    });
  }

  void Open(const std::string& key) {
    common::WsOptions o;
    o.verify_tls = verify_;
    o.ping_interval = std::chrono::seconds(30);
    o.idle_timeout = std::chrono::seconds(0);  // quiet accounts send nothing for hours
    std::weak_ptr<Impl> weak = shared_from_this();
    common::WsClient::Handlers wh;
    wh.on_open = [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->backoff_.Reset();
      self->opened_at_ = std::chrono::steady_clock::now();
      self->ScheduleKeepAlive();
      if (self->h_.on_connected) self->h_.on_connected();
    };
    wh.on_message = [weak](std::string_view payload, bool binary) {
      auto self = weak.lock();
      if (self && !binary && self->h_.on_message) self->h_.on_message(payload);
    };
    wh.on_close = [weak](const std::string& reason) {
      auto self = weak.lock();
      if (!self) return;
      self->keepalive_.cancel();
      if (self->h_.on_disconnected) self->h_.on_disconnected(reason);
      self->Retry(reason);
    };
    auto ws = common::WsClient::Create(ioc_, base_ + "/ws/" + key, o, std::move(wh));
    if (!ws.ok()) return Retry(std::string(ws.status().message()));
    ws_ = std::move(*ws);
    ws_->Connect();
  }

  void Retry(const std::string& reason) {
    if (stopped_) return;
    (void)reason;
    if (ws_) {
      ws_->Close();
      ws_.reset();
    }
    retry_.expires_after(backoff_.Next());
    std::weak_ptr<Impl> weak = shared_from_this();
    retry_.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->Connect();
    });
  }

  void ScheduleKeepAlive() {
    // Keys live 60 min from the last keepalive; renew at 30 min (the docs' "about 60" is too
    // tight), and reconnect before the 24 h cap.
    keepalive_.expires_after(std::chrono::minutes(30));
    std::weak_ptr<Impl> weak = shared_from_this();
    keepalive_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped_) return;
      if (std::chrono::steady_clock::now() - self->opened_at_ > kMaxSessionAge) {
        if (self->h_.on_disconnected) self->h_.on_disconnected("24 h connection cap approaching");
        self->Retry("24 h cap");
        return;
      }
      self->rest_.ListenKeyKeepAlive(self->creds_, [weak](RestResult r) {
        auto s = weak.lock();
        if (!s || s->stopped_) return;
        if (!r.ok()) {
          if (s->h_.on_disconnected) s->h_.on_disconnected("listenKey keepalive failed");
          s->Retry("keepalive failed");
          return;
        }
        s->ScheduleKeepAlive();
      });
    });
  }

  void Stop() {
    stopped_ = true;
    keepalive_.cancel();
    retry_.cancel();
    if (ws_) ws_->Close();
    ws_.reset();
  }

  asio::io_context& ioc_;
  AsterRest& rest_;
  const Credentials& creds_;
  std::string base_;
  bool verify_;
  Handlers h_;
  asio::steady_timer keepalive_;
  asio::steady_timer retry_;
  common::Backoff backoff_;
  std::unique_ptr<common::WsClient> ws_;
  std::chrono::steady_clock::time_point opened_at_;
  bool stopped_ = true;
};

UserStream::UserStream(asio::io_context& ioc, AsterRest& rest, const Credentials& creds,
                       std::string ws_base, bool verify_tls, Handlers handlers)
    : impl_(std::make_shared<Impl>(ioc, rest, creds, std::move(ws_base), verify_tls,
                                   std::move(handlers))) {}
UserStream::~UserStream() { impl_->Stop(); }
void UserStream::Start() { impl_->Start(); }
void UserStream::Stop() { impl_->Stop(); }
void UserStream::Renew(const std::string& reason) {
  if (impl_->h_.on_disconnected) impl_->h_.on_disconnected(reason);
  impl_->Retry(reason);
}
bool UserStream::is_open() const { return impl_->ws_ && impl_->ws_->is_open(); }

}  // namespace perpgw::adapters::aster
