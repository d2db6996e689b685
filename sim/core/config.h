// perpgw-sim configuration: defaults, the YAML file (config/sim.yaml) and the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/core/types.h"

namespace perpgw::sim {

struct VenueConfig {
  std::string name;
  int port = 0;                      // 0 = ephemeral
  std::optional<double> rate;        // updates/s for this venue; default SimConfig::rate
  std::vector<InstrumentSpec> instruments;  // empty = the module's default catalogue
  std::vector<AccountSpec> accounts;        // empty = the module's default accounts
};

struct SimConfig {
  std::string bind = "127.0.0.1";
  int control_port = 0;
  uint64_t seed = 1;
  double rate = 50;   // generated book updates per second, per venue, across its symbols
  // Generated public trades per second, per venue, across its symbols (0: only sim users'
  // trades print). Each takes the generated best level, never a user order.
  double trade_rate = 0;
  int depth = 20;     // levels per side
  size_t ws_queue_limit = 1 << 16;
  bool funding_timer = true;  // settle funding at the venues' funding times
  // Each venue's WebSocket keepalive (server pings, pong deadline, idle close) as the venue
  // runs it; false: connections are never pinged or closed for silence.
  bool ws_keepalive = true;
  // One reference price per asset shared by every venue (each quotes it with its own drifting
  // basis and spread) and funding that differs between venues and drifts; off = each market
  // walks on its own from its configured mid at its configured funding rate.
  bool shared_reference = false;
  std::string endpoints_out;
  std::vector<VenueConfig> venues;  // empty = every registered module with defaults
};

// Reads a YAML file; errors name the file, the key and the problem.
absl::StatusOr<SimConfig> LoadSimConfigFile(const std::string& path);

struct CommandLine {
  std::string config_file;
  std::optional<uint64_t> seed;
  std::optional<double> rate;
  std::optional<double> trade_rate;
  std::optional<int> depth;
  std::optional<std::string> bind;
  std::optional<int> control_port;
  std::string endpoints_out;
  std::vector<std::string> venues;  // --venues a,b
  std::optional<bool> shared_reference;  // --shared-reference[=true|false]
  bool help = false;
};

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv);
const char* Usage();
// File (if any) + command-line overrides; --venues filters/creates venue entries.
absl::StatusOr<SimConfig> BuildConfig(const CommandLine& cli);

}  // namespace perpgw::sim
