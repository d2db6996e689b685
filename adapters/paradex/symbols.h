// Paradex symbols: venue market name <-> normalized ticker, multiplier prefixes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "adapters/api/types.h"
#include "adapters/wire/instrument_index.h"

namespace perpgw::adapters::paradex {

inline constexpr std::string_view kVenueName = "paradex";
inline constexpr std::string_view kPerpSuffix = "-PERP";
inline constexpr std::string_view kQuoteAsset = "USD";        // perps quote USD ...
inline constexpr std::string_view kSettlementAsset = "USDC";  // ... and settle in USDC

struct SymbolParts {
  std::string base;   // as the venue names it ("BTC", "kBONK")
  std::string quote;  // "USD"
  bool perp = false;  // "<BASE>-<QUOTE>-PERP"
};

// "BTC-USD-PERP" -> BTC / USD / perp. Options ("BTC-USD-96000-C"), spot ("ETH-USD") and
// anything else split as far as they go (perp = false); an empty part is an error.
absl::StatusOr<SymbolParts> SplitVenueSymbol(std::string_view venue_symbol);

// "BTC" -> "BTC-USD-PERP" (base as the venue names it, prefix included).
std::string PerpSymbolForBase(std::string_view venue_base);

struct TickerInfo {
  std::string ticker;      // normalized ticker ("BONK")
  int64_t multiplier = 1;  // tokens per venue unit (1000 for "kBONK")
};

// Multiplier prefixes of Paradex bases (paradex.md §2): a lower-case "k" then an upper-case
// letter is x1000 ("kBONK", "kPEPE", "kSHIB"); a lower-case "m" then an upper-case letter is
// x1,000,000 ("mSATS"). The notes only say "check the instrument page for m": million is our
// reading (a milli-unit of a low-priced asset would make no sense), kept explicit in
// Instrument::quantity_multiplier so nothing is silently rescaled. Anything else is kept.
TickerInfo NormalizeBase(std::string_view venue_base);

// Venue market <-> normalized ticker over the loaded instruments; markets not in the table fall
// back to SplitVenueSymbol + NormalizeBase.
class SymbolTable : public wire::InstrumentIndex {
 public:
  using InstrumentIndex::InstrumentIndex;

  std::string TickerFor(std::string_view venue_symbol) const;
  // The table's entry, else "<TICKER>-USD-PERP".
  std::string VenueSymbolFor(std::string_view ticker) const;
};

}  // namespace perpgw::adapters::paradex
