// bench_grpc_floor: what one gRPC 1.51 server-streaming message costs on this machine with
// nothing of perpgwd in it (issue 17: the floor under the peers bench's "CPU per update").
//
// server: a MarketDataService whose StreamOrderBooks writes, from one producer thread woken
//         every 1 ms (the sim's tick; rate/1000 messages per tick, or one message every
//         1/rate below 1k/s), the same OrderBookUpdate (--bytes of levels) to every open
//         stream through the callback API (ServerWriteReactor: one write in flight; messages
//         offered meanwhile are queued and each goes out from OnWriteDone: every update is
//         its own message), the shape perpgwd's fan-out has. No venue, no codec, no book:
//         the producer's wake per tick stands for the venue thread's wake per burst.
// client: one blocking ClientReader::Read loop that only counts, like bench_peers_client
//         without the book.
//
// --mode cq instead: the completion-queue API, one thread both producer and only poller.
//
// Usage: bench_grpc_floor server --rate R [--bytes N] [--mode callback|cq]   prints {"port":P} on
// stdout
//        bench_grpc_floor client --target 127.0.0.1:P    prints {"msgs":N} on stdin EOF
// bench/grpc_floor.py runs both and reads their /proc CPU over a window. (bench_e2e's "gRPC
// floor" measures the latency of a similar server; this one measures CPU per message and
// compares server APIs.)
#include <grpcpp/grpcpp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "perpgw/v1/gateway.grpc.pb.h"
#include "perpgw/v1/market_data.grpc.pb.h"

namespace v1 = perpgw::v1;

namespace {

class FloorService;

// One stream: at most one write in flight; a message that arrives meanwhile goes out next.
class Writer final : public grpc::ServerWriteReactor<v1::OrderBookUpdate> {
 public:
  Writer(FloorService* svc, const v1::OrderBookUpdate* msg) : svc_(svc), msg_(msg) {}
  void Offer() {
    std::lock_guard lock(mu_);
    if (done_) return;
    if (in_flight_) {
      ++pending_;
      return;
    }
    in_flight_ = true;
    StartWrite(msg_);
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    in_flight_ = false;
    if (!ok || done_) return;
    if (pending_ > 0) {
      --pending_;
      in_flight_ = true;
      StartWrite(msg_);
    }
  }
  void OnCancel() override;
  void OnDone() override;

 private:
  FloorService* svc_;
  const v1::OrderBookUpdate* msg_;
  std::mutex mu_;
  bool in_flight_ = false, done_ = false;
  long pending_ = 0;  // every offered message is written, in order
};

class FloorService final : public v1::MarketDataService::CallbackService {
 public:
  explicit FloorService(const v1::OrderBookUpdate* msg) : msg_(msg) {}
  grpc::ServerWriteReactor<v1::OrderBookUpdate>* StreamOrderBooks(
      grpc::CallbackServerContext*, const v1::StreamOrderBooksRequest*) override {
    auto* w = new Writer(this, msg_);
    std::lock_guard lock(mu_);
    writers_.insert(w);
    return w;
  }
  void Tick(long n) {
    std::lock_guard lock(mu_);
    for (Writer* w : writers_)
      for (long i = 0; i < n; ++i) w->Offer();
  }
  void Cancelled(Writer* w) {
    std::lock_guard lock(mu_);
    writers_.erase(w);
  }

 private:
  const v1::OrderBookUpdate* msg_;
  std::mutex mu_;
  std::set<Writer*> writers_;
};

void Writer::OnCancel() {
  svc_->Cancelled(this);
  std::lock_guard lock(mu_);
  done_ = true;
  Finish(grpc::Status::CANCELLED);
}
void Writer::OnDone() {
  delete this;
}

// --mode cq: the completion-queue API with ONE thread that is both the producer and gRPC's
// only poller (AsyncNext with the next tick as deadline): the best case for a gRPC server, no
// hand-off between threads at all. One stream served (the bench opens one).
// with_callback: a callback service is registered too (as in perpgwd, whose unary and other
// streams stay on the callback API), so gRPC's own callback threads poll as well.
class VersionService final : public v1::GatewayService::CallbackService {
  grpc::ServerUnaryReactor* GetVersion(grpc::CallbackServerContext* ctx,
                                       const v1::GetVersionRequest*,
                                       v1::GetVersionResponse*) override {
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

int ServeCq(grpc::ServerBuilder& b, const v1::OrderBookUpdate& msg, long rate,
            std::atomic<bool>& stop, bool with_callback) {
  v1::MarketDataService::AsyncService svc;
  b.RegisterService(&svc);
  VersionService version;
  if (with_callback) b.RegisterService(&version);
  auto cq = b.AddCompletionQueue();
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  auto server = b.BuildAndStart();
  if (!server || port == 0) return 1;
  std::printf("{\"port\":%d,\"bytes\":%zu}\n", port, msg.ByteSizeLong());
  std::fflush(stdout);
  grpc::ServerContext ctx;
  v1::StreamOrderBooksRequest req;
  grpc::ServerAsyncWriter<v1::OrderBookUpdate> writer(&ctx);
  void* const kAccept = reinterpret_cast<void*>(1);
  void* const kWrite = reinterpret_cast<void*>(2);
  svc.RequestStreamOrderBooks(&ctx, &req, &writer, cq.get(), cq.get(), kAccept);
  bool open = false, in_flight = false;
  long pending = 0;
  const long per_tick = std::max(1L, rate / 1000);
  const auto step = std::chrono::nanoseconds(1'000'000'000L * per_tick / rate);
  auto next = std::chrono::system_clock::now() + step;
  while (!stop.load(std::memory_order_relaxed)) {
    void* tag = nullptr;
    bool ok = false;
    const auto st = cq->AsyncNext(&tag, &ok, next);
    if (st == grpc::CompletionQueue::SHUTDOWN) break;
    if (st == grpc::CompletionQueue::GOT_EVENT) {
      if (tag == kAccept) {
        open = ok;
      } else if (tag == kWrite) {
        in_flight = false;
        if (!ok) open = false;
        if (open && pending > 0) {
          --pending;
          in_flight = true;
          writer.Write(msg, kWrite);
        }
      }
      continue;
    }
    next += step;  // TIMEOUT: the tick
    if (!open) continue;
    pending += per_tick;
    if (!in_flight) {
      --pending;
      in_flight = true;
      writer.Write(msg, kWrite);
    }
  }
  server->Shutdown(std::chrono::system_clock::now());
  cq->Shutdown();
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
  }
  return 0;
}

const char* Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return def;
}

int Server(int argc, char** argv) {
  const long rate = std::atol(Arg(argc, argv, "--rate", "1000"));
  const int bytes = std::atoi(Arg(argc, argv, "--bytes", "180"));
  if (rate <= 0 || bytes < 0) {
    std::fprintf(stderr, "bench_grpc_floor: --rate must be > 0, --bytes >= 0\n");
    return 2;
  }
  v1::OrderBookUpdate msg;
  msg.mutable_market()->set_venue("backpack");
  msg.mutable_market()->set_symbol("BTC");
  msg.set_sequence(1);
  while (static_cast<int>(msg.ByteSizeLong()) < bytes) {
    auto* l = msg.add_bids();
    l->set_price("100000.10");
    l->set_size("1.2345");
  }
  const std::string mode = Arg(argc, argv, "--mode", "callback");
  if (mode == "cq" || mode == "cq+callback") {
    grpc::ServerBuilder b;
    std::atomic<bool> stop{false};
    int rc = 0;
    std::thread loop([&] { rc = ServeCq(b, msg, rate, stop, mode == "cq+callback"); });
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    stop = true;
    loop.join();
    return rc;
  }
  FloorService svc(&msg);
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&svc);
  auto server = b.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "bench_grpc_floor: server did not start\n");
    return 1;
  }
  std::printf("{\"port\":%d,\"bytes\":%zu}\n", port, msg.ByteSizeLong());
  std::fflush(stdout);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long per_tick = std::max(1L, rate / 1000);
    const long step_ns = 1'000'000'000L * per_tick / rate;
    while (!stop.load(std::memory_order_relaxed)) {
      next.tv_nsec += step_ns;
      while (next.tv_nsec >= 1'000'000'000L) {
        next.tv_nsec -= 1'000'000'000L;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      svc.Tick(per_tick);
    }
  });
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  stop = true;
  producer.join();
  server->Shutdown(std::chrono::system_clock::now());
  return 0;
}

int Client(int argc, char** argv) {
  const std::string target = Arg(argc, argv, "--target", "");
  if (target.empty()) {
    std::fprintf(stderr, "bench_grpc_floor: client needs --target\n");
    return 2;
  }
  auto stub = v1::MarketDataService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  std::atomic<long> msgs{0};
  grpc::ClientContext ctx;
  std::thread reader([&] {
    v1::StreamOrderBooksRequest req;
    auto r = stub->StreamOrderBooks(&ctx, req);
    v1::OrderBookUpdate u;
    while (r->Read(&u)) msgs.fetch_add(1, std::memory_order_relaxed);
    r->Finish();
  });
  std::string line;
  while (std::getline(std::cin, line)) {
    std::printf("{\"msgs\":%ld}\n", msgs.load());
    std::fflush(stdout);
  }
  ctx.TryCancel();
  reader.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) return Server(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "client") == 0) return Client(argc, argv);
  std::fprintf(stderr,
               "usage: bench_grpc_floor server --rate R [--bytes N] | client --target H:P\n");
  return 2;
}
