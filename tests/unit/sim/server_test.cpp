// Loopback tests of the sim server: control API (venues, book, price, step, account, faults) and
// WS fault kinds, through a small echo venue module defined here. Real sockets on 127.0.0.1:0;
// every wait is a condition with a deadline.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <atomic>
#include <thread>

#include "sim/core/json.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"

namespace perpgw::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock_ = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Echo venue: REST /ping; WS streams every book change as
// {"s":SYMBOL,"u":ID,"pu":PREV,"n":CHANGES}; text messages are echoed back.
class EchoModule final : public VenueModule {
 public:
  std::string name() const override { return "echo"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override {
    InstrumentSpec a;
    a.symbol = "AAA";
    a.tick = "0.1";
    a.step = "0.1";
    a.min_qty = "0.1";
    a.mid = "100";
    InstrumentSpec b = a;
    b.symbol = "BBB";
    b.mid = "20";
    return {a, b};
  }
  std::vector<AccountSpec> DefaultAccounts() const override {
    AccountSpec a;
    a.id = "acct1";
    a.credentials = {{"api_key", "key-1"}, {"api_secret", "secret-1"}};
    return {a};
  }
  void Attach(SimContext& ctx) override { ctx_ = &ctx; }
  WsKeepalive keepalive;
  WsKeepalive Keepalive() const override { return keepalive; }
  void DescribeEndpoints(VenueEndpoints& out) const override {
    out.urls["ws_stream"] = out.ws_url + "/stream";
  }
  void HandleHttp(const HttpRequest& req, HttpResponse& resp) override {
    if (req.path == "/ping") return resp.Json(200, R"({"pong":true})");
    resp.Json(404, R"({"error":"not found"})");
  }
  bool AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) override {
    return upgrade.path == "/stream";
  }
  void OnWsText(const WsConnPtr& conn, std::string_view text) override {
    conn->Send("echo:" + std::string(text));
  }
  void OnBookChange(const BookChange& c) override {
    JsonWriter w;
    w.BeginObject()
        .Field("s", c.instrument->symbol())
        .Field("u", c.update_id)
        .Field("pu", c.prev_update_id)
        .Field("n", static_cast<uint64_t>(c.changes.size()))
        .EndObject();
    std::string msg = w.Take();
    for (auto& conn : ctx_->connections()) conn->Send(msg);
  }
  bool OnFault(const FaultRequest& f, FaultResult& r) override {
    if (f.kind != "expire_token") return false;
    ++expired;
    r.affected = 1;
    return true;
  }
  int expired = 0;

 private:
  SimContext* ctx_ = nullptr;
};

struct HttpResult {
  int status = 0;
  std::string body;
};

HttpResult Call(int port, http::verb verb, const std::string& target, const std::string& body = "") {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}
HttpResult Get(int port, const std::string& target) { return Call(port, http::verb::get, target); }
HttpResult Post(int port, const std::string& target, const std::string& body) {
  return Call(port, http::verb::post, target, body);
}

std::string Field(const std::string& json, const std::string& key) {
  auto f = ParseJsonObject(json);
  if (!f.ok()) return "<invalid>";
  auto it = f->find(key);
  return it == f->end() ? "<absent>" : it->second;
}

// Blocking WS client with a receive deadline per read (SO_RCVTIMEO on the socket).
class WsClient {
 public:
  WsClient(int port, const std::string& path) : ws_(io_) {
    tcp::socket& s = ws_.next_layer();
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws_.handshake("127.0.0.1", path);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++pings_;
    });
    SetTimeout(5000);
  }
  int pings() const { return pings_; }
  void SetTimeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  // nullopt on timeout, close or error (closed() tells which).
  std::optional<std::string> Read() {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    if (ec) {
      closed_ = ec != asio::error::would_block && ec != asio::error::try_again;
      return std::nullopt;
    }
    return beast::buffers_to_string(buf.data());
  }
  void Send(const std::string& s) { ws_.write(asio::buffer(s)); }
  bool closed() const { return closed_; }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  bool closed_ = false;
  int pings_ = 0;  // server pings seen (Beast answers each with a pong while reading)
};

template <class Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = Clock_::now() + limit;
  while (Clock_::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// A sim with the echo venue, generator off (updates come from POST /step), on its own thread.
struct RunningSim {
  EchoModule* module = nullptr;
  std::string endpoints_path;
  std::unique_ptr<Server> server;
  std::thread thread;

  explicit RunningSim(double rate = 0, VenueModule::WsKeepalive keepalive = {}) {
    SimConfig c;
    c.seed = 5;
    c.rate = rate;
    c.depth = 5;
    c.funding_timer = false;
    endpoints_path = "/tmp/perpgw_sim_test_endpoints_" + std::to_string(getpid()) + ".json";
    std::remove(endpoints_path.c_str());
    c.endpoints_out = endpoints_path;
    server = std::make_unique<Server>(c);
    auto m = std::make_unique<EchoModule>();
    m->keepalive = keepalive;
    module = m.get();
    REQUIRE(server->AddVenue(std::move(m), VenueConfig{}).ok());
    REQUIRE(server->Start().ok());
    thread = std::thread([this] { server->Run(); });
  }
  ~RunningSim() {
    server->Stop();
    thread.join();
    std::remove(endpoints_path.c_str());
  }
  int control() const { return server->control_port(); }
  int venue_port() { return server->venue("echo")->port(); }
  size_t Connections() {
    size_t n = 0;
    server->Sync([&] { n = server->venue("echo")->connections().size(); });
    return n;
  }
  void Step(const std::string& symbol, int count) {
    auto r = Post(control(), "/step",
                  R"({"venue":"echo","symbol":")" + symbol + R"(","count":)" + std::to_string(count) + "}");
    REQUIRE(r.status == 200);
  }
  void Fault(const std::string& json_fields, int expect_status = 200) {
    auto r = Post(control(), "/fault", R"({"venue":"echo",)" + json_fields + "}");
    INFO(r.body);
    REQUIRE(r.status == expect_status);
  }
};

std::unique_ptr<WsClient> Subscribe(RunningSim& sim, size_t expected_conns = 1) {
  auto ws = std::make_unique<WsClient>(sim.venue_port(), "/stream");
  REQUIRE(WaitUntil([&] { return sim.Connections() == expected_conns; }));
  return ws;
}

}  // namespace

TEST_CASE("endpoints file, venues and REST pass-through", "[sim][server]") {
  RunningSim sim;
  std::ifstream in(sim.endpoints_path);
  REQUIRE(in.good());  // written before Start() returned
  std::stringstream ss;
  ss << in.rdbuf();
  std::string ep = ss.str();
  CHECK(Field(ep, "control_url") == "http://127.0.0.1:" + std::to_string(sim.control()));
  CHECK(ep.find("\"rest_url\":\"http://127.0.0.1:" + std::to_string(sim.venue_port()) + "\"") !=
        std::string::npos);
  CHECK(ep.find("\"ws_stream\":\"ws://127.0.0.1:") != std::string::npos);
  CHECK(ep.find("\"api_key\":\"key-1\"") != std::string::npos);

  auto venues = Get(sim.control(), "/venues");
  CHECK(venues.status == 200);
  CHECK(venues.body.find("\"name\":\"echo\"") != std::string::npos);
  CHECK(Get(sim.venue_port(), "/ping").body == R"({"pong":true})");
  CHECK(Get(sim.venue_port(), "/nope").status == 404);
  CHECK(Get(sim.control(), "/book?venue=nope&symbol=AAA").status == 404);
  CHECK(Post(sim.control(), "/fault", R"({"venue":"echo","kind":"bogus"})").status == 400);
  // A refused upgrade path.
  CHECK_THROWS(WsClient(sim.venue_port(), "/other"));
}

TEST_CASE("control API: ground-truth book and price moves", "[sim][server]") {
  RunningSim sim;
  auto book = Get(sim.control(), "/book?venue=echo&symbol=AAA&depth=3");
  REQUIRE(book.status == 200);
  CHECK(Field(book.body, "mid") == "100");
  CHECK(Field(book.body, "update_id") == "0");
  auto bids = Field(book.body, "bids");
  CHECK(bids.rfind("[[\"99.9\",", 0) == 0);
  CHECK(Field(book.body, "asks").rfind("[[\"100.1\",", 0) == 0);
  CHECK(std::count(bids.begin(), bids.end(), '[') == 4);  // depth 3 + outer

  auto moved = Post(sim.control(), "/price", R"({"venue":"echo","symbol":"AAA","mid":"90.04"})");
  REQUIRE(moved.status == 200);
  CHECK(Field(moved.body, "mid") == "90");
  CHECK(Field(moved.body, "update_id") == "1");
  book = Get(sim.control(), "/book?venue=echo&symbol=AAA&depth=1");
  CHECK(Field(book.body, "bids").rfind("[[\"89.9\",", 0) == 0);
  CHECK(Field(book.body, "asks").rfind("[[\"90.1\",", 0) == 0);
  CHECK(Post(sim.control(), "/price", R"({"venue":"echo","symbol":"AAA","mid":"-1"})").status == 400);
}

TEST_CASE("control API: account, orders, funding_tick and liquidate", "[sim][server]") {
  RunningSim sim;
  sim.server->Sync([&] {
    PlaceRequest r;
    r.account = "acct1";
    r.symbol = "AAA";
    r.side = Side::kBuy;
    r.type = OrderType::kMarket;
    r.qty = 1;  // 0.1
    auto res = sim.server->venue("echo")->engine().Place(r);
    REQUIRE(res.order.status == OrderStatus::kFilled);
  });
  auto acct = Get(sim.control(), "/account?venue=echo&account=acct1");
  REQUIRE(acct.status == 200);
  CHECK(acct.body.find("\"size\":\"0.1\"") != std::string::npos);
  auto before = Field(Field(acct.body, "balance"), "wallet");
  sim.Fault(R"("kind":"funding_tick","symbol":"AAA","rate":"0.001")");
  acct = Get(sim.control(), "/account?venue=echo&account=acct1");
  auto after = Field(Field(acct.body, "balance"), "wallet");
  // 0.1 x mark 100 x 0.001 = 0.01 paid by the long.
  CHECK(*Decimal::Parse(before) == *Decimal::Add(*Decimal::Parse(after), *Decimal::Parse("0.01")));
  sim.Fault(R"("kind":"liquidate","account":"acct1")");
  acct = Get(sim.control(), "/account?venue=echo&account=acct1");
  CHECK(Field(acct.body, "positions") == "[]");
  auto orders = Get(sim.control(), "/orders?venue=echo&account=acct1");
  CHECK(orders.body.find("\"liquidation\":true") != std::string::npos);
  sim.Fault(R"("kind":"liquidate","account":"nobody")", 400);
  sim.Fault(R"("kind":"expire_token")");
  CHECK(sim.module->expired == 1);
}

TEST_CASE("WS: book changes stream with contiguous ids; skip_seq leaves a gap", "[sim][server]") {
  RunningSim sim;
  auto ws = Subscribe(sim);
  ws->Send("hello");
  CHECK(ws->Read() == std::optional<std::string>("echo:hello"));
  sim.Step("AAA", 20);
  uint64_t last = 0;
  for (int k = 0; k < 20; ++k) {
    auto m = ws->Read();
    REQUIRE(m);
    CHECK(Field(*m, "s") == "AAA");
    CHECK(std::stoull(Field(*m, "pu")) == last);
    last = std::stoull(Field(*m, "u"));
  }
  CHECK(last == 20);
  sim.Fault(R"("kind":"skip_seq","symbol":"AAA")");
  sim.Step("AAA", 1);
  auto m = ws->Read();
  REQUIRE(m);
  CHECK(Field(*m, "pu") == "21");
  CHECK(Field(*m, "u") == "22");
}

TEST_CASE("WS faults: malformed frame, drop, stall", "[sim][server]") {
  RunningSim sim;
  SECTION("malformed_frame corrupts only the next message") {
    auto ws = Subscribe(sim);
    sim.Fault(R"("kind":"malformed_frame")");
    sim.Step("BBB", 2);
    auto bad = ws->Read();
    REQUIRE(bad);
    CHECK_FALSE(ParseJsonObject(*bad).ok());
    auto good = ws->Read();
    REQUIRE(good);
    CHECK(Field(*good, "u") == "2");
  }
  SECTION("drop_ws closes matching connections") {
    auto a = Subscribe(sim, 1);
    auto b = Subscribe(sim, 2);
    sim.Fault(R"("kind":"drop_ws","path_prefix":"/nomatch")");
    CHECK(sim.Connections() == 2);
    sim.Fault(R"("kind":"drop_ws")");
    CHECK_FALSE(a->Read());
    CHECK(a->closed());
    CHECK_FALSE(b->Read());
    CHECK(b->closed());
    CHECK(WaitUntil([&] { return sim.Connections() == 0; }));
  }
  SECTION("stall holds messages for the given time, then delivers them in order") {
    auto ws = Subscribe(sim);
    auto t0 = Clock_::now();
    sim.Fault(R"("kind":"stall","ms":300)");
    sim.Step("AAA", 3);
    auto m = ws->Read();
    auto waited = Clock_::now() - t0;
    REQUIRE(m);
    CHECK(waited >= 300ms);
    CHECK(Field(*m, "u") == "1");
    CHECK(Field(ws->Read().value_or("{}"), "u") == "2");
    CHECK(Field(ws->Read().value_or("{}"), "u") == "3");
  }
}

TEST_CASE("HTTP faults: injected errors and latency", "[sim][server]") {
  RunningSim sim;
  sim.Fault(R"("kind":"http_error","status":503,"count":2,"path_prefix":"/ping")");
  CHECK(Get(sim.venue_port(), "/ping").status == 503);
  CHECK(Get(sim.venue_port(), "/nope").status == 404);  // other paths unaffected
  CHECK(Get(sim.venue_port(), "/ping").status == 503);
  CHECK(Get(sim.venue_port(), "/ping").status == 200);
  sim.Fault(R"("kind":"http_error","status":200)", 400);
  sim.Fault(R"("kind":"latency","ms":250,"count":1)");
  auto t0 = Clock_::now();
  CHECK(Get(sim.venue_port(), "/ping").status == 200);
  CHECK(Clock_::now() - t0 >= 250ms);
}

TEST_CASE("generator timer publishes at the configured rate", "[sim][server]") {
  RunningSim sim(2000);
  auto ws = Subscribe(sim);
  int got = 0;
  while (got < 200 && ws->Read()) ++got;  // ~0.1 s of updates; deadline per read 5 s
  CHECK(got == 200);
}

TEST_CASE("WS keepalive: server pings, the pong deadline and the idle close", "[sim][server]") {
  // Reads block (asio's sync read ignores SO_RCVTIMEO), so a reading client runs on its own
  // thread and is woken by a book update when the test is done with it.
  struct Reader {
    std::unique_ptr<WsClient> ws;
    std::atomic<bool> done{false};
    std::thread t;
    explicit Reader(std::unique_ptr<WsClient> c) : ws(std::move(c)) {
      t = std::thread([this] {
        while (!done && ws->Read()) {
        }
      });
    }
    void Stop(RunningSim& sim) {
      done = true;
      sim.Step("AAA", 1);
      t.join();
    }
  };
  SECTION("a client that answers pings stays; one that never reads is closed") {
    VenueModule::WsKeepalive k;
    k.ping_interval = 150ms;
    k.pong_timeout = 300ms;
    RunningSim sim(0, k);
    Reader reader(Subscribe(sim, 1));
    auto silent = Subscribe(sim, 2);  // never reads: it never answers a ping
    CHECK(WaitUntil([&] { return sim.Connections() == 1; }));  // the silent one is dropped
    CHECK(WaitUntil([&] { return reader.ws->pings() >= 3; }));
    CHECK(sim.Connections() == 1);  // the reader answered every ping and stays
    reader.Stop(sim);
    CHECK_FALSE(reader.ws->closed());
  }
  SECTION("a client that sends nothing is dropped after the idle timeout; a talking one stays") {
    VenueModule::WsKeepalive k;
    k.idle_timeout = 400ms;
    RunningSim sim(0, k);
    auto quiet = Subscribe(sim, 1);
    auto talker = Subscribe(sim, 2);
    auto t0 = Clock_::now();
    while (Clock_::now() - t0 < 1200ms) {
      talker->Send("hi");
      CHECK(talker->Read() == std::optional<std::string>("echo:hi"));
      std::this_thread::sleep_for(50ms);
    }
    CHECK(sim.Connections() == 1);
    CHECK_FALSE(quiet->Read());  // dropped
    CHECK(quiet->closed());
  }
  SECTION("no keepalive: no pings, no drops") {
    RunningSim sim;
    Reader reader(Subscribe(sim, 1));
    std::this_thread::sleep_for(500ms);
    CHECK(sim.Connections() == 1);
    reader.Stop(sim);
    CHECK(reader.ws->pings() == 0);
  }
}

}  // namespace perpgw::sim

namespace perpgw::sim {

// Hidden (run with "[sim-bench]"): end-to-end generator → module → WS client throughput.
TEST_CASE("WS throughput at 100k updates/s", "[.][sim-bench]") {
  RunningSim sim(100000);
  auto ws = Subscribe(sim);
  auto t0 = Clock_::now();
  uint64_t got = 0;
  while (Clock_::now() - t0 < 2s && ws->Read()) ++got;
  double s = std::chrono::duration<double>(Clock_::now() - t0).count();
  std::printf("ws e2e: %.0f msgs/s received\n", got / s);
  CHECK(got > 0);
}

}  // namespace perpgw::sim
