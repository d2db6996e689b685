// Venue module table for perpgw-sim, generated: every sim/<venue>/ module that registered
// (perpgw_add_sim_venue in cmake/venues.cmake) is listed; nothing here names a venue.
#include "sim/venues.h"

namespace perpgw::sim {

// The entry point perpgw_add_sim_venue requires of each module.
#define PERPGW_VENUE(v) \
  namespace v {         \
  std::unique_ptr<VenueModule> MakeModule(); \
  }
#define PERPGW_VENUE_MISSING(v)
#include "perpgw_sim_venues.inc"
#undef PERPGW_VENUE

namespace {

constexpr VenueEntry kVenues[] = {
#define PERPGW_VENUE(v) {#v, &v::MakeModule},
#include "perpgw_sim_venues.inc"
#undef PERPGW_VENUE
#undef PERPGW_VENUE_MISSING
    {nullptr, nullptr},  // sentinel so the array is never zero-sized
};

}  // namespace

std::span<const VenueEntry> RegisteredVenues() {
  return std::span<const VenueEntry>(kVenues, sizeof(kVenues) / sizeof(kVenues[0]) - 1);
}

const VenueEntry* FindRegisteredVenue(std::string_view name) {
  for (const auto& v : RegisteredVenues()) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

}  // namespace perpgw::sim
