// NATS scale-out (issue 18): a real nats-server (JetStream, store in a temp dir, port chosen by
// the server) + perpgw-sim + perpgwd with publish.nats. Books rebuilt from NATS by the consumer
// (bench/nats_book.h) equal the sim's truth through venue faults and a late start; order events
// in JetStream are exactly the gRPC stream's across a nats-server kill -9 and restart, while
// gRPC keeps serving with NATS down.
#include <signal.h>
#include <sys/stat.h>

#include <dirent.h>
#include <nats/nats.h>
#include <simdjson.h>
#include <catch2/catch.hpp>
#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

#include "adapters/api/decimal.h"
#include "bench/nats_book.h"
#include "tests/integration/venue_rig.h"

namespace perpgw::testing {
namespace {

namespace v1 = perpgw::v1;
using natsbook::NatsBookFollower;
using natsbook::Side;

std::string Norm(std::string_view s) {
  auto d = Decimal::Parse(s);
  return d.ok() ? d->ToNormalizedString() : std::string(s);
}

// A nats-server with JetStream in `dir`; Start(-1) lets it pick a port (read from its ports
// file), a restart passes that port again so clients find it where they left it.
class NatsServer {
 public:
  explicit NatsServer(const TempDir& dir) : dir_(dir) {}
  std::string Start(int port = -1) {
    const std::string ports = dir_.File("nats-ports-" + std::to_string(++starts_));
    ::mkdir(ports.c_str(), 0755);
    ProcessOptions o;
    o.argv = {NATS_SERVER_BIN,      "-a",  "127.0.0.1", "-p",
              std::to_string(port), "-js", "-sd",       dir_.File("jetstream"),
              "--ports_file_dir",   ports};
    o.log_path = dir_.File("nats-" + std::to_string(starts_) + ".log");
    std::string err;
    proc_ = ChildProcess::Spawn(o, &err);
    if (!proc_) return "cannot start nats-server: " + err;
    const std::string file = ports + "/nats-server_" + std::to_string(proc_->pid()) + ".ports";
    auto text = WaitForFile(file, Millis(20000), proc_.get(),
                            [](const std::string& t) { return t.find('}') != std::string::npos; });
    if (!text) return "nats-server wrote no ports file:\n" + proc_->ReadLog();
    std::smatch m;
    static const std::regex re(R"(nats://[0-9.]+:(\d+))");
    if (!std::regex_search(*text, m, re)) return "no client port in " + *text;
    port_ = std::stoi(m[1]);
    return "";
  }
  std::string Restart() { return Start(port_); }
  void Kill() {
    proc_->Signal(SIGKILL);
    proc_->WaitExit(Millis(10000));
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  const TempDir& dir_;
  std::unique_ptr<ChildProcess> proc_;
  int port_ = 0, starts_ = 0;
};

RigOptions AsterRig(const std::string& nats_url, int replicas = 0, bool market_data = true) {
  RigOptions o;
  o.venue = "aster";
  o.symbols = {"BTC", "ETH"};
  o.option_keys = {"auth_scheme", "user", "signer"};
  o.account_filter = "api_secret";
  o.rate = 400;
  o.extra_config = "metrics: {listen: \"127.0.0.1:0\"}\npublish:\n  nats:\n    url: \"" + nats_url +
                   "\"\n    stream_prefix: IT\n    book_snapshot_interval_ms: 300\n"
                   "    accounts: [\"*\"]\n";
  if (replicas > 0) o.extra_config += "    replicas: " + std::to_string(replicas) + "\n";
  if (!market_data) o.extra_config += "    market_data: false\n";
  return o;
}

struct Truth {
  Side bids, asks;
};

std::optional<Truth> GroundTruth(VenueRig& rig, const std::string& venue_symbol) {
  auto body = rig.ControlGet("/book?venue=" + rig.venue() + "&symbol=" + venue_symbol);
  if (!body) return std::nullopt;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(*body).get(doc)) return std::nullopt;
  Truth t;
  for (const char* side : {"bids", "asks"}) {
    simdjson::dom::array levels;
    if (doc[side].get(levels)) return std::nullopt;
    for (auto lvl : levels) {
      std::string_view px, qty;
      if (lvl.at(0).get(px) || lvl.at(1).get(qty)) return std::nullopt;
      (std::string_view(side) == "bids" ? t.bids : t.asks)[Norm(px)] = Norm(qty);
    }
  }
  return t;
}

// Pauses the generator, waits until the NATS-rebuilt book equals the sim's, resumes.
void ExpectMatches(VenueRig& rig, NatsBookFollower& f, const std::string& vs, int rate) {
  REQUIRE(rig.ControlPost("/rate", R"({"venue":"aster","rate":"0"})"));
  std::optional<Truth> truth;
  NatsBookFollower::View v;
  const bool same = WaitUntil(
      [&] {
        truth = GroundTruth(rig, vs);
        v = f.Get();
        return truth && v.live && v.bids == truth->bids && v.asks == truth->asks;
      },
      Millis(30000), Millis(50));
  INFO("nats book: " << v.bids.size() << " bids, " << v.asks.size() << " asks, seq " << v.sequence
                     << ", live " << v.live << ", gaps " << v.gaps);
  INFO("sim: " << (truth ? std::to_string(truth->bids.size()) + " bids, " +
                               std::to_string(truth->asks.size()) + " asks"
                         : std::string("none")));
  CHECK(same);
  REQUIRE(
      rig.ControlPost("/rate", R"({"venue":"aster","rate":")" + std::to_string(rate) + R"("})"));
}

std::optional<int> MetricsPort(VenueRig& rig) {
  std::smatch m;
  const std::string log = rig.gateway().ReadLog();
  static const std::regex re(R"(metrics on http://[^:]+:(\d+)/metrics)");
  if (!std::regex_search(log, m, re)) return std::nullopt;
  return std::stoi(m[1]);
}

double Metric(int port, const std::string& name) {
  auto r = Run({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
               Millis(5000));
  std::smatch m;
  const std::regex re("(^|\n)" + name + R"((\{\})? ([0-9.e+-]+))");
  if (r.exit_code != 0 || !std::regex_search(r.out, m, re)) return -1;
  return std::stod(m[3]);
}

template <typename Stub, typename Req, typename Resp>
grpc::Status Call(Stub* stub, grpc::Status (Stub::*fn)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  return (stub->*fn)(&ctx, req, resp);
}

// StreamOrderEvents of one account, from its start (the reference for JetStream's copy).
class OrderEvents {
 public:
  explicit OrderEvents(VenueRig& rig) {
    thread_ = std::thread([this, &rig] {
      v1::StreamOrderEventsRequest req;
      req.set_account(rig.account());
      auto reader = rig.trading->StreamOrderEvents(&ctx_, req);
      v1::OrderEvent e;
      while (reader->Read(&e)) {
        std::lock_guard lock(mu_);
        events_.push_back(e);
      }
    });
  }
  ~OrderEvents() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::vector<v1::OrderEvent> Get() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  grpc::ClientContext ctx_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<v1::OrderEvent> events_;
};

std::string Key(const v1::OrderEvent& e) {
  return std::to_string(e.epoch()) + "/" + std::to_string(e.sequence()) + "/" +
         e.order().client_order_id() + "/" + std::to_string(e.order().status());
}

// Resting buys on aster BTC, 50-59 ticks under the touch, with the book generator paused (so
// the touch holds still). The constructor waits for a live book through gRPC.
class RestingBids {
 public:
  RestingBids(VenueRig& rig, std::string prefix) : rig_(rig), prefix_(std::move(prefix)) {
    btc_.set_venue("aster");
    btc_.set_symbol("BTC");
    v1::GetInstrumentRequest ireq;
    *ireq.mutable_market() = btc_;
    v1::Instrument inst;
    REQUIRE(
        Call(rig.instruments.get(), &v1::InstrumentService::Stub::GetInstrument, ireq, &inst).ok());
    REQUIRE(WaitUntil([&] { return BookOk(); }, Millis(30000), Millis(100)));
    REQUIRE(rig.ControlPost("/rate", R"({"venue":"aster","rate":"0"})"));
    REQUIRE(WaitUntil([&] { return BookOk(); }, Millis(30000), Millis(100)));
    tick_ = *Decimal::Parse(inst.tick_size());
    bid_ = *Decimal::Parse(book_.bids(0).price());
    size_ = inst.min_size() == "0" ? inst.step_size() : inst.min_size();
  }
  bool BookOk() {
    v1::GetOrderBookRequest breq;
    *breq.mutable_market() = btc_;
    breq.set_depth(5);
    return Call(rig_.market.get(), &v1::MarketDataService::Stub::GetOrderBook, breq, &book_).ok() &&
           book_.status() == v1::BOOK_STATUS_LIVE && book_.bids_size() > 0;
  }
  void Place() {
    const int n = placed_++;
    v1::PlaceOrderRequest r;
    r.set_account(rig_.account());
    *r.mutable_market() = btc_;
    r.set_client_order_id(prefix_ + std::to_string(n));
    r.set_side(v1::SIDE_BUY);
    r.set_type(v1::ORDER_TYPE_LIMIT);
    r.set_time_in_force(v1::TIME_IN_FORCE_GTC);
    auto off = Decimal::Mul(tick_, Decimal::FromInt(50 + n % 10), 12, Rounding::kExact);
    r.set_price(Decimal::Sub(bid_, *off)->ToNormalizedString());
    r.set_size(size_);
    v1::PlaceOrderResponse resp;
    auto st = Call(rig_.trading.get(), &v1::TradingService::Stub::PlaceOrder, r, &resp);
    INFO("order " << n << ": " << st.error_message());
    REQUIRE(st.ok());
    REQUIRE(resp.outcome() == v1::ACK_OUTCOME_ACCEPTED);
  }

 private:
  VenueRig& rig_;
  std::string prefix_;
  v1::MarketRef btc_;
  v1::OrderBook book_;
  Decimal tick_, bid_;
  std::string size_;
  int placed_ = 0;
};

}  // namespace

TEST_CASE("NATS: books rebuilt from NATS equal the sim's truth through faults and a late start",
          "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  VenueRig rig(AsterRig(nats.url()));
  REQUIRE(rig.error() == "");
  const std::string vs = rig.VenueSymbol("BTC");
  NatsBookFollower f(nats.url(), "aster", "BTC", "IT");
  REQUIRE(f.error() == "");
  REQUIRE(
      WaitUntil([&] { return f.Get().live && f.Get().messages > 300; }, Millis(60000), Millis(50)));
  ExpectMatches(rig, f, vs, 400);

  for (const char* kind : {"drop_ws", "skip_seq"}) {
    INFO("fault " << kind);
    const uint64_t before = f.Get().messages;
    REQUIRE(rig.ControlPost("/fault", std::string(R"({"venue":"aster","kind":")") + kind +
                                          R"(","symbol":")" + vs + R"("})"));
    REQUIRE(WaitUntil([&] { return f.Get().messages > before + 200 && f.Get().live; },
                      Millis(60000), Millis(50)));
    ExpectMatches(rig, f, vs, 400);
  }
  // Snapshots of the venue's resync came through the book subject; nothing was lost on NATS.
  CHECK(f.Get().snapshots >= 2);
  CHECK(f.Get().gaps == 0);
  CHECK(f.Get().other > 0);  // bbo/trades/funding subjects carry data too

  // A consumer that starts while nothing moves: only a periodic snapshot (JetStream's last, or
  // the next one) can give it the book.
  REQUIRE(rig.ControlPost("/rate", R"({"venue":"aster","rate":"0"})"));
  NatsBookFollower late(nats.url(), "aster", "BTC", "IT");
  REQUIRE(late.error() == "");
  std::optional<Truth> truth;
  REQUIRE(WaitUntil(
      [&] {
        truth = GroundTruth(rig, vs);
        auto v = late.Get();
        return truth && v.live && v.bids == truth->bids && v.asks == truth->asks;
      },
      Millis(15000), Millis(50)));
  CHECK(late.Get().periodic_used >= 1);

  auto mport = MetricsPort(rig);
  REQUIRE(mport);
  CHECK(Metric(*mport, "perpgw_nats_connected") == 1);
  CHECK(Metric(*mport, "perpgw_nats_published_total") > 300);
}

TEST_CASE("NATS: order events lossless across a nats-server restart; gRPC serves without NATS",
          "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  VenueRig rig(AsterRig(nats.url()));
  REQUIRE(rig.error() == "");
  OrderEvents grpc_events(rig);
  NatsBookFollower f(nats.url(), "aster", "BTC", "IT");
  REQUIRE(f.error() == "");
  auto mport = MetricsPort(rig);
  REQUIRE(mport);

  RestingBids bids(rig, "nats-it-");
  auto book_ok = [&] { return bids.BookOk(); };
  auto place = [&] { bids.Place(); };
  const std::string subject = "perpgw.account." + rig.account() + ".orders";
  auto stored = [&] {
    std::string err;
    std::vector<v1::OrderEvent> out;
    for (const auto& bytes : natsbook::ReadStream(nats.url(), "IT_ORDERS", subject, &err)) {
      v1::OrderEvent e;
      if (e.ParseFromString(bytes)) out.push_back(e);
    }
    return out;
  };
  // JetStream holds exactly the gRPC stream's events, in order, once each.
  auto same_as_grpc = [&](size_t at_least) {
    auto g = grpc_events.Get();
    auto s = stored();
    if (g.size() < at_least || s.size() != g.size()) return false;
    for (size_t i = 0; i < g.size(); ++i) {
      if (Key(g[i]) != Key(s[i])) return false;
    }
    return true;
  };

  for (int i = 0; i < 5; ++i) place();
  REQUIRE(WaitUntil([&] { return same_as_grpc(5); }, Millis(20000), Millis(100)));

  nats.Kill();
  REQUIRE(WaitUntil([&] { return Metric(*mport, "perpgw_nats_connected") == 0; }, Millis(10000),
                    Millis(100)));
  // NATS is down: gRPC keeps serving orders, books and streams.
  const size_t before_down = grpc_events.Get().size();
  for (int i = 0; i < 5; ++i) place();
  v1::CancelAllOrdersRequest creq;
  creq.set_account(rig.account());
  v1::CancelAllOrdersResponse cresp;
  REQUIRE(Call(rig.trading.get(), &v1::TradingService::Stub::CancelAllOrders, creq, &cresp).ok());
  auto cancelled = [&] {
    size_t n = 0;
    for (const auto& e : grpc_events.Get()) n += e.order().status() == v1::ORDER_STATUS_CANCELED;
    return n;
  };
  REQUIRE(WaitUntil([&] { return cancelled() == 10; }, Millis(20000), Millis(50)));
  CHECK(grpc_events.Get().size() >= before_down + 10);
  CHECK(book_ok());

  REQUIRE(nats.Restart() == "");
  const size_t total = grpc_events.Get().size();
  bool same = WaitUntil([&] { return same_as_grpc(total); }, Millis(30000), Millis(200));
  if (!same) {
    auto g = grpc_events.Get();
    auto s = stored();
    std::string gs, ss;
    for (const auto& e : g) gs += Key(e) + " ";
    for (const auto& e : s) ss += Key(e) + " ";
    INFO("gRPC: " << gs);
    INFO("NATS: " << ss);
    CHECK(same);
  }
  // Metrics are copied once a second.
  CHECK(WaitUntil([&] { return Metric(*mport, "perpgw_nats_reconnects_total") >= 1; },
                  Millis(5000), Millis(100)));
  CHECK(Metric(*mport, "perpgw_nats_disconnects_total") >= 1);
  CHECK(Metric(*mport, "perpgw_nats_order_events_lost_total") == 0);
  CHECK(Metric(*mport, "perpgw_nats_order_events_acked_total") == static_cast<double>(total));

  // Books come back on NATS too (the consumer reconnected by itself).
  REQUIRE(rig.ControlPost("/rate", R"({"venue":"aster","rate":"400"})"));
  const uint64_t before = f.Get().messages;
  REQUIRE(WaitUntil([&] { return f.Get().messages > before + 100 && f.Get().live; }, Millis(30000),
                    Millis(50)));
  ExpectMatches(rig, f, rig.VenueSymbol("BTC"), 400);
}

}  // namespace perpgw::testing

namespace perpgw::testing {

// publish.nats.url as a cluster's seed list (README): libnats 3.4's natsOptions_SetURL refuses a
// comma list, so before the list was split (natsOptions_SetServers) neither the gateway nor the
// consumer connected at all. The first server is down (a port nothing listens on): both must
// connect to the second.
TEST_CASE("NATS: a server list whose first server is down connects to the next one", "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  const std::string list = "nats://127.0.0.1:" + std::to_string(PickFreePort()) + ", " + nats.url();
  INFO("servers: " << list);
  VenueRig rig(AsterRig(list));
  REQUIRE(rig.error() == "");
  NatsBookFollower f(list, "aster", "BTC", "IT");
  REQUIRE(f.error() == "");
  REQUIRE(
      WaitUntil([&] { return f.Get().live && f.Get().messages > 100; }, Millis(60000), Millis(50)));
  ExpectMatches(rig, f, rig.VenueSymbol("BTC"), 400);
  CHECK(rig.gateway().ReadLog().find("nats: connected to " + nats.url()) != std::string::npos);
  // The JetStream side too: periodic snapshots stored, read back through the same list.
  std::string err;
  std::vector<std::string> snaps;
  CHECK(WaitUntil(
      [&] {
        snaps = natsbook::ReadStream(list, "IT_BOOKS", "perpgw.aster.BTC.snapshot", &err);
        return !snaps.empty();
      },
      Millis(10000), Millis(200)));
  INFO("ReadStream: " << err);
  CHECK(err.empty());
  auto mport = MetricsPort(rig);
  REQUIRE(mport);
  CHECK(Metric(*mport, "perpgw_nats_connected") == 1);
}

}  // namespace perpgw::testing

namespace perpgw::testing {

// publish.nats.replicas reaches the streams' config: a server without a cluster refuses more than
// one replica (JetStream error 10074), so with replicas: 3 no stream exists and perpgwd says why
// (before the key existed, the streams were created with 1 replica whatever the deployment);
// books on core NATS and gRPC are unaffected.
TEST_CASE("NATS: publish.nats.replicas is asked of the server for both streams", "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  VenueRig rig(AsterRig(nats.url(), 3));
  REQUIRE(rig.error() == "");
  CHECK(WaitUntil(
      [&] {
        const std::string log = rig.gateway().ReadLog();
        return log.find("stream IT_ORDERS") != std::string::npos &&
               log.find("(error 10074)") != std::string::npos;
      },
      Millis(15000), Millis(100)));
  CHECK(rig.gateway().ReadLog().find("with 3 replica(s)") != std::string::npos);
  std::string err;
  CHECK(natsbook::ReadStream(nats.url(), "IT_ORDERS", "perpgw.account.x.orders", &err).empty());
  CHECK(err.find("stream IT_ORDERS") == 0);  // not found
  NatsBookFollower f(nats.url(), "aster", "BTC", "IT");
  REQUIRE(f.error() == "");
  CHECK(
      WaitUntil([&] { return f.Get().live && f.Get().messages > 50; }, Millis(60000), Millis(50)));
}

}  // namespace perpgw::testing

namespace perpgw::testing {
namespace {

// Counts core-NATS messages on perpgw.> other than order events (market data and status).
class MarketDataCounter {
 public:
  explicit MarketDataCounter(const std::string& url) {
    if (natsConnection_ConnectTo(&nc_, url.c_str()) != NATS_OK) return;
    natsConnection_Subscribe(&sub_, nc_, "perpgw.>", &MarketDataCounter::OnMsg, this);
    natsConnection_Flush(nc_);
  }
  ~MarketDataCounter() {
    if (sub_) natsSubscription_Destroy(sub_);
    if (nc_) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
  }
  bool ok() const { return sub_ != nullptr; }
  uint64_t count() const { return n_; }
  std::string last() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* self = static_cast<MarketDataCounter*>(closure);
    const std::string subject = natsMsg_GetSubject(m);
    if (subject.rfind("perpgw.account.", 0) != 0) {
      ++self->n_;
      std::lock_guard lock(self->mu_);
      self->last_ = subject;
    }
    natsMsg_Destroy(m);
  }
  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::atomic<uint64_t> n_{0};
  std::mutex mu_;
  std::string last_;
};

}  // namespace

// Sharding by venue and account: a gateway with publish.nats.market_data: false publishes its
// account's order events and nothing else (no perpgw.<venue>.* subject, no books stream), so a
// second gateway on a venue does not compete with the venue's market-data gateway. A strategy
// reads those events from JetStream through a durable pull consumer (perpgw-nats-book --orders
// --durable): every event once, in sequence, and a restarted consumer resumes after its acks.
TEST_CASE("NATS: an orders-only shard; a durable consumer resumes its account's order events",
          "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  MarketDataCounter md(nats.url());
  REQUIRE(md.ok());
  VenueRig rig(AsterRig(nats.url(), 0, /*market_data=*/false));
  REQUIRE(rig.error() == "");
  CHECK(rig.gateway().ReadLog().find("market_data: false") != std::string::npos);
  OrderEvents grpc_events(rig);
  RestingBids bids(rig, "nats-shard-");  // waits for a live book: market data flows internally
  // The orders stream exists before the consumer binds to it.
  std::string err;
  REQUIRE(WaitUntil(
      [&] {
        err.clear();
        natsbook::ReadStream(nats.url(), "IT_ORDERS", "perpgw.account.x.orders", &err);
        return err.empty();
      },
      Millis(15000), Millis(100)));

  auto keys = [](const std::vector<v1::OrderEvent>& v, size_t from = 0) {
    std::string out;
    for (size_t i = from; i < v.size(); ++i) out += Key(v[i]) + " ";
    return out;
  };
  size_t first_batch = 0;
  {
    natsbook::OrderEventFollower strategy(nats.url(), rig.account(), "it-strategy", "IT");
    REQUIRE(strategy.error() == "");
    for (int i = 0; i < 3; ++i) bids.Place();
    REQUIRE(WaitUntil([&] { return grpc_events.Get().size() >= 3; }, Millis(20000), Millis(50)));
    std::string got, want;
    const bool same = WaitUntil(
        [&] {
          want = keys(grpc_events.Get());
          got = keys(strategy.Get().received);
          return got == want;
        },
        Millis(20000), Millis(100));
    INFO("gRPC: " << want);
    INFO("NATS: " << got);
    REQUIRE(same);
    first_batch = strategy.Get().received.size();
    CHECK(strategy.Get().gaps == 0);
    CHECK(strategy.Get().duplicates == 0);
    const auto lines = strategy.TakeLines();
    REQUIRE(lines.size() == first_batch);
    CHECK(lines[0].rfind("{\"order_event\":{\"account\":\"" + rig.account() + "\"", 0) == 0);
  }  // the strategy stops (its acks flushed)

  // Events while the strategy is down are kept by JetStream.
  for (int i = 0; i < 2; ++i) bids.Place();
  const std::string subject = "perpgw.account." + rig.account() + ".orders";
  REQUIRE(WaitUntil(
      [&] {
        const size_t g = grpc_events.Get().size();
        return g >= first_batch + 2 &&
               natsbook::ReadStream(nats.url(), "IT_ORDERS", subject, &err).size() == g;
      },
      Millis(20000), Millis(100)));

  // Restarted with the same durable name: exactly the events after the acked ones.
  natsbook::OrderEventFollower again(nats.url(), rig.account(), "it-strategy", "IT");
  REQUIRE(again.error() == "");
  std::string got, want;
  const bool resumed = WaitUntil(
      [&] {
        want = keys(grpc_events.Get(), first_batch);
        got = keys(again.Get().received);
        return got == want;
      },
      Millis(20000), Millis(100));
  INFO("gRPC after the first batch: " << want);
  INFO("NATS after the restart: " << got);
  CHECK(resumed);
  CHECK(again.Get().gaps == 0);
  CHECK(again.Get().duplicates == 0);

  // A consumer without a durable name starts from the stream's beginning.
  natsbook::OrderEventFollower fresh(nats.url(), rig.account(), "", "IT");
  REQUIRE(fresh.error() == "");
  CHECK(WaitUntil([&] { return keys(fresh.Get().received) == keys(grpc_events.Get()); },
                  Millis(20000), Millis(100)));

  // No market data, status or books stream from this gateway (it has run for seconds by now,
  // with books live inside it; status alone would be once a second).
  INFO("last market-data subject: " << md.last());
  CHECK(md.count() == 0);
  err.clear();
  CHECK(natsbook::ReadStream(nats.url(), "IT_BOOKS", "perpgw.aster.BTC.snapshot", &err).empty());
  CHECK(err.find("stream IT_BOOKS") == 0);
}

}  // namespace perpgw::testing
