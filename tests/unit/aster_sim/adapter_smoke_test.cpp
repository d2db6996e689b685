// The gateway's Aster adapter (unchanged, only base URLs differ) against perpgw-sim's Aster
// module over loopback: instruments, a live diff-depth book equal to the sim's ground truth, and
// V1 + V3 order entry (accept, post-only reject, cancel) with user-stream order events.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "adapters/api/order_book.h"
#include "adapters/aster/adapter.h"
#include "sim/aster/module.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"

namespace perpgw::sim::aster {
namespace {

using namespace std::chrono_literals;

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 10000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class Collector final : public EventSink {
 public:
  void Publish(EventPtr e) override {
    std::lock_guard lock(mu_);
    if (const auto* b = std::get_if<BookUpdate>(e.get()); b && b->symbol == "BTC") {
      price_scale_ = b->price_scale;
      size_scale_ = b->size_scale;
      if (b->snapshot) {
        book_.ReplaceAll(b->bids, b->asks);
        live_ = b->status == BookStatus::kLive;
      } else {
        for (const Level& l : b->bids) book_.Apply(BookSide::kBid, l);
        for (const Level& l : b->asks) book_.Apply(BookSide::kAsk, l);
      }
      if (b->status == BookStatus::kLive) seq_ = b->venue_seq;
      ++book_events_;
    }
    if (const auto* o = std::get_if<OrderEvent>(e.get())) orders_.push_back(*o);
  }
  bool live() {
    std::lock_guard lock(mu_);
    return live_;
  }
  uint64_t seq() {
    std::lock_guard lock(mu_);
    return seq_;
  }
  // The adapter's book at the sim's scales (BTC: price 1, size 3 decimals).
  std::vector<Level> Levels(bool bids) {
    std::lock_guard lock(mu_);
    std::vector<Level> out = bids ? book_.Bids() : book_.Asks();
    auto down = [](int64_t v, int from, int to) {
      for (int k = to; k < from; ++k) v /= 10;
      return v;
    };
    for (auto& l : out) {
      l.price = down(l.price, price_scale_, 1);
      l.size = down(l.size, size_scale_, 3);
    }
    return out;
  }
  bool SawOrder(const std::string& cid, OrderStatus status) {
    std::lock_guard lock(mu_);
    for (const auto& o : orders_) {
      if (o.order.client_order_id == cid && o.order.status == status) return true;
    }
    return false;
  }

 private:
  std::mutex mu_;
  OrderBook book_{1, 3};
  bool live_ = false;
  uint64_t seq_ = 0;
  int price_scale_ = 1, size_scale_ = 3;
  size_t book_events_ = 0;
  std::vector<OrderEvent> orders_;
};

template <class T>
absl::StatusOr<T> Await(std::function<void(Callback<T>)> call) {
  auto p = std::make_shared<std::promise<absl::StatusOr<T>>>();
  auto f = p->get_future();
  call([p](absl::StatusOr<T> r) { p->set_value(std::move(r)); });
  if (f.wait_for(10s) != std::future_status::ready) return absl::DeadlineExceededError("timeout");
  return f.get();
}

}  // namespace

TEST_CASE("aster sim: the gateway's Aster adapter runs against the module", "[aster_sim]") {
  SimConfig c;
  c.seed = 3;
  c.rate = 0;
  c.depth = 20;
  c.funding_timer = false;
  Server server(c);
  REQUIRE(server.AddVenue(MakeModule(), VenueConfig{}).ok());
  REQUIRE(server.Start().ok());
  std::thread loop([&] { server.Run(); });
  int port = 0;
  server.Sync([&] { port = server.venue("aster")->port(); });
  auto step = [&](int n) {
    server.Sync([&] {
      for (int k = 0; k < n; ++k) server.venue("aster")->market().StepSymbol(0);
    });
  };

  perpgw::VenueConfig vc;
  vc.name = "aster";
  vc.rest_url = "http://127.0.0.1:" + std::to_string(port);
  vc.ws_url = "ws://127.0.0.1:" + std::to_string(port);
  vc.tls_verify = false;
  vc.symbols = {"BTC"};
  vc.options["chain_id"] = std::to_string(kChainId);
  const auto accounts = AsterModule().DefaultAccounts();
  for (const auto& a : accounts) {
    AccountConfig ac;
    ac.id = a.id;
    ac.venue = "aster";
    for (const auto& [k, v] : a.credentials) {
      if (k == "api_key" || k == "api_secret" || k == "private_key") ac.credentials.emplace(k, Secret(v));
      else ac.options[k] = v;  // auth_scheme, user, signer
    }
    vc.accounts.push_back(ac);
  }
  Collector sink;
  auto adapter = adapters::aster::MakeAdapter(vc, SystemClock::Instance());
  adapter->Start(&sink);
  REQUIRE(Eventually([&] { return adapter->InstrumentsReady(); }));
  adapter->Subscribe({MarketSubscription{"BTC"}});

  // Stream updates until the adapter's book is live, then a few thousand more.
  REQUIRE(Eventually([&] {
    step(20);
    return sink.live();
  }));
  for (int round = 0; round < 40; ++round) {
    step(50);
    std::this_thread::sleep_for(10ms);
  }
  uint64_t final_id = 0;
  OrderBook truth;
  server.Sync([&] {
    final_id = server.venue("aster")->market().update_id(0);
    truth = server.venue("aster")->market().book(0);
  });
  REQUIRE(Eventually([&] { return sink.seq() == final_id; }));
  CHECK(sink.live());
  auto same = [](const std::vector<Level>& a, const std::vector<Level>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].price != b[i].price || a[i].size != b[i].size) return false;
    }
    return true;
  };
  auto dump = [](const char* what, const std::vector<Level>& v) {
    std::string s = what;
    for (const auto& l : v) s += " " + std::to_string(l.price) + ":" + std::to_string(l.size);
    return s;
  };
  INFO(dump("got bids", sink.Levels(true)));
  INFO(dump("truth bids", truth.Bids()));
  INFO(dump("got asks", sink.Levels(false)));
  INFO(dump("truth asks", truth.Asks()));
  CHECK(same(sink.Levels(true), truth.Bids()));
  CHECK(same(sink.Levels(false), truth.Asks()));

  for (const char* account : {kV1Account, kV3Account, kV3MainAccount}) {
    INFO(account);
    const Decimal bid = Decimal::FromUnits(truth.BestBid()->price - 20, 1);
    const Decimal ask = Decimal::FromUnits(truth.BestAsk()->price, 1);
    const std::string cid = std::string("smoke-") + account;
    OrderRequest req;
    req.account = account;
    req.symbol = "BTC";
    req.client_order_id = cid;
    req.price = bid;
    req.size = Decimal::FromUnits(2, 3);
    auto ack = Await<OrderAck>([&](Callback<OrderAck> cb) { adapter->PlaceOrder(req, cb); });
    REQUIRE(ack.ok());
    CHECK(ack->outcome == AckOutcome::kAccepted);
    CHECK(ack->order.status == OrderStatus::kOpen);
    CHECK(Eventually([&] { return sink.SawOrder(cid, OrderStatus::kOpen); }));

    OrderRequest po = req;
    po.client_order_id = cid + "-po";
    po.tif = TimeInForce::kPostOnly;
    po.price = ask;
    auto rej = Await<OrderAck>([&](Callback<OrderAck> cb) { adapter->PlaceOrder(po, cb); });
    REQUIRE(rej.ok());
    CHECK(rej->outcome == AckOutcome::kRejected);
    CHECK(rej->reason == CancelReason::kPostOnlyViolation);

    perpgw::CancelRequest cr;
    cr.account = account;
    cr.symbol = "BTC";
    cr.client_order_id = cid;
    auto canceled = Await<perpgw::CancelResult>([&](Callback<perpgw::CancelResult> cb) { adapter->CancelOrder(cr, cb); });
    REQUIRE(canceled.ok());
    CHECK(canceled->order.status == OrderStatus::kCanceled);
    CHECK(Eventually([&] { return sink.SawOrder(cid, OrderStatus::kCanceled); }));

    auto bal = Await<Balance>([&](Callback<Balance> cb) { adapter->GetBalance(account, cb); });
    REQUIRE(bal.ok());
    CHECK(bal->asset == "USDT");
    auto pos = Await<std::vector<Position>>(
        [&](Callback<std::vector<Position>> cb) { adapter->GetPositions(account, cb); });
    CHECK(pos.ok());
  }
  adapter->Stop();
  server.Stop();
  loop.join();
}

}  // namespace perpgw::sim::aster
