// bench_peers_client: the minimal C++ StreamOrderBooks consumer of the peers bench
// (bench/peers.py, `bench/run.sh --peers`, issue 17). One blocking gRPC stream on one pair, a
// local book kept from the snapshot + deltas, and per message the latency from the venue's
// stamp (exchange_time_ns: Backpack's depth `T`, microseconds) to the moment the delta is
// applied, and from the message's receive_time_ns (perpgwd's kernel receive stamp of the venue
// frame: the gateway-added part, input queueing included). Nothing else runs in the process,
// so its /proc CPU is what a consumer of perpgwd costs.
//
// Usage: bench_peers_client --target 127.0.0.1:PORT [--venue backpack] [--symbol BTC]...
//                           [--symbols BTC,S001,...] [--batched]
// --batched reads StreamOrderBookBatches (several pairs' updates per message) instead of
// StreamOrderBooks; "msgs" then counts the batches received in the window (start..stop).
// Several symbols (repeated --symbol and/or a --symbols list; bench/peers.py --symbols N) ride
// ONE StreamOrderBooks stream carrying every market; a book, sequence and status are kept per
// pair, `ready` waits for every pair to be LIVE, and status/dump also carry every pair by
// symbol ("us", "books"); the first symbol's stay at the top level as with one symbol.
// Commands on stdin (one a line), answers on stdout (one JSON line each):
//   start           reset the window's samples and counters, record
//   stop            stop recording
//   status          {"u":<venue_sequence of the last update applied>,...}
//   dump N          the book's top N levels a side, latency percentiles (sim stamp and
//                   gateway receive stamp to here), counters
//   quit
// Before any command it prints {"event":"ready",...} once the first LIVE snapshot is applied.
// The stream is reopened if it ends (counted as a disconnect).
#include <grpcpp/grpcpp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/clocks.h"
#include "perpgw/v1/market_data.grpc.pb.h"

namespace v1 = perpgw::v1;

namespace {

using perpgw::bench::RealNs;

// A wire decimal ("100000.10000000") as an integer at 1e-8 (the gateway's scale; more digits
// are cut, which this bench's one instrument never has). Fixed point, never double.
int64_t ParseE8(std::string_view s) {
  int64_t ip = 0, fp = 0;
  int frac = -1;
  bool neg = false;
  for (char c : s) {
    if (c == '-') {
      neg = true;
    } else if (c == '.') {
      frac = 0;
    } else if (c >= '0' && c <= '9') {
      if (frac < 0) {
        ip = ip * 10 + (c - '0');
      } else if (frac < 8) {
        fp = fp * 10 + (c - '0');
        ++frac;
      }
    }
  }
  for (int i = std::max(frac, 0); i < 8; ++i) fp *= 10;
  const int64_t v = ip * 100000000 + fp;
  return neg ? -v : v;
}

std::string FormatE8(int64_t v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%08lld", static_cast<long long>(v / 100000000),
                static_cast<long long>(v % 100000000));
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

struct Book {
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;
  template <class M>
  static void Apply(M& side, const google::protobuf::RepeatedPtrField<v1::PriceLevel>& levels) {
    for (const auto& l : levels) {
      const int64_t p = ParseE8(l.price()), q = ParseE8(l.size());
      if (q == 0) {
        side.erase(p);
      } else {
        side[p] = q;
      }
    }
  }
};

struct Pair {
  Book book;
  uint64_t last_u = 0;
  uint64_t last_seq = 0;
  int status = 0;
};

struct State {
  std::mutex mu;
  std::map<std::string, Pair> pairs;  // by symbol
  bool recording = false;
  bool ready = false;
  // Window counters (reset by `start`).
  uint64_t msgs = 0, resyncs = 0, snapshots = 0, disconnects = 0, not_live = 0, seq_gaps = 0;
  std::vector<int64_t> lat_ns;
  std::vector<int64_t> gw_ns;  // receive_time_ns (perpgwd's kernel receive stamp) -> here
};

void PrintLine(const std::string& s) {
  static std::mutex out_mu;
  std::lock_guard<std::mutex> l(out_mu);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string Percentiles(std::vector<int64_t> v) {
  std::ostringstream o;
  o << "{\"n\":" << v.size();
  if (!v.empty()) {
    std::sort(v.begin(), v.end());
    // Nearest rank on (n - 1), as bench/e2e.cpp and peers_ccxt.mjs.
    auto at = [&](double q) {
      return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))] / 1000.0;
    };
    o << ",\"p50_us\":" << at(0.5) << ",\"p99_us\":" << at(0.99) << ",\"p999_us\":" << at(0.999)
      << ",\"max_us\":" << v.back() / 1000.0;
  }
  o << "}";
  return o.str();
}

template <class M>
void Levels(std::ostringstream& o, const M& side, int n) {
  o << "[";
  int i = 0;
  for (auto it = side.begin(); it != side.end() && i < n; ++it, ++i) {
    o << (i ? "," : "") << "[\"" << FormatE8(it->first) << "\",\"" << FormatE8(it->second)
      << "\"]";
  }
  o << "]";
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, venue = "backpack";
  std::vector<std::string> symbols;
  bool batched = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--batched") {
      batched = true;
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--target") {
      target = argv[i + 1];
    } else if (a == "--venue") {
      venue = argv[i + 1];
    } else if (a == "--symbol") {
      symbols.push_back(argv[i + 1]);
    } else if (a == "--symbols") {
      std::istringstream in(argv[i + 1]);
      for (std::string s; std::getline(in, s, ',');) {
        if (!s.empty()) symbols.push_back(s);
      }
    }
  }
  if (target.empty()) {
    std::fprintf(stderr, "usage: bench_peers_client --target HOST:PORT [--venue V] [--symbol S]... "
                         "[--symbols S1,S2,...] [--batched]\n");
    return 2;
  }
  if (symbols.empty()) symbols.push_back("BTC");
  State st;
  for (const auto& s : symbols) st.pairs[s];
  Pair& first = st.pairs[symbols[0]];
  std::atomic<bool> quit{false};
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = v1::MarketDataService::NewStub(channel);
  std::mutex ctx_mu;
  grpc::ClientContext* live_ctx = nullptr;

  std::thread reader([&] {
    bool first_stream = true;
    while (!quit.load()) {
      grpc::ClientContext ctx;
      {
        std::lock_guard<std::mutex> l(ctx_mu);
        live_ctx = &ctx;
      }
      v1::StreamOrderBooksRequest req;
      for (const auto& s : symbols) {
        auto* m = req.add_markets();
        m->set_venue(venue);
        m->set_symbol(s);
      }
      // One update, with st.mu held.
      auto apply = [&](const v1::OrderBookUpdate& msg) {
        auto pit = st.pairs.find(msg.market().symbol());
        if (pit == st.pairs.end()) return;  // not asked for
        Pair& pr = pit->second;
        if (msg.is_snapshot()) {
          pr.book = Book();
          ++st.snapshots;
          if (msg.resync()) ++st.resyncs;
        }
        Book::Apply(pr.book.bids, msg.bids());
        Book::Apply(pr.book.asks, msg.asks());
        if (pr.last_seq != 0 && !msg.is_snapshot() && msg.sequence() != pr.last_seq + 1) {
          ++st.seq_gaps;
        }
        pr.last_seq = msg.sequence();
        if (msg.status() != v1::BOOK_STATUS_LIVE && pr.status == v1::BOOK_STATUS_LIVE) {
          ++st.not_live;
        }
        pr.status = msg.status();
        if (msg.venue_sequence() != 0) pr.last_u = msg.venue_sequence();
        if (st.recording && !msg.is_snapshot() && msg.exchange_time_ns() > 0) {
          const int64_t now = RealNs();
          st.lat_ns.push_back(now - msg.exchange_time_ns());
          if (msg.receive_time_ns() > 0) st.gw_ns.push_back(now - msg.receive_time_ns());
        }
      };
      auto check_ready = [&] {
        if (!st.ready && std::all_of(st.pairs.begin(), st.pairs.end(), [](const auto& kv) {
              const Pair& q = kv.second;
              return q.status == v1::BOOK_STATUS_LIVE && !q.book.bids.empty() &&
                     !q.book.asks.empty();
            })) {
          st.ready = true;
          PrintLine("{\"event\":\"ready\",\"u\":" + std::to_string(first.last_u) + "}");
        }
      };
      std::unique_ptr<grpc::ClientReader<v1::OrderBookUpdate>> rd;
      std::unique_ptr<grpc::ClientReader<v1::OrderBookBatch>> brd;
      if (batched) {
        brd = stub->StreamOrderBookBatches(&ctx, req);
        v1::OrderBookBatch batch;
        while (brd->Read(&batch)) {
          std::lock_guard<std::mutex> l(st.mu);
          for (const v1::OrderBookUpdate& msg : batch.updates()) apply(msg);
          // Counted in the window only, like the latency samples: batches that arrive between
          // "stop" and "dump" (the quiesce) are not part of the window's figures.
          if (st.recording) ++st.msgs;
          check_ready();
        }
      } else {
        rd = stub->StreamOrderBooks(&ctx, req);
        v1::OrderBookUpdate msg;
        while (rd->Read(&msg)) {
          std::lock_guard<std::mutex> l(st.mu);
          apply(msg);
          if (st.recording) ++st.msgs;
          check_ready();
        }
      }
      const grpc::Status s = batched ? brd->Finish() : rd->Finish();
      {
        std::lock_guard<std::mutex> l(ctx_mu);
        live_ctx = nullptr;
      }
      if (quit.load()) break;
      {
        std::lock_guard<std::mutex> l(st.mu);
        if (!first_stream || st.ready) ++st.disconnects;
        for (auto& [s, q] : st.pairs) q.last_seq = 0;
      }
      first_stream = false;
      std::fprintf(stderr, "bench_peers_client: stream ended (%d %s), reopening\n",
                   static_cast<int>(s.error_code()), s.error_message().c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "start") {
      std::lock_guard<std::mutex> l(st.mu);
      st.lat_ns.clear();
      st.lat_ns.reserve(1 << 20);
      st.gw_ns.clear();
      st.gw_ns.reserve(1 << 20);
      st.msgs = st.resyncs = st.snapshots = st.disconnects = st.not_live = st.seq_gaps = 0;
      st.recording = true;
      PrintLine("{\"event\":\"started\"}");
    } else if (cmd == "stop") {
      std::lock_guard<std::mutex> l(st.mu);
      st.recording = false;
      PrintLine("{\"event\":\"stopped\",\"samples\":" + std::to_string(st.lat_ns.size()) + "}");
    } else if (cmd == "status") {
      std::lock_guard<std::mutex> l(st.mu);
      std::string o = "{\"event\":\"status\",\"u\":" + std::to_string(first.last_u) +
                      ",\"msgs\":" + std::to_string(st.msgs);
      if (st.pairs.size() > 1) {
        o += ",\"us\":{";
        bool comma = false;
        for (const auto& [s, q] : st.pairs) {
          o += (comma ? ",\"" : "\"") + s + "\":" + std::to_string(q.last_u);
          comma = true;
        }
        o += "}";
      }
      PrintLine(o + "}");
    } else if (cmd == "dump") {
      int n = 10;
      in >> n;
      std::vector<int64_t> lat, gw;
      std::ostringstream o;
      {
        std::lock_guard<std::mutex> l(st.mu);
        lat = st.lat_ns;
        gw = st.gw_ns;
        o << "{\"event\":\"dump\",\"u\":" << first.last_u << ",\"msgs\":" << st.msgs
          << ",\"resyncs\":" << st.resyncs << ",\"snapshots\":" << st.snapshots
          << ",\"disconnects\":" << st.disconnects << ",\"not_live\":" << st.not_live
          << ",\"sequence_gaps\":" << st.seq_gaps << ",\"bids\":";
        Levels(o, first.book.bids, n);
        o << ",\"asks\":";
        Levels(o, first.book.asks, n);
        if (st.pairs.size() > 1) {
          o << ",\"books\":{";
          bool comma = false;
          for (const auto& [s, q] : st.pairs) {
            o << (comma ? ",\"" : "\"") << s << "\":{\"u\":" << q.last_u << ",\"bids\":";
            Levels(o, q.book.bids, n);
            o << ",\"asks\":";
            Levels(o, q.book.asks, n);
            o << "}";
            comma = true;
          }
          o << "}";
        }
      }
      o << ",\"latency\":" << Percentiles(std::move(lat))
        << ",\"gateway_latency\":" << Percentiles(std::move(gw)) << "}";
      PrintLine(o.str());
    } else if (cmd == "quit") {
      break;
    }
  }
  quit = true;
  {
    std::lock_guard<std::mutex> l(ctx_mu);
    if (live_ctx) live_ctx->TryCancel();
  }
  reader.join();
  return 0;
}
