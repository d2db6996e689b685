// perpgw-nats-book: rebuilds one market's book from perpgwd's NATS subjects (publish.nats) and
// prints its state as one JSON line a second.
//   perpgw-nats-book --url nats://127.0.0.1:4222 --venue aster --symbol BTC
//     (--url may list a cluster's seeds: nats://a:4222,nats://b:4222, as publish.nats.url)
//                    [--stream-prefix PERPGW] [--seconds N] [--depth N]
//   perpgw-nats-book --grpc 127.0.0.1:50051 --venue aster --symbol BTC ...
//     (the same book and latency from StreamOrderBooks: the gRPC path, for comparison)
//   perpgw-nats-book --url ... [--venue aster --symbol BTC] --orders ACCOUNT [--durable NAME]
//     (also, or only, the account's order events from JetStream <prefix>_ORDERS through a pull
//     consumer, each acknowledged: one {"order_event":...} line per event as it arrives, an
//     {"order_gap":...} line when a sequence is missing within an epoch; with --durable a
//     restarted process resumes after the last event it acknowledged. A strategy's input side:
//     books and its own orders from NATS, nothing from the gateway itself.)
//   TLS and login, as publish.nats: [--tls-ca FILE [--tls-server-name NAME] [--tls-cert FILE
//     --tls-key FILE]] (TLS is on with --tls-ca; a tls:// URL needs it; the name defaults to
//     the servers' common host, unless an IP address) and one of --creds FILE, --user NAME --password-env VAR,
//     --token-env VAR (secrets from the environment only).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "bench/nats_book.h"
#include "gateway/publish/nats_url.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

int Usage() {
  std::cerr << "usage: perpgw-nats-book (--url nats://HOST:PORT[,nats://HOST:PORT...] | --grpc "
               "HOST:PORT) [--venue V --symbol S] [--orders ACCOUNT [--durable NAME]] "
               "[--stream-prefix PERPGW] [--seconds N] [--depth N] [--tls-ca FILE "
               "[--tls-server-name NAME] [--tls-cert FILE --tls-key FILE]] [--creds FILE | "
               "--user NAME --password-env VAR | --token-env VAR]\n"
               "  (--orders needs --url; at least one of --symbol and --orders)\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  std::string url, grpc_addr, venue, symbol, orders, durable, prefix = "PERPGW";
  std::string password_env, token_env;
  perpgw::natsbook::NatsSecurity sec;
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
    else if (a == "--orders")
      orders = v;
    else if (a == "--durable")
      durable = v;
    else if (a == "--stream-prefix")
      prefix = v;
    else if (a == "--seconds")
      seconds = std::atoi(v.c_str());
    else if (a == "--depth")
      depth = std::atoi(v.c_str());
    else if (a == "--tls-ca")
      sec.ca_file = v;
    else if (a == "--tls-server-name")
      sec.server_name = v;
    else if (a == "--tls-cert")
      sec.cert_file = v;
    else if (a == "--tls-key")
      sec.key_file = v;
    else if (a == "--creds")
      sec.creds_file = v;
    else if (a == "--user")
      sec.user = v;
    else if (a == "--password-env")
      password_env = v;
    else if (a == "--token-env")
      token_env = v;
    else
      return Usage();
  }
  // TLS and login (the secrets only from the environment: never on a command line).
  // The same rules as publish.nats (gateway/publish/nats_url.h).
  sec.tls = !sec.ca_file.empty();
  const auto servers = perpgw::gateway::publish::SplitNatsServers(url);
  if (!url.empty() && perpgw::gateway::publish::AnyTlsServer(servers) && !sec.tls) {
    std::cerr << "perpgw-nats-book: a tls:// server needs --tls-ca\n";
    return 2;
  }
  if (sec.tls && sec.server_name.empty() && !url.empty()) {
    std::string why;
    sec.server_name = perpgw::gateway::publish::DefaultNatsServerName(servers, &why);
    if (!why.empty()) {
      std::cerr << "perpgw-nats-book: --tls-server-name " << why << "\n";
      return 2;
    }
  }
  if (sec.cert_file.empty() != sec.key_file.empty() || sec.user.empty() != password_env.empty() ||
      (!sec.creds_file.empty()) + (!sec.user.empty()) + (!token_env.empty()) > 1) {
    return Usage();
  }
  for (auto [var, out] : {std::pair{&password_env, &sec.password}, {&token_env, &sec.token}}) {
    if (var->empty()) continue;
    const char* v = std::getenv(var->c_str());
    if (!v || !*v) {
      std::cerr << "perpgw-nats-book: environment variable " << *var << " is not set\n";
      return 2;
    }
    *out = v;
  }
  const bool book = !symbol.empty();
  if (url.empty() == grpc_addr.empty() || (book && venue.empty()) || (!book && orders.empty()) ||
      (!orders.empty() && url.empty()) || (!durable.empty() && orders.empty())) {
    return Usage();
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::unique_ptr<perpgw::natsbook::NatsBookFollower> nats;
  std::unique_ptr<perpgw::natsbook::GrpcBookFollower> grpc;
  std::unique_ptr<perpgw::natsbook::OrderEventFollower> events;
  if (book && !url.empty()) {
    nats = std::make_unique<perpgw::natsbook::NatsBookFollower>(url, venue, symbol, prefix, sec);
    if (!nats->error().empty()) {
      std::cerr << "perpgw-nats-book: " << nats->error() << "\n";
      return 1;
    }
  } else if (book) {
    grpc = std::make_unique<perpgw::natsbook::GrpcBookFollower>(grpc_addr, venue, symbol);
  }
  if (!orders.empty()) {
    events = std::make_unique<perpgw::natsbook::OrderEventFollower>(url, orders, durable, prefix,
                                                                   sec);
    if (!events->error().empty()) {
      std::cerr << "perpgw-nats-book: " << events->error() << "\n";
      return 1;
    }
  }
  // Order events are printed as they come (checked every 50 ms), the book once a second.
  auto print_events = [&] {
    if (!events) return;
    const auto lines = events->TakeLines();
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
    if (!lines.empty()) std::fflush(stdout);
  };
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  auto next_book = start + std::chrono::seconds(1);
  while (!g_stop && (seconds == 0 || std::chrono::steady_clock::now() < end)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    print_events();
    if (std::chrono::steady_clock::now() < next_book) continue;
    next_book += std::chrono::seconds(1);
    if (!book) continue;
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
  print_events();
  if (events) {
    const auto v = events->Get();
    std::fprintf(stderr,
                 "perpgw-nats-book: %llu order event(s) of %s, %llu gap(s) (%llu missing), %llu "
                 "redelivered duplicate(s)\n",
                 static_cast<unsigned long long>(v.events), orders.c_str(),
                 static_cast<unsigned long long>(v.gaps),
                 static_cast<unsigned long long>(v.missing),
                 static_cast<unsigned long long>(v.duplicates));
  }
  return 0;
}
