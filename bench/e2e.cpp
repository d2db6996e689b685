// Benchmark: end to end on loopback. Spawns perpgw-sim (Aster) and perpgwd, then measures
//  md:      K gRPC StreamOrderBooks subscribers (K = 1, 10, 100) at several sim rates: latency
//           (gateway-added: client receive - receive_time_ns; sim-to-client: client receive -
//           the frame's sim_ns, matched by venue_sequence through a direct WS tap on the sim),
//           delivered msgs/s, perpgwd CPU per 1000 messages, RSS; plus a stalled-subscriber
//           comparison (same stack, back-to-back windows).
//  orders:  PlaceOrder (post-only, far from the touch) through perpgwd vs the same signed
//           request sent straight to the sim; SignV1Params timed separately; CancelAll after.
//  memory:  perpgwd RSS with the sim configured for 50 instruments and all 50 books subscribed.
// Everything is bounded in time and kills its children. Output: a table and --json <file>.
// Usage: bench_e2e [--seconds S] [--json F] [--skip md,orders,memory]
#include <grpcpp/grpcpp.h>
#include <simdjson.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapters/aster/signing.h"
#include "perpgw/v1/gateway.grpc.pb.h"
#include "perpgw/v1/market_data.grpc.pb.h"
#include "perpgw/v1/trading.grpc.pb.h"
#include "tests/integration/harness.h"

namespace v1 = perpgw::v1;
namespace pt = perpgw::testing;
namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Millis = std::chrono::milliseconds;

namespace {

int64_t RealNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double LoadAvg1() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

// utime + stime of a process, in seconds.
double ProcCpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream in(s.substr(p + 2));
  std::string tok;
  double ut = 0, st = 0;
  for (int field = 3; in >> tok; ++field) {
    if (field == 14) ut = std::stod(tok);
    if (field == 15) {
      st = std::stod(tok);
      break;
    }
  }
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long ProcRssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

struct Pct {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  size_t n = 0;
};
Pct Percentiles(std::vector<int64_t> v) {
  Pct p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))] / 1000.0;
  };
  p.p50 = at(0.5);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back() / 1000.0;
  return p;
}
std::string PctJson(const Pct& p) {
  std::ostringstream o;
  o << "{\"n\":" << p.n << ",\"p50_us\":" << p.p50 << ",\"p99_us\":" << p.p99
    << ",\"p999_us\":" << p.p999 << ",\"max_us\":" << p.max << "}";
  return o.str();
}

std::optional<std::string> Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--fail-with-body", "-g"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = pt::Run(argv, Millis(10000));
  if (r.exit_code != 0) return std::nullopt;
  return r.out;
}

// ------------------------------------------------------------------------------ the stack
struct StackOptions {
  double rate = 1000;
  int instruments = 0;  // 0 = the sim module's default catalogue
  std::vector<std::string> symbols = {"BTC"};
  bool account = false;  // wire the V1 (HMAC) sim account
};

struct Stack {
  pt::TempDir dir{"perpgw-bench"};
  std::unique_ptr<pt::ChildProcess> sim, gw;
  std::string control_url, rest_url, ws_url, account;
  std::map<std::string, std::string> creds;
  std::vector<std::string> sim_symbols;
  std::vector<std::string> tickers;  // what the gateway subscribed
  std::shared_ptr<grpc::Channel> channel;
  int port = 0;

  ~Stack() {
    if (gw) gw->Terminate(Millis(5000));
    if (sim) sim->Terminate(Millis(5000));
  }
  bool SetRate(double r) {
    return Curl({"-X", "POST", "-H", "Content-Type: application/json", "-d",
                 "{\"venue\":\"aster\",\"rate\":\"" + std::to_string(static_cast<int64_t>(r)) +
                     "\"}",
                 control_url + "/rate"})
        .has_value();
  }
  uint64_t UpdatesPublished() {
    auto body = Curl({control_url + "/venues"});
    if (!body) return 0;
    size_t p = body->find("\"updates_published\":");
    return p == std::string::npos ? 0 : std::stoull(body->substr(p + 20));
  }
};

std::string Tail(const std::string& s) { return s.size() > 2000 ? s.substr(s.size() - 2000) : s; }

std::unique_ptr<Stack> StartStack(const StackOptions& o, std::string* err) {
  auto s = std::make_unique<Stack>();
  const std::string endpoints = s->dir.File("endpoints.json");
  std::ostringstream y;
  y << "bind: 127.0.0.1\ncontrol_port: 0\nseed: 7\nrate: " << o.rate
    << "\ndepth: 20\nfunding_timer: false\nvenues:\n  aster:\n    port: 0\n";
  if (o.instruments > 0) {
    y << "    instruments:\n";
    for (int i = 0; i < o.instruments; ++i) {
      // Letters-only bases so tickers stay as written (no multiplier prefixes).
      std::string base = i == 0 ? "BTC" : std::string("TK") + char('A' + i / 26) + char('A' + i % 26);
      y << "      - {symbol: " << base << "USDT, base: " << base
        << ", quote: USDT, tick: \"0.1\", step: \"0.001\", min_qty: \"0.001\", mid: \""
        << (i == 0 ? 100000 : 1000 + 37 * i) << "\", max_leverage: 20}\n";
    }
  }
  pt::WriteFile(s->dir.File("sim.yaml"), y.str());
  pt::ProcessOptions so;
  so.argv = {PERPGW_SIM_BIN, "--config", s->dir.File("sim.yaml"), "--endpoints-out", endpoints};
  so.log_path = s->dir.File("sim.log");
  s->sim = pt::ChildProcess::Spawn(so, err);
  if (!s->sim) return nullptr;
  auto text = pt::WaitForFile(endpoints, Millis(30000), s->sim.get());
  if (!text) {
    *err = "perpgw-sim wrote no endpoints file:\n" + Tail(s->sim->ReadLog());
    return nullptr;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc, v;
  std::string_view control, rest, ws;
  if (parser.parse(*text).get(doc) || doc["control_url"].get(control) ||
      doc["venues"]["aster"].get(v) || v["rest_url"].get(rest) || v["ws_url"].get(ws)) {
    *err = "bad endpoints file: " + *text;
    return nullptr;
  }
  s->control_url = std::string(control);
  s->rest_url = std::string(rest);
  s->ws_url = std::string(ws);
  for (auto x : v["symbols"].get_array()) s->sim_symbols.emplace_back(std::string_view(x));
  std::map<std::string, std::string> env;
  std::ostringstream acc;
  if (o.account) {
    for (auto a : v["accounts"].get_array()) {
      std::string_view id;
      simdjson::dom::object creds;
      if (a["id"].get(id) || a["credentials"].get(creds)) continue;
      std::map<std::string, std::string> c;
      for (auto [k, val] : creds) {
        std::string_view sv;
        if (!val.get(sv)) c[std::string(k)] = std::string(sv);
      }
      if (!c.count("api_secret")) continue;
      s->account = std::string(id);
      s->creds = c;
      break;
    }
    if (s->account.empty()) {
      *err = "no V1 account in the sim's endpoints";
      return nullptr;
    }
    acc << "accounts:\n  - id: " << s->account << "\n    venue: aster\n    options:\n"
        << "      auth_scheme: \"v1\"\n    credentials:\n";
    int i = 0;
    for (const auto& [k, val] : s->creds) {
      if (k == "auth_scheme") continue;
      std::string var = "PERPGW_BENCH_CRED_" + std::to_string(i++);
      env[var] = val;
      acc << "      " << k << ": {env: " << var << "}\n";
    }
  }
  s->tickers = o.symbols;
  std::ostringstream cfg;
  cfg << "listen: 127.0.0.1:0\nlog_level: warn\nvenues:\n  aster:\n    rest_url: " << rest
      << "\n    ws_url: " << ws << "\n    stale_after_ms: 60000\n    symbols: [";
  for (size_t i = 0; i < o.symbols.size(); ++i) cfg << (i ? ", " : "") << o.symbols[i];
  cfg << "]\n    fees: {maker: \"0.0002\", taker: \"0.0005\"}\n" << acc.str();
  pt::WriteFile(s->dir.File("gateway.yaml"), cfg.str());
  pt::ProcessOptions go;
  go.argv = {PERPGWD_BIN, "--config", s->dir.File("gateway.yaml"), "--port-file",
             s->dir.File("port")};
  go.env = env;
  go.log_path = s->dir.File("perpgwd.log");
  s->gw = pt::ChildProcess::Spawn(go, err);
  if (!s->gw) return nullptr;
  auto port = pt::WaitForPortFile(s->dir.File("port"), Millis(30000), s->gw.get());
  if (!port) {
    *err = "perpgwd did not start:\n" + Tail(s->gw->ReadLog()) + "\nconfig:\n" + cfg.str();
    return nullptr;
  }
  s->port = *port;
  s->channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(s->port),
                                   grpc::InsecureChannelCredentials());
  auto stub = v1::InstrumentService::NewStub(s->channel);
  bool ready = pt::WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        v1::ListInstrumentsRequest req;
        req.set_venue("aster");
        v1::ListInstrumentsResponse resp;
        return stub->ListInstruments(&ctx, req, &resp).ok() && resp.instruments_size() > 0;
      },
      Millis(30000), Millis(100));
  if (!ready) {
    *err = "instruments never loaded:\n" + Tail(s->gw->ReadLog());
    return nullptr;
  }
  return s;
}

// The streams the Aster adapter subscribes per symbol (adapters/aster/adapter.cpp), so the tap
// sees the same venue traffic as perpgwd.
std::vector<std::string> AdapterStreams(const std::vector<std::string>& tickers) {
  std::vector<std::string> out;
  for (const auto& t : tickers) {
    std::string l = t;
    for (auto& c : l) c = static_cast<char>(std::tolower(c));
    l += "usdt";
    for (const char* suffix : {"@depth@100ms", "@bookTicker", "@aggTrade", "@markPrice@1s"}) {
      out.push_back(l + suffix);
    }
  }
  return out;
}

std::shared_ptr<grpc::Channel> NewChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own TCP connection
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials(), args);
}

// ------------------------------------------------------------------------------ WS tap
// Subscribes straight to the sim's depth streams and records venue update id (u) -> sim_ns.
class SimTap {
 public:
  SimTap(const std::string& ws_url, const std::vector<std::string>& streams) {
    // ws://127.0.0.1:PORT[/...]
    std::string rest = ws_url.substr(ws_url.find("//") + 2);
    std::string hostport = rest.substr(0, rest.find('/'));
    host_ = hostport.substr(0, hostport.find(':'));
    port_ = hostport.substr(hostport.find(':') + 1);
    target_ = "/stream?streams=";
    for (size_t i = 0; i < streams.size(); ++i) target_ += (i ? "/" : "") + streams[i];
    thread_ = std::thread([this] { Run(); });
  }
  ~SimTap() {
    stop_ = true;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (ws_) {
        beast::error_code ec;
        beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      }
    }
    if (thread_.joinable()) thread_.join();
  }
  std::optional<int64_t> SimNs(const std::string& stream_symbol, uint64_t u) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sent_.find(stream_symbol + "#" + std::to_string(u));
    if (it == sent_.end()) return std::nullopt;
    return it->second;
  }
  uint64_t frames() const { return frames_.load(); }  // depth frames with sim_ns
  uint64_t all_frames() const { return all_frames_.load(); }  // every frame (what perpgwd gets)

 private:
  void Run() {
    try {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      auto ws = std::make_unique<beast::websocket::stream<beast::tcp_stream>>(ioc);
      beast::get_lowest_layer(*ws).connect(resolver.resolve(host_, port_));
      ws->handshake(host_ + ":" + port_, target_);
      {
        std::lock_guard<std::mutex> l(mu_);
        ws_ = ws.get();
      }
      simdjson::dom::parser parser;
      beast::flat_buffer buf;
      while (!stop_) {
        buf.clear();
        ws->read(buf);
        std::string text = beast::buffers_to_string(buf.data());
        ++all_frames_;
        simdjson::dom::element doc;
        if (parser.parse(text).get(doc)) continue;
        std::string_view stream;
        uint64_t u;
        int64_t sim_ns;
        if (doc["stream"].get(stream) || doc["data"]["u"].get(u) ||
            doc["data"]["sim_ns"].get(sim_ns)) {
          continue;
        }
        std::string key = std::string(stream.substr(0, stream.find('@'))) + "#" + std::to_string(u);
        std::lock_guard<std::mutex> l(mu_);
        sent_[key] = sim_ns;
        ++frames_;
      }
    } catch (const std::exception&) {
    }
    std::lock_guard<std::mutex> l(mu_);
    ws_ = nullptr;
  }
  std::string host_, port_, target_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> frames_{0}, all_frames_{0};
  std::mutex mu_;
  beast::websocket::stream<beast::tcp_stream>* ws_ = nullptr;
  std::unordered_map<std::string, int64_t> sent_;
};

// ------------------------------------------------------------------------------ subscribers
struct Sample {
  uint64_t venue_seq;
  int64_t recv_ns;     // client receive (CLOCK_REALTIME)
  int64_t gw_recv_ns;  // receive_time_ns
  int64_t gw_send_ns;  // send_time_ns (the bus serialized the update)
  int32_t market;      // index into the tickers
};

std::atomic<bool> g_recording{false};

class BookReader : public grpc::ClientReadReactor<v1::OrderBookUpdate> {
 public:
  BookReader(v1::MarketDataService::Stub* stub, const std::vector<std::string>& tickers)
      : tickers_(tickers) {
    for (const auto& t : tickers) {
      auto* m = req_.add_markets();
      m->set_venue("aster");
      m->set_symbol(t);
    }
    stub->async()->StreamOrderBooks(&ctx_, &req_, this);
    StartRead(&msg_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const int64_t now = RealNs();
    {
      std::lock_guard<std::mutex> l(mu_);
      ++total_;
      if (msg_.is_snapshot()) ++snapshots_;
      if (msg_.resync()) ++resyncs_;
      if (g_recording.load(std::memory_order_relaxed) && !msg_.is_snapshot()) {
        int32_t idx = 0;
        for (size_t i = 0; i < tickers_.size(); ++i) {
          if (tickers_[i] == msg_.market().symbol()) idx = static_cast<int32_t>(i);
        }
        samples_.push_back(
            {msg_.venue_sequence(), now, msg_.receive_time_ns(), msg_.send_time_ns(), idx});
      }
    }
    StartRead(&msg_);
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> l(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  }
  void Stop() {
    ctx_.TryCancel();
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [&] { return done_; });
  }
  std::vector<Sample> TakeSamples() {
    std::lock_guard<std::mutex> l(mu_);
    return std::move(samples_);
  }
  uint64_t resyncs() {
    std::lock_guard<std::mutex> l(mu_);
    return resyncs_;
  }
  bool done() {
    std::lock_guard<std::mutex> l(mu_);
    return done_;
  }

 private:
  std::vector<std::string> tickers_;
  grpc::ClientContext ctx_;
  v1::StreamOrderBooksRequest req_;
  v1::OrderBookUpdate msg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
  uint64_t total_ = 0, snapshots_ = 0, resyncs_ = 0;
  std::vector<Sample> samples_;
};

// Opens the stream and never reads (the server-side writes back up to the flow-control window,
// then the mailbox fills).
class StalledReader {
 public:
  StalledReader(int port, const std::vector<std::string>& tickers) : channel_(NewChannel(port)) {
    stub_ = v1::MarketDataService::NewStub(channel_);
    for (const auto& t : tickers) {
      auto* m = req_.add_markets();
      m->set_venue("aster");
      m->set_symbol(t);
    }
    reader_ = stub_->StreamOrderBooks(&ctx_, req_);
  }
  ~StalledReader() { ctx_.TryCancel(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MarketDataService::Stub> stub_;
  grpc::ClientContext ctx_;
  v1::StreamOrderBooksRequest req_;
  std::unique_ptr<grpc::ClientReader<v1::OrderBookUpdate>> reader_;
};

struct PointResult {
  std::string label;
  double rate = 0;  // sim book updates/s requested
  int k = 0;
  bool stalled = false;
  double seconds = 0;
  double sim_updates_per_s = 0;  // achieved by the generator
  double in_frames_per_s = 0;    // distinct depth frames the clients saw per second
  double venue_frames_per_s = 0;  // every WS frame of the adapter's streams (tap count)
  bool held = false;
  double delivered_per_s = 0;    // messages delivered to all subscribers per second
  double cpu_ms_per_1000_delivered = 0, cpu_ms_per_1000_in = 0, cpu_pct = 0;
  long rss_kb = 0;
  uint64_t resyncs = 0;
  double sim_matched = 0;  // share of samples matched to a tapped sim frame
  Pct gw_lat, sim_lat;
  Pct gw_internal;  // send_time_ns - receive_time_ns: adapter + bus up to serialization
  Pct gw_out;       // client receive - send_time_ns: mailbox, gRPC, loopback, client
};

PointResult RunPoint(Stack& s, SimTap& tap, double rate, int k, bool stalled, double seconds,
                     const std::vector<std::string>& tickers) {
  PointResult r;
  r.rate = rate;
  r.k = k;
  r.stalled = stalled;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::MarketDataService::Stub>> stubs;
  const int nch = std::min(k, 10);
  for (int i = 0; i < nch; ++i) {
    channels.push_back(NewChannel(s.port));
    stubs.push_back(v1::MarketDataService::NewStub(channels.back()));
  }
  std::unique_ptr<StalledReader> stall;
  if (stalled) stall = std::make_unique<StalledReader>(s.port, tickers);
  std::vector<std::unique_ptr<BookReader>> readers;
  for (int i = 0; i < k; ++i) {
    readers.push_back(std::make_unique<BookReader>(stubs[i % nch].get(), tickers));
  }
  std::this_thread::sleep_for(Millis(1500));  // snapshots, warm-up (and the stall backs up)
  const double cpu0 = ProcCpuSeconds(s.gw->pid());
  const uint64_t up0 = s.UpdatesPublished();
  const uint64_t tf0 = tap.all_frames();
  const int64_t t0 = MonoNs();
  g_recording = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  g_recording = false;
  const int64_t t1 = MonoNs();
  const double cpu1 = ProcCpuSeconds(s.gw->pid());
  const uint64_t up1 = s.UpdatesPublished();
  const uint64_t tf1 = tap.all_frames();
  r.rss_kb = ProcRssKb(s.gw->pid());
  std::this_thread::sleep_for(Millis(300));  // let the tap catch up before matching
  std::vector<int64_t> gw, sim, internal, outbound;
  uint64_t delivered = 0, matched = 0;
  std::unordered_map<uint64_t, int> distinct;
  for (auto& rd : readers) {
    for (const Sample& x : rd->TakeSamples()) {
      ++delivered;
      ++distinct[x.venue_seq * 131 + x.market];
      gw.push_back(x.recv_ns - x.gw_recv_ns);
      internal.push_back(x.gw_send_ns - x.gw_recv_ns);
      outbound.push_back(x.recv_ns - x.gw_send_ns);
      std::string sym = tickers[x.market];
      for (auto& c : sym) c = static_cast<char>(std::tolower(c));
      if (auto sn = tap.SimNs(sym + "usdt", x.venue_seq)) {
        sim.push_back(x.recv_ns - *sn);
        ++matched;
      }
    }
    r.resyncs += rd->resyncs();
  }
  for (auto& rd : readers) rd->Stop();
  readers.clear();
  stall.reset();
  r.seconds = (t1 - t0) / 1e9;
  r.sim_updates_per_s = (up1 - up0) / r.seconds;
  r.in_frames_per_s = distinct.size() / r.seconds;
  r.delivered_per_s = delivered / r.seconds;
  const double cpu = cpu1 - cpu0;
  r.cpu_pct = 100 * cpu / r.seconds;
  r.cpu_ms_per_1000_delivered = delivered ? cpu * 1e3 / (delivered / 1000.0) : 0;
  r.venue_frames_per_s = (tf1 - tf0) / r.seconds;
  r.cpu_ms_per_1000_in = tf1 > tf0 ? cpu * 1e3 / ((tf1 - tf0) / 1000.0) : 0;
  // Held: the generator ran at the requested rate, no subscriber was resynced, every subscriber
  // got every depth frame, and the gateway-added p99 stayed under 50 ms.
  r.held = r.sim_updates_per_s >= 0.95 * rate && r.resyncs == 0 &&
           delivered + 2 * k >= distinct.size() * static_cast<size_t>(k) &&
           r.gw_lat.p99 < 50000;
  r.sim_matched = delivered ? static_cast<double>(matched) / delivered : 0;
  r.gw_lat = Percentiles(std::move(gw));
  r.sim_lat = Percentiles(std::move(sim));
  r.gw_internal = Percentiles(std::move(internal));
  r.gw_out = Percentiles(std::move(outbound));
  return r;
}

std::string PointJson(const PointResult& r) {
  std::ostringstream o;
  o << "{\"label\":\"" << r.label << "\",\"sim_rate\":" << r.rate << ",\"subscribers\":" << r.k
    << ",\"stalled_subscriber\":" << (r.stalled ? "true" : "false")
    << ",\"seconds\":" << r.seconds << ",\"sim_updates_per_s\":" << r.sim_updates_per_s
    << ",\"depth_frames_per_s\":" << r.in_frames_per_s
    << ",\"delivered_msgs_per_s\":" << r.delivered_per_s
    << ",\"venue_frames_per_s\":" << r.venue_frames_per_s
    << ",\"held\":" << (r.held ? "true" : "false")
    << ",\"perpgwd_cpu_pct\":" << r.cpu_pct
    << ",\"perpgwd_cpu_ms_per_1000_delivered\":" << r.cpu_ms_per_1000_delivered
    << ",\"perpgwd_cpu_ms_per_1000_venue_frames\":" << r.cpu_ms_per_1000_in
    << ",\"perpgwd_rss_kb\":" << r.rss_kb << ",\"resyncs\":" << r.resyncs
    << ",\"sim_ns_matched_share\":" << r.sim_matched
    << ",\"gateway_latency\":" << PctJson(r.gw_lat) << ",\"sim_to_client_latency\":"
    << PctJson(r.sim_lat) << ",\"gateway_receive_to_serialize\":" << PctJson(r.gw_internal)
    << ",\"serialize_to_client\":" << PctJson(r.gw_out) << "}";
  return o.str();
}

void PrintPoint(const PointResult& r) {
  std::printf(
      "%-18s K=%-3d upd/s %7.0f venue fr/s %7.0f depth fr/s %6.1f deliv/s %7.1f | gw-added p50 %7.1f p99 %8.1f "
      "p999 %8.1f us | sim->client p50 %8.1f p99 %8.1f p999 %8.1f us (matched %.2f) | cpu "
      "%5.1f%% %6.2f ms/1k venue fr | rss %ld kB | resyncs %llu%s\n",
      r.label.c_str(), r.k, r.sim_updates_per_s, r.venue_frames_per_s, r.in_frames_per_s, r.delivered_per_s,
      r.gw_lat.p50, r.gw_lat.p99, r.gw_lat.p999, r.sim_lat.p50, r.sim_lat.p99, r.sim_lat.p999,
      r.sim_matched, r.cpu_pct, r.cpu_ms_per_1000_in, r.rss_kb,
      static_cast<unsigned long long>(r.resyncs), r.held ? "" : " NOT HELD");
  std::fflush(stdout);
}

// ------------------------------------------------------------------------------ order path
struct OrderResult {
  Pct gateway, direct, sign;
  int n = 0;
  int gw_accepted = 0, direct_ok = 0;
  std::string note;
};

class DirectHttp {
 public:
  DirectHttp(const std::string& url) : resolver_(ioc_), stream_(ioc_) {
    std::string rest = url.substr(url.find("//") + 2);
    std::string hostport = rest.substr(0, rest.find('/'));
    host_ = hostport;
    stream_.connect(resolver_.resolve(hostport.substr(0, hostport.find(':')),
                                      hostport.substr(hostport.find(':') + 1)));
    stream_.socket().set_option(tcp::no_delay(true));
  }
  // Returns the status code; body in *body.
  int Send(beast::http::verb verb, const std::string& target, const std::string& api_key,
           std::string* body) {
    beast::http::request<beast::http::string_body> req{verb, target, 11};
    req.set(beast::http::field::host, host_);
    req.set("X-MBX-APIKEY", api_key);
    req.keep_alive(true);
    req.prepare_payload();
    beast::http::write(stream_, req);
    beast::http::response<beast::http::string_body> res;
    beast::http::read(stream_, buf_, res);
    *body = res.body();
    return res.result_int();
  }

 private:
  asio::io_context ioc_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::string host_;
};

OrderResult RunOrders(Stack& s, int n) {
  OrderResult r;
  r.n = n;
  auto body = Curl({s.control_url + "/book?venue=aster&symbol=BTCUSDT&depth=1"});
  int64_t mid = 100000;
  if (body) {
    size_t p = body->find("\"mid\":");
    if (p != std::string::npos) {
      size_t q = body->find_first_of("0123456789", p);
      mid = std::atoll(body->c_str() + q);
    }
  }
  const std::string price = std::to_string(mid * 8 / 10);  // far below the touch: never fills
  const std::string secret = s.creds["api_secret"], key = s.creds["api_key"];
  auto trading = v1::TradingService::NewStub(s.channel);
  DirectHttp direct(s.rest_url);
  std::vector<int64_t> gw, dir, sign;
  const int64_t run_id = RealNs() / 1000000 % 100000000;
  // The sim caps open orders per account (200): cancel everything every 50 pairs (untimed).
  auto cancel_all = [&] {
    v1::CancelAllOrdersRequest ca;
    ca.set_account(s.account);
    ca.set_venue("aster");
    ca.set_symbol("BTC");
    v1::CancelAllOrdersResponse car;
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    trading->CancelAllOrders(&cctx, ca, &car);
  };
  for (int i = 0; i < n; ++i) {
    if (i > 0 && i % 50 == 0) cancel_all();
    // Through the gateway.
    v1::PlaceOrderRequest req;
    req.set_account(s.account);
    req.mutable_market()->set_venue("aster");
    req.mutable_market()->set_symbol("BTC");
    req.set_client_order_id("bg" + std::to_string(run_id) + "x" + std::to_string(i));
    req.set_side(v1::SIDE_BUY);
    req.set_type(v1::ORDER_TYPE_LIMIT);
    req.set_time_in_force(v1::TIME_IN_FORCE_POST_ONLY);
    req.set_price(price);
    req.set_size("0.001");
    v1::PlaceOrderResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    int64_t t0 = MonoNs();
    auto st = trading->PlaceOrder(&ctx, req, &resp);
    int64_t t1 = MonoNs();
    if (st.ok() && resp.outcome() == v1::ACK_OUTCOME_ACCEPTED) {
      ++r.gw_accepted;
      gw.push_back(t1 - t0);
    } else if (r.note.empty()) {
      r.note = "gateway: " + st.error_message() + " " + resp.message();
    }
    // Direct: sign (timed separately) + send the same request.
    const std::string params = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.001"
                               "&price=" + price + "&newClientOrderId=bd" +
                               std::to_string(run_id) + "x" + std::to_string(i);
    int64_t s0 = MonoNs();
    auto signed_q = perpgw::adapters::aster::SignV1Params(secret, params, RealNs() / 1000000, 5000);
    int64_t s1 = MonoNs();
    sign.push_back(s1 - s0);
    if (!signed_q.ok()) continue;
    std::string out;
    int64_t d0 = MonoNs();
    int code = direct.Send(beast::http::verb::post, "/fapi/v1/order?" + *signed_q, key, &out);
    int64_t d1 = MonoNs();
    if (code == 200) {
      ++r.direct_ok;
      dir.push_back(d1 - d0);
    } else if (r.note.empty()) {
      r.note = "direct: HTTP " + std::to_string(code) + " " + out.substr(0, 200);
    }
  }
  cancel_all();  // leave nothing resting
  // Signing alone, many times (the per-order figure above includes a cold first call).
  for (int i = 0; i < 2000; ++i) {
    int64_t s0 = MonoNs();
    auto q = perpgw::adapters::aster::SignV1Params(
        secret, "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.001&price=80000",
        1754556878000 + i, 5000);
    sign.push_back(MonoNs() - s0);
  }
  r.gateway = Percentiles(std::move(gw));
  r.direct = Percentiles(std::move(dir));
  r.sign = Percentiles(std::move(sign));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int orders = 300;
  std::string json_out, skip;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--orders") orders = std::atoi(next().c_str());
    else if (a == "--json") json_out = next();
    else if (a == "--skip") skip = next();
    else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--orders N] [--json F] [--skip md,orders,memory]\n",
                   argv[0]);
      return 2;
    }
  }
  const double load0 = LoadAvg1();
  std::vector<std::string> sections;
  std::string err;

  if (skip.find("md") == std::string::npos || skip.find("orders") == std::string::npos) {
    StackOptions o;
    o.rate = 1000;
    o.account = true;
    auto s = StartStack(o, &err);
    if (!s) {
      std::fprintf(stderr, "bench_e2e: %s\n", err.c_str());
      return 1;
    }
    if (skip.find("md") == std::string::npos) {
      const std::vector<std::string> tickers = {"BTC"};
      SimTap tap(s->ws_url, AdapterStreams(tickers));
      std::ostringstream js;
      js << "\"market_data\":[";
      bool first = true;
      for (double rate : {1000.0, 10000.0, 50000.0, 200000.0}) {
        s->SetRate(rate);
        std::this_thread::sleep_for(Millis(500));
        for (int k : {1, 10, 100}) {
          PointResult r = RunPoint(*s, tap, rate, k, false, seconds, tickers);
          r.label = "rate " + std::to_string(static_cast<int>(rate));
          PrintPoint(r);
          js << (first ? "" : ",") << PointJson(r);
          first = false;
        }
      }
      js << "]";
      sections.push_back(js.str());
    }
    if (skip.find("orders") == std::string::npos) {
      s->SetRate(1000);
      OrderResult r = RunOrders(*s, orders);
      std::printf("orders: n=%d gw accepted %d direct ok %d | via perpgwd p50 %.1f p99 %.1f us | "
                  "direct p50 %.1f p99 %.1f us | added p50 %.1f p99 %.1f us | SignV1Params p50 "
                  "%.2f p99 %.2f us %s\n",
                  r.n, r.gw_accepted, r.direct_ok, r.gateway.p50, r.gateway.p99, r.direct.p50,
                  r.direct.p99, r.gateway.p50 - r.direct.p50, r.gateway.p99 - r.direct.p99,
                  r.sign.p50, r.sign.p99, r.note.c_str());
      std::ostringstream js;
      js << "\"orders\":{\"n\":" << r.n << ",\"gateway_accepted\":" << r.gw_accepted
         << ",\"direct_ok\":" << r.direct_ok << ",\"via_gateway\":" << PctJson(r.gateway)
         << ",\"direct\":" << PctJson(r.direct)
         << ",\"gateway_added_p50_us\":" << r.gateway.p50 - r.direct.p50
         << ",\"gateway_added_p99_us\":" << r.gateway.p99 - r.direct.p99
         << ",\"sign_v1\":" << PctJson(r.sign) << "}";
      sections.push_back(js.str());
    }
  }

  if (skip.find("memory") == std::string::npos) {
    StackOptions o;
    o.rate = 5000;
    o.instruments = 50;
    o.symbols.clear();
    auto probe = [&](int i) {
      return i == 0 ? std::string("BTC") : std::string("TK") + char('A' + i / 26) + char('A' + i % 26);
    };
    for (int i = 0; i < 50; ++i) o.symbols.push_back(probe(i));
    auto s = StartStack(o, &err);
    if (!s) {
      std::fprintf(stderr, "bench_e2e memory: %s\n", err.c_str());
      return 1;
    }
    // Wait until every book is live (GetOrderBook answers with levels), bounded.
    auto md = v1::MarketDataService::NewStub(s->channel);
    int live = 0;
    const int64_t deadline = MonoNs() + 20'000'000'000LL;
    while (MonoNs() < deadline) {
      live = 0;
      for (const auto& t : o.symbols) {
        v1::GetOrderBookRequest req;
        req.mutable_market()->set_venue("aster");
        req.mutable_market()->set_symbol(t);
        req.set_depth(1);
        v1::OrderBook ob;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        if (md->GetOrderBook(&ctx, req, &ob).ok() && ob.bids_size() > 0) ++live;
      }
      if (live == 50) break;
      std::this_thread::sleep_for(Millis(500));
    }
    std::this_thread::sleep_for(Millis(1000));
    const long rss_idle = ProcRssKb(s->gw->pid());
    // Same stack: 10 subscribers on all 50 books, then the same with a stalled subscriber.
    SimTap tap(s->ws_url, AdapterStreams(o.symbols));
    // A B A B A: windows without / with the stalled client, back to back.
    std::vector<PointResult> windows;
    for (int w = 0; w < 5; ++w) {
      const bool stalled = (w % 2) == 1;
      PointResult p = RunPoint(*s, tap, o.rate, 10, stalled, seconds, o.symbols);
      p.label = stalled ? "50 books +stalled" : "50 books";
      PrintPoint(p);
      windows.push_back(p);
    }
    const long rss_after = ProcRssKb(s->gw->pid());
    std::printf("memory: perpgwd RSS with %d/50 books live: %ld kB idle, %ld kB after the "
                "subscriber runs\n",
                live, rss_idle, rss_after);
    std::ostringstream js;
    js << "\"memory\":{\"books_configured\":50,\"books_live\":" << live
       << ",\"perpgwd_rss_kb_idle\":" << rss_idle << ",\"perpgwd_rss_kb_after\":" << rss_after
       << "},\"stalled\":[";
    for (size_t w = 0; w < windows.size(); ++w) js << (w ? "," : "") << PointJson(windows[w]);
    js << "]";
    sections.push_back(js.str());
  }

  const double load1 = LoadAvg1();
  std::printf("loadavg %.2f -> %.2f\n", load0, load1);
  if (!json_out.empty()) {
    std::ofstream f(json_out);
    f << "{\"bench\":\"e2e\",\"seconds_per_point\":" << seconds << ",\"loadavg_before\":" << load0
      << ",\"loadavg_after\":" << load1;
    for (const auto& s : sections) f << "," << s;
    f << "}\n";
  }
  return 0;
}
