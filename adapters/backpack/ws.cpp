// StreamSession over ReconnectingWs; subscribe frames are chunked to keep frames small.
#include "adapters/backpack/ws.h"

#include <boost/asio/io_context.hpp>

#include <set>

#include "adapters/common/reconnecting_ws.h"

namespace perpgw::adapters::backpack {

namespace {
constexpr size_t kStreamsPerFrame = 50;
}

class StreamSession::Impl {
 public:
  Impl(boost::asio::io_context& ioc, std::string url, bool verify, FrameBuilder sub, Handlers h)
      : ioc_(ioc), url_(std::move(url)), verify_(verify), sub_(std::move(sub)), h_(std::move(h)) {}

  absl::Status Start() {
    common::ReconnectingWsOptions o;
    o.ws.verify_tls = verify_;
    // The server pings every 60 s and closes after 120 s without a pong; Beast answers pings.
    o.ws.ping_interval = std::chrono::seconds(30);
    o.ws.idle_timeout = std::chrono::seconds(150);
    o.backoff.initial = std::chrono::milliseconds(200);
    o.backoff.max = std::chrono::seconds(30);
    common::ReconnectingWs::Handlers wh;
    wh.on_connected = [this] {
      Subscribe(std::vector<std::string>(streams_.begin(), streams_.end()));
      if (h_.on_connected) h_.on_connected();
    };
    wh.on_message = [this](std::string_view p, bool binary) {
      if (!binary && h_.on_message) h_.on_message(p);
    };
    wh.on_disconnected = [this](const std::string& reason, std::chrono::milliseconds) {
      if (h_.on_disconnected) h_.on_disconnected(reason);
    };
    auto ws = common::ReconnectingWs::Create(ioc_, url_, o, std::move(wh));
    if (!ws.ok()) return ws.status();
    ws_ = std::move(*ws);
    ws_->Start();
    return absl::OkStatus();
  }

  void Subscribe(const std::vector<std::string>& list) {
    if (!ws_ || !ws_->is_open()) return;
    for (size_t i = 0; i < list.size(); i += kStreamsPerFrame) {
      std::vector<std::string> chunk(list.begin() + i,
                                     list.begin() + std::min(list.size(), i + kStreamsPerFrame));
      auto frame = sub_(chunk);
      if (frame.ok()) ws_->Send(std::move(*frame));
    }
  }

  void Add(const std::vector<std::string>& streams) {
    std::vector<std::string> fresh;
    for (const auto& s : streams) {
      if (streams_.insert(s).second) fresh.push_back(s);
    }
    if (!fresh.empty()) Subscribe(fresh);
  }

  boost::asio::io_context& ioc_;
  std::string url_;
  bool verify_;
  FrameBuilder sub_;
  Handlers h_;
  std::set<std::string> streams_;
  std::unique_ptr<common::ReconnectingWs> ws_;
};

StreamSession::StreamSession(boost::asio::io_context& ioc, std::string url, bool verify_tls,
                             FrameBuilder subscribe, Handlers handlers)
    : impl_(std::make_unique<Impl>(ioc, std::move(url), verify_tls, std::move(subscribe),
                                   std::move(handlers))) {}
StreamSession::~StreamSession() { Stop(); }
absl::Status StreamSession::Start() { return impl_->Start(); }
void StreamSession::Stop() {
  if (impl_->ws_) impl_->ws_->Stop();
}
void StreamSession::Add(const std::vector<std::string>& streams) { impl_->Add(streams); }
bool StreamSession::is_open() const { return impl_->ws_ && impl_->ws_->is_open(); }
uint64_t StreamSession::reconnects() const { return impl_->ws_ ? impl_->ws_->reconnects() : 0; }

}  // namespace perpgw::adapters::backpack
