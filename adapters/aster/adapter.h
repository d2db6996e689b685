// Aster venue adapter: orchestration only (REST, WS shards, books, accounts, pending orders).
#pragma once

#include <memory>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"

namespace perpgw::adapters::aster {

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock);

}  // namespace perpgw::adapters::aster
