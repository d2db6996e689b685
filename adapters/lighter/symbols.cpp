// Lighter symbol rules (see symbols.h).
#include "adapters/lighter/symbols.h"

#include <cctype>

namespace perpgw::adapters::lighter {

bool IsPerpMarketIndex(int64_t market_index) {
  return market_index >= 0 && market_index <= kMaxPerpMarketIndex;
}

TickerInfo NormalizeBase(std::string_view venue_symbol) {
  std::string up(venue_symbol);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up.size() > 4 && up.compare(0, 4, "1000") == 0 &&
      std::isalpha(static_cast<unsigned char>(up[4]))) {
    return {up.substr(4), 1000};
  }
  return {up, 1};
}

void SymbolTable::Add(const Instrument& instrument, int64_t market_index) {
  InstrumentIndex::Add(instrument);
  auto old = venue_by_index_.find(market_index);
  if (old != venue_by_index_.end() && old->second != instrument.venue_symbol) {
    index_by_venue_.erase(old->second);
  }
  venue_by_index_[market_index] = instrument.venue_symbol;
  index_by_venue_[instrument.venue_symbol] = market_index;
}

void SymbolTable::Clear() {
  InstrumentIndex::Clear();
  venue_by_index_.clear();
  index_by_venue_.clear();
}

const Instrument* SymbolTable::ByMarketIndex(int64_t market_index) const {
  auto it = venue_by_index_.find(market_index);
  return it == venue_by_index_.end() ? nullptr : ByVenueSymbol(it->second);
}

int64_t SymbolTable::MarketIndexOf(std::string_view venue_symbol) const {
  auto it = index_by_venue_.find(venue_symbol);
  return it == index_by_venue_.end() ? -1 : it->second;
}

int64_t SymbolTable::MarketIndexOfTicker(std::string_view ticker) const {
  const Instrument* in = ByTicker(ticker);
  return in == nullptr ? -1 : MarketIndexOf(in->venue_symbol);
}

}  // namespace perpgw::adapters::lighter
