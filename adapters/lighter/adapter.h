// Lighter venue adapter: orchestration only (REST market data, the public stream, books,
// funding). Market data step of issue 15: no accounts yet.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"

namespace perpgw::adapters::lighter {

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock);
// Venue options (funding_rate_hours: 1|8); accounts are refused until trading lands (pure).
absl::Status ValidateConfig(const VenueConfig& config);

}  // namespace perpgw::adapters::lighter
