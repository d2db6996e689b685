// HttpClient against the loopback test server: keep-alive, deadlines, reconnects, pool, TLS.
#include <catch2/catch.hpp>

#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "adapters/common/http_client.h"
#include "adapters/wire/json_reader.h"
#include "adapters/common/rate_limiter.h"
#include "tests/unit/common/test_server.h"

using namespace perpgw::common;
namespace wire = perpgw::wire;
using perpgw::common::testing::MakeSelfSignedCert;
using perpgw::common::testing::RunFor;
using perpgw::common::testing::RunUntil;
using perpgw::common::testing::TestServer;
using namespace std::chrono_literals;

namespace {

using Result = std::optional<absl::StatusOr<HttpResponse>>;

HttpClient::Callback Into(Result* out) {
  return [out](absl::StatusOr<HttpResponse> r) { *out = std::move(r); };
}

std::string Origin(const TestServer& s, const char* scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(s.port());
}

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}

}  // namespace

TEST_CASE("HttpClient: request/response, headers, keep-alive reuse") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  HttpClientOptions opts;
  opts.default_headers = {{"X-MBX-APIKEY", "key"}};
  auto client = HttpClient::Create(ioc, Origin(server), opts);
  REQUIRE(client.ok());
  HttpClient& http = **client;

  HttpRequest post;
  post.method = "POST";
  post.target = "/fapi/v1/order?symbol=BTCUSDT";
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  post.body = "a=1";
  Result r1;
  bool inline_call = true;
  http.Send(post, [&](absl::StatusOr<HttpResponse> r) {
    CHECK_FALSE(inline_call);  // never invoked inside Send
    r1 = std::move(r);
  });
  inline_call = false;
  REQUIRE(RunUntil(ioc, [&] { return r1.has_value(); }));
  REQUIRE(r1->ok());
  const HttpResponse& resp = **r1;
  CHECK(resp.status == 200);
  CHECK(resp.ok());
  CHECK(resp.body == "POST /fapi/v1/order?symbol=BTCUSDT a=1");
  CHECK(resp.body.capacity() >= resp.body.size() + kHttpBodyPadding);
  REQUIRE(resp.Header("x-conn") != nullptr);
  CHECK(*resp.Header("X-CONN") == "1");
  CHECK(resp.Header("nope") == nullptr);
  CHECK(server.last_header("X-MBX-APIKEY") == "key");
  CHECK(server.last_header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(server.last_header("Host") == "127.0.0.1:" + std::to_string(server.port()));

  // Usage header feeds the rate limiter.
  TokenBucket bucket({2400, 2400, 60s}, TokenBucket::TimePoint{});
  REQUIRE(resp.Header("X-MBX-USED-WEIGHT-1M") != nullptr);
  CHECK(bucket.UpdateFromUsageHeader(*resp.Header("X-MBX-USED-WEIGHT-1M"),
                                     TokenBucket::TimePoint{}));
  CHECK(bucket.Available(TokenBucket::TimePoint{}) == 2358);

  // Body parses in place.
  wire::JsonParser parser;
  wire::od::document doc;
  CHECK(parser.Start(resp.body, {"test", "body"}, &doc).ok());
  CHECK(parser.copies() == 0);

  // Ten sequential requests share the single keep-alive connection.
  for (int i = 0; i < 10; ++i) {
    Result r;
    http.Send(Get("/x" + std::to_string(i)), Into(&r));
    REQUIRE(RunUntil(ioc, [&] { return r.has_value(); }));
    REQUIRE(r->ok());
    CHECK((*r)->body == "GET /x" + std::to_string(i) + " ");
    CHECK(*(*r)->Header("X-Conn") == "1");
  }
  CHECK(server.connections_accepted() == 1);
  CHECK(http.stats().connects == 1);
  CHECK(http.stats().reused == 10);

  // Queued requests on one connection complete in order.
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    http.Send(Get("/q" + std::to_string(i)), [&order](absl::StatusOr<HttpResponse> r) {
      order.push_back(r.ok() ? r->body : std::string(r.status().message()));
    });
  }
  CHECK(http.pending() == 5);
  REQUIRE(RunUntil(ioc, [&] { return order.size() == 5; }));
  for (int i = 0; i < 5; ++i) CHECK(order[i] == "GET /q" + std::to_string(i) + " ");
  CHECK(server.connections_accepted() == 1);
  CHECK(http.pending() == 0);

  Result r500;
  http.Send(Get("/status500"), Into(&r500));
  REQUIRE(RunUntil(ioc, [&] { return r500.has_value(); }));
  REQUIRE(r500->ok());  // HTTP errors are transport successes
  CHECK((*r500)->status == 500);
}

TEST_CASE("HttpClient: deadline → DeadlineExceeded, connection dropped, next request works") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  server.set_slow_delay(2000ms);
  HttpClient http(ioc, *ParseUrl(Origin(server)));
  HttpRequest slow = Get("/slow");
  slow.method = "POST";
  slow.timeout = 150ms;
  Result r;
  Result queued;
  http.Send(slow, Into(&r));
  HttpRequest second = Get("/fast");
  second.timeout = 100ms;  // expires while waiting behind /slow: never sent
  http.Send(second, Into(&queued));
  REQUIRE(RunUntil(ioc, [&] { return r.has_value() && queued.has_value(); }));
  CHECK(r->status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(r->status().message()).find("POST /slow") != std::string::npos);
  CHECK(queued->status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(queued->status().message()).find("not sent") != std::string::npos);
  CHECK(http.stats().timeouts == 2);

  Result after;
  http.Send(Get("/after"), Into(&after));
  REQUIRE(RunUntil(ioc, [&] { return after.has_value(); }));
  REQUIRE(after->ok());
  CHECK((*after)->body == "GET /after ");
  CHECK(server.connections_accepted() == 2);  // the timed-out connection was not reused
}

TEST_CASE("HttpClient: reconnects after the server closes a keep-alive connection") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  HttpClient http(ioc, *ParseUrl(Origin(server)));

  Result r1;
  http.Send(Get("/close-after"), Into(&r1));
  REQUIRE(RunUntil(ioc, [&] { return r1.has_value(); }));
  REQUIRE(r1->ok());
  CHECK(*(*r1)->Header("X-Conn") == "1");
  // Let the FIN arrive (the client may or may not have noticed yet: both paths must work).
  RunFor(ioc, 50ms);
  Result r2;
  HttpRequest post = Get("/next");
  post.method = "POST";
  http.Send(post, Into(&r2));
  REQUIRE(RunUntil(ioc, [&] { return r2.has_value(); }));
  REQUIRE(r2->ok());
  CHECK(*(*r2)->Header("X-Conn") == "2");

  // Server drops every connection while idle; a GET right away still succeeds (either the idle
  // watch noticed, or the stale-connection retry kicks in).
  server.CloseAllConnections();
  Result r3;
  http.Send(Get("/again"), Into(&r3));
  REQUIRE(RunUntil(ioc, [&] { return r3.has_value(); }));
  REQUIRE(r3->ok());
  CHECK(server.connections_accepted() == 3);
}

TEST_CASE("HttpClient: transport errors are Unavailable, never retried for POST") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  HttpClient http(ioc, *ParseUrl(Origin(server)));
  HttpRequest post = Get("/drop");
  post.method = "POST";
  Result r;
  http.Send(post, Into(&r));
  REQUIRE(RunUntil(ioc, [&] { return r.has_value(); }));
  CHECK(r->status().code() == absl::StatusCode::kUnavailable);
  CHECK(server.http_requests() == 1);

  uint16_t dead_port;
  {
    TestServer tmp(ioc);
    dead_port = tmp.port();
  }
  HttpClient dead(ioc, *ParseUrl("http://127.0.0.1:" + std::to_string(dead_port)));
  Result r2;
  dead.Send(Get("/"), Into(&r2));
  REQUIRE(RunUntil(ioc, [&] { return r2.has_value(); }));
  CHECK(r2->status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(r2->status().message()).find("connect") != std::string::npos);

  HttpRequest bad = Get("/");
  bad.method = "FROB";
  Result r3;
  http.Send(bad, Into(&r3));
  REQUIRE(RunUntil(ioc, [&] { return r3.has_value(); }));
  CHECK(r3->status().code() == absl::StatusCode::kInvalidArgument);

  HttpClientOptions small;
  small.max_body_bytes = 4;
  HttpClient limited(ioc, *ParseUrl(Origin(server)), small);
  Result r4;
  limited.Send(Get("/long-target-long-body"), Into(&r4));
  REQUIRE(RunUntil(ioc, [&] { return r4.has_value(); }));
  CHECK(r4->status().code() == absl::StatusCode::kInvalidArgument);

  CHECK_FALSE(HttpClient::Create(ioc, "wss://x", {}).ok());
}

TEST_CASE("HttpClient: a pool runs requests in parallel") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  server.set_slow_delay(300ms);
  HttpClientOptions opts;
  opts.connections = 3;
  HttpClient http(ioc, *ParseUrl(Origin(server)), opts);
  int done = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    http.Send(Get("/slow" + std::to_string(i)), [&](absl::StatusOr<HttpResponse> r) {
      CHECK(r.ok());
      ++done;
    });
  }
  REQUIRE(RunUntil(ioc, [&] { return done == 3; }));
  CHECK(server.connections_accepted() == 3);
  // Serial execution would need 900 ms.
  CHECK(std::chrono::steady_clock::now() - start < 850ms);
}

TEST_CASE("HttpClient: Close() drops callbacks; destroying inside a callback is safe") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  server.set_slow_delay(100ms);
  bool fired = false;
  {
    HttpClient http(ioc, *ParseUrl(Origin(server)));
    http.Send(Get("/slow"), [&](absl::StatusOr<HttpResponse>) { fired = true; });
    http.Send(Get("/queued"), [&](absl::StatusOr<HttpResponse>) { fired = true; });
    RunFor(ioc, 20ms);
    http.Close();
    CHECK_FALSE(http.Send(Get("/late"), [&](absl::StatusOr<HttpResponse>) { fired = true; }));
  }
  RunFor(ioc, 200ms);
  CHECK_FALSE(fired);

  auto owned = std::make_unique<HttpClient>(ioc, *ParseUrl(Origin(server)));
  int calls = 0;
  owned->Send(Get("/a"), [&](absl::StatusOr<HttpResponse>) {
    ++calls;
    owned.reset();
  });
  owned->Send(Get("/b"), [&](absl::StatusOr<HttpResponse>) { ++calls; });
  REQUIRE(RunUntil(ioc, [&] { return calls >= 1; }));
  RunFor(ioc, 50ms);
  CHECK(calls == 1);
}

TEST_CASE("HttpClient over TLS") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  auto cert = MakeSelfSignedCert("DNS:localhost,IP:127.0.0.1");
  TestServer server(ioc, &cert);

  HttpClientOptions trusted;
  trusted.ca_pem = cert.cert_pem;
  HttpClient http(ioc, *ParseUrl(Origin(server, "https")), trusted);
  for (int i = 0; i < 3; ++i) {
    Result r;
    http.Send(Get("/tls" + std::to_string(i)), Into(&r));
    REQUIRE(RunUntil(ioc, [&] { return r.has_value(); }));
    REQUIRE(r->ok());
    CHECK((*r)->body == "GET /tls" + std::to_string(i) + " ");
  }
  CHECK(server.connections_accepted() == 1);

  HttpClient untrusted(ioc, *ParseUrl(Origin(server, "https")));
  Result bad;
  untrusted.Send(Get("/"), Into(&bad));
  REQUIRE(RunUntil(ioc, [&] { return bad.has_value(); }));
  CHECK(bad->status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(bad->status().message()).find("tls handshake") != std::string::npos);

  HttpClientOptions noverify;
  noverify.verify_tls = false;
  HttpClient loose(ioc, *ParseUrl(Origin(server, "https")), noverify);
  Result ok;
  loose.Send(Get("/"), Into(&ok));
  REQUIRE(RunUntil(ioc, [&] { return ok.has_value(); }));
  CHECK(ok->ok());
}
