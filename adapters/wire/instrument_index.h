// The instrument index every venue keeps: instruments by venue symbol and by normalized ticker,
// O(1) lookups by string_view without allocating. Pointers stay valid across Add (entries live
// in a deque) and die at Reset. Venue rules (fallback tickers for unknown symbols, multiplier
// prefixes) stay in the venue's symbols.{h,cpp}, layered on this.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/api/types.h"

namespace perpgw::wire {

class InstrumentIndex {
 public:
  InstrumentIndex() = default;
  explicit InstrumentIndex(const std::vector<Instrument>& instruments) { Reset(instruments); }
  InstrumentIndex(const InstrumentIndex& other) { *this = other; }
  InstrumentIndex& operator=(const InstrumentIndex& other);
  InstrumentIndex(InstrumentIndex&&) noexcept = default;
  InstrumentIndex& operator=(InstrumentIndex&&) noexcept = default;

  void Reset(const std::vector<Instrument>& instruments);
  // Adds, or replaces the entry with the same venue symbol (its ticker entry follows).
  void Add(const Instrument& instrument);
  void Clear();

  const Instrument* ByVenueSymbol(std::string_view venue_symbol) const;
  const Instrument* ByTicker(std::string_view ticker) const;
  size_t size() const { return by_venue_.size(); }
  const std::deque<Instrument>& all() const { return instruments_; }

 private:
  std::deque<Instrument> instruments_;
  std::unordered_map<std::string, const Instrument*, StringHash, std::equal_to<>> by_venue_;
  std::unordered_map<std::string, const Instrument*, StringHash, std::equal_to<>> by_ticker_;
};

}  // namespace perpgw::wire
