// ReconnectingWs: re-creates the session after server drops, calls on_connected each time.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/common/reconnecting_ws.h"
#include "tests/unit/common/test_server.h"

using namespace perpgw::common;
using perpgw::common::testing::RunFor;
using perpgw::common::testing::RunUntil;
using perpgw::common::testing::TestServer;
using namespace std::chrono_literals;

TEST_CASE("ReconnectingWs resubscribes after every server-side close") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  std::unique_ptr<ReconnectingWs> ws;
  std::vector<std::string> messages;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> drops;
  ReconnectingWs::Handlers h;
  h.on_connected = [&] { ws->Send("subscribe#" + std::to_string(ws->connects())); };
  h.on_message = [&](std::string_view p, bool) { messages.emplace_back(p); };
  h.on_disconnected = [&](const std::string& reason, std::chrono::milliseconds retry_in) {
    drops.emplace_back(reason, retry_in);
  };
  ReconnectingWsOptions opts;
  opts.backoff = {10ms, 40ms, 0ms, 2.0};
  auto created = ReconnectingWs::Create(
      ioc, "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws", opts, h, [] { return 1.0; });
  REQUIRE(created.ok());
  ws = std::move(*created);
  CHECK_FALSE(ws->Send("too early"));
  ws->Start();
  REQUIRE(RunUntil(ioc, [&] { return messages.size() == 1; }));
  CHECK(messages[0] == "subscribe#1");

  for (int round = 2; round <= 4; ++round) {
    server.CloseAllConnections();
    REQUIRE(RunUntil(ioc, [&] { return messages.size() == static_cast<size_t>(round); }));
    CHECK(messages.back() == "subscribe#" + std::to_string(round));
  }
  CHECK(ws->reconnects() == 3);
  CHECK(ws->connects() == 4);
  REQUIRE(drops.size() == 3);
  // Sessions were short, so the backoff kept growing (random = 1.0 → the ceiling), capped.
  CHECK(drops[0].second == 10ms);
  CHECK(drops[1].second == 20ms);
  CHECK(drops[2].second == 40ms);

  ws->ForceReconnect("sequence gap");
  CHECK_FALSE(ws->is_open());
  REQUIRE(RunUntil(ioc, [&] { return messages.size() == 5; }));
  CHECK(drops.back().first == "sequence gap");
  CHECK(server.ws_received().back() == "subscribe#5");

  ws->Stop();
  server.CloseAllConnections();
  RunFor(ioc, 100ms);
  CHECK(messages.size() == 5);
  CHECK(drops.size() == 4);
}

TEST_CASE("ReconnectingWs keeps retrying while the venue is down") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  uint16_t port;
  {
    TestServer tmp(ioc);
    port = tmp.port();
  }
  int drops = 0;
  ReconnectingWs::Handlers h;
  h.on_disconnected = [&](const std::string&, std::chrono::milliseconds) { ++drops; };
  ReconnectingWsOptions opts;
  opts.backoff = {5ms, 20ms, 0ms, 2.0};
  ReconnectingWs ws(ioc, *ParseUrl("ws://127.0.0.1:" + std::to_string(port) + "/"), opts, h);
  ws.Start();
  REQUIRE(RunUntil(ioc, [&] { return drops >= 4; }));
  CHECK(ws.attempts() >= 4);
  CHECK(ws.connects() == 0);
}
