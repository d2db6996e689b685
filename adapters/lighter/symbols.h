// Lighter symbols: market index <-> venue symbol <-> normalized ticker (lighter.md §2).
// Every market is an integer market_id; `symbol` is the bare base asset ("ETH"), perps quote USDC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "adapters/api/types.h"
#include "adapters/wire/instrument_index.h"

namespace perpgw::adapters::lighter {

inline constexpr std::string_view kVenueName = "lighter";
inline constexpr std::string_view kQuoteAsset = "USDC";  // every perp quotes and settles in USDC
// Perps are 0..254 (255 = "nil market"); spot markets are 2048..4094 (not traded here).
inline constexpr int64_t kMaxPerpMarketIndex = 254;
inline constexpr int64_t kNilMarketIndex = 255;

bool IsPerpMarketIndex(int64_t market_index);

// Normalized ticker from the venue's symbol: upper-cased, a "1000" prefix ("1000PEPE") kept
// explicit as a multiplier. Lighter lists bases as plain tickers; the prefix rule is the safe
// reading for a future "1000X" listing (never rescale silently).
struct TickerInfo {
  std::string ticker;
  int64_t multiplier = 1;
};
TickerInfo NormalizeBase(std::string_view venue_symbol);

// Instruments keyed by the venue symbol ("ETH") and the ticker, plus the market index each
// channel and transaction names. Instrument::venue_symbol is the venue's `symbol`.
class SymbolTable : public wire::InstrumentIndex {
 public:
  SymbolTable() = default;

  // Adds (or replaces) the instrument and its market index.
  void Add(const Instrument& instrument, int64_t market_index);
  void Clear();

  const Instrument* ByMarketIndex(int64_t market_index) const;
  // -1 when unknown.
  int64_t MarketIndexOf(std::string_view venue_symbol) const;
  int64_t MarketIndexOfTicker(std::string_view ticker) const;

 private:
  std::unordered_map<int64_t, std::string> venue_by_index_;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> index_by_venue_;
};

}  // namespace perpgw::adapters::lighter
