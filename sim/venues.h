// The registration table of venue protocol modules (name → factory); no static
// self-registration. venues.cpp is generated from the modules that called perpgw_add_sim_venue
// (cmake/venues.cmake).
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "sim/core/venue_module.h"

namespace perpgw::sim {

struct VenueEntry {
  const char* name;
  std::unique_ptr<VenueModule> (*make)();
};

std::span<const VenueEntry> RegisteredVenues();
// nullptr when no module has that name.
const VenueEntry* FindRegisteredVenue(std::string_view name);

}  // namespace perpgw::sim
