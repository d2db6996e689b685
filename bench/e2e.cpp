// Benchmark: end to end on loopback, for every venue with a sim module (Aster, Backpack,
// Paradex, Lighter).
//  floor:   the physical ceiling of the last hop: a minimal StreamOrderBooks server (child
//           process of this binary; no venue, adapter or bus) read by the same clients.
//  md:      per venue, perpgw-sim (one symbol) -> perpgwd -> K gRPC StreamOrderBooks
//           subscribers (K = 1, 10, 100) at several sim rates: latency (gateway-added: client
//           receive - receive_time_ns; sim-to-client: client receive - the frame's sim_ns, matched
//           by venue_sequence through a direct WS tap on the sim), the split at send_time_ns,
//           delivered msgs/s, perpgwd CPU per 1000 venue frames, RSS.
//  orders:  per venue, PlaceOrder (post-only, far from the touch) through perpgwd vs the same
//           request signed with the venue's signing library and sent straight to the sim;
//           signing timed separately; CancelAll after. Lighter: the direct client signs
//           CreateOrderTx with the API key and POSTs /api/v1/sendTx (acceptance, not
//           execution), and is also timed until the order shows on its account_all_orders
//           channel (what perpgwd's Lighter ack waits for).
//  memory:  one perpgwd with every venue and 50 books each: RSS; then per venue a
//           stalled-subscriber comparison (10 readers on all 50 books, windows A B A B A).
// Everything is bounded in time and kills its children. Output: a table and --json <file>.
// Usage: bench_e2e [--seconds S] [--orders N] [--json F]
//                  [--skip floor,md,orders,memory,aster,backpack,paradex,lighter] [--rates R,..]
//                  [--ks K,..]
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
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "adapters/aster/signing.h"
#include "adapters/backpack/signing.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/signing.h"
#include "adapters/lighter/symbols.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/sbe.h"
#include "adapters/paradex/signing.h"
#include "bench/clocks.h"
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

using perpgw::bench::MonoNs;
using perpgw::bench::RealNs;

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

// Lighter's default paths, as the adapter adds them (adapters/lighter/rest.h WithApiPath /
// WithStreamPath; those live in the adapter library, which the bench does not link): a URL
// with no path gets `path`, one with a path is kept.
std::string LighterUrl(const std::string& url, const char* path) {
  const size_t scheme = url.find("://");
  const size_t p = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (p == std::string::npos) return url + path;
  if (p + 1 == url.size()) return url.substr(0, p) + path;
  return url;
}

// ------------------------------------------------------------------------------ the stack
// What differs between the venues the bench drives (both sim modules speak the venue protocol).
struct VenueSpec {
  std::string name;  // "aster" | "backpack" | "paradex" | "lighter"
  bool aster() const { return name == "aster"; }
  bool paradex() const { return name == "paradex"; }
  bool lighter() const { return name == "lighter"; }
  std::string SimSymbol(const std::string& base) const {
    return aster()     ? base + "USDT"
           : paradex() ? base + "-USD-PERP"
           : lighter() ? base  // Lighter's `symbol` is the bare base asset
                       : base + "_USDC_PERP";
  }
  std::string Quote() const { return aster() ? "USDT" : paradex() ? "USD" : "USDC"; }
  // Lighter names markets by index: the bench's sim configs give BTC (always the first symbol)
  // market 1 as on the venue, the second symbol 0, the rest their position.
  static int64_t LighterMarket(size_t i) { return i == 0 ? 1 : i == 1 ? 0 : static_cast<int64_t>(i); }
  // The streams the adapter subscribes per symbol (adapters/<venue>/adapter.cpp), so the tap
  // sees the same venue traffic as perpgwd.
  std::vector<std::string> AdapterStreams(const std::vector<std::string>& tickers) const {
    std::vector<std::string> out;
    if (lighter()) {
      namespace lt = perpgw::adapters::lighter;
      out.emplace_back(lt::kMarketStatsAllChannel);  // once per connection
      for (size_t i = 0; i < tickers.size(); ++i) {
        const int64_t m = LighterMarket(i);
        for (auto c : {lt::OrderBookChannel(m), lt::TickerChannel(m), lt::TradeChannel(m)}) {
          out.push_back(std::move(c));
        }
      }
      return out;
    }
    for (const auto& t : tickers) {
      namespace px = perpgw::adapters::paradex;
      if (aster()) {
        std::string l = Lower(SimSymbol(t));
        for (const char* suffix : {"@depth@100ms", "@bookTicker", "@aggTrade", "@markPrice@1s"}) {
          out.push_back(l + suffix);
        }
      } else if (paradex()) {
        const std::string m = SimSymbol(t);
        for (auto c : {px::OrderBookDeltasChannel(m), px::BboChannel(m), px::TradesChannel(m),
                       px::FundingDataChannel(m), px::MarketsSummaryChannel(m)}) {
          out.push_back(std::move(c));
        }
      } else {
        for (const char* prefix : {"depth.", "bookTicker.", "trade.", "markPrice."}) {
          out.push_back(prefix + SimSymbol(t));
        }
      }
    }
    return out;
  }
  // The tap files depth frames under the stream name up to its first '@' (Paradex: the
  // BookEvent's market; Lighter: the echoed channel "order_book:<market>"). `index`: the
  // ticker's position in the subscribed list (Lighter's market index follows from it).
  std::string TapKey(const std::string& ticker, size_t index) const {
    if (lighter()) return "order_book:" + std::to_string(LighterMarket(index));
    return aster() ? Lower(SimSymbol(ticker)) : paradex() ? SimSymbol(ticker) : "depth." + SimSymbol(ticker);
  }
  static std::string Lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(c));
    return s;
  }
};

struct StackOptions {
  std::vector<VenueSpec> venues = {{"aster"}};
  double rate = 1000;
  int instruments = 0;  // 0 = the sim module's default catalogue
  std::vector<std::string> symbols = {"BTC"};
  bool account = false;  // wire one sim account per venue (Aster: the V1/HMAC one)
};

struct VenueEndpoints {
  std::string rest_url, ws_url, account;
  std::map<std::string, std::string> creds;
  // Another account of the venue (Lighter's direct client: nonces are per API key, so it must
  // not sign with the gateway's key); empty when the sim has one.
  std::string other_account;
  std::map<std::string, std::string> other_creds;
};

struct Stack {
  pt::TempDir dir{"perpgw-bench"};
  std::unique_ptr<pt::ChildProcess> sim, gw;
  std::string control_url;
  std::map<std::string, VenueEndpoints> venues;
  std::vector<std::string> tickers;  // what the gateway subscribed
  std::shared_ptr<grpc::Channel> channel;
  int port = 0;

  ~Stack() {
    if (gw) gw->Terminate(Millis(5000));
    if (sim) sim->Terminate(Millis(5000));
  }
  bool SetRate(const std::string& venue, double r) {
    return Curl({"-X", "POST", "-H", "Content-Type: application/json", "-d",
                 "{\"venue\":\"" + venue + "\",\"rate\":\"" +
                     std::to_string(static_cast<int64_t>(r)) + "\"}",
                 control_url + "/rate"})
        .has_value();
  }
  // The generator's published-update counter of one venue (control API GET /venues).
  uint64_t UpdatesPublished(const std::string& venue) {
    auto body = Curl({control_url + "/venues"});
    if (!body) return 0;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    uint64_t n = 0;
    if (parser.parse(*body).get(doc)) return 0;
    simdjson::dom::array arr;
    if (doc["venues"].get(arr)) return 0;
    for (auto v : arr) {
      std::string_view name;
      if (!v["name"].get(name) && name == venue && !v["updates_published"].get(n)) return n;
    }
    return 0;
  }
};

std::string Tail(const std::string& s) { return s.size() > 2000 ? s.substr(s.size() - 2000) : s; }

std::unique_ptr<Stack> StartStack(const StackOptions& o, std::string* err) {
  auto s = std::make_unique<Stack>();
  const std::string endpoints = s->dir.File("endpoints.json");
  std::ostringstream y;
  y << "bind: 127.0.0.1\ncontrol_port: 0\nseed: 7\nrate: " << o.rate
    << "\ndepth: 20\nfunding_timer: false\nvenues:\n";
  for (const VenueSpec& vs : o.venues) {
    y << "  " << vs.name << ":\n    port: 0\n";
    if (o.instruments > 0) {
      y << "    instruments:\n";
      for (int i = 0; i < o.instruments; ++i) {
        const std::string& base = o.symbols[i];
        y << "      - {symbol: " << vs.SimSymbol(base) << ", base: " << base
          << ", quote: " << vs.Quote()
          << ", tick: \"0.1\", step: \"0.001\", min_qty: \"0.001\", mid: \""
          << (i == 0 ? 100000 : 1000 + 37 * i) << "\", max_leverage: 20";
        if (vs.lighter()) y << ", market_id: " << VenueSpec::LighterMarket(static_cast<size_t>(i));
        y << "}\n";
      }
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
  simdjson::dom::element doc;
  std::string_view control;
  if (parser.parse(*text).get(doc) || doc["control_url"].get(control)) {
    *err = "bad endpoints file: " + *text;
    return nullptr;
  }
  s->control_url = std::string(control);
  std::map<std::string, std::string> env;
  std::ostringstream cfg, acc;
  cfg << "listen: 127.0.0.1:0\nlog_level: warn\nvenues:\n";
  int var_index = 0;
  for (const VenueSpec& vs : o.venues) {
    simdjson::dom::element v;
    std::string_view rest, ws;
    if (doc["venues"][vs.name].get(v) || v["rest_url"].get(rest) || v["ws_url"].get(ws)) {
      *err = "no " + vs.name + " in the endpoints file: " + *text;
      return nullptr;
    }
    VenueEndpoints& ve = s->venues[vs.name];
    ve.rest_url = std::string(rest);
    ve.ws_url = std::string(ws);
    if (o.account) {
      // Aster: the V1 (HMAC) account (it has api_secret); Backpack: the first account;
      // Paradex: the first account with a Stark key; Lighter: the first account with an API
      // private key (lighter-1), and a second one for the bench's direct client.
      for (auto a : v["accounts"].get_array()) {
        std::string_view id;
        simdjson::dom::object creds;
        if (a["id"].get(id) || a["credentials"].get(creds)) continue;
        std::map<std::string, std::string> c;
        for (auto [k, val] : creds) {
          std::string_view sv;
          int64_t n = 0;
          if (!val.get(sv)) {
            c[std::string(k)] = std::string(sv);
          } else if (!val.get(n)) {
            c[std::string(k)] = std::to_string(n);
          }
        }
        if (!c.count("api_secret") && !c.count("stark_private_key") &&
            !c.count("api_private_key")) {
          continue;
        }
        if (ve.account.empty()) {
          ve.account = std::string(id);
          ve.creds = c;
          if (!vs.lighter()) break;
        } else if (vs.lighter()) {
          ve.other_account = std::string(id);
          ve.other_creds = c;
          break;
        }
      }
      if (ve.account.empty()) {
        // Market data runs without one; the order section reports it.
        std::fprintf(stderr, "bench_e2e: no HMAC/Ed25519/Stark/Lighter API-key account for %s "
                     "in the sim's endpoints: no orders\n", vs.name.c_str());
      }
    }
    if (o.account && !ve.account.empty()) {
      if (acc.tellp() == 0) acc << "accounts:\n";
      acc << "  - id: " << ve.account << "\n    venue: " << vs.name << "\n";
      if (vs.aster()) acc << "    options:\n      auth_scheme: \"v1\"\n";
      acc << "    credentials:\n";
      for (const auto& [k, val] : ve.creds) {
        if (k == "auth_scheme") continue;
        std::string var = "PERPGW_BENCH_CRED_" + std::to_string(var_index++);
        env[var] = val;
        acc << "      " << k << ": {env: " << var << "}\n";
      }
    }
    cfg << "  " << vs.name << ":\n    rest_url: " << rest << "\n    ws_url: " << ws
        << "\n    stale_after_ms: 60000\n    symbols: [";
    for (size_t i = 0; i < o.symbols.size(); ++i) cfg << (i ? ", " : "") << o.symbols[i];
    cfg << "]\n    fees: {maker: \"0.0002\", taker: \"0.0005\"}\n";
    // Lighter: the premium tier's weighted limit (24 000 weight/min; sendTx weighs 6). The
    // standard tier's 60 requests a minute would pace 500 orders into minutes.
    if (vs.lighter()) cfg << "    options: {rate_tier: premium}\n";
  }
  cfg << acc.str();
  // The order path is measured with the journal on (fsync before every order, the default).
  if (acc.tellp() > 0) {
    const char* fsync = std::getenv("PERPGW_BENCH_JOURNAL_FSYNC");  // A/B: always (default) | never
    cfg << "orders: {journal_dir: \"" << s->dir.File("journal") << "\", fsync: "
        << (fsync ? fsync : "always") << "}\n";
  }
  s->tickers = o.symbols;
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
  for (const VenueSpec& vs : o.venues) {
    bool ready = pt::WaitUntil(
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
          v1::ListInstrumentsRequest req;
          req.set_venue(vs.name);
          v1::ListInstrumentsResponse resp;
          return stub->ListInstruments(&ctx, req, &resp).ok() && resp.instruments_size() > 0;
        },
        Millis(30000), Millis(100));
    if (!ready) {
      *err = vs.name + " instruments never loaded:\n" + Tail(s->gw->ReadLog());
      return nullptr;
    }
  }
  return s;
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
  // Aster: a combined-stream URL; Backpack: one endpoint and a SUBSCRIBE frame; Paradex: /v1
  // with the SBE query the adapter negotiates and one JSON-RPC subscribe per channel; Lighter:
  // /stream and one {"type":"subscribe"} per channel.
  SimTap(const VenueSpec& venue, const std::string& ws_url,
         const std::vector<std::string>& streams)
      : lighter_(venue.lighter()) {
    // ws://127.0.0.1:PORT[/...]
    std::string rest = ws_url.substr(ws_url.find("//") + 2);
    std::string hostport = rest.substr(0, rest.find('/'));
    host_ = hostport.substr(0, hostport.find(':'));
    port_ = hostport.substr(hostport.find(':') + 1);
    if (venue.aster()) {
      target_ = "/stream?streams=";
      for (size_t i = 0; i < streams.size(); ++i) target_ += (i ? "/" : "") + streams[i];
    } else if (venue.lighter()) {
      const std::string url = LighterUrl(ws_url, "/stream");
      const std::string after = url.substr(url.find("//") + 2);
      target_ = after.find('/') == std::string::npos ? "/" : after.substr(after.find('/'));
      for (const std::string& ch : streams) {
        subscribes_.push_back(perpgw::adapters::lighter::EncodeSubscribe(ch));
      }
    } else if (venue.paradex()) {
      const std::string url = perpgw::adapters::paradex::WithSbeQuery("ws://" + hostport + "/v1");
      target_ = url.substr(url.find('/', 5));
      for (size_t i = 0; i < streams.size(); ++i) {
        subscribes_.push_back(
            perpgw::adapters::paradex::EncodeSubscribe(streams[i], static_cast<int64_t>(i + 1)));
      }
    } else {
      target_ = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
      std::string sub = "{\"method\":\"SUBSCRIBE\",\"params\":[";
      for (size_t i = 0; i < streams.size(); ++i) {
        sub += (i ? ",\"" : "\"") + streams[i] + "\"";
      }
      subscribes_.push_back(sub + "]}");
    }
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
    // The stream outlives the try block: ~SimTap may be using it (under mu_) until ws_ is
    // cleared below, so it is destroyed only after that (a use-after-free race otherwise, found
    // by ThreadSanitizer when the read loop ended by exception).
    asio::io_context ioc;
    std::unique_ptr<beast::websocket::stream<beast::tcp_stream>> ws;
    try {
      tcp::resolver resolver(ioc);
      ws = std::make_unique<beast::websocket::stream<beast::tcp_stream>>(ioc);
      beast::get_lowest_layer(*ws).connect(resolver.resolve(host_, port_));
      ws->handshake(host_ + ":" + port_, target_);
      for (const std::string& sub : subscribes_) ws->write(asio::buffer(sub));
      {
        std::lock_guard<std::mutex> l(mu_);
        ws_ = ws.get();
      }
      beast::flat_buffer buf;
      // The tap must keep up with the sim at the highest rates on a shared 2-core box, so it
      // reads the three fields it needs by position instead of parsing each frame (the sim
      // writes them itself, unescaped).
      auto number_after = [](std::string_view text, std::string_view key, uint64_t* out) {
        size_t p = text.find(key);
        if (p == std::string_view::npos) return false;
        p += key.size();
        uint64_t v = 0;
        size_t digits = 0;
        for (; p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p, ++digits) {
          v = v * 10 + static_cast<uint64_t>(text[p] - '0');
        }
        *out = v;
        return digits > 0;
      };
      int64_t last_ping = MonoNs();
      while (!stop_) {
        buf.clear();
        ws->read(buf);
        const std::string_view text(static_cast<const char*>(buf.data().data()), buf.size());
        ++all_frames_;
        // Lighter closes connections that send nothing for 2 minutes (the md section runs
        // longer): an application ping every 30 s, from this thread between reads.
        if (lighter_ && MonoNs() - last_ping > 30'000'000'000LL) {
          ws->write(asio::buffer(perpgw::adapters::lighter::EncodePing()));
          last_ping = MonoNs();
        }
        if (ws->got_binary()) {
          // Paradex SBE: a BookEvent's market and seq_no; its timestamp (us) is the sim's send
          // time (the sim stamps each flush just before writing it), the stand-in for sim_ns.
          namespace sbe = perpgw::adapters::paradex::sbe;
          sbe::Header h;
          if (!sbe::ReadHeader(text, &h).ok() ||
              h.template_id != static_cast<uint16_t>(sbe::TemplateId::kBook) ||
              !sbe::Decode(text, h, &book_).ok() ||
              book_.pkg_type != static_cast<uint8_t>(sbe::PkgType::kDelta)) {
            continue;
          }
          std::lock_guard<std::mutex> l(mu_);
          sent_[std::string(book_.market) + "#" + std::to_string(book_.seq)] = book_.ts_us * 1000;
          ++frames_;
          continue;
        }
        uint64_t u = 0, sim_ns = 0;
        if (lighter_) {
          // update/order_book on "order_book:<m>": the nonce perpgwd reports as venue_sequence
          // and the frame's `timestamp`, the sim's send time in ms (the only sim time a Lighter
          // frame carries; it truncates, so sim-to-client reads up to 1 ms long). Snapshots
          // (subscribed/order_book) are not matched: the samples exclude them.
          constexpr std::string_view kBook = "{\"channel\":\"order_book:";
          if (text.substr(0, kBook.size()) != kBook ||
              text.find("\"type\":\"update/order_book\"") == std::string_view::npos ||
              !number_after(text, "\"nonce\":", &u) ||
              !number_after(text, "\"timestamp\":", &sim_ns)) {
            continue;
          }
          const size_t c0 = 12;  // after {"channel":"
          std::string key(text.substr(c0, text.find('"', c0) - c0));
          key += "#" + std::to_string(u);
          std::lock_guard<std::mutex> l(mu_);
          sent_[key] = static_cast<int64_t>(sim_ns) * 1000000;
          ++frames_;
          continue;
        }
        size_t st = text.find("\"stream\":\"");
        if (st == std::string_view::npos || !number_after(text, "\"sim_ns\":", &sim_ns) ||
            !number_after(text, "\"u\":", &u)) {
          continue;
        }
        st += 10;
        const std::string_view stream = text.substr(st, text.find('"', st) - st);
        std::string key = std::string(stream.substr(0, stream.find('@'))) + "#" + std::to_string(u);
        std::lock_guard<std::mutex> l(mu_);
        sent_[key] = static_cast<int64_t>(sim_ns);
        ++frames_;
      }
    } catch (const std::exception&) {
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      ws_ = nullptr;
    }
    ws.reset();
  }
  const bool lighter_;
  std::string host_, port_, target_;
  std::vector<std::string> subscribes_;
  perpgw::adapters::paradex::sbe::BookEvent book_;
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
  uint64_t seq;        // the stream's per-pair sequence (+1 per message)
  int64_t recv_ns;     // client receive (CLOCK_REALTIME)
  int64_t gw_recv_ns;  // receive_time_ns
  int64_t gw_send_ns;  // send_time_ns (the bus serialized the update)
  int32_t market;      // index into the tickers
};

std::atomic<bool> g_recording{false};

class BookReader : public grpc::ClientReadReactor<v1::OrderBookUpdate> {
 public:
  BookReader(v1::MarketDataService::Stub* stub, const std::vector<std::string>& tickers,
             const std::string& venue = "aster")
      : tickers_(tickers) {
    for (const auto& t : tickers) {
      auto* m = req_.add_markets();
      m->set_venue(venue);
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
            {msg_.venue_sequence(), msg_.sequence(), now, msg_.receive_time_ns(),
             msg_.send_time_ns(), idx});
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
  StalledReader(int port, const std::vector<std::string>& tickers, const std::string& venue)
      : channel_(NewChannel(port)) {
    stub_ = v1::MarketDataService::NewStub(channel_);
    for (const auto& t : tickers) {
      auto* m = req_.add_markets();
      m->set_venue(venue);
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
  std::string venue;
  std::string label;
  double rate = 0;  // sim book updates/s requested
  int k = 0;
  bool stalled = false;
  double seconds = 0;
  double sim_updates_per_s = 0;  // achieved by the generator
  double in_frames_per_s = 0;    // distinct depth frames the clients saw per second
  double venue_frames_per_s = 0;  // every WS frame of the adapter's streams (tap count)
  double venue_depth_frames_per_s = 0;  // depth frames the venue sent (tap count)
  bool held = false;
  double delivered_per_s = 0;    // messages delivered to all subscribers per second
  double cpu_ms_per_1000_delivered = 0, cpu_ms_per_1000_in = 0, cpu_pct = 0;
  long rss_kb = 0;
  uint64_t resyncs = 0;
  uint64_t gaps = 0;  // messages missing from a reader's sequence (never expected)
  double sim_matched = 0;  // share of samples matched to a tapped sim frame
  Pct gw_lat, sim_lat;
  Pct gw_internal;  // send_time_ns - receive_time_ns: adapter + bus up to serialization
  Pct gw_out;       // client receive - send_time_ns: mailbox, gRPC, loopback, client
};

PointResult RunPoint(Stack& s, const VenueSpec& venue, SimTap& tap, double rate, int k,
                     bool stalled, double seconds, const std::vector<std::string>& tickers) {
  PointResult r;
  r.venue = venue.name;
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
  if (stalled) stall = std::make_unique<StalledReader>(s.port, tickers, venue.name);
  std::vector<std::unique_ptr<BookReader>> readers;
  for (int i = 0; i < k; ++i) {
    readers.push_back(std::make_unique<BookReader>(stubs[i % nch].get(), tickers, venue.name));
  }
  std::this_thread::sleep_for(Millis(1500));  // snapshots, warm-up (and the stall backs up)
  const double cpu0 = ProcCpuSeconds(s.gw->pid());
  const uint64_t up0 = s.UpdatesPublished(venue.name);
  const uint64_t tf0 = tap.all_frames(), df0 = tap.frames();
  const int64_t t0 = MonoNs();
  g_recording = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  g_recording = false;
  const int64_t t1 = MonoNs();
  const double cpu1 = ProcCpuSeconds(s.gw->pid());
  const uint64_t up1 = s.UpdatesPublished(venue.name);
  const uint64_t tf1 = tap.all_frames(), df1 = tap.frames();
  r.rss_kb = ProcRssKb(s.gw->pid());
  std::this_thread::sleep_for(Millis(300));  // let the tap catch up before matching
  std::vector<int64_t> gw, sim, internal, outbound;
  uint64_t delivered = 0, matched = 0;
  std::unordered_map<uint64_t, int> distinct;
  for (auto& rd : readers) {
    std::unordered_map<int32_t, uint64_t> last_seq;  // per market, this reader
    for (const Sample& x : rd->TakeSamples()) {
      // Every message perpgwd sent reached this reader: per-pair sequences have no holes.
      uint64_t& last = last_seq[x.market];
      if (last != 0 && x.seq > last + 1) r.gaps += x.seq - last - 1;
      last = x.seq;
      ++delivered;
      ++distinct[x.venue_seq * 131 + x.market];
      gw.push_back(x.recv_ns - x.gw_recv_ns);
      internal.push_back(x.gw_send_ns - x.gw_recv_ns);
      outbound.push_back(x.recv_ns - x.gw_send_ns);
      if (auto sn = tap.SimNs(venue.TapKey(tickers[x.market], x.market), x.venue_seq)) {
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
  r.venue_depth_frames_per_s = (df1 - df0) / r.seconds;
  r.cpu_ms_per_1000_in = tf1 > tf0 ? cpu * 1e3 / ((tf1 - tf0) / 1000.0) : 0;
  r.sim_matched = delivered ? static_cast<double>(matched) / delivered : 0;
  r.gw_lat = Percentiles(std::move(gw));
  r.sim_lat = Percentiles(std::move(sim));
  r.gw_internal = Percentiles(std::move(internal));
  r.gw_out = Percentiles(std::move(outbound));
  // Held: the generator ran at the requested rate, no subscriber was resynced, every subscriber
  // got every message perpgwd sent (no hole in its per-pair sequence), and the data was
  // fresh: gateway-added and sim-to-client p99 under 50 ms, the latter measured on >= 90 % of
  // the samples (a tap that cannot keep up leaves the sim side unknown: not held).
  r.held = r.sim_updates_per_s >= 0.95 * rate && r.resyncs == 0 && delivered > 0 &&
           r.gaps == 0 &&
           r.gw_lat.p99 < 50000 && r.sim_matched >= 0.9 && r.sim_lat.p99 < 50000;
  return r;
}

std::string PointJson(const PointResult& r) {
  std::ostringstream o;
  o << "{\"venue\":\"" << r.venue << "\",\"label\":\"" << r.label << "\",\"sim_rate\":" << r.rate << ",\"subscribers\":" << r.k
    << ",\"stalled_subscriber\":" << (r.stalled ? "true" : "false")
    << ",\"seconds\":" << r.seconds << ",\"sim_updates_per_s\":" << r.sim_updates_per_s
    << ",\"depth_frames_per_s\":" << r.in_frames_per_s
    << ",\"delivered_msgs_per_s\":" << r.delivered_per_s
    << ",\"venue_frames_per_s\":" << r.venue_frames_per_s
    << ",\"venue_depth_frames_per_s\":" << r.venue_depth_frames_per_s
    << ",\"held\":" << (r.held ? "true" : "false")
    << ",\"perpgwd_cpu_pct\":" << r.cpu_pct
    << ",\"perpgwd_cpu_ms_per_1000_delivered\":" << r.cpu_ms_per_1000_delivered
    << ",\"perpgwd_cpu_ms_per_1000_venue_frames\":" << r.cpu_ms_per_1000_in
    << ",\"perpgwd_rss_kb\":" << r.rss_kb << ",\"resyncs\":" << r.resyncs
    << ",\"sequence_gaps\":" << r.gaps
    << ",\"sim_ns_matched_share\":" << r.sim_matched
    << ",\"gateway_latency\":" << PctJson(r.gw_lat) << ",\"sim_to_client_latency\":"
    << PctJson(r.sim_lat) << ",\"gateway_receive_to_serialize\":" << PctJson(r.gw_internal)
    << ",\"serialize_to_client\":" << PctJson(r.gw_out) << "}";
  return o.str();
}

void PrintPoint(const PointResult& r) {
  std::printf(
      "%-8s %-18s K=%-3d upd/s %7.0f venue fr/s %7.0f depth fr/s %6.1f deliv/s %7.1f | gw-added p50 %7.1f p99 %8.1f "
      "p999 %8.1f us | split p50 %.0f+%.0f | sim->client p50 %8.1f p99 %8.1f p999 %8.1f us (matched %.2f) | cpu "
      "%5.1f%% %6.2f ms/1k venue fr | rss %ld kB | resyncs %llu%s\n",
      r.venue.c_str(), r.label.c_str(), r.k, r.sim_updates_per_s, r.venue_frames_per_s, r.in_frames_per_s, r.delivered_per_s,
      r.gw_lat.p50, r.gw_lat.p99, r.gw_lat.p999, r.gw_internal.p50, r.gw_out.p50, r.sim_lat.p50, r.sim_lat.p99, r.sim_lat.p999,
      r.sim_matched, r.cpu_pct, r.cpu_ms_per_1000_in, r.rss_kb,
      static_cast<unsigned long long>(r.resyncs), r.held ? "" : " NOT HELD");
  std::fflush(stdout);
}


// ------------------------------------------------------------------------------ gRPC floor
// The physical ceiling of the last hop: a minimal StreamOrderBooks server in a child process of
// this binary (no venue, no adapter, no bus: one producer thread stamps send_time_ns, serializes
// once and calls StartWrite on every idle stream), read by the same BookReader clients as the
// gateway. Its client receive - send_time_ns is what any gRPC server costs on this machine, to
// set beside perpgwd's serialize -> client.
class FloorStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FloorStream(bool hint, std::function<void(FloorStream*)> on_done)
      : hint_(hint), on_done_(std::move(on_done)) {}
  // Producer thread. Queues like perpgwd's mailbox (bounded; the floor drops beyond the bound).
  void Offer(const grpc::ByteBuffer& m) {
    std::lock_guard<std::mutex> l(mu_);
    if (done_ || queue_.size() >= 4096) return;
    queue_.push_back(m);
    MaybeWriteLocked();
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> l(mu_);
    writing_ = false;
    if (ok) MaybeWriteLocked();
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> l(mu_);
    if (!done_) Finish(grpc::Status::CANCELLED);
    done_ = true;
  }
  void OnDone() override {
    on_done_(this);
    delete this;
  }

 private:
  void MaybeWriteLocked() {
    if (writing_ || done_ || queue_.empty()) return;
    cur_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    grpc::WriteOptions wo;
    // More queued: let gRPC buffer this one and flush with the next unhinted write.
    if (hint_ && !queue_.empty()) wo.set_buffer_hint();
    StartWrite(&cur_, wo);
  }
  const bool hint_;
  std::function<void(FloorStream*)> on_done_;
  std::mutex mu_;
  std::deque<grpc::ByteBuffer> queue_;
  grpc::ByteBuffer cur_;
  bool writing_ = false, done_ = false;
};

class FloorService final
    : public v1::MarketDataService::WithRawCallbackMethod_StreamOrderBooks<
          v1::MarketDataService::Service> {
 public:
  explicit FloorService(bool hint) : hint_(hint) {}
  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamOrderBooks(grpc::CallbackServerContext*,
                                                                const grpc::ByteBuffer*) override {
    auto* s = new FloorStream(hint_, [this](FloorStream* x) {
      std::lock_guard<std::mutex> l(mu_);
      streams_.erase(std::remove(streams_.begin(), streams_.end(), x), streams_.end());
    });
    std::lock_guard<std::mutex> l(mu_);
    streams_.push_back(s);
    return s;
  }
  void Produce(double rate, const std::atomic<bool>& stop) {
    const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / rate));
    auto next = std::chrono::steady_clock::now();
    uint64_t seq = 0;
    while (!stop.load()) {
      next += period;
      std::this_thread::sleep_until(next);
      // Shaped like a gateway delta: market, ids, times and 5 changed levels a side.
      v1::OrderBookUpdate m;
      m.mutable_market()->set_venue("floor");
      m.mutable_market()->set_symbol("BTC");
      m.set_status(v1::BOOK_STATUS_LIVE);
      m.set_sequence(++seq);
      m.set_venue_sequence(seq);
      m.set_exchange_time_ns(RealNs());
      m.set_receive_time_ns(RealNs());
      for (int i = 0; i < 5; ++i) {
        auto* b = m.add_bids();
        b->set_price(std::to_string(100000 - i) + ".10000000");
        b->set_size("1.25000000");
        auto* a = m.add_asks();
        a->set_price(std::to_string(100001 + i) + ".10000000");
        a->set_size("0.75000000");
      }
      m.set_send_time_ns(RealNs());
      grpc::ByteBuffer bb;
      bool own = false;
      grpc::SerializationTraits<v1::OrderBookUpdate>::Serialize(m, &bb, &own);
      std::lock_guard<std::mutex> l(mu_);
      for (auto* s : streams_) s->Offer(bb);
    }
  }

 private:
  const bool hint_;
  std::mutex mu_;
  std::vector<FloorStream*> streams_;
};

// Child mode (`--floor-serve PORT_FILE RATE hint|plain`): serves until the harness terminates it.
int ServeFloor(const std::string& port_file, double rate, bool hint) {
  FloorService svc(hint);
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&svc);
  auto server = b.BuildAndStart();
  if (!server || port == 0) return 1;
  pt::WriteFile(port_file, std::to_string(port) + "\n");
  std::atomic<bool> stop{false};
  svc.Produce(rate, stop);  // runs until the process is killed
  return 0;
}

struct FloorResult {
  double rate = 0;
  int k = 0;
  double delivered_per_s = 0;
  Pct out;
};

FloorResult RunFloorPoint(double rate, int k, bool hint, double seconds, std::string* err) {
  FloorResult r;
  r.rate = rate;
  r.k = k;
  pt::TempDir dir("perpgw-floor");
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    *err = "readlink /proc/self/exe failed";
    return r;
  }
  self[n] = 0;
  pt::ProcessOptions po;
  po.argv = {self, "--floor-serve", dir.File("port"), std::to_string(rate),
             hint ? "hint" : "plain"};
  po.log_path = dir.File("floor.log");
  auto child = pt::ChildProcess::Spawn(po, err);
  if (!child) return r;
  auto port = pt::WaitForPortFile(dir.File("port"), Millis(10000), child.get());
  if (!port) {
    *err = "floor server did not start: " + child->ReadLog();
    return r;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::MarketDataService::Stub>> stubs;
  const int nch = std::min(k, 10);
  for (int i = 0; i < nch; ++i) {
    channels.push_back(NewChannel(*port));
    stubs.push_back(v1::MarketDataService::NewStub(channels.back()));
  }
  std::vector<std::unique_ptr<BookReader>> readers;
  const std::vector<std::string> tickers = {"BTC"};
  for (int i = 0; i < k; ++i) {
    readers.push_back(std::make_unique<BookReader>(stubs[i % nch].get(), tickers, "floor"));
  }
  std::this_thread::sleep_for(Millis(1000));
  const int64_t t0 = MonoNs();
  g_recording = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  g_recording = false;
  const int64_t t1 = MonoNs();
  std::vector<int64_t> out;
  for (auto& rd : readers) {
    for (const Sample& x : rd->TakeSamples()) out.push_back(x.recv_ns - x.gw_send_ns);
  }
  for (auto& rd : readers) rd->Stop();
  r.delivered_per_s = out.size() / ((t1 - t0) / 1e9);
  r.out = Percentiles(std::move(out));
  child->Terminate(Millis(3000));
  return r;
}

// ------------------------------------------------------------------------------ order path
struct OrderResult {
  std::string venue;
  Pct gateway, direct, sign, unary;
  // Lighter: the direct order from sending until it shows on the account_all_orders channel
  // (sendTx only accepts; perpgwd's Lighter ack waits for that showing). n = 0 elsewhere.
  Pct direct_shown;
  int n = 0;
  int gw_accepted = 0, direct_ok = 0, direct_shown_ok = 0;
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
  int Send(beast::http::verb verb, const std::string& target,
           const std::vector<std::pair<std::string, std::string>>& headers,
           const std::string& request_body, std::string* body,
           const std::string& content_type = "application/json; charset=utf-8") {
    beast::http::request<beast::http::string_body> req{verb, target, 11};
    req.set(beast::http::field::host, host_);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!request_body.empty()) {
      req.set(beast::http::field::content_type, content_type);
      req.body() = request_body;
    }
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

// One direct order: the venue's own REST call, signed by the venue's signing library. Returns
// the signing time (ns) and fills *code / *out; the round trip is timed by the caller around Send.
struct DirectOrder {
  std::string target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json; charset=utf-8";
};

namespace bp = perpgw::adapters::backpack;
namespace pxs = perpgw::adapters::paradex;

// Paradex direct client state: the account's Stark key and cached message hasher, the JWT from
// POST /v1/auth (5 min; the order section is far shorter) and BTC's instrument as the sim
// configures it (tick 0.1, step 0.001).
struct ParadexDirect {
  std::optional<pxs::StarkKey> key;
  std::optional<pxs::MessageHasher> hasher;
  std::string jwt;
  perpgw::Instrument inst;

  std::string Init(DirectHttp& http, const VenueEndpoints& ve, const std::string& market) {
    std::string body;
    if (http.Send(beast::http::verb::get, "/v1/system/config", {}, "", &body) != 200) {
      return "GET /v1/system/config: " + body.substr(0, 200);
    }
    pxs::Codec codec;
    auto cfg = codec.ParseSystemConfig(body);
    if (!cfg.ok()) return "system config: " + std::string(cfg.status().message());
    auto k = pxs::StarkKey::FromPrivateHex(ve.creds.at("stark_private_key"));
    auto account = pxs::ParseFelt(ve.creds.at("account"));
    if (!k.ok() || !account.ok()) return "bad Paradex sim key or account";
    key.emplace(std::move(*k));
    auto h = pxs::MessageHasher::Create(cfg->starknet_chain_id, *account);
    if (!h.ok()) return "hasher: " + std::string(h.status().message());
    hasher.emplace(std::move(*h));
    const uint64_t ts = static_cast<uint64_t>(RealNs() / 1000000000);
    auto headers = pxs::AuthHeaders(*key, cfg->starknet_chain_id, ve.creds.at("account"), ts, ts + 300);
    if (!headers.ok()) return "auth headers: " + std::string(headers.status().message());
    if (http.Send(beast::http::verb::post, "/v1/auth", *headers, "", &body) != 200) {
      return "POST /v1/auth: " + body.substr(0, 200);
    }
    auto token = codec.ParseAuth(body);
    if (!token.ok()) return "auth: " + std::string(token.status().message());
    jwt = *token;
    inst.venue = "paradex";
    inst.symbol = "BTC";
    inst.venue_symbol = market;
    inst.tick_size = *perpgw::Decimal::Parse("0.1");
    inst.step_size = *perpgw::Decimal::Parse("0.001");
    inst.price_scale = 1;
    inst.size_scale = 3;
    return "";
  }
};

namespace lts = perpgw::adapters::lighter;

// The path part of a URL ("http://h:p/api/v1" -> "/api/v1").
std::string UrlPath(const std::string& url) {
  const std::string rest = url.substr(url.find("//") + 2);
  const size_t p = rest.find('/');
  return p == std::string::npos ? "" : rest.substr(p);
}

// Lighter direct client state: a sim account's API key (never the gateway's: nonces are
// strictly sequential per API key, so a second signer on the gateway's key would break both),
// its nonce counter (GET /nextNonce once, then +1 per accepted tx), BTC's market row from
// orderBookDetails and an auth token for its account channel.
struct LighterDirect {
  std::optional<lts::PrivateKey> key;
  int64_t account_index = -1;
  uint8_t api_key_index = 0;
  int64_t next_nonce = 0;
  lts::MarketInfo market;
  std::string api;  // "/api/v1"
  std::string token;
  lts::Codec codec;

  std::string Init(DirectHttp& http, const VenueEndpoints& ve, const std::string& venue_symbol) {
    if (ve.other_account.empty()) {
      return "the Lighter sim has one API-key account: the direct client needs its own key "
             "(nonces are per key)";
    }
    const auto& c = ve.other_creds;
    if (!c.count("api_private_key") || !c.count("account_index") || !c.count("api_key_index")) {
      return "Lighter sim account " + ve.other_account + " lacks account_index/api_key_index/"
             "api_private_key";
    }
    auto k = lts::PrivateKey::FromHex(c.at("api_private_key"));
    if (!k.ok()) return "bad Lighter sim key: " + std::string(k.status().message());
    key.emplace(std::move(*k));
    account_index = std::atoll(c.at("account_index").c_str());
    api_key_index = static_cast<uint8_t>(std::atoi(c.at("api_key_index").c_str()));
    api = UrlPath(LighterUrl(ve.rest_url, "/api/v1"));
    std::string body;
    if (http.Send(beast::http::verb::get, api + "/orderBookDetails", {}, "", &body) != 200) {
      return "GET orderBookDetails: " + body.substr(0, 200);
    }
    auto markets = codec.ParseOrderBookDetails(body, nullptr);
    if (!markets.ok()) return "orderBookDetails: " + std::string(markets.status().message());
    bool found = false;
    for (const auto& m : *markets) {
      if (m.instrument.venue_symbol == venue_symbol) {
        market = m;
        found = true;
      }
    }
    if (!found) return "no Lighter market " + venue_symbol;
    if (std::string e = FetchNonce(http); !e.empty()) return e;
    auto t = lts::MakeAuthToken(RealNs() / 1000000000 + 3600, account_index, api_key_index, *key);
    if (!t.ok()) return "auth token: " + std::string(t.status().message());
    token = *t;
    return "";
  }
  std::string FetchNonce(DirectHttp& http) {
    std::string body;
    const int code = http.Send(beast::http::verb::get,
                               api + "/nextNonce?account_index=" + std::to_string(account_index) +
                                   "&api_key_index=" + std::to_string(api_key_index),
                               {}, "", &body);
    if (code != 200) return "GET nextNonce: HTTP " + std::to_string(code) + " " + body.substr(0, 200);
    auto n = codec.ParseNextNonce(body);
    if (!n.ok()) return "nextNonce: " + std::string(n.status().message());
    next_nonce = *n;
    return "";
  }
  // An accepted tx used the nonce; anything else re-reads it (untimed).
  bool Accepted(DirectHttp& http, int http_code, const std::string& body) {
    auto r = codec.ParseSendTx(body);
    const bool ok = http_code == 200 && r.ok() && r->code == 200;
    if (ok) {
      ++next_nonce;
    } else {
      (void)FetchNonce(http);
    }
    return ok;
  }
  // CancelAllOrders (immediate) on the direct account, untimed.
  void CancelAll(DirectHttp& http) {
    lts::CancelAllOrdersTx tx;
    tx.account_index = account_index;
    tx.api_key_index = api_key_index;
    tx.time_in_force = lts::CancelAllTimeInForce::kImmediate;
    tx.expired_at = RealNs() / 1000000 + 30000;
    tx.nonce = next_nonce;
    auto st = lts::SignTx(tx, lts::kMainnetChainId, *key);
    if (!st.ok()) return;
    std::string body;
    const int code = http.Send(beast::http::verb::post, api + "/sendTx", {},
                               lts::EncodeSendTxForm(lts::TxType::kCancelAllOrders, st->tx_info),
                               &body, "application/x-www-form-urlencoded");
    (void)Accepted(http, code, body);
  }
};

// The Lighter direct account's account_all_orders channel on the sim's /stream (auth token in
// the subscribe): when each client order index first shows (CLOCK_MONOTONIC at the frame's
// read, before parsing).
class LighterOrderWatch {
 public:
  LighterOrderWatch(const std::string& ws_url, int64_t account_index, const std::string& token,
                    const lts::MarketInfo& market) {
    const std::string url = LighterUrl(ws_url, "/stream");
    const std::string rest = url.substr(url.find("//") + 2);
    const std::string hostport = rest.substr(0, rest.find('/'));
    host_ = hostport.substr(0, hostport.find(':'));
    port_ = hostport.substr(hostport.find(':') + 1);
    target_ = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
    subscribe_ = lts::EncodeSubscribe(lts::AccountAllOrdersChannel(account_index), token);
    symbols_.Add(market.instrument, market.market_index);
    thread_ = std::thread([this] { Run(); });
  }
  ~LighterOrderWatch() {
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
  // The channel's snapshot arrived (subscribed), within `timeout`.
  bool WaitSubscribed(Millis timeout) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return subscribed_ || done_; }) && subscribed_;
  }
  std::optional<int64_t> WaitShown(int64_t client_index, Millis timeout) {
    std::unique_lock<std::mutex> l(mu_);
    const std::string key = std::to_string(client_index);
    cv_.wait_for(l, timeout, [&] { return seen_.count(key) > 0 || done_; });
    auto it = seen_.find(key);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }
  std::string error() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  void Run() {
    asio::io_context ioc;
    std::unique_ptr<beast::websocket::stream<beast::tcp_stream>> ws;
    lts::Codec codec;
    try {
      tcp::resolver resolver(ioc);
      ws = std::make_unique<beast::websocket::stream<beast::tcp_stream>>(ioc);
      beast::get_lowest_layer(*ws).connect(resolver.resolve(host_, port_));
      beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay(true));
      ws->handshake(host_ + ":" + port_, target_);
      ws->write(asio::buffer(subscribe_));
      {
        std::lock_guard<std::mutex> l(mu_);
        ws_ = ws.get();
      }
      beast::flat_buffer buf;
      int64_t last_ping = MonoNs();
      while (!stop_) {
        buf.clear();
        ws->read(buf);
        const int64_t now = MonoNs();
        const std::string_view text(static_cast<const char*>(buf.data().data()), buf.size());
        if (now - last_ping > 30'000'000'000LL) {  // the venue's 2-minute idle close
          ws->write(asio::buffer(lts::EncodePing()));
          last_ping = now;
        }
        lts::WsFrameInfo info;
        if (!codec.ClassifyWsFrame(text, &info).ok()) continue;
        if (info.type == lts::WsType::kError) {
          std::lock_guard<std::mutex> l(mu_);
          if (error_.empty()) {
            error_ = std::to_string(info.error_code) + " " + info.error_message;
          }
          continue;
        }
        if (info.channel_kind != lts::ChannelKind::kAccountAllOrders ||
            (info.type != lts::WsType::kSubscribed && info.type != lts::WsType::kUpdate)) {
          continue;
        }
        auto orders = codec.ParseOrders(text, symbols_);
        std::lock_guard<std::mutex> l(mu_);
        if (info.type == lts::WsType::kSubscribed) subscribed_ = true;
        if (!orders.ok()) {
          if (error_.empty()) error_ = "account_all_orders: " + std::string(orders.status().message());
        } else {
          for (const auto& o : *orders) {
            if (!o.client_order_id.empty()) seen_.emplace(o.client_order_id, now);
          }
        }
        cv_.notify_all();
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> l(mu_);
      if (error_.empty() && !stop_) error_ = std::string("account stream: ") + e.what();
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      ws_ = nullptr;
      done_ = true;
      cv_.notify_all();
    }
    ws.reset();
  }
  std::string host_, port_, target_, subscribe_;
  lts::SymbolTable symbols_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false, done_ = false;
  std::string error_;
  std::unordered_map<std::string, int64_t> seen_;  // client order index -> first shown
  beast::websocket::stream<beast::tcp_stream>* ws_ = nullptr;
};

// `signer`: the Backpack account's Ed25519 signer; `pdx`: the Paradex client; `ltd`: the
// Lighter client (each unused by the other venues).
bool SignDirect(const VenueSpec& venue, const VenueEndpoints& ve, const bp::Signer* signer,
                const ParadexDirect* pdx, const LighterDirect* ltd, const std::string& price,
                const std::string& client_id, int64_t* sign_ns, DirectOrder* out) {
  const int64_t ts = RealNs() / 1000000;
  if (venue.lighter()) {
    if (ltd == nullptr || !ltd->key) return false;
    // A post-only limit buy as the SDK builds it: integer price and base amount at the
    // market's decimals (exact), post-only with the SDK's 28-day order expiry, the tx valid
    // for 30 s (as perpgwd signs), the next nonce of the key. Timed: SignTx (hash + Schnorr +
    // tx_info), as perpgwd's signing histogram times it.
    auto px = lts::ScalePrice(price, ltd->market.price_decimals);
    auto base = lts::ScaleBaseAmount("0.001", ltd->market.size_decimals);
    int64_t cidx = 0;
    if (!px.ok() || !base.ok() || !absl::SimpleAtoi(client_id, &cidx)) return false;
    lts::CreateOrderTx tx;
    tx.account_index = ltd->account_index;
    tx.api_key_index = ltd->api_key_index;
    tx.market_index = static_cast<int16_t>(ltd->market.market_index);
    tx.client_order_index = cidx;
    tx.base_amount = *base;
    tx.price = *px;
    tx.is_ask = false;
    tx.type = lts::OrderType::kLimit;
    tx.time_in_force = lts::TimeInForce::kPostOnly;
    tx.order_expiry = ts + lts::kDefaultGttExpiryMs;
    tx.expired_at = ts + 30000;
    tx.nonce = ltd->next_nonce;
    const int64_t s0 = MonoNs();
    auto st = lts::SignTx(tx, lts::kMainnetChainId, *ltd->key);
    *sign_ns = MonoNs() - s0;
    if (!st.ok()) return false;
    out->target = ltd->api + "/sendTx";
    out->body = lts::EncodeSendTxForm(lts::TxType::kCreateOrder, st->tx_info);
    out->content_type = "application/x-www-form-urlencoded";
    return true;
  }
  if (venue.paradex()) {
    if (pdx == nullptr || !pdx->key) return false;
    // What the adapter's submit hook does: encode and check the fields, hash with the cached
    // hasher, sign, write the body.
    const int64_t s0 = MonoNs();
    perpgw::OrderRequest req;
    req.account = ve.account;
    req.symbol = "BTC";
    req.side = perpgw::Side::kBuy;
    req.type = perpgw::OrderType::kLimit;
    req.tif = perpgw::TimeInForce::kPostOnly;
    auto px = perpgw::Decimal::Parse(price);
    if (!px.ok()) return false;
    req.price = *px;
    req.size = *perpgw::Decimal::Parse("0.001");
    auto enc = pxs::EncodeOrderFields(req, pdx->inst, client_id, static_cast<uint64_t>(ts));
    if (!enc.ok()) return false;
    auto hash = pdx->hasher->Order(enc->signed_fields);
    if (!hash.ok()) return false;
    auto sig = pdx->key->Sign(*hash);
    if (!sig.ok()) return false;
    out->body = pxs::EncodeOrderBody(req, pdx->inst, *enc, client_id, pxs::SignatureJson(*sig), 10000);
    *sign_ns = MonoNs() - s0;
    out->target = "/v1/orders";
    out->headers = {{"Authorization", "Bearer " + pdx->jwt}};
    return true;
  }
  if (venue.aster()) {
    const std::string params = "symbol=" + venue.SimSymbol("BTC") +
                               "&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.001&price=" +
                               price + "&newClientOrderId=" + client_id;
    const int64_t s0 = MonoNs();
    auto q = perpgw::adapters::aster::SignV1Params(ve.creds.at("api_secret"), params, ts, 5000);
    *sign_ns = MonoNs() - s0;
    if (!q.ok()) return false;
    out->target = "/fapi/v1/order?" + *q;
    out->headers = {{"X-MBX-APIKEY", ve.creds.at("api_key")}};
    return true;
  }
  if (signer == nullptr) return false;
  const std::string sym = venue.SimSymbol("BTC");
  const int64_t s0 = MonoNs();
  bp::ParamList pl;
  pl.Add("symbol", sym).Add("side", "Bid").Add("orderType", "Limit").Add("price", price)
      .Add("quantity", "0.001").AddBool("postOnly", true).Add("clientId", client_id);
  auto h = signer->Sign("orderExecute", std::move(pl).Take(), ts, 5000);
  *sign_ns = MonoNs() - s0;
  if (!h.ok()) return false;
  out->target = "/api/v1/order";
  out->body = "{\"symbol\":\"" + sym + "\",\"side\":\"Bid\",\"orderType\":\"Limit\",\"price\":\"" +
              price + "\",\"quantity\":\"0.001\",\"postOnly\":true,\"clientId\":" + client_id +
              "}";
  out->headers = {{std::string(bp::kHeaderApiKey), h->api_key},
                  {std::string(bp::kHeaderSignature), h->signature},
                  {std::string(bp::kHeaderTimestamp), h->timestamp},
                  {std::string(bp::kHeaderWindow), h->window}};
  return true;
}

OrderResult RunOrders(Stack& s, const VenueSpec& venue, int n) {
  OrderResult r;
  r.venue = venue.name;
  r.n = n;
  const VenueEndpoints& ve = s.venues.at(venue.name);
  if (ve.account.empty()) {
    r.note = "no trading account for " + venue.name + " in the sim's endpoints";
    return r;
  }
  auto body = Curl({s.control_url + "/book?venue=" + venue.name + "&symbol=" +
                    venue.SimSymbol("BTC") + "&depth=1"});
  int64_t mid = 100000;
  if (body) {
    size_t p = body->find("\"mid\":");
    if (p != std::string::npos) {
      size_t q = body->find_first_of("0123456789", p);
      mid = std::atoll(body->c_str() + q);
    }
  }
  const std::string price = std::to_string(mid * 8 / 10);  // far below the touch: never fills
  auto trading = v1::TradingService::NewStub(s.channel);
  auto gateway = v1::GatewayService::NewStub(s.channel);
  DirectHttp direct(ve.rest_url);
  std::optional<bp::Signer> signer;
  ParadexDirect pdx;
  LighterDirect ltd;
  std::unique_ptr<LighterOrderWatch> watch;
  if (venue.paradex()) {
    r.note = pdx.Init(direct, ve, venue.SimSymbol("BTC"));
    if (!r.note.empty()) return r;
  } else if (venue.lighter()) {
    r.note = ltd.Init(direct, ve, venue.SimSymbol("BTC"));
    if (!r.note.empty()) return r;
    watch = std::make_unique<LighterOrderWatch>(ve.ws_url, ltd.account_index, ltd.token, ltd.market);
    if (!watch->WaitSubscribed(Millis(5000))) {
      r.note = "direct account_all_orders never subscribed: " + watch->error();
      return r;
    }
  } else if (!venue.aster()) {
    auto sg = bp::Signer::FromSecretBase64(ve.creds.at("api_secret"));
    if (!sg.ok()) {
      r.note = "bad Backpack sim secret";
      return r;
    }
    signer.emplace(std::move(*sg));
  }
  const bp::Signer* sp = signer ? &*signer : nullptr;
  std::vector<int64_t> gw, dir, sign, unary, shown;
  const int64_t run_id = RealNs() / 1000000 % 100000000;
  // The sims cap open orders per account: cancel everything every 50 pairs (untimed).
  auto cancel_all = [&] {
    v1::CancelAllOrdersRequest ca;
    ca.set_account(ve.account);
    ca.mutable_market()->set_venue(venue.name);
    ca.mutable_market()->set_symbol("BTC");
    v1::CancelAllOrdersResponse car;
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    trading->CancelAllOrders(&cctx, ca, &car);
    if (venue.lighter()) ltd.CancelAll(direct);  // the direct client's own account
  };
  for (int i = 0; i < n; ++i) {
    if (i > 0 && i % 50 == 0) cancel_all();
    // Through the gateway.
    v1::PlaceOrderRequest req;
    req.set_account(ve.account);
    req.mutable_market()->set_venue(venue.name);
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
    // The unary floor through perpgwd: a call with no venue work (GetVersion), same channel.
    {
      v1::GetVersionRequest vreq;
      v1::GetVersionResponse vresp;
      grpc::ClientContext vctx;
      vctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      const int64_t u0 = MonoNs();
      if (gateway->GetVersion(&vctx, vreq, &vresp).ok()) unary.push_back(MonoNs() - u0);
    }
    // Direct: sign (timed separately) + send the same request. Backpack client ids are uint32;
    // Lighter's client order indexes are below 2^48.
    const std::string cid = venue.aster()
                                ? "bd" + std::to_string(run_id) + "x" + std::to_string(i)
                                : std::to_string(3000000000u + (run_id % 1000) * 1000 + i);
    DirectOrder d;
    int64_t sign_ns = 0;
    if (!SignDirect(venue, ve, sp, &pdx, &ltd, price, cid, &sign_ns, &d)) {
      if (r.note.empty()) r.note = "direct: signing failed";
      continue;
    }
    sign.push_back(sign_ns);
    std::string out;
    int64_t d0 = MonoNs();
    int code = direct.Send(beast::http::verb::post, d.target, d.headers, d.body, &out,
                           d.content_type);
    int64_t d1 = MonoNs();
    // Paradex answers 201 (queued); Lighter 200 with its own code 200 (accepted).
    const bool ok = venue.lighter() ? ltd.Accepted(direct, code, out) : (code == 200 || code == 201);
    if (ok) {
      ++r.direct_ok;
      dir.push_back(d1 - d0);
    } else if (r.note.empty()) {
      r.note = "direct: HTTP " + std::to_string(code) + " " + out.substr(0, 200);
    }
    if (ok && watch) {
      // Until the order shows on the direct account's account_all_orders channel (untimed
      // wait beyond the answer; the figure is shown - d0).
      if (auto t = watch->WaitShown(std::atoll(cid.c_str()), Millis(3000))) {
        ++r.direct_shown_ok;
        shown.push_back(*t - d0);
      } else if (r.note.empty()) {
        r.note = "direct: order " + cid + " never showed on account_all_orders " + watch->error();
      }
    }
  }
  cancel_all();  // leave nothing resting
  // Signing alone, many times (the per-order figure above includes a cold first call).
  for (int i = 0; i < 2000; ++i) {
    DirectOrder d;
    int64_t sign_ns = 0;
    if (SignDirect(venue, ve, sp, &pdx, &ltd, "80000", std::to_string(1000 + i), &sign_ns, &d)) {
      sign.push_back(sign_ns);
    }
  }
  r.gateway = Percentiles(std::move(gw));
  r.direct = Percentiles(std::move(dir));
  r.direct_shown = Percentiles(std::move(shown));
  r.sign = Percentiles(std::move(sign));
  r.unary = Percentiles(std::move(unary));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int orders = 300;
  std::string json_out, skip;
  std::vector<double> rates = {1000, 10000, 50000, 200000};
  std::vector<int> ks = {1, 10, 100};
  auto split = [](const std::string& csv) {
    std::vector<double> out;
    std::stringstream ss(csv);
    for (std::string x; std::getline(ss, x, ',');) out.push_back(std::atof(x.c_str()));
    return out;
  };
  if (argc == 5 && std::string(argv[1]) == "--floor-serve") {
    return ServeFloor(argv[2], std::atof(argv[3]), std::string(argv[4]) == "hint");
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--orders") orders = std::atoi(next().c_str());
    else if (a == "--json") json_out = next();
    else if (a == "--skip") skip = next();
    else if (a == "--rates") rates = split(next());
    else if (a == "--ks") {
      ks.clear();
      for (double k : split(next())) ks.push_back(static_cast<int>(k));
    }
    else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--orders N] [--json F] "
                   "[--skip floor,md,orders,memory,aster,backpack,paradex,lighter] [--rates 1000,...] "
                   "[--ks 1,10,...]\n",
                   argv[0]);
      return 2;
    }
  }
  const double load0 = LoadAvg1();
  std::vector<std::string> sections;
  std::string err;

  if (skip.find("floor") == std::string::npos) {
    std::ostringstream js;
    js << "\"grpc_floor\":[";
    bool first = true;
    // 10 msgs/s is what one Aster symbol's 100 ms diff stream carries; 1k and 10k match the
    // Backpack points (one message per generator update).
    for (double rate : {10.0, 1000.0, 10000.0}) {
      for (int k : {1, 10}) {
        for (bool hint : {false, true}) {
          FloorResult r = RunFloorPoint(rate, k, hint, seconds, &err);
          if (!err.empty()) {
            std::fprintf(stderr, "bench_e2e floor: %s\n", err.c_str());
            return 1;
          }
          std::printf("floor msgs/s %6.0f K=%-3d %s deliv/s %8.1f | serialize->client p50 %7.1f "
                      "p99 %8.1f p999 %8.1f us\n",
                      rate, k, hint ? "hint " : "plain", r.delivered_per_s, r.out.p50, r.out.p99,
                      r.out.p999);
          std::fflush(stdout);
          js << (first ? "" : ",") << "{\"msgs_per_s\":" << rate << ",\"subscribers\":" << k
             << ",\"writes\":\"" << (hint ? "hint" : "plain") << "\""
             << ",\"delivered_msgs_per_s\":" << r.delivered_per_s
             << ",\"serialize_to_client\":" << PctJson(r.out) << "}";
          first = false;
        }
      }
    }
    js << "]";
    sections.push_back(js.str());
  }

  const std::vector<VenueSpec> all_venues = {{"aster"}, {"backpack"}, {"paradex"}, {"lighter"}};
  if (skip.find("md") == std::string::npos || skip.find("orders") == std::string::npos) {
    std::ostringstream md, ord;
    md << "\"market_data\":[";
    ord << "\"orders\":[";
    bool first_md = true, first_ord = true;
    for (const VenueSpec& venue : all_venues) {
      if (skip.find(venue.name) != std::string::npos) continue;
      StackOptions o;
      o.venues = {venue};
      o.rate = 1000;
      o.account = true;
      o.instruments = 1;  // only BTC: the generator's whole rate lands on the measured book
      auto s = StartStack(o, &err);
      if (!s) {
        std::fprintf(stderr, "bench_e2e %s: %s\n", venue.name.c_str(), err.c_str());
        return 1;
      }
      if (skip.find("md") == std::string::npos) {
        const std::vector<std::string> tickers = {"BTC"};
        SimTap tap(venue, s->venues[venue.name].ws_url, venue.AdapterStreams(tickers));
        for (double rate : rates) {
          s->SetRate(venue.name, rate);
          std::this_thread::sleep_for(Millis(500));
          for (int k : ks) {
            PointResult r = RunPoint(*s, venue, tap, rate, k, false, seconds, tickers);
            r.label = "rate " + std::to_string(static_cast<int>(rate));
            PrintPoint(r);
            md << (first_md ? "" : ",") << PointJson(r);
            first_md = false;
          }
        }
      }
      if (skip.find("orders") == std::string::npos) {
        s->SetRate(venue.name, 1000);
        OrderResult r = RunOrders(*s, venue, orders);
        std::printf("orders %s: n=%d gw accepted %d direct ok %d | via perpgwd p50 %.1f p99 %.1f "
                    "us | direct p50 %.1f p99 %.1f us | added p50 %.1f p99 %.1f us | signing p50 "
                    "%.2f p99 %.2f us | unary GetVersion p50 %.1f p99 %.1f us %s\n",
                    venue.name.c_str(), r.n, r.gw_accepted, r.direct_ok, r.gateway.p50,
                    r.gateway.p99, r.direct.p50, r.direct.p99, r.gateway.p50 - r.direct.p50,
                    r.gateway.p99 - r.direct.p99, r.sign.p50, r.sign.p99, r.unary.p50,
                    r.unary.p99, r.note.c_str());
        if (venue.lighter()) {
          std::printf("orders %s: direct until shown on account_all_orders (n=%d) p50 %.1f p99 "
                      "%.1f us | added vs that p50 %.1f p99 %.1f us\n",
                      venue.name.c_str(), r.direct_shown_ok, r.direct_shown.p50,
                      r.direct_shown.p99, r.gateway.p50 - r.direct_shown.p50,
                      r.gateway.p99 - r.direct_shown.p99);
        }
        std::fflush(stdout);
        ord << (first_ord ? "" : ",") << "{\"venue\":\"" << venue.name << "\",\"n\":" << r.n
            << ",\"gateway_accepted\":" << r.gw_accepted << ",\"direct_ok\":" << r.direct_ok
            << ",\"via_gateway\":" << PctJson(r.gateway) << ",\"direct\":" << PctJson(r.direct)
            << ",\"gateway_added_p50_us\":" << r.gateway.p50 - r.direct.p50
            << ",\"gateway_added_p99_us\":" << r.gateway.p99 - r.direct.p99
            << ",\"signing\":" << PctJson(r.sign)
            << ",\"unary_get_version\":" << PctJson(r.unary);
        if (venue.lighter()) {
          // sendTx only accepts; perpgwd's ack waits for the account stream: the fair direct
          // figure is until the order shows there.
          ord << ",\"direct_shown_ok\":" << r.direct_shown_ok
              << ",\"direct_until_shown\":" << PctJson(r.direct_shown)
              << ",\"gateway_added_vs_shown_p50_us\":" << r.gateway.p50 - r.direct_shown.p50
              << ",\"gateway_added_vs_shown_p99_us\":" << r.gateway.p99 - r.direct_shown.p99;
        }
        if (!r.note.empty()) {
          std::string esc;
          for (char c : r.note) {
            if (c == '"' || c == '\\') esc += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) esc += c;
          }
          ord << ",\"note\":\"" << esc << "\"";
        }
        ord << "}";
        first_ord = false;
      }
    }
    md << "]";
    ord << "]";
    if (skip.find("md") == std::string::npos) sections.push_back(md.str());
    if (skip.find("orders") == std::string::npos) sections.push_back(ord.str());
  }

  if (skip.find("memory") == std::string::npos) {
    // Every venue with 50 books each, in one perpgwd.
    StackOptions o;
    o.venues.clear();
    for (const VenueSpec& v : all_venues) {
      if (skip.find(v.name) == std::string::npos) o.venues.push_back(v);
    }
    o.rate = 1000;
    o.instruments = 50;
    o.symbols.clear();
    for (int i = 0; i < 50; ++i) {
      // Letters-only bases so tickers stay as written (no multiplier prefixes).
      o.symbols.push_back(i == 0 ? std::string("BTC")
                                 : std::string("TK") + char('A' + i / 26) + char('A' + i % 26));
    }
    auto s = StartStack(o, &err);
    if (!s) {
      std::fprintf(stderr, "bench_e2e memory: %s\n", err.c_str());
      return 1;
    }
    // Wait until every book is live (GetOrderBook answers with levels), bounded.
    auto md = v1::MarketDataService::NewStub(s->channel);
    int live = 0;
    const int want = static_cast<int>(o.symbols.size() * o.venues.size());
    const int64_t deadline = MonoNs() + 30'000'000'000LL;
    while (MonoNs() < deadline) {
      live = 0;
      for (const VenueSpec& v : o.venues) {
        for (const auto& t : o.symbols) {
          v1::GetOrderBookRequest req;
          req.mutable_market()->set_venue(v.name);
          req.mutable_market()->set_symbol(t);
          req.set_depth(1);
          v1::OrderBook ob;
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
          if (md->GetOrderBook(&ctx, req, &ob).ok() && ob.bids_size() > 0) ++live;
        }
      }
      if (live == want) break;
      std::this_thread::sleep_for(Millis(500));
    }
    std::this_thread::sleep_for(Millis(1000));
    const long rss_idle = ProcRssKb(s->gw->pid());
    // Same stack, per venue: 10 subscribers on all 50 books; windows A B A B A back to back,
    // B adding one client that opens the stream and never reads.
    std::vector<PointResult> windows;
    for (const VenueSpec& v : o.venues) {
      SimTap tap(v, s->venues[v.name].ws_url, v.AdapterStreams(o.symbols));
      for (int w = 0; w < 5; ++w) {
        const bool stalled = (w % 2) == 1;
        PointResult p = RunPoint(*s, v, tap, o.rate, 10, stalled, seconds, o.symbols);
        p.label = stalled ? "50 books +stalled" : "50 books";
        PrintPoint(p);
        windows.push_back(p);
      }
    }
    const long rss_after = ProcRssKb(s->gw->pid());
    std::printf("memory: perpgwd RSS with %d/%d books live: %ld kB idle, %ld kB after the "
                "subscriber runs\n",
                live, want, rss_idle, rss_after);
    std::ostringstream js;
    js << "\"memory\":{\"venues\":" << o.venues.size() << ",\"books_configured\":" << want
       << ",\"books_live\":" << live << ",\"perpgwd_rss_kb_idle\":" << rss_idle
       << ",\"perpgwd_rss_kb_after\":" << rss_after << "},\"stalled\":[";
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
