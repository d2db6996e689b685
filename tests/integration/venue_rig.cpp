// VenueRig: spawns perpgw-sim (one venue) and perpgwd against it, waits until both are up.
#include "tests/integration/venue_rig.h"

#include <simdjson.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace perpgw::testing {

namespace {
constexpr Millis kStart{60000};

std::string Tail(const std::string& log, size_t n = 3000) {
  return log.size() > n ? log.substr(log.size() - n) : log;
}
}  // namespace

VenueRig::VenueRig(RigOptions opts) : opts_(std::move(opts)), dir_("perpgw-venue") {
  const std::string endpoints = dir_.File("endpoints.json");
  ProcessOptions so;
  so.argv = {PERPGW_SIM_BIN, "--venues", opts_.venue, "--seed", std::to_string(opts_.seed),
             "--rate", std::to_string(static_cast<int>(opts_.rate)), "--endpoints-out", endpoints};
  so.log_path = dir_.File("sim.log");
  std::string err;
  sim_ = ChildProcess::Spawn(so, &err);
  if (!sim_) {
    error_ = "cannot start perpgw-sim: " + err;
    return;
  }
  auto text = WaitForFile(endpoints, kStart, sim_.get());
  if (!text) {
    error_ = "perpgw-sim wrote no endpoints file:\n" + Tail(sim_->ReadLog());
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*text).get(doc)) {
    error_ = "bad endpoints file: " + *text;
    return;
  }
  std::string_view control, rest, ws;
  simdjson::dom::element v;
  if (doc["control_url"].get(control) || doc["venues"][opts_.venue].get(v) ||
      v["rest_url"].get(rest) || v["ws_url"].get(ws)) {
    error_ = "endpoints file lacks the venue: " + *text;
    return;
  }
  control_url_ = std::string(control);
  for (auto s : v["symbols"].get_array()) sim_symbols_.emplace_back(std::string_view(s));
  std::map<std::string, std::string> env;
  std::ostringstream accounts;
  int n = 0;
  for (auto a : v["accounts"].get_array()) {
    std::string_view id;
    if (a["id"].get(id)) continue;
    simdjson::dom::object creds;
    if (a["credentials"].get(creds)) continue;
    std::map<std::string, std::string> cmap;
    for (auto [k, val] : creds) {
      std::string_view sv;
      if (!val.get(sv)) cmap[std::string(k)] = std::string(sv);
    }
    if (!opts_.account_filter.empty() && !cmap.count(opts_.account_filter)) continue;
    if (!opts_.account_id.empty() && id != opts_.account_id) continue;
    if (n++ >= opts_.max_accounts) break;  // one account is enough for most rigs
    if (account_.empty()) account_ = std::string(id);
    accounts_.emplace_back(id);
    if (n == 1) accounts << "accounts:\n";
    accounts << "  - id: " << id << "\n    venue: " << opts_.venue << "\n";
    std::ostringstream options, secrets;
    int i = 0;
    for (const auto& [k, val] : cmap) {
      if (std::find(opts_.option_keys.begin(), opts_.option_keys.end(), k) !=
          opts_.option_keys.end()) {
        options << "      " << k << ": \"" << val << "\"\n";
        continue;
      }
      std::string var = "PERPGW_RIG_CRED_" + std::to_string(n) + "_" + std::to_string(i++);
      env[var] = val;
      secrets << "      " << k << ": {env: " << var << "}\n";
    }
    for (const auto& [k, val] : opts_.account_options) options << "      " << k << ": \"" << val << "\"\n";
    if (!options.str().empty()) accounts << "    options:\n" << options.str();
    accounts << "    credentials:\n" << secrets.str();
  }
  std::ostringstream cfg;
  cfg << "listen: 127.0.0.1:0\nlog_level: debug\nvenues:\n  " << opts_.venue << ":\n"
      << "    rest_url: " << rest << "\n    ws_url: " << ws << "\n    stale_after_ms: 60000\n"
      << "    symbols: [";
  for (size_t i = 0; i < opts_.symbols.size(); ++i) cfg << (i ? ", " : "") << opts_.symbols[i];
  cfg << "]\n    fees: {maker: \"0.0002\", taker: \"0.0005\"}\n";
  if (!opts_.venue_options.empty()) {
    cfg << "    options:\n";
    for (const auto& [k, val] : opts_.venue_options) cfg << "      " << k << ": \"" << val << "\"\n";
  }
  cfg << accounts.str();
  cfg << "orders: {journal_dir: \"" << dir_.File("journal") << "\"}\n";
  if (!opts_.extra_config.empty()) cfg << opts_.extra_config << "\n";
  const std::string cfg_path = dir_.File("gateway.yaml");
  WriteFile(cfg_path, cfg.str());
  config_text_ = cfg.str();
  gw_env_ = env;
  error_ = StartGateway();
}

std::string VenueRig::StartGateway() {
  std::string err;
  ProcessOptions go;
  go.argv = {PERPGWD_BIN, "--config", dir_.File("gateway.yaml"), "--port-file", dir_.File("port")};
  go.env = gw_env_;
  go.log_path = dir_.File("perpgwd-" + std::to_string(++gw_starts_) + ".log");
  ::unlink(dir_.File("port").c_str());
  gw_ = ChildProcess::Spawn(go, &err);
  if (!gw_) return "cannot start perpgwd: " + err;
  auto port = WaitForPortFile(dir_.File("port"), kStart, gw_.get());
  if (!port) return "perpgwd did not start:\n" + Tail(gw_->ReadLog()) + "\nconfig:\n" + config_text_;
  port_ = *port;
  channel_ = grpc::CreateChannel(gateway_addr(), grpc::InsecureChannelCredentials());
  instruments = v1::InstrumentService::NewStub(channel_);
  market = v1::MarketDataService::NewStub(channel_);
  funding = v1::FundingService::NewStub(channel_);
  trading = v1::TradingService::NewStub(channel_);
  account_svc = v1::AccountService::NewStub(channel_);
  gateway_svc = v1::GatewayService::NewStub(channel_);
  // Ready when the venue's instruments are loaded.
  bool ready = WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        v1::ListInstrumentsRequest req;
        req.set_venue(opts_.venue);
        v1::ListInstrumentsResponse resp;
        return instruments->ListInstruments(&ctx, req, &resp).ok() && resp.instruments_size() > 0;
      },
      kStart, Millis(100));
  if (!ready) return "instruments never loaded:\n" + Tail(gw_->ReadLog());
  return "";
}

std::string VenueRig::KillAndRestartGateway() {
  if (gw_) {
    gw_->Signal(SIGKILL);
    gw_->WaitExit(Millis(10000));
  }
  return StartGateway();
}

VenueRig::~VenueRig() {
  if (gw_) gw_->Terminate(Millis(10000));
  if (sim_) sim_->Terminate(Millis(10000));
}

std::optional<std::string> VenueRig::ControlGet(const std::string& path_and_query) {
  auto r = Run({"/usr/bin/curl", "-sS", "--fail-with-body", "-g", control_url_ + path_and_query}, Millis(10000));
  if (r.exit_code != 0) return std::nullopt;
  return r.out;
}

std::optional<std::string> VenueRig::ControlPost(const std::string& path, const std::string& json) {
  auto r = Run({"/usr/bin/curl", "-sS", "--fail-with-body", "-X", "POST", "-H",
                "Content-Type: application/json", "-d", json, control_url_ + path},
               Millis(10000));
  if (r.exit_code != 0) return std::nullopt;
  return r.out;
}

std::string VenueRig::VenueSymbol(const std::string& ticker) const {
  for (const auto& s : sim_symbols_) {
    if (s.rfind(ticker, 0) == 0) return s;  // BTC → BTCUSDT / BTC_USDC_PERP
  }
  return ticker;
}

}  // namespace perpgw::testing
