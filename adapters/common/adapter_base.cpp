// AdapterBase: the thread, health and instrument plumbing shared by every venue adapter.
#include "adapters/common/adapter_base.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace perpgw::common {

AdapterBase::AdapterBase(const VenueConfig& cfg, const Clock& clock, const std::string& log_name)
    : cfg_(cfg), clock_(clock), work_(boost::asio::make_work_guard(ioc_)) {
  log_ = spdlog::get(log_name);
  if (!log_) log_ = spdlog::default_logger()->clone(log_name);
}

AdapterBase::~AdapterBase() = default;

void AdapterBase::Start(EventSink* sink) {
  sink_ = sink;
  OnStart(sink);
  thread_ = std::thread([this] { ioc_.run(); });
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
  std::lock_guard lock(mu_);
  h.state = state_;
  h.last_error = last_error_;
  return h;
}

std::vector<Instrument> AdapterBase::Instruments() const {
  std::lock_guard lock(mu_);
  return instruments_;
}

void AdapterBase::SetState(ConnState s, const std::string& err) {
  std::lock_guard lock(mu_);
  state_ = s;
  if (!err.empty()) last_error_ = err;
}

void AdapterBase::Publish(Event e) {
  if (sink_) sink_->Publish(std::make_shared<const Event>(std::move(e)));
}

bool AdapterBase::SetInstruments(std::vector<Instrument> list) {
  {
    std::lock_guard lock(mu_);
    instruments_ = std::move(list);
  }
  return !ready_.exchange(true);
}

}  // namespace perpgw::common
