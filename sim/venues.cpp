// Venue module registry for perpgw-sim. Add `{"aster", &aster::MakeModule},` etc. here.
#include "sim/venues.h"

#include "sim/aster/module.h"
#include "sim/backpack/module.h"

namespace perpgw::sim {
namespace {

// Empty until the venue modules (sim/<venue>/) arrive.
constexpr VenueEntry kVenues[] = {
    {"aster", &aster::MakeModule},
    {"backpack", &backpack::MakeModule},
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
