// Gateway core wiring.
#include "gateway/gateway.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "adapters/api/reason.h"
#include "adapters/runtime/durable_file.h"
#include "gateway/venues.h"

namespace perpgw::gateway {
namespace {
std::vector<std::string> VenueNames(const Config& c) {
  std::vector<std::string> v;
  for (const auto& [n, vc] : c.venues) v.push_back(n);
  return v;
}
std::map<std::string, int64_t> StaleMap(const Config& c) {
  std::map<std::string, int64_t> m;
  for (const auto& [n, v] : c.venues) m[n] = v.stale_after_ms;
  return m;
}
}  // namespace

Gateway::Gateway(Config config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      start_time_(clock.Now()),
      metrics_(std::make_unique<Metrics>(VenueNames(config_))),
      bus_(std::make_unique<Bus>(config_.limits, StaleMap(config_), clock)),
      auth_(config_.tokens) {
  bus_->set_metrics(metrics_.get());
}

Gateway::~Gateway() { Stop(); }

absl::Status Gateway::Start() {
  // Risk: limits from the config, kill switches as the last run left them (a state file that
  // cannot be read refuses the start: an engaged switch must never be dropped silently).
  risk_.SetDefaultLimits(config_.risk.defaults);
  for (const auto& [id, l] : config_.risk.accounts) risk_.SetAccountLimits(id, l);
  for (const auto& [name, l] : config_.risk.tokens) risk_.SetTokenLimits(name, l);
  if (!config_.risk.state_file.empty() && config_.risk.state_file != "none") {
    std::ifstream in(config_.risk.state_file);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      if (auto st = risk_.LoadKills(text.str()); !st.ok()) {
        return absl::Status(st.code(), config_.source + ": risk.state_file " +
                                           config_.risk.state_file + ": " +
                                           std::string(st.message()) +
                                           " (fix or remove it; it holds the kill switch)");
      }
    }
  }
  bus_->SetTap([this](const Event& e) {
    if (const auto* o = std::get_if<OrderEvent>(&e)) {
      risk_.OnOrder(o->order);
    } else if (const auto* p = std::get_if<Position>(&e)) {
      risk_.OnPosition(*p);
      if (p->mark_price) risk_.OnMark(p->venue, p->symbol, *p->mark_price);
    } else if (const auto* f = std::get_if<Funding>(&e)) {
      if (f->mark_price) risk_.OnMark(f->venue, f->symbol, *f->mark_price);
    }
  });
  for (const auto& [name, vc] : config_.venues) {
    if (!vc.enabled) continue;
    auto a = MakeAdapter(vc, clock_);
    if (!a.ok()) {
      return absl::Status(a.status().code(),
                          config_.source + ": venues." + name + ": " +
                              std::string(a.status().message()) +
                              " (set enabled: false to run without it)");
    }
    if (auto st = (*a)->StartupError(); !st.ok()) {
      return absl::Status(st.code(), config_.source + ": venues." + name + ": " +
                                         std::string(st.message()));
    }
    adapters_[name] = std::move(*a);
  }
  // Order events survive a restart with the order journals: same directory, one log for all
  // accounts (sequences continue; see StreamOrderEventsRequest). Appended without fsync (the
  // fan-out thread never waits on the disk): a process crash loses nothing, a machine crash
  // can lose the log's tail (README "Order path guarantees").
  bool journaled = false;
  for (const auto& [name, a] : adapters_) journaled |= !config_.venues.at(name).journal_path.empty();
  if (journaled) {
    const std::string path = config_.orders.journal_dir + "/order-events.log";
    if (auto st = bus_->OpenOrderLog(path, /*fsync=*/false); !st.ok()) {
      return absl::Status(st.code(), config_.source + ": orders.journal_dir: " +
                                         std::string(st.message()));
    }
  }
  for (auto& [name, a] : adapters_) {
    if (a->capabilities().bbo_from_book) bus_->DeriveBboFromBook(name);
  }
  bus_->Start();
  for (auto& [name, a] : adapters_) {
    a->Start(bus_.get());
    const auto& vc = config_.venues.at(name);
    std::vector<MarketSubscription> subs;
    for (const auto& s : vc.symbols) subs.push_back({s});
    if (!subs.empty()) a->Subscribe(subs);
    perpgw::MutexLock lock(&mu_);
    for (const auto& s : vc.symbols) subscribed_.insert(name + "/" + s);
  }
  DeadManTick();
  for (const auto& [name, a] : adapters_) {
    for (const auto& acc : config_.venues.at(name).accounts) SeedRisk(acc.id, 0);
  }
  return absl::OkStatus();
}

void Gateway::SeedRisk(const std::string& account, int attempt) {
  if (stopping_) return;
  auto venue = AccountVenue(account);
  VenueAdapter* a = venue.ok() ? adapter(*venue) : nullptr;
  if (!a) return;
  auto retry = [this, account, attempt](const absl::Status& st) {
    if (attempt >= 150) {
      spdlog::error("risk: could not load the open orders/positions of {}: {} (limits see only "
                    "what changes from now on)",
                    account, std::string(st.message()));
      return;
    }
    timer_.After(std::chrono::seconds(2), [this, account, attempt] { SeedRisk(account, attempt + 1); });
  };
  if (!a->InstrumentsReady()) return retry(absl::UnavailableError("instruments not loaded"));
  a->ListOpenOrders(account, "", [this, a, account, retry](absl::StatusOr<std::vector<Order>> os) {
    if (!os.ok()) return retry(os.status());
    for (const auto& o : *os) risk_.OnOrder(o);
    const size_t orders = os->size();
    a->GetPositions(account,
                    [this, account, orders, retry](absl::StatusOr<std::vector<Position>> ps) {
                      if (!ps.ok()) return retry(ps.status());
                      for (const auto& p : *ps) risk_.OnPosition(p);
                      spdlog::info("risk: {} open order(s) and {} position(s) of {} loaded",
                                   orders, ps->size(), account);
                    });
  });
}

void Gateway::DeadManTick() {
  if (stopping_) return;
  for (const auto& f : dead_man_.Due(clock_.Now())) {
    auto venue = AccountVenue(f.account);
    VenueAdapter* a = venue.ok() ? adapter(*venue) : nullptr;
    metrics_->DeadManFired(f.account);
    if (!a) continue;
    spdlog::warn("dead man's switch: cancelling every open order of {} ({})", f.account, f.why);
    a->CancelAll(f.account, "", [acc = f.account](absl::StatusOr<std::vector<Order>> res) {
      if (res.ok()) {
        spdlog::warn("dead man's switch: {} open order(s) of {} cancelled", res->size(), acc);
      } else {
        spdlog::error("dead man's switch: cancelling the orders of {} failed: {}", acc,
                      std::string(res.status().message()));
      }
    });
  }
  timer_.After(std::chrono::milliseconds(100), [this] { DeadManTick(); });
}

absl::Status Gateway::PersistRisk() {
  const std::string& path = config_.risk.state_file;
  if (path.empty() || path == "none") return absl::OkStatus();
  perpgw::MutexLock lock(&risk_file_mu_);
  auto fd = runtime::ReplaceDurably(path, risk_.SerializeKills(), ".tmp", "risk state");
  if (!fd.ok()) return fd.status();
  ::close(*fd);
  return absl::OkStatus();
}

void Gateway::Stop() {
  if (!bus_) return;
  stopping_ = true;
  bus_->Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down"));
  for (auto& [n, a] : adapters_) a->Stop();
  timer_.Stop();
}

VenueAdapter* Gateway::adapter(const std::string& venue) const {
  auto it = adapters_.find(venue);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Gateway::enabled_venues() const {
  std::vector<std::string> v;
  for (const auto& [n, a] : adapters_) v.push_back(n);
  return v;
}

const VenueConfig* Gateway::venue_config(const std::string& venue) const {
  auto it = config_.venues.find(venue);
  return it == config_.venues.end() ? nullptr : &it->second;
}

static std::string Quoted(const std::string& name) {
  // Names from requests are echoed into status messages: a 10,000-character one made the
  // client fail on metadata size. Long names are cut (and say so).
  constexpr size_t kMax = 64;
  if (name.size() <= kMax) return "'" + name + "'";
  return "'" + name.substr(0, kMax) + "...' (" + std::to_string(name.size()) + " characters)";
}

absl::StatusOr<std::string> Gateway::AccountVenue(const std::string& account) const {
  if (account.empty()) return absl::InvalidArgumentError("account is required");
  for (const auto& [n, v] : config_.venues) {
    for (const auto& a : v.accounts) {
      if (a.id == account) return n;
    }
  }
  return reason::With(absl::NotFoundError("unknown account " + Quoted(account)),
                      reason::kUnknownAccount);
}

std::vector<std::string> Gateway::AccountsOf(const std::string& venue) const {
  std::vector<std::string> out;
  if (auto* v = venue_config(venue)) {
    for (const auto& a : v->accounts) out.push_back(a.id);
  }
  return out;
}


absl::StatusOr<Instrument> Gateway::FindInstrument(const std::string& venue,
                                                   const std::string& symbol) const {
  if (venue.empty()) return absl::InvalidArgumentError("market.venue is required");
  if (symbol.empty()) return absl::InvalidArgumentError("market.symbol is required");
  if (symbol.size() > 64) {
    return absl::InvalidArgumentError("market.symbol " + Quoted(symbol) + " is too long");
  }
  VenueAdapter* a = adapter(venue);
  if (!a) {
    if (config_.venues.count(venue)) {
      return absl::FailedPreconditionError("venue '" + venue + "' is disabled in the config");
    }
    return reason::With(absl::NotFoundError("unknown venue " + Quoted(venue)),
                        reason::kUnknownVenue);
  }
  if (!a->InstrumentsReady()) {
    return absl::UnavailableError("venue '" + venue + "' has not loaded its instruments yet");
  }
  auto same = [](const std::string& a, const std::string& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::toupper(static_cast<unsigned char>(x)) ==
                    std::toupper(static_cast<unsigned char>(y));
           });
  };
  const std::vector<Instrument> all = a->Instruments();
  for (const auto& in : all) {
    if (in.symbol == symbol) return in;  // the ticker, exactly: the common case first
  }
  for (const auto& in : all) {
    if (same(in.symbol, symbol) || same(in.venue_symbol, symbol) ||
        same(UnifiedSymbol(in), symbol) ||
        (!in.venue_market_id.empty() && in.venue_market_id == symbol)) {
      return in;
    }
  }
  return reason::With(
      absl::NotFoundError("unknown symbol '" + symbol + "' on venue '" + venue + "'"),
      reason::kUnknownMarket);
}

bool Gateway::Serving(std::string* why) const {
  constexpr int64_t kQuietNs = 60LL * 1000000000;
  const UnixNanos now = clock_.Now();
  for (const auto& [name, a] : adapters_) {
    if (!a->InstrumentsReady()) {
      if (why) *why = name + ": instruments not loaded yet";
      return false;
    }
    const VenueHealth h = a->Health();
    if (h.state != ConnState::kConnected &&
        (h.last_message_time == 0 || now - h.last_message_time > kQuietNs)) {
      if (why) *why = name + ": unreachable for over 60 s (" + h.last_error.substr(0, 200) + ")";
      return false;
    }
  }
  return true;
}

std::shared_ptr<void> Gateway::AcquireStream(const std::string& identity, absl::Status* err) {
  perpgw::MutexLock lock(&mu_);
  size_t& n = streams_by_identity_[identity];
  if (n >= static_cast<size_t>(config_.limits.max_streams_per_token)) {
    *err = absl::ResourceExhaustedError(
        "too many open streams for " +
        (identity.empty() ? std::string("this gateway (no auth tokens)") : "token '" + identity + "'") +
        ": " + std::to_string(n) + " (limits.max_streams_per_token); close some first");
    return nullptr;
  }
  ++n;
  return std::shared_ptr<void>(new char(0), [this, identity](void* p) {
    delete static_cast<char*>(p);
    perpgw::MutexLock lock(&mu_);
    auto it = streams_by_identity_.find(identity);
    if (it != streams_by_identity_.end() && --it->second == 0) streams_by_identity_.erase(it);
  });
}

std::vector<Instrument> Gateway::ListInstruments(const std::string& venue) const {
  std::vector<Instrument> out;
  for (const auto& [n, a] : adapters_) {
    if (!venue.empty() && n != venue) continue;
    auto v = a->Instruments();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void Gateway::EnsureSubscribed(const std::string& venue, const std::string& symbol) {
  {
    perpgw::MutexLock lock(&mu_);
    if (!subscribed_.insert(venue + "/" + symbol).second) return;
  }
  if (auto* a = adapter(venue)) a->Subscribe({MarketSubscription{symbol}});
}

}  // namespace perpgw::gateway
