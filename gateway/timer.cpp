// Timer thread: a time-ordered multimap and one condition variable.
#include "gateway/timer.h"

namespace perpgw::gateway {

Timer::Timer() : thread_([this] { Run(); }) {}

Timer::~Timer() { Stop(); }

void Timer::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    due_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
  }
  cv_.notify_one();
}

void Timer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    due_.clear();
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Timer::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    // A copy: wait_until reads the deadline again after waking, and Stop() may have freed the
    // map node meanwhile (a use-after-free at SIGTERM with a pending RPC deadline; found by ASan
    // in the soak).
    const auto when = first->first;
    if (when > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, when);
      continue;
    }
    auto fn = std::move(first->second);
    due_.erase(first);
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace perpgw::gateway
