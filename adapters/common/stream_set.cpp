// StreamSet (see stream_set.h) over ReconnectingWs.
#include "adapters/common/stream_set.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <map>

#include "adapters/common/reconnecting_ws.h"

namespace perpgw::common {

namespace asio = boost::asio;

namespace {
// How often session ages are checked against Options::max_age.
constexpr auto kAgeCheckEvery = std::chrono::minutes(5);
}  // namespace

class StreamSet::Impl {
 public:
  struct Conn {
    std::unique_ptr<ReconnectingWs> ws;  // null until the set is started
    std::vector<std::string> topics;     // subscribed, or to subscribe on connect
    std::deque<std::string> outbox;      // frames waiting for their turn (pacing)
    std::unique_ptr<asio::steady_timer> pacer;
    bool pacing = false;
    uint64_t next_seq = 1;
    std::chrono::steady_clock::time_point opened;
  };

  Impl(asio::io_context& ioc, Options o, FrameBuilder f, Handlers h)
      : ioc_(ioc), o_(std::move(o)), frames_(std::move(f)), h_(std::move(h)) {
    if (o_.max_topics_per_connection == 0) o_.max_topics_per_connection = 1;
    if (o_.topics_per_frame == 0) o_.topics_per_frame = 1;
  }

  absl::Status Start() {
    if (started_ || stopped_) return absl::OkStatus();
    started_ = true;
    if (conns_.empty() && !o_.lazy) conns_.push_back(std::make_unique<Conn>());
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (o_.lazy && conns_[i]->topics.empty()) continue;
      if (auto st = Open(static_cast<int>(i)); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  absl::Status Add(const std::vector<std::string>& topics) {
    std::map<int, std::vector<std::string>> fresh;
    for (const auto& t : topics) {
      if (conn_of_.count(t)) continue;
      int idx = -1;
      for (size_t i = 0; i < conns_.size(); ++i) {
        if (conns_[i]->topics.size() < o_.max_topics_per_connection) {
          idx = static_cast<int>(i);
          break;
        }
      }
      if (idx < 0) {
        conns_.push_back(std::make_unique<Conn>());
        idx = static_cast<int>(conns_.size()) - 1;
      }
      conns_[idx]->topics.push_back(t);
      conn_of_[t] = idx;
      fresh[idx].push_back(t);
    }
    for (auto& [idx, list] : fresh) {
      Conn& c = *conns_[idx];
      if (!started_ || stopped_) continue;
      if (!c.ws) {
        if (auto st = Open(idx); !st.ok()) return st;  // subscribes all on connect
      } else if (c.ws->is_open()) {
        Subscribe(idx, list);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Open(int idx) {
    Conn& c = *conns_[idx];
    if (c.ws) return absl::OkStatus();
    ReconnectingWsOptions opts;
    opts.ws.verify_tls = o_.verify_tls;
    opts.ws.ping_interval = o_.ping_interval;
    opts.ws.idle_timeout = o_.idle_timeout;
    opts.backoff.initial = std::chrono::milliseconds(200);
    opts.backoff.max = std::chrono::seconds(30);
    ReconnectingWs::Handlers wh;
    wh.on_connected = [this, idx] {
      Conn& conn = *conns_[idx];
      conn.opened = std::chrono::steady_clock::now();
      conn.outbox.clear();
      Subscribe(idx, conn.topics);
      if (h_.on_connected) h_.on_connected(idx);
    };
    wh.on_message = [this](std::string_view payload, bool binary) {
      if (binary) {
        if (h_.on_binary) h_.on_binary(payload);
      } else if (h_.on_message) {
        h_.on_message(payload);
      }
    };
    wh.on_disconnected = [this, idx](const std::string& reason, std::chrono::milliseconds) {
      if (h_.on_disconnected) h_.on_disconnected(idx, reason);
    };
    auto ws = ReconnectingWs::Create(ioc_, o_.url, opts, std::move(wh));
    if (!ws.ok()) return ws.status();
    c.ws = std::move(*ws);
    c.pacer = std::make_unique<asio::steady_timer>(ioc_);
    c.ws->Start();
    if (o_.max_age.count() > 0 && !age_timer_) ScheduleAgeCheck();
    return absl::OkStatus();
  }

  void Subscribe(int idx, const std::vector<std::string>& topics) {
    Conn& c = *conns_[idx];
    for (size_t i = 0; i < topics.size(); i += o_.topics_per_frame) {
      std::vector<std::string> chunk(topics.begin() + i,
                                     topics.begin() + std::min(topics.size(), i + o_.topics_per_frame));
      auto frame = frames_(chunk, c.next_seq++);
      if (!frame.ok()) {
        if (h_.on_frame_error) h_.on_frame_error(idx, frame.status());
        continue;
      }
      c.outbox.push_back(std::move(*frame));
    }
    Pump(idx);
  }

  absl::Status Resubscribe(const std::string& topic, std::string before) {
    auto it = conn_of_.find(topic);
    if (it == conn_of_.end()) return absl::NotFoundError("topic " + topic + " was never added");
    const int idx = it->second;
    Conn& c = *conns_[idx];
    if (!c.ws || !c.ws->is_open()) {
      return absl::FailedPreconditionError("the connection of " + topic + " is not open");
    }
    if (!before.empty()) c.outbox.push_back(std::move(before));
    Subscribe(idx, {topic});
    return absl::OkStatus();
  }

  void Pump(int idx) {
    Conn& c = *conns_[idx];
    while (!c.pacing && !c.outbox.empty()) {
      if (!c.ws || !c.ws->is_open()) {
        c.outbox.clear();  // resent in full by on_connected
        return;
      }
      c.ws->Send(std::move(c.outbox.front()));
      c.outbox.pop_front();
      if (o_.frame_spacing.count() <= 0) continue;
      c.pacing = true;
      c.pacer->expires_after(o_.frame_spacing);
      c.pacer->async_wait([this, idx](const boost::system::error_code& ec) {
        if (ec) return;
        conns_[idx]->pacing = false;
        Pump(idx);
      });
    }
  }

  void ScheduleAgeCheck() {
    age_timer_ = std::make_unique<asio::steady_timer>(ioc_, std::min<std::chrono::milliseconds>(
                                                                 kAgeCheckEvery, o_.max_age));
    age_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      const auto now = std::chrono::steady_clock::now();
      for (auto& c : conns_) {
        if (c->ws && c->ws->is_open() && now - c->opened > o_.max_age) {
          c->ws->ForceReconnect("session age cap approaching");
        }
      }
      ScheduleAgeCheck();
    });
  }

  void Stop() {
    stopped_ = true;
    if (age_timer_) age_timer_->cancel();
    for (auto& c : conns_) {
      if (c->pacer) c->pacer->cancel();
      if (c->ws) c->ws->Stop();
    }
  }

  asio::io_context& ioc_;
  Options o_;
  FrameBuilder frames_;
  Handlers h_;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::map<std::string, int, std::less<>> conn_of_;
  std::unique_ptr<asio::steady_timer> age_timer_;
};

StreamSet::StreamSet(asio::io_context& ioc, Options options, FrameBuilder frames,
                     Handlers handlers)
    : impl_(std::make_unique<Impl>(ioc, std::move(options), std::move(frames),
                                   std::move(handlers))) {}
StreamSet::~StreamSet() { Stop(); }
absl::Status StreamSet::Start() { return impl_->Start(); }
absl::Status StreamSet::Add(const std::vector<std::string>& topics) { return impl_->Add(topics); }
void StreamSet::Stop() { impl_->Stop(); }
absl::Status StreamSet::Resubscribe(const std::string& topic, std::string before) {
  return impl_->Resubscribe(topic, std::move(before));
}

size_t StreamSet::SendAll(const std::string& frame) {
  size_t n = 0;
  for (size_t i = 0; i < impl_->conns_.size(); ++i) {
    auto& c = *impl_->conns_[i];
    if (!c.ws || !c.ws->is_open()) continue;
    c.outbox.push_back(frame);
    impl_->Pump(static_cast<int>(i));
    ++n;
  }
  return n;
}

std::vector<std::string> StreamSet::TopicsOf(int conn) const {
  if (conn < 0 || conn >= static_cast<int>(impl_->conns_.size())) return {};
  return impl_->conns_[conn]->topics;
}

int StreamSet::ConnectionOf(const std::string& topic) const {
  auto it = impl_->conn_of_.find(topic);
  return it == impl_->conn_of_.end() ? -1 : it->second;
}

bool StreamSet::AnyOpen() const {
  for (const auto& c : impl_->conns_) {
    if (c->ws && c->ws->is_open()) return true;
  }
  return false;
}

uint64_t StreamSet::reconnects() const {
  uint64_t n = 0;
  for (const auto& c : impl_->conns_) {
    if (c->ws) n += c->ws->reconnects();
  }
  return n;
}

void StreamSet::ForceReconnect(int conn, const std::string& reason) {
  if (conn >= 0 && conn < static_cast<int>(impl_->conns_.size()) && impl_->conns_[conn]->ws) {
    impl_->conns_[conn]->ws->ForceReconnect(reason);
  }
}

}  // namespace perpgw::common
