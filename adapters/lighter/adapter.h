// Lighter venue adapter: orchestration only (REST, the public stream, books, funding, the
// account streams, and Schnorr-signed transactions through one queue per API key).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"

namespace perpgw::adapters::lighter {

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock);
// Venue options (funding_rate_hours, chain_id, rate_tier) and account credentials (pure).
absl::Status ValidateConfig(const VenueConfig& config);

}  // namespace perpgw::adapters::lighter
