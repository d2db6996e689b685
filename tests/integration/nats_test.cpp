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
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "adapters/api/decimal.h"
#include "bench/nats_book.h"
#include "tests/integration/test_certs.h"
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
  // `extra`: further nats-server flags (TLS, auth).
  explicit NatsServer(const TempDir& dir, std::vector<std::string> extra = {})
      : dir_(dir), extra_(std::move(extra)) {}
  std::string Start(int port = -1) {
    const std::string ports = dir_.File("nats-ports-" + std::to_string(++starts_));
    ::mkdir(ports.c_str(), 0755);
    ProcessOptions o;
    o.argv = {NATS_SERVER_BIN,      "-a",  "127.0.0.1", "-p",
              std::to_string(port), "-js", "-sd",       dir_.File("jetstream"),
              "--ports_file_dir",   ports};
    o.argv.insert(o.argv.end(), extra_.begin(), extra_.end());
    o.log_path = dir_.File("nats-" + std::to_string(starts_) + ".log");
    std::string err;
    proc_ = ChildProcess::Spawn(o, &err);
    if (!proc_) return "cannot start nats-server: " + err;
    const std::string file = ports + "/nats-server_" + std::to_string(proc_->pid()) + ".ports";
    auto text = WaitForFile(file, Millis(20000), proc_.get(),
                            [](const std::string& t) { return t.find('}') != std::string::npos; });
    if (!text) return "nats-server wrote no ports file:\n" + proc_->ReadLog();
    std::smatch m;
    static const std::regex re(R"((?:nats|tls)://[0-9.]+:(\d+))");
    if (!std::regex_search(*text, m, re)) return "no client port in " + *text;
    port_ = std::stoi(m[1]);
    return "";
  }
  std::string Restart() { return Start(port_); }
  // SIGSTOP: the server holds its connections open and answers nothing (a stalled server, not a
  // dropped one); SIGCONT resumes it.
  void Signal(int sig) { proc_->Signal(sig); }
  void Kill() {
    proc_->Signal(SIGKILL);
    proc_->WaitExit(Millis(10000));
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  const TempDir& dir_;
  std::vector<std::string> extra_;
  std::unique_ptr<ChildProcess> proc_;
  int port_ = 0, starts_ = 0;
};

// `nats_extra`: further publish.nats keys, one "    key: value\n" line each.
RigOptions AsterRig(const std::string& nats_url, int replicas = 0, bool market_data = true,
                    int snapshot_ms = 300, const std::string& nats_extra = "") {
  RigOptions o;
  o.venue = "aster";
  o.symbols = {"BTC", "ETH"};
  o.option_keys = {"auth_scheme", "user", "signer"};
  o.account_filter = "api_secret";
  o.rate = 400;
  o.extra_config =
      "metrics: {listen: \"127.0.0.1:0\"}\npublish:\n  nats:\n    url: \"" + nats_url +
      "\"\n    stream_prefix: IT\n    book_snapshot_interval_ms: " + std::to_string(snapshot_ms) +
      "\n    accounts: [\"*\"]\n";
  if (replicas > 0) o.extra_config += "    replicas: " + std::to_string(replicas) + "\n";
  if (!market_data) o.extra_config += "    market_data: false\n";
  o.extra_config += nats_extra;
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

// StreamOrderEvents of one account, from its start (the reference for JetStream's copy):
// from_sequence 1, because a live-only stream begins whenever the server registers it, which
// is not ordered with the orders the test places next (the venue e2e follower missed an OPEN
// that way in CI). With from_sequence/epoch: a resumption (replayed from the gateway's buffer
// or order-event log).
class OrderEvents {
 public:
  explicit OrderEvents(VenueRig& rig, uint64_t from_sequence = 1, uint64_t epoch = 0) {
    thread_ = std::thread([this, &rig, from_sequence, epoch] {
      v1::StreamOrderEventsRequest req;
      req.set_account(rig.account());
      req.set_from_sequence(from_sequence);
      req.set_epoch(epoch);
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

// The OrderEvents the IT_ORDERS JetStream stream holds for `subject`, in stream order.
std::vector<v1::OrderEvent> StoredOrderEvents(const std::string& url, const std::string& subject) {
  std::string err;
  std::vector<v1::OrderEvent> out;
  for (const auto& bytes : natsbook::ReadStream(url, "IT_ORDERS", subject, &err)) {
    v1::OrderEvent e;
    if (e.ParseFromString(bytes)) out.push_back(e);
  }
  return out;
}

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
  auto stored = [&] { return StoredOrderEvents(nats.url(), subject); };
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
  CHECK(WaitUntil([&] { return Metric(*mport, "perpgw_nats_reconnects_total") >= 1; }, Millis(5000),
                  Millis(100)));
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

namespace perpgw::testing {
namespace {

// The last payload and a count per subject, from one core-NATS subscription each.
class SubjectTap {
 public:
  SubjectTap(const std::string& url, const std::vector<std::string>& subjects) {
    if (natsConnection_ConnectTo(&nc_, url.c_str()) != NATS_OK) return;
    for (const auto& s : subjects) {
      natsSubscription* sub = nullptr;
      if (natsConnection_Subscribe(&sub, nc_, s.c_str(), &SubjectTap::OnMsg, this) != NATS_OK) {
        return;
      }
      subs_.push_back(sub);
    }
    ok_ = natsConnection_Flush(nc_) == NATS_OK;
  }
  ~SubjectTap() {
    for (auto* s : subs_) natsSubscription_Destroy(s);
    if (nc_) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
  }
  bool ok() const { return ok_; }
  // The last payload on `subject`, parsed as Msg.
  template <typename Msg>
  std::optional<Msg> Last(const std::string& subject) {
    std::lock_guard lock(mu_);
    auto it = last_.find(subject);
    if (it == last_.end()) return std::nullopt;
    Msg m;
    if (!m.ParseFromString(it->second)) return std::nullopt;
    return m;
  }
  uint64_t Count(const std::string& subject) {
    std::lock_guard lock(mu_);
    return count_[subject];
  }

 private:
  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* self = static_cast<SubjectTap*>(closure);
    std::lock_guard lock(self->mu_);
    const std::string subject = natsMsg_GetSubject(m);
    self->last_[subject].assign(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    ++self->count_[subject];
    natsMsg_Destroy(m);
  }
  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  bool ok_ = false;
  std::mutex mu_;
  std::map<std::string, std::string> last_;
  std::map<std::string, uint64_t> count_;
};

// StreamOrderBooks of aster BTC through gRPC: the last sequence and status, and how many
// messages arrived.
class GrpcBooks {
 public:
  explicit GrpcBooks(VenueRig& rig) {
    thread_ = std::thread([this, &rig] {
      v1::StreamOrderBooksRequest req;
      auto* m = req.add_markets();
      m->set_venue("aster");
      m->set_symbol("BTC");
      auto reader = rig.market->StreamOrderBooks(&ctx_, req);
      v1::OrderBookUpdate u;
      while (reader->Read(&u)) {
        sequence_ = u.sequence();
        live_ = u.status() == v1::BOOK_STATUS_LIVE;
        ++messages_;
      }
    });
  }
  ~GrpcBooks() {
    ctx_.TryCancel();
    thread_.join();
  }
  uint64_t sequence() const { return sequence_; }
  uint64_t messages() const { return messages_; }
  bool live() const { return live_; }

 private:
  grpc::ClientContext ctx_;
  std::thread thread_;
  std::atomic<uint64_t> sequence_{0}, messages_{0};
  std::atomic<bool> live_{false};
};

// SIGCONT on scope exit, so a failed REQUIRE never leaves the server stopped.
struct Continue {
  NatsServer& nats;
  ~Continue() { nats.Signal(SIGCONT); }
};

// JetStream's view of one stream's config (js_GetStreamInfo).
struct StreamLimits {
  int64_t max_age_ns = 0, max_bytes = 0, max_msgs_per_subject = 0;
  int64_t replicas = 0;
  std::string error;
};

StreamLimits ReadStreamLimits(const std::string& url, const std::string& stream) {
  StreamLimits out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) {
    out.error = "connect";
  } else if (natsConnection_JetStream(&js, nc, nullptr) != NATS_OK) {
    out.error = "jetstream";
  } else if (natsStatus s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &jerr);
             s != NATS_OK) {
    out.error = std::string(natsStatus_GetText(s)) + " (" + std::to_string(jerr) + ")";
  } else {
    out.max_age_ns = si->Config->MaxAge;
    out.max_bytes = si->Config->MaxBytes;
    out.max_msgs_per_subject = si->Config->MaxMsgsPerSubject;
    out.replicas = si->Config->Replicas;
  }
  if (si) jsStreamInfo_Destroy(si);
  if (js) jsCtx_Destroy(js);
  if (nc) {
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
  }
  return out;
}

}  // namespace

// A stalled server (SIGSTOP: connections stay open, nothing is answered) is the case a dropped
// connection is not: writes go into socket buffers until they fill. gRPC must not notice; the
// publisher must notice within libnats' stale-connection detection (ping every 2 s, 3 pings
// out: ~6-8 s; publish.nats has no ping setting, so the wait is bounded at 20 s) and publish
// again once the server runs.
TEST_CASE(
    "NATS: a stalled nats-server: gRPC keeps serving; the disconnect is counted; "
    "publishing resumes",
    "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  VenueRig rig(AsterRig(nats.url()));
  REQUIRE(rig.error() == "");
  auto mport = MetricsPort(rig);
  REQUIRE(mport);
  NatsBookFollower f(nats.url(), "aster", "BTC", "IT");
  REQUIRE(f.error() == "");
  RestingBids bids(rig, "nats-stall-");  // pauses the generator: resumed below
  REQUIRE(rig.ControlPost("/rate", R"({"venue":"aster","rate":"400"})"));
  GrpcBooks books(rig);
  REQUIRE(WaitUntil([&] { return f.Get().live && f.Get().messages > 50 && books.messages() > 50; },
                    Millis(30000), Millis(50)));
  REQUIRE(Metric(*mport, "perpgw_nats_connected") == 1);

  nats.Signal(SIGSTOP);
  Continue cont{nats};
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t seq0 = books.sequence();
  for (int i = 0; i < 3; ++i) bids.Place();
  CHECK(bids.BookOk());
  const bool seen = WaitUntil(
      [&] {
        return Metric(*mport, "perpgw_nats_connected") == 0 ||
               Metric(*mport, "perpgw_nats_disconnects_total") >= 1;
      },
      Millis(20000), Millis(200));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  INFO("disconnect seen after " << took << " ms");
  CHECK(seen);
  // Still stopped: the gRPC stream has kept going all along (aster BTC: ~10 book messages/s
  // here), live, and requests answer.
  const uint64_t seq1 = books.sequence();
  INFO("gRPC book sequence " << seq0 << " -> " << seq1);
  CHECK(seq1 > seq0 + 20);
  CHECK(WaitUntil([&] { return books.sequence() > seq1 + 5; }, Millis(5000), Millis(50)));
  CHECK(books.live());
  bids.Place();
  CHECK(bids.BookOk());

  const uint64_t grpc_at_cont = books.sequence();
  nats.Signal(SIGCONT);
  // Book messages published after the server resumed: the NATS book passes the sequence gRPC
  // had reached when it resumed.
  const bool resumed = WaitUntil(
      [&] {
        auto v = f.Get();
        return v.live && v.sequence > grpc_at_cont + 10;
      },
      Millis(30000), Millis(50));
  INFO("NATS book sequence " << f.Get().sequence << ", gRPC at SIGCONT " << grpc_at_cont);
  CHECK(resumed);
  CHECK(WaitUntil([&] { return Metric(*mport, "perpgw_nats_connected") == 1; }, Millis(15000),
                  Millis(200)));
  CHECK(Metric(*mport, "perpgw_nats_reconnects_total") >= 1);
}

// What each market subject and the status subject carry, checked against gRPC's answers.
TEST_CASE("NATS: the status/funding/bbo/trades subjects carry the gRPC API's messages", "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  const std::string st = "perpgw.aster.status", fu = "perpgw.aster.BTC.funding",
                    bbo = "perpgw.aster.BTC.bbo", tr = "perpgw.aster.BTC.trades";
  SubjectTap tap(nats.url(), {st, fu, bbo, tr});
  REQUIRE(tap.ok());
  VenueRig rig(AsterRig(nats.url()));
  REQUIRE(rig.error() == "");
  RestingBids bids(rig, "nats-subj-");  // a live book; the generator is paused from here on
  REQUIRE(WaitUntil([&] { return tap.Count(st) >= 2 && tap.Count(fu) >= 1 && tap.Count(bbo) >= 1; },
                    Millis(20000), Millis(100)));

  // status: the VenueInfo ListVenues gives for the venue, without rest_url/ws_url (README).
  v1::ListVenuesResponse lv;
  REQUIRE(Call(rig.gateway_svc.get(), &v1::GatewayService::Stub::ListVenues,
               v1::ListVenuesRequest(), &lv)
              .ok());
  REQUIRE(lv.venues_size() == 1);
  auto vi = tap.Last<v1::VenueInfo>(st);
  REQUIRE(vi);
  const v1::VenueInfo& want = lv.venues(0);
  INFO("NATS status: " << vi->ShortDebugString());
  INFO("ListVenues: " << want.ShortDebugString());
  CHECK(vi->venue() == "aster");
  CHECK(vi->enabled());
  CHECK(vi->state() == want.state());
  CHECK(vi->state() == v1::CONNECTION_STATE_CONNECTED);
  CHECK(vi->accounts_size() == want.accounts_size());
  CHECK(vi->accounts_size() >= 1);
  CHECK(std::find(vi->accounts().begin(), vi->accounts().end(), rig.account()) !=
        vi->accounts().end());
  CHECK(vi->instruments() == want.instruments());
  CHECK(vi->instruments() > 0);
  CHECK(vi->capabilities().SerializeAsString() == want.capabilities().SerializeAsString());
  CHECK(vi->has_capabilities());
  CHECK(vi->last_message_age_ms() >= 0);
  CHECK(vi->last_error() == want.last_error());
  CHECK(!want.rest_url().empty());
  CHECK(vi->rest_url().empty());
  CHECK(vi->ws_url().empty());

  // funding: the symbol's FundingRate.
  auto fr = tap.Last<v1::FundingRate>(fu);
  REQUIRE(fr);
  INFO("NATS funding: " << fr->ShortDebugString());
  CHECK(fr->market().venue() == "aster");
  CHECK(fr->market().symbol() == "BTC");
  CHECK(!fr->rate().empty());
  CHECK(Decimal::Parse(fr->rate()).ok());
  CHECK(!fr->rate_8h().empty());

  // bbo: both sides of the book at rest (the generator is paused), each a price and a size or
  // "" for an empty side.
  v1::GetOrderBookRequest breq;
  breq.mutable_market()->set_venue("aster");
  breq.mutable_market()->set_symbol("BTC");
  breq.set_depth(1);
  v1::OrderBook ob;
  std::optional<v1::BboUpdate> b;
  const bool top = WaitUntil(
      [&] {
        if (!Call(rig.market.get(), &v1::MarketDataService::Stub::GetOrderBook, breq, &ob).ok()) {
          return false;
        }
        b = tap.Last<v1::BboUpdate>(bbo);
        return b && ob.bids_size() > 0 && ob.asks_size() > 0 &&
               Norm(b->bid_price()) == Norm(ob.bids(0).price()) &&
               Norm(b->ask_price()) == Norm(ob.asks(0).price());
      },
      Millis(10000), Millis(100));
  INFO("NATS bbo: " << (b ? b->ShortDebugString() : "none"));
  INFO("GetOrderBook: " << ob.ShortDebugString());
  CHECK(top);
  REQUIRE(b);
  CHECK(b->market().symbol() == "BTC");
  CHECK(Norm(b->bid_size()) == Norm(ob.bids(0).size()));
  CHECK(Norm(b->ask_size()) == Norm(ob.asks(0).size()));
  CHECK(b->status() == v1::BOOK_STATUS_LIVE);
  for (const std::string* side :
       {&b->bid_price(), &b->bid_size(), &b->ask_price(), &b->ask_size()}) {
    CHECK((side->empty() || (Decimal::Parse(*side).ok() && *side != "0")));
  }

  // trades: the rig's sim generates none (trade_rate 0), so the test prints one: an IOC buy at
  // the ask fills against the generated book and the venue publishes it.
  REQUIRE(ob.asks_size() > 0);
  v1::GetInstrumentRequest ireq;
  *ireq.mutable_market() = breq.market();
  v1::Instrument inst;
  REQUIRE(
      Call(rig.instruments.get(), &v1::InstrumentService::Stub::GetInstrument, ireq, &inst).ok());
  const uint64_t trades_before = tap.Count(tr);
  v1::PlaceOrderRequest r;
  r.set_account(rig.account());
  *r.mutable_market() = breq.market();
  r.set_client_order_id("nats-subj-take");
  r.set_side(v1::SIDE_BUY);
  r.set_type(v1::ORDER_TYPE_LIMIT);
  r.set_time_in_force(v1::TIME_IN_FORCE_IOC);
  r.set_price(ob.asks(0).price());
  r.set_size(inst.min_size() == "0" ? inst.step_size() : inst.min_size());
  v1::PlaceOrderResponse resp;
  auto pst = Call(rig.trading.get(), &v1::TradingService::Stub::PlaceOrder, r, &resp);
  INFO("IOC: " << pst.error_message() << " " << resp.ShortDebugString());
  REQUIRE(pst.ok());
  REQUIRE(resp.outcome() == v1::ACK_OUTCOME_ACCEPTED);
  REQUIRE(WaitUntil([&] { return tap.Count(tr) > trades_before; }, Millis(10000), Millis(50)));
  auto t = tap.Last<v1::TradeUpdate>(tr);
  REQUIRE(t);
  INFO("NATS trade: " << t->ShortDebugString());
  CHECK(t->market().venue() == "aster");
  CHECK(t->market().symbol() == "BTC");
  CHECK(Norm(t->price()) == Norm(ob.asks(0).price()));
  CHECK(Norm(t->size()) == Norm(r.size()));
  CHECK(t->taker_side() == v1::SIDE_BUY);
}

// perpgwd kill -9 and restart with orders.journal_dir (the rig's): the events it journaled but
// never got into JetStream (the server was stalled) and the ones after the restart continue
// the stream, each once, in sequence, the same as a gRPC resumption from sequence 1 on the
// restarted gateway. Without book snapshots (interval 0) only <prefix>_ORDERS is created, and the
// log says so.
TEST_CASE("NATS: order events continue the JetStream stream across a perpgwd restart", "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  VenueRig rig(AsterRig(nats.url(), 0, true, /*snapshot_ms=*/0));
  REQUIRE(rig.error() == "");
  const std::string subject = "perpgw.account." + rig.account() + ".orders";
  auto stored = [&] { return StoredOrderEvents(nats.url(), subject); };
  {
    RestingBids bids(rig, "nats-rs1-");
    for (int i = 0; i < 2; ++i) bids.Place();
    REQUIRE(WaitUntil([&] { return stored().size() >= 2; }, Millis(20000), Millis(100)));
    const std::string log = rig.gateway().ReadLog();
    CHECK(log.find("JetStream stream(s) IT_ORDERS ready") != std::string::npos);
    CHECK(log.find("IT_BOOKS") == std::string::npos);
    // Stalled: these are journaled by perpgwd and (at most partly) in JetStream.
    nats.Signal(SIGSTOP);
    Continue cont{nats};
    for (int i = 0; i < 3; ++i) bids.Place();
    REQUIRE(rig.KillAndRestartGateway() == "");
  }
  const auto first = stored();
  REQUIRE(!first.empty());
  const uint64_t epoch1 = first[0].epoch();
  {
    RestingBids bids(rig, "nats-rs2-");  // waits for the restarted gateway's live book
    for (int i = 0; i < 2; ++i) bids.Place();
  }
  OrderEvents replay(rig, 1, epoch1);
  auto keys = [](const std::vector<v1::OrderEvent>& v) {
    std::string out;
    for (const auto& e : v) out += Key(e) + " ";
    return out;
  };
  std::string g, s;
  const bool same = WaitUntil(
      [&] {
        g = keys(replay.Get());
        s = keys(stored());
        return replay.Get().size() >= 7 && g == s;
      },
      Millis(30000), Millis(200));
  INFO("gRPC from 1: " << g);
  INFO("JetStream:   " << s);
  CHECK(same);
  const auto all = stored();
  std::set<uint64_t> epochs;
  for (size_t i = 0; i < all.size(); ++i) {
    INFO("event " << i);
    CHECK(all[i].sequence() == i + 1);  // one sequence across both processes: no gap, no repeat
    epochs.insert(all[i].epoch());
  }
  CHECK(epochs.size() == 2);  // the restart shows as a new epoch
  size_t after = 0;
  for (const auto& e : all) after += e.order().client_order_id().rfind("nats-rs2-", 0) == 0;
  CHECK(after >= 2);
  auto mport = MetricsPort(rig);
  REQUIRE(mport);
  CHECK(WaitUntil([&] { return Metric(*mport, "perpgw_nats_order_events_lost_total") == 0; },
                  Millis(3000), Millis(200)));
}

// publish.nats.max_age_s / max_bytes / replicas as JetStream stores them, for a stream perpgwd
// creates (IT_BOOKS) and one that existed with other limits (IT_ORDERS: updated).
TEST_CASE("NATS: stream limits and replicas of the config are the streams' own", "[nats]") {
  TempDir dir("perpgw-nats");
  NatsServer nats(dir);
  REQUIRE(nats.Start() == "");
  {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    REQUIRE(natsConnection_ConnectTo(&nc, nats.url().c_str()) == NATS_OK);
    REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = "IT_ORDERS";
    const char* subjects[] = {"perpgw.account.*.orders"};
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.MaxAge = 7200LL * 1000000000;
    sc.MaxBytes = 8LL << 20;
    jsStreamInfo* si = nullptr;
    CHECK(js_AddStream(&si, js, &sc, nullptr, nullptr) == NATS_OK);
    if (si) jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
  }
  VenueRig rig(
      AsterRig(nats.url(), 1, true, 300, "    max_age_s: 3600\n    max_bytes: 67108864\n"));
  REQUIRE(rig.error() == "");
  REQUIRE(WaitUntil(
      [&] {
        return rig.gateway().ReadLog().find("stream(s) IT_ORDERS, IT_BOOKS ready") !=
               std::string::npos;
      },
      Millis(15000), Millis(100)));
  for (const char* name : {"IT_ORDERS", "IT_BOOKS"}) {
    INFO("stream " << name);
    const StreamLimits l = ReadStreamLimits(nats.url(), name);
    REQUIRE(l.error == "");
    CHECK(l.max_age_ns == 3600LL * 1000000000);
    CHECK(l.max_bytes == 67108864);
    CHECK(l.replicas == 1);
    CHECK(l.max_msgs_per_subject == (std::string(name) == "IT_BOOKS" ? 1 : -1));
  }
}

}  // namespace perpgw::testing

namespace perpgw::testing {
namespace {

// publish.nats over TLS to a nats-server that requires TLS, verifies client certificates
// (a throwaway CA) and a user + password: the gateway connects and JetStream acknowledges its
// order events; a wrong password, a missing client certificate or a server certificate from
// another CA leave it unconnected with the reason in its log, and no secret is ever logged.
TEST_CASE("NATS: TLS with a client certificate and a password; refusals are logged, secrets not",
          "[nats]") {
  Certs certs;
  TempDir dir("perpgw-nats-tls");
  NatsServer nats(dir, {"--tls", "--tlscert", certs.dir.File("server.pem"), "--tlskey",
                        certs.dir.File("server.key"), "--tlsverify", "--tlscacert",
                        certs.dir.File("ca.pem"), "--user", "desk", "--pass", "nats-it-pw-1"});
  REQUIRE(nats.Start() == "");
  const std::string url = "tls://" + nats.url().substr(std::string("nats://").size());
  ::setenv("PERPGW_IT_NATS_PW", "nats-it-pw-1", 1);
  ::setenv("PERPGW_IT_NATS_BAD_PW", "nats-it-wrong-2", 1);
  auto security = [&](const std::string& ca, bool client_cert, const char* pw_env) {
    std::string tls = "    tls: {ca_file: " + certs.dir.File(ca + ".pem") + ", server_name: localhost";
    if (client_cert) {
      tls += ", cert_file: " + certs.dir.File("client.pem") +
             ", key_file: " + certs.dir.File("client.key");
    }
    return tls + "}\n    user: desk\n    password: {env: " + pw_env + "}\n";
  };
  auto no_secret = [&](const std::string& log) {
    CHECK(log.find("nats-it-pw-1") == std::string::npos);
    CHECK(log.find("nats-it-wrong-2") == std::string::npos);
    CHECK(log.find("PRIVATE KEY") == std::string::npos);
  };
  {
    VenueRig rig(AsterRig(url, 0, true, 300, security("ca", true, "PERPGW_IT_NATS_PW")));
    REQUIRE(rig.error() == "");
    std::optional<int> mport;
    REQUIRE(WaitUntil([&] { return (mport = MetricsPort(rig)).has_value(); }, Millis(10000)));
    REQUIRE(WaitUntil([&] { return Metric(*mport, "perpgw_nats_connected") == 1; }, Millis(20000),
                      Millis(100)));
    // The consumers connect the same way (natsbook with the shared NatsSecurity): the book
    // from the TLS server, and the order event read back from JetStream.
    natsbook::NatsSecurity sec;
    sec.tls = true;
    sec.ca_file = certs.dir.File("ca.pem");
    sec.server_name = "localhost";
    sec.cert_file = certs.dir.File("client.pem");
    sec.key_file = certs.dir.File("client.key");
    sec.user = "desk";
    sec.password = "nats-it-pw-1";
    NatsBookFollower f(url, "aster", "BTC", "IT", sec);
    REQUIRE(f.error() == "");
    CHECK(WaitUntil([&] { return f.Get().live; }, Millis(20000), Millis(100)));
    RestingBids bids(rig, "nats-tls-");
    bids.Place();
    CHECK(WaitUntil([&] { return Metric(*mport, "perpgw_nats_order_events_acked_total") >= 1; },
                    Millis(20000), Millis(100)));
    std::string err;
    const auto stored = natsbook::ReadStream(url, "IT_ORDERS",
                                             "perpgw.account." + rig.account() + ".orders", &err, sec);
    INFO(err);
    CHECK(!stored.empty());
    // Without the password the consumer is refused, and says why.
    natsbook::NatsSecurity no_pw = sec;
    no_pw.password = "nats-it-wrong-2";
    NatsBookFollower refused(url, "aster", "BTC", "IT", no_pw);
    CHECK(refused.error().find("Authorization Violation") != std::string::npos);
    CHECK(refused.error().find("nats-it-wrong-2") == std::string::npos);
    const std::string log = rig.gateway().ReadLog();
    INFO(log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    CHECK(log.find("tls, server name localhost, client certificate " +
                   certs.dir.File("client.pem") + ", user desk") != std::string::npos);
    no_secret(log);
  }
  // Each refusal and the reason its log line gives (libnats' words; the server drops a client
  // without a certificate after the TLS 1.3 handshake, so that one reads as a protocol error).
  struct Refused {
    const char* what;
    std::string security, says;
  };
  const Refused refused[] = {
      {"a wrong password", security("ca", true, "PERPGW_IT_NATS_BAD_PW"),
       "Authorization Violation"},
      {"no client certificate", security("ca", false, "PERPGW_IT_NATS_PW"), "Error"},
      {"a server certificate from another CA", security("rogue-ca", true, "PERPGW_IT_NATS_PW"),
       "SSL handshake error"},
  };
  for (const auto& r : refused) {
    INFO(r.what);
    VenueRig rig(AsterRig(url, 0, true, 300, r.security));
    REQUIRE(rig.error() == "");  // the gateway serves; NATS is retried in the background
    std::optional<int> mport;
    REQUIRE(WaitUntil([&] { return (mport = MetricsPort(rig)).has_value(); }, Millis(10000)));
    // The reason is logged while it keeps retrying.
    std::string log;
    CHECK(WaitUntil(
        [&] {
          log = rig.gateway().ReadLog();
          return log.find("nats: not connected") != std::string::npos;
        },
        Millis(20000), Millis(100)));
    INFO(log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    const size_t at = log.find("nats: not connected");
    const std::string line = at == std::string::npos ? "" : log.substr(at, log.find('\n', at) - at);
    INFO(line);
    CHECK(line.find(r.says) != std::string::npos);
    CHECK(Metric(*mport, "perpgw_nats_connected") == 0);
    no_secret(log);
  }
  ::unsetenv("PERPGW_IT_NATS_PW");
  ::unsetenv("PERPGW_IT_NATS_BAD_PW");
}

}  // namespace
}  // namespace perpgw::testing
