// The perpgw-sim server: one event loop running every venue (listener + market + engine +
// module) and the control API; writes the endpoints file once everything is bound.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/clock.h"
#include "sim/core/config.h"
#include "sim/core/loop.h"
#include "sim/core/venue_module.h"

namespace perpgw::sim {

class Venue;  // sim/core/venue.h

class Server {
 public:
  // `clock` (optional, must outlive the server) replaces the system clock for every venue.
  explicit Server(SimConfig config, const Clock* clock = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before Start(). `vc` overrides the module's default catalogue/accounts/port/rate.
  absl::Status AddVenue(std::unique_ptr<VenueModule> module, const VenueConfig& vc);
  // Binds every listener, starts generators and timers, writes the endpoints file (atomically).
  absl::Status Start();
  // Runs the loop on the calling thread until Stop().
  void Run();
  // Thread-safe; closes listeners and stops the loop.
  void Stop();
  // From another thread while Run() is active: runs fn on the loop thread and waits for it.
  void Sync(const std::function<void()>& fn);

  EventLoop& loop() { return loop_; }
  const SimConfig& config() const { return config_; }
  int control_port() const;
  std::string control_url() const;
  // nullptr if absent. Loop thread (or before Run / via Sync) only.
  Venue* venue(std::string_view name);
  const std::vector<std::unique_ptr<Venue>>& venues() const { return venues_; }
  // The endpoints document (JSON) as written to --endpoints-out.
  std::string EndpointsJson() const;

 private:
  class Control;
  SimConfig config_;
  const Clock& clock_;
  EventLoop loop_;
  std::vector<std::unique_ptr<Venue>> venues_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<Listener> control_listener_;
  bool started_ = false;
};

// Writes `content` to path via a temporary file + rename (readers never see a partial file).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace perpgw::sim
