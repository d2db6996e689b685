// The explicit venue table: name → adapter factory (no static self-registration).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"

namespace perpgw::gateway {

using AdapterFactory = std::unique_ptr<VenueAdapter> (*)(const VenueConfig&, const Clock&);

using ConfigValidator = absl::Status (*)(const VenueConfig&);

struct VenueEntry {
  const char* name;
  AdapterFactory factory;  // nullptr: known venue whose adapter is not built into this binary
  const char* missing;     // why, when factory is null
  ConfigValidator validate = nullptr;  // the venue's own config keys and credentials
};

const std::vector<VenueEntry>& VenueTable();
absl::StatusOr<std::unique_ptr<VenueAdapter>> MakeAdapter(const VenueConfig& cfg,
                                                          const Clock& clock);
// The venue's own checks of `cfg` (unknown option/credential keys, numbers, signable keys).
absl::Status ValidateVenueConfig(const VenueConfig& cfg);

}  // namespace perpgw::gateway
