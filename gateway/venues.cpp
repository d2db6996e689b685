// Venue table. Each venue's adapter library defines PERPGW_HAVE_<venue> when it is built.
#include "gateway/venues.h"

#ifdef PERPGW_HAVE_aster
#include "adapters/aster/adapter.h"
#endif
#ifdef PERPGW_HAVE_backpack
#include "adapters/backpack/adapter.h"
#endif
#ifdef PERPGW_HAVE_lighter
#include "adapters/lighter/adapter.h"
#endif
#ifdef PERPGW_HAVE_paradex
#include "adapters/paradex/adapter.h"
#endif

namespace perpgw::gateway {

const std::vector<VenueEntry>& VenueTable() {
  static const std::vector<VenueEntry> kTable = {
#ifdef PERPGW_HAVE_aster
      {"aster", &adapters::aster::MakeAdapter, "", &adapters::aster::ValidateConfig},
#else
      {"aster", nullptr, "the Aster adapter is not built yet (issue: Aster end to end)"},
#endif
#ifdef PERPGW_HAVE_backpack
      {"backpack", &adapters::backpack::MakeAdapter, "", &adapters::backpack::ValidateConfig},
#else
      {"backpack", nullptr, "the Backpack adapter is not built yet (issue: Backpack end to end)"},
#endif
#ifdef PERPGW_HAVE_lighter
      {"lighter", &adapters::lighter::MakeAdapter, ""},
#else
      {"lighter", nullptr, "the Lighter adapter is not built yet (signing stack only)"},
#endif
#ifdef PERPGW_HAVE_paradex
      {"paradex", &adapters::paradex::MakeAdapter, ""},
#else
      {"paradex", nullptr, "the Paradex adapter is not built yet (signing stack only)"},
#endif
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
