// Venue table, generated: every venue that registered an adapter (cmake/venues.cmake,
// perpgw_add_venue) has a factory here; a known venue that did not is refused with the reason.
#include "gateway/venues.h"

// The entry points perpgw_add_venue requires of each adapter library.
namespace perpgw::adapters {
#define PERPGW_VENUE(v)                                                                 \
  namespace v {                                                                         \
  std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock); \
  absl::Status ValidateConfig(const VenueConfig& config);                               \
  }
#define PERPGW_VENUE_MISSING(v)
#include "perpgw_adapters.inc"
#undef PERPGW_VENUE
#undef PERPGW_VENUE_MISSING
}  // namespace perpgw::adapters

namespace perpgw::gateway {

const std::vector<VenueEntry>& VenueTable() {
  static const std::vector<VenueEntry> kTable = {
#define PERPGW_VENUE(v) {#v, &adapters::v::MakeAdapter, "", &adapters::v::ValidateConfig},
#define PERPGW_VENUE_MISSING(v) \
  {#v, nullptr, "no " #v " adapter in this build (signing stack only; no adapters/" #v " venue registered)"},
#include "perpgw_adapters.inc"
#undef PERPGW_VENUE
#undef PERPGW_VENUE_MISSING
  };
  return kTable;
}

absl::StatusOr<std::unique_ptr<VenueAdapter>> MakeAdapter(const VenueConfig& cfg,
                                                          const Clock& clock) {
  for (const auto& e : VenueTable()) {
    if (cfg.name != e.name) continue;
    if (!e.factory) return absl::UnimplementedError("venue " + cfg.name + ": " + e.missing);
    return e.factory(cfg, clock);
  }
  return absl::NotFoundError("unknown venue " + cfg.name);
}

absl::Status ValidateVenueConfig(const VenueConfig& cfg) {
  for (const auto& e : VenueTable()) {
    if (cfg.name == e.name && e.validate) return e.validate(cfg);
  }
  return absl::OkStatus();
}

}  // namespace perpgw::gateway
