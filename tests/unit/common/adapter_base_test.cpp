// AdapterBase's hand-over to the sink: market data published by the handlers that were ready
// together leaves in one PublishBatch; anything else sends what is held first, then goes alone.
#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/common/adapter_base.h"

using namespace perpgw;
using namespace perpgw::common;

namespace {

// Records each hand-over: a batch (its kinds in order) or a single event.
class RecordingSink final : public EventSink {
 public:
  void Publish(EventPtr e) override {
    std::lock_guard l(mu_);
    calls_.push_back("single:" + Kind(*e));
    cv_.notify_all();
  }
  void PublishBatch(std::vector<EventPtr>& events) override {
    std::string c = "batch:";
    for (size_t i = 0; i < events.size(); ++i) c += (i ? "," : "") + Kind(*events[i]);
    events.clear();
    std::lock_guard l(mu_);
    calls_.push_back(c);
    cv_.notify_all();
  }
  std::vector<std::string> WaitCalls(size_t n) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [&] { return calls_.size() >= n; });
    return calls_;
  }

 private:
  static std::string Kind(const Event& e) {
    if (const auto* b = std::get_if<BookUpdate>(&e)) return "book" + std::to_string(b->venue_seq);
    if (std::holds_alternative<OrderEvent>(e)) return "order";
    if (std::holds_alternative<Trade>(e)) return "trade";
    return "other";
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
};

class TestAdapter final : public AdapterBase {
 public:
  TestAdapter(const VenueConfig& c, const Clock& clock) : AdapterBase(c, clock, "test-adapter") {}
  ~TestAdapter() override { Stop(); }
  Capabilities capabilities() const override { return {}; }
  void Subscribe(std::vector<MarketSubscription>) override {}
  // One handler that makes `kinds.size()` handlers ready at once, each publishing one event
  // ("book" = a BookUpdate numbered by its position, "order" = an OrderEvent).
  void Burst(std::vector<std::string> kinds) {
    boost::asio::post(ioc_, [this, kinds] {
      for (size_t i = 0; i < kinds.size(); ++i) {
        boost::asio::post(ioc_, [this, kind = kinds[i], i] {
          if (kind == "order") {
            Publish(OrderEvent{});
          } else {
            BookUpdate u;
            u.venue = "test";
            u.symbol = "BTC";
            u.venue_seq = i;
            Publish(std::move(u));
          }
        });
      }
    });
  }

 protected:
  void Init() override {}
  void OnStop() override {}
};

}  // namespace

TEST_CASE("AdapterBase: market data of one wake-up goes to the sink in one batch", "[adapter]") {
  VenueConfig cfg;
  cfg.name = "test";
  SystemClock clock;
  RecordingSink sink;
  TestAdapter a(cfg, clock);
  a.Start(&sink);

  SECTION("five deltas ready together: one batch, in order") {
    a.Burst({"book", "book", "book", "book", "book"});
    auto calls = sink.WaitCalls(1);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0] == "batch:book0,book1,book2,book3,book4");
  }
  SECTION("an order event sends what is held first, then goes alone, at once") {
    a.Burst({"book", "book", "order", "book", "book"});
    auto calls = sink.WaitCalls(3);
    REQUIRE(calls.size() == 3);
    CHECK(calls[0] == "batch:book0,book1");
    CHECK(calls[1] == "single:order");
    CHECK(calls[2] == "batch:book3,book4");
  }
  SECTION("a thread kept busy still hands over every 128 events") {
    a.Burst(std::vector<std::string>(300, "book"));
    auto calls = sink.WaitCalls(3);
    REQUIRE(calls.size() == 3);
    size_t total = 0;
    for (const auto& c : calls) {
      const size_t n = static_cast<size_t>(std::count(c.begin(), c.end(), ',')) + 1;
      CHECK(n <= 128);
      total += n;
    }
    CHECK(total == 300);
    CHECK(calls[0].rfind("batch:book0,book1,", 0) == 0);
  }
  a.Stop();
}
