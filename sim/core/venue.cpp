// A running venue: wires market → module/engine, serves the module over HTTP/WS, drives the
// generator and funding timers, and applies generic faults.
#include "sim/core/venue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <exception>

namespace perpgw::sim {

std::string FaultRequest::Get(std::string_view key, std::string_view fallback) const {
  auto it = params.find(key);
  return it == params.end() ? std::string(fallback) : it->second;
}

int64_t FaultRequest::GetInt(std::string_view key, int64_t fallback) const {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (ec != std::errc() || p != s.data() + s.size()) ? fallback : v;
}

const AccountSpec* SimContext::FindAccountByCredential(std::string_view key,
                                                       std::string_view value) const {
  for (const auto& a : accounts()) {
    auto it = a.credentials.find(std::string(key));
    if (it != a.credentials.end() && it->second == value) return &a;
  }
  return nullptr;
}

namespace {
constexpr UnixNanos kHourNs = 3600LL * 1000 * 1000 * 1000;
}

Venue::Venue(std::unique_ptr<VenueModule> module, std::vector<SimInstrument> instruments,
             std::vector<AccountSpec> accounts, const SimConfig& config, const VenueConfig& vc,
             uint64_t seed, EventLoop& loop, const Clock& clock)
    : name_(module->name()),
      module_(std::move(module)),
      accounts_(std::move(accounts)),
      loop_(loop),
      clock_(clock),
      seed_(seed),
      config_port_(vc.port),
      rate_(vc.rate.value_or(config.rate)),
      market_(std::move(instruments), MarketOptions{seed, config.depth, 125}, clock),
      engine_(market_, clock),
      keepalive_(config.ws_keepalive),
      trade_rate_(std::max(0.0, config.trade_rate)),
      trade_rng_(seed ^ 0x7472616465ULL) {
  candles_.resize(market_.size());
  market_.SetListener([this](const BookChange& c) {
    const size_t i = c.instrument->index;
    candles_[i].OnPrice(clock_.Now() / 1'000'000, market_.mid(i));
    module_->OnBookChange(c);
    engine_.OnBookChange(c.instrument->index, c.from_trade);
  });
  engine_.SetEventSink([this](const AccountEvent& e) { module_->OnAccountEvent(e); });
  recent_trades_.resize(market_.size());
  engine_.SetTradeSink([this](const PublicTrade& t) {
    auto& kept = recent_trades_[t.instrument->index];
    kept.push_back(t);
    if (kept.size() > kRecentTradesKept) kept.pop_front();
    candles_[t.instrument->index].OnTrade(t.time / 1'000'000, t.price, t.qty,
                                          t.instrument->Notional(t.price, t.qty),
                                          t.taker_side == Side::kBuy);
    module_->OnTrade(t);
  });
  UnixNanos now = clock_.Now();
  for (const auto& in : market_.instruments()) {
    UnixNanos interval = in.spec.funding_interval_hours * kHourNs;
    next_funding_.push_back((now / interval + 1) * interval);
  }
}

Venue::~Venue() { Shutdown(); }

absl::Status Venue::Init() {
  for (const auto& a : accounts_) {
    if (auto st = engine_.AddAccount(a); !st.ok()) {
      return absl::InvalidArgumentError("venue " + name_ + ": " + std::string(st.message()));
    }
  }
  module_->Attach(*this);
  return absl::OkStatus();
}

absl::Status Venue::Listen(const std::string& host, size_t ws_queue_limit) {
  ListenerOptions o;
  o.host = host;
  o.port = config_port_;
  o.ws_queue_limit = ws_queue_limit;
  if (keepalive_) {
    const VenueModule::WsKeepalive k = module_->Keepalive();
    o.ping_interval = k.ping_interval;
    o.pong_timeout = k.pong_timeout;
    o.idle_timeout = k.idle_timeout;
  }
  auto l = StartListener(loop_, o, this);
  if (!l.ok()) {
    return absl::UnavailableError("venue " + name_ + ": " + std::string(l.status().message()));
  }
  listener_ = std::move(*l);
  port_ = listener_->port();
  endpoints_.rest_url = "http://" + host + ":" + std::to_string(port_);
  endpoints_.ws_url = "ws://" + host + ":" + std::to_string(port_);
  module_->DescribeEndpoints(endpoints_);
  return absl::OkStatus();
}

void Venue::StartTimers(bool funding_timer) {
  set_rate(rate_);
  if (trade_rate_ > 0 && trade_timer_ == 0 && market_.size() > 0) {
    auto period = std::chrono::microseconds(
        std::clamp<int64_t>(static_cast<int64_t>(1e6 / trade_rate_), 1000, 60'000'000));
    trade_timer_ = loop_.RunEvery(period, [this] { TradeTick(); });
  }
  if (funding_timer && funding_timer_ == 0) {
    funding_timer_ = loop_.RunEvery(std::chrono::seconds(1), [this] { FundingTick(); });
  }
}

void Venue::Shutdown() {
  if (generator_timer_) loop_.Cancel(generator_timer_);
  if (funding_timer_) loop_.Cancel(funding_timer_);
  if (trade_timer_) loop_.Cancel(trade_timer_);
  generator_timer_ = funding_timer_ = trade_timer_ = 0;
  if (listener_) listener_->Close();
  conns_.clear();
}

void Venue::set_rate(double r) {
  rate_ = std::max(0.0, r);
  if (generator_timer_) loop_.Cancel(generator_timer_);
  generator_timer_ = 0;
  if (rate_ <= 0) return;
  gen_start_ = std::chrono::steady_clock::now();
  gen_emitted_ = 0;
  // Batch per tick: 1 ms ticks at high rates, one update per tick at low rates.
  auto period = std::chrono::microseconds(
      std::clamp<int64_t>(static_cast<int64_t>(1e6 / rate_), 1000, 1000000));
  generator_timer_ = loop_.RunEvery(period, [this] { GeneratorTick(); });
}

void Venue::GeneratorTick() {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - gen_start_).count();
  auto target = static_cast<uint64_t>(rate_ * elapsed);
  if (target <= gen_emitted_) return;
  uint64_t due = target - gen_emitted_;
  // After a stall (debugger, overloaded box) skip the backlog beyond 100 ms worth.
  uint64_t cap = std::max<uint64_t>(1, static_cast<uint64_t>(rate_ / 10));
  if (due > cap) due = cap;
  gen_emitted_ = target;
  market_.Step(due);
}

void Venue::TradeTick() {
  // One print per tick on a random symbol: a random side takes 1-5 minimum sizes (whole steps)
  // of the generated best level.
  const size_t i = trade_rng_.Below(market_.size());
  const SimInstrument& in = market_.instrument(i);
  const Side side = trade_rng_.Below(2) == 0 ? Side::kBuy : Side::kSell;
  const int64_t unit = std::max<int64_t>(in.step, in.min_qty);
  engine_.PrintMarketTrade(i, side, unit * static_cast<int64_t>(1 + trade_rng_.Below(5)));
}

void Venue::FundingTick() {
  UnixNanos now = clock_.Now();
  for (size_t i = 0; i < next_funding_.size(); ++i) {
    if (now < next_funding_[i]) continue;
    UnixNanos interval = market_.instrument(i).spec.funding_interval_hours * kHourNs;
    next_funding_[i] = (now / interval + 1) * interval;
    SettleFunding(i);
  }
}

void Venue::SettleFunding(size_t i) {
  int64_t rate = market_.funding_rate(i);
  engine_.ApplyFunding(i, rate);
  FundingEvent e;
  e.instrument = &market_.instrument(i);
  e.rate = rate;
  e.mark_price = market_.mark_price(i);
  e.time = clock_.Now();
  e.next_time = next_funding_[i];
  module_->OnFunding(e);
}

std::vector<WsConnPtr> Venue::connections() const {
  std::vector<WsConnPtr> out;
  for (const auto& [id, c] : conns_) {
    if (c->open()) out.push_back(c);
  }
  return out;
}

void Venue::OnHttp(const HttpRequest& req, Respond respond) {
  std::string key = req.method + " " + req.path;
  if (requests_.size() >= kMaxRequestKeys && !requests_.count(key)) key = "other";
  ++requests_[key];
  auto matches = [&](const std::string& prefix, const std::string& method) {
    return req.path.rfind(prefix, 0) == 0 && (method.empty() || method == req.method);
  };
  for (auto it = http_faults_.begin(); it != http_faults_.end(); ++it) {
    if (it->ws_upgrade || it->remaining <= 0 || !matches(it->path_prefix, it->method)) continue;
    HttpResponse r;
    module_->FormatInjectedError(it->status, req, r);
    r.status = it->status;
    if (--it->remaining == 0) http_faults_.erase(it);
    return respond(std::move(r));
  }
  auto serve = [this](const HttpRequest& rq, const Respond& done) {
    HttpResponse r;
    try {
      module_->HandleHttp(rq, r);
    } catch (const std::exception& e) {
      spdlog::error("{}: {} {} threw: {}", name_, rq.method, rq.path, e.what());
      r.Json(500, R"({"error":"sim module exception"})");
    }
    done(std::move(r));
  };
  for (auto it = latency_faults_.begin(); it != latency_faults_.end(); ++it) {
    if (it->remaining <= 0 || !matches(it->path_prefix, it->method)) continue;
    int ms = it->ms;
    if (--it->remaining == 0) latency_faults_.erase(it);
    loop_.RunAfter(std::chrono::milliseconds(ms),
                   [serve, req, respond = std::move(respond)] { serve(req, respond); });
    return;
  }
  serve(req, respond);
}

bool Venue::OnWsUpgrade(const HttpRequest& req, HttpResponse* reject) {
  for (auto it = http_faults_.begin(); it != http_faults_.end(); ++it) {
    if (!it->ws_upgrade || it->remaining <= 0 || req.path.rfind(it->path_prefix, 0) != 0) continue;
    module_->FormatInjectedError(it->status, req, *reject);
    reject->status = it->status;
    if (--it->remaining == 0) http_faults_.erase(it);
    return false;
  }
  return module_->AcceptWs(req, *reject);
}

void Venue::OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {
  conns_[conn->id()] = conn;
  module_->OnWsOpen(conn, upgrade);
}

void Venue::OnWsText(const WsConnPtr& conn, std::string_view text) {
  try {
    module_->OnWsText(conn, text);
  } catch (const std::exception& e) {
    spdlog::error("{}: ws message handler threw: {}", name_, e.what());
  }
}

void Venue::OnWsClose(const WsConnPtr& conn) {
  conns_.erase(conn->id());
  module_->OnWsClose(conn);
}

std::vector<WsConnPtr> Venue::Matching(const FaultRequest& f) const {
  std::string prefix = f.Get("path_prefix");
  int64_t conn_id = f.GetInt("conn_id", 0);
  std::vector<WsConnPtr> out;
  for (const auto& c : connections()) {
    if (conn_id != 0 && c->id() != static_cast<uint64_t>(conn_id)) continue;
    if (!prefix.empty() && c->path().rfind(prefix, 0) != 0) continue;
    out.push_back(c);
  }
  return out;
}

FaultResult Venue::ApplyFault(const FaultRequest& f) {
  FaultResult r;
  if (module_->OnFault(f, r)) return r;
  const std::string& k = f.kind;
  auto symbols = [&](std::vector<size_t>* out) -> bool {
    std::string sym = f.Get("symbol");
    if (sym.empty()) {
      for (size_t i = 0; i < market_.size(); ++i) out->push_back(i);
      return true;
    }
    const SimInstrument* in = market_.Find(sym);
    if (in == nullptr) {
      r.error = "unknown symbol " + sym;
      return false;
    }
    out->push_back(in->index);
    return true;
  };
  if (k == "drop_ws") {
    bool graceful = f.Get("graceful") == "true";
    for (auto& c : Matching(f)) {
      c->Close(graceful, "injected drop");
      ++r.affected;
    }
  } else if (k == "malformed_frame") {
    for (auto& c : Matching(f)) {
      c->CorruptNext();
      ++r.affected;
    }
  } else if (k == "stall") {
    int64_t ms = f.GetInt("ms", -1);
    if (ms <= 0) {
      r.error = "stall needs ms > 0";
      return r;
    }
    for (auto& c : Matching(f)) {
      c->Stall(std::chrono::milliseconds(ms));
      ++r.affected;
    }
  } else if (k == "skip_seq") {
    std::vector<size_t> idx;
    if (!symbols(&idx)) return r;
    for (size_t i : idx) market_.SkipNextUpdateId(i);
    r.affected = static_cast<int>(idx.size());
  } else if (k == "http_error") {
    HttpFault h;
    h.status = static_cast<int>(f.GetInt("status", 500));
    h.remaining = static_cast<int>(f.GetInt("count", 1));
    h.path_prefix = f.Get("path_prefix");
    h.method = f.Get("method");
    h.ws_upgrade = f.Get("ws_upgrade") == "true";
    if (h.status < 400 || h.status > 599 || h.remaining <= 0) {
      r.error = "http_error needs status in [400, 599] and count > 0";
      return r;
    }
    http_faults_.push_back(h);
    r.affected = h.remaining;
  } else if (k == "latency") {
    LatencyFault l;
    l.ms = static_cast<int>(f.GetInt("ms", -1));
    l.remaining = static_cast<int>(f.GetInt("count", 1));
    l.path_prefix = f.Get("path_prefix");
    l.method = f.Get("method");
    if (l.ms <= 0 || l.remaining <= 0) {
      r.error = "latency needs ms > 0 and count > 0";
      return r;
    }
    latency_faults_.push_back(l);
    r.affected = l.remaining;
  } else if (k == "funding_tick") {
    std::vector<size_t> idx;
    if (!symbols(&idx)) return r;
    if (f.params.count("rate")) {
      auto rate = ParseRate(f.Get("rate"));
      if (!rate.ok()) {
        r.error = "bad rate";
        return r;
      }
      for (size_t i : idx) market_.set_funding_rate(i, *rate);
    }
    for (size_t i : idx) SettleFunding(i);
    r.affected = static_cast<int>(idx.size());
  } else if (k == "liquidate") {
    std::string account = f.Get("account");
    if (engine_.account(account) == nullptr) {
      r.error = "unknown account '" + account + "'";
      return r;
    }
    r.affected = engine_.Liquidate(account, f.Get("symbol"));
  } else {
    r.error = "fault kind '" + k + "' is not supported by venue " + name_;
  }
  return r;
}

}  // namespace perpgw::sim
