// perpgw-nats-book: rebuilds one market's book from perpgwd's NATS subjects (publish.nats) and
// prints its state as one JSON line a second.
//   perpgw-nats-book --url nats://127.0.0.1:4222 --venue aster --symbol BTC
//     (--url may list a cluster's seeds: nats://a:4222,nats://b:4222, as publish.nats.url)
//                    [--stream-prefix PERPGW] [--seconds N] [--depth N]
//   perpgw-nats-book --grpc 127.0.0.1:50051 --venue aster --symbol BTC ...
//     (the same book and latency from StreamOrderBooks: the gRPC path, for comparison)
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "bench/nats_book.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

int Usage() {
  std::cerr << "usage: perpgw-nats-book (--url nats://HOST:PORT[,nats://HOST:PORT...] | --grpc "
               "HOST:PORT) --venue V "
               "--symbol S "
               "[--stream-prefix PERPGW] [--seconds N] [--depth N]\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  std::string url, grpc_addr, venue, symbol, prefix = "PERPGW";
  int seconds = 0, depth = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    if (a == "--url")
      url = v;
    else if (a == "--grpc")
      grpc_addr = v;
    else if (a == "--venue")
      venue = v;
    else if (a == "--symbol")
      symbol = v;
    else if (a == "--stream-prefix")
      prefix = v;
    else if (a == "--seconds")
      seconds = std::atoi(v.c_str());
    else if (a == "--depth")
      depth = std::atoi(v.c_str());
    else
      return Usage();
  }
  if (url.empty() == grpc_addr.empty() || venue.empty() || symbol.empty()) return Usage();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::unique_ptr<perpgw::natsbook::NatsBookFollower> nats;
  std::unique_ptr<perpgw::natsbook::GrpcBookFollower> grpc;
  if (!url.empty()) {
    nats = std::make_unique<perpgw::natsbook::NatsBookFollower>(url, venue, symbol, prefix);
    if (!nats->error().empty()) {
      std::cerr << "perpgw-nats-book: " << nats->error() << "\n";
      return 1;
    }
  } else {
    grpc = std::make_unique<perpgw::natsbook::GrpcBookFollower>(grpc_addr, venue, symbol);
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop && (seconds == 0 || std::chrono::steady_clock::now() < end)) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto v = nats ? nats->Get() : grpc->Get();
    std::string bids, asks;
    int n = 0;
    for (auto it = v.bids.rbegin(); it != v.bids.rend() && n < depth; ++it, ++n) {
      bids += (n ? ",[\"" : "[\"") + it->first + "\",\"" + it->second + "\"]";
    }
    n = 0;
    for (auto it = v.asks.begin(); it != v.asks.end() && n < depth; ++it, ++n) {
      asks += (n ? ",[\"" : "[\"") + it->first + "\",\"" + it->second + "\"]";
    }
    std::printf(
        "{\"synced\":%s,\"live\":%s,\"sequence\":%llu,\"messages\":%llu,\"snapshots\":%llu,"
        "\"periodic_snapshots_used\":%llu,\"resyncs\":%llu,\"gaps\":%llu,\"waits\":%llu,\"bid_"
        "levels\":%zu,"
        "\"ask_levels\":%zu,\"latency_p50_us\":%lld,\"latency_p99_us\":%lld,\"bids\":[%s],"
        "\"asks\":[%s]}\n",
        v.synced ? "true" : "false", v.live ? "true" : "false",
        static_cast<unsigned long long>(v.sequence), static_cast<unsigned long long>(v.messages),
        static_cast<unsigned long long>(v.snapshots),
        static_cast<unsigned long long>(v.periodic_used),
        static_cast<unsigned long long>(v.resyncs), static_cast<unsigned long long>(v.gaps),
        static_cast<unsigned long long>(v.waits), v.bids.size(), v.asks.size(),
        static_cast<long long>(v.latency_p50_us), static_cast<long long>(v.latency_p99_us),
        bids.c_str(), asks.c_str());
    std::fflush(stdout);
  }
  return 0;
}
