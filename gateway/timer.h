// One background thread running delayed callbacks (RPC deadlines, periodic health refresh).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "adapters/api/mutex.h"

namespace perpgw::gateway {

class Timer {
 public:
  Timer();
  ~Timer();
  // Runs `fn` on the timer thread after `delay` (unless Stop() came first).
  void After(std::chrono::milliseconds delay, std::function<void()> fn);
  void Stop();

 private:
  void Run();
  perpgw::Mutex mu_;
  perpgw::CondVar cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_
      ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace perpgw::gateway
