// Event-triggered refresh with a trailing rate limit: at most one run per `gap`, never two in
// flight, and a request that arrives during a run asks for one more after it. Used for REST
// balance polls triggered by order/account events (each poll costs rate-limit budget).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace perpgw::common {

class RefreshGate {
 public:
  // `run` starts one refresh and must call `done` exactly once when it has finished (on the
  // io_context's thread).
  using RunFn = std::function<void(std::function<void()> done)>;

  RefreshGate(boost::asio::io_context& ioc, std::chrono::milliseconds gap, RunFn run);
  ~RefreshGate();
  RefreshGate(const RefreshGate&) = delete;
  RefreshGate& operator=(const RefreshGate&) = delete;

  // From the io_context's thread: runs now when idle and the last run started at least `gap`
  // ago, else once at the end of the gap (or after the run in flight).
  void Request();
  // Drops a scheduled run (shutdown); a run in flight still completes.
  void Cancel();

  uint64_t runs() const { return runs_; }

 private:
  void Start();

  boost::asio::io_context& ioc_;
  const std::chrono::milliseconds gap_;
  RunFn run_;
  struct Timer;
  std::unique_ptr<Timer> timer_;  // set = a run is scheduled
  std::shared_ptr<bool> alive_;   // guards callbacks that outlive the gate
  bool in_flight_ = false;
  bool wanted_ = false;           // requested while in flight
  bool cancelled_ = false;
  std::chrono::steady_clock::time_point last_start_{};
  uint64_t runs_ = 0;
};

}  // namespace perpgw::common
