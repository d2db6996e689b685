// One background thread running delayed callbacks (RPC deadlines, periodic health refresh).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

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
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace perpgw::gateway
