// Streams and server hardening against a running perpgwd + perpgw-sim: ended streams are freed
// at once, SIGTERM ends every call within the grace whatever the clients do (reading, stalled,
// vanished mid-write), and a second perpgwd cannot take an address that is in use.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <sstream>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <regex>
#include <thread>

#include "tests/integration/venue_rig.h"

namespace perpgw::testing {
namespace {

namespace v1 = perpgw::v1;

// The gateway's metrics port, from its log line "metrics on http://127.0.0.1:PORT/metrics".
std::optional<int> MetricsPort(VenueRig& rig) {
  std::smatch m;
  const std::string log = rig.gateway().ReadLog();
  static const std::regex re(R"(metrics on http://[^:]+:(\d+)/metrics)");
  if (!std::regex_search(log, m, re)) return std::nullopt;
  return std::stoi(m[1]);
}

// Sum of perpgw_subscribers over every stream kind, or -1 when unreadable.
// The sum of the perpgw_subscribers gauges; `detail` gets the non-zero series (for messages).
double Subscribers(int port, std::string* detail = nullptr) {
  auto r = Run({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
               Millis(5000));
  if (r.exit_code != 0) return -1;
  double total = 0;
  static const std::regex re(R"(^perpgw_subscribers\{[^}]*\} ([0-9.e+]+)$)");
  std::istringstream in(r.out);
  std::string line;
  if (detail) detail->clear();
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) {
      total += std::stod(m[1]);
      if (detail && std::stod(m[1]) != 0) *detail += line + "; ";
    }
  }
  return total;
}

// A loopback TCP relay in front of the gateway whose connections can be cut at once with a
// reset, as when a client host vanishes while the server is writing to it.
class Relay {
 public:
  explicit Relay(int upstream_port) : upstream_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Relay() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    for (auto& [c, u] : pairs_) {
      ::close(c);
      ::close(u);
    }
  }
  int port() const { return port_; }
  // Stops relaying (the server's writes back up in the socket buffers, as with a client host
  // that froze), then Vanish() resets every relayed connection (RST to both sides).
  void Freeze() { frozen_ = true; }
  void Vanish() { vanish_ = true; }
  bool vanished() const { return vanished_; }
  uint64_t bytes_down() const { return bytes_down_; }

 private:
  void Loop() {
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      if (vanish_ && !vanished_) {
        for (auto& [c, u] : pairs_) {
          linger l{1, 0};
          ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          ::setsockopt(u, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          ::close(c);
          ::close(u);
        }
        pairs_.clear();
        vanished_ = true;
      }
      std::vector<pollfd> fds;
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& [c, u] : pairs_) {
        fds.push_back({c, POLLIN, 0});
        fds.push_back({u, POLLIN, 0});
      }
      if (frozen_) {
        // Only watch for new connections; leave relayed data unread.
        fds.resize(1);
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = ::accept(listen_fd_, nullptr, nullptr);
        int u = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(upstream_));
        if (c >= 0 && ::connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          pairs_.emplace_back(c, u);
        } else {
          if (c >= 0) ::close(c);
          ::close(u);
        }
      }
      // Only the pairs that were polled: a connection accepted just now has no pollfd yet
      // (indexing past fds was a heap overflow, found by ASan).
      const size_t polled = (fds.size() - 1) / 2;
      for (size_t i = 0; i < polled && !frozen_; ++i) {
        auto [c, u] = pairs_[i];
        for (int dir = 0; dir < 2; ++dir) {
          const pollfd& p = fds[1 + 2 * i + dir];
          if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
          int from = dir == 0 ? c : u, to = dir == 0 ? u : c;
          ssize_t n = ::read(from, buf.data(), buf.size());
          if (n > 0) {
            ssize_t off = 0;
            while (off < n) {
              ssize_t w = ::write(to, buf.data() + off, static_cast<size_t>(n - off));
              if (w <= 0) break;
              off += w;
            }
            if (dir == 1) bytes_down_ += static_cast<uint64_t>(n);
          }
        }
      }
    }
  }
  int upstream_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false}, frozen_{false}, vanish_{false}, vanished_{false};
  std::atomic<uint64_t> bytes_down_{0};
  std::vector<std::pair<int, int>> pairs_;  // client side, upstream side
};

RigOptions Backpack(double rate) {
  RigOptions o;
  o.venue = "backpack";
  o.symbols = {"BTC", "ETH", "SOL"};
  o.account_filter = "api_secret";
  o.rate = rate;
  return o;
}

}  // namespace

// Defect: a stream's subscriber was released only when the next event for its key arrived, so
// ended streams of quiet keys (liquidations, positions, an idle account) were kept for good:
// 40,000 cancelled StreamLiquidations held 63 MB and read 40,000 in perpgw_subscribers.
TEST_CASE("ended streams are released at once, whatever their key", "[integration][streams]") {
  RigOptions o = Backpack(50);
  o.extra_config = "metrics: {listen: 127.0.0.1:0}";
  VenueRig rig(o);
  REQUIRE(rig.error() == "");
  std::optional<int> mport;
  REQUIRE(WaitUntil([&] { return (mport = MetricsPort(rig)).has_value(); }, Millis(10000)));
  REQUIRE(WaitUntil([&] { return Subscribers(*mport) == 0; }, Millis(10000), Millis(200)));

  const int kEach = 500;
  std::map<int, int> endings;  // status code → count (each must end CANCELLED, not refused)
  auto open_and_cancel = [&](auto start) {
    for (int i = 0; i < kEach; ++i) {
      grpc::ClientContext ctx;
      auto reader = start(&ctx);
      ctx.TryCancel();
      ++endings[reader->Finish().error_code()];
    }
  };
  open_and_cancel([&](grpc::ClientContext* ctx) {
    v1::StreamLiquidationsRequest r;
    r.set_account(rig.account());
    return rig.account_svc->StreamLiquidations(ctx, r);
  });
  open_and_cancel([&](grpc::ClientContext* ctx) {
    v1::StreamPositionsRequest r;
    r.set_account(rig.account());
    return rig.account_svc->StreamPositions(ctx, r);
  });
  open_and_cancel([&](grpc::ClientContext* ctx) {
    v1::StreamOrderEventsRequest r;
    r.set_account(rig.account());
    return rig.trading->StreamOrderEvents(ctx, r);
  });
  open_and_cancel([&](grpc::ClientContext* ctx) {
    v1::StreamBboRequest r;
    auto* m = r.add_markets();
    m->set_venue("backpack");
    m->set_symbol("SOL");
    return rig.market->StreamBbo(ctx, r);
  });
  CHECK(endings[grpc::StatusCode::CANCELLED] == 4 * kEach);
  // One stream stays open: the gauge must read exactly the open streams.
  grpc::ClientContext keep_ctx;
  v1::StreamPositionsRequest keep;
  keep.set_account(rig.account());
  auto kept = rig.account_svc->StreamPositions(&keep_ctx, keep);
  double seen = -1;
  std::string detail;
  // Exactly the kept stream: one subscriber, a positions one (a count of 1 alone could be a
  // leftover of the ended ones while the kept one is not registered yet).
  const bool freed = WaitUntil(
      [&] {
        return (seen = Subscribers(*mport, &detail)) == 1 &&
               detail.find("stream=\"positions\"") != std::string::npos;
      },
      Millis(15000), Millis(200));
  INFO("perpgw_subscribers after " << 4 * kEach << " ended streams and 1 open: " << seen << " ("
                                   << detail << ")");
  CHECK(freed);
  keep_ctx.TryCancel();
  const grpc::Status kept_end = kept->Finish();
  INFO("the kept stream ended " << kept_end.error_code() << " " << kept_end.error_message());
  CHECK(kept_end.error_code() == grpc::StatusCode::CANCELLED);
  CHECK(WaitUntil([&] { return Subscribers(*mport, &detail) == 0; }, Millis(15000), Millis(200)));
}

// Defect: a client that vanished while the server was writing left a reactor that never called
// Finish; Server::Shutdown then waited for it forever and SIGTERM hung.
TEST_CASE("SIGTERM ends within the grace with reading, stalled and vanished clients",
          "[integration][streams]") {
  RigOptions o = Backpack(3000);
  o.extra_config = "limits: {shutdown_timeout_ms: 3000}";
  VenueRig rig(o);
  REQUIRE(rig.error() == "");
  auto books = [](const std::string& sym) {
    v1::StreamOrderBooksRequest r;
    auto* m = r.add_markets();
    m->set_venue("backpack");
    m->set_symbol(sym);
    return r;
  };
  // A reading client.
  std::atomic<uint64_t> read{0};
  grpc::ClientContext reading_ctx;
  std::thread reading([&] {
    auto r = rig.market->StreamOrderBooks(&reading_ctx, books("BTC"));
    v1::OrderBookUpdate u;
    while (r->Read(&u)) ++read;
  });
  // A stalled client: its stream is open, it never reads.
  grpc::ClientContext stalled_ctx;
  auto stalled = rig.market->StreamOrderBooks(&stalled_ctx, books("ETH"));
  // Vanishing clients: through a relay that resets their connections mid-stream.
  Relay relay(std::stoi(rig.gateway_addr().substr(rig.gateway_addr().rfind(':') + 1)));
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(relay.port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::MarketDataService::NewStub(channel);
  std::vector<std::unique_ptr<grpc::ClientContext>> vctx;
  std::vector<std::thread> vanishing;
  for (const char* sym : {"BTC", "ETH", "SOL", "BTC", "SOL", "ETH"}) {
    vctx.push_back(std::make_unique<grpc::ClientContext>());
    auto* ctx = vctx.back().get();
    vanishing.emplace_back([&, ctx, sym] {
      auto r = stub->StreamOrderBooks(ctx, books(sym));
      v1::OrderBookUpdate u;
      while (r->Read(&u)) {
      }
    });
  }
  REQUIRE(WaitUntil([&] { return read > 200 && relay.bytes_down() > 100000; }, Millis(30000)));
  // Freeze long enough for the server's writes to those streams to be stuck in flight, then
  // reset: the pending writes fail.
  relay.Freeze();
  uint64_t at = read;
  REQUIRE(WaitUntil([&] { return read > at + 3000; }, Millis(30000)));
  relay.Vanish();
  // The server keeps writing to the vanished streams until its writes fail.
  at = read;
  REQUIRE(WaitUntil([&] { return relay.vanished() && read > at + 500; }, Millis(30000)));

  const auto t0 = std::chrono::steady_clock::now();
  rig.gateway().Signal(SIGTERM);
  auto code = rig.gateway().WaitExit(Millis(15000));
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("perpgwd log tail:\n" << rig.gateway().ReadLog().substr(
           rig.gateway().ReadLog().size() > 3000 ? rig.gateway().ReadLog().size() - 3000 : 0));
  CHECK(code.has_value());
  if (code) {
    CHECK(*code == 0);
    CHECK(secs < 5.0);  // the 3 s grace (+2 s is the watchdog's exit 1)
  } else {
    rig.gateway().Signal(SIGKILL);  // hung: end it so the clients below can finish
    rig.gateway().WaitExit(Millis(10000));
  }
  stalled_ctx.TryCancel();
  (void)stalled->Finish();
  reading_ctx.TryCancel();
  reading.join();
  for (auto& c : vctx) c->TryCancel();
  for (auto& t : vanishing) t.join();
}

// Defect: gRPC's default SO_REUSEPORT let a second perpgwd start on the same address, log
// "listening" and take clients from the first.
TEST_CASE("a second perpgwd on an address in use refuses to start", "[integration][streams]") {
  VenueRig rig(Backpack(20));
  REQUIRE(rig.error() == "");
  TempDir dir;
  const std::string cfg = dir.File("second.yaml");
  REQUIRE(WriteFile(cfg, "listen: " + rig.gateway_addr() + "\n"));
  auto r = Run({PERPGWD_BIN, "--config", cfg}, Millis(20000));
  INFO(r.out << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK((r.out + r.err).find("already in use") != std::string::npos);
  // The first one still answers.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetVersionRequest vreq;
  v1::GetVersionResponse vresp;
  CHECK(rig.gateway_svc->GetVersion(&ctx, vreq, &vresp).ok());
}

}  // namespace perpgw::testing

namespace perpgw::testing {

// Defect: one StreamOrderBooks request naming backpack/BTC 50,000 times starved the fan-out:
// other clients' GetOrderBook timed out and their streams stalled while LIVE.
TEST_CASE("one request cannot starve the fan-out: markets de-duplicated and capped",
          "[integration][streams]") {
  VenueRig rig(Backpack(500));
  REQUIRE(rig.error() == "");
  auto named = [](int times) {
    v1::StreamOrderBooksRequest r;
    for (int i = 0; i < times; ++i) {
      auto* m = r.add_markets();
      m->set_venue("backpack");
      m->set_symbol("BTC");
    }
    return r;
  };
  // 50,000 entries: refused at once, naming the limit.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto r = rig.market->StreamOrderBooks(&ctx, named(50000));
    v1::OrderBookUpdate u;
    int got = 0;
    while (r->Read(&u) && got < 10) ++got;
    auto st = r->Finish();
    CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(st.error_message().find("max_markets_per_stream") != std::string::npos);
  }
  // 1,000 entries of one market: one subscription, one snapshot, then deltas.
  grpc::ClientContext dup_ctx;
  auto dup = rig.market->StreamOrderBooks(&dup_ctx, named(1000));
  int snapshots = 0, messages = 0;
  std::string seen;
  v1::OrderBookUpdate u;
  while (messages < 300 && dup->Read(&u)) {
    ++messages;
    if (u.is_snapshot()) {
      snapshots += u.status() == v1::BOOK_STATUS_LIVE;  // (an "awaiting first snapshot" may lead)
      seen += " [snapshot at " + std::to_string(messages) + " resync=" + std::to_string(u.resync()) +
              " status=" + std::to_string(u.status()) + " " + u.status_reason() + "]";
    }
  }
  CHECK(messages == 300);
  INFO(seen);
  CHECK(snapshots == 1);
  // Everyone else is served promptly meanwhile.
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::GetOrderBookRequest req;
    req.mutable_market()->set_venue("backpack");
    req.mutable_market()->set_symbol("ETH");
    v1::OrderBook book;
    auto st = rig.market->GetOrderBook(&ctx, req, &book);
    CHECK((st.ok() || st.error_code() == grpc::StatusCode::UNAVAILABLE));  // UNAVAILABLE: subscribing
    CHECK(st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  dup_ctx.TryCancel();
  while (dup->Read(&u)) {
  }
  (void)dup->Finish();
}

TEST_CASE("open streams per token are capped, and freed when they end", "[integration][streams]") {
  RigOptions o = Backpack(50);
  o.extra_config = "limits: {max_streams_per_token: 5}";
  VenueRig rig(o);
  REQUIRE(rig.error() == "");
  v1::StreamBboRequest req;
  auto* m = req.add_markets();
  m->set_venue("backpack");
  m->set_symbol("BTC");
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::BboUpdate>>> open;
  for (int i = 0; i < 5; ++i) {
    ctxs.push_back(std::make_unique<grpc::ClientContext>());
    open.push_back(rig.market->StreamBbo(ctxs.back().get(), req));
    v1::BboUpdate u;
    REQUIRE(open.back()->Read(&u));  // established
  }
  auto sixth_status = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto r = rig.market->StreamBbo(&ctx, req);
    v1::BboUpdate u;
    const bool got = r->Read(&u);
    if (got) ctx.TryCancel();
    return std::make_pair(got, r->Finish());
  };
  auto [got, st] = sixth_status();
  CHECK_FALSE(got);
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(st.error_message().find("max_streams_per_token") != std::string::npos);
  // One ends: its place is free again.
  ctxs[0]->TryCancel();
  (void)open[0]->Finish();
  CHECK(WaitUntil([&] { return sixth_status().first; }, Millis(5000), Millis(100)));
  for (size_t i = 1; i < open.size(); ++i) {
    ctxs[i]->TryCancel();
    (void)open[i]->Finish();
  }
}

TEST_CASE("names from requests are cut in error messages", "[integration][streams]") {
  VenueRig rig(Backpack(20));
  REQUIRE(rig.error() == "");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetOrderBookRequest req;
  req.mutable_market()->set_venue("backpack");
  req.mutable_market()->set_symbol(std::string(10000, 'X'));
  v1::OrderBook book;
  auto st = rig.market->GetOrderBook(&ctx, req, &book);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().size() < 200);
  CHECK(st.error_message().find("10000 characters") != std::string::npos);
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  req.mutable_market()->set_venue(std::string(10000, 'v'));
  req.mutable_market()->set_symbol("BTC");
  st = rig.market->GetOrderBook(&ctx2, req, &book);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message().size() < 200);
}

}  // namespace perpgw::testing

namespace perpgw::testing {

// Defect: the overall health service said SERVING while every venue was unreachable.
TEST_CASE("health: NOT_SERVING while a venue has no instruments, SERVING once it has",
          "[integration][streams]") {
  TempDir dir;
  const std::string cfg = dir.File("down.yaml");
  REQUIRE(WriteFile(cfg, "listen: 127.0.0.1:0\nvenues:\n  backpack:\n"
                         "    rest_url: http://127.0.0.1:1\n    ws_url: ws://127.0.0.1:1\n"
                         "    symbols: [BTC]\n"));
  ProcessOptions po;
  po.argv = {PERPGWD_BIN, "--config", cfg, "--port-file", dir.File("port")};
  po.log_path = dir.File("perpgwd.log");
  std::string err;
  auto gw = ChildProcess::Spawn(po, &err);
  REQUIRE(gw);
  auto port = WaitForPortFile(dir.File("port"), Millis(30000), gw.get());
  REQUIRE(port);
  const std::string addr = "127.0.0.1:" + std::to_string(*port);
  auto check = [&](const std::string& service) {
    std::vector<std::string> argv = {PERPGWD_BIN, "health-check", "--addr", addr};
    if (!service.empty()) argv.insert(argv.end(), {"--service", service});
    return Run(argv, Millis(10000));
  };
  // The venue has been tried (and failed) at least once.
  REQUIRE(WaitUntil([&] { return gw->ReadLog().find("127.0.0.1:1") != std::string::npos; },
                    Millis(20000), Millis(100)));
  auto r = check("");
  INFO(r.out << r.err << gw->ReadLog());
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("NOT_SERVING") != std::string::npos);
  CHECK(check("perpgw.venue.backpack").exit_code != 0);
  CHECK(check("perpgw.v1.MarketDataService").exit_code == 0);  // the daemon itself is up
  gw->Terminate(Millis(10000));

  VenueRig rig(Backpack(20));
  REQUIRE(rig.error() == "");
  CHECK(WaitUntil(
      [&] {
        return Run({PERPGWD_BIN, "health-check", "--addr", rig.gateway_addr()}, Millis(10000))
                   .exit_code == 0;
      },
      Millis(10000), Millis(200)));
}

}  // namespace perpgw::testing

namespace perpgw::testing {

// Defect (issue 13, 8): a venue answering 5xx with an empty body was reported as "markets: "
// with no reason (in the log, the venue's last_error and the health reason).
TEST_CASE("an unreachable venue's error says what happened", "[integration][streams]") {
  // A REST endpoint that answers every request 503 with an empty body.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lfd, 16) == 0);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    while (!stop) {
      pollfd p{lfd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(lfd, nullptr, nullptr);
      if (c < 0) continue;
      char buf[4096];
      (void)::read(c, buf, sizeof buf);
      const char resp[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)::write(c, resp, sizeof resp - 1);
      ::close(c);
    }
  });
  TempDir dir;
  const std::string cfg = dir.File("c.yaml");
  REQUIRE(WriteFile(cfg, "listen: 127.0.0.1:0\nvenues:\n  backpack:\n    rest_url: http://127.0.0.1:" +
                             std::to_string(port) + "\n    ws_url: ws://127.0.0.1:" +
                             std::to_string(port) + "\n    symbols: [BTC]\n"));
  ProcessOptions po;
  po.argv = {PERPGWD_BIN, "--config", cfg};
  po.log_path = dir.File("perpgwd.log");
  std::string err;
  auto gw = ChildProcess::Spawn(po, &err);
  REQUIRE(gw);
  const bool seen = WaitUntil(
      [&] { return gw->ReadLog().find("markets: ") != std::string::npos; }, Millis(20000),
      Millis(100));
  const std::string log = gw->ReadLog();
  INFO(log);
  REQUIRE(seen);
  const std::string line = log.substr(log.find("markets: "), 120);
  CHECK(line.find("503") != std::string::npos);
  gw->Terminate(Millis(10000));
  stop = true;
  server.join();
  ::close(lfd);
}

}  // namespace perpgw::testing
