// RefreshGate: trailing rate limit for event-triggered refreshes (see the header).
#include "adapters/common/refresh_gate.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace perpgw::common {

struct RefreshGate::Timer {
  explicit Timer(boost::asio::io_context& ioc) : t(ioc) {}
  boost::asio::steady_timer t;
};

RefreshGate::RefreshGate(boost::asio::io_context& ioc, std::chrono::milliseconds gap, RunFn run)
    : ioc_(ioc), gap_(gap), run_(std::move(run)), alive_(std::make_shared<bool>(true)) {}

RefreshGate::~RefreshGate() {
  *alive_ = false;
  if (timer_) timer_->t.cancel();
}

void RefreshGate::Request() {
  if (cancelled_ || timer_) return;  // stopped, or a run is already scheduled
  if (in_flight_) {
    wanted_ = true;
    return;
  }
  const auto due = last_start_ + gap_;
  if (runs_ == 0 || std::chrono::steady_clock::now() >= due) return Start();
  timer_ = std::make_unique<Timer>(ioc_);
  timer_->t.expires_at(due);
  std::weak_ptr<bool> alive = alive_;
  timer_->t.async_wait([this, alive](const boost::system::error_code& ec) {
    auto a = alive.lock();
    if (!a || !*a) return;
    timer_.reset();
    if (!ec) Request();
  });
}

void RefreshGate::Cancel() {
  cancelled_ = true;
  wanted_ = false;
  if (timer_) timer_->t.cancel();
}

void RefreshGate::Start() {
  in_flight_ = true;
  wanted_ = false;
  last_start_ = std::chrono::steady_clock::now();
  ++runs_;
  std::weak_ptr<bool> alive = alive_;
  run_([this, alive] {
    auto a = alive.lock();
    if (!a || !*a) return;
    in_flight_ = false;
    if (wanted_) {
      wanted_ = false;
      Request();
    }
  });
}

}  // namespace perpgw::common
