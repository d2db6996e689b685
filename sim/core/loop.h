// The sim's single event loop (one io_context, one thread) with timers; keeps Asio out of headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace perpgw::sim {

using TimerId = uint64_t;

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& io();

  // Runs handlers on the calling thread until Stop().
  void Run();
  // Thread-safe.
  void Stop();
  bool stopped() const;
  // Thread-safe: `fn` runs on the loop thread.
  void Post(std::function<void()> fn);
  // Loop thread only. A periodic timer re-arms itself from its scheduled time (no drift).
  TimerId RunAfter(std::chrono::microseconds delay, std::function<void()> fn);
  TimerId RunEvery(std::chrono::microseconds period, std::function<void()> fn);
  void Cancel(TimerId id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::sim
