// The gateway core: config, adapters, bus, auth, instrument index and order idempotency.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/mutex.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "gateway/auth.h"
#include "gateway/fanout/bus.h"
#include "gateway/config.h"
#include "gateway/metrics.h"
#include "gateway/risk/dead_man.h"
#include "gateway/risk/risk.h"
#include "gateway/timer.h"

namespace perpgw::gateway {

class Gateway {
 public:
  Gateway(Config config, const Clock& clock);
  ~Gateway();

  // Builds and starts every enabled venue adapter; fails fast naming the venue.
  absl::Status Start();
  void Stop();

  const Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  Bus& bus() { return *bus_; }
  Metrics& metrics() { return *metrics_; }
  Timer& timer() { return timer_; }
  const Authenticator& auth() const { return auth_; }
  UnixNanos start_time() const { return start_time_; }
  risk::RiskEngine& risk() { return risk_; }
  risk::DeadMan& dead_man() { return dead_man_; }
  // Writes the engaged kill switches to risk.state_file (OK and nothing written when none).
  absl::Status PersistRisk();

  // nullptr when the venue is not enabled.
  VenueAdapter* adapter(const std::string& venue) const;
  std::vector<std::string> enabled_venues() const;
  const VenueConfig* venue_config(const std::string& venue) const;
  // NOT_FOUND naming the account when unknown.
  absl::StatusOr<std::string> AccountVenue(const std::string& account) const;
  std::vector<std::string> AccountsOf(const std::string& venue) const;

  // Instruments: NOT_FOUND for an unknown venue/symbol (never a silent default).
  // Overall health (grpc.health.v1 service ""): every enabled venue has loaded its instruments
  // at least once and is connected, or was heard from within the last 60 s (a reconnect is not
  // an outage). With no venue enabled, serving. `why` names the first venue that is not.
  bool Serving(std::string* why = nullptr) const;
  // One open stream for `identity` (a token name; "" without auth), or null with `err`
  // RESOURCE_EXHAUSTED past limits.max_streams_per_token. Dropping the handle releases it.
  std::shared_ptr<void> AcquireStream(const std::string& identity, absl::Status* err);
  // `symbol`: the ticker ("BTC"), the unified symbol ("BTC/USDT:USDT") or the venue's own name
  // ("BTCUSDT", "BTC_USDC_PERP", "BTC-USD-PERP", Lighter's market index), without regard to
  // case; the instrument returned carries the ticker every answer uses.
  absl::StatusOr<Instrument> FindInstrument(const std::string& venue,
                                            const std::string& symbol) const;
  std::vector<Instrument> ListInstruments(const std::string& venue) const;
  // Asks the adapter for market data on (venue, symbol) once.
  void EnsureSubscribed(const std::string& venue, const std::string& symbol);

 private:
  Config config_;
  const Clock& clock_;
  UnixNanos start_time_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Bus> bus_;
  Timer timer_;
  Authenticator auth_;
  risk::RiskEngine risk_;
  risk::DeadMan dead_man_;
  std::atomic<bool> stopping_{false};
  // Polls the dead man's switch every 100 ms on the timer thread; cancels what ran out.
  void DeadManTick();
  // Loads each account's open orders and positions into the risk state (after a restart the
  // events only carry changes); retried every 2 s until the venue answers (at most 5 min).
  void SeedRisk(const std::string& account, int attempt);
  perpgw::Mutex risk_file_mu_;  // one writer of the state file at a time
  std::map<std::string, std::unique_ptr<VenueAdapter>> adapters_;
  mutable perpgw::Mutex mu_;
  std::map<std::string, size_t> streams_by_identity_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> subscribed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace perpgw::gateway
