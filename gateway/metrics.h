// Prometheus metrics (prometheus-cpp): venue counters/latencies, fan-out, orders, book status.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/api/venue.h"

namespace prometheus {
class Registry;
class Exposer;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace perpgw::gateway {

class Gateway;

class Metrics {
 public:
  // `venues` are registered up front so the hot path never allocates or locks.
  explicit Metrics(const std::vector<std::string>& venues);
  ~Metrics();

  // Starts the HTTP exposer (GET /metrics) on host:port; port 0 picks one. Returns the port.
  absl::StatusOr<int> Serve(const std::string& listen);

  void Count(const std::string& venue, VenueCounter c, uint64_t n);
  void Observe(const std::string& venue, VenueLatency l, int64_t nanos);

  enum class OrderOutcome { kAccepted, kRejected, kUnknown, kInvalid };
  void OrderResult(const std::string& venue, const std::string& account, OrderOutcome o,
                   double ack_seconds);

  // An order the pre-trade risk checks refused (never sent), by the limit that refused it.
  void RiskRejection(const std::string& account, const std::string& limit);
  // The dead man's switch cancelled an account's orders.
  void DeadManFired(const std::string& account);

  // Copies gauges from the gateway (bus stats, subscribers, venue health, book status).
  void Refresh(Gateway& gw);

  prometheus::Registry& registry() { return *registry_; }

 private:
  struct VenueSlots {
    prometheus::Counter* counters[static_cast<int>(VenueCounter::kCount_)] = {};
    prometheus::Histogram* latencies[static_cast<int>(VenueLatency::kCount_)] = {};
    prometheus::Gauge* connected = nullptr;
    prometheus::Gauge* last_message_age = nullptr;
  };
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::map<std::string, VenueSlots> venues_;
  prometheus::Family<prometheus::Counter>* orders_ = nullptr;
  prometheus::Family<prometheus::Histogram>* ack_latency_ = nullptr;
  prometheus::Family<prometheus::Counter>* risk_rejections_ = nullptr;
  prometheus::Family<prometheus::Gauge>* kill_switch_ = nullptr;
  prometheus::Family<prometheus::Counter>* dead_man_ = nullptr;
  prometheus::Family<prometheus::Gauge>* book_status_ = nullptr;
  prometheus::Family<prometheus::Gauge>* book_age_ = nullptr;
  prometheus::Gauge* subscribers_[7] = {};
  prometheus::Counter* messages_out_ = nullptr;
  prometheus::Counter* slow_resyncs_ = nullptr;
  prometheus::Counter* slow_disconnects_ = nullptr;
  prometheus::Counter* conflated_ = nullptr;
  prometheus::Counter* merged_ = nullptr;
  prometheus::Counter* events_in_ = nullptr;
  prometheus::Gauge* fanout_lag_ = nullptr;
  uint64_t last_[6] = {};
};

}  // namespace perpgw::gateway
