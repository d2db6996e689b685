// RefreshGate: bursts of requests become one run now plus one trailing run; a request during a
// run is not lost; nothing runs after Cancel or after the gate is gone.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "adapters/common/refresh_gate.h"

using perpgw::common::RefreshGate;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Runs the io_context until `pred` holds or 5 s pass (the gate's timers drive the loop).
template <typename Pred>
bool RunUntil(asio::io_context& ioc, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_for(5ms);
  }
  return pred();
}

// Drives the io_context for `d` of wall time (proving something does NOT happen needs a span;
// run_for alone returns at once when no timer is pending).
void RunFor(asio::io_context& ioc, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    ioc.restart();
    ioc.run_for(2ms);
    std::this_thread::yield();
  }
}

}  // namespace

TEST_CASE("RefreshGate: a burst runs once now and once at the end of the gap", "[refresh_gate]") {
  asio::io_context ioc;
  std::vector<std::chrono::steady_clock::time_point> starts;
  RefreshGate gate(ioc, 50ms, [&](std::function<void()> done) {
    starts.push_back(std::chrono::steady_clock::now());
    done();  // completes at once
  });
  for (int i = 0; i < 10; ++i) gate.Request();
  CHECK(gate.runs() == 1);  // the first request runs immediately
  REQUIRE(RunUntil(ioc, [&] { return gate.runs() == 2; }));
  CHECK(starts[1] - starts[0] >= 50ms);  // the other nine became one trailing run
  RunFor(ioc, 120ms);  // nothing else was requested: nothing else runs
  CHECK(gate.runs() == 2);
  gate.Request();  // the gap has passed: immediate again
  CHECK(gate.runs() == 3);
}

TEST_CASE("RefreshGate: a request during a run asks for one more after it", "[refresh_gate]") {
  asio::io_context ioc;
  std::function<void()> pending;
  RefreshGate gate(ioc, 10ms, [&](std::function<void()> done) { pending = std::move(done); });
  gate.Request();
  REQUIRE(gate.runs() == 1);
  gate.Request();  // in flight: remembered, not started
  gate.Request();
  CHECK(gate.runs() == 1);
  RunFor(ioc, 30ms);
  CHECK(gate.runs() == 1);  // never two in flight, however long the run takes
  auto done = std::move(pending);
  done();  // the run ends after the gap: the remembered request starts at once
  CHECK(gate.runs() == 2);
  std::move(pending)();
  RunFor(ioc, 30ms);
  CHECK(gate.runs() == 2);  // one follow-up for any number of requests during the run
}

TEST_CASE("RefreshGate: Cancel and destruction stop scheduled runs", "[refresh_gate]") {
  asio::io_context ioc;
  int runs = 0;
  {
    RefreshGate gate(ioc, 20ms, [&](std::function<void()> done) {
      ++runs;
      done();
    });
    gate.Request();
    gate.Request();  // scheduled for the end of the gap
    gate.Cancel();
    gate.Request();  // ignored after Cancel
  }
  {
    RefreshGate gate(ioc, 20ms, [&](std::function<void()> done) {
      ++runs;
      done();
    });
    gate.Request();
    gate.Request();  // scheduled; the gate is destroyed before it fires
  }
  RunFor(ioc, 60ms);
  CHECK(runs == 2);
}
