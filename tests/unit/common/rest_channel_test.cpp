// RestChannel against the loopback test server: weight pacing through the token bucket, the
// venue's usage header, 429 + Retry-After blocking, transport errors, metrics.
#include <catch2/catch.hpp>

#include <map>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/common/rest_channel.h"
#include "tests/unit/common/test_server.h"

using namespace perpgw;
using namespace perpgw::common;
using perpgw::common::testing::RunUntil;
using perpgw::common::testing::TestServer;
using namespace std::chrono_literals;

namespace {

struct Sink : EventSink {
  std::map<VenueCounter, uint64_t> counts;
  int round_trips = 0, signings = 0;
  void Publish(std::shared_ptr<const Event>) override {}
  void Count(const std::string&, VenueCounter c, uint64_t n) override { counts[c] += n; }
  void Observe(const std::string&, VenueLatency l, int64_t) override {
    (l == VenueLatency::kRestRoundTrip ? round_trips : signings)++;
  }
};

using Result = std::optional<absl::StatusOr<HttpResponse>>;

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}

RestChannel::Options Opts(const TestServer& server) {
  RestChannel::Options o;
  o.venue = "v";
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.bucket = {10, 10, std::chrono::minutes(1)};
  return o;
}

}  // namespace

TEST_CASE("RestChannel: sends, observes, and paces by weight") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  auto o = Opts(server);
  o.bucket = {4, 4, std::chrono::milliseconds(400)};  // 4 per 400 ms
  RestChannel ch(ioc, o);
  Sink sink;
  ch.set_sink(&sink);
  REQUIRE(ch.Init().ok());
  Result a, b;
  const auto t0 = std::chrono::steady_clock::now();
  ch.Send(Get("/a"), 4, [&](absl::StatusOr<HttpResponse> r) { a = std::move(r); });
  ch.Send(Get("/b"), 4, [&](absl::StatusOr<HttpResponse> r) { b = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return a && b; }));
  REQUIRE(a->ok());
  CHECK((*a)->status == 200);
  CHECK((*a)->body == "GET /a ");
  REQUIRE(b->ok());
  // The second call needed the bucket to refill: it waited on a timer.
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  CHECK(sink.counts[VenueCounter::kRateLimitWaits] == 1);
  CHECK(sink.round_trips == 2);
  CHECK(sink.counts[VenueCounter::kBytesIn] > 0);
  CHECK(sink.counts[VenueCounter::kRestErrors] == 0);
}

TEST_CASE("RestChannel: the venue's usage header drains the bucket") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);  // answers X-MBX-USED-WEIGHT-1M: 42
  auto o = Opts(server);
  o.bucket = {44, 44, std::chrono::seconds(60)};
  o.used_weight_header = "X-MBX-USED-WEIGHT-1M";
  RestChannel ch(ioc, o);
  Sink sink;
  ch.set_sink(&sink);
  REQUIRE(ch.Init().ok());
  Result a, b;
  ch.Send(Get("/a"), 1, [&](absl::StatusOr<HttpResponse> r) { a = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return a.has_value(); }));
  // Locally 43 left, but the venue counted 42 of 44: weight 3 must now wait a refill (60 s).
  ch.Send(Get("/b"), 3, [&](absl::StatusOr<HttpResponse> r) { b = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return sink.counts[VenueCounter::kRateLimitWaits] == 1; }));
  CHECK_FALSE(b.has_value());
}

TEST_CASE("RestChannel: 429 blocks the bucket for Retry-After; errors are counted") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  auto o = Opts(server);
  o.bucket = {10, 10, std::chrono::milliseconds(100)};  // refills fast: only the block holds
  RestChannel ch(ioc, o);
  Sink sink;
  ch.set_sink(&sink);
  REQUIRE(ch.Init().ok());
  Result limited, next, failed;
  ch.Send(Get("/status429-retry1"), 1,
          [&](absl::StatusOr<HttpResponse> r) { limited = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return limited.has_value(); }));
  REQUIRE(limited->ok());
  CHECK((*limited)->status == 429);  // the answer itself goes to the venue's classifier
  const auto t0 = std::chrono::steady_clock::now();
  ch.Send(Get("/after"), 1, [&](absl::StatusOr<HttpResponse> r) { next = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return next.has_value(); }));
  CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);  // Retry-After: 1
  CHECK(sink.counts[VenueCounter::kRateLimitWaits] >= 2);  // the 429, then the wait(s)
  ch.Send(Get("/drop"), 1, [&](absl::StatusOr<HttpResponse> r) { failed = std::move(r); });
  REQUIRE(RunUntil(ioc, [&] { return failed.has_value(); }));
  CHECK_FALSE(failed->ok());
  CHECK(sink.counts[VenueCounter::kRestErrors] == 2);  // the 429 and the dropped connection
}

TEST_CASE("RestChannel: not initialized is a clear error, never a hang") {
  boost::asio::io_context ioc;
  RestChannel::Options o;
  o.venue = "v";
  o.base_url = "http://127.0.0.1:1";
  RestChannel ch(ioc, o);
  Result r;
  ch.Send(Get("/x"), 1, [&](absl::StatusOr<HttpResponse> x) { r = std::move(x); });
  REQUIRE(r.has_value());
  CHECK(r->status().code() == absl::StatusCode::kFailedPrecondition);
}
