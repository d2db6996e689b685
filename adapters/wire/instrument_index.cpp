// The instrument index (see instrument_index.h).
#include "adapters/wire/instrument_index.h"

#include <algorithm>
#include <cstring>

namespace perpgw::wire {

InstrumentIndex& InstrumentIndex::operator=(const InstrumentIndex& other) {
  if (this == &other) return *this;
  Clear();
  for (const Instrument& i : other.instruments_) Add(i);
  return *this;
}

void InstrumentIndex::Reset(const std::vector<Instrument>& instruments) {
  Clear();
  for (const Instrument& i : instruments) Add(i);
}

namespace {

// A hash for short keys (venue symbols are 5-20 bytes): eight bytes at a time, each word mixed
// by a multiply, the length folded in, a final avalanche. Not for hostile keys: a collision only
// costs a probe (the key is compared in full).
uint64_t Hash(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = s.size() * kMul;
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (n >= 4) {
    // 4..7 bytes: the first four and the last four (overlapping), without a variable memcpy.
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    h = (h ^ (uint64_t{hi} << 32 | lo)) * kMul;
  } else if (n > 0) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w = w << 8 | static_cast<unsigned char>(p[i]);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  return h ^ (h >> 32);
}

}  // namespace

void InstrumentIndex::Clear() {
  instruments_.clear();
  by_venue_.clear();
  by_ticker_.clear();
}

Instrument* InstrumentIndex::FindVenue(std::string_view venue_symbol, uint64_t hash) const {
  if (by_venue_.empty()) return nullptr;
  const size_t mask = by_venue_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = by_venue_[i];
    if (slot.instrument == nullptr) return nullptr;
    if (slot.hash == hash && slot.instrument->venue_symbol == venue_symbol) return slot.instrument;
  }
}

void InstrumentIndex::PlaceVenue(Instrument* instrument, uint64_t hash) {
  const size_t mask = by_venue_.size() - 1;
  size_t i = hash & mask;
  while (by_venue_[i].instrument != nullptr) i = (i + 1) & mask;
  by_venue_[i] = Slot{hash, instrument};
}

void InstrumentIndex::Add(const Instrument& instrument) {
  const uint64_t hash = Hash(instrument.venue_symbol);
  if (Instrument* slot = FindVenue(instrument.venue_symbol, hash)) {
    auto t = by_ticker_.find(slot->symbol);
    if (t != by_ticker_.end() && t->second == slot) by_ticker_.erase(t);
    *slot = instrument;
    by_ticker_[slot->symbol] = slot;
    return;
  }
  if (2 * (instruments_.size() + 1) > by_venue_.size()) {
    // Grow, re-placing every entry, so the table stays at most half full.
    std::vector<Slot> old = std::move(by_venue_);
    by_venue_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
    for (const Slot& s : old) {
      if (s.instrument != nullptr) PlaceVenue(s.instrument, s.hash);
    }
  }
  instruments_.push_back(instrument);
  Instrument* p = &instruments_.back();
  PlaceVenue(p, hash);
  by_ticker_[p->symbol] = p;
}

const Instrument* InstrumentIndex::ByVenueSymbol(std::string_view venue_symbol) const {
  return FindVenue(venue_symbol, Hash(venue_symbol));
}

const Instrument* InstrumentIndex::ByTicker(std::string_view ticker) const {
  auto it = by_ticker_.find(ticker);
  return it == by_ticker_.end() ? nullptr : it->second;
}

}  // namespace perpgw::wire
