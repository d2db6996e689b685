// Market stream shards and the user-data stream (listenKey lifecycle).
#include "adapters/aster/ws.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>

#include "adapters/aster/codec.h"
#include "adapters/common/backoff.h"
#include "adapters/common/reconnecting_ws.h"
#include "adapters/common/ws_client.h"

namespace perpgw::adapters::aster {

namespace asio = boost::asio;

namespace {
// Streams per SUBSCRIBE message and the pause between messages (10/s is the hard limit).
constexpr size_t kStreamsPerMessage = 50;
constexpr auto kMessageSpacing = std::chrono::milliseconds(250);
// Reconnect before the venue's 24 h connection cap.
constexpr auto kMaxSessionAge = std::chrono::hours(23);

std::string JoinParams(const std::vector<std::string>& streams, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += ',';
    out += '"';
    out += streams[i];  // stream names are lower-case ASCII or UTF-8 symbols: no escaping needed
    out += '"';
  }
  return out;
}
}  // namespace

// ------------------------------------------------------------------ MarketStreams

class MarketStreams::Impl {
 public:
  struct Shard {
    std::unique_ptr<common::ReconnectingWs> ws;
    std::vector<std::string> streams;  // subscribed (or to subscribe) on this connection
    std::deque<std::string> outbox;    // control messages waiting for their turn
    std::unique_ptr<asio::steady_timer> pacer;
    bool pacing = false;
    uint64_t next_id = 1;
    std::chrono::steady_clock::time_point opened;
  };

  Impl(asio::io_context& ioc, std::string base, bool verify, Handlers h)
      : ioc_(ioc), base_(std::move(base)), verify_(verify), h_(std::move(h)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  absl::Status Add(const std::vector<std::string>& streams) {
    for (const auto& s : streams) {
      if (shard_of_.count(s)) continue;
      int idx = -1;
      for (size_t i = 0; i < shards_.size(); ++i) {
        if (shards_[i]->streams.size() < kMaxStreamsPerConnection) {
          idx = static_cast<int>(i);
          break;
        }
      }
      if (idx < 0) {
        auto st = NewShard();
        if (!st.ok()) return st;
        idx = static_cast<int>(shards_.size()) - 1;
      }
      Shard& sh = *shards_[idx];
      sh.streams.push_back(s);
      shard_of_[s] = idx;
      if (sh.ws->is_open()) pending_new_[idx].push_back(s);
    }
    for (auto& [idx, list] : pending_new_) Subscribe(idx, list);
    pending_new_.clear();
    return absl::OkStatus();
  }

  absl::Status NewShard() {
    const int idx = static_cast<int>(shards_.size());
    common::ReconnectingWsOptions opts;
    opts.ws.verify_tls = verify_;
    // The venue pings every 5 min and Beast answers; our own pings keep NAT state fresh.
    opts.ws.ping_interval = std::chrono::seconds(30);
    opts.ws.idle_timeout = std::chrono::seconds(90);
    opts.backoff.initial = std::chrono::milliseconds(200);
    opts.backoff.max = std::chrono::seconds(30);
    common::ReconnectingWs::Handlers wh;
    wh.on_connected = [this, idx] {
      Shard& sh = *shards_[idx];
      sh.opened = std::chrono::steady_clock::now();
      sh.outbox.clear();
      Subscribe(idx, sh.streams);
      if (h_.on_connected) h_.on_connected(idx);
    };
    wh.on_message = [this](std::string_view payload, bool binary) {
      if (!binary && h_.on_message) h_.on_message(payload);
    };
    wh.on_disconnected = [this, idx](const std::string& reason, std::chrono::milliseconds) {
      if (h_.on_disconnected) h_.on_disconnected(idx, reason);
    };
    auto ws = common::ReconnectingWs::Create(ioc_, base_ + "/stream", opts, std::move(wh));
    if (!ws.ok()) return ws.status();
    auto sh = std::make_unique<Shard>();
    sh->ws = std::move(*ws);
    sh->pacer = std::make_unique<asio::steady_timer>(ioc_);
    shards_.push_back(std::move(sh));
    shards_.back()->ws->Start();
    if (!age_timer_) ScheduleAgeCheck();
    return absl::OkStatus();
  }

  void Subscribe(int idx, const std::vector<std::string>& streams) {
    Shard& sh = *shards_[idx];
    for (size_t i = 0; i < streams.size(); i += kStreamsPerMessage) {
      size_t to = std::min(streams.size(), i + kStreamsPerMessage);
      sh.outbox.push_back("{\"method\":\"SUBSCRIBE\",\"params\":[" + JoinParams(streams, i, to) +
                          "],\"id\":" + std::to_string(sh.next_id++) + "}");
    }
    Pump(idx);
  }

  void Pump(int idx) {
    Shard& sh = *shards_[idx];
    if (sh.pacing || sh.outbox.empty()) return;
    if (!sh.ws->is_open()) {
      sh.outbox.clear();  // resent in full by on_connected
      return;
    }
    sh.ws->Send(std::move(sh.outbox.front()));
    sh.outbox.pop_front();
    sh.pacing = true;
    sh.pacer->expires_after(kMessageSpacing);
    sh.pacer->async_wait([this, idx](const boost::system::error_code& ec) {
      if (ec) return;
      shards_[idx]->pacing = false;
      Pump(idx);
    });
  }

  void ScheduleAgeCheck() {
    age_timer_ = std::make_unique<asio::steady_timer>(ioc_, std::chrono::minutes(5));
    age_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < shards_.size(); ++i) {
        if (shards_[i]->ws->is_open() && now - shards_[i]->opened > kMaxSessionAge) {
          shards_[i]->ws->ForceReconnect("24 h connection cap approaching");
        }
      }
      ScheduleAgeCheck();
    });
  }

  void Stop() {
    if (age_timer_) age_timer_->cancel();
    for (auto& sh : shards_) {
      sh->pacer->cancel();
      sh->ws->Stop();
    }
  }

  asio::io_context& ioc_;
  std::string base_;
  bool verify_;
  Handlers h_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::map<std::string, int> shard_of_;
  std::map<int, std::vector<std::string>> pending_new_;
  std::unique_ptr<asio::steady_timer> age_timer_;
};

MarketStreams::MarketStreams(asio::io_context& ioc, std::string ws_base, bool verify_tls,
                             Handlers handlers)
    : impl_(std::make_unique<Impl>(ioc, std::move(ws_base), verify_tls, std::move(handlers))) {}
MarketStreams::~MarketStreams() { Stop(); }
absl::Status MarketStreams::Add(const std::vector<std::string>& streams) {
  return impl_->Add(streams);
}
void MarketStreams::Stop() { impl_->Stop(); }
std::vector<std::string> MarketStreams::StreamsOf(int shard) const {
  if (shard < 0 || shard >= static_cast<int>(impl_->shards_.size())) return {};
  return impl_->shards_[shard]->streams;
}
int MarketStreams::ShardOf(const std::string& stream) const {
  auto it = impl_->shard_of_.find(stream);
  return it == impl_->shard_of_.end() ? -1 : it->second;
}
bool MarketStreams::AnyOpen() const {
  for (const auto& s : impl_->shards_) {
    if (s->ws->is_open()) return true;
  }
  return false;
}
uint64_t MarketStreams::reconnects() const {
  uint64_t n = 0;
  for (const auto& s : impl_->shards_) n += s->ws->reconnects();
  return n;
}
void MarketStreams::ForceReconnect(int shard, const std::string& reason) {
  if (shard >= 0 && shard < static_cast<int>(impl_->shards_.size())) {
    impl_->shards_[shard]->ws->ForceReconnect(reason);
  }
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
