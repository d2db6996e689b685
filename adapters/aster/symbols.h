// Aster symbol ↔ normalized ticker (explicit multiplier-prefix table, quote ranking), stream
// names and percent-encoding of (possibly non-ASCII) symbols for query strings. Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/api/types.h"
#include "adapters/wire/instrument_index.h"
#include "adapters/common/url.h"

namespace perpgw::adapters::aster {

inline constexpr char kVenue[] = "aster";

struct BaseTicker {
  std::string ticker;       // "PEPE"
  int64_t multiplier = 1;   // 1000 for "1000PEPE"
};

// Strips a known multiplier prefix from a baseAsset: "1000" → ×1000, "1000000" and "1M" → ×1e6,
// only when the remainder is non-empty ASCII letters. "1INCH", "0G", "2Z", "4", "42" and
// non-ASCII names stay as they are (leading digits are not a multiplier by themselves).
BaseTicker NormalizeBaseAsset(std::string_view base_asset);

// RFC 3986 percent-encoding (unreserved A-Z a-z 0-9 - . _ ~ kept; everything else, including
// every UTF-8 byte of "币安人生USDT", as %XX upper-case). The venue signs the encoded form.
using common::PercentEncode;
// Inverse of PercentEncode ('+' stays '+'); errors on a malformed escape.
absl::StatusOr<std::string> PercentDecode(std::string_view s);

// WS stream symbol: ASCII lower-case; other bytes (UTF-8 names have no case) unchanged.
std::string StreamSymbol(std::string_view venue_symbol);

// Sets Instrument::symbol for a whole catalogue (call after the base/quote/multiplier fields are
// filled). `overrides` (venue symbol → ticker, from config) win. Otherwise the stripped base
// ticker goes to one market per base, ranked: tradeable, no multiplier, quote USDT > USD1 > USD
// > USDC > U > others, venue symbol; the others become the raw base asset ("1000PEPE") when
// that differs, else "<TICKER>-<QUOTE>" ("BTC-USD1"), else the venue symbol.
void AssignTickers(std::vector<Instrument>* instruments,
                   const std::map<std::string, std::string, std::less<>>& overrides = {});

// The venue's symbol catalogue, built from ParseExchangeInfo's instruments. Not thread-safe for
// writes; the adapter rebuilds and swaps it.
class SymbolMap : public wire::InstrumentIndex {
 public:
  using InstrumentIndex::InstrumentIndex;

  // The normalized ticker; an unknown venue symbol is returned verbatim so events are never
  // dropped for it (the adapter refreshes exchangeInfo when it sees one).
  std::string ToTicker(std::string_view venue_symbol) const;
};

}  // namespace perpgw::adapters::aster
