// WsClient against the loopback test server: echo, server close, idle timeout, Close(), TLS.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <thread>

#include "adapters/wire/json_reader.h"
#include "adapters/common/ws_client.h"
#include "tests/unit/common/test_server.h"

using namespace perpgw::common;
namespace wire = perpgw::wire;
using perpgw::common::testing::MakeSelfSignedCert;
using perpgw::common::testing::RunFor;
using perpgw::common::testing::RunUntil;
using perpgw::common::testing::TestServer;
using namespace std::chrono_literals;

namespace {

struct Recorder {
  int opens = 0;
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> closes;

  WsClient::Handlers Handlers() {
    WsClient::Handlers h;
    h.on_open = [this] { ++opens; };
    h.on_message = [this](std::string_view p, bool binary) {
      messages.emplace_back(std::string(p), binary);
    };
    h.on_close = [this](const std::string& r) { closes.push_back(r); };
    return h;
  }
};

std::string WsUrl(const TestServer& s, const char* scheme = "ws", const char* host = "127.0.0.1") {
  return std::string(scheme) + "://" + host + ":" + std::to_string(s.port()) + "/stream?x=1";
}

}  // namespace

TEST_CASE("WsClient echo: ordered writes, headers, padding, stats") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  WsOptions opts;
  opts.headers = {{"X-Api-Key", "k1"}};
  auto client = WsClient::Create(ioc, WsUrl(server), opts, rec.Handlers());
  REQUIRE(client.ok());
  auto& ws = **client;
  // Sent before open: flushed right after the handshake, in order.
  REQUIRE(ws.Send(R"({"n":0})"));
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  CHECK(ws.is_open());
  CHECK(server.last_header("X-Api-Key") == "k1");
  CHECK(server.last_header("Sec-WebSocket-Extensions").empty());  // permessage-deflate off
  for (int i = 1; i < 50; ++i) ws.Send("{\"n\":" + std::to_string(i) + "}");
  REQUIRE(RunUntil(ioc, [&] { return rec.messages.size() == 50; }));
  for (int i = 0; i < 50; ++i) {
    CHECK(rec.messages[i].first == "{\"n\":" + std::to_string(i) + "}");
    CHECK_FALSE(rec.messages[i].second);
  }
  CHECK(ws.stats().messages_received == 50);
  CHECK(ws.stats().messages_sent == 50);
  CHECK(ws.queued_writes() == 0);
  CHECK(rec.closes.empty());

  // Payload views come with padding, so the JSON parser never copies them.
  wire::JsonParser parser;
  std::string got;
  WsClient::Handlers h;
  bool opened = false;
  h.on_open = [&] { opened = true; };
  h.on_message = [&](std::string_view p, bool) {
    constexpr wire::Where kW{"test", "frame"};
    wire::od::document doc;
    wire::od::object obj;
    wire::Fields f{"k"};
    if (parser.Start(p, kW, &doc, kWsReadPadding).ok() && wire::RootObject(doc, kW, &obj).ok() &&
        f.Read(obj, kW).ok()) {
      (void)f.GetOpt("k", &got);
    }
  };
  WsClient ws2(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, h);
  ws2.Connect();
  REQUIRE(RunUntil(ioc, [&] { return opened; }));
  ws2.Send(R"({"k":"v"})");
  REQUIRE(RunUntil(ioc, [&] { return !got.empty(); }));
  CHECK(got == "v");
  CHECK(parser.copies() == 0);
}

TEST_CASE("WsClient: bursts and messages larger than one read arrive whole and in order") {
  // Beast reads through the stamped TCP layer at most 1,536 bytes at a time: a burst of small
  // messages shares reads, a large message spans many, sizes around 16 KiB (a read size that
  // was tried and reverted, 945b5e9/be59113) and up to 100 KiB.
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  auto client = WsClient::Create(ioc, WsUrl(server), WsOptions{}, rec.Handlers());
  REQUIRE(client.ok());
  auto& ws = **client;
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  std::vector<std::string> sent;
  for (size_t size : {1, 300, 16 * 1024 - 20, 16 * 1024, 16 * 1024 + 7, 100 * 1024, 5, 40000}) {
    std::string m(size, 'x');
    for (size_t i = 0; i < size; ++i) m[i] = static_cast<char>('a' + (i * 7 + size) % 26);
    sent.push_back(m);
  }
  for (int i = 0; i < 200; ++i) sent.push_back("{\"n\":" + std::to_string(i) + "}");
  for (const std::string& m : sent) REQUIRE(ws.Send(m));
  REQUIRE(RunUntil(ioc, [&] { return rec.messages.size() == sent.size(); }));
  for (size_t i = 0; i < sent.size(); ++i) {
    INFO("message " << i);
    CHECK(rec.messages[i].first == sent[i]);
  }
  CHECK(rec.closes.empty());
}

TEST_CASE("WsClient: server close handshake reaches on_close once") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  server.set_ws_mode(TestServer::WsMode::kCloseAfterFirst);
  Recorder rec;
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  ws.Send("hello");
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
  CHECK(rec.closes[0].find("closed by server") != std::string::npos);
  CHECK(rec.closes[0].find("1000") != std::string::npos);
  CHECK(rec.closes[0].find("bye") != std::string::npos);
  CHECK(ws.state() == WsClient::State::kClosed);
  CHECK_FALSE(ws.Send("after"));
  RunFor(ioc, 50ms);
  CHECK(rec.closes.size() == 1);
}

TEST_CASE("WsClient: abrupt server drop reaches on_close") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  server.CloseAllConnections();
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
  CHECK(rec.closes[0].find("read") != std::string::npos);
}

TEST_CASE("WsClient: idle timeout when the peer goes silent (pings unanswered)") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  server.set_ws_mode(TestServer::WsMode::kSilent);
  Recorder rec;
  WsOptions opts;
  opts.ping_interval = 50ms;
  opts.idle_timeout = 300ms;
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), opts, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  auto opened = std::chrono::steady_clock::now();
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }, 3000ms));
  CHECK(rec.closes[0] == "idle timeout");
  CHECK(std::chrono::steady_clock::now() - opened >= 250ms);
  CHECK(ws.stats().pings_sent >= 2);
}

TEST_CASE("WsClient: pings keep an echoing peer alive past the idle timeout") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  WsOptions opts;
  opts.ping_interval = 50ms;
  opts.idle_timeout = 200ms;
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), opts, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  // Condition: enough pings went out to span well beyond the idle timeout.
  REQUIRE(RunUntil(ioc, [&] { return ws.stats().pings_sent >= 10 || !rec.closes.empty(); }));
  CHECK(rec.closes.empty());
  CHECK(ws.is_open());
}

TEST_CASE("WsClient: Close() is silent and safe in every state") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  {
    WsClient idle(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, rec.Handlers());
    idle.Close();  // never connected
    idle.Close();
  }
  {
    WsClient connecting(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, rec.Handlers());
    connecting.Connect();
    connecting.Close();  // mid-connect
  }
  auto ws = std::make_unique<WsClient>(ioc, *ParseUrl(WsUrl(server)), WsOptions{},
                                       rec.Handlers());
  ws->Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  ws->Send("x");
  ws->Close();
  ws.reset();
  // Close from inside on_message, destroying the client in the callback.
  std::unique_ptr<WsClient> self_closing;
  int got = 0;
  WsClient::Handlers h;
  h.on_open = [&] { self_closing->Send("ping-me"); };
  h.on_message = [&](std::string_view, bool) {
    ++got;
    self_closing.reset();
  };
  h.on_close = [&](const std::string& r) { rec.closes.push_back(r); };
  self_closing = std::make_unique<WsClient>(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, h);
  self_closing->Connect();
  REQUIRE(RunUntil(ioc, [&] { return got == 1; }));
  RunFor(ioc, 100ms);
  CHECK(rec.opens == 1);
  CHECK(rec.closes.empty());
  CHECK(got == 1);
}

TEST_CASE("WsClient: connect failures reach on_close") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  uint16_t dead_port;
  {
    TestServer tmp(ioc);
    dead_port = tmp.port();
  }
  Recorder rec;
  WsClient ws(ioc, *ParseUrl("ws://127.0.0.1:" + std::to_string(dead_port) + "/"), WsOptions{},
              rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
  CHECK(rec.closes[0].find("connect") != std::string::npos);
  CHECK(rec.opens == 0);

  // A listener that never accepts: TCP connects (kernel backlog) but the upgrade never
  // gets an answer, so the connect deadline fires.
  boost::asio::ip::tcp::acceptor mute(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Recorder rec3;
  WsOptions opts;
  opts.connect_timeout = 200ms;
  WsClient hung(ioc,
                *ParseUrl("ws://127.0.0.1:" + std::to_string(mute.local_endpoint().port()) + "/"),
                opts, rec3.Handlers());
  hung.Connect();
  REQUIRE(RunUntil(ioc, [&] { return !rec3.closes.empty(); }));
  CHECK(rec3.closes[0] == "connect timeout");
  CHECK(rec3.opens == 0);

  CHECK_FALSE(WsClient::Create(ioc, "https://x/", WsOptions{}, {}).ok());
  CHECK_FALSE(WsClient::Create(ioc, "nonsense", WsOptions{}, {}).ok());
}

TEST_CASE("WsClient: max message size closes the session") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  TestServer server(ioc);
  Recorder rec;
  WsOptions opts;
  opts.max_message_bytes = 100;
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), opts, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1; }));
  ws.Send(std::string(1000, 'a'));  // echoed back too big
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
  CHECK(rec.messages.empty());
}

TEST_CASE("WsClient over TLS: verification on with the test CA, failures without it") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  auto cert = MakeSelfSignedCert("DNS:localhost,IP:127.0.0.1");
  TestServer server(ioc, &cert);

  SECTION("trusted CA, IP host") {
    Recorder rec;
    WsOptions opts;
    opts.ca_pem = cert.cert_pem;
    WsClient ws(ioc, *ParseUrl(WsUrl(server, "wss")), opts, rec.Handlers());
    ws.Connect();
    REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1 || !rec.closes.empty(); }));
    REQUIRE(rec.closes.empty());
    ws.Send("secure");
    REQUIRE(RunUntil(ioc, [&] { return rec.messages.size() == 1; }));
    CHECK(rec.messages[0].first == "secure");
  }
  SECTION("trusted CA, DNS host with SNI") {
    Recorder rec;
    WsOptions opts;
    opts.ca_pem = cert.cert_pem;
    WsClient ws(ioc, *ParseUrl(WsUrl(server, "wss", "localhost")), opts, rec.Handlers());
    ws.Connect();
    REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1 || !rec.closes.empty(); }));
    CHECK(rec.closes.empty());
  }
  SECTION("untrusted certificate is refused") {
    Recorder rec;
    WsClient ws(ioc, *ParseUrl(WsUrl(server, "wss")), WsOptions{}, rec.Handlers());
    ws.Connect();
    REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
    CHECK(rec.opens == 0);
    CHECK(rec.closes[0].find("tls handshake") != std::string::npos);
  }
  SECTION("verification off accepts it") {
    Recorder rec;
    WsOptions opts;
    opts.verify_tls = false;
    WsClient ws(ioc, *ParseUrl(WsUrl(server, "wss")), opts, rec.Handlers());
    ws.Connect();
    REQUIRE(RunUntil(ioc, [&] { return rec.opens == 1 || !rec.closes.empty(); }));
    CHECK(rec.closes.empty());
  }
}

TEST_CASE("WsClient over TLS: host name mismatch is refused") {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  auto cert = MakeSelfSignedCert("DNS:venue.example");
  TestServer server(ioc, &cert);
  Recorder rec;
  WsOptions opts;
  opts.ca_pem = cert.cert_pem;  // chain is trusted, but the name is not 127.0.0.1
  WsClient ws(ioc, *ParseUrl(WsUrl(server, "wss")), opts, rec.Handlers());
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return !rec.closes.empty(); }));
  CHECK(rec.opens == 0);
  CHECK(rec.closes[0].find("tls handshake") != std::string::npos);
}

TEST_CASE("WsClient: each message carries the kernel receive time of its read, queueing counted") {
  // The server on its own thread, so it answers while the client's thread is busy.
  boost::asio::io_context server_ioc;
  auto server_guard = boost::asio::make_work_guard(server_ioc);
  TestServer server(server_ioc);
  std::thread server_thread([&] { server_ioc.run(); });

  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  auto wall_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::vector<int64_t> rx, at;
  bool opened = false;
  WsClient::Handlers h;
  h.on_open = [&] { opened = true; };
  h.on_message = [&](std::string_view, bool) {
    rx.push_back(CurrentMessageRxTime());
    at.push_back(wall_ns());
    // The first message's handler keeps the thread 50 ms: the second echo arrives meanwhile
    // and waits in the socket; its receive time says when it arrived, not when it was read.
    if (rx.size() == 1) std::this_thread::sleep_for(50ms);
  };
  WsClient ws(ioc, *ParseUrl(WsUrl(server)), WsOptions{}, h);
  ws.Send("a");  // both written right after the handshake, one after the other
  ws.Send("b");
  ws.Connect();
  REQUIRE(RunUntil(ioc, [&] { return rx.size() == 2; }));
  CHECK(CurrentMessageRxTime() == 0);  // only during on_message
  for (size_t i = 0; i < 2; ++i) {
    INFO("message " << i);
    CHECK(rx[i] > 0);
    CHECK(rx[i] <= at[i]);
    CHECK(at[i] - rx[i] < 5'000'000'000LL);
  }
  CHECK(at[1] - rx[1] >= 40'000'000);  // the 50 ms it sat in the socket are counted
  ws.Close();
  server_ioc.stop();
  server_thread.join();
}
