// The instrument index every venue keeps: instruments by venue symbol and by normalized ticker,
// O(1) lookups by string_view without allocating. The venue-symbol lookup runs once per market
// frame, so it is an open-addressing table (power-of-two size, linear probing, a word-at-a-time
// hash, no division); the ticker lookup (requests) is a std::unordered_map. Pointers stay valid
// across Add (entries live in a deque) and die at Reset. Venue rules (fallback tickers for unknown
// symbols, multiplier prefixes) stay in the venue's symbols.{h,cpp}, layered on this.
#pragma once

#include <cstdint>
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
  size_t size() const { return instruments_.size(); }
  const std::deque<Instrument>& all() const { return instruments_; }

 private:
  // A venue-symbol slot: the key's hash and the entry (null = empty). Entries are only added
  // (a replacement keeps its slot) and all cleared at once, so no tombstones.
  struct Slot {
    uint64_t hash = 0;
    Instrument* instrument = nullptr;
  };
  Instrument* FindVenue(std::string_view venue_symbol, uint64_t hash) const;
  void PlaceVenue(Instrument* instrument, uint64_t hash);  // into a free slot (no growth)

  std::deque<Instrument> instruments_;
  std::vector<Slot> by_venue_;  // size 0 or a power of two, at most half full
  std::unordered_map<std::string, const Instrument*, StringHash, std::equal_to<>> by_ticker_;
};

}  // namespace perpgw::wire
