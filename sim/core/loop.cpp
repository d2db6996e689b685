// EventLoop implementation on boost::asio::io_context + steady timers.
#include "sim/core/loop.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <unordered_map>

namespace perpgw::sim {

namespace asio = boost::asio;

struct EventLoop::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  struct Timer {
    asio::steady_timer timer;
    std::chrono::microseconds period{0};
    std::function<void()> fn;
    explicit Timer(asio::io_context& io) : timer(io) {}
  };
  std::unordered_map<TimerId, std::shared_ptr<Timer>> timers;
  TimerId next_id = 1;

  void Arm(TimerId id, std::shared_ptr<Timer> t) {
    t->timer.async_wait([this, id, t](const boost::system::error_code& ec) {
      if (ec || !timers.count(id)) return;
      if (t->period.count() > 0) {
        t->timer.expires_at(t->timer.expiry() + t->period);
        Arm(id, t);
      } else {
        timers.erase(id);
      }
      t->fn();  // may cancel itself or add timers
    });
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}
EventLoop::~EventLoop() = default;
asio::io_context& EventLoop::io() { return impl_->io; }
void EventLoop::Run() { impl_->io.run(); }
void EventLoop::Stop() { impl_->io.stop(); }
bool EventLoop::stopped() const { return impl_->io.stopped(); }
void EventLoop::Post(std::function<void()> fn) { asio::post(impl_->io, std::move(fn)); }

TimerId EventLoop::RunAfter(std::chrono::microseconds delay, std::function<void()> fn) {
  auto t = std::make_shared<Impl::Timer>(impl_->io);
  t->fn = std::move(fn);
  t->timer.expires_after(delay);
  TimerId id = impl_->next_id++;
  impl_->timers.emplace(id, t);
  impl_->Arm(id, t);
  return id;
}

TimerId EventLoop::RunEvery(std::chrono::microseconds period, std::function<void()> fn) {
  auto t = std::make_shared<Impl::Timer>(impl_->io);
  t->fn = std::move(fn);
  t->period = std::max(period, std::chrono::microseconds(1));
  t->timer.expires_after(t->period);
  TimerId id = impl_->next_id++;
  impl_->timers.emplace(id, t);
  impl_->Arm(id, t);
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = impl_->timers.find(id);
  if (it == impl_->timers.end()) return;
  it->second->timer.cancel();
  impl_->timers.erase(it);
}

}  // namespace perpgw::sim
