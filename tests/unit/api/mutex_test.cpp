// perpgw::Mutex / MutexLock / CondVar: the std::mutex-based lock TSan can see (adapters/api/mutex.h).
#include "adapters/api/mutex.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

namespace {

struct Shared {
  perpgw::Mutex mu;
  perpgw::CondVar cv;
  int value ABSL_GUARDED_BY(mu) = 0;
};

}  // namespace

TEST_CASE("mutex: a waiter sees the value a signaller set under the lock") {
  Shared s;
  std::thread t([&] {
    perpgw::MutexLock lock(&s.mu);
    s.value = 42;
    s.cv.Signal();
  });
  {
    perpgw::MutexLock lock(&s.mu);
    while (s.value == 0) s.cv.Wait(&s.mu);
    CHECK(s.value == 42);
  }
  t.join();
}

TEST_CASE("mutex: WaitWithTimeout reports the timeout and holds the lock again") {
  Shared s;
  perpgw::MutexLock lock(&s.mu);
  CHECK(s.cv.WaitWithTimeout(&s.mu, std::chrono::milliseconds(1)));
  s.value = 1;  // still held: the annotations and the lock agree
  CHECK(s.value == 1);
}

TEST_CASE("mutex: many threads increment under the lock") {
  Shared s;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) {
        perpgw::MutexLock lock(&s.mu);
        ++s.value;
      }
    });
  }
  for (auto& t : ts) t.join();
  perpgw::MutexLock lock(&s.mu);
  CHECK(s.value == 40000);
}
