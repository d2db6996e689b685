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
  int depth = 20;     // levels per side
  size_t ws_queue_limit = 1 << 16;
  bool funding_timer = true;  // settle funding at the venues' funding times
  std::string endpoints_out;
  std::vector<VenueConfig> venues;  // empty = every registered module with defaults
};

// Reads a YAML file; errors name the file, the key and the problem.
absl::StatusOr<SimConfig> LoadSimConfigFile(const std::string& path);

struct CommandLine {
  std::string config_file;
  std::optional<uint64_t> seed;
  std::optional<double> rate;
  std::optional<int> depth;
  std::optional<std::string> bind;
  std::optional<int> control_port;
  std::string endpoints_out;
  std::vector<std::string> venues;  // --venues a,b
  bool help = false;
};

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv);
const char* Usage();
// File (if any) + command-line overrides; --venues filters/creates venue entries.
absl::StatusOr<SimConfig> BuildConfig(const CommandLine& cli);

}  // namespace perpgw::sim
