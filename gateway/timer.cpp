// Timer thread: a time-ordered multimap and one condition variable.
#include "gateway/timer.h"

namespace perpgw::gateway {

Timer::Timer() : thread_([this] { Run(); }) {}

Timer::~Timer() { Stop(); }

void Timer::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    perpgw::MutexLock lock(&mu_);
    if (stop_) return;
    due_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
  }
  cv_.Signal();
}

void Timer::Stop() {
  {
    perpgw::MutexLock lock(&mu_);
    stop_ = true;
    due_.clear();
  }
  cv_.Signal();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Timer::Run() {
  mu_.Lock();
  while (!stop_) {
    if (due_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    auto first = due_.begin();
    // A copy: wait_until reads the deadline again after waking, and Stop() may have freed the
    // map node meanwhile (a use-after-free at SIGTERM with a pending RPC deadline; found by ASan
    // in the soak).
    const auto when = first->first;
    const auto now = std::chrono::steady_clock::now();
    if (when > now) {
      cv_.WaitWithTimeout(&mu_, when - now);
      continue;
    }
    auto fn = std::move(first->second);
    due_.erase(first);
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace perpgw::gateway
