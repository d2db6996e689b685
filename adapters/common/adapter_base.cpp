// AdapterBase: the thread, health and instrument plumbing shared by every venue adapter.
#include "adapters/common/adapter_base.h"
#include "adapters/common/ws_client.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace perpgw::common {

AdapterBase::AdapterBase(const VenueConfig& cfg, const Clock& clock, const std::string& log_name)
    : cfg_(cfg), clock_(clock), work_(boost::asio::make_work_guard(ioc_)) {
  log_ = spdlog::get(log_name);
  if (!log_) log_ = spdlog::default_logger()->clone(log_name);
  if (!cfg_.accounts.empty()) {
    runtime::OrderDesk::Options o;
    o.venue = cfg_.name;
    o.journal_path = cfg_.journal_path;
    o.fsync = cfg_.journal_fsync;
    auto desk = runtime::OrderDesk::Open(o, clock_);
    if (desk.ok()) {
      desk_ = std::move(*desk);
      if (desk_->journal()) {
        log_->info("order journal {}: {} entries", cfg_.journal_path, desk_->size());
      }
    } else {
      desk_error_ = absl::Status(desk.status().code(),
                                 "order journal: " + std::string(desk.status().message()));
    }
  }
}

absl::Status AdapterBase::DeskStatus() const {
  if (desk_) return absl::OkStatus();
  if (!desk_error_.ok()) return absl::FailedPreconditionError(std::string(desk_error_.message()));
  return absl::FailedPreconditionError("venue " + cfg_.name + " has no accounts configured");
}

void AdapterBase::SetDeskHooks(runtime::OrderDesk::Hooks hooks) {
  if (!desk_) return;
  hooks.publish = [this](OrderEvent ev) { Publish(std::move(ev)); };
  hooks.published = [this](const runtime::JournalEntry& e) {
    return sink_ ? sink_->PublishedBeforeStart(e.account, e.client_order_id, e.updated)
                 : PublishedOrder{};
  };
  desk_->SetHooks(std::move(hooks));
}

AdapterBase::~AdapterBase() = default;

uint64_t AdapterBase::OpenBatch() {
  const Capabilities caps = capabilities();
  const bool orders = caps.native_batch > 1, cancels = caps.native_cancel_batch > 1;
  if (!orders && !cancels) return 0;
  const uint64_t id = last_batch_.fetch_add(1) + 1;
  boost::asio::post(ioc_, [this, id, orders, cancels] {
    if (desk_ && orders) desk_->OpenBatch(id);
    if (cancels) open_cancels_.try_emplace(id);
  });
  return id;
}

void AdapterBase::CloseBatch(uint64_t id) {
  if (id == 0) return;
  boost::asio::post(ioc_, [this, id] {
    if (desk_) desk_->CloseBatch(id);
    auto it = open_cancels_.find(id);
    if (it == open_cancels_.end()) return;
    auto held = std::move(it->second);
    open_cancels_.erase(it);
    std::vector<std::pair<std::string, std::vector<size_t>>> groups;  // key → held indexes
    for (size_t i = 0; i < held.size(); ++i) {
      std::string key = CancelBatchKey(held[i].first);
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& kv) { return kv.first == key; });
      if (g == groups.end()) g = groups.insert(groups.end(), {std::move(key), {}});
      g->second.push_back(i);
    }
    const size_t cap = static_cast<size_t>(std::max(capabilities().native_cancel_batch, 1));
    for (const auto& [key, idx] : groups) {
      for (size_t i = 0; i < idx.size(); i += cap) {
        const size_t n = std::min(cap, idx.size() - i);
        if (n == 1) {
          auto& [req, done] = held[idx[i]];
          CancelNow(std::move(req), std::move(done));
          continue;
        }
        std::vector<CancelRequest> reqs;
        std::vector<Callback<CancelResult>> dones;
        for (size_t j = i; j < i + n; ++j) {
          reqs.push_back(std::move(held[idx[j]].first));
          dones.push_back(std::move(held[idx[j]].second));
        }
        SendCancelBatch(std::move(reqs), std::move(dones));
      }
    }
  });
}

bool AdapterBase::HoldCancel(CancelRequest& req, Callback<CancelResult>& done) {
  if (req.batch_id == 0) return false;
  auto it = open_cancels_.find(req.batch_id);
  if (it == open_cancels_.end()) return false;
  it->second.emplace_back(std::move(req), std::move(done));
  return true;
}

void AdapterBase::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto t = std::make_shared<boost::asio::steady_timer>(ioc_, delay);
  t->async_wait([this, t, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec && !stopped_) fn();
  });
}

runtime::BookKeeper::Hooks AdapterBase::BookHooks(
    std::function<void(const Instrument&)> request_snapshot) {
  runtime::BookKeeper::Hooks h;
  h.request_snapshot = std::move(request_snapshot);
  h.schedule = [this](std::chrono::milliseconds d, std::function<void()> fn) {
    After(d, std::move(fn));
  };
  h.publish = [this](BookUpdate u) { Publish(std::move(u)); };
  h.count = [this](VenueCounter c, uint64_t n) {
    if (sink_) sink_->Count(cfg_.name, c, n);
  };
  h.now = [this] { return clock_.Now(); };
  h.note = [this](std::string_view vs, std::string_view what) {
    log_->info("book {}: {}", vs, what);
  };
  return h;
}

void AdapterBase::Start(EventSink* sink) {
  sink_ = sink;
  OnStart(sink);
  thread_ = std::thread([this] { RunLoop(); });
  boost::asio::post(ioc_, [this] { Init(); });
}

void AdapterBase::Stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(ioc_, [this] {
    stopped_ = true;
    OnStop();
    work_.reset();
    ioc_.stop();
  });
  thread_.join();
}

VenueHealth AdapterBase::Health() const {
  VenueHealth h;
  h.venue = cfg_.name;
  h.last_message_time = last_message_.load();
  h.reconnects = reconnects_.load();
  perpgw::MutexLock lock(&mu_);
  h.state = state_;
  h.last_error = last_error_;
  return h;
}

std::vector<Instrument> AdapterBase::Instruments() const {
  perpgw::MutexLock lock(&mu_);
  return instruments_;
}

void AdapterBase::SetState(ConnState s, const std::string& err) {
  perpgw::MutexLock lock(&mu_);
  state_ = s;
  if (!err.empty()) last_error_ = err;
}

namespace {
// The adapter whose thread this is (set by RunLoop): Publish holds market data only there.
thread_local const AdapterBase* tls_loop_owner = nullptr;
}  // namespace

void AdapterBase::RunLoop() {
  tls_loop_owner = this;
  // run() one handler at a time: after a handler, every handler already ready runs (up to the
  // bound of held events), then what they published goes out in one batch, before the thread
  // blocks for the next input.
  while (ioc_.run_one() > 0) {
    while (held_.size() < kMaxHeldEvents && ioc_.poll_one() > 0) {
    }
    FlushHeld();
  }
  FlushHeld();
  tls_loop_owner = nullptr;
}

void AdapterBase::FlushHeld() {
  if (!held_.empty() && sink_) sink_->PublishBatch(held_);
  held_.clear();
}

void AdapterBase::Publish(Event e) {
  if (!sink_) return;
  if (auto* b = std::get_if<Bbo>(&e); b != nullptr && IsCrossed(*b)) {
    // Whatever the venue's book says, a crossed top of book is not a price to trade on.
    if (b->status == BookStatus::kLive) b->status = BookStatus::kStale;
    sink_->Count(cfg_.name, VenueCounter::kBboCrossed, 1);
  }
  const bool market_data = IsMarketData(e);
  auto ptr = std::make_shared<const Event>(std::move(e));
  if (tls_loop_owner != this) {  // another thread (none today): straight through
    sink_->Publish(std::move(ptr));
    return;
  }
  if (market_data) {
    held_.push_back(std::move(ptr));
    if (held_.size() >= kMaxHeldEvents) FlushHeld();
    return;
  }
  FlushHeld();
  sink_->Publish(std::move(ptr));
}

void AdapterBase::OnMarketFrame(MarketFeed& feed, runtime::BookKeeper& books,
                                std::string_view frame, bool binary) {
  const UnixNanos wall = clock_.Now();
  last_message_.store(wall);
  // The frame's receive time: the kernel's stamp of the socket read that brought it, when the
  // WebSocket layer has one that agrees with our clock (a test's clock does not), so time it
  // sat in the socket before this thread got to it counts in its age and in the latency
  // clients measure from receive_time_ns; else now.
  const UnixNanos rx = CurrentMessageRxTime();
  const UnixNanos now = rx > 0 && rx <= wall && wall - rx < 10'000'000'000LL ? rx : wall;
  if (sink_) {
    sink_->Count(cfg_.name, VenueCounter::kMessagesIn, 1);
    sink_->Count(cfg_.name, VenueCounter::kBytesIn, frame.size());
  }
  absl::Status st = binary ? feed.DecodeBinary(frame, now, &market_msg_)
                           : feed.Decode(frame, now, &market_msg_);
  if (!st.ok()) {
    if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
    log_->debug("dropped market frame: {}", std::string(st.message()));
    OnMarketFrameError(st);
    return;
  }
  const MarketMsg& m = market_msg_;
  switch (m.kind) {
    case FeedKind::kDepthDelta:
      return books.OnDelta(m.venue_symbol, *m.delta, now);
    case FeedKind::kBbo: {
      Bbo b = *m.bbo;
      b.venue = cfg_.name;
      if (books.Resyncing(m.venue_symbol)) b.status = BookStatus::kResyncing;
      return Publish(std::move(b));
    }
    case FeedKind::kTrade: {
      Trade t = *m.trade;
      t.venue = cfg_.name;
      return Publish(std::move(t));
    }
    case FeedKind::kVenueError:
      log_->warn("market stream error: {}", std::string(m.detail));
      return;
    case FeedKind::kIgnored:
      return;
    case FeedKind::kDepthSnapshot:  // Aster partial depth (never subscribed), Paradex snapshots
    case FeedKind::kFunding:
    case FeedKind::kLiquidation:
    case FeedKind::kVenue:
      return OnFeedMessage(m, now);
  }
}

bool AdapterBase::SetInstruments(std::vector<Instrument> list) {
  {
    perpgw::MutexLock lock(&mu_);
    instruments_ = std::move(list);
  }
  return !ready_.exchange(true);
}

}  // namespace perpgw::common
