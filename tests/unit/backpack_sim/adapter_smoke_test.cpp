// The gateway's Backpack adapter (unchanged, only base URLs differ) against perpgw-sim's Backpack
// module over loopback: instruments, a live depth book equal to the sim's ground truth, order
// entry (accept, post-only reject, cancel, query) with account.orderUpdate events, and the
// account reads (balance, positions, fills, leverage).
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "adapters/api/order_book.h"
#include "adapters/backpack/adapter.h"
#include "sim/backpack/module.h"
#include "sim/core/server.h"
#include "sim/core/venue.h"

namespace perpgw::sim::backpack {
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

// Collects the adapter's BTC book (as exact decimals) and order events.
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
  // "price:size" per level, exact decimals (scales differ between adapter and sim).
  std::vector<std::string> Levels(bool bids) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : bids ? book_.Bids() : book_.Asks()) {
      out.push_back(Decimal::FromUnits(l.price, price_scale_).ToNormalizedString() + ":" +
                    Decimal::FromUnits(l.size, size_scale_).ToNormalizedString());
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
  OrderBook book_;
  bool live_ = false;
  uint64_t seq_ = 0;
  int price_scale_ = 0, size_scale_ = 0;
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

TEST_CASE("backpack sim: the gateway's Backpack adapter runs against the module",
          "[backpack_sim]") {
  SimConfig c;
  c.seed = 5;
  c.rate = 0;
  c.depth = 20;
  c.funding_timer = false;
  Server server(c);
  REQUIRE(server.AddVenue(MakeModule(), VenueConfig{}).ok());
  REQUIRE(server.Start().ok());
  std::thread loop([&] { server.Run(); });
  int port = 0;
  server.Sync([&] { port = server.venue("backpack")->port(); });
  auto step = [&](int n) {
    server.Sync([&] {
      for (int k = 0; k < n; ++k) server.venue("backpack")->market().StepSymbol(0);
    });
  };

  perpgw::VenueConfig vc;
  vc.name = "backpack";
  vc.rest_url = "http://127.0.0.1:" + std::to_string(port);
  vc.ws_url = "ws://127.0.0.1:" + std::to_string(port);
  vc.tls_verify = false;
  vc.symbols = {"BTC"};
  for (const auto& a : BackpackModule().DefaultAccounts()) {
    AccountConfig ac;
    ac.id = a.id;
    ac.venue = "backpack";
    for (const auto& [k, v] : a.credentials) ac.credentials.emplace(k, Secret(v));
    vc.accounts.push_back(ac);
  }
  Collector sink;
  auto adapter = adapters::backpack::MakeAdapter(vc, SystemClock::Instance());
  adapter->Start(&sink);
  REQUIRE(Eventually([&] { return adapter->InstrumentsReady(); }));
  CHECK(adapter->Instruments().size() == 4);
  adapter->Subscribe({MarketSubscription{"BTC"}});

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
  int ps = 0, ss = 0;
  server.Sync([&] {
    const Market& m = server.venue("backpack")->market();
    final_id = m.update_id(0);
    truth = m.book(0);
    ps = m.instrument(0).price_scale;
    ss = m.instrument(0).size_scale;
  });
  REQUIRE(Eventually([&] { return sink.seq() == final_id; }));
  CHECK(sink.live());
  auto levels = [&](const std::vector<Level>& v) {
    std::vector<std::string> out;
    for (const auto& l : v) {
      out.push_back(Decimal::FromUnits(l.price, ps).ToNormalizedString() + ":" +
                    Decimal::FromUnits(l.size, ss).ToNormalizedString());
    }
    return out;
  };
  CHECK(sink.Levels(true) == levels(truth.Bids()));
  CHECK(sink.Levels(false) == levels(truth.Asks()));

  for (const char* account : {kAccount1, kAccount2}) {
    INFO(account);
    const Decimal bid = Decimal::FromUnits(truth.BestBid()->price - 20, ps);
    const Decimal ask = Decimal::FromUnits(truth.BestAsk()->price, ps);
    const std::string cid = std::string("smoke-") + account;
    OrderRequest req;
    req.account = account;
    req.symbol = "BTC";
    req.client_order_id = cid;
    req.price = bid;
    req.size = Decimal::FromUnits(200, 5);  // 0.002 BTC
    auto ack = Await<OrderAck>([&](Callback<OrderAck> cb) { adapter->PlaceOrder(req, cb); });
    REQUIRE(ack.ok());
    CHECK(ack->outcome == AckOutcome::kAccepted);
    CHECK(ack->order.status == OrderStatus::kOpen);
    CHECK(Eventually([&] { return sink.SawOrder(cid, OrderStatus::kOpen); }));

    perpgw::CancelRequest ref;
    ref.account = account;
    ref.symbol = "BTC";
    ref.client_order_id = cid;
    auto got = Await<Order>([&](Callback<Order> cb) { adapter->GetOrder(ref, false, cb); });
    REQUIRE(got.ok());
    CHECK(got->order_id == ack->order.order_id);

    OrderRequest po = req;
    po.client_order_id = cid + "-po";
    po.tif = TimeInForce::kPostOnly;
    po.price = ask;
    auto rej = Await<OrderAck>([&](Callback<OrderAck> cb) { adapter->PlaceOrder(po, cb); });
    REQUIRE(rej.ok());
    CHECK(rej->outcome == AckOutcome::kRejected);
    CHECK(rej->reason == CancelReason::kPostOnlyViolation);

    auto canceled = Await<perpgw::CancelResult>(
        [&](Callback<perpgw::CancelResult> cb) { adapter->CancelOrder(ref, cb); });
    REQUIRE(canceled.ok());
    CHECK(canceled->order.status == OrderStatus::kCanceled);
    CHECK(Eventually([&] { return sink.SawOrder(cid, OrderStatus::kCanceled); }));
    // Not resting any more: the adapter resolves it from the order history.
    auto after = Await<Order>([&](Callback<Order> cb) { adapter->GetOrder(ref, false, cb); });
    REQUIRE(after.ok());
    CHECK(after->status == OrderStatus::kCanceled);

    auto bal = Await<Balance>([&](Callback<Balance> cb) { adapter->GetBalance(account, cb); });
    REQUIRE(bal.ok());
    CHECK(bal->equity.IsPositive());
    auto pos = Await<std::vector<Position>>(
        [&](Callback<std::vector<Position>> cb) { adapter->GetPositions(account, cb); });
    CHECK(pos.ok());
    FillQuery fq;
    fq.account = account;
    auto fills = Await<std::vector<Fill>>(
        [&](Callback<std::vector<Fill>> cb) { adapter->ListFills(fq, cb); });
    CHECK(fills.ok());
    auto lev = Await<LeverageInfo>(
        [&](Callback<LeverageInfo> cb) { adapter->GetLeverageInfo(account, "BTC", cb); });
    REQUIRE(lev.ok());
    CHECK(lev->max_leverage == Decimal::FromInt(10));  // min(leverageLimit 10, 1/imf 75)
  }
  adapter->Stop();
  server.Stop();
  loop.join();
}

}  // namespace perpgw::sim::backpack
