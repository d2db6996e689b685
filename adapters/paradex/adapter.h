// Paradex venue adapter: orchestration only (REST + JWT, SBE public stream, private streams,
// books, accounts).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"

namespace perpgw::adapters::paradex {

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock);
// Venue options, account credential names and options, signable credentials (pure; config load).
absl::Status ValidateConfig(const VenueConfig& config);

}  // namespace perpgw::adapters::paradex
