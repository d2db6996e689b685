// StreamSet: topics over capped connections, chunked + paced frames, full resubscribe on every
// reconnect, frame-builder failures reported, lazy vs eager connect.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>

#include "adapters/common/stream_set.h"
#include "tests/unit/common/test_server.h"

using namespace perpgw::common;
using perpgw::common::testing::RunFor;
using perpgw::common::testing::RunUntil;
using perpgw::common::testing::TestServer;
using namespace std::chrono_literals;

namespace {

// "sub#<seq>:a,b" — the seq shows per-connection numbering, the list the chunking.
absl::StatusOr<std::string> Frame(const std::vector<std::string>& topics, uint64_t seq) {
  std::string out = "sub#" + std::to_string(seq) + ":";
  for (size_t i = 0; i < topics.size(); ++i) out += (i ? "," : "") + topics[i];
  return out;
}

std::vector<std::string> Topics(int n, const std::string& prefix = "t") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

size_t Count(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), s));
}

}  // namespace

TEST_CASE("StreamSet spreads topics over capped connections and resubscribes each on reconnect") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);  // echoes every frame back
  std::vector<std::string> echoed;
  std::vector<int> connected, dropped;
  StreamSet::Handlers h;
  h.on_connected = [&](int c) { connected.push_back(c); };
  h.on_message = [&](std::string_view f) { echoed.emplace_back(f); };
  h.on_disconnected = [&](int c, const std::string&) { dropped.push_back(c); };
  StreamSet::Options o;
  o.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws";
  o.max_topics_per_connection = 3;
  o.topics_per_frame = 2;
  o.lazy = true;
  StreamSet set(ioc, o, &Frame, h);
  REQUIRE(set.Add(Topics(7)).ok());  // before Start: assigned, nothing opens
  RunFor(ioc, 50ms);
  CHECK(server.ws_sessions() == 0);
  REQUIRE(set.Start().ok());
  // 7 topics, 3 per connection → 3 connections; frames of at most 2 topics, seq per connection.
  REQUIRE(RunUntil(ioc, [&] { return echoed.size() == 5; }));
  CHECK(server.ws_sessions() == 3);
  CHECK(set.TopicsOf(0) == std::vector<std::string>{"t0", "t1", "t2"});
  CHECK(set.TopicsOf(2) == std::vector<std::string>{"t6"});
  CHECK(set.ConnectionOf("t4") == 1);
  CHECK(set.ConnectionOf("nope") == -1);
  for (const char* f : {"sub#1:t0,t1", "sub#2:t2", "sub#1:t3,t4", "sub#2:t5", "sub#1:t6"}) {
    CHECK(Count(echoed, f) == 1);
  }
  CHECK(set.AnyOpen());

  // Idempotent: a known topic sends nothing; a new one goes out at once where there is room.
  REQUIRE(set.Add({"t1", "t7"}).ok());
  REQUIRE(RunUntil(ioc, [&] { return echoed.size() == 6; }));
  CHECK(echoed.back() == "sub#2:t7");
  CHECK(set.ConnectionOf("t7") == 2);

  // Every connection drops: each comes back and re-subscribes all of its topics.
  echoed.clear();
  server.CloseAllConnections();
  const bool back = RunUntil(ioc, [&] { return echoed.size() == 5; });
  std::string seen;
  for (const auto& e : echoed) seen += e + " ";
  INFO("echoed after the drop: " << seen << "; drops " << dropped.size());
  REQUIRE(back);
  CHECK(dropped.size() == 3);
  CHECK(set.reconnects() == 3);
  CHECK(Count(echoed, "sub#3:t0,t1") == 1);
  CHECK(Count(echoed, "sub#4:t2") == 1);
  CHECK(Count(echoed, "sub#3:t6,t7") == 1);

  set.Stop();
  server.CloseAllConnections();
  RunFor(ioc, 100ms);
  CHECK(dropped.size() == 3);  // no callback after Stop
}

TEST_CASE("StreamSet paces a connection's frames and reports frames it could not build") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  std::vector<std::string> echoed;
  std::vector<std::string> errors;
  StreamSet::Handlers h;
  h.on_message = [&](std::string_view f) { echoed.emplace_back(f); };
  h.on_frame_error = [&](int, const absl::Status& why) { errors.emplace_back(why.message()); };
  StreamSet::Options o;
  o.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws";
  o.topics_per_frame = 1;
  o.frame_spacing = 40ms;
  o.lazy = false;
  auto frames = [](const std::vector<std::string>& t, uint64_t seq) -> absl::StatusOr<std::string> {
    if (t[0] == "bad") return absl::InternalError("cannot sign");
    return Frame(t, seq);
  };
  StreamSet set(ioc, o, frames, h);
  REQUIRE(set.Start().ok());  // eager: one connection with no topics yet
  REQUIRE(RunUntil(ioc, [&] { return set.AnyOpen(); }));
  CHECK(server.ws_sessions() == 1);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(set.Add({"a", "bad", "b", "c"}).ok());
  REQUIRE(RunUntil(ioc, [&] { return echoed.size() == 3; }));
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(echoed == std::vector<std::string>{"sub#1:a", "sub#3:b", "sub#4:c"});
  CHECK(took >= 80ms);  // three frames, two gaps of the spacing
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "cannot sign");
  CHECK(server.ws_sessions() == 1);  // no cap: one connection
}

TEST_CASE("StreamSet re-subscribes one topic on its connection, after a frame of the caller's") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);  // echoes every frame back
  std::vector<std::string> echoed;
  StreamSet::Handlers h;
  h.on_message = [&](std::string_view f) { echoed.emplace_back(f); };
  StreamSet::Options o;
  o.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws";
  o.topics_per_frame = 1;
  StreamSet set(ioc, o, &Frame, h);
  CHECK(set.Resubscribe("t0", "unsub:t0").code() == absl::StatusCode::kNotFound);
  REQUIRE(set.Add(Topics(2)).ok());
  // Added but not connected yet: nothing to resend on.
  CHECK(set.Resubscribe("t0", "unsub:t0").code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(set.Start().ok());
  REQUIRE(RunUntil(ioc, [&] { return echoed.size() == 2; }));
  REQUIRE(set.Resubscribe("t1", "unsub:t1").ok());
  REQUIRE(RunUntil(ioc, [&] { return echoed.size() == 4; }));
  // The caller's frame first, then the topic's own subscribe frame (next seq on that connection).
  CHECK(echoed[2] == "unsub:t1");
  CHECK(echoed[3] == "sub#3:t1");
  CHECK(set.TopicsOf(0) == std::vector<std::string>{"t0", "t1"});  // no duplicate topic
}
