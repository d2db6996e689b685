// Backpack symbols: venue symbol <-> normalized ticker, multiplier prefixes, clientId mapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/types.h"
#include "adapters/wire/instrument_index.h"

namespace perpgw::adapters::backpack {

inline constexpr std::string_view kVenueName = "backpack";
inline constexpr std::string_view kPerpSuffix = "_PERP";
inline constexpr std::string_view kQuoteAsset = "USDC";

struct SymbolParts {
  std::string base;   // as the venue names it ("BTC", "kPEPE", "0G")
  std::string quote;  // "USDC"
  bool perp = false;  // had the _PERP suffix
};

// Fallback parser when /markets' baseSymbol is not at hand: strip a trailing "_PERP", then split
// on the last '_' ("BTC_USDC_PERP" -> BTC / USDC / perp).
absl::StatusOr<SymbolParts> SplitVenueSymbol(std::string_view venue_symbol);

// True for "<BASE>_USDC_PERP" (the only contracts this gateway trades on Backpack).
bool IsUsdcPerpSymbol(std::string_view venue_symbol);

// "BTC" -> "BTC_USDC_PERP" (base as the venue names it, prefix included).
std::string PerpSymbolForBase(std::string_view venue_base);

struct TickerInfo {
  std::string ticker;      // normalized ticker ("PEPE")
  int64_t multiplier = 1;  // tokens per venue unit (1000 for "kPEPE" / "1000PEPE")
};

// Strips a multiplier prefix from a venue base asset: "k" + upper-case ("kPEPE" -> PEPE x1000),
// "1" followed by >= 3 zeros ("1000BONK" -> BONK x1000, "1000000MOG" -> MOG x1e6), "1M"
// ("1MBABYDOGE" -> BABYDOGE x1e6). Anything else ("0G", "1INCH", "BTC") is kept as is.
TickerInfo NormalizeBase(std::string_view venue_base);

// Venue symbol <-> normalized ticker lookups over the loaded instrument catalogue. Symbols that
// are not in the table fall back to SplitVenueSymbol + NormalizeBase.
class SymbolTable : public wire::InstrumentIndex {
 public:
  using InstrumentIndex::InstrumentIndex;

  // Normalized ticker for a venue symbol (table first, then the fallback rules).
  std::string TickerFor(std::string_view venue_symbol) const;
  // Venue symbol for a normalized ticker: the table's entry, else "<TICKER>_USDC_PERP".
  std::string VenueSymbolFor(std::string_view ticker) const;
};

// Maps our string client order ids onto Backpack's uint32 `clientId` and back.
//
// Scheme (deterministic, no clock, no randomness):
//  1. A canonical decimal id in [1, 2^32-1] ("12345", no sign/leading zero) maps to itself, so
//     numeric ids stay readable on the venue.
//  2. Otherwise candidate k (k = 0, 1, ...) is FNV-1a-32 over the id bytes followed by the
//     4 little-endian bytes of k; 0 is never used.
//  3. A candidate held by a different id is a collision: try the next k (up to 64 times), then
//     probe linearly from the last candidate. Assign() fails only when all 2^32-1 ids are taken
//     (in practice: when the map is full, see max_entries).
// The map is kept so a venue clientId resolves back to the string id; Release() drops an entry
// once its order is terminal. Ids seen on the venue that were never assigned here (after a
// restart, or placed by another client) are not resolvable: Restore() re-adds known pairs.
class ClientIdMapper {
 public:
  explicit ClientIdMapper(size_t max_entries = 1'000'000) : max_entries_(max_entries) {}

  // Returns the existing mapping or creates one. Error: empty id, or the map is full.
  absl::StatusOr<uint32_t> Assign(std::string_view client_order_id);
  // Re-adds a known pair (e.g. from persisted state). Error when either side is mapped to
  // something else.
  absl::Status Restore(std::string_view client_order_id, uint32_t venue_id);

  std::optional<uint32_t> Find(std::string_view client_order_id) const;
  std::optional<std::string> Resolve(uint32_t venue_id) const;
  // Resolve(), else the decimal text of the venue id (an order this mapper never saw).
  std::string ResolveOrDecimal(uint32_t venue_id) const;
  void Release(std::string_view client_order_id);

  size_t size() const { return by_string_.size(); }
  uint64_t collisions() const { return collisions_; }

  // The candidate sequence (exposed for tests and the sim).
  static uint32_t Candidate(std::string_view client_order_id, uint32_t attempt);
  static std::optional<uint32_t> ParseCanonicalUint32(std::string_view text);

 private:
  size_t max_entries_;
  uint64_t collisions_ = 0;
  std::unordered_map<std::string, uint32_t> by_string_;
  std::unordered_map<uint32_t, std::string> by_id_;
};

}  // namespace perpgw::adapters::backpack
